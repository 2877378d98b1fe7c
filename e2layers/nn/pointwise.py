"""Point-wise modules (e2cnn's): non-linearities, pooling and dropout acting on each channel independently.

A channel-wise map commutes with the fibre action only when the fibre acts by permuting channels, i.e.
for fields whose representations are tagged ``'pointwise'`` (trivial, regular and quotient
representations of finite groups).  Spatial pooling commutes with the base-space action whenever the
pooling windows tile the grid symmetrically (e.g. 2x2 windows with stride 2 on an even grid under 90
degree rotations and flips).
"""
from __future__ import annotations

from typing import Callable, Tuple

import torch
import torch.nn.functional as F

from basisgen.errors import InvalidValueError

from ._checks import (IntOrPair, check_pointwise, check_shape, finite_float, flag, int_or_pair, one_of, pool_size,
                      probability)
from ._memory_format import keep_memory_format
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["ReLU", "ELU", "LeakyReLU", "PointwiseNonLinearity", "PointwiseMaxPool", "PointwiseAvgPool",
           "PointwiseAdaptiveAvgPool", "PointwiseAdaptiveMaxPool", "PointwiseDropout",
           "PointwiseMaxPool2D", "PointwiseAvgPool2D", "PointwiseAdaptiveAvgPool2D", "PointwiseAdaptiveMaxPool2D"]


