"""Every module of e2layers.nn under careless input: empty batches, state changed behind the module's back
in eval mode, non-finite numbers and strings where numbers are expected, and arguments of the wrong kind.

The table :data:`FACTORIES` builds every equivariant module of ``nn.__all__`` (a test fails when a new
module is missing from it), so each property is checked on all of them.
"""
import math

import numpy as np
import pytest
import torch

from basisgen.errors import InvalidTypeError, InvalidValueError
from e2layers import group, gspaces, nn
from rounding import assert_close_up_to_rounding

GS = gspaces.Rot2dOnR2(8)
G = GS.fibergroup
REG, TRIV, I1, I2 = GS.regular_repr, GS.trivial_repr, GS.irrep(1), GS.irrep(2)
INDUCED = GS.induced_repr(4, G.subgroup(4)[0].irrep(1))
QUOTIENT = GS.quotient_repr(4)


def T(reprs):
    return nn.FieldType(GS, list(reprs))


TREG, TMIX, TIRR = T(2 * [REG]), T([TRIV, I1, I2, I1]), T([I1, I2])

# one instance of every equivariant module of e2layers.nn, on the C8 field types it accepts
FACTORIES = {
    "BranchingModule": lambda: nn.BranchingModule(TMIX, ["a", "b", "a", "b"]),
    "ConcatenatedNonLinearity": lambda: nn.ConcatenatedNonLinearity(TREG),
    "DisentangleModule": lambda: nn.DisentangleModule(T([group.directsum([I1, TRIV]), I2])),
    "ELU": lambda: nn.ELU(TREG),
    "FieldDropout": lambda: nn.FieldDropout(TMIX, 0.3),
    "FieldNorm": lambda: nn.FieldNorm(TMIX),
    "FourierELU": lambda: nn.FourierELU(GS, 2, G.bl_irreps(2)),
    "FourierPointwise": lambda: nn.FourierPointwise(GS, 2, G.bl_irreps(1), function="p_relu"),
    "GNormBatchNorm": lambda: nn.GNormBatchNorm(TMIX),
    "GatedNonLinearity1": lambda: nn.GatedNonLinearity1(T([TRIV, TRIV, I1, I2])),
    "GatedNonLinearity2": lambda: nn.GatedNonLinearity2((T([TRIV, TRIV]), TIRR)),
    "GroupPooling": lambda: nn.GroupPooling(TREG),
    "IIDBatchNorm2d": lambda: nn.IIDBatchNorm2d(TMIX),
    "IdentityModule": lambda: nn.IdentityModule(TMIX),
    "InducedGatedNonLinearity1": lambda: nn.InducedGatedNonLinearity1(T([QUOTIENT, QUOTIENT, INDUCED, INDUCED])),
    "InducedNormBatchNorm": lambda: nn.InducedNormBatchNorm(T([INDUCED, INDUCED])),
    "InducedNormNonLinearity": lambda: nn.InducedNormNonLinearity(T([INDUCED, INDUCED]), "n_sigmoid"),
    "InducedNormPool": lambda: nn.InducedNormPool(T([INDUCED, INDUCED])),
    "InnerBatchNorm": lambda: nn.InnerBatchNorm(T([REG, TRIV, REG])),
    "LeakyReLU": lambda: nn.LeakyReLU(TREG, 0.1),
    "Linear": lambda: nn.Linear(TREG, TMIX),
    "MaskModule": lambda: nn.MaskModule(TREG, 8, margin=1),
    "MergeModule": lambda: nn.MergeModule([(nn.GatedNonLinearity2((T([TRIV, TRIV]), TIRR)), ["g", "v"]),
                                           (nn.NormNonLinearity(T([I1]), "n_sigmoid"), "n")]),
    "MultipleModule": lambda: nn.MultipleModule(TMIX, ["a", "b", "b", "b"],
                                                [(nn.ELU(T([TRIV])), "a"), (nn.NormNonLinearity(T([I1, I2, I1])), "b")]),
    "NormBatchNorm": lambda: nn.NormBatchNorm(TIRR),
    "NormMaxPool": lambda: nn.NormMaxPool(TMIX, 3, stride=1, padding=1),
    "NormNonLinearity": lambda: nn.NormNonLinearity(TIRR, "n_relu"),
    "NormPool": lambda: nn.NormPool(TIRR),
    "PointwiseAdaptiveAvgPool": lambda: nn.PointwiseAdaptiveAvgPool(TREG, 4),
    "PointwiseAdaptiveMaxPool": lambda: nn.PointwiseAdaptiveMaxPool(TREG, 4),
    "PointwiseAvgPool": lambda: nn.PointwiseAvgPool(TREG, 3, stride=1, padding=1),
    "PointwiseAvgPoolAntialiased": lambda: nn.PointwiseAvgPoolAntialiased(TREG, sigma=0.6, stride=2),
    "PointwiseDropout": lambda: nn.PointwiseDropout(TREG, 0.1),
    "PointwiseMaxPool": lambda: nn.PointwiseMaxPool(TREG, 2),
    "PointwiseMaxPoolAntialiased": lambda: nn.PointwiseMaxPoolAntialiased(TREG, 3, stride=2, padding=1),
    "PointwiseNonLinearity": lambda: nn.PointwiseNonLinearity(TREG, "p_tanh"),
    "R2Conv": lambda: nn.R2Conv(TREG, TMIX, 3, padding=1),
    "R2ConvTransposed": lambda: nn.R2ConvTransposed(TMIX, TREG, 3, padding=1),
    "R2Diffop": lambda: nn.R2Diffop(TREG, TMIX, 3, padding=1),
    "R2Upsampling": lambda: nn.R2Upsampling(TMIX, 2),
    "ReLU": lambda: nn.ReLU(TREG),
    "ReshuffleModule": lambda: nn.ReshuffleModule(TMIX, [3, 1, 0, 2]),
    "RestrictionModule": lambda: nn.RestrictionModule(TMIX, 4),
    "SequentialModule": lambda: nn.SequentialModule(nn.R2Conv(TREG, TREG, 3, padding=1), nn.InnerBatchNorm(TREG),
                                                    nn.ReLU(TREG)),
    "VectorFieldNonLinearity": lambda: nn.VectorFieldNonLinearity(TREG),
    "GatedNonLinearityUniform": lambda: nn.GatedNonLinearityUniform(T(2 * [group.directsum([TRIV, TRIV, I1, I2])])),
    "TensorProductModule": lambda: nn.TensorProductModule(T([I1, I1]), T([I2, I2])),
    "QuotientFourierPointwise": lambda: nn.QuotientFourierPointwise(GS, 2, 2, G.bl_irreps(2), function="p_relu"),
    "QuotientFourierELU": lambda: nn.QuotientFourierELU(GS, 4, 2, G.bl_irreps(2)),
    "SubgroupPooling": lambda: nn.SubgroupPooling(TREG, 2),
    "IIDBatchNorm1d": lambda: nn.IIDBatchNorm1d(TMIX),
}
#: a module that does not take images (B, C, H, W) but point clouds: test_r2pointconv.py covers these properties
NOT_ON_IMAGES = {"R2PointConv"}


