"""The planar groups and their irreps (docs/math.md, "Groups and their irreps").

Expected values come from the formulas of docs/math.md, "Groups and their irreps" (re-implemented here,
independently of basisgen), from hand-written small cases, and from e2cnn 0.2.3's irreps lists in ``tests/fixtures/e2cnn/representations.json``.
Exact claims (homomorphism, eigenbasis) are proven with sympy, not sampled.
"""
import copy
import itertools
import json
import math
import pickle
import re

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from exact import assert_exactly_zero

from basisgen import (O2, SO2, CyclicGroup, DihedralGroup, FlipGroup, cyclic_group, dihedral_group, flip_group,
                      group_from_name, o2_group, so2_group, trivial_group)
from paths import E2CNN_FIXTURES

TWO_PI = 2 * math.pi
E2CNN_GROUPS = json.loads((E2CNN_FIXTURES / "representations.json").read_text())["groups"]

SMALL_FINITE = ([cyclic_group(n) for n in range(1, 9)] + [dihedral_group(n) for n in range(1, 9)]
                + [flip_group()])
angles = st.floats(0.0, TWO_PI, exclude_max=True, allow_nan=False)
so2_elements = angles
o2_elements = st.tuples(st.integers(0, 1), angles)
fast = settings(max_examples=40, deadline=None)


# ---- independent re-implementation of docs/math.md (conventions, groups and irreps) ------------------------
def R(alpha):
    return np.array([[math.cos(alpha), -math.sin(alpha)], [math.sin(alpha), math.cos(alpha)]])


X = np.diag([1.0, -1.0])


def plane_action(G, e):
    """(j, theta) of an element, from the group law (not from basisgen)."""
    if G.kind == "cyclic":
        return 0, TWO_PI * e / G.rotation_order
    if G.kind == "dihedral":
        return e[0], TWO_PI * e[1] / G.rotation_order
    if G.kind == "flip":
        return e, 0.0
    if G.kind == "so2":
        return 0, e
    return e[0], e[1]


def expected_irrep(G, id, e):
    """psi(e) for the irrep ``id`` of ``G``, written out from docs/math.md, "Groups and their irreps"."""
    j, theta = plane_action(G, e)
    if G.kind in ("cyclic", "so2"):
        (k,) = id
        if k == 0:
            return np.eye(1)
        if G.kind == "cyclic" and 2 * k == G.rotation_order:
            return np.array([[(-1.0) ** e]])
        return R(k * theta)
    if G.kind == "flip":
        (k,) = id
        return np.array([[(-1.0) ** (k * e)]])
    flip, k = id
    if (flip, k) == (0, 0):
        return np.eye(1)
    if (flip, k) == (1, 0):
        return np.array([[(-1.0) ** j]])
    if G.kind == "dihedral" and 2 * k == G.rotation_order:
        g = e[1]
        return np.array([[(-1.0) ** g * (-1.0) ** (j * flip)]])
    assert flip == 1
    return R(k * theta) @ np.linalg.matrix_power(X, j)


def law(G, a, b):
    """The group law (docs/math.md, "Groups and their irreps")."""
    if G.kind == "cyclic":
        return (a + b) % G.rotation_order
    if G.kind == "flip":
        return (a + b) % 2
    if G.kind == "dihedral":
        return ((a[0] + b[0]) % 2, (a[1] + (-1) ** a[0] * b[1]) % G.rotation_order)
    if G.kind == "so2":
        return (a + b) % TWO_PI
    return ((a[0] + b[0]) % 2, (a[1] + (-1) ** a[0] * b[1]) % TWO_PI)


def random_elements(G, n, seed=0):
    rng = np.random.default_rng(seed)
    if G.elements is not None:
        return list(G.elements)
    if G.kind == "so2":
        return [float(t) for t in rng.uniform(0, TWO_PI, n)]
    return [(int(j), float(t)) for j, t in zip(rng.integers(0, 2, n), rng.uniform(0, TWO_PI, n))]




def assert_symbolically_zero(M, context=""):
    for entry in sp.Matrix(M):
        assert sp.simplify(sp.expand(sp.expand(entry).rewrite(sp.exp))) == 0, (context, entry)


# ---- elements and group law -----------------------------------------------------------------------
@pytest.mark.parametrize("N", [1, 2, 3, 4, 7])
def test_cyclic_elements(N):
    G = cyclic_group(N)
    assert G.elements == list(range(N))
    assert G.order() == N and G.identity == 0 and G.name == f"C{N}"
    assert not G.continuous and not G.has_reflection and G.rotation_order == N


