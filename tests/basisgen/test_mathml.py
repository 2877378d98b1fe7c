"""basisgen.mathml: LaTeX of our printers -> MathML Core.

The structure of the output is checked by parsing it (xml.etree) and comparing element trees; the printers'
formulas are taken from the printers themselves (basisgen.latex, basisgen.pdo_latex), never written here, so
the tests follow any change of their notation.
"""
import re
import xml.etree.ElementTree as ET

import pytest

import basisgen as bg
from basisgen.errors import InvalidTypeError, InvalidValueError
from basisgen.latex import group_table_latex, pair_latex, table_lines
from basisgen.layer_latex import kernel_latex
from basisgen.mathml import MATHML_NAMESPACE, latex_to_mathml
from basisgen.pdo_latex import pdo_basis_latex

NS = "{" + MATHML_NAMESPACE + "}"


def parse(tex, display=True):
    root = ET.fromstring(latex_to_mathml(tex, display))
    assert root.tag == NS + "math"
    return root


def tag(element):
    return element.tag[len(NS):] if element.tag.startswith(NS) else element.tag


def tree(element):
    """An element as (tag, text) for leaves, (tag, [children]) otherwise: what the tests compare."""
    children = list(element)
    if not children:
        return (tag(element), element.text or "")
    return (tag(element), [tree(c) for c in children])


def body(tex, display=True):
    """The trees of the top-level elements of ``tex``'s MathML."""
    return [tree(c) for c in parse(tex, display)]


def find_all(root, name):
    return [e for e in root.iter() if tag(e) == name]


MINUS = "\u2212"


# ---- the envelope --------------------------------------------------------------------------------------
def test_math_element_namespace_and_display():
    text = latex_to_mathml("x")
    assert text.startswith(f'<math xmlns="{MATHML_NAMESPACE}" display="block">') and text.endswith("</math>")
    assert parse("x", display=False).get("display") == "inline"
    assert parse("x").get("display") == "block"


def test_bad_argument_types():
    with pytest.raises(InvalidTypeError, match="tex"):
        latex_to_mathml(3)
    with pytest.raises(InvalidTypeError, match="display"):
        latex_to_mathml("x", display="block")


# ---- tokens --------------------------------------------------------------------------------------------
def test_numbers_letters_and_operators():
    assert body("2x + 10.5 - y = z") == [("mn", "2"), ("mi", "x"), ("mo", "+"), ("mn", "10.5"), ("mo", MINUS),
                                         ("mi", "y"), ("mo", "="), ("mi", "z")]
    assert body("a, b < c > d | e") == [("mi", "a"), ("mo", ","), ("mi", "b"), ("mo", "<"), ("mi", "c"),
                                        ("mo", ">"), ("mi", "d"), ("mo", "|"), ("mi", "e")]


def test_plain_brackets_do_not_stretch_but_left_right_do():
    root = parse(r"(x) [y] \left( \frac{1}{2} \right]")
    plain = [e for e in find_all(root, "mo") if e.text in "()[]" and e.get("fence") is None]
    assert len(plain) == 4 and all(e.get("stretchy") == "false" for e in plain)
    fenced = root[-1]
    assert tag(fenced) == "mrow"
    assert [(tag(c), c.text, c.get("stretchy")) for c in fenced if tag(c) == "mo"] == [("mo", "(", "true"),
                                                                                      ("mo", "]", "true")]
    assert tag(fenced[1]) == "mfrac"


def test_bars_and_slashes_are_spaced_as_ordinary_symbols():
    root = parse(r"|m - n| \le 2\pi/N \mid x")
    spaced = {e.text: (e.get("lspace"), e.get("rspace")) for e in find_all(root, "mo")}
    assert spaced["|"] == spaced["/"] == ("0", "0")
    assert spaced["\u2223"] == spaced["\u2264"] == (None, None)      # \mid and \le keep a relation's spaces


def test_left_with_a_null_delimiter():
    assert body(r"\left. x \right|") == [("mrow", [("mi", "x"), ("mo", "|")])]


def test_greek_letters():
    assert body(r"\alpha \phi \varphi \psi \mu \kappa \sigma \beta \gamma \theta \pi \omega") == [
        ("mi", c) for c in "\u03b1\u03d5\u03c6\u03c8\u03bc\u03ba\u03c3\u03b2\u03b3\u03b8\u03c0\u03c9"]
    upper = parse(r"\Delta \Gamma \Sigma")
    assert [(e.text, e.get("mathvariant")) for e in upper] == [("\u0394", "normal"), ("\u0393", "normal"),
                                                              ("\u03a3", "normal")]


def test_symbols():
    assert body(r"\le \ge \in \to \cdot \dots \ldots \times \pm") == [
        ("mo", c) for c in "\u2264\u2265\u2208\u2192\u22c5\u2026\u2026\u00d7\u00b1"]
    assert body(r"\infty \partial") == [("mi", "\u221e"), ("mi", "\u2202")]
    assert body(r"\{ 1 \}") == [("mo", "{"), ("mn", "1"), ("mo", "}")]


