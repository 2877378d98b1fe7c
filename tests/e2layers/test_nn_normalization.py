"""e2layers.nn normalisations: InnerBatchNorm, NormBatchNorm, InducedNormBatchNorm, GNormBatchNorm (e2cnn's),
IIDBatchNorm2d and FieldNorm (beyond e2cnn).

Equivariance in eval mode (``nn.assert_equivariant``, after training steps) and in train mode (the output on
``g.x`` is ``g`` of the output on ``x``, and the running statistics after a step on either are the same), in
float32 (< 1e-5) and float64 (< 1e-10), under the grid-exact elements of C8, D4, SO(2) and O(2).  Expected
values come from e2cnn 0.2.3 (tests/fixtures/e2cnn/generate_batchnorm.py), torch's BatchNorm2d, GroupNorm and
LayerNorm, and hand computations.
"""
import copy
import json
import pickle

import numpy as np
import pytest
import torch

from e2layers import gspaces, nn
from e2layers.group import directsum

from e2cnn_tokens import representation
from paths import E2CNN_FIXTURES

DATA = E2CNN_FIXTURES
# exports must run under torch.jit.script, which torch >= 2.10 marks deprecated
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


pytestmark = pytest.mark.usefixtures("private_cache")


GSPACES = {
    "C8": lambda: gspaces.Rot2dOnR2(8),
    "D4": lambda: gspaces.FlipRot2dOnR2(4),
    "SO2": lambda: gspaces.Rot2dOnR2(-1, maximum_frequency=4),
    "O2": lambda: gspaces.FlipRot2dOnR2(-1, maximum_frequency=4),
}


def _mixed(gs, irreps, name):
    """A field mixing ``irreps`` by a fixed random orthogonal change of basis (registered once per group)."""
    size = sum(gs.irrep(*i).size for i in irreps)
    q = np.linalg.qr(np.random.RandomState(7).randn(size, size))[0]
    return directsum([gs.irrep(*i) for i in irreps], change_of_basis=q, name=name)


def _induced(gs, sid, irrep):
    G = gs.fibergroup
    return G.induced_representation(sid, G.subgroup(sid)[0].irrep(*irrep))


def _any_type(name):
    """Fields of every kind the group has, non-contiguous repetitions and a mixed change of basis included."""
    gs = GSPACES[name]()
    if name == "C8":
        reps = [gs.trivial_repr, gs.regular_repr, gs.irrep(1), gs.regular_repr, _induced(gs, 4, (1,))]
    elif name == "D4":
        reps = [gs.regular_repr, gs.irrep(1, 1), gs.trivial_repr, gs.quotient_repr((0, 1)), gs.regular_repr]
    elif name == "SO2":
        reps = [gs.trivial_repr, gs.irrep(1), _mixed(gs, [(0,), (1,), (2,)], "so2_mixed_012"), gs.irrep(3),
                gs.trivial_repr]
    else:
        reps = [gs.trivial_repr, gs.irrep(1, 1), _mixed(gs, [(0, 0), (1, 0), (1, 2)], "o2_mixed_00_10_12"),
                gs.irrep(1, 0), gs.irrep(1, 1)]
    return nn.FieldType(gs, reps)


def _pointwise_type(name):
    gs = GSPACES[name]()
    if name == "C8":
        return nn.FieldType(gs, [gs.trivial_repr, gs.regular_repr, gs.trivial_repr, gs.regular_repr])
    return nn.FieldType(gs, [gs.regular_repr, gs.quotient_repr((0, 1)), gs.trivial_repr, gs.regular_repr])


def _norm_type(name):
    gs = GSPACES[name]()
    ids = {"C8": [(1,), (2,), (1,), (4,)], "D4": [(1, 1), (1, 0), (1, 1), (0, 2)],
           "SO2": [(1,), (2,), (1,), (4,)], "O2": [(1, 1), (1, 0), (1, 3), (1, 1)]}[name]
    return nn.FieldType(gs, [gs.irrep(*i) for i in ids])


