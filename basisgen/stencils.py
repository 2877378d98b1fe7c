"""Stencils of homogeneous partial differential operators on the pixel grid (e2cnn's ``R2Diffop`` discretisation).

A homogeneous polynomial of degree ``n`` in (d/dx, d/dy) is given by its ``n + 1`` coefficients of
d^n/dx^n, d^n/dx^(n-1)dy, ..., d^n/dy^n.  It becomes a ``k x k`` stencil, a weight per pixel of
:func:`basisgen.radial.grid_coordinates` (flattened, row-major), in one of three ways, with e2cnn 0.2.3's
numbers:

``"fd"``
    Finite differences: the tensor product of the 1-D central weights :func:`fd_weights` on the ``k``
    positions of an axis, computed exactly (``fractions.Fraction``, Fornberg's recursion) and rounded once.
``"gauss"``
    Derivatives of a Gaussian sampled at the pixels, in closed form (Hermite polynomials).
``"rbffd"``
    RBF-FD weights from the optional package ``treverhines-rbf`` (``pip install "e2layers[rbf]"``).

Orientation (the same numbers as e2cnn, which are not all the textbook ones).  Let ``t_0 < ... < t_{k-1}`` be
the positions of the pixels along an axis and ``w_m`` the 1-D weights of d^m/dt^m on them.  For ``"fd"``,
e2cnn gives the pixel in row ``a`` and column ``b`` the weight ``w_i(t_a) * w_j(t_b)`` for d^(i+j)/dx^i dy^j:
the weights of the x-derivative run down the rows and those of the y-derivative along the columns.  Row ``a``
lies at ``y = -t_a`` and column ``b`` at ``x = t_b``, so this is the ordinary stencil of (-d/dy)^i (d/dx)^j:
``"fd"`` discretises P(-d/dy, d/dx) where it is asked for P(d/dx, d/dy), the operator turned by a quarter turn.
``"gauss"`` gives the pixel at (x, y) the value of d^(i+j)/dx^i dy^j of the Gaussian at (x, y), which is
(-1)^n times the weights that apply the operator to the smoothed image (the Gaussian's derivatives are odd
where the operator's are); ``"rbffd"`` gives the ordinary weights of P(d/dx, d/dy) at the centre.

Examples
--------
>>> monomial_stencils(1, 3, 1, Discretization("fd")).reshape(2, 3, 3)[0]     # e2cnn's d/dx: -d/dy
array([[ 0. , -0.5,  0. ],
       [ 0. ,  0. ,  0. ],
       [ 0. ,  0.5,  0. ]])
>>> stencil([1.0, 0.0, 1.0], 3).reshape(3, 3)                                # the Laplacian
array([[ 0.,  1.,  0.],
       [ 1., -4.,  1.],
       [ 0.,  1.,  0.]])
"""
from __future__ import annotations

import functools
import importlib
import math
import numbers
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import limits
from .errors import InvalidTypeError, InvalidValueError
from .radial import grid_coordinates

__all__ = ["METHODS", "RBF_NAMES", "Discretization", "DiscretizationError", "fd_weights", "gaussian_monomials",
           "required_points", "largest_possible_order", "guaranteed_accuracy", "monomial_stencils", "stencil", "exact_fd_stencil",
           "clear_stencil_cache"]

#: the discretisation methods, as e2cnn names them
METHODS = ("fd", "gauss", "rbffd")
#: the radial basis functions treverhines-rbf predefines, accepted as ``phi`` when rbf is not importable
RBF_NAMES = ("phs1", "phs2", "phs3", "phs4", "phs5", "phs6", "phs7", "phs8", "mq", "imq", "iq", "ga", "exp", "se",
             "mat32", "mat52", "wen10", "wen11", "wen12", "wen30", "wen31", "wen32", "spwen10", "spwen11",
             "spwen12", "spwen30", "spwen31", "spwen32")
#: RBF-FD weights above this size in absolute value draw a warning, as in e2cnn
LARGE_RBFFD_WEIGHT = 1e2

_RBF_HINT = 'method="rbffd" needs the optional package treverhines-rbf (import name rbf): pip install "e2layers[rbf]"'


