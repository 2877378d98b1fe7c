"""Induced representations against e2cnn 0.2.3 (tests/fixtures/e2cnn/generate_induced.py), exactly and numerically."""
import json

import numpy as np
import pytest
import sympy as sp

import basisgen as bg
from basisgen.induced import induced_representation
from e2layers import group as e2group
from paths import E2CNN_FIXTURES

DATA = E2CNN_FIXTURES
CASES = json.loads((DATA / "induced.json").read_text())


def _case(case):
    G = bg.cyclic_group(case["N"]) if case["family"] == "C" else bg.dihedral_group(case["N"])
    sid = case["subgroup_id"]
    sid = tuple(sid) if isinstance(sid, list) else sid
    H = G.subgroup(sid)[0]
    return G, sid, H.irrep(*case["subgroup_irrep"])


@pytest.mark.parametrize("case", CASES, ids=[c["key"] for c in CASES])
def test_induced_equals_e2cnn(case):
    G, sid, phi = _case(case)
    rho = induced_representation(G, sid, phi)
    assert rho.name == case["name"] and [p.name for p in rho.irreps] == case["irreps"] and rho.size == case["size"]
    np.testing.assert_allclose(rho.change_of_basis, np.load(DATA / "induced.npz")[case["key"]], atol=1e-10)
    Q = rho.change_of_basis
    np.testing.assert_allclose(Q @ Q.T, np.eye(rho.size), atol=1e-12)
    for g in G.elements:                     # a homomorphism, by block permutation of the cosets
        for h in G.elements[:3]:
            np.testing.assert_allclose(rho(G.combine(g, h)), rho(g) @ rho(h), atol=1e-12)


def test_induced_representation_acts_on_coset_blocks_by_phi():
    """rho(g) maps the block of coset r_i to the block of coset r_j with g r_i = r_j h, acting there by phi(h)."""
    G = bg.dihedral_group(8)
    sid = (0, 4)
    H, parent, child = G.subgroup(sid)
    phi = H.irrep(1, 1)
    rho = induced_representation(G, sid, phi)
    reps, coset = bg.coset_representatives(G, sid)
    d = phi.dim
    for g in G.elements:
        M = rho(g)
        for i, r in enumerate(reps):
            gr = G.combine(g, r)
            j = coset(gr)
            h = child(G.combine(G.inverse(reps[j]), gr))
            np.testing.assert_allclose(M[j * d:(j + 1) * d, i * d:(i + 1) * d], phi.matrix(h), atol=1e-12)


def test_exact_change_of_basis_equals_float():
    G = bg.cyclic_group(8)
    rho = induced_representation(G, 4, G.subgroup(4)[0].irrep(1))
    Q = rho.change_of_basis_exact
    assert isinstance(Q, sp.Matrix)
    np.testing.assert_allclose(np.array(Q.evalf(), dtype=float), rho.change_of_basis, atol=1e-14)


def test_bad_irrep_and_the_e2layers_facade():
    G = bg.cyclic_group(8)
    with pytest.raises(ValueError, match="irrep of the subgroup"):
        induced_representation(G, 4, G.irrep(1))
    F = e2group.dihedral_group(4)
    H = F.subgroup((None, 4))[0]
    rho = F.induced_representation((None, 4), H.irrep(1))
    assert rho.name == "induced[(None, 4)][irrep_1]" and rho.irreps == ["irrep_1,1", "irrep_1,1"]
    assert F.representations[rho.name] is rho


@pytest.mark.parametrize("group,sid,phi_id,expected", [
    ("D4", (None, 4), (1,), {"norm", "gated", "induced_norm_2", "induced_gated_2"}),
    ("C8", 4, (0,), {"pointwise", "concatenated", "norm", "gated", "induced_norm_1", "induced_gated_1",
                     "induced_gate"}),
    ("C8", 4, (2,), {"norm", "gated", "concatenated", "induced_norm_1", "induced_gated_1"}),
])
def test_induced_nonlinearity_tags_are_e2cnns(group, sid, phi_id, expected):
    """e2cnn's ``_induced_nonlinearities``: the induced modules find their block size in these tags."""
    G = bg.group_from_name(group)
    rho = induced_representation(G, sid, G.subgroup(sid)[0].irrep(*phi_id))
    assert rho.supported_nonlinearities == expected
