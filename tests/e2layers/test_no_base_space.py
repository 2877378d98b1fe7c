"""gspaces.no_base_space(G): a group acting on a single point, and the modules of an equivariant MLP on its
(batch, channels) tensors, exactly equivariant in float64 for every planar group, pickled, reloaded, exported."""
import copy
import functools
import math
import pickle

import pytest
import torch

from e2layers import group, gspaces, nn

pytestmark = pytest.mark.usefixtures("module_cache")

GROUPS = {
    "C8": lambda: group.cyclic_group(8),
    "D4": lambda: group.dihedral_group(4),
    "SO2": lambda: group.so2_group(3),
    "O2": lambda: group.o2_group(3),
    "flip": lambda: group.flip_group(),
    "trivial": lambda: group.trivial_group(),
}


def _space(name):
    return gspaces.no_base_space(GROUPS[name]())


def _irreps(gs, nontrivial=False):
    """A few irreps of the group (the non-trivial ones only if asked), lowest frequencies first."""
    reps = [psi for psi in gs.irreps.values() if not (nontrivial and psi.is_trivial())]
    return reps[:4]


def _mixed(gs):
    """Trivial, irreps and (finite groups) regular fields: every kind of field at once."""
    reps = [gs.trivial_repr] + _irreps(gs, nontrivial=True) + [_irreps(gs, nontrivial=True) or [gs.trivial_repr]][0]
    if not gs.fibergroup.continuous:
        reps.append(gs.regular_repr)
    return nn.FieldType(gs, reps)


def _x(t, batch=6, *trailing):
    return nn.GeometricTensor(torch.randn(batch, t.size, *trailing, dtype=torch.float64), t)


def _assert_exact(module, t, elements=None, trailing=()):
    """f(g.x) == g.f(x) in float64 (relative 1e-10) on a (batch, channels) input, for every testing element, under
    the fibre action (for no_base_space, ``transform`` is the fibre action: test_the_gspace_acts_on_the_fibres_only)."""
    result = nn.assert_equivariant(module, _x(t, 6, *trailing), elements, 1e-10, action=nn.act_on_fibres)
    assert len(result) >= 1
    return result


# ---- the gspace ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(GROUPS))
def test_the_gspace_acts_on_the_fibres_only(name):
    G = GROUPS[name]()
    gs = gspaces.no_base_space(G)
    assert isinstance(gs, gspaces.GSpace0D) and gs.dimensionality == 0 and gs.fibergroup == G
    assert gs.name == G.name and repr(gs) == f"no_base_space({G.name})"
    assert gs == gspaces.no_base_space(GROUPS[name]()) and hash(gs) == hash(gspaces.no_base_space(G))
    assert pickle.loads(pickle.dumps(gs)) == gs
    t = _mixed(gs)
    assert nn.FieldType.parse(gs, repr(t)) == t
    x = _x(t, 3, 5)                 # trailing dimensions are carried along like a batch
    elements = list(gs.testing_elements)
    assert len(elements) == len(gs.grid_elements()) >= 1 and all(gs.is_grid_element(g) for g in elements)
    for g in elements[:12]:
        rho = torch.as_tensor(t.fiber_matrix(g))
        assert torch.allclose(x.transform(g).tensor, torch.einsum("oi,bil->bol", rho, x.tensor), atol=1e-13)
        assert torch.equal(x.transform(g).tensor, x.transform_fibers(g).tensor)


def test_the_gspace_differs_from_the_plane_and_from_other_groups():
    gs = _space("O2")
    assert gs != gspaces.FlipRot2dOnR2(-1, maximum_frequency=3) and gs != _space("D4")
    assert gspaces.FlipRot2dOnR2(-1, maximum_frequency=3) != gs
    with pytest.raises(TypeError, match="fibergroup"):
        gspaces.no_base_space(gspaces.Rot2dOnR2(4))
    t = nn.FieldType(_space("C8"), [_space("C8").regular_repr])
    with pytest.raises(ValueError, match="not an element"):
        _x(t).transform(9)
    with pytest.raises(NotImplementedError, match="Linear"):
        gs.build_kernel_basis(gs.trivial_repr, gs.trivial_repr)


