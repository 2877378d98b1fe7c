"""nn.restrict_network: a trained G-network re-expressed over a subgroup H gives the same outputs (float64:
1e-10 relative, float32: 1e-6), is H-equivariant on the grid at rounding level, has its convolution weights in
H's basis (solved, residual checked), can be fine-tuned as an H-network, and leaves the original untouched.

Every group/subgroup pair the gspaces accept is covered (docs/restricting.md lists the ids): D_N -> C_M, flips,
D_M (M | N, every axis index), C_N -> C_M, O(2) -> SO(2), D_M, C_M, flips, SO(2) -> C_M, Flip -> trivial.
"""
import copy
import pickle

import numpy as np
import pytest
import torch

from basisgen.errors import InvalidValueError
from e2layers import gspaces, nn
from e2layers.nn.restrict_network import RestrictionError, _solved_parameters

pytestmark = pytest.mark.usefixtures("module_cache")

SIZE = 16      # 5x5 conv -> 12, 3x3 padded conv -> 12, 2x2 pool -> 6: every grid element maps the grids onto themselves


def D(N):
    return gspaces.FlipRot2dOnR2(N)


def C(N):
    return gspaces.Rot2dOnR2(N)


def O2():
    return gspaces.FlipRot2dOnR2(-1, maximum_frequency=3)


def SO2():
    return gspaces.Rot2dOnR2(-1, maximum_frequency=3)


#: (gspace factory, subgroup id, a quotient id of G for a quotient field or None)
PAIRS = [
    (lambda: D(4), (None, 4), (0, 1)), (lambda: D(4), (None, 2), (0, 1)), (lambda: D(4), (None, 1), (0, 1)),
    (lambda: D(4), (0, 1), (0, 1)), (lambda: D(4), (1, 1), (0, 1)), (lambda: D(4), (3, 1), (0, 1)),
    (lambda: D(4), (0, 2), (0, 1)), (lambda: D(4), (1, 2), (0, 1)),
    (lambda: D(6), (0, 3), (None, 2)), (lambda: D(6), (1, 3), (None, 2)), (lambda: D(3), (2, 1), (0, 1)),
    (lambda: D(3), (None, 3), (0, 1)), (lambda: D(1), (0, 1), None), (lambda: D(1), (None, 1), None),
    (lambda: C(8), 4, 2), (lambda: C(8), 2, 4), (lambda: C(8), 1, 2), (lambda: C(6), 3, 2), (lambda: C(6), 2, 3),
    (lambda: gspaces.Flip2dOnR2(), 1, None),
    (O2, (None, -1), None), (O2, (None, 4), None), (O2, (0.0, 4), None), (O2, (0.0, 2), None), (O2, (0.0, 1), None),
    (O2, (float(np.pi / 2), 1), None), (O2, (0.0, -1), None), (O2, (float(np.pi / 2), -1), None), (SO2, 4, None), (SO2, 8, None), (SO2, 1, None),
]


def _pair_id(pair):
    gs = pair[0]()
    return f"{gs.name}->{pair[1]}"


#: the pairs of the quick subset (one per kind of restriction); the others are marked slow
QUICK = {"Flip_4-Rotations(f=1.57080)->(None, 4)", "8-Rotations->4",
         "Flip_Continuous-Rotations(f=1.57080)->(None, -1)", "Continuous-Rotations->4", "Flips->1"}
PAIR_PARAMS = [pytest.param(pair, id=_pair_id(pair), marks=() if _pair_id(pair) in QUICK else pytest.mark.slow)
               for pair in PAIRS]


