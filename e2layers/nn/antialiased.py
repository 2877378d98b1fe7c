"""Anti-aliased point-wise pools: PointwiseMaxPoolAntialiased and PointwiseAvgPoolAntialiased.

Both blur with a normalised Gaussian before subsampling (Zhang, "Making Convolutional Networks
Shift-Invariant Again", 2019).  The same blur acts on every channel, so it commutes with any fibre
action; the Gaussian is symmetric under the rotations by 90 degrees and the flips of the pixel grid, so
the pools are equivariant under those whenever the strided output grid is symmetric.
"""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn.functional as F

from basisgen import limits
from basisgen.errors import InvalidValueError

from ._checks import IntOrPair, check_field_type, check_shape, finite_float, int_or_pair, pool_size
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor
from .pointwise import PointwiseMaxPool

__all__ = ["PointwiseMaxPoolAntialiased", "PointwiseAvgPoolAntialiased", "PointwiseMaxPoolAntialiased2D",
           "PointwiseAvgPoolAntialiased2D"]


def _gaussian_filter(sigma: float, radius_in_sigmas: int, channels: int) -> torch.Tensor:
    """e2cnn's depthwise blur filter, shape ``(channels, 1, n, n)`` with ``n = 2 round(radius_in_sigmas sigma)
    + 1``: a normalised Gaussian of standard deviation ``sigma`` (pixels) centred on the middle pixel."""
    sigma = finite_float(sigma, "sigma", above=0)
    n = 2 * int(round(radius_in_sigmas * sigma)) + 1
    limits.check(n, "MAX_KERNEL_SIZE", f"sigma = {sigma!r} gives a {n} x {n} blur filter")
    t = torch.arange(n, dtype=torch.float64) - (n - 1) / 2
    g = torch.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * float(sigma) ** 2))
    g = (g / g.sum()).to(torch.get_default_dtype())
    return g.expand(channels, 1, n, n).clone()


def _blur_conv(filter: torch.Tensor, stride: Tuple[int, int], padding: Tuple[int, int]) -> torch.nn.Conv2d:
    """A frozen depthwise ``torch.nn.Conv2d`` holding ``filter``."""
    c, _, n, _ = filter.shape
    conv = torch.nn.Conv2d(c, c, n, stride=stride, padding=padding, groups=c, bias=False, device=filter.device,
                           dtype=filter.dtype)
    with torch.no_grad():
        conv.weight.copy_(filter)
    conv.weight.requires_grad_(False)
    return conv


def _symmetric_size(span: int, stride: int, minimum: int) -> int:
    """The smallest size ``>= minimum`` whose strided windows reach exactly the far border: ``size - span``
    divisible by ``stride`` (the output grid is then mirror-symmetric)."""
    return minimum + (span - minimum) % stride


