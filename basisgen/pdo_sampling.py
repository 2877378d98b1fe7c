"""Sample steerable PDO bases on the pixel grid, as e2cnn's ``R2Diffop`` does (docs/math.md, "Steerable PDOs").

The Laplacian powers play the part of the rings: :class:`DiffopParams` is the PDO counterpart of
:class:`~basisgen.radial.BasisParams`, and the sampled basis is a :class:`~basisgen.sampling.SampledBasis`
like a kernel basis (so the cache and the layers treat both alike).  Its element order is e2cnn's:
input-irrep position, output-irrep position, the pair's angular order, then the Laplacian power.
Each element's polynomial becomes a stencil (:mod:`basisgen.stencils`), is mapped through the
changes of basis, normalised and dropped when numerically zero, exactly as kernel elements are.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Dict, List, Optional, Tuple

import numpy as np

from . import limits
from .checks import finite_float, positive_int
from .derivation import check_bound
from .errors import InvalidTypeError, InvalidValueError
from .pdo import PDOElement, angular_pdo_elements
from .radial import KernelParams, _check_grid
from .representation import Representation
from .sampling import Kept, SampledBasis, angular_order, assemble_basis, check_sampling_arguments
from .stencils import Discretization, largest_possible_order, monomial_stencils, required_points, stencil


@dataclass(frozen=True)
class DiffopParams(KernelParams):
    """R2Diffop's parameters: the grid, the largest derivative order (``maximum_frequency`` is that
    order, the band limit of the angular part), the largest Laplacian power, the discretisation and an
    optional ``angle_offset`` turning every operator; built by :func:`diffop_params`.

    Examples
    --------
    >>> p = diffop_params(kernel_size=5)
    >>> p.maximum_order, p.maximum_power, p.discretization.method, p.radial_rows()
    (4, 2, 'fd', ((0.0, 1.0, 2.0), (0.0, 2.0, 4.0), (4.0, 2.0, 0.0)))
    """

    kind: ClassVar[str] = "diffop"

    maximum_power: int = field(kw_only=True)
    discretization: Discretization = field(default_factory=Discretization, kw_only=True)
    angle_offset: Optional[float] = field(default=None, kw_only=True)

    @property
    def maximum_order(self) -> int:
        return self.maximum_frequency

    def key_description(self) -> Dict[str, Any]:
        description = super().key_description()
        description.update(maximum_power=self.maximum_power, discretization=self.discretization.key_description(),
                           angle_offset=None if self.angle_offset is None else float(self.angle_offset).hex())
        return description

    def radial_rows(self) -> Tuple[Tuple[float, ...], Tuple[float, ...], Tuple[float, ...]]:
        """Laplacian powers ``p``, their orders ``2p`` and the largest ``|mu|`` each keeps (order - 2p)."""
        powers = range(self.maximum_power + 1)
        return (tuple(float(p) for p in powers), tuple(2.0 * p for p in powers),
                tuple(float(self.maximum_order - 2 * p) for p in powers))

    @classmethod
    def from_description(cls, description: Dict[str, Any], axis: float) -> "DiffopParams":
        """The parameters a cache key's description stands for; ``ValueError`` if it is not one we write."""
        disc = description.get("discretization")
        if not isinstance(disc, dict) or set(disc) != {"method", "smoothing", "phi"}:
            raise InvalidValueError("the description's discretization is malformed")
        smoothing = disc["smoothing"]
        method, phi = disc["method"], disc["phi"]
        offset = description.get("angle_offset")
        try:
            smoothing = None if smoothing is None else float.fromhex(smoothing)
            offset = None if offset is None else float.fromhex(offset)
        except (TypeError, ValueError):
            raise InvalidValueError("the description's floats are malformed") from None
        if not isinstance(method, str) or not (phi is None or isinstance(phi, str)):
            raise InvalidValueError("the description's discretization is malformed")
        return cls(description["kernel_size"], description["dilation"], description["maximum_frequency"],
                   description["maximum_offset"], maximum_power=_power(description.get("maximum_power")),
                   discretization=Discretization(method, smoothing, phi or "ga"), angle_offset=offset, axis=axis)


