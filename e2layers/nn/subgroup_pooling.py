"""``SubgroupPooling``: pool each regular field over the cosets of a subgroup H, giving a quotient field G/H.

A regular field of a finite group G has one channel per element x of G, and g acts by moving channel x to
channel g x.  The left cosets x H partition the channels into |G|/|H| blocks of |H|, and g maps the block
x H onto the block g x H: so the largest (or the mean) entry of each block is a field on which g acts by
permuting the cosets, i.e. a field of the quotient representation G/H.  The map is G-equivariant and
invariant under the right action of H on each field (f_x -> f_{x h}): the pooled field no longer tells
the poses x and x h apart.  With G = D_N and H = {e, f} a flip, the output is rotation-equivariant and
forgets the reflection of the pose (the "pooling over the flip"); restricted to C_N it is exactly the
regular representation of C_N.  docs/restricting.md, "Pooling over a subgroup", has the details.
"""
from __future__ import annotations

from typing import Any, List, Tuple

import numpy as np
import torch

from basisgen.errors import InvalidValueError
from basisgen.induced import coset_representatives

from ._checks import check_field_type, check_shape, one_of
from ._memory_format import keep_memory_format
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["SubgroupPooling", "CosetPool"]

_POOLINGS = ("max", "mean")


class CosetPool(torch.nn.Module):
    """Plain-PyTorch pooling of channel blocks: ``x.index_select(1, indices)`` viewed as (batch, outputs,
    ``block``, ...) and reduced over the blocks by ``max`` or ``mean`` (what :class:`SubgroupPooling`
    exports to).

    Examples
    --------
    >>> import torch
    >>> CosetPool([0, 2, 1, 3], 2, "max")(torch.tensor([[1., 5., 3., 2.]]))
    tensor([[3., 5.]])
    """

    def __init__(self, indices: Any, block: int, pooling: str = "max"):
        super().__init__()
        self.register_buffer("indices", torch.as_tensor(indices, dtype=torch.long).clone())
        self.block = int(block)
        self.pooling = one_of(pooling, "pooling", _POOLINGS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.index_select(1, self.indices)
        y = y.view([y.shape[0], y.shape[1] // self.block, self.block] + list(y.shape[2:]))
        return y.amax(dim=2) if self.pooling == "max" else y.mean(dim=2)

    def extra_repr(self) -> str:
        return f"outputs={len(self.indices) // self.block}, block={self.block}, pooling={self.pooling!r}"


def _coset_channels(group: Any, subgroup_id: Any) -> Tuple[List[List[int]], Any]:
    """Per coset (in the quotient representation's order), the channels of a regular field in it; and the
    quotient representation.  Both conventions (channel x of the regular field is element x of
    ``group.elements``; basis vector i of the quotient is the coset of the i-th representative) are
    checked on every element, so a change in either fails loudly here rather than silently downstream."""
    G = group.basisgen
    elements = list(group.elements)
    channel = {e: i for i, e in enumerate(elements)}
    H, parent, _ = G.subgroup(subgroup_id)
    representatives, coset_of = coset_representatives(G, subgroup_id)
    cosets = [[channel[G.combine(r, parent(h))] for h in H.elements] for r in representatives]
    regular, quotient = group.regular_representation, group.quotient_representation(subgroup_id)
    for g in elements:
        moved = np.zeros((len(elements), len(elements)))
        moved[[channel[G.combine(g, x)] for x in elements], range(len(elements))] = 1
        permuted = np.zeros((len(cosets), len(cosets)))
        permuted[[coset_of(G.combine(g, r)) for r in representatives], range(len(cosets))] = 1
        if not (np.allclose(regular(g), moved, atol=1e-9) and np.allclose(quotient(g), permuted, atol=1e-9)):
            raise AssertionError(f"the regular or quotient representation of {group.name} does not permute "
                                 f"elements/cosets as SubgroupPooling assumes (element {g!r})")
    return cosets, quotient


class SubgroupPooling(EquivariantModule):
    """Pools every regular field of a finite group G over the cosets ``x H`` of the subgroup ``subgroup_id``:
    each field of size |G| becomes a field of G's quotient representation G/H (size |G|/|H|).

    ``subgroup_id`` is a subgroup id as ``gspace.restrict`` and ``gspace.quotient_repr`` take it (for
    ``FlipRot2dOnR2(N)``: ``(0, 1)`` is the flip ``{e, f}``, ``(None, M)`` the rotations C_M, ``(a, M)``
    D_M; for ``Rot2dOnR2(N)``: a divisor M).  ``pooling`` is ``'max'`` (default) or ``'mean'``.  The output is
    G-equivariant, and invariant under the right action of H on each input field.  All input fields must be
    regular (route other fields around it with a :class:`BranchingModule`).

    Export: :class:`CosetPool` (``index_select``, then ``amax``/``mean``).

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> d8 = gspaces.FlipRot2dOnR2(8)
    >>> t = nn.FieldType(d8, 3 * [d8.regular_repr])
    >>> pool = nn.SubgroupPooling(t, (0, 1))       # over the flip: D_8 regular (16) -> D_8 / {e, f} (8)
    >>> pool.out_type.size, pool.out_type.representations[0].name
    (24, 'quotient[(0, 1)]')
    >>> pool(nn.GeometricTensor(torch.randn(2, 48, 5, 5), t)).shape
    torch.Size([2, 24, 5, 5])
    >>> pool.export()
    CosetPool(outputs=24, block=2, pooling='max')
    """

    def __init__(self, in_type: FieldType, subgroup_id: Any, pooling: str = "max"):
        super().__init__()
        check_field_type(in_type)
        self.pooling = one_of(pooling, "pooling", _POOLINGS)
        group = in_type.gspace.fibergroup
        if group.continuous:
            raise InvalidValueError(f"SubgroupPooling needs a finite group (regular fields); {group.name} is continuous")
        regular = group.regular_representation
        bad = sorted({r.name for r in in_type.representations if r != regular})
        if bad:
            raise InvalidValueError(f"in_type must hold regular fields of {group.name} only, got {bad}; route the "
                                    f"other fields around SubgroupPooling (e.g. with BranchingModule)")
        try:
            cosets, quotient = _coset_channels(group, subgroup_id)
        except (ValueError, TypeError, KeyError) as err:
            raise InvalidValueError(f"subgroup_id={subgroup_id!r} is not a subgroup id of {group.name} ({err})") from err
        self.space = in_type.gspace
        self.subgroup_id = subgroup_id
        self.in_type = in_type
        self.out_type = FieldType(self.space, [quotient] * len(in_type))
        self.subgroup_order = len(cosets[0])
        starts = [int(s) for s in in_type.fields_start]
        indices = [start + c for start in starts for coset in cosets for c in coset]
        self.register_buffer("indices", torch.as_tensor(indices, dtype=torch.long), persistent=False)

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        x = input.tensor
        y = x.index_select(1, self.indices)
        y = y.view([y.shape[0], self.out_type.size, self.subgroup_order] + list(y.shape[2:]))
        y = y.amax(dim=2) if self.pooling == "max" else y.mean(dim=2)
        return GeometricTensor(keep_memory_format(y, x), self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        shape = check_shape(self, input_shape, False)
        return (shape[0], self.out_type.size) + shape[2:]

    def export(self) -> CosetPool:
        """The equivalent :class:`CosetPool`."""
        return CosetPool(self.indices, self.subgroup_order, self.pooling)

    def extra_repr(self) -> str:
        return f"{self.in_type}, subgroup_id={self.subgroup_id!r}, pooling={self.pooling!r}"
