"""e2cnn's ``diffops``: bases of steerable partial differential operators (PDOs), sampled at points.

A basis element is a matrix of homogeneous polynomials in (d/dx, d/dy) solving the equivariance constraint,
from basisgen's derivation (:mod:`basisgen.pdo`: the angular solutions of the kernel constraint as
polynomials), times a power of the Laplacian.  ``diffops_*_act_R2`` give a :class:`TensorBasis`;
``sample(points)`` discretises it as its :class:`DiscretizationArgs` say (finite differences, derivatives of
a Gaussian or RBF-FD, with basisgen's stencils) and returns (c_out, c_in, dim, N) like
:mod:`e2layers.kernels`.  Layers (``nn.R2Diffop``) do not use these classes: they take their sampled,
filtered and normalised bases from the cache.

One difference on purpose: for groups with reflections, ``"fd"`` discretises the operators themselves,
where e2cnn's stencils are those of the operators turned a quarter turn (not equivariant under the flips).

Examples
--------
>>> import numpy as np
>>> from basisgen.radial import grid_coordinates
>>> from e2layers import gspaces
>>> from e2layers.diffops import diffops_DN_act_R2
>>> gs = gspaces.FlipRot2dOnR2(4)
>>> basis = diffops_DN_act_R2(gs.regular_repr, gs.irrep(1, 1), 1, max_frequency=2)
>>> basis.sample(np.stack(grid_coordinates(5))).shape, basis[0]["in_irrep"], basis[0]["power"]
((2, 8, 20, 25), 'irrep_0,0', 0)
"""
from ._basis import DiffopBasis, DiscretizationArgs, LaplaceProfile
from ._cache import load_cache, store_cache
from ._r2 import (diffops_CN_act_R2, diffops_DN_act_R2, diffops_Flip_act_R2, diffops_O2_act_R2, diffops_SO2_act_R2,
                  diffops_Trivial_act_R2)
from ._steerable import IrrepsDiffopBasis as IrrepsDiffopBasis  # public, beyond e2cnn's __all__
from ._steerable import SteerableDiffopBasis
from ._tensor import TensorBasis

__all__ = [
    "SteerableDiffopBasis", "LaplaceProfile", "TensorBasis", "DiffopBasis", "DiscretizationArgs",
    "diffops_Flip_act_R2", "diffops_DN_act_R2", "diffops_O2_act_R2", "diffops_Trivial_act_R2",
    "diffops_CN_act_R2", "diffops_SO2_act_R2",
    "load_cache", "store_cache",
]
