r"""Convert the LaTeX that basisgen's printers emit to MathML Core, which browsers render natively.

:func:`latex_to_mathml` reads the subset of LaTeX that :mod:`basisgen.latex`, :mod:`basisgen.pdo_latex` and
the layer printers write (numbers, letters, operators, scripts, ``\frac``, ``\sqrt``, ``\left( \right)``,
functions such as ``\cos``, ``\sum``, Greek letters, ``\mathbb``, ``\hat``, ``\text``, spacing commands and
the ``bmatrix``/``pmatrix``, ``aligned``, ``array`` and ``cases`` environments) with a small tokenizer and a
recursive-descent parser.  Everything else raises :class:`~basisgen.errors.InvalidValueError` naming what is
not supported: no input text reaches the output unparsed, and every character written is escaped, so the
result can go straight into an HTML page.

Table layout (column alignment, ``\hline``) is written as inline CSS on the cells, which MathML Core
renderers honour; nothing in the output refers to anything outside it.
"""
from __future__ import annotations

import html
import re
from typing import List, NamedTuple, Optional, Sequence

from .errors import InvalidTypeError, InvalidValueError

__all__ = ["MATHML_NAMESPACE", "latex_to_mathml"]

MATHML_NAMESPACE = "http://www.w3.org/1998/Math/MathML"

_GREEK_LOWER = {
    "alpha": "\u03b1", "beta": "\u03b2", "gamma": "\u03b3", "delta": "\u03b4", "epsilon": "\u03f5",
    "varepsilon": "\u03b5", "zeta": "\u03b6", "eta": "\u03b7", "theta": "\u03b8", "vartheta": "\u03d1",
    "iota": "\u03b9", "kappa": "\u03ba", "lambda": "\u03bb", "mu": "\u03bc", "nu": "\u03bd", "xi": "\u03be",
    "pi": "\u03c0", "varpi": "\u03d6", "rho": "\u03c1", "varrho": "\u03f1", "sigma": "\u03c3",
    "varsigma": "\u03c2", "tau": "\u03c4", "upsilon": "\u03c5", "phi": "\u03d5", "varphi": "\u03c6",
    "chi": "\u03c7", "psi": "\u03c8", "omega": "\u03c9",
}
_GREEK_UPPER = {
    "Gamma": "\u0393", "Delta": "\u0394", "Theta": "\u0398", "Lambda": "\u039b", "Xi": "\u039e", "Pi": "\u03a0",
    "Sigma": "\u03a3", "Upsilon": "\u03a5", "Phi": "\u03a6", "Psi": "\u03a8", "Omega": "\u03a9",
}
#: ordinary symbols, written as identifiers
_IDENTIFIERS = {"infty": "\u221e", "partial": "\u2202", "nabla": "\u2207", "ell": "\u2113", "emptyset": "\u2205",
                "hbar": "\u210f"}
#: relations, binary operators and punctuation, written as operators
_OPERATORS = {
    "le": "\u2264", "leq": "\u2264", "ge": "\u2265", "geq": "\u2265", "ne": "\u2260", "neq": "\u2260",
    "in": "\u2208", "notin": "\u2209", "to": "\u2192", "rightarrow": "\u2192", "leftarrow": "\u2190",
    "mapsto": "\u21a6", "cdot": "\u22c5", "times": "\u00d7", "pm": "\u00b1", "mp": "\u2213",
    "dots": "\u2026", "ldots": "\u2026", "cdots": "\u22ef", "approx": "\u2248", "equiv": "\u2261",
    "sim": "\u223c", "subset": "\u2282", "subseteq": "\u2286", "cup": "\u222a", "cap": "\u2229",
    "circ": "\u2218", "mid": "\u2223", "colon": ":", "setminus": "\u2216", "otimes": "\u2297",
    "oplus": "\u2295", "ast": "\u2217", "{": "{", "}": "}", "|": "\u2016", "&": "&", "%": "%", "#": "#",
    "$": "$", "_": "_", "lvert": "|", "rvert": "|", "lVert": "\u2016", "rVert": "\u2016", "langle": "\u27e8",
    "rangle": "\u27e9",
}
#: operators whose scripts go below and above in display style
_LARGE_OPERATORS = {"sum": "\u2211", "prod": "\u220f"}
_FUNCTIONS = {"cos", "sin", "tan", "cot", "sec", "csc", "exp", "log", "ln", "arccos", "arcsin", "arctan", "cosh",
              "sinh", "tanh", "det", "dim", "max", "min", "arg", "ker", "deg", "gcd", "lim"}
