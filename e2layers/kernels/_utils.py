"""e2cnn's vectorised 2x2 matrices: rotations ``psi``, the flip ``chi`` and their product ``psichi``."""
from __future__ import annotations

from typing import Union

import numpy as np

__all__ = ["psi", "chi", "psichi"]


def _angles(theta: Union[np.ndarray, float], k, gamma) -> np.ndarray:
    """``k theta + gamma`` as a (K, N) array: one row per frequency/phase, one column per angle."""
    theta = np.asarray(theta, dtype=float).reshape(1, -1)
    k = np.asarray(k).reshape(-1, 1)
    gamma = np.asarray(gamma, dtype=float).reshape(-1, 1)
    return k * theta + gamma


def _flip_signs(s) -> np.ndarray:
    """+1 where ``s`` is 0 (no flip), -1 where ``s`` > 0, as a column."""
    s = np.asarray(s).reshape(-1, 1)
    return np.where(s > 0, -1.0, 1.0)


def _fill(out, shape, entries) -> np.ndarray:
    if out is None:
        out = np.empty(shape)
    for (i, j), value in entries:
        out[i, j, ...] = value
    return out


def psi(theta: Union[np.ndarray, float], k: int = 1, gamma: float = 0., out: np.ndarray = None) -> np.ndarray:
    """The rotation matrices of angle ``k theta + gamma``: (2, 2, K, N) for K frequencies (and phases).

    Examples
    --------
    >>> import numpy as np
    >>> psi(np.array([0.0, np.pi / 2]), k=[1, 2]).shape, psi(np.pi / 2)[:, :, 0, 0].round(6).tolist()
    ((2, 2, 2, 2), [[0.0, -1.0], [1.0, 0.0]])
    """
    x = _angles(theta, k, gamma)
    c, s = np.cos(x), np.sin(x)
    return _fill(out, (2, 2) + x.shape, (((0, 0), c), ((0, 1), -s), ((1, 0), s), ((1, 1), c)))


def chi(s: int, out: np.ndarray = None) -> np.ndarray:
    """The flip matrices ``diag(1, -1)`` where ``s`` > 0, else the identity: (2, 2, S, 1).

    Examples
    --------
    >>> chi([0, 1])[:, :, :, 0].transpose(2, 0, 1).tolist()
    [[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, -1.0]]]
    """
    sign = _flip_signs(s)
    return _fill(out, (2, 2, sign.shape[0], 1), (((0, 0), 1.0), ((0, 1), 0.0), ((1, 0), 0.0), ((1, 1), sign)))


def psichi(theta: Union[np.ndarray, float], s: int, k: int = 1, gamma: float = 0.,
           out: np.ndarray = None) -> np.ndarray:
    """``psi(theta, k, gamma) @ chi(s)`` along the first two axes: (2, 2, K, N).

    Examples
    --------
    >>> import numpy as np
    >>> theta = np.linspace(0, 1, 5)
    >>> a = psichi(theta, s=[1, 0], k=[2, 3], gamma=[0.0, 0.5]).transpose(2, 3, 0, 1)
    >>> b = psi(theta, [2, 3], [0.0, 0.5]).transpose(2, 3, 0, 1) @ chi([1, 0]).transpose(2, 3, 0, 1)
    >>> bool(np.allclose(a, b))
    True
    """
    x = _angles(theta, k, gamma)
    sign = _flip_signs(s)
    c, sn = np.cos(x), np.sin(x)
    return _fill(out, (2, 2) + x.shape, (((0, 0), c), ((0, 1), -sign * sn), ((1, 0), sn), ((1, 1), sign * c)))
