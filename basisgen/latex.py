"""Typeset derived kernel bases as LaTeX (docs/math.md, "The angular elements"), for KaTeX and amsmath.

Every angular element is printed in one normal form (:class:`NormalForm`), the same for every group:
cosines and sines of a multiple of ``phi' = phi - beta`` (``phi`` alone for groups without reflections,
where beta plays no role), the phase gamma folded into their signs (``cos(theta + pi/2) = -sin(theta)``),
and a scalar common to a matrix's entries in front of it.  In *concrete* mode (the default of
:func:`pair_latex` and :func:`element_latex`) the multiple is ``|mu|``, the sign of mu moved into the sines
by parity.  In *symbolic* mode it is written in closed form in the output frequency ``m``, the input
frequency ``n``, the number of rotations ``N`` and the aliasing offset ``t``, exactly as
:func:`~basisgen.derivation.reference_frequency` counts it (``mu = m - n + tN``, ``m + n + tN``; no
``tN`` for SO(2) and O(2); just ``t`` for the flip and trivial groups, whose irreps all have frequency
0).  The entries are read off each element's exact coefficients, and :meth:`NormalForm.matrix` is the
sympy matrix of what is printed, so the tests compare it with ``element.matrix(phi, beta)`` exactly.

Tables (:func:`group_table_latex`, :func:`table_lines`) are symbolic by default with one block of rows per
kind of irrep pair (the paper's appendix), or concrete with one block per pair.  The output uses only
commands that both KaTeX and amsmath/amssymb know: ``bmatrix``, ``aligned`` and ``array`` environments,
``\\cos``, ``\\sin``, ``\\frac``, ``\\mathbb``, ``\\text``...

Finite groups need a band limit ``F`` to enumerate the aliases ``t``: when neither
``maximum_frequency`` nor ``maximum_offset`` is given, ``F`` defaults to ``N`` (one full period of
aliases).  SO(2) and O(2) have no aliasing and ignore both.  The kernel a layer samples (rings, widths,
per-ring cutoffs) is :func:`basisgen.layer_latex.kernel_latex`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ._lazy import lazy_import
from .derivation import _derive, check_bound, reference_frequency
from .errors import InvalidTypeError
from .groups import Group
from .harmonics import HarmonicElement, _symbol
from .latex_document import latex_document, legend
from .irreps import Irrep

sp = lazy_import("sympy")

__all__ = ["element_latex", "pair_latex", "group_table_latex", "table_lines", "normal_form", "NormalForm",
           "latex_symbols"]


@lru_cache(maxsize=None)
def latex_symbols() -> Dict[str, Any]:
    """The sympy symbols of the printed formulas: the real angles ``phi`` and ``beta`` (those of
    :meth:`HarmonicElement.matrix`) and the integers ``m``, ``n``, ``N``, ``t``."""
    return {"phi": _symbol("phi"), "beta": _symbol("beta"),
            **{name: sp.Symbol(name, integer=True) for name in ("m", "n", "N", "t")}}


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


def _signed(term: str, first: bool) -> str:
    if first:
        return term
    return " - " + term[1:] if term.startswith("-") else " + " + term


def _coefficient_term(c: "sp.Expr", body: str) -> str:
    if c == 1:
        return body
    if c == -1:
        return "-" + body
    text = sp.latex(c)
    if c.is_Add:
        text = r"\left(" + text + r"\right)"
    return f"{text} {body}"


def _frequency(element: HarmonicElement, symbolic: bool) -> Tuple[str, "sp.Expr"]:
    """The frequency's text and value: ``(m - n + tN)`` and its sympy expression in :func:`latex_symbols`
    (symbolic), else ``|mu|`` (concrete: the sign goes into the sines by parity)."""
    if not symbolic or (element.out_irrep.group.continuous and element.shape == (1, 1)):
        # SO(2), O(2): between one-dimensional irreps (frequency 0) mu = m - n is always 0
        return str(abs(element.mu)), sp.Integer(abs(element.mu))
    form = _frequency_form(element)
    m, n, N, t = (latex_symbols()[k] for k in "mnNt")
    value = {"t": t, "m - n": m - n, "m + n": m + n, "m - n + tN": m - n + t * N,
             "m + n + tN": m + n + t * N}[form]
    return (form if " " not in form else f"({form})"), value


def _canonical_coefficients(element: HarmonicElement) -> Tuple[List[List["sp.Expr"]], List[List["sp.Expr"]]]:
    """The coefficients ``(C, S)`` of ``cos(mu phi')`` and ``sin(mu phi')`` per entry, the phase folded in.

    For mu != 0 they are the element's own.  For mu = 0 only C is determined (sin 0 = 0); S is then the
    one the shape's template with the element's phase gives, so that an element with mu = 0 prints with the
    same formula as its aliases with mu != 0 (one family of aliases, one formula).
    """
    C = [[_expr(c) for c in row] for row in element.cos_coefficients]
    S = [[_expr(c) for c in row] for row in element.sin_coefficients]
    if element.mu != 0:
        return C, S
    rows, cols = element.shape
    g = _expr(element.gamma)
    cg, sg = sp.cos(g), sp.sin(g)
    a, b = _template((rows, cols), element.s)     # A = a cos(theta + gamma) + b sin(theta + gamma)
    C_t = [[a[i][j] * cg + b[i][j] * sg for j in range(cols)] for i in range(rows)]
    S_t = [[b[i][j] * cg - a[i][j] * sg for j in range(cols)] for i in range(rows)]
    if all(_is_zero(C_t[i][j] - C[i][j]) for i in range(rows) for j in range(cols)):
        return C_t, S_t
    return C, S


@dataclass(frozen=True)
class NormalForm:
    r"""An angular element in the printed normal form: ``factor * [sum of c cos(k phi') + s sin(k phi')]``.

    ``phi'`` is ``phi - beta`` for groups with reflections, else ``phi``; ``k`` is ``|mu|`` (concrete, the
    sign of mu moved into the sines: ``cos`` is even, ``sin`` odd) or the closed form in m, n, N, t
    (symbolic).  Phases are folded into the coefficients (``cos(theta + pi/2) = -sin(theta)``), a scalar
    common to every non-zero coefficient of a matrix is pulled out in front, and an element with k = 0 is
    a constant matrix.  :meth:`matrix` is the sympy matrix of exactly what :meth:`latex` prints.

    Examples
    --------
    >>> from basisgen import cyclic_group
    >>> from basisgen.derivation import derive_angular_basis
    >>> G = cyclic_group(8)
    >>> A = derive_angular_basis(G, G.irrep(1), G.irrep(2), maximum_frequency=5)[4]
    >>> (A.mu, A.s, A.gamma)      # R(-5 phi + pi/2) X
    (-5, 1, pi/2)
    >>> normal_form(A).latex()
    '\\begin{bmatrix} \\sin(5\\phi) & \\cos(5\\phi) \\\\ \\cos(5\\phi) & -\\sin(5\\phi) \\end{bmatrix}'
    """

    factor: "sp.Expr"
    cos_coefficients: Tuple[Tuple["sp.Expr", ...], ...]
    sin_coefficients: Tuple[Tuple["sp.Expr", ...], ...]
    frequency_text: str
    frequency: "sp.Expr"
    reflection: bool

    @property
    def constant(self) -> bool:
        return self.frequency == 0

    def angle(self) -> "sp.Expr":
        """``phi'``: the symbol phi, minus beta for groups with reflections."""
        phi, beta = latex_symbols()["phi"], latex_symbols()["beta"]
        return phi - beta if self.reflection else phi

    def matrix(self) -> "sp.Matrix":
        """The sympy matrix in :func:`latex_symbols` (phi, beta, and m, n, N, t in symbolic mode) that :meth:`latex` prints."""
        theta = self.frequency * self.angle()
        C, S = sp.Matrix(self.cos_coefficients), sp.Matrix(self.sin_coefficients)
        if self.constant:
            return self.factor * C
        return self.factor * (C * sp.cos(theta) + S * sp.sin(theta))

    def _argument(self) -> str:
        angle = r"(\phi - \beta)" if self.reflection else r"\phi"
        if self.frequency_text == "1":
            return angle[1:-1] if self.reflection else angle
        return self.frequency_text + angle

    def _entry(self, c: "sp.Expr", s: "sp.Expr") -> str:
        if self.constant:
            return sp.latex(c)
        argument = self._argument()
        terms = [_coefficient_term(x, rf"\{f}({argument})") for x, f in ((c, "cos"), (s, "sin")) if not _is_zero(x)]
        return "".join(_signed(t, i == 0) for i, t in enumerate(terms)) or "0"

    def latex(self) -> str:
        """The LaTeX (math mode, no ``$``): a ``bmatrix`` for matrices, a plain expression for 1x1."""
        entries = [[self._entry(c, s) for c, s in zip(rc, rs)]
                   for rc, rs in zip(self.cos_coefficients, self.sin_coefficients)]
        body = _layout(entries)
        if self.factor == 1:
            return body
        if self.factor == -1:
            return "-" + body
        return _coefficient_term(self.factor, body)


