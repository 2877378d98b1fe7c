"""e2layers.nn.fourier: FourierPointwise, FourierELU (escnn's Fourier non-linearities) and their export.

Expected values come from outside the module: hand-written Fourier series of SO(2)/O(2) evaluated densely (a
second method), the regular representation's change of basis (C_N/D_N), and torch's own functions.
"""
import math
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from e2layers import gspaces, nn
from spaces import gspace_table


pytestmark = pytest.mark.usefixtures("private_cache")


CONTINUOUS = gspace_table("SO2", "O2")
FINITE = gspace_table("C8", "D4", "C4", "Flip")
MODES = ["train", "eval"]


def _input(t, size=5, dtype=torch.float32, batch=2):
    return nn.GeometricTensor(torch.randn(batch, t.size, size, size, dtype=dtype), t)


def _build(module, dtype, mode):
    module = module.to(dtype)
    return module.train() if mode == "train" else module.eval()


def _n_grid_exact(gs):
    return len([g for g in gs.testing_elements if gs.is_grid_element(g)])


# ---- equivariance ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("N", [8, 12, 16])
@pytest.mark.parametrize("L", [1, 2, 3])
@pytest.mark.parametrize("gs_name", list(CONTINUOUS))
def test_equivariance_continuous(gs_name, L, N, dtype, mode):
    gs = CONTINUOUS[gs_name]()
    function = ["p_relu", "p_elu", "p_sigmoid", "p_tanh"][(L + N) % 4]
    module = _build(nn.FourierPointwise(gs, 2, gs.fibergroup.bl_irreps(L), N=N, function=function), dtype, mode)
    result = nn.assert_equivariant(module, _input(module.in_type, dtype=dtype))
    assert len(result) == _n_grid_exact(gs) == (8 if gs_name == "O2" else 4)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("gs_name,L,grid", [("C8", 4, {}), ("C8", 1, {"N": 4}), ("D4", 2, {}), ("C4", 1, {}),
                                            ("D4", 1, {"N": 4}), ("Flip", 0, {})])
def test_equivariance_finite(gs_name, L, grid, dtype, mode):
    gs = FINITE[gs_name]()
    for module in (nn.FourierELU(gs, 2, gs.fibergroup.bl_irreps(L), **grid),
                   nn.FourierPointwise(gs, 2, gs.fibergroup.bl_irreps(L), **grid, function="p_relu")):
        module = _build(module, dtype, mode)
        assert len(nn.assert_equivariant(module, _input(module.in_type, dtype=dtype))) == _n_grid_exact(gs)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_equivariance_with_out_irreps(dtype):
    for gs in CONTINUOUS.values():
        gs = gs()
        for L_in, L_out in [(1, 3), (3, 1), (2, 2)]:
            G = gs.fibergroup
            module = nn.FourierELU(gs, 2, G.bl_irreps(L_in), N=16, out_irreps=G.bl_irreps(L_out)).to(dtype)
            assert module.out_type.size == 2 * G.bl_regular_representation(L_out).size
            nn.assert_equivariant(module, _input(module.in_type, dtype=dtype))


@pytest.mark.parametrize("gs_name,N", [("SO2", 6), ("SO2", 10), ("O2", 6), ("O2", 14)])
def test_ninety_degrees_breaks_when_N_is_not_a_multiple_of_4(gs_name, N):
    """The grid's own rotations stay exact (fibre action only), the 90 degree rotation visibly does not."""
    gs = CONTINUOUS[gs_name]()
    module = nn.FourierPointwise(gs, 3, gs.fibergroup.bl_irreps(2), N=N).to(torch.float64)
    x = _input(module.in_type, dtype=torch.float64)
    with pytest.raises(AssertionError, match="not equivariant"):
        nn.assert_equivariant(module, x)
    quarter = (0, math.pi / 2) if gs_name == "O2" else math.pi / 2
    err = (module(x.transform_fibers(quarter)).tensor - module(x).transform_fibers(quarter).tensor).abs().max()
    assert err > 1e-3 * module(x).tensor.abs().max()
    step = 2 * math.pi / N
    for g in [step, 3 * step] + ([(1, step)] if gs_name == "O2" else []):
        g = (0, g) if gs_name == "O2" and not isinstance(g, tuple) else g
        torch.testing.assert_close(module(x.transform_fibers(g)).tensor, module(x).transform_fibers(g).tensor,
                                   rtol=0, atol=1e-12)