def _power(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise InvalidValueError(f"maximum_power must be a non-negative int, got {value!r}")
    return value


def resolve_sizes(kernel_size: Optional[int], accuracy: Optional[int], maximum_order: Optional[int]
                  ) -> Tuple[int, int]:
    """R2Diffop's rule for ``(kernel_size, maximum_order)`` from at most two of the three arguments.

    Only ``maximum_order``: the smallest kernel with ``accuracy`` (default 2; 1 for order 0).  Only
    ``kernel_size``: the largest order with that accuracy (a warning below order 2).  Both: kept (a warning
    when the kernel is smaller than accuracy 2 needs).  All three: refused.

    Examples
    --------
    >>> resolve_sizes(5, None, None), resolve_sizes(None, None, 2), resolve_sizes(None, 3, 2)
    ((5, 4), (3, 2), (5, 2))
    """
    given = [name for name, v in (("kernel_size", kernel_size), ("accuracy", accuracy),
                                  ("maximum_order", maximum_order)) if v is not None]
    if len(given) == 3:
        raise InvalidValueError("give at most two of kernel_size, accuracy and maximum_order: the third follows "
                                "from the other two")
    if kernel_size is None and maximum_order is None:
        raise InvalidValueError("give kernel_size or maximum_order (and optionally accuracy)")
    if kernel_size is None:
        order = check_bound(maximum_order, "maximum_order")
        if accuracy is None:
            accuracy = 2 if order > 0 else 1
        return required_points(order, accuracy), order
    k = positive_int(kernel_size, "kernel_size")
    if maximum_order is None:
        if accuracy is None:
            accuracy = 2 if k > 1 else 1
        order = largest_possible_order(k, accuracy)
        if order < 2:
            warnings.warn(f"maximum_order is only {order} for kernel_size {k} with accuracy {accuracy}: the basis "
                          f"may be small; a larger kernel_size gives higher orders", UserWarning, stacklevel=3)
        return k, order
    order = check_bound(maximum_order, "maximum_order")
    if k < required_points(order, 2):
        warnings.warn(f"kernel_size {k} is small for operators of order up to {order} (accuracy 2 needs "
                      f"{required_points(order, 2)}): the stencils may approximate them poorly", UserWarning,
                      stacklevel=3)
    return k, order


def diffop_params(kernel_size: Optional[int] = None, accuracy: Optional[int] = None,
                  maximum_order: Optional[int] = None, dilation: int = 1, maximum_power: Optional[int] = None,
                  maximum_offset: Optional[int] = None, smoothing: Optional[float] = None, rbffd: bool = False,
                  radial_basis_function: str = "ga", angle_offset: Optional[float] = None,
                  basis_filter: Optional[Callable[[dict], bool]] = None, axis: Optional[float] = None
                  ) -> DiffopParams:
    """:class:`DiffopParams` from R2Diffop's arguments, with its defaults.

    The method is ``"gauss"`` when ``smoothing`` is given, ``"rbffd"`` when ``rbffd`` is true, else ``"fd"``
    (both at once are refused); ``maximum_power`` defaults to, and is capped at, ``maximum_order // 2``.

    Examples
    --------
    >>> p = diffop_params(maximum_order=3, smoothing=1.0)
    >>> p.kernel_size, p.maximum_power, p.discretization.method
    (4, 1, 'gauss')
    """
    discretization(smoothing, rbffd, radial_basis_function)          # refused before any warning
    k, order = resolve_sizes(kernel_size, accuracy, maximum_order)
    return resolved_diffop_params(k, order, dilation, maximum_power, maximum_offset, smoothing, rbffd,
                                  radial_basis_function, angle_offset, basis_filter, axis)


def discretization(smoothing: Optional[float], rbffd: bool, radial_basis_function: str) -> Discretization:
    """R2Diffop's choice of method: ``"gauss"`` with ``smoothing``, ``"rbffd"`` with ``rbffd``, else ``"fd"``."""
    if not isinstance(rbffd, (bool, np.bool_)):
        raise InvalidTypeError(f"rbffd must be a bool, got {type(rbffd).__name__} {rbffd!r}")
    if smoothing is not None and rbffd:
        raise InvalidValueError("smoothing and rbffd=True exclude each other: smoothing selects Gaussian "
                                "derivatives, rbffd selects RBF-FD")
    method = "gauss" if smoothing is not None else "rbffd" if rbffd else "fd"
    return Discretization(method, smoothing, radial_basis_function)


def resolved_diffop_params(kernel_size: int, maximum_order: int, dilation: int = 1,
                           maximum_power: Optional[int] = None, maximum_offset: Optional[int] = None,
                           smoothing: Optional[float] = None, rbffd: bool = False, radial_basis_function: str = "ga",
                           angle_offset: Optional[float] = None, basis_filter: Optional[Callable[[dict], bool]] = None,
                           axis: Optional[float] = None) -> DiffopParams:
    """:func:`diffop_params` once the kernel size and the order are known (:func:`resolve_sizes`)."""
    disc = discretization(smoothing, rbffd, radial_basis_function)
    k, order = positive_int(kernel_size, "kernel_size"), check_bound(maximum_order, "maximum_order")
    d = positive_int(dilation, "dilation")
    _check_grid(k, d)
    limits.check(order, "MAX_FREQUENCY", f"maximum_order = {order}")
    power = order // 2 if maximum_power is None else min(check_bound(maximum_power, "maximum_power"), order // 2)
    if angle_offset is not None:
        angle_offset = finite_float(angle_offset, "angle_offset")
    if basis_filter is not None and not callable(basis_filter):
        raise InvalidTypeError(f"basis_filter must be callable or None, got {type(basis_filter).__name__}")
    return DiffopParams(k, d, order, check_bound(maximum_offset, "maximum_offset"), maximum_power=power,
                        discretization=disc, angle_offset=angle_offset, basis_filter=basis_filter,
                        axis=None if axis is None else finite_float(axis, "axis"))


def diffop_attributes(element: PDOElement, in_irrep_idx: int, out_irrep_idx: int, inner_idx: int,
                      angular_idx: int, power_count: int) -> Dict[str, Any]:
    """The attribute dict of one PDO element with e2cnn's keys in e2cnn's order: what a ``basis_filter``
    receives (``idx``: position in the unfiltered basis, ``idx1``: the angular element, ``idx2``: the
    Laplacian power)."""
    a = element.angular
    return _attributes(a.mu, a.gamma_float, a.s, a.t, a.shape, a.in_irrep.name, a.out_irrep.name,
                       not a.in_irrep.group.continuous, in_irrep_idx, out_irrep_idx, inner_idx, angular_idx,
                       element.power, power_count)


def e2cnn_diffop_attributes(basis: SampledBasis, finite: bool) -> List[Dict[str, Any]]:
    """Per element of a sampled PDO basis, its attribute dict as e2cnn's expansion holds it (see
    :func:`diffop_attributes`); ``finite``: whether the group is finite (only then is there an ``offset``)."""
    powers = basis.params.maximum_power + 1
    out = []
    for (oo, ii, power, mu, s, t, inner, idx), (gamma, _, _) in zip(basis.element_index.tolist(),
                                                                    basis.element_values.tolist()):
        out.append(_attributes(mu, gamma, s, t, (basis.out_irrep_dims[oo], basis.in_irrep_dims[ii]),
                               basis.in_irrep_names[ii], basis.out_irrep_names[oo], finite, ii, oo, inner,
                               idx // powers, power, powers))
    return out


def _attributes(mu: int, gamma: float, s: int, t: int, shape: Tuple[int, int], in_irrep: str, out_irrep: str,
                finite: bool, in_irrep_idx: int, out_irrep_idx: int, inner_idx: int, angular_idx: int,
                power: int, power_count: int) -> Dict[str, Any]:
    attrs: Dict[str, Any] = {"frequency": int(mu), "order": abs(int(mu)) + 2 * int(power), "invert": int(gamma != 0)}
    if tuple(shape) == (2, 2):
        attrs["s"] = int(s)
    if finite:
        attrs["offset"] = int(t)
    attrs.update(idx=int(angular_idx * power_count + power), shape=(int(shape[0]), int(shape[1])),
                 in_irrep=in_irrep, out_irrep=out_irrep, in_irrep_idx=int(in_irrep_idx),
                 out_irrep_idx=int(out_irrep_idx), inner_idx=int(inner_idx), power=int(power),
                 idx1=int(angular_idx), idx2=int(power))
    return attrs


def sample_diffop_basis(in_repr: Representation, out_repr: Representation, params: DiffopParams,
                        dtype=np.float64) -> SampledBasis:
    """The sampled PDO basis mapping ``in_repr`` fields to ``out_repr`` fields on ``params``' grid.

    Raises :class:`~basisgen.errors.EmptyBasisError` (a ``ValueError``) when nothing survives.

    Examples
    --------
    >>> from basisgen import cyclic_group
    >>> rho = cyclic_group(4).regular_representation
    >>> b = sample_diffop_basis(rho, rho, diffop_params(kernel_size=5))
    >>> len(b), b.array.shape
    (60, (60, 4, 4, 5, 5))
    """
    dtype = check_sampling_arguments(in_repr, out_repr, dtype)
    if not isinstance(params, DiffopParams):
        raise InvalidValueError(f"sample_diffop_basis samples PDO bases (DiffopParams), got {type(params).__name__}")
    group = in_repr.group
    params = params.for_group(group)
    pairs = {}
    for psi_in in set(in_repr.irreps):
        for psi_out in set(out_repr.irreps):
            elements = angular_pdo_elements(group, psi_in, psi_out, params.maximum_order, params.maximum_offset)
            pairs[(psi_in, psi_out)] = (tuple(e.with_axis(params.axis) for e in elements), None)
    angular = angular_order(in_repr, out_repr, pairs)
    powers = params.maximum_power + 1
    kept: List[Kept] = []
    for a, (ii, oo, e, j) in enumerate(angular):
        for p in range(powers):
            element = PDOElement(e, p)
            if params.basis_filter is not None and not params.basis_filter(
                    diffop_attributes(element, ii, oo, j, a, powers)):
                continue
            if element.order > params.maximum_order:
                continue
            kept.append(Kept(p, ii, oo, e, j, a * powers + p))
    rotation = params.angle_offset or 0.0
    disc, k = params.discretization, params.kernel_size
    turn = fd_turns_back(group, disc)

    def sample_blocks(ii: int, oo: int, rows: List[Kept]) -> np.ndarray:
        out = []
        for row in rows:
            element = PDOElement(row.element, row.radial)
            coefficients = element.numeric_coefficients(rotation)
            if turn:
                coefficients = quarter_turn_back(coefficients)
            if disc.method == "fd" and element.order >= k:
                # finite differences need each term's order along each axis below k, not the total order
                out.append(np.apply_along_axis(stencil, -1, coefficients, k, params.dilation, disc))
            else:
                out.append(coefficients @ monomial_stencils(element.order, k, params.dilation, disc))
        return np.stack(out)

    return assemble_basis(in_repr, out_repr, params, kept, sample_blocks,
                          lambda: _empty_message(in_repr, out_repr, params), dtype)


def fd_turns_back(group: Any, disc: Discretization) -> bool:
    """Whether every operator is turned back by a quarter turn before it is discretised.

    e2cnn's ``"fd"`` stencil of ``P(d/dx, d/dy)`` is the ordinary finite-difference stencil of the operator
    turned by a quarter turn (see :mod:`basisgen.stencils`).  Without reflections that is harmless: the turned
    operator is as equivariant, and keeping e2cnn's stencils keeps e2cnn's weights meaning the same filters.
    With reflections it is not: the stencils are then mirror-symmetric about the axis at right angles to the
    declared one, and e2cnn's layer is not equivariant under the declared flip.  There the operator is turned
    back by a quarter turn first (:func:`quarter_turn_back`), so the stencil is the ordinary one of the operator
    itself.
    """
    return disc.method == "fd" and group.has_reflection


def quarter_turn_back(coefficients: np.ndarray) -> np.ndarray:
    """``P(y, -x)`` for homogeneous polynomials ``P`` given by coefficients on the last axis: exact (a
    signed permutation), the operator turned by a quarter turn clockwise."""
    n = coefficients.shape[-1] - 1
    signs = np.where(np.arange(n + 1) % 2, -1.0, 1.0)
    return (coefficients * signs)[..., ::-1]


def _empty_message(in_repr: Representation, out_repr: Representation, params: DiffopParams) -> str:
    return (f"the PDO basis from {in_repr.name} to {out_repr.name} of {in_repr.group.name} is empty with "
            f"maximum_order={params.maximum_order}, maximum_power={params.maximum_power}, "
            f"kernel_size={params.kernel_size}: allow higher orders (a larger kernel_size or maximum_order)")

