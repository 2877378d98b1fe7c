"""basisgen.limits: sizes that would hang or exhaust memory are refused at once, naming the limit and how to
raise it; non-finite numbers and strings where numbers belong are refused naming the argument."""
import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import basisgen
from basisgen import limits
from basisgen.errors import InvalidTypeError, InvalidValueError
from basisgen.limits import LimitExceededError
from e2layers import gspaces


def refused(call, *fragments, seconds=0.5):
    """``call()`` raises LimitExceededError within ``seconds``; its message holds every fragment and says how to
    raise the limit."""
    t0 = time.perf_counter()
    with pytest.raises(LimitExceededError) as err:
        call()
    assert time.perf_counter() - t0 < seconds
    message = str(err.value)
    assert all(f in message for f in fragments) and "BASISGEN_MAX_" in message, message
    return err.value


# ---- groups --------------------------------------------------------------------------------------------
def test_huge_groups_are_refused_at_once():
    refused(lambda: gspaces.Rot2dOnR2(N=10 ** 18), "MAX_GROUP_ORDER = 1024", "order 1000000000000000000")
    refused(lambda: gspaces.Rot2dOnR2(N=4000), "MAX_GROUP_ORDER")       # its regular_repr: minutes
    refused(lambda: gspaces.FlipRot2dOnR2(N=513), "order 1026")         # D_N has 2N elements
    refused(lambda: basisgen.cyclic_group(2 ** 70), "MAX_GROUP_ORDER")  # not an OverflowError
    refused(lambda: basisgen.group_from_name("C" + "9" * 5000), "MAX_GROUP_ORDER")
    refused(lambda: basisgen.so2_group(10).subgroup(10 ** 9), "MAX_GROUP_ORDER")
    assert basisgen.dihedral_group(512).order() == 1024


def test_huge_band_limits_are_refused_at_once():
    refused(lambda: gspaces.Rot2dOnR2(-1, maximum_frequency=10 ** 7), "maximum_frequency = 10000000",
            "MAX_FREQUENCY = 1024")
    refused(lambda: gspaces.FlipRot2dOnR2(-1, maximum_frequency=10 ** 7), "MAX_FREQUENCY")
    refused(lambda: basisgen.so2_group(3).irrep(10 ** 12), "MAX_FREQUENCY")
    G = basisgen.cyclic_group(8)
    refused(lambda: basisgen.derive_angular_basis(G, G.irrep(1), G.irrep(2), maximum_frequency=10 ** 6),
            "maximum_frequency = 1000000")
    refused(lambda: basisgen.derive_angular_basis(G, G.irrep(1), G.irrep(2), maximum_offset=10 ** 6), "maximum_offset")
    refused(lambda: basisgen.pair_latex(G, 1, 2, maximum_frequency=10 ** 6), "MAX_FREQUENCY")
    refused(lambda: basisgen.basis_params(5, maximum_offset=10 ** 9), "maximum_offset")


def test_a_huge_frequency_cutoff_is_refused_for_finite_groups_only():
    rho = basisgen.cyclic_group(8).regular_representation
    refused(lambda: basisgen.sample_basis(rho, rho, 5, frequencies_cutoff=1e9), "C8", "frequencies_cutoff",
            "MAX_FREQUENCY")
    psi = basisgen.so2_group(2).irrep_representation(1)      # no aliasing: the cutoff costs nothing
    assert len(basisgen.sample_basis(psi, psi, 5, frequencies_cutoff=1e9)) > 0


def test_huge_kernels_and_bases_are_refused_before_any_allocation():
    refused(lambda: basisgen.basis_params(999), "kernel_size = 999", "MAX_KERNEL_SIZE = 101")
    refused(lambda: basisgen.basis_params(51, dilation=3), "spans 151 pixels")
    rho = basisgen.cyclic_group(8).regular_representation
    # 65 x 65 regular -> regular of C8 wanted 2.1 GB of blocks (and 23 s); 32 GiB at 129
    refused(lambda: basisgen.sample_basis(rho, rho, 65), "MAX_BASIS_BYTES", "C8", seconds=5)


