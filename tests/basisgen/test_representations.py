"""Regular, quotient and restricted representations, direct sums and changes of basis (docs/math.md,
"Regular and quotient representations").

The reference values are e2cnn 0.2.3's (``tests/fixtures/e2cnn/representations.json`` + ``.npz``, written by
``tests/fixtures/e2cnn/generate.py``), the closed forms and examples of docs/math.md, "Regular and quotient
representations", and the defining properties
(permutation matrices, rho(parent(h)) = Q (+)phi(h) Q^T, Frobenius reciprocity) checked directly.
"""
import copy
import json
import math
import pickle
import re
from collections import Counter

import numpy as np
import pytest
import scipy.linalg
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from exact import assert_exactly_zero

import basisgen
from basisgen import (Representation, change_basis, coset_representatives, cyclic_group, dihedral_group, directsum,
                      flip_group, o2_group, restrict_irrep, so2_group, subgroup, trivial_group)
from paths import E2CNN_FIXTURES

TWO_PI = 2 * math.pi
DATA = E2CNN_FIXTURES
REFERENCE = json.loads((DATA / "representations.json").read_text())
with np.load(DATA / "representations.npz") as _npz:
    COB = {key: _npz[key] for key in _npz.files}
CASES = {kind: [c for c in REFERENCE["cases"] if c["kind"] == kind] for kind in ("regular", "quotient", "restrict")}
FACTORIES = {name: getattr(basisgen, name) for name in ("cyclic_group", "dihedral_group", "so2_group", "o2_group")}

angles = st.floats(0.0, TWO_PI, exclude_max=True, allow_nan=False)
fast = settings(max_examples=30, deadline=None)


def group_of(case):
    return eval(case["group_ctor"], {"__builtins__": {}}, dict(FACTORIES))


def subgroup_id(args):
    return tuple(args) if isinstance(args, list) else args


def names(rep):
    return [psi.name for psi in rep.irreps]


def index_map(G):
    return {g: i for i, g in enumerate(G.elements)}


def permutation(n, pairs):
    P = np.zeros((n, n))
    for row, col in pairs:
        P[row, col] = 1
    return P




