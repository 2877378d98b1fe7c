"""The argument checks (``basisgen.checks``, used by every module of ``e2layers.nn``) and the one equivariance
checker of ``e2layers.nn``.

Checks: each helper with good values (and what they become) and bad ones (and the error class: a value
of the wrong kind is an ``InvalidTypeError``, one out of range an ``InvalidValueError``; both name the
argument).  NumPy integers are ints everywhere, bools never are: a table of every pooling module and
the convolutions takes ``np.int64`` kernel sizes, strides and paddings and builds what plain ints build.

Checker: no module repeats the comparison loop or overrides ``check_equivariance`` to change tolerances
only; the tolerances are the ``check_atol``/``check_rtol`` class attributes and the signatures show them.
"""
import inspect
import math
import re

import numpy as np
import pytest
import torch

from basisgen import checks
from basisgen.errors import InvalidTypeError, InvalidValueError
from e2layers import gspaces, nn
from paths import ROOT


# (helper, extra arguments, [(good value, expected result)], [(bad value, error class)])
TABLE = [
    (checks.positive_int, (), [(1, 1), (7, 7), (np.int64(3), 3), (np.uint8(2), 2)],
     [(0, InvalidValueError), (-2, InvalidValueError), (np.int32(0), InvalidValueError), (True, InvalidTypeError),
      (np.bool_(True), InvalidTypeError), (2.0, InvalidTypeError), ("3", InvalidTypeError), (None, InvalidTypeError),
      (math.nan, InvalidTypeError)]),
    (checks.nonnegative_int, (), [(0, 0), (5, 5), (np.int16(0), 0)],
     [(-1, InvalidValueError), (False, InvalidTypeError), (0.0, InvalidTypeError), ("0", InvalidTypeError)]),
    (checks.integer, (), [(-4, -4), (np.int64(-1), -1)], [(1.5, InvalidTypeError), (True, InvalidTypeError)]),
    (checks.int_or_pair, (1,), [(2, (2, 2)), ((1, 3), (1, 3)), ([2, 5], (2, 5)), (np.int64(2), (2, 2)),
                                ((np.int64(1), 4), (1, 4))],
     [(0, InvalidValueError), ((1, 0), InvalidValueError), ((1, 2, 3), InvalidValueError), ((), InvalidValueError),
      ((1.0, 2), InvalidTypeError), (True, InvalidTypeError), ((1, True), InvalidTypeError), ("2", InvalidTypeError),
      (None, InvalidTypeError)]),
    (checks.finite_float, (), [(0.5, 0.5), (-3, -3.0), (np.float32(0.25), 0.25), (np.int64(2), 2.0)],
     [(math.nan, InvalidValueError), (math.inf, InvalidValueError), (-math.inf, InvalidValueError),
      ("0.5", InvalidTypeError), (1 + 2j, InvalidTypeError), (True, InvalidTypeError), (None, InvalidTypeError)]),
    (checks.probability, (), [(0, 0.0), (1, 1.0), (0.3, 0.3), (np.float64(0.5), 0.5)],
     [(-0.1, InvalidValueError), (1.5, InvalidValueError), (math.nan, InvalidValueError), ("0.5", InvalidTypeError),
      (False, InvalidTypeError), (None, InvalidTypeError)]),
    (checks.flag, (), [(True, True), (False, False), (0, False), (1, True), (np.bool_(True), True),
                       (np.int64(0), False)],
     [("no", InvalidTypeError), ("False", InvalidTypeError), (0.5, InvalidTypeError), (2, InvalidTypeError),
      (None, InvalidTypeError), (math.nan, InvalidTypeError)]),
    (checks.one_of, (("norm", "max"),), [("norm", "norm"), ("max", "max")],
     [("min", InvalidValueError), (None, InvalidValueError), (["norm"], InvalidValueError)]),
]
CASES = [(f, extra, value, expected) for f, extra, good, _ in TABLE for value, expected in good]
BAD_CASES = [(f, extra, value, error) for f, extra, _, bad in TABLE for value, error in bad]


@pytest.mark.parametrize("helper,extra,value,expected", CASES,
                         ids=[f"{f.__name__}-{v!r}" for f, _, v, _ in CASES])
def test_good_values_come_back_as_plain_python(helper, extra, value, expected):
    result = helper(value, "arg", *extra)
    assert result == expected and type(result) is type(expected)
    if isinstance(result, tuple):
        assert all(type(v) is int for v in result)