pytestmark = pytest.mark.usefixtures("module_cache")


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)
    np.random.seed(0)


def _inputs(module, batch, size=8, requires_grad=False):
    """Random inputs of the module's input type(s): positional arguments for ``module(*inputs)``."""
    def tensor(t):
        return nn.GeometricTensor(torch.randn(batch, t.size, size, size, requires_grad=requires_grad), t)
    if isinstance(module, nn.MergeModule):
        return ({label: tensor(t) for label, t in module.in_types.items()},)
    types = module.in_type if isinstance(module.in_type, tuple) else (module.in_type,)
    return tuple(tensor(t) for t in types)


def _leaves(inputs):
    for x in inputs:
        yield from (x.values() if isinstance(x, dict) else [x])


def _outputs(y):
    """The output tensors of a module (a GeometricTensor, or a dict of them), by label."""
    return {k: v.tensor for k, v in y.items()} if isinstance(y, dict) else {"": y.tensor}


def _float_state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items() if v.is_floating_point()}


def test_the_table_covers_every_module():
    modules = {name for name in nn.__all__ if isinstance(getattr(nn, name), type)
               and issubclass(getattr(nn, name), nn.EquivariantModule) and name != "EquivariantModule"
               and getattr(nn, name).__name__ == name}          # escnn's "...2D" aliases are the same classes
    assert modules - NOT_ON_IMAGES == set(FACTORIES)
    for name, factory in FACTORIES.items():
        assert type(factory()).__name__ == name