class DiscretizationError(RuntimeError):
    """The RBF-FD weights came out as NaN (e2cnn raised a bare ``Exception`` there); a larger kernel or another
    ``phi`` may help."""


@dataclass(frozen=True)
class Discretization:
    """How a differential operator becomes a stencil: e2cnn's ``DiscretizationArgs`` less ``angle_offset``.

    ``smoothing`` is the width parameter of ``"gauss"`` (required there, a positive finite number); e2cnn
    ignores it for ``"fd"`` and ``"rbffd"``, and so do we (it is kept, but changes no number and no cache key).
    ``phi`` names the radial basis function of ``"rbffd"`` (one of treverhines-rbf's, e.g. ``"ga"``,
    ``"phs3"``) and is ignored by the other methods.  Hashable, so that stencils can be cached per value.

    Examples
    --------
    >>> Discretization("gauss", smoothing=1.0).key_description()
    {'method': 'gauss', 'smoothing': '0x1.0000000000000p+0', 'phi': None}
    >>> Discretization("fd", smoothing=3.0).key_description() == Discretization().key_description()
    True
    """

    method: str = "fd"
    smoothing: Optional[float] = None
    phi: str = "ga"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.smoothing is not None:
            if not _is_real(self.smoothing):
                raise InvalidTypeError(f"smoothing must be a real number or None, got "
                                       f"{type(self.smoothing).__name__} {self.smoothing!r}")
            object.__setattr__(self, "smoothing", float(self.smoothing))
        if self.method == "gauss":
            if self.smoothing is None or not (math.isfinite(self.smoothing) and self.smoothing > 0):
                raise InvalidValueError(f'smoothing must be a positive finite number when method = "gauss", '
                                        f"got {self.smoothing!r}")
        if not isinstance(self.phi, str):
            raise InvalidTypeError(f"phi must be the name of a radial basis function (a str), got "
                                   f"{type(self.phi).__name__} {self.phi!r}")
        if self.method == "rbffd":
            _check_phi(self.phi)

    def key_description(self) -> Dict[str, Optional[str]]:
        """The fields that change a stencil, as JSON values (``smoothing`` as ``float.hex``); ``None`` for the
        fields the method ignores."""
        return {"method": self.method,
                "smoothing": self.smoothing.hex() if self.method == "gauss" else None,
                "phi": self.phi if self.method == "rbffd" else None}


def _check_phi(phi: str) -> None:
    try:
        rbf_basis = importlib.import_module("rbf.basis")
    except ImportError:
        known = phi in RBF_NAMES
    else:
        try:
            rbf_basis.get_rbf(phi)
            known = True
        except ValueError:
            known = False
    if not known:
        raise InvalidValueError(f"phi must name one of treverhines-rbf's radial basis functions {RBF_NAMES}, "
                                f"got {phi!r}")


# ---- one dimension ---------------------------------------------------------------------------------------
def fd_weights(order: int, points: Sequence[Any]) -> Tuple[Fraction, ...]:
    """The exact weights ``w`` with ``sum(w[i] * f(points[i]))`` = d^order f / dx^order at 0 for every
    polynomial ``f`` of degree below ``len(points)`` (Fornberg's recursion in rational arithmetic).

    ``points`` are distinct ints, Fractions or floats (taken exactly as binary fractions).

    Examples
    --------
    >>> [str(w) for w in fd_weights(2, [-1, 0, 1])]
    ['1', '-2', '1']
    >>> [str(w) for w in fd_weights(1, [Fraction(-1, 2), Fraction(1, 2)])]
    ['-1', '1']
    """
    m = _non_negative_int(order, "order")
    if isinstance(points, (str, bytes)) or not isinstance(points, (Sequence, np.ndarray)):
        raise InvalidTypeError(f"points must be a sequence of numbers, got {type(points).__name__}")
    xs = tuple(_exact(p, "every entry of points") for p in points)
    if len(set(xs)) != len(xs):
        raise InvalidValueError(f"points must be distinct, got {[str(x) for x in xs]}")
    if m >= len(xs):
        raise InvalidValueError(f"order = {m} needs at least {m + 1} points, got {len(xs)}")
    return _fornberg(m, xs)


