"""nn.R2PointConv and GeometricTensor(coords=...): exact equivariance under every rotation and reflection (random
angles, float64), the message convention, module protocol (pickle, deepcopy, state_dict, dtype, gradients) and
argument checks."""
import copy
import io
import math
import pickle

import numpy as np
import pytest
import torch

from basisgen.errors import InvalidTypeError, InvalidValueError
from e2layers import gspaces, nn

TOL = 1e-10


def _cloud(ftype, n=40, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    pos = 2 * torch.rand(n, 2, generator=g, dtype=dtype)
    return nn.GeometricTensor(torch.randn(n, ftype.size, generator=g, dtype=dtype), ftype, coords=pos)


def _max_error(conv, x, edges, elements):
    y = conv(x, edges)
    errors = [(conv(x.transform(g), edges).tensor - y.transform(g).tensor).abs().max().item() for g in elements]
    return max(errors), y


def _random_angles(n, seed=1):
    return [float(a) for a in np.random.default_rng(seed).uniform(0, 2 * math.pi, n)]


SO2 = gspaces.Rot2dOnR2(-1, maximum_frequency=4)
O2 = gspaces.FlipRot2dOnR2(-1, maximum_frequency=4)


@pytest.mark.parametrize("aggr", ["mean", "sum"])
def test_so2_irreps_exact_under_random_rotations(aggr):
    t_in = nn.FieldType(SO2, [SO2.trivial_repr, SO2.irrep(1), SO2.irrep(2)])
    t_out = nn.FieldType(SO2, [SO2.irrep(1), SO2.trivial_repr, SO2.irrep(3), SO2.irrep(1)])
    conv = nn.R2PointConv(t_in, t_out, width=1.0, n_rings=3, aggr=aggr).double()
    with torch.no_grad():
        conv.bias.normal_()
    x = _cloud(t_in)
    edges = nn.radius_graph(x.coords, 0.7, loop=True)
    err, y = _max_error(conv, x, edges, _random_angles(8))
    assert err < TOL
    assert y.tensor.abs().mean() > 1e-3               # not a trivially zero output
    # a generic rotation is not a symmetry of a wrong action: the fibres must turn too
    g = 0.7
    wrong = conv(nn.GeometricTensor(x.tensor, t_in, x.transform(g).coords), edges).tensor
    assert (wrong - y.transform(g).tensor).abs().max() > 1e-3


def test_o2_exact_under_random_rotations_and_reflections():
    t_in = nn.FieldType(O2, [O2.trivial_repr, O2.irrep(1, 1), O2.irrep(1, 0), O2.irrep(1, 2)])
    t_out = nn.FieldType(O2, [O2.irrep(1, 2), O2.irrep(0, 0), O2.irrep(1, 0), O2.irrep(1, 1)])
    conv = nn.R2PointConv(t_in, t_out, rings=[0.0, 0.4, 0.8], sigma=0.3, frequencies_cutoff=4.0).double()
    x = _cloud(t_in, seed=3)
    edges = nn.knn_graph(x.coords, 8)
    elements = [(f, a) for f in (0, 1) for a in _random_angles(4, seed=2)]
    assert _max_error(conv, x, edges, elements)[0] < TOL


def test_o2_with_another_axis():
    gs = gspaces.FlipRot2dOnR2(-1, maximum_frequency=3, axis=0.37)
    t = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1, 1), gs.irrep(1, 0)])
    conv = nn.R2PointConv(t, t, width=1.0, n_rings=3).double()
    x = _cloud(t, seed=5)
    edges = nn.radius_graph(x.coords, 0.6)
    assert _max_error(conv, x, edges, [(1, a) for a in _random_angles(3, seed=7)] + [(0, 1.3)])[0] < TOL


