"""The derivation engine (docs/math.md, "Deriving the elements") against the closed-form table
(docs/math.md, "The angular elements").

``tests/helpers/closed_form_table.py`` is an independent implementation of the table, written from the spec;
here every derived basis is compared with it element by element: the same count, the same
(mu, s, gamma, t) in the same order, the same exact coefficient matrices and the same samples.
The literal examples of docs/math.md, "The angular elements" pin the oracle itself down.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from basisgen import cyclic_group, dihedral_group, flip_group, o2_group, so2_group, trivial_group
from basisgen.derivation import _derive
from basisgen.harmonics import PHI

from closed_form_table import (alias_count, alias_count_non_negative, closed_form_table, irrep_data, offsets,
                               table_count)

HALF_PI = sp.pi / 2
AXES = (0.0, math.pi / 2, 0.7)
FREQUENCIES = (0, 1, 2, 3, 4, 5, 9)
ANGLES = np.random.default_rng(20240611).uniform(-math.pi, math.pi, 20)
# equispaced angles: harmonics up to |mu| < 64 are exactly orthogonal on them (well-conditioned ranks)
GRID = 2 * math.pi * np.arange(128) / 128 + 0.1

GROUPS = ([cyclic_group(N) for N in range(1, 9)] + [dihedral_group(N) for N in range(1, 9)]
          + [so2_group(4), o2_group(4)])
FINITE_GROUPS = [G for G in GROUPS if G.rotation_order is not None]


def gid(G):
    return G.name.replace("(", "").replace(")", "")


#: the offset tests' groups: rotation orders up to 5 in the quick subset, the larger ones (slower) in the full suite
OFFSET_GROUPS = [G if G.rotation_order <= 5 else pytest.param(G, marks=pytest.mark.slow, id=gid(G))
                 for G in FINITE_GROUPS + [flip_group()]]


def derive(G, psi_in, psi_out, F=None, T=None, beta=0.0):
    """The derived basis with the reflection axis set (beta only for groups with reflections)."""
    beta = beta if G.has_reflection else 0.0
    return [e.with_axis(beta) for e in _derive(G, psi_in, psi_out, F, T)]


def key(e):
    """(mu, s, quarter, t) of a derived element; gamma must be exactly 0 or pi/2."""
    if e.gamma == 0:
        quarter = 0
    elif e.gamma == HALF_PI:
        quarter = 1
    else:
        raise AssertionError(f"gamma {e.gamma} is not 0 or pi/2")
    return (e.mu, e.s, quarter, e.t)


def compare(G, psi_in, psi_out, derived, expected, label):
    """Mismatch messages between a derived basis and the oracle's (empty list: identical)."""
    where = f"{G.name} {psi_in.name}->{psi_out.name} {label}"
    got, want = [key(e) for e in derived], [o.key for o in expected]
    if got != want:
        return [f"{where}: (mu, s, gamma/(pi/2), t) got {got}, expected {want}"]
    problems = []
    for e, o in zip(derived, expected):
        if e.shape != o.shape or (psi_out.dim, psi_in.dim) != o.shape:
            problems.append(f"{where} {o.key}: shape {e.shape}, expected {o.shape}")
            continue
        C, S = o.coefficients()
        if [list(r) for r in e.cos_coefficients] != C or (e.mu != 0 and [list(r) for r in e.sin_coefficients] != S):
            problems.append(f"{where} {o.key}: exact coefficients C={e.cos_coefficients}, S={e.sin_coefficients}; "
                            f"expected C={C}, S={S}")
        diff = np.max(np.abs(e.evaluate(ANGLES) - o.evaluate(ANGLES)))
        if not diff <= 1e-12:
            problems.append(f"{where} {o.key}: samples differ by {diff:.3g}")
    return problems


def report(problems):
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:25])


# ---- element by element against the oracle --------------------------------------------------------
@pytest.mark.parametrize("G", GROUPS + [flip_group(), trivial_group()], ids=gid)
def test_derived_basis_equals_closed_form_table(G):
    problems = []
    axes = AXES if G.has_reflection else (0.0,)
    # SO(2)/O(2) have no band in the table: F is ignored (checked below), derive with F = None
    frequencies = FREQUENCIES if G.rotation_order is not None else (None,)
    for F in frequencies:
        for beta in axes:
            for psi_in in G.irreps:
                for psi_out in G.irreps:
                    derived = derive(G, psi_in, psi_out, F, None, beta)
                    expected = closed_form_table(G, psi_in, psi_out, F, None, beta)
                    problems += compare(G, psi_in, psi_out, derived, expected, f"F={F} beta={beta:.3f}")
    report(problems)


