"""InnerBatchNorm and IIDBatchNorm2d (the shared machinery is in ``_normalization``).

``InnerBatchNorm`` (e2cnn's) pools the statistics over the channels of permutation fields;
``IIDBatchNorm2d`` (escnn's idea, our own statistics) does the same for any representation, subtracting
the mean only inside each field's invariant subspace.
"""
from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ._checks import check_field_type, check_supports, flag
from ._memory_format import channels_innermost
from ._normalization import (FieldNormalization, check_eps, check_momentum, e2cnn_indices,
                             field_batch_statistics, field_of_channel, from_coordinates, invariant_subspace,
                             normalize, plain_batch_norm, trivial_positions)
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["InnerBatchNorm", "IIDBatchNorm2d"]


class FieldBatchNorm2d(torch.nn.Module):
    """Plain batch normalisation from batch statistics, shared by the channels of each field (the export of
    ``InnerBatchNorm`` and ``IIDBatchNorm2d`` built with ``track_running_stats=False``: the same in train and
    eval mode).  ``field`` maps channels to fields; the mean lies along the sparse directions
    ``(channels, directions, coefficients)``; ``weight`` and ``bias`` are per channel."""

    def __init__(self, field: torch.Tensor, field_size: torch.Tensor, channels: torch.Tensor,
                 directions: torch.Tensor, coefficients: torch.Tensor, n_directions: int, eps: float,
                 weight: Optional[torch.Tensor] = None, bias: Optional[torch.Tensor] = None):
        super().__init__()
        self.register_buffer("field", field.clone())
        self.register_buffer("field_size", field_size.clone())
        self.register_buffer("channels", channels.clone())
        self.register_buffer("directions", directions.clone())
        self.register_buffer("coefficients", coefficients.clone())
        self.n_directions = int(n_directions)
        self.eps = float(eps)
        self.register_parameter("weight", None if weight is None else torch.nn.Parameter(weight.detach().clone()))
        self.register_parameter("bias", None if bias is None else torch.nn.Parameter(bias.detach().clone()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        centred, _, var = field_batch_statistics(x, self.field, self.field_size, self.channels, self.directions,
                                                 self.coefficients, self.n_directions)
        return normalize(centred, var, self.field, self.eps, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"{self.field.numel()}, fields={self.field_size.numel()}, eps={self.eps}"


# ---- InnerBatchNorm ---------------------------------------------------------------------------------------
_INNER_HINT = ("For other representations use GNormBatchNorm or IIDBatchNorm2d (any representation) or "
               "NormBatchNorm (fields without a trivial irrep).")


class InnerBatchNorm(FieldNormalization):
    """Batch normalisation of permutation fields (e2cnn's): one mean and variance per field, pooled over the
    batch, the positions and the field's channels (which the group permutes), as ``BatchNorm3d`` on a
    ``(batch, fields, size, H, W)`` view.

    Fields must support ``'pointwise'`` (trivial, regular and quotient representations of finite groups).
    Fields of equal size share a ``torch.nn.BatchNorm3d`` named ``batch_norm_[{size}]``, as in e2cnn, so e2cnn
    checkpoints load (their ``indices_{size}`` buffers are checked and dropped: ours are derived).

    :meth:`export` gives a ``torch.nn.BatchNorm2d`` in eval mode (whatever the field order) with each field's
    statistics and affine parameters repeated over its channels: identical in eval mode, meant for inference
    (trained further, a ``BatchNorm2d`` would keep one statistic per channel, which is not equivariant).
    With ``track_running_stats=False`` it exports to a plain :class:`FieldBatchNorm2d` that pools as here.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(8)
    >>> t = nn.FieldType(r2, 2 * [r2.regular_repr] + [r2.trivial_repr])
    >>> bn = nn.InnerBatchNorm(t)
    >>> y = bn(nn.GeometricTensor(torch.randn(4, 17, 5, 5), t))
    >>> round(y.tensor[:, :8].mean().item(), 6) == 0.0, getattr(bn, 'batch_norm_[8]').running_mean.shape
    (True, torch.Size([2]))
    >>> type(bn.export()).__name__, bn.export().training
    ('BatchNorm2d', False)
    """

    def __init__(self, in_type: FieldType, eps: float = 1e-05, momentum: float = 0.1, affine: bool = True,
                 track_running_stats: bool = True):
        check_field_type(in_type)
        check_supports(in_type, "pointwise", "InnerBatchNorm", "trivial, regular and quotient representations of "
                       "finite groups, whose channels are permuted", _INNER_HINT)
        super().__init__(in_type)
        self.eps = check_eps(eps)
        self.momentum = check_momentum(momentum)
        self.affine = flag(affine, "affine")
        self.track_running_stats = flag(track_running_stats, "track_running_stats")
        self._init_groups([rep.size for rep in in_type.representations])
        for s, fields in zip(self._keys, self._group_fields):
            self.add_module(f"batch_norm_[{s}]", torch.nn.BatchNorm3d(len(fields), self.eps, self.momentum,
                                                                       self.affine, self.track_running_stats))

    def _norms(self) -> List[torch.nn.BatchNorm3d]:
        return [self._modules[f"batch_norm_[{s}]"] for s in self._keys]

    def reset_running_stats(self) -> None:
        for bn in self._norms():
            bn.reset_running_stats()

    def reset_parameters(self) -> None:
        for bn in self._norms():
            bn.reset_parameters()

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        x = self._tensor(input)
        b, _, h, w = x.shape
        norm = self._norm_of_empty_batch if x.numel() == 0 else (lambda bn, v: bn(v))
        pieces = []
        for s, bn, piece in zip(self._keys, self._norms(), self._split(x)):
            n = piece.shape[1] // s            # (not -1: a reshape of an empty batch cannot infer it)
            if channels_innermost(x):
                # channels_last: the same statistics on a (batch * H * W, fields, size, 1, 1) view, without a copy
                v = norm(bn, piece.permute(0, 2, 3, 1).reshape(b * h * w, n, s, 1, 1))
                pieces.append(v.reshape(b, h, w, n * s).permute(0, 3, 1, 2))
            else:
                pieces.append(norm(bn, piece.reshape(b, n, s, h, w)).reshape(b, n * s, h, w))
        return self._result(self._merge(pieces, x), input)

    @staticmethod
    def _norm_of_empty_batch(bn: torch.nn.BatchNorm3d, v: torch.Tensor) -> torch.Tensor:
        """An empty batch has no statistics: it leaves the running statistics and the batch count as they are
        (``torch.nn.BatchNorm3d`` would count it)."""
        return F.batch_norm(v, None, None, bn.weight, bn.bias, True, 0.0, bn.eps)

    def _per_channel(self, name: str) -> Optional[torch.Tensor]:
        """The fields' ``name`` (weight, running_mean, ...) repeated over their channels, in channel order."""
        parts = [getattr(bn, name) for bn in self._norms()]
        if parts[0] is None:
            return None
        values = torch.cat([p.detach().repeat_interleave(s) for s, p in zip(self._keys, parts)])
        return values.index_select(0, self._inv_perm) if self._permuted else values

    def export(self) -> torch.nn.Module:
        """A ``torch.nn.BatchNorm2d`` in eval mode (a :class:`FieldBatchNorm2d` without running statistics)."""
        if not self.track_running_stats:
            sizes = [rep.size for rep in self.in_type.representations]
            # the mean of a permutation field is the mean of its channels: the direction (1, ..., 1) / sqrt(s)
            channels, directions, coefficients, n = invariant_subspace(
                self.in_type, [np.full((s, 1), s ** -0.5) for s in sizes])
            dtype = next((t.dtype for t in self.state_dict().values() if t.is_floating_point()),
                         torch.get_default_dtype())
            plain = FieldBatchNorm2d(field_of_channel(self.in_type), torch.tensor(sizes, dtype=dtype), channels,
                                     directions, torch.tensor(coefficients, dtype=dtype), n, self.eps,
                                     self._per_channel("weight"), self._per_channel("bias"))
            return plain.to(device=self._perm.device).eval()
        return plain_batch_norm(self, self._per_channel("running_mean"), self._per_channel("running_var"),
                                self._per_channel("weight"), self._per_channel("bias"),
                                self._norms()[0].num_batches_tracked)

    def _e2cnn_derived(self) -> Dict[str, torch.Tensor]:
        return {f"indices_{s}": e2cnn_indices(c) for s, c in zip(self._keys, self._group_channels)}


# ---- IIDBatchNorm2d ---------------------------------------------------------------------------------------
class IIDBatchNorm2d(FieldNormalization):
    """Batch normalisation for any representation, assuming a field's channels i.i.d. (escnn's idea): per
    field, the mean is the projection of the channel means on the field's invariant subspace (the span of its
    trivial irreps; zero for fields without one) and one variance is pooled over the batch, the positions and
    the field's channels.

    Conventions are ``torch.nn.BatchNorm2d``'s: training normalises by the biased batch variance, the running
    variance averages the unbiased one (``n s / (n s - t)`` for ``n`` samples of a field of size ``s`` with
    ``t`` trivial irreps), and gradients flow through the statistics.  So on trivial fields this is
    ``BatchNorm2d``, on regular fields ``InnerBatchNorm`` (up to the basis of ``bias``).  Parameters:
    ``weight`` (one scale per field), ``bias`` (one per invariant direction, along an orthonormal basis of
    each field's invariant subspace), ``running_mean`` (in that basis), ``running_var`` (per field),
    ``num_batches_tracked``.

    :meth:`export` gives a ``torch.nn.BatchNorm2d`` in eval mode (identical in eval mode; meant for
    inference) or, with ``track_running_stats=False``, a plain :class:`FieldBatchNorm2d`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> so2 = gspaces.Rot2dOnR2(-1, maximum_frequency=2)
    >>> t = nn.FieldType(so2, [so2.trivial_repr, so2.irrep(1), so2.irrep(2)])
    >>> bn = nn.IIDBatchNorm2d(t)
    >>> y = bn(nn.GeometricTensor(3 * torch.randn(8, 5, 6, 6) + 1, t)).tensor
    >>> round(y[:, 0].square().mean().item(), 3)
    1.0
    >>> bn.running_var.shape, bn.running_mean.shape, bn.bias.shape
    (torch.Size([3]), torch.Size([1]), torch.Size([1]))
    """

    def __init__(self, in_type: FieldType, eps: float = 1e-05, momentum: float = 0.1, affine: bool = True,
                 track_running_stats: bool = True):
        super().__init__(check_field_type(in_type))
        self.eps = check_eps(eps)
        self.momentum = check_momentum(momentum)
        self.affine = flag(affine, "affine")
        self.track_running_stats = flag(track_running_stats, "track_running_stats")
        channels, directions, coefficients, self._n_directions = invariant_subspace(in_type)
        n = len(in_type)
        dtype = torch.get_default_dtype()
        self.register_buffer("_field", field_of_channel(in_type), persistent=False)
        self.register_buffer("_field_size", torch.tensor([r.size for r in in_type.representations], dtype=dtype),
                             persistent=False)
        self.register_buffer("_field_trivials", torch.tensor(
            [len(trivial_positions(r)) for r in in_type.representations], dtype=dtype), persistent=False)
        self.register_buffer("_channels", channels, persistent=False)
        self.register_buffer("_directions", directions, persistent=False)
        self.register_exact_buffer("_coefficients", coefficients)
        if self.affine:
            self.weight = torch.nn.Parameter(torch.ones(n))
            self.bias = torch.nn.Parameter(torch.zeros(self._n_directions)) if self._n_directions else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(self._n_directions))
            self.register_buffer("running_var", torch.ones(n))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            torch.nn.init.ones_(self.weight)
            if self.bias is not None:
                torch.nn.init.zeros_(self.bias)

    def _embed(self, coordinates: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        if coordinates is None:
            return None
        return from_coordinates(coordinates, self._channels, self._directions, self._coefficients, self.in_type.size)

    def _channel_weight(self) -> Optional[torch.Tensor]:
        return None if self.weight is None else self.weight.index_select(0, self._field)

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        x = self._tensor(input)
        if x.numel() == 0:
            # no statistics in an empty batch (a mean over nothing is NaN, and so would be the gradients)
            weight, bias = self._channel_weight(), self._embed(self.bias)
            return self._result(normalize(x, torch.ones_like(self._field_size), self._field, 0.0, weight, bias),
                                input)
        if self.training or not self.track_running_stats:
            centred, mean, var = field_batch_statistics(x, self._field, self._field_size, self._channels,
                                                        self._directions, self._coefficients, self._n_directions)
            if self.training and self.track_running_stats:
                factor = self._average_factor()
                with torch.no_grad():
                    n = self._field_size * (x.shape[0] * x.shape[2] * x.shape[3])
                    dof = n - self._field_trivials
                    unbiased = torch.where(dof > 0, var * n / dof.clamp(min=1), var)
                    self.running_mean.mul_(1 - factor).add_(mean.detach(), alpha=factor)
                    self.running_var.mul_(1 - factor).add_(unbiased.detach(), alpha=factor)
            y = normalize(centred, var, self._field, self.eps, self._channel_weight(), self._embed(self.bias))
        else:
            y = F.batch_norm(x, self._embed(self.running_mean), self.running_var.index_select(0, self._field),
                             self._channel_weight(), self._embed(self.bias), False, 0.0, self.eps)
        return self._result(y, input)

    def export(self) -> torch.nn.Module:
        """A ``torch.nn.BatchNorm2d`` in eval mode (a :class:`FieldBatchNorm2d` without running statistics)."""
        weight = self._channel_weight()
        bias = self._embed(self.bias)
        if weight is not None and bias is None:
            bias = torch.zeros_like(weight)
        if not self.track_running_stats:
            return FieldBatchNorm2d(self._field, self._field_size, self._channels, self._directions,
                                    self._coefficients, self._n_directions, self.eps, weight, bias).eval()
        return plain_batch_norm(self, self._embed(self.running_mean).detach(),
                                self.running_var.index_select(0, self._field), weight, bias,
                                self.num_batches_tracked)