def _finite_cases():
    c8, d4, fl, d3 = gspaces.Rot2dOnR2(8), gspaces.FlipRot2dOnR2(4), gspaces.Flip2dOnR2(), \
        gspaces.FlipRot2dOnR2(3, axis=0.3)
    c5 = gspaces.Rot2dOnR2(5)
    return [
        ("C8 regular", c8, [c8.regular_repr] * 2, [c8.regular_repr] * 2),
        ("C8 mixed", c8, [c8.regular_repr, c8.irrep(1), c8.trivial_repr],
         [c8.quotient_repr(2), c8.irrep(3), c8.regular_repr, c8.trivial_repr]),
        ("C5 irreps", c5, [c5.irrep(1), c5.irrep(2)], [c5.irrep(2), c5.trivial_repr]),
        ("D4 regular/quotient", d4, [d4.regular_repr, d4.quotient_repr((None, 2))],
         [d4.regular_repr, d4.quotient_repr((0, 1)), d4.irrep(1, 1), d4.irrep(0, 2), d4.irrep(1, 0)]),
        ("D3 axis 0.3", d3, [d3.regular_repr], [d3.irrep(1, 1), d3.regular_repr]),
        ("flip", fl, [fl.regular_repr, fl.irrep(1)], [fl.regular_repr, fl.trivial_repr]),
    ]


@pytest.mark.parametrize("name, gs, reps_in, reps_out", _finite_cases(), ids=[c[0] for c in _finite_cases()])
def test_finite_groups_exact_under_their_elements(name, gs, reps_in, reps_out):
    t_in, t_out = nn.FieldType(gs, reps_in), nn.FieldType(gs, reps_out)
    conv = nn.R2PointConv(t_in, t_out, width=1.0, n_rings=4).double()
    x = _cloud(t_in, seed=11)
    edges = nn.radius_graph(x.coords, 0.7, loop=True)
    err, y = _max_error(conv, x, edges, list(gs.testing_elements))
    assert err < TOL
    assert y.tensor.abs().mean() > 1e-3
    assert [g for g, e in conv.check_equivariance()] == list(gs.testing_elements)


def test_message_convention_source_minus_target():
    """out_i = mean_j K(x_j - x_i) f_j + bias, K the gspace's basis: checked against the closed form."""
    t_in, t_out = nn.FieldType(SO2, [SO2.trivial_repr]), nn.FieldType(SO2, [SO2.irrep(1)])
    conv = nn.R2PointConv(t_in, t_out, rings=[1.0], sigma=0.5).double()
    basis = SO2.build_kernel_basis(SO2.trivial_repr, SO2.irrep(1), sigma=0.5, rings=[1.0])
    kept = [a["idx"] for a in basis if abs(a["frequency"]) <= 3.0]
    assert len(kept) == conv.weights.numel() == 2
    pos = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    f = torch.tensor([[0.0], [2.0], [-1.0]], dtype=torch.float64)
    edges = torch.tensor([[1, 2], [0, 0]])                 # 1 -> 0 and 2 -> 0
    out = conv(nn.GeometricTensor(f, t_in, pos), edges).tensor
    w = conv.weights.detach().numpy()
    K = basis.sample(np.array([[1.0, 0.0], [0.0, 2.0]]))[..., kept, :]      # (2, 1, 2, 2): offsets x_j - x_0
    expected = (np.einsum("oikp,k,pi->o", K[..., :1], w, f[1:2].numpy())
                + np.einsum("oikp,k,pi->o", K[..., 1:], w, f[2:].numpy())) / 2
    assert np.allclose(out[0].detach().numpy(), expected, atol=1e-13)
    assert torch.equal(out[1:], torch.zeros(2, 2, dtype=torch.float64))     # no edges in, no bias on irrep(1)
    # the reversed offset is the other kernel value: the direction matters
    reversed_out = conv(nn.GeometricTensor(f, t_in, pos), edges, edge_delta=-(pos[edges[0]] - pos[edges[1]])).tensor
    assert (reversed_out[0] - out[0]).abs().max() > 1e-3


def test_sum_is_mean_times_degree_and_edge_delta_matches_coords():
    c4 = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(c4, [c4.regular_repr, c4.trivial_repr])
    mean = nn.R2PointConv(t, t, width=1.0, n_rings=3, bias=False).double()
    total = nn.R2PointConv(t, t, width=1.0, n_rings=3, bias=False, aggr="sum").double()
    total.load_state_dict(mean.state_dict())
    x = _cloud(t, n=30)
    edges = nn.radius_graph(x.coords, 0.5)
    degree = torch.bincount(edges[1], minlength=30).clamp(min=1).double()
    assert torch.allclose(total(x, edges).tensor, mean(x, edges).tensor * degree[:, None], atol=1e-13)
    delta = x.coords[edges[0]] - x.coords[edges[1]]
    no_coords = nn.GeometricTensor(x.tensor, t)
    assert torch.allclose(mean(no_coords, edges, edge_delta=delta).tensor, mean(x, edges).tensor, atol=1e-14)
    filt = mean.expand_filter(delta)
    by_filter = torch.zeros(30, t.size, dtype=torch.float64).index_add_(
        0, edges[1], torch.einsum("eoi,ei->eo", filt, x.tensor[edges[0]])) / degree[:, None]
    assert torch.allclose(by_filter, mean(x, edges).tensor, atol=1e-13)


