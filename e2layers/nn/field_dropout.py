"""FieldDropout: dropout of whole fields.

Multiplying a field by a scalar commutes with any representation, so dropping whole fields is
equivariant for every field type (irreps of SO(2) and O(2) included), unlike channel-wise dropout.
As in e2cnn, the mask is drawn independently per sample, field and *position*: the field vector at
one pixel is kept (and scaled by ``1 / (1 - p)``) or zeroed as a whole.
"""
from __future__ import annotations

from typing import Any, Dict, Tuple

import torch

from ._checks import check_field_type, check_shape, flag, probability
from ._equivariance import act_on_fibres
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["FieldDropout"]


def field_dropout(x: torch.Tensor, field_of_channel: torch.Tensor, n_fields: int, p: float, training: bool,
                  inplace: bool) -> torch.Tensor:
    """Zero each field (channels sharing a ``field_of_channel`` value) at each position with probability
    ``p`` and scale the kept ones by ``1 / (1 - p)``; the identity unless ``training``."""
    if not training or p == 0.0:
        return x
    shape = [x.shape[0], n_fields] + list(x.shape[2:])
    keep = torch.rand(shape, dtype=x.dtype, device=x.device) > p
    if p == 1.0:
        scale = torch.zeros(shape, dtype=x.dtype, device=x.device)
    else:
        scale = keep.to(x.dtype) / (1.0 - p)
    scale = scale.index_select(1, field_of_channel)
    if inplace:
        return x.mul_(scale)
    return x * scale


class FieldDropoutExport(torch.nn.Module):
    """Plain-PyTorch field dropout (what :class:`FieldDropout` exports to): the same computation, so the
    same random numbers give the same output.

    Examples
    --------
    >>> import torch
    >>> drop = FieldDropoutExport([0, 0, 1], p=0.5).eval()
    >>> drop(torch.ones(1, 3)).tolist()
    [[1.0, 1.0, 1.0]]
    """

    def __init__(self, field_of_channel, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.register_buffer("field_of_channel", torch.as_tensor(field_of_channel, dtype=torch.long).clone())
        self.n_fields = int(self.field_of_channel.max().item()) + 1
        self.p = float(p)
        self.inplace = bool(inplace)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return field_dropout(x, self.field_of_channel, self.n_fields, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"fields={self.n_fields}, p={self.p}, inplace={self.inplace}"


class FieldDropout(EquivariantModule):
    """Dropout of whole fields with probability ``p`` (e2cnn's FieldDropout); the identity in eval mode.

    In training, each field of each sample is zeroed at each position with probability ``p`` (all its
    channels together) and kept fields are scaled by ``1 / (1 - p)``.  Accepts any field type.
    Export: :class:`FieldDropoutExport` (same train/eval mode).

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> so2 = gspaces.Rot2dOnR2(-1, maximum_frequency=2)
    >>> t = nn.FieldType(so2, 4 * [so2.irrep(1)])
    >>> drop = nn.FieldDropout(t, p=0.5)
    >>> y = drop(nn.GeometricTensor(torch.ones(1, 8, 3, 3), t)).tensor
    >>> sorted(set(y.flatten().tolist())) in ([0.0, 2.0], [0.0], [2.0])
    True
    >>> bool((y[:, 0::2] == y[:, 1::2]).all())   # the two channels of a field share the mask
    True
    """

    check_atol = 1e-6

    def __init__(self, in_type: FieldType, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.in_type = self.out_type = check_field_type(in_type)
        self.space = in_type.gspace
        self.p = probability(p)
        self.inplace = flag(inplace, "inplace")
        field_of_channel = [f for f, rho in enumerate(in_type.representations) for _ in range(rho.size)]
        # e2cnn keeps persistent ``indices_{size}`` buffers; this one is derived, so not in the state_dict
        self.register_buffer("_field_of_channel", torch.as_tensor(field_of_channel, dtype=torch.long),
                             persistent=False)

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        out = field_dropout(input.tensor, self._field_of_channel, len(self.in_type), self.p, self.training,
                            self.inplace)
        return GeometricTensor(out, self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        return check_shape(self, input_shape, False)

    def _check_protocol(self) -> Dict[str, Any]:
        """In eval mode the usual check.  In training, where the mask is random, both sides are computed
        with the same mask (the same seed) under the fibre action ``rho(g)`` alone: moving the mask with
        the image is not something a fresh random draw can do."""
        return dict(action=act_on_fibres, seed=0) if self.training else {}

    def export(self) -> FieldDropoutExport:
        """A :class:`FieldDropoutExport` in the same train/eval mode."""
        return FieldDropoutExport(self._field_of_channel, self.p, self.inplace).train(self.training)

    def extra_repr(self) -> str:
        return f"{self.in_type}, p={self.p}, inplace={self.inplace}"
