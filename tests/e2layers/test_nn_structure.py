"""e2layers.nn structural modules: FieldDropout, ModuleList, Branching/Merge/MultipleModule,
Reshuffle/Restriction/DisentangleModule, MaskModule and Linear.

Expected values come from e2cnn 0.2.3 (tests/fixtures/e2cnn/structure.*, made by generate_structure.py),
from hand-computed cases, and for Linear from the intertwiner space solved independently with numpy.
Equivariance: ``nn.assert_equivariant`` under the grid-exact elements, float32 (< 1e-5) and float64
(< 1e-10), train and eval mode.
"""
import json
import pickle

import numpy as np
import pytest
import scipy.linalg
import torch

from e2layers import group, gspaces, nn
from e2layers.checkpoint import convert_e2cnn_state_dict

from spaces import GSPACES
from paths import E2CNN_FIXTURES

DATA = E2CNN_FIXTURES
E2CNN = json.loads((DATA / "structure.json").read_text())
ARRAYS = np.load(DATA / "structure.npz")



pytestmark = pytest.mark.usefixtures("private_cache")
MAIN = ["C8", "D4", "SO2", "O2"]


def _irreps(gs):
    return list(gs.irreps.values())


def _mixed(gs):
    """Trivial, irreps and (finite groups) regular fields: 5 fields of several sizes."""
    nontrivial = [psi for psi in _irreps(gs) if not psi.is_trivial()][:2]
    extra = [] if gs.fibergroup.continuous else [gs.regular_repr]
    reprs = [gs.trivial_repr] + nontrivial + extra + [gs.trivial_repr] + nontrivial[:1]
    return nn.FieldType(gs, reprs[:5] if len(reprs) >= 5 else reprs + [gs.trivial_repr] * (5 - len(reprs)))


def _input(t, size=9, dtype=torch.float32, batch=2):
    return nn.GeometricTensor(torch.randn(batch, t.size, size, size, dtype=dtype), t)


def _halves(t):
    """Labels alternating 'a', 'b' over the fields."""
    return ["a" if i % 2 == 0 else "b" for i in range(len(t))]


def _multiple(t, reshuffle=2):
    labels = _halves(t)
    out = nn.BranchingModule(t, labels, reshuffle=reshuffle).out_type
    return nn.MultipleModule(t, labels, [(nn.IdentityModule(out["b"]), "b"), (nn.Linear(out["a"], out["a"]), "a")],
                             reshuffle=reshuffle)


def _entangled(gs):
    """A field type whose first field is a direct sum that DisentangleModule splits."""
    psi = [p for p in _irreps(gs) if not p.is_trivial()][:1] or [gs.trivial_repr]
    return nn.FieldType(gs, [group.directsum([psi[0], gs.trivial_repr]), gs.trivial_repr] + psi)


# (name, factory on a gspace) -> module; all take 9x9 inputs
MODULES = [
    ("FieldDropout", lambda gs: nn.FieldDropout(_mixed(gs), p=0.3)),
    ("Reshuffle", lambda gs: nn.ReshuffleModule(_mixed(gs), [3, 0, 4, 2, 1])),
    ("Disentangle", lambda gs: nn.DisentangleModule(_entangled(gs))),
    ("Mask", lambda gs: nn.MaskModule(_mixed(gs), 9, margin=5.0)),
    ("Multiple", lambda gs: _multiple(_mixed(gs))),
    ("Linear", lambda gs: nn.Linear(_mixed(gs), nn.FieldType(gs, list(reversed(_mixed(gs).representations))))),
]
MOD_IDS = [m[0] for m in MODULES]


# ---- equivariance ---------------------------------------------------------------------------------------
#: (dtype, training): float64 in eval mode and float32 in training in the quick subset, the other two in the full one
PRECISION_AND_MODE = [pytest.param(torch.float64, False, id="f64-eval"),
                      pytest.param(torch.float32, True, id="f32-train"),
                      pytest.param(torch.float32, False, id="f32-eval", marks=pytest.mark.slow),
                      pytest.param(torch.float64, True, id="f64-train", marks=pytest.mark.slow)]


@pytest.mark.parametrize("dtype,training", PRECISION_AND_MODE)
@pytest.mark.parametrize("gs_name", list(GSPACES))
@pytest.mark.parametrize("name,factory", MODULES, ids=MOD_IDS)
def test_equivariance(name, factory, gs_name, dtype, training):
    gs = GSPACES[gs_name]()
    module = factory(gs).to(dtype).train(training)
    x = _input(module.in_type, 9, dtype)
    if name == "FieldDropout" and training:     # random in training: the seeded check below
        _seeded_dropout_check(module, x)
        return
    result = nn.assert_equivariant(module, x)
    assert len(result) == len(gs.grid_elements())


def _seeded_dropout_check(module, x):
    """With one seed, the same mask on both sides: f(rho(g) x) == rho(g) f(x) for every testing element (the
    module's own check protocol in training), and on 1x1 inputs (where the full action is the fibre action)
    f(g.x) == g.f(x) for the grid elements."""
    gs = module.in_type.gspace
    assert len(nn.assert_equivariant(module, x)) == len(list(gs.testing_elements))
    point = nn.GeometricTensor(x.tensor[:, :, :1, :1].contiguous(), x.type)
    full = nn.assert_equivariant(module, point, gs.grid_elements(), action=lambda t, g: t.transform(g), seed=2)
    assert len(full) == len(gs.grid_elements())
    assert (module(x).tensor == 0).any()        # the mask really is random: something was dropped


