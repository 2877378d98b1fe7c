"""How a layer samples the pixel grid, axis by axis, and whether that sampling is symmetric about the centre.

A quarter turn or a mirror of the input is exact for a layer only if the layer treats the mirrored input
the way it treats the input: along each axis, the output pixel ``i`` must read the input pixels that the
output pixel ``m - 1 - i`` reads, mirrored (``n`` input pixels, ``m`` output pixels).  That depends only on
the lengths and the layer's sampling, never on its weights, so it can be read off the module:

- :class:`Window`: windows of ``span`` pixels every ``stride`` pixels after ``pad_before`` / ``pad_after``
  pixels of padding (convolutions, pools).  Window ``i`` covers ``[i s - p_b, i s - p_b + span - 1]``; the
  sampling is symmetric when the first window's start and the last window's end add up to ``n - 1``.  An
  even size meeting a stride, an asymmetric padding, ``ceil_mode`` breaking it are all this one rule.
- :class:`Transposed`: a transposed convolution; symmetric unless ``output_padding`` adds rows on one side.
- :class:`Resample`: ``F.interpolate``; checked by running the interpolation on a random 1-pixel-wide
  probe and its mirror (the rounding of each mode is then exactly torch's).
- :class:`Pad`, :class:`Adaptive` (always symmetric), :class:`FixedSize` (a mask: one size only) and
  :class:`Collapse` (``Flatten``: symmetric only on a single pixel).

:func:`geometry_of` gives a module's :class:`LayerGeometry` (the steps along the height and along the
width), ``LayerGeometry(kind, (), ())`` for a module that keeps the size pixel by pixel, or None where it
does not know the module.  A module of one's own can declare a window with int or pair attributes
``kernel_size``, ``stride`` and ``padding`` (and ``dilation``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional, Tuple, Union

import torch

from basisgen.checks import int_or_pair

__all__ = ["Window", "Transposed", "Resample", "Pad", "Adaptive", "FixedSize", "Collapse", "LayerGeometry",
           "geometry_of"]


def _centre(n: int) -> str:
    c = (n - 1) / 2
    return str(int(c)) if c == int(c) else f"{c:g}"


def _pixels(k: float) -> str:
    k = abs(k)
    return f"{k:g} pixel" + ("" if k == 1 else "s")


# ---- steps along one axis ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """Windows of ``span`` pixels (``dilation (kernel - 1) + 1``) every ``stride`` pixels, after padding.

    ``clip``: what a window reaching past the padding reads: ``"none"`` (a convolution: zeros, which add
    nothing, so the windows' positions matter), ``"input"`` (a max pool, or an average pool not counting the
    padding: only the input pixels in the window matter) or ``"padded"`` (an average pool counting the
    padding).  ``what`` names the layer's window in words (``"3x3 convolution"``).
    """

    span: int
    stride: int
    pad_before: int
    pad_after: int
    ceil_mode: bool = False
    clip: str = "none"
    what: str = "window"

    def out_size(self, n: int) -> Optional[int]:
        total = n + self.pad_before + self.pad_after - self.span      # torch's rounding, toward -infinity
        m = (total + (self.stride - 1 if self.ceil_mode else 0)) // self.stride + 1
        if self.ceil_mode and (m - 1) * self.stride >= n + self.pad_before:
            m -= 1
        return m if m >= 1 else None

    def _offset(self, n: int, m: int) -> int:
        """``first start + last end - (n - 1)`` of the unclipped windows: twice the shift of the output grid's
        centre from the input's."""
        return (m - 1) * self.stride - 2 * self.pad_before + self.span - 1 - (n - 1)

    def symmetric(self, n: int) -> bool:
        m = self.out_size(n)
        if m is None:
            return False
        if self.clip == "none":
            return self._offset(n, m) == 0
        # a pool: the input pixels a window reads must mirror those of its partner (and, for an average
        # counting the padding, so must the padded pixels: its divisor)
        reach = self.span // self.stride + 2               # windows at each end that a clip can change
        ends = sorted(set(range(min(m, reach))) | set(range(max(0, m - reach), m)))
        for i in ends:
            if self._read(n, i)[0] + self._read(n, m - 1 - i)[1] != n - 1:
                return False
            if self.clip == "padded" and self._divisor(n, i) != self._divisor(n, m - 1 - i):
                return False
        return m <= 2 * reach or self._offset(n, m) == 0

    def _read(self, n: int, i: int) -> Tuple[int, int]:
        """The first and last input pixel window ``i`` reads."""
        a = i * self.stride - self.pad_before
        return max(a, 0), min(a + self.span - 1, n - 1)

    def _divisor(self, n: int, i: int) -> int:
        """The pixels window ``i`` counts, padding included (an average pool's divisor)."""
        a = i * self.stride - self.pad_before
        return min(a + self.span - 1, n - 1 + self.pad_after) - max(a, -self.pad_before) + 1

    def cause(self, n: int) -> str:
        m = self.out_size(n)
        if m is None:
            return f"the {self.what} ({self.describe()}) does not fit {n} pixels"
        pb, pa, s = self.pad_before, self.pad_after, self.stride
        left = (n + pb + pa - self.span) % s
        shift = self._offset(n, m) / 2
        where = (f"the output grid's centre sits {_pixels(shift)} off the input's centre {_centre(n)}"
                 if shift else "its windows are not mirror images of each other")
        if pb != pa and left == 0:
            even = f"an even span {self.span} (its centre between pixels) padded" if self.span % 2 == 0 else "padding"
            return f"{even} asymmetrically in the {self.what} ({pb} before, {pa} after): {where}"
        if left:
            parity = "even" if n % 2 == 0 else "odd"
            return (f"{parity} size {n} meets stride {s} in the {self.what} ({self.describe()}): {n} + {pb + pa} "
                    f"padding - {self.span} span = {n + pb + pa - self.span} is not a multiple of {s}, so "
                    f"{_pixels(left)} at the far edge {'is' if left == 1 else 'are'} never read and {where}")
        if self.ceil_mode:
            return f"ceil_mode in the {self.what} ({self.describe()}) adds a clipped window at one side: {where}"
        return f"the {self.what} ({self.describe()}) samples {n} pixels asymmetrically: {where}"

    def describe(self) -> str:
        pad = f"{self.pad_before}" if self.pad_before == self.pad_after else f"{self.pad_before}/{self.pad_after}"
        return (f"span {self.span}, stride {self.stride}, padding {pad}"
                + (", ceil_mode" if self.ceil_mode else ""))