_SPACES = {"quad": "1em", "qquad": "2em", ",": "0.1667em", ":": "0.2222em", ">": "0.2222em", ";": "0.2778em",
           " ": "0.3333em", "\n": "0.3333em", "\t": "0.3333em"}
_ACCENTS = {"hat": "^", "bar": "\u00af", "tilde": "\u02dc", "vec": "\u2192", "dot": "\u02d9"}
_DOUBLE_STRUCK_EXCEPTIONS = {"C": "\u2102", "H": "\u210d", "N": "\u2115", "P": "\u2119", "Q": "\u211a",
                             "R": "\u211d", "Z": "\u2124"}
#: characters that are operators in math mode ('-' is the minus sign)
_CHARACTERS = {"+": "+", "-": "\u2212", "=": "=", ",": ",", "(": "(", ")": ")", "[": "[", "]": "]", "|": "|",
               "<": "<", ">": ">", ":": ":", ";": ";", "!": "!", "/": "/", ".": ".", "*": "\u2217"}
#: operators that LaTeX does not stretch unless written with \left and \right
_FENCES = {"(", ")", "[", "]", "|", "{", "}", "\u2016", "/", "\u27e8", "\u27e9"}
#: operators that LaTeX spaces as ordinary symbols (|x|, 2\pi/N), where MathML's dictionary would add space
_ORDINARY = {"|", "\u2016", "/"}
_DELIMITERS = {"(": "(", ")": ")", "[": "[", "]": "]", "|": "|", "/": "/", "\\{": "{", "\\}": "}",
               "\\|": "\u2016", "\\langle": "\u27e8", "\\rangle": "\u27e9", "\\lvert": "|", "\\rvert": "|",
               "\\lVert": "\u2016", "\\rVert": "\u2016"}
_MATRICES = {"matrix": ("", ""), "bmatrix": ("[", "]"), "pmatrix": ("(", ")"), "vmatrix": ("|", "|"),
             "Vmatrix": ("\u2016", "\u2016"), "Bmatrix": ("{", "}")}
_TEXT_ESCAPES = {"{": "{", "}": "}", "_": "_", "&": "&", "%": "%", "$": "$", "#": "#", " ": " "}
_TEXT_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)
_TOKEN = re.compile(r"\\([A-Za-z]+)|\\(.)|(\d+(?:\.\d+)?)|([A-Za-z])|(\s+)|(.)", re.DOTALL)
#: tokens that end an expression; which of them may end one depends on where it is
_CLOSERS = ("}", "&", "\\\\", "\\end", "\\right")


class _Token(NamedTuple):
    kind: str       # "command", "number", "letter", "char", "end"
    value: str      # the command's name with its backslash, the number, the letter or the character
    start: int
    stop: int


class _Node:
    """One MathML element: a tag, attributes, and either text or child elements."""

    __slots__ = ("tag", "attrs", "children", "text", "scripted")

    def __init__(self, tag: str, children: Sequence["_Node"] = (), text: Optional[str] = None, **attrs: str):
        self.tag, self.children, self.text, self.attrs = tag, list(children), text, dict(attrs)
        self.scripted = False   # made by ^ or _ (a second script of the other kind joins it)

    def xml(self) -> str:
        attrs = "".join(f' {k}="{html.escape(str(v), quote=True)}"' for k, v in self.attrs.items())
        inner = html.escape(self.text, quote=True) if self.text is not None else "".join(c.xml() for c in self.children)
        return f"<{self.tag}{attrs}>{inner}</{self.tag}>"