def _common_factor(values: Sequence["sp.Expr"]) -> "sp.Expr":
    """The scalar to pull out of a matrix: the magnitude shared by all non-zero ``values`` (1 if they differ),
    negative when every one of them is negative."""
    nonzero = [v for v in values if not _is_zero(v)]
    if not nonzero:
        return sp.Integer(1)
    magnitudes = {sp.nsimplify(sp.Abs(v)) for v in nonzero}
    factor = magnitudes.pop() if len(magnitudes) == 1 else sp.Integer(1)
    if all(v.could_extract_minus_sign() for v in nonzero):
        factor = -factor
    return factor


def normal_form(element: HarmonicElement, symbolic: bool = False) -> NormalForm:
    """The :class:`NormalForm` that :func:`element_latex` prints for ``element``."""
    if not isinstance(element, HarmonicElement):
        raise InvalidTypeError(f"element must be a HarmonicElement, got {type(element).__name__}")
    C, S = _canonical_coefficients(element)
    text, frequency = _frequency(element, symbolic)
    if not symbolic and element.mu < 0:
        S = [[-x for x in row] for row in S]
    if frequency == 0:
        S = [[sp.Integer(0) for _ in row] for row in S]
    factor = sp.Integer(1)
    if element.shape != (1, 1):
        factor = _common_factor([x for M in (C, S) for row in M for x in row])
        C = [[sp.nsimplify(x / factor) for x in row] for row in C]
        S = [[sp.nsimplify(x / factor) for x in row] for row in S]
    return NormalForm(factor, tuple(map(tuple, C)), tuple(map(tuple, S)), text, frequency,
                      element.out_irrep.group.has_reflection)


