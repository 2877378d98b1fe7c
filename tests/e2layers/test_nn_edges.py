"""Behaviour at the edges, as code written for e2cnn expects it: GeometricTensor indexing and members,
ReshuffleModule / MultipleModule arguments, nn.export of networks that build GeometricTensors in their own
forward, the initialisers on a convolution's parameter, R2Upsampling's exact equivariance on the pixel grid,
and the signatures of these callables.

Expected values come from e2cnn 0.2.3 (tests/fixtures/e2cnn/edges.*, made by generate_edges.py next to them),
or are derived by hand (index arithmetic, orthogonality, torch's own indexing).
"""
import inspect
import json

import numpy as np
import pytest
import torch

from basisgen.errors import InvalidValueError
from e2layers import gspaces, nn
from e2layers.checkpoint import convert_e2cnn_state_dict
from paths import E2CNN_FIXTURES
from rounding import rounding_atol

DATA = E2CNN_FIXTURES
E2CNN = json.loads((DATA / "edges.json").read_text())
ARRAYS = np.load(DATA / "edges.npz")

pytestmark = pytest.mark.usefixtures("private_cache")
TOKENS = {"irrep_0,0": ("irrep", 0, 0), "irrep_1,1": ("irrep", 1, 1), "regular": ("regular",),
          "irrep_0": ("irrep", 0), "irrep_1": ("irrep", 1), "irrep_2": ("irrep", 2)}


def _type(gs, names):
    return nn.FieldType(gs, [gs.regular_repr if n == "regular" else gs.irrep(*TOKENS[n][1:]) for n in names])


def _names(t):
    return [rho.name for rho in t.representations]


def _decode(index):
    entries = [e if isinstance(e, int) else Ellipsis if e == "..." else slice(*e["slice"]) for e in index["entries"]]
    return tuple(entries) if index["tuple"] else entries[0]


# ---- GeometricTensor ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def geometric():
    record = E2CNN["geometric_tensor"]
    t = _type(gspaces.FlipRot2dOnR2(4), record["in"])
    shape = record["shape"]
    return record, nn.GeometricTensor(torch.arange(int(np.prod(shape)), dtype=torch.float64).reshape(shape), t)


def test_indexing_matches_e2cnn(geometric):
    record, x = geometric
    for n, case in enumerate(record["cases"]):
        index = _decode(case["index"])
        if case["result"] == "GeometricTensor":
            y = x[index]
            assert isinstance(y, nn.GeometricTensor), index
            assert _names(y.type) == case["type"], index
            np.testing.assert_array_equal(y.tensor.numpy(), ARRAYS[f"index_{n}"], err_msg=repr(index))
        elif case["error"] == "AssertionError":     # a field slice that selects no field
            with pytest.raises(IndexError, match="selects no field") as info:
                x[index]
            assert isinstance(info.value, AssertionError)
        else:       # e2cnn counts an Ellipsis standing for no dimension as an index; we follow torch
            assert index == (0, slice(None), 1, 2, Ellipsis)
            torch.testing.assert_close(x[index].tensor, x.tensor[0:1, :, 1:2, 2:3], rtol=0, atol=0)


def test_indexing_by_hand(geometric):
    _, x = geometric
    starts = x.type.fields_start
    y = x[:, 1]                                     # field 1 (regular, 8 channels), a view
    assert y.tensor.data_ptr() == x.tensor[:, starts[1]:].data_ptr() and y.shape == (3, 8, 5, 6)
    assert torch.equal(x[..., 1:3].tensor, x.tensor[..., 1:3])
    assert torch.equal(x[1, ..., ::-1].tensor, x.tensor[1:2].flip(-1))     # negative steps, copied
    assert x[np.int64(2)].shape == (1, 20, 5, 6)
    with pytest.raises(IndexError, match="out of range"):
        x[3]                                        # so that iterating over the batch stops
    assert len(list(x)) == 3
    with pytest.raises(TypeError, match="ints or slices"):
        x[:, [0, 1]]
    with pytest.raises(TypeError, match="ints or slices"):
        x[:, True]
    with pytest.raises(TypeError, match="too many indices"):
        x[0, 0, 0, 0, 0]


