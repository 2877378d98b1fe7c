"""Typeset derived kernel bases as LaTeX (docs/math.md, "The angular elements"), for KaTeX and amsmath.

Every angular element is written in one of the four shapes of that section, as cosines and sines of
``mu (phi - beta) + gamma`` (``phi`` alone for groups without reflections, where beta plays no role).
In *symbolic* mode the frequency is written in closed form in the output frequency ``m``, the input
frequency ``n``, the number of rotations ``N`` and the aliasing offset ``t``, exactly as
:func:`~basisgen.derivation.reference_frequency` counts it (``mu = m - n + tN``, ``m + n + tN``; no
``tN`` for SO(2) and O(2); just ``t`` for the flip and trivial groups, whose irreps all have frequency
0).  In *concrete* mode the integers are substituted.  The entries are read off each element's exact
coefficients, so a formula always equals ``element.matrix(phi, beta)``.

The output uses only commands that both KaTeX and amsmath/amssymb know: ``bmatrix``, ``aligned`` and
``array`` environments, ``\\cos``, ``\\sin``, ``\\frac``, ``\\mathbb``, ``\\text``...

Finite groups need a band limit ``F`` to enumerate the aliases ``t``: when neither
``maximum_frequency`` nor ``maximum_offset`` is given, ``F`` defaults to ``N`` (one full period of
aliases).  SO(2) and O(2) have no aliasing and ignore both.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from ._lazy import lazy_import
from .derivation import _derive, check_bound, reference_frequency
from .groups import Group
from .harmonics import HarmonicElement
from .irreps import Irrep

sp = lazy_import("sympy")

__all__ = ["element_latex", "kernel_latex", "pair_latex", "group_table_latex"]

_KERNEL_SUM = (r"\kappa(r, \phi) = \sum_{i} w_{i} \exp\left(-\frac{(r - r_{i})^{2}}{2 \sigma_{i}^{2}}\right)"
               r" A_{i}(\phi)")


# ---- arguments ----------------------------------------------------------------------------------
def _check_group(group: Any) -> Group:
    if not isinstance(group, Group):
        raise ValueError(f"group must be a basisgen Group (e.g. cyclic_group(8)), got {group!r}")
    return group


def _resolve_irrep(group: Group, irrep: Any, name: str) -> Irrep:
    """An :class:`Irrep` of ``group``, given as an Irrep or as its id (``1``, ``(1, 1)``)."""
    if isinstance(irrep, Irrep):
        if irrep.group != group:
            raise ValueError(f"{name} {irrep!r} is not an irrep of {group.name}")
        return irrep
    ids = irrep if isinstance(irrep, tuple) else (irrep,)
    try:
        return group.irrep(*ids)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise ValueError(f"{name} must be an Irrep of {group.name} or its id, got {irrep!r} ({error})") from None


def _bounds(group: Group, maximum_frequency: Any, maximum_offset: Any) -> Tuple[Optional[int], Optional[int]]:
    F = check_bound(maximum_frequency, "maximum_frequency")
    T = check_bound(maximum_offset, "maximum_offset")
    if group.continuous:
        return None, None   # no aliasing for SO(2) and O(2)
    if F is None and T is None:
        F = group.rotation_order
    return F, T


def _elements(group: Group, in_irrep: Any, out_irrep: Any, maximum_frequency: Any, maximum_offset: Any
              ) -> Tuple[Irrep, Irrep, Optional[int], Optional[int], Tuple[HarmonicElement, ...]]:
    group = _check_group(group)
    psi_in = _resolve_irrep(group, in_irrep, "in_irrep")
    psi_out = _resolve_irrep(group, out_irrep, "out_irrep")
    F, T = _bounds(group, maximum_frequency, maximum_offset)
    return psi_in, psi_out, F, T, _derive(group, psi_in, psi_out, F, T)


# ---- one element ----------------------------------------------------------------------------------
def _frequency_form(element: HarmonicElement) -> str:
    """The closed form of mu in m, n, N, t, mirroring :func:`reference_frequency` (mu = mu_0 + t N)."""
    out_irrep, in_irrep = element.out_irrep, element.in_irrep
    N = out_irrep.group.rotation_order
    mu_0 = reference_frequency(out_irrep, in_irrep, element.s)
    if element.mu != mu_0 + element.t * (N or 0):
        raise ValueError(f"element {element!r} does not follow the convention mu = mu_0 + t N "
                         f"(mu_0 = {mu_0}, t = {element.t}, N = {N})")
    if N == 1:
        return "t"   # every irrep of C_1 and of the flip group has frequency 0, so mu = t
    if out_irrep.dim == 2 and in_irrep.dim == 2:
        base = "m - n" if element.s == 0 else "m + n"
    elif out_irrep.dim != in_irrep.dim:
        base = "m + n"
    else:
        base = "m - n"
    return base if N is None else base + " + tN"


def _template(shape: Tuple[int, int], s: int) -> Tuple[List[List[int]], List[List[int]]]:
    """The shape's template: the coefficients of (cos theta, sin theta), theta = mu phi' + gamma, per entry."""
    if shape == (2, 2):
        sign = (-1) ** s
        return [[1, 0], [0, sign]], [[0, -sign], [1, 0]]
    if shape == (1, 2):
        return [[1, 0]], [[0, 1]]
    if shape == (2, 1):
        return [[1], [0]], [[0], [1]]
    return [[1]], [[0]]


def _expr(x) -> sp.Expr:
    """An internal number as a sympy expression (ints from templates, sympy values from elements)."""
    if isinstance(x, sp.Basic):
        return x
    if isinstance(x, int):
        return sp.Integer(x)
    raise TypeError(f"expected a sympy number, got {type(x).__name__}")


def _is_zero(x: sp.Expr) -> bool:
    x = _expr(x)
    return x == 0 or sp.simplify(x) == 0


def _theta_coefficients(element: HarmonicElement) -> Tuple[List[List[sp.Expr]], List[List[sp.Expr]]]:
    """Per-entry coefficients (a, b) with ``A = a cos(theta) + b sin(theta)``, theta = mu phi' + gamma.

    The element stores ``C cos(mu phi') + S sin(mu phi')``; rotating by gamma gives
    ``a = C cos(gamma) - S sin(gamma)``, ``b = C sin(gamma) + S cos(gamma)``.  For mu = 0 only C is
    determined, so the shape's template is used whenever it reproduces C (it always does for
    derived elements); otherwise, and for mu != 0, the coefficients come from the data.
    """
    g = _expr(element.gamma)
    cg, sg = sp.cos(g), sp.sin(g)
    C, S = element.cos_coefficients, element.sin_coefficients
    rows, cols = element.shape
    if element.mu == 0:
        a_t, b_t = _template((rows, cols), element.s)
        if all(_is_zero(a_t[i][j] * cg + b_t[i][j] * sg - C[i][j]) for i in range(rows) for j in range(cols)):
            return ([[sp.Integer(x) for x in r] for r in a_t], [[sp.Integer(x) for x in r] for r in b_t])
    a = [[sp.expand(C[i][j] * cg - S[i][j] * sg) for j in range(cols)] for i in range(rows)]
    b = [[sp.expand(C[i][j] * sg + S[i][j] * cg) for j in range(cols)] for i in range(rows)]
    return a, b


def _signed(term: str, first: bool) -> str:
    if first:
        return term
    return " - " + term[1:] if term.startswith("-") else " + " + term


def _coefficient_term(c: sp.Expr, body: str) -> str:
    if c == 1:
        return body
    if c == -1:
        return "-" + body
    text = sp.latex(c)
    if c.is_Add:
        text = r"\left(" + text + r"\right)"
    return f"{text} {body}"


def _argument(element: HarmonicElement, symbolic: bool) -> str:
    has_beta = element.out_irrep.group.has_reflection
    angle = r"(\phi - \beta)" if has_beta else r"\phi"
    if symbolic:
        form = _frequency_form(element)
        text = f"{form}{angle}" if " " not in form else f"({form}){angle}"
    else:
        mu = element.mu
        if mu == 1:
            text = angle[1:-1] if has_beta else angle
        elif mu == -1:
            text = "-" + angle
        else:
            text = f"{mu}{angle}"
    gamma = _expr(element.gamma)
    if gamma != 0:
        text += " - " + sp.latex(-gamma) if gamma.could_extract_minus_sign() else " + " + sp.latex(gamma)
    return text


def _entry(a: sp.Expr, b: sp.Expr, argument: str) -> str:
    terms = [_coefficient_term(c, rf"\{f}({argument})") for c, f in ((a, "cos"), (b, "sin")) if not _is_zero(c)]
    return "".join(_signed(t, i == 0) for i, t in enumerate(terms)) or "0"


def _layout(entries: List[List[str]]) -> str:
    if len(entries) == 1 and len(entries[0]) == 1:
        return entries[0][0]
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(row) for row in entries) + r" \end{bmatrix}"


def element_latex(element: HarmonicElement, symbolic: bool = True) -> str:
    r"""One angular basis element as LaTeX (math mode, no ``$``), equal to ``element.matrix(phi, beta)``.

    Parameters
    ----------
    element:
        A derived :class:`~basisgen.harmonics.HarmonicElement`.
    symbolic:
        If true, write the frequency in closed form in m (output frequency), n (input frequency), N and
        t, and keep the phase gamma; otherwise substitute the integers (constant entries for mu = 0).

    Returns
    -------
    str
        A ``bmatrix`` for 2x2, 1x2 and 2x1 elements, a plain expression for 1x1 elements.  beta (the
        reflection axis) appears only for groups with reflections.

    Examples
    --------
    >>> from basisgen import cyclic_group
    >>> from basisgen.derivation import derive_angular_basis
    >>> G = cyclic_group(8)
    >>> A = derive_angular_basis(G, G.irrep(1), G.irrep(2), maximum_frequency=5)[2]
    >>> element_latex(A)
    '\\begin{bmatrix} \\cos((m + n + tN)\\phi) & \\sin((m + n + tN)\\phi) \\\\ \\sin((m + n + tN)\\phi) & -\\cos((m + n + tN)\\phi) \\end{bmatrix}'
    >>> element_latex(A, symbolic=False)
    '\\begin{bmatrix} \\cos(3\\phi) & \\sin(3\\phi) \\\\ \\sin(3\\phi) & -\\cos(3\\phi) \\end{bmatrix}'
    """
    if not isinstance(element, HarmonicElement):
        raise ValueError(f"element must be a HarmonicElement, got {element!r}")
    a, b = _theta_coefficients(element)
    rows, cols = element.shape
    if not symbolic and element.mu == 0:
        g = _expr(element.gamma)
        entries = [[sp.latex(sp.expand(a[i][j] * sp.cos(g) + b[i][j] * sp.sin(g))) for j in range(cols)]
                   for i in range(rows)]
        return _layout(entries)
    argument = _argument(element, symbolic)
    return _layout([[_entry(a[i][j], b[i][j], argument) for j in range(cols)] for i in range(rows)])


# ---- families of aliases ---------------------------------------------------------------------------
def _families(elements: Sequence[HarmonicElement]) -> List[Tuple[str, List[HarmonicElement]]]:
    """Group elements whose symbolic formula is the same (they differ only in t), in first-seen order."""
    families: Dict[str, List[HarmonicElement]] = {}
    for e in elements:
        families.setdefault(element_latex(e, symbolic=True), []).append(e)
    return list(families.items())


def _index_set(members: Sequence[HarmonicElement], F: Optional[int], T: Optional[int]) -> str:
    """The set of offsets t of one family, as the condition it satisfies (|mu| <= F; 0 <= mu <= F for 1-D pairs)."""
    e = members[0]
    N = e.out_irrep.group.rotation_order
    mu_0 = reference_frequency(e.out_irrep, e.in_irrep, e.s)
    form = _frequency_form(e)
    actual = sorted(x.t for x in members)
    reach = (F if F is not None else 0) + abs(mu_0) + 2 * N + (T or 0) * N
    span = range(-reach // N - 1, reach // N + 2)
    if F is not None:
        symmetric, nonnegative, positive = ((lambda mu: abs(mu) <= F, rf"|{form}| \le F"),
                                            (lambda mu: 0 <= mu <= F, rf"0 \le {form} \le F"),
                                            (lambda mu: 0 < mu <= F, rf"0 < {form} \le F"))
    else:
        symmetric, nonnegative, positive = ((lambda mu: True, ""), (lambda mu: mu >= 0, rf"{form} \ge 0"),
                                            (lambda mu: mu > 0, rf"{form} > 0"))
    # the natural description first: T_N for matrices, T+_N for 1x1 (without mu = 0 when gamma != 0)
    if e.shape != (1, 1):
        rules = [symmetric, nonnegative, positive]
    elif _expr(e.gamma) == 0:
        rules = [nonnegative, positive, symmetric]
    else:
        rules = [positive, nonnegative, symmetric]
    for allowed, text in rules:
        ts = [t for t in span if allowed(mu_0 + t * N) and (T is None or abs(t) <= T)]
        if ts == actual:
            conditions = [x for x in (text, r"|t| \le \hat{T}" if T is not None else "") if x]
            return r"t \in \mathbb{Z}" + "".join(r",\ " + c for c in conditions)
    return r"t \in \{" + ", ".join(str(t) for t in actual) + r"\}"


def _irrep_latex(irrep: Irrep) -> str:
    return r"\psi_{" + ",".join(str(i) for i in irrep.id) + "}"


def _parameters(group: Group, psi_in: Irrep, psi_out: Irrep, F: Optional[int], T: Optional[int]) -> str:
    N = group.rotation_order
    values = [] if N == 1 else [f"m = {psi_out.frequency}", f"n = {psi_in.frequency}"]
    if N is not None:
        values += ([] if N == 1 else [f"N = {N}"]) + ([f"F = {F}"] if F is not None else [])
        values += [rf"\hat{{T}} = {T}"] if T is not None else []
    return r",\ ".join(values)


def _uses_t(group: Group) -> bool:
    return group.rotation_order is not None


# ---- public: pairs, kernels, tables ------------------------------------------------------------------
def pair_latex(group: Group, in_irrep: Any, out_irrep: Any, maximum_frequency: Optional[int] = None,
               maximum_offset: Optional[int] = None, symbolic: bool = True) -> List[str]:
    r"""One formula per angular element of the pair ``in_irrep -> out_irrep``, in e2cnn's order.

    Each formula reads ``A_{i}(\phi) = ...`` (math mode, no ``$``); in symbolic mode the element's
    offset ``t`` follows.  Irreps are :class:`Irrep` objects of ``group`` or their ids.  An empty list
    means the constraint admits only the zero kernel (within the band, for finite groups).

    Examples
    --------
    >>> from basisgen import dihedral_group
    >>> G = dihedral_group(4)
    >>> pair_latex(G, (1, 1), (1, 0), maximum_frequency=3, symbolic=False)
    ['A_{1}(\\phi) = \\begin{bmatrix} \\cos(-3(\\phi - \\beta) + \\frac{\\pi}{2}) & \\sin(-3(\\phi - \\beta) + \\frac{\\pi}{2}) \\end{bmatrix}', 'A_{2}(\\phi) = \\begin{bmatrix} \\cos(\\phi - \\beta + \\frac{\\pi}{2}) & \\sin(\\phi - \\beta + \\frac{\\pi}{2}) \\end{bmatrix}']
    """
    psi_in, psi_out, F, T, elements = _elements(group, in_irrep, out_irrep, maximum_frequency, maximum_offset)
    out = []
    for i, e in enumerate(elements, start=1):
        text = rf"A_{{{i}}}(\phi) = " + element_latex(e, symbolic)
        if symbolic and _uses_t(group):
            text += rf", \qquad t = {e.t}"
        out.append(text)
    return out


def kernel_latex(group: Group, in_irrep: Any, out_irrep: Any, maximum_frequency: Optional[int] = None,
                 maximum_offset: Optional[int] = None, symbolic: bool = True) -> str:
    r"""The full kernel ``kappa(r, phi) = sum_i w_i exp(-(r - r_i)^2 / (2 sigma_i^2)) A_i(phi)`` of a pair.

    Each basis function ``i`` pairs a Gaussian ring (radius ``r_i``, width ``sigma_i``)
    with an angular element ``A_i``.  In symbolic mode the elements are grouped into families of
    aliases, one line each, with the set of offsets t (e.g. ``t \in \mathbb{Z},\ |m - n + tN| \le F``)
    and the values of m, n, N, F on the last line; otherwise every element gets its own line.  The
    result is an ``aligned`` environment (math mode, no ``$``); ``\kappa(r, \phi) = 0`` for an empty pair.

    Examples
    --------
    >>> from basisgen import so2_group
    >>> print(kernel_latex(so2_group(3), 1, 0))
    \begin{aligned}
    \kappa(r, \phi) &= \sum_{i} w_{i} \exp\left(-\frac{(r - r_{i})^{2}}{2 \sigma_{i}^{2}}\right) A_{i}(\phi), \qquad A_{i} \in \{A^{(1)}, A^{(2)}\} \\
    A^{(1)}(\phi) &= \begin{bmatrix} \cos((m + n)\phi) & \sin((m + n)\phi) \end{bmatrix} \\
    A^{(2)}(\phi) &= \begin{bmatrix} \cos((m + n)\phi + \frac{\pi}{2}) & \sin((m + n)\phi + \frac{\pi}{2}) \end{bmatrix} \\
    & \text{with } m = 0,\ n = 1
    \end{aligned}
    """
    psi_in, psi_out, F, T, elements = _elements(group, in_irrep, out_irrep, maximum_frequency, maximum_offset)
    if not elements:
        return r"\kappa(r, \phi) = 0"
    if symbolic:
        families = _families(elements)
        sub = "_{t}" if _uses_t(group) else ""
        names = [f"A^{{({k})}}{sub}" for k in range(1, len(families) + 1)]
        lines = []
        for name, (formula, members) in zip(names, families):
            line = rf"{name}(\phi) &= {formula}"
            if _uses_t(group):
                line += r", \qquad " + _index_set(members, F, T)
            lines.append(line)
        lines.append(r"& \text{with } " + _parameters(group, psi_in, psi_out, F, T))
    else:
        names = [f"A_{{{k}}}" for k in range(1, len(elements) + 1)]
        lines = [rf"{name}(\phi) &= {element_latex(e, False)}" for name, e in zip(names, elements)]
    listed = names if len(names) <= 4 else [names[0], r"\dots", names[-1]]
    head = _KERNEL_SUM.replace(" = ", " &= ", 1) + r", \qquad A_{i} \in \{" + ", ".join(listed) + r"\}"
    return "\\begin{aligned}\n" + " \\\\\n".join([head] + lines) + "\n\\end{aligned}"


def _table_rows(group: Group, F: Optional[int], T: Optional[int], symbolic: bool) -> List[List[str]]:
    rows = []
    for psi_in in group.irreps:
        for psi_out in group.irreps:
            first = [_irrep_latex(psi_in), _irrep_latex(psi_out)]
            if group.rotation_order != 1:   # with N = 1, mu = t: m and n play no role
                first = [first[0] + rf"\ (n = {psi_in.frequency})", first[1] + rf"\ (m = {psi_out.frequency})"]
            elements = _derive(group, psi_in, psi_out, F, T)
            if symbolic:
                cells = [[f, _index_set(m, F, T) if _uses_t(group) else ""] for f, m in _families(elements)]
            else:
                cells = [[element_latex(e, False), f"t = {e.t}" if _uses_t(group) else ""] for e in elements]
            for k, cell in enumerate(cells or [["0", ""]]):
                rows.append((first if k == 0 else ["", ""]) + (cell if _uses_t(group) else cell[:1]))
    return rows


def _array(rows: List[List[str]], header: List[str]) -> str:
    spec = "l" * len(header)
    body = " \\\\\n".join(" & ".join(r) for r in rows)
    return (f"\\begin{{array}}{{{spec}}}\n" + " & ".join(header) + r" \\" + "\n\\hline\n" + body
            + "\n\\end{array}")


def _command(group: Group, maximum_frequency: Any, maximum_offset: Any, symbolic: bool) -> str:
    """The call that reproduces a standalone table, escaped for ``\\texttt``."""
    name = repr(group.name) + (f", maximum_frequency={group.maximum_frequency}" if group.continuous else "")
    bounds = (("maximum_frequency", maximum_frequency), ("maximum_offset", maximum_offset))
    args = [f"group_from_name({name})"] + [f"{k}={v!r}" for k, v in bounds if v is not None]
    args += ["standalone=True"] + ([] if symbolic else ["symbolic=False"])
    return ("basisgen.latex.group_table_latex(" + ", ".join(args) + ")").replace("_", "\\_")


def group_table_latex(group: Group, maximum_frequency: Optional[int] = None, standalone: bool = False,
                      maximum_offset: Optional[int] = None, symbolic: bool = True) -> str:
    r"""The angular bases of all irrep pairs of ``group``, as a table (cf. Weiler & Cesa 2019, appendix).

    One row per family of aliases (symbolic) or per element (concrete), grouped by pair, input irrep
    outermost, in ``group.irreps`` order; an empty pair gets the entry 0.  SO(2) and O(2) list the irreps
    up to their own ``maximum_frequency`` (``so2_group(2)`` etc.).  Finite groups use ``F = N`` when
    neither ``maximum_frequency`` nor ``maximum_offset`` is given.

    Parameters
    ----------
    group:
        The group.
    maximum_frequency, maximum_offset:
        The band limit F and the offset bound on |t| (finite groups only).
    standalone:
        If true, return a complete compilable document (``article``, ``amsmath``, ``amssymb``);
        otherwise a math-mode ``array`` (no ``$``) that KaTeX renders.
    symbolic:
        Entries in closed form in m, n, N, t (default), or with the integers substituted.

    Examples
    --------
    >>> from basisgen import flip_group
    >>> print(group_table_latex(flip_group(), maximum_frequency=2))
    \begin{array}{l}
    \text{Flip: } \mu = t,\ F = 2,\ \beta \text{ the reflection axis} \\
    \begin{array}{llll}
    \text{in} & \text{out} & A(\phi) & t \\
    \hline
    \psi_{0} & \psi_{0} & \cos(t(\phi - \beta)) & t \in \mathbb{Z},\ 0 \le t \le F \\
    \psi_{0} & \psi_{1} & \cos(t(\phi - \beta) + \frac{\pi}{2}) & t \in \mathbb{Z},\ 0 < t \le F \\
    \psi_{1} & \psi_{0} & \cos(t(\phi - \beta) + \frac{\pi}{2}) & t \in \mathbb{Z},\ 0 < t \le F \\
    \psi_{1} & \psi_{1} & \cos(t(\phi - \beta)) & t \in \mathbb{Z},\ 0 \le t \le F
    \end{array}
    \end{array}
    """
    group = _check_group(group)
    if not isinstance(standalone, bool):
        raise ValueError(f"standalone must be a bool, got {standalone!r}")
    F, T = _bounds(group, maximum_frequency, maximum_offset)
    header = [r"\text{in}", r"\text{out}", r"A(\phi)"] + ([r"t"] if _uses_t(group) else [])
    rows = _table_rows(group, F, T, symbolic)
    N = group.rotation_order
    if N is None:
        note = r"m, n \text{ are the frequencies of the output and input irreps}"
    elif N == 1:
        note = r"\mu = t,\ " + _parameters(group, group.irreps[0], group.irreps[0], F, T)
    else:
        note = (r"m, n \text{ are the frequencies of the output and input irreps},\ "
                + r",\ ".join([f"N = {N}"] + ([f"F = {F}"] if F is not None else [])
                              + ([rf"\hat{{T}} = {T}"] if T is not None else [])))
    if group.has_reflection:
        note += r",\ \beta \text{ the reflection axis}"
    caption = rf"\text{{{group.name}: }} " + note
    if not standalone:
        return "\\begin{array}{l}\n" + caption + " \\\\\n" + _array(rows, header) + "\n\\end{array}"
    # display math does not break across pages: split long tables into displays of about 15 rows,
    # keeping each pair's rows together
    chunks: List[List[List[str]]] = []
    for row in rows:
        if not chunks or (row[0] and len(chunks[-1]) >= 15):
            chunks.append([])
        chunks[-1].append(row)
    displays = "\n".join("\\[\n" + _array(chunk, header) + "\n\\]" for chunk in chunks)
    return ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\usepackage[margin=1.5cm,landscape]{geometry}\n"
            "\\begin{document}\n\\footnotesize\n"
            f"\\section*{{Steerable kernel bases of {group.name}}}\n"
            f"Generated by \\texttt{{{_command(group, maximum_frequency, maximum_offset, symbolic)}}}.\n"
            f"\\[\n{caption}\n\\]\n" + displays + "\n\\end{document}\n")
