"""Homogeneous polynomials in (d/dx, d/dy) as coefficient arrays: products, rotations and text.

A polynomial of degree ``n`` is the last axis of an array, its ``n + 1`` coefficients of
``x^n, x^(n-1) y, ..., y^n`` (e2cnn's convention); the leading axes are a matrix of them.
"""
from __future__ import annotations

from math import comb
from typing import List

import numpy as np

__all__ = ["tensor_product", "rotate", "format_matrix"]

#: e2cnn's threshold: coefficients below it in absolute value are rounding noise and become 0
NOISE = 1e-8

_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def tensor_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The Kronecker product of two matrices of polynomials, each entry the product of two polynomials:
    (a0, a1, m) and (b0, b1, l) give (a0 * b0, a1 * b1, m + l - 1).

    Examples
    --------
    >>> tensor_product(np.array([[[1.0, 1.0]]]), np.array([[[1.0, -1.0]]]))     # (x + y)(x - y)
    array([[[ 1.,  0., -1.]]])
    """
    (a0, a1, m), (b0, b1, l) = a.shape, b.shape
    out = np.zeros((a0, b0, a1, b1, m + l - 1))
    for s in range(l):
        out[..., s:s + m] += a[:, None, :, None, :] * b[None, :, None, :, s, None]
    return out.reshape(a0 * b0, a1 * b1, m + l - 1)


def _power_of_linear(p: float, q: float, n: int) -> np.ndarray:
    """The coefficients of ``(p x + q y)^n``."""
    return np.array([comb(n, i) * p ** (n - i) * q ** i for i in range(n + 1)], dtype=float)


def rotate(coefficients: np.ndarray, angle: float) -> np.ndarray:
    """The polynomials turned by ``angle`` (counter-clockwise): ``P(R(angle)^T x)``, i.e. ``P`` evaluated
    at ``(x cos a + y sin a, -x sin a + y cos a)``.

    Examples
    --------
    >>> rotate(np.array([1.0, 0.0]), np.pi / 2).round(12) + 0.0      # x turned a quarter turn is y
    array([0., 1.])
    """
    c, s = np.cos(angle), np.sin(angle)
    n = coefficients.shape[-1] - 1
    out = np.zeros(coefficients.shape)
    for j in range(n + 1):
        term = np.convolve(_power_of_linear(c, s, n - j), _power_of_linear(-s, c, j))
        out += coefficients[..., j, None] * term
    return out


def _number(value: float) -> str:
    text = f"{abs(value):.2f}".rstrip("0").rstrip(".")
    return text


def format_polynomial(p: np.ndarray) -> str:
    """One polynomial as text (coefficients to two decimals, exponents as superscripts): ``x² - 2xy``."""
    n = len(p) - 1
    out: List[str] = []
    for j, value in enumerate(p):
        if value == 0 or _number(value) == "0":
            continue
        monomial = (("x" + (str(n - j) if n - j > 1 else "")) if n - j else "") + \
                   (("y" + (str(j) if j > 1 else "")) if j else "")
        monomial = monomial.translate(_SUPERSCRIPTS)
        magnitude = _number(value)
        if magnitude == "1" and monomial:
            magnitude = ""
        sign = ("-" if value < 0 else "") if not out else (" - " if value < 0 else " + ")
        out.append(sign + magnitude + monomial)
    return "".join(out) or "0"


def format_matrix(element: np.ndarray) -> str:
    r"""A matrix of polynomials as text: one row per line, the entries separated by tabs.

    Examples
    --------
    >>> format_matrix(np.array([[[1.0, 0.0, 1.0], [0.0, -2.0, 0.0]], [[0.0, 0.5, 0.0], [1.0, 0.0, -1.0]]]))
    'x² + y²\t-2xy\n0.5xy\tx² - y²'
    """
    return "\n".join("\t".join(format_polynomial(p) for p in row) for row in element)
