"""LaTeX typesetting of kernel bases (basisgen/latex.py).

The formulas are read back with tests/helpers/latex_reader.py (independent of the module), the integers
m, n, N, t are substituted, and the result is compared with the element's exact matrix.  Every formula
also passes a structural check (braces, environments, \\left/\\right, a command allowlist) and, where
node and the katex npm package are already installed, KaTeX itself; the standalone document is
compiled where pdflatex is on PATH.  Nothing here touches the network.

To enable the KaTeX part:  npm install --prefix ~/.cache/e2layers-test-katex katex
(or point E2LAYERS_KATEX_DIR at a katex package directory).
"""
import json
import os
import random
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import basisgen as bg
from basisgen.derivation import _derive
from basisgen.harmonics import BETA, PHI, HarmonicElement
from basisgen.latex import element_latex, group_table_latex, pair_latex, table_lines
from paths import HELPERS

from latex_reader import NN, M, N_, T_, parse_formula

# (group, maximum_frequency, maximum_offset): every family, N even and odd, several bands
CONFIGS = ([(bg.trivial_group(), F, None) for F in (0, 3)]
           + [(bg.cyclic_group(N), F, None) for N in (2, 3, 4, 5, 6, 8) for F in (0, 2, 5, 9)]
           + [(bg.dihedral_group(N), F, None) for N in (1, 2, 3, 4, 5, 6, 8) for F in (0, 2, 5, 9)]
           + [(bg.flip_group(), F, None) for F in (0, 3, 5)]
           + [(bg.so2_group(3), None, None), (bg.o2_group(3), None, None)]
           + [(bg.cyclic_group(4), None, 1), (bg.dihedral_group(3), 7, 1), (bg.cyclic_group(6), 8, 0)])


def _pairs(group):
    return [(i, o) for i in group.irreps for o in group.irreps]


@lru_cache(maxsize=None)
def all_elements():
    out = []
    for group, F, T in CONFIGS:
        for psi_in, psi_out in _pairs(group):
            out += list(_derive(group, psi_in, psi_out, F, T))
    return out


def _values(e: HarmonicElement) -> dict:
    return {M: e.out_irrep.frequency, N_: e.in_irrep.frequency, NN: e.out_irrep.group.rotation_order or 0,
            T_: e.t}


def exact_matrix(e: HarmonicElement) -> sp.Matrix:
    """The element's exact matrix, with a free reflection axis beta where the group has reflections."""
    return e.matrix(PHI, BETA) if e.out_irrep.group.has_reflection else e.matrix(PHI)


def _numeric(matrix: sp.Matrix, points) -> np.ndarray:
    f = sp.lambdify((PHI, BETA), matrix, "numpy")
    return np.array([np.array(f(p, b), dtype=float) for p, b in points])


POINTS = [(0.37, 1.1), (-2.3, 0.2), (1.9, -0.7), (3.0, 2.5)]


def assert_equal_matrices(parsed: sp.Matrix, exact: sp.Matrix, exact_check: bool):
    assert parsed.shape == exact.shape
    np.testing.assert_allclose(_numeric(parsed, POINTS), _numeric(exact, POINTS), atol=1e-12)
    if exact_check:
        assert sp.simplify(sp.expand(parsed - exact)) == sp.zeros(*exact.shape)


# ---- the parser itself can fail ----------------------------------------------------------------------
def test_reader_rejects_wrong_formulas():
    G = bg.cyclic_group(8)
    e = _derive(G, G.irrep(1), G.irrep(2), 5, None)[2]   # mu = 3, s = 1
    good = parse_formula(element_latex(e, symbolic=True)).subs(_values(e))
    assert_equal_matrices(good, exact_matrix(e), True)
    wrong = parse_formula(element_latex(e, symbolic=True).replace("m + n", "m - n")).subs(_values(e))
    with pytest.raises(AssertionError):
        assert_equal_matrices(wrong, exact_matrix(e), False)
    with pytest.raises(AssertionError):
        parse_formula(r"\cos(3\theta)")


