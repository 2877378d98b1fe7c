"""e2layers.nn: norm, induced norm, gated, induced gated, concatenated and vector-field non-linearities.

Expected values come from e2cnn 0.2.3 (tests/fixtures/e2cnn/generate_nonlinearities.py: outputs for the same
input and parameters, the concatenated representations' matrices) and from hand computations.
Equivariance is measured with ``nn.assert_equivariant`` under the grid-exact elements (float32 < 1e-5,
float64 < 1e-10) and, on the fibres alone, under every testing element (45-degree rotations, SO(2) angles).
"""
import json
import pickle

import numpy as np
import pytest
import torch

from e2layers import gspaces, nn
from e2layers.checkpoint import convert_e2cnn_state_dict
from e2layers.group import change_basis

from e2cnn_tokens import representation
from spaces import GSPACES
from paths import E2CNN_FIXTURES

DATA = E2CNN_FIXTURES


pytestmark = pytest.mark.usefixtures("private_cache")



def ftype(gs, tokens):
    return nn.FieldType(gs, [representation(gs, t) for t in tokens])


def _input(t, size=5, dtype=torch.float32, batch=2):
    return nn.GeometricTensor(torch.randn(batch, t.size, size, size, dtype=dtype), t)


# ---- module factories per group: (name, in_type tokens, factory) ----------------------------------------
def _norm_fields(gs_name):
    return {"C1": ["trivial", "regular", "trivial"],
            "C4": ["irrep:1", "regular", "irrep:2", "trivial", "irrep:1"],
            "C8": ["irrep:1", "regular", "irrep:4", "irrep:3", "trivial", "irrep:1"],
            "D1": ["irrep:1,0", "regular", "trivial"],
            "D4": ["irrep:1,1", "regular", "irrep:0,2", "quotient:(0,1)", "irrep:1,1"],
            "SO2": ["irrep:1", "irrep:0", "irrep:3", "irrep:1", "irrep:2"],
            "O2": ["irrep:1,1", "irrep:1,0", "irrep:1,3", "irrep:0,0", "irrep:1,1"]}[gs_name]


def _gated_fields(gs_name):
    gated = _norm_fields(gs_name)
    return ["trivial"] * len(gated) + gated


INDUCED = {"C8": ["induced:4:1", "quotient:4", "induced:2:1", "induced:4:1", "quotient:2"],
           "D4": ["induced:(None,4):1", "quotient:(0,2)", "induced:(0,2):1,1", "induced:(None,4):1"]}
INDUCED_GATED = {"C8": (["quotient:4", "induced:4:1", "quotient:4", "induced:4:2", "induced:4:1", "quotient:4"],
                        ["gate", "gated", "gate", "gated", "gated", "gate"]),
                 "D4": (["quotient:(None,4)", "quotient:(None,4)", "induced:(None,4):1", "induced:(None,4):2"],
                        None)}
CONCAT = {"C1": ["trivial", "regular"], "C4": ["regular", "irrep:2", "trivial", "quotient:2"],
          "C8": ["regular", "irrep:4", "trivial", "quotient:4"],
          "D1": ["regular", "irrep:1,0", "trivial"], "D4": ["regular", "irrep:1,0", "irrep:0,2", "quotient:(0,1)"]}

