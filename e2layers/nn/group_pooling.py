"""Invariant pooling over the group: GroupPooling and MaxPoolChannels.

A permutation representation (trivial, regular, quotient: the fields tagged ``'pointwise'``) acts on a
field by permuting its channels, so the largest channel of a field is invariant.
"""
from __future__ import annotations

import torch

from basisgen.errors import InvalidValueError

from ._checks import check_supports, positive_int
from .field_type import FieldType
from .norm_pool import FieldReduce, _FieldReduction

__all__ = ["GroupPooling", "MaxPoolChannels"]


class MaxPoolChannels(torch.nn.Module):
    """The largest activation in each group of ``kernel_size`` consecutive channels (a plain
    ``torch.nn.Module``; the export of :class:`GroupPooling` for fields of equal size).

    Examples
    --------
    >>> import torch
    >>> from e2layers import nn
    >>> pool = nn.MaxPoolChannels(2)
    >>> pool(torch.tensor([[1.0, 3.0, -1.0, -2.0]]))
    tensor([[ 3., -1.]])
    """

    def __init__(self, kernel_size: int):
        super().__init__()
        self.kernel_size = positive_int(kernel_size, "kernel_size")

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if input.dim() < 2 or input.shape[1] % self.kernel_size != 0:
            raise InvalidValueError("MaxPoolChannels: the number of channels (dimension 1 of the input) must be divisible "
                             "by kernel_size " + str(self.kernel_size) + ", got input shape " + str(input.shape))
        shape = [input.shape[0], input.shape[1] // self.kernel_size, self.kernel_size] + list(input.shape[2:])
        return input.reshape(shape).max(dim=2)[0]

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}"


class GroupPooling(_FieldReduction):
    """Group pooling: the largest channel of every field, a trivial field.

    Fields must be of permutation representations (tagged ``'pointwise'``: trivial, regular or quotient
    representations of finite groups).  Exports to :class:`MaxPoolChannels` when all fields have the same
    size, otherwise to a :class:`~e2layers.nn.norm_pool.FieldReduce`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.FlipRot2dOnR2(4)
    >>> t = nn.FieldType(r2, 3 * [r2.regular_repr])
    >>> gpool = nn.GroupPooling(t)
    >>> gpool(nn.GeometricTensor(torch.randn(2, 24, 5, 5), t)).shape
    torch.Size([2, 3, 5, 5])
    >>> gpool.export()
    MaxPoolChannels(kernel_size=8)
    """

    _reduction = "max"

    def __init__(self, in_type: FieldType, **kwargs):
        check_supports(in_type, "pointwise", "GroupPooling takes the largest channel of each field, so it",
                       "the permutation representations: trivial, regular and quotient representations of finite "
                       "groups", "Use NormPool for irreps (those of SO(2) and O(2) included), or InducedNormPool "
                       "for induced representations.")
        super().__init__(in_type, [r.size for r in in_type.representations])

    def export(self) -> torch.nn.Module:
        """The equivalent :class:`MaxPoolChannels` (fields of one size) or :class:`FieldReduce`."""
        sizes = {r.size for r in self.in_type.representations}
        if len(sizes) == 1:
            return MaxPoolChannels(sizes.pop())
        return FieldReduce([r.size for r in self.in_type.representations], "max").to(self.channel_perm.device)
