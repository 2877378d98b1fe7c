"""nn.R2Diffop: equivariance (exact grid elements, float64), parameters, export, state, pickling, cache use.

Equivariance is measured as ``max |f(g.x) - g.f(x)| / max |f(g.x)|`` under the elements that map the pixel
grid onto itself, for every group and the discretisations that need no optional package (RBF-FD: slow).
"""
import copy
import io
import pickle
import warnings

import numpy as np
import pytest
import torch

import basisgen
from basisgen import cache as basis_cache
from e2layers import gspaces, nn
from grid_equivariance import assert_grid_equivariant
from spaces import gspace_table

pytestmark = pytest.mark.usefixtures("module_cache")

GSPACES = gspace_table("C1", "C4", "C8", "D1", "D4", "D8", "SO2", "O2", "Flip")


def _types(name: str):
    gs = GSPACES[name]()
    if name in ("SO2",):
        fin, fout = [gs.trivial_repr, gs.irrep(1), gs.irrep(2)], [gs.irrep(1), gs.trivial_repr, gs.irrep(3)]
    elif name == "O2":
        fin = [gs.trivial_repr, gs.irrep(1, 1), gs.irrep(1, 0), gs.irrep(1, 2)]
        fout = [gs.irrep(1, 1), gs.trivial_repr, gs.irrep(1, 0)]
    elif name == "Flip":
        fin, fout = [gs.trivial_repr, gs.regular_repr], [gs.regular_repr, gs.irrep(1)]
    else:
        fin = [gs.trivial_repr, gs.regular_repr]
        fout = [gs.regular_repr, gs.trivial_repr]
        if name in ("C4", "C8", "D4", "D8"):
            fin.append(gs.irrep(1) if name.startswith("C") else gs.irrep(1, 1))
            fout.append(gs.quotient_repr(2) if name.startswith("C") else gs.quotient_repr((None, 2)))
    return nn.FieldType(gs, fin), nn.FieldType(gs, fout)




DISCRETISATIONS = {"fd3": dict(kernel_size=3), "fd5": dict(kernel_size=5),
                   "gauss5": dict(kernel_size=5, smoothing=1.0), "fd_order2_k5": dict(kernel_size=5, maximum_order=2)}


@pytest.mark.parametrize("dtype", [pytest.param(torch.float32, marks=pytest.mark.slow), torch.float64],
                         ids=["f32", "f64"])      # float32 repeats the float64 sweep: the full suite only
@pytest.mark.parametrize("how", list(DISCRETISATIONS))
@pytest.mark.parametrize("group", list(GSPACES))
def test_equivariant_on_the_grid(group, how, dtype):
    t_in, t_out = _types(group)
    assert_grid_equivariant(nn.R2Diffop(t_in, t_out, **DISCRETISATIONS[how]), dtype)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_padding_modes_and_export(mode):
    t_in, t_out = _types("D4")
    pdo = nn.R2Diffop(t_in, t_out, 5, padding=2, padding_mode=mode).double()
    assert_grid_equivariant(pdo, torch.float64)
    pdo.eval()
    conv = pdo.export()
    assert isinstance(conv, torch.nn.Conv2d) and conv.padding_mode == mode
    x = torch.randn(2, t_in.size, 13, 13, dtype=torch.float64)
    torch.testing.assert_close(conv(x), pdo(nn.GeometricTensor(x, t_in)).tensor, rtol=1e-12, atol=1e-12)


def test_angle_offset_and_axis():
    """angle_offset turns every operator: equivariance holds for rotations (a turned C_N basis is a C_N basis);
    a reflection axis other than pi/2 is followed (fd included)."""
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    turned = nn.R2Diffop(t, t, 5, angle_offset=0.3)
    plain = nn.R2Diffop(t, t, 5)
    assert not torch.allclose(turned.basisexpansion(torch.ones(60)), plain.basisexpansion(torch.ones(60)))
    assert_grid_equivariant(turned, torch.float64)
    gs0 = gspaces.FlipRot2dOnR2(4, axis=0.0)
    t0 = nn.FieldType(gs0, [gs0.regular_repr, gs0.irrep(1, 1)])
    assert_grid_equivariant(nn.R2Diffop(t0, t0, 3), torch.float64)


def test_fd_with_reflections_is_equivariant_where_e2cnn_is_not():
    """e2cnn's fd stencils are those of the operator turned a quarter turn: harmless for rotations, but with
    reflections they are mirror-symmetric about the wrong axis.  Ours are turned back (basisgen.pdo_sampling):
    the layer is equivariant, and discretising without the turn back would not be."""
    from basisgen import pdo_sampling
    gs = gspaces.FlipRot2dOnR2(4)
    t = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1, 1)])
    assert_grid_equivariant(nn.R2Diffop(t, t, 3), torch.float64)
    original = pdo_sampling.fd_turns_back
    pdo_sampling.fd_turns_back = lambda group, disc: False
    try:
        wrong = nn.R2Diffop(t, t, 3, cache=False, basis_filter=lambda attrs: True)   # filtered: never cached
        errors = nn.equivariance_errors(wrong.double(), nn.GeometricTensor(
            torch.randn(2, t.size, 9, 9, dtype=torch.float64), t))
        assert max(err / scale for _, err, scale in errors) > 0.1
    finally:
        pdo_sampling.fd_turns_back = original


