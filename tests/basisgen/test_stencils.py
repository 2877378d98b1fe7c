"""basisgen.stencils: exact finite-difference weights, Gaussian derivatives and RBF-FD stencils of homogeneous
differential operators, against e2cnn 0.2.3 (``tests/fixtures/e2cnn/generate_stencils.py``), against the
defining moment conditions in exact arithmetic, and under the symmetries of the grid."""
import json
import math
import sys
import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from basisgen.errors import InvalidTypeError, InvalidValueError
from basisgen.radial import grid_coordinates
from basisgen.stencils import (Discretization, DiscretizationError, exact_fd_stencil, fd_weights,
                               guaranteed_accuracy, largest_possible_order, monomial_stencils, required_points,
                               stencil)
from paths import E2CNN_FIXTURES

META = json.loads((E2CNN_FIXTURES / "stencils.json").read_text())
ARRAYS = np.load(E2CNN_FIXTURES / "stencils.npz")
CASES = META["cases"]


def disc_of(case):
    return Discretization(case["method"], case["smoothing"], case["phi"])


def close(ours, theirs, rel):
    """Equal up to ``rel`` times the larger entry of e2cnn's stencil (entries that should be 0 come out as
    rounding noise there)."""
    return np.abs(ours - theirs).max() <= rel * max(np.abs(theirs).max(), 1.0)


def pixels(k, d):
    """The grid in exact arithmetic, from the pixel rule: (row a, column b) at x = d b - c, y = c - d a."""
    c = Fraction(d * (k - 1), 2)
    return [(d * b - c, c - d * a) for a in range(k) for b in range(k)]


# ---- one dimension ---------------------------------------------------------------------------------------
ONE_D = [key for key in ARRAYS.files if key.startswith("fd1d|")]


def test_fd_weights_are_exact_fractions_equal_to_e2cnns():
    for key in ONE_D:
        order, n, d = (int(part[1:]) for part in key.split("|")[1:])
        points = [d * (Fraction(i) - Fraction(n - 1, 2)) for i in range(n)]
        w = fd_weights(order, points)
        assert all(type(x) is Fraction for x in w), key
        assert close(np.array([float(x) for x in w]), ARRAYS[key], 1e-12), key
        # the defining conditions, exactly: sum_i w_i x_i^p = p! [p == order] for every p < n
        for p in range(n):
            assert sum(x * t ** p for x, t in zip(w, points)) == (math.factorial(order) if p == order else 0)


@pytest.mark.parametrize("n", [2, 3, 4, 7, 8])
def test_1d_weights_have_the_length_and_parity_of_the_derivative(n):
    points = [Fraction(2 * i - n + 1, 2) for i in range(n)]
    for order in range(n):
        w = fd_weights(order, points)
        assert len(w) == n
        assert all(w[i] == (-1) ** order * w[n - 1 - i] for i in range(n))
    assert [str(x) for x in fd_weights(2, [-2, 0, 2])] == ["1/4", "-1/2", "1/4"]      # hand-computed
    assert fd_weights(0, [0.5, -1.5]) == (Fraction(3, 4), Fraction(1, 4))              # floats are exact


def test_accuracy_tables_equal_e2cnns():
    functions = {"required_points": required_points, "largest_possible_order": largest_possible_order,
                 "guaranteed_accuracy": guaranteed_accuracy}
    for name, rows in META["tables"].items():
        for a, b, expected in rows:
            assert functions[name](a, b) == expected, (name, a, b)