@functools.lru_cache(maxsize=None)
def _fornberg(m: int, xs: Tuple[Fraction, ...]) -> Tuple[Fraction, ...]:
    # Fornberg (1988), "Generation of finite difference formulas on arbitrarily spaced grids", at x0 = 0:
    # c[j][d] holds the weight of xs[j] for the d-th derivative using the points seen so far.
    c = [[Fraction(0)] * (m + 1) for _ in xs]
    c[0][0] = Fraction(1)
    c1, c4 = Fraction(1), xs[0]
    for i in range(1, len(xs)):
        top = min(i, m)
        c2, c5, c4 = Fraction(1), c4, xs[i]
        for j in range(i):
            c3 = xs[i] - xs[j]
            c2 *= c3
            if j == i - 1:
                for d in range(top, 0, -1):
                    c[i][d] = c1 * (d * c[i - 1][d - 1] - c5 * c[i - 1][d]) / c2
                c[i][0] = -c1 * c5 * c[i - 1][0] / c2
            for d in range(top, 0, -1):
                c[j][d] = (c4 * c[j][d] - d * c[j][d - 1]) / c3
            c[j][0] = c4 * c[j][0] / c3
        c1 = c2
    return tuple(row[m] for row in c)


def required_points(order: int, accuracy: int) -> int:
    """The fewest symmetric points whose central ``order``-th derivative weights are accurate to ``accuracy``
    (error O(h^accuracy)): ``order + accuracy``, less one where symmetry boosts the accuracy by one (when
    the number of points minus the order is odd).

    Examples
    --------
    >>> required_points(2, 2), required_points(1, 2), required_points(4, 1)
    (3, 2, 5)
    """
    m = _non_negative_int(order, "order")
    p = _positive_int(accuracy, "accuracy")
    return m + p - 1 if (p - 1) % 2 else m + p


def largest_possible_order(num_points: int, accuracy: int) -> int:
    """The largest derivative order that ``num_points`` symmetric points discretise with ``accuracy``
    (the inverse of :func:`required_points`); needs ``num_points >= accuracy``.

    Examples
    --------
    >>> largest_possible_order(3, 2), largest_possible_order(5, 2), largest_possible_order(5, 1)
    (2, 4, 4)
    """
    k = _positive_int(num_points, "num_points")
    p = _positive_int(accuracy, "accuracy")
    if p > k:
        raise InvalidValueError(f"accuracy = {p} cannot be reached on num_points = {k} points; "
                                f"it needs accuracy <= num_points")
    m = k - p
    return m + 1 if (k - m - 1) % 2 else m


def guaranteed_accuracy(num_points: int, order: int) -> int:
    """The accuracy of the central ``order``-th derivative weights on ``num_points`` symmetric points:
    ``num_points - order``, plus one when that is odd (0 when ``num_points == order``: there are no weights).

    Examples
    --------
    >>> guaranteed_accuracy(3, 2), guaranteed_accuracy(3, 1), guaranteed_accuracy(7, 4)
    (2, 2, 4)
    """
    k = _positive_int(num_points, "num_points")
    m = _non_negative_int(order, "order")
    if m > k:
        raise InvalidValueError(f"order = {m} is above num_points = {k}; it needs order <= num_points")
    p = k - m
    return p + 1 if p % 2 else p


# ---- the k x k stencils ----------------------------------------------------------------------------------
def monomial_stencils(n: int, kernel_size: int, dilation: int = 1,
                      disc: Optional[Discretization] = None) -> np.ndarray:
    """The stencils of the monomials of degree ``n``: row ``j`` of the ``(n + 1, k * k)`` float64 array is the
    stencil of d^n / dx^(n-j) dy^j on :func:`~basisgen.radial.grid_coordinates` (flattened), with e2cnn's
    numbers and orientation (see the module's docstring).

    The array is read-only and cached for the process (:func:`clear_stencil_cache` empties the cache).
    ``"fd"`` needs ``n < kernel_size``.

    Examples
    --------
    >>> monomial_stencils(2, 3).reshape(3, 3, 3)[2]          # e2cnn's d^2/dy^2: d^2/dx^2
    array([[ 0.,  0.,  0.],
           [ 1., -2.,  1.],
           [ 0.,  0.,  0.]])
    """
    disc = _discretization(disc)
    n = _order(n, "n")
    k, d = _grid(kernel_size, dilation)
    if disc.method == "fd":
        _check_fd_order(n, k, f"d^{n} / dx^{n}")
    return _monomial_stencils(n, k, d, disc)