def test_bias_only_on_trivial_fields():
    c4 = gspaces.Rot2dOnR2(4)
    t_out = nn.FieldType(c4, [c4.irrep(1), c4.regular_repr, c4.trivial_repr])
    conv = nn.R2PointConv(nn.FieldType(c4, [c4.trivial_repr]), t_out, width=1.0, n_rings=2)
    assert conv.bias.numel() == 2
    with torch.no_grad():
        conv.bias.copy_(torch.tensor([1.0, 2.0]))
    x = _cloud(conv.in_type, n=5, dtype=torch.float32)
    y = conv(x, torch.zeros(2, 0, dtype=torch.long)).tensor          # no edges: the bias alone
    assert torch.allclose(y[0], torch.tensor([0, 0, 0.5, 0.5, 0.5, 0.5, 2.0]))
    assert nn.R2PointConv(conv.in_type, nn.FieldType(c4, [c4.irrep(1)]), width=1.0, n_rings=2).bias is None


def test_module_protocol():
    c8 = gspaces.Rot2dOnR2(8)
    t_in = nn.FieldType(c8, [c8.regular_repr, c8.trivial_repr])
    t_out = nn.FieldType(c8, [c8.regular_repr, c8.irrep(2)])
    conv = nn.R2PointConv(t_in, t_out, width=1.0, n_rings=3, basis_filter=lambda a: a["radius"] < 0.9)
    x = _cloud(t_in, dtype=torch.float32)
    edges = nn.radius_graph(x.coords, 0.6, loop=True)
    y = conv(x, edges)
    assert y.shape == conv.evaluate_output_shape(x.shape) == (40, t_out.size)
    assert y.coords is x.coords
    assert sorted(conv.state_dict()) == ["bias", "weights"]
    for clone in (copy.deepcopy(conv), pickle.loads(pickle.dumps(_without_filter(conv)))):
        assert torch.equal(clone(x, edges).tensor, y.tensor)
    fresh = nn.R2PointConv(t_in, t_out, width=1.0, n_rings=3, basis_filter=lambda a: a["radius"] < 0.9)
    buffer = io.BytesIO()
    torch.save(conv.state_dict(), buffer)
    buffer.seek(0)
    fresh.load_state_dict(torch.load(buffer))
    assert torch.equal(fresh(x, edges).tensor, y.tensor)
    # float64: the same numbers to float32's precision, and exactly equivariant
    double = copy.deepcopy(conv).to(torch.float64)
    y64 = double(x.to(torch.float64), edges)
    assert y64.tensor.dtype == torch.float64 and y64.coords.dtype == torch.float64
    assert torch.allclose(y64.tensor.float(), y.tensor, atol=1e-5)
    # gradients reach the weights, the bias, the features and the coordinates, finite at self-loops
    feats = x.tensor.clone().requires_grad_()
    pos = x.coords.clone().requires_grad_()
    conv(nn.GeometricTensor(feats, t_in, pos), edges).tensor.square().sum().backward()
    for g in (conv.weights.grad, conv.bias.grad, feats.grad, pos.grad):
        assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0
    assert "rings=" in repr(conv)


def _without_filter(conv):
    # the kept elements are decided at construction: the filter callable is not part of the module's state
    assert not any(callable(v) and getattr(v, "__name__", "") == "<lambda>" for v in vars(conv).values())
    return conv


def test_shared_bases_and_recompute():
    from e2layers.nn.r2pointconv import _shared_basis
    c4 = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(c4, [c4.regular_repr])
    a = nn.R2PointConv(t, t, width=1.0, n_rings=2)
    hits = _shared_basis.cache_info().hits
    b = nn.R2PointConv(t, t, width=1.0, n_rings=2)
    assert _shared_basis.cache_info().hits == hits + 1
    c = nn.R2PointConv(t, t, width=1.0, n_rings=2, recompute=True)
    assert _shared_basis.cache_info().hits == hits + 1
    b.load_state_dict(a.state_dict())
    c.load_state_dict(a.state_dict())
    x = _cloud(t, n=10, dtype=torch.float32)
    edges = nn.knn_graph(x.coords, 3)
    assert torch.equal(a(x, edges).tensor, b(x, edges).tensor) and torch.equal(a(x, edges).tensor, c(x, edges).tensor)


