"""The notation of representations: ``"3x trivial + 10x regular + 2x irrep(1) + quotient((None, 2))"``.

One grammar for every place that names representations in text (``FieldType.parse``, the command
line's ``--in``/``--out``/``--repr``); this module reads it into plain terms, without a group, and
:func:`representations` resolves the terms on a :class:`basisgen.Group`.

Terms are joined by ``+``; each has an optional multiplicity (``3x``, ``3 x``, ``3*``) and a token:

==========================================  ===========================================================
token                                       term (``kind``, ``args``)
==========================================  ===========================================================
``trivial``                                 ``("trivial", ())``
``regular`` (or ``reg``)                    ``("regular", ())``
``irrep(k)``, ``irrep(j, k)``               ``("irrep", (k,))``, ``("irrep", (j, k))``
``quotient(id)``, ``quot(id)``,             ``("quotient", (id,))``, e.g. ``quotient((None, 2))``
``quotient[id]``
``induced(id, irrep(k))``,                  ``("induced", (id, inner))``: ``inner`` is an ``irrep`` or a
``induced[id][irrep_k]``                    ``name`` term of the subgroup ``id``
any other text                              ``("name", (text,))``: a representation known by that name
                                            (e.g. ``irrep_1,1``)
==========================================  ===========================================================

e2cnn's ``repr`` of a field type, ``[8-Rotations: {regular, irrep_1}]``, reads as its names (one field
each), with the gspace name in :attr:`Notation.space`.  Subgroup ids are read by a small grammar
(integers, ``None`` and tuples of them): nothing is evaluated.  Reading is linear in the length of the
text and bounded: at most ``limits.MAX_NOTATION_LENGTH`` characters, brackets nested at most
``limits.MAX_NOTATION_DEPTH`` deep, at most ``limits.MAX_FIELDS`` fields.  Every error is an
:class:`~basisgen.errors.InvalidValueError` (:class:`~basisgen.errors.InvalidTypeError` for a text that
is not a str) quoting at most an excerpt of the text.

Examples
--------
>>> parse("3x trivial + irrep(1, 0)").terms
[Term(count=3, kind='trivial', args=()), Term(count=1, kind='irrep', args=(1, 0))]
>>> import basisgen
>>> [rho.size for rho in representations(basisgen.dihedral_group(4), "regular + quotient((None, 2))")]
[8, 4]
"""
from __future__ import annotations

import re
from typing import Any, List, NamedTuple, Optional, Tuple

from . import limits
from .errors import InvalidTypeError, InvalidValueError

__all__ = ["Term", "Notation", "parse", "parse_token", "format_term", "representation", "representations",
           "irrep_ids", "excerpt", "bounded"]

_MULTIPLICITY = re.compile(r"\s*([0-9]+)\s*[x*]\s*(?=\S)")
_CALL_HEAD = re.compile(r"(\w+)\s*\(")
_ID_TOKEN = re.compile(r"\s*(?:(None)|(-?[0-9]+)|([(),]))")
_SPACES = re.compile(r"\s*")
_BRACKETS = re.compile(r"[()\[\]{}]")
_OPEN = "([{"
_MAX_DIGITS = 18
_HINT = "use trivial, regular, irrep(...), quotient(id), induced(id, irrep(...))"


class Term(NamedTuple):
    """``count`` fields of the representation that ``kind`` and ``args`` name (see the module docstring)."""

    count: int
    kind: str
    args: Tuple[Any, ...]


class Notation(NamedTuple):
    """A parsed text: its terms, and the gspace name when the text is e2cnn's ``repr`` form (else None)."""

    space: Optional[str]
    terms: List[Term]


def excerpt(text: str, width: int = 60) -> str:
    """``repr(text)``, shortened to about ``width`` characters for long texts."""
    if len(text) <= width:
        return repr(text)
    return f"{text[:width - 15]!r}...{text[-10:]!r} ({len(text)} characters)"


def bounded(message: str, width: int = 400) -> str:
    """``message``, cut to at most ``width`` characters."""
    return message if len(message) <= width else message[:width - 3] + "..."


# ---- subgroup ids: int | None | (id, id, ...) ---------------------------------------------------------
def parse_id(text: str, whole: str) -> Any:
    """The subgroup id that ``text`` (a part of ``whole``) spells."""
    value, pos = _id_at(text, 0, 0, whole)
    if _SPACES.match(text, pos).end() != len(text):
        raise InvalidValueError(f"unexpected {excerpt(text[pos:].strip(), 30)} after the subgroup id in "
                                f"{excerpt(whole)}")
    return value


