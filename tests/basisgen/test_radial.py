"""R2Conv's defaults (docs/math.md, "Rings, widths and frequency cut-offs"): grid, rings, widths, frequency cutoffs."""
import numpy as np
import pytest

from basisgen.radial import basis_params, gaussian_rings, grid_coordinates

DEFAULTS = [  # kernel size, dilation, rings, sigmas, cutoffs, F
    (1, 1, [0], [0.005], [0], 0),
    (2, 1, [0], [0.005], [0], 0),
    (3, 1, [0, 1], [0.005, 0.4], [0, 2], 2),
    (4, 1, [0, 1], [0.005, 0.4], [0, 2], 2),
    (5, 1, [0, 1, 2], [0.005, 0.6, 0.4], [0, 2, 2], 2),
    (6, 1, [0, 1, 2], [0.005, 0.6, 0.4], [0, 2, 3], 3),
    (7, 1, [0, 1, 2, 3], [0.005, 0.6, 0.6, 0.4], [0, 2, 3, 2], 3),
    (9, 1, [0, 1, 2, 3, 4], [0.005, 0.6, 0.6, 0.6, 0.4], [0, 2, 3, 6, 2], 6),
    (11, 1, [0, 1, 2, 3, 4, 5], [0.005, 0.6, 0.6, 0.6, 0.6, 0.4], [0, 2, 3, 6, 7, 2], 7),
    (5, 2, [0, 2, 4], [0.005, 0.6, 0.4], [0, 2, 7], 7),
]


@pytest.mark.parametrize("k,d,rings,sigmas,cutoffs,F", DEFAULTS)
def test_defaults_table(k, d, rings, sigmas, cutoffs, F):
    p = basis_params(k, d)
    assert list(p.rings) == rings and list(p.sigmas) == sigmas
    assert list(p.cutoffs) == cutoffs and p.maximum_frequency == F


def test_other_cutoff_policies():
    assert basis_params(9, frequencies_cutoff=-2.0).cutoffs == (0, 2, 3, 6, 1)
    assert basis_params(9, frequencies_cutoff=-3.0).cutoffs == (0, 2, 2, 2, 1)
    assert basis_params(7, frequencies_cutoff=1.5).cutoffs == (0, 1.5, 3.0, 4.5)
    assert basis_params(7, frequencies_cutoff=1.5).maximum_frequency == 4
    assert basis_params(5, frequencies_cutoff=lambda r: 3 * r).cutoffs == (0, 3, 6)


def test_user_rings_and_sigma():
    p = basis_params(5, rings=[0.0, 1.5], sigma=0.3)
    assert p.rings == (0.0, 1.5) and p.sigmas == (0.3, 0.3)   # a user sigma also applies at r = 0
    assert basis_params(5, rings=[1.0, 2.0], sigma=[0.2, 0.7]).sigmas == (0.2, 0.7)


def test_grid_convention():
    x, y = grid_coordinates(4)
    assert (x[0], y[0]) == (-1.5, 1.5) and (x[3], y[3]) == (1.5, 1.5) and (x[-1], y[-1]) == (1.5, -1.5)
    x, y = grid_coordinates(3, 2)
    assert (x.min(), x.max(), y[0]) == (-2, 2, 2)


def test_gaussian_profile():
    r = np.array([0.0, 1.0, 2.0])
    g = gaussian_rings(r, [1.0], [0.5])
    np.testing.assert_allclose(g[0], np.exp(-0.5 * ((r - 1) / 0.5) ** 2))
    assert g[0, 1] == 1.0
