"""Weights -> filter: e2cnn's layout and values on multi-field layers, and equivariance of the result."""
import ast
import json

import numpy as np
import pytest
import torch

import basisgen as bg
from basisgen import cache
from e2layers.expansion import BasisExpansion
from paths import E2CNN_FIXTURES

DATA = E2CNN_FIXTURES
CASES = json.loads((DATA / "filters.json").read_text())


pytestmark = pytest.mark.usefixtures("private_cache")


def _group(gspace: str):
    if "FlipRot2dOnR2(-1" in gspace:
        return bg.o2_group(4)
    if "Rot2dOnR2(-1" in gspace:
        return bg.so2_group(4)
    N = int(gspace.split("(")[1].split(")")[0].split(",")[0])
    return bg.dihedral_group(N) if "Flip" in gspace else bg.cyclic_group(N)


def _repr(G, spec: str):
    if spec == "regular":
        return G.regular_representation
    if spec == "trivial":
        return G.trivial_representation
    kind, arg = spec.split(":")
    if kind == "irrep":
        return G.irrep_representation(*[int(x) for x in arg.split(",")])
    return G.quotient_representation(ast.literal_eval(arg))


@pytest.mark.parametrize("name", list(CASES))
def test_filter_equals_e2cnn_for_the_same_weights(name):
    case = CASES[name]
    G = _group(case["gspace"])
    expansion = BasisExpansion([_repr(G, s) for s in case["in"]], [_repr(G, s) for s in case["out"]],
                               case["kernel_size"], dilation=case["dilation"])
    assert expansion.dimension() == case["weights"]
    arrays = np.load(DATA / "filters.npz")
    weights = torch.as_tensor(arrays[f"{name}__weights"])
    ours = expansion(weights).detach().numpy()
    reference = arrays[f"{name}__filter"]
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-5 * np.abs(reference).max())


def test_expanded_filters_are_equivariant_in_float64():
    G = bg.dihedral_group(4)
    ins = [G.regular_representation, G.irrep_representation(1, 1), G.trivial_representation]
    outs = [G.irrep_representation(1, 1), G.regular_representation]
    expansion = BasisExpansion(ins, outs, 5, dtype=torch.float64)
    filt = expansion(torch.randn(expansion.dimension(), dtype=torch.float64))
    x = torch.randn(2, sum(r.size for r in ins), 11, 11, dtype=torch.float64)
    conv = lambda t: torch.nn.functional.conv2d(t, filt, padding=2)   # noqa: E731
    for g in G.elements:
        j, theta = G.element_action(g)
        k = int(round(theta / (np.pi / 2))) % 4
        if abs(theta - k * np.pi / 2) > 1e-9 and abs(theta - k * np.pi / 2 - 2 * np.pi) > 1e-9:
            continue
        rho_in = torch.block_diag(*[torch.as_tensor(r(g)) for r in ins])
        rho_out = torch.block_diag(*[torch.as_tensor(r(g)) for r in outs])

        def act(t, rho):
            t = torch.einsum("oi,bihw->bohw", rho, t)
            if j:   # the default axis pi/2 mirrors x -> -x: reverse the columns
                t = t.flip(-1)
            return torch.rot90(t, k, dims=(-2, -1))
        err = (conv(act(x, rho_in)) - act(conv(x), rho_out)).abs().max().item()
        assert err < 1e-12, (g, err)


def test_gradients_reach_the_weights_and_state_is_small():
    G = bg.dihedral_group(16)
    reg = G.regular_representation
    expansion = BasisExpansion([reg] * 4, [reg] * 4, 7)
    w = torch.randn(expansion.dimension(), requires_grad=True)
    expansion(w).square().sum().backward()
    assert w.grad is not None and torch.isfinite(w.grad).all() and w.grad.abs().sum() > 0
    # derived data held outside the buffers: DistributedDataParallel broadcasts every buffer at each step
    assert list(expansion.buffers()) == [] and expansion.basis_tensors()
    held = expansion.basis_nbytes()
    assert held < 11.5e6    # a tenth of e2cnn's 115 MB for this basis
    assert len(expansion.state_dict()) == 0   # the basis is derived data: never in a checkpoint


def test_bad_weights_shape_is_rejected():
    reg = bg.cyclic_group(4).regular_representation
    expansion = BasisExpansion([reg], [reg], 3)
    with pytest.raises(ValueError, match="weights must have shape"):
        expansion(torch.randn(expansion.dimension() + 1))


def _field_type(group: str, fields: int):
    """``fields`` fields of: the regular representation (C8, D4), the irreps of frequency 0..3 summed without a
    change of basis (SO2, O2: Q_out = I), one trivial channel (trivial) or one frequency-1 irrep (irrep1)."""
    from e2layers import gspaces, nn
    gs = {"C8": lambda: gspaces.Rot2dOnR2(8), "D4": lambda: gspaces.FlipRot2dOnR2(4),
          "SO2": lambda: gspaces.Rot2dOnR2(-1, maximum_frequency=3),
          "O2": lambda: gspaces.FlipRot2dOnR2(-1, maximum_frequency=3),
          "trivial": lambda: gspaces.Rot2dOnR2(4), "irrep1": lambda: gspaces.Rot2dOnR2(-1, maximum_frequency=3)}[group]()
    if group in ("C8", "D4"):
        rep = gs.regular_repr
    elif group == "SO2":
        rep = nn.FieldType(gs, [gs.irrep(k) for k in range(4)]).representation
    elif group == "O2":
        rep = nn.FieldType(gs, [gs.irrep(0, 0)] + [gs.irrep(1, k) for k in range(1, 4)]).representation
    else:
        rep = gs.trivial_repr if group == "trivial" else gs.irrep(1)
    return nn.FieldType(gs, fields * [rep])


