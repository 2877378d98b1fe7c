"""e2layers.nn.pointwise: point-wise non-linearities, pooling, dropout, IdentityModule and SequentialModule.

Equivariance is measured with ``nn.assert_equivariant`` under the grid-exact elements, in float32 (< 1e-5)
and float64 (< 1e-10); exports must give identical outputs.
"""
import pickle

import pytest
import torch

from e2layers import gspaces, nn

from spaces import GSPACES, FINITE

#: float64 (exactness) in the quick subset, float32 as well in the full suite
DTYPES = [pytest.param(torch.float32, id="f32", marks=pytest.mark.slow), pytest.param(torch.float64, id="f64")]


pytestmark = pytest.mark.usefixtures("private_cache")


def _type(gs):
    return nn.FieldType(gs, [gs.trivial_repr, gs.regular_repr, gs.regular_repr])


# (name, factory on a field type, spatial size of the test input)
MODULES = [
    ("ReLU", lambda t: nn.ReLU(t), 7),
    ("ELU", lambda t: nn.ELU(t, alpha=0.7), 7),
    ("LeakyReLU", lambda t: nn.LeakyReLU(t, 0.2), 7),
    ("p_relu", lambda t: nn.PointwiseNonLinearity(t, "p_relu"), 7),
    ("p_elu", lambda t: nn.PointwiseNonLinearity(t, "p_elu"), 7),
    ("p_sigmoid", lambda t: nn.PointwiseNonLinearity(t, "p_sigmoid"), 7),
    ("p_tanh", lambda t: nn.PointwiseNonLinearity(t, "p_tanh"), 7),
    ("MaxPool2", lambda t: nn.PointwiseMaxPool(t, 2), 8),
    ("MaxPool3s3", lambda t: nn.PointwiseMaxPool(t, 3, stride=3), 9),
    ("MaxPool3pad", lambda t: nn.PointwiseMaxPool(t, 3, stride=1, padding=1), 7),
    ("MaxPoolDil", lambda t: nn.PointwiseMaxPool(t, 3, stride=1, padding=1, dilation=2), 9),
    ("AvgPool2", lambda t: nn.PointwiseAvgPool(t, 2), 8),
    ("AvgPool3pad", lambda t: nn.PointwiseAvgPool(t, 3, stride=2, padding=1), 9),
    ("AdaptiveAvg", lambda t: nn.PointwiseAdaptiveAvgPool(t, 3), 9),
    ("AdaptiveMax", lambda t: nn.PointwiseAdaptiveMaxPool(t, (2, 2)), 8),
    ("Dropout", lambda t: nn.PointwiseDropout(t, p=0.3).eval(), 7),
    ("Identity", lambda t: nn.IdentityModule(t), 7),
]
MOD_IDS = [m[0] for m in MODULES]


def _input(t, size, dtype=torch.float32, batch=2):
    return nn.GeometricTensor(torch.randn(batch, t.size, size, size, dtype=dtype), t)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("gs_name", FINITE)
@pytest.mark.parametrize("name,factory,size", MODULES, ids=MOD_IDS)
def test_equivariance(name, factory, size, gs_name, dtype):
    gs = GSPACES[gs_name]()
    t = _type(gs)
    module = factory(t).to(dtype)
    x = _input(t, size, dtype)
    result = nn.assert_equivariant(module, x)
    assert len(result) == len([g for g in gs.testing_elements if gs.is_grid_element(g)])


def test_equivariance_catches_a_broken_window():
    """A window that does not tile the grid symmetrically breaks equivariance: the checker must notice."""
    gs = gspaces.Rot2dOnR2(4)
    t = _type(gs)
    with pytest.raises(AssertionError, match="not equivariant"):
        nn.assert_equivariant(nn.PointwiseMaxPool(t, 2), _input(t, 9))