def _induced_type(name):
    gs = GSPACES[name]()
    if name == "C8":
        return nn.FieldType(gs, [_induced(gs, 4, (1,)), _induced(gs, 2, (1,)), _induced(gs, 4, (1,))])
    return nn.FieldType(gs, [_induced(gs, (None, 4), (1,)), _induced(gs, (0, 2), (1, 0)),
                             _induced(gs, (None, 4), (1,))])


# name -> (factory, field-type builder, groups)
MODULES = {
    "InnerBatchNorm": (lambda t: nn.InnerBatchNorm(t), _pointwise_type, ["C8", "D4"]),
    "NormBatchNorm": (lambda t: nn.NormBatchNorm(t), _norm_type, ["C8", "D4", "SO2", "O2"]),
    "InducedNormBatchNorm": (lambda t: nn.InducedNormBatchNorm(t, momentum=0.3), _induced_type, ["C8", "D4"]),
    "GNormBatchNorm": (lambda t: nn.GNormBatchNorm(t), _any_type, ["C8", "D4", "SO2", "O2"]),
    "IIDBatchNorm2d": (lambda t: nn.IIDBatchNorm2d(t), _any_type, ["C8", "D4", "SO2", "O2"]),
    "FieldNorm": (lambda t: nn.FieldNorm(t), _any_type, ["C8", "D4", "SO2", "O2"]),
    "FieldNorm_pixelwise": (lambda t: nn.FieldNorm(t, pixelwise=True), _any_type, ["C8", "D4", "SO2", "O2"]),
}
CASES = [(m, g) for m, (_, _, groups) in MODULES.items() for g in groups]
CASE_IDS = [f"{m}-{g}" for m, g in CASES]


def _randomize(module):
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(0.5 + torch.rand(p.shape) if "weight" in name else torch.randn(p.shape))
    return module


def _input(t, dtype=torch.float32, batch=2, size=5):
    return nn.GeometricTensor(2 * torch.randn(batch, t.size, size, size, dtype=dtype) + 0.5, t)


def _build(name, group, dtype=torch.float32):
    factory, builder, _ = MODULES[name]
    t = builder(group)
    return _randomize(factory(t)).to(dtype), t


def _elements(gs):
    return [g for g in gs.testing_elements if gs.is_grid_element(g)]


def _train(module, t, dtype, steps=2):
    module.train()
    with torch.no_grad():
        for _ in range(steps):
            module(_input(t, dtype))
    return module


def _rel(a, b):
    return (a - b).abs().max().item() / max(b.abs().max().item(), 1e-30)


def assert_train_equivariant(module, x, tolerance):
    """One training step on g.x and on x (fresh copies of ``module``): outputs and states must correspond."""
    for g in _elements(x.type.gspace):
        a, b = copy.deepcopy(module).train(), copy.deepcopy(module).train()
        with torch.no_grad():
            out1 = a(x.transform(g)).tensor
            out2 = b(x).transform(g).tensor
        if _rel(out1, out2) > tolerance:
            raise AssertionError(f"{type(module).__name__} output is not equivariant under {g!r} in train mode: "
                                 f"{_rel(out1, out2):.3g}")
        for (k, v1), v2 in zip(a.state_dict().items(), b.state_dict().values()):
            if v1.numel() and _rel(v1.double(), v2.double()) > tolerance:
                raise AssertionError(f"{type(module).__name__} state {k!r} differs after a step on g.x and on x "
                                     f"({g!r})")


# ---- equivariance ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,group", CASES, ids=CASE_IDS)
def test_equivariance_eval(name, group, dtype):
    module, t = _build(name, group, dtype)
    _train(module, t, dtype).eval()
    result = nn.assert_equivariant(module, _input(t, dtype))
    assert len(result) == len(_elements(t.gspace)) >= 4


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,group", CASES, ids=CASE_IDS)
def test_equivariance_train(name, group, dtype):
    module, t = _build(name, group, dtype)
    _train(module, t, dtype)
    x = _input(t, dtype)
    assert_train_equivariant(module, x, 1e-10 if dtype == torch.float64 else 1e-5)
    if name not in ("NormBatchNorm", "InducedNormBatchNorm"):   # their train output depends on the running var
        nn.assert_equivariant(module.train(), x)