@dataclass(frozen=True)
class Transposed:
    """A transposed convolution: input pixel ``j`` spreads over ``[j s - p, j s - p + span - 1]``."""

    span: int
    stride: int
    padding: int
    output_padding: int

    def out_size(self, n: int) -> Optional[int]:
        m = (n - 1) * self.stride - 2 * self.padding + self.span + self.output_padding
        return m if m >= 1 else None

    def symmetric(self, n: int) -> bool:
        return self.out_size(n) is not None and self.output_padding == 0

    def cause(self, n: int) -> str:
        if self.out_size(n) is None:
            return f"the transposed convolution ({self.describe()}) gives no output from {n} pixels"
        return (f"output_padding {self.output_padding} in the transposed convolution adds "
                f"{_pixels(self.output_padding)} at the far edge only: the output's centre moves "
                f"{_pixels(self.output_padding / 2)} off the input's")

    def describe(self) -> str:
        return (f"span {self.span}, stride {self.stride}, padding {self.padding}, "
                f"output_padding {self.output_padding}")


@dataclass(frozen=True)
class Resample:
    """``F.interpolate`` along one axis: ``scale_factor`` or ``size`` (this axis'), ``mode``, ``align_corners``."""

    mode: str
    scale_factor: Optional[float]
    size: Optional[int]
    align_corners: Optional[bool]

    def out_size(self, n: int) -> Optional[int]:
        m = self.size if self.size is not None else math.floor(n * self.scale_factor)
        return m if m >= 1 else None

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        mode = {"bilinear": "linear", "bicubic": "cubic", "trilinear": "linear"}.get(self.mode, self.mode)
        if mode == "cubic":                       # no 1D cubic in torch: a 2D probe of width 1
            y = torch.nn.functional.interpolate(x[..., None], size=None if self.size is None else (self.size, 1),
                                                scale_factor=None if self.size is not None else
                                                (self.scale_factor, 1.0),
                                                mode="bicubic", align_corners=self.align_corners)
            return y[..., 0]
        kwargs = {} if mode in ("nearest", "nearest-exact", "area") else {"align_corners": self.align_corners}
        return torch.nn.functional.interpolate(x, size=self.size, scale_factor=self.scale_factor, mode=mode,
                                               **kwargs)

    def symmetric(self, n: int) -> bool:
        if self.out_size(n) is None:
            return False
        x = torch.randn(1, 1, n, generator=torch.Generator().manual_seed(n), dtype=torch.float64)
        try:
            y, y_mirror = self._run(x), self._run(x.flip(-1))
        except (RuntimeError, ValueError):
            return False
        return torch.allclose(y.flip(-1), y_mirror, rtol=0, atol=1e-12)

    def cause(self, n: int) -> str:
        how = f"size {self.size}" if self.size is not None else f"scale_factor {self.scale_factor:g}"
        corners = "" if self.align_corners is None else f", align_corners={self.align_corners}"
        return (f"the upsampling (mode '{self.mode}', {how}{corners}) maps {n} pixels to "
                f"{self.out_size(n)} asymmetrically about the centre: its output pixels do not read "
                f"mirrored input positions")

    def describe(self) -> str:
        how = f"size {self.size}" if self.size is not None else f"scale_factor {self.scale_factor:g}"
        return f"interpolate '{self.mode}', {how}"


