"""The angular PDO bases: ``IrrepsDiffopBasis`` (one pair of irreps, from basisgen's derivation) and
``SteerableDiffopBasis`` (any two representations: direct sum and change of basis, e2cnn's class)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, Type

import numpy as np

from basisgen.errors import InvalidTypeError
from basisgen.groups import Group
from basisgen.irreps import Irrep
from basisgen.pdo import PDOElement
from basisgen.polar import AngularTable
from basisgen.representation import Representation

from ..kernels import EmptyBasisException
from ..kernels._steerable import _solver_arguments, set_up_pairs
from ._basis import DiffopBasis, DiscretizationArgs

__all__ = ["IrrepsDiffopBasis", "SteerableDiffopBasis"]


class IrrepsDiffopBasis(DiffopBasis):
    """The equivariant PDOs for one pair of irreps up to Laplacian powers (the solver
    :class:`SteerableDiffopBasis` takes; e2cnn's per-group ``R2*Solution`` classes, one class here).

    Each element is the homogeneous polynomial ``r^|mu| A(phi)`` of an angular solution ``A`` of the
    kernel constraint (:class:`basisgen.pdo.PDOElement` with power 0): the same derivation, element order
    and bounds as :class:`e2layers.kernels.IrrepsBasis` (``axis`` for groups with reflections;
    ``max_frequency`` and/or ``max_offset`` for finite groups).  ``basis[i]`` is e2cnn's dict:
    ``frequency``, ``order`` (``|frequency|``), ``invert`` (1 for the sine-like solutions), ``s`` (2x2
    blocks), ``offset`` (finite groups) and ``idx``.

    Examples
    --------
    >>> import basisgen
    >>> G = basisgen.cyclic_group(4)
    >>> basis = IrrepsDiffopBasis(G, G.irrep(0), G.irrep(1), max_frequency=1)
    >>> basis.dim, basis[0], basis.coefficients[0].tolist()       # the gradient (d/dx, d/dy), and turned
    (2, {'frequency': 1, 'order': 1, 'invert': 0, 'offset': 0, 'idx': 0}, [[[1.0, 0.0]], [[0.0, 1.0]]])
    """

    def __init__(self, group: Group, in_irrep: Irrep, out_irrep: Irrep,
                 discretization: DiscretizationArgs = DiscretizationArgs(), axis: float = 0.0,
                 max_frequency: Optional[int] = None, max_offset: Optional[int] = None):
        group = getattr(group, "basisgen", group)
        in_irrep, out_irrep = getattr(in_irrep, "basisgen", in_irrep), getattr(out_irrep, "basisgen", out_irrep)
        for name, psi in (("in_irrep", in_irrep), ("out_irrep", out_irrep)):
            if not isinstance(psi, Irrep) or psi.group != group:
                raise InvalidTypeError(f"{name} must be an irrep of {getattr(group, 'name', group)}, got {psi!r}")
        F, T, beta = _solver_arguments(group, axis, max_frequency, max_offset)
        self.group, self.in_irrep, self.out_irrep = group, in_irrep, out_irrep
        self.axis, self.max_frequency, self.max_offset = beta, F, T
        # e2cnn's elements and order, its duplicate cosines of 1x1 pairs bounded by max_offset alone included
        table = AngularTable(Representation.from_irrep(in_irrep), Representation.from_irrep(out_irrep), F, T, beta,
                             negative_cosines=True)
        self.elements: Tuple[PDOElement, ...] = tuple(PDOElement(e, 0) for _, _, e, _ in table.elements)
        if not self.elements:
            raise EmptyBasisException()
        super().__init__([e.numeric_coefficients() for e in self.elements], discretization)

    def _reflection_group(self) -> Group:
        return self.group

    def __getitem__(self, idx: int) -> Dict[str, Any]:
        idx = self._check_index(idx)
        a = self.elements[idx].angular
        attrs: Dict[str, Any] = {"frequency": int(a.mu), "order": abs(int(a.mu)), "invert": int(a.gamma_float != 0)}
        if a.shape == (2, 2):
            attrs["s"] = int(a.s)
        if not self.group.continuous:
            attrs["offset"] = int(a.t)
        attrs["idx"] = idx
        return attrs

    def _key(self) -> tuple:
        return (self.in_irrep, self.out_irrep, self.axis, self.max_frequency, self.max_offset)

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())


class SteerableDiffopBasis(DiffopBasis):
    """The angular basis of equivariant PDOs between two representations (e2cnn's class): the solutions of
    their irrep pairs (``irreps_basis``, :class:`IrrepsDiffopBasis`, built with ``discretization`` and
    ``kwargs``: ``axis``, ``max_frequency``, ``max_offset``) placed in the blocks of the irreps and mapped
    through the representations' changes of basis.  Combine it with :class:`LaplaceProfile` through
    :class:`TensorBasis` for the complete basis.

    ``basis[i]`` is the pair solution's dict with ``idx`` now the position in this basis, plus ``shape``,
    ``in_irrep``, ``out_irrep`` (names), ``in_irrep_idx``, ``out_irrep_idx`` (positions in the
    representations) and ``inner_idx`` (the position in the pair's basis).

    Examples
    --------
    >>> from e2layers import gspaces
    >>> gs = gspaces.Rot2dOnR2(4)
    >>> basis = SteerableDiffopBasis(IrrepsDiffopBasis, gs.regular_repr, gs.trivial_repr, max_frequency=2)
    >>> basis.dim, basis.shape, basis[1]["in_irrep"], basis[1]["order"]
    (5, (1, 4), 'irrep_1', 1)
    """

    def __init__(self, irreps_basis: Type[IrrepsDiffopBasis], in_repr: Any, out_repr: Any,
                 discretization: DiscretizationArgs = DiscretizationArgs(), **kwargs):
        if not (isinstance(irreps_basis, type) and issubclass(irreps_basis, IrrepsDiffopBasis)):
            raise InvalidTypeError(f"irreps_basis must be e2layers.diffops.IrrepsDiffopBasis (or a subclass), got "
                                   f"{irreps_basis!r}")
        rho_in, rho_out = set_up_pairs(self, irreps_basis, in_repr, out_repr, discretization=discretization,
                                       **kwargs)
        self.group = getattr(in_repr, "group", rho_in.group)
        self._rho = (rho_in, rho_out)
        # (in position, out position, position in the pair's basis) per element, e2cnn's order
        self._index = [(ii, oo, inner) for ii in range(len(self.in_sizes)) for oo in range(len(self.out_sizes))
                       if self.bases[ii][oo] is not None for inner in range(self.bases[ii][oo].dim)]
        super().__init__(self._coefficients(rho_in.size, rho_out.size), discretization)

    def _coefficients(self, c_in: int, c_out: int) -> List[np.ndarray]:
        in_pos, out_pos = np.cumsum([0] + self.in_sizes), np.cumsum([0] + self.out_sizes)
        out = []
        for ii, oo, inner in self._index:
            block = self.bases[ii][oo].coefficients[inner]
            element = np.zeros((c_out, c_in, block.shape[-1]))
            element[out_pos[oo]:out_pos[oo + 1], in_pos[ii]:in_pos[ii + 1]] = block
            if self.B is not None:
                element = np.einsum("no,oib->nib", self.B, element)
            if self.A_inv is not None:
                element = np.einsum("oib,ij->ojb", element, self.A_inv)
            out.append(element)
        return out

    def _reflection_group(self) -> Group:
        return self._rho[0].group

    def __getitem__(self, idx: int) -> Dict[str, Any]:
        idx = self._check_index(idx)
        ii, oo, inner = self._index[idx]
        basis = self.bases[ii][oo]
        attrs = dict(basis[inner])
        attrs.update(idx=idx, shape=basis.shape, in_irrep=self._rho[0].irreps[ii].name,
                     out_irrep=self._rho[1].irreps[oo].name, in_irrep_idx=ii, out_irrep_idx=oo, inner_idx=inner)
        return attrs

    def _key(self) -> tuple:
        return (self._rho[0].name, self._rho[1].name, self._rho[0].group,
                tuple(sorted((k, hash(v)) for k, v in self.irreps_bases.items())))

    def __eq__(self, other) -> bool:
        return isinstance(other, SteerableDiffopBasis) and self._key() == other._key() \
            and self.irreps_bases == other.irreps_bases

    def __hash__(self):
        return hash(self._key())