@pytest.mark.parametrize("G", [so2_group(4), o2_group(4)], ids=gid)
def test_continuous_groups_ignore_the_frequency_band(G):
    for psi_in in G.irreps:
        for psi_out in G.irreps:
            reference = [key(e) for e in _derive(G, psi_in, psi_out, None, None)]
            for F in (0, 1, 3, 9):
                assert [key(e) for e in _derive(G, psi_in, psi_out, F, None)] == reference, (psi_in, psi_out, F)


@pytest.mark.parametrize("G", FINITE_GROUPS, ids=gid)
def test_counts_match_the_count_column_of_the_table(G):
    """len(derived) equals the closed count formulas (a third source, no enumeration)."""
    for F in FREQUENCIES:
        for psi_in in G.irreps:
            for psi_out in G.irreps:
                assert len(_derive(G, psi_in, psi_out, F, None)) == table_count(G, psi_in, psi_out, F), \
                    (G.name, psi_in.name, psi_out.name, F)


def test_alias_count_formulas_agree_with_enumeration():
    for N in range(1, 13):
        for k in range(-N, 2 * N + 1):
            for F in range(0, 3 * N + 2):
                assert alias_count(k, N, F) == sum(1 for x in range(-F, F + 1) if (x - k) % N == 0)
                assert alias_count_non_negative(k, N, F) == sum(1 for x in range(0, F + 1) if (x - k) % N == 0)
                assert len(offsets(k, N, F, None)) == alias_count(k, N, F)


def test_exact_matrix_agrees_with_numeric_evaluation():
    """``matrix()`` (sympy) and ``evaluate()`` (numpy) are the same function."""
    for G, F in ((cyclic_group(8), 5), (dihedral_group(4), 5), (o2_group(2), None), (flip_group(), 3)):
        for psi_in in G.irreps:
            for psi_out in G.irreps:
                for e in derive(G, psi_in, psi_out, F, None, 0.7):
                    f = sp.lambdify(PHI, e.matrix(PHI), "numpy")
                    sampled = np.stack([np.array(f(p), dtype=float) for p in ANGLES[:5]], axis=-1)
                    assert np.allclose(sampled, e.evaluate(ANGLES[:5]), atol=1e-12, rtol=0), (G, psi_in, psi_out, e)


# ---- the closed-form examples, literally ---------------------------------------------------------------
COUNT_MATRICES = {
    "C4": (cyclic_group(4), [[1, 2, 2], [2, 6, 2], [2, 2, 1]]),
    "C8": (cyclic_group(8), [[1, 2, 2, 0, 0], [2, 4, 2, 2, 0], [2, 2, 2, 2, 2], [0, 2, 2, 4, 2], [0, 0, 2, 2, 1]]),
    "D4": (dihedral_group(4), [[1, 0, 1, 1, 1], [0, 1, 1, 1, 1], [1, 1, 3, 1, 1], [1, 1, 1, 1, 0], [1, 1, 1, 0, 1]]),
}


@pytest.mark.parametrize("name", sorted(COUNT_MATRICES))
def test_count_matrices_of_math_2_3(name):
    G, expected = COUNT_MATRICES[name]
    irreps = G.irreps
    derived = [[len(_derive(G, psi_in, psi_out, 2, None)) for psi_in in irreps] for psi_out in irreps]
    oracle = [[len(closed_form_table(G, psi_in, psi_out, 2)) for psi_in in irreps] for psi_out in irreps]
    assert derived == expected
    assert oracle == expected


def tuples(G, in_id, out_id, F, T=None):
    """(mu, s, gamma, t) of the derived basis, gamma exact."""
    return [(e.mu, e.s, e.gamma, e.t) for e in _derive(G, G.irrep(*in_id), G.irrep(*out_id), F, T)]


def oracle_tuples(G, in_id, out_id, F, T=None):
    return [(o.mu, o.s, o.quarter * HALF_PI, o.t) for o in closed_form_table(G, G.irrep(*in_id), G.irrep(*out_id), F, T)]


def both(G, in_id, out_id, F, T=None):
    got = tuples(G, in_id, out_id, F, T)
    assert got == oracle_tuples(G, in_id, out_id, F, T)
    return got


def test_c4_psi1_to_psi1_f5():
    got = both(cyclic_group(4), (1,), (1,), 5)
    first = [(-4, 0, 0), (0, 0, 0), (4, 0, 0), (-2, 1, 0), (2, 1, 0)]
    assert [(mu, s, g) for mu, s, g, _ in got] == first + [(mu, s, HALF_PI) for mu, s, _ in first]
    assert [t for *_, t in got] == [-1, 0, 1, -1, 0] * 2


