"""e2layers.nn core: FieldType, GeometricTensor, R2Conv, R2ConvTransposed, R2Upsampling, init, checkpoints.

Equivariance is measured as ``max |f(g.x) - g.f(x)| / max |f(g.x)|`` under the elements that map the
pixel grid onto itself (exact, no interpolation), in float32 (< 1e-5) and float64 (< 1e-10).
"""
import copy
import io
import math
import pickle

import numpy as np
import pytest
import torch

from e2layers import gspaces, nn
from e2layers.checkpoint import load_e2cnn_state_dict
from rounding import assert_close_up_to_rounding
from grid_equivariance import assert_grid_equivariant
from spaces import gspace_table

#: float64 (exactness) in the quick subset, float32 as well in the full suite
DTYPES = [pytest.param(torch.float32, id="f32", marks=pytest.mark.slow), pytest.param(torch.float64, id="f64")]



pytestmark = pytest.mark.usefixtures("module_cache")


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)
    np.random.seed(0)


# ---- gspaces and field types ------------------------------------------------------------------------------
# more orders than the shared table (C2, D2, D8: the convolutions' grid cases)
GSPACES = gspace_table("C1", "C2", "C4", "C8", "D1", "D2", "D4", "D8", "SO2", "O2")


def _fields(name: str, gs):
    """(input fields, output fields): trivial, irrep, regular and quotient fields where the group has them."""
    if name == "C1":
        return [gs.trivial_repr, gs.regular_repr], [gs.regular_repr, gs.trivial_repr]
    if name in ("SO2",):
        return [gs.trivial_repr, gs.irrep(1), gs.irrep(2)], [gs.irrep(1), gs.trivial_repr, gs.irrep(3)]
    if name in ("O2",):
        return ([gs.trivial_repr, gs.irrep(1, 1), gs.irrep(1, 0), gs.irrep(1, 2)],
                [gs.irrep(1, 1), gs.trivial_repr, gs.irrep(1, 0)])
    if name.startswith("C"):
        N = int(name[1:])
        irrep = gs.irrep(1)
        quotient = [gs.quotient_repr(2)] if N > 2 else []
        return ([gs.trivial_repr, irrep, gs.regular_repr] + quotient,
                [gs.regular_repr, irrep] + quotient + [gs.trivial_repr])
    N = int(name[1:])
    irrep = gs.irrep(1, 0) if N == 1 else gs.irrep(1, 1)
    quotient = [gs.quotient_repr((None, 2)), gs.quotient_repr((0, 1))] if N >= 4 else []
    return ([gs.trivial_repr, irrep, gs.regular_repr] + quotient,
            [gs.regular_repr, irrep] + quotient + [gs.trivial_repr])


def _types(name: str):
    gs = GSPACES[name]()
    fin, fout = _fields(name, gs)
    return nn.FieldType(gs, fin), nn.FieldType(gs, fout)




# ---- getting started ------------------------------------------------------------------------------------
def test_getting_started():
    r2_act = gspaces.Rot2dOnR2(N=8)
    feat_type_in = nn.FieldType(r2_act, 3 * [r2_act.trivial_repr])
    feat_type_out = nn.FieldType(r2_act, 10 * [r2_act.regular_repr])
    conv = nn.R2Conv(feat_type_in, feat_type_out, kernel_size=5)
    x = nn.GeometricTensor(torch.randn(16, 3, 32, 32), feat_type_in)
    y = conv(x)
    assert isinstance(y, nn.GeometricTensor) and y.type == feat_type_out
    assert y.shape == (16, 80, 28, 28)
    assert conv.evaluate_output_shape(x.shape) == tuple(y.shape)
    # as e2cnn: C8 triv -> reg at k=5 has 11 elements per field pair
    assert conv.weights.shape == (3 * 10 * 11,)
    assert conv.bias.shape == (10,)        # one trivial irrep per regular field


