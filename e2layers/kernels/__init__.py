"""e2cnn's ``kernels``: analytical bases of steerable kernels, sampled at arbitrary points.

Built on basisgen's closed forms (``basisgen.polar.AngularTable``): ``kernels_*_act_R2`` give a
:class:`PolarBasis` of Gaussian rings times the angular solutions; ``sample(points)`` returns
(c_out, c_in, dim, N) in numpy and ``sample_torch(points)`` the same as a torch tensor on the points'
device, differentiable in the points.  Layers do not use these classes: they take their sampled,
band-limited and normalised bases from the cache.

Examples
--------
>>> import numpy as np
>>> from e2layers import gspaces
>>> from e2layers.kernels import kernels_DN_act_R2
>>> gs = gspaces.FlipRot2dOnR2(4)
>>> basis = kernels_DN_act_R2(gs.regular_repr, gs.irrep(1, 1), [0.0, 1.0], 0.6, max_frequency=3)
>>> basis.sample(np.random.randn(2, 7)).shape, basis[0]["radius"], basis[0]["in_irrep"]
((2, 8, 28, 7), 0.0, 'irrep_0,0')
"""
from ._basis import Basis, EmptyBasisException, GaussianRadialProfile, KernelBasis, PolarBasis
from ._r2 import (kernels_CN_act_R2, kernels_DN_act_R2, kernels_Flip_act_R2, kernels_O2_act_R2, kernels_SO2_act_R2,
                  kernels_Trivial_act_R2)
from ._steerable import IrrepsBasis as IrrepsBasis  # public, beyond e2cnn's __all__: what SteerableKernelBasis takes
from ._steerable import SteerableKernelBasis
from ._utils import chi, psi, psichi

__all__ = [
    "EmptyBasisException", "Basis", "KernelBasis",
    "GaussianRadialProfile", "PolarBasis", "SteerableKernelBasis",
    "kernels_Flip_act_R2", "kernels_DN_act_R2", "kernels_O2_act_R2", "kernels_Trivial_act_R2",
    "kernels_CN_act_R2", "kernels_SO2_act_R2",
    "psi", "psichi", "chi",
]
