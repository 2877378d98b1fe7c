"""nn.SubgroupPooling: each regular field pooled over the cosets x H of a subgroup H, a field of the quotient
representation G/H.  Exact equivariance (float64, 1e-12), invariance under H acting on the right of each field
(the pooling over the flip forgets the reflection of the pose), the quotient D_N / flip restricted to C_N is C_N's
regular representation, hand-computed values, export, pickling and errors."""
import pickle

import numpy as np
import pytest
import torch

from basisgen.errors import InvalidValueError
from e2layers import gspaces, nn

pytestmark = pytest.mark.usefixtures("module_cache")

CASES = [(gspaces.FlipRot2dOnR2, 8, [(0, 1), (3, 1), (None, 4), (1, 4), (None, 8), (0, 2)]),
         (gspaces.FlipRot2dOnR2, 3, [(0, 1), (2, 1), (None, 3)]), (gspaces.FlipRot2dOnR2, 1, [(0, 1)]),
         (gspaces.Rot2dOnR2, 6, [2, 3, 1, 6]), (lambda N: gspaces.Flip2dOnR2(), None, [1, 2])]


def _cases():
    for factory, N, ids in CASES:
        for subgroup_id in ids:
            for pooling in ("max", "mean"):
                yield pytest.param(factory, N, subgroup_id, pooling, id=f"{factory.__name__}{N}-{subgroup_id}-{pooling}")


@pytest.mark.parametrize("factory, N, subgroup_id, pooling", list(_cases()))
def test_equivariant_with_the_quotient_representation(factory, N, subgroup_id, pooling):
    gs = factory(N)
    t = nn.FieldType(gs, 3 * [gs.regular_repr])
    pool = nn.SubgroupPooling(t, subgroup_id, pooling).double()
    quotient = gs.quotient_repr(subgroup_id)
    assert pool.out_type == nn.FieldType(gs, 3 * [quotient])
    H = gs.fibergroup.subgroup(subgroup_id)[0]
    assert pool.out_type.size == 3 * gs.fibergroup.order() // H.order()
    x = nn.GeometricTensor(torch.randn(2, t.size, 7, 7, dtype=torch.float64), t)
    nn.assert_equivariant(pool, x, tolerance=1e-12)
    nn.assert_equivariant(pool, x, tolerance=1e-12, action=nn.act_on_fibres, elements=gs.testing_elements)


def _right_translate(x, group, h):
    """Each regular field f_x -> f_{x h} (channel x of a regular field is element x of group.elements)."""
    elements = list(group.elements)
    index = [elements.index(group.combine(e, h)) for e in elements]
    n = len(elements)
    return x.view(x.shape[0], -1, n, *x.shape[2:])[:, :, index].reshape(x.shape)


def test_pooling_over_the_flip_forgets_the_reflection_of_the_pose():
    """D8 pooled over {e, f}: unchanged when every field is translated on the right by f, changed by a rotation
    on the right (so it is not a plain group pooling), and the image flip acts on it by k -> -k on the orientations."""
    gs = gspaces.FlipRot2dOnR2(8)
    G = gs.fibergroup
    t = nn.FieldType(gs, 2 * [gs.regular_repr])
    pool = nn.SubgroupPooling(t, (0, 1)).double()
    x = torch.randn(2, t.size, 5, 5, dtype=torch.float64)
    y = pool(nn.GeometricTensor(x, t)).tensor
    assert torch.equal(pool(nn.GeometricTensor(_right_translate(x, G, (1, 0)), t)).tensor, y)
    assert not torch.allclose(pool(nn.GeometricTensor(_right_translate(x, G, (0, 1)), t)).tensor, y)
    flipped = pool(nn.GeometricTensor(t.transform(x, (1, 0)), t)).tensor
    assert torch.allclose(flipped, pool.out_type.transform(y, (1, 0)), rtol=0, atol=1e-12)
    reverse = np.eye(8)[[(-k) % 8 for k in range(8)]]          # the flip on the orientations: k -> -k
    assert np.array_equal(np.round(gs.quotient_repr((0, 1))((1, 0)), 12), reverse)


