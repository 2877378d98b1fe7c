"""The radial part and R2Conv's defaults: pixel grid, rings, widths, frequency cutoffs.

The rules are e2cnn's, written out in docs/math.md, "Rings, widths and frequency cut-offs".
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, ClassVar, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import limits
from .checks import finite_float, is_real, positive_int
from .errors import InvalidTypeError, InvalidValueError

Cutoff = Union[None, float, Callable[[float], float]]

#: the hand-tuned cutoff rules of e2cnn's ``frequencies_cutoff`` = -1, -2, -3
MANUAL_CUTOFFS = (-1.0, -2.0, -3.0)


def _check_grid(k: int, d: int) -> None:
    limits.check(k, "MAX_KERNEL_SIZE", f"kernel_size = {k}")
    limits.check(d * (k - 1) + 1, "MAX_KERNEL_SIZE", f"kernel_size = {k} with dilation = {d} spans "
                                                     f"{d * (k - 1) + 1} pixels")


def _reals(values: Any, name: str, expected: str = "a list of real numbers") -> List[float]:
    """A sequence of finite real numbers (not a str: ``rings="01"`` is not ``[0, 1]``)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise InvalidTypeError(f"{name} must be {expected}, got {type(values).__name__} {_short(values)}")
    values = list(np.asarray(values).ravel()) if isinstance(values, np.ndarray) else list(values)
    return [finite_float(v, f"every entry of {name}") for v in values]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def grid_coordinates(kernel_size: int, dilation: int = 1) -> Tuple[np.ndarray, np.ndarray]:
    """The (x, y) coordinates of the kernel pixels in row-major order (docs/math.md, "Conventions: the plane, the grid
    and the rotation direction").

    Pixel (row a, column b) sits at ``x = d b - c``, ``y = c - d a`` with ``c = d (k - 1) / 2``: x to
    the right, y upwards.

    Examples
    --------
    >>> x, y = grid_coordinates(3)
    >>> x.tolist(), y.tolist()
    ([-1.0, 0.0, 1.0, -1.0, 0.0, 1.0, -1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, -1.0, -1.0, -1.0])
    """
    k = positive_int(kernel_size, "kernel_size")
    d = positive_int(dilation, "dilation")
    _check_grid(k, d)
    c = d * (k - 1) / 2
    a, b = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    return (d * b - c).ravel().astype(float), (c - d * a).ravel().astype(float)


def _manual_cutoff(rule: float, max_radius: int) -> Callable[[float], float]:
    def cutoff(r: float) -> float:
        if r == 0:
            return 0.0
        if rule == -3.0:
            return 1.0 if r == max_radius else 2.0
        interior = 2 * r - ((r + 1) % 2)
        if r == max_radius:
            return float(min(2 * r, 2 if rule == -1.0 else 1))
        return float(min(2 * r, interior))
    return cutoff


#: FlipRot2dOnR2's default reflection axis, pi/2 (e2cnn's default)
DEFAULT_AXIS = math.pi / 2


@dataclass(frozen=True)
class KernelParams:
    """What any sampled kernel basis is built from, resolved and validated once: the pixel grid, the band
    limits, an optional ``basis_filter`` and the reflection ``axis``.

    Immutable and hashable: it travels unchanged from a layer through the basis cache (whose key is
    derived from it, :meth:`key_description`) to the sampler.  ``kind`` names the family of bases; a
    family adds its own profile fields in a subclass and extends :meth:`key_description`.  ``axis`` is
    ``None`` until :meth:`for_group` resolves it (0 without reflections, else pi/2 or the given angle).
    """

    kind: ClassVar[str] = "kernel"

    kernel_size: int
    dilation: int
    maximum_frequency: int                 # the largest |mu| any element may have
    maximum_offset: Optional[int]
    basis_filter: Optional[Callable[[dict], bool]] = field(default=None, kw_only=True)
    axis: Optional[float] = field(default=None, kw_only=True)

    def for_group(self, group: Any) -> "KernelParams":
        """These parameters with the reflection axis ``group`` uses: 0 without reflections, else the given
        axis (pi/2 by default)."""
        axis = (DEFAULT_AXIS if self.axis is None else self.axis) if group.has_reflection else 0.0
        return self if axis == self.axis else replace(self, axis=axis)

    def key_description(self) -> Dict[str, Any]:
        """The fields that determine the sampled basis, as canonical JSON values (floats as ``float.hex``);
        ``basis_filter`` and ``axis`` are not among them (the cache keys the axis with the group)."""
        return {"kind": self.kind, "kernel_size": self.kernel_size, "dilation": self.dilation,
                "maximum_frequency": self.maximum_frequency, "maximum_offset": self.maximum_offset}

    def radial_rows(self) -> Tuple[Tuple[float, ...], Tuple[float, ...], Tuple[float, ...]]:
        """The radial profiles as three rows with one column per profile: two numbers that describe the
        profile (stored with every element) and the largest ``|mu|`` the profile keeps."""
        raise NotImplementedError


