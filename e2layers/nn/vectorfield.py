"""VectorFieldNonLinearity: a regular field of C_N becomes a planar vector.

Channel ``i`` of a regular field of the rotations C_N belongs to the rotation by ``2 pi i / N``.  The
output vector points at the angle of the largest channel and has the length ``relu`` of its value.  A
rotation by ``2 pi r / N`` shifts the channels cyclically by ``r``, so it adds ``2 pi r / N`` to that
angle: the vector transforms by the frequency-1 irrep.
"""
from __future__ import annotations

import math
import warnings
from typing import Tuple

import torch

from basisgen.errors import InvalidValueError

from ._checks import check_shape, check_supports
from ._memory_format import keep_memory_format
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["VectorFieldNonLinearity"]


def vector_field_activation(x: torch.Tensor, rotations: int) -> torch.Tensor:
    """Each block of ``rotations`` channels becomes ``relu(max) (cos a, sin a)``, ``a`` the angle of the argmax."""
    shape = list(x.shape)
    fm = x.reshape([shape[0], shape[1] // rotations, rotations] + shape[2:])
    values, indices = torch.max(fm, dim=2)
    values = torch.relu(values)
    angles = indices.to(x.dtype) * (2.0 * math.pi / rotations)
    return torch.stack((torch.cos(angles) * values, torch.sin(angles) * values), dim=2).flatten(1, 2)


class VectorFieldNonLinearityExport(torch.nn.Module):
    """Plain-PyTorch vector-field non-linearity (what :class:`VectorFieldNonLinearity` exports to).

    Examples
    --------
    >>> import torch
    >>> VectorFieldNonLinearityExport(4)(torch.tensor([[0.0, 2.0, 1.0, -1.0]])).round().tolist()
    [[-0.0, 2.0]]
    """

    def __init__(self, rotations: int):
        super().__init__()
        self.rotations = int(rotations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return vector_field_activation(x, self.rotations)

    def extra_repr(self) -> str:
        return f"rotations={self.rotations}"


class VectorFieldNonLinearity(EquivariantModule):
    """Vector-field non-linearity (e2cnn's VectorFieldNonLinearity): each regular field of the rotations
    C_N becomes a field of the frequency-1 irrep, the vector ``relu(m) (cos a, sin a)`` where ``m`` is
    the field's largest channel and ``a = 2 pi i / N`` the rotation of that channel ``i``.

    Accepts only regular fields of ``Rot2dOnR2(N)`` with ``N >= 3`` (the frequency-1 irrep of C2 is not
    a vector; e2cnn fails there too).  Export: :class:`VectorFieldNonLinearityExport`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.regular_repr])
    >>> vf = nn.VectorFieldNonLinearity(t)
    >>> vf.out_type
    [4-Rotations: {irrep_1}]
    >>> vf(nn.GeometricTensor(torch.tensor([[0.0, 2.0, 1.0, -1.0]]), t)).tensor.round().tolist()
    [[-0.0, 2.0]]
    """

    check_atol = 1e-6

    def __init__(self, in_type: FieldType, **kwargs):
        super().__init__()
        check_supports(in_type, "vectorfield", "VectorFieldNonLinearity", "regular representations of C_N",
                       "Use NormNonLinearity or GatedNonLinearity1, or GroupPooling for invariant outputs.")
        G = in_type.fibergroup
        finite_rotations = G.elements is not None and all(isinstance(e, int) for e in G.elements)
        if not finite_rotations or G.order() < 3 or in_type.gspace.irrep(1).size != 2:
            raise InvalidValueError(f"VectorFieldNonLinearity needs the rotations C_N with N >= 3 (Rot2dOnR2(N)), whose "
                             f"frequency-1 irrep is a planar vector; got {in_type.gspace.name}")
        bad = sorted({r.name for r in in_type.representations if r.name != "regular" or r.size != G.order()})
        if bad:
            raise InvalidValueError(f"VectorFieldNonLinearity accepts only regular fields; in_type {in_type!r} has {bad}")
        if kwargs:
            warnings.warn(f"VectorFieldNonLinearity ignores the keyword arguments {sorted(kwargs)} (as e2cnn does)",
                          stacklevel=2)
        self.space = in_type.gspace
        self.in_type = in_type
        self.out_type = FieldType(self.space, [self.space.irrep(1)] * len(in_type))
        self._rotations = G.order()

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        y = vector_field_activation(input.tensor, self._rotations)
        return GeometricTensor(keep_memory_format(y, input.tensor), self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        shape = check_shape(self, input_shape, False)
        return (shape[0], self.out_type.size) + shape[2:]

    def export(self) -> VectorFieldNonLinearityExport:
        """The equivalent :class:`VectorFieldNonLinearityExport`."""
        return VectorFieldNonLinearityExport(self._rotations)

    def extra_repr(self) -> str:
        return f"{self.in_type}"