# ---- equality with the exact matrices ----------------------------------------------------------------
def test_random_elements_equal_their_matrices():
    elements = all_elements()
    assert len(elements) > 1000
    sample = random.Random(20190911).sample(elements, 160)
    for k, e in enumerate(sample):
        exact = exact_matrix(e)
        symbolic = element_latex(e, symbolic=True)
        concrete = element_latex(e, symbolic=False)
        # the symbolic form names no frequency: only m, n, N, t carry numbers (SO(2)/O(2)'s 1x1 are constants)
        assert not re.search(r"\d", symbolic) or e.out_irrep.group.continuous, symbolic
        assert_equal_matrices(parse_formula(symbolic).subs(_values(e)), exact, exact_check=k % 4 == 0)
        assert_equal_matrices(parse_formula(concrete), exact, exact_check=k % 4 == 1)


def test_every_group_family_is_covered_and_equal():
    # at least one element of every group family in the configs, exactly
    by_group = {}
    for e in all_elements():
        by_group.setdefault(e.out_irrep.group.name, e)
    assert set(by_group) >= {"C1", "C4", "C5", "D1", "D4", "D5", "Flip", "SO(2)", "O(2)"}
    for e in by_group.values():
        assert_equal_matrices(parse_formula(element_latex(e, True)).subs(_values(e)), exact_matrix(e), True)


def test_beta_only_with_reflections_and_any_axis():
    for e in all_elements()[::7]:
        reflection = e.out_irrep.group.has_reflection
        constant_symbolic = e.out_irrep.group.continuous and e.shape == (1, 1)
        assert (r"\beta" in element_latex(e, symbolic=True)) == (reflection and not constant_symbolic)
        assert (r"\beta" in element_latex(e)) == (reflection and e.mu != 0)
    G = bg.dihedral_group(3)
    for e in _derive(G, G.irrep(1, 1), G.irrep(1, 1), 5, None):
        moved = e.with_axis(sp.pi / 2)
        parsed = parse_formula(element_latex(moved, True)).subs(_values(moved)).subs(BETA, sp.pi / 2)
        assert_equal_matrices(parsed, moved.matrix(), True)


def test_coefficients_outside_the_template_are_written_out():
    # elements the engine never makes (scaled, mixed cos/sin) still typeset to their exact matrix
    G = bg.cyclic_group(4)
    psi = G.irrep(0)
    mixed = HarmonicElement(4, 0, sp.Integer(0), 1, ((sp.Rational(1, 2),),), ((sp.sqrt(3) / 2,),), psi, psi)
    assert element_latex(mixed, symbolic=False) == r"\frac{1}{2} \cos(4\phi) + \frac{\sqrt{3}}{2} \sin(4\phi)"
    constant = HarmonicElement(0, 0, sp.Integer(0), 0, ((sp.Integer(2),),), ((sp.Integer(0),),), psi, psi)
    assert element_latex(constant, symbolic=False) == "2"
    column = HarmonicElement(5, 0, sp.pi / 2, 1, ((1,), (1 + sp.sqrt(2),)), ((0,), (-1,)), psi, G.irrep(1))
    for e in (mixed, constant, column):
        assert_equal_matrices(parse_formula(element_latex(e, True)).subs(_values(e)), exact_matrix(e), True)
        assert_equal_matrices(parse_formula(element_latex(e)), exact_matrix(e), True)


def test_irregular_offset_sets_are_listed():
    from basisgen.latex import _index_set
    G = bg.cyclic_group(4)
    members = [e for e in _derive(G, G.irrep(1), G.irrep(1), 9, None) if e.s == 0 and e.gamma == 0]
    assert [e.t for e in members] == [-2, -1, 0, 1, 2]
    assert _index_set(members, 9, None) == r"t \in \mathbb{Z},\ |m - n + tN| \le F"
    assert _index_set(members[:2] + members[3:], 9, None) == r"t \in \{-2, -1, 1, 2\}"


# ---- the simplest form: symbolically equal, no phase, no negated argument -------------------------------
def _exactly_zero(matrix: sp.Matrix) -> bool:
    """Exact: every entry is a sum of c exp(i k phi') terms after rewriting, which cancel iff it is zero."""
    return all(sp.expand(sp.expand(x).rewrite(sp.exp)) == 0 for x in matrix)


def _slow_above_4(group, F):
    """The quick subset: N = 1 (trivial, flip), 4 (C4, D4) and SO(2), O(2); the rest in the full suite."""
    marks = [] if group.rotation_order in (None, 1, 4) else [pytest.mark.slow]
    return pytest.param(group, F, marks=marks, id=group.name)