@dataclass(frozen=True)
class Pad:
    """``before`` and ``after`` pixels of padding; ``mode`` ``"reflect"`` needs both below the length,
    ``"circular"`` at most the length."""

    before: int
    after: int
    mode: str = "constant"

    def out_size(self, n: int) -> Optional[int]:
        widest = max(self.before, self.after)
        if (self.mode == "reflect" and widest >= n) or (self.mode == "circular" and widest > n):
            return None
        m = n + self.before + self.after
        return m if m >= 1 else None

    def symmetric(self, n: int) -> bool:
        return self.out_size(n) is not None and self.before == self.after

    def cause(self, n: int) -> str:
        return (f"asymmetric padding ({self.before} before, {self.after} after) moves the centre by "
                f"{_pixels((self.after - self.before) / 2)}")

    def describe(self) -> str:
        return f"pad {self.before}/{self.after}"


@dataclass(frozen=True)
class Adaptive:
    """Adaptive pooling to ``output`` pixels: windows ``[floor(i n / m), ceil((i + 1) n / m))``, always mirror
    images of each other."""

    output: int

    def out_size(self, n: int) -> Optional[int]:
        return self.output

    def symmetric(self, n: int) -> bool:
        return True

    def cause(self, n: int) -> str:
        return f"adaptive pooling to {self.output} pixels"

    def describe(self) -> str:
        return f"adaptive to {self.output}"


@dataclass(frozen=True)
class FixedSize:
    """A layer that takes one size only (a mask of ``size`` pixels)."""

    size: int

    def out_size(self, n: int) -> Optional[int]:
        return n if n == self.size else None

    def symmetric(self, n: int) -> bool:
        return n == self.size

    def cause(self, n: int) -> str:
        return f"it takes {self.size} pixels only, not {n}"

    def describe(self) -> str:
        return f"size {self.size} only"


@dataclass(frozen=True)
class Collapse:
    """``Flatten``: the map's pixels become vector entries, which no motion moves back; exact only where
    there is a single pixel."""

    def out_size(self, n: int) -> Optional[int]:
        return 1

    def symmetric(self, n: int) -> bool:
        return n == 1

    def cause(self, n: int) -> str:
        return (f"flattening {n} pixels into vector entries: a motion of the grid moves the pixels, but not the "
                f"entries they became (pool to 1x1 before flattening)")

    def describe(self) -> str:
        return "flatten"


Step = Union[Window, Transposed, Resample, Pad, Adaptive, FixedSize, Collapse]


# ---- a layer ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerGeometry:
    """The steps a layer's sampling takes along the height and along the width (empty: it keeps the size,
    pixel by pixel).

    Examples
    --------
    >>> g = geometry_of(torch.nn.Conv2d(1, 1, 3, stride=2, padding=1))
    >>> g.out_size(8, 0), g.exact(8, 0), g.exact(9, 0)
    (4, False, True)
    """

    kind: str
    height: Tuple[Step, ...]
    width: Tuple[Step, ...]

    def _steps(self, axis: int) -> Tuple[Step, ...]:
        return self.height if axis == 0 else self.width

    def out_size(self, n: int, axis: int) -> Optional[int]:
        """The output length from ``n`` input pixels along ``axis`` (0: height, 1: width); None if the layer
        refuses it."""
        for step in self._steps(axis):
            if n is None:
                return None
            n = step.out_size(n)
        return n

    def exact(self, n: int, axis: int) -> bool:
        """Is the sampling of ``n`` pixels along ``axis`` symmetric about the centre (and accepted)?"""
        for step in self._steps(axis):
            if not step.symmetric(n):
                return False
            n = step.out_size(n)
        return True

    def cause(self, n: int, axis: int) -> str:
        """Why the sampling of ``n`` pixels along ``axis`` is not symmetric, in words with the numbers."""
        for step in self._steps(axis):
            if not step.symmetric(n):
                return step.cause(n)
            n = step.out_size(n)
        return "its sampling is symmetric"

    @property
    def square(self) -> bool:
        """Does the layer sample the height as it samples the width (else no quarter turn is exact)?"""
        return self.height == self.width

    def square_cause(self) -> str:
        return (f"{self.kind} samples the height ({'; '.join(s.describe() for s in self.height) or 'as is'}) "
                f"unlike the width ({'; '.join(s.describe() for s in self.width) or 'as is'}), so a quarter turn, "
                f"which swaps them, is never exact")

    def describe(self) -> str:
        if self.square:
            return "; ".join(s.describe() for s in self.height) or "keeps the size"
        return f"height: {'; '.join(s.describe() for s in self.height)}, width: " \
               f"{'; '.join(s.describe() for s in self.width)}"


