r"""Standalone LaTeX documents of printed bases: the ``article`` wrapper and the legend of its symbols.

Every document that ``basisgen`` writes (``group_table_latex(..., standalone=True)``, ``basisgen latex
--standalone``) is built here, so that each one compiles with pdflatex (``amsmath``, ``amssymb``,
``geometry``, nothing else) and explains every symbol it uses, with the conventions of the plane
(docs/math.md, "Conventions: the plane, the grid and the rotation direction").

Examples
--------
>>> from basisgen import dihedral_group
>>> [symbol for symbol, _ in legend(dihedral_group(4), symbolic=True)][:4]
['\\phi', '\\beta', 'm, n', 'N']
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

from .errors import InvalidTypeError
from .groups import Group

__all__ = ["legend", "latex_document", "tex_escape"]

_CONVENTION = (r"Conventions (those of e2cnn): the kernel is a function of the offset $x = (x, y) = r(\cos\phi, "
               r"\sin\phi)$ from its centre, in pixels, with $x$ to the right and $y$ \emph{up} (row $a$ of a "
               r"$k \times k$ filter lies at $y = (k - 1)/2 - a$); angles grow counter-clockwise.  Each formula "
               r"is a matrix with one row per dimension of the output irrep and one column per dimension of the "
               r"input irrep, and solves $\kappa(g x) = \psi_{\mathrm{out}}(g)\, \kappa(x)\, "
               r"\psi_{\mathrm{in}}(g)^{-1}$ for every group element $g$.")


def legend(group: Group, symbolic: bool = False, kernel: bool = False, diffop: bool = False
           ) -> List[Tuple[str, str]]:
    r"""The symbols a document about ``group`` uses, each with its meaning: ``[(LaTeX symbol, text)]``.

    ``symbolic``: the formulas are written in m, n, N, t (and F); ``kernel``: they state the sampled
    kernel (rings r_i, widths sigma_i, cutoffs F_i, normalisation Z); ``diffop``: they are PDOs.
    """
    if not isinstance(group, Group):
        raise InvalidTypeError(f"group must be a basisgen Group, got {type(group).__name__}")
    finite = group.rotation_order is not None
    items = [] if diffop else [(r"\phi", "the angle of the offset $x$, counter-clockwise from the $x$ axis")]
    if group.has_reflection and not diffop:     # a PDO basis states its axis (x) in its first line
        items.append((r"\beta", r"the reflection axis: the group's reflection mirrors the plane across the line "
                                r"at angle $\beta$ ($\phi \mapsto 2\beta - \phi$); e2cnn's default is "
                                r"$\beta = \pi/2$, the left-right mirror $(x, y) \mapsto (-x, y)$"))
    if diffop:
        items.append((r"\partial_x, \partial_y, \Delta",
                      r"the partial derivatives and the Laplacian $\partial_x^{2} + \partial_y^{2}$, applied to "
                      r"the input field; discretised as stencils on the pixel grid"))
    if symbolic and group.rotation_order != 1:
        items.append(("m, n", r"the frequencies of the output and input irreps ($\psi_{k}$ and $\psi_{j,k}$ have "
                              r"frequency $k$)"))
    if finite and group.rotation_order > 1 and symbolic:
        items.append(("N", f"the number of rotations of the group ($N = {group.rotation_order}$)"))
    if finite:
        items.append(("t", r"the aliasing offset: rotations by multiples of $2\pi/N$ cannot tell the frequency "
                           r"$\mu$ from $\mu + tN$, so each solution has aliases $t \in \mathbb{Z}$"
                      + (r"; with one rotation ($N = 1$) $\mu = t$" if group.rotation_order == 1 else "")))
        if not kernel:
            items.append(("F", r"the band limit: only frequencies $|\mu| \le F$ are kept"))
    if kernel:
        items += [(r"\mu", r"the angular frequency of an element, in $\cos(|\mu| \phi)$ and $\sin(|\mu| \phi)$"),
                  (r"r_{i}, \sigma_{i}", r"the radius and the width of the $i$-th Gaussian ring, in pixels"),
                  (r"F_{i}", r"the frequency cutoff of ring $i$: only angular parts with $|\mu| \le F_i$ are "
                             r"kept on it"),
                  (r"w_{ij}", "the learnt weights"),
                  (r"Z_{ij}", "the normalisation of each sampled filter")]
    return items


def tex_escape(text: str) -> str:
    r"""``text`` for LaTeX's text mode: ``\ _ # % & $ { }`` escaped.

    >>> tex_escape("basisgen latex C8 --in 1 -o a_b.tex")
    'basisgen latex C8 --in 1 -o a\\_b.tex'
    """
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("#", r"\#"), ("%", r"\%"), ("&", r"\&"),
                 ("$", r"\$"), ("{", r"\{"), ("}", r"\}")):
        text = text.replace(a, b)
    return text


def latex_document(title: str, command: str, displays: Sequence[str], symbols: Sequence[Tuple[str, str]]) -> str:
    """A complete ``article`` (amsmath, amssymb, geometry): the title, the command that made it, the legend of
    ``symbols`` (from :func:`legend`) with the conventions, then each of ``displays`` (math mode) in a display."""
    notation = "\n".join(rf"\item[${symbol}$] {text}" for symbol, text in symbols)
    body = "\n".join(f"\\[\n{d}\n\\]" for d in displays)
    return ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\usepackage[margin=1.5cm,landscape]{geometry}\n"
            "\\begin{document}\n\\footnotesize\n"
            f"\\section*{{{tex_escape(title)}}}\n"
            f"Generated by \\texttt{{{tex_escape(command)}}}.\n\n"
            f"{_CONVENTION}\n" + (f"\\begin{{description}}\n{notation}\n\\end{{description}}\n" if symbols else "")
            + body + "\n\\end{document}\n")
