"""e2cnn's ``kernels_*_act_R2``: the polar basis of equivariant kernels on the plane, one builder per group."""
from __future__ import annotations

import math
from typing import Any, List, Union

from basisgen.groups import O2, SO2, CyclicGroup, DihedralGroup, FlipGroup

from ._basis import GaussianRadialProfile, KernelBasis, PolarBasis
from ._steerable import IrrepsBasis, SteerableKernelBasis, representation_pair

__all__ = ["kernels_SO2_act_R2", "kernels_O2_act_R2", "kernels_CN_act_R2", "kernels_DN_act_R2",
           "kernels_Flip_act_R2", "kernels_Trivial_act_R2"]


def _polar(in_repr: Any, out_repr: Any, radii, sigma, accepts, group_name: str, **solver) -> PolarBasis:
    representation_pair(in_repr, out_repr, accepts, group_name)
    angular = SteerableKernelBasis(IrrepsBasis, in_repr, out_repr, **solver)
    return PolarBasis(GaussianRadialProfile(radii, sigma), angular)


def kernels_SO2_act_R2(in_repr: Any, out_repr: Any, radii: List[float],
                       sigma: Union[List[float], float]) -> KernelBasis:
    """The SO(2)-equivariant kernels ``in_repr -> out_repr`` on the plane, on Gaussian rings at ``radii``."""
    return _polar(in_repr, out_repr, radii, sigma, lambda G: isinstance(G, SO2), "SO(2)")


def kernels_O2_act_R2(in_repr: Any, out_repr: Any, radii: List[float], sigma: Union[List[float], float],
                      axis: float = math.pi / 2) -> KernelBasis:
    """The O(2)-equivariant kernels, the reflection along ``axis``."""
    return _polar(in_repr, out_repr, radii, sigma, lambda G: isinstance(G, O2), "O(2)", axis=axis)


def kernels_CN_act_R2(in_repr: Any, out_repr: Any, radii: List[float], sigma: Union[List[float], float],
                      max_frequency: int = None, max_offset: int = None) -> KernelBasis:
    """The C_N-equivariant kernels, frequencies bounded by ``max_frequency`` and/or ``max_offset``.

    Examples
    --------
    >>> from e2layers import gspaces
    >>> gs = gspaces.Rot2dOnR2(8)
    >>> kernels_CN_act_R2(gs.regular_repr, gs.regular_repr, [0.0, 1.0, 2.0], 0.6, max_frequency=2).dim
    120
    """
    return _polar(in_repr, out_repr, radii, sigma, lambda G: isinstance(G, CyclicGroup), "a cyclic group C_N",
                  max_frequency=max_frequency, max_offset=max_offset)


def kernels_DN_act_R2(in_repr: Any, out_repr: Any, radii: List[float], sigma: Union[List[float], float],
                      axis: float = math.pi / 2, max_frequency: int = None, max_offset: int = None) -> KernelBasis:
    """The D_N-equivariant kernels, the reflection along ``axis``."""
    return _polar(in_repr, out_repr, radii, sigma, lambda G: isinstance(G, DihedralGroup), "a dihedral group D_N",
                  axis=axis, max_frequency=max_frequency, max_offset=max_offset)


def kernels_Flip_act_R2(in_repr: Any, out_repr: Any, radii: List[float], sigma: Union[List[float], float],
                        axis: float = math.pi / 2, max_frequency: int = None, max_offset: int = None) -> KernelBasis:
    """The kernels equivariant under the reflection along ``axis`` (the flip group of ``Flip2dOnR2``)."""
    return _polar(in_repr, out_repr, radii, sigma, lambda G: isinstance(G, FlipGroup), "the flip group",
                  axis=axis, max_frequency=max_frequency, max_offset=max_offset)


def kernels_Trivial_act_R2(in_repr: Any, out_repr: Any, radii: List[float], sigma: Union[List[float], float],
                           max_frequency: int = None, max_offset: int = None) -> KernelBasis:
    """All kernels (the trivial group C_1), frequencies bounded by ``max_frequency`` and/or ``max_offset``."""
    return _polar(in_repr, out_repr, radii, sigma,
                  lambda G: isinstance(G, CyclicGroup) and G.rotation_order == 1, "the trivial group C_1",
                  max_frequency=max_frequency, max_offset=max_offset)