SIMPLEST_GROUPS = ([(bg.trivial_group(), 4), (bg.flip_group(), 4)]
                   + [(bg.cyclic_group(N), 2 * N) for N in (2, 3, 4, 5, 6, 8)]
                   + [(bg.dihedral_group(N), 2 * N) for N in (1, 2, 3, 4, 5, 6, 8)]
                   + [(bg.so2_group(4), None), (bg.o2_group(4), None)])
SIMPLEST_GROUPS = [_slow_above_4(group, F) for group, F in SIMPLEST_GROUPS]


@pytest.mark.parametrize("group, F", SIMPLEST_GROUPS)
def test_printed_forms_are_simplest_and_symbolically_equal(group, F):
    """Every element of every pair up to the band limit F = 2N: the normal form that is printed equals the derived
    element as a sympy expression (exactly), the LaTeX read back equals the normal form, and the text has no
    phase inside a cosine or sine and no negated argument."""
    from basisgen.latex import latex_symbols, normal_form
    symbols = latex_symbols()
    count = 0
    for psi_in, psi_out in _pairs(group):
        for e in _derive(group, psi_in, psi_out, F, None):
            exact = exact_matrix(e)
            for symbolic in (False, True):
                form = normal_form(e, symbolic)
                text = form.latex()
                assert text == element_latex(e, symbolic)
                values = {symbols[k]: v for k, v in zip("mnNt", (e.out_irrep.frequency, e.in_irrep.frequency,
                                                                  group.rotation_order or 0, e.t))}
                assert _exactly_zero(form.matrix().subs(values) - exact), (e, text)
                assert r"\pi" not in text, text
                assert not re.search(r"\\(cos|sin)\(-", text), text
                assert "+ -" not in text and "- -" not in text, text
                read = parse_formula(text).subs(_values(e)) if symbolic else parse_formula(text)
                assert_equal_matrices(read, exact, exact_check=False)
                count += 1
    assert count >= 2 * len(group.irreps) ** 2 or group.continuous


def test_the_check_of_the_simplest_form_can_fail():
    G = bg.cyclic_group(4)
    e = _derive(G, G.irrep(1), G.irrep(1), 5, None)[0]
    assert _exactly_zero(exact_matrix(e) - exact_matrix(e))
    assert not _exactly_zero(exact_matrix(e) - exact_matrix(_derive(G, G.irrep(1), G.irrep(1), 5, None)[1]))


def test_a_common_factor_is_pulled_out():
    from basisgen.latex import normal_form
    G = bg.cyclic_group(4)
    psi0, psi1 = G.irrep(0), G.irrep(1)
    half = sp.sqrt(2) / 2
    column = HarmonicElement(1, 0, sp.Integer(0), 0, ((half,), (0,)), ((0,), (half,)), psi0, psi1)
    assert element_latex(column) == r"\frac{\sqrt{2}}{2} \begin{bmatrix} \cos(\phi) \\ \sin(\phi) \end{bmatrix}"
    mixed = HarmonicElement(-2, 0, sp.Integer(0), 0, ((0,), (-1,)), ((-1,), (0,)), psi0, psi1)
    assert element_latex(mixed) == r"\begin{bmatrix} \sin(2\phi) \\ -\cos(2\phi) \end{bmatrix}"   # parity: no factor
    negative = HarmonicElement(2, 0, sp.Integer(0), 0, ((-1,), (0,)), ((0,), (-1,)), psi0, psi1)
    assert element_latex(negative) == r"-\begin{bmatrix} \cos(2\phi) \\ \sin(2\phi) \end{bmatrix}"
    assert normal_form(negative).factor == -1
    for e in (column, mixed, negative):
        assert _exactly_zero(normal_form(e).matrix() - exact_matrix(e))


# ---- hand-computed expectations (docs/math.md, "The angular elements") -------------------------------------
def _rhs(formulas):
    return [f.split(" = ", 1)[1].split(r", \qquad")[0] for f in formulas]