def test_d4_examples_of_math_2_3():
    D4 = dihedral_group(4)
    assert [(mu, s, g) for mu, s, g, _ in both(D4, (1, 1), (1, 1), 3)] == [(0, 0, 0), (-2, 1, 0), (2, 1, 0)]
    assert [(mu, g) for mu, _, g, _ in both(D4, (0, 0), (1, 1), 3)] == [(-3, 0), (1, 0)]
    assert [(mu, g) for mu, _, g, _ in both(D4, (1, 0), (1, 1), 3)] == [(-3, HALF_PI), (1, HALF_PI)]
    assert [(mu, g) for mu, _, g, _ in both(D4, (1, 2), (1, 1), 3)] == [(-1, HALF_PI), (3, HALF_PI)]
    assert [(mu, g) for mu, _, g, _ in both(D4, (0, 2), (1, 1), 3)] == [(-1, 0), (3, 0)]
    # the (0,0)->(1,1) elements are columns [cos; sin](mu (phi - beta))
    col = derive(D4, D4.irrep(0, 0), D4.irrep(1, 1), 3, None, 0.7)[1]
    assert col.shape == (2, 1)
    assert np.allclose(col.evaluate(ANGLES)[:, 0], [np.cos(ANGLES - 0.7), np.sin(ANGLES - 0.7)], atol=1e-12)


def test_api_3_1_worked_examples():
    C8, C4, D4 = cyclic_group(8), cyclic_group(4), dihedral_group(4)
    # (gamma, s, mu, t)
    four = [(0, 0, -7, -1), (0, 0, 1, 0), (0, 1, -5, -1), (0, 1, 3, 0)]
    expected = four + [(HALF_PI, s, mu, t) for _, s, mu, t in four]
    assert [(g, s, mu, t) for mu, s, g, t in both(C8, (1,), (2,), 8)] == expected

    got = both(C4, (2,), (0,), 7)
    assert [(mu, g) for mu, _, g, _ in got] == [(2, 0), (6, 0), (2, HALF_PI), (6, HALF_PI)]
    assert [t for *_, t in got] == [1, 2, 1, 2]                    # mu = (0 - 2) + 4t

    got = both(C4, (1,), (0,), 5)
    assert [(mu, g) for mu, _, g, _ in got] == [(-3, 0), (1, 0), (5, 0), (-3, HALF_PI), (1, HALF_PI), (5, HALF_PI)]

    assert [(mu, g) for mu, _, g, _ in both(D4, (1, 1), (1, 0), 5)] == [(-3, HALF_PI), (1, HALF_PI), (5, HALF_PI)]

    got = both(D4, (1, 1), (1, 1), 5)
    assert [mu for mu, s, _, _ in got if s == 0] == [-4, 0, 4]
    assert [mu for mu, s, _, _ in got if s == 1] == [-2, 2]
    assert [s for _, s, _, _ in got] == [0, 0, 0, 1, 1]            # s loop, then t ascending
    assert all(g == 0 for _, _, g, _ in got)

    SO2 = so2_group(3)
    assert [(g, s, mu) for mu, s, g, _ in both(SO2, (1,), (1,), None)] == \
        [(0, 0, 0), (0, 1, 2), (HALF_PI, 0, 0), (HALF_PI, 1, 2)]

    assert [(mu, g) for mu, _, g, _ in both(flip_group(), (0,), (1,), 3)] == \
        [(1, HALF_PI), (2, HALF_PI), (3, HALF_PI)]


def test_trivial_group_gives_the_full_fourier_basis():
    C1 = trivial_group()
    got = both(C1, (0,), (0,), 4)
    assert [(mu, g) for mu, _, g, _ in got] == [(mu, 0) for mu in range(5)] + [(mu, HALF_PI) for mu in range(1, 5)]


def test_o2_empty_pair_and_constant():
    O2 = o2_group(2)
    assert tuples(O2, (0, 0), (1, 0), None) == []
    assert tuples(O2, (1, 0), (0, 0), None) == []
    assert tuples(O2, (1, 0), (1, 0), None) == [(0, 0, 0, 0)]
    # (1,n) -> (f_o, 0) rows: f_o = 1 gives [-sin n phi', cos n phi']
    row = derive(O2, O2.irrep(1, 2), O2.irrep(1, 0), None, None, 0.7)
    assert len(row) == 1 and row[0].mu == 2 and row[0].gamma == HALF_PI
    x = 2 * (ANGLES - 0.7)
    assert np.allclose(row[0].evaluate(ANGLES)[0], [-np.sin(x), np.cos(x)], atol=1e-12)


