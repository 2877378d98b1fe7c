"""Steerable partial differential operators: the PDO basis of an irrep pair (docs/math.md, "Steerable PDOs").

A PDO ``D = P(d/dx, d/dy)`` with a matrix ``P`` of polynomials is equivariant exactly when ``P``, read
as a kernel on the plane, solves the kernel constraint.  The angular solutions of the constraint
carry over unchanged; only the radial part changes.  ``r^n cos(mu (phi - beta))`` is a polynomial
exactly when ``n - |mu|`` is even and non-negative, so every angular element ``A`` of frequency ``mu``
gives the homogeneous polynomials ``(x^2 + y^2)^p H_A(x, y)`` of degree ``|mu| + 2p``, where ``H_A`` is
``A`` multiplied by ``r^|mu|``:

    r^|mu| e^{i mu (phi - beta)} = e^{-i mu beta} (x + i sign(mu) y)^|mu|,

so ``C cos + S sin`` becomes ``C Re(Z) + S Im(Z)`` with ``Z`` that polynomial.  Nothing here is a table
of PDOs: the elements come from the same derivation as the kernel bases
(:func:`basisgen.derivation.derive_angular_basis`), and :func:`verify_pdo` proves each polynomial
against the constraint exactly.

A homogeneous polynomial of degree ``n`` is held as its ``n + 1`` coefficients of
``x^n, x^(n-1) y, ..., y^n`` (read as ``d^n/dx^n, d^n/dx^(n-1)dy, ..., d^n/dy^n``), e2cnn's convention.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import comb
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from ._lazy import lazy_import
from .derivation import _derive, check_bound
from .errors import EmptyBasisError, InvalidValueError
from .groups import Group
from .harmonics import HarmonicElement, _symbol
from .irreps import Irrep
from .verify import Verification, verify

sp = lazy_import("sympy")


def laplacian_power(p: int) -> Tuple[int, ...]:
    """The coefficients of ``(x^2 + y^2)^p``, the ``p``-th power of the Laplacian (degree ``2p``).

    Examples
    --------
    >>> laplacian_power(0), laplacian_power(1), laplacian_power(2)
    ((1,), (1, 0, 1), (1, 0, 2, 0, 1))
    """
    out = [0] * (2 * p + 1)
    for i in range(p + 1):
        out[2 * i] = comb(p, i)
    return tuple(out)


def multiply(a: Sequence[Any], b: Sequence[Any]) -> Tuple[Any, ...]:
    """The product of two homogeneous polynomials given by their coefficients (exact for exact inputs).

    Examples
    --------
    >>> multiply((1, 1), (1, -1))         # (x + y)(x - y) = x^2 - y^2
    (1, 0, -1)
    """
    out = [0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        if x == 0:
            continue
        for j, y in enumerate(b):
            out[i + j] = out[i + j] + x * y
    return tuple(out)


def _power_terms(n: int, sign: int) -> Tuple[Tuple[int, int], ...]:
    """``(x + i sign y)^n`` as (real, imaginary) integer coefficient pairs of ``x^(n-j) y^j``."""
    terms = []
    for j in range(n + 1):
        unit = (1, 0, -1, 0)[j % 4], (0, 1, 0, -1)[j % 4]        # i^j
        c = comb(n, j) * sign ** j
        terms.append((c * unit[0], c * unit[1]))
    return tuple(terms)


def harmonic_polynomial(element: HarmonicElement, angle: Any = 0) -> Tuple[Tuple[Tuple[Any, ...], ...], ...]:
    """The exact homogeneous polynomial ``r^|mu| A(phi)`` of an angular element, as a (d_out, d_in) nested
    tuple of coefficient tuples (length ``|mu| + 1``), with the trigonometric arguments ``mu (phi - angle)``.

    ``angle`` is 0 (the derived element; rational or algebraic coefficients) or any sympy angle.
    """
    mu = element.mu
    n, sign = abs(mu), (1 if mu >= 0 else -1)
    terms = _power_terms(n, sign)
    if angle == 0:
        rot_re, rot_im = 1, 0
    else:                                   # e^{-i mu angle}
        rot_re, rot_im = sp.cos(mu * angle), -sp.sin(mu * angle)
    re = [rot_re * a - rot_im * b for a, b in terms]
    im = [rot_re * b + rot_im * a for a, b in terms]
    C, S = element.cos_coefficients, element.sin_coefficients
    return tuple(tuple(tuple(sp.expand(C[i][j] * r + S[i][j] * m) if (C[i][j] or S[i][j]) else sp.Integer(0)
                                   for r, m in zip(re, im))
                             for j in range(len(C[0]))) for i in range(len(C)))


def numeric_harmonic_polynomial(element: HarmonicElement, angle: float = 0.0) -> np.ndarray:
    """:func:`harmonic_polynomial` in float64 for a float ``angle``: an array (d_out, d_in, |mu| + 1)."""
    mu = element.mu
    terms = np.array(_power_terms(abs(mu), 1 if mu >= 0 else -1), dtype=float)
    c, s = np.cos(mu * angle), -np.sin(mu * angle)
    re = c * terms[:, 0] - s * terms[:, 1]
    im = c * terms[:, 1] + s * terms[:, 0]
    C, S = element._numeric
    return C[:, :, None] * re + S[:, :, None] * im


@dataclass(frozen=True)
class PDOElement:
    """One element of a steerable PDO basis: the Laplacian power ``power`` times the homogeneous polynomial
    of the angular element ``angular``; its derivative order is ``|mu| + 2 power``.

    Examples
    --------
    >>> from basisgen import cyclic_group
    >>> G = cyclic_group(4)
    >>> basis = derive_pdo_basis(G, G.irrep(0), G.irrep(0), maximum_order=2)
    >>> [(e.order, e.power) for e in basis]
    [(0, 0), (2, 1)]
    >>> basis[1].polynomial()
    Matrix([[x**2 + y**2]])
    >>> bool(verify_pdo(basis[1]))
    True
    """

    angular: HarmonicElement
    power: int

    @property
    def order(self) -> int:
        """The derivative order: the degree of the homogeneous polynomial."""
        return abs(self.angular.mu) + 2 * self.power

    @property
    def shape(self) -> Tuple[int, int]:
        return self.angular.shape

    @property
    def sign(self) -> int:
        """-1 for a 1x1 element with phase pi/2, else 1: such a kernel element is ``cos(mu phi + pi/2) =
        -sin(mu phi)``, while e2cnn's PDO bases take ``+sin`` there (either sign solves the constraint; this one
        keeps e2cnn's weights meaning the same operators)."""
        return -1 if self.shape == (1, 1) and self.angular.gamma_float != 0 else 1

    @property
    def in_irrep(self) -> Irrep:
        return self.angular.in_irrep

    @property
    def out_irrep(self) -> Irrep:
        return self.angular.out_irrep

    def coefficients(self, angle: Any = 0) -> Tuple[Tuple[Tuple[Any, ...], ...], ...]:
        """The exact coefficients (d_out, d_in, order + 1) of ``x^n, x^(n-1) y, ..., y^n`` (see
        :func:`harmonic_polynomial` for ``angle``)."""
        lap = tuple(self.sign * c for c in laplacian_power(self.power))
        return tuple(tuple(multiply(p, lap) for p in row) for row in harmonic_polynomial(self.angular, angle))

    def numeric_coefficients(self, rotation: float = 0.0) -> np.ndarray:
        """The coefficients in float64 (d_out, d_in, order + 1) at the element's axis, the operator turned
        by a further ``rotation`` (e2cnn's ``angle_offset``) if given."""
        H = numeric_harmonic_polynomial(self.angular, self.angular.axis_float + rotation)
        lap = self.sign * np.array(laplacian_power(self.power), dtype=float)
        return np.apply_along_axis(lambda p: np.convolve(p, lap), 2, H)

    def polynomial(self, x: Optional[Any] = None, y: Optional[Any] = None, angle: Any = 0) -> "sp.Matrix":
        """The exact matrix of polynomials in ``x`` and ``y`` (default: the real symbols x and y)."""
        x = _symbol("x") if x is None else x
        y = _symbol("y") if y is None else y
        n = self.order
        return sp.Matrix([[sum(c * x ** (n - j) * y ** j for j, c in enumerate(p)) for p in row]
                          for row in self.coefficients(angle)])

    def attributes(self) -> dict:
        """The angular element's attributes plus ``power`` and ``order`` (e2cnn's keys are assembled by
        the sampler, which knows the positions in the representations)."""
        attrs = self.angular.attributes()
        attrs.update(power=self.power, order=self.order)
        return attrs


