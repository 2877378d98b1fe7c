"""The angular bases: ``IrrepsBasis`` (one pair of irreps) and ``SteerableKernelBasis`` (any two
representations, e2cnn's class), both sampled from basisgen's closed forms (``basisgen.polar.AngularTable``)."""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple, Type

import numpy as np
import torch

from basisgen import limits
from basisgen.errors import InvalidTypeError, InvalidValueError
from basisgen.groups import Group
from basisgen.irreps import Irrep
from basisgen.polar import AngularTable
from basisgen.representation import Representation

from . import _torch
from ._basis import EmptyBasisException, KernelBasis, _rows, _write

__all__ = ["IrrepsBasis", "SteerableKernelBasis", "basisgen_representation"]


def basisgen_representation(rho: Any, name: str) -> Representation:
    """The basisgen representation behind an ``e2layers.group`` representation (or ``rho`` itself)."""
    rho = getattr(rho, "basisgen", rho)
    if isinstance(rho, Irrep):
        rho = Representation.from_irrep(rho)
    if not isinstance(rho, Representation):
        raise InvalidTypeError(f"{name} must be a representation, got {type(rho).__name__}")
    return rho


def representation_pair(in_repr: Any, out_repr: Any, accepts: Callable[[Group], bool], group_name: str
                        ) -> Tuple[Representation, Representation]:
    """The basisgen representations behind ``in_repr`` and ``out_repr``, refused unless they share one group
    that ``accepts`` (``group_name`` names what it accepts): the check of every ``*_act_R2`` builder."""
    rho_in, rho_out = basisgen_representation(in_repr, "in_repr"), basisgen_representation(out_repr, "out_repr")
    if rho_in.group != rho_out.group:
        raise InvalidValueError(f"in_repr and out_repr must share one group, got {rho_in.group.name} and "
                                f"{rho_out.group.name}")
    if not accepts(rho_in.group):
        raise InvalidTypeError(f"the representations must be of {group_name}, got {rho_in.group.name}")
    return rho_in, rho_out


def set_up_pairs(basis: Any, irreps_basis: type, in_repr: Any, out_repr: Any, **solver: Any
                 ) -> Tuple[Representation, Representation]:
    """What e2cnn's steerable kernel and PDO bases share: on ``basis``, ``in_repr``/``out_repr``, the solutions
    ``irreps_bases[(in name, out name)]`` of every distinct irrep pair (``irreps_basis(group=..., in_irrep=...,
    out_irrep=..., **solver)``; empty pairs left out), ``bases[in position][out position]`` (None where empty),
    ``in_sizes``/``out_sizes`` and the changes of basis ``A_inv``/``B`` (None where the identity).  Returns the
    two basisgen representations."""
    rho_in, rho_out = basisgen_representation(in_repr, "in_repr"), basisgen_representation(out_repr, "out_repr")
    if rho_in.group != rho_out.group:
        raise InvalidValueError(f"in_repr and out_repr must share one group, got {rho_in.group.name} and "
                                f"{rho_out.group.name}")
    basis.in_repr, basis.out_repr = in_repr, out_repr
    basis.irreps_bases = {}
    for psi_in in sorted(set(rho_in.irreps), key=lambda p: p.name):
        for psi_out in sorted(set(rho_out.irreps), key=lambda p: p.name):
            try:
                basis.irreps_bases[(psi_in.name, psi_out.name)] = irreps_basis(
                    group=rho_in.group, in_irrep=psi_in, out_irrep=psi_out, **solver)
            except EmptyBasisException:
                pass
    basis.bases = [[basis.irreps_bases.get((pi.name, po.name)) for po in rho_out.irreps] for pi in rho_in.irreps]
    basis.in_sizes = [p.dim for p in rho_in.irreps]
    basis.out_sizes = [p.dim for p in rho_out.irreps]
    A_inv = np.asarray(rho_in.change_of_basis_inv, dtype=float)
    B = np.asarray(rho_out.change_of_basis, dtype=float)
    basis.A_inv = None if np.allclose(A_inv, np.eye(rho_in.size)) else A_inv
    basis.B = None if np.allclose(B, np.eye(rho_out.size)) else B
    return rho_in, rho_out


