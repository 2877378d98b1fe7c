"""e2cnn's ``nn`` (API.md §1.4): field types, geometric tensors and equivariant modules.

Layers: ``field_type`` <- ``geometric_tensor`` <- ``equivariant_module`` <- the modules
(``r2conv``, ``r2upsampling``, ``pointwise``); ``init`` initialises convolution weights.

Examples
--------
>>> import torch
>>> from e2layers import gspaces, nn
>>> r2 = gspaces.Rot2dOnR2(N=8)
>>> feat_in = nn.FieldType(r2, 3 * [r2.trivial_repr])
>>> feat_out = nn.FieldType(r2, 10 * [r2.regular_repr])
>>> conv = nn.R2Conv(feat_in, feat_out, kernel_size=5)
>>> conv(nn.GeometricTensor(torch.randn(16, 3, 32, 32), feat_in)).shape
torch.Size([16, 80, 28, 28])
"""
from . import init
from .equivariant_module import EquivariantModule, assert_equivariant, equivariance_errors
from .field_type import FieldType
from .geometric_tensor import GeometricTensor, tensor_directsum
from .pointwise import (ELU, IdentityModule, PointwiseAdaptiveAvgPool, PointwiseAdaptiveMaxPool, PointwiseAvgPool,
                        PointwiseDropout, PointwiseMaxPool, PointwiseNonLinearity, ReLU, SequentialModule)
from .r2conv import R2Conv, R2ConvTransposed
from .r2upsampling import R2Upsampling

__all__ = ["FieldType", "GeometricTensor", "tensor_directsum", "EquivariantModule", "R2Conv", "R2ConvTransposed",
           "R2Upsampling", "init", "assert_equivariant", "equivariance_errors", "ReLU", "ELU", "PointwiseNonLinearity",
           "PointwiseMaxPool", "PointwiseAvgPool", "PointwiseAdaptiveAvgPool", "PointwiseAdaptiveMaxPool",
           "PointwiseDropout", "IdentityModule", "SequentialModule"]
