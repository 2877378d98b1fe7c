r"""Typeset steerable PDO bases as LaTeX (docs/math.md, "Steerable PDOs"), for KaTeX and amsmath.

A basis PDO is the Laplacian power ``Delta^p`` times a harmonic polynomial ``H`` in the partial
derivatives (:class:`~basisgen.pdo.PDOElement`).  It is written as the operator it is: ``H`` in
``\partial_x`` and ``\partial_y`` (``\partial_x^{2} \partial_y``), the Laplacian factored out as
``\Delta`` / ``\Delta^{2}``, exact coefficients (sympy's LaTeX of rationals and surds), and a
``pmatrix`` for matrix-valued operators.  The text is built from the same coefficients that
:func:`pdo_factors` returns as sympy polynomials, so ``Delta^p H`` equals ``element.polynomial()``.
"""
from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

from ._lazy import lazy_import
from .errors import EmptyBasisError, InvalidTypeError
from .groups import Group
from .harmonics import _symbol
from .latex_document import latex_document, legend
from .latex import _check_group, _coefficient_term, _expr, _is_zero, _resolve_irrep, _signed
from .pdo import PDOElement, derive_pdo_basis, harmonic_polynomial

sp = lazy_import("sympy")

__all__ = ["pdo_factors", "pdo_element_latex", "pdo_basis_latex"]

_NOTATION = r"\partial_x = \frac{\partial}{\partial x},\ \partial_y = \frac{\partial}{\partial y},\ " \
            r"\Delta = \partial_x^{2} + \partial_y^{2}"


def _check_element(element: Any) -> PDOElement:
    if not isinstance(element, PDOElement):
        raise InvalidTypeError(f"element must be a PDOElement (from derive_pdo_basis), got {type(element).__name__}")
    return element


def _harmonic_coefficients(element: PDOElement, angle: Any) -> Tuple[Tuple[Tuple[Any, ...], ...], ...]:
    """The coefficients of the harmonic part ``H`` (the element's sign included), per matrix entry."""
    return tuple(tuple(tuple(element.sign * c for c in p) for p in row)
                 for row in harmonic_polynomial(element.angular, angle))


def pdo_factors(element: PDOElement, angle: Any = 0) -> Tuple[int, "sp.Matrix"]:
    """``(p, H)``: the Laplacian power and the harmonic part of a basis PDO, with
    ``element.polynomial(angle=angle) == (x^2 + y^2)^p H`` (``H`` a matrix of homogeneous polynomials in the
    real symbols x and y, read as the derivatives; ``angle`` as in :meth:`~basisgen.pdo.PDOElement.polynomial`).

    Examples
    --------
    >>> from basisgen import cyclic_group
    >>> from basisgen.pdo import derive_pdo_basis
    >>> G = cyclic_group(4)
    >>> [pdo_factors(e) for e in derive_pdo_basis(G, G.irrep(0), G.irrep(0), maximum_order=2)]
    [(0, Matrix([[1]])), (1, Matrix([[1]]))]
    """
    element = _check_element(element)
    x, y = _symbol("x"), _symbol("y")
    n = abs(element.angular.mu)
    H = sp.Matrix([[sum((c * x ** (n - j) * y ** j for j, c in enumerate(p)), sp.Integer(0)) for p in row]
                   for row in _harmonic_coefficients(element, angle)])
    return element.power, H


# ---- text -------------------------------------------------------------------------------------------
def _monomial(a: int, b: int) -> str:
    """``\\partial_x^{a} \\partial_y^{b}`` (exponent 1 omitted; ``""`` for the constant)."""
    return " ".join(rf"\partial_{v}" + (f"^{{{k}}}" if k > 1 else "") for v, k in (("x", a), ("y", b)) if k)


def _term(c: Any, body: str) -> str:
    """``c`` times ``body`` (``""``: the constant ``c``), with its sign in front."""
    c = _expr(c)
    if c.could_extract_minus_sign():
        return "-" + _term(-c, body)
    return _coefficient_term(c, body) if body else sp.latex(c)


def _sum(terms: Sequence[str]) -> str:
    return "".join(_signed(t, i == 0) for i, t in enumerate(terms))


def _entry(coefficients: Sequence[Any], factor: str) -> str:
    """One homogeneous polynomial ``x^n, x^(n-1) y, ..., y^n`` in the derivatives, times ``factor``."""
    n = len(coefficients) - 1
    terms = [(c, _monomial(n - j, j)) for j, c in enumerate(coefficients) if not _is_zero(c)]
    if not terms:
        return "0"
    if len(terms) == 1:
        c, body = terms[0]
        return _term(c, " ".join(x for x in (factor, body) if x))
    content = _content([c for c, _ in terms])
    text = _sum([_term(c / content, body) for c, body in terms])
    if content == 1:
        return rf"{factor} \left({text}\right)" if factor else text
    return _term(content, " ".join(x for x in (factor, rf"\left({text}\right)") if x))


def _content(coefficients: Sequence[Any]) -> Any:
    r"""The factor common to a polynomial's coefficients (their gcd, negative when all are), pulled out in front:
    ``4 \partial_x^{3} \partial_y - 4 \partial_x \partial_y^{3}`` prints as ``4 \left(...\right)``."""
    values = [_expr(c) for c in coefficients]
    if not all(v.is_rational for v in values):
        return sp.Integer(1)
    content = sp.gcd_list(values)
    return -content if all(v.could_extract_minus_sign() for v in values) else content


def _laplacian(p: int) -> str:
    return "" if p == 0 else r"\Delta" if p == 1 else rf"\Delta^{{{p}}}"


