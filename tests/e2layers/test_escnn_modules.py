"""escnn's remaining 2D modules: TensorProductModule, QuotientFourierPointwise/ELU, GatedNonLinearityUniform,
the ``...2D`` pooling names and ``FieldType.__call__``.

Equivariance is exact in float64 (relative 1e-10) on the fibres for every testing element plus random angles
(SO(2)/O(2)) and on the plane for the grid-exact elements.  Expected values come from outside the modules:
the dimension of the equivariant maps from a numerical null space, hand-computed gates, the samples' coset
structure.
"""
import io
import math
import pickle

import numpy as np
import pytest
import torch

from e2layers import gspaces, nn
from e2layers.group import directsum
from spaces import gspace_table

pytestmark = pytest.mark.usefixtures("private_cache")

ALL = gspace_table("C1", "C4", "C8", "D1", "D4", "SO2", "O2", "Flip")
#: every gspace in the full suite; C8, D4 and O(2) in the quick subset
QUICK_OR_SLOW = [pytest.param(name, marks=[] if name in ("C8", "D4", "O2") else [pytest.mark.slow]) for name in ALL]
F64 = torch.float64


def _elements(gs, extra=5, seed=0):
    """The testing elements and, for SO(2)/O(2), random angles."""
    elements = list(gs.testing_elements)
    if gs.fibergroup.continuous:
        rng = np.random.default_rng(seed)
        angles = [float(a) for a in rng.uniform(0, 2 * math.pi, extra)]
        flips = gs.fibergroup.basisgen.has_reflection
        elements += [(j, a) for j in (0, 1) for a in angles] if flips else angles
    return elements


def _input(t, batch=2, size=4, dtype=F64):
    return nn.GeometricTensor(torch.randn(batch, t.size, size, size, dtype=dtype), t)


def _assert_exact(module, t):
    x = _input(t)
    nn.assert_equivariant(module, x, elements=_elements(t.gspace), action=nn.act_on_fibres, tolerance=1e-10)
    nn.assert_equivariant(module, x, tolerance=1e-10)


def _field_reprs(gs):
    G = gs.fibergroup
    reps = [G.bl_regular_representation(2)]
    if not G.continuous:
        reps.append(G.regular_representation)
    return reps


def _roundtrip(module):
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    buffer.seek(0)
    return torch.load(buffer)


# ---- TensorProductModule -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", QUICK_OR_SLOW)
def test_tensor_product_is_exactly_equivariant(name):
    gs = ALL[name]()
    for rho in _field_reprs(gs):
        t = nn.FieldType(gs, 2 * [rho])
        _assert_exact(nn.TensorProductModule(t, t).to(F64), t)
    G = gs.fibergroup
    t_in = nn.FieldType(gs, 3 * [G.bl_regular_representation(1)])
    t_out = nn.FieldType(gs, 3 * [G.bl_regular_representation(2)])
    _assert_exact(nn.TensorProductModule(t_in, t_out).to(F64), t_in)


def _numerical_intertwiner_dimension(G, rho_in, rho_out, elements):
    """dim {W : W (rho_in (x) rho_in)(g) = rho_out(g) W}: the null space of the stacked constraints."""
    d = rho_in.size ** 2
    rows = []
    for g in elements:
        T = np.kron(rho_in(g), rho_in(g))
        rows.append(np.kron(np.eye(rho_out.size), T.T) - np.kron(rho_out(g), np.eye(d)))
    s = np.linalg.svd(np.vstack(rows), compute_uv=False)
    return int(np.sum(s < 1e-9)) + max(0, rho_out.size * d - len(s))


@pytest.mark.parametrize("name", ["C4", "D4", "SO2", "O2", "Flip"])
def test_tensor_product_basis_spans_every_equivariant_map(name):
    gs = ALL[name]()
    G = gs.fibergroup
    rho = G.bl_regular_representation(1)
    rho_out = G.bl_regular_representation(2)
    module = nn.TensorProductModule(nn.FieldType(gs, [rho]), nn.FieldType(gs, [rho_out]))
    elements = G.elements if not G.continuous else _elements(gs, extra=3)[len(list(gs.testing_elements)):]
    assert module.weights.shape[1] == _numerical_intertwiner_dimension(G, rho, rho_out, elements)


