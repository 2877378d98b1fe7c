"""Representations as direct sums of irreps plus a change of basis (docs/math.md, "Regular and
quotient representations").

``rho(g) = Q (psi_1(g) + ... + psi_n(g)) Q^{-1}``.  ``Q`` is kept as float64 for sampling and, where
its entries are algebraic, exactly as a sympy matrix (built lazily: sympy radicals are slow and only
verification needs them).
"""
from __future__ import annotations

from functools import partial
from typing import Any, Callable, Iterable, List, Optional, Sequence

import numpy as np

from ._lazy import lazy_import
from .errors import InvalidValueError
from .irreps import Irrep

sp = lazy_import("sympy")
scipy = lazy_import("scipy.linalg")


def _exact_identity(size: int) -> Any:
    return sp.eye(size)


class Representation:
    """A representation ``Q (+)_i psi_i Q^{-1}`` of a planar group.

    Parameters
    ----------
    group:
        The group.
    name:
        A name, unique among the group's standard representations (``regular``, ``quotient[...]``, ...).
    irreps:
        The irreps of the direct sum, in order.
    change_of_basis:
        ``Q`` as a float array of shape (size, size); the identity if ``None``.
    change_of_basis_exact:
        ``Q`` as a sympy matrix, or a callable returning it (evaluated on first use); ``None`` when
        no exact form is known.

    Examples
    --------
    >>> from basisgen import cyclic_group
    >>> rho = cyclic_group(4).regular_representation
    >>> rho.size, [psi.name for psi in rho.irreps]
    (4, ['irrep_0', 'irrep_1', 'irrep_2'])
    >>> rho(1).round(6).astype(int).tolist()[1]
    [1, 0, 0, 0]
    """

    def __init__(self, group: Any, name: str, irreps: Sequence[Irrep],
                 change_of_basis: Optional[np.ndarray] = None,
                 change_of_basis_exact: sp.Matrix | Callable[[], sp.Matrix] | None = None,
                 supported_nonlinearities: Iterable[str] = (), **attributes: Any):
        irreps = list(irreps)
        for psi in irreps:
            if not isinstance(psi, Irrep) or psi.group != group:
                raise InvalidValueError(f"irreps must be irreps of {group.name}, got {psi!r}")
        size = sum(psi.dim for psi in irreps)
        if change_of_basis is None:
            change_of_basis = np.eye(size)
            if change_of_basis_exact is None:
                change_of_basis_exact = partial(_exact_identity, size)   # sympy on first use (picklable)
        Q = np.asarray(change_of_basis, dtype=float)
        if Q.shape != (size, size):
            raise InvalidValueError(f"change_of_basis must have shape {(size, size)} for irreps of total size {size}, "
                             f"got {Q.shape}")
        if not np.all(np.isfinite(Q)) or abs(np.linalg.det(Q)) < 1e-12:
            raise InvalidValueError("change_of_basis must be a finite invertible matrix")
        self.group = group
        self.name = name
        self.irreps = irreps
        self.size = size
        self.change_of_basis = Q
        orthogonal = np.allclose(Q.T @ Q, np.eye(size), atol=1e-10)
        self.change_of_basis_inv = Q.T.copy() if orthogonal else np.linalg.inv(Q)
        self.is_orthogonal = orthogonal
        self._exact = change_of_basis_exact
        self.supported_nonlinearities = set(supported_nonlinearities)
        self.attributes = attributes

    # ---- construction ---------------------------------------------------------------------------
    @classmethod
    def from_irrep(cls, psi: Irrep) -> "Representation":
        # e2cnn's non-linearity tags
        finite = not psi.group.continuous
        if psi.is_trivial():
            nl = {"pointwise", "gate", "norm", "gated"} | ({"concatenated"} if finite else set())
        elif psi.dim == 1 and finite:
            nl = {"norm", "gated", "concatenated"}
        else:
            nl = {"norm", "gated"}
        return cls(psi.group, psi.name, [psi], supported_nonlinearities=nl, irreducible=True)

    @property
    def irreducible(self) -> bool:
        return len(self.irreps) == 1 and np.allclose(self.change_of_basis, np.eye(self.size))

    @property
    def change_of_basis_exact(self) -> Optional[sp.Matrix]:
        """``Q`` as an exact sympy matrix, or ``None`` if only a numerical one is known."""
        if callable(self._exact):
            self._exact = self._exact()
        return self._exact

    # ---- evaluation -----------------------------------------------------------------------------
    def irreps_matrix(self, element: Any) -> np.ndarray:
        """The block-diagonal matrix ``(+)_i psi_i(element)``."""
        return scipy.linalg.block_diag(*[psi.matrix(element) for psi in self.irreps])

    def __call__(self, element: Any) -> np.ndarray:
        return self.change_of_basis @ self.irreps_matrix(element) @ self.change_of_basis_inv

    def exact(self, element: Any) -> sp.Matrix:
        """``rho(element)`` exactly; raises ``ValueError`` when ``Q`` has no exact form."""
        Q = self.change_of_basis_exact
        if Q is None:
            raise InvalidValueError(f"representation {self.name} has no exact change of basis")
        D = sp.diag(*[psi.exact(element) for psi in self.irreps])
        Q_inv = Q.T if self.is_orthogonal else Q.inv()
        return (Q * D * Q_inv).applyfunc(sp.simplify)

    def character(self, element: Any) -> float:
        return float(sum(psi.character(element) for psi in self.irreps))

    def is_trivial(self) -> bool:
        return all(psi.is_trivial() for psi in self.irreps)

    def contains_trivial(self) -> bool:
        return any(psi.is_trivial() for psi in self.irreps)

    def multiplicity(self, psi: Irrep) -> int:
        return sum(1 for phi in self.irreps if phi == psi)

    def restrict(self, subgroup_id: Any) -> "Representation":
        from .restriction import restrict_representation
        return restrict_representation(self, subgroup_id)

    def __add__(self, other: "Representation") -> "Representation":
        return directsum([self, other])

    # ---- value semantics --------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Representation) and self.group == other.group and self.name == other.name
                and self.irreps == other.irreps and self.change_of_basis.shape == other.change_of_basis.shape
                and np.allclose(self.change_of_basis, other.change_of_basis))

    def __hash__(self) -> int:
        return hash((self.group, self.name, tuple(self.irreps)))

    def __repr__(self) -> str:
        return f"{self.group.name}|{self.name}:{self.size},{len(self.irreps)}"

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_exact"] = self.change_of_basis_exact  # closures do not pickle
        return state


