"""Trigonometric polynomials as Laurent polynomials in ``z = e^{i phi}``, ``q = e^{i t}``, ``w = e^{i beta}``.

A kernel entry such as ``cos(3 (phi - beta) + pi/2)`` becomes ``{(3, 0, -3): -i/2 * ..., ...}``: a dict
from exponent triples ``(a, b, c)`` of ``z^a q^b w^c`` to exact sympy coefficients.  Substituting
``phi -> phi + t`` or ``phi -> 2 beta - phi`` is then a re-indexing of exponents, and the kernel
constraint becomes polynomial identities (docs/math.md, "Verifying an element exactly").
"""
from __future__ import annotations

from collections import defaultdict
from typing import Dict, Iterable, List, Tuple

from ._lazy import lazy_import

sp = lazy_import("sympy")

Exponent = Tuple[int, int, int]


class Laurent:
    """A Laurent polynomial in (z, q, w) with exact coefficients."""

    __slots__ = ("terms",)

    def __init__(self, terms: Dict[Exponent, sp.Expr] | None = None):
        self.terms = {e: c for e, c in (terms or {}).items() if c != 0}

    @classmethod
    def constant(cls, c) -> "Laurent":
        return cls({(0, 0, 0): sp.Integer(c) if isinstance(c, int) else c})

    def __add__(self, other: "Laurent") -> "Laurent":
        out = dict(self.terms)
        for e, c in other.terms.items():
            out[e] = sp.expand(out.get(e, 0) + c)
        return Laurent(out)

    def __neg__(self) -> "Laurent":
        return Laurent({e: -c for e, c in self.terms.items()})

    def __sub__(self, other: "Laurent") -> "Laurent":
        return self + (-other)

    def __mul__(self, other: "Laurent") -> "Laurent":
        out: Dict[Exponent, sp.Expr] = defaultdict(lambda: sp.Integer(0))
        for (a1, b1, c1), x in self.terms.items():
            for (a2, b2, c2), y in other.terms.items():
                out[(a1 + a2, b1 + b2, c1 + c2)] += x * y
        return Laurent({e: sp.expand(c) for e, c in out.items()})

    def reindex(self, f) -> "Laurent":
        """Substitute through an exponent map, e.g. ``phi -> phi + t`` is ``(a,b,c) -> (a, b+a, c)``."""
        out: Dict[Exponent, sp.Expr] = defaultdict(lambda: sp.Integer(0))
        for e, c in self.terms.items():
            out[f(e)] += c
        return Laurent({e: sp.expand(c) for e, c in out.items()})

    def is_zero(self) -> bool:
        return all(_is_zero(c) for c in self.terms.values())


def _is_zero(c: sp.Expr) -> bool:
    c = sp.expand(c)
    if c == 0:
        return True
    if c.is_Number:
        return False
    return bool(c.equals(0))


def _linear(arg: sp.Expr, symbols: Tuple[sp.Symbol, sp.Symbol, sp.Symbol]) -> Tuple[Exponent, sp.Expr]:
    """Split ``arg = a phi + b t + c beta + const`` with integer a, b, c."""
    arg = sp.expand(arg)
    coeffs = []
    rest = arg
    for s in symbols:
        k = arg.coeff(s)
        if k.free_symbols or not (k.is_Integer or k == 0):
            raise ValueError(f"not a trigonometric polynomial: argument {arg} has non-integer coefficient {k} of {s}")
        coeffs.append(int(k))
        rest -= k * s
    rest = sp.expand(rest)
    if rest.free_symbols:
        raise ValueError(f"not a trigonometric polynomial in {symbols}: unexpected symbols in {arg}")
    return tuple(coeffs), rest


def to_laurent(expr: sp.Expr, phi: sp.Symbol, t: sp.Symbol, beta: sp.Symbol) -> Laurent:
    """Convert a polynomial in cos/sin/exp of integer combinations of (phi, t, beta) to a Laurent polynomial.

    Raises ``ValueError`` for anything else (e.g. ``cos(phi/2)`` or ``phi**2``).
    """
    symbols = (phi, t, beta)
    if not isinstance(expr, sp.Basic):
        raise TypeError(f"expected a sympy expression, got {type(expr).__name__}")
    if not expr.free_symbols & set(symbols):
        return Laurent.constant(expr)
    if expr.is_Add:
        out = Laurent()
        for term in expr.args:
            out = out + to_laurent(term, phi, t, beta)
        return out
    if expr.is_Mul:
        out = Laurent.constant(1)
        for factor in expr.args:
            out = out * to_laurent(factor, phi, t, beta)
        return out
    if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0:
        out = Laurent.constant(1)
        base = to_laurent(expr.base, phi, t, beta)
        for _ in range(int(expr.exp)):
            out = out * base
        return out
    if isinstance(expr, (sp.cos, sp.sin)):
        e, const = _linear(expr.args[0], symbols)
        plus, minus = sp.exp(sp.I * const), sp.exp(-sp.I * const)
        neg = (-e[0], -e[1], -e[2])
        if isinstance(expr, sp.cos):
            return Laurent({e: plus / 2, neg: minus / 2}) if e != neg else Laurent.constant(sp.cos(const))
        return Laurent({e: plus / (2 * sp.I), neg: -minus / (2 * sp.I)}) if e != neg else \
            Laurent.constant(sp.sin(const))
    if isinstance(expr, sp.exp):
        e, const = _linear(expr.args[0] / sp.I, symbols)
        return Laurent({e: sp.exp(sp.I * const)})
    raise ValueError(f"not a trigonometric polynomial in {symbols}: cannot convert {expr}")


def matrix_to_laurent(M: sp.Matrix, phi, t, beta) -> List[List[Laurent]]:
    return [[to_laurent(M[i, j], phi, t, beta) for j in range(M.cols)] for i in range(M.rows)]


def matmul(A: List[List[Laurent]], B: List[List[Laurent]]) -> List[List[Laurent]]:
    n, m, p = len(A), len(B), len(B[0])
    out = []
    for i in range(n):
        row = []
        for j in range(p):
            acc = Laurent()
            for k in range(m):
                acc = acc + A[i][k] * B[k][j]
            row.append(acc)
        out.append(row)
    return out


def entries(M: List[List[Laurent]]) -> Iterable[Laurent]:
    for row in M:
        yield from row