def test_basis_dimensions_match_e2cnn():
    # measured with e2cnn
    for name, k, expected in [("C4", 3, 24), ("C8", 5, 88), ("D4", 7, 144), ("D8", 3, 96)]:
        gs = GSPACES[name]()
        t = nn.FieldType(gs, [gs.regular_repr])
        assert nn.R2Conv(t, t, k).weights.numel() == expected


# ---- equivariance -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel_size", [3, 4])
@pytest.mark.parametrize("group", list(GSPACES))
def test_r2conv_equivariant(group, kernel_size, dtype):
    fin, fout = _types(group)
    conv = nn.R2Conv(fin, fout, kernel_size, padding=1)
    errors = assert_grid_equivariant(conv, dtype)
    assert len(errors) == {"C1": 1, "C2": 2, "D1": 2, "D2": 4}.get(group, 4 if group in ("C4", "C8", "SO2") else 8)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel_size", [3, 4])
@pytest.mark.parametrize("group", list(GSPACES))
def test_r2conv_transposed_equivariant(group, kernel_size, dtype):
    fin, fout = _types(group)
    conv = nn.R2ConvTransposed(fin, fout, kernel_size, stride=2, padding=1)
    assert_grid_equivariant(conv, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
@pytest.mark.parametrize("group", ["C4", "D4", "O2"])
def test_r2upsampling_equivariant(group, mode, dtype):
    fin, _ = _types(group)
    assert_grid_equivariant(nn.R2Upsampling(fin, scale_factor=2, mode=mode), dtype)
    # nearest picks floor(i * scale): symmetric only for an integer ratio
    size = 16 if mode == "nearest" else 17
    assert_grid_equivariant(nn.R2Upsampling(fin, size=(size, size), mode=mode), dtype, size=8)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [
    dict(padding=2, padding_mode="reflect"), dict(padding=2, padding_mode="replicate"),
    dict(padding=2, padding_mode="circular"), dict(padding=(2, 2), padding_mode="zeros"),
    dict(dilation=2, padding=1), dict(stride=2, padding=1), dict(stride=3),
    dict(sigma=0.5, rings=[0.0, 1.0, 2.0]), dict(frequencies_cutoff=1.5), dict(maximum_offset=1),
    dict(basis_filter=lambda attr: attr["radius"] > 0.0), dict(bias=False),
])
@pytest.mark.parametrize("group", ["C4", "D4"])
def test_r2conv_options_equivariant(group, options, dtype):
    fin, fout = _types(group)
    conv = nn.R2Conv(fin, fout, 5, **options)
    assert_grid_equivariant(conv, dtype)