# ---- exactness of the 2-D finite differences -------------------------------------------------------------
@pytest.mark.parametrize("k,d", [(3, 1), (3, 2), (4, 1), (5, 1), (5, 3)])
def test_fd_stencils_are_exact_on_polynomials_up_to_their_accuracy(k, d):
    """e2cnn's fd stencil of d^n/dx^(n-j)dy^j is the operator (-d/dy)^(n-j) (d/dx)^j (the module's docstring):
    applied to x^p y^q it gives exactly (-1)^(n-j) j! (n-j)! [p == j][q == n-j] when p + q < n + accuracy, and
    not for every monomial of the next degree."""
    grid = pixels(k, d)
    x, y = grid_coordinates(k, d)
    assert [(Fraction(a), Fraction(b)) for a, b in zip(x, y)] == grid
    for n in range(k):
        accuracy = guaranteed_accuracy(k, n)
        for j in range(n + 1):
            c = [0] * (n + 1)
            c[j] = 1
            weights = exact_fd_stencil(c, k, d)
            assert all(type(w) is Fraction for w in weights)
            assert [float(w) for w in weights] == monomial_stencils(n, k, d)[j].tolist()

            def applied(p, q):
                return sum(w * px ** p * py ** q for w, (px, py) in zip(weights, grid))

            for degree in range(n + accuracy):
                for p in range(degree + 1):
                    q = degree - p
                    exact = (-1) ** (n - j) * math.factorial(j) * math.factorial(n - j) if (p, q) == (j, n - j) else 0
                    assert applied(p, q) == exact, (n, j, p, q)
        degree = n + accuracy                    # sharp, but for the identity (order 0 on a pixel): exact always
        assert any(applied(p, degree - p) != 0 for p in range(degree + 1)) or (n == 0 and k % 2)


def test_exact_fd_stencil_of_a_polynomial_with_rational_coefficients():
    c = [sp.Rational(1, 3), sp.Integer(-2), Fraction(5, 7)]
    weights = exact_fd_stencil(c, 5, 1)
    rows = [exact_fd_stencil([int(i == j) for i in range(3)], 5, 1) for j in range(3)]
    assert weights == tuple(Fraction(1, 3) * a - 2 * b + Fraction(5, 7) * e for a, b, e in zip(*rows))
    assert np.array_equal(stencil([1 / 3, -2.0, 5 / 7], 5), [float(w) for w in stencil_exact_of_floats()])


def stencil_exact_of_floats():
    """The stencil of the floats 1/3, -2, 5/7 summed exactly and rounded once: what ``stencil`` returns."""
    return exact_fd_stencil([1 / 3, -2.0, 5 / 7], 5)


# ---- e2cnn's numbers -------------------------------------------------------------------------------------
def test_our_grid_is_e2cnns():
    for k, d in META["grids"]:
        assert np.array_equal(np.stack(grid_coordinates(k, d)), ARRAYS[f"grid|k{k}|d{d}"])


@pytest.mark.parametrize("method", ["fd", "gauss"])
def test_stencils_equal_e2cnns(method):
    """Every monomial of degree <= 4 and the mixed polynomials, on k = 3, 5, 7 and k = 3 with dilation 2; the
    Gaussian's closed form within 1e-12 of rbf's symbolic derivatives."""
    for case in (c for c in CASES if c["method"] == method):
        disc, k, d, c = disc_of(case), case["kernel_size"], case["dilation"], case["coefficients"]
        if case["error"]:
            with pytest.raises(AssertionError, match=f"kernel_size = {k}"):          # e2cnn's assert
                stencil(c, k, d, disc)
            continue
        ours = stencil(c, k, d, disc)
        assert ours.shape == (k * k,) and ours.dtype == np.float64
        assert close(ours, ARRAYS[case["key"]], 1e-12), case["key"]
        label = case["key"].rsplit("|", 1)[1]
        if label.startswith("x"):                                                   # a monomial: its row
            n, j = len(c) - 1, c.index(1.0)
            if method == "fd" and n >= k:        # all n + 1 rows need n < k, this one only max(n - j, j) < k
                with pytest.raises(InvalidValueError, match=f"kernel_size >= {n + 1}"):
                    monomial_stencils(n, k, d, disc)
                continue
            assert close(monomial_stencils(n, k, d, disc)[j], ARRAYS[case["key"]], 1e-12), case["key"]


def test_rbffd_stencils_of_first_order_equal_e2cnns():
    pytest.importorskip("rbf")
    keys = [c for c in CASES if c["method"] == "rbffd" and c["phi"] == "ga" and sum(c["coefficients"]) == 1
            and len(c["coefficients"]) <= 2]
    assert len(keys) == 12
    for case in keys:
        disc, k, d, c = disc_of(case), case["kernel_size"], case["dilation"], case["coefficients"]
        assert close(monomial_stencils(len(c) - 1, k, d, disc)[c.index(1.0)], ARRAYS[case["key"]], 1e-12)