# ---- values: a second method -------------------------------------------------------------------------------
def _so2_basis(L, theta):
    """Columns: the orthonormal functions 1, sqrt2 cos k t, sqrt2 sin k t (k <= L) at the angles ``theta``."""
    cols = [np.ones_like(theta)]
    for k in range(1, L + 1):
        cols += [math.sqrt(2) * np.cos(k * theta), math.sqrt(2) * np.sin(k * theta)]
    return np.stack(cols, axis=1)


def _o2_basis(L, flip, theta):
    """O(2): 1, det, and sqrt2 times the entries of psi_k(f^s r_t) e_1, e_2, with psi_k = R(k t) diag(1, +-1)."""
    s = np.where(flip == 1, -1.0, 1.0)
    cols = [np.ones_like(theta), s]
    for k in range(1, L + 1):
        c, n = np.cos(k * theta), np.sin(k * theta)
        cols += [math.sqrt(2) * c, math.sqrt(2) * n, math.sqrt(2) * -s * n, math.sqrt(2) * s * c]
    return np.stack(cols, axis=1)


def _dense(gs_name, L):
    """The functions of the Fourier basis at a dense set of points with equal Haar weight."""
    theta = np.arange(4096) * 2 * math.pi / 4096
    if gs_name == "SO2":
        return lambda L_: _so2_basis(L_, theta)
    flip = np.repeat([0, 1], 4096)
    return lambda L_: _o2_basis(L_, flip, np.tile(theta, 2))


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("L_in,L_out", [(2, 2), (1, 3), (3, 1)])
@pytest.mark.parametrize("gs_name", list(CONTINUOUS))
def test_relu_on_a_fine_grid_is_relu_of_the_function(gs_name, L_in, L_out, normalize):
    """Evaluate the band-limited function densely, apply ReLU, integrate against the Fourier basis."""
    gs = CONTINUOUS[gs_name]()
    G = gs.fibergroup
    basis = _dense(gs_name, None)
    x = torch.randn(6, 2 * G.bl_regular_representation(L_in).size, dtype=torch.float64)
    coefficients = x.numpy().reshape(12, -1)
    f = basis(L_in) @ coefficients.T                                    # (points, fields)
    expected = (basis(L_out).T @ np.maximum(f, 0) / f.shape[0]).T.reshape(6, -1)
    errors = {}
    for N in (8, 64):
        module = nn.FourierPointwise(gs, 2, G.bl_irreps(L_in), N=N, out_irreps=G.bl_irreps(L_out),
                                     normalize=normalize).to(torch.float64)
        y = module(nn.GeometricTensor(x, module.in_type)).tensor.numpy()
        errors[N] = np.abs(y - expected).max() / np.abs(expected).max()
    assert errors[64] < 3e-3
    assert errors[8] > 3 * errors[64]                  # the coarse grid is visibly worse: the grid matters


def test_sampling_convention_by_hand():
    """SO(2), one field: samples are f(2 pi i / N) / sqrt(size) with f = x0 + sqrt2 (x1 cos + x2 sin)."""
    gs = CONTINUOUS["SO2"]()
    module = nn.FourierPointwise(gs, 1, [0, 1], N=4).to(torch.float64)
    # f(theta) = 1 + sqrt2 * 2 cos(theta): samples at 0, 90, 180, 270 degrees
    f = np.array([1 + 2 * math.sqrt(2), 1, 1 - 2 * math.sqrt(2), 1]) / math.sqrt(3)
    np.testing.assert_allclose(module.A.numpy() @ [1.0, 2.0, 0.0], f, atol=1e-14)
    # relu keeps 1 + 2 sqrt2, 1, 0, 1: the exact quadrature of the mean and the cos coefficient
    kept = np.maximum(f * math.sqrt(3), 0)
    expected = [kept.mean(), math.sqrt(2) * (kept * [1, 0, -1, 0]).mean(), 0.0]
    y = module(nn.GeometricTensor(torch.tensor([[1.0, 2.0, 0.0]], dtype=torch.float64), module.in_type)).tensor
    np.testing.assert_allclose(y[0].numpy(), expected, atol=1e-14)