@pytest.mark.parametrize("transposed", [False, True])
def test_groups_equivariant(transposed):
    gs = gspaces.FlipRot2dOnR2(4)
    fields = [gs.regular_repr, gs.irrep(1, 1), gs.trivial_repr]
    t_in = nn.FieldType(gs, 3 * fields)
    t_out = nn.FieldType(gs, 3 * [gs.regular_repr, gs.trivial_repr])
    cls = nn.R2ConvTransposed if transposed else nn.R2Conv
    conv = cls(t_in, t_out, 3, groups=3)
    if transposed:
        assert conv.expand_parameters()[0].shape == (t_out.size // 3, t_in.size, 3, 3)
    else:
        assert conv.expand_parameters()[0].shape == (t_out.size, t_in.size // 3, 3, 3)
    assert_grid_equivariant(conv, torch.float32)
    assert_grid_equivariant(conv, torch.float64)


def test_axis_matters():
    """The kernel basis follows the gspace's reflection axis; a mismatched axis is caught."""
    gs0 = gspaces.FlipRot2dOnR2(4, axis=0.0)
    t = nn.FieldType(gs0, [gs0.regular_repr])
    conv = nn.R2Conv(t, t, 3)
    assert_grid_equivariant(conv, torch.float64)
    gs1 = gspaces.FlipRot2dOnR2(4)
    with pytest.raises(ValueError, match="gspace"):
        nn.R2Conv(t, nn.FieldType(gs1, [gs1.regular_repr]), 3)


def test_not_equivariant_is_detected():
    """The check can fail: a plain conv between regular fields is not equivariant."""
    fin, fout = _types("C4")
    conv = nn.R2Conv(fin, fout, 3)
    with torch.no_grad():
        conv.weights.add_(0)       # fine so far
    plain = conv.export()
    with torch.no_grad():
        plain.weight.normal_()

    class Plain(nn.EquivariantModule):
        def __init__(self):
            super().__init__()
            self.in_type, self.out_type, self.conv = fin, fout, plain

        def forward(self, x):
            return nn.GeometricTensor(self.conv(x.tensor), self.out_type)

        def evaluate_output_shape(self, s):
            return s

    with pytest.raises(AssertionError, match="not equivariant"):
        nn.assert_equivariant(Plain())
    with pytest.raises(AssertionError, match="not equivariant"):
        Plain().check_equivariance()


def test_assert_equivariant_takes_several_inputs_and_dict_outputs():
    """Modules with a tuple of input types (GatedNonLinearity2) and dict outputs (BranchingModule); a module
    that mixes its inputs' roles non-equivariantly is caught."""
    gs = gspaces.FlipRot2dOnR2(4)
    gates, gated = nn.FieldType(gs, 2 * [gs.trivial_repr]), nn.FieldType(gs, [gs.irrep(1, 1), gs.regular_repr])
    gate = nn.GatedNonLinearity2((gates, gated)).double()
    x = (nn.GeometricTensor(torch.randn(2, 2, 6, 6, dtype=torch.float64), gates),
         nn.GeometricTensor(torch.randn(2, 10, 6, 6, dtype=torch.float64), gated))
    assert len(nn.assert_equivariant(gate, x)) == 8
    assert len(nn.assert_equivariant(gate)) == 8           # random inputs of both types
    t = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1, 1), gs.trivial_repr])
    assert len(nn.assert_equivariant(nn.BranchingModule(t, ["a", "b", "a"]))) == 8

    class Swapped(nn.GatedNonLinearity2):
        def forward(self, gates, input):      # gates the fields with a spatially flipped gate: not equivariant
            return super().forward(nn.GeometricTensor(gates.tensor.flip(-1), gates.type), input)

    with pytest.raises(AssertionError, match="not equivariant"):
        nn.assert_equivariant(Swapped((gates, gated)).double(), x)


def test_check_equivariance_api():
    fin, fout = _types("D4")
    conv = nn.R2Conv(fin, fout, 5, padding=2, stride=2)
    result = conv.check_equivariance()
    assert [g for g, _ in result] == gspaces.FlipRot2dOnR2(4).grid_elements()
    assert all(err < 1e-5 for _, err in result)
    up = nn.R2ConvTransposed(fin, fout, 4, stride=2)
    assert len(up.check_equivariance(atol=1e-5, rtol=1e-5)) == 8
    assert len(nn.R2Upsampling(fin, scale_factor=3).check_equivariance()) == 8


# ---- shapes -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("options", [dict(), dict(padding=(1, 2)), dict(stride=(2, 3), padding=(0, 1)),
                                     dict(dilation=2, padding=3, stride=2), dict(padding=(2, 1), padding_mode="reflect")])
def test_evaluate_output_shape(options):
    fin, fout = _types("C4")
    conv = nn.R2Conv(fin, fout, 3, **options)
    x = nn.GeometricTensor(torch.randn(2, fin.size, 13, 11), fin)
    assert conv.evaluate_output_shape(x.shape) == tuple(conv(x).shape)


@pytest.mark.parametrize("options", [dict(), dict(stride=2, padding=1, output_padding=1), dict(padding=(1, 2)),
                                     dict(stride=(2, 3), dilation=2)])
def test_transposed_output_shape(options):
    fin, fout = _types("C4")
    conv = nn.R2ConvTransposed(fin, fout, 4, **options)
    x = nn.GeometricTensor(torch.randn(2, fin.size, 7, 6), fin)
    assert conv.evaluate_output_shape(x.shape) == tuple(conv(x).shape)