def directsum(reprs: List[Representation], change_of_basis: Optional[np.ndarray] = None,
              name: Optional[str] = None) -> Representation:
    """The direct sum ``Q (rho_1 + ... + rho_n)``, with an optional extra change of basis on the left.

    Examples
    --------
    >>> from basisgen import cyclic_group
    >>> G = cyclic_group(4)
    >>> rho = directsum([G.irrep_representation(0), G.irrep_representation(1)])
    >>> rho.name, rho.size
    ('[irrep_0]_[irrep_1]', 3)
    """
    if not reprs:
        raise InvalidValueError("reprs must be a non-empty list of representations")
    group = reprs[0].group
    for rho in reprs:
        if rho.group != group:
            raise InvalidValueError(f"all representations must share one group: {group.name} vs {rho.group.name}")
    irreps = [psi for rho in reprs for psi in rho.irreps]
    Q = scipy.linalg.block_diag(*[rho.change_of_basis for rho in reprs])
    if change_of_basis is not None:
        change_of_basis = np.asarray(change_of_basis, dtype=float)
        if change_of_basis.shape != Q.shape:
            raise InvalidValueError(f"change_of_basis must have shape {Q.shape}, got {change_of_basis.shape}")
        Q = change_of_basis @ Q

    def exact():
        blocks = [rho.change_of_basis_exact for rho in reprs]
        if any(b is None for b in blocks) or change_of_basis is not None:
            return None
        return sp.diag(*blocks)

    nonlinearities = set.intersection(*[rho.supported_nonlinearities for rho in reprs])
    return Representation(group, name or "_".join(f"[{rho.name}]" for rho in reprs), irreps, Q, exact,
                          nonlinearities)


def change_basis(rho: Representation, change_of_basis: np.ndarray, name: str,
                 supported_nonlinearities: Iterable[str] = ()) -> Representation:
    """``change_of_basis @ rho``: the same irreps in another basis."""
    cob = np.asarray(change_of_basis, dtype=float)
    if cob.shape != (rho.size, rho.size):
        raise InvalidValueError(f"change_of_basis must have shape {(rho.size, rho.size)}, got {cob.shape}")
    return Representation(rho.group, name, rho.irreps, cob @ rho.change_of_basis, None, supported_nonlinearities)