def test_equivariance_check_catches_a_broken_module():
    """A reshuffle that swaps fields of different types without saying so is not equivariant: noticed."""
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.irrep(1), gs.irrep(1)])
    swap = nn.ReshuffleModule(t, [1, 0])
    swap.indices = torch.tensor([0, 3, 2, 1])    # mixes the channels of the two fields
    with pytest.raises(AssertionError, match="not equivariant"):
        nn.assert_equivariant(swap, _input(t))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("gs_name", list(GSPACES))
def test_branching_and_merge_equivariance(gs_name, dtype):
    gs = GSPACES[gs_name]()
    t = _mixed(gs)
    tol = 1e-10 if dtype == torch.float64 else 1e-5
    for reshuffle in (0, 3):
        branching = nn.BranchingModule(t, _halves(t), reshuffle=reshuffle)
        merge = nn.MergeModule([(nn.Linear(branching.out_type["a"], branching.out_type["a"]), "a"),
                                (nn.FieldDropout(branching.out_type["b"]).eval(), "b")]).to(dtype)
        x = _input(t, 9, dtype)
        ys, z = branching(x), merge(branching(x))
        for g in gs.grid_elements():
            gys = branching(x.transform(g))
            for label in ys:
                assert torch.equal(gys[label].tensor, ys[label].transform(g).tensor)
            out1, out2 = merge(gys).tensor, z.transform(g).tensor
            assert (out1 - out2).abs().max() <= tol * out1.abs().max()
        assert len(nn.assert_equivariant(branching, x)) == len(gs.grid_elements())     # dict outputs
        assert len(branching.check_equivariance()) == len(gs.grid_elements())
        assert len(merge.check_equivariance()) == len(gs.grid_elements())


@pytest.mark.parametrize("gs_name,ids", [("C8", [4, 2, 1]), ("D4", [(None, 4), (None, 2), (0, 1), (0, 2)]),
                                         ("SO2", [4, 1]), ("O2", [(None, -1), (None, 4), (0.0, 1)]), ("Flip", [1])])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
def test_restriction_equivariance(gs_name, ids, dtype):
    """f(parent(h) . x) == h . f(x) for the grid elements h of the subgroup (the two sides use the parent's and
    the restricted representation's matrices, equal up to rounding)."""
    gs = GSPACES[gs_name]()
    t = _mixed(gs)
    x = _input(t, 8, dtype)
    for sid in ids:
        module = nn.RestrictionModule(t, sid)
        sub, parent, _ = gs.restrict(sid)
        assert module.out_type.gspace == sub and module.out_type.size == t.size
        y = module(x)
        assert y.tensor is x.tensor and y.type == module.out_type
        elements = sub.grid_elements()
        assert elements
        tol = 1e-12 if dtype == torch.float64 else 1e-6
        for h in elements:
            torch.testing.assert_close(module(x.transform(parent(h))).tensor, y.transform(h).tensor, rtol=0, atol=tol)
        assert len(module.check_equivariance()) == len(elements)


def test_restriction_to_two_flip_subgroups():
    gs = gspaces.FlipRot2dOnR2(4)
    t = nn.FieldType(gs, [gs.irrep(1, 1), gs.regular_repr])
    x = _input(t, 4, torch.float64)
    ref = [r for r in E2CNN["restriction"] if r["id"] == [1, 1]][0]
    nn.RestrictionModule(t, (0, 1))
    assert [r.irreps for r in nn.RestrictionModule(t, (1, 1)).out_type.representations][1] == ref["out_irreps"][0]
    for sid in [(0, 1), (1, 1), (0, 2), (1, 2)]:
        module = nn.RestrictionModule(t, sid)
        sub, parent, _ = gs.restrict(sid)
        for h in sub.grid_elements():
            assert np.abs(module.out_type.fiber_matrix(h) - t.fiber_matrix(parent(h))).max() < 1e-12
            torch.testing.assert_close(module(x.transform(parent(h))).tensor, module(x).transform(h).tensor, rtol=0,
                                       atol=1e-12)


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("name,factory", MODULES, ids=MOD_IDS)
def test_check_equivariance_method(name, factory, training):
    module = factory(gspaces.FlipRot2dOnR2(4)).train(training)
    assert module.check_equivariance()


def test_multiple_fibre_action_check():
    gs = gspaces.Rot2dOnR2(-1, maximum_frequency=3)
    module = _multiple(_mixed(gs))
    assert len(module.check_equivariance(full_space_action=False)) == len(list(gs.testing_elements))


