"""Exact verification of the kernel constraint (docs/math.md, "Verifying an element exactly").

``verify`` proves that an angular kernel ``A(phi)`` satisfies

    A(phi + t)      = psi_out(t) A(phi) psi_in(t)^T          (rotations)
    A(2 beta - phi) = psi_out(f) A(phi) psi_in(f)^T          (reflection about the axis beta)

The residuals are Laurent polynomials in z = e^{i phi}, q = e^{i t}, w = e^{i beta}.  For SO(2)/O(2)
they must vanish identically.  For C_N/D_N it is enough to check the generator t = 2 pi / N, where q is
a primitive N-th root of unity: the residual must vanish modulo the cyclotomic polynomial Phi_N(q).
Coefficients are Gaussian rationals; when 4 | N, ``i = q^(N/4)`` turns them into rationals so that
Phi_N (irreducible over Q) decides exactly; otherwise Phi_N stays irreducible over Q(i) and the real
and imaginary parts are reduced separately.  The reflection residual keeps beta free: one check
covers every axis.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Dict, List, Optional, Tuple, Union

from ._lazy import lazy_import
from .harmonics import HarmonicElement, _symbol
from .irreps import Irrep
from .laurent import Laurent, entries, matmul, matrix_to_laurent

sp = lazy_import("sympy")


@dataclass(frozen=True)
class Verification:
    """The outcome of :func:`verify`; true when the constraint holds."""

    holds: bool
    reason: str

    def __bool__(self) -> bool:
        return self.holds


def _cyclotomic(N: int) -> List[int]:
    """Integer coefficients of Phi_N, lowest degree first."""
    x = sp.Symbol("x")
    return [int(c) for c in reversed(sp.Poly(sp.cyclotomic_poly(N, x), x).all_coeffs())]


def _reduce_mod(poly: Dict[int, Fraction], phi_n: List[int]) -> Dict[int, Fraction]:
    """Remainder of ``poly`` (degree -> coefficient) modulo the monic ``phi_n``."""
    d = len(phi_n) - 1
    p = dict(poly)
    for deg in sorted(p, reverse=True):
        if deg < d:
            break
        c = p.pop(deg, 0)
        if c:
            for j, a in enumerate(phi_n[:-1]):
                p[deg - d + j] = p.get(deg - d + j, 0) - c * a
    return {k: v for k, v in p.items() if v}


def _gaussian(c: sp.Expr) -> Optional[Tuple[Fraction, Fraction]]:
    re, im = sp.expand(c).as_real_imag()
    if re.is_Rational and im.is_Rational:
        return Fraction(int(re.p), int(re.q)), Fraction(int(im.p), int(im.q))
    return None


def _vanishes_at_root_of_unity(residual: Laurent, N: int) -> Tuple[bool, str]:
    """Does the residual vanish at q = e^{2 pi i / N} for all z, w?"""
    groups: Dict[Tuple[int, int], Dict[int, sp.Expr]] = {}
    for (a, b, c), coeff in residual.terms.items():
        g = groups.setdefault((a, c), {})
        g[b % N] = g.get(b % N, 0) + coeff
    phi_n = _cyclotomic(N)
    for poly in groups.values():
        gauss = {b: _gaussian(c) for b, c in poly.items()}
        if any(v is None for v in gauss.values()):
            # coefficients outside Q(i): evaluate the polynomial exactly at the root
            zeta = sp.exp(2 * sp.pi * sp.I / N)
            value = sum(c * zeta ** b for b, c in poly.items())
            if not bool(sp.simplify(sp.expand_complex(value)) == 0):
                return False, "residual does not vanish at the rotation generator"
            continue
        if N % 4 == 0:
            parts = [{}]
            for b, (x, y) in gauss.items():
                parts[0][b] = parts[0].get(b, 0) + x
                parts[0][(b + N // 4) % N] = parts[0].get((b + N // 4) % N, 0) + y
        else:
            parts = [{b: x for b, (x, _) in gauss.items()}, {b: y for b, (_, y) in gauss.items()}]
        for part in parts:
            if _reduce_mod({b: v for b, v in part.items() if v}, phi_n):
                return False, f"rotation residual is not divisible by the cyclotomic polynomial Phi_{N}"
    return True, "ok"


def verify(A: Union[HarmonicElement, sp.Matrix], in_irrep: Optional[Irrep] = None, out_irrep: Optional[Irrep] = None,
           axis: Optional[sp.Expr] = None, phi: Optional[sp.Symbol] = None) -> Verification:
    """Prove or refute that ``A`` solves the kernel constraint of ``in_irrep -> out_irrep``.

    ``A`` is a derived :class:`HarmonicElement` (checked for every reflection axis at once) or a sympy
    matrix in ``phi`` (and possibly the axis symbol ``beta``) of shape (out dim, in dim).  ``axis`` and
    ``phi`` default to the symbols ``BETA`` and ``PHI`` of :mod:`basisgen.harmonics`.

    Examples
    --------
    >>> import sympy as sp
    >>> from basisgen import cyclic_group
    >>> from basisgen.harmonics import PHI
    >>> G = cyclic_group(8)
    >>> bool(verify(sp.Matrix([[sp.cos(9 * PHI), sp.sin(9 * PHI)]]).T, G.irrep(0), G.irrep(1)))
    True
    >>> bool(verify(sp.Matrix([[sp.cos(2 * PHI), sp.sin(2 * PHI)]]).T, G.irrep(0), G.irrep(1)))
    False
    """
    PHI, BETA, T = _symbol("phi"), _symbol("beta"), _symbol("t")
    axis = BETA if axis is None else axis
    phi = PHI if phi is None else phi
    if isinstance(A, HarmonicElement):
        in_irrep, out_irrep = A.in_irrep, A.out_irrep
        A = A.matrix(phi, axis=BETA)
        axis = BETA
    if in_irrep is None or out_irrep is None:
        raise ValueError("in_irrep and out_irrep are required when A is a matrix")
    if in_irrep.group != out_irrep.group:
        raise ValueError(f"in_irrep and out_irrep belong to different groups: {in_irrep} vs {out_irrep}")
    if A.shape != (out_irrep.dim, in_irrep.dim):
        raise ValueError(f"A must have shape {(out_irrep.dim, in_irrep.dim)}, got {A.shape}")
    group = in_irrep.group
    symbolic_axis = isinstance(axis, sp.Symbol)
    if symbolic_axis and axis != BETA:
        A = A.subs(axis, BETA)
    L = matrix_to_laurent(A, phi, T, BETA)
    # rotations: A(phi + t) - psi_o(t) A(phi) psi_i(t)^T; phi -> phi + t maps z^a to z^a q^a
    shifted = [[x.reindex(lambda e: (e[0], e[1] + e[0], e[2])) for x in row] for row in L]
    po = matrix_to_laurent(out_irrep.rotation_exact(T), phi, T, BETA)
    pi = matrix_to_laurent(in_irrep.rotation_exact(T).T, phi, T, BETA)
    rhs = matmul(matmul(po, L), pi)
    residuals = [s - r for s, r in zip(entries(shifted), entries(rhs))]
    N = group.rotation_order
    for res in residuals:
        if N is None:
            if not res.is_zero():
                return Verification(False, "rotation residual is not identically zero")
        elif N > 1:
            ok, why = _vanishes_at_root_of_unity(res, N)
            if not ok:
                return Verification(False, why)
    if group.has_reflection:
        # reflection about beta: phi -> 2 beta - phi maps z^a w^c to z^-a w^(c + 2a)
        if symbolic_axis:
            mirrored = [[x.reindex(lambda e: (-e[0], e[1], e[2] + 2 * e[0])) for x in row] for row in L]
        else:
            A_m = A.subs(phi, 2 * axis - phi)
            mirrored = matrix_to_laurent(A_m, phi, T, BETA)
        fo = matrix_to_laurent(out_irrep.flip_exact(), phi, T, BETA)
        fi = matrix_to_laurent(in_irrep.flip_exact().T, phi, T, BETA)
        rhs = matmul(matmul(fo, L), fi)
        for m, r in zip(entries(mirrored), entries(rhs)):
            if not (m - r).is_zero():
                return Verification(False, "reflection residual is not identically zero")
    return Verification(True, "the constraint holds exactly")