@pytest.mark.parametrize("name,factory,size", MODULES, ids=MOD_IDS)
def test_output_shape_and_export(name, factory, size):
    t = _type(gspaces.FlipRot2dOnR2(4))
    module = factory(t)
    for s in (size, size + 3):
        x = _input(t, s, batch=3)
        y = module(x)
        assert isinstance(y, nn.GeometricTensor) and y.type == module.out_type
        assert module.evaluate_output_shape(tuple(x.shape)) == tuple(y.shape)
        exported = module.export()
        assert not isinstance(exported, nn.EquivariantModule)
        assert torch.equal(exported(x.tensor), y.tensor)


def test_values_match_torch():
    """Independent expected values: the torch functional ops on the raw tensor."""
    t = _type(gspaces.Rot2dOnR2(4))
    x = _input(t, 8)
    cases = [(nn.ReLU(t), torch.relu), (nn.ELU(t, alpha=0.5), lambda a: torch.nn.functional.elu(a, 0.5)),
             (nn.PointwiseNonLinearity(t, "p_tanh"), torch.tanh),
             (nn.LeakyReLU(t, 0.25), lambda a: torch.where(a > 0, a, 0.25 * a)),
             (nn.PointwiseNonLinearity(t, "p_sigmoid"), torch.sigmoid),
             (nn.PointwiseMaxPool(t, 2), lambda a: a.reshape(2, 9, 4, 2, 4, 2).amax(dim=(3, 5))),
             (nn.PointwiseAvgPool(t, 2), lambda a: a.reshape(2, 9, 4, 2, 4, 2).mean(dim=(3, 5))),
             (nn.PointwiseAdaptiveAvgPool(t, 1), lambda a: a.mean(dim=(2, 3), keepdim=True))]
    for module, expected in cases:
        torch.testing.assert_close(module(x).tensor, expected(x.tensor))


def test_dropout_training_and_inplace():
    t = _type(gspaces.Rot2dOnR2(4))
    drop = nn.PointwiseDropout(t, p=0.5)
    x = _input(t, 16)
    y = drop(x).tensor
    zeros = (y == 0).float().mean().item()
    assert 0.4 < zeros < 0.6
    kept = y != 0
    torch.testing.assert_close(y[kept], 2 * x.tensor[kept])
    assert torch.equal(drop.eval()(x).tensor, x.tensor)
    relu = nn.ReLU(t, inplace=True)
    x2 = _input(t, 4)
    relu(x2)
    assert (x2.tensor >= 0).all()


@pytest.mark.parametrize("factory", [lambda t: nn.ReLU(t), lambda t: nn.ELU(t),
                                     lambda t: nn.PointwiseNonLinearity(t), lambda t: nn.PointwiseMaxPool(t, 2),
                                     lambda t: nn.PointwiseAvgPool(t, 2), lambda t: nn.PointwiseAdaptiveAvgPool(t, 1),
                                     lambda t: nn.PointwiseAdaptiveMaxPool(t, 1),
                                     lambda t: nn.PointwiseDropout(t)])
def test_rejects_irrep_fields(factory):
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1)])
    with pytest.raises(ValueError, match="irrep_1") as info:
        factory(t)
    assert "pointwise" in str(info.value) and "NormNonLinearity" in str(info.value)
    so2 = gspaces.Rot2dOnR2(-1, maximum_frequency=2)
    with pytest.raises(ValueError, match="GatedNonLinearity"):
        factory(nn.FieldType(so2, [so2.trivial_repr, so2.irrep(1)]))


def test_identity_accepts_any_field():
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.irrep(1), gs.regular_repr])
    nn.assert_equivariant(nn.IdentityModule(t), _input(t, 7))


def test_argument_errors():
    gs = gspaces.Rot2dOnR2(4)
    t = _type(gs)
    with pytest.raises(TypeError, match="in_type"):
        nn.ReLU([gs.regular_repr])
    with pytest.raises(ValueError, match="function"):
        nn.PointwiseNonLinearity(t, "n_relu")
    with pytest.raises(ValueError, match="kernel_size"):
        nn.PointwiseMaxPool(t, 0)
    with pytest.raises(ValueError, match="stride"):
        nn.PointwiseAvgPool(t, 2, stride=(1, 2, 3))
    with pytest.raises(ValueError, match="padding"):
        nn.PointwiseMaxPool(t, 2, padding=2)
    with pytest.raises(ValueError, match="output_size"):
        nn.PointwiseAdaptiveAvgPool(t, -1)
    with pytest.raises(ValueError, match="p must"):
        nn.PointwiseDropout(t, p=1.5)
    with pytest.raises(ValueError, match="input_shape"):
        nn.PointwiseMaxPool(t, 2).evaluate_output_shape((1, 3, 8, 8))


