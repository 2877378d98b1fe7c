"""A string notation for field types, in the spirit of e3nn's ``Irreps("16x0e + 8x1o")``.

``"3x trivial + 10x regular + 2x irrep(1)"``: terms joined by ``+``, each an optional multiplicity
(``3x``, ``3 x``, ``3*``) and a representation token:

========================================  ==================================================
token                                     representation
========================================  ==================================================
``trivial``                               ``gspace.trivial_repr``
``regular`` (or ``reg``)                  ``gspace.regular_repr``
``irrep(k)``, ``irrep(f, k)``             ``gspace.irrep(k)``, ``gspace.irrep(f, k)``
``quotient(id)`` (or ``quot(id)``)        ``gspace.quotient_repr(id)``, e.g. ``quotient((None, 2))``
``induced(id, irrep(k))``                 ``gspace.induced_repr(id, H.irrep(k))`` for the subgroup ``H``
any other name                            a representation registered on the fibre group
                                          under that name (e.g. ``irrep_1,1`` or ``regular``)
========================================  ==================================================

e2cnn's ``repr`` of a field type (``[8-Rotations: {regular, irrep_1}]``) parses as well, so both
``FieldType.parse(gs, repr(t))`` and ``FieldType.parse(gs, t.notation)`` give ``t`` back.  Subgroup ids
are read by a small grammar (integers, ``None`` and tuples of them): nothing is evaluated.
"""
from __future__ import annotations

import re
from typing import Any, List, Tuple

from basisgen import limits
from basisgen.errors import InvalidTypeError, InvalidValueError

__all__ = ["parse_representations", "notation"]

# Parsing is linear in the length of the text and bounded: at most limits.MAX_NOTATION_LENGTH characters,
# brackets nested at most limits.MAX_NOTATION_DEPTH deep, at most limits.MAX_FIELDS fields.  Every error is
# an InvalidValueError (InvalidTypeError for a text that is not a str) quoting at most an excerpt.
_MULTIPLICITY = re.compile(r"\s*([0-9]+)\s*[x*]\s*(?=\S)")
_CALL_HEAD = re.compile(r"(\w+)\s*\(")
_ID_TOKEN = re.compile(r"\s*(?:(None)|(-?[0-9]+)|([(),]))")
_SPACES = re.compile(r"\s*")
_BRACKETS = re.compile(r"[()\[\]{}]")
_OPEN = "([{"
_MAX_DIGITS = 18


def _excerpt(text: str, width: int = 60) -> str:
    """``repr(text)``, shortened to about ``width`` characters for long texts."""
    if len(text) <= width:
        return repr(text)
    return f"{text[:width - 15]!r}...{text[-10:]!r} ({len(text)} characters)"


def _bounded(message: str, width: int = 400) -> str:
    return message if len(message) <= width else message[:width - 3] + "..."


# ---- subgroup ids: int | None | (id, id, ...) ---------------------------------------------------------
def _parse_id(text: str, whole: str) -> Any:
    value, pos = _id_at(text, 0, 0, whole)
    if _SPACES.match(text, pos).end() != len(text):
        raise InvalidValueError(f"unexpected {_excerpt(text[pos:].strip(), 30)} after the subgroup id in "
                                f"{_excerpt(whole)}")
    return value