def test_upsampling_output_shape():
    fin, _ = _types("C4")
    x = nn.GeometricTensor(torch.randn(2, fin.size, 7, 6), fin)
    for up in (nn.R2Upsampling(fin, scale_factor=2), nn.R2Upsampling(fin, size=(9, 13), mode="nearest"),
               nn.R2Upsampling(fin, size=10)):
        assert up.evaluate_output_shape(x.shape) == tuple(up(x).shape)


# ---- state, export, pickling ------------------------------------------------------------------------------
def _conv():
    fin, fout = _types("D4")
    return nn.R2Conv(fin, fout, 3, padding=1)


def test_state_dict_keys_and_round_trip():
    conv = _conv()
    keys_train = list(conv.state_dict())
    conv.eval()
    x = nn.GeometricTensor(torch.randn(2, conv.in_type.size, 9, 9), conv.in_type)
    with torch.no_grad():
        y = conv(x).tensor
    assert list(conv.state_dict()) == keys_train == ["bias", "weights"]
    assert [n for n, _ in conv.named_parameters()] == ["bias", "weights"]
    for mode in (True, False):
        buffer = io.BytesIO()
        conv.train(mode)
        torch.save(conv.state_dict(), buffer)
        other = nn.R2Conv(conv.in_type, conv.out_type, 3, padding=1, initialize=False)
        other.train(not mode)
        other.load_state_dict(torch.load(io.BytesIO(buffer.getvalue())))
        other.eval()
        with torch.no_grad():
            assert torch.equal(other(x).tensor, y)


def test_eval_cache_follows_parameters():
    conv = _conv().eval()
    x = nn.GeometricTensor(torch.randn(2, conv.in_type.size, 9, 9), conv.in_type)
    with torch.no_grad():
        y1 = conv(x).tensor
        assert conv._eval_cache is not None
        conv.weights.mul_(2)                                # in place
        conv.bias.add_(1)
        y2 = conv(x).tensor
        conv.train()
        y3 = conv(x).tensor
    assert torch.allclose(y2, y3) and not torch.allclose(y1, y2)
    conv.eval()
    fresh = _conv()
    conv.load_state_dict(fresh.state_dict())               # load in eval mode
    with torch.no_grad():
        assert torch.allclose(conv(x).tensor, fresh(x).tensor)


def test_eval_mode_keeps_gradients():
    conv = _conv().eval()
    x = nn.GeometricTensor(torch.randn(2, conv.in_type.size, 9, 9), conv.in_type)
    conv(x).tensor.sum().backward()
    assert conv.weights.grad is not None and conv.weights.grad.abs().sum() > 0


@pytest.mark.parametrize("options", [dict(padding=2, padding_mode="circular"), dict(padding=(1, 2), stride=2),
                                     dict(dilation=2, groups=1, bias=False)])
def test_export_r2conv(options):
    fin, fout = _types("D4")
    conv = nn.R2Conv(fin, fout, 5, **options)
    with torch.no_grad():
        if conv.bias is not None:
            conv.bias.normal_()
    plain = conv.export()
    assert type(plain) is torch.nn.Conv2d and plain.padding_mode == conv.padding_mode
    x = nn.GeometricTensor(torch.randn(2, fin.size, 15, 15), fin)
    with torch.no_grad():
        assert_close_up_to_rounding(plain(x.tensor), conv(x).tensor)


def test_export_groups_and_transposed():
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, 2 * [gs.regular_repr, gs.trivial_repr])
    x = nn.GeometricTensor(torch.randn(2, t.size, 8, 8), t)
    for conv in (nn.R2Conv(t, t, 3, groups=2), nn.R2ConvTransposed(t, t, 4, stride=2, padding=1, groups=2)):
        with torch.no_grad():
            conv.bias.normal_()
            plain = conv.export()
            assert_close_up_to_rounding(plain(x.tensor), conv(x).tensor)
    assert isinstance(plain, torch.nn.ConvTranspose2d)
    up = nn.R2Upsampling(t, scale_factor=2, mode="bicubic", align_corners=True)
    assert torch.equal(up.export()(x.tensor), up(x).tensor)


