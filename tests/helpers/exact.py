"""Test helper: exact zero tests for algebraic numbers."""
import sympy as sp

_x = sp.Symbol("x")


def assert_exactly_zero(M, context=""):
    """Every entry of M is an algebraic number that is exactly zero (proof by minimal polynomial)."""
    for entry in sp.Matrix(M):
        e = sp.expand(entry)
        if e == 0:
            continue
        assert abs(complex(e.evalf(30))) < 1e-25, (context, entry)
        assert sp.minimal_polynomial(e, _x) == _x, (context, entry)