def _id_at(text: str, pos: int, depth: int, whole: str) -> Tuple[Any, int]:
    """The id starting at ``pos`` and the position after it; one token per call, so linear."""
    match = _ID_TOKEN.match(text, pos)
    if match is None or match.group(3) in (")", ","):
        raise InvalidValueError(f"a subgroup id is an int, None or a tuple of them; cannot read "
                                f"{_excerpt(text[pos:].strip(), 30)} in {_excerpt(whole)}")
    if match.group(1):
        return None, match.end()
    if match.group(2):
        digits = match.group(2)
        if len(digits.lstrip("-")) > _MAX_DIGITS:
            raise InvalidValueError(f"the integer {_excerpt(digits, 30)} in {_excerpt(whole)} is too large")
        return int(digits), match.end()
    if depth >= limits.MAX_NOTATION_DEPTH:
        raise limits.LimitExceededError(limits.exceeded(
            f"the subgroup id in {_excerpt(whole)} nests tuples deeper than {depth}", "MAX_NOTATION_DEPTH"))
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
            raise InvalidValueError(f"expected ',' or ')' in the subgroup id of {_excerpt(whole)}")


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
                    f"{_excerpt(whole)} nests brackets deeper than {depth - 1}", "MAX_NOTATION_DEPTH"))
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            parts.append(text[start:match.start()])
            start = match.end()
    parts.append(text[start:])
    return parts


# ---- tokens -> representations --------------------------------------------------------------------
def _call(token: str) -> Tuple[str, str] | None:
    """``(name, arguments)`` of a token ``name(arguments)``, else None."""
    head = _CALL_HEAD.match(token)
    if head is None or not token.endswith(")"):
        return None
    return head.group(1), token[head.end():-1]


def _irrep(group, arguments: str, whole: str):
    """``group.irrep(*ids)`` for the ids in ``arguments``, as many as the group's irreps have."""
    ids = _parse_id(f"({arguments},)", whole)
    arity = len(group.basisgen.trivial_irrep.id)
    if len(ids) != arity:
        raise InvalidValueError(f"the irreps of {group.name} have {arity} id{'s' * (arity > 1)}, got "
                                f"{len(ids)} in {_excerpt(whole)}")
    return group.irrep(*ids)


def _induced(gspace, sid: Any, inner: str, whole: str):
    subgroup = gspace.fibergroup.subgroup(sid)[0]
    inner = inner.strip()
    inner_call = _call(inner)
    phi = (_irrep(subgroup, inner_call[1], whole) if inner_call and inner_call[0] == "irrep"
           else subgroup.irreps.get(inner))
    if phi is None:
        raise InvalidValueError(f"{_excerpt(inner)} is not an irrep of the subgroup {subgroup.name} (valid: "
                                f"{sorted(subgroup.irreps)})")
    return gspace.induced_repr(sid, phi)


def _token(gspace, token: str, whole: str):
    token = token.strip()
    group = gspace.fibergroup
    if token == "trivial":
        return gspace.trivial_repr
    if token in ("regular", "reg"):
        return gspace.regular_repr
    if token.endswith("]") and token.startswith("quotient["):
        return gspace.quotient_repr(_parse_id(token[len("quotient["):-1], whole))
    if token.endswith("]") and token.startswith("induced["):
        split = token.find("][", len("induced["))     # a subgroup id holds no brackets
        if split < 0:
            raise InvalidValueError(f"induced[...] reads induced[subgroup id][irrep name], got {_excerpt(token)}")
        return _induced(gspace, _parse_id(token[len("induced["):split], whole), token[split + 2:-1], whole)
    call = _call(token)
    if call is not None and call[0] == "irrep":
        return _irrep(group, call[1], whole)
    if call is not None and call[0] in ("quotient", "quot"):
        return gspace.quotient_repr(_parse_id(call[1], whole))
    if call is not None and call[0] == "induced":
        parts = _split_top(call[1], ",", whole)
        if len(parts) < 2:
            raise InvalidValueError(f"induced(...) takes a subgroup id and an irrep of the subgroup, got "
                                    f"{_excerpt(token)}")
        return _induced(gspace, _parse_id(",".join(parts[:-1]), whole), parts[-1], whole)
    rho = group.representations.get(token) or group.irreps.get(token)
    if rho is None:
        raise InvalidValueError(f"unknown representation {_excerpt(token)} for {gspace.name}: use trivial, regular, "
                                f"irrep(...), quotient(id), induced(id, irrep(...)) or a registered name "
                                f"({_bounded(str(sorted(set(group.representations) | set(group.irreps))), 200)})")
    return rho


