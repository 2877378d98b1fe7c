"""Cosines, sines and square roots to 256 bits, without sympy, rounded once to float64.

The change of basis of a quotient, induced or restricted representation has entries like
``cos(k theta / 2) sqrt(r)`` (``theta`` a rational multiple of pi for the finite groups, a float angle
for O(2); ``r`` rational).  They are computed here as :class:`~fractions.Fraction` values within
``2^-256`` of the true ones (exact where the value is ``0`` or ``+-1``), combined exactly, and rounded
once by ``float()``: the float change of basis is the correctly rounded one, the same numbers the exact
sympy matrix evaluates to, at no sympy import.

Examples
--------
>>> from fractions import Fraction
>>> c, s = cos_sin(Angle(Fraction(1, 4)))          # pi / 4
>>> float(c * sqrt(Fraction(2))), float(s)
(1.0, 0.7071067811865476)
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import isqrt
from typing import Any, Tuple

from ._lazy import lazy_import

sp = lazy_import("sympy")

__all__ = ["Angle", "cos_sin", "sqrt"]

#: bits of the fixed-point values (64 more are carried inside the series)
PRECISION = 256
_WORK = PRECISION + 64


@dataclass(frozen=True)
class Angle:
    """An angle: ``coefficient * pi`` (``in_pi``) or ``coefficient`` radians.

    Examples
    --------
    >>> Angle(Fraction(1, 3)).scaled(Fraction(3, 2))
    Angle(coefficient=Fraction(1, 2), in_pi=True)
    """

    coefficient: Fraction
    in_pi: bool = True

    def scaled(self, factor: Any) -> "Angle":
        return Angle(self.coefficient * Fraction(factor), self.in_pi)

    def exact(self) -> Any:
        """The angle as a sympy number (a float angle as a 30-digit sympy Float)."""
        c = self.coefficient
        if self.in_pi:
            return sp.pi * sp.Rational(c.numerator, c.denominator)
        return sp.Float(float(c), 30)


@lru_cache(maxsize=None)
def _pi() -> int:
    """``pi * 2^_WORK`` (Machin's formula, with 32 guard bits)."""
    bits = _WORK + 32

    def arctan_inverse(x: int) -> int:          # arctan(1 / x) * 2^bits
        total = term = (1 << bits) // x
        n, sign = 1, 1
        while term:
            term //= x * x
            n, sign = n + 2, -sign
            total += sign * (term // n)
        return total

    return (16 * arctan_inverse(5) - 4 * arctan_inverse(239)) >> 32


def _series(x: int) -> Tuple[int, int]:
    """``(cos x, sin x) * 2^_WORK`` for ``0 <= x <= pi`` given as ``x * 2^_WORK`` (Taylor; all terms positive)."""
    one = 1 << _WORK
    values = [0, 0, 0, 0]          # the terms of cos, sin, -cos, -sin
    term, n = one, 0
    while term:
        values[n % 4] += term
        n += 1
        term = term * x // (one * n)
    return values[0] - values[2], values[1] - values[3]


def cos_sin(angle: Angle) -> Tuple[Fraction, Fraction]:
    """``(cos, sin)`` of ``angle`` within ``2^-256``; exact at multiples of pi/2 (the zeros stay zeros)."""
    c = angle.coefficient
    if angle.in_pi:
        c %= 2
        if (2 * c).denominator == 1:
            return {0: (Fraction(1), Fraction(0)), 1: (Fraction(0), Fraction(1)),
                    2: (Fraction(-1), Fraction(0)), 3: (Fraction(0), Fraction(-1))}[int(2 * c)]
        x = _pi() * c.numerator // c.denominator
    else:
        if c == 0:
            return Fraction(1), Fraction(0)
        x = (c.numerator << _WORK) // c.denominator % (2 * _pi())
    negative = x > _pi()                       # reduce to [0, pi]: sin(2 pi - x) = -sin(x)
    cos, sin = _series(2 * _pi() - x if negative else x)
    scale = 1 << _WORK
    return Fraction(cos, scale), Fraction(-sin if negative else sin, scale)


def sqrt(r: Fraction) -> Fraction:
    """``sqrt(r)`` for a rational ``r >= 0``: exact for squares, else within ``2^-256`` relative."""
    r = Fraction(r)
    if r < 0:
        raise ValueError(f"r must be a non-negative rational, got {r!r}")
    num, den = isqrt(r.numerator), isqrt(r.denominator)
    if num * num == r.numerator and den * den == r.denominator:
        return Fraction(num, den)
    return Fraction(isqrt((r.numerator << (2 * _WORK)) // r.denominator), 1 << _WORK)