def _row(items: Sequence[_Node]) -> _Node:
    return items[0] if len(items) == 1 else _Node("mrow", items)


def _operator(char: str, **attrs: str) -> _Node:
    if char in _FENCES and "stretchy" not in attrs:
        attrs["stretchy"] = "false"
    if char in _ORDINARY:
        attrs.update(lspace="0", rspace="0")
    return _Node("mo", text=char, **attrs)


class _Parser:
    """Recursive descent over the tokens of one formula; every method returns MathML nodes."""

    def __init__(self, tex: str):
        self.tex, self.position = tex, 0

    # ---- tokens ----------------------------------------------------------------------------------
    def peek(self) -> _Token:
        position = self.position
        while True:
            match = _TOKEN.match(self.tex, position)
            if match is None:
                return _Token("end", "", position, position)
            if match.group(5) is None:
                break
            position = match.end()
        command, symbol, number, letter, _, char = match.groups()
        if command is not None or symbol is not None:
            return _Token("command", "\\" + (command if command is not None else symbol), match.start(), match.end())
        if number is not None:
            return _Token("number", number, match.start(), match.end())
        if letter is not None:
            return _Token("letter", letter, match.start(), match.end())
        return _Token("char", char, match.start(), match.end())

    def next(self) -> _Token:
        token = self.peek()
        self.position = token.stop
        return token

    def fail(self, message: str, token: Optional[_Token] = None) -> InvalidValueError:
        where = self.position if token is None else token.start
        excerpt = self.tex if len(self.tex) <= 80 else self.tex[max(0, where - 30):where + 30]
        return InvalidValueError(f"latex_to_mathml: {message} at position {where} of {excerpt!r}")

    def expect(self, value: str) -> _Token:
        token = self.next()
        if token.value != value or token.kind == "end":
            raise self.fail(f"expected {value!r}, found {token.value or 'the end'!r}", token)
        return token

    # ---- expressions -------------------------------------------------------------------------------
    def expression(self, stops: Sequence[str]) -> List[_Node]:
        """Nodes up to (not including) one of ``stops`` or the end; other closers are errors."""
        items: List[_Node] = []
        while True:
            token = self.peek()
            if token.kind == "end" or (token.value in stops and token.kind in ("char", "command")):
                return items
            if token.value in _CLOSERS and token.kind in ("char", "command"):
                raise self.fail(f"unexpected {token.value!r}", token)
            if token.kind == "char" and token.value in "^_":
                self.next()
                items.append(self.script(items.pop() if items else _Node("mrow"), token))
            elif token.kind == "char" and token.value == "'":
                self.next()
                base = items.pop() if items else _Node("mrow")
                items.append(_Node("msup", [base, _Node("mo", text="\u2032")]))
            else:
                items.extend(self.atom())

    def script(self, base: _Node, token: _Token) -> _Node:
        argument = self.argument()
        sub = token.value == "_"
        if base.scripted and base.tag in ("msub", "munder") and not sub:
            node = _Node("msubsup" if base.tag == "msub" else "munderover", base.children + [argument])
        elif base.scripted and base.tag in ("msup", "mover") and sub:
            node = _Node("msubsup" if base.tag == "msup" else "munderover",
                         [base.children[0], argument, base.children[1]])
        elif base.scripted:
            raise self.fail("double subscript" if sub else "double superscript", token)
        else:
            large = base.tag == "mo" and base.text in _LARGE_OPERATORS.values()
            node = _Node(("munder" if sub else "mover") if large else ("msub" if sub else "msup"), [base, argument])
        node.scripted = node.tag in ("msub", "msup", "munder", "mover")
        return node

    def argument(self) -> _Node:
        """The argument of a command or script: a ``{...}`` group or a single token (one digit of a number)."""
        token = self.peek()
        if token.kind == "char" and token.value == "{":
            return _row(self.group())
        if token.kind == "end" or (token.value in _CLOSERS and token.kind in ("char", "command")) or (
                token.kind == "char" and token.value in "^_'"):
            raise self.fail(f"missing argument before {token.value or 'the end'!r}", token)
        if token.kind == "number":
            self.position = token.start + 1
            return _Node("mn", text=token.value[0])
        nodes = self.atom()
        return _row(nodes) if nodes else _Node("mrow")

    def group(self) -> List[_Node]:
        self.expect("{")
        items = self.expression(("}",))
        self.expect("}")
        return items

    def atom(self) -> List[_Node]:
        token = self.next()
        if token.kind == "number":
            return [_Node("mn", text=token.value)]
        if token.kind == "letter":
            return [_Node("mi", text=token.value)]
        if token.kind == "char":
            if token.value == "{":
                self.position = token.start
                return [_Node("mrow", self.group())]
            if token.value == "~":
                return [_Node("mspace", width=_SPACES[" "])]
            if token.value in _CHARACTERS:
                return [_operator(_CHARACTERS[token.value])]
            raise self.fail(f"unsupported character {token.value!r}", token)
        return self.command(token)

    # ---- commands --------------------------------------------------------------------------------
    def command(self, token: _Token) -> List[_Node]:
        name = token.value[1:]
        if name in _GREEK_LOWER:
            return [_Node("mi", text=_GREEK_LOWER[name])]
        if name in _GREEK_UPPER:
            return [_Node("mi", text=_GREEK_UPPER[name], mathvariant="normal")]
        if name in _IDENTIFIERS:
            return [_Node("mi", text=_IDENTIFIERS[name])]
        if name in _OPERATORS:
            return [_operator(_OPERATORS[name])]
        if name in _LARGE_OPERATORS:
            return [_Node("mo", text=_LARGE_OPERATORS[name])]
        if name in _SPACES:
            return [_Node("mspace", width=_SPACES[name])]
        if name in _FUNCTIONS:
            return [_Node("mi", text=name, mathvariant="normal"), _Node("mo", text="\u2061")]
        if name == "frac":
            return [_Node("mfrac", [self.argument(), self.argument()])]
        if name == "sqrt":
            if self.peek().value == "[":
                self.next()
                index = self.expression(("]",))
                self.expect("]")
                return [_Node("mroot", [self.argument(), _row(index)])]
            return [_Node("msqrt", [self.argument()])]
        if name in _ACCENTS:
            return [_Node("mover", [self.argument(), _Node("mo", text=_ACCENTS[name])], accent="true")]
        if name == "left":
            return [self.fenced(token)]
        if name == "mathbb":
            return [_Node("mi", text=self.double_struck(self.word(token)))]
        if name in ("mathrm", "operatorname"):
            word = self.word(token, allowed=r"[A-Za-z0-9]")
            return [_Node("mi", text=word, mathvariant="normal")] + [_Node("mo", text="\u2061")] * (
                name == "operatorname")
        if name in ("text", "textrm", "mbox"):
            return [_Node("mtext", text=self.text())]
        if name == "begin":
            return [self.environment(token)]
        if name in ("right", "end", "\\", "hline"):
            raise self.fail(f"unexpected {token.value}", token)
        raise self.fail(f"unsupported command {token.value}", token)

    def fenced(self, left: _Token) -> _Node:
        opening = self.delimiter()
        items = self.expression(("\\right",))
        if self.peek().value != "\\right":
            raise self.fail("\\left without \\right", left)
        self.next()
        closing = self.delimiter()
        fences = [_Node("mo", text=d, fence="true", stretchy="true", symmetric="true") if d else None
                  for d in (opening, closing)]
        return _Node("mrow", [n for n in [fences[0], _row(items) if items else None, fences[1]] if n is not None])

    def delimiter(self) -> str:
        token = self.next()
        if token.value == "." and token.kind == "char":
            return ""
        if token.value in _DELIMITERS and token.kind in ("char", "command"):
            return _DELIMITERS[token.value]
        raise self.fail(f"unsupported delimiter {token.value or 'the end'!r} after \\left or \\right", token)

    def word(self, command: _Token, allowed: str = "[A-Za-z]") -> str:
        """The raw text of a ``{...}`` argument that may hold only ``allowed`` characters (``\\mathbb{Z}``)."""
        self.expect("{")
        end = self.tex.find("}", self.position)
        text = self.tex[self.position:end if end >= 0 else len(self.tex)].strip()
        if end < 0 or not text or not all(re.fullmatch(allowed, c) for c in text):
            raise self.fail(f"{command.value} takes a group of characters matching {allowed}, got {text!r}", command)
        self.position = end + 1
        return text

    @staticmethod
    def double_struck(word: str) -> str:
        return "".join(_DOUBLE_STRUCK_EXCEPTIONS.get(c, chr(0x1D538 + ord(c) - ord("A")) if c.isupper()
                               else chr(0x1D552 + ord(c) - ord("a"))) for c in word)

    def text(self) -> str:
        r"""The raw content of ``\text{...}``: nested braces kept, ``\{ \} \_ \& \% \$ \# \ `` unescaped."""
        self.expect("{")
        out, depth, i = [], 0, self.position
        while True:
            if i >= len(self.tex):
                raise self.fail("\\text{ without its closing }")
            c = self.tex[i]
            if c == "\\":
                match = _TEXT_COMMAND.match(self.tex, i)
                if match is None or match.group(1) not in _TEXT_ESCAPES:
                    self.position = i
                    raise self.fail(f"unsupported command \\{match.group(1) if match else ''} inside \\text")
                out.append(_TEXT_ESCAPES[match.group(1)])
                i = match.end()
                continue
            if c == "}" and depth == 0:
                break
            depth += (c == "{") - (c == "}")
            out.append("\u00a0" if c == "~" else c)
            i += 1
        self.position = i + 1
        text = "".join(out)
        # spaces at the ends of an mtext are trimmed by renderers: keep them as no-break spaces
        stripped = text.strip(" ")
        if not stripped:
            return "\u00a0" * len(text)
        start = text.index(stripped)
        return "\u00a0" * start + stripped + "\u00a0" * (len(text) - start - len(stripped))

    # ---- environments ------------------------------------------------------------------------------
    def environment(self, begin: _Token) -> _Node:
        name = self.word(begin, allowed=r"[A-Za-z*]")
        if name == "array":
            aligns = self.column_spec(begin)
        elif name == "aligned":
            aligns = ["right", "left"]
        elif name == "cases":
            aligns = ["left", "left"]
        elif name in _MATRICES:
            aligns = ["center"]
        else:
            raise self.fail(f"unsupported environment {name!r}", begin)
        rows, lines = self.rows()
        end = self.position
        closing = self.word(begin, allowed=r"[A-Za-z*]")
        if closing != name:
            self.position = end
            raise self.fail(f"\\begin{{{name}}} ended by \\end{{{closing}}}")
        table = self.table(rows, lines, aligns, pairs=name == "aligned")
        if name == "aligned":
            table.attrs["displaystyle"] = "true"
            return table
        if name == "cases":
            return _Node("mrow", [_Node("mo", text="{", stretchy="true"), table])
        if name == "array":
            return table
        left, right = _MATRICES[name]
        return _Node("mrow", ([_Node("mo", text=left, stretchy="true")] if left else []) + [table]
                     + ([_Node("mo", text=right, stretchy="true")] if right else []))

    def column_spec(self, begin: _Token) -> List[str]:
        spec = self.word(begin, allowed=r"[lcr|\s]").replace("|", "").replace(" ", "")
        if not spec:
            raise self.fail("\\begin{array} needs columns l, c or r", begin)
        return [{"l": "left", "c": "center", "r": "right"}[c] for c in spec]

    def rows(self):
        r"""Cells up to ``\end``: a list of rows of cells (lists of nodes) and, per row, the number of ``\hline``
        before it (one entry more: the lines after the last row)."""
        rows: List[List[List[_Node]]] = []
        lines: List[int] = []
        while True:
            count = 0
            while self.peek().value == "\\hline":
                self.next()
                count += 1
            lines.append(count)
            cells = [self.expression(("&", "\\\\", "\\end"))]
            while self.peek().value == "&":
                self.next()
                cells.append(self.expression(("&", "\\\\", "\\end")))
            token = self.next()
            if token.kind == "end":
                raise self.fail("\\begin without \\end", token)
            rows.append(cells)
            if token.value == "\\end":
                break
        after = 0
        if len(rows) > 1 and rows[-1] == [[]]:     # a final \\ before \end starts no row; its \hline closes the table
            rows.pop()
            after = lines.pop()
        return rows, lines + [after]

    @staticmethod
    def table(rows: List[List[List[_Node]]], lines: List[int], aligns: List[str], pairs: bool) -> _Node:
        width = max(len(r) for r in rows)
        out = []
        for r, cells in enumerate(rows):
            tds = []
            for c in range(width):
                align = aligns[c % len(aligns)] if pairs else aligns[min(c, len(aligns) - 1)]
                style = [f"text-align: {align}"]
                if pairs:   # aligned: each right/left pair of columns meets without a gap
                    style.append("padding-right: 0" if c % 2 == 0 else "padding-left: 0")
                if lines[r]:
                    style.append("border-top: 1px solid currentColor")
                if r == len(rows) - 1 and lines[r + 1]:
                    style.append("border-bottom: 1px solid currentColor")
                items = cells[c] if c < len(cells) else []
                tds.append(_Node("mtd", items, columnalign=align, style="; ".join(style)))
            out.append(_Node("mtr", tds))
        return _Node("mtable", out)