# ---- export, shape, pickle, state_dict -------------------------------------------------------------------
def _script_and_compare(exported, x, expected):
    scripted = torch.jit.script(exported)
    out = scripted(x)
    if isinstance(expected, dict):
        assert list(out) == list(expected)
        for label in expected:
            assert torch.equal(out[label], expected[label])
    else:
        assert torch.equal(out, expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,factory", MODULES, ids=MOD_IDS)
def test_export_and_shape(name, factory, dtype):
    gs = gspaces.FlipRot2dOnR2(4)
    module = factory(gs).to(dtype).eval()
    x = _input(module.in_type, 9, dtype, batch=3)
    y = module(x)
    assert isinstance(y, nn.GeometricTensor) and y.type == module.out_type
    assert module.evaluate_output_shape(tuple(x.shape)) == tuple(y.shape)
    exported = module.export()
    assert not isinstance(exported, nn.EquivariantModule)
    with torch.no_grad():
        assert torch.equal(exported(x.tensor), y.tensor)
        _script_and_compare(exported, x.tensor, y.tensor)


def test_branching_merge_restriction_export():
    gs = gspaces.Rot2dOnR2(8)
    t = _mixed(gs)
    x = _input(t, 5)
    for reshuffle in (0, 1, 2, 3):
        branching = nn.BranchingModule(t, ["p", "q", "p", "r", "q"], reshuffle=reshuffle)
        ys = branching(x)
        assert branching.evaluate_output_shape(tuple(x.shape)) == {k: tuple(v.shape) for k, v in ys.items()}
        exported = branching.export()
        out = exported(x.tensor)
        assert list(out) == list(ys) == branching.labels
        assert all(torch.equal(out[k], ys[k].tensor) for k in ys)
        _script_and_compare(exported, x.tensor, {k: v.tensor for k, v in ys.items()})
        merge = nn.MergeModule([(nn.ReLU(ys["r"].type), "r"), (nn.IdentityModule(ys["p"].type), "p"),
                                (nn.FieldDropout(ys["q"].type), "q")]).eval()
        z = merge(ys)
        assert merge.evaluate_output_shape(**{k: tuple(v.shape) for k, v in ys.items()}) == tuple(z.shape)
        assert merge.evaluate_output_shape({k: tuple(v.shape) for k, v in ys.items()}) == tuple(z.shape)
        _script_and_compare(merge.export(), {k: v.tensor for k, v in ys.items()}, z.tensor)
    restriction = nn.RestrictionModule(t, 2)
    assert isinstance(restriction.export(), torch.nn.Identity)
    assert restriction.evaluate_output_shape(tuple(x.shape)) == tuple(x.shape)


class _Add(nn.EquivariantModule):
    """A module of two inputs (as GatedNonLinearity2), to test MergeModule's multi-label branches."""

    def __init__(self, t):
        super().__init__()
        self.in_type, self.out_type = (t, t), t

    def forward(self, a, b):
        return nn.GeometricTensor(a.tensor + b.tensor, self.out_type)

    def evaluate_output_shape(self, a, b):
        return a

    def export(self):
        return _PlainAdd()


class _PlainAdd(torch.nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b


def test_merge_two_input_module_and_multiple_with_lists():
    gs = gspaces.FlipRot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1, 1), gs.regular_repr, gs.trivial_repr])
    sub = nn.FieldType(gs, [gs.regular_repr])
    module = nn.MultipleModule(t, ["u", "w", "v", "w"],
                               [(nn.IdentityModule(nn.FieldType(gs, [gs.irrep(1, 1), gs.trivial_repr])), "w"),
                                (_Add(sub), ["u", "v"])])
    x = _input(t, 4)
    y = module(x)
    expected = torch.cat([x.tensor[:, 8:10], x.tensor[:, 18:19], x.tensor[:, :8] + x.tensor[:, 10:18]], dim=1)
    assert torch.equal(y.tensor, expected)
    assert module.evaluate_output_shape(tuple(x.shape)) == tuple(y.shape)
    nn.assert_equivariant(module, x)
    _script_and_compare(module.export(), x.tensor, y.tensor)
    three = nn.MergeModule([(_Three(sub), ["u", "v", "w"])])
    with pytest.raises(NotImplementedError, match="three|3 inputs"):
        three.export()


class _Three(_Add):
    def __init__(self, t):
        super().__init__(t)
        self.in_type = (t, t, t)


@pytest.mark.parametrize("name,factory", MODULES, ids=MOD_IDS)
def test_pickle_and_state_dict(name, factory):
    module = factory(gspaces.FlipRot2dOnR2(4)).eval()
    x = _input(module.in_type, 9)
    clone = pickle.loads(pickle.dumps(module))
    assert clone.in_type == module.in_type and clone.out_type == module.out_type
    assert torch.equal(clone(x).tensor, module(x).tensor)
    eval_keys = list(module.state_dict())
    assert list(module.train().state_dict()) == eval_keys
    module.eval()(x)
    assert list(module.state_dict()) == eval_keys


def test_branching_pickle_and_keys():
    gs = gspaces.Rot2dOnR2(4)
    t = _mixed(gs)
    branching = nn.BranchingModule(t, _halves(t), reshuffle=1)
    clone = pickle.loads(pickle.dumps(branching))
    x = _input(t, 3)
    assert all(torch.equal(clone(x)[k].tensor, v.tensor) for k, v in branching(x).items())
    assert list(branching.state_dict()) == []


