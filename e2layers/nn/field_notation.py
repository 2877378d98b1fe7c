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
``FieldType.parse(gs, repr(t))`` and ``FieldType.parse(gs, t.notation)`` give ``t`` back.  The grammar,
its limits and its errors are :mod:`basisgen.notation`'s (shared with the command line, torch-free);
this module resolves its terms on a gspace.
"""
from __future__ import annotations

import re
from typing import Any, List

from basisgen import limits, notation as syntax
from basisgen.errors import InvalidTypeError, InvalidValueError
from basisgen.notation import Term, bounded, excerpt

__all__ = ["parse_representations", "notation"]


# ---- terms -> representations of a gspace (the grammar: basisgen.notation) ------------------------------
def _irrep(group, ids, whole: str):
    """``group.irrep(*ids)``, with as many ids as the group's irreps have."""
    return group.irrep(*syntax.irrep_ids(group.basisgen, ids, whole))


def _induced(gspace, sid: Any, inner: Term, whole: str):
    subgroup = gspace.fibergroup.subgroup(sid)[0]
    phi = (_irrep(subgroup, inner.args, whole) if inner.kind == "irrep" else subgroup.irreps.get(inner.args[0]))
    if phi is None:
        raise InvalidValueError(f"{excerpt(inner.args[0])} is not an irrep of the subgroup {subgroup.name} (valid: "
                                f"{sorted(subgroup.irreps)})")
    return gspace.induced_repr(sid, phi)


def _resolve(gspace, term: Term, whole: str):
    group = gspace.fibergroup
    if term.kind == "trivial":
        return gspace.trivial_repr
    if term.kind == "regular":
        return gspace.regular_repr
    if term.kind == "irrep":
        return _irrep(group, term.args, whole)
    if term.kind == "quotient":
        return gspace.quotient_repr(term.args[0])
    if term.kind == "induced":
        return _induced(gspace, *term.args, whole)
    name = term.args[0]
    rho = group.representations.get(name) or group.irreps.get(name)
    if rho is None:
        raise InvalidValueError(f"unknown representation {excerpt(name)} for {gspace.name}: use trivial, regular, "
                                f"irrep(...), quotient(id), induced(id, irrep(...)) or a registered name "
                                f"({bounded(str(sorted(set(group.representations) | set(group.irreps))), 200)})")
    return rho


def _representation(gspace, term: Term, whole: str):
    """The representation a term names; the group's own errors come back bounded in length."""
    try:
        return _resolve(gspace, term, whole)
    except limits.LimitExceededError:
        raise
    except ValueError as err:
        raise InvalidValueError(bounded(str(err))) from None


def parse_representations(gspace, text: str) -> List[Any]:
    """The list of field representations that ``text`` describes (see the module docstring)."""
    from ..gspaces import GSpace
    if not isinstance(gspace, GSpace):
        raise InvalidTypeError(f"gspace must be a GSpace (e.g. gspaces.Rot2dOnR2(8)), got {type(gspace).__name__}")
    parsed = syntax.parse(text)
    if parsed.space is not None and parsed.space != gspace.name:
        raise InvalidValueError(f"text describes fields of {excerpt(parsed.space)}, not of {gspace.name!r}")
    result: List[Any] = []
    for term in parsed.terms:
        result.extend([_representation(gspace, term, text)] * term.count)
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
