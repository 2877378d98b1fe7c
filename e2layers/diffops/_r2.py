"""e2cnn's ``diffops_*_act_R2``: the complete basis of equivariant PDOs on the plane, one builder per group."""
from __future__ import annotations

import math
from typing import Any, Callable

from basisgen.groups import O2, SO2, CyclicGroup, DihedralGroup, FlipGroup, Group

from ..kernels._steerable import representation_pair
from ._basis import DiffopBasis, DiscretizationArgs
from ._steerable import IrrepsDiffopBasis
from ._tensor import TensorBasis

__all__ = ["diffops_SO2_act_R2", "diffops_O2_act_R2", "diffops_CN_act_R2", "diffops_DN_act_R2",
           "diffops_Flip_act_R2", "diffops_Trivial_act_R2"]


def _tensor(in_repr: Any, out_repr: Any, max_power: int, discretization: DiscretizationArgs,
            accepts: Callable[[Group], bool], group_name: str, **solver) -> TensorBasis:
    representation_pair(in_repr, out_repr, accepts, group_name)
    return TensorBasis(IrrepsDiffopBasis, in_repr, out_repr, max_power, discretization, **solver)


def diffops_SO2_act_R2(in_repr: Any, out_repr: Any, max_power: int,
                       discretization: DiscretizationArgs = DiscretizationArgs()) -> DiffopBasis:
    """The SO(2)-equivariant PDOs ``in_repr -> out_repr``, times the Laplacian powers up to ``max_power``."""
    return _tensor(in_repr, out_repr, max_power, discretization, lambda G: isinstance(G, SO2), "SO(2)")


def diffops_O2_act_R2(in_repr: Any, out_repr: Any, max_power: int, axis: float = math.pi / 2,
                      discretization: DiscretizationArgs = DiscretizationArgs()) -> DiffopBasis:
    """The O(2)-equivariant PDOs, the reflection along ``axis``."""
    return _tensor(in_repr, out_repr, max_power, discretization, lambda G: isinstance(G, O2), "O(2)", axis=axis)


def diffops_CN_act_R2(in_repr: Any, out_repr: Any, max_power: int, max_frequency: int = None,
                      max_offset: int = None, discretization: DiscretizationArgs = DiscretizationArgs()
                      ) -> DiffopBasis:
    """The C_N-equivariant PDOs; the angular orders (``|frequency|``) are bounded by ``max_frequency``
    and/or ``max_offset`` (one is needed), the whole order by ``max_frequency + 2 max_power``.

    Examples
    --------
    >>> from e2layers import gspaces
    >>> gs = gspaces.Rot2dOnR2(8)
    >>> basis = diffops_CN_act_R2(gs.trivial_repr, gs.irrep(1), 1, max_frequency=2)
    >>> basis.dim, basis.maximum_order, basis[0]["order"], basis[1]["order"]
    (4, 3, 1, 3)
    """
    return _tensor(in_repr, out_repr, max_power, discretization, lambda G: isinstance(G, CyclicGroup),
                   "a cyclic group C_N", max_frequency=max_frequency, max_offset=max_offset)


def diffops_DN_act_R2(in_repr: Any, out_repr: Any, max_power: int, axis: float = math.pi / 2,
                      max_frequency: int = None, max_offset: int = None,
                      discretization: DiscretizationArgs = DiscretizationArgs()) -> DiffopBasis:
    """The D_N-equivariant PDOs, the reflection along ``axis``."""
    return _tensor(in_repr, out_repr, max_power, discretization, lambda G: isinstance(G, DihedralGroup),
                   "a dihedral group D_N", axis=axis, max_frequency=max_frequency, max_offset=max_offset)


def diffops_Flip_act_R2(in_repr: Any, out_repr: Any, max_power: int, axis: float = math.pi / 2,
                        max_frequency: int = None, max_offset: int = None,
                        discretization: DiscretizationArgs = DiscretizationArgs()) -> DiffopBasis:
    """The PDOs equivariant under the reflection along ``axis`` (the flip group of ``Flip2dOnR2``)."""
    return _tensor(in_repr, out_repr, max_power, discretization, lambda G: isinstance(G, FlipGroup),
                   "the flip group", axis=axis, max_frequency=max_frequency, max_offset=max_offset)


def diffops_Trivial_act_R2(in_repr: Any, out_repr: Any, max_power: int, max_frequency: int = None,
                           max_offset: int = None, discretization: DiscretizationArgs = DiscretizationArgs()
                           ) -> DiffopBasis:
    """All PDOs (the trivial group C_1), angular orders bounded by ``max_frequency`` and/or ``max_offset``."""
    return _tensor(in_repr, out_repr, max_power, discretization,
                   lambda G: isinstance(G, CyclicGroup) and G.rotation_order == 1, "the trivial group C_1",
                   max_frequency=max_frequency, max_offset=max_offset)