def test_tensor_product_values_and_a_broken_basis_fails():
    gs = gspaces.Rot2dOnR2(-1, maximum_frequency=2)
    t = nn.FieldType(gs, [gs.fibergroup.bl_regular_representation(1)])
    module = nn.TensorProductModule(t, t).to(F64)
    x = _input(t, size=1)
    v = x.tensor[:, :, 0, 0]
    W = module.expand_parameters()[0]
    expected = torch.einsum("oi,bi->bo", W, torch.einsum("bi,bj->bij", v, v).reshape(2, -1))
    assert torch.allclose(module(x).tensor[:, :, 0, 0], expected, atol=1e-14)
    module.basis = module.basis + 1e-3 * torch.randn_like(module.basis)
    with pytest.raises(AssertionError, match="not equivariant"):
        nn.assert_equivariant(module, x, elements=_elements(gs), action=nn.act_on_fibres)


def test_tensor_product_export_pickle_state_dict_and_precision():
    gs = gspaces.FlipRot2dOnR2(4)
    t = nn.FieldType(gs, 2 * [gs.regular_repr])
    module = nn.TensorProductModule(t, t)
    assert set(module.state_dict()) == {"weights"}
    x = _input(t, dtype=torch.float32)
    assert torch.allclose(module.export()(x.tensor), module(x).tensor, atol=1e-5)
    clone = pickle.loads(pickle.dumps(module))
    assert torch.equal(clone(x).tensor, module(x).tensor)
    fresh = nn.TensorProductModule(t, t)
    fresh.load_state_dict(_roundtrip(module))
    assert torch.equal(fresh(x).tensor, module(x).tensor)
    double = module.double()                        # derived basis rebuilt from float64, not widened
    _assert_exact(double, t)
    construct = nn.TensorProductModule.construct(gs, 2, gs.regular_repr, gs.regular_repr, initialize=False)
    assert construct.in_type == t and construct.weights.shape == module.weights.shape


def test_tensor_product_rejects_bad_types():
    gs = gspaces.Rot2dOnR2(4)
    G = gs.fibergroup
    uniform = nn.FieldType(gs, 2 * [gs.regular_repr])
    with pytest.raises(ValueError, match="uniform"):
        nn.TensorProductModule(nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr]), uniform)
    with pytest.raises(ValueError, match="same number of fields"):
        nn.TensorProductModule(uniform, nn.FieldType(gs, [gs.regular_repr]))
    with pytest.raises(ValueError, match="share no irrep"):        # trivial (x) trivial = trivial, no irrep 1
        nn.TensorProductModule(nn.FieldType(gs, [gs.trivial_repr]), nn.FieldType(gs, [G.irrep(1)]))
    with pytest.raises(TypeError, match="in_type"):
        nn.TensorProductModule("regular", uniform)


# ---- GatedNonLinearityUniform -------------------------------------------------------------------------------
def _gated_repr(G):
    two_d = [p for p in G.irreps.values() if p.size == 2]
    gated = [two_d[0], G.irreps[list(G.irreps)[-1]]]
    return directsum(len(gated) * [G.trivial_representation] + gated)


@pytest.mark.parametrize("name", QUICK_OR_SLOW)
def test_gated_uniform_is_exactly_equivariant(name):
    gs = ALL[name]()
    G = gs.fibergroup
    if not [p for p in G.irreps.values() if p.size == 2]:
        rho = directsum([G.trivial_representation, G.irreps[list(G.irreps)[-1]]])
    else:
        rho = _gated_repr(G)
    t = nn.FieldType(gs, 3 * [rho])
    module = nn.GatedNonLinearityUniform(t).to(F64)
    _assert_exact(module, t)
    assert module.out_type.size == 3 * (rho.size - module.n_gates)


