"""FieldNorm: an equivariant layer normalisation (not in e2cnn).

For each sample, with ``u`` its feature map (all fields stacked, ``C`` channels; ``H W`` below is the number of
positions, 1 for a ``(batch, C)`` tensor) and ``e = P 1`` the
projection of the all-ones channel vector on the invariant subspace (``P``: the orthogonal projector on the
span of the trivial irreps of every field):

- the mean ``mu = sum_{c, x} e_c u_c(x) / (|e|^2 H W)`` is removed along ``e``: ``u - mu e``;
- the variance ``sigma^2 = mean_{c, x} (u_c(x) - mu e_c)^2`` is pooled over all channels and positions;
- ``y = (u - mu e) / sqrt(sigma^2 + eps) * weight_field + B bias`` with one weight per field and one bias per
  invariant direction (``B``: an orthonormal basis of each field's invariant subspace).

``e`` is invariant, the mean and the variance are invariant numbers and the affine map commutes with the
group, so the layer is equivariant for every orthogonal representation.  On trivial, regular and quotient
fields ``e = (1, ..., 1)``: the layer is ``torch.nn.GroupNorm(1, C)`` (LayerNorm over channels and
positions) with the affine parameters tied within each field.  Fields with no trivial irrep (e.g. SO(2)'s
irreps of frequency > 0) have ``e = 0`` there: they are scaled, never shifted.  With ``pixelwise=True`` the
statistics are taken at each position over the channels only (ConvNeXt's channels-first LayerNorm).
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
import torch

from basisgen.errors import InvalidValueError

from ._checks import check_field_type, check_shape, flag
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor
from ._normalization import (ExactBuffers, _on_plane, check_eps, field_of_channel, from_coordinates,
                             invariant_basis, invariant_subspace)

__all__ = ["FieldNorm"]


def field_layer_norm(x: torch.Tensor, direction: torch.Tensor, scale: float, eps: float, pixelwise: bool,
                     weight: Optional[torch.Tensor], bias: Optional[torch.Tensor]) -> torch.Tensor:
    """The normalisation of the module docstring; ``scale = C / |e|^2`` (0: no centring), ``weight`` and
    ``bias`` per channel."""
    dims = [1] if pixelwise else [d for d in range(1, x.dim())]      # any (batch, channels, ...) rank
    channel_shape = [1, -1] + [1] * (x.dim() - 2)
    if scale != 0.0:
        e = direction.view(channel_shape)
        mu = (x * e).mean(dim=dims, keepdim=True) * scale
        x = x - mu * e
    y = x * torch.rsqrt((x * x).mean(dim=dims, keepdim=True) + eps)
    if weight is not None:
        y = y * weight.view(channel_shape)
    if bias is not None:
        y = y + bias.view(channel_shape)
    return y


class FieldLayerNorm2d(torch.nn.Module):
    """The plain export of :class:`FieldNorm`: the same computation on a ``(batch, C, H, W)`` tensor (or any
    ``(batch, C, ...)``, e.g. ``(batch, C)``), with the centring direction ``direction`` and per-channel
    ``weight``/``bias``."""

    def __init__(self, direction: torch.Tensor, scale: float, eps: float, pixelwise: bool,
                 weight: Optional[torch.Tensor] = None, bias: Optional[torch.Tensor] = None):
        super().__init__()
        self.register_buffer("direction", direction.detach().clone())
        self.scale = float(scale)
        self.eps = float(eps)
        self.pixelwise = bool(pixelwise)
        self.register_parameter("weight", None if weight is None else torch.nn.Parameter(weight.detach().clone()))
        self.register_parameter("bias", None if bias is None else torch.nn.Parameter(bias.detach().clone()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return field_layer_norm(x, self.direction, self.scale, self.eps, self.pixelwise, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"{self.direction.numel()}, eps={self.eps}, pixelwise={self.pixelwise}"


class FieldNorm(ExactBuffers, EquivariantModule):
    """Equivariant layer normalisation, per sample over all channels and positions (escnn has a per-field
    ``FieldNorm``; this one is a LayerNorm).  No running statistics: train and eval mode are the same.

    What it normalises, precisely, is in the module docstring; in short, on trivial, regular and quotient
    fields it is ``torch.nn.GroupNorm(1, C)`` with one weight per field and one bias per invariant direction,
    and for any representation (SO(2) and O(2) irreps included) it removes the sample's mean along the
    invariant direction ``e = P 1`` and divides by the root mean square over channels and positions.
    ``pixelwise=True`` (not in escnn) takes the statistics at each position instead (ConvNeXt's LayerNorm).
    On the plane the input is ``(batch, C, H, W)``; over ``gspaces.no_base_space(G)`` (an equivariant MLP) it is
    ``(batch, C)`` (or any ``(batch, C, ...)``), normalised over its channels (and trailing positions).

    Parameters (``affine``): ``weight`` of shape ``(fields,)`` and ``bias`` of shape ``(invariant
    directions,)`` (``None`` when no field has a trivial irrep).  :meth:`export` gives a plain, scriptable
    :class:`FieldLayerNorm2d` with identical outputs.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> o2 = gspaces.FlipRot2dOnR2(-1, maximum_frequency=2)
    >>> t = nn.FieldType(o2, [o2.trivial_repr, o2.irrep(1, 1), o2.irrep(1, 2)])
    >>> norm = nn.FieldNorm(t)
    >>> y = norm(nn.GeometricTensor(3 * torch.randn(2, 5, 6, 6) + 1, t)).tensor
    >>> [round(v, 4) for v in y.square().mean(dim=(1, 2, 3)).tolist()], round(y[:, 0].mean().item(), 4) == 0
    ([1.0, 1.0], True)
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> u = nn.FieldType(r2, 2 * [r2.regular_repr])
    >>> x = torch.randn(2, 8, 5, 5)
    >>> torch.allclose(nn.FieldNorm(u)(nn.GeometricTensor(x, u)).tensor, torch.nn.GroupNorm(1, 8)(x), atol=1e-6)
    True
    """

    check_atol = 1e-6

    def __init__(self, in_type: FieldType, eps: float = 1e-05, affine: bool = True, pixelwise: bool = False):
        super().__init__()
        self.in_type = self.out_type = check_field_type(in_type)
        self.space = in_type.gspace
        self.eps = check_eps(eps)
        self.affine = flag(affine, "affine")
        self.pixelwise = flag(pixelwise, "pixelwise")
        bases = [invariant_basis(r) for r in in_type.representations]
        direction = np.concatenate([b @ (b.T @ np.ones(b.shape[0])) for b in bases])
        norm2 = float(direction @ direction)
        # below this, the direction is rounding noise: a field type without trivial irreps is not centred
        self._scale = in_type.size / norm2 if norm2 > 1e-9 else 0.0
        channels, directions, coefficients, self._n_directions = invariant_subspace(in_type, bases)
        self.register_exact_buffer("_direction", direction)
        self.register_buffer("_field", field_of_channel(in_type), persistent=False)
        self.register_buffer("_channels", channels, persistent=False)
        self.register_buffer("_directions", directions, persistent=False)
        self.register_exact_buffer("_coefficients", coefficients)
        if self.affine:
            self.weight = torch.nn.Parameter(torch.ones(len(in_type)))
            self.bias = torch.nn.Parameter(torch.zeros(self._n_directions)) if self._n_directions else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.affine:
            torch.nn.init.ones_(self.weight)
            if self.bias is not None:
                torch.nn.init.zeros_(self.bias)

    def _affine(self) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        """``weight`` and ``bias`` per channel."""
        weight = None if self.weight is None else self.weight.index_select(0, self._field)
        bias = None if self.bias is None else from_coordinates(self.bias, self._channels, self._directions,
                                                               self._coefficients, self.in_type.size)
        return weight, bias

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        if input.tensor.ndim != 4 and _on_plane(self.in_type):
            raise InvalidValueError(f"FieldNorm expects a (batch, channels, H, W) tensor, got shape "
                                    f"{tuple(input.tensor.shape)}")
        weight, bias = self._affine()
        y = field_layer_norm(input.tensor, self._direction, self._scale, self.eps, self.pixelwise, weight, bias)
        return GeometricTensor(y, self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        return check_shape(self, input_shape, _on_plane(self.in_type))

    def export(self) -> FieldLayerNorm2d:
        """A plain :class:`FieldLayerNorm2d` (scriptable) computing the same normalisation (in eval mode, like
        every normalisation's export; it has no mode-dependent behaviour)."""
        weight, bias = self._affine()
        return FieldLayerNorm2d(self._direction, self._scale, self.eps, self.pixelwise, weight, bias).eval()

    def extra_repr(self) -> str:
        return f"{self.in_type}, eps={self.eps}, affine={self.affine}, pixelwise={self.pixelwise}"
