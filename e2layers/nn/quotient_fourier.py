"""Fourier non-linearities on a quotient space G/H (escnn's ``QuotientFourierPointwise``, ``QuotientFourierELU``).

A function on G/H is a function on G constant on the cosets gH.  Its Fourier coefficients live on the
H-invariant vectors of each irrep: with ``v_1 .. v_m`` an orthonormal basis of the vectors of psi fixed by
``psi(h)`` for every h in H (from the restriction of psi to H), the field holds m copies of psi and the
sample at g is ``f(g) = sum_psi sum_j sqrt(dim psi) (psi(g) v_j) . x_psi,j`` (``f(gh) = f(g)``, and left
translation of f acts on the coefficients by psi).  Sampling on a grid of G, the point-wise function and the
projection back are those of :class:`~e2layers.nn.FourierPointwise` (same buffers ``A``, ``Ainv``, same
export), so the module is exactly equivariant under the group elements the grid is closed under: every
element of C_N/D_N with the default grid, the N rotations (and the reflections) of SO(2)/O(2).
"""
from __future__ import annotations

import math
from typing import Any, List, Tuple

import numpy as np
import torch

import basisgen as bg
from basisgen.errors import InvalidTypeError, InvalidValueError

from .. import group as groups
from ..gspaces import GeneralOnR2
from ._checks import flag, one_of, positive_int
from .field_type import FieldType
from .fourier import FUNCTIONS, FourierPointwise, _grid, _irrep_ids
from .geometric_tensor import GeometricTensor

__all__ = ["QuotientFourierPointwise", "QuotientFourierELU"]