def test_pickle_and_deepcopy():
    conv = _conv().eval()
    x = nn.GeometricTensor(torch.randn(2, conv.in_type.size, 9, 9), conv.in_type)
    with torch.no_grad():
        y = conv(x).tensor
    for other in (pickle.loads(pickle.dumps(conv)), copy.deepcopy(conv)):
        assert other._eval_cache is None
        with torch.no_grad():
            assert torch.equal(other(x).tensor, y)
        assert other.in_type == conv.in_type and hash(other.in_type) == hash(conv.in_type)
    t = pickle.loads(pickle.dumps(conv.in_type))
    assert t == conv.in_type
    up = pickle.loads(pickle.dumps(nn.R2Upsampling(conv.in_type, scale_factor=2)))
    assert up(x).shape == (2, conv.in_type.size, 18, 18)


def test_double_then_float_round_trip():
    conv = _conv()
    x = nn.GeometricTensor(torch.randn(2, conv.in_type.size, 9, 9), conv.in_type)
    y = conv(x).tensor
    conv.double()
    assert conv.basisexpansion._q_out_0.dtype == torch.float64
    y64 = conv(x.to(torch.float64)).tensor
    assert_close_up_to_rounding(y64.float(), y)
    conv.float()
    assert_close_up_to_rounding(conv(x).tensor, y)


# ---- init --------------------------------------------------------------------------------------------------
def _he_std_loop(attrs):
    """e2cnn's generalized_he_init variances, written as e2cnn's loops."""
    from collections import defaultdict
    inputs, counts = defaultdict(set), defaultdict(int)
    for i, o in zip(attrs["in_irrep"], attrs["out_irreps_position"]):
        inputs[o].add(i)
        counts[i, o] += 1
    return np.array([1 / math.sqrt(len(inputs[o]) * counts[i, o])
                     for i, o in zip(attrs["in_irrep"], attrs["out_irreps_position"])])


@pytest.mark.parametrize("group", ["C4", "D4", "O2"])
def test_he_init_matches_loop(group):
    from e2layers.nn.init import he_init_std
    fin, fout = _types(group)
    conv = nn.R2Conv(fin, fout, 5)
    attrs = conv.basisexpansion.weight_attributes()
    assert len(attrs["in_irrep"]) == conv.weights.numel()
    assert np.allclose(he_init_std(conv.basisexpansion), _he_std_loop(attrs))


def test_he_init_positions():
    """Hand-checked case: C4 regular -> 2 regular, k=3: 24 elements per pair (as e2cnn)."""
    gs = gspaces.Rot2dOnR2(4)
    conv = nn.R2Conv(nn.FieldType(gs, [gs.regular_repr]), nn.FieldType(gs, 2 * [gs.regular_repr]), 3)
    attrs = conv.basisexpansion.weight_attributes()
    assert attrs["out_field_position"].tolist() == [0] * 24 + [1] * 24
    # regular of C4 has 3 irreps: the second output field's irreps are at positions 3, 4, 5
    assert set(attrs["out_irreps_position"][24:].tolist()) == {3, 4, 5}


def test_deltaorthonormal_init():
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, 3 * [gs.regular_repr])
    conv = nn.R2Conv(t, t, 3)
    nn.init.deltaorthonormal_init(conv.weights.data, conv.basisexpansion)
    attrs = conv.basisexpansion.weight_attributes()
    nonzero = conv.weights.detach().numpy() != 0
    assert nonzero.any()
    assert np.all(attrs["radius"][nonzero] == 0) and np.all(attrs["in_irrep"][nonzero] == attrs["out_irrep"][nonzero])
    assert_grid_equivariant(conv, torch.float32)


