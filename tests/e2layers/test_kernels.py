"""``e2layers.kernels`` against e2cnn.kernels (tests/fixtures/e2cnn/kernels.*): values at arbitrary points (the
origin included), attribute dicts, dimensions, signatures; and the torch sampling against the numpy one."""
import inspect
import json

import numpy as np
import pytest
import torch

from e2cnn_cases import fixture_gspaces
from e2cnn_tokens import representation
from e2layers import gspaces, kernels
from paths import E2CNN_FIXTURES

DATA = E2CNN_FIXTURES
META = json.loads((DATA / "kernels.json").read_text())
ARRAYS = np.load(DATA / "kernels.npz")
CASES = META["cases"]
GSPACES = fixture_gspaces(gspaces)


def _basis(case):
    gs = GSPACES[case["gspace"]]()
    return getattr(kernels, case["builder"])(representation(gs, case["in"]), representation(gs, case["out"]),
                                             **case["kwargs"])


def _same_dict(ours, ref):
    assert list(ours) == list(ref)
    for key, expected in ref.items():
        value = ours[key]
        if isinstance(expected, list):
            assert tuple(value) == tuple(expected), key
        elif isinstance(expected, float):
            assert type(value) is float and value == pytest.approx(expected, abs=1e-9), key
        else:
            assert type(value) is type(expected) and value == expected, key


@pytest.mark.parametrize("name", sorted(CASES))
def test_kernel_basis_equals_e2cnn(name):
    case, points = CASES[name], ARRAYS["points"]
    basis = _basis(case)
    assert isinstance(basis, kernels.PolarBasis) and isinstance(basis.angular, kernels.SteerableKernelBasis)
    assert basis.dim == len(basis) == case["dim"] and basis.shape == tuple(case["shape"])
    np.testing.assert_allclose(basis.sample(points), ARRAYS[name], atol=1e-9, rtol=0)
    mask = np.arange(basis.dim) % 2 == 0
    np.testing.assert_allclose(basis.sample_masked(points, mask), ARRAYS[f"{name}__masked"], atol=1e-9, rtol=0)
    out = np.empty(ARRAYS[name].shape)
    assert basis.sample(points, out=out) is out
    ours = list(basis)
    assert len(ours) == len(case["attributes"])
    for a, ref in zip(ours, case["attributes"]):
        _same_dict(a, ref)
    for idx, ref in case["getitem"].items():
        _same_dict(basis[int(idx)], ref)
    assert basis.angular.dim == case["angular_dim"]
    for a, ref in zip(basis.angular, case["angular_attributes"]):
        _same_dict(a, ref)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype,atol", [(torch.float64, 1e-12), (torch.float32, 1e-6)])
def test_torch_sampling_agrees_with_numpy(name, dtype, atol):
    basis = _basis(CASES[name])
    points = ARRAYS["points"]
    ours = basis.sample_torch(torch.as_tensor(points, dtype=dtype))
    assert ours.dtype == dtype and ours.shape == ARRAYS[name].shape
    np.testing.assert_allclose(ours.double().numpy(), basis.sample(points), atol=atol, rtol=0)


@pytest.mark.parametrize("name", [pytest.param("CN_C4_regular", marks=pytest.mark.slow), "DN_D4_regular_irrep",
                                  "O2_irreps", "Flip_trivial_axis_offset", "SO2_trivial_to_3"])
def test_torch_sampling_gradients(name):
    basis = _basis(CASES[name])
    points = torch.as_tensor(ARRAYS["points"][:, 1:6], dtype=torch.float64).requires_grad_()    # not the origin
    assert torch.autograd.gradcheck(basis.sample_torch, (points,), atol=1e-7)


def test_torch_sampling_at_the_origin_has_zero_gradient_and_e2cnn_values():
    basis = _basis(CASES["CN_C4_regular"])
    points = torch.zeros(2, 2, dtype=torch.float64)
    points[:, 1] = torch.tensor([0.3, -0.7])
    points.requires_grad_()
    values = basis.sample_torch(points)
    np.testing.assert_allclose(values.detach().numpy(), basis.sample(points.detach().numpy()), atol=1e-12)
    values.sum().backward()
    assert torch.isfinite(points.grad).all() and torch.equal(points.grad[:, 0], torch.zeros(2, dtype=torch.float64))