@pytest.mark.parametrize("N", [1, 2, 3, 4, 6])
def test_dihedral_elements_in_math_order(N):
    G = dihedral_group(N)
    # e, r, ..., r^(N-1), f, rf, ..., r^(N-1) f
    assert G.elements == [(0, g) for g in range(N)] + [(1, g) for g in range(N)]
    assert G.order() == 2 * N and G.identity == (0, 0) and G.name == f"D{N}"
    assert G.has_reflection and not G.continuous and G.rotation_order == N


def test_d4_elements_literally():
    assert dihedral_group(4).elements == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (1, 2), (1, 3)]


def test_flip_and_trivial_groups():
    F = flip_group()
    assert F.elements == [0, 1] and F.order() == 2 and F.identity == 0 and F.name == "Flip"
    assert F.has_reflection and F.combine(1, 1) == 0 and F.inverse(1) == 1
    T = trivial_group()
    assert T == cyclic_group(1) and T.elements == [0] and T.order() == 1 and T.name == "C1"
    assert T.combine(0, 0) == 0 and T.inverse(0) == 0


def test_continuous_groups_basics():
    for G, identity, name in ((so2_group(), 0.0, "SO(2)"), (o2_group(), (0, 0.0), "O(2)")):
        assert G.elements is None and G.order() == -1 and G.continuous
        assert G.identity == identity and G.name == name and G.rotation_order is None
    assert not so2_group().has_reflection and o2_group().has_reflection


def test_hand_computed_products():
    D4 = dihedral_group(4)
    assert D4.combine((1, 1), (0, 1)) == (1, 0)       # r f r = f r^-1 r: (1, 1 - 1)
    assert D4.combine((0, 1), (1, 0)) == (1, 1)       # r f
    assert D4.combine((1, 0), (0, 1)) == (1, 3)       # f r = r^-1 f
    assert D4.inverse((0, 1)) == (0, 3) and D4.inverse((1, 2)) == (1, 2)
    assert cyclic_group(5).combine(3, 4) == 2 and cyclic_group(5).inverse(2) == 3
    O = o2_group()
    j, t = O.combine((1, 1.0), (0, 0.5))
    assert j == 1 and math.isclose(t, 0.5)
    j, t = O.combine((0, 1.0), (1, 0.5))
    assert j == 1 and math.isclose(t, 1.5)
    assert math.isclose(so2_group().combine(4.0, 3.0), 7.0 - TWO_PI)
    assert O.inverse((1, 2.0)) == (1, 2.0)
    assert O.equal(O.inverse((0, 2.0)), (0, TWO_PI - 2.0))


@pytest.mark.parametrize("G", SMALL_FINITE, ids=lambda G: G.name)
def test_finite_group_law_matches_math(G):
    for a in G.elements:
        for b in G.elements:
            assert G.combine(a, b) == law(G, a, b)


@pytest.mark.parametrize("G", [cyclic_group(n) for n in (1, 2, 3, 5, 6)] + [dihedral_group(n) for n in (1, 2, 3, 4, 6)]
                         + [flip_group()], ids=lambda G: G.name)
def test_group_axioms_exhaustive(G):
    els = G.elements
    e = G.identity
    assert e in els
    for a in els:
        assert G.is_element(a)
        assert G.combine(e, a) == a == G.combine(a, e)
        inv = G.inverse(a)
        assert inv in els
        assert G.combine(a, inv) == e == G.combine(inv, a)
        for b in els:
            ab = G.combine(a, b)
            assert ab in els
            for c in els:
                assert G.combine(ab, c) == G.combine(a, G.combine(b, c))


@pytest.mark.parametrize("G", SMALL_FINITE + [so2_group(), o2_group()], ids=lambda G: G.name)
def test_group_law_matches_the_action_on_the_plane(G):
    """element_action is a homomorphism to O(2): A(ab) = A(a) A(b) with A(e) = R(theta) X^j."""
    def A(e):
        j, theta = G.element_action(e)
        return R(theta) @ np.linalg.matrix_power(X, j)
    els = random_elements(G, 12)
    for a in els:
        assert G.element_action(a) == pytest.approx(plane_action(G, a))
        for b in els:
            np.testing.assert_allclose(A(G.combine(a, b)), A(a) @ A(b), atol=1e-12)


@fast
@given(a=so2_elements, b=so2_elements, c=so2_elements)
def test_so2_axioms(a, b, c):
    G = so2_group()
    assert G.equal(G.combine(G.combine(a, b), c), G.combine(a, G.combine(b, c)))
    assert G.equal(G.combine(a, G.identity), a) and G.equal(G.combine(G.identity, a), a)
    assert G.equal(G.combine(a, G.inverse(a)), G.identity)
    assert G.equal(G.combine(G.inverse(a), a), G.identity)
    assert G.equal(G.combine(a, b), law(G, a, b))
    assert 0.0 <= G.combine(a, b) < TWO_PI + 1e-12


