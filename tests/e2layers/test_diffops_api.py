"""``e2layers.diffops`` against e2cnn.diffops: dimensions, attribute dicts, polynomials and samples (fixtures
diffops.json/.npz of generate_diffops.py and diffops_api.json/.npz of generate_diffops_api.py); the
polynomials' equivariance; the deliberate "fd" fix for groups with reflections; ``build_diffop_basis``;
argument errors; and the pickle-free ``store_cache``/``load_cache``."""
import importlib.util
import json
import pickle
import warnings

import numpy as np
import pytest

from basisgen.errors import InvalidTypeError, InvalidValueError
from basisgen.radial import grid_coordinates
from e2cnn_cases import fixture_gspaces
from e2cnn_tokens import representation
from e2layers import diffops, gspaces
from e2layers.kernels import EmptyBasisException
from paths import E2CNN_FIXTURES

META = json.loads((E2CNN_FIXTURES / "diffops.json").read_text())
ARRAYS = np.load(E2CNN_FIXTURES / "diffops.npz")
API = json.loads((E2CNN_FIXTURES / "diffops_api.json").read_text())
API_ARRAYS = np.load(E2CNN_FIXTURES / "diffops_api.npz")
BASES = META["bases"]
GSPACES = fixture_gspaces(gspaces)
#: RBF-FD cases in the quick subset: none (rbf compiles every RBF derivative on its first use in a process, a
#: second or more each; tests/basisgen/test_stencils.py keeps one quick RBF-FD comparison)
QUICK_RBFFD: set = set()
#: slow, and skipped without the optional package treverhines-rbf (the `rbf` extra)
RBFFD_MARKS = [pytest.mark.slow, pytest.mark.skipif(importlib.util.find_spec("rbf") is None,
                                                    reason="RBF-FD needs treverhines-rbf (pip install -e '.[rbf]')")]


def _gspace(name):
    record = META["gspaces"][name]
    return getattr(gspaces, record["constructor"])(*record["args"], **record["kwargs"])


def _gspace_of(case):
    """The case's gspace, with the reflection axis its basis was built for."""
    record = META["gspaces"][case["gspace"]]
    kwargs = dict(record["kwargs"], **({"axis": case["kwargs"]["axis"]} if "axis" in case["kwargs"] else {}))
    return getattr(gspaces, record["constructor"])(*record["args"], **kwargs)


def _build(case, gspace):
    kwargs = dict(case["kwargs"])
    max_power = kwargs.pop("max_power")
    return getattr(diffops, case["function"])(representation(gspace, case["in"]), representation(gspace, case["out"]),
                                              max_power, **kwargs)