def _representation(gspace, token: str, whole: str):
    """The representation a token names; the group's own errors come back bounded in length."""
    try:
        return _token(gspace, token, whole)
    except limits.LimitExceededError:
        raise
    except ValueError as err:
        raise InvalidValueError(_bounded(str(err))) from None


def _e2cnn_names(text: str):
    """The names inside e2cnn's ``[gspace name: {name, name}]``, with the gspace name, or None."""
    if not (text.startswith("[") and text.endswith("}]")):
        return None
    colon = text.find(":")
    brace = _SPACES.match(text, colon + 1).end() if colon > 0 else -1
    if brace < 0 or text[brace] != "{":
        return None
    return text[1:colon].strip(), text[brace + 1:-2]


def parse_representations(gspace, text: str) -> List[Any]:
    """The list of field representations that ``text`` describes (see the module docstring)."""
    from ..gspaces import GSpace
    if not isinstance(gspace, GSpace):
        raise InvalidTypeError(f"gspace must be a GSpace (e.g. gspaces.Rot2dOnR2(8)), got {type(gspace).__name__}")
    if not isinstance(text, str):
        raise InvalidTypeError(f"text must be a str, got {type(text).__name__}")
    if len(text) > limits.MAX_NOTATION_LENGTH:
        raise limits.LimitExceededError(limits.exceeded(f"the field notation {_excerpt(text)} has {len(text)} "
                                                        f"characters", "MAX_NOTATION_LENGTH"))
    e2cnn_form = _e2cnn_names(text.strip())
    if e2cnn_form:
        name, names = e2cnn_form
        if name != gspace.name:
            raise InvalidValueError(f"text describes fields of {_excerpt(name)}, not of {gspace.name!r}")
        tokens = _split_top(names, ", ", text)
        _check_fields(len(tokens), text)
        return [_representation(gspace, token, text) for token in tokens]
    result: List[Any] = []
    for term in _split_top(text, "+", text):
        if not term.strip():
            raise InvalidValueError(f"empty term in {_excerpt(text)}: terms are joined by '+', e.g. "
                                    f"'3x trivial + 2x regular'")
        match = _MULTIPLICITY.match(term)
        digits, token = (match.group(1), term[match.end():]) if match else ("1", term)
        digits = digits.lstrip("0") or "0"
        count = int(digits) if len(digits) <= _MAX_DIGITS else 10 ** _MAX_DIGITS
        if count < 1:
            raise InvalidValueError(f"multiplicity must be at least 1, got {_excerpt(term.strip())}")
        _check_fields(len(result) + count, text)
        result.extend([_representation(gspace, token, text)] * count)
    return result


def _check_fields(count: int, text: str) -> None:
    limits.check(count, "MAX_FIELDS", f"the field notation {_excerpt(text)} describes "
                                      f"{'at least ' if count >= 10 ** _MAX_DIGITS else ''}{count} fields")


# ---- representations -> notation ------------------------------------------------------------------
def _name(rho) -> str:
    if rho.irreducible and rho.name in rho.group.irreps:
        if rho.is_trivial():
            return "trivial"
        return "irrep(" + ", ".join(str(i) for i in rho.basisgen.irreps[0].id) + ")"
    if rho.name == "regular":
        return "regular"
    quotient = re.match(r"^quotient\[(.*)\]$", rho.name)
    if quotient:
        return f"quotient({quotient.group(1)})"
    return rho.name


def notation(representations: List[Any]) -> str:
    """The compact notation of a list of representations: runs of equal ones become ``kx name``."""
    terms: List[List[Any]] = []
    for rho in representations:
        if terms and terms[-1][0] == rho:
            terms[-1][1] += 1
        else:
            terms.append([rho, 1])
    return " + ".join((f"{n}x {_name(rho)}" if n > 1 else _name(rho)) for rho, n in terms)
