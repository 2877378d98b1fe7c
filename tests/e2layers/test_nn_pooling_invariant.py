"""e2layers.nn pooling and invariant maps: PointwiseMaxPoolAntialiased, PointwiseAvgPoolAntialiased,
NormMaxPool, NormPool, InducedNormPool, GroupPooling and MaxPoolChannels.

Equivariance is measured with ``nn.assert_equivariant`` under the grid-exact elements, in float32 (< 1e-5)
and float64 (< 1e-10), on spatial sizes where the pooling windows tile the grid symmetrically; outputs are
compared with e2cnn 0.2.3's (tests/fixtures/e2cnn/generate_pooling.py) and with brute-force loops.
"""
import importlib.util
import pickle
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from e2layers import gspaces, nn
from e2layers.nn.norm_pool import FieldNormMaxPool2d, FieldReduce
from paths import E2CNN_FIXTURES

DATA = E2CNN_FIXTURES
_spec = importlib.util.spec_from_file_location("generate_pooling", DATA / "generate_pooling.py")
generate_pooling = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate_pooling)


pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)        # tiny tensors: worker threads only add contention
    yield
    torch.set_num_threads(threads)


def _scripted(module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)      # torch.jit.script is deprecated in new torch
        return torch.jit.script(module)


# ---- field types ----------------------------------------------------------------------------------------
def _c(N):
    gs = gspaces.Rot2dOnR2(N)
    irreps = [gs.irrep(1), gs.trivial_repr, gs.irrep(N // 2), gs.irrep(1)]
    return gs, [gs.trivial_repr, gs.regular_repr, gs.quotient_repr(2), gs.regular_repr], irreps


def _d(N):
    gs = gspaces.FlipRot2dOnR2(N)
    if N == 1:
        irreps, quotient = [gs.irrep(1, 0), gs.irrep(0, 0), gs.irrep(1, 0)], []
    else:
        irreps, quotient = [gs.irrep(1, 1), gs.irrep(0, 0), gs.irrep(1, 0), gs.irrep(1, 1)], [gs.quotient_repr((0, 1))]
    return gs, [gs.regular_repr, gs.trivial_repr] + quotient + [gs.regular_repr], irreps


def _so2():
    gs = gspaces.Rot2dOnR2(-1, maximum_frequency=3)
    return gs, [gs.trivial_repr, gs.trivial_repr], [gs.irrep(1), gs.trivial_repr, gs.irrep(3), gs.irrep(1)]


def _o2():
    gs = gspaces.FlipRot2dOnR2(-1, maximum_frequency=3)
    irreps = [gs.irrep(1, 1), gs.irrep(0, 0), gs.irrep(1, 0), gs.irrep(1, 2), gs.irrep(1, 1)]
    return gs, [gs.trivial_repr, gs.trivial_repr], irreps


def _induced(gs):
    G = gs.fibergroup
    if G.name.startswith("D"):
        sids = [((None, 4), (1,)), ((0, 2), (1, 1)), ((None, 4), (1,))] if G.order() == 8 else [((None, 1), (0,))]
    else:
        N = G.order()
        sids = [(N // 2, (1,)), (2, (1,)), (N // 2, (1,))]
    return [G.induced_representation(sid, G.subgroup(sid)[0].irrep(*i)) for sid, i in sids]


GROUPS = {"C4": lambda: _c(4), "C8": lambda: _c(8), "D1": lambda: _d(1), "D4": lambda: _d(4), "SO2": _so2,
          "O2": _o2}
FINITE = ["C4", "C8", "D1", "D4"]


def _types(name):
    """(gspace, permutation fields, any fields): the second mixes irreps with the permutation fields."""
    gs, pointwise, irreps = GROUPS[name]()
    return gs, nn.FieldType(gs, pointwise), nn.FieldType(gs, irreps + pointwise)


# (name, field kind, factory, groups)
MODULES = [
    ("MaxAA_k2", "pointwise", lambda t: nn.PointwiseMaxPoolAntialiased(t, 2), list(GROUPS)),
    ("MaxAA_k3s2p1", "pointwise", lambda t: nn.PointwiseMaxPoolAntialiased(t, 3, stride=2, padding=1, sigma=0.5),
     ["C8", "D4"]),
    ("MaxAA_k2s1d2", "pointwise", lambda t: nn.PointwiseMaxPoolAntialiased(t, 2, stride=1, dilation=2, sigma=0.3),
     ["C8", "D4"]),
    ("AvgAA_s2", "any", lambda t: nn.PointwiseAvgPoolAntialiased(t, 0.6, 2), list(GROUPS)),
    ("AvgAA_s3p0", "any", lambda t: nn.PointwiseAvgPoolAntialiased(t, 0.5, 3, padding=0), ["C8", "D4"]),
    ("NormMax_k2", "any", lambda t: nn.NormMaxPool(t, 2), list(GROUPS)),
    ("NormMax_k3s2p1", "any", lambda t: nn.NormMaxPool(t, 3, stride=2, padding=1), ["C8", "D4", "SO2", "O2"]),
    ("NormPool", "any", lambda t: nn.NormPool(t), list(GROUPS)),
    ("GroupPooling", "pointwise", lambda t: nn.GroupPooling(t), FINITE),
    ("InducedNormPool", "induced", lambda t: nn.InducedNormPool(t), ["C4", "C8", "D1", "D4"]),
]
MOD_IDS = [m[0] for m in MODULES]
EQUIVARIANCE_CASES = [pytest.param(name, kind, factory, group, id=f"{name}-{group}")
                      for name, kind, factory, groups in MODULES for group in groups]


def _module(kind, factory, group):
    gs, pointwise, anything = _types(group)
    t = {"pointwise": pointwise, "any": anything}.get(kind) or nn.FieldType(gs, _induced(gs))
    return factory(t)


def _input(t, size, dtype=torch.float32, batch=2):
    return nn.GeometricTensor(torch.randn(batch, t.size, size, size, dtype=dtype), t)


@pytest.mark.parametrize("dtype,mode", [pytest.param(torch.float64, "eval", id="f64-eval"),
                                        pytest.param(torch.float32, "train", id="f32-train"),
                                        pytest.param(torch.float32, "eval", id="f32-eval", marks=pytest.mark.slow),
                                        pytest.param(torch.float64, "train", id="f64-train", marks=pytest.mark.slow)])
@pytest.mark.parametrize("name,kind,factory,group", EQUIVARIANCE_CASES)
def test_equivariance(name, kind, factory, group, dtype, mode):
    module = _module(kind, factory, group).to(dtype).train(mode == "train")
    size = module._test_input_size()
    result = nn.assert_equivariant(module, _input(module.in_type, size, dtype))
    gs = module.in_type.gspace
    assert len(result) == len([g for g in gs.testing_elements if gs.is_grid_element(g)]) >= 2
    assert module.out_type in (module.in_type, nn.FieldType(gs, len(module.in_type) * [gs.trivial_repr]))


def test_test_sizes_are_the_symmetric_ones():
    """The sizes chosen for the checks tile the grid symmetrically (hand-derived)."""
    t = _types("C8")[1]
    assert nn.PointwiseMaxPoolAntialiased(t, 2)._test_input_size() % 2 == 0
    assert nn.PointwiseMaxPoolAntialiased(t, 3, 2, 1)._test_input_size() % 2 == 1      # (H + 4 - 3) even
    assert nn.PointwiseAvgPoolAntialiased(t, 0.6, 2)._test_input_size() % 2 == 1       # filter 5, pad 2
    assert nn.NormMaxPool(t, 3, 2, 1)._test_input_size() % 2 == 1                       # (H + 2 - 3) even
    assert nn.NormMaxPool(t, 2, 3)._test_input_size() % 3 == 2                          # (H - 2) % 3 == 0


@pytest.mark.parametrize("factory,size", [
    (lambda t: nn.PointwiseMaxPoolAntialiased(t, 2), 9),
    (lambda t: nn.PointwiseMaxPoolAntialiased(t, 3, stride=2, padding=1), 8),
    (lambda t: nn.PointwiseAvgPoolAntialiased(t, 0.6, 2), 8),
    (lambda t: nn.NormMaxPool(t, 2), 9),
    (lambda t: nn.NormMaxPool(t, 3, stride=2, padding=1), 8),
], ids=["MaxAA_k2", "MaxAA_k3s2p1", "AvgAA_s2", "NormMax_k2", "NormMax_k3s2p1"])
@pytest.mark.parametrize("group", ["C8", "D4"])
def test_equivariance_catches_an_asymmetric_grid(factory, size, group):
    """Windows that do not tile the grid symmetrically break equivariance: the checker must notice."""
    t = _types(group)[1]
    with pytest.raises(AssertionError, match="not equivariant"):
        nn.assert_equivariant(factory(t).to(torch.float64), _input(t, size, torch.float64))


# ---- values: e2cnn 0.2.3 and brute force ----------------------------------------------------------------
@pytest.mark.parametrize("key", list(generate_pooling.CASES))
def test_matches_e2cnn(key):
    module = generate_pooling.build(key, gspaces, nn)
    x = torch.from_numpy(generate_pooling.case_input(key, module.in_type.size))
    out = module(nn.GeometricTensor(x, module.in_type)).tensor.numpy()
    reference = np.load(DATA / "pooling.npz")[key]
    assert out.shape == reference.shape
    if "_aa_" in key:     # the blur filter is computed in float64 here, in float32 by e2cnn
        np.testing.assert_allclose(out, reference, rtol=0, atol=2e-6 * np.abs(reference).max())
    else:                 # a selection or a norm of the input values: the same float32 numbers
        np.testing.assert_array_equal(out, reference)


def _fields(t):
    return [(int(a), int(b)) for a, b in zip(t.fields_start, t.fields_end)]


def test_invariant_maps_against_loops():
    gs, pointwise, anything = _types("D4")
    x = _input(anything, 3, torch.float64)
    expected = torch.stack([x.tensor[:, a:b].norm(dim=1) for a, b in _fields(anything)], dim=1)
    torch.testing.assert_close(nn.NormPool(anything)(x).tensor, expected, rtol=1e-14, atol=0)
    x = _input(pointwise, 3, torch.float64)
    expected = torch.stack([x.tensor[:, a:b].amax(dim=1) for a, b in _fields(pointwise)], dim=1)
    assert torch.equal(nn.GroupPooling(pointwise)(x).tensor, expected)
    induced = nn.FieldType(gs, _induced(gs))
    x = _input(induced, 3, torch.float64)
    subfields = [2, 1, 2]       # sub-fields of (None, 4)-irrep 1 and of the (0, 2)-irrep (1, 1)
    expected = torch.stack([torch.stack([x.tensor[:, c:c + d].norm(dim=1) for c in range(a, b, d)]).amax(dim=0)
                            for (a, b), d in zip(_fields(induced), subfields)], dim=1)
    torch.testing.assert_close(nn.InducedNormPool(induced)(x).tensor, expected, rtol=1e-14, atol=0)


def test_max_pool_channels_against_a_loop():
    x = torch.randn(2, 12, 3, 4)
    expected = torch.stack([x[:, i:i + 3].amax(dim=1) for i in range(0, 12, 3)], dim=1)
    assert torch.equal(nn.MaxPoolChannels(3)(x), expected)
    assert torch.equal(_scripted(nn.MaxPoolChannels(3))(x), expected)
    assert torch.equal(nn.MaxPoolChannels(4)(torch.arange(8.0).reshape(2, 4)), torch.tensor([[3.0], [7.0]]))
    with pytest.raises(ValueError, match="divisible by kernel_size 5"):
        nn.MaxPoolChannels(5)(x)
    with pytest.raises(ValueError, match="kernel_size"):
        nn.MaxPoolChannels(0)
    assert not isinstance(nn.MaxPoolChannels(2), nn.EquivariantModule) and repr(nn.MaxPoolChannels(2)) == \
        "MaxPoolChannels(kernel_size=2)"


@pytest.mark.parametrize("kernel,stride,padding,size", [(2, 2, 0, 6), (3, 2, 1, 7), (3, 1, 1, 5), (2, 3, 1, 7)])
def test_norm_max_pool_against_a_loop(kernel, stride, padding, size):
    _, _, t = _types("C8")
    x = _input(t, size, torch.float64, batch=1)
    out = nn.NormMaxPool(t, kernel, stride, padding)(x).tensor[0]
    for a, b in _fields(t):
        field = F.pad(x.tensor[0, a:b], (padding,) * 4)        # zero vectors never win: a norm is >= 0
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                window = field[:, i * stride:i * stride + kernel, j * stride:j * stride + kernel].reshape(b - a, -1)
                best = window[:, window.norm(dim=0).argmax()]
                assert torch.equal(out[a:b, i, j], best)


def test_blur_filters_are_e2cnns_gaussians():
    t = _types("C8")[1]
    for module, sigma, radius in [(nn.PointwiseMaxPoolAntialiased(t, 2), 0.6, 2),
                                  (nn.PointwiseMaxPoolAntialiased(t, 2, sigma=1.0), 1.0, 4),
                                  (nn.PointwiseAvgPoolAntialiased(t, 0.6, 2), 0.6, 2),
                                  (nn.PointwiseAvgPoolAntialiased(t, 1.0, 1), 1.0, 3)]:
        r = np.arange(-radius, radius + 1)
        g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma ** 2))
        assert module.filter.shape == (t.size, 1, 2 * radius + 1, 2 * radius + 1)
        np.testing.assert_allclose(module.filter[5, 0].numpy(), g / g.sum(), rtol=1e-6)
    x = _input(t, 8)
    aa = nn.PointwiseMaxPoolAntialiased(t, 2, stride=2)      # dense max pool, then the blur with stride 2
    dense = F.max_pool2d(x.tensor, 2, 1)
    torch.testing.assert_close(aa(x).tensor, F.conv2d(dense, aa.filter, stride=2, padding=2, groups=t.size))


# ---- shapes, export, pickling, state ---------------------------------------------------------------------
EXPORTS = {"MaxAA_k2": torch.nn.Sequential, "MaxAA_k3s2p1": torch.nn.Sequential,
           "MaxAA_k2s1d2": torch.nn.Sequential, "AvgAA_s2": torch.nn.Conv2d, "AvgAA_s3p0": torch.nn.Conv2d,
           "NormMax_k2": FieldNormMaxPool2d, "NormMax_k3s2p1": FieldNormMaxPool2d, "NormPool": FieldReduce,
           "GroupPooling": FieldReduce, "InducedNormPool": FieldReduce}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name,kind,factory,groups", MODULES, ids=MOD_IDS)
def test_output_shape_and_export(name, kind, factory, groups, dtype):
    module = _module(kind, factory, "D4").to(dtype)
    exported = module.export()
    assert type(exported) is EXPORTS[name] and not isinstance(exported, nn.EquivariantModule)
    scripted = _scripted(exported)
    for size in (7, 8, 11):
        x = _input(module.in_type, size, dtype, batch=3)
        y = module(x)
        assert isinstance(y, nn.GeometricTensor) and y.type == module.out_type and y.tensor.dtype == dtype
        assert module.evaluate_output_shape(tuple(x.shape)) == tuple(y.shape)
        assert torch.equal(exported(x.tensor), y.tensor)
        assert torch.equal(scripted(x.tensor), y.tensor)
    if isinstance(exported, torch.nn.Sequential):
        assert [type(m) for m in exported] == [torch.nn.MaxPool2d, torch.nn.Conv2d]
    if isinstance(exported, torch.nn.Conv2d) or isinstance(exported, torch.nn.Sequential):
        assert not any(p.requires_grad for p in exported.parameters())


def test_group_pooling_export_of_equal_fields_is_max_pool_channels():
    gs = gspaces.Rot2dOnR2(8)
    t = nn.FieldType(gs, 3 * [gs.regular_repr])
    gpool = nn.GroupPooling(t)
    exported = gpool.export()
    assert type(exported) is nn.MaxPoolChannels and exported.kernel_size == 8
    x = _input(t, 5)
    assert torch.equal(exported(x.tensor), gpool(x).tensor)


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_ceil_mode_shapes(ceil_mode):
    t = _types("C8")[2]
    for module in (nn.NormMaxPool(t, 2, ceil_mode=ceil_mode), nn.NormMaxPool(t, 3, 2, 1, ceil_mode=ceil_mode),
                   nn.PointwiseMaxPoolAntialiased(_types("C8")[1], 3, 2, 1, ceil_mode=ceil_mode)):
        for size in (7, 8, 9):
            x = _input(module.in_type, size)
            shape = tuple(module(x).shape)
            assert module.evaluate_output_shape(tuple(x.shape)) == shape
            if isinstance(module, nn.NormMaxPool):    # torch's own rule, on the field norms
                reference = F.max_pool2d(x.tensor, module.kernel_size, module.stride, module.padding,
                                         ceil_mode=ceil_mode)
                assert shape[2:] == reference.shape[2:]


def test_invariant_maps_accept_any_number_of_spatial_dims():
    t = _types("C8")[2]
    x = nn.GeometricTensor(torch.randn(2, t.size), t)
    assert nn.NormPool(t)(x).shape == (2, len(t)) == nn.NormPool(t).evaluate_output_shape((2, t.size))
    x = nn.GeometricTensor(torch.randn(2, t.size, 3, 4, 5), t)
    assert nn.NormPool(t)(x).shape == (2, len(t), 3, 4, 5)


@pytest.mark.parametrize("name,kind,factory,groups", MODULES, ids=MOD_IDS)
def test_pickle_and_state_dict(name, kind, factory, groups):
    module = _module(kind, factory, "C8")
    clone = pickle.loads(pickle.dumps(module))
    x = _input(module.in_type, 8)
    assert clone.in_type == module.in_type and clone.out_type == module.out_type
    assert torch.equal(clone(x).tensor, module(x).tensor)
    assert list(module.train().state_dict()) == list(module.eval().state_dict()) == []   # derived buffers only
    exported = module.export()
    assert torch.equal(pickle.loads(pickle.dumps(exported))(x.tensor), exported(x.tensor))


# e2cnn 0.2.3's state_dict keys of these modules (all derived index buffers or the blur filter)
E2CNN_KEYS = [
    pytest.param("MaxAA_k2", ["filter"], id="MaxAA_k2"),
    pytest.param("AvgAA_s2", ["filter"], id="AvgAA_s2"),
    pytest.param("NormPool", ["in_indices_2", "out_indices_2", "in_indices_1", "out_indices_1"], id="NormPool"),
    pytest.param("GroupPooling", ["in_indices_1", "out_indices_1", "in_indices_8", "out_indices_8"],
                 id="GroupPooling"),
    pytest.param("InducedNormPool", ["in_indices_(4, 2)", "out_indices_(4, 2)", "in_indices_(2, 1)",
                                     "out_indices_(2, 1)"], id="InducedNormPool"),
    pytest.param("NormMax_k2", ["indices_2", "indices_1"], id="NormMax_k2"),
]


@pytest.mark.parametrize("name,keys", E2CNN_KEYS)
def test_e2cnn_state_dict_loads(name, keys):
    from e2layers.checkpoint import load_e2cnn_state_dict
    _, kind, factory, _ = MODULES[MOD_IDS.index(name)]
    module = torch.nn.Sequential(_module(kind, factory, "C8"))
    load_e2cnn_state_dict(module, {f"0.{k}": torch.zeros(2, dtype=torch.long) for k in keys})


def test_gradients_flow():
    t = _types("C8")[2]
    x = _input(t, 4)
    x.tensor.requires_grad_(True)
    (nn.NormMaxPool(t, 2)(x).tensor.sum() + nn.NormPool(t)(x).tensor.sum()).backward()
    assert x.tensor.grad is not None and x.tensor.grad.abs().sum() > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
@pytest.mark.parametrize("name,kind,factory,groups", MODULES, ids=MOD_IDS)
def test_cuda(name, kind, factory, groups):
    module = _module(kind, factory, "D4").to(torch.float64)
    x = _input(module.in_type, 8, torch.float64)
    y = module(x).tensor
    gpu = module.to("cuda")
    out = gpu(nn.GeometricTensor(x.tensor.cuda(), x.type)).tensor
    assert out.is_cuda
    torch.testing.assert_close(out.cpu(), y, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gpu.export()(x.tensor.cuda()).cpu(), y, rtol=1e-12, atol=1e-12)


# ---- errors ---------------------------------------------------------------------------------------------
def test_group_pooling_rejects_irreps_and_says_what_to_use():
    so2 = gspaces.Rot2dOnR2(-1, maximum_frequency=2)
    with pytest.raises(ValueError, match="GroupPooling") as info:
        nn.GroupPooling(nn.FieldType(so2, [so2.trivial_repr, so2.irrep(1)]))
    assert "irrep_1" in str(info.value) and "NormPool" in str(info.value)
    c8 = gspaces.Rot2dOnR2(8)
    with pytest.raises(ValueError, match="irrep_2.*NormPool"):
        nn.GroupPooling(nn.FieldType(c8, [c8.regular_repr, c8.irrep(2)]))


@pytest.mark.parametrize("factory", [lambda t: nn.PointwiseMaxPoolAntialiased(t, 2)])
def test_pointwise_pool_rejects_irreps(factory):
    gs = gspaces.FlipRot2dOnR2(4)
    with pytest.raises(ValueError, match="irrep_1,1") as info:
        factory(nn.FieldType(gs, [gs.regular_repr, gs.irrep(1, 1)]))
    assert "pointwise" in str(info.value) and "NormMaxPool" in str(info.value)


def test_induced_norm_pool_rejects_other_fields():
    gs = gspaces.Rot2dOnR2(8)
    with pytest.raises(ValueError, match="InducedNormPool.*'regular'.*NormPool"):
        nn.InducedNormPool(nn.FieldType(gs, _induced(gs) + [gs.regular_repr]))


def test_argument_errors():
    gs, t, anything = _types("C8")
    with pytest.raises(TypeError, match="in_type"):
        nn.NormPool([gs.regular_repr])
    for make in (lambda: nn.NormMaxPool(gs.regular_repr, 2), lambda: nn.GroupPooling("x"),
                 lambda: nn.InducedNormPool(None), lambda: nn.PointwiseAvgPoolAntialiased([], 0.6, 2),
                 lambda: nn.PointwiseMaxPoolAntialiased(0, 2)):
        with pytest.raises(TypeError, match="in_type"):
            make()
    for sigma, error in ((0, ValueError), (-1.0, ValueError), ("0.6", TypeError), (True, TypeError)):
        with pytest.raises(error, match="sigma"):
            nn.PointwiseMaxPoolAntialiased(t, 2, sigma=sigma)
        with pytest.raises(error, match="sigma"):
            nn.PointwiseAvgPoolAntialiased(t, sigma, 2)
    with pytest.raises(ValueError, match="kernel_size"):
        nn.NormMaxPool(anything, 0)
    with pytest.raises(ValueError, match="stride"):
        nn.PointwiseMaxPoolAntialiased(t, 2, stride=(1, 2, 3))
    with pytest.raises(ValueError, match="stride"):
        nn.PointwiseAvgPoolAntialiased(t, 0.6, 0)
    with pytest.raises(ValueError, match="padding"):
        nn.PointwiseAvgPoolAntialiased(t, 0.6, 2, padding=-1)
    with pytest.raises(ValueError, match="padding"):
        nn.NormMaxPool(anything, 2, padding=2)
    with pytest.raises(ValueError, match="input_shape"):
        nn.NormPool(anything).evaluate_output_shape((1, 3, 8, 8))
    with pytest.raises(ValueError, match="input_shape"):
        nn.PointwiseAvgPoolAntialiased(t, 0.6, 2).evaluate_output_shape((1, t.size, 8))
    with pytest.raises(ValueError, match="reduction"):
        FieldReduce([2, 2], "mean")


def test_forward_type_errors():
    gs, t, anything = _types("C8")
    for module in (nn.PointwiseMaxPoolAntialiased(t, 2), nn.PointwiseAvgPoolAntialiased(t, 0.6, 2),
                   nn.NormMaxPool(t, 2), nn.NormPool(t), nn.GroupPooling(t)):
        with pytest.raises(ValueError) as info:       # a GeometricTensor of another type
            module(_input(anything, 4))
        assert repr(t) in str(info.value) and repr(anything) in str(info.value)
        with pytest.raises(TypeError, match="GeometricTensor"):
            module(torch.randn(1, t.size, 4, 4))
    with pytest.raises(ValueError, match="H, W"):
        nn.NormMaxPool(t, 2)(nn.GeometricTensor(torch.randn(1, t.size, 4), t))