def test_hand_computed_values():
    """D4: coset k of the flip is {r^k, r^k f}, channels k and 4 + k; C6 over C2: cosets {r^k, r^(k+3)}."""
    d4 = gspaces.FlipRot2dOnR2(4)
    x = torch.randn(3, 8)
    out = nn.SubgroupPooling(nn.FieldType(d4, [d4.regular_repr]), (0, 1))(nn.GeometricTensor(x, nn.FieldType(
        d4, [d4.regular_repr]))).tensor
    assert torch.equal(out, torch.maximum(x[:, :4], x[:, 4:]))
    c6 = gspaces.Rot2dOnR2(6)
    t = nn.FieldType(c6, [c6.regular_repr])
    out = nn.SubgroupPooling(t, 2, "mean")(nn.GeometricTensor(x[:, :6], t)).tensor
    assert torch.allclose(out, (x[:, :3] + x[:, 3:6]) / 2)


@pytest.mark.parametrize("N", [2, 4, 8])
def test_the_flip_quotient_restricted_to_rotations_is_the_regular_representation(N):
    gs = gspaces.FlipRot2dOnR2(N)
    restricted = gs.quotient_repr((0, 1)).restrict((None, N))
    H = gs.fibergroup.subgroup((None, N))[0]
    for h in H.elements:
        assert np.allclose(restricted(h), H.regular_representation(h), rtol=0, atol=1e-12)
        assert np.allclose(restricted(h), np.round(restricted(h)), rtol=0, atol=1e-12)    # a permutation


def test_network_with_flip_pooling_restricts_to_rotations():
    """conv -> ReLU -> SubgroupPooling over the flip -> conv on the quotient fields: D8-equivariant; restricted to
    C8 the same outputs, C8-equivariant."""
    gs = gspaces.FlipRot2dOnR2(8)
    t_in, t = nn.FieldType(gs, [gs.trivial_repr]), nn.FieldType(gs, 2 * [gs.regular_repr])
    pool = nn.SubgroupPooling(t, (0, 1))
    net = nn.SequentialModule(nn.R2Conv(t_in, t, 3), nn.ReLU(t), pool,
                              nn.R2Conv(pool.out_type, pool.out_type, 3)).double().eval()
    x = nn.GeometricTensor(torch.randn(2, 1, 11, 11, dtype=torch.float64), t_in)
    nn.assert_equivariant(net, x, tolerance=1e-10)
    restricted = nn.restrict_network(net, (None, 8))
    y = net(x).tensor.detach()
    xr = nn.GeometricTensor(x.tensor, restricted.in_type)
    assert float((restricted(xr).tensor.detach() - y).abs().max()) < 1e-10 * float(y.abs().max())
    nn.assert_equivariant(restricted, xr, tolerance=1e-10)


def test_export_pickle_state_dict_and_shape():
    gs = gspaces.FlipRot2dOnR2(4)
    t = nn.FieldType(gs, 3 * [gs.regular_repr])
    for pooling in ("max", "mean"):
        pool = nn.SubgroupPooling(t, (None, 2), pooling)
        x = torch.randn(2, 24, 4, 5)
        y = pool(nn.GeometricTensor(x, t)).tensor
        assert torch.equal(pool.export()(x), y)
        assert torch.equal(pickle.loads(pickle.dumps(pool))(nn.GeometricTensor(x, t)).tensor, y)
        assert pool.state_dict() == {}
        assert pool.evaluate_output_shape((2, 24, 4, 5)) == tuple(y.shape) == (2, 12, 4, 5)
        x = x.to(memory_format=torch.channels_last)
        assert pool(nn.GeometricTensor(x, t)).tensor.is_contiguous(memory_format=torch.channels_last)


def test_errors():
    gs = gspaces.FlipRot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr, gs.irrep(1, 1)])
    with pytest.raises(InvalidValueError, match=r"regular fields .* only.*irrep_1,1"):
        nn.SubgroupPooling(t, (0, 1))
    reg = nn.FieldType(gs, [gs.regular_repr])
    with pytest.raises(InvalidValueError, match="subgroup_id"):
        nn.SubgroupPooling(reg, (None, 3))
    with pytest.raises(InvalidValueError, match="pooling"):
        nn.SubgroupPooling(reg, (0, 1), "min")
    o2 = gspaces.FlipRot2dOnR2(-1, maximum_frequency=2)
    with pytest.raises(InvalidValueError, match="finite group"):
        nn.SubgroupPooling(nn.FieldType(o2, [o2.trivial_repr]), (0.0, 1))