def latex_to_mathml(tex: str, display: bool = True) -> str:
    r"""The MathML Core markup of a formula in basisgen's LaTeX subset (math mode, no ``$``).

    Parameters
    ----------
    tex:
        The formula, as :func:`basisgen.latex.pair_latex` and the other printers write it.
    display:
        ``display="block"`` (a displayed equation) if true, else ``display="inline"``.

    Returns
    -------
    str
        One ``<math>`` element in the MathML namespace; every character taken from ``tex`` is escaped.

    Raises
    ------
    InvalidValueError
        For a command, environment or character outside the subset, or unbalanced input; the message names it.

    Examples
    --------
    >>> latex_to_mathml(r"\frac{1}{2}", display=False)
    '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><mfrac><mn>1</mn><mn>2</mn></mfrac></math>'
    >>> latex_to_mathml(r"x^{2}")
    '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><msup><mi>x</mi><mn>2</mn></msup></math>'
    >>> latex_to_mathml(r"\foo")
    Traceback (most recent call last):
    ...
    basisgen.errors.InvalidValueError: latex_to_mathml: unsupported command \foo at position 0 of '\\foo'
    """
    if not isinstance(tex, str):
        raise InvalidTypeError(f"tex must be a str of LaTeX, got {type(tex).__name__}")
    if not isinstance(display, bool):
        raise InvalidTypeError(f"display must be a bool, got {display!r}")
    try:
        body = "".join(n.xml() for n in _Parser(tex).expression(()))
    except RecursionError:
        raise InvalidValueError(f"latex_to_mathml: the formula nests groups too deeply ({len(tex)} characters)"
                                ) from None
    return f'<math xmlns="{MATHML_NAMESPACE}" display="{"block" if display else "inline"}">{body}</math>'

