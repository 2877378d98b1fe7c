"""GNormBatchNorm: e2cnn's batch normalisation for any representation, with statistics per irrep.

In the irrep basis of a field (``change_of_basis_inv @ v``) every irrep copy is normalised on its own: its
variance is the mean square of its channels over the batch and the positions (centred for trivial irreps,
whose mean is subtracted; the mean of any other irrep is zero by symmetry), with Bessel's correction
``N / (N - 1)`` for ``N`` samples in training as well as in the running average.  Scaling an irrep copy by a
scalar and shifting a trivial one commutes with the group, so the module is equivariant for every
(orthogonal) representation.  As in e2cnn, the batch statistics enter without gradient.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np
import torch

from ._checks import check_field_type, flag
from .field_type import FieldType
from .geometric_tensor import GeometricTensor
from ._normalization import (FieldNormalization, check_eps, check_momentum, e2cnn_indices, escape,
                             plain_batch_norm, trivial_positions)

__all__ = ["GNormBatchNorm"]


class GNormBatchNorm(FieldNormalization):
    """Batch normalisation of fields of any representation (e2cnn's): per field and irrep copy, one variance
    (and one weight); per trivial irrep, one mean (and one bias).  See the module docstring for the statistics.

    Fields of the same representation share, as in e2cnn, ``{name}_weight`` and ``{name}_running_var`` of
    shape ``(fields, irreps)``, ``{name}_bias`` and ``{name}_running_mean`` of shape ``(fields, trivial
    irreps)``, and ``num_batches_tracked`` (e2cnn's index, change-of-basis and aggregator buffers are derived
    here: checked, then dropped, when an e2cnn checkpoint is loaded).

    :meth:`export` (eval mode) gives a ``torch.nn.BatchNorm2d`` when every field is a direct sum of irreps
    (identity change of basis); otherwise the normalisation mixes a field's channels, and it is folded into a
    1x1 ``torch.nn.Conv2d`` (one group per field when all fields have the same size).  Over
    ``gspaces.no_base_space(G)`` (``(batch, channels)`` inputs) these are a ``torch.nn.BatchNorm1d`` and a
    block-diagonal ``torch.nn.Linear``.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.FlipRot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.regular_repr, r2.irrep(1, 1), r2.regular_repr])
    >>> bn = nn.GNormBatchNorm(t)
    >>> bn.get_parameter('regular_weight').shape, bn.get_buffer('regular_running_mean').shape
    (torch.Size([2, 6]), torch.Size([2, 1]))
    >>> y = bn(nn.GeometricTensor(torch.randn(4, 18, 5, 5), t))
    >>> type(bn.eval().export()).__name__
    'Conv2d'
    """

    def __init__(self, in_type: FieldType, eps: float = 1e-05, momentum: float = 0.1, affine: bool = True):
        super().__init__(check_field_type(in_type))
        self.eps = check_eps(eps)
        self.momentum = check_momentum(momentum)
        self.affine = flag(affine, "affine")
        reps = in_type.representations
        self._init_groups([escape(r.name) for r in reps])
        irreps = in_type.fibergroup.irreps
        self._sizes: List[int] = []
        self._has_cob: List[bool] = []
        for key, fields in zip(self._keys, self._group_fields):
            rep = reps[fields[0]]
            n, s = len(fields), rep.size
            dims = [irreps[name].size for name in rep.irreps]
            irrep_of_channel = torch.tensor([i for i, d in enumerate(dims) for _ in range(d)], dtype=torch.long)
            aggregator = torch.zeros(s, len(dims))
            aggregator[torch.arange(s), irrep_of_channel] = 1.0 / torch.tensor(dims, dtype=aggregator.dtype)[
                irrep_of_channel]
            trivials = trivial_positions(rep)
            has_cob = not np.allclose(rep.change_of_basis, np.eye(s))
            self._sizes.append(s)
            self._has_cob.append(has_cob)
            self.register_buffer(f"_{key}_irrep_of_channel", irrep_of_channel, persistent=False)
            self.register_buffer(f"_{key}_aggregator", aggregator, persistent=False)
            self.register_buffer(f"_{key}_trivials", torch.tensor(trivials, dtype=torch.long), persistent=False)
            if has_cob:
                self.register_exact_buffer(f"_{key}_cob", rep.change_of_basis)
                self.register_exact_buffer(f"_{key}_cob_inv", rep.change_of_basis_inv)
            if self.affine:
                self.register_parameter(f"{key}_weight", torch.nn.Parameter(torch.ones(n, len(dims))))
                self.register_parameter(f"{key}_bias", torch.nn.Parameter(torch.zeros(n, len(trivials))))
            self.register_buffer(f"{key}_running_var", torch.ones(n, len(dims)))
            self.register_buffer(f"{key}_running_mean", torch.zeros(n, len(trivials)))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def reset_running_stats(self) -> None:
        for key in self._keys:
            getattr(self, f"{key}_running_var").fill_(1)
            getattr(self, f"{key}_running_mean").zero_()
        self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            for key in self._keys:
                torch.nn.init.ones_(getattr(self, f"{key}_weight"))
                torch.nn.init.zeros_(getattr(self, f"{key}_bias"))

    def _statistics(self, v: torch.Tensor, key: str) -> Tuple[torch.Tensor, torch.Tensor]:
        """Trivial irreps' means (fields, t) and irreps' Bessel-corrected variances (fields, irreps) of ``v``
        (batch, fields, size, H, W) in the irrep basis, without gradient."""
        v = v.detach()
        trivials = getattr(self, f"_{key}_trivials")
        samples = v.shape[0] * v.shape[3] * v.shape[4]
        means = v.index_select(2, trivials).sum(dim=(0, 3, 4)) / samples
        square = (v * v).sum(dim=(0, 3, 4)) / samples
        square = square.index_add(1, trivials, -means * means)
        var = square @ getattr(self, f"_{key}_aggregator")
        if samples > 1:
            var = var * (samples / (samples - 1))
        return means, var

    def _group_affine(self, key: str, means: torch.Tensor, var: torch.Tensor, size: int):
        """Per channel of the irrep basis: ``(scale, shift)`` with ``y = v * scale + shift``, each (fields, size)."""
        irrep_of_channel = getattr(self, f"_{key}_irrep_of_channel")
        trivials = getattr(self, f"_{key}_trivials")
        scale = torch.rsqrt(var + self.eps)
        if self.affine:
            scale = scale * getattr(self, f"{key}_weight")
        scale = scale.index_select(1, irrep_of_channel)
        mean = torch.zeros(means.shape[0], size, dtype=scale.dtype, device=scale.device).index_copy(1, trivials, means)
        shift = -mean * scale
        if self.affine:
            shift = shift.index_add(1, trivials, getattr(self, f"{key}_bias"))
        return scale, shift

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        x = self._tensor(input)
        b, _, h, w = x.shape
        batch_statistics = self.training and x.numel() > 0        # an empty batch has no statistics
        factor = self._average_factor() if batch_statistics else 0.0
        pieces = []
        for key, size, has_cob, piece in zip(self._keys, self._sizes, self._has_cob, self._split(x)):
            n = piece.shape[1] // size         # (not -1: a reshape of an empty batch cannot infer it)
            v = piece.reshape(b, n, size, h, w)
            if has_cob:
                v = torch.einsum("ds,bcsxy->bcdxy", getattr(self, f"_{key}_cob_inv"), v)
            running_mean, running_var = getattr(self, f"{key}_running_mean"), getattr(self, f"{key}_running_var")
            if batch_statistics:
                means, var = self._statistics(v, key)
                with torch.no_grad():
                    running_var.mul_(1 - factor).add_(var, alpha=factor)
                    running_mean.mul_(1 - factor).add_(means, alpha=factor)
            else:
                means, var = running_mean, running_var
            scale, shift = self._group_affine(key, means, var, size)
            y = v * scale.view(1, -1, size, 1, 1) + shift.view(1, -1, size, 1, 1)
            if has_cob:
                y = torch.einsum("ds,bcsxy->bcdxy", getattr(self, f"_{key}_cob"), y)
            pieces.append(y.reshape(b, n * size, h, w))
        return self._result(self._merge(pieces, x), input)

    def _per_channel(self, tensors: List[torch.Tensor]) -> torch.Tensor:
        values = torch.cat([t.detach().reshape(-1) for t in tensors])
        return values.index_select(0, self._inv_perm) if self._permuted else values

    def export(self) -> torch.nn.Module:
        """The eval-mode normalisation as a ``torch.nn.BatchNorm2d`` (fields without change of basis) or a 1x1
        ``torch.nn.Conv2d`` (block diagonal, one block per field)."""
        if not any(self._has_cob):
            means, vars_, weights, biases = [], [], [], []
            for key, size in zip(self._keys, self._sizes):
                irrep_of_channel = getattr(self, f"_{key}_irrep_of_channel")
                trivials = getattr(self, f"_{key}_trivials")
                running_mean = getattr(self, f"{key}_running_mean")
                n = running_mean.shape[0]
                means.append(running_mean.new_zeros(n, size).index_copy(1, trivials, running_mean))
                vars_.append(getattr(self, f"{key}_running_var").index_select(1, irrep_of_channel))
                if self.affine:
                    weights.append(getattr(self, f"{key}_weight").index_select(1, irrep_of_channel))
                    biases.append(running_mean.new_zeros(n, size).index_copy(1, trivials,
                                                                             getattr(self, f"{key}_bias")))
            return plain_batch_norm(self, self._per_channel(means), self._per_channel(vars_),
                                    self._per_channel(weights) if self.affine else None,
                                    self._per_channel(biases) if self.affine else None, self.num_batches_tracked)
        blocks, offsets = [], []
        with torch.no_grad():
            for key, size, has_cob in zip(self._keys, self._sizes, self._has_cob):
                scale, shift = self._group_affine(key, getattr(self, f"{key}_running_mean"),
                                                  getattr(self, f"{key}_running_var"), size)
                matrix = torch.diag_embed(scale)
                if has_cob:
                    cob = getattr(self, f"_{key}_cob")
                    matrix = cob @ matrix @ getattr(self, f"_{key}_cob_inv")
                    shift = shift @ cob.T
                blocks += list(matrix)
                offsets.append(shift.reshape(-1))
        blocks = [blocks[i] for i in _field_order(self)]
        bias = self._per_channel(offsets)
        c = self.in_type.size
        if getattr(self.in_type.gspace, "dimensionality", 2) == 0:
            # no_base_space: (batch, channels) features, the block-diagonal map as a torch.nn.Linear
            linear = torch.nn.Linear(c, c, bias=True, device=bias.device, dtype=bias.dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.block_diag(*blocks))
                linear.bias.copy_(bias)
            return linear.eval()
        sizes = {block.shape[0] for block in blocks}
        groups = len(blocks) if len(sizes) == 1 else 1
        conv = torch.nn.Conv2d(c, c, 1, groups=groups, bias=True, device=bias.device, dtype=bias.dtype)
        with torch.no_grad():
            if groups > 1:
                conv.weight.copy_(torch.cat(blocks).view(c, -1, 1, 1))
            else:
                conv.weight.copy_(torch.block_diag(*blocks).view(c, c, 1, 1))
            conv.bias.copy_(bias)
        return conv.eval()

    def _e2cnn_derived(self) -> Dict[str, torch.Tensor]:
        derived = {}
        for key, channels, has_cob in zip(self._keys, self._group_channels, self._has_cob):
            derived[f"{key}_indices"] = e2cnn_indices(channels)
            if has_cob:
                derived[f"{key}_change_of_basis"] = getattr(self, f"_{key}_cob").detach().cpu()
                derived[f"{key}_change_of_basis_inv"] = getattr(self, f"_{key}_cob_inv").detach().cpu()
            aggregator = getattr(self, f"_{key}_aggregator").detach().cpu()
            derived[f"vars_aggregator_{key}"] = aggregator
            derived[f"vars_propagator_{key}"] = (aggregator > 0).to(aggregator.dtype)
        return derived


def _field_order(module: GNormBatchNorm) -> List[int]:
    """For each field in channel order, its position in the group-ordered list of fields."""
    order = [f for fields in module._group_fields for f in fields]
    position = {f: i for i, f in enumerate(order)}
    return [position[f] for f in range(len(order))]