SMALL_GROUPS = {"C1": gspaces.TrivialOnR2, "C4": lambda: gspaces.Rot2dOnR2(4), "D1": lambda: gspaces.FlipRot2dOnR2(1),
                "Flip": gspaces.Flip2dOnR2}


@pytest.mark.parametrize("group", list(SMALL_GROUPS))
@pytest.mark.parametrize("name", ["InnerBatchNorm", "GNormBatchNorm", "IIDBatchNorm2d", "FieldNorm"])
def test_equivariance_small_groups(name, group):
    gs = SMALL_GROUPS[group]()
    t = nn.FieldType(gs, [gs.trivial_repr, gs.regular_repr, gs.regular_repr])
    module = _train(_randomize(getattr(nn, name)(t)).double(), t, torch.float64)
    x = _input(t, torch.float64)
    assert_train_equivariant(module, x, 1e-10)
    nn.assert_equivariant(module.eval(), x)
    assert _rel(module.export()(x.tensor), module(x).tensor) < 1e-12


@pytest.mark.parametrize("name", ["NormBatchNorm", "GNormBatchNorm", "IIDBatchNorm2d"])
def test_check_equivariance_in_train_mode_leaves_the_statistics(name):
    module, t = _build(name, "D4")
    _train(module, t, torch.float32)
    before = copy.deepcopy(module.state_dict())
    assert len(module.train().check_equivariance()) == 8
    for key, value in module.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_train_check_catches_per_channel_statistics():
    """torch's BatchNorm2d on regular fields (one statistic per channel) is not equivariant: the check must fail."""
    class ChannelBN(nn.EquivariantModule):
        def __init__(self, t):
            super().__init__()
            self.in_type = self.out_type = t
            self.bn = torch.nn.BatchNorm2d(t.size)

        def forward(self, x):
            return nn.GeometricTensor(self.bn(x.tensor), self.out_type)

        def evaluate_output_shape(self, input_shape):
            return input_shape

    t = _pointwise_type("C8")
    with pytest.raises(AssertionError, match="running_mean' differs"):   # its output follows the channels...
        assert_train_equivariant(ChannelBN(t), _input(t), 1e-5)
    with pytest.raises(AssertionError, match="output is not equivariant"):   # ...until weights differ
        assert_train_equivariant(_randomize(ChannelBN(t)), _input(t), 1e-5)


# ---- export, shapes, pickling, dtype --------------------------------------------------------------------
EXPORT_TYPES = {"InnerBatchNorm": "BatchNorm2d", "NormBatchNorm": "BatchNorm2d", "InducedNormBatchNorm": "BatchNorm2d",
                "IIDBatchNorm2d": "BatchNorm2d", "GNormBatchNorm": "Conv2d", "FieldNorm": "FieldLayerNorm2d",
                "FieldNorm_pixelwise": "FieldLayerNorm2d"}


@pytest.mark.parametrize("name,group", CASES, ids=CASE_IDS)
def test_export(name, group):
    module, t = _build(name, group, torch.float64)
    _train(module, t, torch.float64).eval()
    exported = module.export()
    assert not isinstance(exported, nn.EquivariantModule) and not exported.training
    assert type(exported).__name__ == EXPORT_TYPES[name]
    x = _input(t, torch.float64, batch=2)
    y = module(x).tensor
    assert _rel(exported(x.tensor), y) < 1e-12
    scripted = torch.jit.script(exported)
    assert _rel(scripted(x.tensor), y) < 1e-12
    assert module.evaluate_output_shape(tuple(x.shape)) == tuple(y.shape)


