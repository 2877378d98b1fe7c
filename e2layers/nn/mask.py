"""MaskModule: multiply feature maps by a smooth disc.

The pixels outside the disc inscribed in the grid have no rotated counterpart inside the grid, so
a network that uses them cannot be equivariant to rotations other than multiples of 90 degrees;
masking them out (smoothly) removes that information.  The mask depends on the distance to the
centre only, so it is invariant under the symmetries of the square and the module is exactly
equivariant under them, for every field type.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np
import torch

from basisgen.errors import InvalidValueError

from ._checks import check_field_type, check_shape, finite_float, positive_int
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["MaskModule"]


def build_mask(S: int, margin: float = 0.0) -> np.ndarray:
    """The (S, S) mask (float64): 1 within radius ``(1 - margin / 100) (S - 1) / 2`` of the centre, then
    ``exp(-(r^2 - t^2) / 4)`` with ``r`` the distance to the centre and ``t`` that radius (e2cnn's mask).

    Examples
    --------
    >>> build_mask(3).round(4).tolist()
    [[0.7788, 1.0, 0.7788], [1.0, 1.0, 1.0], [0.7788, 1.0, 0.7788]]
    """
    c = (S - 1) / 2
    t = (c - margin / 100.0 * c) ** 2
    y, x = np.meshgrid(np.arange(S), np.arange(S), indexing="ij")
    r = (x - c) ** 2 + (y - c) ** 2
    return np.where(r > t, np.exp((t - r) / 4.0), 1.0)


class MaskExport(torch.nn.Module):
    """Plain-PyTorch ``x * mask`` (what :class:`MaskModule` exports to)."""

    def __init__(self, mask: torch.Tensor):
        super().__init__()
        self.register_buffer("mask", mask.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.mask.to(x.dtype)

    def extra_repr(self) -> str:
        return f"S={self.mask.shape[-1]}"


class MaskModule(EquivariantModule):
    """Multiplies the input (of shape ``(B, C, S, S)``) by a smooth disc mask (e2cnn's MaskModule).

    The mask is 1 within ``(1 - margin / 100) (S - 1) / 2`` pixels of the centre (``margin`` is a
    percentage of the radius) and decays as a Gaussian in the squared distance outside.  Accepts any
    field type.

    The mask is a persistent buffer ``mask`` of shape ``(1, 1, S, S)`` (e2cnn: a parameter with
    ``requires_grad=False`` of the same name), so it stays out of ``parameters()`` and optimizers while
    e2cnn checkpoints still load key for key.  Export: :class:`MaskExport`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(8)
    >>> t = nn.FieldType(r2, [r2.regular_repr])
    >>> mask = nn.MaskModule(t, 5)
    >>> y = mask(nn.GeometricTensor(torch.ones(1, 8, 5, 5), t)).tensor
    >>> y[0, 0, 2, 2].item(), round(y[0, 0, 0, 0].item(), 4)
    (1.0, 0.3679)
    """

    def __init__(self, in_type: FieldType, S: int, margin: float = 0.0):
        super().__init__()
        self.in_type = self.out_type = check_field_type(in_type)
        self.space = in_type.gspace
        self.S = positive_int(S, "S")
        finite_float(margin, "margin")
        self.margin = margin
        mask = torch.as_tensor(build_mask(self.S, float(margin)), dtype=torch.get_default_dtype())
        self.register_buffer("mask", mask.reshape(1, 1, self.S, self.S))

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        x = input.tensor
        if x.ndim != 4 or x.shape[2:] != self.mask.shape[2:]:
            raise InvalidValueError(f"MaskModule expects input of shape (batch, {self.in_type.size}, {self.S}, {self.S}), "
                             f"got {tuple(x.shape)}")
        return GeometricTensor(x * self.mask.to(x.dtype), self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        shape = check_shape(self, input_shape, True)
        if shape[2:] != (self.S, self.S):
            raise InvalidValueError(f"input_shape must be (batch, {self.in_type.size}, {self.S}, {self.S}), got {shape}")
        return shape

    def _test_input_size(self) -> int:
        return self.S

    def export(self) -> MaskExport:
        """A :class:`MaskExport` holding a copy of the mask."""
        return MaskExport(self.mask)

    def extra_repr(self) -> str:
        return f"{self.in_type}, S={self.S}, margin={self.margin}"