def _layout(entries: List[List[str]]) -> str:
    if len(entries) == 1 and len(entries[0]) == 1:
        return entries[0][0]
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(row) for row in entries) + r" \end{bmatrix}"


def element_latex(element: HarmonicElement, symbolic: bool = False) -> str:
    r"""One angular basis element as LaTeX (math mode, no ``$``), equal to ``element.matrix(phi, beta)``.

    Written in the simplest form (:class:`NormalForm`): cosines and sines of a non-negative multiple of
    ``phi`` (``phi - beta`` with reflections), the phase folded into their signs, a common scalar in front.

    Parameters
    ----------
    element:
        A derived :class:`~basisgen.harmonics.HarmonicElement`.
    symbolic:
        If true, write the frequency in closed form in m (output frequency), n (input frequency), N and
        t; otherwise (default) substitute the integers (constant entries for mu = 0).

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
    >>> A = derive_angular_basis(G, G.irrep(1), G.irrep(2), maximum_frequency=5)[5]
    >>> (A.mu, A.s, A.gamma)
    (3, 1, pi/2)
    >>> element_latex(A)
    '\\begin{bmatrix} -\\sin(3\\phi) & \\cos(3\\phi) \\\\ \\cos(3\\phi) & \\sin(3\\phi) \\end{bmatrix}'
    >>> element_latex(A, symbolic=True)
    '\\begin{bmatrix} -\\sin((m + n + tN)\\phi) & \\cos((m + n + tN)\\phi) \\\\ \\cos((m + n + tN)\\phi) & \\sin((m + n + tN)\\phi) \\end{bmatrix}'
    """
    return normal_form(element, symbolic).latex()


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
               maximum_offset: Optional[int] = None, symbolic: bool = False) -> List[str]:
    r"""One formula per angular element of the pair ``in_irrep -> out_irrep``, in e2cnn's order.

    Each formula reads ``A_{i}(\phi) = ...`` (math mode, no ``$``), with the pair's values (default) or in
    closed form in m, n, N, t (``symbolic=True``; then the element's offset ``t`` follows).  Irreps are
    :class:`Irrep` objects of ``group`` or their ids.  An empty list means the constraint admits only the
    zero kernel (within the band, for finite groups).

    Examples
    --------
    >>> from basisgen import dihedral_group
    >>> G = dihedral_group(4)
    >>> for formula in pair_latex(G, (1, 1), (1, 0), maximum_frequency=3):
    ...     print(formula)
    A_{1}(\phi) = \begin{bmatrix} \sin(3(\phi - \beta)) & \cos(3(\phi - \beta)) \end{bmatrix}
    A_{2}(\phi) = \begin{bmatrix} -\sin(\phi - \beta) & \cos(\phi - \beta) \end{bmatrix}
    >>> pair_latex(G, (1, 1), (1, 0), maximum_frequency=3, symbolic=True)[0]
    'A_{1}(\\phi) = \\begin{bmatrix} -\\sin((m + n + tN)(\\phi - \\beta)) & \\cos((m + n + tN)(\\phi - \\beta)) \\end{bmatrix}, \\qquad t = -1'
    """
    psi_in, psi_out, F, T, elements = _elements(group, in_irrep, out_irrep, maximum_frequency, maximum_offset)
    out = []
    for i, e in enumerate(elements, start=1):
        text = rf"A_{{{i}}}(\phi) = " + element_latex(e, symbolic)
        if symbolic and _uses_t(group):
            text += rf", \qquad t = {e.t}"
        out.append(text)
    return out