# ---- empty batches ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_every_module_accepts_an_empty_batch(name, mode):
    """A (0, C, H, W) input gives an output of the shape a batch of 2 gives, with batch 0, in train and eval mode;
    a training-mode empty batch leaves the running statistics as they were (no NaN from a mean over nothing),
    and backward through it works."""
    module = FACTORIES[name]().train(mode == "train")
    with torch.no_grad():
        full = _outputs(module.eval()(*_inputs(module, 2)))       # eval: a batch of 2 must not move the state
    module.train(mode == "train")
    before = _float_state(module)
    inputs = _inputs(module, 0, requires_grad=True)
    out = _outputs(module(*inputs))
    assert {k: tuple(v.shape) for k, v in out.items()} == {k: (0,) + tuple(v.shape[1:]) for k, v in full.items()}
    after = _float_state(module)
    for key, value in after.items():
        assert torch.isfinite(value).all(), key
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)
    loss = sum(v.sum() for v in out.values())
    if loss.requires_grad:
        loss.backward()
        for p in module.parameters():
            assert p.grad is None or torch.isfinite(p.grad).all()


@pytest.mark.parametrize("name", ["InnerBatchNorm", "IIDBatchNorm2d", "GNormBatchNorm", "NormBatchNorm",
                                  "InducedNormBatchNorm", "FieldNorm"])
def test_normalisations_after_an_empty_batch(name):
    """An empty training batch changes nothing: the next batches give what they give without it (the batch count
    included, which sets the weights of a cumulative average)."""
    plain, seen_empty = FACTORIES[name](), FACTORIES[name]()
    batches = [_inputs(plain, 3) for _ in range(2)]
    for module in (plain, seen_empty):
        module.train()
        if module is seen_empty:
            module(*_inputs(module, 0))
        with torch.no_grad():
            outs = [module(*x).tensor for x in batches]
        module.eval()
        outs.append(module(*batches[0]).tensor)
        module.outputs = outs
    for a, b in zip(plain.outputs, seen_empty.outputs):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for key, value in plain.state_dict().items():
        torch.testing.assert_close(seen_empty.state_dict()[key], value, rtol=0, atol=0)


def test_inner_batch_norm_empty_batch_channels_last():
    bn = FACTORIES["InnerBatchNorm"]()
    x = torch.randn(0, bn.in_type.size, 5, 5).to(memory_format=torch.channels_last)
    for mode in (True, False):
        assert bn.train(mode)(nn.GeometricTensor(x, bn.in_type)).shape == x.shape


# ---- eval mode follows the module's state -----------------------------------------------------------------
STATEFUL = sorted(name for name, f in FACTORIES.items() if _float_state(f()))


@pytest.mark.parametrize("name", STATEFUL)
def test_eval_forward_follows_state_changed_through_data(name):
    """Every module with parameters or running statistics: after an eval-mode forward, changing them through
    ``.data`` (which bumps no version counter, as an EMA update does) changes the next eval-mode output to what a
    fresh module with the new state gives."""
    module = FACTORIES[name]()
    with torch.no_grad():
        module.train()(*_inputs(module, 4))            # running statistics away from their initial values
        module.eval()
        x = _inputs(module, 2)
        first = _outputs(module(*x))
        for t in module.state_dict().values():
            if t.is_floating_point():
                t.data.mul_(0.5).add_(0.25)            # keeps running variances positive
        second = _outputs(module(*x))
        fresh = FACTORIES[name]()
        fresh.load_state_dict(module.state_dict())
        expected = _outputs(fresh.eval()(*x))
    assert any((first[k] - expected[k]).abs().max() > 1e-4 for k in expected), "the change must show"
    for k in expected:
        assert_close_up_to_rounding(second[k], expected[k], rtol=1e-5)