class PointwiseMaxPoolAntialiased(PointwiseMaxPool):
    """Anti-aliased channel-wise max pooling: a dense (stride 1) max pool, then a Gaussian blur of standard
    deviation ``sigma`` applied with ``stride`` (fields supporting ``'pointwise'``).

    As in e2cnn: the blur filter has size ``2 round(4 sigma) + 1`` and pads by ``padding`` plus its radius, so
    ``padding`` is applied twice (once in the max pool, once in the blur), and ``ceil_mode`` has no effect
    (the max pool has stride 1).  Unlike e2cnn, ``dilation > 1`` is accepted.  Exports to
    ``torch.nn.Sequential(MaxPool2d, Conv2d)`` (the blur as a frozen depthwise convolution).

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(8)
    >>> t = nn.FieldType(r2, [r2.regular_repr])
    >>> pool = nn.PointwiseMaxPoolAntialiased(t, 2)
    >>> pool(nn.GeometricTensor(torch.randn(1, 8, 8, 8), t)).shape
    torch.Size([1, 8, 4, 4])
    >>> pool.filter.shape
    torch.Size([8, 1, 5, 5])
    >>> pool.export()
    Sequential(
      (0): MaxPool2d(kernel_size=(2, 2), stride=1, padding=(0, 0), dilation=(1, 1), ceil_mode=False)
      (1): Conv2d(8, 8, kernel_size=(5, 5), stride=(2, 2), padding=(2, 2), groups=8, bias=False)
    )
    """

    def __init__(self, in_type: FieldType, kernel_size: IntOrPair, stride: IntOrPair = None,
                 padding: IntOrPair = 0, dilation: IntOrPair = 1, ceil_mode: bool = False, sigma: float = 0.6):
        super().__init__(in_type, kernel_size, stride, padding, dilation, ceil_mode)
        self.sigma = sigma
        self.register_buffer("filter", _gaussian_filter(sigma, 4, in_type.size), persistent=False)
        radius = (self.filter.shape[-1] - 1) // 2
        self._pad = tuple(p + radius for p in self.padding)

    def _pointwise(self, x: torch.Tensor) -> torch.Tensor:
        dense = F.max_pool2d(x, self.kernel_size, 1, self.padding, self.dilation, self.ceil_mode)
        return F.conv2d(dense, self.filter, stride=self.stride, padding=self._pad, groups=dense.shape[1])

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        b, c, h, w = check_shape(self, input_shape, True)
        n = self.filter.shape[-1]
        dense = [pool_size(m, k, 1, p, d, self.ceil_mode) for m, k, p, d in
                 zip((h, w), self.kernel_size, self.padding, self.dilation)]
        return (b, c) + tuple((m + 2 * p - n) // s + 1 for m, p, s in zip(dense, self._pad, self.stride))

    def _test_input_size(self) -> int:
        k, s, p, d = self.kernel_size[0], self.stride[0], self.padding[0], self.dilation[0]
        # output centres sit at s*o - p on the dense grid of size H + 2p - d(k-1)
        return _symmetric_size(d * (k - 1) + 1 - 4 * p, s, max(3 * s + d * (k - 1), self.filter.shape[-1]))

    def export(self) -> torch.nn.Sequential:
        """The equivalent ``torch.nn.Sequential(torch.nn.MaxPool2d, torch.nn.Conv2d)``."""
        dense = torch.nn.MaxPool2d(self.kernel_size, 1, self.padding, self.dilation, ceil_mode=self.ceil_mode)
        return torch.nn.Sequential(dense, _blur_conv(self.filter, self.stride, self._pad))

    def extra_repr(self) -> str:
        return super().extra_repr() + f", sigma={self.sigma}"


class PointwiseAvgPoolAntialiased(EquivariantModule):
    """Anti-aliased average pooling: a Gaussian blur of standard deviation ``sigma`` applied with
    ``stride``, on every channel alike (so any representation is accepted).

    The filter has size ``2 round(3 sigma) + 1``; ``padding`` defaults to its radius, which keeps the size
    when ``stride`` is 1 (``stride=None`` means the filter size, as in e2cnn).  Exports to a frozen
    depthwise ``torch.nn.Conv2d``.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.FlipRot2dOnR2(-1, maximum_frequency=2)
    >>> t = nn.FieldType(r2, [r2.irrep(1, 1), r2.trivial_repr])
    >>> pool = nn.PointwiseAvgPoolAntialiased(t, sigma=0.66, stride=2)
    >>> pool(nn.GeometricTensor(torch.randn(1, 3, 9, 9), t)).shape
    torch.Size([1, 3, 5, 5])
    >>> pool.export()
    Conv2d(3, 3, kernel_size=(5, 5), stride=(2, 2), padding=(2, 2), groups=3, bias=False)
    """

    check_atol = 1e-6

    def __init__(self, in_type: FieldType, sigma: float, stride: IntOrPair, padding: IntOrPair = None):
        super().__init__()
        self.in_type = self.out_type = check_field_type(in_type)
        self.space = in_type.gspace
        self.sigma = sigma
        self.register_buffer("filter", _gaussian_filter(sigma, 3, in_type.size), persistent=False)
        n = self.filter.shape[-1]
        self.kernel_size = (n, n)
        self.stride = self.kernel_size if stride is None else int_or_pair(stride, "stride", 1)
        self.padding = int_or_pair((n - 1) // 2 if padding is None else padding, "padding", 0)

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        if input.tensor.ndim != 4:
            raise InvalidValueError(f"PointwiseAvgPoolAntialiased expects a (batch, channels, H, W) tensor, got shape "
                             f"{tuple(input.tensor.shape)}")
        return GeometricTensor(F.conv2d(input.tensor, self.filter, stride=self.stride, padding=self.padding,
                                        groups=input.tensor.shape[1]), self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        b, c, h, w = check_shape(self, input_shape, True)
        return (b, c) + tuple((m + 2 * p - n) // s + 1 for m, p, n, s in
                              zip((h, w), self.padding, self.kernel_size, self.stride))

    def _test_input_size(self) -> int:
        n, s, p = self.kernel_size[0], self.stride[0], self.padding[0]
        return _symmetric_size(n - 2 * p, s, max(3 * s, n))

    def export(self) -> torch.nn.Conv2d:
        """The equivalent frozen depthwise ``torch.nn.Conv2d``."""
        return _blur_conv(self.filter, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"{self.in_type}, sigma={self.sigma}, stride={self.stride}, padding={self.padding}"


# escnn's names of the 2D pools (the same classes)
PointwiseMaxPoolAntialiased2D = PointwiseMaxPoolAntialiased
PointwiseAvgPoolAntialiased2D = PointwiseAvgPoolAntialiased