def regular_net(gs, quotient_id=None):
    """conv (trivial -> 2 regular [+ quotient]) -> InnerBatchNorm -> ReLU -> conv -> ELU -> max pool -> GroupPooling."""
    t_in = nn.FieldType(gs, [gs.trivial_repr])
    reprs = 2 * [gs.regular_repr] + ([gs.quotient_repr(quotient_id)] if quotient_id is not None else [])
    t = nn.FieldType(gs, reprs)
    return nn.SequentialModule(nn.R2Conv(t_in, t, 5), nn.InnerBatchNorm(t), nn.ReLU(t),
                               nn.R2Conv(t, t, 3, padding=1), nn.ELU(t), nn.PointwiseMaxPool(t, 2),
                               nn.GroupPooling(t))


def irrep_net(gs):
    """conv (trivial -> 2 copies of the irreps) -> NormNonLinearity -> conv -> NormPool."""
    G = gs.fibergroup
    irreps = [psi for psi in G.irreps.values()][:4]
    t_in = nn.FieldType(gs, [gs.trivial_repr])
    t = nn.FieldType(gs, 2 * irreps)
    return nn.SequentialModule(nn.R2Conv(t_in, t, 5), nn.NormNonLinearity(t), nn.R2Conv(t, t, 3, padding=1),
                               nn.NormPool(t))


def trained(net, dtype=torch.float64):
    """``net`` in ``dtype`` with random (non-zero) biases and running statistics from a train-mode batch."""
    net = net.to(dtype)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
        net.train()
        net(nn.GeometricTensor(torch.randn(4, net.in_type.size, SIZE, SIZE, dtype=dtype), net.in_type))
    return net.eval()


def child(net, i):
    return list(net.children())[i]


def outputs(net, x):
    with torch.no_grad():
        return net(nn.GeometricTensor(x, net.in_type)).tensor


def relative(a, b):
    a, b = a.detach(), b.detach()
    return float((a - b).abs().max() / b.abs().max()) if a.numel() else 0.0


@pytest.mark.parametrize("pair", PAIR_PARAMS)
def test_same_outputs_and_subgroup_equivariance(pair):
    """For every pair: same outputs (float64, 1e-10, eval and train mode), restricted types in and out, and
    equivariance of the restricted network under the subgroup's grid elements."""
    gs_factory, subgroup_id, quotient_id = pair
    gs = gs_factory()
    nets = [irrep_net(gs)] if gs.fibergroup.continuous else [regular_net(gs, quotient_id), irrep_net(gs)]
    for net in nets:
        net = trained(net)
        restricted = nn.restrict_network(net, subgroup_id)
        subspace = gs.restrict(subgroup_id)[0]
        assert restricted.in_type == net.in_type.restrict(subgroup_id)
        assert restricted.out_type == net.out_type.restrict(subgroup_id)
        assert restricted.in_type.gspace == subspace
        x = torch.randn(3, net.in_type.size, SIZE, SIZE, dtype=torch.float64)
        assert relative(outputs(restricted, x), outputs(net, x)) < 1e-10
        nn.assert_equivariant(restricted, nn.GeometricTensor(x, restricted.in_type), tolerance=1e-10)
        net.train(), restricted.train()
        assert relative(outputs(restricted, x), outputs(net, x)) < 1e-10      # batch statistics: the same fields


def test_float32_outputs_match():
    net = trained(regular_net(D(4), (0, 1)), torch.float32)
    restricted = nn.restrict_network(net, (None, 4))
    x = torch.randn(2, 1, SIZE, SIZE)
    assert child(restricted, 0).weights.dtype == torch.float32
    assert relative(outputs(restricted, x), outputs(net, x)) < 1e-6


def test_weights_are_solved_in_the_subgroup_basis():
    """The restricted conv is an R2Conv over C4 with C4's (larger) basis, and its filter is the D4 filter."""
    net = trained(regular_net(D(4)))
    restricted = nn.restrict_network(net, (None, 4))
    g_conv, h_conv = child(net, 3), child(restricted, 3)
    assert type(h_conv) is nn.R2Conv and h_conv.in_type.gspace.name == "4-Rotations"
    assert h_conv.weights.numel() == h_conv.basisexpansion.dimension() > g_conv.weights.numel()
    native = nn.R2Conv(h_conv.in_type, h_conv.out_type, 3, padding=1)     # a C4 layer built from scratch
    assert native.weights.numel() == h_conv.weights.numel()
    g_filter, g_bias = g_conv.expand_parameters()
    h_filter, h_bias = h_conv.expand_parameters()
    assert relative(h_filter, g_filter) < 1e-12 and relative(h_bias, g_bias) < 1e-12
    assert h_conv.bias.numel() > g_conv.bias.numel()       # D4's sign irreps are C4-trivial: more biases