def test_psi_chi_psichi_equal_e2cnn():
    theta = np.linspace(-3.0, 3.0, 7)
    np.testing.assert_allclose(kernels.psi(theta, k=np.array([1, 2, -3]), gamma=np.array([0.0, 0.5, np.pi / 2])),
                               ARRAYS["psi"], atol=1e-12)
    np.testing.assert_allclose(kernels.psi(0.3), ARRAYS["psi_scalar"], atol=1e-12)
    np.testing.assert_allclose(kernels.chi(np.array([0, 1, 2])), ARRAYS["chi"], atol=0)
    np.testing.assert_allclose(kernels.psichi(theta, s=np.array([1, 0, 1]), k=np.array([2, 0, -1]),
                                              gamma=np.array([0.0, 0.0, 0.3])), ARRAYS["psichi"], atol=1e-12)


def test_public_names_and_signatures_equal_e2cnn():
    assert sorted(kernels.__all__) == sorted(META["all"])
    for name, ref in META["signatures"].items():
        obj = kernels
        for part in name.split("."):
            obj = getattr(obj, part)
        ours = [[p.name, p.kind.name, None if p.default is inspect.Parameter.empty else repr(p.default)]
                for p in inspect.signature(obj).parameters.values()]
        assert ours == ref, name


def test_empty_basis_raises_e2cnn_exception():
    gs = gspaces.FlipRot2dOnR2(-1, maximum_frequency=2)
    with pytest.raises(kernels.EmptyBasisException):      # trivial -> sign: no kernel
        kernels.kernels_O2_act_R2(gs.trivial_repr, gs.irrep(1, 0), [0.0, 1.0], 0.6)
    with pytest.raises(kernels.EmptyBasisException):
        kernels.GaussianRadialProfile([], 0.6)


def test_bad_arguments_are_named():
    gs = gspaces.Rot2dOnR2(4)
    with pytest.raises(AssertionError, match="max_frequency or max_offset"):
        kernels.kernels_CN_act_R2(gs.regular_repr, gs.regular_repr, [1.0], 0.6)
    with pytest.raises(TypeError, match="dihedral group D_N, got C4"):
        kernels.kernels_DN_act_R2(gs.regular_repr, gs.regular_repr, [1.0], 0.6, max_frequency=2)
    with pytest.raises(ValueError, match="sigma"):
        kernels.kernels_CN_act_R2(gs.regular_repr, gs.regular_repr, [1.0, 2.0], [0.6], max_frequency=2)
    basis = kernels.kernels_CN_act_R2(gs.regular_repr, gs.regular_repr, [1.0], 0.6, max_frequency=2)
    with pytest.raises(ValueError, match=r"points must have shape \(2, N\)"):
        basis.sample(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="mask"):
        basis.sample_masked(np.zeros((2, 4)), np.ones(basis.dim, dtype=np.uint8))


def test_gspace_build_kernel_basis_is_e2cnn_type():
    gs = gspaces.FlipRot2dOnR2(4)
    basis = gs.build_kernel_basis(gs.regular_repr, gs.irrep(1, 1), 0.6, [0.0, 1.0, 2.0], maximum_frequency=3)
    ref = kernels.kernels_DN_act_R2(gs.regular_repr, gs.irrep(1, 1), [0.0, 1.0, 2.0], 0.6,
                                    axis=gs.kernel_axis, max_frequency=3)
    assert isinstance(basis, kernels.PolarBasis) and basis == ref and list(basis) == list(ref)
    points = ARRAYS["points"]
    np.testing.assert_allclose(basis.sample(points), ref.sample(points), atol=0)


@pytest.mark.parametrize("call", [
    lambda: kernels.GaussianRadialProfile([0.0, float("inf")], 0.6),
    lambda: kernels.GaussianRadialProfile([0.0, 1.0], float("nan")),
    lambda: kernels.GaussianRadialProfile([0.0, 1.0], "0.5"),
    lambda: kernels.GaussianRadialProfile("01", 0.6),
    lambda: kernels.kernels_CN_act_R2(gspaces.Rot2dOnR2(8).regular_repr, gspaces.Rot2dOnR2(8).regular_repr,
                                      [0.0, 1.0], 0.6, max_frequency=10 ** 7),
])
def test_bad_or_unbounded_arguments_are_refused_up_front(call):
    with pytest.raises(AssertionError) as raised:       # InvalidValueError / InvalidTypeError / LimitExceededError
        call()
    assert isinstance(raised.value, (ValueError, TypeError))
