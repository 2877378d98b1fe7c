"""NormBatchNorm and InducedNormBatchNorm: e2cnn's batch normalisations that only rescale.

Fields without a trivial irrep have zero mean by symmetry, so only their scale is normalised: each field is
multiplied by ``weight / sqrt(running_var + eps)``, a function of the norms of its fields, which commutes
with the (orthogonal) group action.  As in e2cnn, a training step first moves ``running_var`` towards the
batch's variance (the mean squared norm per channel, Bessel-corrected over the ``m`` norms pooled:
``m / (m - 1)``, computed without gradient) and then divides by the updated running value, so train and
eval mode differ only by that update.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import torch
import torch.nn.functional as F

from basisgen.errors import InvalidValueError

from ._checks import check_field_type, check_supports, flag
from .field_type import FieldType
from .geometric_tensor import GeometricTensor
from ._normalization import (FieldNormalization, check_eps, check_momentum, e2cnn_indices,
                             field_of_channel, plain_batch_norm, trivial_positions)

__all__ = ["NormBatchNorm", "InducedNormBatchNorm"]

_HINT = "For fields with a trivial irrep use GNormBatchNorm or IIDBatchNorm2d, which also centre them."


def _reject_trivials(in_type: FieldType, module: str) -> None:
    bad = sorted({r.name for r in in_type.representations if trivial_positions(r)})
    if bad:
        raise InvalidValueError(f"{module} assumes fields of zero mean, i.e. without a trivial irrep; in_type {in_type!r} "
                         f"has representations {bad} containing one. {_HINT}")


class _RunningNormScale(FieldNormalization):
    """Fields grouped by ``_key(rep)``; one running variance (and weight) per field, stored per group with
    e2cnn's names and shapes (``{key}_running_var``, ``{key}_weight``, ``num_batches_tracked``)."""

    _stat_ndim = 5

    def _subfield_size(self, rep: Any) -> int:
        return rep.size

    def _key(self, rep: Any) -> Any:
        return rep.size

    def __init__(self, in_type: FieldType, eps: float, momentum: float, affine: bool):
        super().__init__(in_type)
        self.eps = check_eps(eps)
        self.momentum = check_momentum(momentum)
        self.affine = flag(affine, "affine")
        reps = in_type.representations
        self._init_groups([self._key(r) for r in reps])
        order = [f for fields in self._group_fields for f in fields]
        position = {f: i for i, f in enumerate(order)}
        fields = field_of_channel(in_type)
        dtype = torch.get_default_dtype()
        self.register_buffer("_field", fields, persistent=False)
        self.register_buffer("_stat_of_channel", torch.tensor([position[f] for f in fields.tolist()]),
                             persistent=False)
        self.register_buffer("_field_order", torch.tensor(order), persistent=False)
        self.register_buffer("_field_size", torch.tensor([r.size for r in reps], dtype=dtype), persistent=False)
        self.register_buffer("_subfields", torch.tensor([r.size // self._subfield_size(r) for r in reps],
                                                        dtype=dtype), persistent=False)
        self.register_buffer("_zeros", torch.zeros(in_type.size), persistent=False)
        for key, group in zip(self._keys, self._group_fields):
            shape = (1, len(group)) + (1,) * (self._stat_ndim - 2)
            if self.affine:
                self.register_parameter(f"{key}_weight", torch.nn.Parameter(torch.ones(shape)))
            self.register_buffer(f"{key}_running_var", torch.ones(shape))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def reset_running_stats(self) -> None:
        for key in self._keys:
            getattr(self, f"{key}_running_var").fill_(1)
        self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            for key in self._keys:
                torch.nn.init.ones_(getattr(self, f"{key}_weight"))

    def _per_channel(self, name: str) -> Optional[torch.Tensor]:
        if name == "weight" and not self.affine:
            return None
        values = torch.cat([getattr(self, f"{key}_{name}").reshape(-1) for key in self._keys])
        return values.index_select(0, self._stat_of_channel)

    def _update(self, x: torch.Tensor) -> None:
        factor = self._average_factor()
        with torch.no_grad():
            square = x.detach().square().mean(dim=(0, 2, 3))
            var = torch.zeros_like(self._field_size).index_add(0, self._field, square) / self._field_size
            m = self._subfields * (x.shape[0] * x.shape[2] * x.shape[3])   # norms pooled per field
            var = torch.where(m > 1, var * m / (m - 1).clamp(min=1), var).index_select(0, self._field_order)
            for key, v in zip(self._keys, var.split([len(f) for f in self._group_fields])):
                running = getattr(self, f"{key}_running_var")
                running.mul_(1 - factor).add_(v.view(running.shape), alpha=factor)

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        x = self._tensor(input)
        if self.training and x.numel() > 0:       # an empty batch has no statistics
            self._update(x)
        weight = self._per_channel("weight")
        y = F.batch_norm(x, self._zeros, self._per_channel("running_var"), weight,
                         None if weight is None else self._zeros, False, 0.0, self.eps)
        return self._result(y, input)

    def export(self) -> torch.nn.BatchNorm2d:
        """A ``torch.nn.BatchNorm2d`` in eval mode: zero mean and bias, each field's running variance and weight
        on its channels (identical to this module in eval mode)."""
        weight = self._per_channel("weight")
        return plain_batch_norm(self, self._zeros, self._per_channel("running_var"),
                                None if weight is None else weight.detach(), None, self.num_batches_tracked)

    def _e2cnn_derived(self) -> Dict[str, torch.Tensor]:
        return {f"{key}_indices": e2cnn_indices(c) for key, c in zip(self._keys, self._group_channels)}


class NormBatchNorm(_RunningNormScale):
    """Batch normalisation of fields without a trivial irrep (e2cnn's): each field is scaled by
    ``weight / sqrt(running_var + eps)``, its variance being its mean squared norm per channel.

    Fields must support ``'norm'`` and contain no trivial irrep.  Fields of equal size share the parameters
    ``{size}_weight`` and buffers ``{size}_running_var`` (shape ``(1, fields, 1, 1, 1)``), as in e2cnn.  A
    training step updates ``running_var`` and then normalises by it (see the module docstring).
    :meth:`export` gives an identical ``torch.nn.BatchNorm2d`` in eval mode, for inference.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> so2 = gspaces.Rot2dOnR2(-1, maximum_frequency=3)
    >>> t = nn.FieldType(so2, [so2.irrep(1), so2.irrep(3), so2.irrep(1)])
    >>> bn = nn.NormBatchNorm(t, momentum=1.0)
    >>> y = bn(nn.GeometricTensor(5 * torch.randn(64, 6, 8, 8), t)).tensor
    >>> round(y.square().mean().item(), 1), bn.get_parameter('2_weight').shape
    (1.0, torch.Size([1, 3, 1, 1, 1]))
    """

    def __init__(self, in_type: FieldType, eps: float = 1e-05, momentum: float = 0.1, affine: bool = True):
        check_supports(check_field_type(in_type), "norm", "NormBatchNorm", "representations acting by orthogonal "
                       "matrices", _HINT)
        _reject_trivials(in_type, "NormBatchNorm")
        super().__init__(in_type, eps, momentum, affine)


class InducedNormBatchNorm(_RunningNormScale):
    """Batch normalisation of induced fields without a trivial irrep (e2cnn's): as :class:`NormBatchNorm`,
    with the variance of a field the mean squared norm per channel of its sub-fields (the ``size / d`` copies
    of the inducing irrep of size ``d``, which the group permutes), shared by all of them.

    Fields must be tagged ``'induced_norm_{d}'`` (induced representations) and contain no trivial irrep.
    Fields of equal ``(size, d)`` share ``({size}, {d})_weight`` and ``({size}, {d})_running_var`` (shape
    ``(1, fields, 1, 1, 1, 1)``), as in e2cnn.  :meth:`export` gives an identical ``torch.nn.BatchNorm2d`` in
    eval mode.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(8)
    >>> G = r2.fibergroup
    >>> rho = G.induced_representation(4, G.subgroup(4)[0].irrep(1))
    >>> bn = nn.InducedNormBatchNorm(nn.FieldType(r2, 2 * [rho]))
    >>> sorted(bn.state_dict())
    ['(4, 2)_running_var', '(4, 2)_weight', 'num_batches_tracked']
    """

    _stat_ndim = 6

    def _subfield_size(self, rep: Any) -> int:
        return int(next(tag for tag in rep.supported_nonlinearities
                        if tag.startswith("induced_norm")).rsplit("_", 1)[-1])

    def _key(self, rep: Any) -> Tuple[int, int]:
        return (rep.size, self._subfield_size(rep))

    def __init__(self, in_type: FieldType, eps: float = 1e-05, momentum: float = 0.1, affine: bool = True):
        check_field_type(in_type)
        bad = sorted({r.name for r in in_type.representations
                      if len([t for t in r.supported_nonlinearities if t.startswith("induced_norm")]) != 1})
        if bad:
            raise InvalidValueError(f"InducedNormBatchNorm needs representations tagged with one 'induced_norm_{{d}}' "
                             f"(induced from an irrep of size d of a subgroup); in_type {in_type!r} has unsupported "
                             f"representations {bad}. Use NormBatchNorm, GNormBatchNorm or IIDBatchNorm2d.")
        for r in in_type.representations:
            if r.size % self._subfield_size(r):
                raise InvalidValueError(f"InducedNormBatchNorm: the size {r.size} of {r.name!r} is not a multiple of its "
                                 f"sub-field size {self._subfield_size(r)}")
        _reject_trivials(in_type, "InducedNormBatchNorm")
        super().__init__(in_type, eps, momentum, affine)