@functools.lru_cache(maxsize=None)
def _monomial_stencils(n: int, k: int, d: int, disc: Discretization) -> np.ndarray:
    if disc.method == "fd":
        rows = [[float(w) for w in _exact_monomial(n - j, j, k, d)] for j in range(n + 1)]
        out = np.array(rows, dtype=np.float64)
    elif disc.method == "gauss":
        out = _gaussian_derivatives(n, k, d, disc.smoothing)
    else:
        one = np.ones(1)
        out = np.stack([_rbffd(_term_row(n, j), one, k, d, disc.phi) for j in range(n + 1)])
    out.flags.writeable = False
    return out


def stencil(coefficients: Sequence[float], kernel_size: int, dilation: int = 1,
            disc: Optional[Discretization] = None) -> np.ndarray:
    """The stencil (``(k * k,)`` float64) of the operator ``sum_j coefficients[j] d^n / dx^(n-j) dy^j``.

    As in e2cnn, the terms with coefficient zero are left out (the zero polynomial gives zeros, for any
    ``n``), so ``"fd"`` needs only the derivative orders of the other terms below ``kernel_size``.  For
    ``"fd"`` the sum is exact and rounded once, for ``"gauss"`` it is ``math.fsum`` of the terms: a stencil of
    a polynomial invariant under quarter turns or flips has exactly that symmetry.  ``"rbffd"`` asks rbf for
    the weights of the whole operator at once, as e2cnn does.

    Examples
    --------
    >>> stencil([1.0, 0.0, 2.0], 3, disc=Discretization("gauss", smoothing=1.0)).reshape(3, 3).round(4)
    array([[ 0.812 ,  0.7358,  0.812 ],
           [-0.7358, -6.    , -0.7358],
           [ 0.812 ,  0.7358,  0.812 ]])
    """
    disc = _discretization(disc)
    c = tuple(_finite_reals(coefficients, "coefficients"))
    _order(len(c) - 1, "the degree of coefficients (len(coefficients) - 1)")
    k, d = _grid(kernel_size, dilation)
    return _polynomial_stencil(c, k, d, disc).copy()


@functools.lru_cache(maxsize=4096)
def _polynomial_stencil(c: Tuple[float, ...], k: int, d: int, disc: Discretization) -> np.ndarray:
    n = len(c) - 1
    terms = [j for j in range(n + 1) if c[j] != 0]
    if not terms:
        return np.zeros(k * k)
    if disc.method == "fd":
        _check_fd_order(max(max(n - j, j) for j in terms), k, _describe(c))
        exact = _exact_sum([Fraction(c[j]) for j in terms], [_exact_monomial(n - j, j, k, d) for j in terms])
        return np.array([float(w) for w in exact], dtype=np.float64)
    if disc.method == "gauss":
        rows = _monomial_stencils(n, k, d, disc)
        return np.array([math.fsum(c[j] * rows[j, p] for j in terms) for p in range(k * k)], dtype=np.float64)
    return _rbffd([_term_row(n, j)[0] for j in terms], np.array([c[j] for j in terms]), k, d, disc.phi,
                  _describe(c))


def exact_fd_stencil(coefficients: Sequence[Any], kernel_size: int, dilation: int = 1) -> Tuple[Fraction, ...]:
    """The ``"fd"`` stencil of :func:`stencil` in exact arithmetic: ``coefficients`` are ints, Fractions, sympy
    Rationals or floats (taken exactly); the weights are Fractions, in the point order of
    :func:`~basisgen.radial.grid_coordinates`.

    Examples
    --------
    >>> [str(w) for w in exact_fd_stencil([1, 0, 0], 3, dilation=2)]
    ['0', '1/4', '0', '0', '-1/2', '0', '0', '1/4', '0']
    """
    if isinstance(coefficients, (str, bytes)) or not isinstance(coefficients, (Sequence, np.ndarray)):
        raise InvalidTypeError(f"coefficients must be a sequence of rational numbers, got "
                               f"{type(coefficients).__name__}")
    c = [_exact(v, "every entry of coefficients") for v in coefficients]
    n = _order(len(c) - 1, "the degree of coefficients (len(coefficients) - 1)")
    k, d = _grid(kernel_size, dilation)
    terms = [j for j in range(n + 1) if c[j] != 0]
    if not terms:
        return (Fraction(0),) * (k * k)
    _check_fd_order(max(max(n - j, j) for j in terms), k, _describe([float(v) for v in c]))
    return _exact_sum([c[j] for j in terms], [_exact_monomial(n - j, j, k, d) for j in terms])