# ---- parameters --------------------------------------------------------------------------------------------
def test_sizes_follow_e2cnns_rules():
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    assert (nn.R2Diffop(t, t, 5).maximum_order, nn.R2Diffop(t, t, 5).maximum_power) == (4, 2)
    assert nn.R2Diffop(t, t, maximum_order=2).kernel_size == 3
    assert nn.R2Diffop(t, t, maximum_order=4).kernel_size == 5
    assert nn.R2Diffop(t, t, maximum_order=2, accuracy=3).kernel_size == 5
    assert nn.R2Diffop(t, t, 5, maximum_power=0).maximum_power == 0
    assert nn.R2Diffop(t, t, 5, maximum_power=7).maximum_power == 2          # capped at maximum_order // 2
    assert nn.R2Diffop(t, t, 3, smoothing=1.0).discretization.method == "gauss"
    with pytest.raises(ValueError, match="at most two"):
        nn.R2Diffop(t, t, 5, accuracy=2, maximum_order=4)
    with pytest.raises(ValueError, match="smoothing and rbffd"):
        nn.R2Diffop(t, t, 5, smoothing=1.0, rbffd=True)
    with pytest.raises(ValueError, match="kernel_size or maximum_order"):
        nn.R2Diffop(t, t)
    with pytest.raises(ValueError, match="cache must be one of"):
        nn.R2Diffop(t, t, 3, cache="yes")
    with pytest.warns(UserWarning, match="maximum_order is only 1"):
        nn.R2Diffop(t, t, 2)
    with pytest.warns(UserWarning, match="small"):
        nn.R2Diffop(t, t, 3, maximum_order=3, smoothing=1.0)
    with pytest.raises(ValueError, match="kernel_size >= 5"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nn.R2Diffop(t, t, 3, maximum_order=4)       # the Laplacian squared needs d^4/dx^4


def test_basis_filter_and_order_filter():
    gs = gspaces.Rot2dOnR2(8)
    t = nn.FieldType(gs, [gs.regular_repr])
    full = nn.R2Diffop(t, t, 5)
    low = nn.R2Diffop(t, t, 5, basis_filter=lambda attrs: attrs["order"] <= 2)
    assert 0 < low.weights.numel() < full.weights.numel()
    assert all(a["order"] <= 2 for a in low.basisexpansion.get_basis_info())
    assert all(a["order"] <= 4 for a in full.basisexpansion.get_basis_info())


# ---- state, pickling, cache ----------------------------------------------------------------------------------
def test_state_dict_is_the_same_in_train_and_eval_and_pickles():
    t_in, t_out = _types("C8")
    pdo = nn.R2Diffop(t_in, t_out, 5, smoothing=1.3)
    keys = sorted(pdo.state_dict())
    assert keys == ["bias", "weights"]
    pdo.eval()
    assert sorted(pdo.state_dict()) == keys and pdo.filter.shape == (t_out.size, t_in.size, 5, 5)
    clone = pickle.loads(pickle.dumps(pdo))
    x = nn.GeometricTensor(torch.randn(1, t_in.size, 9, 9), t_in)
    torch.testing.assert_close(clone(x).tensor, pdo(x).tensor)
    copied = copy.deepcopy(pdo)
    torch.testing.assert_close(copied(x).tensor, pdo(x).tensor)
    buffer = io.BytesIO()
    torch.save(pdo.state_dict(), buffer)
    fresh = nn.R2Diffop(t_in, t_out, 5, smoothing=1.3, initialize=False).eval()
    fresh.load_state_dict(torch.load(io.BytesIO(buffer.getvalue())))
    torch.testing.assert_close(fresh(x).tensor, pdo(x).tensor)


def test_a_second_cache_reads_what_the_first_wrote(tmp_path):
    """PDO bases are cache entries like kernel bases: keyed with the discretisation, verified on read."""
    G = basisgen.dihedral_group(4)
    rho = G.regular_representation
    from basisgen.pdo_sampling import diffop_params
    first = basis_cache.BasisCache([tmp_path])
    fd, gauss = diffop_params(kernel_size=5), diffop_params(kernel_size=5, smoothing=1.0)
    a, b = first.get(rho, rho, fd), first.get(rho, rho, gauss)
    assert first.key(rho, rho, fd).digest != first.key(rho, rho, gauss).digest
    second = basis_cache.BasisCache([tmp_path])
    assert np.array_equal(second.get(rho, rho, fd).blocks, a.blocks)
    assert np.array_equal(second.get(rho, rho, gauss).blocks, b.blocks)
    assert second.stats["computed"] == 0 and second.stats["disk_hits"] == 2
    assert second.verify() == []


def test_double_reads_no_disk_and_derives_nothing():
    cache = basis_cache.default_cache()          # the module's private cache (conftest)
    t_in, t_out = _types("D4")
    pdo = nn.R2Diffop(t_in, t_out, 3)
    before = dict(cache.stats)
    pdo.double()
    assert cache.stats == before and pdo.weights.dtype == torch.float64


def test_check_equivariance_as_e2cnn_calls_it():
    t_in, t_out = _types("D4")
    pdo = nn.R2Diffop(t_in, t_out, 5, smoothing=1.0)
    errors = pdo.check_equivariance(verbose=False)
    assert len(errors) == 8 and all(err < 1e-4 for _, err in errors)