def test_split_repr_and_directsum_match_e2cnn(geometric):
    record, x = geometric
    for key, breaks in [("1,3", [1, 3]), ("2", [2]), ("none", None), ("empty", [])]:
        given = None if breaks is None else list(breaks)
        parts = x.split(given)
        assert given == breaks                      # not modified (e2cnn appended to it)
        assert [{"type": _names(p.type), "shape": list(p.shape)} for p in parts] == record["split"][key]
        assert torch.equal(torch.cat([p.tensor for p in parts], dim=1), x.tensor)
    d4 = gspaces.FlipRot2dOnR2(4)
    small = nn.GeometricTensor(torch.arange(40, dtype=torch.float32).reshape(2, 5, 2, 2),
                               nn.FieldType(d4, [d4.trivial_repr, d4.irrep(1, 1), d4.irrep(1, 1)]))
    one = nn.GeometricTensor(torch.zeros(1, 1), nn.FieldType(d4, [d4.trivial_repr]))
    assert [repr(small), repr(one)] == record["repr"]
    summed = nn.tensor_directsum([x[:, 1:3], x[:, 0], x[:, 4]])
    assert _names(summed.type) == record["directsum"]
    np.testing.assert_array_equal(summed.tensor.numpy(), ARRAYS["directsum"])
    with pytest.raises(InvalidValueError, match="batch size and spatial shape"):
        nn.tensor_directsum([x, x[:, :, 1:]])


def test_arithmetic_and_tensor_members(geometric):
    _, x = geometric
    y = x[:, 1:3]
    assert torch.equal((y + y).tensor, 2 * y.tensor) and torch.equal((y - y).tensor, 0 * y.tensor)
    assert torch.equal((3 * y).tensor, (y * 3.0).tensor) and torch.equal((y * torch.tensor(2.0)).tensor, 2 * y.tensor)
    z = nn.GeometricTensor(y.tensor.clone(), y.type)
    z += y
    z -= y
    z *= 2
    assert torch.equal(z.tensor, 2 * y.tensor)
    with pytest.raises(AssertionError):             # e2cnn asserted equal types: an InvalidValueError here
        y + x
    with pytest.raises(TypeError, match="real scalar"):
        y * y
    assert x.size() == x.shape == x.tensor.shape and x.size(1) == 20
    assert x.to(torch.float32).tensor.dtype == torch.float32 and x.to(torch.float32).type == x.type
    g = (1, 1)
    torch.testing.assert_close(x.transform_fibers(g).tensor,
                               torch.einsum("oi,bihw->bohw", torch.as_tensor(x.type.fiber_matrix(g)), x.tensor))
    assert x.restrict((None, 4)).type.gspace.name == "4-Rotations"


# ---- ReshuffleModule, MultipleModule -----------------------------------------------------------------------
def test_reshuffle_accepts_what_e2cnn_accepts():
    record = E2CNN["reshuffle"]
    c4 = gspaces.Rot2dOnR2(4)
    t = _type(c4, record["in"])
    for case in record["cases"]:
        perm = case["permutation"]
        if case["bools"]:
            perm = [bool(p) if p < 2 else p for p in perm]
        perm = tuple(perm) if case["kind"] == "tuple" else perm
        m = nn.ReshuffleModule(t, perm)
        assert _names(m.out_type) == case["out"]
        x = nn.GeometricTensor(torch.arange(t.size, dtype=torch.float32).reshape(1, -1, 1, 1), t)
        assert m(x).tensor.reshape(-1).long().tolist() == case["order"]
        nn.assert_equivariant(m)
    for bad in ([0, 1, 2], [0, 1, 2, 4], [0.0, 1, 2, 3], "0123"):
        with pytest.raises(AssertionError, match="permutation must list"):
            nn.ReshuffleModule(t, bad)


