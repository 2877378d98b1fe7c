"""basisgen.precise: cosines, sines and square roots rounded once to float64 are the correctly rounded values
(checked against sympy at 60 digits), and exact where the value is 0 or +-1."""
from fractions import Fraction

import pytest
import sympy as sp

from basisgen.precise import Angle, cos_sin, sqrt


def _correctly_rounded(value: Fraction, exact: sp.Expr) -> bool:
    reference = sp.Float(sp.N(exact, 60), 60)
    return float(value) == float(sp.Rational(str(reference)))


@pytest.mark.parametrize("q", [1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24])
def test_rational_multiples_of_pi(q):
    """p pi / q for every p in [-2q, 2q] (one test per denominator: 366 angles in all)."""
    for p in range(-2 * q, 2 * q + 1):
        c, s = cos_sin(Angle(Fraction(p, q)))
        theta = sp.pi * sp.Rational(p, q)
        assert _correctly_rounded(c, sp.cos(theta)) and _correctly_rounded(s, sp.sin(theta)), (p, q)
        if (2 * p) % q == 0:                      # multiples of pi/2: exact 0 and +-1
            assert c == sp.cos(theta) and s == sp.sin(theta), (p, q)


@pytest.mark.parametrize("x", [0.1, 0.5, 1.0, 2.5, 3.0, -1.25, 6.2])
def test_float_radians(x):
    c, s = cos_sin(Angle(Fraction(x), in_pi=False))
    assert _correctly_rounded(c, sp.cos(sp.Rational(Fraction(x).numerator, Fraction(x).denominator)))
    assert _correctly_rounded(s, sp.sin(sp.Rational(Fraction(x).numerator, Fraction(x).denominator)))


@pytest.mark.parametrize("r", [Fraction(0), Fraction(1), Fraction(2), Fraction(1, 2), Fraction(3, 8), Fraction(10, 3)])
def test_square_roots(r):
    assert _correctly_rounded(sqrt(r), sp.sqrt(sp.Rational(r.numerator, r.denominator)))
