"""e2layers: e2cnn's public API (``from e2layers import gspaces, nn``) on cached steerable kernel bases.

Layers: ``group`` (e2cnn's group API over basisgen), ``kernels`` (e2cnn's kernel bases at any points,
numpy or torch), ``diffops`` (e2cnn's bases of steerable PDOs), ``gspaces``, ``expansion`` (weights -> filter on
compact cached bases), ``nn`` (field types, geometric tensors, the convolutions) and ``checkpoint``
(loading e2cnn state dicts).

Examples
--------
>>> import torch
>>> from e2layers import gspaces, nn
>>> r2_act = gspaces.Rot2dOnR2(N=8)
>>> feat_type_in = nn.FieldType(r2_act, 3 * [r2_act.trivial_repr])
>>> feat_type_out = nn.FieldType(r2_act, 10 * [r2_act.regular_repr])
>>> conv = nn.R2Conv(feat_type_in, feat_type_out, kernel_size=5)
>>> conv(nn.GeometricTensor(torch.randn(16, 3, 32, 32), feat_type_in)).shape
torch.Size([16, 80, 28, 28])
"""
from . import diffops, group, gspaces, kernels, nn

__all__ = ["group", "gspaces", "kernels", "diffops", "nn"]