def _same_dicts(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert list(a) == list(b)
        assert {k: list(v) if isinstance(v, tuple) else v for k, v in a.items()} == b
        assert all(type(a[k]) is type(v) for k, v in b.items() if not isinstance(v, list))


def _has_reflections(gspace):
    return gspace.fibergroup.basisgen.has_reflection


def _sample(basis, disc_kwargs, points):
    basis.disc = diffops.DiscretizationArgs(**disc_kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)          # RBF-FD's large weights, as in e2cnn
        return basis.sample(points)


def _sample_cases():
    quick, slow = [], []
    for name, case in BASES.items():
        for sample, record in case.get("samples", {}).items():
            if record["discretization"]["method"] == "fd" and _has_reflections(_gspace(case["gspace"])):
                continue                      # our fd differs on purpose there: test_fd_is_equivariant_under_flips
            rbffd = record["discretization"]["method"] == "rbffd"
            target = slow if rbffd and (name, sample) not in QUICK_RBFFD else quick
            target.append((name, sample))
    return quick + [pytest.param(*c, marks=RBFFD_MARKS) for c in slow]


@pytest.mark.parametrize("name", sorted(BASES))
def test_irrep_pair_bases_equal_e2cnn(name):
    case = BASES[name]
    gs = _gspace(case["gspace"])
    if case["dim"] == 0:
        with pytest.raises(EmptyBasisException):
            _build(case, gs)
        return
    basis = _build(case, gs)
    assert isinstance(basis, diffops.TensorBasis) and isinstance(basis.basis1, diffops.SteerableDiffopBasis)
    assert basis.dim == len(basis) == case["dim"] and basis.maximum_order == case["maximum_order"]
    _same_dicts(list(basis), case["attributes"])
    _same_dicts([basis[i] for i in range(basis.dim)], case["attributes"])
    for ours, theirs in zip(basis.coefficients, case["coefficients"]):
        np.testing.assert_allclose(ours, np.array(theirs), atol=1e-12, rtol=0)
        assert np.array_equal(ours == 0, np.array(theirs) == 0)          # e2cnn's zeroing below 1e-8


@pytest.mark.parametrize("name,sample", _sample_cases())
def test_samples_equal_e2cnn(name, sample):
    case = BASES[name]
    record = case["samples"][sample]
    basis = _build(case, _gspace(case["gspace"]))
    ours = _sample(basis, record["discretization"], ARRAYS[f"grid__{record['grid']}"])
    theirs = ARRAYS[f"{name}__sample_{sample}"]
    np.testing.assert_allclose(ours, theirs, atol=1e-9 * max(1.0, np.abs(theirs).max()), rtol=0)


def test_tensor_factors_and_laplace_profile_equal_e2cnn():
    tensor = META["tensor"]
    basis = _build(BASES[tensor["case"]], _gspace(BASES[tensor["case"]]["gspace"]))
    _same_dicts(list(basis.basis1), tensor["basis1_attributes"])
    _same_dicts([basis.basis2[i] for i in range(basis.basis2.dim)], tensor["basis2_attributes"])
    laplace = META["laplace"]
    profile = diffops.LaplaceProfile(laplace["max_power"])
    assert profile.dim == laplace["dim"] and profile == diffops.LaplaceProfile(2) != diffops.LaplaceProfile(1)
    _same_dicts([profile[i] for i in range(profile.dim)], laplace["attributes"])
    for ours, theirs in zip(profile.coefficients, laplace["coefficients"]):
        assert ours.tolist() == theirs
    np.testing.assert_allclose(profile.sample(ARRAYS["grid__k5"]), ARRAYS["laplace__sample_fd"], atol=1e-12, rtol=0)


def _api_cases():
    out = []
    for name, case in API["bases"].items():
        for sample, record in case["samples"].items():
            slow = record["discretization"]["method"] == "rbffd" and (name, sample) not in QUICK_RBFFD
            out.append(pytest.param(name, sample, marks=RBFFD_MARKS) if slow else (name, sample))
    return out


@pytest.mark.parametrize("name,sample", _api_cases())
def test_representation_bases_equal_e2cnn(name, sample):
    """Direct sums of irrep pairs with a change of basis (regular and quotient representations)."""
    case = API["bases"][name]
    basis = _build(case, GSPACES[case["gspace"]]())
    assert basis.dim == case["dim"] and basis.shape == tuple(case["shape"])
    assert basis.maximum_order == case["maximum_order"]
    _same_dicts(list(basis), case["attributes"])
    for ours, theirs in zip(basis.coefficients, case["coefficients"]):
        np.testing.assert_allclose(ours, np.array(theirs), atol=1e-12, rtol=0)
    theirs = API_ARRAYS[f"{name}__{sample}"]
    ours = _sample(basis, case["samples"][sample]["discretization"], API_ARRAYS["grid"])
    np.testing.assert_allclose(ours, theirs, atol=1e-9 * max(1.0, np.abs(theirs).max()), rtol=0)


# ---- equivariance --------------------------------------------------------------------------------------
def _plane_action(gspace, element):
    """The 2x2 matrix by which ``element`` acts on the plane: flip y if it reflects, then rotate."""
    j, theta = gspace.fibergroup.basisgen.element_action(element)
    angle = theta + (2 * gspace.axis if j else 0.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return rotation @ np.diag([1.0, -1.0]) if j else rotation


def _evaluate(coefficients, points):
    """Each matrix of homogeneous polynomials at ``points`` (2, N): (c_out, c_in, N)."""
    n = coefficients.shape[-1] - 1
    monomials = np.stack([points[0] ** (n - j) * points[1] ** j for j in range(n + 1)])
    return np.einsum("oij,jp->oip", coefficients, monomials)


EQUIVARIANCE_CASES = {
    "C3": ("C3", "regular", "regular", {"max_frequency": 4}),
    "C4": ("C4", "regular", "irrep:1", {"max_offset": 1}),
    "C8": ("C8", "quotient:2", "regular", {"max_frequency": 3}),
    "D3": ("D3", "regular", "regular", {"max_frequency": 3}),
    "D4": ("D4", "regular", "irrep:1,1", {"max_frequency": 4}),
    "D4_axis60": ("D4_axis60", "irrep:1,1", "regular", {"max_frequency": 3}),
    "SO2": ("SO2_4", "irrep:1", "irrep:3", {}),
    "O2": ("O2_4", "irrep:1,1", "irrep:1,2", {}),
    "Flip": ("Flip", "regular", "regular", {"max_frequency": 3}),
    "Flip_axis45": ("Flip_axis45", "regular", "irrep:1", {"max_frequency": 3}),
    "Trivial": ("Trivial", "trivial", "regular", {"max_offset": 2}),
}


@pytest.mark.parametrize("name", sorted(EQUIVARIANCE_CASES))
def test_polynomials_are_equivariant(name):
    """``P(g x) = rho_out(g) P(x) rho_in(g)^-1`` at random points, for every element and test group element."""
    gspace_name, i, o, kwargs = EQUIVARIANCE_CASES[name]
    gs = _gspace(gspace_name)
    rho_in, rho_out = representation(gs, i), representation(gs, o)
    builder = getattr(diffops, _builder(gs))
    if "axis" in builder.__code__.co_varnames:
        kwargs = dict(kwargs, axis=gs.axis)
    basis = builder(rho_in, rho_out, 2, **kwargs)
    points = np.random.default_rng(0).standard_normal((2, 7))
    for g in list(gs.fibergroup.testing_elements())[:12]:
        moved = _plane_action(gs, g) @ points
        for c in basis.coefficients:
            left = _evaluate(c, moved)
            right = np.einsum("ab,bcp,cd->adp", rho_out(g), _evaluate(c, points), rho_in(g).T)
            np.testing.assert_allclose(left, right, atol=1e-10 * max(1.0, np.abs(right).max()))


def _builder(gs):
    G = gs.fibergroup.basisgen
    if G.continuous:
        return "diffops_O2_act_R2" if G.has_reflection else "diffops_SO2_act_R2"
    name = type(G).__name__
    if name == "DihedralGroup":
        return "diffops_DN_act_R2"
    if name == "FlipGroup":
        return "diffops_Flip_act_R2"
    return "diffops_Trivial_act_R2" if G.rotation_order == 1 else "diffops_CN_act_R2"


def _grid_violation(gs, element, samples, rho_in, rho_out, points):
    """``max |B(g x) - rho_out(g) B(x) rho_in(g)^-1|`` over the grid, for samples (c_out, c_in, dim, N)."""
    moved = _plane_action(gs, element) @ points
    lookup = {tuple(np.round(p, 9) + 0.0): q for q, p in enumerate(points.T)}
    perm = [lookup[tuple(np.round(p, 9) + 0.0)] for p in moved.T]
    right = np.einsum("ab,bcep,cd->adep", rho_out(element), samples, rho_in(element).T)
    return np.abs(samples[..., perm] - right).max()


#: the cases where e2cnn's quarter-turned "fd" stencils break equivariance (elsewhere the quarter turn happens
#: to be a symmetry of the pair: D4's 1-dimensional irreps, or 2-dimensional on both sides)
E2CNN_FD_BREAKS = {"D4_10_11", "D4_11_00", "D4_11_02", "Flip_0_0", "Flip_0_1", "Flip_1_1", "Flip_0_1_axis45"}


@pytest.mark.parametrize("name", ["D4_00_00", "D4_00_10", "D4_11_11", "D4_00_12"] + sorted(E2CNN_FD_BREAKS))
def test_fd_is_equivariant_under_flips(name):
    """For groups with reflections, our "fd" stencils are those of the operators themselves: equivariant
    under every element mapping the grid to itself.  e2cnn's (the operators turned a quarter turn) are not."""
    case = BASES[name]
    gs = _gspace_of(case)
    rho_in, rho_out = representation(gs, case["in"]), representation(gs, case["out"])
    grid = case["samples"]["fd"]["grid"]
    points = ARRAYS[f"grid__{grid}"]
    ours = _sample(_build(case, gs), {}, points)
    theirs = ARRAYS[f"{name}__sample_fd"]
    flips = [g for g in gs.fibergroup.testing_elements() if gs.fibergroup.basisgen.element_action(g)[0]]
    assert flips
    for g in gs.fibergroup.testing_elements():
        assert _grid_violation(gs, g, ours, rho_in, rho_out, points) < 1e-12
    if name in E2CNN_FD_BREAKS:
        assert max(_grid_violation(gs, g, theirs, rho_in, rho_out, points) for g in flips) > 1e-3


def test_fd_without_reflections_keeps_e2cnn_stencils_and_is_equivariant():
    """Without reflections e2cnn's quarter-turned stencils (compared in test_samples_equal_e2cnn) are kept:
    the turned operators are as equivariant."""
    case = BASES["C4_1_1"]
    gs = _gspace("C4")
    points = ARRAYS["grid__k7"]
    ours = _sample(_build(case, gs), {}, points)
    rho = representation(gs, "irrep:1")
    for g in gs.fibergroup.testing_elements():
        assert _grid_violation(gs, g, ours, rho, rho, points) < 1e-12


# ---- sampling ------------------------------------------------------------------------------------------
def test_gauss_at_any_points_agrees_with_the_grid():
    """Off the grid the Gaussian derivatives are evaluated in closed form: a second method on the grid's
    points taken in another order."""
    gs = gspaces.Rot2dOnR2(4)
    basis = diffops.diffops_CN_act_R2(gs.regular_repr, gs.irrep(1), 2, max_frequency=3,
                                      discretization=diffops.DiscretizationArgs("gauss", smoothing=0.8))
    grid = np.stack(grid_coordinates(5))
    order = np.random.default_rng(1).permutation(grid.shape[1])
    on_grid = basis.sample(grid)
    np.testing.assert_allclose(basis.sample(grid[:, order]), on_grid[..., order], atol=1e-12, rtol=0)
    # e2cnn's reference at the same points
    case = BASES["D4_00_10"]
    d4 = _build(case, _gspace("D4"))
    theirs = ARRAYS["D4_00_10__sample_gauss_k5"]
    np.testing.assert_allclose(_sample(d4, {"method": "gauss", "smoothing": 1.0}, ARRAYS["grid__k5"][:, order]),
                               theirs[..., order], atol=1e-12, rtol=0)


def test_sample_masked_and_fd_off_the_grid():
    gs = gspaces.Rot2dOnR2(8)
    basis = diffops.diffops_CN_act_R2(gs.regular_repr, gs.trivial_repr, 1, max_frequency=2)
    grid = np.stack(grid_coordinates(5))
    mask = np.arange(basis.dim) % 3 == 0
    np.testing.assert_array_equal(basis.sample_masked(grid, mask), basis.sample(grid)[:, :, mask])
    with pytest.raises(InvalidValueError, match="mask"):
        basis.sample_masked(grid, mask.astype(np.uint8))
    with pytest.raises(InvalidValueError, match="points"):
        basis.sample(grid[:, ::-1])                                     # not e2cnn's grid order
    with pytest.raises(InvalidValueError, match=r"points must be a numeric array of shape \(2, N\)"):
        basis.sample(np.zeros((3, 4)))


def test_pretty_print():
    line = "-" * 34
    assert diffops.LaplaceProfile(1).pretty_print() == f"1\n{line}\nx² + y²\n{line}\n"
    gs = gspaces.Rot2dOnR2(4)
    basis = diffops.SteerableDiffopBasis(diffops.IrrepsDiffopBasis, gs.trivial_repr, gs.irrep(1), max_frequency=1)
    assert basis.pretty_print() == f"x\ny\n{line}\n-y\nx\n{line}\n"        # the gradient and its quarter turn


# ---- gspaces ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("gspace_name", ["C4", "D4_axis60", "SO2_4", "O2_4", "Flip_axis45", "Trivial"])
def test_build_diffop_basis_dispatches_to_the_group_builder(gspace_name):
    gs = _gspace(gspace_name)
    disc = diffops.DiscretizationArgs("gauss", smoothing=1.2)
    rho = representation(gs, {"SO2_4": "irrep:1", "O2_4": "irrep:1,1"}.get(gspace_name, "regular"))
    basis = gs.build_diffop_basis(rho, gs.trivial_repr, 1, disc, maximum_frequency=2)
    builder = getattr(diffops, _builder(gs))
    kwargs = {} if gs.fibergroup.basisgen.continuous else {"max_frequency": 2}
    if "axis" in builder.__code__.co_varnames:
        kwargs["axis"] = gs.axis
    reference = builder(rho, gs.trivial_repr, 1, discretization=disc, **kwargs)
    assert isinstance(basis, diffops.TensorBasis) and basis == reference and list(basis) == list(reference)
    assert basis.disc == disc
    grid = np.stack(grid_coordinates(5))
    np.testing.assert_array_equal(basis.sample(grid), reference.sample(grid))


def test_build_diffop_basis_arguments():
    gs = gspaces.FlipRot2dOnR2(4)
    with pytest.raises(InvalidValueError, match="maximum_frequency and maximum_offset"):
        gs.build_diffop_basis(gs.regular_repr, gs.regular_repr, 1, diffops.DiscretizationArgs(), frequency=2)
    with pytest.raises(AssertionError, match="max_frequency or max_offset"):
        gs.build_diffop_basis(gs.regular_repr, gs.regular_repr, 1, diffops.DiscretizationArgs())


# ---- errors ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call,error,match", [
    (lambda: diffops.DiscretizationArgs("spectral"), InvalidValueError, "method must be one of"),
    (lambda: diffops.DiscretizationArgs("gauss"), InvalidValueError, "smoothing must be a positive"),
    (lambda: diffops.DiscretizationArgs("gauss", smoothing=-1.0), InvalidValueError, "smoothing"),
    (lambda: diffops.DiscretizationArgs("rbffd", phi="nope"), InvalidValueError, "phi"),
    (lambda: diffops.DiscretizationArgs(angle_offset=float("nan")), InvalidValueError, "angle_offset"),
    (lambda: diffops.DiscretizationArgs(angle_offset="0.1"), InvalidTypeError, "angle_offset"),
    (lambda: diffops.LaplaceProfile(-1), InvalidValueError, "max_power"),
    (lambda: diffops.LaplaceProfile(1, discretization="fd"), InvalidTypeError, "discretization"),
    (lambda: diffops.diffops_CN_act_R2(gspaces.Rot2dOnR2(4).regular_repr, gspaces.Rot2dOnR2(4).regular_repr, 1),
     InvalidValueError, "max_frequency or max_offset"),
    (lambda: diffops.diffops_DN_act_R2(gspaces.Rot2dOnR2(4).regular_repr, gspaces.Rot2dOnR2(4).regular_repr, 1,
                                       max_frequency=2), InvalidTypeError, "dihedral group D_N, got C4"),
    (lambda: diffops.diffops_CN_act_R2(gspaces.Rot2dOnR2(4).regular_repr, gspaces.Rot2dOnR2(4).regular_repr, 1,
                                       max_frequency=-2), InvalidValueError, "max_frequency"),
    (lambda: diffops.TensorBasis(object, gspaces.Rot2dOnR2(4).regular_repr, gspaces.Rot2dOnR2(4).regular_repr, 1),
     InvalidTypeError, "irreps_basis"),
])
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match) as raised:
        call()
    assert isinstance(raised.value, AssertionError)        # e2cnn asserted these