@dataclass(frozen=True)
class BasisParams(KernelParams):
    """R2Conv's parameters: the grid, Gaussian rings (radius and width each) and the frequency cutoff on
    every ring (a callable ``frequencies_cutoff`` resolved to its values); built by :func:`basis_params`.

    Examples
    --------
    >>> p = basis_params(7)
    >>> p.rings, p.sigmas, p.cutoffs, p.maximum_frequency
    ((0.0, 1.0, 2.0, 3.0), (0.005, 0.6, 0.6, 0.4), (0.0, 2.0, 3.0, 2.0), 3)
    >>> p == basis_params(7, rings=[0, 1, 2, 3]), hash(p) == hash(basis_params(7))
    (True, True)
    """

    kind: ClassVar[str] = "gaussian_rings"

    rings: Tuple[float, ...]
    sigmas: Tuple[float, ...]
    cutoffs: Tuple[float, ...]          # the largest |mu| kept on each ring

    def key_description(self) -> Dict[str, Any]:
        description = super().key_description()
        description.update(rings=[float(r).hex() for r in self.rings], sigmas=[float(s).hex() for s in self.sigmas],
                           cutoffs=[float(c).hex() for c in self.cutoffs])
        return description

    def radial_rows(self) -> Tuple[Tuple[float, ...], Tuple[float, ...], Tuple[float, ...]]:
        """Ring radii, widths and frequency cutoffs."""
        return self.rings, self.sigmas, self.cutoffs

    @classmethod
    def from_description(cls, description: Dict[str, Any], axis: float) -> "BasisParams":
        """The parameters a cache key's description stands for; ``ValueError`` if it is not one we write."""
        rows = []
        for name in ("rings", "sigmas", "cutoffs"):
            values = description.get(name)
            if not (isinstance(values, list) and values and all(isinstance(v, str) for v in values)):
                raise InvalidValueError(f"the description's {name} are malformed")
            rows.append(tuple(float.fromhex(v) for v in values))
        if not len(rows[0]) == len(rows[1]) == len(rows[2]):
            raise InvalidValueError("the description's radial rows differ in length")
        return cls(description["kernel_size"], description["dilation"], description["maximum_frequency"],
                   description["maximum_offset"], *rows, axis=axis)


def as_params(kernel_size: Union[int, KernelParams], **kwargs: Any) -> KernelParams:
    """``kernel_size`` itself when it is already a :class:`KernelParams` (then no other argument may be
    given), else :func:`basis_params` of the arguments: how the keyword wrappers of the API take both.

    Examples
    --------
    >>> as_params(5, sigma=0.5) == basis_params(5, sigma=0.5), as_params(basis_params(3)).kernel_size
    (True, 3)
    """
    if isinstance(kernel_size, KernelParams):
        given = sorted(k for k, v in kwargs.items() if v is not None and not (k == "dilation" and v == 1))
        if given:
            raise InvalidValueError(f"give either a {type(kernel_size).__name__} or the basis keyword arguments, "
                                    f"not both (got {', '.join(given)} too)")
        return kernel_size
    return basis_params(kernel_size, **kwargs)