def invariant_vectors(G: groups.Group, subgroup_id: Any, id: Tuple[int, ...]) -> np.ndarray:
    """An orthonormal basis (columns) of the vectors of the irrep ``id`` fixed by the subgroup ``subgroup_id``
(for the complex-type irreps of C_N and SO(2): one vector of each pair ``v, J v``).

    Examples
    --------
    >>> from e2layers.group import o2_group
    >>> invariant_vectors(o2_group(2), (None, -1), (1, 1)).shape     # SO(2) fixes no vector of a 2-D irrep
    (2, 0)
    """
    psi = G.irrep(*id)
    restricted = G.restrict_representation(subgroup_id, psi).basisgen
    starts = np.cumsum([0] + [phi.dim for phi in restricted.irreps])
    columns = [int(starts[i]) for i, phi in enumerate(restricted.irreps) if phi.is_trivial()]
    V = restricted.change_of_basis[:, columns]
    if V.shape[1] == 0:
        return V
    q, _ = np.linalg.qr(V)
    if psi.sum_of_squares_constituents == 2:
        # a complex-type irrep (C_N, SO(2)): H commutes with the quarter turn J, so the fixed vectors come in
        # pairs (v, J v) giving the same functions; one of each pair
        return q[:, : q.shape[1] // 2]
    return q


def spectral_quotient_representation(G: groups.Group, subgroup_id: Any, ids: List[Tuple[int, ...]]
                                     ) -> Tuple[Any, List[Tuple[int, ...]], dict]:
    """The band-limited functions on G/H: each irrep of ``ids`` repeated as many times as it has H-invariant
    vectors (irreps without any are left out), identity change of basis; returns the representation, the ids
    kept and their invariant vectors."""
    vectors = {i: invariant_vectors(G, subgroup_id, i) for i in ids}
    kept = [i for i in ids if vectors[i].shape[1] > 0]
    if not kept:
        raise InvalidValueError(f"no irrep of {ids} has a vector fixed by the subgroup {subgroup_id!r} of {G.name}: "
                                f"the band-limited functions on the quotient space are zero; add the trivial irrep")
    psis = [G.irrep(*i) for i in kept]
    name = "quotient[{}]_[{}]".format(subgroup_id, "|".join(str(i) for i in kept))
    rep = bg.Representation(G.basisgen, name,
                            [p.irrep for p, i in zip(psis, kept) for _ in range(vectors[i].shape[1])], None, None,
                            set.intersection(*[set(p.supported_nonlinearities) for p in psis]))
    existing = G.representations.get(name)
    if existing is not None and existing.basisgen == rep:
        return existing, kept, vectors
    if existing is not None:
        raise InvalidValueError(f"a different representation named {name!r} is already registered on {G.name}")
    return G._register(groups.Representation._wrap(G, rep)), kept, vectors


def _quotient_sampling_matrix(G: groups.Group, ids: list, vectors: dict, grid: list) -> np.ndarray:
    """Row g: ``sqrt(dim psi) (psi(g) v_j)`` for every irrep and invariant vector, in the field's order."""
    rows = []
    for g in grid:
        parts = []
        for i in ids:
            psi = G.irrep(*i)
            parts.append((math.sqrt(psi.size) * psi(g) @ vectors[i]).T.ravel())
        rows.append(np.concatenate(parts))
    return np.array(rows)


class QuotientFourierPointwise(FourierPointwise):
    """A point-wise non-linearity on band-limited functions on the quotient space G/H (escnn's
    ``QuotientFourierPointwise``).

    ``H`` is the subgroup ``subgroup_id`` of ``gspace.fibergroup`` (ids as in ``Group.subgroup``: C_N: M;
    D_N: ``(axis, M)`` or ``(None, M)``; SO(2): M; O(2): ``(None, -1)`` for SO(2), ``(None, M)``,
    ``(axis, M)``; flip: 1 or 2).  Each of the ``channels`` fields holds, for every irrep of ``irreps``, one
    copy per H-invariant vector (irreps without any are left out): the Fourier coefficients of a function
    on G/H.  The module samples it on the grid of G (``*grid_args, **grid_kwargs`` as in
    :class:`FourierPointwise`: ``N``, ``type='regular'`` or ``grid=[elements]``), applies ``function`` and
    projects back onto ``out_irreps`` (default ``irreps``).  The samples on a coset are equal, so the grid
    may repeat values; equivariance is exact under the elements the grid is closed under.  Export:
    :class:`GridPointwise`, as FourierPointwise.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> o2 = gspaces.FlipRot2dOnR2(-1, maximum_frequency=3)
    >>> relu = nn.QuotientFourierPointwise(o2, (0., 1), 2, o2.fibergroup.bl_irreps(3), N=16)
    >>> relu.in_type.size, relu.rho.irreps          # one flip-invariant vector in each irrep but (1, 0)
    (14, ['irrep_0,0', 'irrep_1,1', 'irrep_1,2', 'irrep_1,3'])
    >>> relu(nn.GeometricTensor(torch.randn(3, 14, 4, 4), relu.in_type)).shape
    torch.Size([3, 14, 4, 4])
    """

    def __init__(self, gspace: GeneralOnR2, subgroup_id: Any, channels: int, irreps: List, *grid_args: Any,
                 function: str = "p_relu", inplace: bool = True, out_irreps: List = None, normalize: bool = True,
                 **grid_kwargs: Any):
        super(FourierPointwise, self).__init__()
        if not isinstance(gspace, GeneralOnR2):
            raise InvalidTypeError(f"gspace must be a gspace (e.g. gspaces.FlipRot2dOnR2(-1)), got "
                                   f"{type(gspace).__name__}")
        channels = positive_int(channels, "channels")
        one_of(function, "function", FUNCTIONS)
        G = gspace.fibergroup
        G.subgroup(subgroup_id)                                           # validates the id
        ids = _irrep_ids(G, irreps, "irreps")
        out_ids = ids if out_irreps is None else _irrep_ids(G, out_irreps, "out_irreps")
        self.space = gspace
        self.subgroup_id = subgroup_id
        self.channels = channels
        self.rho, ids, vectors = spectral_quotient_representation(G, subgroup_id, ids)
        self.rho_out, out_ids, out_vectors = spectral_quotient_representation(G, subgroup_id, out_ids)
        vectors.update(out_vectors)
        self.in_type = FieldType(gspace, channels * [self.rho])
        self.out_type = FieldType(gspace, channels * [self.rho_out])
        self.grid, self._grid_repr = _grid(G, grid_args, grid_kwargs)
        self._function_name = function
        self._inplace = flag(inplace, "inplace")
        self._normalize = flag(normalize, "normalize")
        A, Ainv = self._grid_transforms(lambda irreps: _quotient_sampling_matrix(G, irreps, vectors, self.grid), ids,
                                        out_ids, where=" on G/H")
        self._A_np, self._Ainv_np = A, Ainv
        dtype = torch.get_default_dtype()
        self.register_derived("A", torch.as_tensor(A, dtype=dtype), exact=A, buffer=True)
        self.register_derived("Ainv", torch.as_tensor(Ainv, dtype=dtype), exact=Ainv, buffer=True)

    def _check_input(self, input: Any) -> None:
        if isinstance(input, GeometricTensor) and input.type != self.in_type:
            raise InvalidValueError(f"{type(self).__name__} expects {self.channels} fields of {self.rho.name} (type "
                                    f"{self.in_type!r}), got {input.type!r}")
        super()._check_input(input)

    def extra_repr(self) -> str:
        return f"subgroup_id={self.subgroup_id!r}, " + super().extra_repr()


class QuotientFourierELU(QuotientFourierPointwise):
    """:class:`QuotientFourierPointwise` with ``function='p_elu'`` (escnn's ``QuotientFourierELU``).

    Examples
    --------
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(8)
    >>> elu = nn.QuotientFourierELU(r2, 2, 3, r2.fibergroup.bl_irreps(4))   # C8 / C2: functions on 4 points
    >>> elu.rho.irreps, elu.in_type.size
    (['irrep_0', 'irrep_2', 'irrep_4'], 12)
    """

    def __init__(self, gspace: GeneralOnR2, subgroup_id: Any, channels: int, irreps: List, *grid_args: Any,
                 inplace: bool = True, out_irreps: List = None, normalize: bool = True, **grid_kwargs: Any):
        if "function" in grid_kwargs:
            raise InvalidTypeError("QuotientFourierELU always applies ELU; use QuotientFourierPointwise(..., "
                                   "function=...) for another one")
        super().__init__(gspace, subgroup_id, channels, irreps, *grid_args, function="p_elu", inplace=inplace,
                         out_irreps=out_irreps, normalize=normalize, **grid_kwargs)