class _ChannelWise(EquivariantModule):
    """A module applying ``self._pointwise`` to the raw tensor of a pointwise field type."""

    check_atol = 1e-6

    _spatial = False

    def __init__(self, in_type: FieldType):
        super().__init__()
        self.in_type = check_pointwise(in_type, type(self).__name__)
        if self._spatial and getattr(in_type.gspace, "dimensionality", None) != 2:
            raise InvalidValueError(f"{type(self).__name__} pools over the plane, but in_type {in_type!r} is over "
                                    f"{in_type.gspace!r}, which has no plane (dimensionality "
                                    f"{in_type.gspace.dimensionality}); use a gspace on R^2 (e.g. "
                                    f"gspaces.Rot2dOnR2(8))")
        self.out_type = in_type
        self.space = in_type.gspace

    def _pointwise(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        if self._spatial and input.tensor.ndim != 4:
            raise InvalidValueError(f"{type(self).__name__} expects a (batch, channels, H, W) tensor, got shape "
                             f"{tuple(input.tensor.shape)}")
        return GeometricTensor(keep_memory_format(self._pointwise(input.tensor), input.tensor), self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        return check_shape(self, input_shape, self._spatial)


# ---- non-linearities -------------------------------------------------------------------------------------
class ReLU(_ChannelWise):
    """Channel-wise ReLU on fields supporting ``'pointwise'``.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, 2 * [r2.regular_repr])
    >>> relu = nn.ReLU(t)
    >>> bool((relu(nn.GeometricTensor(torch.randn(1, 8, 5, 5), t)).tensor >= 0).all())
    True
    >>> relu.export()
    ReLU()
    """

    def __init__(self, in_type: FieldType, inplace: bool = False):
        super().__init__(in_type)
        self._inplace = flag(inplace, "inplace")

    def _pointwise(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x, inplace=self._inplace)

    def export(self) -> torch.nn.ReLU:
        """The equivalent ``torch.nn.ReLU``."""
        return torch.nn.ReLU(inplace=self._inplace)

    def extra_repr(self) -> str:
        return f"{self.in_type}, inplace={self._inplace}"


class ELU(_ChannelWise):
    """Channel-wise ELU on fields supporting ``'pointwise'``.

    Examples
    --------
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.FlipRot2dOnR2(2)
    >>> nn.ELU(nn.FieldType(r2, [r2.regular_repr]), alpha=0.5).export()
    ELU(alpha=0.5)
    """

    def __init__(self, in_type: FieldType, alpha: float = 1.0, inplace: bool = False):
        super().__init__(in_type)
        self._alpha = finite_float(alpha, "alpha")
        self._inplace = flag(inplace, "inplace")

    def _pointwise(self, x: torch.Tensor) -> torch.Tensor:
        return F.elu(x, alpha=self._alpha, inplace=self._inplace)

    def export(self) -> torch.nn.ELU:
        """The equivalent ``torch.nn.ELU``."""
        return torch.nn.ELU(alpha=self._alpha, inplace=self._inplace)

    def extra_repr(self) -> str:
        return f"{self.in_type}, alpha={self._alpha}, inplace={self._inplace}"


class LeakyReLU(_ChannelWise):
    """Channel-wise leaky ReLU on fields supporting ``'pointwise'`` (not in e2cnn).

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.FlipRot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.trivial_repr])
    >>> nn.LeakyReLU(t, 0.25)(nn.GeometricTensor(-torch.ones(1, 1, 1, 1), t)).tensor.item()
    -0.25
    >>> nn.LeakyReLU(t, 0.1).export()
    LeakyReLU(negative_slope=0.1)
    """

    def __init__(self, in_type: FieldType, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__(in_type)
        self._negative_slope = finite_float(negative_slope, "negative_slope")
        self._inplace = flag(inplace, "inplace")

    def _pointwise(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, self._negative_slope, inplace=self._inplace)

    def export(self) -> torch.nn.LeakyReLU:
        """The equivalent ``torch.nn.LeakyReLU``."""
        return torch.nn.LeakyReLU(self._negative_slope, inplace=self._inplace)

    def extra_repr(self) -> str:
        return f"{self.in_type}, negative_slope={self._negative_slope}, inplace={self._inplace}"


_FUNCTIONS = {"p_relu": torch.relu, "p_elu": F.elu, "p_sigmoid": torch.sigmoid, "p_tanh": torch.tanh}
_EXPORTS = {"p_relu": torch.nn.ReLU, "p_elu": torch.nn.ELU, "p_sigmoid": torch.nn.Sigmoid, "p_tanh": torch.nn.Tanh}


class PointwiseNonLinearity(_ChannelWise):
    """A channel-wise non-linearity: ``function`` is one of ``'p_relu'``, ``'p_elu'``, ``'p_sigmoid'``,
    ``'p_tanh'``; exports to the matching ``torch.nn`` module (e2cnn has no ``export`` for it).

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.trivial_repr])
    >>> nn.PointwiseNonLinearity(t, 'p_sigmoid')(nn.GeometricTensor(torch.zeros(1, 1, 1, 1), t)).tensor.item()
    0.5
    """

    def __init__(self, in_type: FieldType, function: str = 'p_relu'):
        super().__init__(in_type)
        self._function_name = one_of(function, "function", sorted(_FUNCTIONS))
        self._function: Callable[[torch.Tensor], torch.Tensor] = _FUNCTIONS[function]

    def _pointwise(self, x: torch.Tensor) -> torch.Tensor:
        return self._function(x)

    def export(self) -> torch.nn.Module:
        """The equivalent ``torch.nn.ReLU``, ``ELU``, ``Sigmoid`` or ``Tanh`` (e2cnn has no export here)."""
        return _EXPORTS[self._function_name]()

    def extra_repr(self) -> str:
        return f"{self.in_type}, function={self._function_name}"


# ---- pooling --------------------------------------------------------------------------------------------
class _WindowPool(_ChannelWise):
    """What the max and average pools share: window arguments, output shape, test size, repr."""

    _spatial = True

    def _init_window(self, kernel_size: IntOrPair, stride: IntOrPair, padding: IntOrPair, dilation: IntOrPair,
                     ceil_mode: bool) -> None:
        self.kernel_size = int_or_pair(kernel_size, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else int_or_pair(stride, "stride", 1)
        self.padding = int_or_pair(padding, "padding", 0)
        self.dilation = int_or_pair(dilation, "dilation", 1)
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel_size)):
            raise InvalidValueError(f"padding must be at most half of kernel_size {self.kernel_size}, got {padding!r}")
        self.ceil_mode = flag(ceil_mode, "ceil_mode")

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        b, c, h, w = check_shape(self, input_shape, True)
        return (b, c) + tuple(pool_size(n, k, s, p, d, self.ceil_mode) for n, k, s, p, d in
                              zip((h, w), self.kernel_size, self.stride, self.padding, self.dilation))

    def _test_input_size(self) -> int:
        return 2 * self.stride[0] * 3

    def extra_repr(self) -> str:
        return (f"{self.in_type}, kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class PointwiseMaxPool(_WindowPool):
    """Channel-wise 2D max pooling (``torch.nn.MaxPool2d``'s arguments; ``stride`` defaults to ``kernel_size``).

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.regular_repr])
    >>> pool = nn.PointwiseMaxPool(t, 2)
    >>> pool(nn.GeometricTensor(torch.randn(1, 4, 8, 8), t)).shape
    torch.Size([1, 4, 4, 4])
    >>> pool.evaluate_output_shape((1, 4, 9, 9))
    (1, 4, 4, 4)
    """

    def __init__(self, in_type: FieldType, kernel_size: IntOrPair, stride: IntOrPair = None,
                 padding: IntOrPair = 0, dilation: IntOrPair = 1, ceil_mode: bool = False):
        super().__init__(in_type)
        self._init_window(kernel_size, stride, padding, dilation, ceil_mode)

    def _pointwise(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)

    def export(self) -> torch.nn.MaxPool2d:
        """The equivalent ``torch.nn.MaxPool2d``."""
        return torch.nn.MaxPool2d(self.kernel_size, self.stride, self.padding, self.dilation,
                                  ceil_mode=self.ceil_mode)


class PointwiseAvgPool(_WindowPool):
    """Channel-wise 2D average pooling (``torch.nn.AvgPool2d``'s arguments; no ``export`` in e2cnn, but this
    one exports to ``torch.nn.AvgPool2d``).

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.FlipRot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.trivial_repr])
    >>> nn.PointwiseAvgPool(t, 3)(nn.GeometricTensor(torch.ones(1, 1, 9, 9), t)).tensor.sum().item()
    9.0
    """

    def __init__(self, in_type: FieldType, kernel_size: IntOrPair, stride: IntOrPair = None,
                 padding: IntOrPair = 0, ceil_mode: bool = False):
        super().__init__(in_type)
        self._init_window(kernel_size, stride, padding, 1, ceil_mode)

    def _pointwise(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode)

    def export(self) -> torch.nn.AvgPool2d:
        """The equivalent ``torch.nn.AvgPool2d``."""
        return torch.nn.AvgPool2d(self.kernel_size, self.stride, self.padding, ceil_mode=self.ceil_mode)


class _AdaptivePool(_ChannelWise):
    _spatial = True
    _torch_module: type = None
    _function: Callable = None

    def __init__(self, in_type: FieldType, output_size: IntOrPair):
        super().__init__(in_type)
        self.output_size = int_or_pair(output_size, "output_size", 1)

    def _pointwise(self, x: torch.Tensor) -> torch.Tensor:
        return type(self)._function(x, self.output_size)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        b, c, _, _ = check_shape(self, input_shape, True)
        return (b, c) + self.output_size

    def export(self) -> torch.nn.Module:
        """The equivalent ``torch.nn.AdaptiveAvgPool2d`` / ``AdaptiveMaxPool2d``."""
        return type(self)._torch_module(self.output_size)

    def _test_input_size(self) -> int:
        return 2 * self.output_size[0]

    def extra_repr(self) -> str:
        return f"{self.in_type}, output_size={self.output_size}"


class PointwiseAdaptiveAvgPool(_AdaptivePool):
    """Channel-wise adaptive average pooling to ``output_size``.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.regular_repr])
    >>> nn.PointwiseAdaptiveAvgPool(t, 1)(nn.GeometricTensor(torch.randn(2, 4, 7, 7), t)).shape
    torch.Size([2, 4, 1, 1])
    """

    _torch_module = torch.nn.AdaptiveAvgPool2d
    _function = staticmethod(F.adaptive_avg_pool2d)


class PointwiseAdaptiveMaxPool(_AdaptivePool):
    """Channel-wise adaptive max pooling to ``output_size``.

    Examples
    --------
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> nn.PointwiseAdaptiveMaxPool(nn.FieldType(r2, [r2.regular_repr]), (2, 2)).export()
    AdaptiveMaxPool2d(output_size=(2, 2))
    """

    _torch_module = torch.nn.AdaptiveMaxPool2d
    _function = staticmethod(F.adaptive_max_pool2d)


# ---- dropout and plumbing -------------------------------------------------------------------------------
class PointwiseDropout(_ChannelWise):
    """Channel-wise (element-wise) dropout with probability ``p``; the identity in eval mode.

    Examples
    --------
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> nn.PointwiseDropout(nn.FieldType(r2, [r2.regular_repr]), p=0.2).export()
    Dropout(p=0.2, inplace=False)
    """

    def __init__(self, in_type: FieldType, p: float = 0.5, inplace: bool = False):
        super().__init__(in_type)
        self.p = probability(p)
        self.inplace = flag(inplace, "inplace")

    def _pointwise(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.p, self.training, self.inplace)

    def export(self) -> torch.nn.Dropout:
        """The equivalent ``torch.nn.Dropout``, in the same train/eval mode as this module."""
        return torch.nn.Dropout(self.p, self.inplace).train(self.training)

    def extra_repr(self) -> str:
        return f"{self.in_type}, p={self.p}, inplace={self.inplace}"


# escnn's names of the 2D pools (the same classes)
PointwiseMaxPool2D = PointwiseMaxPool
PointwiseAvgPool2D = PointwiseAvgPool
PointwiseAdaptiveAvgPool2D = PointwiseAdaptiveAvgPool
PointwiseAdaptiveMaxPool2D = PointwiseAdaptiveMaxPool
