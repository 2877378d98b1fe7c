"""The field tokens of the e2cnn fixtures (tests/fixtures/e2cnn/*.json) as representations of a gspace.

The fixtures keep their compact tokens: ``regular``, ``trivial``, ``irrep:<id>`` (``1`` or ``1,0``),
``quotient:<subgroup id>`` and ``induced:<subgroup id>:<subgroup irrep id>`` (subgroup ids such as
``2``, ``(0,1)``, ``(None,4)``).  Each is rewritten into the representation notation
(``irrep(1,0)``, ``quotient((0,1))``, ``induced(4, irrep(1))``) and read by :mod:`basisgen.notation`,
the parser of ``FieldType.parse`` and of the command line: nothing in a fixture is evaluated.  The
terms are resolved through the gspace API alone, so the generators (e2cnn's gspaces) and the tests
(e2layers') share this module.
"""
from basisgen import notation


def notation_of(token: str) -> str:
    """The notation of a fixture ``token``: ``irrep:1,0`` -> ``irrep(1,0)``."""
    kind, _, arg = token.partition(":")
    if kind in ("regular", "trivial") and not arg:
        return kind
    if kind in ("irrep", "quotient") and arg:
        return f"{kind}({arg})"
    if kind == "induced" and arg.count(":") == 1:
        sid, irrep = arg.split(":")
        return f"induced({sid}, irrep({irrep}))"
    raise ValueError(f"token must be regular, trivial, irrep:, quotient: or induced:, got {token!r}")


def representation(gs, token: str):
    """The representation of ``gs`` a fixture's ``token`` names."""
    term = notation.parse_token(notation_of(token))
    if term.kind == "regular":
        return gs.regular_repr
    if term.kind == "trivial":
        return gs.trivial_repr
    if term.kind == "irrep":
        return gs.irrep(*term.args)
    if term.kind == "quotient":
        return gs.quotient_repr(term.args[0])
    sid, inner = term.args
    return gs.induced_repr(sid, gs.fibergroup.subgroup(sid)[0].irrep(*inner.args))
