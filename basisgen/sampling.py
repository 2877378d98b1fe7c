"""Sample steerable kernel bases on the pixel grid, as R2Conv does (docs/math.md, "From representations to irreps"
and the sections after it).

The element order is e2cnn's: ring outermost, then input-irrep position, output-irrep position, and
the pair's angular order.  Elements above a ring's frequency cutoff (or rejected by a
``basis_filter``) are skipped; the rest are sampled, mapped through the representations' change of
basis, normalised to squared norm ``d_out`` and dropped when numerically zero on the grid.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from . import limits
from .derivation import _derive
from .errors import EmptyBasisError, InvalidValueError
from .groups import Group
from .harmonics import HarmonicElement, angular_attributes
from .irreps import Irrep
from .radial import DEFAULT_AXIS, BasisParams, KernelParams, as_params, gaussian_rings, grid_coordinates
from .representation import Representation

log = logging.getLogger(__name__)

#: the integer and float per-element columns of :class:`SampledBasis`
INDEX_COLUMNS = ("out_index", "in_index", "ring", "mu", "s", "t", "inner_idx", "angular_idx")
VALUE_COLUMNS = ("gamma", "radius", "sigma")


@dataclass
class SampledBasis:
    """A sampled kernel basis, held compactly in the irreps' basis.

    Element b is ``Q_out[:, o] blocks[b] Q_in^-1[i, :]`` with ``o``/``i`` the rows/columns of its output
    and input irreps: ``blocks`` (B, 2, 2, P) holds each element's (d_out, d_in) irrep block on the P
    grid points (zero-padded), so a D16 regular -> regular basis takes 0.9 MB instead of 115 MB.
    :attr:`array` expands it to the (B, c_out, c_in, k, k) filters on first use.

    ``attributes[b]`` holds ring, radius, sigma, mu (``frequency``), s, gamma, t (``offset``), the
    irreps and their positions, and ``angular_idx`` (the index in the unfiltered polar basis, e2cnn's
    ``idx``).

    Examples
    --------
    >>> from basisgen import cyclic_group
    >>> rho = cyclic_group(8).regular_representation
    >>> b = sample_basis(rho, rho, kernel_size=5)
    >>> len(b), b.blocks.shape, b.array.shape
    (88, (88, 2, 2, 25), (88, 8, 8, 5, 5))
    """

    blocks: np.ndarray
    element_index: np.ndarray            # (B, 9) ints, columns INDEX_COLUMNS
    element_values: np.ndarray           # (B, 3) floats, columns VALUE_COLUMNS
    out_irrep_names: Tuple[str, ...]
    in_irrep_names: Tuple[str, ...]
    out_irrep_dims: Tuple[int, ...]
    in_irrep_dims: Tuple[int, ...]
    change_of_basis_out: np.ndarray
    change_of_basis_in_inv: np.ndarray
    params: BasisParams
    axis: float
    dtype: np.dtype = np.dtype(np.float64)
    _array: Optional[np.ndarray] = field(default=None, repr=False, compare=False)
    _attributes: Optional[List[Dict[str, Any]]] = field(default=None, repr=False, compare=False)

    @property
    def out_index(self) -> np.ndarray:
        """For each element, the position of its output irrep in the output representation."""
        return self.element_index[:, 0]

    @property
    def in_index(self) -> np.ndarray:
        return self.element_index[:, 1]

    @property
    def attributes(self) -> List[Dict[str, Any]]:
        """Per-element attribute dicts (e2cnn's names plus ours), built on first use."""
        if self._attributes is None:
            out = []
            for (oo, ii, ring, mu, s, t, inner, angular), (gamma, radius, sigma) in zip(
                    self.element_index.tolist(), self.element_values.tolist()):
                out.append({"frequency": mu, "mu": mu, "s": s, "gamma": gamma, "offset": t, "t": t,
                            "in_irrep": self.in_irrep_names[ii], "out_irrep": self.out_irrep_names[oo],
                            "shape": (self.out_irrep_dims[oo], self.in_irrep_dims[ii]), "ring": ring,
                            "radius": radius, "sigma": sigma, "in_irrep_idx": ii, "out_irrep_idx": oo,
                            "inner_idx": inner, "angular_idx": angular})
            self._attributes = out
        return self._attributes

    def e2cnn_attributes(self, angular_count: int, finite: bool) -> List[Dict[str, Any]]:
        """Per-element attribute dicts exactly as e2cnn's polar basis gives them to a ``basis_filter``.

        ``angular_count`` is the number of angular elements of the unfiltered basis (:func:`angular_count`):
        e2cnn's ``idx2`` is the element's position among them; ``finite`` says whether the group is finite
        (only then do the elements have an ``offset``).
        """
        out = []
        for (oo, ii, ring, mu, s, t, inner, polar_idx), (gamma, radius, sigma) in zip(
                self.element_index.tolist(), self.element_values.tolist()):
            angular = angular_attributes(mu, gamma, s, t, (self.out_irrep_dims[oo], self.in_irrep_dims[ii]),
                                         self.in_irrep_names[ii], self.out_irrep_names[oo], finite)
            out.append(polar_attributes(angular, ring, radius, sigma, ii, oo, inner, polar_idx - ring * angular_count,
                                        angular_count))
        return out

    def __len__(self) -> int:
        return self.blocks.shape[0]

    @property
    def shape(self) -> Tuple[int, int, int, int, int]:
        """The shape of :attr:`array`: (B, c_out, c_in, k, k)."""
        k = self.params.kernel_size
        return (len(self), self.change_of_basis_out.shape[0], self.change_of_basis_in_inv.shape[1], k, k)

    @property
    def array(self) -> np.ndarray:
        """The filters (B, c_out, c_in, k, k) in :attr:`dtype`, expanded once and kept."""
        if self._array is None:
            self._array = self.expand(self.dtype)
        return self._array

    def expand(self, dtype=np.float64) -> np.ndarray:
        """Map every irrep block through the changes of basis: (B, c_out, c_in, k, k) in ``dtype``."""
        B, c_out, c_in, k, _ = self.shape
        out_pos = np.cumsum((0,) + tuple(self.out_irrep_dims))
        in_pos = np.cumsum((0,) + tuple(self.in_irrep_dims))
        dense = np.zeros((B, c_out, c_in, self.blocks.shape[-1]), dtype=dtype)
        pairs: Dict[Tuple[int, int], List[int]] = {}
        for b, (oo, ii) in enumerate(zip(self.out_index.tolist(), self.in_index.tolist())):
            pairs.setdefault((oo, ii), []).append(b)
        for (oo, ii), members in pairs.items():
            do, di = self.out_irrep_dims[oo], self.in_irrep_dims[ii]
            dense[members] = np.einsum(
                "ca,nabp,bd->ncdp", self.change_of_basis_out[:, out_pos[oo]:out_pos[oo] + do],
                self.blocks[members, :do, :di], self.change_of_basis_in_inv[in_pos[ii]:in_pos[ii] + di, :],
                optimize=True)
        return dense.reshape(B, c_out, c_in, k, k)


def check_sampling_arguments(in_repr: Any, out_repr: Any, dtype: Any) -> np.dtype:
    """Refuse anything but two representations of one group; ``dtype`` as a float32 or float64 dtype."""
    if not isinstance(in_repr, Representation) or not isinstance(out_repr, Representation):
        raise InvalidValueError(f"in_repr and out_repr must be Representations, got {type(in_repr).__name__} and "
                                f"{type(out_repr).__name__}")
    if in_repr.group != out_repr.group:
        raise InvalidValueError(f"in_repr and out_repr must share one group, got {in_repr.group.name} and "
                                f"{out_repr.group.name}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise InvalidValueError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def resolve_axis(group: Group, axis: Optional[float]) -> float:
    """The reflection axis beta used for ``group``: 0 without reflections, else ``axis`` (default pi/2)."""
    if not group.has_reflection:
        return 0.0
    if axis is None:
        return DEFAULT_AXIS
    if isinstance(axis, bool) or not isinstance(axis, (int, float, np.floating)) or not math.isfinite(axis):
        raise InvalidValueError(f"axis must be a finite float angle in radians, got {axis!r}")
    return float(axis)


def polar_grid(kernel_size: int, dilation: int = 1) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Radii, angles and the origin mask of the grid points (the angle is 0 at the origin)."""
    x, y = grid_coordinates(kernel_size, dilation)
    r = np.hypot(x, y)
    origin = r < 1e-9
    phi = np.where(origin, 0.0, np.arctan2(y, x))
    return r, phi, origin


def angular_samples(elements: Sequence[HarmonicElement], phi: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """(E, d_out, d_in, P): each element at each angle, non-constant ones zeroed at the origin."""
    if not elements:
        return np.zeros((0, 0, 0, phi.shape[0]))
    out = np.stack([e.evaluate(phi) for e in elements])
    for i, e in enumerate(elements):
        if e.mu != 0:
            out[i][..., origin] = 0.0
    return out


PairSamples = Dict[Tuple[Irrep, Irrep], Tuple[Tuple[HarmonicElement, ...], np.ndarray]]


def pair_samples(in_repr: Representation, out_repr: Representation, F: Optional[int], T: Optional[int], beta: float,
                 phi: np.ndarray, origin: np.ndarray) -> PairSamples:
    """The angular elements of every distinct irrep pair and their samples at ``phi`` (computed once)."""
    group = in_repr.group
    out: PairSamples = {}
    for psi_in in set(in_repr.irreps):
        for psi_out in set(out_repr.irreps):
            elements = tuple(e.with_axis(beta) for e in _derive(group, psi_in, psi_out, F, T))
            out[(psi_in, psi_out)] = (elements, angular_samples(elements, phi, origin))
    return out


def angular_order(in_repr: Representation, out_repr: Representation,
                  pairs: PairSamples) -> List[Tuple[int, int, HarmonicElement, int]]:
    """``(in position, out position, element, inner index)`` in e2cnn's order.

    docs/math.md, "From representations to irreps".
    """
    return [(ii, oo, e, j) for ii, psi_in in enumerate(in_repr.irreps) for oo, psi_out in enumerate(out_repr.irreps)
            for j, e in enumerate(pairs[(psi_in, psi_out)][0])]


def sample_basis(in_repr: Representation, out_repr: Representation, kernel_size: Union[int, BasisParams],
                 dilation: int = 1, rings: Optional[Sequence[float]] = None, sigma=None, frequencies_cutoff=None,
                 maximum_offset: Optional[int] = None, basis_filter: Optional[Callable[[dict], bool]] = None,
                 axis: Optional[float] = None, dtype=np.float64) -> SampledBasis:
    """The sampled basis of kernels mapping ``in_repr`` fields to ``out_repr`` fields.

    ``kernel_size`` is a :class:`~basisgen.radial.BasisParams` (then no other basis argument is given), or
    an int and the other arguments follow R2Conv's (:func:`~basisgen.radial.basis_params`);
    ``axis`` is the reflection axis for D_N, O(2) and the flip group (default pi/2).  ``dtype`` is that of
    :attr:`SampledBasis.array`; ``blocks`` are float64.  Raises :class:`EmptyBasisError` (a ``ValueError``)
    when nothing survives.
    """
    dtype = check_sampling_arguments(in_repr, out_repr, dtype)
    group = in_repr.group
    params = as_params(kernel_size, dilation=dilation, rings=rings, sigma=sigma, frequencies_cutoff=frequencies_cutoff,
                       maximum_offset=maximum_offset, basis_filter=basis_filter, axis=axis)
    if not isinstance(params, BasisParams):
        raise InvalidValueError(f"sample_basis samples Gaussian-ring bases (BasisParams), got {type(params).__name__}")
    params = params.for_group(group)
    beta, basis_filter = params.axis, params.basis_filter
    F = band_limit(group, params)
    radii, phi, origin = polar_grid(params.kernel_size, params.dilation)
    radial = gaussian_rings(radii, params.rings, params.sigmas)

    pair_cache = pair_samples(in_repr, out_repr, F, params.maximum_offset, beta, phi, origin)
    angular = angular_order(in_repr, out_repr, pair_cache)
    # enumerate (ring, in position, out position, inner index) in e2cnn's order, applying the band limit
    # (a basis_filter sees every element, before the band limit, as in e2cnn)
    kept: List[Kept] = []
    for ring, (radius, cutoff) in enumerate(zip(params.rings, params.cutoffs)):
        for a, (ii, oo, e, j) in enumerate(angular):
            if basis_filter is not None and not basis_filter(polar_attributes(
                    e.attributes(), ring, radius, params.sigmas[ring], ii, oo, j, a, len(angular))):
                continue
            if abs(e.mu) > cutoff:
                continue
            kept.append(Kept(ring, ii, oo, e, j, ring * len(angular) + a))

    def sample_blocks(ii: int, oo: int, rows: List[Kept]) -> np.ndarray:
        samples = pair_cache[(in_repr.irreps[ii], out_repr.irreps[oo])][1]
        return radial[[r.radial for r in rows]][:, None, None, :] * samples[[r.inner for r in rows]]

    return assemble_basis(in_repr, out_repr, params, kept, sample_blocks, lambda: _empty_message(in_repr, out_repr, params),
                          dtype)


class Kept(NamedTuple):
    """One element that survived the filters, in basis order: its radial profile (ring or Laplacian power),
    the positions of its irreps, the angular element, its index within the irrep pair's basis and its
    index in the unfiltered basis (e2cnn's ``idx``)."""

    radial: int
    in_pos: int
    out_pos: int
    element: HarmonicElement
    inner: int
    polar_idx: int


def assemble_basis(in_repr: Representation, out_repr: Representation, params: KernelParams, kept: List[Kept],
                   sample_blocks: Callable[[int, int, List[Kept]], np.ndarray], empty_message: Callable[[], str],
                   dtype=np.float64) -> SampledBasis:
    """Sample the ``kept`` elements in their irrep blocks (``sample_blocks(in position, out position, rows)``
    returns (len(rows), d_out, d_in, P)), normalise each to squared norm ``d_out`` measured after the change of
    basis, as e2cnn does, and drop the numerically zero ones (docs/math.md, "Sampling and normalisation")."""
    group = in_repr.group
    orthogonal = out_repr.is_orthogonal and in_repr.is_orthogonal
    in_pos = np.cumsum([0] + [p.dim for p in in_repr.irreps])
    out_pos = np.cumsum([0] + [p.dim for p in out_repr.irreps])
    members: Dict[Tuple[int, int], List[int]] = {}
    for n, row in enumerate(kept):
        members.setdefault((row.in_pos, row.out_pos), []).append(n)
    P = params.kernel_size ** 2
    limits.check(len(kept) * 4 * P * 8, "MAX_BASIS_BYTES",
                 f"the basis from {in_repr.name} to {out_repr.name} of {group.name} with kernel_size = "
                 f"{params.kernel_size} has {len(kept)} elements on {P} pixels, {len(kept) * 32 * P} bytes")
    blocks = np.zeros((len(kept), 2, 2, P))
    sq_norms = np.zeros(len(kept))
    for (ii, oo), ns in members.items():
        block = sample_blocks(ii, oo, [kept[n] for n in ns])
        do, di = block.shape[1:3]
        blocks[ns, :do, :di] = block
        if orthogonal:   # orthonormal columns and rows keep the norm of the block
            sq_norms[ns] = np.einsum("nabp,nabp->n", block, block)
        else:
            full = np.einsum("ca,nabp,bd->ncdp", out_repr.change_of_basis[:, out_pos[oo]:out_pos[oo + 1]], block,
                             in_repr.change_of_basis_inv[in_pos[ii]:in_pos[ii + 1], :], optimize=True)
            sq_norms[ns] = np.einsum("ncdp,ncdp->n", full, full)
    d_out = np.array([row.element.out_irrep.dim for row in kept], dtype=float)
    norm_sq = sq_norms / np.maximum(d_out, 1)
    norm_sq[norm_sq < 1e-15] = 0.0
    norm = np.sqrt(norm_sq)
    norm[~(norm >= 1e-6)] = 1.0
    alive = np.flatnonzero(sq_norms / norm ** 2 > 1e-2)
    if not alive.size:
        raise EmptyBasisError(empty_message())
    blocks = blocks[alive] / norm[alive, None, None, None]
    rows = [kept[n] for n in alive]
    index = np.array([[r.out_pos, r.in_pos, r.radial, r.element.mu, r.element.s, r.element.t, r.inner, r.polar_idx]
                      for r in rows], dtype=np.int64)
    profile = params.radial_rows()
    values = np.array([[r.element.gamma_float, profile[0][r.radial], profile[1][r.radial]] for r in rows],
                      dtype=np.float64)
    log.debug("sampled %d elements for %s -> %s (k=%d)", len(alive), in_repr, out_repr, params.kernel_size)
    return SampledBasis(blocks, index, values, tuple(p.name for p in out_repr.irreps),
                        tuple(p.name for p in in_repr.irreps), tuple(p.dim for p in out_repr.irreps),
                        tuple(p.dim for p in in_repr.irreps), out_repr.change_of_basis, in_repr.change_of_basis_inv,
                        params, params.axis, np.dtype(dtype))


def polar_attributes(angular: Dict[str, Any], ring: int, radius: float, sigma: float, in_irrep_idx: int,
                     out_irrep_idx: int, inner_idx: int, angular_idx: int, angular_count: int) -> Dict[str, Any]:
    """The attribute dict of one element of the polar basis (ring ``ring``, angular element ``angular_idx`` of
    ``angular_count``), with e2cnn's keys in e2cnn's order: what a ``basis_filter`` receives.

    ``angular`` is the angular element's :func:`~basisgen.harmonics.angular_attributes`; ``idx`` is the
    position in the ring-major polar basis, ``idx1`` the ring and ``idx2`` the angular position.
    """
    attrs: Dict[str, Any] = {"radius": float(radius), "sigma": float(sigma),
                             "idx": int(ring * angular_count + angular_idx)}
    attrs.update(angular)
    attrs.update(in_irrep_idx=int(in_irrep_idx), out_irrep_idx=int(out_irrep_idx), inner_idx=int(inner_idx),
                 idx1=int(ring), idx2=int(angular_idx))
    return attrs


def band_limit(group: Group, params: BasisParams) -> Optional[int]:
    """The band limit F of a finite group's basis under ``params`` (the largest per-ring frequency cutoff),
    ``None`` for SO(2) and O(2), which have no aliasing; refused above ``limits.MAX_FREQUENCY``."""
    if group.continuous:
        return None
    limits.check(params.maximum_frequency, "MAX_FREQUENCY",
                 f"the frequency cutoffs {list(params.cutoffs)} (frequencies_cutoff on the rings) reach "
                 f"|mu| = {params.maximum_frequency} for the finite group {group.name}")
    return params.maximum_frequency


def angular_count(in_repr: Representation, out_repr: Representation, params: BasisParams) -> int:
    """The number of angular elements of the unfiltered basis ``in_repr -> out_repr`` under ``params``."""
    group = in_repr.group
    F = band_limit(group, params)
    return sum(len(_derive(group, psi_in, psi_out, F, params.maximum_offset))
               for psi_in in in_repr.irreps for psi_out in out_repr.irreps)


def _empty_message(in_repr: Representation, out_repr: Representation, params: BasisParams) -> str:
    group = in_repr.group
    lowest = None
    for psi_in in set(in_repr.irreps):
        for psi_out in set(out_repr.irreps):
            mu = _lowest_frequency(group, psi_in, psi_out)
            if mu is not None and (lowest is None or mu < lowest):
                lowest = mu
    where = (f"kernel_size={params.kernel_size}, dilation={params.dilation}, rings={list(params.rings)}, "
             f"per-ring frequency cutoffs {list(params.cutoffs)}")
    if lowest is None:
        return (f"the kernel basis from {in_repr.name} to {out_repr.name} of {group.name} is empty at every "
                f"frequency: the kernel constraint admits only the zero kernel between these representations")
    return (f"the kernel basis from {in_repr.name} to {out_repr.name} of {group.name} is empty with {where}: "
            f"the lowest harmonic the constraint allows is |mu| = {lowest}; choose a kernel_size, rings or "
            f"frequencies_cutoff that lets |mu| >= {lowest} through on a ring with radius > 0"
            + (" (an even kernel_size has no pixel at the origin)" if lowest == 0 else ""))


def _lowest_frequency(group: Group, psi_in: Irrep, psi_out: Irrep) -> Optional[int]:
    if group.continuous:
        elements = _derive(group, psi_in, psi_out, None, None)
    else:
        elements = _derive(group, psi_in, psi_out, group.rotation_order + psi_in.frequency + psi_out.frequency, None)
    return min((abs(e.mu) for e in elements), default=None)


def sample_irreps_basis(group: Group, in_irrep: Irrep, out_irrep: Irrep, kernel_size: int, **kwargs) -> SampledBasis:
    """:func:`sample_basis` for a single pair of irreps (no change of basis)."""
    for name, psi in (("in_irrep", in_irrep), ("out_irrep", out_irrep)):
        if not isinstance(psi, Irrep) or psi.group != group:
            raise InvalidValueError(f"{name} must be an irrep of {group.name}, got {psi!r}")
    return sample_basis(Representation.from_irrep(in_irrep), Representation.from_irrep(out_irrep), kernel_size,
                        **kwargs)