def test_forward_type_errors():
    gs = gspaces.Rot2dOnR2(4)
    t = _type(gs)
    other = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.regular_repr])
    for module in (nn.ReLU(t), nn.PointwiseMaxPool(t, 2), nn.IdentityModule(t), nn.SequentialModule(nn.ReLU(t))):
        with pytest.raises(ValueError) as info:       # a GeometricTensor of another type (as R2Conv)
            module(_input(other, 4))
        assert repr(t) in str(info.value) and repr(other) in str(info.value)
        with pytest.raises(TypeError, match="GeometricTensor"):
            module(torch.randn(1, t.size, 4, 4))


@pytest.mark.parametrize("name,factory,size", MODULES, ids=MOD_IDS)
def test_pickle(name, factory, size):
    t = _type(gspaces.FlipRot2dOnR2(4))
    module = factory(t)
    clone = pickle.loads(pickle.dumps(module))
    x = _input(t, size)
    assert clone.in_type == module.in_type and clone.out_type == module.out_type
    assert torch.equal(clone(x).tensor, module(x).tensor)


def _network(gs):
    t_in = nn.FieldType(gs, 3 * [gs.trivial_repr])
    t_hid = nn.FieldType(gs, 4 * [gs.regular_repr])
    t_out = nn.FieldType(gs, 2 * [gs.regular_repr])
    return nn.SequentialModule(nn.R2Conv(t_in, t_hid, kernel_size=3, padding=1), nn.ReLU(t_hid, inplace=True),
                               nn.PointwiseMaxPool(t_hid, 2), nn.R2Conv(t_hid, t_out, kernel_size=3, padding=1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sequential_network(dtype):
    gs = gspaces.FlipRot2dOnR2(4)
    net = _network(gs).to(dtype)
    assert net.in_type.size == 3 and net.out_type.size == 16
    x = _input(net.in_type, 8, dtype)
    y = net(x)
    assert net.evaluate_output_shape(tuple(x.shape)) == tuple(y.shape) == (2, 16, 4, 4)
    nn.assert_equivariant(net, x)
    exported = net.export()
    assert type(exported) is torch.nn.Sequential
    assert [type(m) for m in exported] == [torch.nn.Conv2d, torch.nn.ReLU, torch.nn.MaxPool2d, torch.nn.Conv2d]
    with torch.no_grad():
        # two summation orders of the same convolutions: rounding-level, relative to the output's size
        scale = y.tensor.abs().max().item()
        torch.testing.assert_close(exported(x.tensor.clone()), y.tensor, rtol=0,
                                   atol=16 * torch.finfo(dtype).eps * scale)
    clone = pickle.loads(pickle.dumps(net))
    torch.testing.assert_close(clone(x).tensor, y.tensor)


def test_sequential_add_module_and_type_mismatch():
    gs = gspaces.Rot2dOnR2(4)
    t = _type(gs)
    other = nn.FieldType(gs, [gs.regular_repr])
    seq = nn.SequentialModule(nn.ReLU(t))
    seq.add_module("pool", nn.PointwiseMaxPool(t, 2))
    assert list(seq._modules) == ["0", "pool"] and seq.out_type == t
    with pytest.raises(ValueError, match="'bad'.*in_type.*'pool'"):
        seq.add_module("bad", nn.ReLU(other))
    with pytest.raises(ValueError, match="in_type"):
        nn.SequentialModule(nn.ReLU(t), nn.ReLU(other))
    with pytest.raises(TypeError, match="EquivariantModule"):
        nn.SequentialModule(nn.ReLU(t), torch.nn.ReLU())
    assert list(seq.export()._modules) == ["0", "pool"]