@fast
@given(a=o2_elements, b=o2_elements, c=o2_elements)
def test_o2_axioms(a, b, c):
    G = o2_group()
    assert G.equal(G.combine(G.combine(a, b), c), G.combine(a, G.combine(b, c)))
    assert G.equal(G.combine(a, G.identity), a) and G.equal(G.combine(G.identity, a), a)
    assert G.equal(G.combine(a, G.inverse(a)), G.identity)
    assert G.equal(G.combine(G.inverse(a), a), G.identity)
    assert G.equal(G.combine(a, b), law(G, a, b))


def test_continuous_equality_is_modulo_two_pi():
    S, O = so2_group(), o2_group()
    assert S.equal(0.0, TWO_PI) and S.equal(1e-12, TWO_PI - 1e-12) and S.equal(1.0, 1.0 + TWO_PI)
    assert not S.equal(0.0, 1e-6) and not S.equal(1.0, 2.0)
    assert O.equal((1, 0.0), (1, TWO_PI - 1e-12)) and not O.equal((0, 1.0), (1, 1.0))


@pytest.mark.parametrize("G,bad", [
    (cyclic_group(8), 8), (cyclic_group(8), -1), (cyclic_group(8), 1.0), (cyclic_group(8), True),
    (dihedral_group(4), (2, 0)), (dihedral_group(4), (0, 4)), (dihedral_group(4), 1), (dihedral_group(4), (0, 1.0)),
    (flip_group(), 2), (so2_group(), 1), (so2_group(), float("nan")), (o2_group(), (2, 0.0)), (o2_group(), 0.5),
])
def test_non_elements_are_rejected(G, bad):
    assert not G.is_element(bad)
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        G.combine(bad, G.identity)
    with pytest.raises(ValueError):
        G.inverse(bad)


def test_numpy_integers_are_elements():
    assert cyclic_group(8).is_element(np.int64(3)) and dihedral_group(4).is_element((np.int64(1), np.int64(2)))
    assert so2_group().is_element(np.float64(0.5))


# ---- testing_elements ------------------------------------------------------------------------------
def test_testing_elements():
    so2 = list(so2_group().testing_elements())
    assert len(so2) == 52
    np.testing.assert_allclose(so2, [i * TWO_PI / 52 for i in range(52)], atol=1e-15)
    o2 = list(o2_group().testing_elements())
    assert len(o2) == 104
    expected = {(j, round(i * TWO_PI / 52, 12)) for j in (0, 1) for i in range(52)}
    assert {(j, round(t, 12)) for j, t in o2} == expected
    for G in (cyclic_group(5), dihedral_group(3), flip_group(), trivial_group()):
        assert list(G.testing_elements()) == G.elements