def _id_at(text: str, pos: int, depth: int, whole: str) -> Tuple[Any, int]:
    """The id starting at ``pos`` and the position after it; one token per call, so linear."""
    match = _ID_TOKEN.match(text, pos)
    if match is None or match.group(3) in (")", ","):
        raise InvalidValueError(f"a subgroup id is an int, None or a tuple of them; cannot read "
                                f"{excerpt(text[pos:].strip(), 30)} in {excerpt(whole)}")
    if match.group(1):
        return None, match.end()
    if match.group(2):
        digits = match.group(2)
        if len(digits.lstrip("-")) > _MAX_DIGITS:
            raise InvalidValueError(f"the integer {excerpt(digits, 30)} in {excerpt(whole)} is too large")
        return int(digits), match.end()
    if depth >= limits.MAX_NOTATION_DEPTH:
        raise limits.LimitExceededError(limits.exceeded(
            f"the subgroup id in {excerpt(whole)} nests tuples deeper than {depth}", "MAX_NOTATION_DEPTH"))
    items, pos = [], match.end()
    while True:
        close = _ID_TOKEN.match(text, pos)
        if close is not None and close.group(3) == ")":
            return tuple(items), close.end()
        item, pos = _id_at(text, pos, depth + 1, whole)
        items.append(item)
        separator = _ID_TOKEN.match(text, pos)
        if separator is not None and separator.group(3) == ",":
            pos = separator.end()
        elif separator is None or separator.group(3) != ")":
            raise InvalidValueError(f"expected ',' or ')' in the subgroup id of {excerpt(whole)}")


def _split_top(text: str, separator: str, whole: str) -> List[str]:
    """``text`` split at ``separator`` where it is outside every bracket (nesting at most
    ``limits.MAX_NOTATION_DEPTH`` deep)."""
    pattern = re.compile(_BRACKETS.pattern + "|" + re.escape(separator))
    parts, depth, start = [], 0, 0
    for match in pattern.finditer(text):
        c = match.group()
        if c in _OPEN:
            depth += 1
            if depth > limits.MAX_NOTATION_DEPTH:
                raise limits.LimitExceededError(limits.exceeded(
                    f"{excerpt(whole)} nests brackets deeper than {depth - 1}", "MAX_NOTATION_DEPTH"))
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            parts.append(text[start:match.start()])
            start = match.end()
    parts.append(text[start:])
    return parts


# ---- tokens -------------------------------------------------------------------------------------------
def _call(token: str) -> Optional[Tuple[str, str]]:
    """``(name, arguments)`` of a token ``name(arguments)``, else None."""
    head = _CALL_HEAD.match(token)
    if head is None or not token.endswith(")"):
        return None
    return head.group(1), token[head.end():-1]


def _inner(token: str, whole: str) -> Term:
    """The subgroup's irrep in ``induced(id, irrep)``: an ``irrep(...)`` call or a name."""
    token = token.strip()
    call = _call(token)
    if call and call[0] == "irrep":
        return Term(1, "irrep", parse_id(f"({call[1]},)", whole))
    return Term(1, "name", (token,))


def parse_token(token: str, whole: Optional[str] = None) -> Term:
    """The term (count 1) of one token, e.g. ``irrep(1, 1)``; ``whole`` is the text quoted in errors.

    Examples
    --------
    >>> parse_token("quotient((None, 2))")
    Term(count=1, kind='quotient', args=((None, 2),))
    >>> parse_token("induced[(None, 4)][irrep_1]")
    Term(count=1, kind='induced', args=((None, 4), Term(count=1, kind='name', args=('irrep_1',))))
    """
    whole = token if whole is None else whole
    token = token.strip()
    if token == "trivial":
        return Term(1, "trivial", ())
    if token in ("regular", "reg"):
        return Term(1, "regular", ())
    if token.endswith("]") and token.startswith("quotient["):
        return Term(1, "quotient", (parse_id(token[len("quotient["):-1], whole),))
    if token.endswith("]") and token.startswith("induced["):
        split = token.find("][", len("induced["))     # a subgroup id holds no brackets
        if split < 0:
            raise InvalidValueError(f"induced[...] reads induced[subgroup id][irrep name], got {excerpt(token)}")
        return Term(1, "induced", (parse_id(token[len("induced["):split], whole), _inner(token[split + 2:-1], whole)))
    call = _call(token)
    if call is not None and call[0] == "irrep":
        return Term(1, "irrep", parse_id(f"({call[1]},)", whole))
    if call is not None and call[0] in ("quotient", "quot"):
        return Term(1, "quotient", (parse_id(call[1], whole),))
    if call is not None and call[0] == "induced":
        parts = _split_top(call[1], ",", whole)
        if len(parts) < 2:
            raise InvalidValueError(f"induced(...) takes a subgroup id and an irrep of the subgroup, got "
                                    f"{excerpt(token)}")
        return Term(1, "induced", (parse_id(",".join(parts[:-1]), whole), _inner(parts[-1], whole)))
    return Term(1, "name", (token,))


def format_term(term: Term) -> str:
    """The text of ``term``: ``parse_token(format_term(t))`` gives ``t`` back (with count 1).

    Examples
    --------
    >>> format_term(Term(2, "irrep", (1, 1))), format_term(parse_token("quot((None,2))"))
    ('2x irrep(1, 1)', 'quotient((None, 2))')
    """
    kind, args = term.kind, term.args
    if kind in ("trivial", "regular"):
        text = kind
    elif kind == "irrep":
        text = "irrep(" + ", ".join(str(i) for i in args) + ")"
    elif kind == "quotient":
        text = f"quotient({args[0]!r})"
    elif kind == "induced":
        text = f"induced({args[0]!r}, {format_term(args[1])})"
    else:
        text = args[0]
    return f"{term.count}x {text}" if term.count > 1 else text