def test_gated_uniform_values_export_pickle_state_dict():
    gs = gspaces.Rot2dOnR2(-1, maximum_frequency=2)
    G = gs.fibergroup
    rho = directsum([G.irrep(0), G.irrep(0), G.irrep(1), G.irrep(2)])
    t = nn.FieldType(gs, 2 * [rho])
    module = nn.GatedNonLinearityUniform(t, gate=torch.tanh)
    with torch.no_grad():
        module.bias.copy_(torch.tensor([[[0.5, -1.0], [0.0, 2.0]]]))
    x = torch.arange(12, dtype=torch.float32).reshape(1, 12) / 10
    out = module(nn.GeometricTensor(x, t)).tensor
    expected = []
    for c, (b0, b1) in enumerate([(0.5, -1.0), (0.0, 2.0)]):
        f = x[0, 6 * c:6 * c + 6]
        g0, g1 = math.tanh(f[0] - b0), math.tanh(f[1] - b1)
        expected += [g0 * f[2], g0 * f[3], g1 * f[4], g1 * f[5]]
    assert torch.allclose(out[0], torch.tensor(expected), atol=1e-6)
    assert torch.equal(module.export()(x), out)
    assert set(module.state_dict()) == {"bias"}
    clone = pickle.loads(pickle.dumps(module))
    assert torch.equal(clone(nn.GeometricTensor(x, t)).tensor, out)


def test_gated_uniform_rejects_bad_types():
    gs = gspaces.Rot2dOnR2(4)
    G = gs.fibergroup
    with pytest.raises(ValueError, match="trivial gates"):
        nn.GatedNonLinearityUniform(nn.FieldType(gs, [directsum([G.irrep(2), G.irrep(0)])]))
    with pytest.raises(ValueError, match="uniform"):
        nn.GatedNonLinearityUniform(nn.FieldType(gs, [directsum([G.irrep(0), G.irrep(1)]), gs.regular_repr]))
    turned = np.eye(6)
    turned[2:4, 2:4] = [[0.6, -0.8], [0.8, 0.6]]
    with pytest.raises(ValueError, match="identity"):
        nn.GatedNonLinearityUniform(nn.FieldType(gs, [directsum([G.irrep(0), G.irrep(0), G.irrep(1), G.irrep(1)], turned)]))
    with pytest.raises(TypeError, match="gate"):
        nn.GatedNonLinearityUniform(nn.FieldType(gs, [directsum([G.irrep(0), G.irrep(1)])]), gate=3)


# ---- QuotientFourierPointwise / ELU -----------------------------------------------------------------------
FINITE_QUOTIENTS = [("C8", 2, 4), ("C8", 4, 4), ("C4", 1, 2), ("D4", (0, 1), 2), ("D4", (None, 2), 2),
                    ("D4", (1, 2), 2), ("Flip", 2, 1), ("D1", (0, 1), 1)]


@pytest.mark.parametrize("name,subgroup_id,L", FINITE_QUOTIENTS)
def test_quotient_fourier_finite_is_exact_on_every_element(name, subgroup_id, L):
    gs = gspace_table(name)[name]()
    G = gs.fibergroup
    for module in (nn.QuotientFourierPointwise(gs, subgroup_id, 2, G.bl_irreps(L), function="p_relu"),
                   nn.QuotientFourierELU(gs, subgroup_id, 2, G.bl_irreps(L))):
        _assert_exact(module.to(F64), module.in_type)


@pytest.mark.parametrize("name,subgroup_id,L", FINITE_QUOTIENTS)
def test_quotient_fourier_samples_are_constant_on_cosets(name, subgroup_id, L):
    """The sampled function is one on G/H: equal samples at g and g h, for every h in H; and the
    coefficients are as many as the cosets (the whole band of G/H) with the whole band of G."""
    gs = gspace_table(name)[name]()
    G = gs.fibergroup
    module = nn.QuotientFourierPointwise(gs, subgroup_id, 1, G.bl_irreps(max(L, G.order())))
    H, parent, _ = G.subgroup(subgroup_id)
    A = module.A.double().numpy()
    index = {g: i for i, g in enumerate(module.grid)}
    for g in module.grid:
        for h in H.elements:
            assert np.allclose(A[index[g]], A[index[G.combine(g, parent(h))]], atol=1e-12)
    assert module.rho.size == G.order() // H.order()


@pytest.mark.parametrize("name,subgroup_id", [("SO2", 2), ("SO2", 1), ("O2", (None, -1)), ("O2", (0., 1)),
                                              ("O2", (None, 2)), ("O2", (0., 2))])
def test_quotient_fourier_continuous_is_exact_on_the_grid(name, subgroup_id):
    gs = ALL[name]()
    G = gs.fibergroup
    N = 16
    module = nn.QuotientFourierPointwise(gs, subgroup_id, 2, G.bl_irreps(3), N=N).to(F64)
    x = _input(module.in_type)
    nn.assert_equivariant(module, x, elements=module.grid, action=nn.act_on_fibres, tolerance=1e-10)
    nn.assert_equivariant(module, x, tolerance=1e-10)