def _pair_label(group: Group, psi: Irrep, letter: str) -> str:
    r"""``\psi_{1}\ (n = 1)``: one irrep as a table labels it (no frequency for N = 1, where mu = t)."""
    if group.rotation_order == 1:
        return _irrep_latex(psi)
    return _irrep_latex(psi) + rf"\ ({letter} = {psi.frequency})"


def _kind(group: Group, psi: Irrep) -> Tuple[Any, Dict[str, str]]:
    """The kind of an irrep, as the tables of the paper's appendix tell them apart: each one-dimensional
    irrep is a kind of its own (its frequency written ``N/2`` where it is N/2), the two-dimensional ones
    are one kind (frequency n or m).  Returns a key and the label as input (``n``) and as output (``m``)."""
    N = group.rotation_order
    if psi.dim == 2:
        head = "1," if group.has_reflection else ""
        bound = "0 < {v} < N/2" if N is not None else "{v} > 0"
        return ("2",), {v: rf"\psi_{{{head}{v}}}\ ({bound.format(v=v)})" for v in "nm"}
    if N == 1:
        return ("1",) + psi.id, {v: _irrep_latex(psi) for v in "nm"}
    frequency = "N/2" if N is not None and 2 * psi.frequency == N else str(psi.frequency)
    ids = ",".join([str(i) for i in psi.id[:-1]] + [frequency])
    return ("1",) + psi.id, {v: rf"\psi_{{{ids}}}\ ({v} = {frequency})" for v in "nm"}


def _cells(group: Group, psi_in: Irrep, psi_out: Irrep, F: Optional[int], T: Optional[int],
           symbolic: bool) -> List[List[str]]:
    """The formula and offset condition of each family (symbolic) or element (concrete) of one pair."""
    elements = _derive(group, psi_in, psi_out, F, T)
    if symbolic:
        cells = [[f, _index_set(m, F, T) if _uses_t(group) else ""] for f, m in _families(elements)]
    else:
        cells = [[element_latex(e), f"t = {e.t}" if _uses_t(group) else ""] for e in elements]
    return [c if _uses_t(group) else c[:1] for c in cells or [["0", ""]]]


