"""Linear: an equivariant channel-mixing layer without spatial extent (not in e2cnn).

The equivariant linear maps between two field types are the intertwiners ``Hom_G(in, out)``; they
are exactly the 1x1 steerable kernels, since the only point of a 1x1 kernel is the origin, where
the kernel constraint reduces to ``rho_out(g) W = W rho_in(g)``.  So the layer is a 1x1
:class:`R2Conv` in disguise: the same cached basis (radius 0), the same weight layout, generalized He
initialisation and bias on the trivial irreps of the output fields; only the application differs.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from basisgen.errors import EmptyBasisError, InvalidValueError
from basisgen.radial import basis_params

from ..expansion import BasisExpansion
from ..gspaces import GeneralOnR2, GSpace0D
from .field_type import FieldType
from .geometric_tensor import GeometricTensor
from .r2conv import _R2ConvBase

__all__ = ["Linear"]


def linear_on_channels(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]) -> torch.Tensor:
    """``weight`` (c_out, c_in) applied on dimension 1 of ``x`` (any number of trailing dimensions),
    plus ``bias``: ``F.linear`` for 2-D input, a 1x1 ``F.conv2d`` for 4-D input."""
    if x.dim() == 2:
        return F.linear(x, weight, bias)
    if x.dim() == 4:
        return F.conv2d(x, weight[:, :, None, None], bias)
    return F.linear(x.movedim(1, -1), weight, bias).movedim(-1, 1)


def _as_planar(t: FieldType) -> FieldType:
    """``t`` itself, or for a type over ``no_base_space(G)`` the same fields over ``G`` acting on the plane
    (with the same name): the intertwiners are the 1x1 kernels at the origin, which no element of the plane's
    action moves, so they are the same for both (and for every reflection axis)."""
    if not isinstance(t.gspace, GSpace0D):
        return t
    return FieldType(GeneralOnR2(t.gspace.fibergroup, t.gspace.name), t.representations)


class LinearExport(torch.nn.Module):
    """Plain-PyTorch channel mixing on dimension 1 (what :meth:`Linear.export` returns by default): the
    same computation as :class:`Linear`, on inputs of any number of dimensions."""

    def __init__(self, weight: torch.Tensor, bias: Optional[torch.Tensor]):
        super().__init__()
        self.weight = torch.nn.Parameter(weight.detach().clone())
        self.bias = None if bias is None else torch.nn.Parameter(bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear_on_channels(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_channels={self.weight.shape[1]}, out_channels={self.weight.shape[0]}, bias={self.bias is not None}"


class Linear(_R2ConvBase):
    """An equivariant linear map between field types, applied on the channels (dimension 1) of tensors of
    shape ``(B, C)``, ``(B, C, H, W)`` or any ``(B, C, ...)``; the field types may be over a gspace on the
    plane or over ``gspaces.no_base_space(G)`` (an equivariant MLP, on ``(B, C)`` tensors).

    The weight matrix is a learnt combination of a basis of the intertwiners from ``in_type`` to
    ``out_type`` (``weights``, one entry per basis element and pair of fields, as a 1x1 :class:`R2Conv`);
    a bias is learnt for each trivial irrep of the output fields (``bias``).  ``initialize`` draws the
    weights with e2cnn's generalized He initialisation.  Raises ``ValueError`` when no non-zero
    equivariant map exists (e.g. trivial fields to irrep-1 fields).

    Export: ``export()`` gives :class:`LinearExport` (any input dimension, the same outputs);
    ``export(ndim=2)`` a ``torch.nn.Linear`` and ``export(ndim=4)`` a 1x1 ``torch.nn.Conv2d``.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.FlipRot2dOnR2(4)
    >>> lin = nn.Linear(nn.FieldType(r2, 2 * [r2.regular_repr]), nn.FieldType(r2, [r2.regular_repr, r2.irrep(1, 1)]))
    >>> lin(nn.GeometricTensor(torch.randn(5, 16), lin.in_type)).shape, lin.weights.shape, lin.bias.shape
    (torch.Size([5, 10]), torch.Size([20]), torch.Size([1]))
    >>> lin.export(ndim=2)
    Linear(in_features=16, out_features=10, bias=True)
    """

    check_atol = 1e-6

    def __init__(self, in_type: FieldType, out_type: FieldType, bias: bool = True, initialize: bool = True):
        types = (in_type, out_type)
        if all(isinstance(t, FieldType) for t in types) and in_type.gspace == out_type.gspace:
            types = (_as_planar(in_type), _as_planar(out_type))
        super().__init__(*types, 1, padding=0, stride=1, dilation=1, groups=1, bias=bias,
                         basisexpansion="blocks", params_for=lambda dilation, axis: basis_params(1, dilation, axis=axis),
                         recompute=False, initialize=initialize)
        self.in_type, self.out_type, self.space = in_type, out_type, in_type.gspace

    def _build_expansion(self, dtype: torch.dtype) -> BasisExpansion:
        try:
            return BasisExpansion([r.basisgen for r in self._basis_in.representations],
                                  [r.basisgen for r in self._basis_out.representations], self._basis_params,
                                  dtype=dtype)
        except EmptyBasisError as err:
            raise InvalidValueError(f"Linear: no non-zero equivariant linear map from {self.in_type!r} to "
                             f"{self.out_type!r} (their irreps {sorted(set(self.in_type.irreps))} and "
                             f"{sorted(set(self.out_type.irreps))} share none); add fields with a common irrep "
                             f"(e.g. regular fields)") from err

    def matrix(self) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """The weight matrix (c_out, c_in) and the bias (c_out,) or None."""
        filt, bias = self.expand_parameters()
        return filt[:, :, 0, 0], bias

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        filt, bias = self._filter_and_bias()
        return GeometricTensor(linear_on_channels(input.tensor, filt[:, :, 0, 0], bias), self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        shape = tuple(input_shape)
        if len(shape) < 2 or shape[1] != self.in_type.size:
            raise InvalidValueError(f"input_shape must be (batch, {self.in_type.size}, ...), got {shape}")
        return (shape[0], self.out_type.size) + shape[2:]

    def _test_input_size(self) -> int:
        return 10


    def export(self, ndim: Optional[int] = None) -> torch.nn.Module:
        """The weight matrix and bias in a plain module: :class:`LinearExport` (``ndim=None``, any input),
        ``torch.nn.Linear`` (``ndim=2``) or a 1x1 ``torch.nn.Conv2d`` (``ndim=4``); all give the outputs of
        this layer on inputs of their dimension."""
        if ndim not in (None, 2, 4):
            raise InvalidValueError(f"ndim must be None, 2 (torch.nn.Linear) or 4 (torch.nn.Conv2d), got {ndim!r}")
        with torch.no_grad():
            weight, bias = self.matrix()
            kwargs = dict(bias=bias is not None, device=weight.device, dtype=weight.dtype)
            if ndim is None:
                return LinearExport(weight, bias)
            if ndim == 2:
                module = torch.nn.Linear(self.in_type.size, self.out_type.size, **kwargs)
                module.weight.copy_(weight)
            else:
                module = torch.nn.Conv2d(self.in_type.size, self.out_type.size, 1, **kwargs)
                module.weight.copy_(weight[:, :, None, None])
            if bias is not None:
                module.bias.copy_(bias)
        return module

    def extra_repr(self) -> str:
        return f"{self.in_type}, {self.out_type}" + (", bias=False" if self.bias is None else "")

