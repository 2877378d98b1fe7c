"""Sampling the closed forms in torch: on the points' device and dtype, differentiable in the points.

At the origin (``|x| < 1e-9``) a kernel has no angle: as in the numpy sampling the angle is taken 0 and
every element of non-zero frequency vanishes.  The radius and the angle are not differentiable there;
the points are replaced by a fixed point away from the origin before ``sqrt``/``atan2`` (the results are
then masked), so the gradient with respect to a point at the origin is zero and never NaN.
"""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np
import torch

from basisgen.polar import ORIGIN_RADIUS, AngularTable

from basisgen.errors import InvalidValueError


class TensorCache:
    """Constant arrays converted once per (device, dtype)."""

    def __init__(self, **arrays: np.ndarray):
        self._arrays = arrays
        self._held: Dict[Tuple[torch.device, torch.dtype], Dict[str, torch.Tensor]] = {}

    def get(self, like: torch.Tensor) -> Dict[str, torch.Tensor]:
        key = (like.device, like.dtype)
        if key not in self._held:
            self._held[key] = {name: torch.as_tensor(a, dtype=like.dtype if a.dtype.kind == "f" else None,
                                                     device=like.device) for name, a in self._arrays.items()}
        return self._held[key]


def working_dtype(points: torch.Tensor) -> torch.dtype:
    """float64 for the computation, except on devices without it (then the points' own dtype)."""
    return points.dtype if points.device.type == "mps" else torch.float64


def check_points(points: torch.Tensor, rows: int, name: str) -> None:
    if not isinstance(points, torch.Tensor) or points.dim() != 2 or points.shape[0] != rows \
            or not points.is_floating_point():
        raise InvalidValueError(f"{name} must be a floating-point torch.Tensor of shape ({rows}, N), got "
                         f"{getattr(points, 'shape', type(points).__name__)}")


def polar_coordinates(points: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(r, phi, origin)`` of ``points`` (2, N); ``r`` and ``phi`` are 0 at the origin, with zero gradient."""
    x, y = points[0], points[1]
    origin = x * x + y * y < ORIGIN_RADIUS ** 2
    safe_x = torch.where(origin, torch.ones_like(x), x)
    safe_y = torch.where(origin, torch.zeros_like(y), y)
    r = torch.where(origin, torch.zeros_like(x), torch.sqrt(safe_x * safe_x + safe_y * safe_y))
    return r, torch.atan2(safe_y, safe_x), origin


def gaussian_rings(r: torch.Tensor, radii: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """``exp(-(r - r_i)^2 / (2 sigma_i^2))``: (R, N) for radii ``r`` (N,)."""
    return torch.exp(-0.5 * ((r[None, :] - radii[:, None]) / sigma[:, None]) ** 2)


def angular(table: AngularTable, tensors: Dict[str, torch.Tensor], phi: torch.Tensor,
            origin: torch.Tensor) -> torch.Tensor:
    """The elements of ``table`` at the angles ``phi`` (N,): (c_out, c_in, A, N), as ``AngularTable.sample``."""
    mu = tensors["mu"].to(phi.dtype)
    phi = torch.where(origin, torch.zeros_like(phi), phi)
    arg = mu[:, None] * (phi[None, :] - table.beta)
    keep = ~((tensors["mu"] != 0)[:, None] & origin[None, :])
    cos, sin = torch.cos(arg) * keep, torch.sin(arg) * keep
    return torch.einsum("aoi,an->oian", tensors["cos"], cos) + torch.einsum("aoi,an->oian", tensors["sin"], sin)
