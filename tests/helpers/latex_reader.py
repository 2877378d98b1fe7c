"""A reader for the LaTeX that basisgen prints, written independently of the printers, for tests: it turns a
formula back into sympy so that a test can compare what was printed with the exact element.

It reads numbers, the symbols m, n, N, t (integers), a, b (pixel indices), phi and beta (real, the same symbols
as :meth:`basisgen.harmonics.HarmonicElement.matrix`), pi, ``\\cos``, ``\\sin``, ``\\frac``, ``\\sqrt``,
``\\left( \\right)``, products by juxtaposition, and ``bmatrix`` with an optional scalar factor in front.
"""
import re

import sympy as sp

PHI, BETA = sp.Symbol("phi", real=True), sp.Symbol("beta", real=True)
M, N_, NN, T_, A_, B_ = sp.symbols("m n N t a b", integer=True)
LOCALS = {"phi": PHI, "beta": BETA, "m": M, "n": N_, "N": NN, "t": T_, "a": A_, "b": B_, "pi": sp.pi,
          "cos": sp.cos, "sin": sp.sin, "sqrt": sp.sqrt}


def unfold_fractions(text: str) -> str:
    """``\\frac{a}{b}`` as ``((a)/(b))`` and ``\\sqrt{a}`` as ``sqrt(a)``, innermost first."""
    s = text
    while True:
        new = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))", s)
        new = re.sub(r"\\sqrt\{([^{}]*)\}", r"sqrt(\1)", new)
        if new == s:
            return s
        s = new


def expression(text: str) -> sp.Expr:
    """One scalar LaTeX expression as sympy."""
    s = unfold_fractions(text.strip())
    for a, b in ((r"\left(", "("), (r"\right)", ")"), (r"\cos", "cos"), (r"\sin", "sin"), (r"\phi", " phi "),
                 (r"\beta", " beta "), (r"\pi", " pi "), ("tN", "t*N")):
        s = s.replace(a, b)
    assert "\\" not in s and "{" not in s and "}" not in s, f"unparsed LaTeX left in {text!r}: {s!r}"
    # explicit products: t phi, 3phi, )phi, )(, 3(, t(, m(  (but cos( sin( sqrt( are calls)
    s = re.sub(r"([\w)])\s+(?=[\w(])", r"\1*", s.strip())
    s = re.sub(r"(\d)\s*([a-zA-Z(])", r"\1*\2", s)
    s = re.sub(r"\)\s*([a-zA-Z0-9(])", r")*\1", s)
    s = re.sub(r"\b(phi|beta|m|n|N|t|a|b|pi)\s*\(", r"\1*(", s)
    assert re.fullmatch(r"[-+*/(). 0-9a-zA-Z]*", s), s
    return sp.sympify(s, locals=LOCALS)      # the text was reduced to arithmetic on known names just above


def parse_formula(tex: str) -> sp.Matrix:
    """An angular element: a scalar expression, or a ``bmatrix`` with an optional factor in front."""
    tex = tex.strip()
    if r"\begin{bmatrix}" not in tex:
        return sp.Matrix([[expression(tex)]])
    head, body = tex.split(r"\begin{bmatrix}")
    assert body.endswith(r"\end{bmatrix}"), tex
    body = body[:-len(r"\end{bmatrix}")]
    matrix = sp.Matrix([[expression(c) for c in row.split("&")] for row in body.split(r"\\")])
    head = head.strip()
    factor = {"": 1, "-": -1}.get(head)
    return matrix * (factor if factor is not None else expression(head))
