"""e2layers.nn.angle_errors: a model's equivariance error over the circle of angles, and its plain baseline.

Expected values come from outside the code under test: quarter turns are exact on the grid (round-off only),
a group without the angle's element gives NaN, the rotation convention is checked against ``torch.rot90`` and
against a rotation written here with ``grid_sample``, invariant outputs against the model's own outputs
recorded during the measurement, and the baseline against the model it was made from.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from basisgen.errors import InvalidTypeError, InvalidValueError
from e2layers import gspaces, nn
from e2layers.nn.angle_errors import AngleCurve, angle_errors, plain_baseline
from examples import e2wrn

pytestmark = pytest.mark.usefixtures("private_cache")

QUARTER_TURNS = [0.0, 90.0, 180.0, 270.0]
EXACT = 1e-12           # float64 round-off at the quarter turns


def _trivial(gs, n=1):
    return nn.FieldType(gs, n * [gs.trivial_repr])


SPACES = {
    "C8": lambda: gspaces.Rot2dOnR2(8),
    "D4": lambda: gspaces.FlipRot2dOnR2(4),
    "SO2": lambda: gspaces.Rot2dOnR2(-1, maximum_frequency=4),
    "O2": lambda: gspaces.FlipRot2dOnR2(-1, maximum_frequency=4),
}
IRREPS = {"SO2": [(0,), (1,), (1,)], "O2": [(0, 0), (1, 1), (1, 1)]}


def _hidden(name, gs):
    """Two regular fields of a finite group, a few irreps of SO(2) and O(2)."""
    if name in IRREPS:
        return nn.FieldType(gs, [gs.irrep(*i) for i in IRREPS[name]])
    return nn.FieldType(gs, 2 * [gs.regular_repr])


def _conv(name):
    gs = SPACES[name]()
    return nn.R2Conv(_trivial(gs), _hidden(name, gs), 5, padding=2)


def _finite(curve, degrees):
    value = curve.at(degrees)
    assert math.isfinite(value), (curve.label, degrees, value)
    return value


# ---- exact quarter turns, approximate elsewhere ---------------------------------------------------------
@pytest.mark.parametrize("name", ["C8", "D4", "SO2", "O2"])
def test_a_convolution_is_exact_at_quarter_turns_and_close_between(name):
    conv = _conv(name)
    curve = angle_errors(conv, (2, 1, 17, 17), QUARTER_TURNS + [45.0])
    for degrees in QUARTER_TURNS:
        assert _finite(curve, degrees) < EXACT
    if name == "D4":        # regular fields of D4: no rotation by 45 degrees to turn their fibres with
        assert math.isnan(curve.at(45))
    else:                   # the filters are sampled on the grid: close to, but not exactly, equivariant
        assert 1e-6 < _finite(curve, 45) < 0.1


def test_float32_quarter_turns_are_exact_to_its_round_off():
    curve = angle_errors(_conv("C8"), (1, 1, 17, 17), [90, 45], dtype=torch.float32)
    assert curve.at(90) < 1e-5 and 1e-4 < curve.at(45) < 0.1


def test_angles_wrap_and_negative_angles_turn_clockwise():
    conv = _conv("C8")
    curve = angle_errors(conv, (1, 1, 17, 17), [-90, 450, -45, 315])
    assert curve.at(-90) < EXACT and curve.at(450) < EXACT
    assert curve.errors[2] == pytest.approx(curve.errors[3], rel=1e-9)    # -45 and 315 are one rotation


def test_c4_non_trivial_fields_are_nan_where_c4_has_no_rotation():
    gs = gspaces.Rot2dOnR2(4)
    regular = nn.FieldType(gs, [gs.regular_repr])
    out = angle_errors(nn.R2Conv(_trivial(gs), regular, 3, padding=1), (1, 1, 11, 11), [0, 45, 90, 135, 180])
    assert np.isnan(out.errors).tolist() == [False, True, False, True, False]
    assert np.nanmax(out.errors) < EXACT
    # a non-trivial input cannot be turned by 45 degrees either, though the output is trivial
    into = angle_errors(nn.R2Conv(regular, _trivial(gs), 3, padding=1), (1, 4, 11, 11), [45, 90])
    assert math.isnan(into.at(45)) and into.at(90) < EXACT
    # trivial fields turn by any angle (the error says how far a C4-invariant filter is from an isotropic one)
    trivial = angle_errors(nn.R2Conv(_trivial(gs), _trivial(gs), 3, padding=1), (1, 1, 11, 11), [45])
    assert _finite(trivial, 45) > 0


# ---- the rotation's convention, against an independent rotation ----------------------------------------
def _rotate(x, degrees):
    """``x`` turned counter-clockwise (as ``torch.rot90(x, 1, (-2, -1))`` for 90) about its centre, bicubic."""
    n = x.shape[-1]
    c = (n - 1) / 2
    theta = math.radians(degrees)
    v, u = torch.meshgrid(torch.arange(n, dtype=x.dtype) - c, torch.arange(n, dtype=x.dtype) - c, indexing="ij")
    # output pixel (u, v) (column, row about the centre) reads the input at (cos u - sin v, sin u + cos v)
    grid = torch.stack([math.cos(theta) * u - math.sin(theta) * v, math.sin(theta) * u + math.cos(theta) * v], -1)
    grid = (grid / c).expand(x.shape[0], n, n, 2)
    return F.grid_sample(x, grid, mode="bicubic", padding_mode="zeros", align_corners=True)


class _Recorder(torch.nn.Module):
    """A plain model of invariant (batch, 2) output that hands every input it sees to ``record``."""

    def __init__(self, record):
        super().__init__()
        self.record = record            # a function: the model's deep copy records into the same list

    def forward(self, x):
        self.record(x.detach().clone())
        left = x[..., :, : x.shape[-1] // 2]        # the left half: not invariant under any rotation
        return torch.stack([x.sum((-3, -2, -1)), left.sum((-3, -2, -1))], 1)


def test_the_input_turns_counter_clockwise_as_rot90_and_the_output_is_compared_directly():
    seen = []
    assert _rotate(torch.eye(5).view(1, 1, 5, 5).double(), 90).allclose(
        torch.eye(5).view(1, 1, 5, 5).double().rot90(1, (-2, -1)), atol=1e-12)      # the helper's own convention
    curve = angle_errors(_Recorder(seen.append), (1, 1, 21, 21), [90, 45])
    x, at_90, at_45 = seen
    assert torch.equal(at_90, x.rot90(1, (-2, -1)))
    # the spline's 45 degrees against grid_sample's: close, while the clockwise turn is far away
    disc = torch.as_tensor(np.hypot(*np.mgrid[-10:11, -10:11]) <= 8)
    scale = x.abs().max()
    assert (at_45 - _rotate(x, 45))[..., disc].abs().max() < 0.05 * scale
    assert (at_45 - _rotate(x, -45))[..., disc].abs().max() > 0.3 * scale
    # the invariant output (batch, 2): f(R x) against f(x), as computed here from the recorded inputs
    model = _Recorder(lambda t: None)
    for degrees, turned in ((90, at_90), (45, at_45)):
        expected = (model(turned) - model(x)).abs().max() / model(x).abs().max()
        assert curve.at(degrees) == pytest.approx(expected.item(), rel=1e-12)
    assert curve.at(90) > 0.01           # the left half's sum changes: the comparison can fail


# ---- invariant outputs -----------------------------------------------------------------------------------
class _PooledLogits(torch.nn.Module):
    """C8 features, group-pooled, averaged over the plane and mixed: invariant (batch, 3) logits."""

    def __init__(self):
        super().__init__()
        gs = gspaces.Rot2dOnR2(8)
        self.in_type = _trivial(gs)
        hidden = nn.FieldType(gs, 2 * [gs.regular_repr])
        self.features = nn.SequentialModule(nn.R2Conv(self.in_type, hidden, 5, padding=2), nn.ReLU(hidden),
                                            nn.GroupPooling(hidden))
        self.head = torch.nn.Linear(2, 3)

    def forward(self, x):
        y = self.features(nn.GeometricTensor(x, self.in_type)).tensor
        return self.head(F.adaptive_avg_pool2d(y, 1).flatten(1))


def test_invariant_logits_are_compared_directly():
    model = _PooledLogits()
    curve = angle_errors(model, (2, 1, 17, 17), QUARTER_TURNS + [45.0])
    assert all(curve.at(d) < EXACT for d in QUARTER_TURNS)
    assert 1e-6 < _finite(curve, 45) < 0.2
    baseline = angle_errors(plain_baseline(model), (2, 1, 17, 17), [90.0, 180.0])
    assert baseline.errors.min() > 1e-3


def test_invariant_regular_fibres_turn_by_the_group_element():
    gs = gspaces.Rot2dOnR2(8)
    regular = nn.FieldType(gs, [gs.regular_repr])
    model = nn.SequentialModule(nn.R2Conv(_trivial(gs), regular, 5, padding=2),
                                nn.PointwiseAdaptiveAvgPool(regular, 1)).double().eval()
    curve = angle_errors(model, (1, 1, 17, 17), [90, 45])
    assert curve.at(90) < EXACT
    assert 1e-6 < _finite(curve, 45)        # the plane's mean is small: relatively far less close than the plane
    # without turning the fibres the outputs differ: the (batch, 8, 1, 1) output is not invariant itself
    x = torch.randn(1, 1, 17, 17, dtype=torch.float64)
    y, y_turned = (model(nn.GeometricTensor(t, model.in_type)).tensor for t in (x, x.rot90(1, (-2, -1))))
    assert (y_turned - y).abs().max() > 0.01 * y.abs().max()


# ---- the plain baseline ----------------------------------------------------------------------------------
def _relu_avg_c8():
    gs = gspaces.Rot2dOnR2(8)
    hidden = nn.FieldType(gs, 2 * [gs.regular_repr])
    return nn.SequentialModule(nn.R2Conv(_trivial(gs), hidden, 5, padding=2), nn.ReLU(hidden),
                               nn.PointwiseAvgPool(hidden, 3, stride=1, padding=1)), [45.0]


def _two_convs_so2():
    gs = SPACES["SO2"]()
    hidden = _hidden("SO2", gs)
    return nn.SequentialModule(nn.R2Conv(_trivial(gs), hidden, 5, padding=2),
                               nn.R2Conv(hidden, hidden, 3, padding=1)), [30.0, 45.0]


@pytest.mark.parametrize("build", [_relu_avg_c8, _two_convs_so2], ids=["C8-relu-avgpool", "SO2-two-convs"])
def test_the_plain_baseline_is_far_less_equivariant(build):
    model, between = build()
    angles = [0.0, 90.0] + between
    ours = angle_errors(model, (2, 1, 17, 17), angles)
    plain = angle_errors(plain_baseline(model), (2, 1, 17, 17), angles, label="plain")
    assert plain.label == "plain" and ours.label == "SequentialModule"
    assert ours.at(0) < EXACT and plain.at(0) < EXACT          # no rotation: both are exact
    assert ours.at(90) < EXACT < 0.1 < plain.at(90)
    for degrees in between:
        assert plain.at(degrees) > 10 * ours.at(degrees) > 0, degrees


def _mixed_network():
    """A plain network holding equivariant layers and plain ones (a Linear that the baseline redraws)."""
    gs = gspaces.FlipRot2dOnR2(4)
    t_in, hidden = _trivial(gs, 3), nn.FieldType(gs, [gs.regular_repr])
    return torch.nn.Sequential(nn.TensorToGeometric(t_in), nn.R2Conv(t_in, hidden, 3, padding=1), nn.ReLU(hidden),
                               nn.InnerBatchNorm(hidden), nn.GeometricToTensor(), torch.nn.Flatten(),
                               torch.nn.Linear(8 * 7 * 7, 4))


@pytest.mark.parametrize("build", [lambda: _relu_avg_c8()[0], _mixed_network], ids=["equivariant", "mixed"])
def test_plain_baseline_leaves_the_model_and_the_random_state_alone(build):
    model = build().train()
    before = {name: value.clone() for name, value in model.state_dict().items()}
    pointers = {t.data_ptr() for t in model.parameters()}
    rng = torch.get_rng_state()
    plain = plain_baseline(model, seed=3)
    assert torch.equal(torch.get_rng_state(), rng)
    after = model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert not pointers & {t.data_ptr() for t in plain.parameters()}
    assert model.training and plain.training
    assert not any(isinstance(m, nn.EquivariantModule) for m in plain.modules())
    # the weights are drawn again from the seed: the same seed gives the same baseline, another one not
    again, other = plain_baseline(model, seed=3), plain_baseline(model, seed=4)
    weights = [p for p in plain.parameters() if p.requires_grad]
    assert all(torch.equal(a, b) for a, b in zip(weights, (p for p in again.parameters() if p.requires_grad)))
    assert not all(torch.equal(a, b) for a, b in zip(weights, (p for p in other.parameters() if p.requires_grad)))
    def filters(network):           # the layers drawn again (a batch norm's weights stay as they are)
        return [m.weight for m in network.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]

    exported, drawn = filters(nn.export(model)), filters(plain)
    assert len(exported) == len(drawn) >= 1
    assert not any(torch.equal(a, b) for a, b in zip(exported, drawn))


def test_angle_errors_leaves_the_model_and_the_random_state_alone():
    model, _ = _relu_avg_c8()
    model.train()
    before = {name: value.clone() for name, value in model.state_dict().items()}
    rng = torch.get_rng_state()
    angle_errors(model, (1, 1, 11, 11), [0, 45])
    assert torch.equal(torch.get_rng_state(), rng) and model.training
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) and before[k].dtype == after[k].dtype for k in before)


# ---- the E(2) Wide ResNet example ------------------------------------------------------------------------
def test_the_wide_resnet_example_is_exact_at_quarter_turns_and_its_baseline_is_not():
    model = e2wrn.wrn(10, 1, "C8")
    angles = QUARTER_TURNS + [45.0]
    ours = angle_errors(model, (1, 3, 33, 33), angles, label="e2wrn")
    plain = angle_errors(plain_baseline(model), (1, 3, 33, 33), angles)
    assert ours.label == "e2wrn" and plain.label == "WideResNet"
    for degrees in QUARTER_TURNS[1:]:
        assert ours.at(degrees) < EXACT and plain.at(degrees) > 1e-3, degrees
    assert ours.at(0) < EXACT and plain.at(0) < EXACT
    assert 0 < _finite(ours, 45) < 1 and 0 < _finite(plain, 45) < 1


# ---- arguments -------------------------------------------------------------------------------------------
def _c4_conv():
    gs = gspaces.Rot2dOnR2(4)
    return nn.R2Conv(_trivial(gs), nn.FieldType(gs, [gs.regular_repr]), 3, padding=1)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(input_shape=(1, 1, 9)), InvalidValueError, "input_shape"),
    (dict(input_shape=(1, 1, 0, 9)), InvalidValueError, "input_shape"),
    (dict(input_shape="1119"), InvalidValueError, "input_shape"),
    (dict(input_shape=(1, 1, 9.0, 9)), InvalidValueError, "input_shape"),
    (dict(input_shape=(1, 2, 9, 9)), InvalidValueError, r"input_shape has 2 channels.*model\.in_type"),
    (dict(angles=[]), InvalidValueError, "angles"),
    (dict(angles=45), InvalidValueError, "angles"),
    (dict(angles=[0, float("nan")]), InvalidValueError, r"angles\[1\]"),
    (dict(angles=[0, math.inf]), InvalidValueError, r"angles\[1\]"),
    (dict(angles=["45"]), InvalidTypeError, r"angles\[0\]"),
    (dict(in_type="trivial"), InvalidTypeError, "in_type"),
    (dict(dtype=torch.int64), InvalidTypeError, "dtype"),
    (dict(seed=-1), InvalidValueError, "seed"),
    (dict(label=3), InvalidTypeError, "label"),
    (dict(progress="yes"), InvalidTypeError, "progress"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    arguments = dict(input_shape=(1, 1, 9, 9), angles=[0, 90])
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        angle_errors(_c4_conv(), arguments.pop("input_shape"), arguments.pop("angles"), **arguments)


def test_a_model_must_be_a_module_and_in_type_must_fit_the_channels():
    with pytest.raises(InvalidTypeError, match="model must be a torch.nn.Module"):
        angle_errors(lambda x: x, (1, 1, 9, 9))
    with pytest.raises(InvalidTypeError, match="model must be a torch.nn.Module"):
        plain_baseline("a network")
    with pytest.raises(InvalidTypeError, match="seed"):
        plain_baseline(_c4_conv(), seed=1.5)
    gs = gspaces.Rot2dOnR2(4)
    with pytest.raises(InvalidValueError, match=r"input_shape has 1 channels, but in_type"):
        angle_errors(torch.nn.Conv2d(1, 2, 3), (1, 1, 9, 9), in_type=nn.FieldType(gs, [gs.regular_repr]))


def test_an_output_of_other_shape_is_refused():
    with pytest.raises(InvalidValueError, match="output must be"):
        angle_errors(torch.nn.Flatten(0), (1, 1, 9, 9), [0])


# ---- the curve and progress ------------------------------------------------------------------------------
def test_the_curve_gives_the_error_at_its_own_angles_only():
    curve = AngleCurve("model", [0.0, 45.0, 90.0], [0.0, 0.02, 1e-16])
    assert curve.at(45) == 0.02 and curve.at(-270) == 1e-16 and curve.at(360) == 0.0
    for degrees in (30, 45.5, 44.999):
        with pytest.raises(InvalidValueError, match="degrees must be one of the curve's angles"):
            curve.at(degrees)
    with pytest.raises(InvalidValueError, match="degrees"):
        curve.at(float("nan"))
    with pytest.raises(InvalidValueError, match="one length"):
        AngleCurve("model", [0.0, 45.0], [0.0])
    with pytest.raises(InvalidTypeError, match="label"):
        AngleCurve(None, [0.0], [0.0])


def test_progress_is_called_once_per_angle_and_the_default_angles_cover_the_circle():
    calls = []
    curve = angle_errors(_c4_conv(), (1, 1, 7, 7), [0, 45, 90, 180], progress=calls.append)
    assert calls == [1, 2, 3, 4] and curve.label == "R2Conv"
    calls.clear()
    curve = angle_errors(_c4_conv(), (1, 1, 7, 7), progress=calls.append)
    assert curve.angles.tolist() == list(range(0, 360, 5)) and calls == list(range(1, 73))
    assert np.isnan(curve.errors).sum() == 72 - 4          # C4's regular fields: the quarter turns only