def test_a_limit_is_raised_by_assignment(monkeypatch):
    monkeypatch.setattr(limits, "MAX_GROUP_ORDER", 8)
    assert basisgen.cyclic_group(8).order() == 8
    refused(lambda: basisgen.cyclic_group(9), "MAX_GROUP_ORDER = 8")
    monkeypatch.setattr(limits, "MAX_GROUP_ORDER", 2000)
    assert basisgen.cyclic_group(1500).rotation_order == 1500


def test_a_limit_is_raised_by_the_environment():
    code = ("import basisgen, warnings; print(basisgen.limits.MAX_KERNEL_SIZE, basisgen.limits.MAX_FIELDS); "
            "print(basisgen.basis_params(151).kernel_size)")
    env = dict(os.environ, BASISGEN_MAX_KERNEL_SIZE="201", BASISGEN_MAX_FIELDS="banana")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["201", "100000", "151"]
    assert "BASISGEN_MAX_FIELDS='banana' is not a positive int" in done.stderr


def test_limits_are_value_errors_and_assertion_errors():
    assert issubclass(LimitExceededError, ValueError) and issubclass(LimitExceededError, AssertionError)
    assert set(limits.NAMES) == {n for n in dir(limits) if n.startswith("MAX_")}


# ---- non-finite numbers and strings where numbers belong -----------------------------------------------
@pytest.mark.parametrize("build", [lambda a: gspaces.Flip2dOnR2(axis=a), lambda a: gspaces.FlipRot2dOnR2(4, axis=a),
                                   lambda a: gspaces.FlipRot2dOnR2(-1, axis=a)])
def test_reflection_axis_must_be_a_finite_number(build):
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(InvalidValueError, match="axis must be a finite angle"):
            build(bad)
    for bad in ("0.5", None, True, [0.5]):
        with pytest.raises(InvalidTypeError, match="axis must be a real number"):
            build(bad)
    assert build(np.float32(0.25)).axis == pytest.approx(0.25)


@pytest.mark.parametrize("kwargs, error, fragment", [
    (dict(sigma="0.5"), InvalidTypeError, "sigma must be a real number or a list"),
    (dict(sigma=math.nan), InvalidValueError, "sigma must be a finite float, got nan"),
    (dict(sigma=[0.5, math.inf, 0.5]), InvalidValueError, "every entry of sigma must be a finite float, got inf"),
    (dict(sigma=[0.5, "0.5", 0.5]), InvalidTypeError, "every entry of sigma must be a finite float, got '0.5'"),
    (dict(rings="01"), InvalidTypeError, "rings must be a list of real numbers, got str '01'"),
    (dict(rings=[0, math.nan]), InvalidValueError, "every entry of rings must be a finite float, got nan"),
    (dict(rings=[0, "1"]), InvalidTypeError, "every entry of rings must be a finite float, got '1'"),
    (dict(frequencies_cutoff=math.inf), InvalidValueError, "frequencies_cutoff must be a finite float, got inf"),
    (dict(frequencies_cutoff=math.nan), InvalidValueError, "frequencies_cutoff must be a finite float, got nan"),
    (dict(frequencies_cutoff="2"), InvalidValueError, "frequencies_cutoff must be -1, -2, -3"),
    (dict(frequencies_cutoff=lambda r: math.nan if r == 1 else 2.0), InvalidValueError,
     "finite real number on every ring, got nan on the ring of radius 1"),
    (dict(frequencies_cutoff=lambda r: math.inf), InvalidValueError, "got inf"),
    (dict(frequencies_cutoff=lambda r: "2"), InvalidValueError, "got '2'"),
])
def test_radial_settings_name_the_argument(kwargs, error, fragment):
    with pytest.raises(error, match=fragment.replace("(", r"\(").replace("[", r"\[")):
        basisgen.basis_params(5, **kwargs)


def test_numeric_radial_settings_of_every_kind_still_work():
    p = basisgen.basis_params(5, rings=np.array([0.0, 1.0, 2.0]), sigma=np.float32(0.5), frequencies_cutoff=np.float64(2))
    assert p.rings == (0.0, 1.0, 2.0) and p.sigmas == (0.5, 0.5, 0.5) and p.cutoffs == (0.0, 2.0, 4.0)
    assert basisgen.basis_params(5, rings=(0, 1, 2), sigma=[1, 1, 1], frequencies_cutoff=lambda r: np.float32(r)).cutoffs \
        == (0.0, 1.0, 2.0)