@pytest.mark.parametrize("kwargs, match", [
    (dict(), "rings or both width and n_rings"),
    (dict(width=1.0), "rings or both width and n_rings"),
    (dict(width=1.0, n_rings=3, rings=[0.0, 1.0]), "not both"),
    (dict(width=-1.0, n_rings=3), "width"),
    (dict(width=1.0, n_rings=0), "n_rings"),
    (dict(rings=[]), "rings"),
    (dict(rings=[-1.0]), "rings"),
    (dict(rings=[0.0, 1.0], sigma=[0.5]), "sigma"),
    (dict(rings=[0.0, 1.0], sigma=0.0), "sigma"),
    (dict(rings=[1.0], frequencies_cutoff=-2.0), "frequencies_cutoff"),
    (dict(rings=[1.0], frequencies_cutoff=lambda r: float("nan")), "frequencies_cutoff"),
    (dict(rings=[1.0], groups=2), "groups"),
    (dict(rings=[1.0], aggr="max"), "aggr"),
    (dict(rings=[1.0], bias="yes"), "bias"),
    (dict(rings=[1.0], basis_filter=3), "basis_filter"),
    (dict(rings=[0.0]), "empty"),             # irrep 1 -> trivial needs frequency 1: none at radius 0
])
def test_bad_construction_arguments_are_named(kwargs, match):
    with pytest.raises((InvalidValueError, InvalidTypeError), match=match):
        nn.R2PointConv(nn.FieldType(SO2, [SO2.irrep(1)]), nn.FieldType(SO2, [SO2.trivial_repr]), **kwargs)


def test_bad_forward_arguments_are_named():
    t = nn.FieldType(SO2, [SO2.trivial_repr])
    conv = nn.R2PointConv(t, t, rings=[0.0, 1.0])
    x = _cloud(t, n=5, dtype=torch.float32)
    good = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(InvalidValueError, match="edge_index"):
        conv(x, good.float())
    with pytest.raises(InvalidValueError, match="edge_index"):
        conv(x, good[0])
    with pytest.raises(InvalidValueError, match=r"\[0, 5\)"):
        conv(x, torch.tensor([[0, 5], [1, 0]]))
    with pytest.raises(InvalidValueError, match="coords"):
        conv(nn.GeometricTensor(x.tensor, t), good)
    with pytest.raises(InvalidValueError, match="edge_delta"):
        conv(x, good, edge_delta=torch.zeros(3, 2))
    with pytest.raises(InvalidValueError, match="point cloud"):
        conv(nn.GeometricTensor(torch.zeros(1, 1, 3, 3), t), good)
    with pytest.raises(InvalidValueError, match="expects input of type"):
        conv(_cloud(nn.FieldType(SO2, [SO2.irrep(1)]), n=5, dtype=torch.float32), good)


# ---- GeometricTensor(coords=...) ------------------------------------------------------------------------------
D4 = gspaces.FlipRot2dOnR2(4)


def _rotation(angle):
    return np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])


def test_transform_moves_points_and_fibres():
    t = nn.FieldType(D4, [D4.regular_repr, D4.irrep(1, 1)])
    x = _cloud(t, n=6)
    mirror = np.diag([-1.0, 1.0])            # D4's reflection, axis pi/2: x -> -x (docs/math.md)
    for f, k in D4.testing_elements:
        M = _rotation(k * math.pi / 2) @ np.linalg.matrix_power(mirror, f)
        moved = x.transform((f, k))
        assert np.allclose(moved.coords.numpy(), x.coords.numpy() @ M.T, atol=1e-15)
        rho = torch.as_tensor(t.fiber_matrix((f, k)))
        assert torch.allclose(moved.tensor, x.tensor @ rho.T, atol=1e-15)
    # quarter turns and the flip are exact: (x, y) -> (-y, x) and x -> -x
    assert torch.equal(x.transform((1, 0)).coords, x.coords * torch.tensor([-1.0, 1.0], dtype=torch.float64))
    assert torch.equal(x.transform((0, 1)).coords, torch.stack([-x.coords[:, 1], x.coords[:, 0]], 1))
    # O(2), any angle: the matrices match the closed form and compose as the group does
    y = _cloud(nn.FieldType(O2, [O2.irrep(1, 1)]), n=4)
    a, b = (1, 0.3), (0, 1.1)
    assert np.allclose(y.transform(a).coords.numpy(), y.coords.numpy() @ (_rotation(0.3) @ mirror).T, atol=1e-15)
    ab = O2.fibergroup.combine(a, b)
    assert torch.allclose(y.transform(b).transform(a).coords, y.transform(ab).coords, atol=1e-14)
    assert torch.allclose(y.transform(b).transform(a).tensor, y.transform(ab).tensor, atol=1e-14)


