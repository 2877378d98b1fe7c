"""e2cnn's ``nn``: field types, geometric tensors and equivariant modules.

Layers: ``field_type`` <- ``geometric_tensor`` <- ``equivariant_module`` <- the modules, one file per
family (convolutions, non-linearities, pools, normalisations, dropout, containers); ``init`` initialises
convolution weights.  ``docs/modules.md`` lists every module with the field types it accepts.

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
from . import (antialiased, branching, concatenated, containers, field_dropout, field_norm, fourier, gated,
               gnorm_batchnorm, group_pooling, init, inner_batchnorm, linear, mask, network_export, norm_batchnorm,
               norm_nonlinearity, norm_pool, pointwise, reshuffle, vectorfield)
from . import subgroup_pooling
from . import quotient_fourier, tensor_product
from . import point_graphs, r2pointconv
from . import iid_batchnorm
from . import angle_errors as _angle_errors, exactness  # the function angle_errors shadows its module
from .angle_errors import *  # noqa: F401,F403 (each module file lists its public names in __all__)
from .antialiased import *  # noqa: F401,F403
from .branching import *  # noqa: F401,F403
from .concatenated import *  # noqa: F401,F403
from .containers import *  # noqa: F401,F403
from .network_export import *  # noqa: F401,F403
from ._equivariance import act_on_fibres, assert_equivariant, equivariance_errors
from .equivariant_module import EquivariantModule
from .exactness import *  # noqa: F401,F403
from .field_dropout import *  # noqa: F401,F403
from .field_norm import *  # noqa: F401,F403
from .field_type import FieldType
from .fourier import *  # noqa: F401,F403
from .gated import *  # noqa: F401,F403
from .geometric_tensor import GeometricTensor, tensor_directsum
from .gnorm_batchnorm import *  # noqa: F401,F403
from .group_pooling import *  # noqa: F401,F403
from .inner_batchnorm import *  # noqa: F401,F403
from .iid_batchnorm import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .mask import *  # noqa: F401,F403
from .norm_batchnorm import *  # noqa: F401,F403
from .norm_nonlinearity import *  # noqa: F401,F403
from .norm_pool import *  # noqa: F401,F403
from .pointwise import *  # noqa: F401,F403
from .point_graphs import *  # noqa: F401,F403
from .r2conv import R2Conv, R2ConvTransposed
from .r2diffop import R2Diffop
from .r2pointconv import *  # noqa: F401,F403
from .r2upsampling import R2Upsampling
from .quotient_fourier import *  # noqa: F401,F403
from .reshuffle import *  # noqa: F401,F403
from .tensor_product import *  # noqa: F401,F403
from .subgroup_pooling import *  # noqa: F401,F403
from .restrict_network import RestrictionError, restrict_network  # the function shadows its module's name
from .vectorfield import *  # noqa: F401,F403

_FAMILIES = (antialiased, branching, concatenated, containers, field_dropout, field_norm, fourier, gated,
             gnorm_batchnorm, group_pooling, inner_batchnorm, linear, mask, network_export, norm_batchnorm,
             norm_nonlinearity, norm_pool, pointwise, reshuffle, vectorfield, subgroup_pooling,
             point_graphs, r2pointconv, quotient_fourier, tensor_product, iid_batchnorm, _angle_errors, exactness)

__all__ = (["FieldType", "GeometricTensor", "tensor_directsum", "EquivariantModule", "R2Conv", "R2ConvTransposed",
            "R2Diffop", "R2Upsampling", "init", "assert_equivariant", "equivariance_errors", "act_on_fibres",
            "restrict_network", "RestrictionError"]
           + sorted(name for family in _FAMILIES for name in family.__all__))