def test_original_untouched_and_parameters_not_shared():
    net = trained(regular_net(D(4)))
    before = copy.deepcopy(net.state_dict())
    restricted = nn.restrict_network(net, (0, 1))
    after = net.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert net.in_type.gspace == D(4)
    own = {p.data_ptr() for p in net.parameters()} | {b.data_ptr() for b in net.buffers()}
    assert not own & ({p.data_ptr() for p in restricted.parameters()} | {b.data_ptr() for b in restricted.buffers()})


def test_fine_tuning_moves_weights_within_the_subgroup_basis():
    """One optimiser step: the restricted network stays C4-equivariant, and is no longer D4-invariant (its
    parameters are C4 parameters, not D4 ones)."""
    net = trained(regular_net(D(4)))
    restricted = nn.restrict_network(net, (None, 4)).train()
    x = torch.randn(4, 1, SIZE, SIZE, dtype=torch.float64)
    opt = torch.optim.SGD(restricted.parameters(), lr=0.5)
    target = torch.randn(4, 2, 6, 6, dtype=torch.float64)
    loss = ((restricted(nn.GeometricTensor(x, restricted.in_type)).tensor - target) ** 2).mean()
    loss.backward()
    opt.step()
    restricted.eval()
    nn.assert_equivariant(restricted, nn.GeometricTensor(x, restricted.in_type), tolerance=1e-10)
    flip = (1, 0)          # in D4, outside C4: the invariant output changes under it after fine-tuning
    flipped = net.in_type.transform(x, flip)
    y, y_flipped = outputs(restricted, x), outputs(restricted, flipped)
    assert relative(net.out_type.transform(y, flip), y_flipped) > 1e-6
    assert relative(outputs(net, flipped), net.out_type.transform(outputs(net, x), flip)) < 1e-10


@pytest.mark.parametrize("make", [pytest.param("diffop", marks=pytest.mark.slow), "transposed", "linear", "groups",
                                  "offset_filter"])
def test_other_basis_layers(make):
    """R2Diffop, R2ConvTransposed, Linear, grouped convolutions and G-layers with maximum_offset/basis_filter."""
    gs = D(4)
    t_in, t = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1, 1)]), nn.FieldType(gs, 2 * [gs.regular_repr])
    shape = (2, t_in.size, 11, 11)
    if make == "diffop":
        layer = nn.R2Diffop(t_in, t, 5)
    elif make == "transposed":
        layer = nn.R2ConvTransposed(t_in, t, 4, stride=2, padding=1)
        shape = (2, t_in.size, 7, 7)
    elif make == "linear":
        layer = nn.Linear(t_in, t)
        shape = (5, t_in.size)
    elif make == "groups":
        layer = nn.R2Conv(t, t, 3, groups=2)
        shape = (2, t.size, 11, 11)
    else:
        layer = nn.R2Conv(t_in, t, 5, maximum_offset=0, basis_filter=lambda attr: attr["radius"] < 1.5)
    layer = trained(nn.SequentialModule(layer)) if make != "linear" else nn.SequentialModule(layer).double().eval()
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(torch.randn_like(p))
    for subgroup_id in ((None, 4), (1, 1)):
        restricted = nn.restrict_network(layer, subgroup_id)
        assert type(child(restricted, 0)) is type(child(layer, 0))
        x = torch.randn(*shape, dtype=torch.float64)
        assert relative(outputs(restricted, x), outputs(layer, x)) < 1e-10
        if make != "linear":
            nn.assert_equivariant(restricted, nn.GeometricTensor(x, restricted.in_type), tolerance=1e-10)