def test_discretization_args_convert_to_basisgen():
    args = diffops.DiscretizationArgs("gauss", smoothing=2, angle_offset=0.5)
    disc = args.as_discretization()
    assert (disc.method, disc.smoothing, disc.phi, args.angle_offset) == ("gauss", 2.0, "ga", 0.5)
    assert hash(args) == hash(diffops.DiscretizationArgs("gauss", smoothing=2, angle_offset=0.5))
    with pytest.raises(AttributeError):
        args.method = "fd"


# ---- store_cache / load_cache ------------------------------------------------------------------------------
class _CreatesMarker:
    """Unpickling this creates the file ``path`` (what a hostile pickle could do, and worse)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (str(self.path), "w")


def test_load_cache_never_unpickles(tmp_path):
    hostile, marker = tmp_path / "diffops.pickle", tmp_path / "marker"
    hostile.write_bytes(pickle.dumps(_CreatesMarker(marker)))
    diffops.load_cache(str(hostile))
    diffops.load_cache(hostile)
    assert not marker.exists()
    # the payload is live: unpickling a copy aimed elsewhere does create its marker
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_CreatesMarker(control))).close()
    assert control.exists()


def test_store_cache_writes_nothing(tmp_path):
    target = tmp_path / "sub" / "diffops.pickle"
    diffops.store_cache(str(target))
    assert not (tmp_path / "sub").exists()
    with pytest.raises(InvalidTypeError, match="path"):
        diffops.store_cache(3)