@pytest.mark.slow
def test_rbffd_stencils_equal_e2cnns_with_its_warnings_and_failures():
    """rbf compiles every derivative of every phi on first use (about a second each): slow."""
    pytest.importorskip("rbf")
    for case in (c for c in CASES if c["method"] == "rbffd"):
        disc, k, d, c = disc_of(case), case["kernel_size"], case["dilation"], case["coefficients"]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if case["error"]:
                with pytest.raises(DiscretizationError, match="NaN"):
                    stencil(c, k, d, disc)
                continue
            ours = stencil(c, k, d, disc)
        assert close(ours, ARRAYS[case["key"]], 1e-12), case["key"]
        zero = [w for w in caught if "zero stencil" in str(w.message)]
        assert bool(zero) == ("Zero" in case["warnings"]), case["key"]
        assert all(w.category is RuntimeWarning for w in zero)


# ---- symmetry --------------------------------------------------------------------------------------------
SYMMETRIES = {"rot90": np.rot90, "rot180": lambda a: np.rot90(a, 2), "flipud": np.flipud, "fliplr": np.fliplr,
              "transpose": np.transpose}
METHODS = [Discretization("fd"), Discretization("gauss", smoothing=1.3), Discretization("gauss", smoothing=0.7)]


@pytest.mark.parametrize("disc", METHODS, ids=lambda disc: f"{disc.method}{disc.smoothing or ''}")
def test_stencils_of_rotation_invariant_operators_are_exactly_invariant(disc):
    for k, d in [(3, 1), (5, 1), (7, 1), (5, 2), (6, 1)]:
        for c in ([1.0, 0.0, 1.0], [1.0, 0.0, 2.0, 0.0, 1.0], [0.3, 0.0, 0.6, 0.0, 0.3]):
            if disc.method == "fd" and len(c) > k:
                continue
            s = stencil(c, k, d, disc).reshape(k, k)
            for name, g in SYMMETRIES.items():
                assert np.array_equal(g(s), s), (k, d, c, name)


@pytest.mark.parametrize("disc", METHODS[:2], ids=["fd", "gauss"])
def test_monomial_stencils_transform_as_the_monomials(disc):
    """A quarter turn of the array (np.rot90: the pixel at (x, y) takes the value at (y, -x)) takes the
    operator d^n/dx^(n-j)dy^j to (-1)^j d^n/dx^j dy^(n-j), in e2cnn's fd as in the Gaussian.  A flip of the rows
    (y -> -y) multiplies the Gaussian's d/dy by -1, but e2cnn's fd's d/dx (its d/dx is -d/dy)."""
    for k in (3, 5, 7):
        for n in range(k):
            M = monomial_stencils(n, k, 1, disc).reshape(n + 1, k, k)
            for j in range(n + 1):
                assert np.array_equal(np.rot90(M[j]), (-1) ** j * M[n - j])
                odd = n - j if disc.method == "fd" else j
                assert np.array_equal(np.flipud(M[j]), (-1) ** odd * M[j])
                assert np.array_equal(np.fliplr(M[j]), (-1) ** (n - odd) * M[j])


# ---- the API around the numbers --------------------------------------------------------------------------
def test_zero_operators_give_zeros_for_every_method_and_order():
    for disc in (Discretization("fd"), Discretization("gauss", smoothing=1.0), Discretization("rbffd")):
        assert np.array_equal(stencil([0.0] * 7, 3, 1, disc), np.zeros(9))   # order 6 > what fd allows on 3
    assert exact_fd_stencil([0, 0, 0, 0], 3) == (Fraction(0),) * 9


def test_fd_needs_only_the_orders_of_the_terms_present():
    s = stencil([0.0, 0.0, 1.0, 0.0, 0.0], 3)                     # d^4/dx^2dy^2: second order along each axis
    assert np.array_equal(s.reshape(3, 3), np.outer([1.0, -2.0, 1.0], [1.0, -2.0, 1.0]))
    with pytest.raises(InvalidValueError, match=r"order 4.*kernel_size = 3.*kernel_size >= 5"):
        monomial_stencils(4, 3)
    with pytest.raises(InvalidValueError, match=r"order 3.*kernel_size = 3.*kernel_size >= 4"):
        stencil([0.0, 1.0, 0.0, 0.0, 0.0], 3)