def test_c4_psi1_psi1_concrete():
    # (mu, s, gamma) = (-4,0,0) (0,0,0) (4,0,0) (-2,1,0) (2,1,0), then the same with gamma = pi/2
    G = bg.cyclic_group(4)
    got = _rhs(pair_latex(G, 1, 1, maximum_frequency=5))
    assert len(got) == 10
    assert got[1] == r"\begin{bmatrix} 1 & 0 \\ 0 & 1 \end{bmatrix}"
    assert got[6] == r"\begin{bmatrix} 0 & -1 \\ 1 & 0 \end{bmatrix}"
    # R(-4 phi) = [[cos 4phi, sin 4phi], [-sin 4phi, cos 4phi]]
    assert got[0] == r"\begin{bmatrix} \cos(4\phi) & \sin(4\phi) \\ -\sin(4\phi) & \cos(4\phi) \end{bmatrix}"
    # R(-2 phi) X = [[cos 2phi, -sin 2phi], [-sin 2phi, -cos 2phi]]
    assert got[3] == r"\begin{bmatrix} \cos(2\phi) & -\sin(2\phi) \\ -\sin(2\phi) & -\cos(2\phi) \end{bmatrix}"
    # R(4 phi + pi/2) = [[-sin 4phi, -cos 4phi], [cos 4phi, -sin 4phi]]
    assert got[7] == r"\begin{bmatrix} -\sin(4\phi) & -\cos(4\phi) \\ \cos(4\phi) & -\sin(4\phi) \end{bmatrix}"


def test_d4_columns_concrete():
    G = bg.dihedral_group(4)
    assert _rhs(pair_latex(G, (0, 0), (1, 1), 3)) == [
        r"\begin{bmatrix} \cos(3(\phi - \beta)) \\ -\sin(3(\phi - \beta)) \end{bmatrix}",
        r"\begin{bmatrix} \cos(\phi - \beta) \\ \sin(\phi - \beta) \end{bmatrix}"]
    # [cos(-(phi - beta) + pi/2); sin(-(phi - beta) + pi/2)] = [sin(phi - beta); cos(phi - beta)]
    assert _rhs(pair_latex(G, (1, 2), (1, 1), 3)) == [
        r"\begin{bmatrix} \sin(\phi - \beta) \\ \cos(\phi - \beta) \end{bmatrix}",
        r"\begin{bmatrix} -\sin(3(\phi - \beta)) \\ \cos(3(\phi - \beta)) \end{bmatrix}"]


def test_trivial_group_is_the_fourier_basis():
    G = bg.trivial_group()
    assert _rhs(pair_latex(G, 0, 0, 2)) == ["1", r"\cos(\phi)", r"\cos(2\phi)", r"-\sin(\phi)", r"-\sin(2\phi)"]
    assert set(_rhs(pair_latex(G, 0, 0, 2, symbolic=True))) == {r"\cos(t\phi)", r"-\sin(t\phi)"}


def test_symbolic_forms():
    G = bg.cyclic_group(8)
    formulas = _rhs(pair_latex(G, 1, 2, 5, symbolic=True))
    assert [f.count("(m - n + tN)") > 0 for f in formulas] == [True, False, False, True, False, False]
    assert [f.count("(m + n + tN)") > 0 for f in formulas] == [False, True, True, False, True, True]
    assert [t.split("t = ")[1] for t in pair_latex(G, 1, 2, 5, symbolic=True)] == ["0", "-1", "0", "0", "-1", "0"]
    S = bg.so2_group(3)
    forms = _rhs(pair_latex(S, 1, 2, symbolic=True))
    assert len(forms) == 4 and "tN" not in "".join(forms) and r"\beta" not in "".join(forms)
    assert ["(m - n)" in f for f in forms] == [True, False, True, False]
    O = bg.o2_group(3)
    assert _rhs(pair_latex(O, (0, 0), (1, 2), symbolic=True)) == [
        r"\begin{bmatrix} \cos((m + n)(\phi - \beta)) \\ \sin((m + n)(\phi - \beta)) \end{bmatrix}"]
    assert pair_latex(O, (0, 0), (1, 0)) == []
    assert _rhs(pair_latex(O, (1, 0), (1, 0), symbolic=True)) == ["1"]   # mu = m - n = 0 between 1-D irreps
    assert _rhs(pair_latex(bg.flip_group(), 0, 1, 2, symbolic=True)) == [r"-\sin(t(\phi - \beta))"] * 2