@pytest.mark.parametrize("group,fields,kwargs", [
    ("C8", 3, dict(padding=2)), ("D4", 3, dict(padding=1, stride=2, padding_mode="reflect")),
    ("SO2", 3, dict(dilation=2, bias=False)), ("C8", 3, dict(padding=2, padding_mode="circular")),
    ("SO2", 3, dict(padding=2)), ("O2", 2, dict(padding=1)), ("SO2", 1, dict(padding=2)),
    ("trivial", 4, dict(padding=2)), ("irrep1", 3, dict(padding=2, bias=False))])
def test_training_forward_with_the_output_basis_change_equals_the_filter_path(group, fields, kwargs):
    """R2Conv changes the basis of the output instead of the filter when that is cheaper (small batches in
    training); values and gradients must be those of the plain convolution with the expanded filter.  SO2, O2,
    trivial and irrep1 fields have Q_out = I (the change of basis is a reordering); SO2 with one field and the
    trivial fields make that reordering a no-op, where the bias must still not alias the convolution's output."""
    from e2layers import nn
    t = _field_type(group, fields)
    torch.manual_seed(0)
    conv = nn.R2Conv(t, t, 5, **kwargs).double()
    if conv.bias is not None:
        torch.nn.init.normal_(conv.bias)
    x = torch.randn(2, t.size, 13, 13, dtype=torch.float64, requires_grad=True)
    calls = []
    original = conv.basisexpansion.rows_filter
    conv.basisexpansion.rows_filter = lambda w: calls.append(1) or original(w)
    conv.basisexpansion.OUTPUT_BASIS_FACTOR = 0          # always: the output path
    y = conv(nn.GeometricTensor(x, t)).tensor
    assert calls, "the output-side path was not taken"
    grads = torch.autograd.grad(y.square().sum(), [x] + list(conv.parameters()))
    conv.basisexpansion.OUTPUT_BASIS_FACTOR = float("inf")   # never: the filter path
    calls.clear()
    y_ref = conv(nn.GeometricTensor(x, t)).tensor
    assert not calls
    grads_ref = torch.autograd.grad(y_ref.square().sum(), [x] + list(conv.parameters()))
    torch.testing.assert_close(y, y_ref, rtol=1e-10, atol=1e-10)
    for g, g_ref in zip(grads, grads_ref):
        torch.testing.assert_close(g, g_ref, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("group", [pytest.param(g, marks=pytest.mark.slow) for g in ("C8", "SO2", "O2")]
                         + ["trivial", "irrep1"])
def test_expansion_gradient_is_the_exact_adjoint(group):
    """The custom backward (both the Q_out product and the Q_out = I reordering) against finite differences,
    in float64, on a layer mixing two field types (so the placement gather runs too) and on one type."""
    from e2layers import nn
    t = _field_type(group, 2)
    mixed = nn.FieldType(t.gspace, list(t.representations) + [t.gspace.trivial_repr])
    for in_type, out_type in ((t, t), (mixed, t), (t, mixed)):
        expansion = BasisExpansion([r.basisgen for r in in_type.representations],
                                   [r.basisgen for r in out_type.representations], 3, dtype=torch.float64)
        w = torch.randn(expansion.dimension(), dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(expansion, (w,), eps=1e-6, atol=1e-8)


def test_changing_the_dtype_reads_no_cache_and_derives_nothing():
    """The cache holds one float64 entry per basis; .double()/.half()/.to(dtype) re-derive the held tensors
    from the float64 basis the layer already has: no disk read, no memo lookup, no sampling, no write."""
    from e2layers import gspaces, nn
    r2 = gspaces.FlipRot2dOnR2(4)
    t = nn.FieldType(r2, 2 * [r2.regular_repr] + [r2.irrep(1, 1)])
    conv = nn.R2Conv(t, t, 5, padding=2)
    c = cache.default_cache()
    stats = dict(c.stats)
    assert stats["computed"] >= 1 and stats["written"] == stats["computed"]
    x = torch.randn(2, t.size, 9, 9, dtype=torch.float64)
    conv.double()
    assert c.stats == stats
    assert all(v.dtype in (torch.float64, torch.int64) for v in conv.basisexpansion.basis_tensors().values())
    assert conv.bias_expansion.dtype == torch.float64
    # exactly the float64 layer built from scratch (not a widened float32 basis)
    torch.set_default_dtype(torch.float64)
    try:
        fresh = nn.R2Conv(t, t, 5, padding=2)
    finally:
        torch.set_default_dtype(torch.float32)
    fresh.load_state_dict(conv.state_dict())
    for name, tensor in fresh.basisexpansion.basis_tensors().items():
        assert torch.equal(tensor, conv.basisexpansion.basis_tensors()[name]), name
    torch.testing.assert_close(conv(nn.GeometricTensor(x, t)).tensor, fresh(nn.GeometricTensor(x, t)).tensor,
                               rtol=0, atol=0)
    stats = dict(c.stats)
    conv.half()
    conv.to(torch.float32)
    conv.to(dtype=torch.float64)
    conv.float()
    assert c.stats == stats
    assert conv.basisexpansion.basis_dtype == torch.float32 and len(conv.state_dict()) == 2