# ---- maximum_offset --------------------------------------------------------------------------------
@pytest.mark.parametrize("G", OFFSET_GROUPS, ids=gid)
def test_offset_with_frequency_equals_closed_form_table(G):
    """With F and T, the basis is e2cnn's: |mu| <= F and |t| <= T (element by element)."""
    problems = []
    for F in (2, 5, 9):
        for T in (0, 1, 2):
            for psi_in in G.irreps:
                for psi_out in G.irreps:
                    derived = derive(G, psi_in, psi_out, F, T, 0.7)
                    if any(abs(e.t) > T or abs(e.mu) > F for e in derived):
                        problems.append(f"{G.name} {psi_in.name}->{psi_out.name} F={F} T={T}: out of band "
                                        f"{[key(e) for e in derived]}")
                    expected = closed_form_table(G, psi_in, psi_out, F, T, 0.7)
                    problems += compare(G, psi_in, psi_out, derived, expected, f"F={F} T={T}")
    report(problems)


def rank(M, rtol=1e-9):
    if M.shape[0] == 0:
        return 0
    sv = np.linalg.svd(M, compute_uv=False)
    return int(np.sum(sv > rtol * max(1.0, sv[0])))


def samples(elements, psi_in, psi_out):
    """Each element sampled on GRID, flattened to one row."""
    width = psi_out.dim * psi_in.dim * len(GRID)
    return np.array([e.evaluate(GRID).ravel() for e in elements]).reshape(len(elements), width)


@pytest.mark.parametrize("G", OFFSET_GROUPS, ids=gid)
def test_offset_only_basis_is_independent_and_spans_e2cnn_space(G):
    """T only (kernels API): documented deviation from e2cnn (docs/migrating.md, "Differences on purpose").

    e2cnn's 1x1 cosine sets then contain mu < 0 and duplicate cos(|mu| phi); our basis must not
    duplicate, i.e. be linearly independent, yet span the same space as e2cnn's."""
    problems = []
    for T in (0, 1, 2):
        for psi_in in G.irreps:
            for psi_out in G.irreps:
                where = f"{G.name} {psi_in.name}->{psi_out.name} T={T}"
                derived = derive(G, psi_in, psi_out, None, T, 0.7)
                e2cnn = closed_form_table(G, psi_in, psi_out, None, T, 0.7)
                if any(abs(e.t) > T for e in derived):
                    problems.append(f"{where}: |t| > T in {[key(e) for e in derived]}")
                ours, theirs = samples(derived, psi_in, psi_out), samples(e2cnn, psi_in, psi_out)
                r_ours, r_theirs, r_both = rank(ours), rank(theirs), rank(np.concatenate([ours, theirs]))
                if r_ours != len(derived):
                    problems.append(f"{where}: derived basis is dependent (rank {r_ours} of {len(derived)})")
                if not r_ours == r_theirs == r_both:
                    problems.append(f"{where}: spans differ: rank ours {r_ours}, e2cnn {r_theirs}, union {r_both}; "
                                    f"ours (mu,s,gamma/(pi/2),t) {[key(e) for e in derived]}, "
                                    f"e2cnn {[o.key for o in e2cnn]}")
    report(problems)


def test_offset_only_example_of_math_2_3():
    """C4 trivial->trivial, T=1: e2cnn gives cos(-4 phi), 1, cos(4 phi), sin(4 phi); we drop the duplicate."""
    C4 = cyclic_group(4)
    psi0 = C4.irrep(0)
    e2cnn = closed_form_table(C4, psi0, psi0, None, 1)
    assert [(o.mu, o.quarter) for o in e2cnn] == [(-4, 0), (0, 0), (4, 0), (4, 1)]
    assert [(mu, g, t) for mu, _, g, t in tuples(C4, (0,), (0,), None, 1)] == [(0, 0, 0), (4, 0, 1), (4, HALF_PI, 1)]


def test_irrep_data_matches_library_irreps():
    """The oracle's reading of the irrep ids (docs/math.md, "Groups and their irreps") agrees with the library's."""
    for G in GROUPS + [flip_group()]:
        for psi in G.irreps:
            d = irrep_data(G, psi)
            assert d.dim == psi.dim and d.k == psi.frequency, psi
            if G.has_reflection:
                assert d.j == psi.flip_frequency, psi


def test_offset_only_keeps_the_cosine_of_a_negative_reference_frequency():
    """C4 psi_2 -> psi_0 with T = 0 only: e2cnn gives cos(-2 phi) (mu = 0 - 2 + 0*4, t = 0), a solution of
    the constraint; the basis must contain cos(2 phi) (with either sign of mu), not be empty."""
    C4 = cyclic_group(4)
    got = tuples(C4, (2,), (0,), None, 0)
    assert [(abs(mu), g) for mu, _, g, _ in got] == [(2, 0)]
