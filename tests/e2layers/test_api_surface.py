"""e2layers offers e2cnn 0.2.3's whole public surface: every name in ``__all__`` of ``group``, ``gspaces``,
``kernels``, ``diffops``, ``nn`` and ``nn.init``, with compatible signatures, and every public method and
property of its classes.

The reference is ``tests/fixtures/e2cnn/api.json``, made from e2cnn itself by ``generate_api.py`` next to it
(``diffops`` from ``diffops_api.json``, by ``generate_diffops_api.py``).
A signature is compatible when every parameter of e2cnn's is there, in the same place, of the same kind
and with the same default; ours may add optional parameters after them.  The differences that remain
are on purpose: each is listed in :data:`ON_PURPOSE` and in the README's "Migrating from e2cnn".
"""
import importlib
import inspect
import json
import math
import re

import pytest
from paths import E2CNN_FIXTURES, ROOT

SNAPSHOT = json.loads((E2CNN_FIXTURES / "api.json").read_text())
SNAPSHOT.update(json.loads((E2CNN_FIXTURES / "diffops_api.json").read_text())["surface"])   # generate_diffops_api.py
OURS = {"group": "e2layers.group", "gspaces": "e2layers.gspaces", "kernels": "e2layers.kernels",
        "diffops": "e2layers.diffops", "nn": "e2layers.nn", "nn.init": "e2layers.nn.init"}

#: difference -> the README's words for it (the README's migration section must name the member)
ON_PURPOSE: dict = {}

#: modules whose errors e2cnn never raised (its API has no such function): plain ValueError/TypeError there
NOT_FROM_E2CNN = {"e2layers/checkpoint.py", "e2layers/nn/field_notation.py"}


def _default(value):
    if value is inspect.Parameter.empty:
        return "<empty>"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    return "<other>"


def _same_default(theirs: str, ours: str) -> bool:
    if theirs == ours:
        return True
    try:
        return math.isclose(float(theirs), float(ours), rel_tol=1e-12)
    except ValueError:
        return False


def signature_differences(where: str, theirs, obj, skip_first: bool = False) -> list:
    """What e2cnn code calling ``theirs`` could trip over in ``obj``'s signature."""
    try:
        params = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        return [f"{where}: no signature"]
    params = params[1:] if skip_first else params
    ours = [[p.name, p.kind.name, _default(p.default)] for p in params]
    diffs = []
    ours_by_name = {p[0]: (i, p) for i, p in enumerate(ours)}
    var_kw = any(p[1] == "VAR_KEYWORD" for p in ours)
    for i, (name, kind, default) in enumerate(theirs):
        if kind in ("VAR_POSITIONAL", "VAR_KEYWORD"):
            if not any(p[1] == kind for p in ours):
                diffs.append(f"{where}: no {'*' if kind == 'VAR_POSITIONAL' else '**'}{name}")
            continue
        if name not in ours_by_name:
            if not (var_kw and kind == "KEYWORD_ONLY"):
                diffs.append(f"{where}: no parameter {name!r}")
            continue
        j, (_, our_kind, our_default) = ours_by_name[name]
        if kind != "KEYWORD_ONLY" and (j != i or our_kind not in ("POSITIONAL_OR_KEYWORD", kind)):
            diffs.append(f"{where}: parameter {name!r} at position {j} ({our_kind}), e2cnn: {i} ({kind})")
        elif not _same_default(default, our_default):
            diffs.append(f"{where}: parameter {name!r} defaults to {our_default}, e2cnn: {default}")
    theirs_names = {p[0] for p in theirs}
    for name, kind, default in ours:
        if name not in theirs_names and default == "<empty>" and kind not in ("VAR_POSITIONAL", "VAR_KEYWORD"):
            diffs.append(f"{where}: extra required parameter {name!r}")
    return diffs


def member_differences(where: str, cls, name: str, theirs: dict) -> list:
    try:
        raw = inspect.getattr_static(cls, name)
    except AttributeError:
        return [f"{where}.{name}: missing"]
    kind = theirs["kind"]
    if kind in ("property", "attribute"):
        return []                      # a property, a class attribute or a plain attribute reads the same
    if isinstance(raw, property):
        return [f"{where}.{name}: a property, e2cnn: a {kind}"]
    if kind == "staticmethod":
        func = raw.__func__ if isinstance(raw, staticmethod) else raw
        return signature_differences(f"{where}.{name}", theirs["signature"], func,
                                     skip_first=not isinstance(raw, staticmethod))
    func = raw.__func__ if isinstance(raw, (classmethod, staticmethod)) else raw
    if not callable(func):
        return [f"{where}.{name}: not callable, e2cnn: a {kind}"]
    return signature_differences(f"{where}.{name}", theirs["signature"], func,
                                 skip_first=not isinstance(raw, staticmethod))