def test_gnorm_export_targets():
    """Fields without change of basis export to BatchNorm2d; equal-size fields to a grouped 1x1 conv."""
    so2 = GSPACES["SO2"]()
    t = nn.FieldType(so2, [so2.trivial_repr, so2.irrep(1), so2.irrep(2), so2.trivial_repr])
    assert type(_train(_randomize(nn.GNormBatchNorm(t)), t, torch.float32).export()).__name__ == "BatchNorm2d"
    r2 = GSPACES["C8"]()
    t = nn.FieldType(r2, 3 * [r2.regular_repr])
    conv = _train(_randomize(nn.GNormBatchNorm(t)), t, torch.float32).export()
    assert isinstance(conv, torch.nn.Conv2d) and conv.groups == 3


@pytest.mark.parametrize("name,group", [("InnerBatchNorm", "D4"), ("NormBatchNorm", "O2"),
                                        ("InducedNormBatchNorm", "C8"), ("GNormBatchNorm", "D4"),
                                        ("GNormBatchNorm", "SO2"), ("IIDBatchNorm2d", "O2"), ("FieldNorm", "SO2")])
def test_export_without_affine(name, group):
    t = MODULES[name][1](group)
    module = _train(getattr(nn, name)(t, affine=False).double(), t, torch.float64).eval()
    assert not list(module.parameters())
    x = _input(t, torch.float64)
    exported = module.export()
    assert not list(exported.parameters()) or name == "GNormBatchNorm"   # GNorm folds into a conv
    assert _rel(exported(x.tensor), module(x).tensor) < 1e-12


@pytest.mark.parametrize("name", ["InnerBatchNorm", "IIDBatchNorm2d"])
def test_export_without_running_stats(name):
    t = _pointwise_type("D4") if name == "InnerBatchNorm" else _any_type("D4")
    module = _randomize(getattr(nn, name)(t, track_running_stats=False)).double()
    assert "running_var" not in " ".join(module.state_dict())
    exported = torch.jit.script(module.export())
    x = _input(t, torch.float64)
    for mode in (True, False):
        module.train(mode)
        exported.train(mode)
        assert _rel(exported(x.tensor), module(x).tensor) < 1e-12
    nn.assert_equivariant(module.eval(), x)


@pytest.mark.parametrize("name,group", [c for c in CASES if c[1] == "D4"] + [("NormBatchNorm", "O2")],
                         ids=lambda v: str(v))
def test_pickle_state_dict_and_dtype(name, group):
    module, t = _build(name, group)
    _train(module, t, torch.float32)
    keys = list(module.state_dict())
    assert list(module.eval().state_dict()) == keys
    x = _input(t)
    clone = pickle.loads(pickle.dumps(module))
    assert torch.equal(clone(x).tensor, module(x).tensor)
    double = copy.deepcopy(module).to(torch.float64)
    y = double(nn.GeometricTensor(x.tensor.double(), t)).tensor
    assert y.dtype == torch.float64 and _rel(y, module(x).tensor.double()) < 1e-5
    fresh = MODULES[name][0](t)
    fresh.load_state_dict(module.state_dict())
    assert torch.equal(fresh.eval()(x).tensor, module(x).tensor)
    with pytest.raises(ValueError, match="input_shape"):
        module.evaluate_output_shape((2, t.size + 1, 5, 5))
    with pytest.raises(ValueError, match="H, W"):
        module(nn.GeometricTensor(torch.randn(2, t.size), t))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
@pytest.mark.parametrize("name,group", [c for c in CASES if c[1] == "D4"], ids=lambda v: str(v))
def test_cuda(name, group):
    module, t = _build(name, group)
    x = _input(t)
    y = module(x).tensor
    gpu = copy.deepcopy(module).cuda()
    assert _rel(gpu(nn.GeometricTensor(x.tensor.cuda(), t)).tensor.cpu(), y) < 1e-5


