"""LaTeX typesetting of steerable PDO bases (basisgen/pdo_latex.py).

Known operators are checked as exact strings; every element of a range of bases is read back by a small
reader written here (``\\partial_x -> x``, ``\\Delta -> x^2 + y^2``, ``\\frac``, ``\\sqrt``, ``pmatrix``;
independent of the module) and compared symbolically with ``element.polynomial()``.
"""
import re

import pytest
import sympy as sp
from sympy.parsing.sympy_parser import implicit_multiplication_application, parse_expr, standard_transformations

import basisgen as bg
from basisgen.errors import InvalidTypeError
from basisgen.pdo import derive_pdo_basis
from basisgen.pdo_latex import pdo_basis_latex, pdo_element_latex, pdo_factors
from latex_reader import unfold_fractions

X, Y = sp.Symbol("x", real=True), sp.Symbol("y", real=True)
BETA = sp.Symbol("beta", real=True)
TRANSFORMS = standard_transformations + (implicit_multiplication_application,)


# ---- the reader (the second method) -------------------------------------------------------------------
def _scalar(text: str) -> sp.Expr:
    s = unfold_fractions(text.replace(r"\left(", "(").replace(r"\right)", ")"))
    s = s.replace(r"\cos", " cos").replace(r"\sin", " sin").replace(r"\beta", " beta ")
    s = s.replace(r"\partial_x", " x ").replace(r"\partial_y", " y ").replace(r"\Delta", " (x**2 + y**2) ")
    s = s.replace("^{", "**(").replace("{", "(").replace("}", ")")
    assert "\\" not in s, s
    return parse_expr(s, local_dict={"x": X, "y": Y, "beta": BETA}, transformations=TRANSFORMS)


def read_operator(text: str) -> sp.Matrix:
    """A typeset operator as a matrix of polynomials in x, y (the derivatives)."""
    match = re.fullmatch(r"(.*?)\s*\\begin\{pmatrix\} (.*) \\end\{pmatrix\}", text)
    if match is None:
        return sp.Matrix([[_scalar(text)]])
    factor = _scalar(match.group(1)) if match.group(1) else sp.Integer(1)
    rows = [[_scalar(c) for c in row.split(" & ")] for row in match.group(2).split(r" \\ ")]
    return factor * sp.Matrix(rows)


def _equal(a: sp.Matrix, b: sp.Matrix) -> bool:
    return a.shape == b.shape and sp.simplify(a - b) == sp.zeros(*a.shape)


def _basis(group, i, o, order, **kwargs):
    return derive_pdo_basis(group, group.irrep(*i), group.irrep(*o), maximum_order=order, **kwargs)


# ---- known operators ----------------------------------------------------------------------------------
def test_the_trivial_pair_of_c4_reads_as_the_laplacian_and_the_order_4_harmonics():
    G = bg.cyclic_group(4)
    assert [pdo_element_latex(e) for e in _basis(G, (0,), (0,), 6)] == [
        "1", r"\Delta", r"\Delta^{2}", r"\Delta^{3}",
        r"\partial_x^{4} - 6 \partial_x^{2} \partial_y^{2} + \partial_y^{4}",
        r"\Delta \left(\partial_x^{4} - 6 \partial_x^{2} \partial_y^{2} + \partial_y^{4}\right)",
        r"4 \left(\partial_x^{3} \partial_y - \partial_x \partial_y^{3}\right)",
        r"4 \Delta \left(\partial_x^{3} \partial_y - \partial_x \partial_y^{3}\right)"]


def test_a_single_term_keeps_its_coefficient_in_front_of_the_laplacian():
    G = bg.cyclic_group(2)
    texts = {(e.angular.mu, e.power, e.angular.gamma_float != 0): pdo_element_latex(e) for e in _basis(G, (0,), (0,), 4)}
    assert texts[(2, 0, True)] == r"2 \partial_x \partial_y"
    assert texts[(2, 1, True)] == r"2 \Delta \partial_x \partial_y"


def test_matrix_valued_operators_are_pmatrices_after_the_laplacian():
    G = bg.cyclic_group(8)
    texts = [pdo_element_latex(e) for e in _basis(G, (1,), (1,), 2)]
    assert texts[1] == r"\Delta \begin{pmatrix} 1 & 0 \\ 0 & 1 \end{pmatrix}"
    assert texts[2] == (r"\begin{pmatrix} \partial_x^{2} - \partial_y^{2} & 2 \partial_x \partial_y \\ "
                        r"2 \partial_x \partial_y & -\partial_x^{2} + \partial_y^{2} \end{pmatrix}")
    D = bg.dihedral_group(4)
    assert [pdo_element_latex(e) for e in _basis(D, (1, 1), (0, 0), 3)] == [
        r"\begin{pmatrix} \partial_x^{3} - 3 \partial_x \partial_y^{2} & -3 \partial_x^{2} \partial_y + \partial_y^{3} "
        r"\end{pmatrix}",
        r"\begin{pmatrix} \partial_x & \partial_y \end{pmatrix}",
        r"\Delta \begin{pmatrix} \partial_x & \partial_y \end{pmatrix}"]