def test_names_irreps_gives_values():
    """Naming the irreps gives their values (SO(2), psi_1 -> psi_2: frequencies 1 and 3, no phase)."""
    assert _rhs(pair_latex(bg.so2_group(3), 1, 2)) == [
        r"\begin{bmatrix} \cos(\phi) & -\sin(\phi) \\ \sin(\phi) & \cos(\phi) \end{bmatrix}",
        r"\begin{bmatrix} \cos(3\phi) & \sin(3\phi) \\ \sin(3\phi) & -\cos(3\phi) \end{bmatrix}",
        r"\begin{bmatrix} -\sin(\phi) & -\cos(\phi) \\ \cos(\phi) & -\sin(\phi) \end{bmatrix}",
        r"\begin{bmatrix} -\sin(3\phi) & \cos(3\phi) \\ \cos(3\phi) & \sin(3\phi) \end{bmatrix}"]


def test_counts_match_math_md():
    C4 = bg.cyclic_group(4)
    counts = [[len(pair_latex(C4, i, o, 2)) for i in C4.irreps] for o in C4.irreps]
    assert counts == [[1, 2, 2], [2, 6, 2], [2, 2, 1]]
    D4 = bg.dihedral_group(4)
    counts = [[len(pair_latex(D4, i, o, 2)) for i in D4.irreps] for o in D4.irreps]
    assert counts == [[1, 0, 1, 1, 1], [0, 1, 1, 1, 1], [1, 1, 3, 1, 1], [1, 1, 1, 1, 0], [1, 1, 1, 0, 1]]


# ---- tables -----------------------------------------------------------------------------------------
def _index_set_values(condition: str, values: dict) -> list:
    """The offsets t that a printed condition (``t \\in \\mathbb{Z},\\ |m - n + tN| \\le F``) admits."""
    assert condition.startswith(r"t \in ")
    rest = condition[len(r"t \in "):]
    if rest.startswith(r"\{"):
        return [int(x) for x in rest[2:-2].split(",")]
    assert rest.startswith(r"\mathbb{Z}")
    tests = []
    for c in rest[len(r"\mathbb{Z}"):].split(r",\ ")[1:]:
        py = c.replace(r"\hat{T}", "T").replace(r"\le", "<=").replace(r"\ge", ">=").replace("tN", "t*N")
        py = re.sub(r"\|([^|]*)\|", r"abs(\1)", py)
        assert re.fullmatch(r"[-+*<=>() 0-9mnNtFTabs]*", py), py
        tests.append(py)
    return [t for t in range(-60, 61) if all(eval(c, {"abs": abs}, dict(values, t=t)) for c in tests)]


def _top_cells(row: str) -> list:
    """The cells of an array row: split at the ``&`` outside every inner environment."""
    cells, depth, start = [], 0, 0
    for match in re.finditer(r"\\begin\{|\\end\{|&", row):
        if match.group() == "&":
            if depth == 0:
                cells.append(row[start:match.start()].strip())
                start = match.end()
        else:
            depth += 1 if "begin" in match.group() else -1
    return cells + [row[start:].strip()]


def _table_blocks(table: str) -> list:
    """``[(input label, output label, [(formula, condition)])]`` of a table array."""
    blocks = []
    for row in table.split("\n")[5:-2]:
        cells = _top_cells(row.rstrip(" \\"))
        if cells[0]:
            blocks.append((cells[0], cells[1], []))
        blocks[-1][2].append(tuple(cells[2:]))
    return blocks


@pytest.mark.parametrize("group, F", [(bg.cyclic_group(4), 3), (bg.cyclic_group(8), 8), (bg.dihedral_group(4), 3),
                                      (bg.dihedral_group(5), 6), (bg.so2_group(2), None), (bg.o2_group(2), None),
                                      (bg.flip_group(), 3), (bg.cyclic_group(2), 2)], ids=str)