CASES = (
    [(f"norm_{f}_{g}", g, _norm_fields(g), lambda t, f=f: nn.NormNonLinearity(t, f, bias=f != "squash"))
     for g in ("C4", "C8", "D1", "D4", "SO2", "O2") for f in ("n_relu", "n_sigmoid", "squash")]
    + [("norm_nobias_C1", "C1", _norm_fields("C1"), lambda t: nn.NormNonLinearity(t, bias=False))]
    + [(f"induced_norm_{f}_{g}", g, INDUCED[g], lambda t, f=f: nn.InducedNormNonLinearity(t, f))
       for g in INDUCED for f in ("n_relu", "squash")]
    + [(f"gated1_{d}_{g}", g, _gated_fields(g), lambda t, d=d: nn.GatedNonLinearity1(t, drop_gates=d == "drop"))
       for g in ("C4", "C8", "D1", "D4", "SO2", "O2") for d in ("drop", "keep")]
    + [(f"induced_gated1_{d}_{g}", g, INDUCED_GATED[g][0],
        lambda t, d=d, g=g: nn.InducedGatedNonLinearity1(t, INDUCED_GATED[g][1], drop_gates=d == "drop"))
       for g in INDUCED_GATED for d in ("drop", "keep")]
    + [(f"concat_{f}_{g}", g, CONCAT[g], lambda t, f=f: nn.ConcatenatedNonLinearity(t, f))
       for g in CONCAT for f in ("c_relu", "c_sigmoid", "c_tanh")]
    + [(f"vectorfield_{g}", g, ["regular"] * 3, lambda t: nn.VectorFieldNonLinearity(t)) for g in ("C4", "C8")]
)
CASE_IDS = [c[0] for c in CASES]


def _build(gs_name, tokens, factory, dtype=torch.float32):
    gs = GSPACES[gs_name]()
    t = ftype(gs, tokens)
    module = factory(t).to(dtype)
    with torch.no_grad():     # non-trivial biases (e2cnn starts the norm biases at exp(0))
        for p in module.parameters():
            p.copy_(0.5 * torch.randn(p.shape, dtype=dtype))
    return gs, t, module


# none of these modules behaves differently in train and eval mode (test_export_shape_pickle checks it), so
# each dtype runs in one mode
@pytest.mark.parametrize("dtype,mode", [(torch.float32, "train"), (torch.float64, "eval")], ids=["f32", "f64"])
@pytest.mark.parametrize("name,gs_name,tokens,factory", CASES, ids=CASE_IDS)
def test_equivariance(name, gs_name, tokens, factory, dtype, mode):
    gs, t, module = _build(gs_name, tokens, factory, dtype)
    module.train(mode == "train")
    result = nn.assert_equivariant(module, _input(t, 5, dtype))
    assert len(result) == len([g for g in gs.testing_elements if gs.is_grid_element(g)])


@pytest.mark.parametrize("name,gs_name,tokens,factory", CASES, ids=CASE_IDS)
def test_fibre_equivariance_under_every_testing_element(name, gs_name, tokens, factory):
    """The modules act pixel by pixel, so the fibre action alone must commute with them for every element
    (45-degree rotations of C8, arbitrary angles of SO(2) and O(2), not only the grid-exact ones)."""
    gs, t, module = _build(gs_name, tokens, factory, torch.float64)
    x = _input(t, 1, torch.float64, batch=8)
    y = module(x)
    for g in gs.testing_elements:
        out1, out2 = module(x.transform_fibers(g)).tensor, y.transform_fibers(g).tensor
        assert (out1 - out2).abs().max().item() <= 1e-10 * out1.abs().max().item(), g


def test_the_checker_catches_a_wrong_pairing():
    """Gating a vector by the wrong gate (here: by a channel of itself) is not equivariant; the checker fails."""
    gs = gspaces.Rot2dOnR2(8)
    t = ftype(gs, ["trivial", "irrep:1"])
    gate = nn.GatedNonLinearity1(t)
    gate._gate_channels = torch.tensor([1])
    with pytest.raises(AssertionError, match="not equivariant"):
        nn.assert_equivariant(gate, _input(t))


# ---- e2cnn reference values --------------------------------------------------------------------------
RECORDS = json.loads((DATA / "nonlinearities.json").read_text())
ARRAYS = np.load(DATA / "nonlinearities.npz")