# ---- clear errors for bad numbers --------------------------------------------------------------------------
# (module, argument, factory taking the argument's value, a valid value)
NUMERIC_ARGUMENTS = [
    ("ELU", "alpha", lambda v: nn.ELU(TREG, alpha=v), 0.5),
    ("LeakyReLU", "negative_slope", lambda v: nn.LeakyReLU(TREG, negative_slope=v), 0.1),
    ("PointwiseDropout", "p", lambda v: nn.PointwiseDropout(TREG, p=v), 0.2),
    ("FieldDropout", "p", lambda v: nn.FieldDropout(TMIX, p=v), 0.2),
    ("InnerBatchNorm", "eps", lambda v: nn.InnerBatchNorm(TREG, eps=v), 1e-3),
    ("InnerBatchNorm", "momentum", lambda v: nn.InnerBatchNorm(TREG, momentum=v), 0.2),
    ("IIDBatchNorm2d", "eps", lambda v: nn.IIDBatchNorm2d(TMIX, eps=v), 1e-3),
    ("IIDBatchNorm2d", "momentum", lambda v: nn.IIDBatchNorm2d(TMIX, momentum=v), 0.2),
    ("GNormBatchNorm", "eps", lambda v: nn.GNormBatchNorm(TMIX, eps=v), 1e-3),
    ("GNormBatchNorm", "momentum", lambda v: nn.GNormBatchNorm(TMIX, momentum=v), 0.2),
    ("NormBatchNorm", "eps", lambda v: nn.NormBatchNorm(TIRR, eps=v), 1e-3),
    ("NormBatchNorm", "momentum", lambda v: nn.NormBatchNorm(TIRR, momentum=v), 0.2),
    ("InducedNormBatchNorm", "eps", lambda v: nn.InducedNormBatchNorm(T([INDUCED]), eps=v), 1e-3),
    ("InducedNormBatchNorm", "momentum", lambda v: nn.InducedNormBatchNorm(T([INDUCED]), momentum=v), 0.2),
    ("FieldNorm", "eps", lambda v: nn.FieldNorm(TMIX, eps=v), 1e-3),
    ("MaskModule", "margin", lambda v: nn.MaskModule(TREG, 8, margin=v), 1.5),
    ("MaskModule", "S", lambda v: nn.MaskModule(TREG, v), 8),
    ("PointwiseAvgPoolAntialiased", "sigma", lambda v: nn.PointwiseAvgPoolAntialiased(TREG, sigma=v, stride=2), 0.6),
    ("PointwiseAvgPoolAntialiased", "stride", lambda v: nn.PointwiseAvgPoolAntialiased(TREG, 0.6, stride=v), 2),
    ("PointwiseAvgPoolAntialiased", "padding",
     lambda v: nn.PointwiseAvgPoolAntialiased(TREG, 0.6, stride=2, padding=v), 1),
    ("PointwiseMaxPoolAntialiased", "sigma", lambda v: nn.PointwiseMaxPoolAntialiased(TREG, 3, sigma=v), 0.6),
    ("PointwiseMaxPoolAntialiased", "kernel_size", lambda v: nn.PointwiseMaxPoolAntialiased(TREG, v), 3),
    ("PointwiseMaxPool", "kernel_size", lambda v: nn.PointwiseMaxPool(TREG, v), 2),
    ("PointwiseMaxPool", "stride", lambda v: nn.PointwiseMaxPool(TREG, 2, stride=v), 1),
    ("PointwiseMaxPool", "padding", lambda v: nn.PointwiseMaxPool(TREG, 3, padding=v), 1),
    ("PointwiseMaxPool", "dilation", lambda v: nn.PointwiseMaxPool(TREG, 3, dilation=v), 2),
    ("PointwiseAvgPool", "kernel_size", lambda v: nn.PointwiseAvgPool(TREG, v), 2),
    ("PointwiseAdaptiveAvgPool", "output_size", lambda v: nn.PointwiseAdaptiveAvgPool(TREG, v), 2),
    ("PointwiseAdaptiveMaxPool", "output_size", lambda v: nn.PointwiseAdaptiveMaxPool(TREG, v), 2),
    ("NormMaxPool", "kernel_size", lambda v: nn.NormMaxPool(TMIX, v), 2),
    ("NormMaxPool", "stride", lambda v: nn.NormMaxPool(TMIX, 3, stride=v), 2),
    ("R2Upsampling", "scale_factor", lambda v: nn.R2Upsampling(TMIX, scale_factor=v), 1.5),
    ("R2Upsampling", "size", lambda v: nn.R2Upsampling(TMIX, size=v), 12),
    ("R2Conv", "kernel_size", lambda v: nn.R2Conv(TREG, TREG, v), 3),
    ("R2Conv", "padding", lambda v: nn.R2Conv(TREG, TREG, 3, padding=v), 1),
    ("R2Conv", "stride", lambda v: nn.R2Conv(TREG, TREG, 3, stride=v), 2),
    ("R2Conv", "dilation", lambda v: nn.R2Conv(TREG, TREG, 3, dilation=v), 2),
    ("R2Conv", "groups", lambda v: nn.R2Conv(TREG, TREG, 3, groups=v), 2),
    ("R2Diffop", "kernel_size", lambda v: nn.R2Diffop(TREG, TREG, v), 3),
    ("R2Diffop", "smoothing", lambda v: nn.R2Diffop(TREG, TREG, 3, smoothing=v), 1.0),
    ("R2Diffop", "angle_offset", lambda v: nn.R2Diffop(TREG, TREG, 3, angle_offset=v), 0.5),
    ("R2ConvTransposed", "output_padding",
     lambda v: nn.R2ConvTransposed(TREG, TREG, 3, stride=2, output_padding=v), 1),
    ("FourierPointwise", "channels", lambda v: nn.FourierPointwise(GS, v, G.bl_irreps(1)), 2),
    ("NormNonLinearity", "bias", lambda v: nn.NormNonLinearity(TIRR, bias=v), True),
    ("InducedNormNonLinearity", "bias", lambda v: nn.InducedNormNonLinearity(T([INDUCED]), bias=v), False),
]
BAD_NUMBERS = [math.nan, math.inf, -math.inf, "0.5", "1", 1 + 2j]


