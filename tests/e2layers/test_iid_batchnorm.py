"""nn.IIDBatchNorm1d: per field, the mean only in the invariant subspace and one variance shared by the channels,
on (B, C) and (B, C, L) tensors (any rank, as escnn's); torch.nn.BatchNorm1d on trivial fields; exported to BatchNorm1d."""
import pickle

import pytest
import torch

from e2layers import group, gspaces, nn

GS = gspaces.no_base_space(group.o2_group(3))
ELEMENTS = len(list(GS.testing_elements))
MIXED = nn.FieldType(GS, [GS.trivial_repr, GS.irrep(1, 1), GS.irrep(1, 2), GS.irrep(1, 0), GS.irrep(1, 1)])


def _x(t, *shape, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return nn.GeometricTensor(3 * torch.randn(shape[0], t.size, *shape[1:], generator=g, dtype=dtype) + 1, t)


def test_the_statistics_are_per_field_with_the_mean_in_the_invariant_subspace():
    bn = nn.IIDBatchNorm1d(MIXED, affine=False).double()
    x = _x(MIXED, 200)
    y = bn(x).tensor
    # the trivial field is centred and scaled to unit variance (biased, as torch's BatchNorm in training) ...
    c = x.tensor[:, 0] - x.tensor[:, 0].mean()
    assert torch.allclose(y[:, 0], c / (c.square().mean() + bn.eps).sqrt(), atol=1e-12)
    assert abs(y[:, 0].mean().item()) < 1e-12
    # ... a vector field is not centred (its mean is not invariant) and its two channels share one scale
    v = x.tensor[:, 1:3]
    assert torch.allclose(y[:, 1:3], v / (v.square().mean() + bn.eps).sqrt(), atol=1e-12)
    # irrep (1, 0) is one-dimensional but not trivial (the reflections flip its sign): not centred either
    s = x.tensor[:, 5]
    assert torch.allclose(y[:, 5], s / (s.square().mean() + bn.eps).sqrt(), atol=1e-12)
    assert bn.running_mean.shape == (1,) and bn.running_var.shape == (5,)


def test_on_trivial_fields_it_is_torch_batch_norm_1d_and_on_a_sequence_it_pools_the_positions():
    t = nn.FieldType(GS, 4 * [GS.trivial_repr])
    bn, plain = nn.IIDBatchNorm1d(t).double(), torch.nn.BatchNorm1d(4).double()
    for shape in ((16,), (16, 7)):
        x = _x(t, *shape)
        for mode in (True, False):
            bn.train(mode), plain.train(mode)
            torch.testing.assert_close(bn(x).tensor, plain(x.tensor), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(bn.running_mean, plain.running_mean, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(bn.running_var, plain.running_var, rtol=1e-12, atol=1e-12)
    x = _x(MIXED, 16, 5)
    two_d = nn.IIDBatchNorm2d(MIXED).double()
    assert torch.equal(nn.IIDBatchNorm1d(MIXED).double()(x).tensor, two_d(x).tensor)   # 2d over no_base_space too


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("track_running_stats", [True, False])
def test_exact_equivariance_export_pickle_and_state_dict(momentum, track_running_stats):
    bn = nn.IIDBatchNorm1d(MIXED, momentum=momentum, track_running_stats=track_running_stats).double()
    with torch.no_grad():
        bn.weight.add_(torch.rand(5, dtype=torch.float64))
        bn.bias.add_(1.0)
    for seed in range(3):
        bn(_x(MIXED, 32, seed=seed))
    for mode in (True, False):
        bn.train(mode)
        for shape in ((8,), (8, 3)):
            assert len(nn.assert_equivariant(bn, _x(MIXED, *shape), tolerance=1e-10)) == ELEMENTS
    bn.eval()
    x = _x(MIXED, 8)
    y = bn(x).tensor
    plain = bn.export()
    assert not plain.training
    if track_running_stats:
        assert type(plain) is torch.nn.BatchNorm1d and bn.num_batches_tracked.item() == 3
        torch.testing.assert_close(plain(_x(MIXED, 8, 3).tensor), bn(_x(MIXED, 8, 3)).tensor, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(plain(x.tensor), y, rtol=1e-12, atol=1e-12)
    assert torch.equal(pickle.loads(pickle.dumps(bn))(x).tensor, y)
    fresh = nn.IIDBatchNorm1d(MIXED, momentum=momentum, track_running_stats=track_running_stats).double().eval()
    fresh.load_state_dict(bn.state_dict())
    assert torch.equal(fresh(x).tensor, y) and list(fresh.train().state_dict()) == list(bn.state_dict())


def test_float32_equivariance_and_the_check_method():
    bn = nn.IIDBatchNorm1d(MIXED)
    bn(_x(MIXED, 32, dtype=torch.float32))
    nn.assert_equivariant(bn, _x(MIXED, 8, dtype=torch.float32))
    assert len(bn.check_equivariance()) == ELEMENTS
    assert len(bn.eval().check_equivariance()) == ELEMENTS


def test_a_module_that_shares_no_variance_per_field_is_caught():
    """The test above can fail: a per-channel batch norm (torch's) is not equivariant on vector fields."""
    plain = nn.IIDBatchNorm1d(MIXED).double()
    plain.forward = lambda x: nn.GeometricTensor(torch.nn.functional.batch_norm(
        x.tensor, None, None, training=True), MIXED)
    with pytest.raises(AssertionError, match="not equivariant"):
        nn.assert_equivariant(plain, _x(MIXED, 8), [(0, 1.0), (1, 0.0)], tolerance=1e-10)


def test_any_rank_pools_the_trailing_dimensions_as_escnn():
    bn, two_d = nn.IIDBatchNorm1d(MIXED).double(), nn.IIDBatchNorm2d(MIXED).double()
    x = _x(MIXED, 4, 3, 5)
    assert torch.equal(bn(x).tensor, two_d(x).tensor)
    flat = nn.GeometricTensor(x.tensor.reshape(4, MIXED.size, 15), MIXED)
    torch.testing.assert_close(bn(flat).tensor.reshape(x.shape), two_d(x).tensor, rtol=1e-12, atol=1e-12)
    for shape in ((4, MIXED.size), (4, MIXED.size, 6), (4, MIXED.size, 6, 6)):
        assert bn.evaluate_output_shape(shape) == shape


def test_bad_input_is_refused_with_a_clear_message():
    bn = nn.IIDBatchNorm1d(MIXED)
    with pytest.raises(ValueError, match="type"):
        bn(nn.GeometricTensor(torch.randn(2, 2), nn.FieldType(GS, [GS.irrep(1, 1)])))
    with pytest.raises(ValueError, match="input_shape"):
        bn.evaluate_output_shape((4, MIXED.size + 1))
    with pytest.raises(TypeError, match="in_type"):
        nn.IIDBatchNorm1d([GS.trivial_repr])
    with pytest.raises(ValueError, match="eps"):
        nn.IIDBatchNorm1d(MIXED, eps=0)
    with pytest.raises(ValueError, match="momentum"):
        nn.IIDBatchNorm1d(MIXED, momentum=2.0)
