"""basisgen.clebsch_gordan: psi_a (x) psi_b = Q ((+) psi_k) Q^T for the planar groups, proved exactly.

Expected values come from outside the derivation: the multiplicities from the characters' inner products
(a second method), the identity from numpy's kron on every element, and a decomposition with wrong irreps
must fail the exact proof.
"""
import dataclasses
import math

import numpy as np
import pytest
import scipy.linalg
import sympy

from basisgen import (InvalidTypeError, InvalidValueError, cyclic_group, dihedral_group, flip_group, o2_group,
                      so2_group, trivial_group)
from basisgen.clebsch_gordan import clebsch_gordan, tensor_product_multiplicities, verify_clebsch_gordan

GROUPS = {"trivial": trivial_group, "C2": lambda: cyclic_group(2), "C3": lambda: cyclic_group(3),
          "C4": lambda: cyclic_group(4), "C5": lambda: cyclic_group(5), "C8": lambda: cyclic_group(8),
          "D1": lambda: dihedral_group(1), "D2": lambda: dihedral_group(2), "D3": lambda: dihedral_group(3),
          "D4": lambda: dihedral_group(4), "D6": lambda: dihedral_group(6), "SO2": lambda: so2_group(3),
          "O2": lambda: o2_group(3), "flip": flip_group}


def _pairs(G):
    return [(a, b) for a in G.irreps for b in G.irreps]


def _elements(G):
    if G.elements is not None:
        return G.elements
    rng = np.random.default_rng(0)
    angles = list(rng.uniform(0, 2 * math.pi, 7))
    return [(j, t) for j in (0, 1) for t in angles] if G.has_reflection else angles


def _character_multiplicity(G, a, b, psi):
    """<chi_a chi_b, chi_psi> / <chi_psi, chi_psi>: the Haar average, exact quadrature for SO(2)/O(2) (a grid
    of 4 * (the largest frequency + 1) rotations integrates these trigonometric polynomials exactly)."""
    if G.elements is not None:
        elements = G.elements
    else:
        M = 4 * (a.frequency + b.frequency + psi.frequency + 1)
        rotations = [2 * math.pi * i / M for i in range(M)]
        elements = [(j, t) for j in (0, 1) for t in rotations] if G.has_reflection else rotations
    inner = np.mean([a.character(g) * b.character(g) * psi.character(g) for g in elements])
    norm = np.mean([psi.character(g) ** 2 for g in elements])
    return inner / norm



#: every group in the full suite; C4, D4, SO(2) and O(2) in the quick subset
QUICK_OR_SLOW = [pytest.param(name, marks=[] if name in ("C4", "D4", "SO2", "O2") else [pytest.mark.slow])
                 for name in GROUPS]


@pytest.mark.parametrize("name", QUICK_OR_SLOW)
def test_the_identity_is_proved_exactly_for_every_pair(name):
    G = GROUPS[name]()
    for a, b in _pairs(G):
        assert verify_clebsch_gordan(clebsch_gordan(a, b)), (a, b)


@pytest.mark.parametrize("name", QUICK_OR_SLOW)
def test_the_identity_holds_numerically_on_elements(name):
    G = GROUPS[name]()
    for a, b in _pairs(G):
        cg = clebsch_gordan(a, b)
        assert np.allclose(cg.Q.T @ cg.Q, np.eye(a.dim * b.dim), atol=1e-14)
        assert sum(psi.dim for psi in cg.irreps) == a.dim * b.dim
        for g in _elements(G):
            right = cg.Q @ scipy.linalg.block_diag(*[psi.matrix(g) for psi in cg.irreps]) @ cg.Q.T
            assert np.allclose(np.kron(a.matrix(g), b.matrix(g)), right, atol=1e-12), (a, b, g)


@pytest.mark.parametrize("name", QUICK_OR_SLOW)
def test_multiplicities_match_the_characters(name):
    G = GROUPS[name]()
    for a, b in _pairs(G):
        found = tensor_product_multiplicities(a, b)
        candidates = set(G.irreps) | set(found)
        for psi in candidates:
            expected = _character_multiplicity(G, a, b, psi)
            assert abs(expected - found.get(psi, 0)) < 1e-9, (a, b, psi, expected, found.get(psi, 0))


def test_known_decompositions():
    so2 = so2_group(2)
    assert [p.name for p in clebsch_gordan(so2.irrep(2), so2.irrep(2)).irreps] == ["irrep_0", "irrep_0", "irrep_4"]
    o2 = o2_group(2)
    assert [p.name for p in clebsch_gordan(o2.irrep(1, 1), o2.irrep(1, 2)).irreps] == ["irrep_1,1", "irrep_1,3"]
    c8 = cyclic_group(8)                     # 3 + 3 = 6 = -2 mod 8, 3 - 3 = 0 (two trivials)
    assert [p.name for p in clebsch_gordan(c8.irrep(3), c8.irrep(3)).irreps] == ["irrep_0", "irrep_0", "irrep_2"]
    d4 = dihedral_group(4)
    assert [p.name for p in clebsch_gordan(d4.irrep(1, 0), d4.irrep(1, 1)).irreps] == ["irrep_1,1"]
    assert [p.name for p in clebsch_gordan(d4.irrep(0, 2), d4.irrep(1, 2)).irreps] == ["irrep_1,0"]


def test_q_has_exact_simple_entries_and_matches_its_float_value():
    cg = clebsch_gordan(dihedral_group(6).irrep(1, 1), dihedral_group(6).irrep(1, 2))
    values = {abs(x) for x in cg.Q_exact}
    assert values <= {sympy.Integer(0), sympy.Integer(1), 1 / sympy.sqrt(2)}
    assert np.array_equal(cg.Q, np.array(cg.Q_exact.evalf(30), dtype=float))


@pytest.mark.parametrize("name", ["C8", "D4", "SO2", "O2"])
def test_wrong_decompositions_fail_the_proof(name):
    G = GROUPS[name]()
    two_d = [p for p in G.irreps if p.dim == 2]
    cg = clebsch_gordan(two_d[0], two_d[-1])
    assert verify_clebsch_gordan(cg)
    swapped = dataclasses.replace(cg, irreps=tuple(reversed(cg.irreps)))
    assert not verify_clebsch_gordan(swapped)
    tilted = dataclasses.replace(cg, Q_exact=cg.Q_exact[:, ::-1])
    assert not verify_clebsch_gordan(tilted)


def test_cached_and_checked():
    G = cyclic_group(6)
    assert clebsch_gordan(G.irrep(1), G.irrep(2)) is clebsch_gordan(G.irrep(1), G.irrep(2))
    with pytest.raises(InvalidTypeError, match="psi_a"):
        clebsch_gordan("irrep_1", G.irrep(1))
    with pytest.raises(InvalidValueError, match="one group"):
        clebsch_gordan(G.irrep(1), cyclic_group(4).irrep(1))