def test_cached_arrays_are_read_only_and_stencils_are_copies():
    rows = monomial_stencils(2, 5)
    assert rows is monomial_stencils(2, 5) and not rows.flags.writeable
    s = stencil([1.0, 0.0, 1.0], 5)
    s[:] = 0
    assert stencil([1.0, 0.0, 1.0], 5).any()


def test_discretization_is_hashable_and_describes_its_key_canonically():
    a, b = Discretization("gauss", smoothing=1), Discretization("gauss", smoothing=1.0)
    assert a == b and hash(a) == hash(b) and isinstance(a.smoothing, float)
    assert json.loads(json.dumps(a.key_description())) == {"method": "gauss", "smoothing": (1.0).hex(), "phi": None}
    assert Discretization("fd", smoothing=2.0, phi="phs3").key_description() == Discretization().key_description()
    assert Discretization("rbffd", phi="phs3").key_description() == {"method": "rbffd", "smoothing": None,
                                                                     "phi": "phs3"}


def test_rbffd_without_rbf_names_the_extra(monkeypatch):
    for name in ("rbf", "rbf.basis", "rbf.pde", "rbf.pde.fd"):
        monkeypatch.setitem(sys.modules, name, None)                 # import rbf fails as if not installed
    disc = Discretization("rbffd", phi="phs3")                         # the name is checked without rbf
    with pytest.raises(InvalidValueError, match="phi"):
        Discretization("rbffd", phi="gaussian")
    with pytest.raises(ImportError, match=r'pip install "e2layers\[rbf\]"'):
        monomial_stencils(1, 11, 1, disc)


@pytest.mark.parametrize("call,error,words", [
    (lambda: Discretization("fdd"), InvalidValueError, "method"),
    (lambda: Discretization("gauss"), InvalidValueError, "smoothing"),
    (lambda: Discretization("gauss", smoothing=-1.0), InvalidValueError, "smoothing"),
    (lambda: Discretization("gauss", smoothing=math.inf), InvalidValueError, "smoothing"),
    (lambda: Discretization("gauss", smoothing="1"), InvalidTypeError, "smoothing"),
    (lambda: Discretization("rbffd", phi=3), InvalidTypeError, "phi"),
    (lambda: fd_weights(3, [-1, 0, 1]), InvalidValueError, "order = 3"),
    (lambda: fd_weights(-1, [-1, 0, 1]), InvalidValueError, "order"),
    (lambda: fd_weights(1, [0, 0, 1]), InvalidValueError, "distinct"),
    (lambda: fd_weights(1, "012"), InvalidTypeError, "points"),
    (lambda: fd_weights(1, [0, 1, math.nan]), InvalidTypeError, "points"),
    (lambda: required_points(-1, 2), InvalidValueError, "order"),
    (lambda: required_points(2, 0), InvalidValueError, "accuracy"),
    (lambda: largest_possible_order(2, 3), InvalidValueError, "accuracy"),
    (lambda: largest_possible_order(0, 1), InvalidValueError, "num_points"),
    (lambda: guaranteed_accuracy(2, 3), InvalidValueError, "order"),
    (lambda: monomial_stencils(1.5, 3), InvalidValueError, "n must be"),
    (lambda: monomial_stencils(10 ** 6, 3, 1, Discretization("gauss", smoothing=1.0)), InvalidValueError,
     "MAX_FREQUENCY"),
    (lambda: monomial_stencils(1, 0), InvalidValueError, "kernel_size"),
    (lambda: monomial_stencils(1, 3, 0), InvalidValueError, "dilation"),
    (lambda: monomial_stencils(1, 3, 1, "fd"), InvalidTypeError, "disc"),
    (lambda: stencil([], 3), InvalidValueError, "coefficients"),
    (lambda: stencil("11", 3), InvalidTypeError, "coefficients"),
    (lambda: stencil([1.0, "x"], 3), InvalidTypeError, "coefficients"),
    (lambda: stencil([1.0, math.nan], 3), InvalidValueError, "coefficients"),
    (lambda: exact_fd_stencil([sp.sqrt(2)], 3), InvalidTypeError, "coefficients"),
])
def test_bad_input_is_refused_naming_the_argument(call, error, words):
    with pytest.raises(error, match=words):
        call()