def surface_differences() -> list:
    diffs = []
    for module, names in SNAPSHOT.items():
        ours = importlib.import_module(OURS[module])
        for name, entry in names.items():
            where = f"{module}.{name}"
            if not hasattr(ours, name):
                diffs.append(f"{where}: missing")
                continue
            obj = getattr(ours, name)
            kind = "module" if inspect.ismodule(obj) else "class" if inspect.isclass(obj) else "function"
            if kind != entry["kind"]:
                diffs.append(f"{where}: a {kind}, e2cnn: a {entry['kind']}")
                continue
            if entry["signature"] is not None:
                diffs += signature_differences(where, entry["signature"], obj)
            for member, theirs in entry["members"].items():
                diffs += member_differences(where, obj, member, theirs)
    return diffs


def test_every_name_of_e2cnns_all_is_exported():
    missing = [f"{m}.{n}" for m, names in SNAPSHOT.items() for n in names
               if not hasattr(importlib.import_module(OURS[m]), n) and f"{m}.{n}: missing" not in ON_PURPOSE]
    assert not missing


def test_the_surface_differs_only_on_purpose():
    diffs = surface_differences()
    unexplained = [d for d in diffs if d not in ON_PURPOSE]
    stale = [d for d in ON_PURPOSE if d not in diffs]
    assert not unexplained, "differences from e2cnn's public API:\n" + "\n".join(unexplained)
    assert not stale, "listed as on purpose but no longer different:\n" + "\n".join(stale)


def test_the_readme_lists_every_difference_on_purpose():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Migrating from e2cnn"):]
    section = section[:section.index("\n## ", 1)]
    for diff, reason in ON_PURPOSE.items():
        qualified = re.match(r"[\w.]+", diff).group(0)
        assert qualified.split(".")[-1] in section and reason, f"README's migration section misses {diff}"


def test_the_snapshot_is_e2cnns_whole_surface():
    """The reference itself is complete: the six modules, with the sizes of e2cnn 0.2.3's ``__all__``."""
    assert {m: len(v) for m, v in SNAPSHOT.items()} == {"group": 18, "gspaces": 6, "kernels": 15, "diffops": 13,
                                                        "nn": 46, "nn.init": 2}
    assert SNAPSHOT["nn"]["R2Conv"]["signature"][0] == ["in_type", "POSITIONAL_OR_KEYWORD", "<empty>"]


@pytest.mark.parametrize("case", [
    ("f", ["a", "POSITIONAL_OR_KEYWORD", "<empty>"], lambda a: 0, []),
    ("f", ["a", "POSITIONAL_OR_KEYWORD", "<empty>"], lambda b: 0, ["no parameter 'a'", "extra required"]),
    ("f", ["a", "POSITIONAL_OR_KEYWORD", "1"], lambda a=2: 0, ["defaults to 2"]),
])
def test_the_comparison_itself_finds_differences(case):
    name, param, func, expected = case
    found = signature_differences(name, [param], func)
    assert len(found) == len(expected) and all(e in f for e, f in zip(expected, found))


def test_argument_errors_are_also_assertion_errors():
    """e2cnn checked its arguments with ``assert``; every argument error of e2layers is an
    ``InvalidValueError``/``InvalidTypeError`` (also an ``AssertionError``), so e2cnn code catching
    ``AssertionError`` keeps working."""
    plain = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "e2layers").rglob("*.py"))
             if str(path.relative_to(ROOT)) not in NOT_FROM_E2CNN
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if re.search(r"raise (ValueError|TypeError)\(", line)]
    assert not plain


@pytest.mark.parametrize("make", [
    lambda: __import__("e2layers").gspaces.Rot2dOnR2(0),
    lambda: __import__("e2layers").group.cyclic_group(4).irrep(7),
    lambda: __import__("e2layers").nn.FieldType(None, []),
    lambda: __import__("e2layers").nn.R2Conv(*_trivial_pair(), kernel_size=0),
    lambda: __import__("e2layers").nn.ReLU(_irrep_type()),
    lambda: __import__("e2layers").nn.R2Conv(*_trivial_pair(), 3)(_irrep_type()),
])
def test_e2cnn_code_catching_assertion_error_still_catches(make):
    with pytest.raises(AssertionError):
        make()


def _irrep_type():
    from e2layers import nn
    gs = _trivial_pair()[0].gspace
    return nn.FieldType(gs, [gs.irrep(1)])


def _trivial_pair():
    from e2layers import gspaces, nn
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.trivial_repr])
    return t, t