def pdo_element_latex(element: PDOElement, angle: Any = 0) -> str:
    r"""One basis PDO as LaTeX (math mode, no ``$``): ``\Delta^{p}`` times its harmonic part in ``\partial_x``,
    ``\partial_y``, equal to ``element.polynomial(angle=angle)`` read as ``P(\partial_x, \partial_y)``.

    A 1x1 operator is a plain expression (``\Delta`` alone when the harmonic part is 1); a matrix-valued one
    is ``\Delta^{p}`` (if ``p > 0``) before a ``pmatrix`` of its harmonic part.

    Examples
    --------
    >>> from basisgen import cyclic_group, dihedral_group
    >>> from basisgen.pdo import derive_pdo_basis
    >>> G = cyclic_group(4)
    >>> [pdo_element_latex(e) for e in derive_pdo_basis(G, G.irrep(0), G.irrep(0), maximum_order=4)]
    ['1', '\\Delta', '\\Delta^{2}', '\\partial_x^{4} - 6 \\partial_x^{2} \\partial_y^{2} + \\partial_y^{4}', '4 \\left(\\partial_x^{3} \\partial_y - \\partial_x \\partial_y^{3}\\right)']
    >>> D = dihedral_group(4)
    >>> pdo_element_latex(derive_pdo_basis(D, D.irrep(1, 1), D.irrep(0, 0), maximum_order=3)[2])
    '\\Delta \\begin{pmatrix} \\partial_x & \\partial_y \\end{pmatrix}'
    """
    element = _check_element(element)
    coefficients = _harmonic_coefficients(element, angle)
    factor = _laplacian(element.power)
    if element.shape == (1, 1):
        return _entry(coefficients[0][0], factor)
    rows = r" \\ ".join(" & ".join(_entry(c, "") for c in row) for row in coefficients)
    matrix = rf"\begin{{pmatrix}} {rows} \end{{pmatrix}}"
    return f"{factor} {matrix}" if factor else matrix


# ---- a whole basis ----------------------------------------------------------------------------------------
def _lines(elements: Sequence[PDOElement]) -> List[str]:
    return [rf"D_{{{i}}} &= {pdo_element_latex(e)}, \qquad \text{{order }} {e.order},\ \text{{power }} {e.power}"
            for i, e in enumerate(elements, start=1)]


def _call(group: Group, psi_in: Any, psi_out: Any, maximum_order: Any, maximum_power: Any, maximum_offset: Any
          ) -> str:
    """The call that reproduces a standalone document."""
    name = repr(group.name) + (f", maximum_frequency={group.maximum_frequency}" if group.continuous else "")
    bounds = (("maximum_power", maximum_power), ("maximum_offset", maximum_offset))
    args = [f"group_from_name({name})", repr(psi_in.id), repr(psi_out.id), f"maximum_order={maximum_order!r}"]
    args += [f"{k}={v!r}" for k, v in bounds if v is not None] + ["standalone=True"]
    return "basisgen.pdo_latex.pdo_basis_latex(" + ", ".join(args) + ")"


def pdo_basis_latex(group: Group, in_irrep: Any, out_irrep: Any, maximum_order: int,
                    maximum_power: Optional[int] = None, maximum_offset: Optional[int] = None,
                    standalone: bool = False) -> str:
    r"""The steerable PDO basis ``in_irrep -> out_irrep`` (:func:`~basisgen.pdo.derive_pdo_basis`) as LaTeX, one
    line per element ``D_{i}`` with its order and Laplacian power, in the basis's order.

    Irreps are :class:`~basisgen.irreps.Irrep` objects of ``group`` or their ids.  The result is an ``aligned``
    environment (math mode, no ``$``; ``D = 0`` when no PDO exists), or with ``standalone`` a complete
    document with a legend (:func:`~basisgen.latex_document.latex_document`) that pdflatex compiles.  For groups with reflections the
    reflection axis is the x axis.

    Examples
    --------
    >>> from basisgen import cyclic_group
    >>> print(pdo_basis_latex(cyclic_group(4), 0, 0, maximum_order=2))
    \begin{aligned}
    D &= \sum_{i} w_{i} D_{i}, \qquad \partial_x = \frac{\partial}{\partial x},\ \partial_y = \frac{\partial}{\partial y},\ \Delta = \partial_x^{2} + \partial_y^{2} \\
    D_{1} &= 1, \qquad \text{order } 0,\ \text{power } 0 \\
    D_{2} &= \Delta, \qquad \text{order } 2,\ \text{power } 1
    \end{aligned}
    """
    group = _check_group(group)
    psi_in = _resolve_irrep(group, in_irrep, "in_irrep")
    psi_out = _resolve_irrep(group, out_irrep, "out_irrep")
    if not isinstance(standalone, bool):
        raise InvalidTypeError(f"standalone must be a bool, got {standalone!r}")
    try:
        elements = derive_pdo_basis(group, psi_in, psi_out, maximum_order, maximum_power, maximum_offset)
    except EmptyBasisError:
        elements = ()
    head = r"D &= \sum_{i} w_{i} D_{i}, \qquad " + _NOTATION
    if group.has_reflection:
        head += r",\ \text{reflection axis } \beta = 0"
    lines = [head] + _lines(elements) if elements else [r"D &= 0"]
    if not standalone:
        if not elements:
            return "D = 0"
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"
    title = f"Steerable PDO basis of {group.name}: {psi_in.name} to {psi_out.name}"
    command = _call(group, psi_in, psi_out, maximum_order, maximum_power, maximum_offset)
    display = "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"
    return latex_document(title, command, [display], legend(group, diffop=True))
