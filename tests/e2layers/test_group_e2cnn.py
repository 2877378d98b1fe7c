"""e2layers.group against e2cnn 0.2.3: API surface, groups, irreps, registries, derived representations, errors.

The reference is tests/fixtures/e2cnn/group.json + group.npz, made by tests/fixtures/e2cnn/generate_group.py.
Elements use e2cnn's encodings (ints for C_N, ``(j, k)`` for D_N, float angles for SO(2), ``(j, theta)``
for O(2)); JSON turns the tuples into lists, converted back here.
"""
import inspect
import json

import numpy as np
import pytest

from e2cnn_cases import group_error_cases
from e2layers import group, gspaces
from paths import E2CNN_FIXTURES

DATA = E2CNN_FIXTURES
REF = json.loads((DATA / "group.json").read_text())
ARRAYS = np.load(DATA / "group.npz")

FRESH = {"CyclicGroup": group.CyclicGroup, "DihedralGroup": group.DihedralGroup, "SO2": group.SO2, "O2": group.O2}


def element(e):
    if isinstance(e, list):
        return (int(e[0]), e[1] if isinstance(e[1], int) else float(e[1]))
    return e


def subgroup_id(x):
    return tuple(x) if isinstance(x, list) else x


def build(ctor):
    if ctor == "flips":
        return gspaces.Flip2dOnR2().fibergroup
    name, arg = ctor.rstrip(")").split("(")
    return getattr(group, name)(int(arg))


def fresh(record):
    """A newly constructed group (the factories' singletons may have been touched by other tests)."""
    if record["ctor"] == "flips":
        return None
    arg = int(record["ctor"].rstrip(")").split("(")[1])
    return FRESH[record["type"]](arg)


# ---- API surface -----------------------------------------------------------------------------------------
def test_every_name_of_e2cnn_group_all_is_exported():
    missing = [n for n in REF["api"]["all"] if n not in group.__all__ or not hasattr(group, n)]
    assert not missing


@pytest.mark.parametrize("name", sorted(REF["api"]["functions"]))
def test_function_signatures(name):
    ours = [[p.name, p.kind.name, p.default is not inspect.Parameter.empty]
            for p in inspect.signature(getattr(group, name)).parameters.values()]
    assert ours == REF["api"]["functions"][name]


def _instance(cls_name):
    return {"Group": group.CyclicGroup(3), "CyclicGroup": group.CyclicGroup(3), "DihedralGroup": group.DihedralGroup(3),
            "SO2": group.SO2(2), "O2": group.O2(2), "Representation": group.cyclic_group(3).regular_representation,
            "IrreducibleRepresentation": group.cyclic_group(3).irrep(1)}[cls_name]


@pytest.mark.parametrize("cls_name", sorted(REF["api"]["classes"]))
def test_class_members_and_signatures(cls_name):
    cls, obj = getattr(group, cls_name), _instance(cls_name)
    for member, spec in REF["api"]["classes"][cls_name].items():
        if spec[0] in ("attribute", "property"):
            if cls_name != "Group":       # without evaluating it (SO(2)'s regular_representation raises)
                inspect.getattr_static(obj, member)
            continue
        assert callable(getattr(cls, member, None)), (cls_name, member)
        params = [[p.name, p.kind.name, p.default is not inspect.Parameter.empty]
                  for p in inspect.signature(getattr(cls, member)).parameters.values()]
        assert params == spec[1], (cls_name, member)


# ---- groups and irreps -------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", sorted(REF["groups"]))
def test_group_attributes_and_registries(key):
    ref = REF["groups"][key]
    G = build(ref["ctor"])
    assert type(G).__name__ == ref["type"] and isinstance(G, getattr(group, ref["type"]))
    assert (G.name, G.order(), G.continuous, G.abelian) == (ref["name"], ref["order"], ref["continuous"], ref["abelian"])
    assert G.elements == (None if ref["elements"] is None else [element(e) for e in ref["elements"]])
    assert G.elements_names == ref["elements_names"] and G.identity == element(ref["identity"])
    F = fresh(ref)
    for name, value in ref["extras"].items():    # on a new group: other tests may have raised the singleton's band
        assert getattr(G if F is None else F, name) == element(value), name
    assert [element(e) for e in ref["testing_elements"]] == pytest.approx(list(G.testing_elements()))
    if F is not None:
        assert list(F.representations) == ref["representations_at_construction"]
        assert list(F.irreps) == ref["irreps_at_construction"]
        F.regular_representation if not F.continuous else None
        assert list(F.representations) == ref["representations_after_regular"]
    else:
        assert list(G.representations)[:3] == ref["representations_after_regular"]
    if not G.continuous:
        assert G.representations["regular"] is G.regular_representation


