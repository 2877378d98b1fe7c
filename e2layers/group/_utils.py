"""The rotation and reflection matrices e2cnn exports from its ``group`` package."""
from __future__ import annotations

import math

import numpy as np


def psi(theta: float, k: int = 1, gamma: float = 0.0) -> np.ndarray:
    """The rotation matrix of angle ``k theta + gamma``.

    Examples
    --------
    >>> psi(math.pi / 2).round(6).tolist()
    [[0.0, -1.0], [1.0, 0.0]]
    """
    x = k * theta + gamma
    return np.array([[math.cos(x), -math.sin(x)], [math.sin(x), math.cos(x)]])


def chi(s: int) -> np.ndarray:
    """``diag(1, -1)`` if ``s`` else the identity."""
    return np.array([[1.0, 0.0], [0.0, -1.0 if s else 1.0]])


def psichi(theta: float, s: int, k: int = 1, gamma: float = 0.0) -> np.ndarray:
    """``psi(theta, k, gamma) @ chi(s)``: the matrix of ``r_theta f^s`` in the 2-D irrep of frequency ``k``."""
    return psi(theta, k, gamma) @ chi(s)