def clear_stencil_cache() -> None:
    """Empty the process's caches of weights and stencils (they hold only what was asked for)."""
    for cached in (_fornberg, _exact_monomial, _monomial_stencils, _polynomial_stencil):
        cached.cache_clear()


# ---- finite differences ----------------------------------------------------------------------------------
def _axis(k: int, d: int) -> Tuple[Fraction, ...]:
    """The pixel positions along an axis, ascending: d * (i - (k - 1) / 2)."""
    return tuple(d * (Fraction(i) - Fraction(k - 1, 2)) for i in range(k))


@functools.lru_cache(maxsize=None)
def _exact_monomial(i: int, j: int, k: int, d: int) -> Tuple[Fraction, ...]:
    # e2cnn's layout: d/dx's weights down the rows, d/dy's along the columns (module docstring)
    axis = _axis(k, d)
    wx, wy = _fornberg(i, axis), _fornberg(j, axis)
    return tuple(a * b for a in wx for b in wy)


def _exact_sum(coefficients: List[Fraction], rows: List[Tuple[Fraction, ...]]) -> Tuple[Fraction, ...]:
    return tuple(sum((c * row[p] for c, row in zip(coefficients, rows)), Fraction(0)) for p in range(len(rows[0])))


def _check_fd_order(order: int, k: int, what: str) -> None:
    if order >= k:
        raise InvalidValueError(f"{what} has a derivative of order {order} along an axis, which finite differences "
                                f"cannot discretise with kernel_size = {k}; it needs kernel_size >= {order + 1}")


# ---- Gaussian derivatives --------------------------------------------------------------------------------
def _hermite(m: int, u: np.ndarray) -> np.ndarray:
    """The physicists' Hermite polynomial H_m at ``u`` (three-term recurrence; exactly odd or even in ``u``)."""
    previous, current = np.zeros_like(u), np.ones_like(u)
    for i in range(m):
        previous, current = current, 2 * u * current - 2 * i * previous
    return current


def _gaussian_derivatives(n: int, k: int, d: int, smoothing: float) -> np.ndarray:
    return gaussian_monomials(n, *grid_coordinates(k, d), smoothing)


def gaussian_monomials(n: int, x: np.ndarray, y: np.ndarray, smoothing: float) -> np.ndarray:
    """``d^n / dx^(n-j) dy^j`` of e2cnn's Gaussian at the points ``(x, y)``, for ``j = 0..n``: (n + 1, P).

    e2cnn samples rbf's Gaussian exp(-(eps r)^2) with eps = 1 / smoothing^2, whose derivatives are
    d^i/dx^i d^j/dy^j = (-eps)^(i+j) H_i(eps x) H_j(eps y) exp(-(eps r)^2) (H: the physicists' Hermite
    polynomials).  The product H_i * H_j comes first so that swapping x and y swaps its factors and leaves
    every rounding as it was.
    """
    eps = 1.0 / smoothing ** 2
    u, v = eps * np.asarray(x, dtype=float), eps * np.asarray(y, dtype=float)
    envelope = np.exp(-(u * u + v * v))
    scale = (-eps) ** n
    return np.stack([(_hermite(n - j, u) * _hermite(j, v)) * scale * envelope for j in range(n + 1)])


# ---- RBF-FD ----------------------------------------------------------------------------------------------
def _rbf_fd_module() -> Any:
    try:
        rbf_basis = importlib.import_module("rbf.basis")
        fd = importlib.import_module("rbf.pde.fd")
    except ImportError as err:
        raise ImportError(_RBF_HINT) from err
    # e2cnn switched rbf to sympy's lambdify (no C compiler needed); rbf releases without the switch compile
    setter = getattr(rbf_basis, "set_symbolic_to_numeric_method", None)
    if setter is not None:
        setter("lambdify")
    return fd


