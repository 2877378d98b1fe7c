"""e2layers.group and e2layers.gspaces: e2cnn's names, registries, conventions and actions."""
import json
import pickle

import numpy as np
import pytest
import torch

from e2layers import group, gspaces
from paths import E2CNN_FIXTURES

DATA = E2CNN_FIXTURES
REPS = json.loads((DATA / "representations.json").read_text())


def _group(ctor: str):
    name, arg = ctor.split("(")
    arg = arg.rstrip(")")
    return getattr(group, name)(*([int(arg)] if arg else []))


@pytest.mark.parametrize("case", [c for c in REPS["cases"] if c["kind"] in ("regular", "quotient")],
                         ids=lambda c: c["key"])
def test_regular_and_quotient_facades_match_e2cnn(case):
    G = _group(case["group_ctor"])
    args = case["args"]
    rho = G.regular_representation if case["kind"] == "regular" else \
        G.quotient_representation(tuple(args) if isinstance(args, list) else args)
    assert rho.name == case["name"] and rho.irreps == case["irreps"] and rho.size == case["size"]
    np.testing.assert_allclose(rho.change_of_basis, np.load(DATA / "representations.npz")[case["key"]], atol=1e-10)
    assert G.representations[rho.name] is rho


def test_irreps_are_a_registry_by_name():
    G = group.dihedral_group(4)
    assert list(G.irreps) == ["irrep_0,0", "irrep_1,0", "irrep_1,1", "irrep_1,2", "irrep_0,2"]
    assert G.irrep(1, 1) is G.irreps["irrep_1,1"]
    assert G.irrep(1, 1).attributes == {"frequency": 1, "flip_frequency": 1}
    assert G.irrep(1, 1).sum_of_squares_constituents == 1 and group.cyclic_group(4).irrep(1).sum_of_squares_constituents == 2
    assert G.trivial_representation.name == "irrep_0,0" and G.trivial_representation.is_trivial()
    assert group.dihedral_group(4) is G                      # one facade per group per process
    S = group.so2_group(2)
    assert "irrep_2" in S.irreps and group.so2_group(4) is S and "irrep_4" in S.irreps


def test_custom_representation_directsum_change_basis_disentangle():
    G = group.cyclic_group(4)
    Q = np.array([[0.0, 1.0], [1.0, 0.0]])
    rho = group.Representation(G, "swapped_irrep_1", ["irrep_1"], Q, ["norm"])
    assert "swapped_irrep_1" not in G.representations        # as in e2cnn, user-built ones are not registered
    assert group.Representation(G, "swapped_irrep_1", ["irrep_1"], Q, ["norm"]) == rho
    np.testing.assert_allclose(rho(1), Q @ G.irrep(1)(1) @ Q.T, atol=1e-12)
    for taken in ("regular", "irrep_1"):
        with pytest.raises(AssertionError, match="already registered"):
            group.Representation(G, taken, ["irrep_1"], Q, [])
    s = group.directsum([G.trivial_representation, rho])
    assert s.name == "[irrep_0]_[swapped_irrep_1]" and s.irreps == ["irrep_0", "irrep_1"] and s.size == 3
    c = group.change_basis(s, np.eye(3)[[2, 0, 1]], "permuted")
    assert c.supported_nonlinearities == set()
    P, parts = group.disentangle(c)
    assert sorted(p.size for p in parts) == [1, 2]
    for g in G.elements:
        blocks = np.zeros((3, 3))
        pos = 0
        for p in parts:
            blocks[pos:pos + p.size, pos:pos + p.size] = p(g)
            pos += p.size
        np.testing.assert_allclose(P @ c(g) @ P.T, blocks, atol=1e-12)


def test_psi_chi_psichi():
    np.testing.assert_allclose(group.psi(np.pi / 2), [[0, -1], [1, 0]], atol=1e-15)
    np.testing.assert_allclose(group.chi(1), [[1, 0], [0, -1]])
    np.testing.assert_allclose(group.psichi(0.3, 1, k=2, gamma=0.1), group.psi(0.3, 2, 0.1) @ group.chi(1))


def test_gspace_names_and_restrictions():
    assert gspaces.Rot2dOnR2(8).name == "8-Rotations"
    assert gspaces.Rot2dOnR2(-1, maximum_frequency=3).name == "Continuous-Rotations"
    assert gspaces.FlipRot2dOnR2(4).name == "Flip_4-Rotations(f=1.57080)"
    assert gspaces.Flip2dOnR2().name == "Flips" and gspaces.TrivialOnR2().name == "Trivial"
    gs = gspaces.FlipRot2dOnR2(8)
    assert isinstance(gs.restrict((None, 1))[0], gspaces.TrivialOnR2)
    assert isinstance(gs.restrict((None, 4))[0], gspaces.Rot2dOnR2)
    flips = gs.restrict((1, 1))[0]
    assert isinstance(flips, gspaces.Flip2dOnR2) and flips.axis == pytest.approx(np.pi / 2 + np.pi / 8)
    assert isinstance(gs.restrict((0, 4))[0], gspaces.FlipRot2dOnR2)
    assert isinstance(gspaces.Rot2dOnR2(8).restrict(1)[0], gspaces.TrivialOnR2)
    for bad in (dict(N=1), dict(N=0), dict(N=4, maximum_frequency=3)):
        with pytest.raises(ValueError):
            gspaces.Rot2dOnR2(**bad)


def test_equality_includes_the_axis_and_spaces_pickle():
    assert gspaces.FlipRot2dOnR2(4) == gspaces.FlipRot2dOnR2(4)
    assert gspaces.FlipRot2dOnR2(4, axis=0.0) != gspaces.FlipRot2dOnR2(4)
    gs = gspaces.FlipRot2dOnR2(4)
    again = pickle.loads(pickle.dumps(gs))
    assert again == gs and again.regular_repr == gs.regular_repr
    assert pickle.loads(pickle.dumps(gs.regular_repr)) is gs.regular_repr


def test_image_action_conventions():
    gs = gspaces.Rot2dOnR2(4)
    x = np.zeros((1, 1, 7, 7))
    x[0, 0, 3, 6] = 1                                        # the pixel at (x, y) = (3, 0)
    assert np.argwhere(gs.featurefield_action(x, gs.trivial_repr, 1)[0, 0]).tolist() == [[0, 3]]   # (0, 3)
    v = np.zeros((1, 2, 5, 5))
    v[0, 0, 2, 2] = 1
    np.testing.assert_allclose(gs.featurefield_action(v, gs.irrep(1), 1)[0, :, 2, 2], [0, 1], atol=1e-12)
    fl = gspaces.FlipRot2dOnR2(4)
    t = torch.arange(9.0).reshape(1, 1, 3, 3)
    assert torch.equal(fl.basespace_action_torch(t, (1, 0)), t.flip(-1))          # axis pi/2: x -> -x
    assert torch.equal(gspaces.FlipRot2dOnR2(4, axis=0.0).basespace_action_torch(t, (1, 0)), t.flip(-2))
    for g in fl.fibergroup.elements:                        # torch and numpy actions agree
        np.testing.assert_array_equal(fl.basespace_action_torch(t, g).numpy(), fl._basespace_action(t.numpy(), g))
    assert len(gspaces.FlipRot2dOnR2(8).grid_elements()) == 8
    with pytest.raises(ValueError, match="pixel grid"):
        gspaces.Rot2dOnR2(8).basespace_action_torch(t, 1)