def test_module_list():
    gs = gspaces.Rot2dOnR2(4)
    t = _mixed(gs)
    layers = nn.ModuleList([nn.Linear(t, t), nn.FieldDropout(t)])
    layers.append(nn.MaskModule(t, 5))
    layers.insert(0, nn.IdentityModule(t))
    layers.extend([nn.ReshuffleModule(t, [4, 3, 2, 1, 0])])
    assert len(layers) == 5 and isinstance(layers, torch.nn.ModuleList)
    for bad in (lambda: layers.append(torch.nn.ReLU()), lambda: layers.insert(0, torch.nn.ReLU()),
                lambda: layers.extend([torch.nn.ReLU()]), lambda: nn.ModuleList([torch.nn.ReLU()]),
                lambda: layers.__setitem__(0, torch.nn.ReLU())):
        with pytest.raises(TypeError, match="EquivariantModule"):
            bad()
    with pytest.raises(TypeError, match="iterable"):
        layers.extend(3)
    layers[0] = nn.IdentityModule(t)
    layers.eval()
    exported = layers.export()
    assert type(exported) is torch.nn.ModuleList and len(exported) == 5 and not exported.training
    assert [type(m).__name__ for m in exported] == ["Identity", "LinearExport", "FieldDropoutExport", "MaskExport",
                                                   "ChannelPermutation"]

    class Chain(torch.nn.Module):
        def __init__(self, mods):
            super().__init__()
            self.mods = mods

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for m in self.mods:
                x = m(x)
            return x

    x = _input(t, 5)
    y = x
    for layer in layers:
        y = layer(y)
    assert torch.equal(torch.jit.script(Chain(exported))(x.tensor), y.tensor)
    assert len(pickle.loads(pickle.dumps(layers))) == 5
    assert len(nn.ModuleList()) == 0


# ---- side by side with e2cnn -----------------------------------------------------------------------------
def _names(t):
    return [r.name for r in t.representations]


def _order(module, t, label=None):
    y = module(nn.GeometricTensor(torch.arange(t.size, dtype=torch.float64).reshape(1, -1, 1, 1), t))
    y = y if label is None else y[label]
    return [int(v) for v in y.tensor.reshape(-1).tolist()]


def _e2cnn_keys(keys):
    """e2cnn's state_dict keys that e2layers keeps: what the checkpoint loader leaves."""
    return sorted(convert_e2cnn_state_dict(dict.fromkeys(keys)))


def test_reshuffle_matches_e2cnn():
    ref = E2CNN["reshuffle"]
    c4 = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(c4, [c4.trivial_repr, c4.regular_repr, c4.irrep(1), c4.regular_repr, c4.trivial_repr])
    assert _names(t) == ref["in"]
    module = nn.ReshuffleModule(t, ref["permutation"])
    assert _names(module.out_type) == ref["out"]
    assert _order(module, t) == ref["order"]
    assert sorted(module.state_dict()) == _e2cnn_keys(ref["state_dict"])


def _d4_branching_type():
    d4 = gspaces.FlipRot2dOnR2(4)
    return nn.FieldType(d4, [d4.regular_repr, d4.irrep(1, 1), d4.trivial_repr, d4.regular_repr, d4.irrep(1, 1),
                             d4.irrep(1, 0), d4.trivial_repr])


def test_branching_matches_e2cnn():
    ref = E2CNN["branching"]
    t = _d4_branching_type()
    assert _names(t) == ref["in"]
    for case in ref["cases"]:
        module = nn.BranchingModule(t, ref["labels"], reshuffle=case["reshuffle"])
        assert {k: _names(v) for k, v in module.out_type.items()} == case["out"]
        assert {k: _order(module, t, k) for k in module.out_type} == case["order"]
        assert sorted(module.state_dict()) == _e2cnn_keys(case["state_dict"])
    assert ref["reshuffle_3"] == "AssertionError"     # e2cnn rejects the documented level 3; we accept it


def test_branching_reshuffle_levels_by_hand():
    """Level 2 sorts by label then size, level 3 also by name (stable): C8 irreps of one size."""
    c8 = gspaces.Rot2dOnR2(8)
    t = nn.FieldType(c8, [c8.irrep(3), c8.regular_repr, c8.irrep(1), c8.trivial_repr, c8.irrep(2)])
    labels = ["a", "a", "a", "b", "a"]
    expected = {  # channels: irrep_3 0-1, regular 2-9, irrep_1 10-11, trivial 12, irrep_2 13-14
        0: ([0, 1] + list(range(2, 10)) + [10, 11, 13, 14], ["irrep_3", "regular", "irrep_1", "irrep_2"]),
        1: ([0, 1] + list(range(2, 10)) + [10, 11, 13, 14], ["irrep_3", "regular", "irrep_1", "irrep_2"]),
        2: ([0, 1, 10, 11, 13, 14] + list(range(2, 10)), ["irrep_3", "irrep_1", "irrep_2", "regular"]),
        3: ([10, 11, 13, 14, 0, 1] + list(range(2, 10)), ["irrep_1", "irrep_2", "irrep_3", "regular"]),
    }
    for level, (order, names) in expected.items():
        module = nn.BranchingModule(t, labels, reshuffle=level)
        assert _order(module, t, "a") == order and _names(module.out_type["a"]) == names
        assert _order(module, t, "b") == [12]
    # label 'a' is not contiguous, so it is gathered (a copy); level 0 on contiguous labels gives views
    x = _input(t, 2)
    views = nn.BranchingModule(t, ["a", "a", "a", "b", "b"])(x)
    assert views["a"].tensor.data_ptr() == x.tensor.data_ptr()