@pytest.mark.parametrize("gs_name", ["C8", "D4", "C4", "Flip"])
@pytest.mark.parametrize("function", ["p_relu", "p_elu", "p_tanh"])
def test_whole_finite_group_is_the_pointwise_function_on_regular_fields(gs_name, function):
    """With all irreps and the whole group as grid, A is the regular representation's change of basis Q, so the
    module is Q^T f(Q x): e2cnn's point-wise non-linearity on regular fields, in the Fourier basis."""
    gs = FINITE[gs_name]()
    G = gs.fibergroup
    Q = torch.tensor(G.regular_representation.change_of_basis)
    fn = {"p_relu": torch.relu, "p_elu": F.elu, "p_tanh": torch.tanh}[function]
    for normalize in (True, False):
        module = nn.FourierPointwise(gs, 3, list(G.irreps), function=function, normalize=normalize)
        module = module.to(torch.float64)
        assert module.rho.irreps == G.regular_representation.irreps
        x = torch.randn(2, module.in_type.size, 3, 3, dtype=torch.float64)
        fields = x.reshape(2, 3, G.order(), 9)
        scale = 1.0 if normalize else math.sqrt(G.order())
        expected = (Q.T @ fn(scale * (Q @ fields)) / scale).reshape(x.shape)
        torch.testing.assert_close(module(nn.GeometricTensor(x, module.in_type)).tensor, expected,
                                   rtol=0, atol=1e-12)