def test_a_quarter_turn_rotates_a_vector_field_and_a_reflection_flips_it():
    gs = _space("O2")
    t = nn.FieldType(gs, [gs.irrep(1, 1)])
    x = nn.GeometricTensor(torch.tensor([[1.0, 0.0]], dtype=torch.float64), t)
    assert torch.allclose(x.transform((0, math.pi / 2)).tensor, torch.tensor([[0.0, 1.0]], dtype=torch.float64),
                          atol=1e-15)
    # O(2)'s reflection (1, 0) acts on irrep (1, 1) as y -> -y (docs/math.md): it fixes e_x and flips e_y
    e_y = nn.GeometricTensor(torch.tensor([[0.0, 1.0]], dtype=torch.float64), t)
    assert torch.allclose(x.transform((1, 0.0)).tensor, x.tensor, atol=1e-15)
    assert torch.allclose(e_y.transform((1, 0.0)).tensor, -e_y.tensor, atol=1e-15)


@pytest.mark.parametrize("name,id,subgroup", [("O2", (0.0, 2), "D2"), ("O2", (None, 4), "C4"), ("O2", (None, -1), "SO(2)"),
                                              ("D4", (None, 4), "C4"), ("D4", (0, 1), "C2"), ("C8", 2, "C2"),
                                              ("SO2", 4, "C4"), ("flip", 1, "C1")])
def test_restrict_gives_the_subgroup_acting_on_a_point(name, id, subgroup):
    gs = _space(name)
    sub, parent, child = gs.restrict(id)
    assert isinstance(sub, gspaces.GSpace0D) and sub.name == subgroup and sub.dimensionality == 0
    t = _mixed(gs)
    r = t.restrict(id)
    assert r.gspace == sub and r.size == t.size
    x = _x(t)
    for h in list(sub.testing_elements)[:6]:      # the restricted tensor transforms by the parent element
        assert torch.allclose(x.restrict(id).transform(h).tensor, x.transform(parent(h)).tensor, atol=1e-12)


def test_modules_of_the_plane_refuse_it():
    gs = _space("D4")
    t = nn.FieldType(gs, [gs.regular_repr])
    for build in (lambda: nn.R2Conv(t, t, 3), lambda: nn.R2ConvTransposed(t, t, 3), lambda: nn.R2Diffop(t, t, 3),
                  lambda: nn.R2Upsampling(t, 2)):
        with pytest.raises(ValueError, match="R\\^2"):
            build()
    for build in (lambda: nn.PointwiseMaxPool(t, 2), lambda: nn.PointwiseAvgPool(t, 2),
                  lambda: nn.PointwiseAdaptiveAvgPool(t, 1), lambda: nn.PointwiseAdaptiveMaxPool(t, 1)):
        with pytest.raises(ValueError, match="pools over the plane"):
            build()


def test_field_types_of_the_plane_and_of_a_point_do_not_mix():
    gs, r2 = _space("D4"), gspaces.FlipRot2dOnR2(4)
    with pytest.raises(ValueError, match="gspace"):
        nn.Linear(nn.FieldType(gs, [gs.regular_repr]), nn.FieldType(r2, [r2.regular_repr]))


# ---- the modules --------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _modules(name):
    """(label, factory, field type, elements) for every module that works on (batch, channels) tensors of the
    group ``name``; elements None: every testing element."""
    gs = _space(name)
    G = gs.fibergroup
    mixed, nontrivial = _mixed(gs), _irreps(gs, nontrivial=True)
    cases = [
        ("Linear", lambda: nn.Linear(mixed, _mixed(gs)).double(), mixed, None),
        ("IIDBatchNorm1d", lambda: _trained(nn.IIDBatchNorm1d(mixed)), mixed, None),
        ("IIDBatchNorm1d_eval", lambda: _trained(nn.IIDBatchNorm1d(mixed)).eval(), mixed, None),
        ("IIDBatchNorm2d", lambda: _trained(nn.IIDBatchNorm2d(mixed)), mixed, None),
        ("GNormBatchNorm", lambda: _trained(nn.GNormBatchNorm(mixed)), mixed, None),
        ("FieldNorm", lambda: _affine(nn.FieldNorm(mixed)), mixed, None),
    ]
    irreps = nn.FieldType(gs, 2 * nontrivial) if nontrivial else None
    if irreps is not None:
        cases += [("NormNonLinearity", lambda: _affine(nn.NormNonLinearity(irreps, "n_relu")), irreps, None),
                  ("NormBatchNorm", lambda: _trained(nn.NormBatchNorm(irreps)), irreps, None)]
    if G.continuous:
        fourier = nn.FourierELU(gs, 3, G.bl_irreps(2), N=16).double()
        # exact under the grid's rotations (and reflections), which permute the samples
        cases.append(("FourierELU", lambda: fourier, fourier.in_type, list(fourier.grid)))
    else:
        regular = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.regular_repr])
        fourier = nn.FourierPointwise(gs, 2, G.bl_irreps(1) if G.order() > 2 else [psi.id for psi in
                                      G.basisgen.irreps], function="p_relu").double()
        cases += [("FourierPointwise", lambda: fourier, fourier.in_type, None),
                  ("ReLU", lambda: nn.ReLU(regular), regular, None),
                  ("ELU", lambda: nn.ELU(regular), regular, None),
                  ("PointwiseNonLinearity", lambda: nn.PointwiseNonLinearity(regular, "p_sigmoid"), regular, None),
                  ("InnerBatchNorm", lambda: _trained(nn.InnerBatchNorm(regular)), regular, None),
                  ("GroupPooling", lambda: nn.GroupPooling(regular), regular, None)]
    return cases


