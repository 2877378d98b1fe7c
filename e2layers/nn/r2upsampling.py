"""``R2Upsampling``: channel-wise spatial upsampling, equivariant for every field type (e2cnn's)."""
from __future__ import annotations

import math
from typing import Tuple, Union

import torch
import torch.nn.functional as F

from basisgen.errors import InvalidValueError

from ._checks import check_field_type, finite_float, flag, int_or_pair, is_int, one_of
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["R2Upsampling"]

_MODES = ("nearest", "bilinear", "bicubic")


class R2Upsampling(EquivariantModule):
    """Upsample every channel by ``scale_factor`` or to ``size`` (``mode``: nearest, bilinear, bicubic).

    Upsampling acts on the plane only, so it commutes with the fibre action of any field.  On the
    pixel grid (rotations by multiples of 90 degrees, flips) it is exactly equivariant, up to
    floating-point rounding in the interpolating modes, for

    - ``mode='nearest'``: an integer ``scale_factor`` (even or odd; every input pixel becomes a
      block), or a ``size`` that is an integer multiple of the input size;
    - ``mode='bilinear'``/``'bicubic'``: any ``size``, any ``scale_factor`` with
      ``align_corners=True``, and without it a ``scale_factor`` that makes the output size
      ``H * scale_factor`` an integer.

    Elsewhere (nearest at a non-integer ratio, an output size rounded down from ``H * scale_factor``
    without ``align_corners``) torch's sampling grid is not symmetric and the error is of the order
    of the signal, as in e2cnn, whose outputs these are.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.FlipRot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.regular_repr])
    >>> up = nn.R2Upsampling(t, scale_factor=2)
    >>> up(nn.GeometricTensor(torch.randn(1, 8, 5, 5), t)).shape
    torch.Size([1, 8, 10, 10])
    """

    check_atol = 0.1
    check_rtol = 0.1

    def __init__(self, in_type: FieldType, scale_factor: int = None, size: Union[int, Tuple[int, int]] = None,
                 mode: str = 'bilinear', align_corners: bool = False):
        super().__init__()
        check_field_type(in_type)
        if getattr(in_type.gspace, "dimensionality", None) != 2:
            raise InvalidValueError(f"R2Upsampling needs a gspace on R^2, got {in_type.gspace.name}")
        if (scale_factor is None) == (size is None):
            raise InvalidValueError(f"give exactly one of scale_factor and size, got scale_factor={scale_factor!r}, "
                             f"size={size!r}")
        if scale_factor is not None:
            checked = finite_float(scale_factor, "scale_factor", above=0)
            scale_factor = int(scale_factor) if is_int(scale_factor) else checked   # an int stays an int
        if size is not None:
            size = int_or_pair(size, "size", 1)
        one_of(mode, "mode", _MODES)
        self.in_type = self.out_type = in_type
        self.space = in_type.gspace
        self._scale_factor = scale_factor
        self._size = size
        self._mode = mode
        self._align_corners = None if mode == "nearest" else flag(align_corners, "align_corners")

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        if input.tensor.ndim != 4:
            raise InvalidValueError(f"R2Upsampling expects a (batch, channels, H, W) tensor, got shape "
                             f"{tuple(input.tensor.shape)}")
        out = F.interpolate(input.tensor, size=self._size, scale_factor=self._scale_factor, mode=self._mode,
                            align_corners=self._align_corners)
        return GeometricTensor(out, self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        if len(input_shape) != 4 or input_shape[1] != self.in_type.size:
            raise InvalidValueError(f"input_shape must be (batch, {self.in_type.size}, H, W), got {tuple(input_shape)}")
        b, c, h, w = input_shape
        if self._size is not None:
            return (b, c, *self._size)
        return (b, c, math.floor(h * self._scale_factor), math.floor(w * self._scale_factor))

    def export(self) -> torch.nn.Upsample:
        """The equivalent ``torch.nn.Upsample``."""
        return torch.nn.Upsample(size=self._size, scale_factor=self._scale_factor, mode=self._mode,
                                 align_corners=self._align_corners)

    def extra_repr(self) -> str:
        what = f"size={self._size}" if self._size is not None else f"scale_factor={self._scale_factor}"
        return f"{self.in_type}, {what}, mode={self._mode}"