# ---- FieldType and GeometricTensor -----------------------------------------------------------------------
def test_field_type_members():
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.irrep(1)])
    assert t.size == 7 and len(t) == 3 and t.fibergroup is gs.fibergroup
    assert repr(t) == "[4-Rotations: {regular, irrep_0, irrep_1}]"
    assert t.irreps == ["irrep_0", "irrep_1", "irrep_2", "irrep_0", "irrep_1"]
    assert t.fields_start.tolist() == [0, 4, 5] and t.fields_end.tolist() == [4, 5, 7]
    assert t.fields_start.dtype == np.uint64
    assert t.sorted().fields_names() == ["irrep_0", "irrep_1", "regular"]
    assert (t + t).size == 14 and list(t) == t.representations
    by = t.group_by_labels(["a", "b", "a"])
    assert by["a"].fields_names() == ["regular", "irrep_1"]
    Q = t.get_dense_change_of_basis()
    assert_close_up_to_rounding(Q @ t.get_dense_change_of_basis_inv(), torch.eye(7))
    assert t.representation.size == 7
    assert t.restrict(2).gspace.name == "2-Rotations" and t.restrict(2).size == 7
    g = 1
    x = torch.randn(2, 7, 5, 5)
    rho = torch.as_tensor(t.representation(g), dtype=torch.float32)
    expected = torch.rot90(torch.einsum("oi,bihw->bohw", rho, x), 1, dims=(-2, -1))
    assert_close_up_to_rounding(t.transform(x, g), expected)
    assert hash(t) == hash(nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.irrep(1)]))


def test_field_type_errors():
    gs = gspaces.Rot2dOnR2(4)
    with pytest.raises(ValueError, match="non-empty"):
        nn.FieldType(gs, [])
    with pytest.raises(ValueError, match="C8"):
        nn.FieldType(gs, [gspaces.Rot2dOnR2(8).regular_repr])
    with pytest.raises(ValueError, match="different gspaces"):
        nn.FieldType(gs, [gs.trivial_repr]) + nn.FieldType(gspaces.Rot2dOnR2(8), [gspaces.Rot2dOnR2(8).trivial_repr])


def test_geometric_tensor_indexing_and_split():
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.irrep(1)])
    x = nn.GeometricTensor(torch.arange(2 * 7 * 3 * 3, dtype=torch.float32).reshape(2, 7, 3, 3), t)
    assert x[:, 1].tensor.shape == (2, 1, 3, 3) and torch.equal(x[:, 1].tensor, x.tensor[:, 4:5])
    assert x[1].shape == (1, 7, 3, 3)
    y = x[:, ::2]
    assert y.type.fields_names() == ["regular", "irrep_1"]
    assert torch.equal(y.tensor, x.tensor[:, [0, 1, 2, 3, 5, 6]])
    z = x[:, ::-1]
    assert z.type.fields_names() == ["irrep_1", "irrep_0", "regular"]
    assert torch.equal(z.tensor, x.tensor[:, [5, 6, 4, 0, 1, 2, 3]])
    assert torch.equal(x[:, :, ::-1].tensor, x.tensor.flip(2))
    parts = x.split([1, 2])
    assert [p.type.fields_names() for p in parts] == [["regular"], ["irrep_0"], ["irrep_1"]]
    assert torch.equal(nn.tensor_directsum(parts).tensor, x.tensor)
    assert torch.equal((x * 2).tensor, 2 * x.tensor) and torch.equal((2.5 * x).tensor, x.tensor * 2.5)
    assert torch.equal((x + x - x).tensor, x.tensor)
    assert_close_up_to_rounding(x.transform_fibers(2).tensor,
                                torch.einsum("oi,bihw->bohw", torch.as_tensor(t.representation(2), dtype=torch.float32),
                                             x.tensor))
    with pytest.raises(ValueError, match="same type"):
        x + nn.GeometricTensor(x.tensor, nn.FieldType(gs, 7 * [gs.trivial_repr]))
    with pytest.raises(TypeError):
        x * "a"
    with pytest.raises(TypeError, match="ints or slices"):
        x[[0, 1]]
    with pytest.raises(TypeError, match="GeometricTensors"):
        nn.tensor_directsum([x, x.tensor])