def all_subgroup_ids(G):
    N = G.rotation_order
    if G.kind == "cyclic":
        return [M for M in range(1, N + 1) if N % M == 0]
    ids = []
    for M in range(1, N + 1):
        if N % M == 0:
            ids += [(None, M)] + [(a, M) for a in range(N // M)]
    return ids


def sample(H, n=6, seed=1):
    """All elements of a finite H, random ones of SO(2)/O(2)."""
    if H.elements is not None:
        return H.elements
    rng = np.random.default_rng(seed)
    if H.kind == "so2":
        return [float(t) for t in rng.uniform(0, TWO_PI, n)]
    return [(j, float(t)) for j in (0, 1) for t in rng.uniform(0, TWO_PI, n)]


# ==== regular representation (docs/math.md, "Regular and quotient representations") =========================
@pytest.mark.parametrize("case", CASES["regular"], ids=lambda c: c["key"])
def test_regular_matches_e2cnn(case):
    G = group_of(case)
    rep = G.regular_representation
    assert rep.name == case["name"] == "regular" and rep.size == case["size"] == G.order()
    assert names(rep) == case["irreps"]
    np.testing.assert_allclose(rep.change_of_basis, COB[case["key"]], atol=1e-10)


def expected_regular_irreps(G):
    N = G.rotation_order
    if G.kind == "cyclic":
        return [f"irrep_{k}" for k in range(N // 2 + 1)]
    out = ["irrep_0,0", "irrep_1,0"]
    for k in range(1, (N + 1) // 2):
        out += [f"irrep_1,{k}"] * 2
    if N % 2 == 0:
        out += [f"irrep_1,{N // 2}", f"irrep_0,{N // 2}"]
    return out


REGULAR_GROUPS = ([cyclic_group(n) for n in range(1, 13)] + [dihedral_group(n) for n in range(1, 13)]
                  + [flip_group()])


@pytest.mark.parametrize("G", REGULAR_GROUPS, ids=lambda G: G.name)
def test_regular_is_left_multiplication(G):
    rep = G.regular_representation
    idx = index_map(G)
    n = G.order()
    Q = rep.change_of_basis
    np.testing.assert_allclose(Q.T @ Q, np.eye(n), atol=1e-12)
    np.testing.assert_allclose(rep.change_of_basis_inv, Q.T, atol=1e-15)
    for h in G.elements:
        expected = permutation(n, [(idx[G.combine(h, g)], idx[g]) for g in G.elements])
        np.testing.assert_allclose(rep(h), expected, atol=1e-12, err_msg=f"{G.name} {h}")
        assert rep.character(h) == pytest.approx(n if h == G.identity else 0.0, abs=1e-12)
    if G.kind != "flip":
        assert names(rep) == expected_regular_irreps(G)


def test_regular_irreps_literally():
    assert names(cyclic_group(4).regular_representation) == ["irrep_0", "irrep_1", "irrep_2"]
    assert names(dihedral_group(4).regular_representation) == [
        "irrep_0,0", "irrep_1,0", "irrep_1,1", "irrep_1,1", "irrep_1,2", "irrep_0,2"]
    assert names(dihedral_group(1).regular_representation) == ["irrep_0,0", "irrep_1,0"]
    assert names(flip_group().regular_representation) == ["irrep_0", "irrep_1"]
    assert names(trivial_group().regular_representation) == ["irrep_0"]
    np.testing.assert_array_equal(trivial_group().regular_representation.change_of_basis, [[1.0]])


def closed_form_regular_Q(G):
    """The rows of closed form."""
    N = G.rotation_order
    rows = []
    for g in G.elements:
        if G.kind == "cyclic":
            t = TWO_PI * g / N
            row = [1.0]
            for k in range(1, (N + 1) // 2):
                row += [math.sqrt(2) * math.cos(k * t), math.sqrt(2) * math.sin(k * t)]
            if N % 2 == 0:
                row.append((-1.0) ** g)
            rows.append(np.array(row) / math.sqrt(N))
        else:
            j, a = g
            t = TWO_PI * a / N
            s = (-1.0) ** j
            row = [1.0, s]
            for k in range(1, (N + 1) // 2):
                c, si = math.cos(k * t), math.sin(k * t)
                row += [math.sqrt(2) * c, math.sqrt(2) * si, -math.sqrt(2) * s * si, math.sqrt(2) * s * c]
            if N % 2 == 0:
                row += [(-1.0) ** (a + j), (-1.0) ** a]
            rows.append(np.array(row) / math.sqrt(2 * N))
    return np.array(rows)


@pytest.mark.parametrize("G", REGULAR_GROUPS[:-1], ids=lambda G: G.name)
def test_regular_closed_form(G):
    np.testing.assert_allclose(G.regular_representation.change_of_basis, closed_form_regular_Q(G), atol=1e-12)


D4_EXAMPLE = [  # the D4 example: Q * sqrt(8); "r2" stands for sqrt(2)
    "1 1 r2 0 0 r2 1 1",
    "1 1 0 r2 -r2 0 -1 -1",
    "1 1 -r2 0 0 -r2 1 1",
    "1 1 0 -r2 r2 0 -1 -1",
    "1 -1 r2 0 0 -r2 -1 1",
    "1 -1 0 r2 r2 0 1 -1",
    "1 -1 -r2 0 0 r2 -1 1",
    "1 -1 0 -r2 -r2 0 1 -1",
]


def test_d4_example_literally():
    r2 = sp.sqrt(2)
    expected = sp.Matrix([[sp.sympify(x, locals={"r2": r2}) for x in row.split()] for row in D4_EXAMPLE])
    rep = dihedral_group(4).regular_representation
    np.testing.assert_allclose(rep.change_of_basis * math.sqrt(8), np.array(expected, dtype=float), atol=1e-12)
    assert_exactly_zero(rep.change_of_basis_exact * sp.sqrt(8) - expected)


@pytest.mark.parametrize("G", [cyclic_group(n) for n in range(1, 9)] + [dihedral_group(n) for n in range(1, 7)]
                         + [flip_group()], ids=lambda G: G.name)
def test_regular_exact_change_of_basis(G):
    rep = G.regular_representation
    Q = rep.change_of_basis_exact
    assert isinstance(Q, sp.MatrixBase) and Q.shape == (rep.size, rep.size) and not Q.free_symbols
    np.testing.assert_allclose(np.array(Q.evalf(20), dtype=float), rep.change_of_basis, atol=1e-14)
    if G.rotation_order not in (5, 7):           # cos(2 pi/5), cos(2 pi/7): slow minimal polynomials
        assert_exactly_zero(Q.T * Q - sp.eye(rep.size), G.name)


EXACT_PERMUTATIONS = [  # (group, elements to check; None: all)
    (cyclic_group(4), None), (cyclic_group(8), None), (dihedral_group(4), None), (dihedral_group(3), None),
    (cyclic_group(5), [1]), (dihedral_group(6), [(0, 1), (1, 0)])]


@pytest.mark.parametrize("G,elements", EXACT_PERMUTATIONS, ids=[G.name for G, _ in EXACT_PERMUTATIONS])
def test_regular_exact_matrices_are_permutations(G, elements):
    rep = G.regular_representation
    idx = index_map(G)
    n = G.order()
    for h in elements or G.elements:
        M = rep.exact(h)
        expected = sp.Matrix(permutation(n, [(idx[G.combine(h, g)], idx[g]) for g in G.elements]).astype(int))
        assert M == expected, (G.name, h)


def test_regular_nonlinearities_and_errors():
    base = {"pointwise", "norm", "gated", "concatenated"}
    assert dihedral_group(4).regular_representation.supported_nonlinearities == base
    for G in (cyclic_group(4), trivial_group(), flip_group()):
        assert G.regular_representation.supported_nonlinearities == base | {"vectorfield"}
    for G in (so2_group(), o2_group()):
        with pytest.raises(ValueError, match="finite group"):
            G.regular_representation
        with pytest.raises(ValueError, match="finite group"):
            G.quotient_representation(2 if G.kind == "so2" else (None, 2))


# ==== quotient representations (docs/math.md, "Regular and quotient representations") =======================
@pytest.mark.parametrize("case", CASES["quotient"], ids=lambda c: c["key"])
def test_quotient_matches_e2cnn(case):
    G = group_of(case)
    rep = G.quotient_representation(subgroup_id(case["args"]))
    assert rep.name == case["name"] and rep.size == case["size"]
    assert names(rep) == case["irreps"]
    np.testing.assert_allclose(rep.change_of_basis, COB[case["key"]], atol=1e-10)


def cosets_by_hand(G, sid):
    """Walk the element list; each element not yet covered starts a new coset."""
    H, parent, _ = subgroup(G, sid)
    Hp = [parent(h) for h in H.elements]
    reps, coset = [], {}
    for g in G.elements:
        if g not in coset:
            for h in Hp:
                coset[G.combine(g, h)] = len(reps)
            reps.append(g)
    return reps, coset


QUOTIENT_IDS = ([(group_of(c), subgroup_id(c["args"])) for c in CASES["quotient"]]
                + [(G, sid) for G in (cyclic_group(12), dihedral_group(6), dihedral_group(4), dihedral_group(2))
                   for sid in all_subgroup_ids(G)]
                + [(flip_group(), 1), (flip_group(), 2)])


@pytest.mark.parametrize("G,sid", QUOTIENT_IDS, ids=[f"{G.name}/{sid}" for G, sid in QUOTIENT_IDS])
def test_quotient_is_permutation_on_cosets(G, sid):
    rep = G.quotient_representation(sid)
    reps, index = coset_representatives(G, sid)
    hand_reps, coset = cosets_by_hand(G, sid)
    assert reps == hand_reps
    assert [index(g) for g in G.elements] == [coset[g] for g in G.elements]
    H = subgroup(G, sid)[0]
    n = G.order() // H.order()
    assert rep.size == len(reps) == n
    np.testing.assert_allclose(rep.change_of_basis.T @ rep.change_of_basis, np.eye(n), atol=1e-12)
    for g in G.elements:
        M = rep(g)
        np.testing.assert_allclose(M, np.round(M), atol=1e-12)
        expected = permutation(n, [(index(G.combine(g, r)), i) for i, r in enumerate(reps)])
        np.testing.assert_allclose(M, expected, atol=1e-12, err_msg=f"{G.name}/{sid} at {g}")
    # Frobenius reciprocity: multiplicity of psi = <chi_quot, chi_psi> / (|G| sos)
    count = Counter(rep.irreps)
    for psi in G.irreps:
        m = sum(rep.character(g) * psi.character(g) for g in G.elements) / G.order()
        assert count[psi] == pytest.approx(m / psi.sum_of_squares_constituents, abs=1e-9), psi
    assert list(rep.irreps) == sorted(rep.irreps, key=G.irreps.index)     # dictionary order


def test_quotient_math_examples():
    rep = cyclic_group(8).quotient_representation(2)
    assert names(rep) == ["irrep_0", "irrep_2", "irrep_4"]
    np.testing.assert_allclose(2 * rep.change_of_basis,
                               [[1, 1, 1, 1], [1, -1, 1, -1], [1, -1, -1, 1], [1, 1, -1, -1]], atol=1e-12)
    D4 = dihedral_group(4)
    rep = D4.quotient_representation((None, 2))
    assert names(rep) == ["irrep_0,0", "irrep_1,0", "irrep_1,2", "irrep_0,2"]
    np.testing.assert_allclose(2 * rep.change_of_basis,
                               [[1, 1, 1, 1], [1, 1, -1, -1], [1, -1, -1, 1], [1, -1, 1, -1]], atol=1e-12)
    assert coset_representatives(D4, (None, 2))[0] == [(0, 0), (0, 1), (1, 0), (1, 1)]     # e, r, f, rf
    rep = D4.quotient_representation((0, 1))
    assert names(rep) == ["irrep_0,0", "irrep_1,1", "irrep_0,2"]
    assert coset_representatives(D4, (0, 1))[0] == [(0, 0), (0, 1), (0, 2), (0, 3)]         # e, r, r^2, r^3
    assert rep.name == "quotient[(0, 1)]" and rep.attributes["subgroup_id"] == (0, 1)
    assert cyclic_group(8).quotient_representation(2).name == "quotient[2]"


@pytest.mark.parametrize("N,M", [(8, 2), (8, 4), (6, 3), (12, 3), (12, 2)])
def test_quotient_cyclic_closed_form(N, M):
    G = cyclic_group(N)
    rep = G.quotient_representation(M)
    ks = [k for k in range(0, N // 2 + 1) if k % M == 0]
    assert names(rep) == [f"irrep_{k}" for k in ks]
    n = N // M
    rows = []
    for c in range(n):
        row = []
        for k in ks:
            if 2 * k in (0, N):
                row.append((-1.0) ** c if 2 * k == N else 1.0)
            else:
                t = TWO_PI * k * c / N
                row += [math.cos(t) - math.sin(t), math.sin(t) + math.cos(t)]      # R(k theta_c) (1, 1)^T
        rows.append(row)
    np.testing.assert_allclose(rep.change_of_basis, np.array(rows) / math.sqrt(n), atol=1e-12)
    for g in G.elements:
        np.testing.assert_allclose(rep(g), permutation(n, [((c + g) % n, c) for c in range(n)]), atol=1e-12)


@pytest.mark.parametrize("case", CASES["quotient"], ids=lambda c: c["key"])
def test_quotient_exact_change_of_basis(case):
    rep = group_of(case).quotient_representation(subgroup_id(case["args"]))
    Q = rep.change_of_basis_exact
    assert isinstance(Q, sp.MatrixBase) and not Q.free_symbols
    np.testing.assert_allclose(np.array(Q.evalf(20), dtype=float), rep.change_of_basis, atol=1e-14)
    assert_exactly_zero(Q.T * Q - sp.eye(rep.size), case["key"])


@pytest.mark.parametrize("G,sid", [(cyclic_group(8), 3), (cyclic_group(8), 0), (cyclic_group(8), (None, 2)),
                                   (dihedral_group(8), (5, 4)), (dihedral_group(8), (None, 3)),
                                   (dihedral_group(8), 4), (flip_group(), 3)])
def test_quotient_bad_ids(G, sid):
    with pytest.raises(ValueError):
        G.quotient_representation(sid)


# ==== restriction ==================================================================================
def expected_subgroup_name(case):
    sid = subgroup_id(case["args"])
    # e2cnn calls the two-element reflection subgroup C2; ours is the flip group
    if case["subgroup"] == "C2" and isinstance(sid, tuple) and sid[0] is not None and sid[1] == 1:
        return "Flip"
    return case["subgroup"]


@pytest.mark.parametrize("case", CASES["restrict"], ids=lambda c: c["key"])
def test_restriction_matches_e2cnn(case):
    G = group_of(case)
    psi = G.irrep(*[int(i) for i in case["restricted_irrep"][len("irrep_"):].split(",")])
    rep = G.irrep_representation(*psi.id).restrict(subgroup_id(case["args"]))
    assert rep.group.name == expected_subgroup_name(case)
    assert rep.name == case["name"] and rep.size == case["size"]
    assert names(rep) == case["irreps"]
    np.testing.assert_allclose(rep.change_of_basis, COB[case["key"]], atol=1e-9)


def test_restriction_fixture_count():
    assert len(CASES["restrict"]) == 143 and len(CASES["quotient"]) == 20 and len(CASES["regular"]) == 14


RESTRICTION_IDS = (
    [(cyclic_group(8), M) for M in (1, 2, 4, 8)]
    + [(cyclic_group(12), M) for M in (1, 2, 3, 4, 6, 12)]
    + [(dihedral_group(8), sid) for sid in all_subgroup_ids(dihedral_group(8))]
    + [(dihedral_group(6), sid) for sid in all_subgroup_ids(dihedral_group(6))]
    + [(so2_group(6), M) for M in (1, 2, 3, 4, 5, 7)]
    + [(o2_group(6), sid) for sid in [(None, -1), (0.0, -1), (0.7, -1), (None, 1), (None, 2), (None, 5), (0.0, 1),
                                      (math.pi / 2, 1), (2.5, 1), (0.0, 4), (0.3, 3), (math.pi / 2, 2), (4.0, 6)]]
    + [(flip_group(), 1), (flip_group(), 2)])


@pytest.mark.parametrize("G,sid", RESTRICTION_IDS, ids=[f"{G.name}:{sid}" for G, sid in RESTRICTION_IDS])
def test_restriction_identity(G, sid):
    """psi(parent(h)) = Q ((+)_i phi_i(h)) Q^T for every irrep of G and every (or random) h in H."""
    H, parent, _ = subgroup(G, sid)
    irreps = list(G.irreps) + ([G.irrep(9), G.irrep(12)] if G.kind == "so2" else [])
    irreps += [G.irrep(1, 9), G.irrep(1, 12)] if G.kind == "o2" else []
    for psi in irreps:
        Q_exact, phis = restrict_irrep(psi, sid)
        Q = np.array(Q_exact.evalf(20), dtype=float)
        np.testing.assert_allclose(Q.T @ Q, np.eye(psi.dim), atol=1e-14)
        assert sum(phi.dim for phi in phis) == psi.dim and all(phi.group == H for phi in phis)
        rep = G.irrep_representation(*psi.id).restrict(sid)
        assert rep.group == H and rep.irreps == phis
        for h in sample(H):
            block = scipy.linalg.block_diag(*[phi.matrix(h) for phi in phis])
            np.testing.assert_allclose(psi.matrix(parent(h)), Q @ block @ Q.T, atol=1e-10,
                                       err_msg=f"{G.name} {sid} {psi.name} {h}")
            np.testing.assert_allclose(rep(h), psi.matrix(parent(h)), atol=1e-10)
        if H.elements is not None:
            # the multiplicities of H's irreps are those given by characters
            count = Counter(phis)
            for phi in H.irreps:
                m = sum(psi.character(parent(h)) * phi.character(h) for h in H.elements) / H.order()
                assert count[phi] == pytest.approx(m / phi.sum_of_squares_constituents, abs=1e-9), (psi, phi)


EXACT_RESTRICTIONS = [(cyclic_group(12), 4), (cyclic_group(8), 2), (dihedral_group(8), (1, 4)),
                      (dihedral_group(8), (3, 1)), (dihedral_group(8), (None, 2)), (dihedral_group(6), (1, 3)),
                      (dihedral_group(6), (1, 2)), (dihedral_group(6), (2, 1)), (flip_group(), 2)]


@pytest.mark.parametrize("G,sid", EXACT_RESTRICTIONS, ids=[f"{G.name}:{sid}" for G, sid in EXACT_RESTRICTIONS])
def test_restriction_exact_change_of_basis_is_orthogonal(G, sid):
    for psi in G.irreps:
        Q, _ = restrict_irrep(psi, sid)
        assert_exactly_zero(Q.T * Q - sp.eye(psi.dim), (G.name, sid, psi.name))


@fast
@given(axis=angles, M=st.sampled_from([-1, 1, 2, 3, 4, 5, 6]), k=st.integers(0, 9), j=st.integers(0, 1),
       t=angles, flip=st.integers(0, 1))
def test_o2_restriction_random_axis(axis, M, k, j, t, flip):
    G = o2_group(4)
    psi = G.irrep(j, 0) if k == 0 else G.irrep(1, k)
    H, parent, child = subgroup(G, (axis, M))
    if H.elements is not None:
        h = H.elements[int(t / TWO_PI * H.order()) % H.order()]
    else:
        h = (flip, t)
    Q_exact, phis = restrict_irrep(psi, (axis, M))
    Q = np.array(Q_exact.evalf(20), dtype=float)
    block = scipy.linalg.block_diag(*[phi.matrix(h) for phi in phis])
    np.testing.assert_allclose(psi.matrix(parent(h)), Q @ block @ Q.T, atol=1e-9)
    assert H.equal(child(parent(h)), h)


@fast
@given(t=angles, M=st.integers(1, 9), k=st.integers(0, 12))
def test_so2_restriction_random(t, M, k):
    G = so2_group(4)
    H, parent, child = subgroup(G, M)
    h = int(t / TWO_PI * M) % M
    rep = G.irrep_representation(k).restrict(M)
    np.testing.assert_allclose(rep(h), G.irrep(k).matrix(parent(h)), atol=1e-9)
    assert child(parent(h)) == h


@pytest.mark.parametrize("G,sid,name", [
    (cyclic_group(8), 4, "C4"), (cyclic_group(8), 1, "C1"), (cyclic_group(8), 8, "C8"),
    (dihedral_group(8), (None, 4), "C4"), (dihedral_group(8), (1, 1), "Flip"), (dihedral_group(8), (1, 4), "D4"),
    (dihedral_group(8), (None, 1), "C1"), (dihedral_group(8), (0, 8), "D8"), (so2_group(), 3, "C3"),
    (o2_group(), (None, -1), "SO(2)"), (o2_group(), (0.5, -1), "O(2)"), (o2_group(), (None, 4), "C4"),
    (o2_group(), (0.5, 1), "Flip"), (o2_group(), (0.5, 3), "D3"), (flip_group(), 1, "C1"), (flip_group(), 2, "Flip"),
])
def test_subgroup_maps(G, sid, name):
    H, parent, child = subgroup(G, sid)
    assert H.name == name and G.subgroup(sid)[0] == H
    for h in sample(H):
        g = parent(h)
        assert G.is_element(g)
        assert H.equal(child(g), h)
    if G.elements is not None:
        image = {parent(h) for h in H.elements}
        assert len(image) == H.order()
        for a in H.elements:
            for b in H.elements:
                assert parent(H.combine(a, b)) == G.combine(parent(a), parent(b))
        for g in G.elements:
            c = child(g)
            assert (c is None) == (g not in image), g
            if c is not None:
                assert parent(c) == g


def test_subgroup_hand_computed():
    H, parent, child = subgroup(dihedral_group(8), (1, 4))
    assert parent((1, 1)) == (1, 3) and child((1, 3)) == (1, 1) and child((0, 1)) is None
    assert parent((0, 1)) == (0, 2)
    H, parent, child = subgroup(dihedral_group(8), (3, 1))
    assert parent(1) == (1, 3) and child((1, 3)) == 1 and child((1, 2)) is None and child((0, 0)) == 0
    H, parent, child = subgroup(so2_group(), 4)
    assert parent(1) == pytest.approx(math.pi / 2) and child(math.pi) == 2 and child(0.3) is None
    H, parent, child = subgroup(o2_group(), (None, 4))
    assert child((1, 0.0)) is None and child((0, 3 * math.pi / 2)) == 3
    H, parent, child = subgroup(o2_group(), (0.5, 1))
    assert child((1, 0.5)) == 1 and child((1, 0.6)) is None and child((0, 0.0)) == 0 and child((0, 0.5)) is None
    H, parent, child = subgroup(o2_group(), (None, -1))
    assert child((1, 0.3)) is None and child((0, 0.3)) == 0.3


@pytest.mark.parametrize("G,sid", [
    (cyclic_group(8), 3), (cyclic_group(8), 0), (cyclic_group(8), -2), (cyclic_group(8), 16), (cyclic_group(8), 2.0),
    (cyclic_group(8), True), (cyclic_group(8), (None, 2)), (cyclic_group(8), None),
    (dihedral_group(8), (5, 4)), (dihedral_group(8), (2, 4)), (dihedral_group(8), (-1, 4)),
    (dihedral_group(8), (None, 3)), (dihedral_group(8), (0, 3)), (dihedral_group(8), (0.0, 4)),
    (dihedral_group(8), (True, 4)), (dihedral_group(8), 4), (dihedral_group(8), (None, 4, 1)),
    (dihedral_group(8), (8, 1)),
    (o2_group(), (1, 4)), (o2_group(), (0, 1)), (o2_group(), (None, 0)), (o2_group(), (None, -2)),
    (o2_group(), (0.5, 2.5)), (o2_group(), 4), (o2_group(), (None, True)),
    (so2_group(), 0), (so2_group(), -1), (so2_group(), 2.5), (so2_group(), (None, 4)),
    (flip_group(), 3), (flip_group(), 0), (flip_group(), (None, 1)),
])
def test_invalid_subgroup_ids(G, sid):
    with pytest.raises(ValueError) as info:
        subgroup(G, sid)
    message = str(info.value)
    assert repr(sid) in message or any(repr(x) in message for x in np.atleast_1d(np.array(sid, dtype=object)))
    with pytest.raises(ValueError):
        G.trivial_representation.restrict(sid)
    with pytest.raises(ValueError):
        restrict_irrep(G.irreps[-1], sid)


def test_o2_non_finite_axis_is_rejected():
    # a NaN/inf axis gives NaN matrices and a parent map whose images are not elements of O(2)
    for axis in (float("nan"), float("inf")):
        for M in (-1, 1, 2):
            with pytest.raises(ValueError, match="axis"):
                subgroup(o2_group(), (axis, M))


def test_coset_representatives_needs_a_finite_group():
    for G, sid in ((so2_group(), 4), (o2_group(), (None, 4))):
        with pytest.raises(ValueError, match="finite group"):
            coset_representatives(G, sid)


def test_invalid_ids_messages():
    with pytest.raises(ValueError, match=re.escape("positive divisor of 8, got 3")):
        subgroup(cyclic_group(8), 3)
    with pytest.raises(ValueError, match=r"0 <= a < 2"):
        subgroup(dihedral_group(8), (5, 4))
    with pytest.raises(ValueError, match="float angle, got 1"):
        subgroup(o2_group(), (1, 4))


# ==== restriction of reducible representations ====================================================
REGULAR_RESTRICTIONS = [(G, sid) for G in (cyclic_group(12), dihedral_group(8), dihedral_group(6), flip_group())
                        for sid in (all_subgroup_ids(G) if G.kind != "flip" else [1, 2])]


@pytest.mark.parametrize("G,sid", REGULAR_RESTRICTIONS, ids=[f"{G.name}:{sid}" for G, sid in REGULAR_RESTRICTIONS])
def test_restricted_regular_representation(G, sid):
    reg = G.regular_representation
    rep = reg.restrict(sid)
    H, parent, _ = subgroup(G, sid)
    assert rep.group == H and rep.name == f"{G.name}:regular" and rep.size == reg.size
    Q = rep.change_of_basis
    np.testing.assert_allclose(Q.T @ Q, np.eye(rep.size), atol=1e-12)
    for h in H.elements:
        np.testing.assert_allclose(rep(h), reg(parent(h)), atol=1e-10, err_msg=f"{G.name}:{sid} at {h}")
    # Res^G_H of the regular representation is [G:H] copies of H's regular representation
    index = G.order() // H.order()
    count = Counter(rep.irreps)
    for phi, m in Counter(H.regular_representation.irreps).items():
        assert count[phi] == index * m, phi
    assert sum(count.values()) == index * len(H.regular_representation.irreps)
    assert ("pointwise" in rep.supported_nonlinearities) and rep.is_trivial() == (H.order() == 1)


def test_restricted_exact_change_of_basis_and_chains():
    reg = dihedral_group(8).regular_representation
    rep = reg.restrict((1, 4))
    np.testing.assert_allclose(np.array(rep.change_of_basis_exact.evalf(20), dtype=float), rep.change_of_basis,
                               atol=1e-14)
    twice = rep.restrict((None, 2))          # D8 -> D4 -> C2
    H2, parent2, _ = subgroup(rep.group, (None, 2))
    _, parent1, _ = subgroup(dihedral_group(8), (1, 4))
    assert twice.group == cyclic_group(2) and twice.name == "D4:D8:regular"
    for h in H2.elements:
        np.testing.assert_allclose(twice(h), reg(parent1(parent2(h))), atol=1e-10)
    assert reg.restrict((0, 8)).irreps == reg.irreps        # restriction to the whole group
    np.testing.assert_allclose(reg.restrict((0, 8)).change_of_basis, reg.change_of_basis, atol=1e-12)
    # a representation without an exact change of basis restricts to one without
    rho = change_basis(dihedral_group(4).regular_representation, np.eye(8)[::-1], "flipped")
    assert rho.restrict((None, 2)).change_of_basis_exact is None


def test_trivial_restriction_is_trivial():
    rep = dihedral_group(4).regular_representation.restrict((None, 1))
    assert rep.is_trivial() and names(rep) == ["irrep_0"] * 8 and "pointwise" in rep.supported_nonlinearities
    rep = dihedral_group(4).irrep_representation(1, 1).restrict((None, 1))
    assert rep.is_trivial() and rep.supported_nonlinearities == {"norm", "gated", "pointwise"}


# ==== Representation, directsum, change_basis =====================================================
def test_directsum_structure():
    G = dihedral_group(4)
    a, b, c = G.trivial_representation, G.irrep_representation(1, 1), G.regular_representation
    rho = directsum([a, b, c])
    assert rho.name == "[irrep_0,0]_[irrep_1,1]_[regular]" and rho.size == 1 + 2 + 8
    assert rho.irreps == a.irreps + b.irreps + c.irreps
    np.testing.assert_allclose(rho.change_of_basis, scipy.linalg.block_diag(np.eye(1), np.eye(2), c.change_of_basis))
    for g in G.elements:
        np.testing.assert_allclose(rho(g), scipy.linalg.block_diag(a(g), b(g), c(g)), atol=1e-12)
        assert rho.character(g) == pytest.approx(np.trace(rho(g)))
    assert (a + b).name == "[irrep_0,0]_[irrep_1,1]" and (a + b) == directsum([a, b])
    assert directsum([b], name="vec").name == "vec"
    assert rho.multiplicity(G.irrep(1, 1)) == 3 and rho.multiplicity(G.irrep(1, 0)) == 1
    assert rho.multiplicity(G.irrep(0, 0)) == 2
    # exact change of basis: block diagonal of the exact blocks
    Qe = rho.change_of_basis_exact
    assert Qe == sp.diag(sp.eye(3), c.change_of_basis_exact)


def test_directsum_nonlinearities_are_intersected():
    G = cyclic_group(4)
    reg, triv, vec = G.regular_representation, G.trivial_representation, G.irrep_representation(1)
    assert directsum([reg, reg]).supported_nonlinearities == reg.supported_nonlinearities
    # e2cnn tags (as in e2cnn): trivial of C_N has concatenated too
    assert directsum([reg, triv]).supported_nonlinearities == {"pointwise", "norm", "gated", "concatenated"}
    assert directsum([reg, vec]).supported_nonlinearities == {"norm", "gated"}
    assert directsum([reg, change_basis(vec, np.eye(2), "v")]).supported_nonlinearities == set()


def test_directsum_with_change_of_basis():
    G = cyclic_group(3)
    a, b = G.regular_representation, G.irrep_representation(1)
    P = np.eye(5)[[4, 0, 3, 1, 2]]
    rho = directsum([a, b], change_of_basis=P, name="mixed")
    np.testing.assert_allclose(rho.change_of_basis, P @ scipy.linalg.block_diag(a.change_of_basis, np.eye(2)))
    for g in G.elements:
        np.testing.assert_allclose(rho(g), P @ scipy.linalg.block_diag(a(g), b(g)) @ P.T, atol=1e-12)
    assert rho.change_of_basis_exact is None
    with pytest.raises(ValueError, match="no exact change of basis"):
        rho.exact(1)


def test_directsum_errors():
    with pytest.raises(ValueError, match="non-empty"):
        directsum([])
    with pytest.raises(ValueError, match="share one group"):
        directsum([cyclic_group(4).regular_representation, cyclic_group(8).regular_representation])
    with pytest.raises(ValueError, match="share one group"):
        directsum([dihedral_group(2).trivial_representation, flip_group().trivial_representation])
    with pytest.raises(ValueError, match=re.escape("(4, 4)")):
        directsum([cyclic_group(4).regular_representation], change_of_basis=np.eye(3))


def test_change_basis():
    G = dihedral_group(3)
    reg = G.regular_representation
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 6)) + 6 * np.eye(6)        # invertible, not orthogonal
    rho = change_basis(reg, A, "skewed")
    assert rho.name == "skewed" and rho.irreps == reg.irreps and rho.supported_nonlinearities == set()
    assert not rho.is_orthogonal
    np.testing.assert_allclose(rho.change_of_basis, A @ reg.change_of_basis)
    np.testing.assert_allclose(rho.change_of_basis_inv, np.linalg.inv(A @ reg.change_of_basis), atol=1e-10)
    for g in G.elements:
        np.testing.assert_allclose(rho(g), A @ reg(g) @ np.linalg.inv(A), atol=1e-9)
        for h in G.elements:
            np.testing.assert_allclose(rho(G.combine(g, h)), rho(g) @ rho(h), atol=1e-9)
    assert change_basis(reg, np.eye(6), "same", ["pointwise"]).supported_nonlinearities == {"pointwise"}
    with pytest.raises(ValueError, match=re.escape("(6, 6)")):
        change_basis(reg, np.eye(5), "bad")


def test_representation_constructor():
    G = cyclic_group(4)
    psi = G.irrep(1)
    rho = Representation(G, "plain", [psi, G.irrep(0)])
    assert rho.size == 3 and rho.change_of_basis_exact == sp.eye(3) and rho.is_orthogonal
    np.testing.assert_array_equal(rho.change_of_basis, np.eye(3))
    assert rho.exact(1) == sp.diag(sp.Matrix([[0, -1], [1, 0]]), sp.Matrix([[1]]))
    assert repr(G.regular_representation) == "C4|regular:4,3"
    with pytest.raises(ValueError, match="irreps must be irreps of C4"):
        Representation(G, "bad", [cyclic_group(8).irrep(1)])
    with pytest.raises(ValueError, match="irreps must be irreps of C4"):
        Representation(G, "bad", ["irrep_1"])
    with pytest.raises(ValueError, match=re.escape("(3, 3)")):
        Representation(G, "bad", [psi, G.irrep(0)], np.eye(4))
    with pytest.raises(ValueError, match="invertible"):
        Representation(G, "bad", [psi, G.irrep(0)], np.zeros((3, 3)))
    with pytest.raises(ValueError, match="invertible"):
        Representation(G, "bad", [psi, G.irrep(0)], np.full((3, 3), np.nan))


def test_irrep_representations():
    G = dihedral_group(6)
    for psi in G.irreps:
        rho = G.irrep_representation(*psi.id)
        assert rho.irreducible and rho.name == psi.name and rho.irreps == [psi] and rho.size == psi.dim
        for g in G.elements:
            np.testing.assert_allclose(rho(g), psi.matrix(g))
    assert G.trivial_representation.supported_nonlinearities >= {"pointwise", "norm", "gated"}
    assert "pointwise" not in G.irrep_representation(1, 3).supported_nonlinearities
    assert not G.regular_representation.irreducible
    assert not change_basis(G.irrep_representation(1, 1), np.array([[0, 1], [1, 0]]), "swap").irreducible


def test_is_trivial_and_contains_trivial():
    G = dihedral_group(4)
    triv, vec, reg = G.trivial_representation, G.irrep_representation(1, 1), G.regular_representation
    assert triv.is_trivial() and triv.contains_trivial()
    assert not vec.is_trivial() and not vec.contains_trivial()
    assert not reg.is_trivial() and reg.contains_trivial()
    assert directsum([triv, triv]).is_trivial()
    assert not directsum([triv, G.irrep_representation(0, 2)]).is_trivial()
    assert not directsum([G.irrep_representation(1, 0), vec]).contains_trivial()
    assert G.quotient_representation((0, 1)).contains_trivial()
    assert flip_group().trivial_representation.is_trivial() and not flip_group().irrep_representation(1).is_trivial()
    assert so2_group().trivial_representation.is_trivial() and not so2_group().irrep_representation(2).is_trivial()


def test_representation_equality_and_hash():
    a = dihedral_group(4).regular_representation
    b = basisgen.DihedralGroup(4).regular_representation
    assert a is not b and a == b and hash(a) == hash(b)
    assert a != dihedral_group(4).quotient_representation((0, 1))
    assert a != change_basis(a, -np.eye(8), "regular")         # same name and irreps, different Q
    assert a != cyclic_group(8).regular_representation


ROUNDTRIP_REPS = [
    lambda: dihedral_group(4).regular_representation,
    lambda: cyclic_group(8).quotient_representation(2),
    lambda: dihedral_group(6).quotient_representation((1, 3)),
    lambda: dihedral_group(8).regular_representation.restrict((1, 4)),
    lambda: o2_group(3).irrep_representation(1, 2).restrict((0.5, 3)),
    lambda: directsum([cyclic_group(3).regular_representation, cyclic_group(3).irrep_representation(1)]),
    lambda: change_basis(cyclic_group(4).regular_representation, np.diag([1.0, 2.0, 3.0, 4.0]), "scaled"),
    lambda: so2_group(4).irrep_representation(3),
]


@pytest.mark.parametrize("make", ROUNDTRIP_REPS, ids=range(len(ROUNDTRIP_REPS)))
@pytest.mark.parametrize("roundtrip", [lambda r: pickle.loads(pickle.dumps(r)), copy.deepcopy],
                         ids=["pickle", "deepcopy"])
def test_representation_roundtrip(make, roundtrip):
    rho = make()
    back = roundtrip(rho)
    assert back == rho and hash(back) == hash(rho) and back.name == rho.name and back.group == rho.group
    assert back.irreps == rho.irreps and back.supported_nonlinearities == rho.supported_nonlinearities
    assert back.attributes == rho.attributes
    np.testing.assert_array_equal(back.change_of_basis, rho.change_of_basis)
    np.testing.assert_array_equal(back.change_of_basis_inv, rho.change_of_basis_inv)
    exact = rho.change_of_basis_exact
    assert (back.change_of_basis_exact is None) == (exact is None)
    if exact is not None:
        assert back.change_of_basis_exact == exact
    for g in sample(rho.group, 3):
        np.testing.assert_array_equal(back(g), rho(g))


def test_pickle_of_unevaluated_exact_change_of_basis():
    """The lazy exact Q is a closure; pickling must evaluate it, not fail."""
    rho = basisgen.CyclicGroup(6).quotient_representation(3)        # fresh group: nothing evaluated yet
    back = pickle.loads(pickle.dumps(rho))
    assert back.change_of_basis_exact == cyclic_group(6).quotient_representation(3).change_of_basis_exact
    assert back.exact(1) == sp.Matrix([[0, 1], [1, 0]])


@fast
@given(a=angles, b=angles, j=st.integers(0, 1), i=st.integers(0, 1))
def test_continuous_directsum_is_a_representation(a, b, j, i):
    G = o2_group(3)
    rho = directsum([G.irrep_representation(1, 2), G.irrep_representation(1, 0), G.irrep_representation(1, 1)])
    g, h = (j, a), (i, b)
    np.testing.assert_allclose(rho(G.combine(g, h)), rho(g) @ rho(h), atol=1e-9)
    np.testing.assert_allclose(rho(g).T @ rho(g), np.eye(5), atol=1e-12)