def test_batch_norms_and_kept_modules():
    """Normalisations and non-linearities without a basis are kept with their statistics: equal outputs in eval
    and in train mode."""
    gs = D(4)
    irreps = nn.FieldType(gs, [gs.irrep(1, 1), gs.irrep(1, 1)])
    mixed = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1, 1), gs.regular_repr])
    t_in = nn.FieldType(gs, [gs.trivial_repr])
    net = nn.SequentialModule(nn.R2Conv(t_in, irreps, 3), nn.NormBatchNorm(irreps), nn.R2Conv(irreps, mixed, 3),
                              nn.GNormBatchNorm(mixed), nn.IIDBatchNorm2d(mixed), nn.FieldNorm(mixed),
                              nn.FieldDropout(mixed, p=0.0), nn.NormPool(mixed))
    net = trained(net)
    restricted = nn.restrict_network(net, (None, 4))
    for a, b in zip(net.buffers(), restricted.buffers()):
        assert torch.equal(a, b)        # running statistics copied
    x = torch.randn(3, 1, 12, 12, dtype=torch.float64)
    for mode in (False, True):
        net.train(mode), restricted.train(mode)
        assert relative(outputs(restricted, x), outputs(net, x)) < 1e-10


def test_vector_field_nonlinearity_is_kept():
    """C8 regular fields -> VectorFieldNonLinearity (frequency-1 vectors) -> conv: restricted to C4, the same outputs."""
    gs = C(8)
    t_in, t = nn.FieldType(gs, [gs.trivial_repr]), nn.FieldType(gs, 2 * [gs.regular_repr])
    vectors = nn.VectorFieldNonLinearity(t)
    net = trained(nn.SequentialModule(nn.R2Conv(t_in, t, 3), vectors, nn.R2Conv(vectors.out_type, t, 3)))
    restricted = nn.restrict_network(net, 4)
    x = torch.randn(2, 1, 11, 11, dtype=torch.float64)
    assert relative(outputs(restricted, x), outputs(net, x)) < 1e-10
    nn.assert_equivariant(restricted, nn.GeometricTensor(x, restricted.in_type), tolerance=1e-10)


def test_group_pooling_pools_the_whole_original_field():
    """A D4 regular field restricted to C4 is one field of 8 channels (two C4 regular fields after a change of
    basis): the restricted GroupPooling still takes the largest of the 8."""
    gs = D(4)
    t = nn.FieldType(gs, 3 * [gs.regular_repr])
    restricted = nn.restrict_network(nn.GroupPooling(t), (None, 4))
    assert [r.size for r in restricted.in_type.representations] == [8, 8, 8]
    x = torch.randn(2, 24, 3, 3, dtype=torch.float64)
    expected = x.view(2, 3, 8, 3, 3).amax(dim=2)
    assert torch.equal(outputs(restricted, x), expected)


class PlainNet(torch.nn.Module):
    """A plain module holding field types and equivariant modules, with a torch head on invariant features."""

    def __init__(self, gs):
        super().__init__()
        self.in_type = nn.FieldType(gs, [gs.trivial_repr])
        t = nn.FieldType(gs, 2 * [gs.regular_repr])
        self.body = nn.SequentialModule(nn.R2Conv(self.in_type, t, 5), nn.ReLU(t), nn.GroupPooling(t))
        self.head = torch.nn.Linear(2, 3)

    def forward(self, x):
        y = self.body(nn.GeometricTensor(x, self.in_type)).tensor.mean(dim=(2, 3))
        return self.head(y)


