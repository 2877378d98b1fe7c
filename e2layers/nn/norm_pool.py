"""Pools on the norms of fields: NormMaxPool, NormPool and InducedNormPool.

Rotations and reflections act on each field by an orthogonal matrix, so the norm of a field is invariant.
``NormPool`` maps every field to its norm (a trivial field); ``InducedNormPool`` maps a field of an induced
representation to the largest norm of its sub-fields (the induced representation permutes the sub-fields
and acts on each by an orthogonal matrix); ``NormMaxPool`` pools spatially, keeping in each window the
field vector of the largest norm.  Any representation qualifies for the first and the last.

The exported modules (:class:`FieldNormMaxPool2d`, :class:`FieldReduce`) are plain ``torch.nn.Module``
that run under ``torch.jit.script``; the equivariant modules call the same functions, so an export gives
identical outputs.  Fields are processed in blocks of equal size: the channels are regrouped once by a
permutation (skipped when fields of each size are already adjacent).
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F

from basisgen.errors import InvalidValueError

from ._checks import IntOrPair, check_field_type, check_shape, one_of
from ._memory_format import keep_memory_format
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor
from .pointwise import _WindowPool

__all__ = ["NormMaxPool", "NormPool", "InducedNormPool"]


# ---- the layout of fields in blocks of equal size -------------------------------------------------------
def _register_layout(module: torch.nn.Module, field_sizes: Sequence[int], subfield_sizes: Sequence[int]) -> None:
    """Group the fields by ``(size, sub-field size)``, in order of first appearance, and set on ``module``:
    ``_counts``/``_sizes``/``_subsizes`` (per group), ``_permuted``, and the non-persistent index buffers
    ``channel_perm`` (grouped channel -> input channel), ``channel_inv`` and ``field_inv`` (original
    channel/field -> grouped position)."""
    field_sizes = [int(s) for s in field_sizes]
    subfield_sizes = [int(d) for d in subfield_sizes]
    if not field_sizes or any(s < 1 for s in field_sizes):
        raise InvalidValueError(f"field_sizes must be a non-empty list of positive ints, got {field_sizes!r}")
    if len(subfield_sizes) != len(field_sizes) or any(d < 1 or s % d for s, d in zip(field_sizes, subfield_sizes)):
        raise InvalidValueError(f"subfield_sizes must divide field_sizes one by one, got {subfield_sizes!r} for field sizes "
                         f"{field_sizes!r}")
    keys = list(zip(field_sizes, subfield_sizes))
    groups: Dict[Tuple[int, int], List[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    order = [i for members in groups.values() for i in members]
    starts = [0]
    for s in field_sizes:
        starts.append(starts[-1] + s)
    channel_perm = [c for i in order for c in range(starts[i], starts[i + 1])]
    module._counts = [len(members) for members in groups.values()]
    module._sizes = [key[0] for key in groups]
    module._subsizes = [key[1] for key in groups]
    module._permuted = channel_perm != list(range(len(channel_perm)))
    perm = torch.tensor(channel_perm, dtype=torch.long)
    module.register_buffer("channel_perm", perm, persistent=False)
    module.register_buffer("channel_inv", torch.argsort(perm), persistent=False)
    module.register_buffer("field_inv", torch.argsort(torch.tensor(order, dtype=torch.long)), persistent=False)


def _reduce_fields(x: torch.Tensor, channel_perm: torch.Tensor, field_inv: torch.Tensor, permuted: bool,
                   counts: List[int], sizes: List[int], subsizes: List[int], norm: bool) -> torch.Tensor:
    """One channel per field: the largest norm of its sub-fields (``norm``) or its largest entry."""
    if permuted:
        x = x.index_select(1, channel_perm)
    rest: List[int] = list(x.shape[2:])
    outputs: List[torch.Tensor] = []
    start = 0
    for i in range(len(counts)):
        n, s, d = counts[i], sizes[i], subsizes[i]
        block = x[:, start:start + n * s].reshape([x.shape[0], n, s // d, d] + rest)
        if norm:
            outputs.append(torch.linalg.vector_norm(block, 2.0, dim=[3]).max(dim=2)[0])
        else:
            outputs.append(block.flatten(2, 3).max(dim=2)[0])
        start += n * s
    y = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=1)
    return y.index_select(1, field_inv) if permuted else y


def _norm_max_pool(x: torch.Tensor, channel_perm: torch.Tensor, channel_inv: torch.Tensor, permuted: bool,
                   counts: List[int], sizes: List[int], kernel_size: List[int], stride: List[int], padding: List[int],
                   dilation: List[int], ceil_mode: bool) -> torch.Tensor:
    """Per field and window, the field vector of the largest norm."""
    if permuted:
        x = x.index_select(1, channel_perm)
    b, h, w = x.shape[0], x.shape[2], x.shape[3]
    outputs: List[torch.Tensor] = []
    start = 0
    for i in range(len(counts)):
        n, s = counts[i], sizes[i]
        block = x[:, start:start + n * s].reshape(b, n, s, h * w)
        norms = (block ** 2).sum(dim=2).sqrt().reshape(b, n, h, w)
        index = F.max_pool2d_with_indices(norms, kernel_size, stride, padding, dilation, ceil_mode)[1]
        ho, wo = index.shape[2], index.shape[3]
        index = index.reshape(b, n, 1, ho * wo).expand(b, n, s, ho * wo)
        outputs.append(block.gather(3, index).reshape(b, n * s, ho, wo))
        start += n * s
    y = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=1)
    return y.index_select(1, channel_inv) if permuted else y


# ---- exported (plain) modules ---------------------------------------------------------------------------
class FieldReduce(torch.nn.Module):
    """Maps each field (a block of ``field_sizes[i]`` channels) to one channel: its norm (``'norm'``) or its
    largest entry (``'max'``).  With ``subfield_sizes``, a field is cut into sub-fields of that size and
    ``'norm'`` gives the largest sub-field norm.  The export of NormPool, InducedNormPool and GroupPooling.

    Examples
    --------
    >>> import torch
    >>> pool = FieldReduce([2, 1], 'norm')
    >>> pool(torch.tensor([[3.0, 4.0, -2.0]]))
    tensor([[5., 2.]])
    """

    def __init__(self, field_sizes: Sequence[int], reduction: str, subfield_sizes: Sequence[int] = None):
        super().__init__()
        self.reduction = one_of(reduction, "reduction", ("norm", "max"))
        self.norm = reduction == "norm"
        _register_layout(self, field_sizes, field_sizes if subfield_sizes is None else subfield_sizes)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return _reduce_fields(input, self.channel_perm, self.field_inv, self._permuted, self._counts, self._sizes,
                              self._subsizes, self.norm)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, fields={sum(self._counts)}"


class FieldNormMaxPool2d(torch.nn.Module):
    """Per field and window, the field vector (a block of ``field_sizes[i]`` channels) of the largest norm;
    the other arguments are ``torch.nn.MaxPool2d``'s.  The export of NormMaxPool.

    Examples
    --------
    >>> import torch
    >>> pool = FieldNormMaxPool2d([2], kernel_size=(1, 2))
    >>> pool(torch.tensor([[[[3.0, 1.0]], [[0.0, -4.0]]]])).flatten().tolist()
    [1.0, -4.0]
    """

    def __init__(self, field_sizes: Sequence[int], kernel_size: IntOrPair, stride: IntOrPair = None,
                 padding: IntOrPair = 0, dilation: IntOrPair = 1, ceil_mode: bool = False):
        super().__init__()
        _WindowPool._init_window(self, kernel_size, stride, padding, dilation, ceil_mode)
        _register_layout(self, field_sizes, field_sizes)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return _norm_max_pool(input, self.channel_perm, self.channel_inv, self._permuted, self._counts, self._sizes,
                              list(self.kernel_size), list(self.stride), list(self.padding), list(self.dilation),
                              self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"fields={sum(self._counts)}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}")


# ---- equivariant modules --------------------------------------------------------------------------------
class NormMaxPool(_WindowPool):
    """Max pooling by norm: in each window, every field keeps its vector of the largest norm (any
    representation; ``torch.nn.MaxPool2d``'s arguments, ``stride`` defaults to ``kernel_size``).

    Equivariant under the elements that map the pooling windows onto each other (e.g. 2x2 windows with
    stride 2 on an even grid, under rotations by 90 degrees and flips).  Exports to
    :class:`FieldNormMaxPool2d`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(8)
    >>> t = nn.FieldType(r2, [r2.irrep(1), r2.trivial_repr])
    >>> pool = nn.NormMaxPool(t, 2)
    >>> pool(nn.GeometricTensor(torch.randn(1, 3, 8, 8), t)).shape
    torch.Size([1, 3, 4, 4])
    >>> pool.evaluate_output_shape((1, 3, 9, 9))
    (1, 3, 4, 4)
    """

    def __init__(self, in_type: FieldType, kernel_size: IntOrPair, stride: IntOrPair = None,
                 padding: IntOrPair = 0, dilation: IntOrPair = 1, ceil_mode: bool = False):
        # the window handling of the point-wise pools, without their 'pointwise' requirement
        EquivariantModule.__init__(self)
        self.in_type = self.out_type = check_field_type(in_type)
        self.space = in_type.gspace
        self._init_window(kernel_size, stride, padding, dilation, ceil_mode)
        sizes = [r.size for r in in_type.representations]
        _register_layout(self, sizes, sizes)

    def _pointwise(self, x: torch.Tensor) -> torch.Tensor:
        return _norm_max_pool(x, self.channel_perm, self.channel_inv, self._permuted, self._counts, self._sizes,
                              list(self.kernel_size), list(self.stride), list(self.padding), list(self.dilation),
                              self.ceil_mode)

    def _test_input_size(self) -> int:
        # windows tile the grid symmetrically when the last one ends exactly at the far border
        k, s, p, d = self.kernel_size[0], self.stride[0], self.padding[0], self.dilation[0]
        span, minimum = d * (k - 1) + 1 - 2 * p, 3 * s + d * (k - 1)
        return minimum + (span - minimum) % s

    def export(self) -> FieldNormMaxPool2d:
        """The equivalent plain :class:`FieldNormMaxPool2d`."""
        return FieldNormMaxPool2d([r.size for r in self.in_type.representations], self.kernel_size, self.stride,
                                  self.padding, self.dilation, self.ceil_mode).to(self.channel_perm.device)


class _FieldReduction(EquivariantModule):
    """An invariant map sending every field to one trivial field (shared by NormPool, InducedNormPool and
    GroupPooling)."""

    check_atol = 1e-6

    _reduction = "norm"

    def __init__(self, in_type: FieldType, subfield_sizes: Sequence[int]):
        super().__init__()
        self.space = in_type.gspace
        self.in_type = in_type
        self.out_type = FieldType(self.space, [self.space.trivial_repr] * len(in_type))
        self._subfield_sizes = list(subfield_sizes)
        _register_layout(self, [r.size for r in in_type.representations], subfield_sizes)

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        y = _reduce_fields(input.tensor, self.channel_perm, self.field_inv, self._permuted, self._counts, self._sizes,
                           self._subsizes, self._reduction == "norm")
        return GeometricTensor(keep_memory_format(y, input.tensor), self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        shape = check_shape(self, input_shape, False)
        return (shape[0], self.out_type.size) + shape[2:]

    def export(self) -> torch.nn.Module:
        """The equivalent plain :class:`FieldReduce`."""
        return FieldReduce([r.size for r in self.in_type.representations], self._reduction,
                           self._subfield_sizes).to(self.channel_perm.device)

    def extra_repr(self) -> str:
        return f"{self.in_type}"


class NormPool(_FieldReduction):
    """The norm of every field, a trivial field (any representation: e.g. irreps of SO(2) and O(2)).

    Exports to :class:`FieldReduce`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(-1, maximum_frequency=3)
    >>> t = nn.FieldType(r2, [r2.irrep(1), r2.irrep(2)])
    >>> pool = nn.NormPool(t)
    >>> x = nn.GeometricTensor(torch.tensor([3.0, 4.0, 0.0, -1.0]).reshape(1, 4, 1, 1), t)
    >>> pool(x).tensor.flatten().tolist(), pool.out_type
    ([5.0, 1.0], [Continuous-Rotations: {irrep_0, irrep_0}])
    """

    def __init__(self, in_type: FieldType, **kwargs):
        check_field_type(in_type)
        super().__init__(in_type, [r.size for r in in_type.representations])


def _induced_subfield_size(rho) -> int:
    """``d`` of the representation's ``'induced_norm_{d}'`` tag, or 0 without one."""
    sizes = {int(tag.rsplit("_", 1)[1]) for tag in rho.supported_nonlinearities if tag.startswith("induced_norm_")}
    if len(sizes) > 1:
        raise InvalidValueError(f"InducedNormPool: representation {rho.name!r} is tagged with several sub-field sizes "
                         f"{sorted(sizes)}")
    return sizes.pop() if sizes else 0


class InducedNormPool(_FieldReduction):
    """The largest norm of the sub-fields of every field, a trivial field.

    Fields must be of representations induced from a subgroup representation supporting norm
    non-linearities (tagged ``'induced_norm_{d}'``, e.g. ``G.induced_representation(id, H.irrep(1))``): the
    induced representation permutes the sub-fields of size ``d`` and acts on each by an orthogonal matrix.
    Exports to :class:`FieldReduce`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(8)
    >>> G = r2.fibergroup
    >>> rho = G.induced_representation(4, G.subgroup(4)[0].irrep(1))   # 2 sub-fields of size 2
    >>> t = nn.FieldType(r2, [rho])
    >>> x = nn.GeometricTensor(torch.tensor([3.0, 4.0, 0.0, 6.0]).reshape(1, 4, 1, 1), t)
    >>> nn.InducedNormPool(t)(x).tensor.flatten().tolist()
    [6.0]
    """

    def __init__(self, in_type: FieldType, **kwargs):
        check_field_type(in_type)
        subsizes = [_induced_subfield_size(r) for r in in_type.representations]
        bad = sorted({r.name for r, d in zip(in_type.representations, subsizes) if d == 0})
        if bad:
            raise InvalidValueError(f"InducedNormPool needs representations supporting 'induced_norm_{{d}}' (induced from a "
                             f"subgroup representation supporting norm non-linearities); in_type {in_type!r} has "
                             f"unsupported representations {bad}. Use NormPool for other fields (any representation) "
                             f"or GroupPooling for regular and quotient fields.")
        super().__init__(in_type, subsizes)