def test_symbolic_tables_have_one_block_per_kind_that_expands_to_every_pair(group, F):
    """The symbolic table has one block per kind of pair (2-D irreps as psi_n, psi_m; each 1-D irrep its own);
    substituting each pair's m, n, N and expanding the conditions gives exactly that pair's elements."""
    from basisgen.latex import _kind
    blocks = _table_blocks(group_table_latex(group, F))
    kinds = {(_kind(group, i)[0], _kind(group, o)[0]) for i, o in _pairs(group)}
    assert len(blocks) == len(kinds)
    by_label = {(b[0], b[1]): b[2] for b in blocks}
    N = group.rotation_order
    for psi_in, psi_out in _pairs(group):
        rows = by_label[(_kind(group, psi_in)[1]["n"], _kind(group, psi_out)[1]["m"])]
        values = {"m": psi_out.frequency, "n": psi_in.frequency, "N": N or 0, "F": F, "T": None}
        built = []
        for cells in rows:
            if cells[0] == "0":
                continue
            ts = _index_set_values(cells[1], values) if N is not None else [0]
            parsed = parse_formula(cells[0]).subs({M: values["m"], N_: values["n"], NN: values["N"]})
            built += [_numeric(parsed.subs(T_, t), POINTS) for t in ts]
        want = [_numeric(exact_matrix(e), POINTS) for e in _derive(group, psi_in, psi_out, F, None)]
        key = lambda a: tuple(np.round(a.ravel(), 8))
        assert sorted(map(key, built)) == sorted(map(key, want)), (psi_in, psi_out)


@pytest.mark.parametrize("group, F", [(bg.cyclic_group(4), 3), (bg.dihedral_group(4), 3),
                                      (bg.so2_group(2), None), (bg.o2_group(2), None)], ids=str)
def test_concrete_tables_list_every_pair(group, F):
    table = group_table_latex(group, F, symbolic=False)
    assert table.startswith(r"\begin{array}{l}") and table.endswith(r"\end{array}")
    rows = table.split("\n")[5:-2]
    labels = [tuple(c.strip() for c in r.split(" & ")[:2]) for r in rows if not r.startswith(" & ")]
    names = [(r"\psi_{%s}\ (n = %d)" % (",".join(map(str, i.id)), i.frequency),
              r"\psi_{%s}\ (m = %d)" % (",".join(map(str, o.id)), o.frequency)) for i, o in _pairs(group)]
    assert labels == names
    for psi_in, psi_out in _pairs(group):
        for f in _rhs(pair_latex(group, psi_in, psi_out, F)):
            assert f in table
    total = sum(max(1, len(_derive(group, i, o, F, None))) for i, o in _pairs(group))
    assert len(rows) == total


def test_table_lines_are_the_table():
    G = bg.dihedral_group(4)
    lines = table_lines(G, 3)
    blocks = _table_blocks(group_table_latex(G, 3))
    assert len(lines) == sum(len(rows) for _, _, rows in blocks)
    for line in lines:
        assert re.match(r"\\psi_\{[^}]*\}.* \\to \\psi_\{[^}]*\}.*:\\quad A\(\\phi\) = ", line), line


def test_table_default_band_and_continuous_irreps():
    assert r"F = 4" in group_table_latex(bg.cyclic_group(4)).split("\n")[1]
    concrete = group_table_latex(bg.so2_group(2), symbolic=False)
    assert concrete.count(r"\psi_{2}\ (n = 2)") == 3   # pairs psi_2 -> psi_0,1,2
    assert r"\psi_{3}" not in concrete
    assert r"\psi_{n}\ (n > 0) & \psi_{m}\ (m > 0)" in group_table_latex(bg.so2_group(2))


def test_standalone_document(tmp_path):
    doc = group_table_latex(bg.dihedral_group(4), 3, standalone=True)
    assert doc.startswith("\\documentclass{article}\n")
    assert "\\usepackage{amsmath,amssymb}" in doc
    assert doc.count("\\begin{document}") == 1 and doc.rstrip().endswith("\\end{document}")
    assert not structural_problems(doc, commands=ALLOWED | DOCUMENT_COMMANDS,
                                   environments=ENVIRONMENTS | {"document", "description"}, document=True)
    for display in _displays(doc):
        assert not structural_problems(display)
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not on PATH: the document was checked structurally only")
    (tmp_path / "table.tex").write_text(doc)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "table.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
    assert (tmp_path / "table.pdf").exists()