# ---- values against independent references --------------------------------------------------------------
def _e2cnn_case(case):
    meta = json.loads((DATA / "batchnorm.json").read_text())[case]
    data = np.load(DATA / "batchnorm.npz")
    gs = GSPACES[meta["gspace"]]()
    t = nn.FieldType(gs, [representation(gs, s) for s in meta["fields"]])
    module = getattr(nn, meta["module"])(t, **meta["kwargs"])
    states = {when: {k[len(f"{case}__{when}__"):]: torch.as_tensor(data[k]) for k in data.files
                     if k.startswith(f"{case}__{when}__")} for when in ("init", "final")}
    return module, t, data, states


E2CNN_CASES = list(json.loads((DATA / "batchnorm.json").read_text()))


@pytest.mark.parametrize("case", E2CNN_CASES)
def test_matches_e2cnn(case):
    """An e2cnn state_dict (derived buffers included) loads; two train steps and an eval step then give e2cnn's
    outputs and running statistics."""
    module, t, data, states = _e2cnn_case(case)
    module.load_state_dict(states["init"])
    assert set(module.state_dict()) < set(states["init"])   # the rest are e2cnn's derived buffers
    for i in range(3):
        module.train(i < 2)
        with torch.no_grad():
            y = module(nn.GeometricTensor(torch.as_tensor(data[f"{case}__x{i}"]), t)).tensor
        assert _rel(y, torch.as_tensor(data[f"{case}__y{i}"])) < 2e-6
    for key, value in module.state_dict().items():
        ref = states["final"][key]
        if key.endswith("num_batches_tracked"):
            assert value.item() == ref.item() == 2
        elif ref.numel():
            assert _rel(value, ref) < 2e-6, key


def test_e2cnn_state_of_another_field_type_is_refused():
    module, t, data, states = _e2cnn_case("gnorm_D4")
    gs = t.gspace
    other = nn.GNormBatchNorm(nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.irrep(1, 1),
                                                gs.quotient_repr((0, 1)), gs.irrep(1, 0), gs.regular_repr]))
    with pytest.raises(RuntimeError, match="regular_indices"):
        other.load_state_dict(states["init"])


def test_inner_batchnorm_by_hand():
    """Each field: mean and biased variance over batch, positions and its channels (float64)."""
    r2 = GSPACES["D4"]()
    t = nn.FieldType(r2, [r2.regular_repr, r2.trivial_repr, r2.regular_repr])
    bn = nn.InnerBatchNorm(t, eps=1e-3).double()
    x = _input(t, torch.float64, batch=4)
    y = bn(x).tensor
    for lo, hi in [(0, 8), (8, 9), (9, 17)]:
        block = x.tensor[:, lo:hi]
        expected = (block - block.mean()) / torch.sqrt(block.var(unbiased=False) + 1e-3)
        assert _rel(y[:, lo:hi], expected) < 1e-12
    running = getattr(bn, "batch_norm_[8]").running_var
    n = x.tensor[:, 9:17].numel()
    assert abs(running[1].item() - (0.9 + 0.1 * x.tensor[:, 9:17].var(unbiased=False).item() * n / (n - 1))) < 1e-12


@pytest.mark.parametrize("momentum", [0.2, None])
def test_iid_on_trivial_fields_is_batchnorm2d(momentum):
    """Outputs (train and eval), running statistics and input gradients equal torch.nn.BatchNorm2d's."""
    c8 = GSPACES["C8"]()
    t = nn.FieldType(c8, 4 * [c8.trivial_repr])
    iid = _randomize(nn.IIDBatchNorm2d(t, momentum=momentum)).double()
    bn = torch.nn.BatchNorm2d(4, momentum=momentum).double()
    with torch.no_grad():
        bn.weight.copy_(iid.weight)
        bn.bias.copy_(iid.bias)
    for step in range(3):
        iid.train(step < 2)
        bn.train(step < 2)
        x = _input(t, torch.float64)
        a = x.tensor.clone().requires_grad_()
        b = x.tensor.clone().requires_grad_()
        ya, yb = iid(nn.GeometricTensor(a, t)).tensor, bn(b)
        assert _rel(ya, yb) < 1e-12
        w = torch.randn_like(ya)   # (a per-channel constant would have zero gradient in train mode)
        (ya * w).sum().backward()
        (yb * w).sum().backward()
        assert _rel(a.grad, b.grad) < 1e-10
    assert _rel(iid.running_mean, bn.running_mean) < 1e-12 and _rel(iid.running_var, bn.running_var) < 1e-12