@pytest.mark.parametrize("name,subgroup_id", [("SO2", 2), ("O2", (0., 1))])
def test_quotient_fourier_continuous_error_off_the_grid_shrinks_with_the_grid(name, subgroup_id):
    """Off the grid, the error is the aliasing of ReLU's spectrum (it decays like 1/k^2 for a kink): finer
    grids shrink it."""
    gs = ALL[name]()
    G = gs.fibergroup
    errors = []
    for N in (8, 64):
        torch.manual_seed(0)
        module = nn.QuotientFourierPointwise(gs, subgroup_id, 4, G.bl_irreps(2), N=N).to(F64)
        x = _input(module.in_type, size=3)
        off_grid = [e for e in _elements(gs, extra=6)[len(list(gs.testing_elements)):]]
        errs = nn.equivariance_errors(module, x, elements=off_grid, action=nn.act_on_fibres)
        errors.append(max(err / scale for _, err, scale in errs))
    assert errors[1] < errors[0] / 4 and errors[1] < 0.05


def test_quotient_fourier_structure_export_pickle():
    gs = gspaces.FlipRot2dOnR2(-1, maximum_frequency=3)
    G = gs.fibergroup
    so2_quotient = nn.QuotientFourierPointwise(gs, (None, -1), 2, G.bl_irreps(3), N=8)
    assert so2_quotient.rho.irreps == ["irrep_0,0", "irrep_1,0"]         # O(2)/SO(2): two points
    module = nn.QuotientFourierELU(gs, (0., 1), 2, G.bl_irreps(2), N=8, out_irreps=G.bl_irreps(1))
    assert module.out_type.size == 2 * (1 + 2) and isinstance(module, nn.FourierPointwise)
    assert module.state_dict() == {} or len(module.state_dict()) == 0
    x = _input(module.in_type, dtype=torch.float32)
    assert torch.allclose(module.export()(x.tensor), module(x).tensor, atol=1e-6)
    clone = pickle.loads(pickle.dumps(module))
    assert torch.equal(clone(x).tensor, module(x).tensor)
    with pytest.raises(ValueError, match="fixed by the subgroup"):
        nn.QuotientFourierPointwise(gs, (None, -1), 1, [(1, 1)], N=8)
    with pytest.raises(ValueError):
        nn.QuotientFourierPointwise(gs, (None, 7, 3), 1, G.bl_irreps(1), N=8)
    with pytest.raises(TypeError, match="ELU"):
        nn.QuotientFourierELU(gs, (None, -1), 1, G.bl_irreps(1), N=8, function="p_relu")


# ---- names and FieldType.__call__ -------------------------------------------------------------------------
def test_escnn_2d_pool_names_are_our_pools():
    assert nn.PointwiseMaxPool2D is nn.PointwiseMaxPool
    assert nn.PointwiseAvgPool2D is nn.PointwiseAvgPool
    assert nn.PointwiseAdaptiveAvgPool2D is nn.PointwiseAdaptiveAvgPool
    assert nn.PointwiseAdaptiveMaxPool2D is nn.PointwiseAdaptiveMaxPool
    assert nn.PointwiseMaxPoolAntialiased2D is nn.PointwiseMaxPoolAntialiased
    assert nn.PointwiseAvgPoolAntialiased2D is nn.PointwiseAvgPoolAntialiased
    for name in ("PointwiseMaxPool2D", "PointwiseAvgPoolAntialiased2D", "TensorProductModule",
                 "QuotientFourierPointwise", "QuotientFourierELU", "GatedNonLinearityUniform", "IIDBatchNorm2d"):
        assert name in nn.__all__


def test_field_type_call_wraps_a_tensor():
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    x = torch.randn(2, 4, 3, 3)
    y = t(x)
    assert isinstance(y, nn.GeometricTensor) and y.type == t and y.tensor is x and y.coords is None
    coords = torch.randn(5, 2)
    cloud = t(torch.randn(5, 4), coords)
    assert torch.equal(cloud.coords, coords)
    with pytest.raises(ValueError):
        t(torch.randn(2, 3, 3, 3))
