"""Modules that only re-label or re-order channels: ``ReshuffleModule``, ``RestrictionModule`` and
``DisentangleModule``.

None of them computes anything: a reshuffle or a disentanglement is a fixed permutation of the
channels (``index_select`` on dimension 1, exact in any dtype), a restriction only changes the type.
"""
from __future__ import annotations

import operator
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
import torch

from basisgen.errors import InvalidValueError

from ..group import disentangle
from ._checks import check_field_type, check_shape
from ._memory_format import keep_memory_format
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["ReshuffleModule", "RestrictionModule", "DisentangleModule"]


class ChannelPermutation(torch.nn.Module):
    """Plain-PyTorch ``x.index_select(1, indices)``: what Reshuffle and Disentangle modules export to.

    Examples
    --------
    >>> import torch
    >>> ChannelPermutation([2, 0, 1])(torch.tensor([[10., 11., 12.]]))
    tensor([[12., 10., 11.]])
    """

    def __init__(self, indices: Any):
        super().__init__()
        self.register_buffer("indices", torch.as_tensor(indices, dtype=torch.long).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.index_select(1, self.indices)

    def extra_repr(self) -> str:
        return f"channels={len(self.indices)}"


def _field_channels(in_type: FieldType) -> List[np.ndarray]:
    """The channel indices of each field of ``in_type``."""
    starts = [int(s) for s in in_type.fields_start]
    return [np.arange(s, s + rho.size) for s, rho in zip(starts, in_type.representations)]


def _field_indices(permutation: Any, n: int) -> List[int]:
    """``permutation`` as a list of ints covering every field index ``0..n-1`` (repeats allowed, as e2cnn)."""
    try:
        indices = [operator.index(i) for i in permutation]
    except TypeError:
        indices = None
    if indices is None or isinstance(permutation, (str, bytes)) or set(indices) != set(range(n)):
        raise InvalidValueError(f"permutation must list the {n} field indices 0..{n - 1} of in_type (each at least "
                                f"once), got {permutation!r}")
    return indices


class ReshuffleModule(EquivariantModule):
    """Permutes the *fields* of the input: output field ``i`` is input field ``permutation[i]``.

    Parameters
    ----------
    in_type:
        The input field type (any representations).
    permutation:
        A permutation of ``0, ..., len(in_type) - 1`` (any sequence of ints).  As in e2cnn, an index
        may repeat (the field is copied) as long as every field appears.

    Export: :class:`ChannelPermutation` (``index_select`` on the channels).

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.trivial_repr, r2.irrep(1)])
    >>> shuffle = nn.ReshuffleModule(t, [1, 0])
    >>> shuffle.out_type
    [4-Rotations: {irrep_1, irrep_0}]
    >>> shuffle(nn.GeometricTensor(torch.tensor([[0., 1., 2.]]), t)).tensor
    tensor([[1., 2., 0.]])
    """

    def __init__(self, in_type: FieldType, permutation: Sequence[int]):
        super().__init__()
        check_field_type(in_type)
        self.space = in_type.gspace
        self.in_type = in_type
        self.permutation = _field_indices(permutation, len(in_type))
        self.out_type = in_type.index_select(self.permutation)
        channels = _field_channels(in_type)
        indices = np.concatenate([channels[i] for i in self.permutation])
        # e2cnn's persistent ``indices`` buffer is derived data: not in the state_dict here
        self.register_buffer("indices", torch.as_tensor(indices, dtype=torch.long), persistent=False)

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        return GeometricTensor(keep_memory_format(input.tensor.index_select(1, self.indices), input.tensor),
                               self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        shape = check_shape(self, input_shape, False)
        return (shape[0], self.out_type.size) + shape[2:]

    def export(self) -> ChannelPermutation:
        """A :class:`ChannelPermutation` with the same channel order."""
        return ChannelPermutation(self.indices)

    def extra_repr(self) -> str:
        return f"{self.in_type}, permutation={self.permutation}"


class RestrictionModule(EquivariantModule):
    """Restricts the input type to the subgroup ``id`` (``in_type.restrict(id)``); the tensor is unchanged.

    ``id`` is a subgroup id of the input's gspace (see ``gspace.restrict``): for ``Rot2dOnR2(N)`` a
    divisor ``M`` of ``N`` (C_M), for ``FlipRot2dOnR2(N)`` a pair ``(axis, M)`` (``(None, M)`` for the
    rotations C_M only), for SO(2)/O(2) the same with ``M = -1`` for the continuous subgroups.
    Export: ``torch.nn.Identity``.

    Examples
    --------
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.FlipRot2dOnR2(4)
    >>> restrict = nn.RestrictionModule(nn.FieldType(r2, [r2.regular_repr]), (None, 4))
    >>> restrict.out_type.gspace.name, restrict.out_type.size
    ('4-Rotations', 8)
    >>> restrict.export()
    Identity()
    """

    def __init__(self, in_type: FieldType, id: Any):
        super().__init__()
        check_field_type(in_type)
        self.space = in_type.gspace
        self._id = id
        self.in_type = in_type
        try:
            self.out_type = in_type.restrict(id)
        except (ValueError, TypeError, KeyError, NotImplementedError) as err:
            raise InvalidValueError(f"RestrictionModule: id={id!r} is not a subgroup id of {in_type.gspace.name} "
                             f"({err})") from err

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        return GeometricTensor(input.tensor, self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        return check_shape(self, input_shape, False)

    def _check_protocol(self) -> Dict[str, Any]:
        """The grid-exact elements ``h`` of the subgroup, acting on the input as ``parent(h)``: ``f(parent(h) . x)``
        against ``h . f(x)``."""
        _, parent, _ = self.in_type.gspace.restrict(self._id)
        subspace = self.out_type.gspace
        return dict(elements=subspace.grid_elements(), input_action=lambda x, h: x.transform(parent(h)))

    def export(self) -> torch.nn.Identity:
        """A ``torch.nn.Identity``."""
        return torch.nn.Identity()

    def extra_repr(self) -> str:
        return f"{self.in_type}, id={self._id!r}"


class DisentangleModule(EquivariantModule):
    """Splits every field into the independent blocks found by ``group.disentangle`` (a permutation of
    its channels), e.g. a direct sum into its summands.

    Each input field is replaced, at the same channels, by its disentangled fields; the channels
    inside the field are permuted accordingly.  Export: :class:`ChannelPermutation`.

    Examples
    --------
    >>> from e2layers import group, gspaces, nn
    >>> r2 = gspaces.FlipRot2dOnR2(4)
    >>> t = nn.FieldType(r2, [group.directsum([r2.regular_repr, r2.irrep(1, 1)])])
    >>> nn.DisentangleModule(t).out_type.fields_names()
    ['[regular]_[irrep_1,1]_0', '[regular]_[irrep_1,1]_1']
    """

    def __init__(self, in_type: FieldType):
        super().__init__()
        check_field_type(in_type)
        self.space = in_type.gspace
        self.in_type = in_type
        parts, orders = {}, {}
        for rho in in_type.representations:
            if rho.name in parts:
                continue
            cob, reprs = disentangle(rho)
            cob = np.asarray(cob)
            order = cob.argmax(axis=1)
            if not np.array_equal(cob, np.eye(rho.size)[order]):
                raise InvalidValueError(f"DisentangleModule: group.disentangle returned a change of basis for {rho.name!r} "
                                 f"that is not a permutation")
            parts[rho.name], orders[rho.name] = reprs, order
        self.out_type = FieldType(in_type.gspace, [p for rho in in_type.representations for p in parts[rho.name]])
        indices = np.concatenate([channels[orders[rho.name]] for rho, channels in
                                  zip(in_type.representations, _field_channels(in_type))])
        self.register_buffer("indices", torch.as_tensor(indices, dtype=torch.long), persistent=False)

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        return GeometricTensor(keep_memory_format(input.tensor.index_select(1, self.indices), input.tensor),
                               self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        return check_shape(self, input_shape, False)

    def export(self) -> ChannelPermutation:
        """A :class:`ChannelPermutation` with the same channel order."""
        return ChannelPermutation(self.indices)

    def extra_repr(self) -> str:
        return f"{self.in_type}"