def test_iid_statistics_by_hand():
    """SO(2): a field without invariant part (zero mean, n s samples) and a mixed field (mean along its invariant
    vector q, n s - 1 degrees of freedom); momentum 1 makes the running statistics the batch's."""
    so2 = GSPACES["SO2"]()
    mixed = _mixed(so2, [(0,), (1,), (2,)], "so2_mixed_012")
    t = nn.FieldType(so2, [so2.irrep(1), mixed])
    iid = nn.IIDBatchNorm2d(t, momentum=1.0).double()
    x = _input(t, torch.float64)
    iid(x)
    v = x.tensor.permute(1, 0, 2, 3).reshape(7, -1).numpy()
    n = v.shape[1]
    q = mixed.change_of_basis[:, 0] / np.linalg.norm(mixed.change_of_basis[:, 0])
    centred = v[2:] - np.outer(q, q) @ v[2:].mean(axis=1, keepdims=True)
    expected_var = [(v[:2] ** 2).sum() / (2 * n), (centred ** 2).sum() / (5 * n - 1)]
    np.testing.assert_allclose(iid.running_var.numpy(), expected_var, rtol=1e-12)
    np.testing.assert_allclose(iid.export().running_mean[2:].numpy(), np.outer(q, q) @ v[2:].mean(axis=1),
                               atol=1e-12)


def test_iid_on_regular_fields_is_inner_batchnorm():
    d4 = GSPACES["D4"]()
    t = nn.FieldType(d4, [d4.regular_repr, d4.quotient_repr((0, 1)), d4.regular_repr])
    iid = _randomize(nn.IIDBatchNorm2d(t)).double()
    inner = nn.InnerBatchNorm(t).double()
    with torch.no_grad():
        getattr(inner, "batch_norm_[8]").weight.copy_(iid.weight[[0, 2]])
        getattr(inner, "batch_norm_[4]").weight.copy_(iid.weight[[1]])
        getattr(inner, "batch_norm_[8]").bias.copy_(iid.bias[[0, 2]] / 8 ** 0.5)   # bias along (1..1)/sqrt(s)
        getattr(inner, "batch_norm_[4]").bias.copy_(iid.bias[[1]] / 2)
    for step in range(3):
        iid.train(step < 2)
        inner.train(step < 2)
        x = _input(t, torch.float64)
        assert _rel(iid(x).tensor, inner(x).tensor) < 1e-12
    exported = inner.export()
    assert _rel(iid.export().running_var, exported.running_var) < 1e-12
    assert _rel(iid.export().running_mean, exported.running_mean) < 1e-12


def test_field_norm_is_group_norm_on_pointwise_fields():
    t = _pointwise_type("D4")
    norm = _randomize(nn.FieldNorm(t)).double()
    x = _input(t, torch.float64)
    a, b = x.tensor.clone().requires_grad_(), x.tensor.clone().requires_grad_()
    sizes = torch.tensor([r.size for r in t.representations])
    weight = norm.weight.detach().repeat_interleave(sizes)
    bias = (norm.bias.detach() / sizes.double().sqrt()).repeat_interleave(sizes)
    ya = norm(nn.GeometricTensor(a, t)).tensor
    yb = torch.nn.functional.group_norm(b, 1, weight, bias, eps=1e-5)
    assert _rel(ya, yb) < 1e-12
    ya.pow(3).sum().backward()
    yb.pow(3).sum().backward()
    assert _rel(a.grad, b.grad) < 1e-10
    pixelwise = nn.FieldNorm(t, affine=False, pixelwise=True).double()
    expected = torch.nn.functional.layer_norm(x.tensor.permute(0, 2, 3, 1), (t.size,)).permute(0, 3, 1, 2)
    assert _rel(pixelwise(x).tensor, expected) < 1e-12
    assert norm.evaluate_output_shape((3, t.size, 6, 7)) == (3, t.size, 6, 7)