def test_spaces():
    widths = [e.get("width") for e in parse(r"a \quad b \qquad c \, d \; e \ f")
              if tag(e) == "mspace"]
    assert widths == ["1em", "2em", "0.1667em", "0.2778em", "0.3333em"]


# ---- scripts, fractions, roots, accents -----------------------------------------------------------------
def test_fraction():
    assert body(r"\frac{1}{2}") == [("mfrac", [("mn", "1"), ("mn", "2")])]
    assert body(r"\frac{a + b}{c}") == [("mfrac", [("mrow", [("mi", "a"), ("mo", "+"), ("mi", "b")]), ("mi", "c")])]
    assert body(r"\frac12") == [("mfrac", [("mn", "1"), ("mn", "2")])]    # one digit per argument, as in TeX


def test_superscript_and_subscript():
    assert body("x^{2}") == [("msup", [("mi", "x"), ("mn", "2")])]
    assert body("r_{i}") == [("msub", [("mi", "r"), ("mi", "i")])]
    assert body("x_12") == [("msub", [("mi", "x"), ("mn", "1")]), ("mn", "2")]
    both = ("msubsup", [("mi", "\u03c3"), ("mi", "i"), ("mn", "2")])
    assert body(r"\sigma_{i}^{2}") == body(r"\sigma^{2}_{i}") == [both]
    assert body(r"\partial_x^{2}") == [("msubsup", [("mi", "\u2202"), ("mi", "x"), ("mn", "2")])]
    assert body("(r)^{2}")[-1] == ("msup", [("mo", ")"), ("mn", "2")])


def test_sum_takes_its_limits_below_and_above():
    assert body(r"\sum_{i} w") == [("munder", [("mo", "\u2211"), ("mi", "i")]), ("mi", "w")]
    assert body(r"\sum_{i=1}^{n}") == [("munderover", [("mo", "\u2211"),
                                                        ("mrow", [("mi", "i"), ("mo", "="), ("mn", "1")]),
                                                        ("mi", "n")])]


def test_roots_accents_blackboard_and_text():
    assert body(r"\sqrt{2}") == [("msqrt", [("mn", "2")])]
    assert body(r"\sqrt[3]{x}") == [("mroot", [("mi", "x"), ("mn", "3")])]
    hat = parse(r"\hat{T}")[0]
    assert tree(hat) == ("mover", [("mi", "T"), ("mo", "^")]) and hat.get("accent") == "true"
    assert body(r"\mathbb{Z} \mathbb{R}") == [("mi", "\u2124"), ("mi", "\u211d")]
    # spaces at the ends of a text survive as no-break spaces (renderers trim ordinary ones)
    assert body(r"\text{with } m") == [("mtext", "with\u00a0"), ("mi", "m")]
    assert body(r"\text{a {b} \{c\}}") == [("mtext", "a {b} {c}")]


def test_functions_are_upright_and_applied():
    root = parse(r"\cos(2\phi) \sin x \exp\left(x\right)")
    names = [(e.text, e.get("mathvariant")) for e in find_all(root, "mi") if len(e.text) > 1]
    assert names == [("cos", "normal"), ("sin", "normal"), ("exp", "normal")]
    assert [tree(e) for e in root][:3] == [("mi", "cos"), ("mo", "\u2061"), ("mo", "(")]


# ---- environments --------------------------------------------------------------------------------------
def _cells(table):
    return [[[tree(x) for x in td] for td in tr] for tr in table]


def test_bmatrix_is_a_table_in_brackets():
    (row,) = parse(r"\begin{bmatrix} a & b \\ c & 1 \end{bmatrix}")
    assert tag(row) == "mrow" and [tag(c) for c in row] == ["mo", "mtable", "mo"]
    assert (row[0].text, row[2].text) == ("[", "]")
    assert _cells(row[1]) == [[[("mi", "a")], [("mi", "b")]], [[("mi", "c")], [("mn", "1")]]]
    column = parse(r"\begin{bmatrix} \cos(x) \\ \sin(x) \end{bmatrix}")[0][1]
    assert [len(tr) for tr in column] == [1, 1]


def test_pmatrix_and_a_trailing_row_break():
    (row,) = parse(r"\begin{pmatrix} 1 & 0 \\ 0 & 1 \\ \end{pmatrix}")
    assert (row[0].text, row[2].text) == ("(", ")") and len(row[1]) == 2


def test_aligned_has_right_left_column_pairs():
    (table,) = parse("\\begin{aligned}\nx &= 1 \\\\\ny &= 2, \\qquad z\n\\end{aligned}")
    assert tag(table) == "mtable" and table.get("displaystyle") == "true"
    assert _cells(table)[0] == [[("mi", "x")], [("mo", "="), ("mn", "1")]]
    assert [[td.get("columnalign") for td in tr] for tr in table] == [["right", "left"]] * 2