def test_surds_of_a_turned_operator_are_exact():
    e = _basis(bg.cyclic_group(8), (0,), (1,), 1)[0]
    text = pdo_element_latex(e, angle=sp.pi / 4)
    assert text == (r"\begin{pmatrix} \frac{\sqrt{2}}{2} \partial_x + \frac{\sqrt{2}}{2} \partial_y \\ "
                    r"-\frac{\sqrt{2}}{2} \partial_x + \frac{\sqrt{2}}{2} \partial_y \end{pmatrix}")
    assert _equal(read_operator(text), e.polynomial(X, Y, angle=sp.pi / 4))


# ---- every element, read back ------------------------------------------------------------------------------
#: every group; the quick subset reads back C4, D4, the flip group and O(2)
CASES = ([(bg.cyclic_group(4), 5), (bg.dihedral_group(4), 4), (bg.flip_group(), 3), (bg.o2_group(2), 3)]
         + [pytest.param(G, k, marks=pytest.mark.slow) for G, k in
            [(bg.cyclic_group(N), 5) for N in (1, 2, 3, 8)] + [(bg.dihedral_group(N), 4) for N in (1, 3)]
            + [(bg.so2_group(2), 4)]])


@pytest.mark.parametrize("group, order", CASES, ids=lambda v: getattr(v, "name", str(v)))
def test_every_typeset_operator_reads_back_as_the_elements_polynomial(group, order):
    checked = 0
    for psi_in in group.irreps:
        for psi_out in group.irreps:
            try:
                basis = derive_pdo_basis(group, psi_in, psi_out, maximum_order=order)
            except ValueError:      # no PDO of this order for the pair
                continue
            for e in basis:
                P = e.polynomial(X, Y)
                assert _equal(read_operator(pdo_element_latex(e)), P), (psi_in, psi_out, e)
                p, H = pdo_factors(e)
                assert p == e.power and _equal((X ** 2 + Y ** 2) ** p * H, P)
                checked += 1
    assert checked > 0


def test_a_symbolic_axis_reads_back_too():
    G = bg.dihedral_group(3)
    for e in _basis(G, (1, 1), (1, 0), 3):
        assert _equal(read_operator(pdo_element_latex(e, angle=BETA)), e.polynomial(X, Y, angle=BETA))


# ---- the basis --------------------------------------------------------------------------------------------
def test_the_basis_lists_every_element_with_its_order_and_power():
    G = bg.cyclic_group(8)
    basis = _basis(G, (1,), (1,), 4)
    text = pdo_basis_latex(G, 1, 1, maximum_order=4)
    lines = text.splitlines()
    assert lines[0] == r"\begin{aligned}" and lines[-1] == r"\end{aligned}"
    assert r"\Delta = \partial_x^{2} + \partial_y^{2}" in lines[1]
    body = lines[2:-1]
    assert len(body) == len(basis)
    for i, (line, e) in enumerate(zip(body, basis), start=1):
        assert line.rstrip(" \\") == (rf"D_{{{i}}} &= {pdo_element_latex(e)}, \qquad \text{{order }} {e.order},\ "
                                      rf"\text{{power }} {e.power}")
    assert pdo_basis_latex(G, G.irrep(1), G.irrep(1), 4) == text      # irreps or their ids


def test_maximum_power_and_an_empty_basis():
    G = bg.cyclic_group(4)
    text = pdo_basis_latex(G, 0, 0, maximum_order=4, maximum_power=0)
    assert r"\Delta" not in text.replace(r"\Delta = ", "") and r"\text{power } 0" in text
    assert pdo_basis_latex(bg.dihedral_group(4), (0, 0), (1, 0), maximum_order=1) == "D = 0"


def test_the_standalone_document_is_complete_and_balanced():
    D = bg.dihedral_group(4)
    doc = pdo_basis_latex(D, (1, 1), (1, 1), maximum_order=3, standalone=True)
    assert doc.startswith(r"\documentclass{article}") and doc.rstrip().endswith(r"\end{document}")
    assert doc.count(r"\begin{aligned}") == doc.count(r"\end{aligned}") == 1
    assert r"\item[$\partial_x, \partial_y, \Delta$]" in doc and "counter-clockwise" in doc     # the legend
    assert doc.count(r"\begin{pmatrix}") == doc.count(r"\end{pmatrix}") == len(_basis(D, (1, 1), (1, 1), 3))
    assert doc.count("{") == doc.count(r"\{") + doc.count("}") - doc.count(r"\}")
    assert r"\beta = 0" in doc and "pdo\\_basis\\_latex(group\\_from\\_name('D4'), (1, 1), (1, 1)" in doc


def test_bad_arguments_are_refused_with_their_name():
    G = bg.cyclic_group(4)
    with pytest.raises(InvalidTypeError, match="element must be a PDOElement"):
        pdo_element_latex(G.irrep(0))
    with pytest.raises(ValueError, match="out_irrep"):
        pdo_basis_latex(G, 0, 7, maximum_order=2)
    with pytest.raises(ValueError, match="maximum_order"):
        pdo_basis_latex(G, 0, 0, maximum_order=-1)
    with pytest.raises(TypeError, match="standalone"):
        pdo_basis_latex(G, 0, 0, maximum_order=2, standalone="yes")
