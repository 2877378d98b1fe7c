"""``TensorBasis``: the complete PDO basis, every angular PDO composed with every Laplacian power."""
from __future__ import annotations

from typing import Any, Dict, Iterator, Type

from basisgen.groups import Group

from ._basis import DiffopBasis, DiscretizationArgs, LaplaceProfile
from ._polynomials import tensor_product
from ._steerable import IrrepsDiffopBasis, SteerableDiffopBasis

__all__ = ["TensorBasis"]


class TensorBasis(DiffopBasis):
    """The products ``c_(i,j) = a_i b_j`` of the angular basis ``basis1`` (:class:`SteerableDiffopBasis` of
    ``irreps_basis``, ``in_repr``, ``out_repr`` and ``kwargs``) and the Laplacian powers ``basis2``
    (:class:`LaplaceProfile` up to ``max_power``), angular element outermost (e2cnn's class).

    Element ``idx`` is ``(idx1, idx2) = divmod(idx, basis2.dim)``; its dict joins the two factors' dicts,
    with ``order`` the sum of their orders and ``idx``, ``idx1``, ``idx2`` set.

    Examples
    --------
    >>> from e2layers import gspaces
    >>> gs = gspaces.FlipRot2dOnR2(4)
    >>> basis = TensorBasis(IrrepsDiffopBasis, gs.trivial_repr, gs.irrep(1, 1), 1, axis=gs.axis, max_frequency=3)
    >>> basis.dim, basis.basis1.dim, basis.basis2.dim
    (4, 2, 2)
    >>> {k: basis[1][k] for k in ("frequency", "power", "order", "idx1", "idx2")}
    {'frequency': -3, 'power': 1, 'order': 5, 'idx1': 0, 'idx2': 1}
    """

    def __init__(self, irreps_basis: Type[IrrepsDiffopBasis], in_repr: Any, out_repr: Any, max_power: int,
                 discretization: DiscretizationArgs = DiscretizationArgs(), **kwargs):
        basis1 = SteerableDiffopBasis(irreps_basis, in_repr, out_repr, discretization, **kwargs)
        basis2 = LaplaceProfile(max_power, discretization)
        super().__init__([tensor_product(a, b) for a in basis1.coefficients for b in basis2.coefficients],
                         discretization)
        self.basis1 = basis1
        self.basis2 = basis2

    def _reflection_group(self) -> Group:
        return self.basis1._reflection_group()

    @staticmethod
    def _join(attr1: Dict[str, Any], attr2: Dict[str, Any], idx: int, idx1: int, idx2: int) -> Dict[str, Any]:
        attr = dict(attr1)
        attr.update(attr2)
        attr.update(order=attr1["order"] + attr2["order"], idx=idx, idx1=idx1, idx2=idx2)
        return attr

    def __getitem__(self, idx: int) -> Dict[str, Any]:
        idx = self._check_index(idx)
        idx1, idx2 = divmod(idx, self.basis2.dim)
        return self._join(self.basis1[idx1], self.basis2[idx2], idx, idx1, idx2)

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        second = [self.basis2[j] for j in range(self.basis2.dim)]
        idx = 0
        for idx1 in range(self.basis1.dim):
            first = self.basis1[idx1]
            for idx2, attr2 in enumerate(second):
                yield self._join(first, attr2, idx, idx1, idx2)
                idx += 1

    def __eq__(self, other) -> bool:
        return isinstance(other, TensorBasis) and self.basis1 == other.basis1 and self.basis2 == other.basis2

    def __hash__(self):
        return hash(self.basis1) + hash(self.basis2)