def _multiple(t, labels, reshuffle, convs=False):
    out = nn.BranchingModule(t, labels, reshuffle=int(reshuffle)).out_type
    gated = nn.GatedNonLinearity2((out["gates"], out["gated"]))
    with torch.no_grad():
        gated.bias.zero_()               # as in the e2cnn fixture
    if convs:
        first, last = nn.R2Conv(out["x"], out["x"], 3, padding=1), nn.R2Conv(out["y"], out["y"], 3, padding=1)
    else:
        first, last = nn.ELU(out["x"]), nn.IdentityModule(out["y"])
    return nn.MultipleModule(t, labels, [(first, "x"), (gated, ["gates", "gated"]), (last, "y")], reshuffle=reshuffle)


def test_multiple_module_accepts_what_e2cnn_accepts():
    record = E2CNN["multiple"]
    t = _type(gspaces.Rot2dOnR2(8), record["in"])
    x = nn.GeometricTensor(torch.from_numpy(ARRAYS["multiple_input"]), t)
    for case in record["cases"]:
        m = _multiple(t, record["labels"], case["reshuffle"])
        assert {label: _names(ft) for label, ft in m.branching.out_type.items()} == case["branches"]
        assert _names(m.out_type) == case["out"]
        torch.testing.assert_close(m(x).tensor, torch.from_numpy(ARRAYS[case["key"]]), rtol=1e-6, atol=1e-6)
        nn.assert_equivariant(m)
    m = _multiple(t, record["labels"], True, convs=True)
    assert sorted(m.state_dict()) == sorted(convert_e2cnn_state_dict(dict.fromkeys(record["state_dict_with_convs"])))
    out = nn.BranchingModule(t, record["labels"]).out_type
    modules = [(nn.ELU(out["x"]), "x"), (nn.GatedNonLinearity2((out["gates"], out["gated"])), ["gates", "gated"]),
               (nn.IdentityModule(out["y"]), "y")]
    for bad in (4, -1, 1.0, "1", None):       # e2cnn took int(reshuffle): "1" and 1.7 passed there
        with pytest.raises(AssertionError, match="reshuffle must be"):
            nn.MultipleModule(t, record["labels"], modules, reshuffle=bad)


