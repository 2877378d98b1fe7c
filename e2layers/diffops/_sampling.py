"""Discretising matrices of homogeneous PDOs at points (``DiffopBasis.sample``), on basisgen's stencils.

On e2cnn's sampling grids (``get_grid_coords(k, dilation)``, which are
:func:`basisgen.radial.grid_coordinates`) every entry is :func:`basisgen.stencils.stencil`: e2cnn's
numbers for ``"fd"``, ``"gauss"`` and ``"rbffd"``, cached per operator.  ``"gauss"`` also works at any
points: there the Gaussian's derivatives are evaluated in closed form, as the stencils module does on
the grid.  ``"fd"`` and ``"rbffd"`` need a grid.
"""
from __future__ import annotations

from math import isqrt
from typing import Optional, Sequence, Tuple

import numpy as np

from basisgen.errors import InvalidValueError
from basisgen.radial import grid_coordinates
from basisgen.stencils import Discretization, gaussian_monomials, stencil

__all__ = ["check_points", "grid_of", "sample_polynomials"]


def check_points(points: np.ndarray) -> np.ndarray:
    """``points`` as a float64 array of shape (2, N), or an error naming the argument."""
    array = np.asarray(points)
    if array.ndim != 2 or array.shape[0] != 2 or not np.issubdtype(array.dtype, np.number):
        raise InvalidValueError(f"points must be a numeric array of shape (2, N), got {array.dtype} {array.shape}")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise InvalidValueError("points must be finite")
    return array


def grid_of(points: np.ndarray) -> Optional[Tuple[int, int]]:
    """``(kernel_size, dilation)`` when ``points`` are exactly that sampling grid, in its order; else None.

    Examples
    --------
    >>> from basisgen.radial import grid_coordinates
    >>> grid_of(np.stack(grid_coordinates(5, 2))), grid_of(np.zeros((2, 3)))
    ((5, 2), None)
    """
    n = points.shape[1]
    k = isqrt(n)
    if n == 0 or k * k != n:
        return None
    step = points[0, 1] - points[0, 0] if k > 1 else 1.0
    if not step >= 1 or step != int(step):
        return None
    try:
        grid = np.stack(grid_coordinates(k, int(step)))
    except ValueError:                       # beyond the limits on grids: not one of ours
        return None
    return (k, int(step)) if np.array_equal(grid, points) else None


def _gaussian_operator(p: np.ndarray, x: np.ndarray, y: np.ndarray, smoothing: float) -> np.ndarray:
    """P(d/dx, d/dy) of e2cnn's Gaussian at the points (the stencils' closed form, off the grid)."""
    return p @ gaussian_monomials(len(p) - 1, x, y, smoothing)


def sample_polynomials(coefficients: Sequence[np.ndarray], points: np.ndarray, disc: Discretization) -> np.ndarray:
    """The discretisations of the matrices of PDOs ``coefficients`` (each (c_out, c_in, n + 1)) at ``points``
    (2, N): an array (c_out, c_in, len(coefficients), N).  A zero entry gives zeros (whatever its order)."""
    points = check_points(points)
    grid = grid_of(points)
    if grid is None and disc.method != "gauss":
        raise InvalidValueError(f'method = "{disc.method}" discretises on a sampling grid: points must be the '
                                f"(2, k * k) pixel coordinates of a k x k grid (e2cnn's get_grid_coords(k, dilation), "
                                f'basisgen.radial.grid_coordinates); method = "gauss" works at any points')
    shape = coefficients[0].shape[:2] if coefficients else (0, 0)
    out = np.zeros(shape + (len(coefficients), points.shape[1]))
    for e, element in enumerate(coefficients):
        for i in range(element.shape[0]):
            for j in range(element.shape[1]):
                p = element[i, j]
                if not p.any():
                    continue
                if grid is not None:
                    out[i, j, e] = stencil(p, grid[0], grid[1], disc)
                else:
                    out[i, j, e] = _gaussian_operator(p, points[0], points[1], disc.smoothing)
    return out