def _table_rows(group: Group, F: Optional[int], T: Optional[int], symbolic: bool) -> List[List[str]]:
    """Rows ``[input, output, formula(, offsets)]``, input irrep outermost; a row's pair labels are empty when
    it continues the pair above.  Symbolic tables have one block of rows per kind of irrep pair
    (:func:`_kind`), written in m and n, unless the pairs of a kind differ (then one block per pair);
    concrete tables one block per pair."""
    blocks: Dict[Any, List[Tuple[Irrep, Irrep, List[List[str]]]]] = {}
    for psi_in in group.irreps:
        for psi_out in group.irreps:
            key = (_kind(group, psi_in)[0], _kind(group, psi_out)[0]) if symbolic else (psi_in, psi_out)
            blocks.setdefault(key, []).append((psi_in, psi_out, _cells(group, psi_in, psi_out, F, T, symbolic)))
    rows = []
    for members in blocks.values():
        psi_in, psi_out, cells = members[0]
        if symbolic and all(c == cells for _, _, c in members):
            labels = [[_kind(group, psi_in)[1]["n"], _kind(group, psi_out)[1]["m"], cells]]
        else:
            labels = [[_pair_label(group, i, "n"), _pair_label(group, o, "m"), c] for i, o, c in members]
        for first_in, first_out, block in labels:
            rows += [([first_in, first_out] if k == 0 else ["", ""]) + cell for k, cell in enumerate(block)]
    return rows


def table_lines(group: Group, maximum_frequency: Optional[int] = None, maximum_offset: Optional[int] = None,
                symbolic: bool = True) -> List[str]:
    r""":func:`group_table_latex`'s rows as one formula per line, each prefixed with its pair:
    ``\psi_{n}\ (0 < n < N/2) \to \psi_{m}\ (0 < m < N/2):\quad A(\phi) = ..., \qquad t \in ...``.

    Examples
    --------
    >>> from basisgen import so2_group
    >>> print("\n".join(table_lines(so2_group(1))[:2]))
    \psi_{0}\ (n = 0) \to \psi_{0}\ (m = 0):\quad A(\phi) = 1
    \psi_{0}\ (n = 0) \to \psi_{m}\ (m > 0):\quad A(\phi) = \begin{bmatrix} \cos((m + n)\phi) \\ \sin((m + n)\phi) \end{bmatrix}
    """
    group = _check_group(group)
    F, T = _bounds(group, maximum_frequency, maximum_offset)
    lines, pair = [], ""
    for row in _table_rows(group, F, T, symbolic):
        if row[0]:
            pair = rf"{row[0]} \to {row[1]}:\quad "
        lines.append(pair + r"A(\phi) = " + row[2] + "".join(r", \qquad " + c for c in row[3:] if c))
    return lines


def _array(rows: List[List[str]], header: List[str]) -> str:
    spec = "l" * len(header)
    body = " \\\\\n".join(" & ".join(r) for r in rows)
    return (f"\\begin{{array}}{{{spec}}}\n" + " & ".join(header) + r" \\" + "\n\\hline\n" + body
            + "\n\\end{array}")


def _command(group: Group, maximum_frequency: Any, maximum_offset: Any, symbolic: bool) -> str:
    """The call that reproduces a standalone table."""
    name = repr(group.name) + (f", maximum_frequency={group.maximum_frequency}" if group.continuous else "")
    bounds = (("maximum_frequency", maximum_frequency), ("maximum_offset", maximum_offset))
    args = [f"group_from_name({name})"] + [f"{k}={v!r}" for k, v in bounds if v is not None]
    args += ["standalone=True"] + ([] if symbolic else ["symbolic=False"])
    return "basisgen.latex.group_table_latex(" + ", ".join(args) + ")"


def group_table_latex(group: Group, maximum_frequency: Optional[int] = None, standalone: bool = False,
                      maximum_offset: Optional[int] = None, symbolic: bool = True, *,
                      command: Optional[str] = None) -> str:
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
        One block of rows per kind of irrep pair in closed form in m, n, N, t (default), or one per pair with the
        integers substituted.
    command:
        The command a standalone document names as its source (default: this function's call).

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
    \psi_{0} & \psi_{1} & -\sin(t(\phi - \beta)) & t \in \mathbb{Z},\ 0 < t \le F \\
    \psi_{1} & \psi_{0} & -\sin(t(\phi - \beta)) & t \in \mathbb{Z},\ 0 < t \le F \\
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
    command = command or _command(group, maximum_frequency, maximum_offset, symbolic)
    return latex_document(f"Steerable kernel bases of {group.name}", command,
                          [caption] + [_array(chunk, header) for chunk in chunks], legend(group, symbolic))