def test_standalone_document_names_the_command_that_made_it():
    for group, kwargs in ((bg.dihedral_group(4), dict(maximum_frequency=3)), (bg.so2_group(2), dict(symbolic=False)),
                          (bg.cyclic_group(6), dict(maximum_frequency=5, maximum_offset=0))):
        doc = group_table_latex(group, standalone=True, **kwargs)
        call = re.search(r"\\texttt\{(.*)\}\.", doc).group(1).replace("\\_", "_")
        assert call.startswith("basisgen.latex.group_table_latex(group_from_name(")
        namespace = {"basisgen": __import__("basisgen.latex"), "group_from_name": bg.group_from_name}
        assert eval(call, namespace) == doc


def _displays(doc: str) -> list:
    return re.findall(r"\\\[\n(.*?)\n\\\]", doc, flags=re.S)


# ---- structural check (always runs) ------------------------------------------------------------------
ALLOWED = {"cos", "sin", "phi", "beta", "frac", "pi", "begin", "end", "left", "right", "exp", "sum", "kappa",
           "sigma", "mathbb", "in", "le", "ge", "hat", "hline", "dots", "quad", "qquad", "text", "sqrt", "mu",
           "psi", "to"}
#: the text of a standalone document around the displays: its legend is in text mode with $...$ formulas
DOCUMENT_COMMANDS = {"documentclass", "usepackage", "section", "texttt", "footnotesize", "item", "emph", "mathrm",
                     "mapsto", "times", "partial", "Delta"}
CONTROL_SYMBOLS = {"\\\\", "\\,", "\\ ", "\\{", "\\}", "\\;", "\\!", "\\_", "\\[", "\\]"}
ENVIRONMENTS = {"bmatrix", "aligned", "array"}


def structural_problems(tex: str, commands=ALLOWED, environments=ENVIRONMENTS, document=False) -> list:
    problems, stack = [], []
    if document and tex.count("$") % 2:
        problems.append("an odd number of $")
    if "$" in tex and not document:
        problems.append("contains $")
    tokens = list(re.finditer(r"\\[a-zA-Z]+\*?|\\.|[{}&]", tex, flags=re.S))
    for k, tok in enumerate(tokens):
        t = tok.group()
        name_follows = tex[tok.end():]
        if t == "{":
            stack.append(("{", None))
        elif t == "}":
            if not stack or stack[-1][0] != "{":
                problems.append(f"unbalanced '}}' at {tok.start()}")
            else:
                stack.pop()
        elif t in ("\\begin", "\\end"):
            m = re.match(r"\{([a-zA-Z*]+)\}", name_follows)
            if not m:
                problems.append(f"{t} without an environment name at {tok.start()}")
                continue
            env = m.group(1)
            if env not in environments:
                problems.append(f"environment {env!r} not allowed")
            if t == "\\begin":
                stack.append(("env", env))
                if env == "array" and not re.match(r"\{array\}\{[lcr|]+\}", name_follows):
                    problems.append("array without a column specification")
            elif not stack or stack[-1] != ("env", env):
                problems.append(f"\\end{{{env}}} does not match {stack[-1] if stack else 'nothing'}")
            else:
                stack.pop()
        elif t == "\\left":
            stack.append(("left", None))
        elif t == "\\right":
            if not stack or stack[-1][0] != "left":
                problems.append(f"\\right without \\left at {tok.start()}")
            else:
                stack.pop()
        elif t == "&":
            if not any(frame[0] == "env" for frame in stack):
                problems.append(f"& outside an environment at {tok.start()}")
        elif t.startswith("\\") and len(t) == 2 and not t[1].isalpha():
            if t not in CONTROL_SYMBOLS:
                problems.append(f"control symbol {t!r} not allowed")
        elif t.lstrip("\\").rstrip("*") not in commands:
            problems.append(f"command {t} not in the allowlist")
    # the braces that name environments were pushed and popped like any group; what is left is unclosed
    problems += [f"unclosed {frame}" for frame in stack]
    return problems


@pytest.mark.parametrize("bad", [r"\cos{(\phi", r"\frac{\pi}{2", r"\begin{bmatrix} 1 \end{aligned}",
                                 r"\left( x", r"x \right)", r"\foo{x}", r"$\phi$", r"\begin{pmatrix} 1 \end{pmatrix}",
                                 r"a & b", r"\frac{\pi}}{2}"])
def test_structural_check_catches_broken_latex(bad):
    assert structural_problems(bad)


