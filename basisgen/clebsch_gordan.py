"""Clebsch-Gordan decompositions of the planar groups: ``psi_a (x) psi_b = Q ((+)_k psi_k) Q^T``, exactly.

Every irrep of C_N, D_N, SO(2), O(2), the flip group and the trivial group is a *block* ``(m, eps)``: a
rotation by theta acts as ``R(m theta)`` (2-D) or ``cos(m theta)`` (1-D, where ``sin(m theta) = 0`` on the
group), the reflection as ``eps X`` (2-D, ``X = diag(1, -1)``) or ``eps`` (1-D).  Tensor products of blocks
are blocks again, in closed form:

- 1-D (x) 1-D: the 1-D block ``(m_a + m_b, eps_a eps_b)``;
- 1-D (x) 2-D: the 2-D block ``(m_a + m_b, eps_a eps_b)`` (a 1-D block is a sign on the group);
- 2-D (x) 2-D: on ``u = (e00 - e11, e01 + e10) / sqrt 2`` the block ``(m_a + m_b, eps_a eps_b)``, on
  ``v = (e00 + e11, e10 - e01) / sqrt 2`` the block ``(m_a - m_b, eps_a eps_b)`` (``R(a) (x) R(b)`` in the
  ``kron`` basis; the reflection ``X (x) X = diag(1, -1, -1, 1)`` acts as X on both).

A block is then brought to an irrep by an orthogonal change of basis: ``P`` (the swap, ``P R(m) P = R(-m)``,
``P (-X) P = X``) when ``eps = -1``, ``X`` (``X R(m) X = R(-m)``) when the frequency is negative (or above
N/2 on C_N/D_N, where frequencies count modulo N), and a split into two 1-D irreps when ``R(m theta)`` is
``+-1`` on the group (``m = 0``, or ``m = N/2`` modulo N).  The entries of ``Q`` are 0, +-1 and +-1/sqrt 2.

:func:`verify_clebsch_gordan` proves the identity exactly with sympy: the rotation part as a Laurent
polynomial in ``z = e^{i theta}`` (identically zero for SO(2)/O(2); zero modulo ``z^N - 1``, i.e. at every
N-th root of unity, hence on every rotation of C_N/D_N), with and without the reflection, so on every
element.

Examples
--------
>>> from basisgen import dihedral_group
>>> cg = clebsch_gordan(dihedral_group(4).irrep(1, 1), dihedral_group(4).irrep(1, 1))
>>> [psi.name for psi in cg.irreps], bool(verify_clebsch_gordan(cg))
(['irrep_0,0', 'irrep_1,0', 'irrep_1,2', 'irrep_0,2'], True)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, List, Tuple

import numpy as np

from ._lazy import lazy_import
from .errors import InvalidTypeError, InvalidValueError
from .irreps import Irrep

sp = lazy_import("sympy")

__all__ = ["ClebschGordan", "clebsch_gordan", "verify_clebsch_gordan", "tensor_product_multiplicities"]


@dataclass(frozen=True, eq=False)
class ClebschGordan:
    """``psi_a(g) (x) psi_b(g) = Q ((+)_k irreps[k](g)) Q^T`` (``(x)``: numpy's ``kron``; ``Q`` orthogonal).

    ``Q_exact`` is the sympy matrix, ``Q`` its float64 value; ``irreps`` are in the order of ``Q``'s column
    blocks.
    """

    psi_a: Irrep
    psi_b: Irrep
    irreps: Tuple[Irrep, ...]
    Q_exact: Any = field(repr=False)
    Q: np.ndarray = field(repr=False)

    def multiplicity(self, psi: Irrep) -> int:
        """How many times ``psi`` occurs in the tensor product."""
        return sum(1 for phi in self.irreps if phi == psi)


# ---- blocks ---------------------------------------------------------------------------------------------------
def _irrep(G: Any, dim: int, flip: int, frequency: int) -> Irrep:
    """The irrep of ``G`` with this dimension, reflection parity and (non-negative) frequency."""
    if G.kind == "flip":
        return G.irrep(flip)
    if G.has_reflection:
        return G.irrep(1 if dim == 2 else flip, frequency)
    return G.irrep(frequency)


def _reduce(G: Any, m: int) -> int:
    return m if G.rotation_order is None else m % G.rotation_order


def _is_sign(G: Any, r: int) -> bool:
    """Whether ``R(r theta)`` is ``cos(r theta) I = +-I`` on every element (r reduced)."""
    return r == 0 or (G.rotation_order is not None and 2 * r == G.rotation_order)


def _canonical(G: Any, m: int, eps: int, dim: int) -> List[Tuple[Irrep, Any]]:
    """The irreps of the block ``(m, eps)`` of dimension ``dim`` and, for each, the block's change of basis
    (``dim x psi.dim`` columns)."""
    eps = eps if G.has_reflection else 1
    r = _reduce(G, m)
    if dim == 1 or _is_sign(G, r):
        if not _is_sign(G, r):
            raise AssertionError(f"a 1-D block of frequency {m} is not a sign on {G.name}")
        signs = [eps] if dim == 1 else [eps, -eps]           # eps X = diag(eps, -eps)
        return [(_irrep(G, 1, 0 if s == 1 else 1, r), sp.eye(dim)[:, i]) for i, s in enumerate(signs)]
    Qb = sp.eye(2)
    if eps == -1:
        Qb, m = sp.Matrix([[0, 1], [1, 0]]), -m
    r = _reduce(G, m)
    if (G.rotation_order is None and r < 0) or (G.rotation_order is not None and 2 * r > G.rotation_order):
        Qb = Qb * sp.diag(1, -1)
        r = -r if G.rotation_order is None else G.rotation_order - r
    return [(_irrep(G, 2, 1, r), Qb)]


def _block(psi: Irrep) -> Tuple[int, int]:
    """``(m, eps)`` of an irrep."""
    eps = -1 if (psi.dim == 1 and psi.flip_frequency) else 1
    return psi.frequency, eps


def _product_blocks(psi_a: Irrep, psi_b: Irrep) -> List[Tuple[int, int, Any]]:
    """``(m, eps, V)``: the blocks of ``psi_a (x) psi_b`` and the orthonormal columns ``V`` carrying them."""
    (ma, ea), (mb, eb) = _block(psi_a), _block(psi_b)
    eps = ea * eb
    if psi_a.dim == 1 or psi_b.dim == 1:
        dim = psi_a.dim * psi_b.dim
        return [(ma + mb, eps, sp.eye(dim))]
    h = 1 / sp.sqrt(2)
    u = sp.Matrix([[1, 0], [0, 1], [0, 1], [-1, 0]]) * h
    v = sp.Matrix([[1, 0], [0, -1], [0, 1], [1, 0]]) * h
    return [(ma + mb, eps, u), (ma - mb, eps, v)]


def _order_key(psi: Irrep) -> Tuple[int, int]:
    """The group's order of its irreps (e2cnn's); SO(2)/O(2) irreps above the listed band after them."""
    listed = psi.group.irreps
    return (listed.index(psi), 0) if psi in listed else (len(listed), psi.frequency)


@lru_cache(maxsize=None)
def _decompose(G: Any, id_a: Tuple[int, ...], id_b: Tuple[int, ...]) -> ClebschGordan:
    psi_a, psi_b = G.irrep(*id_a), G.irrep(*id_b)
    pieces = []
    for m, eps, V in _product_blocks(psi_a, psi_b):
        for psi, Qb in _canonical(G, m, eps, V.shape[1]):
            pieces.append((psi, V * Qb))
    pieces.sort(key=lambda piece: _order_key(piece[0]))           # stable: ties keep the derivation's order
    Q = sp.Matrix.hstack(*[cols for _, cols in pieces])
    return ClebschGordan(psi_a, psi_b, tuple(psi for psi, _ in pieces), Q, np.array(Q.evalf(30), dtype=float))


def clebsch_gordan(psi_a: Irrep, psi_b: Irrep) -> ClebschGordan:
    """The decomposition of ``psi_a (x) psi_b`` into irreps with an exact orthogonal change of basis.

    Cached in memory (by group and irrep ids).  For SO(2)/O(2) the irreps may exceed the group's listed
    ``maximum_frequency`` (frequency ``k_a + k_b``).

    Examples
    --------
    >>> from basisgen import so2_group
    >>> G = so2_group(2)
    >>> cg = clebsch_gordan(G.irrep(1), G.irrep(2))
    >>> [psi.name for psi in cg.irreps], cg.Q_exact.shape
    (['irrep_1', 'irrep_3'], (4, 4))
    """
    for name, psi in (("psi_a", psi_a), ("psi_b", psi_b)):
        if not isinstance(psi, Irrep):
            raise InvalidTypeError(f"{name} must be a basisgen Irrep, got {type(psi).__name__}")
    if psi_a.group != psi_b.group:
        raise InvalidValueError(f"psi_a and psi_b must be irreps of one group, got {psi_a!r} and {psi_b!r}")
    return _decompose(psi_a.group, psi_a.id, psi_b.id)


# ---- exact verification ------------------------------------------------------------------------------------
def _rotation_in_z(psi: Irrep, theta: Any, z: Any) -> Any:
    """``psi(r_theta)`` with ``cos``/``sin`` written in ``z = e^{i theta}``."""
    in_z = psi.rotation_exact(theta).applyfunc(lambda entry: entry.rewrite(sp.exp))     # sympy entries
    return in_z.subs(theta, -sp.I * sp.log(z)).applyfunc(sp.expand)


def _vanishes(expr: Any, z: Any, N: Any) -> bool:
    """Whether the Laurent polynomial ``expr`` in ``z`` is zero (SO(2)/O(2)) or zero modulo ``z^N - 1``."""
    expr = sp.expand(expr)
    if expr == 0:
        return True
    numerator, denominator = sp.fraction(sp.together(expr))
    poly = sp.Poly(sp.expand(numerator), z)
    if N is not None:
        poly = poly.rem(sp.Poly(z ** N - 1, z))
    return poly.is_zero


def verify_clebsch_gordan(cg: ClebschGordan) -> bool:
    """Prove ``psi_a(g) (x) psi_b(g) = Q ((+)_k psi_k(g)) Q^T`` for every element g, exactly (sympy), and
    ``Q^T Q = I``.

    Rotations: both sides as Laurent polynomials in ``z = e^{i theta}``, equal identically (SO(2), O(2))
    or modulo ``z^N - 1`` (every rotation of C_N, D_N); the same after the reflection.

    Examples
    --------
    >>> from basisgen import cyclic_group
    >>> G = cyclic_group(5)
    >>> verify_clebsch_gordan(clebsch_gordan(G.irrep(2), G.irrep(2)))
    True
    """
    G = cg.psi_a.group
    Q = cg.Q_exact
    if (Q.T * Q - sp.eye(Q.shape[0])).applyfunc(sp.simplify) != sp.zeros(*Q.shape):
        return False
    theta, z = sp.Symbol("theta", real=True), sp.Symbol("z")
    left_rot = sp.kronecker_product(_rotation_in_z(cg.psi_a, theta, z), _rotation_in_z(cg.psi_b, theta, z))
    right_rot = sp.diag(*[_rotation_in_z(psi, theta, z) for psi in cg.irreps])
    cases = [(left_rot, right_rot)]
    if G.has_reflection:
        left_flip = sp.kronecker_product(cg.psi_a.flip_exact(), cg.psi_b.flip_exact())
        right_flip = sp.diag(*[psi.flip_exact() for psi in cg.irreps])
        cases.append((left_rot * left_flip, right_rot * right_flip))
    for left, right in cases:
        residual = left - Q * right * Q.T
        if not all(_vanishes(entry, z, G.rotation_order) for entry in residual):
            return False
    return True


def tensor_product_multiplicities(psi_a: Irrep, psi_b: Irrep) -> dict:
    """``{irrep: multiplicity}`` of ``psi_a (x) psi_b`` (from :func:`clebsch_gordan`).

    Examples
    --------
    >>> from basisgen import o2_group
    >>> G = o2_group(3)
    >>> {psi.name: n for psi, n in tensor_product_multiplicities(G.irrep(1, 1), G.irrep(1, 1)).items()}
    {'irrep_0,0': 1, 'irrep_1,0': 1, 'irrep_1,2': 1}
    """
    cg = clebsch_gordan(psi_a, psi_b)
    return {psi: cg.multiplicity(psi) for psi in dict.fromkeys(cg.irreps)}