def test_multiple_matches_e2cnn():
    ref = E2CNN["multiple"]
    c8 = gspaces.Rot2dOnR2(8)
    t = nn.FieldType(c8, [c8.regular_repr, c8.trivial_repr, c8.irrep(1), c8.regular_repr, c8.trivial_repr])
    assert _names(t) == ref["in"]
    x = nn.GeometricTensor(torch.as_tensor(ARRAYS["multiple_input"]), t)
    for case in ref["cases"]:
        level = case["reshuffle"]
        out = nn.BranchingModule(t, ref["labels"], reshuffle=level).out_type
        module = nn.MultipleModule(t, ref["labels"], [(nn.ReLU(out["y"]), "y"), (nn.IdentityModule(out["z"]), "z"),
                                                      (nn.ELU(out["x"]), "x")], reshuffle=level)
        assert _names(module.out_type) == case["out"]
        torch.testing.assert_close(module(x).tensor, torch.as_tensor(ARRAYS[f"multiple_output_{level}"]))
    out = nn.BranchingModule(t, ref["labels"], reshuffle=1).out_type
    module = nn.MultipleModule(t, ref["labels"], [(nn.R2Conv(out["x"], out["x"], 3, padding=1), "x"),
                                                  (nn.ReLU(out["y"]), "y"), (nn.IdentityModule(out["z"]), "z")],
                               reshuffle=1)
    assert sorted(module.state_dict()) == _e2cnn_keys(ref["state_dict_with_conv"])


def test_disentangle_matches_e2cnn():
    c4, c8, d4 = gspaces.Rot2dOnR2(4), gspaces.Rot2dOnR2(8), gspaces.FlipRot2dOnR2(4)
    interleaved = group.change_basis(group.directsum([c4.irrep(1), c4.trivial_repr, c4.irrep(1)]),
                                     np.eye(5)[[0, 2, 3, 1, 4]], "interleaved")
    types = {"D4": nn.FieldType(d4, [group.directsum([d4.regular_repr, d4.irrep(1, 1)]), d4.trivial_repr]),
             "C4": nn.FieldType(c4, [c4.regular_repr, interleaved, interleaved]),
             "C8": nn.FieldType(c8, [c8.regular_repr]).restrict(4)}
    for ref in E2CNN["disentangle"]:
        t = types[ref["group"]]
        assert _names(t) == ref["in"]
        module = nn.DisentangleModule(t)
        assert _names(module.out_type) == ref["out"]
        assert [r.irreps for r in module.out_type.representations] == ref["out_irreps"]
        assert _order(module, t) == ref["order"]
        assert sorted(module.state_dict()) == _e2cnn_keys(ref["state_dict"])
        nn.assert_equivariant(module, _input(t, 4))


def test_restriction_matches_e2cnn():
    spaces = {"C8": gspaces.Rot2dOnR2(8), "D4": gspaces.FlipRot2dOnR2(4)}
    for ref in E2CNN["restriction"]:
        gs = spaces[ref["group"]]
        extra = [gs.irrep(1), gs.irrep(2)] if ref["group"] == "C8" else [gs.irrep(1, 1)]
        t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr] + extra)
        sid = tuple(ref["id"]) if isinstance(ref["id"], list) else ref["id"]
        module = nn.RestrictionModule(t, sid)
        assert module.out_type.gspace.name == ref["out_gspace"]
        assert _names(module.out_type) == ref["out"]
        assert [r.irreps for r in module.out_type.representations] == ref["out_irreps"]
        assert list(module.state_dict()) == ref["state_dict"] == []


def test_mask_matches_e2cnn():
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    for ref in E2CNN["mask"]:
        module = nn.MaskModule(t, ref["S"], margin=ref["margin"])
        expected = torch.as_tensor(ARRAYS[ref["key"]])
        assert module.mask.shape == expected.shape == (1, 1, ref["S"], ref["S"])
        assert torch.equal(module.mask, expected), ref["key"]
        assert sorted(module.state_dict()) == ref["state_dict"] == ["mask"]
        # an e2cnn checkpoint (the mask was a Parameter there) loads key for key
        module.load_state_dict({"mask": expected.clone()}, strict=True)
    assert list(module.parameters()) == [] and not module.mask.requires_grad


def test_mask_values_by_hand():
    """S=4, margin 0: centre 1.5, t = radius^2 = 2.25; r^2 = 0.5 inside (1), 2.5 at (0, 1), 4.5 at a corner."""
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.trivial_repr])
    mask = nn.MaskModule(t, 4).to(torch.float64)
    y = mask(nn.GeometricTensor(torch.ones(1, 1, 4, 4, dtype=torch.float64), t)).tensor[0, 0]
    assert y[1, 1] == y[1, 2] == 1.0
    assert y[0, 0].item() == pytest.approx(np.exp(-(4.5 - 2.25) / 4), abs=1e-7)   # the mask is float32
    assert y[0, 1].item() == pytest.approx(np.exp(-(2.5 - 2.25) / 4), abs=1e-7)
    assert torch.equal(y, y.T) and torch.equal(y, y.flip(0))


def test_field_dropout_matches_e2cnn_semantics():
    """e2cnn draws one keep/drop per sample, field and pixel: all channels of a field at a pixel agree, and
    a field is dropped at some pixels and kept at others.  Ours does the same."""
    c4 = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(c4, [c4.regular_repr, c4.irrep(1), c4.trivial_repr, c4.regular_repr])
    assert _names(t) == E2CNN["field_dropout"]["in"]
    ours = nn.FieldDropout(t, p=0.5)(nn.GeometricTensor(torch.ones(2, t.size, 6, 6), t)).tensor
    assert sorted(nn.FieldDropout(t).state_dict()) == _e2cnn_keys(E2CNN["field_dropout"]["state_dict"]) == []
    for y in (torch.as_tensor(ARRAYS["field_dropout_ones"]), ours):
        assert set(y.unique().tolist()) == {0.0, 2.0}
        for start, end in ((0, 4), (4, 6), (6, 7), (7, 11)):
            field = y[:, start:end]
            assert torch.equal(field, field[:, :1].expand_as(field))        # one mask per field and pixel
            assert 0 < (field[:, 0] == 0).float().mean() < 1                  # varies over pixels


