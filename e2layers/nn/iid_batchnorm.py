"""IIDBatchNorm1d: :class:`IIDBatchNorm2d` for ``(batch, channels)`` and ``(batch, channels, L)`` tensors (escnn's
name), e.g. the features of an equivariant MLP over ``gspaces.no_base_space(G)``.

The statistics are those of ``IIDBatchNorm2d`` (``inner_batchnorm``), pooled over the batch (and ``L``): per
field, a mean in the span of its trivial irreps only and one variance shared by its channels.
"""
from __future__ import annotations

from typing import Any, Tuple

import torch

from ._checks import check_shape
from .inner_batchnorm import IIDBatchNorm2d

__all__ = ["IIDBatchNorm1d"]


class IIDBatchNorm1d(IIDBatchNorm2d):
    """Batch normalisation for any representation on ``(batch, channels)`` or ``(batch, channels, L)`` tensors
    (escnn's ``IIDBatchNorm1d``), assuming the channels of a field i.i.d.: per field, the mean is taken only
    in the field's invariant subspace (its trivial irreps; fields without one are not centred) and one
    variance is shared by its channels.  The field type may be over any gspace, typically
    ``gspaces.no_base_space(G)`` (an equivariant MLP).  Like escnn's, it takes any ``(batch, channels, ...)``
    tensor, the statistics pooling the batch and every trailing dimension (for ``(B, C, H, W)`` images
    :class:`IIDBatchNorm2d` is the same module with a ``BatchNorm2d`` export).

    Arguments, parameters, buffers and conventions are :class:`IIDBatchNorm2d`'s (``torch.nn.BatchNorm1d``'s:
    biased batch variance in training, unbiased in ``running_var``; ``momentum=None`` for a cumulative
    average; ``track_running_stats=False`` uses batch statistics in eval mode too): ``weight`` (one per
    field), ``bias`` (one per invariant direction), ``running_mean`` (in an orthonormal basis of the
    invariant subspaces), ``running_var`` (one per field) and ``num_batches_tracked``.

    :meth:`export` gives a ``torch.nn.BatchNorm1d`` in eval mode, identical to this module in eval mode (or,
    with ``track_running_stats=False``, a plain module pooling the batch statistics per field).

    Examples
    --------
    >>> import torch
    >>> from e2layers import group, gspaces, nn
    >>> gs = gspaces.no_base_space(group.o2_group(3))
    >>> t = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1, 1), gs.irrep(1, 2)])
    >>> bn = nn.IIDBatchNorm1d(t)
    >>> y = bn(nn.GeometricTensor(3 * torch.randn(64, 5) + 1, t)).tensor
    >>> round(y[:, 0].mean().item(), 5) == 0, round(y[:, 1:3].square().mean().item(), 2)
    (True, 1.0)
    >>> bn.running_var.shape, bn.running_mean.shape
    (torch.Size([3]), torch.Size([1]))
    >>> type(bn.eval().export()).__name__
    'BatchNorm1d'
    """

    def _tensor(self, input: Any) -> torch.Tensor:
        self._check_input(input)
        x = input.tensor
        positions = 1
        for n in x.shape[2:]:
            positions *= int(n)
        return x.reshape(x.shape[0], x.shape[1], positions, 1)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        return check_shape(self, input_shape, False)

    def export(self) -> torch.nn.Module:
        """A ``torch.nn.BatchNorm1d`` in eval mode (a plain per-field batch normalisation without running
        statistics), with the same outputs as this module in eval mode on ``(B, C)`` and ``(B, C, L)`` input."""
        plain = super().export()
        if isinstance(plain, torch.nn.BatchNorm2d):
            one_d = torch.nn.BatchNorm1d(plain.num_features, plain.eps, plain.momentum, plain.affine,
                                         device=plain.running_mean.device, dtype=plain.running_mean.dtype)
            one_d.load_state_dict(plain.state_dict())
            return one_d.eval()
        return plain