def test_coords_follow_indexing_split_to_and_sums():
    t = nn.FieldType(D4, [D4.regular_repr, D4.trivial_repr, D4.irrep(1, 1)])
    x = _cloud(t, n=8)
    assert torch.equal(x[2:5].coords, x.coords[2:5]) and x[2:5].shape == (3, t.size)
    assert torch.equal(x[3].coords, x.coords[3:4])
    assert torch.equal(x[::-2].coords, x.coords.flip(0)[::2])
    assert x[:, 1].coords is x.coords and x[:, 1].type.size == 1
    assert all(p.coords is x.coords for p in x.split([1, 2]))
    assert x.restrict((None, 4)).coords is x.coords
    assert x.transform_fibers((1, 1)).coords is x.coords
    x32 = x.to(torch.float32)
    assert x32.coords.dtype == torch.float32 and x32.tensor.dtype == torch.float32
    assert x.to(torch.int64).coords.dtype == torch.float64
    assert (x + x).coords is x.coords and (2 * x).coords is x.coords
    s = nn.tensor_directsum([x, x[:, 1]])
    assert s.coords is x.coords and s.type.size == t.size + 1
    other = nn.GeometricTensor(x.tensor, t, x.coords + 1)
    with pytest.raises(InvalidValueError, match="same points"):
        x + other
    with pytest.raises(InvalidValueError, match="same points"):
        nn.tensor_directsum([x, nn.GeometricTensor(x.tensor, t)])
    assert "coords=" in repr(x)
    plain = nn.GeometricTensor(torch.zeros(2, t.size, 3, 3), t)
    assert plain.coords is None and plain[:, 1].coords is None and (plain + plain).coords is None


@pytest.mark.parametrize("tensor, coords, match", [
    (torch.zeros(4, 1), [[0.0, 0.0]] * 4, "torch.Tensor"),
    (torch.zeros(4, 1), torch.zeros(4, 3), r"\(N, 2\)"),
    (torch.zeros(4, 1), torch.zeros(5, 2), r"\(N, 2\)"),
    (torch.zeros(4, 1), torch.zeros(4, 2, dtype=torch.long), "floating"),
    (torch.zeros(4, 1, 2, 2), torch.zeros(4, 2), "point cloud"),
])
def test_bad_coords_are_named(tensor, coords, match):
    with pytest.raises((InvalidValueError, InvalidTypeError), match=match):
        nn.GeometricTensor(tensor, nn.FieldType(D4, [D4.trivial_repr]), coords=coords)


def test_every_module_keeps_the_points_of_a_cloud():
    """escnn's convention: a module that keeps the rows of a point cloud keeps its coords, so point convolutions
    chain through non-linearities and normalisations without re-wrapping."""
    gs = gspaces.Rot2dOnR2(-1, maximum_frequency=2)
    t = nn.FieldType(gs, 2 * [gs.irrep(k) for k in range(3)])
    pts = torch.randn(25, 2)
    x = nn.GeometricTensor(torch.randn(25, t.size), t, coords=pts)
    for module in (nn.NormNonLinearity(t, "n_relu"), nn.IIDBatchNorm1d(t), nn.Linear(t, t),
                   nn.SequentialModule(nn.NormNonLinearity(t), nn.IdentityModule(t))):
        y = module(x)
        assert y.coords is pts, type(module).__name__
    assert nn.NormNonLinearity(t)(nn.GeometricTensor(x.tensor, t)).coords is None     # no points, none added
    conv = nn.R2PointConv(t, t, width=1.0, n_rings=3)
    edges = nn.radius_graph(pts, 1.0)
    assert conv(nn.NormNonLinearity(t)(conv(x, edges)), edges).shape == (25, t.size)