def basis_params(kernel_size: int, dilation: int = 1, rings: Optional[Sequence[float]] = None,
                 sigma: Union[None, float, Sequence[float]] = None, frequencies_cutoff: Cutoff = None,
                 maximum_offset: Optional[int] = None, basis_filter: Optional[Callable[[dict], bool]] = None,
                 axis: Optional[float] = None) -> BasisParams:
    """R2Conv's ``compute_basis_params``, with validation: the one place these arguments
    are checked and resolved.

    ``rings`` are radii in pixels (already dilated); ``sigma`` a width per ring or one for all;
    ``frequencies_cutoff`` -1 (default), -2, -3, a positive float c (``f(r) = c r``) or a callable;
    ``basis_filter`` a callable on each element's attribute dict (or ``None``); ``axis`` the reflection
    axis in radians (``None``: the group's default).
    """
    k = positive_int(kernel_size, "kernel_size")
    d = positive_int(dilation, "dilation")
    x, y = grid_coordinates(k, d)
    max_grid_radius = float(np.sqrt(x ** 2 + y ** 2).max())
    if rings is None:
        n = math.ceil(k / 2)
        rings = [d * r for r in np.linspace(0, (k - 1) // 2, n)]
    rings = _reals(rings, "rings")
    if not rings:
        raise InvalidValueError("rings must be a non-empty list of radii")
    for r in rings:
        if r < 0 or r > max_grid_radius + 1e-9:
            raise InvalidValueError(f"rings must lie within the {k}x{k} grid (dilation {d}), i.e. in "
                             f"[0, {max_grid_radius:.4g}]; got {r!r}")
    if sigma is None:
        sigmas = [0.6] * len(rings)
        sigmas[-1] = 0.4
    elif is_real(sigma):
        sigmas = [finite_float(sigma, "sigma")] * len(rings)
    else:
        sigmas = _reals(sigma, "sigma", "a real number or a list of them, one per ring")
        if len(sigmas) != len(rings):
            raise InvalidValueError(f"sigma must be one float or one per ring ({len(rings)}), got {len(sigmas)} values")
    sigmas = [0.005 if r == 0 and sigma is None else s for r, s in zip(rings, sigmas)]
    for s in sigmas:
        if not math.isfinite(s) or s <= 0:
            raise InvalidValueError(f"sigma must be positive, got {s!r}")
    if frequencies_cutoff is None:
        frequencies_cutoff = -1.0
    if callable(frequencies_cutoff):
        f = frequencies_cutoff
    elif is_real(frequencies_cutoff):
        c = finite_float(frequencies_cutoff, "frequencies_cutoff")
        if c in MANUAL_CUTOFFS:
            f = _manual_cutoff(c, k // 2)   # e2cnn's quirk: max radius not dilated
        elif c > 0:
            def f(r, c=c):
                return c * r
        else:
            raise InvalidValueError(f"frequencies_cutoff must be -1, -2, -3, a positive float or a callable, "
                             f"got {frequencies_cutoff!r}")
    else:
        raise InvalidValueError(f"frequencies_cutoff must be -1, -2, -3, a positive float or a callable, "
                         f"got {frequencies_cutoff!r}")
    cutoffs = tuple(_cutoff_at(f, r) for r in rings)
    if maximum_offset is not None and (isinstance(maximum_offset, bool) or not isinstance(maximum_offset, int)
                                       or maximum_offset < 0):
        raise InvalidValueError(f"maximum_offset must be a non-negative int or None, got {maximum_offset!r}")
    if maximum_offset is not None:
        limits.check(maximum_offset, "MAX_FREQUENCY", f"maximum_offset = {maximum_offset}")
    if basis_filter is not None and not callable(basis_filter):
        raise InvalidTypeError(f"basis_filter must be a callable on an element's attribute dict or None, got "
                               f"{type(basis_filter).__name__} {_short(basis_filter)}")
    if axis is not None:
        if not is_real(axis) or not math.isfinite(axis):
            raise InvalidValueError(f"axis must be a finite float angle in radians, got {_short(axis)}")
        axis = float(axis)
    return BasisParams(k, d, int(max(cutoffs)), maximum_offset, tuple(rings), tuple(sigmas), cutoffs,
                       basis_filter=basis_filter, axis=axis)


def _cutoff_at(f: Callable[[float], float], r: float) -> float:
    value = f(r)
    if not is_real(value) or not math.isfinite(value):
        raise InvalidValueError(f"frequencies_cutoff must give a finite real number on every ring, got {_short(value)} "
                                f"on the ring of radius {r:g}")
    return float(value)


def gaussian_rings(radii: np.ndarray, rings: Sequence[float], sigmas: Sequence[float]) -> np.ndarray:
    """``exp(-(r - r_i)^2 / (2 sigma_i^2))`` for every ring, shape (n_rings, P)."""
    r = np.asarray(radii, dtype=float)[None, :]
    ri = np.asarray(rings, dtype=float)[:, None]
    si = np.asarray(sigmas, dtype=float)[:, None]
    return np.exp(-0.5 * ((r - ri) / si) ** 2)