# ---- export, shapes, pickling, state, dtype ------------------------------------------------------------
def _modules():
    so2, o2, d4 = CONTINUOUS["SO2"](), CONTINUOUS["O2"](), FINITE["D4"]()
    return [nn.FourierELU(so2, 2, so2.fibergroup.bl_irreps(2), N=8),
            nn.FourierPointwise(o2, 2, o2.fibergroup.bl_irreps(1), "regular", 8, function="p_sigmoid",
                                out_irreps=o2.fibergroup.bl_irreps(2), inplace=False),
            nn.FourierPointwise(d4, 1, d4.fibergroup.bl_irreps(2), function="p_tanh", normalize=False)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("index", [0, 1, 2])
def test_export_and_script(index, dtype):
    module = _modules()[index].to(dtype)
    x = _input(module.in_type, 4, dtype)
    y = module(x).tensor
    exported = module.export()
    assert type(exported) is nn.GridPointwise and not isinstance(exported, nn.EquivariantModule)
    assert torch.equal(exported(x.tensor), y)
    assert set(exported.state_dict()) == {"A", "Ainv"}
    scripted = torch.jit.script(exported)
    assert torch.equal(scripted(x.tensor), y)
    flat = torch.randn(5, module.in_type.size, dtype=dtype)                      # no spatial dimensions
    assert torch.equal(scripted(flat), module(nn.GeometricTensor(flat, module.in_type)).tensor)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_output_shape(index):
    module = _modules()[index]
    for shape in [(3, module.in_type.size, 4, 6), (2, module.in_type.size), (1, module.in_type.size, 7)]:
        y = module(nn.GeometricTensor(torch.randn(*shape), module.in_type))
        assert isinstance(y, nn.GeometricTensor) and y.type == module.out_type
        assert module.evaluate_output_shape(shape) == tuple(y.shape) == (shape[0], module.out_type.size) + shape[2:]
    with pytest.raises(ValueError, match="input_shape"):
        module.evaluate_output_shape((1, module.in_type.size + 1, 4, 4))


@pytest.mark.parametrize("index", [0, 1, 2])
def test_pickle_state_dict_and_dtype(index):
    module = _modules()[index]
    x = _input(module.in_type)
    clone = pickle.loads(pickle.dumps(module))
    assert clone.in_type == module.in_type and clone.out_type == module.out_type
    assert torch.equal(clone(x).tensor, module(x).tensor)
    assert list(module.train().state_dict()) == list(module.eval().state_dict()) == []
    module.load_state_dict(clone.state_dict())
    # float32 -> float64 rebuilds the transforms in float64 (not widened float32): exact to 1e-10
    module64 = pickle.loads(pickle.dumps(module)).to(torch.float64)
    assert module64.A.dtype == module64.Ainv.dtype == torch.float64
    assert torch.equal(module64.A, torch.as_tensor(module._A_np))
    nn.assert_equivariant(module64, _input(module.in_type, dtype=torch.float64))
    assert module64.to(torch.float32).A.dtype == torch.float32


def test_inplace_keeps_the_input_and_gradients():
    gs = CONTINUOUS["SO2"]()
    grads = []
    for inplace in (True, False):
        module = nn.FourierELU(gs, 2, gs.fibergroup.bl_irreps(2), N=8, inplace=inplace)
        x = torch.randn(2, module.in_type.size, 3, 3, generator=torch.Generator().manual_seed(1), requires_grad=True)
        before = x.detach().clone()
        module(nn.GeometricTensor(x, module.in_type)).tensor.pow(2).sum().backward()
        assert torch.equal(x.detach(), before)
        grads.append(x.grad)
    torch.testing.assert_close(grads[0], grads[1])


def test_grid_arguments():
    so2, o2, c8 = CONTINUOUS["SO2"](), CONTINUOUS["O2"](), FINITE["C8"]()
    irreps = o2.fibergroup.bl_irreps(2)
    reference = nn.FourierELU(o2, 1, irreps, N=8, type="regular").A
    for args, kwargs in [((8,), {}), (("regular", 8), {}), ((8, "regular"), {}), (("regular",), {"N": 8}),
                         ((), {"grid": [(j, 2 * math.pi * i / 8) for j in (0, 1) for i in range(8)]})]:
        assert torch.equal(nn.FourierELU(o2, 1, irreps, *args, **kwargs).A, reference)
    assert len(nn.FourierELU(so2, 1, [0, 1], 12).grid) == 12
    assert nn.FourierELU(c8, 1, [0, 1, 2]).grid == list(range(8))
    assert nn.FourierELU(c8, 1, [0, 1], N=4).grid == [0, 2, 4, 6]
    assert "N=8, type='regular' (16 elements)" in repr(nn.FourierELU(o2, 1, irreps, N=8))
    # the irreps may be given as ids, names or irreps
    by_name = nn.FourierELU(so2, 1, ["irrep_0", "irrep_1"], N=8)
    by_irrep = nn.FourierELU(so2, 1, [so2.irrep(0), so2.irrep(1)], N=8)
    assert by_name.in_type == by_irrep.in_type == nn.FourierELU(so2, 1, [(0,), (1,)], N=8).in_type


def test_coarse_grid_warns():
    gs = CONTINUOUS["SO2"]()
    with pytest.warns(UserWarning, match="does not resolve"):
        nn.FourierELU(gs, 1, gs.fibergroup.bl_irreps(3), N=4)
    with pytest.warns(UserWarning, match="does not resolve"):      # out_irreps count too
        nn.FourierELU(gs, 1, gs.fibergroup.bl_irreps(1), N=4, out_irreps=gs.fibergroup.bl_irreps(2))


def test_errors():
    so2, c8 = CONTINUOUS["SO2"](), FINITE["C8"]()
    irreps = [0, 1]
    with pytest.raises(ValueError, match="irreps.*irreps of SO\\(2\\).*irrep_1 of C8"):
        nn.FourierPointwise(so2, 1, [so2.irrep(0), c8.irrep(1)], N=8)
    with pytest.raises(ValueError, match="out_irreps.*no irrep"):
        nn.FourierPointwise(c8, 1, irreps, out_irreps=[0, 5])
    with pytest.raises(ValueError, match="irreps.*distinct"):
        nn.FourierPointwise(so2, 1, [0, 1, 1], N=8)
    with pytest.raises(TypeError, match="irreps must be a non-empty list"):
        nn.FourierPointwise(so2, 1, [], N=8)
    with pytest.raises(TypeError, match="irreps must be a non-empty list"):
        nn.FourierPointwise(so2, 1, so2.irrep(1), N=8)
    with pytest.raises(ValueError, match="function must be one of"):
        nn.FourierPointwise(so2, 1, irreps, N=8, function="n_relu")
    with pytest.raises(TypeError, match="FourierELU always applies ELU"):
        nn.FourierELU(so2, 1, irreps, N=8, function="p_relu")
    with pytest.raises(TypeError, match="gspace must be a gspace"):
        nn.FourierPointwise(so2.fibergroup, 1, irreps, N=8)
    with pytest.raises(TypeError, match="FieldType"):
        nn.FourierPointwise(nn.FieldType(so2, [so2.trivial_repr]), 1, irreps, N=8)
    with pytest.raises(ValueError, match="channels"):
        nn.FourierPointwise(so2, 0, irreps, N=8)
    with pytest.raises(ValueError, match="N is required"):
        nn.FourierPointwise(so2, 1, irreps)
    with pytest.raises(ValueError, match="N must be a positive int"):
        nn.FourierPointwise(so2, 1, irreps, N=0)
    with pytest.raises(ValueError, match="N must divide"):
        nn.FourierPointwise(c8, 1, irreps, N=3)
    with pytest.raises(ValueError, match="type must be 'regular'"):
        nn.FourierPointwise(so2, 1, irreps, N=8, type="rand")
    with pytest.raises(TypeError, match="unknown grid arguments \\['M'\\]"):
        nn.FourierPointwise(so2, 1, irreps, N=8, M=3)
    with pytest.raises(TypeError, match="grid_args"):
        nn.FourierPointwise(so2, 1, irreps, 8, 9)
    with pytest.raises(ValueError, match="grid must be .*elements of SO\\(2\\)"):
        nn.FourierPointwise(so2, 1, irreps, grid=[0.0, (1, 0.0)])
    with pytest.raises(ValueError, match="either"):
        nn.FourierPointwise(so2, 1, irreps, 8, grid=[0.0])


def test_forward_rejects_other_field_types():
    c8 = FINITE["C8"]()
    module = nn.FourierPointwise(c8, 1, list(c8.fibergroup.irreps))
    regular = nn.FieldType(c8, [c8.regular_repr])                # same size, permutation basis
    with pytest.raises(ValueError, match="band-limited regular.*nn.ReLU") as info:
        module(_input(regular))
    assert repr(regular) in str(info.value) and repr(module.in_type) in str(info.value)
    with pytest.raises(TypeError, match="GeometricTensor"):
        module(torch.randn(1, 8, 3, 3))


# ---- the band-limited regular representation ---------------------------------------------------------------
def test_spectral_regular_representation():
    for gs_name in ("C8", "D4"):
        G = FINITE[gs_name]().fibergroup
        rho = G.spectral_regular_representation(*G.bl_irreps(100))
        assert rho.size == G.order()
        for g in G.elements:                                       # the regular character: |G| at e, else 0
            assert rho.character(g) == pytest.approx(G.order() if g == G.identity else 0, abs=1e-9)
    so2, o2 = CONTINUOUS["SO2"]().fibergroup, CONTINUOUS["O2"]().fibergroup
    assert so2.bl_irreps(2) == [(0,), (1,), (2,)] and o2.bl_irreps(1) == [(0, 0), (1, 0), (1, 1)]
    assert [so2.bl_regular_representation(L).size for L in range(4)] == [1, 3, 5, 7]
    assert [o2.bl_regular_representation(L).size for L in range(4)] == [2, 6, 10, 14]
    assert FINITE["D4"]().fibergroup.bl_irreps(1) == [(0, 0), (1, 0), (1, 1)]
    rho = so2.bl_regular_representation(2)
    assert rho is so2.spectral_regular_representation(0, 1, 2) and rho.name == "regular_[(0,)|(1,)|(2,)]"
    assert pickle.loads(pickle.dumps(rho)) is rho
    assert "pointwise" not in rho.supported_nonlinearities and "norm" in rho.supported_nonlinearities
    with pytest.raises(ValueError, match="L must be"):
        so2.bl_irreps(-1)


# ---- in a network ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_so2_network(dtype):
    gs = gspaces.Rot2dOnR2(-1, maximum_frequency=4)
    elu = nn.FourierELU(gs, 3, gs.fibergroup.bl_irreps(2), N=8)
    t_in = nn.FieldType(gs, 2 * [gs.trivial_repr])
    t_out = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1)])
    net = nn.SequentialModule(nn.R2Conv(t_in, elu.in_type, 5, padding=2), elu,
                              nn.R2Conv(elu.out_type, t_out, 3, padding=1)).to(dtype)
    x = _input(t_in, 9, dtype)
    y = net(x)
    assert net.evaluate_output_shape(tuple(x.shape)) == tuple(y.shape) == (2, 3, 9, 9)
    nn.assert_equivariant(net, x)
    exported = net.export()
    assert [type(m) for m in exported] == [torch.nn.Conv2d, nn.GridPointwise, torch.nn.Conv2d]
    with torch.no_grad():
        torch.testing.assert_close(exported(x.tensor), y.tensor, rtol=0,
                                   atol=1e-12 if dtype == torch.float64 else 1e-6)
        torch.testing.assert_close(torch.jit.script(exported)(x.tensor), exported(x.tensor), rtol=0, atol=0)
