"""The field tokens of the e2cnn fixtures (tests/data/e2cnn/*.json) as e2layers representations.

Tokens: ``regular``, ``trivial``, ``irrep:<id>`` (``1`` or ``1,0``), ``quotient:<subgroup id>`` and
``induced:<subgroup id>:<subgroup irrep id>``; subgroup ids are Python literals (``2``, ``(0,1)``,
``(None,4)``) read with ``ast.literal_eval``: nothing in a fixture is executed.
"""
import ast


def representation(gs, token: str):
    """The representation of ``gs`` a fixture's ``token`` names."""
    kind, _, arg = token.partition(":")
    if kind == "regular":
        return gs.regular_repr
    if kind == "trivial":
        return gs.trivial_repr
    if kind == "irrep":
        return gs.irrep(*[int(a) for a in arg.split(",")])
    if kind == "quotient":
        return gs.quotient_repr(ast.literal_eval(arg))
    if kind == "induced":
        sid, irrep = arg.split(":")
        sid = ast.literal_eval(sid)
        return gs.induced_repr(sid, gs.fibergroup.subgroup(sid)[0].irrep(*[int(a) for a in irrep.split(",")]))
    raise ValueError(f"token must be regular, trivial, irrep:, quotient: or induced:, got {token!r}")