@pytest.mark.parametrize("key", sorted(REF["groups"]))
def test_irreps_equal_e2cnn(key):
    ref = REF["groups"][key]
    G = build(ref["ctor"])
    elements = [element(e) for e in ref["sample_elements"]]
    for r in ref["irreps"]:
        psi = G.irreps[r["name"]]
        assert psi is G.representations[r["name"]]
        assert (psi.name, psi.attributes, psi.size, psi.sum_of_squares_constituents) == \
            (r["name"], r["attributes"], r["size"], r["sum_of_squares_constituents"])
        assert sorted(psi.supported_nonlinearities) == r["supported_nonlinearities"]
        assert (psi.irreducible, psi.is_trivial()) == (r["irreducible"], r["is_trivial"])
        assert psi.irreps == [psi.name]
        np.testing.assert_allclose(psi.change_of_basis, ARRAYS[f"{key}__{psi.name}__cob"], atol=1e-9)
        np.testing.assert_allclose(np.stack([psi(g) for g in elements]), ARRAYS[f"{key}__{psi.name}__matrices"],
                                   atol=1e-9)
        np.testing.assert_allclose([psi.character(g) for g in elements], r["characters"], atol=1e-9)
        assert G.irrep(*[int(i) for i in psi.name[len("irrep_"):].split(",")]) is psi


# ---- derived representations -------------------------------------------------------------------------------
def derived(how):
    G = build(how[0])
    kind = how[1]
    if kind == "regular":
        return G, G.regular_representation
    sid = subgroup_id(how[2])
    if kind == "quotient":
        return G, G.quotient_representation(sid)
    if kind == "induced":
        return G, G.induced_representation(sid, G.subgroup(sid)[0].irrep(*how[3]))
    source = G.regular_representation if how[3] == "regular" else G.irreps[how[3]]
    rho = G.restrict_representation(sid, source)
    return rho.group, rho


@pytest.mark.parametrize("case", REF["representations"], ids=lambda c: c["key"])
def test_derived_representations_equal_e2cnn(case):
    G, rho = derived(case["how"])
    assert G.name == case["group"] and rho.group is G
    assert (rho.name, rho.irreps, rho.size, rho.irreducible) == \
        (case["name"], case["irreps"], case["size"], case["irreducible"])
    assert sorted(rho.supported_nonlinearities) == case["supported_nonlinearities"]
    # e2cnn keeps no attributes on these; ours record the subgroup id of quotient/induced ones
    assert {k: v for k, v in rho.attributes.items() if k != "subgroup_id"} == case["attributes"]
    assert (G.representations.get(rho.name) is rho) == case["registered"]
    np.testing.assert_allclose(rho.change_of_basis, ARRAYS[f"{case['key']}__cob"], atol=1e-9)
    elements = [element(e) for e in case["elements"]]
    np.testing.assert_allclose(np.stack([rho(g) for g in elements]), ARRAYS[f"{case['key']}__matrices"], atol=1e-9)


def test_o2_induction_from_so2_is_exact_and_a_representation():
    G = group.o2_group(4)
    H = G.subgroup((None, -1))[0]
    rho = G.induced_representation((None, -1), H.irrep(3))
    assert G.representations[rho.name] is rho
    Q = rho.basisgen.change_of_basis_exact
    assert Q is not None and Q * Q.T == Q.T * Q == type(Q).eye(4)
    a, b = (1, 0.7), (0, 2.1)
    np.testing.assert_allclose(rho(a) @ rho(b), rho(G.combine(a, b)), atol=1e-12)


def test_o2_elements_combine_as_in_e2cnn():
    G = group.O2(2)
    assert G.combine((0, 1.0), (0, 6.0)) == (0, 7.0) and G.inverse((0, 1.0)) == (0, -1.0)
    assert G.combine((1, 1.0), (0, 0.5)) == (1, 0.5) and G.inverse((1, 2.0)) == (1, 2.0)
    assert G.equal(G.combine((0, 1.0), (0, 6.0)), (0, 7.0 - 2 * np.pi))


def test_the_flip_group_is_e2cnn_c2_acting_by_a_flip():
    F = gspaces.Flip2dOnR2().fibergroup
    assert isinstance(F, group.CyclicGroup) and F.name == "C2" and F.elements == [0, 1]
    assert F.irrep(1).attributes == {"frequency": 1} and F.irrep(1)(1).tolist() == [[-1.0]]
    assert F is group.flip_group() and gspaces.TrivialOnR2().fibergroup is group.cyclic_group(1)
    assert F.basisgen.has_reflection                     # acts on the plane by the flip, not a half turn


# ---- errors ------------------------------------------------------------------------------------------------
def _error_cases():
    return group_error_cases(group)


@pytest.mark.parametrize("case", sorted(REF["errors"]))
def test_errors_are_caught_as_in_e2cnn(case):
    expected = {"AssertionError": AssertionError, "ValueError": ValueError}[REF["errors"][case]]
    with pytest.raises(expected) as info:
        _error_cases()[case]()
    assert isinstance(info.value, (ValueError, TypeError)) and str(info.value)   # and a clear, typed message