# ---- modules ------------------------------------------------------------------------------------------------
def _pair_of(value: Any) -> Tuple[int, int]:
    return int_or_pair(value, "a window argument")


def _windows(kind: str, what: str, kernel: Any, stride: Any, padding: Any, dilation: Any = 1,
             ceil_mode: bool = False, clip: str = "none") -> LayerGeometry:
    kernel, stride, dilation = _pair_of(kernel), _pair_of(stride), _pair_of(dilation)
    if isinstance(padding, str):                        # a torch convolution's 'valid' or 'same'
        total = [d * (k - 1) for k, d in zip(kernel, dilation)] if padding == "same" else [0, 0]
        pads = [(t // 2, t - t // 2) for t in total]
    else:
        pads = [(p, p) for p in _pair_of(padding)]
    steps = [Window(d * (k - 1) + 1, s, pb, pa, bool(ceil_mode), clip, what)
             for k, s, d, (pb, pa) in zip(kernel, stride, dilation, pads)]
    return LayerGeometry(kind, (steps[0],), (steps[1],))


def _kernel_words(kernel: Any, noun: str) -> str:
    kh, kw = _pair_of(kernel)
    return f"{kh}x{kw} {noun}"


def _same_axes(kind: str, step_h: Step, step_w: Step) -> LayerGeometry:
    return LayerGeometry(kind, (step_h,), (step_w,))


def _resample(kind: str, mode: str, scale: Any, size: Any, align_corners: Optional[bool]) -> LayerGeometry:
    sizes = _pair_of(size) if size is not None else (None, None)
    scales = (scale, scale) if scale is None or isinstance(scale, (int, float)) else tuple(scale)
    steps = [Resample(mode, None if sz is not None else float(sc), sz, align_corners)
             for sc, sz in zip(scales, sizes)]
    return _same_axes(kind, *steps)


def _equivariant(module: torch.nn.Module, kind: str) -> Optional[LayerGeometry]:
    from .antialiased import PointwiseAvgPoolAntialiased, PointwiseMaxPoolAntialiased
    from .mask import MaskModule
    from .norm_pool import NormMaxPool
    from .pointwise import PointwiseAdaptiveAvgPool, PointwiseAdaptiveMaxPool, PointwiseAvgPool, PointwiseMaxPool
    from .r2conv import R2ConvTransposed, _R2ConvBase
    from .r2upsampling import R2Upsampling

    if isinstance(module, R2ConvTransposed):
        spans = [d * (module.kernel_size - 1) + 1 for d in module.dilation]
        return _same_axes(kind, *(Transposed(e, s, p, op) for e, s, p, op in
                                  zip(spans, module.stride, module.padding, module.output_padding)))
    if isinstance(module, _R2ConvBase):
        k = module.kernel_size
        return _windows(kind, f"{k}x{k} convolution", k, module.stride, module.padding, module.dilation)
    if isinstance(module, PointwiseMaxPoolAntialiased):
        dense = _windows(kind, _kernel_words(module.kernel_size, "max pool"), module.kernel_size, 1,
                         module.padding, module.dilation, module.ceil_mode, "input")
        n = module.filter.shape[-1]
        blur = _windows(kind, f"{n}x{n} anti-aliasing blur", n, module.stride, module._pad)
        return LayerGeometry(kind, dense.height + blur.height, dense.width + blur.width)
    if isinstance(module, PointwiseAvgPoolAntialiased):
        n = module.filter.shape[-1]
        return _windows(kind, f"{n}x{n} anti-aliasing blur", n, module.stride, module.padding)
    if isinstance(module, (PointwiseMaxPool, NormMaxPool)):
        return _windows(kind, _kernel_words(module.kernel_size, "max pool"), module.kernel_size, module.stride,
                        module.padding, module.dilation, module.ceil_mode, "input")
    if isinstance(module, PointwiseAvgPool):
        return _windows(kind, _kernel_words(module.kernel_size, "average pool"), module.kernel_size, module.stride,
                        module.padding, 1, module.ceil_mode, "padded")
    if isinstance(module, (PointwiseAdaptiveAvgPool, PointwiseAdaptiveMaxPool)):
        return _same_axes(kind, *(Adaptive(o) for o in module.output_size))
    if isinstance(module, R2Upsampling):
        return _resample(kind, module._mode, module._scale_factor, module._size, module._align_corners)
    if isinstance(module, MaskModule):
        return _same_axes(kind, FixedSize(module.S), FixedSize(module.S))
    return None


def _plain(module: torch.nn.Module, kind: str) -> Optional[LayerGeometry]:
    nn = torch.nn
    if isinstance(module, nn.Conv2d):
        return _windows(kind, _kernel_words(module.kernel_size, "convolution"), module.kernel_size, module.stride,
                        module.padding, module.dilation)
    if isinstance(module, nn.ConvTranspose2d):
        spans = [d * (k - 1) + 1 for k, d in zip(module.kernel_size, module.dilation)]
        return _same_axes(kind, *(Transposed(e, s, p, op) for e, s, p, op in
                                  zip(spans, module.stride, module.padding, module.output_padding)))
    if isinstance(module, nn.MaxPool2d):
        return _windows(kind, _kernel_words(module.kernel_size, "max pool"), module.kernel_size,
                        module.stride if module.stride is not None else module.kernel_size, module.padding,
                        module.dilation, module.ceil_mode, "input")
    if isinstance(module, nn.AvgPool2d):
        return _windows(kind, _kernel_words(module.kernel_size, "average pool"), module.kernel_size,
                        module.stride if module.stride is not None else module.kernel_size, module.padding, 1,
                        module.ceil_mode, "padded" if module.count_include_pad else "input")
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        sizes = module.output_size
        if sizes is None or (isinstance(sizes, tuple) and None in sizes):
            return None                                       # keeps that axis' size: not modelled
        return _same_axes(kind, *(Adaptive(o) for o in _pair_of(sizes)))
    if isinstance(module, nn.Upsample):
        return _resample(kind, module.mode, module.scale_factor, module.size, module.align_corners)
    if isinstance(module, (nn.ZeroPad2d, nn.ConstantPad2d, nn.ReflectionPad2d, nn.ReplicationPad2d,
                           nn.CircularPad2d)):
        left, right, top, bottom = module.padding
        mode = ("reflect" if isinstance(module, nn.ReflectionPad2d) else
                "circular" if isinstance(module, nn.CircularPad2d) else "constant")
        return _same_axes(kind, Pad(top, bottom, mode), Pad(left, right, mode))
    if isinstance(module, nn.Flatten):
        return LayerGeometry(kind, (Collapse(),), (Collapse(),)) if module.start_dim == 1 else None
    from .mask import MaskExport
    if isinstance(module, MaskExport):
        return _same_axes(kind, FixedSize(module.mask.shape[-2]), FixedSize(module.mask.shape[-1]))
    return None


def _declared(module: torch.nn.Module, kind: str) -> Optional[LayerGeometry]:
    """A module of one's own that declares ``kernel_size``, ``stride`` and ``padding`` (ints or pairs)."""
    try:
        kernel, stride, padding = (_pair_of(getattr(module, a)) for a in ("kernel_size", "stride", "padding"))
        dilation = _pair_of(getattr(module, "dilation", 1))
    except (AttributeError, TypeError, ValueError):
        return None
    if min(kernel + stride + dilation) < 1:
        return None
    return _windows(kind, _kernel_words(kernel, "window"), kernel, stride, padding, dilation)


def geometry_of(module: torch.nn.Module) -> Optional[LayerGeometry]:
    """The sampling geometry of ``module`` (None: unknown; the steps are empty for a module that keeps the
    size pixel by pixel, which the analyzer also assumes of unknown modules that keep it)."""
    from .equivariant_module import EquivariantModule

    kind = type(module).__name__
    geometry = _equivariant(module, kind) if isinstance(module, EquivariantModule) else _plain(module, kind)
    if geometry is None and not isinstance(module, EquivariantModule):
        geometry = _declared(module, kind)
    return geometry