@pytest.mark.parametrize("module,argument,factory,good", NUMERIC_ARGUMENTS,
                         ids=[f"{m}-{a}" for m, a, _, _ in NUMERIC_ARGUMENTS])
def test_numeric_arguments_reject_non_finite_numbers_and_strings(module, argument, factory, good):
    assert type(factory(good)).__name__ == module              # the factory itself is sound
    for value in BAD_NUMBERS:
        with pytest.raises((InvalidValueError, InvalidTypeError)) as caught:
            factory(value)
        assert argument in str(caught.value), (value, str(caught.value))


# flags: a string's truth is its length, so "no" would mean True
FLAGS = [
    ("inplace", lambda v: nn.ReLU(TREG, inplace=v)),
    ("inplace", lambda v: nn.ELU(TREG, inplace=v)),
    ("inplace", lambda v: nn.LeakyReLU(TREG, inplace=v)),
    ("inplace", lambda v: nn.PointwiseDropout(TREG, inplace=v)),
    ("inplace", lambda v: nn.FieldDropout(TMIX, inplace=v)),
    ("inplace", lambda v: nn.FourierPointwise(GS, 2, G.bl_irreps(1), inplace=v)),
    ("normalize", lambda v: nn.FourierPointwise(GS, 2, G.bl_irreps(1), normalize=v)),
    ("ceil_mode", lambda v: nn.PointwiseMaxPool(TREG, 2, ceil_mode=v)),
    ("align_corners", lambda v: nn.R2Upsampling(TMIX, 2, align_corners=v)),
    ("affine", lambda v: nn.InnerBatchNorm(TREG, affine=v)),
    ("track_running_stats", lambda v: nn.IIDBatchNorm2d(TMIX, track_running_stats=v)),
    ("pixelwise", lambda v: nn.FieldNorm(TMIX, pixelwise=v)),
]


@pytest.mark.parametrize("argument,factory", FLAGS, ids=[f"{i}-{a}" for i, (a, _) in enumerate(FLAGS)])
def test_flags_reject_strings(argument, factory):
    factory(False)
    for value in ("no", "False", 0.5, math.nan):
        with pytest.raises(InvalidTypeError, match=argument):
            factory(value)


def test_field_type_needs_a_gspace():
    for gspace in (None, "C8", G):
        with pytest.raises(InvalidTypeError, match="gspace"):
            nn.FieldType(gspace, [REG])
        with pytest.raises(InvalidTypeError, match="gspace"):
            nn.FieldType.parse(gspace, "regular")


def test_equivariance_checks_need_an_equivariant_module():
    for function in (nn.assert_equivariant, nn.equivariance_errors):
        for module in (torch.nn.ReLU(), None, TREG):
            with pytest.raises(InvalidTypeError, match="module must be an EquivariantModule"):
                function(module)


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, "1e-3"])
def test_equivariance_tolerances_must_be_finite_numbers(value):
    relu, branching = nn.ReLU(TREG), FACTORIES["BranchingModule"]()
    calls = [(lambda: relu.check_equivariance(atol=value), "atol"),
             (lambda: relu.check_equivariance(rtol=value), "rtol"),
             (lambda: FACTORIES["R2Conv"]().check_equivariance(atol=value), "atol"),
             (lambda: branching.check_equivariance(rtol=value), "rtol"),
             (lambda: nn.assert_equivariant(relu, tolerance=value), "tolerance")]
    for call, argument in calls:
        with pytest.raises((InvalidValueError, InvalidTypeError), match=argument):
            call()


def test_initialisers_need_a_basis_expansion():
    for init in (nn.init.generalized_he_init, nn.init.deltaorthonormal_init):
        with pytest.raises(InvalidTypeError, match="basisexpansion"):
            init(torch.zeros(3), None)


def test_a_huge_blur_is_refused_up_front():
    """An anti-aliasing sigma that would build a blur filter larger than MAX_KERNEL_SIZE is refused."""
    from basisgen import limits
    from e2layers import gspaces, nn
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    with pytest.raises(limits.LimitExceededError, match="MAX_KERNEL_SIZE"):
        nn.PointwiseAvgPoolAntialiased(t, sigma=1e6, stride=2)
    with pytest.raises(limits.LimitExceededError, match="MAX_KERNEL_SIZE"):
        nn.PointwiseMaxPoolAntialiased(t, kernel_size=2, sigma=1e6)