# ---- FieldDropout ----------------------------------------------------------------------------------------
def test_field_dropout_behaviour():
    so2 = gspaces.Rot2dOnR2(-1, maximum_frequency=3)
    t = nn.FieldType(so2, [so2.irrep(1), so2.irrep(2), so2.trivial_repr] * 20)
    x = _input(t, 6, torch.float64)
    drop = nn.FieldDropout(t, p=0.25)
    y = drop(x).tensor
    ratio = y / x.tensor
    kept = ratio[:, ::5] != 0
    assert 0.7 < kept.double().mean().item() < 0.8
    assert torch.allclose(ratio[ratio != 0], torch.full_like(ratio[ratio != 0], 1 / 0.75))
    assert torch.equal(ratio[:, 0::5] != 0, ratio[:, 1::5] != 0)         # the channels of irrep_1 fields agree
    assert torch.equal(drop.eval()(x).tensor, x.tensor)
    assert torch.equal(nn.FieldDropout(t, p=0.0)(x).tensor, x.tensor)
    assert (nn.FieldDropout(t, p=1.0)(x).tensor == 0).all()
    z = x.tensor.clone()
    out = nn.FieldDropout(t, p=0.5, inplace=True)(nn.GeometricTensor(z, t))
    assert out.tensor.data_ptr() == z.data_ptr() and (z == 0).any()
    flat = nn.GeometricTensor(torch.randn(4, t.size), t)     # (B, C) input
    assert nn.FieldDropout(t).evaluate_output_shape((4, t.size)) == tuple(nn.FieldDropout(t)(flat).shape)


def test_field_dropout_export_same_random_numbers():
    gs = gspaces.FlipRot2dOnR2(4)
    t = _mixed(gs)
    drop = nn.FieldDropout(t, p=0.4)
    exported = drop.export()
    scripted = torch.jit.script(exported)
    assert exported.training
    x = _input(t, 5)
    results = []
    for f in (lambda a: drop(nn.GeometricTensor(a, t)).tensor, exported, scripted):
        torch.manual_seed(3)
        results.append(f(x.tensor))
    assert torch.equal(results[0], results[1]) and torch.equal(results[0], results[2])
    assert (results[0] == 0).any()
    assert not drop.eval().export().training


# ---- Linear ----------------------------------------------------------------------------------------------
def _constraint_elements(gs):
    if not gs.fibergroup.continuous:
        return list(gs.testing_elements)
    if gs.fibergroup.basisgen.has_reflection:
        return [(0, 1.0), (0, 2.3), (1, 0.0), (1, 0.7)]
    return [1.0, 2.3]


def _intertwiner_dimension(gs, t_in, t_out):
    """dim Hom_G(in, out): the null space of rho_out(g) W - W rho_in(g) = 0 over generating elements (numpy)."""
    rows = []
    for g in _constraint_elements(gs):
        A, B = t_out.fiber_matrix(g), t_in.fiber_matrix(g)
        # vec(A W - W B) = (I kron A - B^T kron I) vec(W), column-major vec
        rows.append(np.kron(np.eye(B.shape[0]), A) - np.kron(B.T, np.eye(A.shape[0])))
    return scipy.linalg.null_space(np.concatenate(rows)).shape[1]


LINEAR_CASES = {   # (name, in reprs, out reprs, hand-computed dim Hom_G or None)
    "C8": [("reg-reg", lambda g: [g.regular_repr], lambda g: [g.regular_repr], 8),
           ("irreps", lambda g: [g.irrep(1), g.irrep(4), g.trivial_repr], lambda g: [g.irrep(1), g.irrep(1)], 4),
           ("mixed", lambda g: [g.regular_repr, g.irrep(2), g.trivial_repr],
            lambda g: [g.irrep(2), g.regular_repr, g.regular_repr, g.irrep(3)], None)],
    "D4": [("reg-reg", lambda g: [g.regular_repr], lambda g: [g.regular_repr], 8),
           ("irreps", lambda g: [g.irrep(1, 1), g.irrep(1, 0)], lambda g: [g.irrep(1, 1), g.irrep(0, 0)], 1),
           ("mixed", lambda g: [g.regular_repr, g.irrep(1, 1), g.quotient_repr((0, 1))],
            lambda g: [g.irrep(1, 2), g.regular_repr, g.trivial_repr, g.irrep(1, 1)], None)],
    "SO2": [("irreps", lambda g: [g.irrep(1), g.trivial_repr, g.irrep(2)], lambda g: [g.irrep(1), g.irrep(1)], 4),
            ("mixed", lambda g: [g.irrep(2), g.irrep(1), g.trivial_repr, g.irrep(1)],
             lambda g: [g.irrep(1), g.irrep(3), g.trivial_repr, g.trivial_repr, g.irrep(2)], None)],
    "O2": [("irreps", lambda g: [g.irrep(1, 1), g.irrep(1, 0), g.trivial_repr],
            lambda g: [g.irrep(1, 1), g.irrep(0, 0), g.irrep(1, 1)], 3),
           ("mixed", lambda g: [g.irrep(1, 2), g.irrep(1, 1), g.trivial_repr, g.irrep(1, 0)],
            lambda g: [g.irrep(1, 1), g.irrep(1, 0), g.irrep(1, 0), g.trivial_repr, g.irrep(1, 2)], None)],
}
LINEAR_PARAMS = [(g, case) for g, cases in LINEAR_CASES.items() for case in cases]