def _term_row(n: int, j: int) -> List[List[int]]:
    return [[n - j, j]]


def _rbffd(diffs: List[List[int]], coefficients: np.ndarray, k: int, d: int, phi: str,
           what: Optional[str] = None) -> np.ndarray:
    fd = _rbf_fd_module()
    x, y = grid_coordinates(k, d)
    points = np.stack([x, y], axis=1)
    weights = fd.weight_matrix(np.zeros((1, 2)), points, k * k, diffs, coefficients, phi=phi)
    values = np.asarray(weights.toarray(), dtype=np.float64).ravel()
    what = what or f"d^{sum(diffs[0])} / dx^{diffs[0][0]} dy^{diffs[0][1]}"
    if np.isnan(values).any():
        raise DiscretizationError(f"RBF-FD (phi = {phi!r}) gave NaN weights for {what} on a {k} x {k} grid; "
                                  f"a larger kernel_size or another phi may help")
    if not values.any():
        warnings.warn(f"RBF-FD gave a zero stencil for {what} on a {k} x {k} grid; the kernel may be too small "
                      f"for this operator", RuntimeWarning, stacklevel=3)
    if np.abs(values).max() > LARGE_RBFFD_WEIGHT:
        warnings.warn(f"RBF-FD gave weights up to {np.abs(values).max():.3g} in absolute value for {what} on a "
                      f"{k} x {k} grid; a larger kernel_size or another phi may help", RuntimeWarning, stacklevel=3)
    return values


# ---- arguments -------------------------------------------------------------------------------------------
def _describe(c: Sequence[float]) -> str:
    n = len(c) - 1
    terms = [f"{c[j]:g} d^{n}/dx^{n - j}dy^{j}" for j in range(n + 1) if c[j] != 0]
    return "the operator " + (" + ".join(terms) if terms else "0")


def _discretization(disc: Any) -> Discretization:
    if disc is None:
        return Discretization()
    if not isinstance(disc, Discretization):
        raise InvalidTypeError(f"disc must be a Discretization, got {type(disc).__name__}")
    return disc


def _grid(kernel_size: Any, dilation: Any) -> Tuple[int, int]:
    grid_coordinates(kernel_size, dilation)          # validates both and the limits on them
    return int(kernel_size), int(dilation)


def _is_real(value: Any) -> bool:
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_))


def _non_negative_int(value: Any, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise InvalidValueError(f"{name} must be a non-negative int, got {value!r}")
    return int(value)


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _order(value: Any, name: str) -> int:
    n = _non_negative_int(value, name)
    # a PDO of order n reaches angular frequency n: the band limit bounds it
    limits.check(n, "MAX_FREQUENCY", f"{name} = {n} is a derivative order")
    return n


def _finite_reals(values: Any, name: str) -> List[float]:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise InvalidTypeError(f"{name} must be a sequence of real numbers, got {type(values).__name__}")
    values = list(np.asarray(values).ravel()) if isinstance(values, np.ndarray) else list(values)
    if not values:
        raise InvalidValueError(f"{name} must hold at least one number (the coefficient of d^0), got none")
    out = []
    for v in values:
        if not _is_real(v):
            raise InvalidTypeError(f"every entry of {name} must be a real number, got {type(v).__name__} {v!r}")
        if not math.isfinite(float(v)):
            raise InvalidValueError(f"every entry of {name} must be finite, got {float(v)!r}")
        out.append(float(v))
    return out


def _exact(value: Any, name: str) -> Fraction:
    if isinstance(value, (bool, np.bool_)):
        raise InvalidTypeError(f"{name} must be a rational number, got {value!r}")
    if isinstance(value, numbers.Rational):                  # int, Fraction, sympy's Integer and Rational
        return Fraction(int(value.numerator), int(value.denominator))
    if isinstance(value, np.integer):
        return Fraction(int(value))
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        return Fraction(float(value))
    raise InvalidTypeError(f"{name} must be a rational number (an int, a Fraction, a sympy Rational or a finite "
                           f"float), got {type(value).__name__} {value!r}")