@pytest.mark.parametrize("helper,extra,value,error", BAD_CASES,
                         ids=[f"{f.__name__}-{v!r}" for f, _, v, _ in BAD_CASES])
def test_bad_values_raise_naming_the_argument(helper, extra, value, error):
    with pytest.raises(error, match="my_arg must be") as caught:
        helper(value, "my_arg", *extra)
    assert isinstance(caught.value, AssertionError)          # e2cnn's callers catch AssertionError


def test_bounds_of_finite_float():
    assert checks.finite_float(1e-3, "eps", above=0) == 1e-3
    assert checks.finite_float(0, "momentum", minimum=0, maximum=1) == 0.0
    for value, bounds in ((0, dict(above=0)), (-1e-9, dict(minimum=0)), (1.01, dict(minimum=0, maximum=1))):
        with pytest.raises(InvalidValueError, match=r"eps must be a finite float [><]"):
            checks.finite_float(value, "eps", **bounds)


def test_nn_uses_the_one_set_of_checks():
    """No module of e2layers.nn (the convolution and linear files aside, for now) spells out a bool-excluding
    int or float test of its own, or a pair helper."""
    skip = {"_checks.py", "r2conv.py", "linear.py"}
    pattern = re.compile(r"isinstance\(\w+, bool\)|def _?pair\(")
    offenders = [f"{path.name}:{i}" for path in sorted((ROOT / "e2layers" / "nn").glob("*.py")) if path.name not in skip
                 for i, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert not offenders


# ---- NumPy integers as window arguments ------------------------------------------------------------------
GS = gspaces.FlipRot2dOnR2(4)
REG = nn.FieldType(GS, 2 * [GS.regular_repr])
MIX = nn.FieldType(GS, [GS.regular_repr, GS.irrep(1, 1)])

# name -> factory(kernel_size, stride, padding), every argument an int
WINDOWED = {
    "PointwiseMaxPool": lambda k, s, p: nn.PointwiseMaxPool(REG, k, stride=s, padding=p),
    "PointwiseAvgPool": lambda k, s, p: nn.PointwiseAvgPool(REG, k, stride=s, padding=p),
    "PointwiseMaxPoolAntialiased": lambda k, s, p: nn.PointwiseMaxPoolAntialiased(REG, k, stride=s, padding=p),
    "PointwiseAvgPoolAntialiased": lambda k, s, p: nn.PointwiseAvgPoolAntialiased(REG, 0.6, stride=s, padding=p),
    "NormMaxPool": lambda k, s, p: nn.NormMaxPool(MIX, k, stride=s, padding=p),
    "PointwiseAdaptiveMaxPool": lambda k, s, p: nn.PointwiseAdaptiveMaxPool(REG, k),
    "PointwiseAdaptiveAvgPool": lambda k, s, p: nn.PointwiseAdaptiveAvgPool(REG, k),
    "R2Conv": lambda k, s, p: nn.R2Conv(REG, REG, k, stride=s, padding=p),
    "R2ConvTransposed": lambda k, s, p: nn.R2ConvTransposed(REG, REG, k, stride=s, padding=p),
}


@pytest.mark.parametrize("name", sorted(WINDOWED))
def test_numpy_integers_are_window_arguments(name):
    plain = WINDOWED[name](3, 2, 1)
    numpy = WINDOWED[name](np.int64(3), np.int64(2), np.int64(1))
    kernel = np.int32(3) if name.startswith("R2Conv") else (np.int32(3), 3)      # a convolution's is square
    tupled = WINDOWED[name](kernel, (np.int64(2), 2), (np.int64(1), 1))
    x = nn.GeometricTensor(torch.randn(1, plain.in_type.size, 9, 9), plain.in_type)
    assert plain.evaluate_output_shape(tuple(x.shape)) == numpy.evaluate_output_shape(tuple(x.shape))
    assert numpy(x).shape == plain(x).shape == tupled(x).shape
    for module in (numpy, tupled):
        for attr in ("kernel_size", "stride", "padding", "output_size"):
            value = getattr(module, attr, None)
            assert value is None or all(type(v) is int for v in np.atleast_1d(value).tolist())


@pytest.mark.parametrize("name", sorted(WINDOWED))
def test_bools_are_not_window_arguments(name):
    with pytest.raises((InvalidTypeError, InvalidValueError)):
        WINDOWED[name](True, True, True)


# ---- the one equivariance checker -------------------------------------------------------------------------
def _nn_classes():
    return [getattr(nn, n) for n in nn.__all__
            if isinstance(getattr(nn, n), type) and issubclass(getattr(nn, n), nn.EquivariantModule)]


def test_one_comparison_loop():
    """Only the checker acts on inputs and outputs with group elements (the convolution files aside)."""
    skip = {"_equivariance.py", "geometric_tensor.py", "field_type.py", "r2conv.py", "linear.py"}
    pattern = re.compile(r"\.transform(_fibers)?\(|testing_elements")
    offenders = [f"{path.name}:{i}" for path in sorted((ROOT / "e2layers" / "nn").glob("*.py")) if path.name not in skip
                 for i, line in enumerate(path.read_text().splitlines(), 1)
                 if pattern.search(line) and not line.lstrip().startswith((">>>", "...", "#"))
                 and "x.transform(parent(h))" not in line]
    assert not offenders




def test_tolerances_are_class_attributes_and_defaults():
    """Every check_equivariance either is the one made from the class's tolerances, or takes parameters of its
    own beyond them (and then defaults to the same tolerances); the defaults are ``check_atol``/``check_rtol``."""
    for cls in _nn_classes():
        method = cls.check_equivariance
        params = inspect.signature(method).parameters
        if not getattr(method, "from_tolerances", False):
            assert set(params) - {"self", "atol", "rtol"}, f"{cls.__name__} overrides check_equivariance for nothing"
            continue
        assert (params["atol"].default, params["rtol"].default) == (cls.check_atol, cls.check_rtol), cls.__name__


def test_a_subclass_sets_its_tolerances():
    class Loose(nn.ReLU):
        check_atol, check_rtol = 1e-3, 1e-2
    params = inspect.signature(Loose.check_equivariance).parameters
    assert (params["atol"].default, params["rtol"].default) == (1e-3, 1e-2)
    assert inspect.signature(nn.ReLU.check_equivariance).parameters["atol"].default == 1e-6
    assert len(Loose(REG).check_equivariance()) == 8


def test_the_checker_takes_several_inputs_dict_inputs_and_actions():
    gates, gated = nn.FieldType(GS, 2 * [GS.trivial_repr]), nn.FieldType(GS, [GS.irrep(1, 1), GS.regular_repr])
    gate = nn.GatedNonLinearity2((gates, gated)).double()
    x = (nn.GeometricTensor(torch.randn(2, 2, 6, 6, dtype=torch.float64), gates),
         nn.GeometricTensor(torch.randn(2, 10, 6, 6, dtype=torch.float64), gated))
    assert len(nn.assert_equivariant(gate, x)) == 8
    merge = nn.MergeModule([(gate, ["g", "v"]), (nn.ReLU(REG).double(), "r")])
    inputs = {"g": x[0], "v": x[1], "r": nn.GeometricTensor(torch.randn(2, 16, 6, 6, dtype=torch.float64), REG)}
    assert len(nn.assert_equivariant(merge, inputs)) == 8
    assert len(merge.check_equivariance()) == 8                   # random dict inputs
    so2 = gspaces.Rot2dOnR2(-1, maximum_frequency=3)
    t = nn.FieldType(so2, [so2.irrep(1), so2.irrep(2)])
    norm = nn.NormNonLinearity(t)
    assert len(nn.assert_equivariant(norm, action=nn.act_on_fibres)) == len(list(so2.testing_elements))


def test_dropout_in_training_is_checked_with_one_mask():
    drop = nn.FieldDropout(MIX, p=0.5).train()
    assert len(drop.check_equivariance()) == len(list(GS.testing_elements))
    assert len(nn.assert_equivariant(drop)) == len(list(GS.testing_elements))
    assert len(nn.assert_equivariant(drop.eval())) == len(GS.grid_elements())


def test_the_checker_leaves_running_statistics_as_they_were():
    bn = nn.InnerBatchNorm(REG).train()
    before = {k: v.clone() for k, v in bn.state_dict().items()}
    bn.check_equivariance()
    nn.assert_equivariant(bn)
    for key, value in bn.state_dict().items():
        assert torch.equal(value, before[key]), key
