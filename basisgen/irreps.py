"""Irreducible representations of the planar groups (docs/math.md, "Groups and their irreps").

Every irrep of C_N, D_N, SO(2), O(2), the flip group and the trivial group has the same shape: a
rotation by theta acts through a rotation matrix of frequency ``k`` (2-D) or through
``cos(k theta)`` with ``k`` in {0, N/2} (1-D), and the reflection acts through ``X = diag(1, -1)``
(2-D) or the sign ``(-1)^j`` (1-D).  :class:`Irrep` stores that data once and derives from it the
numeric matrices, the exact sympy matrices and the complex eigenbasis the derivation engine uses
(docs/math.md, "Deriving the elements").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Tuple

import numpy as np

from ._lazy import lazy_import
from .errors import InvalidValueError

if TYPE_CHECKING:
    from sympy.polys.matrices import DomainMatrix

sp = lazy_import("sympy")


@dataclass(frozen=True)
class Eigenbasis:
    """The complex eigenbasis of an irrep's rotations.

    ``U`` (unnormalised, Gaussian-rational) diagonalises the rotations:
    ``psi(r_theta) U = U diag(exp(i w theta))``.  ``conj_partner[a]`` is the index ``b`` with
    ``conj(U[:, a]) = U[:, b]``; the reflection acts as ``psi(f) U[:, a] = flip_sign[a] U[:, flip_partner[a]]``.
    """

    U: DomainMatrix
    U_inv: DomainMatrix
    weights: Tuple[int, ...]
    conj_partner: Tuple[int, ...]
    flip_partner: Tuple[int, ...]
    flip_sign: Tuple[int, ...]


@lru_cache(maxsize=None)
def _eigenvectors(dim: int) -> Tuple[Any, Any]:
    """``(U, U^-1)`` over the Gaussian rationals for the irreps of dimension ``dim`` (made on first use: sympy)."""
    from sympy.polys.domains import QQ_I
    from sympy.polys.matrices import DomainMatrix
    if dim == 2:
        U = DomainMatrix([[QQ_I(1, 0), QQ_I(1, 0)], [QQ_I(0, -1), QQ_I(0, 1)]], (2, 2), QQ_I)
        return U, U.inv()
    U = DomainMatrix([[QQ_I(1, 0)]], (1, 1), QQ_I)
    return U, U


@dataclass(frozen=True, eq=False)
class Irrep:
    """One irreducible representation of a planar group.

    Parameters
    ----------
    group:
        The group it belongs to.
    id:
        Its identifier: ``(k,)`` for C_N, SO(2), the flip and trivial groups; ``(j, k)`` for D_N, O(2).
    dim:
        1 or 2.
    frequency:
        Rotation frequency ``k``.
    flip_frequency:
        ``j``: how the reflection acts (``(-1)^j`` for 1-D irreps, ``X`` for 2-D ones); ``None`` for
        groups without reflections.

    Examples
    --------
    >>> from basisgen import dihedral_group
    >>> psi = dihedral_group(4).irrep(1, 1)
    >>> psi.name, psi.dim
    ('irrep_1,1', 2)
    >>> psi.matrix((1, 1)).round(6).tolist()
    [[0.0, 1.0], [1.0, -0.0]]
    """

    group: Any = field(repr=False)
    id: Tuple[int, ...]
    dim: int
    frequency: int
    flip_frequency: int | None

    @property
    def name(self) -> str:
        return "irrep_" + ",".join(str(i) for i in self.id)

    @property
    def sum_of_squares_constituents(self) -> int:
        """2 for the complex-type 2-D irreps of C_N and SO(2), 1 otherwise."""
        return 2 if self.dim == 2 and not self.group.has_reflection else 1

    def is_trivial(self) -> bool:
        return self.dim == 1 and self.frequency == 0 and not self.flip_frequency

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Irrep) and self.group == other.group and self.id == other.id

    def __hash__(self) -> int:
        return hash((self.group, self.id))

    def __repr__(self) -> str:
        return f"{self.group.name}|{self.name}"

    # ---- matrices ---------------------------------------------------------------------------
    def matrix(self, element: Any) -> np.ndarray:
        """The float64 matrix of ``element``."""
        flip, theta = self.group.element_action(element)
        return self._value(flip, theta, np.cos, np.sin, lambda rows: np.array(rows, dtype=float))

    def exact(self, element: Any) -> sp.Matrix:
        """The exact sympy matrix of ``element`` (entries algebraic for the finite groups)."""
        flip, theta = self.group.element_action(element, exact=True)
        return self._value(flip, theta, sp.cos, sp.sin, sp.Matrix)

    def rotation_exact(self, theta: sp.Expr) -> sp.Matrix:
        """The exact matrix of the rotation by a symbolic angle ``theta``."""
        return self._value(0, theta, sp.cos, sp.sin, sp.Matrix)

    def flip_exact(self) -> sp.Matrix:
        """The exact matrix of the reflection ``f`` (only for groups with reflections)."""
        if not self.group.has_reflection:
            raise InvalidValueError(f"group {self.group.name} has no reflection")
        return self._value(1, sp.Integer(0), sp.cos, sp.sin, sp.Matrix)

    def _value(self, flip, theta, cos, sin, build):
        k = self.frequency
        if self.dim == 2:
            c, s = cos(k * theta), sin(k * theta)
            sign = -1 if (flip and self.flip_frequency) else 1
            # R(k theta) X^flip, e2cnn's psichi(k theta, flip)
            return build([[c, -sign * s], [s, sign * c]])
        value = cos(k * theta)
        if flip and self.flip_frequency:
            value = -value
        return build([[value]])

    def character(self, element: Any) -> float:
        return float(np.trace(self.matrix(element)))

    # ---- derivation data --------------------------------------------------------------------
    def eigenbasis(self) -> Eigenbasis:
        """The complex eigenbasis used by the derivation engine."""
        if self.dim == 2:
            return Eigenbasis(*_eigenvectors(2), (self.frequency, -self.frequency), (1, 0), (1, 0), (1, 1))
        sign = -1 if self.flip_frequency else 1
        return Eigenbasis(*_eigenvectors(1), (self.frequency,), (0,), (0,), (sign,))