@pytest.mark.parametrize("record", RECORDS, ids=[r["case"] for r in RECORDS])
def test_matches_e2cnn(record):
    case = record["case"]
    gs = GSPACES[record["gspace"]]()
    module_cls = getattr(nn, record["module"])
    if record["module"] == "GatedNonLinearity2":
        in_type = (ftype(gs, record["fields"][0]), ftype(gs, record["fields"][1]))
    else:
        in_type = ftype(gs, record["fields"])
    module = module_cls(in_type, **record["kwargs"])
    theirs = record["state_dict"]
    ours = {k: list(v.shape) for k, v in module.state_dict().items()}
    assert ours == convert_e2cnn_state_dict(theirs)     # index buffers and the constant `eps` are dropped
    module.load_state_dict({k: torch.as_tensor(ARRAYS[f"{case}__{k}"]) for k in ours})
    x = torch.as_tensor(ARRAYS[f"{case}__input"])
    if record["module"] == "GatedNonLinearity2":
        out = module(nn.GeometricTensor(torch.as_tensor(ARRAYS[f"{case}__gates"]), in_type[0]),
                     nn.GeometricTensor(x, in_type[1]))
    else:
        out = module(nn.GeometricTensor(x, in_type))
    expected = ARRAYS[f"{case}__output"]
    np.testing.assert_allclose(out.tensor.detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    assert [r.name for r in module.out_type.representations] == record["out_fields"]
    assert [r.irreps for r in module.out_type.representations] == record["out_irreps"]
    if record["module"] == "ConcatenatedNonLinearity":
        elements = [tuple(e) if isinstance(e, list) else e for e in record["elements"]]
        for rho in {r.name: r for r in module.out_type.representations}.values():
            theirs_rho = ARRAYS[f"{case}__rep__{rho.name}"]
            ours_rho = np.stack([rho(g) for g in elements])
            np.testing.assert_allclose(ours_rho, theirs_rho, atol=1e-9)
            Q = rho.change_of_basis
            np.testing.assert_allclose(Q.T @ Q, np.eye(len(Q)), atol=1e-10)


def test_fixture_covers_the_required_cases():
    cases = {(r["module"], r["kwargs"].get("function")) for r in RECORDS}
    for required in [("NormNonLinearity", "n_relu"), ("NormNonLinearity", "n_sigmoid"), ("NormNonLinearity", "squash"),
                     ("GatedNonLinearity1", None), ("ConcatenatedNonLinearity", "c_relu"),
                     ("VectorFieldNonLinearity", None)]:
        assert required in cases


# ---- hand-computed values ------------------------------------------------------------------------------
def test_norm_values_by_hand():
    """Fields sorted by size take the biases in that order (e2cnn's layout): the trivial field (size 1,
    third) takes log_bias[0], the two irrep(1) fields log_bias[1:3]."""
    gs = gspaces.Rot2dOnR2(-1, maximum_frequency=2)
    t = ftype(gs, ["irrep:1", "irrep:1", "trivial"])
    relu = nn.NormNonLinearity(t)
    with torch.no_grad():
        relu.log_bias.copy_(torch.log(torch.tensor([0.5, 1.0, 2.0])).reshape(1, 3, 1, 1))
    x = torch.tensor([[3.0, 4.0, 0.0, 3.0, -2.0]])
    # |(3,4)| = 5 -> 5 - 1 = 4; |(0,3)| = 3 -> 3 - 2 = 1; |-2| = 2 -> 2 - 0.5 = 1.5
    expected = [[3 * 4 / 5, 4 * 4 / 5, 0.0, 1.0, -1.5]]
    torch.testing.assert_close(relu(nn.GeometricTensor(x, t)).tensor, torch.tensor(expected))
    sig = nn.NormNonLinearity(t, "n_sigmoid", bias=False)
    s = torch.sigmoid(torch.tensor([5.0, 3.0, 2.0]))
    torch.testing.assert_close(sig(nn.GeometricTensor(x, t)).tensor,
                               torch.tensor([[3 * s[0] / 5, 4 * s[0] / 5, 0.0, s[1], -s[2]]]))
    squash = nn.NormNonLinearity(t, "squash", bias=False)
    torch.testing.assert_close(squash(nn.GeometricTensor(x, t)).tensor,
                               torch.tensor([[3 / 6, 4 / 6, 0.0, 3 / 4, -2 / 3]]))


def test_zero_fields_stay_zero_with_finite_gradients():
    gs = gspaces.Rot2dOnR2(8)
    t = ftype(gs, ["irrep:1", "regular"])
    for module in (nn.NormNonLinearity(t, "n_sigmoid"), nn.InducedNormNonLinearity(ftype(gs, ["quotient:4"]))):
        x = torch.zeros(1, module.in_type.size, 2, 2, requires_grad=True)
        y = module(nn.GeometricTensor(x, module.in_type)).tensor
        assert torch.equal(y, torch.zeros_like(y))
        y.sum().backward()
        assert torch.isfinite(x.grad).all() and torch.isfinite(module.log_bias.grad).all()


def test_induced_norm_values_by_hand():
    """Blocks of 2 channels (two cosets of C4 in C8), one bias per field shared by its blocks."""
    gs = gspaces.Rot2dOnR2(8)
    t = ftype(gs, ["induced:4:1"])
    relu = nn.InducedNormNonLinearity(t)
    with torch.no_grad():
        relu.log_bias.fill_(np.log(2.0))
    x = torch.tensor([[3.0, 4.0, 0.0, -6.0]])
    torch.testing.assert_close(relu(nn.GeometricTensor(x, t)).tensor, torch.tensor([[1.8, 2.4, 0.0, -4.0]]))


def test_gated_pairing_by_hand():
    """e2cnn pairs the j-th gate with the j-th gated field sorted by size: here the trivial gated field
    (size 1, last) takes the first gate and the vector the second."""
    gs = gspaces.Rot2dOnR2(4)
    t = ftype(gs, ["trivial", "irrep:1", "trivial", "trivial"])
    gate = nn.GatedNonLinearity1(t, gates=["gate", "gated", "gate", "gated"])
    with torch.no_grad():
        gate.bias.copy_(torch.tensor([0.0, 1.0]).reshape(1, 2, 1, 1))
    x = torch.tensor([[0.5, 2.0, -1.0, 3.0, 5.0]])
    g_first, g_second = torch.sigmoid(torch.tensor(0.5)), torch.sigmoid(torch.tensor(3.0 - 1.0))
    expected = torch.tensor([[2.0 * g_second, -1.0 * g_second, 5.0 * g_first]])
    torch.testing.assert_close(gate(nn.GeometricTensor(x, t)).tensor, expected)
    keep = nn.GatedNonLinearity1(t, gates=["gate", "gated", "gate", "gated"], drop_gates=False)
    keep.load_state_dict(gate.state_dict())
    assert keep.out_type == t
    torch.testing.assert_close(keep(nn.GeometricTensor(x, t)).tensor,
                               torch.tensor([[g_first, 2.0 * g_second, -1.0 * g_second, g_second, 5.0 * g_first]]))


def test_gated2_by_hand():
    gs = gspaces.FlipRot2dOnR2(4)
    gates, gated = ftype(gs, ["trivial", "trivial"]), ftype(gs, ["regular", "irrep:1,0"])
    gate = nn.GatedNonLinearity2((gates, gated))
    with torch.no_grad():
        gate.bias.zero_()
    g = torch.tensor([[1.0, -2.0]])
    x = torch.arange(9.0).reshape(1, 9)
    s1, s2 = torch.sigmoid(torch.tensor(1.0)), torch.sigmoid(torch.tensor(-2.0))
    # sorted by size: irrep(1,0) (size 1) takes gate 0, the regular field gate 1
    expected = torch.cat([x[:, :8] * s2, x[:, 8:] * s1], dim=1)
    torch.testing.assert_close(gate(nn.GeometricTensor(g, gates), nn.GeometricTensor(x, gated)).tensor, expected)


def test_concatenated_and_vector_field_values_by_hand():
    gs = gspaces.Rot2dOnR2(8)
    t = ftype(gs, ["trivial", "irrep:4"])
    x = torch.tensor([[-1.0, 2.0]])
    y = nn.ConcatenatedNonLinearity(t, "c_tanh")(nn.GeometricTensor(x, t)).tensor
    torch.testing.assert_close(y, torch.tanh(torch.tensor([[-1.0, 1.0, 2.0, -2.0]])))
    vf = nn.VectorFieldNonLinearity(ftype(gs, ["regular", "regular"]))
    x = torch.tensor([[0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0] + [-1.0] * 8])
    angle = 3 * 2 * np.pi / 8
    torch.testing.assert_close(vf(nn.GeometricTensor(x, vf.in_type)).tensor,
                               torch.tensor([[3 * np.cos(angle), 3 * np.sin(angle), 0.0, 0.0]], dtype=torch.float32))


# ---- export, shapes, pickling, dtype --------------------------------------------------------------------
EXPORT_CASES = [c for c in CASES if c[1] in ("D4", "SO2", "C8")]


@pytest.mark.parametrize("name,gs_name,tokens,factory", EXPORT_CASES, ids=[c[0] for c in EXPORT_CASES])
def test_export_shape_pickle(name, gs_name, tokens, factory):
    gs, t, module = _build(gs_name, tokens, factory, torch.float64)
    x = _input(t, 4, torch.float64, batch=3)
    y = module(x)
    assert isinstance(y, nn.GeometricTensor) and y.type == module.out_type and y.tensor.dtype == torch.float64
    assert module.evaluate_output_shape(tuple(x.shape)) == tuple(y.shape)
    assert module.evaluate_output_shape((3, t.size)) == (3, module.out_type.size)
    exported = module.export()
    assert not isinstance(exported, nn.EquivariantModule)
    assert torch.equal(exported(x.tensor), y.tensor)
    scripted = torch.jit.script(exported)
    torch.testing.assert_close(scripted(x.tensor), y.tensor, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(module(nn.GeometricTensor(x.tensor[:, :, 0, 0], t)).tensor, y.tensor[:, :, 0, 0])
    clone = pickle.loads(pickle.dumps(module))
    assert torch.equal(clone(x).tensor, y.tensor)
    assert list(module.train().state_dict()) == list(module.eval().state_dict())
    assert torch.equal(module(x).tensor, y.tensor)       # eval mode, same output
    assert all(k in ("log_bias", "bias") for k in module.state_dict())
    assert module.to(torch.float32)(x.to(torch.float32)).tensor.dtype == torch.float32


def test_gated2_equivariance_export_and_shape():
    for gs_name in ("C8", "D4", "SO2", "O2"):
        gs = GSPACES[gs_name]()
        gated = ftype(gs, _norm_fields(gs_name))
        gates = ftype(gs, ["trivial"] * len(gated))
        for dtype, tol in ((torch.float32, 1e-5), (torch.float64, 1e-10)):
            module = nn.GatedNonLinearity2((gates, gated)).to(dtype)
            g, x = _input(gates, 5, dtype), _input(gated, 5, dtype)
            y = module(g, x)
            for el in (e for e in gs.testing_elements if gs.is_grid_element(e)):
                out1, out2 = module(g.transform(el), x.transform(el)).tensor, y.transform(el).tensor
                assert (out1 - out2).abs().max() <= tol * out1.abs().max()
        g1, x1 = g[:, :, :1, :1], x[:, :, :1, :1]
        y1 = module(g1, x1)
        for el in list(gs.testing_elements)[::3]:      # the fibres alone: any element
            out1 = module(g1.transform_fibers(el), x1.transform_fibers(el)).tensor
            assert (out1 - y1.transform_fibers(el).tensor).abs().max() <= 1e-10 * out1.abs().max()
        assert len(module.check_equivariance()) == len([e for e in gs.testing_elements if gs.is_grid_element(e)])
        assert module.evaluate_output_shape(tuple(g.shape), tuple(x.shape)) == tuple(y.shape)
        exported = module.export()
        assert torch.equal(exported(g.tensor, x.tensor), y.tensor)
        torch.testing.assert_close(torch.jit.script(exported)(g.tensor, x.tensor), y.tensor, rtol=1e-12, atol=1e-12)
        assert torch.equal(pickle.loads(pickle.dumps(module))(g, x).tensor, y.tensor)
    with pytest.raises(ValueError, match="must agree"):
        module(_input(gates, 4, torch.float64), x)
    with pytest.raises(ValueError, match="expects input of type"):
        module(g, g)


def test_check_equivariance_protocol():
    gs = gspaces.FlipRot2dOnR2(4)
    for module in (nn.NormNonLinearity(ftype(gs, ["regular", "irrep:1,1"])),
                   nn.GatedNonLinearity1(ftype(gs, ["trivial", "irrep:1,1"])),
                   nn.ConcatenatedNonLinearity(ftype(gs, ["regular"])),
                   nn.InducedNormNonLinearity(ftype(gs, ["quotient:(0,2)"]))):
        assert len(module.check_equivariance()) == 8


def test_concatenated_representation_is_shared_and_tagged():
    gs = gspaces.Rot2dOnR2(8)
    a = nn.ConcatenatedNonLinearity(ftype(gs, ["regular"]))
    b = nn.ConcatenatedNonLinearity(ftype(gs, ["regular", "regular"]), "c_tanh")
    rho = a.out_type.representations[0]
    assert rho is b.out_type.representations[1] and gs.representations["concatenated_regular"] is rho
    assert {"pointwise", "norm", "gated", "concatenated"} <= rho.supported_nonlinearities
    assert "vectorfield" not in rho.supported_nonlinearities
    induced = nn.ConcatenatedNonLinearity(ftype(gs, ["quotient:4"])).out_type.representations[0]
    assert {"induced_norm_2", "induced_gated_2"} <= induced.supported_nonlinearities
    nn.assert_equivariant(nn.InducedNormNonLinearity(nn.FieldType(gs, [induced])), elements=list(gs.testing_elements),
                          x=_input(nn.FieldType(gs, [induced]), 1))
    # the concatenated output feeds the modules that need permutation fields
    nn.assert_equivariant(nn.ReLU(a.out_type))


def test_concatenated_rejects_non_permutation_matrices():
    gs = gspaces.Rot2dOnR2(8)
    c, s = np.cos(0.3), np.sin(0.3)
    rotated = change_basis(gs.irrep(4) + gs.trivial_repr, np.array([[c, -s], [s, c]]), "rotated_nl_test",
                           ["concatenated", "norm"])
    with pytest.raises(ValueError, match="signed permutation.*rotated_nl_test"):
        nn.ConcatenatedNonLinearity(nn.FieldType(gs, [rotated]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_cuda():
    gs = gspaces.Rot2dOnR2(8)
    for name, gs_name, tokens, factory in [c for c in CASES if c[1] == "C8"]:
        _, t, module = _build(gs_name, tokens, factory)
        x = _input(t)
        y = module(x).tensor
        y_cuda = module.cuda()(nn.GeometricTensor(x.tensor.cuda(), t)).tensor
        assert y_cuda.is_cuda
        torch.testing.assert_close(y_cuda.cpu(), y, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(module.export()(x.tensor.cuda()).cpu(), y, rtol=1e-5, atol=1e-6)
    del gs


# ---- errors ------------------------------------------------------------------------------------------------
def test_errors():
    c8, so2, d4 = gspaces.Rot2dOnR2(8), GSPACES["SO2"](), gspaces.FlipRot2dOnR2(4)
    t = ftype(c8, ["irrep:1", "regular"])
    with pytest.raises(ValueError, match="function must be one of"):
        nn.NormNonLinearity(t, "p_relu")
    with pytest.raises(ValueError, match="bias must be False"):
        nn.NormNonLinearity(t, "squash")
    with pytest.raises(TypeError, match="bias must be a bool"):
        nn.NormNonLinearity(t, bias="yes")
    with pytest.raises(TypeError, match="in_type must be a FieldType"):
        nn.NormNonLinearity([c8.regular_repr])
    with pytest.raises(ValueError, match=r"InducedNormNonLinearity needs induced.*\['irrep_1', 'regular'\]"):
        nn.InducedNormNonLinearity(t)
    with pytest.raises(ValueError, match="even number of fields"):
        nn.GatedNonLinearity1(ftype(c8, ["trivial", "irrep:1", "trivial"]))
    with pytest.raises(ValueError, match="only 'gate' and 'gated'.*'gates'"):
        nn.GatedNonLinearity1(t, gates=["gates", "gated"])
    with pytest.raises(ValueError, match="list of 2 labels"):
        nn.GatedNonLinearity1(t, gates=["gate"])
    with pytest.raises(ValueError, match=r"gate fields must be trivial.*\['irrep_1'\]"):
        nn.GatedNonLinearity1(t)
    with pytest.raises(ValueError, match=r"number of gates \(1\) must match the number of gated fields \(2\)"):
        nn.GatedNonLinearity1(ftype(so2, ["trivial", "irrep:1", "irrep:2"]), gates=["gate", "gated", "gated"])
    with pytest.raises(TypeError, match="drop_gates must be a bool"):
        nn.GatedNonLinearity1(ftype(so2, ["trivial", "irrep:1"]), drop_gates=None)
    with pytest.warns(UserWarning, match="ignores the keyword arguments"):
        nn.GatedNonLinearity1(ftype(so2, ["trivial", "irrep:1"]), foo=1)
    concat_trivial = nn.ConcatenatedNonLinearity(ftype(c8, ["trivial"])).out_type.representations[0]
    with pytest.raises(ValueError, match="trivial of size 1"):   # trivial, but two channels
        nn.GatedNonLinearity1(nn.FieldType(c8, [concat_trivial, c8.irrep(1)]))
    with pytest.raises(ValueError, match="quotient representations"):
        nn.InducedGatedNonLinearity1(ftype(c8, ["trivial", "induced:4:1"]))
    with pytest.raises(ValueError, match="induced from the gates' subgroup"):
        nn.InducedGatedNonLinearity1(ftype(c8, ["quotient:4", "induced:2:1"]))
    with pytest.raises(ValueError, match="same subgroup"):
        nn.InducedGatedNonLinearity1(ftype(c8, ["quotient:4", "quotient:2", "induced:4:1", "induced:2:1"]))
    with pytest.raises(ValueError, match="one subgroup"):
        nn.InducedGatedNonLinearity1(ftype(d4, ["quotient:(0,2)", "induced:(None,4):1"]))
    with pytest.raises(TypeError, match="pair"):
        nn.GatedNonLinearity2(ftype(c8, ["trivial", "irrep:1"]))
    with pytest.raises(ValueError, match="number of gates"):
        nn.GatedNonLinearity2((ftype(c8, ["trivial"]), t))
    with pytest.raises(ValueError, match=r"'concatenated'.*\['irrep_1'\].*NormNonLinearity"):
        nn.ConcatenatedNonLinearity(t)
    with pytest.raises(ValueError, match="'concatenated'"):
        nn.ConcatenatedNonLinearity(ftype(so2, ["trivial"]))
    with pytest.raises(ValueError, match="function must be one of"):
        nn.ConcatenatedNonLinearity(ftype(c8, ["regular"]), "relu")
    with pytest.raises(ValueError, match=r"'vectorfield'.*\['regular'\]"):
        nn.VectorFieldNonLinearity(ftype(d4, ["regular"]))
    with pytest.raises(ValueError, match="C_N with N >= 3"):
        nn.VectorFieldNonLinearity(ftype(gspaces.Rot2dOnR2(2), ["regular"]))
    with pytest.raises(ValueError, match="C_N with N >= 3"):
        nn.VectorFieldNonLinearity(ftype(gspaces.Flip2dOnR2(), ["regular"]))
    with pytest.raises(ValueError, match="'vectorfield'"):
        nn.VectorFieldNonLinearity(ftype(c8, ["regular", "trivial"]))
    relu = nn.NormNonLinearity(t)
    with pytest.raises(ValueError, match="expects input of type"):
        relu(_input(ftype(c8, ["regular", "irrep:1"])))
    with pytest.raises(TypeError, match="GeometricTensor"):
        relu(torch.randn(1, 10, 3, 3))
    with pytest.raises(ValueError, match="input_shape"):
        relu.evaluate_output_shape((1, 9, 3, 3))