def test_geometric_tensor_errors():
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    with pytest.raises(ValueError, match="3 channels.*size 4"):
        nn.GeometricTensor(torch.randn(1, 3, 5, 5), t)
    with pytest.raises(TypeError, match="FieldType"):
        nn.GeometricTensor(torch.randn(1, 4, 5, 5), [gs.regular_repr])


def test_layer_errors():
    fin, fout = _types("C4")
    conv = nn.R2Conv(fin, fout, 3)
    with pytest.raises(TypeError, match="GeometricTensor"):
        conv(torch.randn(1, fin.size, 5, 5))
    other = nn.FieldType(fin.gspace, fin.size * [fin.gspace.trivial_repr])
    with pytest.raises(ValueError, match=r"expects input of type .*got"):
        conv(nn.GeometricTensor(torch.randn(1, fin.size, 5, 5), other))
    with pytest.raises(ValueError, match="gspace"):
        nn.R2Conv(fin, _types("C8")[1], 3)
    with pytest.raises(TypeError, match="out_type"):
        nn.R2Conv(fin, [fin.gspace.regular_repr], 3)
    so2 = gspaces.Rot2dOnR2(-1, maximum_frequency=4)
    with pytest.raises(ValueError, match="empty"):
        nn.R2Conv(nn.FieldType(so2, [so2.trivial_repr]), nn.FieldType(so2, [so2.irrep(1)]), 1)
    for bad in (dict(kernel_size=0), dict(padding_mode="mirror"), dict(groups=2), dict(basisexpansion="single"),
                dict(padding=-1), dict(stride=(1, 0))):
        args = dict(kernel_size=3)
        args.update(bad)
        with pytest.raises(ValueError, match=list(bad)[0]):
            nn.R2Conv(fin, fout, **args)
    with pytest.raises(ValueError, match="scale_factor"):
        nn.R2Upsampling(fin)


# ---- checkpoints -------------------------------------------------------------------------------------------
def test_load_e2cnn_state_dict():
    conv = _conv()
    e2cnn_like = {"bias": conv.bias.detach().clone(), "weights": conv.weights.detach().clone(),
                  "bias_expansion": torch.zeros(3), "expanded_bias": torch.zeros(3), "filter": torch.zeros(1),
                  "_basisexpansion.block_expansion_('regular', 'regular').sampled_basis": torch.zeros(1),
                  "_basisexpansion.in_indices_('regular', 'regular')": torch.zeros(1)}
    other = nn.R2Conv(conv.in_type, conv.out_type, 3, padding=1, initialize=False)
    load_e2cnn_state_dict(other, e2cnn_like)
    assert torch.equal(other.weights, conv.weights)
    with pytest.raises(KeyError, match=r"missing keys \['bias'\]"):
        load_e2cnn_state_dict(other, {"weights": conv.weights})
    with pytest.raises(KeyError, match=r"unexpected keys \['extra'\]"):
        load_e2cnn_state_dict(other, dict(e2cnn_like, extra=torch.zeros(1)))
    with pytest.raises(ValueError, match="weights"):
        load_e2cnn_state_dict(other, dict(e2cnn_like, weights=torch.zeros(2)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda():
    fin, fout = _types("D4")
    for conv in (nn.R2Conv(fin, fout, 4, padding=2, padding_mode="reflect"), nn.R2ConvTransposed(fin, fout, 3, stride=2)):
        cpu = copy.deepcopy(conv)
        conv = conv.cuda()
        x = nn.GeometricTensor(torch.randn(2, fin.size, 9, 9), fin)
        y = conv(x.to("cuda"))
        assert y.tensor.device.type == "cuda"
        assert torch.allclose(y.tensor.cpu(), cpu(x).tensor, atol=1e-4)
        conv.eval()
        with torch.no_grad():
            assert torch.allclose(conv(x.to("cuda")).tensor, y.tensor, atol=1e-5)
        assert conv.export()(x.tensor.cuda()).device.type == "cuda"
        nn.assert_equivariant(conv, tolerance=1e-5)
        nn.assert_equivariant(conv.double(), tolerance=1e-10)