def test_field_norm_on_fields_without_invariant_part_only_scales():
    so2 = GSPACES["SO2"]()
    t = nn.FieldType(so2, [so2.irrep(1), so2.irrep(2), so2.irrep(1)])
    norm = nn.FieldNorm(t)
    assert norm.bias is None and norm.weight.shape == (3,)
    x = _input(t, torch.float64)
    y = norm.double()(x).tensor
    rms = x.tensor.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt()
    assert _rel(y, x.tensor / torch.sqrt(rms ** 2 + 1e-5)) < 1e-12


def test_norm_batchnorm_train_uses_updated_running_var():
    """e2cnn's convention, by hand: running_var <- 0.9 + 0.1 * unbiased mean squared norm, then divide by it."""
    so2 = GSPACES["SO2"]()
    t = nn.FieldType(so2, [so2.irrep(1), so2.irrep(2)])
    bn = nn.NormBatchNorm(t, eps=0.0 + 1e-5).double()
    x = _input(t, torch.float64)
    y = bn(x).tensor
    m = x.tensor[:, 0].numel()
    for lo in (0, 2):
        var = x.tensor[:, lo:lo + 2].pow(2).sum(1).mean() / 2 * m / (m - 1)
        running = 0.9 + 0.1 * var
        assert _rel(y[:, lo:lo + 2], x.tensor[:, lo:lo + 2] / torch.sqrt(running + 1e-5)) < 1e-12
    assert bn.num_batches_tracked.item() == 1


# ---- errors ---------------------------------------------------------------------------------------------
def test_errors():
    so2, c8 = GSPACES["SO2"](), GSPACES["C8"]()
    with pytest.raises(ValueError, match=r"InnerBatchNorm.*irrep_1.*GNormBatchNorm.*IIDBatchNorm2d.*NormBatchNorm"):
        nn.InnerBatchNorm(nn.FieldType(so2, [so2.trivial_repr, so2.irrep(1)]))
    with pytest.raises(ValueError, match=r"NormBatchNorm.*regular.*GNormBatchNorm"):
        nn.NormBatchNorm(nn.FieldType(c8, [c8.irrep(1), c8.regular_repr]))
    with pytest.raises(ValueError, match=r"InducedNormBatchNorm.*induced_norm.*irrep_1"):
        nn.InducedNormBatchNorm(nn.FieldType(c8, [c8.irrep(1)]))
    t = nn.FieldType(c8, [c8.regular_repr])
    for factory in (nn.InnerBatchNorm, nn.GNormBatchNorm, nn.IIDBatchNorm2d, nn.FieldNorm):
        with pytest.raises(TypeError, match="in_type"):
            factory([c8.regular_repr])
        with pytest.raises(ValueError, match="eps"):
            factory(t, eps=-1.0)
        with pytest.raises(TypeError, match="affine"):
            factory(t, affine="yes")
        with pytest.raises(TypeError):
            factory(t)(torch.randn(1, 8, 3, 3))
        with pytest.raises(ValueError, match="expects input of type"):
            factory(t)(_input(nn.FieldType(c8, 8 * [c8.trivial_repr])))
    for factory in (nn.InnerBatchNorm, nn.GNormBatchNorm, nn.IIDBatchNorm2d):
        with pytest.raises(ValueError, match="momentum"):
            factory(t, momentum=2.0)
    with pytest.raises(ValueError, match="momentum"):
        nn.NormBatchNorm(nn.FieldType(c8, [c8.irrep(1)]), momentum=-0.5)