# ---- texts --------------------------------------------------------------------------------------------
def _e2cnn_names(text: str) -> Optional[Tuple[str, str]]:
    """The gspace name and the names inside e2cnn's ``[gspace name: {name, name}]``, or None."""
    if not (text.startswith("[") and text.endswith("}]")):
        return None
    colon = text.find(":")
    brace = _SPACES.match(text, colon + 1).end() if colon > 0 else -1
    if brace < 0 or text[brace] != "{":
        return None
    return text[1:colon].strip(), text[brace + 1:-2]


def _check_fields(count: int, text: str) -> None:
    limits.check(count, "MAX_FIELDS", f"the field notation {excerpt(text)} describes "
                                      f"{'at least ' if count >= 10 ** _MAX_DIGITS else ''}{count} fields")


def parse(text: str) -> Notation:
    """The terms of ``text`` (see the module docstring), checked against the limits; no group needed."""
    if not isinstance(text, str):
        raise InvalidTypeError(f"text must be a str, got {type(text).__name__}")
    if len(text) > limits.MAX_NOTATION_LENGTH:
        raise limits.LimitExceededError(limits.exceeded(f"the field notation {excerpt(text)} has {len(text)} "
                                                        f"characters", "MAX_NOTATION_LENGTH"))
    e2cnn_form = _e2cnn_names(text.strip())
    if e2cnn_form:
        space, names = e2cnn_form
        tokens = _split_top(names, ", ", text)
        _check_fields(len(tokens), text)
        return Notation(space, [parse_token(token, text) for token in tokens])
    terms: List[Term] = []
    total = 0
    for part in _split_top(text, "+", text):
        if not part.strip():
            raise InvalidValueError(f"empty term in {excerpt(text)}: terms are joined by '+', e.g. "
                                    f"'3x trivial + 2x regular'")
        match = _MULTIPLICITY.match(part)
        digits, token = (match.group(1), part[match.end():]) if match else ("1", part)
        digits = digits.lstrip("0") or "0"
        count = int(digits) if len(digits) <= _MAX_DIGITS else 10 ** _MAX_DIGITS
        if count < 1:
            raise InvalidValueError(f"multiplicity must be at least 1, got {excerpt(part.strip())}")
        total += count
        _check_fields(total, text)
        terms.append(parse_token(token, text)._replace(count=count))
    return Notation(None, terms)


# ---- terms -> representations of a basisgen group -------------------------------------------------------
def irrep_ids(group: Any, ids: Tuple[Any, ...], whole: str) -> Tuple[Any, ...]:
    """``ids``, checked to be as many as the ids of the irreps of ``group`` (a basisgen group)."""
    arity = len(group.trivial_irrep.id)
    if len(ids) != arity:
        raise InvalidValueError(f"the irreps of {group.name} have {arity} id{'s' * (arity > 1)}, got "
                                f"{len(ids)} in {excerpt(whole)}")
    return ids


def representation(group: Any, term: Term, whole: str = "") -> Any:
    """The :class:`basisgen.Representation` of ``group`` that ``term`` names (its count ignored).

    A ``name`` term is an irrep's name (``irrep_1,1``).  The group's own errors come back as
    :class:`~basisgen.errors.InvalidValueError` of bounded length.
    """
    from .induced import induced_representation
    from .representation import Representation
    try:
        if term.kind == "trivial":
            return group.trivial_representation
        if term.kind == "regular":
            return group.regular_representation
        if term.kind == "irrep":
            return group.irrep_representation(*irrep_ids(group, term.args, whole))
        if term.kind == "quotient":
            return group.quotient_representation(term.args[0])
        if term.kind == "induced":
            sid, inner = term.args
            H = group.subgroup(sid)[0]
            if inner.kind == "irrep":
                phi = H.irrep(*irrep_ids(H, inner.args, whole))
            else:
                phi = next((psi for psi in H.irreps if psi.name == inner.args[0]), None)
                if phi is None:
                    raise InvalidValueError(f"{excerpt(inner.args[0])} is not an irrep of the subgroup {H.name} "
                                            f"(valid: {[psi.name for psi in H.irreps]})")
            return induced_representation(group, sid, phi)
        psi = next((psi for psi in group.irreps if psi.name == term.args[0]), None)
        if psi is None:
            names = ", ".join(p.name for p in group.irreps)
            raise InvalidValueError(f"unknown representation {excerpt(term.args[0])} for {group.name}: {_HINT} or "
                                    f"the name of an irrep ({bounded(names, 200)})")
        return Representation.from_irrep(psi)
    except limits.LimitExceededError:
        raise
    except ValueError as err:
        raise InvalidValueError(bounded(str(err))) from None


def representations(group: Any, text: str) -> List[Any]:
    """The representations of ``group`` (a :class:`basisgen.Group`) that ``text`` lists, one per field."""
    parsed = parse(text)
    out: List[Any] = []
    for term in parsed.terms:
        out += [representation(group, term, text)] * term.count
    return out