# ---- nn.export on e2cnn's idiom ---------------------------------------------------------------------------
class IdiomNet(torch.nn.Module):
    """A classifier written as e2cnn's examples are: forward wraps its plain input itself, passes
    GeometricTensors between equivariant blocks, adds them, slices fields, and returns ``.tensor``."""

    def __init__(self):
        super().__init__()
        gs = gspaces.FlipRot2dOnR2(4)
        self.input_type = nn.FieldType(gs, 3 * [gs.trivial_repr])
        hidden = nn.FieldType(gs, 3 * [gs.regular_repr])
        mixed = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.irrep(1, 1), gs.regular_repr])
        self.block1 = nn.SequentialModule(nn.R2Conv(self.input_type, hidden, 5, padding=2),
                                          nn.InnerBatchNorm(hidden), nn.ReLU(hidden, inplace=True))
        self.layers = nn.ModuleList([nn.R2Conv(hidden, hidden, 3, padding=1), nn.ELU(hidden)])
        self.to_mixed = nn.R2Conv(hidden, mixed, 3, padding=1)
        out = nn.BranchingModule(mixed, ["r", "g", "v", "r"]).out_type
        self.multiple = nn.MultipleModule(mixed, ["r", "g", "v", "r"], [
            (nn.ReLU(out["r"]), "r"), (nn.GatedNonLinearity2((out["g"], out["v"])), ["g", "v"])])
        self.pool = nn.PointwiseAvgPoolAntialiased(nn.FieldType(gs, 2 * [gs.regular_repr]), sigma=0.66, stride=2)
        self.gpool = nn.GroupPooling(self.pool.out_type)
        self.head = torch.nn.Linear(2, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.GeometricTensor(x, self.input_type)
        x = self.block1(x)
        for layer in self.layers:
            x = layer(x)
        x = x + self.layers[1](x)
        x = self.multiple(self.to_mixed(x))
        x = self.gpool(self.pool(x[:, :2]))
        return self.head(x.tensor.mean(dim=(2, 3)))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_export_of_a_network_in_e2cnn_idiom(dtype):
    torch.manual_seed(0)
    net = IdiomNet().to(dtype)
    net.train()
    net(torch.randn(4, 3, 11, 11, dtype=dtype))      # non-trivial batch-norm statistics
    net.eval()
    x = torch.randn(2, 3, 11, 11, dtype=dtype)
    with torch.no_grad():
        expected = net(x)
        atol = 1e-12 if dtype == torch.float64 else rounding_atol(expected)
        plain = nn.export(net)
        assert not any(isinstance(m, nn.EquivariantModule) for m in plain.modules())
        assert isinstance(net.block1, nn.SequentialModule), "export must not modify the original network"
        torch.testing.assert_close(plain(x), expected, rtol=0, atol=atol)
        traced = torch.jit.trace(plain, (x,), check_trace=False)
        torch.testing.assert_close(traced(x), expected, rtol=0, atol=atol)
        program = torch.export.export(plain, (x,))
        torch.testing.assert_close(program.module()(x), expected, rtol=0, atol=atol)
        with pytest.raises(Exception):               # documented: GeometricTensor is no TorchScript type
            torch.jit.script(plain)
        rotated = plain(torch.rot90(x, 1, (2, 3)))    # still invariant after export
        torch.testing.assert_close(rotated, expected, rtol=0, atol=100 * atol)
    assert "block1.module.0.weight" in plain.state_dict()


def test_export_keeps_the_boundary_idiom_scriptable():
    gs = gspaces.Rot2dOnR2(4)
    t_in, r = nn.FieldType(gs, [gs.trivial_repr]), nn.FieldType(gs, [gs.regular_repr])
    t = r + r
    branches = nn.MultipleModule(t, ["a", "b"], [(nn.ELU(r), "a"), (nn.IdentityModule(r), "b")])
    net = torch.nn.Sequential(nn.TensorToGeometric(t_in), nn.R2Conv(t_in, t, 3), nn.ReLU(t), branches,
                              nn.GeometricToTensor()).double().eval()
    x = torch.randn(2, 1, 7, 7, dtype=torch.float64)
    scripted = torch.jit.script(nn.export(net))
    torch.testing.assert_close(scripted(x), net(x), rtol=0, atol=1e-12)
    mixed = nn.export(net)                           # a GeometricTensor given to the exported boundary
    assert torch.equal(mixed[-1](nn.GeometricTensor(torch.zeros(1, 8), t)), torch.zeros(1, 8))


# ---- initialisation ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("gs_name", ["C4", "D4", "C8"])
@pytest.mark.parametrize("n_in, n_out", [(3, 3), (2, 4), (4, 2)])
def test_deltaorthonormal_init_is_a_central_isometry(gs_name, n_in, n_out):
    """As e2cnn's: the expanded filter is zero outside the centre pixel, and the centre, a
    (C_out, C_in) matrix, is an isometry (orthonormal rows when C_out <= C_in, columns otherwise)."""
    gs = {"C4": gspaces.Rot2dOnR2(4), "D4": gspaces.FlipRot2dOnR2(4), "C8": gspaces.Rot2dOnR2(8)}[gs_name]
    conv = nn.R2Conv(nn.FieldType(gs, n_in * [gs.regular_repr]), nn.FieldType(gs, n_out * [gs.regular_repr]), 5)
    nn.init.deltaorthonormal_init(conv.weights, conv.basisexpansion)   # the Parameter itself, grad enabled
    assert conv.weights.grad_fn is None and conv.weights.requires_grad
    conv.eval()
    kernel = conv.expand_parameters()[0].detach().double()
    centre = kernel[:, :, 2, 2].clone()
    kernel[:, :, 2, 2] = 0
    assert kernel.abs().max().item() == 0
    gram = centre @ centre.T if n_out <= n_in else centre.T @ centre
    torch.testing.assert_close(gram, torch.eye(len(gram), dtype=gram.dtype), rtol=0, atol=1e-5)


def test_initialisers_take_the_parameter_its_data_or_a_view():
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, 2 * [gs.regular_repr])
    conv = nn.R2Conv(t, t, 3)

    class View(torch.autograd.Function):        # a view made inside a custom Function, as an expansion might
        @staticmethod
        def forward(ctx, w):
            return w.view(-1)

        @staticmethod
        def backward(ctx, grad):
            return grad

    for init in (nn.init.generalized_he_init, nn.init.deltaorthonormal_init):
        for tensor in (conv.weights, conv.weights.data, View.apply(conv.weights)):
            before = conv.weights.detach().clone()
            init(tensor, conv.basisexpansion)
            assert not torch.equal(conv.weights.detach(), before)
        with pytest.raises(AssertionError, match="shape"):
            init(conv.weights[:-1], conv.basisexpansion)
    assert "cache" in inspect.signature(nn.init.generalized_he_init).parameters


