"""Norm non-linearities: NormNonLinearity and InducedNormNonLinearity.

Both rescale blocks of channels by a function of their Euclidean norm.  The norm of a field is invariant
under an orthogonal representation, so rescaling a whole field (``NormNonLinearity``) is equivariant for
every orthogonal representation, irreps of SO(2) and O(2) included.  An induced field is a stack of
``d``-dimensional blocks that the group permutes and transforms by the subgroup's representation, so the
norms of the blocks are permuted and rescaling each block (``InducedNormNonLinearity``) is equivariant too.

e2cnn's layout is kept so that its parameters load and give the same numbers: the blocks are processed
grouped by (field size, block size) in increasing order, and the biases are stored in that order (not
in the order of the fields).  e2cnn's index buffers (``indices_*``) and its constant ``eps`` parameter
are not stored (see ``e2layers.checkpoint``).
"""
from __future__ import annotations

from typing import Any, List, Optional, Tuple

import torch

from basisgen.errors import InvalidValueError

from ._checks import check_field_type, check_shape, check_supports, flag, one_of
from ._memory_format import keep_memory_format
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["NormNonLinearity", "InducedNormNonLinearity"]

_FUNCTIONS = ("n_relu", "n_sigmoid", "squash")
_EPS = 1e-10   # e2cnn's: norms up to this are treated as zero (the field is set to zero)


def norm_activation(x: torch.Tensor, perm: torch.Tensor, inverse: torch.Tensor, permute: bool,
                    blocks: List[Tuple[int, int, int]], log_bias: Optional[torch.Tensor], function: str,
                    eps: float = _EPS) -> torch.Tensor:
    """Rescale blocks of channels of ``x`` (shape ``(batch, channels, ...)``) by ``f(|v| - b) / |v|``.

    After reordering the channels by ``perm`` (when ``permute``), ``blocks`` lists ``(fields, field size,
    block size)`` runs of contiguous fields; every field's blocks share the bias ``exp(log_bias)`` of the
    field (``log_bias`` flattened follows the reordered fields).  ``inverse`` restores the channel order.
    """
    xs = x.index_select(1, perm) if permute else x
    rest = list(x.shape[2:])
    b = x.shape[0]
    bias = None if log_bias is None else torch.exp(log_bias).reshape(-1)
    outs: List[torch.Tensor] = []
    channel = 0
    field = 0
    for n, size, sub in blocks:
        per_field = size // sub
        v = xs.narrow(1, channel, n * size).reshape([b, n * per_field, sub] + rest)
        norms = torch.linalg.vector_norm(v, dim=2, keepdim=True)
        t = norms
        if bias is not None:
            fb = bias.narrow(0, field, n)
            if per_field > 1:
                fb = fb.repeat_interleave(per_field)
            t = norms - fb.reshape([1, n * per_field, 1] + [1] * len(rest))
        if function == "n_relu":
            new = torch.relu(t)
        elif function == "n_sigmoid":
            new = torch.sigmoid(t)
        else:
            new = t / (1.0 + t)
        m = (new / norms.clamp_min(eps)).masked_fill(norms <= eps, 0.0)
        outs.append((v * m).reshape([b, n * size] + rest))
        channel += n * size
        field += n
    y = torch.cat(outs, dim=1)
    return y.index_select(1, inverse) if permute else y


def _layout(in_type: FieldType, block_sizes: List[int]):
    """e2cnn's processing order: fields grouped by ``(size, block size)`` (sorted), in field order within
    a group.  Returns the channel permutation, its inverse and the ``(fields, size, block size)`` runs."""
    starts = [0]
    for r in in_type.representations:
        starts.append(starts[-1] + r.size)
    keys = [(r.size, d) for r, d in zip(in_type.representations, block_sizes)]
    order = sorted(range(len(keys)), key=lambda i: keys[i])   # stable: field order within a group
    perm = [c for i in order for c in range(starts[i], starts[i + 1])]
    blocks: List[Tuple[int, int, int]] = []
    for i in order:
        if blocks and (blocks[-1][1], blocks[-1][2]) == keys[i]:
            blocks[-1] = (blocks[-1][0] + 1,) + keys[i]
        else:
            blocks.append((1,) + keys[i])
    perm_t = torch.tensor(perm, dtype=torch.long)
    return perm_t, torch.argsort(perm_t), perm != list(range(len(perm))), blocks