def test_plain_module_container_pickle_and_export():
    net = PlainNet(C(8)).double().eval()
    restricted = nn.restrict_network(net, 4)
    assert restricted.in_type == net.in_type.restrict(4)
    x = torch.randn(2, 1, 13, 13, dtype=torch.float64)
    with torch.no_grad():
        expected = net(x)
        assert relative(restricted(x), expected) < 1e-10
        assert relative(pickle.loads(pickle.dumps(restricted))(x), expected) < 1e-10
        assert relative(nn.export(restricted)(x), expected) < 1e-10
    state = restricted.state_dict()
    fresh = nn.restrict_network(PlainNet(C(8)).double(), 4)
    fresh.load_state_dict(state)
    with torch.no_grad():
        assert relative(fresh.eval()(x), expected) < 1e-10


class Custom(nn.IdentityModule):
    """An equivariant module restrict_network does not know (a subclass of one it does)."""


def test_clear_errors():
    gs = D(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    with pytest.raises(RestrictionError, match=r"Sequential.*\.1.*does not know Custom"):
        nn.restrict_network(nn.SequentialModule(nn.ReLU(t), Custom(t)), (None, 4))
    with pytest.raises(RestrictionError, match="RestrictionModule"):
        nn.restrict_network(nn.SequentialModule(nn.RestrictionModule(t, (None, 4))), (None, 4))
    with pytest.raises(InvalidValueError, match="subgroup_id"):
        nn.restrict_network(nn.ReLU(t), (None, 3))
    with pytest.raises(TypeError, match="torch.nn.Module"):
        nn.restrict_network("net", (None, 4))

    class OwnParameter(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.relu = nn.ReLU(t)
            self.scale = torch.nn.Parameter(torch.ones(1))

    with pytest.raises(RestrictionError, match="OwnParameter has parameters of its own"):
        nn.restrict_network(OwnParameter(), (None, 4))


def test_a_filter_outside_the_subgroup_basis_is_refused():
    """No weights are guessed: an H-layer whose basis cannot express the G-filter (here: fewer rings) raises."""
    gs = D(4)
    t_in, t = nn.FieldType(gs, [gs.trivial_repr]), nn.FieldType(gs, [gs.regular_repr])
    layer = nn.R2Conv(t_in, t, 5).double()
    h_in, h_out = t_in.restrict((None, 4)), t.restrict((None, 4))
    poor = nn.R2Conv(h_in, h_out, 5, rings=[0.0, 1.0]).double()
    with pytest.raises(RestrictionError, match="not in the span of the subgroup's basis"):
        _solved_parameters(layer, poor, "conv")


def test_an_equivariant_mlp_over_no_base_space_restricts():
    """Linear layers over no_base_space(O(2)) move to SO(2), C4 and a flip group with the same outputs, and the
    restricted MLP is equivariant under the subgroup (fibre action only: there is no plane)."""
    from e2layers import group
    gs = gspaces.no_base_space(group.o2_group(3))
    t_in = nn.FieldType(gs, 2 * [gs.irrep(1, 1)])
    t_hid = nn.FieldType(gs, 3 * [gs.irrep(0, 0)] + 2 * [gs.irrep(1, 1)] + [gs.irrep(1, 2)])
    t_out = nn.FieldType(gs, 2 * [gs.irrep(0, 0)])
    torch.manual_seed(0)
    model = nn.SequentialModule(nn.Linear(t_in, t_hid), nn.NormNonLinearity(t_hid, "n_sigmoid"),
                                nn.Linear(t_hid, t_out)).double()
    x = torch.randn(5, t_in.size, dtype=torch.float64)
    y = model(nn.GeometricTensor(x, t_in)).tensor
    for sid in [(None, -1), (None, 4), (0., 1)]:
        small = nn.restrict_network(model, sid)
        assert isinstance(small.in_type.gspace, gspaces.GSpace0D)
        assert torch.allclose(small(nn.GeometricTensor(x, small.in_type)).tensor, y, atol=1e-12)
        nn.assert_equivariant(small, nn.GeometricTensor(x, small.in_type), action=nn.act_on_fibres, tolerance=1e-10)
