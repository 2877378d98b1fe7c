"""``R2Conv`` and ``R2ConvTransposed``: steerable convolutions with e2cnn's signatures and weight layout.

The weights are laid out as e2cnn's (docs/migrating.md, "The weight layout"), so an e2cnn checkpoint's
``weights``/``bias`` load unchanged; the basis comes from the persistent cache and never enters the
``state_dict`` (docs/migrating.md, "Differences on purpose").  In eval mode the expanded filter is cached in a plain attribute, recomputed whenever the
parameters' values change, however they were changed (every forward compares them with the values the
filter was expanded from), so ``state_dict()`` is the same in both modes.
"""
from __future__ import annotations

import math
from typing import Any, Callable, List, NamedTuple, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

from basisgen.errors import EmptyBasisError, InvalidTypeError, InvalidValueError
from basisgen.radial import basis_params

from . import init
from ._checks import int_or_pair, one_of, positive_int
from ._equivariance import check
from ._memory_format import keep_memory_format
from ._same_bits import same_bits
from .._derived import DerivedTensors
from ..expansion import BasisExpansion, _autocast_enabled
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["R2Conv", "R2ConvTransposed"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _check_types(in_type: Any, out_type: Any, layer: str) -> None:
    for name, t in (("in_type", in_type), ("out_type", out_type)):
        if not isinstance(t, FieldType):
            raise InvalidTypeError(f"{layer}: {name} must be a FieldType, got {type(t).__name__}")
    if in_type.gspace != out_type.gspace:
        raise InvalidValueError(f"{layer}: in_type and out_type must share one gspace, got {in_type.gspace.name} and "
                         f"{out_type.gspace.name}")
    if getattr(in_type.gspace, "dimensionality", None) != 2:
        raise InvalidValueError(f"{layer}: the gspace must act on R^2, got {in_type.gspace.name}")


def _first_group(t: FieldType, groups: int, name: str) -> FieldType:
    """The first of ``groups`` identical blocks of ``t``, from which e2cnn builds the basis."""
    if groups == 1:
        return t
    if len(t) % groups:
        raise InvalidValueError(f"groups={groups} must divide the number of fields of {name} ({len(t)})")
    n = len(t) // groups
    if any(t.representations[i] != t.representations[i % n] for i in range(len(t))):
        raise InvalidValueError(f"with groups={groups}, {name} must repeat the same {n} fields {groups} times, got {t!r}")
    return t.index_select(list(range(n)))


def set_up_bias(module: Any, out_type: FieldType, bias: bool) -> None:
    """``module.bias``, one parameter per trivial irrep of ``out_type`` (or None without bias or trivial irreps),
    and the derived ``bias_expansion`` onto the channels: derived data, outside the state_dict (not a buffer:
    DistributedDataParallel would broadcast it before every forward)."""
    trivials = _bias_expansion(out_type)
    if bias and trivials.shape[1] > 0:
        module.bias = torch.nn.Parameter(torch.zeros(trivials.shape[1]))
        module.register_derived("bias_expansion", torch.as_tensor(trivials, dtype=torch.get_default_dtype()),
                                exact=trivials)
    else:
        module.register_parameter("bias", None)
        module.register_derived("bias_expansion", None)


def _bias_expansion(out_type: FieldType) -> np.ndarray:
    """(out.size, trivials): each field's change-of-basis columns at its trivial irreps.

    The bias lives on the trivial irreps only: docs/migrating.md, "The weight layout".  The columns are
    taken once per distinct representation object (a layer may have thousands of fields of a few kinds).
    """
    columns = {}
    for rho in out_type.representations:
        if id(rho) not in columns:
            irreps = rho.basisgen.irreps
            positions = np.cumsum([0] + [psi.dim for psi in irreps])[:-1]
            trivial = [p for p, psi in zip(positions, irreps) if psi.is_trivial()]
            columns[id(rho)] = np.asarray(rho.change_of_basis, dtype=np.float64)[:, trivial]
    out = np.zeros((out_type.size, sum(columns[id(rho)].shape[1] for rho in out_type.representations)))
    row = col = 0
    for rho in out_type.representations:
        block = columns[id(rho)]
        out[row:row + rho.size, col:col + block.shape[1]] = block
        row, col = row + rho.size, col + block.shape[1]
    return out


class _EvalCache(NamedTuple):
    """The eval-mode filter and bias, with the parameter values they were expanded from."""
    weights: torch.Tensor
    bias: Optional[torch.Tensor]
    inference: bool             # expanded in inference mode (inference tensors cannot serve outside it)
    filter: torch.Tensor
    expanded_bias: Optional[torch.Tensor]


def _compiling() -> bool:
    """Whether torch.compile/torch.export is tracing (the traced graph expands the filter itself)."""
    compiler = getattr(torch, "compiler", None)
    return bool(compiler is not None and hasattr(compiler, "is_compiling") and compiler.is_compiling())


class _R2ConvBase(DerivedTensors, EquivariantModule):
    """What R2Conv and R2ConvTransposed share: the basis, parameters, bias expansion and filter cache."""

    _transposed = False
    _basis_noun = "kernel"

    def _batch_and_spatial(self, input_shape: Tuple[int, ...]) -> Tuple[int, List[int]]:
        if len(input_shape) != 4 or input_shape[1] != self.in_type.size:
            raise InvalidValueError(f"input_shape must be (batch, {self.in_type.size}, H, W), got {tuple(input_shape)}")
        return input_shape[0], list(input_shape[2:])

    def __init__(self, in_type: FieldType, out_type: FieldType, kernel_size: int, padding, stride, dilation,
                 groups: int, bias: bool, basisexpansion: str, params_for: Callable[[int, Optional[float]], Any],
                 recompute: bool, initialize: bool):
        super().__init__()
        layer = type(self).__name__
        _check_types(in_type, out_type, layer)
        kernel_size, groups = positive_int(kernel_size, "kernel_size"), positive_int(groups, "groups")
        if basisexpansion != "blocks":
            raise InvalidValueError(f"basisexpansion must be 'blocks', got {basisexpansion!r}")
        self.in_type, self.out_type = in_type, out_type
        self.space = in_type.gspace
        self.kernel_size = int(kernel_size)
        self.padding = int_or_pair(padding, "padding", 0)
        self.stride = int_or_pair(stride, "stride", 1)
        self.dilation = int_or_pair(dilation, "dilation", 1)
        if self.dilation[0] != self.dilation[1]:
            raise InvalidValueError(f"dilation must be the same along both axes for a steerable filter, got {dilation!r}")
        self.groups = int(groups)
        first_in = _first_group(in_type, self.groups, "in_type")
        first_out = _first_group(out_type, self.groups, "out_type")
        # R2Conv: the first input group to the whole output; transposed: the whole input to the first output group
        self._basis_in, self._basis_out = (in_type, first_out) if self._transposed else (first_in, out_type)
        # every basis setting, validated once, in one immutable object passed down to the cache and the sampler
        # (``params_for(dilation, reflection axis)``: the layer's family of bases, kernels or PDOs)
        self._basis_params = params_for(self.dilation[0], self.space.kernel_axis)
        self.recompute = recompute     # accepted for e2cnn compatibility: bases come from the cache
        basis_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
        self._basisexpansion = self._build_expansion(basis_dtype)

        # e2cnn registers bias before weights: keep its parameter order (optimizer states index by it)
        set_up_bias(self, out_type, bias)
        self.weights = torch.nn.Parameter(torch.zeros(self._basisexpansion.dimension()))
        self._eval_cache = None
        if initialize:
            self.reset_parameters()

    # ---- basis ----------------------------------------------------------------------------------------
    def _build_expansion(self, dtype: torch.dtype) -> BasisExpansion:
        try:
            return BasisExpansion([r.basisgen for r in self._basis_in.representations],
                                  [r.basisgen for r in self._basis_out.representations], self._basis_params,
                                  dtype=dtype)
        except EmptyBasisError as err:
            raise InvalidValueError(f"The basis for the steerable filter is empty! No equivariant {self._basis_noun} "
                                    f"maps {self.in_type!r} to {self.out_type!r} with kernel_size={self.kernel_size} "
                                    f"({err})") from err

    @property
    def basisexpansion(self) -> BasisExpansion:
        """The weights -> filter expansion."""
        return self._basisexpansion

    def _apply(self, fn, *args, **kwargs):
        # the basis and bias_expansion follow as derived tensors (re-derived exactly when the dtype changes);
        # the eval-mode filter is expanded again from the moved parameters
        self._eval_cache = None
        return super()._apply(fn, *args, **kwargs)

    def reset_parameters(self) -> None:
        """Generalized He initialisation of the weights, zero bias (as e2cnn)."""
        init.generalized_he_init(self.weights.data, self._basisexpansion)
        if self.bias is not None:
            self.bias.data.zero_()

    # ---- filter ---------------------------------------------------------------------------------------
    def expand_parameters(self) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """The filter (c_out, c_in / groups, k, k) and the bias (c_out,) or None."""
        return self._basisexpansion(self.weights), self._expanded_bias()

    def _expanded_bias(self) -> Optional[torch.Tensor]:
        return None if self.bias is None else self.bias_expansion.to(self.bias.dtype) @ self.bias

    def _expands_every_call(self) -> bool:
        """Training or autograd on the parameters: the filter is expanded from the weights on each call;
        otherwise (eval without autograd) the expanded filter is cached, except while tracing."""
        return self.training or (torch.is_grad_enabled() and any(p.requires_grad for p in self.parameters()))

    def _filter_and_bias(self) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        if self._expands_every_call() or _compiling():
            return self.expand_parameters()
        # eval mode without autograd: the filter is expanded once per value of the parameters
        return self._cached_filter_and_bias()

    def _cached_filter_and_bias(self) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        # The cache is keyed on the parameters' values, compared bit for bit on every call: a version
        # counter misses `p.data.mul_()` (an EMA update), `p.data = t` and tensors swapped in by
        # parametrizations or torch.func.functional_call.  The comparison reads the weights and their copy
        # (C8 16 -> 16 k=5: 4 to 30 us, under 1% of a batch-1 forward; benchmarks/bench_eval_check.py).
        weights, bias = self.weights.detach(), None if self.bias is None else self.bias.detach()
        inference = torch.is_inference_mode_enabled()
        cache = self._eval_cache
        if cache is None or cache.inference != inference or not same_bits(weights, cache.weights) \
                or not same_bits(bias, cache.bias):
            with torch.no_grad():
                filt, expanded_bias = self.expand_parameters()
                cache = self._eval_cache = _EvalCache(weights.clone(), None if bias is None else bias.clone(),
                                                      inference, filt, expanded_bias)
        return cache.filter, cache.expanded_bias

    def _eval_attribute(self, name: str) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        if self.training:
            # e2cnn deletes these attributes in train(); an AttributeError here makes hasattr() False alike
            raise AttributeError(f"{type(self).__name__}.{name} exists in eval mode only")
        return self._cached_filter_and_bias()

    @property
    def filter(self) -> torch.Tensor:
        """Eval mode only: the expanded filter, as e2cnn keeps it (``(c_out, c_in / groups, k, k)``; for the
        transposed convolution e2cnn's ``(c_in, c_out / groups, k, k)``).

        It is the filter the eval-mode forward uses (one tensor, re-expanded whenever the parameters change),
        computed without autograd, and never in the ``state_dict``; in training mode the attribute does not
        exist, as in e2cnn after ``train()``.
        """
        filt = self._eval_attribute("filter")[0]
        return filt.transpose(0, 1) if self._transposed else filt

    @property
    def expanded_bias(self) -> Optional[torch.Tensor]:
        """Eval mode only: the expanded bias ``(c_out,)``, or None without a bias (see :attr:`filter`)."""
        return self._eval_attribute("expanded_bias")[1]

    def train(self, mode: bool = True):
        self._eval_cache = None
        return super().train(mode)

    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        state["_eval_cache"] = None
        return state

    # ---- export and testing -----------------------------------------------------------------------------
    def _copy_into(self, conv: torch.nn.Module, transpose: bool) -> torch.nn.Module:
        with torch.no_grad():
            filt, bias = self.expand_parameters()
            conv.weight.copy_(filt.transpose(0, 1) if transpose else filt)
            if bias is not None:
                conv.bias.copy_(bias)
        return conv

    def check_equivariance(self, atol: float = 0.1, rtol: float = 0.1, assertion: bool = True,
                           verbose: bool = True) -> List[Tuple[Any, float]]:
        """Random input, grid-exact elements; ``(element, mean absolute error)`` pairs as in e2cnn."""
        return check(self, atol, rtol, assertion=assertion, verbose=verbose)

    def extra_repr(self) -> str:
        s = (f"{self.in_type}, {self.out_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
             f"padding={self.padding}, dilation={self.dilation}")
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class R2Conv(_R2ConvBase):
    """A G-steerable convolution mapping fields of ``in_type`` to fields of ``out_type`` (e2cnn's R2Conv).

    The filter is a learnt combination of the equivariant kernel basis (``weights``, in e2cnn's
    layout); a bias is learnt for each trivial irrep of the output fields.  ``padding``,
    ``stride`` and ``dilation`` may be ints or pairs; ``padding_mode`` is one of ``'zeros'``,
    ``'reflect'``, ``'replicate'``, ``'circular'``.  ``recompute`` is accepted and ignored (bases come
    from the cache).  In eval mode, without autograd, the filter is expanded once and reused until the
    parameters' values change.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(N=8)
    >>> conv = nn.R2Conv(nn.FieldType(r2, 3 * [r2.trivial_repr]), nn.FieldType(r2, 10 * [r2.regular_repr]), 5)
    >>> x = nn.GeometricTensor(torch.randn(2, 3, 32, 32), conv.in_type)
    >>> conv(x).shape, conv.weights.shape, sorted(conv.state_dict())
    (torch.Size([2, 80, 28, 28]), torch.Size([330]), ['bias', 'weights'])
    """

    def __init__(self, in_type: FieldType, out_type: FieldType, kernel_size: int, padding: int = 0, stride: int = 1,
                 dilation: int = 1, padding_mode: str = 'zeros', groups: int = 1, bias: bool = True,
                 basisexpansion: str = 'blocks', sigma: Union[List[float], float] = None,
                 frequencies_cutoff: Union[float, Callable[[float], int]] = None, rings: List[float] = None,
                 maximum_offset: int = None, recompute: bool = False, basis_filter: Callable[[dict], bool] = None,
                 initialize: bool = True):
        one_of(padding_mode, "padding_mode", _PADDING_MODES)

        def params_for(dilation: int, axis: Optional[float]):
            return basis_params(kernel_size, dilation, rings, sigma, frequencies_cutoff, maximum_offset, basis_filter,
                                axis)
        super().__init__(in_type, out_type, kernel_size, padding, stride, dilation, groups, bias, basisexpansion,
                         params_for, recompute, initialize)
        self._set_padding_mode(padding_mode)

    def _set_padding_mode(self, padding_mode: str) -> None:
        self.padding_mode = padding_mode
        ph, pw = self.padding
        self._reversed_padding_repeated_twice = (pw, pw, ph, ph)

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        x, padding = input.tensor, self.padding
        if self.padding_mode != "zeros":
            x, padding = F.pad(x, self._reversed_padding_repeated_twice, self.padding_mode), 0
        if self._output_basis_pays(x, padding):
            return GeometricTensor(self._conv_in_output_basis(x, padding), self.out_type)
        filt, bias = self._filter_and_bias()
        y = F.conv2d(x, filt, bias, self.stride, padding, self.dilation, self.groups)
        # F.pad of a channels-last input (padding_mode other than zeros) returns a contiguous tensor
        return GeometricTensor(keep_memory_format(y, input.tensor), self.out_type)

    def _output_basis_pays(self, x: torch.Tensor, padding) -> bool:
        """Whether to convolve in the output irreps' basis and change the basis of the output
        (:meth:`BasisExpansion.output_basis_pays` decides by cost): only where the filter is expanded anyway
        (training, or autograd on), for a plain contiguous 4-D input without groups or autocast."""
        if self.groups != 1 or x.dim() != 4 or not x.is_contiguous() or _autocast_enabled(x.device.type):
            return False
        if not self._expands_every_call():
            return False      # eval without autograd: the cached filter is a plain convolution
        span = self.dilation[0] * (self.kernel_size - 1) + 1
        pad = (padding, padding) if isinstance(padding, int) else padding
        h, w = [(n + 2 * p - span) // s + 1 for n, p, s in zip(x.shape[2:], pad, self.stride)]
        return self._basisexpansion.output_basis_pays(x.shape[0] * h * w)

    def _conv_in_output_basis(self, x: torch.Tensor, padding) -> torch.Tensor:
        filt, q = self._basisexpansion.rows_filter(self.weights)
        y = F.conv2d(x, filt, None, self.stride, padding, self.dilation)        # channels (irreps row, field)
        y = self._basisexpansion.rows_to_channels(y, q)                           # channels (field, x)
        if self.bias is not None:
            y.add_(self._expanded_bias().view(1, -1, 1, 1))
        return y

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        b, hw = self._batch_and_spatial(input_shape)
        k = self.kernel_size
        out = [math.floor((n + 2 * p - d * (k - 1) - 1) / s + 1)
               for n, p, d, s in zip(hw, self.padding, self.dilation, self.stride)]
        return (b, self.out_type.size, *out)

    def _test_input_size(self) -> int:
        # a size whose output grid is centred, so rotations by 90 degrees map it onto itself
        span = self.dilation[0] * (self.kernel_size - 1) + 1
        low = max(10, span - 2 * min(self.padding) + 3 * max(self.stride))
        for size in range(low, low + 4 * max(self.stride) ** 2 + 1):
            if all((size + 2 * p - span) % s == 0 for p, s in zip(self.padding, self.stride)):
                return size
        return low

    def export(self) -> torch.nn.Conv2d:
        """A ``torch.nn.Conv2d`` with the expanded filter and bias (same padding mode)."""
        conv = torch.nn.Conv2d(self.in_type.size, self.out_type.size, self.kernel_size, stride=self.stride,
                               padding=self.padding, dilation=self.dilation, groups=self.groups,
                               bias=self.bias is not None, padding_mode=self.padding_mode,
                               device=self.weights.device, dtype=self.weights.dtype)
        return self._copy_into(conv, transpose=False)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", padding_mode={self.padding_mode}" if self.padding_mode != "zeros" else "")


class R2ConvTransposed(_R2ConvBase):
    """The transposed steerable convolution (e2cnn's R2ConvTransposed): same basis, ``conv_transpose2d``.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(N=4)
    >>> t = nn.FieldType(r2, 2 * [r2.regular_repr])
    >>> up = nn.R2ConvTransposed(t, t, 4, stride=2, padding=1)
    >>> up(nn.GeometricTensor(torch.randn(1, 8, 8, 8), t)).shape, up.evaluate_output_shape((1, 8, 8, 8))
    (torch.Size([1, 8, 16, 16]), (1, 8, 16, 16))
    """

    _transposed = True

    def __init__(self, in_type: FieldType, out_type: FieldType, kernel_size: int, padding: int = 0,
                 output_padding: int = 0, stride: int = 1, dilation: int = 1, groups: int = 1, bias: bool = True,
                 basisexpansion: str = 'blocks', sigma: Union[List[float], float] = None,
                 frequencies_cutoff: Union[float, Callable[[float], int]] = None, rings: List[float] = None,
                 maximum_offset: int = None, recompute: bool = False, basis_filter: Callable[[dict], bool] = None,
                 initialize: bool = True):
        def params_for(dilation: int, axis: Optional[float]):
            return basis_params(kernel_size, dilation, rings, sigma, frequencies_cutoff, maximum_offset, basis_filter,
                                axis)
        super().__init__(in_type, out_type, kernel_size, padding, stride, dilation, groups, bias, basisexpansion,
                         params_for, recompute, initialize)
        self.output_padding = int_or_pair(output_padding, "output_padding", 0)

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        filt, bias = self._filter_and_bias()
        out = F.conv_transpose2d(input.tensor, filt.transpose(0, 1), bias, self.stride, self.padding,
                                 self.output_padding, self.groups, self.dilation)
        return GeometricTensor(out, self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        b, hw = self._batch_and_spatial(input_shape)
        k = self.kernel_size
        out = [(n - 1) * s - 2 * p + d * (k - 1) + op + 1
               for n, p, d, s, op in zip(hw, self.padding, self.dilation, self.stride, self.output_padding)]
        return (b, self.out_type.size, *out)

    def _test_input_size(self) -> int:
        return 7

    def export(self) -> torch.nn.ConvTranspose2d:
        """A ``torch.nn.ConvTranspose2d`` with the expanded filter and bias."""
        conv = torch.nn.ConvTranspose2d(self.in_type.size, self.out_type.size, self.kernel_size, stride=self.stride,
                                        padding=self.padding, output_padding=self.output_padding,
                                        groups=self.groups, bias=self.bias is not None, dilation=self.dilation,
                                        device=self.weights.device, dtype=self.weights.dtype)
        return self._copy_into(conv, transpose=True)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", output_padding={self.output_padding}" if any(self.output_padding) else "")