class NormNonLinearityExport(torch.nn.Module):
    """Plain-PyTorch norm non-linearity (what :class:`NormNonLinearity` and :class:`InducedNormNonLinearity`
    export to): the same computation on a raw tensor, scriptable with ``torch.jit.script``.

    Examples
    --------
    >>> import torch
    >>> f = NormNonLinearityExport(torch.arange(3), torch.arange(3), False, [(1, 2, 2), (1, 1, 1)], None, "squash")
    >>> f(torch.tensor([[0.0, 1.0, -3.0]])).tolist()   # norms 1 and 3 become 1/2 and 3/4
    [[0.0, 0.5, -0.75]]
    """

    def __init__(self, perm: torch.Tensor, inverse: torch.Tensor, permute: bool, blocks: List[Tuple[int, int, int]],
                 log_bias: Optional[torch.Tensor], function: str):
        super().__init__()
        self.register_buffer("perm", perm.detach().clone())
        self.register_buffer("inverse", inverse.detach().clone())
        self.permute = bool(permute)
        self.blocks: List[Tuple[int, int, int]] = [tuple(int(v) for v in blk) for blk in blocks]
        self.function = function
        self.log_bias = None if log_bias is None else torch.nn.Parameter(log_bias.detach().clone(),
                                                                          requires_grad=log_bias.requires_grad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return norm_activation(x, self.perm, self.inverse, self.permute, self.blocks, self.log_bias, self.function)

    def extra_repr(self) -> str:
        return f"blocks={self.blocks}, function={self.function!r}, bias={self.log_bias is not None}"


class _NormBase(EquivariantModule):
    """What both norm non-linearities share: the function, the bias and the block layout."""

    check_atol = 1e-6

    def _setup(self, in_type: FieldType, function: str, bias: bool, block_sizes: List[int], bias_shape: Tuple):
        one_of(function, "function", _FUNCTIONS)
        bias = flag(bias, "bias")
        self.space = in_type.gspace
        self.in_type = self.out_type = in_type
        self._function = function
        perm, inverse, self._permute, self._blocks = _layout(in_type, block_sizes)
        self.register_buffer("_perm", perm, persistent=False)
        self.register_buffer("_inverse", inverse, persistent=False)
        # e2cnn initialises the biases to exp(0) = 1
        self.log_bias = torch.nn.Parameter(torch.zeros(bias_shape)) if bias else None

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        y = norm_activation(input.tensor, self._perm, self._inverse, self._permute, self._blocks, self.log_bias,
                            self._function)
        return GeometricTensor(keep_memory_format(y, input.tensor), self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        return check_shape(self, input_shape, False)

    def export(self) -> NormNonLinearityExport:
        """The equivalent :class:`NormNonLinearityExport` (parameters copied)."""
        return NormNonLinearityExport(self._perm, self._inverse, self._permute, self._blocks, self.log_bias,
                                      self._function)

    def extra_repr(self) -> str:
        return f"{self.in_type}, function={self._function!r}, bias={self.log_bias is not None}"


class NormNonLinearity(_NormBase):
    """Norm non-linearity: each field ``v`` becomes ``f(|v| - b) v / |v|`` (e2cnn's NormNonLinearity).

    ``function`` is ``'n_relu'`` (``f = relu``), ``'n_sigmoid'`` (``f = sigmoid``) or ``'squash'``
    (``f(t) = t / (1 + t)``, which takes no bias).  The bias ``b = exp(log_bias) > 0`` is learnt per
    field (``log_bias`` of shape ``(1, fields, 1, 1)``, zeros at first, ordered as in e2cnn: fields
    grouped by increasing size).  Fields with norm at most 1e-10 become zero.  Accepts fields whose
    representations support ``'norm'``: irreps (of SO(2) and O(2) too), regular, quotient and induced
    representations.  Export: :class:`NormNonLinearityExport`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> so2 = gspaces.Rot2dOnR2(-1, maximum_frequency=2)
    >>> t = nn.FieldType(so2, [so2.irrep(1), so2.irrep(2)])
    >>> relu = nn.NormNonLinearity(t)               # bias exp(0) = 1
    >>> relu(nn.GeometricTensor(torch.tensor([[3.0, 4.0, 0.6, 0.8]]), t)).tensor.tolist()
    [[2.4000000953674316, 3.200000047683716, 0.0, 0.0]]
    >>> sorted(relu.state_dict())
    ['log_bias']
    """

    def __init__(self, in_type: FieldType, function: str = 'n_relu', bias: bool = True):
        super().__init__()
        check_supports(in_type, "norm", "NormNonLinearity", "orthogonal representations: irreps, regular, "
                       "quotient and induced representations", "Build the field from these, or use "
                       "GatedNonLinearity1.")
        if function == "squash" and bias is True:
            raise InvalidValueError("bias must be False with function='squash' (the squash non-linearity has no bias), "
                             "got bias=True")
        self._setup(in_type, function, bias, [r.size for r in in_type.representations], (1, len(in_type), 1, 1))


def _induced_block_size(rho: Any) -> Optional[int]:
    """``d`` of ``rho``'s ``'induced_norm_{d}'`` tag, or ``None`` without one."""
    tags = sorted(t for t in rho.supported_nonlinearities if t.startswith("induced_norm_"))
    if len(tags) > 1:
        raise InvalidValueError(f"InducedNormNonLinearity: representation {rho.name!r} has several block sizes {tags}")
    if not tags:
        return None
    d = int(tags[0][len("induced_norm_"):])
    if d <= 0 or rho.size % d:
        raise InvalidValueError(f"InducedNormNonLinearity: representation {rho.name!r} of size {rho.size} cannot be split "
                         f"into blocks of its tag {tags[0]!r}")
    return d


class InducedNormNonLinearity(_NormBase):
    """Norm non-linearity on the blocks of induced fields (e2cnn's InducedNormNonLinearity).

    A field induced from a ``d``-dimensional subgroup representation (tagged ``'induced_norm_{d}'``:
    e.g. ``gspace.induced_repr(...)`` or ``gspace.quotient_repr(...)``, with ``d = 1``) is a stack of
    ``d``-channel blocks, one per coset; each block ``v`` becomes ``f(|v| - b) v / |v|`` with one bias
    ``b = exp(log_bias)`` per field shared by its blocks (``log_bias`` of shape ``(fields,)``, ordered by
    (field size, block size) as in e2cnn).  ``function``: ``'n_relu'``, ``'n_sigmoid'`` or ``'squash'``
    (with a bias here, as in e2cnn).  Export: :class:`NormNonLinearityExport`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(8)
    >>> induced = r2.induced_repr(4, r2.fibergroup.subgroup(4)[0].irrep(1))   # 2 blocks of 2 channels
    >>> t = nn.FieldType(r2, [induced])
    >>> relu = nn.InducedNormNonLinearity(t)
    >>> relu(nn.GeometricTensor(torch.tensor([[3.0, 4.0, 0.6, 0.8]]), t)).tensor.tolist()
    [[2.4000000953674316, 3.200000047683716, 0.0, 0.0]]
    """

    def __init__(self, in_type: FieldType, function: str = 'n_relu', bias: bool = True):
        super().__init__()
        check_field_type(in_type)
        sizes = [_induced_block_size(r) for r in in_type.representations]
        bad = sorted({r.name for r, d in zip(in_type.representations, sizes) if d is None})
        if bad:
            raise InvalidValueError(f"InducedNormNonLinearity needs induced representations (tagged 'induced_norm_<d>': "
                             f"gspace.induced_repr(...) or gspace.quotient_repr(...)); in_type {in_type!r} has "
                             f"unsupported representations {bad}. Use NormNonLinearity for other fields.")
        self._setup(in_type, function, bias, sizes, (len(in_type),))