@lru_cache(maxsize=None)
def corpus() -> tuple:
    groups = [(bg.trivial_group(), 3), (bg.flip_group(), 3), (bg.cyclic_group(2), 4), (bg.cyclic_group(3), 5),
              (bg.cyclic_group(4), 5), (bg.cyclic_group(5), 6), (bg.cyclic_group(8), 5), (bg.dihedral_group(1), 3),
              (bg.dihedral_group(2), 4), (bg.dihedral_group(3), 5), (bg.dihedral_group(4), 5),
              (bg.dihedral_group(5), 6), (bg.so2_group(3), None), (bg.o2_group(3), None)]
    out = []
    for group, F in groups:
        for symbolic in (True, False):
            out.append(group_table_latex(group, F, symbolic=symbolic))
            out += _displays(group_table_latex(group, F, standalone=True, symbolic=symbolic))
            for psi_in, psi_out in _pairs(group):
                out += pair_latex(group, psi_in, psi_out, F, symbolic=symbolic)
            out += table_lines(group, F, symbolic=symbolic)
    out += [element_latex(e, s) for e in all_elements()[::11] for s in (True, False)]
    return tuple(out)


def test_every_formula_is_structurally_valid():
    formulas = corpus()
    assert len(formulas) > 1000
    bad = [(f, p) for f in formulas for p in [structural_problems(f)] if p]
    assert not bad, bad[:3]


# ---- KaTeX (only when already installed; never installs anything) ----------------------------------------
def _katex_dir():
    candidates = [os.environ.get("E2LAYERS_KATEX_DIR"),
                  str(Path.home() / ".cache" / "e2layers-test-katex" / "node_modules" / "katex")]
    return next((c for c in candidates if c and (Path(c) / "package.json").exists()), None)


def render_with_katex(formulas) -> list:
    node, katex = shutil.which("node"), _katex_dir()
    if node is None or katex is None:
        pytest.skip("node or the katex package is not installed "
                    "(npm install --prefix ~/.cache/e2layers-test-katex katex)")
    script = HELPERS / "katex_render.js"
    run = subprocess.run([node, str(script), katex], input=json.dumps(list(formulas)), capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.slow     # node + KaTeX over the whole corpus: the full suite
def test_katex_renders_every_formula():
    formulas = list(corpus())
    controls = [r"\begin{bmatrix} 1 \end{aligned}", r"\cos(\phi) \notacommand"]
    errors = render_with_katex(formulas + controls)
    assert all(e is not None for e in errors[-2:]), "KaTeX accepted broken LaTeX: the check cannot fail"
    failures = [(f, e) for f, e in zip(formulas, errors) if e is not None]
    assert not failures, failures[:3]


# ---- bad input ---------------------------------------------------------------------------------------
def test_bad_input_raises_value_error():
    C4, C8 = bg.cyclic_group(4), bg.cyclic_group(8)
    with pytest.raises(ValueError, match="in_irrep"):
        pair_latex(C4, C8.irrep(1), C4.irrep(1))
    with pytest.raises(ValueError, match="out_irrep"):
        pair_latex(C4, 0, C8.irrep(3))
    with pytest.raises(ValueError, match="in_irrep"):
        pair_latex(C4, 7, 0)
    for F in (-1, "3", True, 2.5):
        with pytest.raises(ValueError, match="maximum_frequency"):
            pair_latex(C4, 1, 1, maximum_frequency=F)
    with pytest.raises(ValueError, match="maximum_offset"):
        pair_latex(C4, 1, 1, 3, maximum_offset=-2)
    with pytest.raises(TypeError, match="element"):
        element_latex("cos(phi)")
    with pytest.raises(ValueError, match="group"):
        group_table_latex("C4")
    with pytest.raises(ValueError, match="standalone"):
        group_table_latex(C4, standalone="yes")
    e = _derive(C4, C4.irrep(1), C4.irrep(1), 5, None)[0]
    forged = HarmonicElement(e.mu, e.s, e.gamma, e.t + 1, e.cos_coefficients, e.sin_coefficients, e.in_irrep,
                             e.out_irrep)
    with pytest.raises(ValueError, match="mu_0"):
        element_latex(forged, symbolic=True)
    assert element_latex(forged, symbolic=False) == element_latex(e, symbolic=False)