# ---- R2Upsampling -----------------------------------------------------------------------------------------
def _grid_errors(up, x):
    return {repr(g): ((up(x.transform(g)).tensor - up(x).transform(g).tensor).abs().max()
                      / up(x.transform(g)).tensor.abs().max()).item() for g in [(0, 1), (0, 2), (0, 3), (1, 0), (1, 1)]}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_upsampling_is_exact_on_the_grid_and_no_worse_than_e2cnn(dtype):
    record = E2CNN["upsampling"]
    gs = gspaces.FlipRot2dOnR2(4)
    t = _type(gs, ["regular", "irrep_1,1"] + ["irrep_0,0"])
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    for case in record["cases"]:
        x = nn.GeometricTensor(torch.randn(2, t.size, case["input_size"], case["input_size"], dtype=dtype), t)
        up = nn.R2Upsampling(t, scale_factor=case["scale_factor"], mode=case["mode"],
                             align_corners=case["align_corners"])
        errors = _grid_errors(up, x)
        for g, error in errors.items():
            if case["mode"] == "nearest":
                assert error == 0, (case, g)     # a copy of pixels: exact, at even and odd factors
            assert error <= max(tolerance, case["relative_errors"][g]), (case, g)
    for mode in ("bilinear", "bicubic"):        # any output size; a non-integer factor with align_corners
        for kwargs in (dict(size=13), dict(scale_factor=2.5, align_corners=True), dict(scale_factor=2.5)):
            x = nn.GeometricTensor(torch.randn(1, t.size, 6, 6, dtype=dtype), t)
            assert max(_grid_errors(nn.R2Upsampling(t, mode=mode, **kwargs), x).values()) < tolerance


def test_upsampling_where_it_is_not_exact():
    """The documented limits: nearest at a non-integer ratio, a rounded output size without align_corners."""
    gs = gspaces.FlipRot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    x = nn.GeometricTensor(torch.randn(1, 8, 7, 7, dtype=torch.float64), t)
    assert max(_grid_errors(nn.R2Upsampling(t, size=13, mode="nearest"), x).values()) > 0.1
    assert max(_grid_errors(nn.R2Upsampling(t, scale_factor=2.5), x).values()) > 0.1
    with pytest.raises(AssertionError, match="exactly one of scale_factor and size"):
        nn.R2Upsampling(t, scale_factor=2, size=14)


# ---- signatures -------------------------------------------------------------------------------------------
def test_signatures_match_e2cnn():
    """Every parameter of e2cnn's, in its place, of its kind, with its default; ours may add more after."""
    for name, expected in E2CNN["signatures"].items():
        obj = nn
        for part in name.split("."):
            obj = getattr(obj, part)
        target = obj.__init__ if inspect.isclass(obj) else obj
        ours = [[p.name, str(p.kind), None if p.default is p.empty else repr(p.default)]
                for p in inspect.signature(target).parameters.values() if p.name != "self"]
        assert ours[:len(expected)] == expected, name
        assert all(p[2] is not None or p[1] == "VAR_POSITIONAL" for p in ours[len(expected):]), name