@pytest.mark.parametrize("gs_name,case", LINEAR_PARAMS, ids=[f"{g}-{c[0]}" for g, c in LINEAR_PARAMS])
def test_linear_spans_the_intertwiners(gs_name, case):
    gs = GSPACES[gs_name]()
    _, make_in, make_out, by_hand = case
    t_in, t_out = nn.FieldType(gs, make_in(gs)), nn.FieldType(gs, make_out(gs))
    expected = _intertwiner_dimension(gs, t_in, t_out)
    if by_hand is not None:
        assert expected == by_hand
    lin = nn.Linear(t_in, t_out, bias=False).to(torch.float64)
    assert lin.weights.numel() == expected
    basis = []
    with torch.no_grad():
        for i in range(expected):
            lin.weights.zero_()
            lin.weights[i] = 1.0
            W = lin.matrix()[0].numpy()
            for g in _constraint_elements(gs):
                assert np.abs(t_out.fiber_matrix(g) @ W - W @ t_in.fiber_matrix(g)).max() < 1e-10
            basis.append(W.reshape(-1))
    assert np.linalg.matrix_rank(np.stack(basis), tol=1e-8) == expected


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("gs_name", MAIN)
def test_linear_fibre_equivariance_all_elements_and_shapes(gs_name, dtype):
    """On (B, C) and (B, C, L) inputs (no plane): Linear(rho_in(g) x) == rho_out(g) Linear(x) for every
    testing element, the non-grid rotations included."""
    gs = GSPACES[gs_name]()
    _, make_in, make_out, _ = LINEAR_CASES[gs_name][-1]
    t_in, t_out = nn.FieldType(gs, make_in(gs)), nn.FieldType(gs, make_out(gs))
    lin = nn.Linear(t_in, t_out).to(dtype)
    with torch.no_grad():
        lin.bias.normal_()
    tol = 1e-10 if dtype == torch.float64 else 1e-5
    for shape in ((6, t_in.size), (2, t_in.size, 3)):
        x = nn.GeometricTensor(torch.randn(*shape, dtype=dtype), t_in)
        y = lin(x)
        assert tuple(y.shape) == lin.evaluate_output_shape(shape) == (shape[0], t_out.size) + shape[2:]
        for g in gs.testing_elements:
            out1, out2 = lin(x.transform_fibers(g)).tensor, y.transform_fibers(g).tensor
            assert (out1 - out2).abs().max() <= tol * out1.abs().max()


def test_linear_bias_and_values():
    gs = gspaces.Rot2dOnR2(8)
    t_in = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1)])
    t_out = nn.FieldType(gs, [gs.irrep(1), gs.regular_repr, gs.trivial_repr, gs.trivial_repr])
    lin = nn.Linear(t_in, t_out).to(torch.float64)
    assert lin.bias.numel() == 3                       # regular has one trivial irrep, plus two trivial fields
    assert sorted(lin.state_dict()) == ["bias", "weights"]
    with torch.no_grad():
        lin.weights.zero_()
        lin.bias.copy_(torch.tensor([1.0, 2.0, 3.0]))
    y = lin(nn.GeometricTensor(torch.randn(2, t_in.size, dtype=torch.float64), t_in)).tensor
    expected = torch.tensor([0, 0] + [1 / np.sqrt(8)] * 8 + [2, 3], dtype=torch.float64)
    assert torch.allclose(y, expected.expand(2, -1), atol=1e-12)    # a constant on the regular field
    # the output is the matrix applied on the channels (an independent einsum)
    lin.reset_parameters()
    x = torch.randn(3, t_in.size, 4, 5, dtype=torch.float64)
    W, b = lin.matrix()
    torch.testing.assert_close(lin(nn.GeometricTensor(x, t_in)).tensor,
                               torch.einsum("oi,bihw->bohw", W, x) + b[None, :, None, None])
    assert nn.Linear(t_in, t_out, bias=False).bias is None
    assert lin.weights.std() > 0 and (lin.bias == 0).all()        # He init, zero bias
    assert (nn.Linear(t_in, t_out, initialize=False).weights == 0).all()


def test_linear_gradients_and_eval_cache():
    gs = gspaces.FlipRot2dOnR2(4)
    t = _mixed(gs)
    lin = nn.Linear(t, t)
    x = _input(t, 3)
    lin(x).tensor.square().sum().backward()
    assert lin.weights.grad.abs().sum() > 0 and lin.bias.grad is not None
    lin.eval()
    with torch.no_grad():
        y1 = lin(x).tensor
        lin.weights.mul_(2)
        y2 = lin(x).tensor
    assert not torch.equal(y1, y2)                 # the eval cache follows in-place parameter changes