def _solver_arguments(group: Group, axis: float = 0.0, max_frequency: Optional[int] = None,
                      max_offset: Optional[int] = None) -> Tuple[Optional[int], Optional[int], float]:
    """``(F, T, beta)`` for :class:`~basisgen.polar.AngularTable` from e2cnn's solver keywords, validated."""
    for name, value in (("max_frequency", max_frequency), ("max_offset", max_offset)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0):
            raise InvalidValueError(f"{name} must be a non-negative int or None, got {value!r}")
        if value is not None:
            limits.check(int(value), "MAX_FREQUENCY", f"{name} = {int(value)}")
    if isinstance(axis, bool) or not isinstance(axis, (int, float, np.integer, np.floating)) or not np.isfinite(axis):
        raise InvalidValueError(f"axis must be a finite float angle in radians, got {axis!r}")
    if not group.continuous and max_frequency is None and max_offset is None:
        raise InvalidValueError(f"{group.name} is finite: either max_frequency or max_offset must be set")
    return max_frequency, max_offset, float(axis) if group.has_reflection else 0.0


class _AngularBasis(KernelBasis):
    """What both angular bases share: sampling a table at angles (NaN marks the origin) and its dicts."""

    def _init_table(self, table: AngularTable, shape: Tuple[int, int]) -> None:
        super().__init__(len(table), shape)           # raises EmptyBasisException when the table is empty
        self._table = table
        self._attrs = table.attributes()
        self._tensors = _torch.TensorCache(mu=table.mu, cos=table.cos, sin=table.sin)

    def sample(self, angles: np.ndarray, out: np.ndarray = None) -> np.ndarray:
        """The basis at ``angles`` (1, N) (NaN: a point at the origin): (c_out, c_in, dim, N)."""
        angles = _rows(angles, "angles")[0]
        origin = np.isnan(angles)
        return _write(self._table.sample(np.where(origin, 0.0, angles), origin), out)

    def sample_torch(self, angles: torch.Tensor, origin: Optional[torch.Tensor] = None) -> torch.Tensor:
        """:meth:`sample` in torch, differentiable in ``angles`` (1, N); ``origin`` (N,) marks the points at
        the origin (default: where ``angles`` is NaN)."""
        _torch.check_points(angles, 1, "angles")
        phi = angles[0]
        if origin is None:
            origin = torch.isnan(phi)
        return _torch.angular(self._table, self._tensors.get(phi), phi, origin)

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())


