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

__all__ = ["parse_representations", "notation"]

_MULTIPLICITY = re.compile(r"^\s*(\d+)\s*[x*]\s*(?=\S)")
_CALL = re.compile(r"^(\w+)\s*\((.*)\)$", re.S)
_E2CNN_REPR = re.compile(r"^\[(.*?):\s*\{(.*)\}\]$", re.S)


# ---- subgroup ids: int | None | (id, id, ...) ---------------------------------------------------------
def _parse_id(text: str) -> Any:
    value, rest = _id_at(text.strip(), text)
    if rest.strip():
        raise ValueError(f"unexpected {rest.strip()!r} after the subgroup id in {text!r}")
    return value


def _id_at(s: str, whole: str) -> Tuple[Any, str]:
    s = s.lstrip()
    if s.startswith("None"):
        return None, s[4:]
    match = re.match(r"^-?\d+", s)
    if match:
        return int(match.group()), s[match.end():]
    if s.startswith("("):
        items, s = [], s[1:].lstrip()
        while not s.startswith(")"):
            item, s = _id_at(s, whole)
            items.append(item)
            s = s.lstrip()
            if s.startswith(","):
                s = s[1:].lstrip()
            elif not s.startswith(")"):
                raise ValueError(f"expected ',' or ')' in the subgroup id of {whole!r}")
        return tuple(items), s[1:]
    raise ValueError(f"a subgroup id is an int, None or a tuple of them; cannot read {s!r} in {whole!r}")


def _split_top(text: str, separator: str) -> List[str]:
    """``text`` split at ``separator`` where it is outside every bracket."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i])
            start = i + len(separator)
            i = start
            continue
        i += 1
    parts.append(text[start:])
    return parts


# ---- tokens -> representations --------------------------------------------------------------------
def _token(gspace, token: str):
    token = token.strip()
    group = gspace.fibergroup
    if token == "trivial":
        return gspace.trivial_repr
    if token in ("regular", "reg"):
        return gspace.regular_repr
    bracketed = re.match(r"^quotient\[(.*)\]$", token) or re.match(r"^induced\[(.*)\]\[(.*)\]$", token)
    call = _CALL.match(token)
    if call and call.group(1) == "irrep":
        ids = _parse_id(f"({call.group(2)},)")
        return gspace.irrep(*ids)
    if (call and call.group(1) in ("quotient", "quot")) or (bracketed and token.startswith("quotient")):
        return gspace.quotient_repr(_parse_id((call or bracketed).group(2 if call else 1)))
    if (call and call.group(1) == "induced") or (bracketed and token.startswith("induced")):
        if call:
            parts = _split_top(call.group(2), ",")
            if len(parts) < 2:
                raise ValueError(f"induced(...) takes a subgroup id and an irrep of the subgroup, got {token!r}")
            sid, inner = _parse_id(",".join(parts[:-1])), parts[-1]
        else:
            sid, inner = _parse_id(bracketed.group(1)), bracketed.group(2)
        subgroup = group.subgroup(sid)[0]
        inner = inner.strip()
        inner_call = _CALL.match(inner)
        phi = (subgroup.irrep(*_parse_id(f"({inner_call.group(2)},)")) if inner_call and inner_call.group(1) == "irrep"
               else subgroup.irreps.get(inner))
        if phi is None:
            raise ValueError(f"{inner!r} is not an irrep of the subgroup {subgroup.name} (valid: "
                             f"{sorted(subgroup.irreps)})")
        return gspace.induced_repr(sid, phi)
    rho = group.representations.get(token) or group.irreps.get(token)
    if rho is None:
        raise ValueError(f"unknown representation {token!r} for {gspace.name}: use trivial, regular, irrep(...), "
                         f"quotient(id), induced(id, irrep(...)) or a registered name "
                         f"({sorted(set(group.representations) | set(group.irreps))})")
    return rho


def parse_representations(gspace, text: str) -> List[Any]:
    """The list of field representations that ``text`` describes (see the module docstring)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    e2cnn_form = _E2CNN_REPR.match(text.strip())
    if e2cnn_form:
        if e2cnn_form.group(1).strip() != gspace.name:
            raise ValueError(f"text describes fields of {e2cnn_form.group(1).strip()!r}, not of {gspace.name!r}")
        return [_token(gspace, name) for name in _split_top(e2cnn_form.group(2), ", ")]
    result = []
    for term in _split_top(text, "+"):
        if not term.strip():
            raise ValueError(f"empty term in {text!r}: terms are joined by '+', e.g. '3x trivial + 2x regular'")
        match = _MULTIPLICITY.match(term)
        count, token = (int(match.group(1)), term[match.end():]) if match else (1, term)
        if count < 1:
            raise ValueError(f"multiplicity must be at least 1, got {term.strip()!r}")
        result.extend([_token(gspace, token)] * count)
    return result


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