def test_array_columns_and_hline():
    (table,) = parse("\\begin{array}{lc}\nx & y \\\\\n\\hline\nz & w\n\\end{array}")
    assert _cells(table) == [[[("mi", "x")], [("mi", "y")]], [[("mi", "z")], [("mi", "w")]]]
    assert [td.get("columnalign") for td in table[0]] == ["left", "center"]
    assert all("border-top" not in td.get("style") for td in table[0])
    assert all("border-top" in td.get("style") for td in table[1])


def test_cases():
    (row,) = parse(r"\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}")
    assert [tag(c) for c in row] == ["mo", "mtable"] and row[0].text == "{"
    assert [td.get("columnalign") for td in row[1][0]] == ["left", "left"]


def test_nested_environments():
    root = parse(r"\begin{array}{l} \text{x} \\ \begin{array}{ll} a & \begin{bmatrix} 1 \\ 2 \end{bmatrix} "
                 r"\end{array} \end{array}")
    assert len(find_all(root, "mtable")) == 3


# ---- refused input -------------------------------------------------------------------------------------
@pytest.mark.parametrize("tex, named", [
    (r"\foo", r"\foo"), (r"x + \textbf{y}", r"\textbf"), (r"\begin{tabular}{l} x \end{tabular}", "tabular"),
    (r"\text{\alpha}", r"\alpha"), (r"\left\lfloor x \right\rfloor", "delimiter"), ("$x$", "'$'"),
    ("\u00e9", "'\u00e9'"), (r"\mathbb{1}", r"\mathbb"),
])
def test_unsupported_input_is_refused_by_name(tex, named):
    with pytest.raises(InvalidValueError) as info:
        latex_to_mathml(tex)
    assert named in str(info.value) and "latex_to_mathml" in str(info.value)


@pytest.mark.parametrize("tex", ["{x", "x}", "a & b", r"a \\ b", r"\begin{bmatrix} 1", r"\left( x",
                                 r"\right)", "x^", r"x^{2}^{3}", r"x_{1}_{2}", r"\frac{1}",
                                 r"\begin{bmatrix} 1 \end{pmatrix}", r"\text{abc", r"\hline"])
def test_malformed_input_is_refused(tex):
    with pytest.raises(InvalidValueError):
        latex_to_mathml(tex)


def test_deep_nesting_is_refused_not_a_crash():
    with pytest.raises(InvalidValueError, match="too deeply"):
        latex_to_mathml("{" * 5000 + "x" + "}" * 5000)


def test_hostile_text_is_escaped():
    hostile = "<script>alert(\"x\") & 'y'</script>"
    text = latex_to_mathml(r"\text{" + hostile + "} < b > c")
    assert "<script" not in text and "</script" not in text
    assert "&lt;script&gt;" in text and "&amp;" in text and "&quot;" in text and "&#x27;" in text
    root = ET.fromstring(text)
    assert tree(root[0]) == ("mtext", hostile)
    assert [e.text for e in root if tag(e) == "mo"] == ["<", ">"]
    with pytest.raises(InvalidValueError):       # in math mode, a quote is not part of the subset
        latex_to_mathml('"onload=alert(1)')


# ---- every formula our printers write ------------------------------------------------------------------
GROUPS = {"C4": lambda: bg.cyclic_group(4), "D4": lambda: bg.dihedral_group(4), "SO2": lambda: bg.so2_group(2),
          "O2": lambda: bg.o2_group(2), "flip": lambda: bg.flip_group()}


def _printed(G):
    yield group_table_latex(G, symbolic=True)
    yield group_table_latex(G, symbolic=False)
    yield from table_lines(G)
    for a in G.irreps:
        for b in G.irreps:
            yield from pair_latex(G, a, b, symbolic=False)
            yield from pair_latex(G, a, b, symbolic=True)
            yield kernel_latex(G, a, b, 5)
            yield pdo_basis_latex(G, a, b, maximum_order=3)


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_every_printed_formula_converts(name):
    formulas = list(_printed(GROUPS[name]()))
    assert len(formulas) > 10
    for tex in formulas:
        root = parse(tex)
        environments = re.findall(r"\\begin\{(\w+)\}", tex)
        assert len(find_all(root, "mtable")) == len(environments), tex
        assert len(find_all(root, "mfrac")) == tex.count(r"\frac"), tex
        # nothing of the input passes through raw: no backslash or brace survives in any text
        assert not any(set(e.text or "") & set("\\{}") for e in root.iter() if tag(e) != "mo"), tex
        assert not any(e.text and "\\" in e.text for e in root.iter()), tex


@pytest.mark.parametrize("name", ["D4", "SO2", "flip"])
def test_every_layer_kernel_formula_converts(name):
    G = GROUPS[name]()
    for a in G.irreps:
        for b in G.irreps:
            for symbolic in (False, True):
                tex = kernel_latex(G, a, b, 5, symbolic=symbolic)
                root = parse(tex)
                assert len(find_all(root, "mtable")) == len(re.findall(r"\\begin\{(\w+)\}", tex)), tex
                assert not any(e.text and "\\" in e.text for e in root.iter()), tex