def derive_pdo_basis(group: Group, in_irrep: Irrep, out_irrep: Irrep, maximum_order: int,
                     maximum_power: Optional[int] = None, maximum_offset: Optional[int] = None,
                     axis: Any = 0) -> Tuple[PDOElement, ...]:
    """The steerable PDO basis ``in_irrep -> out_irrep`` up to derivative order ``maximum_order``.

    The angular elements are those of the kernel basis with ``|mu| <= maximum_order`` (and aliasing
    offsets up to ``maximum_offset`` for finite groups), each combined with the Laplacian powers
    ``0 .. maximum_power`` (default ``maximum_order // 2``) whose total order stays within
    ``maximum_order``; angular element outermost, power innermost (e2cnn's order).  ``axis`` is the
    reflection axis (groups with reflections only).  Raises :class:`EmptyBasisError` when nothing is left.

    Examples
    --------
    >>> from basisgen import dihedral_group
    >>> G = dihedral_group(4)
    >>> [e.polynomial() for e in derive_pdo_basis(G, G.irrep(1, 1), G.irrep(0, 0), maximum_order=1)]
    [Matrix([[x, y]])]
    """
    for name, psi in (("in_irrep", in_irrep), ("out_irrep", out_irrep)):
        if not isinstance(psi, Irrep) or psi.group != group:
            raise InvalidValueError(f"{name} must be an irrep of {group.name}, got {psi!r}")
    order = check_bound(maximum_order, "maximum_order")
    if order is None:
        raise InvalidValueError("maximum_order must be a non-negative int, got None")
    power = order // 2 if maximum_power is None else check_bound(maximum_power, "maximum_power")
    offset = check_bound(maximum_offset, "maximum_offset")
    elements = pdo_elements(group, in_irrep, out_irrep, order, power, offset)
    if not elements:
        raise EmptyBasisError(f"no PDO of order <= {order} maps {in_irrep.name} to {out_irrep.name} of {group.name}")
    beta = axis if group.has_reflection else 0
    if beta == 0:
        return elements
    return tuple(PDOElement(e.angular.with_axis(beta), e.power) for e in elements)