def _trained(module):
    """A float64 batch normalisation in training mode whose running statistics and affine parameters moved."""
    module = module.double()
    x = _x(module.in_type, 32)
    module(nn.GeometricTensor(3 * x.tensor + 1, x.type))
    return _affine(module)


def _affine(module):
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return module


CASES = [(name, label) for name in GROUPS for label, *_ in _modules(name)]


def _case(name, label):
    return next(c for c in _modules(name) if c[0] == label)


def _quick_on_o2(name, label):
    """Every module on every group in the full suite; on O(2) in the quick one."""
    return pytest.param(name, label, id=f"{label}-{name}", marks=[] if name == "O2" else [pytest.mark.slow])


@pytest.mark.parametrize("name,label", [_quick_on_o2(name, label) for name, label in CASES])
def test_exact_equivariance_in_float64(name, label):
    _, build, t, elements = _case(name, label)
    module = build()
    result = _assert_exact(module, t, elements)
    if elements is None:
        assert len(result) == len(list(t.gspace.testing_elements))
    if label in ("Linear", "FieldNorm", "NormNonLinearity", "IIDBatchNorm1d", "IIDBatchNorm1d_eval"):
        _assert_exact(module, t, elements, trailing=(3,))       # (batch, channels, L) too


@pytest.mark.parametrize("name,label", [c for c in CASES if c[0] in ("D4", "O2")],
                         ids=[f"{label}-{name}" for name, label in CASES if name in ("D4", "O2")])
def test_pickle_state_dict_and_export(name, label):
    _, build, t, _ = _case(name, label)
    module = build().eval()
    x = _x(t)
    y = module(x).tensor
    assert y.shape == module.evaluate_output_shape(tuple(x.shape))
    assert torch.equal(pickle.loads(pickle.dumps(module))(x).tensor, y)
    clone = copy.deepcopy(module)
    with torch.no_grad():
        for p in clone.parameters():
            p.zero_()
    clone.load_state_dict(module.state_dict())
    assert torch.equal(clone(x).tensor, y)
    try:
        plain = module.export(ndim=2) if label == "Linear" else module.export()
    except NotImplementedError:
        return                                  # no plain equivalent (GroupPooling keeps the GeometricTensor API)
    assert not isinstance(plain, nn.EquivariantModule)
    assert torch.allclose(plain(x.tensor), y, atol=1e-12)
    if label == "Linear":
        assert isinstance(plain, torch.nn.Linear)
    if "BatchNorm" in label:
        assert isinstance(plain, (torch.nn.BatchNorm1d, torch.nn.Linear)) and not plain.training


def test_an_equivariant_mlp_is_exactly_invariant_under_o2():
    gs = _space("O2")
    vectors = nn.FieldType(gs, 4 * [gs.irrep(1, 1)])
    hidden = nn.FieldType(gs, 3 * [gs.trivial_repr] + 3 * [gs.irrep(1, 1)] + 3 * [gs.irrep(1, 2)])
    out = nn.FieldType(gs, [gs.trivial_repr])
    mlp = nn.SequentialModule(nn.Linear(vectors, hidden), nn.IIDBatchNorm1d(hidden), nn.FieldNorm(hidden),
                              nn.NormNonLinearity(hidden, "n_relu"), nn.Linear(hidden, out)).double()
    mlp(_x(vectors, 16))                        # one training step of the batch norm's statistics
    for mode in (True, False):
        mlp.train(mode)
        _assert_exact(mlp, vectors)


def test_the_2d_norms_keep_wanting_images_on_the_plane_and_iid_1d_takes_vectors_there():
    r2 = gspaces.FlipRot2dOnR2(4)
    planar = nn.FieldType(r2, [r2.regular_repr])
    with pytest.raises(ValueError, match="H, W"):           # on the plane, the 2d norms keep wanting images
        nn.IIDBatchNorm2d(planar)(nn.GeometricTensor(torch.randn(2, 8), planar))
    assert nn.IIDBatchNorm1d(planar)(nn.GeometricTensor(torch.randn(2, 8), planar)).shape == (2, 8)