class IrrepsBasis(_AngularBasis):
    """The angular solutions of the kernel constraint for one pair of irreps (e2cnn's ``IrrepBasis``
    subclasses, one class for every group): the solver :class:`SteerableKernelBasis` takes.

    ``axis`` is the reflection axis (groups with reflections); finite groups need ``max_frequency`` or
    ``max_offset``.  ``basis[i]`` is e2cnn's dict: ``frequency``, ``gamma``, ``s`` (2x2 blocks),
    ``offset`` (finite groups) and ``idx``.

    Examples
    --------
    >>> import basisgen
    >>> G = basisgen.cyclic_group(4)
    >>> basis = IrrepsBasis(G, G.irrep(1), G.irrep(1), max_frequency=2)
    >>> basis.dim, basis[0]
    (6, {'frequency': 0, 'gamma': 0.0, 's': 0, 'offset': 0, 'idx': 0})
    """

    def __init__(self, group: Group, in_irrep: Irrep, out_irrep: Irrep, axis: float = 0.0,
                 max_frequency: Optional[int] = None, max_offset: Optional[int] = None):
        group = getattr(group, "basisgen", group)
        in_irrep, out_irrep = getattr(in_irrep, "basisgen", in_irrep), getattr(out_irrep, "basisgen", out_irrep)
        for name, psi in (("in_irrep", in_irrep), ("out_irrep", out_irrep)):
            if not isinstance(psi, Irrep) or psi.group != group:
                raise InvalidTypeError(f"{name} must be an irrep of {getattr(group, 'name', group)}, got {psi!r}")
        self.group, self.in_irrep, self.out_irrep = group, in_irrep, out_irrep
        F, T, beta = _solver_arguments(group, axis, max_frequency, max_offset)
        self.axis, self.max_frequency, self.max_offset = beta, F, T
        table = AngularTable(Representation.from_irrep(in_irrep), Representation.from_irrep(out_irrep), F, T, beta,
                             negative_cosines=True)
        self._init_table(table, (out_irrep.dim, in_irrep.dim))

    def __getitem__(self, idx: int) -> Dict[str, Any]:
        idx = self._check_index(idx)
        attrs = self._attrs[idx][0]
        out = {k: attrs[k] for k in ("frequency", "gamma", "s", "offset") if k in attrs}
        out["idx"] = idx
        return out

    def _key(self) -> tuple:
        return (self.in_irrep, self.out_irrep, self.axis, self.max_frequency, self.max_offset)


class SteerableKernelBasis(_AngularBasis):
    """The angular basis of kernels between two representations, from the solutions of their irrep pairs
    (e2cnn's class).  ``irreps_basis`` solves one pair of irreps: :class:`IrrepsBasis` (the one solver
    here); ``kwargs`` go to it (``axis``, ``max_frequency``, ``max_offset``).

    ``basis[i]`` is the pair solution's dict with ``idx`` now the position in this basis, plus ``shape``,
    ``in_irrep``, ``out_irrep`` (names), ``in_irrep_idx``, ``out_irrep_idx`` (positions in the
    representations) and ``inner_idx`` (the position in the pair's basis).

    Examples
    --------
    >>> from e2layers import gspaces
    >>> gs = gspaces.FlipRot2dOnR2(4)
    >>> basis = SteerableKernelBasis(IrrepsBasis, gs.regular_repr, gs.irrep(1, 1), axis=0.0, max_frequency=3)
    >>> basis.dim, basis.shape, basis[0]["in_irrep"], basis[0]["shape"]
    (14, (2, 8), 'irrep_0,0', (2, 1))
    """

    def __init__(self, irreps_basis: Type[IrrepsBasis], in_repr: Any, out_repr: Any, **kwargs):
        if not (isinstance(irreps_basis, type) and issubclass(irreps_basis, IrrepsBasis)):
            raise InvalidTypeError(f"irreps_basis must be e2layers.kernels.IrrepsBasis (or a subclass), got "
                                   f"{irreps_basis!r}")
        rho_in, rho_out = set_up_pairs(self, irreps_basis, in_repr, out_repr, **kwargs)
        self.group = rho_in.group
        F, T, beta = _solver_arguments(self.group, **kwargs)
        self._kwargs = (F, T, beta)
        self._init_table(AngularTable(rho_in, rho_out, F, T, beta, negative_cosines=True),
                         (rho_out.size, rho_in.size))
        self._rho = (rho_in, rho_out)

    def __getitem__(self, idx: int) -> Dict[str, Any]:
        idx = self._check_index(idx)
        attrs, ii, oo, inner = self._attrs[idx]
        out = {k: attrs[k] for k in ("frequency", "gamma", "s", "offset") if k in attrs}
        out.update(idx=idx, shape=attrs["shape"], in_irrep=attrs["in_irrep"], out_irrep=attrs["out_irrep"],
                   in_irrep_idx=ii, out_irrep_idx=oo, inner_idx=inner)
        return out

    def _key(self) -> tuple:
        return (self._rho[0].name, self._rho[1].name, self._rho[0].group, self._kwargs)