# ---- constructors, factories, group_from_name ---------------------------------------------------------
@pytest.mark.parametrize("ctor", [CyclicGroup, DihedralGroup, cyclic_group, dihedral_group])
@pytest.mark.parametrize("bad", [0, -3, 2.5, "4", True, False, None, 4.0])
def test_bad_rotation_orders(ctor, bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        ctor(bad)


@pytest.mark.parametrize("ctor", [SO2, O2, so2_group, o2_group])
@pytest.mark.parametrize("bad", [-1, 2.5, "3", True, None])
def test_bad_maximum_frequency(ctor, bad):
    with pytest.raises(ValueError, match="maximum_frequency"):
        ctor(bad)


def test_numpy_int_orders_accepted():
    G = cyclic_group(np.int64(6))
    assert G == cyclic_group(6) and type(G.rotation_order) is int and G.name == "C6"
    assert dihedral_group(np.int32(3)).elements == dihedral_group(3).elements
    assert [p.name for p in so2_group(0).irreps] == ["irrep_0"]


@pytest.mark.parametrize("name,expected", [
    ("C8", cyclic_group(8)), ("c8", cyclic_group(8)), (" D4 ", dihedral_group(4)), ("D1", dihedral_group(1)),
    ("C1", trivial_group()), ("C12", cyclic_group(12)), ("SO2", so2_group()), ("SO(2)", so2_group()),
    ("so(2)", so2_group()), ("O2", o2_group()), ("O(2)", o2_group()), ("flip", flip_group()),
    ("Flip", flip_group()), ("flips", flip_group()), ("trivial", trivial_group()), ("TRIVIAL", cyclic_group(1)),
])
def test_group_from_name(name, expected):
    G = group_from_name(name)
    assert G == expected and type(G) is type(expected)


def test_group_from_name_maximum_frequency():
    assert group_from_name("SO2", maximum_frequency=3).maximum_frequency == 3
    assert [p.name for p in group_from_name("O(2)", 2).irreps] == ["irrep_0,0", "irrep_1,0", "irrep_1,1", "irrep_1,2"]
    assert group_from_name("so2").maximum_frequency == 10


@pytest.mark.parametrize("name", ["C0", "D0", "C", "D", "X8", "C-1", "C8.5", "", "SO3", "O(3)", "D 4", "C+4",
                                  "regular", "Dihedral4"])
def test_group_from_name_errors(name):
    with pytest.raises(ValueError, match="unknown group .*valid: C<N> or D<N>"):
        group_from_name(name)


@pytest.mark.parametrize("bad", [8, None, ("C", 8), b"C8"])
def test_group_from_name_rejects_non_strings(bad):
    with pytest.raises(ValueError, match="group must be a name"):
        group_from_name(bad)


def test_group_from_name_unicode_digit_error_names_valid_groups():
    # "²".isdigit() is True but int("²") fails: the error must still be the documented one
    with pytest.raises(ValueError, match="unknown group"):
        group_from_name("C²")


# ---- value semantics ---------------------------------------------------------------------------------
def test_groups_hash_and_compare_by_value():
    assert CyclicGroup(4) == cyclic_group(4) and hash(CyclicGroup(4)) == hash(cyclic_group(4))
    assert DihedralGroup(4) == dihedral_group(4) and hash(DihedralGroup(4)) == hash(dihedral_group(4))
    assert FlipGroup() == flip_group() and hash(FlipGroup()) == hash(flip_group())
    distinct = [cyclic_group(1), cyclic_group(2), cyclic_group(4), dihedral_group(1), dihedral_group(2),
                dihedral_group(4), flip_group(), so2_group(), o2_group()]
    for a, b in itertools.combinations(distinct, 2):
        assert a != b, (a, b)
    assert len({*distinct, *[copy.copy(g) for g in distinct]}) == len(distinct)
    assert cyclic_group(4) != "C4" and cyclic_group(4) != 4
    # the maximum frequency only lists irreps: the group is the same
    assert so2_group(3) == so2_group(7) and hash(o2_group(3)) == hash(o2_group(7))
    memo = {dihedral_group(8): "D8"}
    assert memo[DihedralGroup(8)] == "D8"


@pytest.mark.parametrize("G", [cyclic_group(1), cyclic_group(8), dihedral_group(5), flip_group(), so2_group(3),
                               o2_group(6)], ids=lambda G: G.name)
@pytest.mark.parametrize("roundtrip", [lambda G: pickle.loads(pickle.dumps(G)), copy.deepcopy, copy.copy],
                         ids=["pickle", "deepcopy", "copy"])
def test_group_roundtrip(G, roundtrip):
    H = roundtrip(G)
    assert H == G and hash(H) == hash(G) and type(H) is type(G)
    assert [p.name for p in H.irreps] == [p.name for p in G.irreps]
    assert getattr(H, "maximum_frequency", None) == getattr(G, "maximum_frequency", None)
    if G.elements is not None:
        assert H.elements == G.elements
        np.testing.assert_array_equal(H.regular_representation(G.elements[-1]),
                                      G.regular_representation(G.elements[-1]))


# ---- irreps: names, order, dimensions --------------------------------------------------------------
IRREP_TABLE = {  # (group, [(name, dim)]) written by hand
    "C1": [("irrep_0", 1)],
    "C2": [("irrep_0", 1), ("irrep_1", 1)],
    "C3": [("irrep_0", 1), ("irrep_1", 2)],
    "C4": [("irrep_0", 1), ("irrep_1", 2), ("irrep_2", 1)],
    "C5": [("irrep_0", 1), ("irrep_1", 2), ("irrep_2", 2)],
    "C8": [("irrep_0", 1), ("irrep_1", 2), ("irrep_2", 2), ("irrep_3", 2), ("irrep_4", 1)],
    "D1": [("irrep_0,0", 1), ("irrep_1,0", 1)],
    "D2": [("irrep_0,0", 1), ("irrep_1,0", 1), ("irrep_1,1", 1), ("irrep_0,1", 1)],
    "D3": [("irrep_0,0", 1), ("irrep_1,0", 1), ("irrep_1,1", 2)],
    "D4": [("irrep_0,0", 1), ("irrep_1,0", 1), ("irrep_1,1", 2), ("irrep_1,2", 1), ("irrep_0,2", 1)],
    "D5": [("irrep_0,0", 1), ("irrep_1,0", 1), ("irrep_1,1", 2), ("irrep_1,2", 2)],
    "D6": [("irrep_0,0", 1), ("irrep_1,0", 1), ("irrep_1,1", 2), ("irrep_1,2", 2), ("irrep_1,3", 1),
           ("irrep_0,3", 1)],
    "Flip": [("irrep_0", 1), ("irrep_1", 1)],
    "SO(2)": [("irrep_0", 1), ("irrep_1", 2), ("irrep_2", 2)],
    "O(2)": [("irrep_0,0", 1), ("irrep_1,0", 1), ("irrep_1,1", 2), ("irrep_1,2", 2)],
}


@pytest.mark.parametrize("name", IRREP_TABLE)
def test_irreps_table(name):
    G = flip_group() if name == "Flip" else group_from_name(name, maximum_frequency=2)
    assert [(p.name, p.dim) for p in G.irreps] == IRREP_TABLE[name]


@pytest.mark.parametrize("name", list(E2CNN_GROUPS))
def test_irreps_match_e2cnn(name):
    ref = E2CNN_GROUPS[name]
    G = group_from_name(name, maximum_frequency=4)
    assert G.order() == ref["order"]
    assert [p.name for p in G.irreps] == [r["name"] for r in ref["irreps"]]
    for p, r in zip(G.irreps, ref["irreps"]):
        assert p.dim == r["size"]
        assert p.frequency == r["attributes"]["frequency"]
        assert p.flip_frequency == r["attributes"].get("flip_frequency")
        assert G.irrep(*p.id) is p


def test_irrep_ids_and_attributes():
    D6 = dihedral_group(6)
    assert [p.id for p in D6.irreps] == [(0, 0), (1, 0), (1, 1), (1, 2), (1, 3), (0, 3)]
    assert D6.irrep(0, 3).frequency == 3 and D6.irrep(0, 3).flip_frequency == 0
    assert cyclic_group(5).irrep(2).flip_frequency is None
    assert flip_group().irrep(1).flip_frequency == 1 and flip_group().irrep(1).frequency == 0
    assert D6.trivial_irrep is D6.irrep(0, 0)
    assert repr(D6.irrep(1, 2)) == "D6|irrep_1,2" and D6.irrep(1, 2).name == "irrep_1,2"


def test_sum_of_squares_constituents():
    # 2-D irreps of C_N and SO(2) are of complex type, those of D_N and O(2) of real type (as in e2cnn)
    assert [p.sum_of_squares_constituents for p in cyclic_group(6).irreps] == [1, 2, 2, 1]
    assert [p.sum_of_squares_constituents for p in so2_group(2).irreps] == [1, 2, 2]
    assert {p.sum_of_squares_constituents for p in dihedral_group(6).irreps} == {1}
    assert {p.sum_of_squares_constituents for p in o2_group(3).irreps} == {1}


def test_is_trivial():
    for G in SMALL_FINITE + [so2_group(3), o2_group(3)]:
        assert [p.is_trivial() for p in G.irreps] == [True] + [False] * (len(G.irreps) - 1), G


def test_continuous_irreps_beyond_maximum_frequency():
    S, O = so2_group(3), o2_group(3)
    assert S.irrep(7).name == "irrep_7" and S.irrep(7) == so2_group(10).irrep(7)
    assert O.irrep(1, 12).dim == 2 and O.irrep(1, 12).frequency == 12
    assert len(S.irreps) == 4 and len(O.irreps) == 5


@pytest.mark.parametrize("G,bad,valid", [
    (cyclic_group(8), (5,), "0, 1, 2, 3, 4"),
    (cyclic_group(8), (-1,), "0, 1, 2, 3, 4"),
    (cyclic_group(8), (1, 1), "0, 1, 2, 3, 4"),
    (cyclic_group(8), (), "0, 1, 2, 3, 4"),
    (cyclic_group(7), (4,), "0, 1, 2, 3"),
    (dihedral_group(8), (0, 1), "(0, 0), (1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (0, 4)"),
    (dihedral_group(8), (1, 5), "(0, 0), (1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (0, 4)"),
    (dihedral_group(8), (1,), "(0, 0), (1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (0, 4)"),
    (dihedral_group(3), (0, 1), "(0, 0), (1, 0), (1, 1)"),
    (dihedral_group(1), (1, 1), "(0, 0), (1, 0)"),
    (flip_group(), (2,), "0, 1"),
    (so2_group(3), (-1,), "any int k >= 0"),
    (so2_group(3), (1, 1), "any int k >= 0"),
    (o2_group(3), (0, 1), "(0, 0), (1, 0) or (1, k) with k >= 1"),
    (o2_group(3), (0, 5), "(0, 0), (1, 0) or (1, k) with k >= 1"),
    (o2_group(3), (2, 1), "(0, 0), (1, 0) or (1, k) with k >= 1"),
    (o2_group(3), (1, -1), "(0, 0), (1, 0) or (1, k) with k >= 1"),
    (o2_group(3), (1,), "(0, 0), (1, 0) or (1, k) with k >= 1"),
])
def test_bad_irrep_ids(G, bad, valid):
    with pytest.raises(ValueError, match=re.escape(valid)) as info:
        G.irrep(*bad)
    assert G.name in str(info.value)


# ---- irreps: matrices --------------------------------------------------------------------------------
@pytest.mark.parametrize("G", SMALL_FINITE + [cyclic_group(12), dihedral_group(12), so2_group(5), o2_group(5)],
                         ids=lambda G: G.name)
def test_irreps_equal_math_formulas(G):
    for psi in G.irreps:
        for e in random_elements(G, 20):
            np.testing.assert_allclose(psi.matrix(e), expected_irrep(G, psi.id, e), atol=1e-12,
                                       err_msg=f"{G.name} {psi.name} {e}")


def test_hand_written_irrep_values():
    D4 = dihedral_group(4)
    np.testing.assert_allclose(D4.irrep(1, 1).matrix((1, 1)), [[0, 1], [1, 0]], atol=1e-15)   # R(pi/2) X
    np.testing.assert_allclose(D4.irrep(1, 1).matrix((0, 1)), [[0, -1], [1, 0]], atol=1e-15)
    assert D4.irrep(1, 2).matrix((1, 1))[0, 0] == pytest.approx(1.0)      # (-1)^1 (-1)^1
    assert D4.irrep(0, 2).matrix((1, 1))[0, 0] == pytest.approx(-1.0)
    assert D4.irrep(1, 0).matrix((1, 3))[0, 0] == -1.0
    assert cyclic_group(4).irrep(2).matrix(3)[0, 0] == pytest.approx(-1.0)
    np.testing.assert_allclose(cyclic_group(8).irrep(3).matrix(1), R(3 * math.pi / 4), atol=1e-15)
    np.testing.assert_allclose(o2_group().irrep(1, 2).matrix((1, 0.3)), R(0.6) @ X, atol=1e-15)
    assert flip_group().irrep(1).matrix(1)[0, 0] == -1.0


@pytest.mark.parametrize("G", SMALL_FINITE + [cyclic_group(12), dihedral_group(12)], ids=lambda G: G.name)
def test_finite_irreps_are_orthogonal_homomorphisms(G):
    for psi in G.irreps:
        mats = {e: psi.matrix(e) for e in G.elements}
        np.testing.assert_array_equal(psi.matrix(G.identity).shape, (psi.dim, psi.dim))
        np.testing.assert_allclose(mats[G.identity], np.eye(psi.dim), atol=1e-12)
        for g in G.elements:
            np.testing.assert_allclose(mats[g].T @ mats[g], np.eye(psi.dim), atol=1e-12)
            for h in G.elements:
                np.testing.assert_allclose(mats[G.combine(g, h)], mats[g] @ mats[h], atol=1e-12,
                                           err_msg=f"{G.name} {psi.name} {g} {h}")


@fast
@given(a=so2_elements, b=so2_elements, k=st.integers(0, 12))
def test_so2_irreps_are_orthogonal_homomorphisms(a, b, k):
    G = so2_group(4)
    psi = G.irrep(k)
    np.testing.assert_allclose(psi.matrix(G.combine(a, b)), psi.matrix(a) @ psi.matrix(b), atol=1e-9)
    np.testing.assert_allclose(psi.matrix(a).T @ psi.matrix(a), np.eye(psi.dim), atol=1e-12)
    np.testing.assert_allclose(psi.matrix(a), expected_irrep(G, (k,), a), atol=1e-12)


@fast
@given(a=o2_elements, b=o2_elements, k=st.integers(0, 12), j=st.integers(0, 1))
def test_o2_irreps_are_orthogonal_homomorphisms(a, b, k, j):
    G = o2_group(4)
    psi = G.irrep(j, 0) if k == 0 else G.irrep(1, k)
    np.testing.assert_allclose(psi.matrix(G.combine(a, b)), psi.matrix(a) @ psi.matrix(b), atol=1e-9)
    np.testing.assert_allclose(psi.matrix(a).T @ psi.matrix(a), np.eye(psi.dim), atol=1e-12)
    np.testing.assert_allclose(psi.matrix(a), expected_irrep(G, psi.id, a), atol=1e-12)


EXACT_GROUPS = [(N, kind) for N in (1, 2, 3, 4, 5, 6, 7, 8, 12) for kind in ("C", "D")]


@pytest.mark.parametrize("N,kind", [pytest.param(N, k, marks=pytest.mark.slow) if N in (5, 6, 7) else (N, k)
                                    for N, k in EXACT_GROUPS], ids=[f"{k}{n}" for n, k in EXACT_GROUPS])
def test_irreps_are_exact_homomorphisms(N, kind):
    """psi(s h) = psi(s) psi(h), exactly, for s in the generators (r, and f for D_N).

    For N whose cosines are radicals cheap for sympy, h runs over the whole group, which proves the
    homomorphism by induction on word length; for N = 5, 7 (cyclotomic minimal polynomials are slow) h
    runs over the generators only.
    """
    G = group_from_name(f"{kind}{N}")
    gens = [1 % N] if kind == "C" else [(0, 1 % N), (1, 0)]
    others = gens if N in (5, 7) else G.elements
    for psi in G.irreps:
        for s in gens:
            for h in others:
                D = psi.exact(G.combine(s, h)) - psi.exact(s) * psi.exact(h)
                assert_exactly_zero(D, f"{G.name} {psi.name} {s} {h}")


@pytest.mark.parametrize("G", [cyclic_group(n) for n in (1, 2, 3, 4, 5, 6, 8)]
                         + [dihedral_group(n) for n in (1, 2, 3, 4, 6, 8)] + [flip_group()], ids=lambda G: G.name)
def test_exact_irreps_equal_float_irreps(G):
    for psi in G.irreps:
        assert psi.exact(G.identity) == sp.eye(psi.dim)
        for e in G.elements:
            M = psi.exact(e)
            assert isinstance(M, sp.MatrixBase) and M.shape == (psi.dim, psi.dim)
            assert not M.free_symbols
            np.testing.assert_allclose(np.array(M.evalf(20), dtype=float), psi.matrix(e), atol=1e-14)


def test_exact_irrep_values_are_algebraic():
    assert dihedral_group(8).irrep(1, 1).exact((0, 1)) == sp.Matrix([[1, -1], [1, 1]]) * sp.sqrt(2) / 2
    assert dihedral_group(4).irrep(1, 1).exact((1, 1)) == sp.Matrix([[0, 1], [1, 0]])
    assert cyclic_group(6).irrep(3).exact(5) == sp.Matrix([[-1]])
    assert dihedral_group(6).irrep(1, 3).exact((1, 1)) == sp.Matrix([[1]])


def test_symbolic_rotation_and_flip():
    t = sp.Symbol("theta", real=True)
    k = 3
    psi = o2_group(5).irrep(1, k)
    expected = sp.Matrix([[sp.cos(k * t), -sp.sin(k * t)], [sp.sin(k * t), sp.cos(k * t)]])
    assert_symbolically_zero(psi.rotation_exact(t) - expected)
    assert psi.flip_exact() == sp.diag(1, -1)
    assert o2_group().irrep(1, 0).flip_exact() == sp.Matrix([[-1]])
    assert dihedral_group(4).irrep(0, 2).flip_exact() == sp.Matrix([[1]])
    assert dihedral_group(4).irrep(1, 2).flip_exact() == sp.Matrix([[-1]])
    # exact element matrices of SO(2)/O(2) also accept symbolic angles
    assert_symbolically_zero(psi.exact((1, t)) - expected * sp.diag(1, -1))
    assert_symbolically_zero(so2_group().irrep(2).exact(t) - so2_group().irrep(2).rotation_exact(t))
    for G in (cyclic_group(4), so2_group()):
        with pytest.raises(ValueError, match="no reflection"):
            G.irreps[1].flip_exact()


# ---- characters -------------------------------------------------------------------------------------
@pytest.mark.parametrize("G", SMALL_FINITE + [cyclic_group(12), dihedral_group(12)], ids=lambda G: G.name)
def test_character_orthogonality(G):
    """<chi_a, chi_b> = delta_ab * sum_of_squares_constituents, and sum d^2 / sos = |G|."""
    chars = np.array([[psi.character(g) for g in G.elements] for psi in G.irreps])
    for psi, chi in zip(G.irreps, chars):
        np.testing.assert_allclose(chi, [np.trace(psi.matrix(g)) for g in G.elements], atol=1e-12)
        assert chi[0] == pytest.approx(psi.dim)
    gram = chars @ chars.T / G.order()
    np.testing.assert_allclose(gram, np.diag([p.sum_of_squares_constituents for p in G.irreps]), atol=1e-10)
    assert sum(p.dim ** 2 / p.sum_of_squares_constituents for p in G.irreps) == G.order()


def test_continuous_characters():
    assert so2_group().irrep(3).character(0.4) == pytest.approx(2 * math.cos(1.2))
    assert o2_group().irrep(1, 3).character((1, 0.4)) == pytest.approx(0.0, abs=1e-15)
    assert o2_group().irrep(1, 0).character((1, 0.4)) == -1.0


# ---- the complex eigenbasis (docs/math.md, "Deriving the elements") ----------------------------------------
EIGEN_GROUPS = [cyclic_group(n) for n in (1, 2, 3, 4, 5, 6, 8)] + [dihedral_group(n) for n in (1, 2, 3, 4, 5, 6)] \
    + [flip_group(), so2_group(4), o2_group(4)]


@pytest.mark.parametrize("G", EIGEN_GROUPS, ids=lambda G: G.name)
def test_eigenbasis_exact(G):
    t = sp.Symbol("theta", real=True)
    for psi in G.irreps:
        eb = psi.eigenbasis()
        U, U_inv = eb.U.to_Matrix(), eb.U_inv.to_Matrix()
        d = psi.dim
        assert U.shape == (d, d) and U_inv * U == sp.eye(d) and U * U_inv == sp.eye(d)
        assert len(eb.weights) == len(eb.conj_partner) == len(eb.flip_partner) == len(eb.flip_sign) == d
        k = psi.frequency
        assert eb.weights == ((k, -k) if d == 2 else (k,))
        # conjugation pairs the columns: conj(U[:, a]) = U[:, conj_partner[a]]
        for a in range(d):
            assert U[:, a].conjugate() == U[:, eb.conj_partner[a]], (psi, a)
        # U^-1 psi(r_theta) U = diag(exp(i w theta))
        target = sp.diag(*[sp.exp(sp.I * w * t) for w in eb.weights])
        if d == 2 or k == 0:
            assert_symbolically_zero(U_inv * psi.rotation_exact(t) * U - target, psi)
        else:
            # the 1-D sign irrep cos(k theta), k = N/2, is exp(i k theta) on the group only
            N = G.rotation_order
            for g in range(N):
                theta_g = 2 * sp.pi * g / N
                assert sp.simplify(U_inv * psi.rotation_exact(theta_g) * U - target.subs(t, theta_g)) == sp.zeros(1)
        if G.elements is not None:
            for e in G.elements:
                j, theta = plane_action(G, e)
                if j == 0:
                    D = np.array((U_inv * psi.exact(e) * U).evalf(20), dtype=complex)
                    np.testing.assert_allclose(D, np.diag(np.exp(1j * np.array(eb.weights) * theta)), atol=1e-14)
        # U^-1 psi(f) U e_a = flip_sign[a] e_{flip_partner[a]}
        if G.has_reflection:
            F = U_inv * psi.flip_exact() * U
            expected = sp.zeros(d)
            for a in range(d):
                expected[eb.flip_partner[a], a] = eb.flip_sign[a]
            assert F == expected, (psi, F)
            assert eb.flip_sign == ((1, 1) if d == 2 else ((-1) ** psi.flip_frequency,))


def test_eigenbasis_math_table():
    """U ~ [[1, 1], [-i, i]] for 2-D irreps, flip partners swap, 1-D flip sign (-1)^j."""
    eb = dihedral_group(5).irrep(1, 2).eigenbasis()
    assert eb.U.to_Matrix() == sp.Matrix([[1, 1], [-sp.I, sp.I]])
    assert (eb.weights, eb.conj_partner, eb.flip_partner, eb.flip_sign) == ((2, -2), (1, 0), (1, 0), (1, 1))
    eb = dihedral_group(6).irrep(1, 3).eigenbasis()
    assert (eb.weights, eb.conj_partner, eb.flip_partner, eb.flip_sign) == ((3,), (0,), (0,), (-1,))
    eb = o2_group().irrep(1, 0).eigenbasis()
    assert (eb.weights, eb.flip_sign) == ((0,), (-1,))


# ---- irreps as values ---------------------------------------------------------------------------------
def test_irreps_compare_and_pickle_by_value():
    a, b = dihedral_group(4).irrep(1, 1), DihedralGroup(4).irrep(1, 1)
    assert a == b and hash(a) == hash(b) and a is not b
    assert a != dihedral_group(5).irrep(1, 1) and a != dihedral_group(4).irrep(1, 0)
    assert cyclic_group(2).irrep(1) != flip_group().irrep(1)
    c = pickle.loads(pickle.dumps(a))
    assert c == a and c.group == a.group and c.name == a.name
    np.testing.assert_array_equal(c.matrix((1, 3)), a.matrix((1, 3)))
    assert copy.deepcopy(so2_group(2).irrep(5)) == so2_group(9).irrep(5)