def angular_pdo_elements(group: Group, in_irrep: Irrep, out_irrep: Irrep, maximum_order: int,
                         maximum_offset: Optional[int]) -> Tuple[HarmonicElement, ...]:
    """The angular elements a PDO basis of order ``<= maximum_order`` is built on, in e2cnn's order
    (the kernel derivation with the band limit ``maximum_order``; SO(2) and O(2) keep every solution)."""
    if group.continuous:
        return _derive(group, in_irrep, out_irrep, None, None)
    return _derive(group, in_irrep, out_irrep, maximum_order, maximum_offset)


def pdo_elements(group: Group, in_irrep: Irrep, out_irrep: Irrep, maximum_order: int, maximum_power: int,
                 maximum_offset: Optional[int]) -> Tuple[PDOElement, ...]:
    """Every PDO element of order ``<= maximum_order`` (axis 0), without argument checks."""
    return tuple(PDOElement(a, p) for a in angular_pdo_elements(group, in_irrep, out_irrep, maximum_order,
                                                                maximum_offset)
                 for p in range(maximum_power + 1) if abs(a.mu) + 2 * p <= maximum_order)


def verify_pdo(element: PDOElement) -> Verification:
    """Prove or refute that the element's polynomial ``P`` satisfies ``P(g x) = psi_out(g) P(x) psi_in(g)^-1``
    exactly, for every reflection axis at once.

    A homogeneous ``P`` is ``r^n`` times its restriction to the unit circle, so the constraint on ``P`` is
    the kernel constraint on ``P(cos(phi - beta), sin(phi - beta))`` (the polynomial rotated to the
    axis beta), which :func:`basisgen.verify` decides exactly.
    """
    phi, beta = _symbol("phi"), _symbol("beta")
    P = element.polynomial(sp.cos(phi - beta), sp.sin(phi - beta))
    axis = beta if element.in_irrep.group.has_reflection else 0
    if axis == 0:
        P = P.subs(beta, 0)
    return verify(P, element.in_irrep, element.out_irrep, axis=axis, phi=phi)
