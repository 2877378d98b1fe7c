"""The radial part and R2Conv's defaults: pixel grid, rings, widths, frequency cutoffs (MATH.md §3)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import InvalidValueError

Cutoff = Union[None, float, Callable[[float], float]]

#: the hand-tuned cutoff rules of e2cnn's ``frequencies_cutoff`` = -1, -2, -3 (MATH.md §3.3)
MANUAL_CUTOFFS = (-1.0, -2.0, -3.0)


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def grid_coordinates(kernel_size: int, dilation: int = 1) -> Tuple[np.ndarray, np.ndarray]:
    """The (x, y) coordinates of the kernel pixels in row-major order (MATH.md §3.3).

    Pixel (row a, column b) sits at ``x = d b - c``, ``y = c - d a`` with ``c = d (k - 1) / 2``: x to
    the right, y upwards.

    Examples
    --------
    >>> x, y = grid_coordinates(3)
    >>> x.tolist(), y.tolist()
    ([-1.0, 0.0, 1.0, -1.0, 0.0, 1.0, -1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, -1.0, -1.0, -1.0])
    """
    k = _positive_int(kernel_size, "kernel_size")
    d = _positive_int(dilation, "dilation")
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


@dataclass(frozen=True)
class BasisParams:
    """Everything R2Conv derives from its arguments before sampling a basis.

    Examples
    --------
    >>> p = basis_params(7)
    >>> p.rings, p.sigmas, p.cutoffs, p.maximum_frequency
    ((0.0, 1.0, 2.0, 3.0), (0.005, 0.6, 0.6, 0.4), (0.0, 2.0, 3.0, 2.0), 3)
    """

    kernel_size: int
    dilation: int
    rings: Tuple[float, ...]
    sigmas: Tuple[float, ...]
    cutoffs: Tuple[float, ...]          # the largest |mu| kept on each ring
    maximum_frequency: int
    maximum_offset: Optional[int]


def basis_params(kernel_size: int, dilation: int = 1, rings: Optional[Sequence[float]] = None,
                 sigma: Union[None, float, Sequence[float]] = None, frequencies_cutoff: Cutoff = None,
                 maximum_offset: Optional[int] = None) -> BasisParams:
    """R2Conv's ``compute_basis_params`` (MATH.md §3.3), with validation.

    ``rings`` are radii in pixels (already dilated); ``sigma`` a width per ring or one for all;
    ``frequencies_cutoff`` -1 (default), -2, -3, a positive float c (``f(r) = c r``) or a callable.
    """
    k = _positive_int(kernel_size, "kernel_size")
    d = _positive_int(dilation, "dilation")
    x, y = grid_coordinates(k, d)
    max_grid_radius = float(np.sqrt(x ** 2 + y ** 2).max())
    if rings is None:
        n = math.ceil(k / 2)
        rings = [d * r for r in np.linspace(0, (k - 1) // 2, n)]
    rings = [float(r) for r in rings]
    if not rings:
        raise InvalidValueError("rings must be a non-empty list of radii")
    for r in rings:
        if not math.isfinite(r) or r < 0 or r > max_grid_radius + 1e-9:
            raise InvalidValueError(f"rings must lie within the {k}x{k} grid (dilation {d}), i.e. in "
                             f"[0, {max_grid_radius:.4g}]; got {r!r}")
    if sigma is None:
        sigmas = [0.6] * len(rings)
        sigmas[-1] = 0.4
    elif isinstance(sigma, (int, float)) and not isinstance(sigma, bool):
        sigmas = [float(sigma)] * len(rings)
    else:
        sigmas = [float(s) for s in sigma]
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
    elif isinstance(frequencies_cutoff, (int, float)) and not isinstance(frequencies_cutoff, bool):
        c = float(frequencies_cutoff)
        if c in MANUAL_CUTOFFS:
            f = _manual_cutoff(c, k // 2)   # quirk: max radius not dilated (MATH.md §6.2)
        elif c > 0:
            def f(r, c=c):
                return c * r
        else:
            raise InvalidValueError(f"frequencies_cutoff must be -1, -2, -3, a positive float or a callable, "
                             f"got {frequencies_cutoff!r}")
    else:
        raise InvalidValueError(f"frequencies_cutoff must be -1, -2, -3, a positive float or a callable, "
                         f"got {frequencies_cutoff!r}")
    cutoffs = tuple(float(f(r)) for r in rings)
    if maximum_offset is not None and (isinstance(maximum_offset, bool) or not isinstance(maximum_offset, int)
                                       or maximum_offset < 0):
        raise InvalidValueError(f"maximum_offset must be a non-negative int or None, got {maximum_offset!r}")
    return BasisParams(k, d, tuple(rings), tuple(sigmas), cutoffs, int(max(cutoffs)), maximum_offset)


def gaussian_rings(radii: np.ndarray, rings: Sequence[float], sigmas: Sequence[float]) -> np.ndarray:
    """``exp(-(r - r_i)^2 / (2 sigma_i^2))`` for every ring, shape (n_rings, P) (MATH.md §3.1)."""
    r = np.asarray(radii, dtype=float)[None, :]
    ri = np.asarray(rings, dtype=float)[:, None]
    si = np.asarray(sigmas, dtype=float)[:, None]
    return np.exp(-0.5 * ((r - ri) / si) ** 2)