def test_linear_exports():
    gs = gspaces.Rot2dOnR2(8)
    t_in, t_out = _mixed(gs), nn.FieldType(gs, [gs.regular_repr, gs.irrep(2)])
    lin = nn.Linear(t_in, t_out).to(torch.float64)
    with torch.no_grad():
        lin.bias.normal_()
    plain = lin.export()
    scripted = torch.jit.script(plain)
    for shape in ((4, t_in.size), (2, t_in.size, 5), (2, t_in.size, 3, 4), (1, t_in.size, 2, 2, 2)):
        x = torch.randn(*shape, dtype=torch.float64)
        y = lin(nn.GeometricTensor(x, t_in)).tensor
        assert torch.equal(plain(x), y) and torch.equal(scripted(x), y)
    x2, x4 = torch.randn(4, t_in.size, dtype=torch.float64), torch.randn(2, t_in.size, 5, 5, dtype=torch.float64)
    as_linear, as_conv = lin.export(ndim=2), lin.export(ndim=4)
    assert type(as_linear) is torch.nn.Linear and type(as_conv) is torch.nn.Conv2d
    assert torch.equal(as_linear(x2), lin(nn.GeometricTensor(x2, t_in)).tensor)
    assert torch.equal(as_conv(x4), lin(nn.GeometricTensor(x4, t_in)).tensor)
    with pytest.raises(ValueError, match="ndim"):
        lin.export(ndim=3)


# ---- errors ----------------------------------------------------------------------------------------------
def test_argument_errors():
    gs = gspaces.Rot2dOnR2(4)
    t = _mixed(gs)
    with pytest.raises(TypeError, match="in_type"):
        nn.FieldDropout([gs.regular_repr])
    with pytest.raises(ValueError, match="p must"):
        nn.FieldDropout(t, p=1.5)
    with pytest.raises(ValueError, match="permutation"):
        nn.ReshuffleModule(t, [0, 1, 2, 3, 3])
    with pytest.raises(ValueError, match="permutation"):
        nn.ReshuffleModule(t, [0, 1, 2])
    with pytest.raises(ValueError, match="number of labels"):
        nn.BranchingModule(t, ["a", "b"])
    with pytest.raises(TypeError, match="labels"):
        nn.BranchingModule(t, [1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="reshuffle"):
        nn.BranchingModule(t, _halves(t), reshuffle=4)
    out = nn.BranchingModule(t, _halves(t)).out_type
    with pytest.raises(ValueError, match=r"no module takes the fields labelled \['b'\]"):
        nn.MultipleModule(t, _halves(t), [(nn.IdentityModule(out["a"]), "a")])
    with pytest.raises(ValueError, match=r"no field is labelled \['c'\]"):
        nn.MultipleModule(t, _halves(t), [(nn.IdentityModule(out["a"]), "a"), (nn.IdentityModule(out["b"]), "b"),
                                          (nn.IdentityModule(out["b"]), "c")])
    with pytest.raises(ValueError, match="expects.*label 'a'"):
        nn.MultipleModule(t, _halves(t), [(nn.IdentityModule(out["b"]), "a"), (nn.IdentityModule(out["b"]), "b")])
    with pytest.raises(TypeError, match="EquivariantModule"):
        nn.MergeModule([(torch.nn.ReLU(), "a")])
    with pytest.raises(ValueError, match="at least one"):
        nn.MergeModule([])
    with pytest.raises(ValueError, match="takes 1 input"):
        nn.MergeModule([(nn.IdentityModule(t), ["a", "b"])])
    with pytest.raises(ValueError, match="different types"):
        nn.MergeModule([(nn.IdentityModule(out["a"]), "a"), (nn.IdentityModule(out["b"]), "a")])
    merge = nn.MergeModule([(nn.IdentityModule(out["a"]), "a")])
    with pytest.raises(ValueError, match=r"no tensor for labels \['a'\]"):
        merge({"b": _input(out["b"], 2)})
    with pytest.raises(ValueError, match="S must"):
        nn.MaskModule(t, 0)
    with pytest.raises(ValueError, match="margin"):
        nn.MaskModule(t, 5, margin=float("nan"))
    with pytest.raises(ValueError, match=r"\(batch, 9, 5, 5\)"):
        nn.MaskModule(t, 5)(_input(t, 6))
    with pytest.raises(ValueError, match="not a subgroup id"):
        nn.RestrictionModule(t, 3)
    with pytest.raises(ValueError, match="no non-zero equivariant linear map"):
        nn.Linear(nn.FieldType(gs, [gs.trivial_repr]), nn.FieldType(gs, [gs.irrep(1)]))
    with pytest.raises(ValueError, match="gspace"):
        nn.Linear(t, nn.FieldType(gspaces.Rot2dOnR2(8), [gspaces.Rot2dOnR2(8).regular_repr]))
    with pytest.raises(ValueError, match="input_shape"):
        nn.Linear(t, t).evaluate_output_shape((1, 3))
    other = nn.FieldType(gs, [gs.regular_repr])
    for module in (nn.FieldDropout(t), nn.ReshuffleModule(t, [4, 3, 2, 1, 0]), nn.MaskModule(t, 3),
                   nn.Linear(t, t), _multiple(t), nn.BranchingModule(t, _halves(t)), nn.RestrictionModule(t, 2),
                   nn.DisentangleModule(t)):
        with pytest.raises(ValueError, match="expects input of type"):
            module(_input(other, 3))
        with pytest.raises(TypeError, match="GeometricTensor"):
            module(torch.randn(1, t.size, 3, 3))
