"""Gated non-linearities: GatedNonLinearity1, GatedNonLinearity2, InducedGatedNonLinearity1 and (escnn's)
GatedNonLinearityUniform.

A gated field is multiplied by ``sigmoid(gate - bias)`` where the gate is an invariant scalar (a trivial
field), so the product transforms as the gated field: equivariant for every representation.  In the
induced version the gate is a quotient field ``G/H`` (one scalar per coset, permuted by the group) and
gates, channel by channel, the blocks of a field induced from ``H`` (one block per coset).

e2cnn pairs gates with gated fields in a particular order, which is kept so that its biases load and give
the same numbers: the ``j``-th gate (in field order) gates the ``j``-th gated field after the gated fields
are sorted (stably) by size, and by (size, block size) in the induced version.  e2cnn's index buffers
(``input_indices_*``, ``output_indices_*``, ``gates_indices``, ``indices_*``) are not stored.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from basisgen.errors import InvalidTypeError, InvalidValueError

from ._checks import check_field_type, flag
from ._memory_format import keep_memory_format
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["GatedNonLinearity1", "GatedNonLinearity2", "InducedGatedNonLinearity1", "GatedNonLinearityUniform"]

GATES_ID = "gate"
GATED_ID = "gated"


def gate_activation(x: torch.Tensor, gates: torch.Tensor, bias: torch.Tensor, per_gate: int, src: torch.Tensor,
                    gate_mask: Optional[torch.Tensor]) -> torch.Tensor:
    """``x * sigmoid(gates - bias)[:, src]``, channel by channel.

    ``gates`` holds ``per_gate`` channels per bias entry; ``src[c]`` is the gate channel of output channel
    ``c``.  The channels where ``gate_mask`` (if given) is set output the gate values themselves.
    """
    ones = [1] * (x.dim() - 2)
    b = bias.reshape(-1)
    if per_gate > 1:
        b = b.repeat_interleave(per_gate)
    g = torch.sigmoid(gates - b.reshape([1, -1] + ones)).index_select(1, src)
    y = x * g
    if gate_mask is not None:
        y = torch.where(gate_mask.reshape([1, -1] + ones), g, y)
    return y


class GatedNonLinearityExport(torch.nn.Module):
    """Plain-PyTorch gated non-linearity on one tensor holding gates and gated fields (what
    :class:`GatedNonLinearity1` and :class:`InducedGatedNonLinearity1` export to); scriptable.

    Examples
    --------
    >>> import torch
    >>> f = GatedNonLinearityExport(torch.tensor([0]), torch.tensor([1, 2]), torch.tensor([0, 0]), None,
    ...                             torch.zeros(1, 1, 1, 1), 1)
    >>> f(torch.tensor([[0.0, 2.0, -4.0]])).tolist()      # sigmoid(0) = 1/2
    [[1.0, -2.0]]
    """

    def __init__(self, gate_channels: torch.Tensor, gated_channels: torch.Tensor, src: torch.Tensor,
                 gate_mask: Optional[torch.Tensor], bias: torch.Tensor, per_gate: int):
        super().__init__()
        self.register_buffer("gate_channels", gate_channels.detach().clone())
        self.register_buffer("gated_channels", gated_channels.detach().clone())
        self.register_buffer("src", src.detach().clone())
        self.register_buffer("gate_mask", None if gate_mask is None else gate_mask.detach().clone())
        self.bias = torch.nn.Parameter(bias.detach().clone(), requires_grad=bias.requires_grad)
        self.per_gate = int(per_gate)
        self.keep_gates = gate_mask is not None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gates = x.index_select(1, self.gate_channels)
        gated = x if self.keep_gates else x.index_select(1, self.gated_channels)
        return gate_activation(gated, gates, self.bias, self.per_gate, self.src, self.gate_mask)

    def extra_repr(self) -> str:
        return f"gates={self.bias.numel()}, per_gate={self.per_gate}, keep_gates={self.keep_gates}"


class GatedNonLinearity2Export(torch.nn.Module):
    """Plain-PyTorch gated non-linearity on two tensors, ``forward(gates, input)`` (what
    :class:`GatedNonLinearity2` exports to); scriptable.

    Examples
    --------
    >>> import torch
    >>> f = GatedNonLinearity2Export(torch.tensor([0, 0]), torch.zeros(1, 1, 1, 1))
    >>> f(torch.zeros(1, 1), torch.tensor([[2.0, -4.0]])).tolist()
    [[1.0, -2.0]]
    """

    def __init__(self, src: torch.Tensor, bias: torch.Tensor):
        super().__init__()
        self.register_buffer("src", src.detach().clone())
        self.bias = torch.nn.Parameter(bias.detach().clone(), requires_grad=bias.requires_grad)

    def forward(self, gates: torch.Tensor, input: torch.Tensor) -> torch.Tensor:
        return gate_activation(input, gates, self.bias, 1, self.src, None)

    def extra_repr(self) -> str:
        return f"gates={self.bias.numel()}"


def _warn_kwargs(module: str, kwargs: Dict[str, Any]) -> None:
    if kwargs:
        warnings.warn(f"{module} ignores the keyword arguments {sorted(kwargs)} (as e2cnn does)", stacklevel=3)


def _labels(in_type: FieldType, gates: Optional[Sequence[str]], module: str) -> List[str]:
    if gates is None:
        if len(in_type) % 2:
            raise InvalidValueError(f"{module}: with gates=None the first half of the fields are gates and the second half "
                             f"gated fields, so in_type needs an even number of fields; got {len(in_type)}")
        return [GATES_ID] * (len(in_type) // 2) + [GATED_ID] * (len(in_type) // 2)
    if not isinstance(gates, (list, tuple)) or len(gates) != len(in_type):
        raise InvalidValueError(f"{module}: gates must be a list of {len(in_type)} labels ('gate' or 'gated', one per "
                         f"field of in_type), got {gates!r}")
    for i, g in enumerate(gates):
        if g not in (GATES_ID, GATED_ID):
            raise InvalidValueError(f"{module}: gates may contain only 'gate' and 'gated', got {g!r} at position {i}")
    return list(gates)


def _pairing(gated_keys: List[Any]) -> List[int]:
    """e2cnn's pairing: the gate index of each gated field (gated fields sorted stably by key)."""
    order = sorted(range(len(gated_keys)), key=lambda k: gated_keys[k])
    gate_of = [0] * len(gated_keys)
    for j, k in enumerate(order):
        gate_of[k] = j
    return gate_of


def _tag_size(rho: Any, prefix: str) -> Optional[int]:
    tags = sorted(t for t in rho.supported_nonlinearities if t.startswith(prefix))
    return int(tags[0][len(prefix):]) if len(tags) == 1 else None


class _Gated1(EquivariantModule):
    """Gates and gated fields in one tensor; ``_induced`` selects the induced variant."""

    check_atol = 1e-6

    _induced = False

    def __init__(self, in_type: FieldType, gates: Optional[List[str]] = None, drop_gates: bool = True, **kwargs):
        super().__init__()
        name = type(self).__name__
        check_field_type(in_type)
        _warn_kwargs(name, kwargs)
        drop_gates = flag(drop_gates, "drop_gates")
        labels = _labels(in_type, gates, name)
        reps = in_type.representations
        gate_fields = [i for i, g in enumerate(labels) if g == GATES_ID]
        gated_fields = [i for i, g in enumerate(labels) if g == GATED_ID]
        if len(gate_fields) != len(gated_fields):
            raise InvalidValueError(f"{name}: the number of gates ({len(gate_fields)}) must match the number of gated "
                             f"fields ({len(gated_fields)}); gates={labels}")
        per_gate, blocks = self._check_fields(in_type, gate_fields, gated_fields)
        self.space = in_type.gspace
        self.in_type = in_type
        self.drop_gates = drop_gates
        self.out_type = in_type.index_select(gated_fields) if drop_gates else in_type
        starts = [int(s) for s in in_type.fields_start]
        gate_ch = [c for i in gate_fields for c in range(starts[i], starts[i] + reps[i].size)]
        gate_of = _pairing([(reps[i].size, d) for i, d in zip(gated_fields, blocks)])
        src = {}   # input channel -> gate channel
        for k, i in enumerate(gated_fields):
            for o in range(reps[i].size):
                src[starts[i] + o] = gate_of[k] * per_gate + o // blocks[k]
        if drop_gates:
            out_channels = [c for i in gated_fields for c in range(starts[i], starts[i] + reps[i].size)]
        else:
            src.update({c: p for p, c in enumerate(gate_ch)})
            out_channels = list(range(in_type.size))
        self._per_gate = per_gate
        self.register_buffer("_gate_channels", torch.tensor(gate_ch, dtype=torch.long), persistent=False)
        self.register_buffer("_gated_channels", torch.tensor(out_channels, dtype=torch.long), persistent=False)
        self.register_buffer("_src", torch.tensor([src[c] for c in out_channels], dtype=torch.long),
                             persistent=False)
        field_of = [i for i, r in enumerate(reps) for _ in range(r.size)]
        mask = [labels[field_of[c]] == GATES_ID for c in out_channels]
        self.register_buffer("_gate_mask", None if drop_gates else torch.tensor(mask, dtype=torch.bool),
                             persistent=False)
        shape = (1, len(gate_fields), 1, 1, 1) if self._induced else (1, len(gate_fields), 1, 1)
        self.bias = torch.nn.Parameter(torch.randn(shape))

    def _check_fields(self, in_type: FieldType, gate_fields: List[int], gated_fields: List[int]):
        """Validate the fields; return the gate channels per gate and the block size of each gated field."""
        reps = in_type.representations
        name = type(self).__name__
        bad = sorted({reps[i].name for i in gate_fields if not (reps[i].is_trivial() and reps[i].size == 1)})
        if bad:
            raise InvalidValueError(f"{name}: gate fields must be trivial of size 1 (one invariant scalar per gated "
                             f"field); in_type {in_type!r} has gates {bad}. Label them 'gated', or use "
                             f"InducedGatedNonLinearity1 with quotient gates.")
        bad = sorted({reps[i].name for i in gated_fields if GATED_ID not in reps[i].supported_nonlinearities})
        if bad:
            raise InvalidValueError(f"{name}: gated fields need representations supporting 'gated' (orthogonal "
                             f"representations: irreps, regular, quotient, induced); in_type {in_type!r} has {bad}")
        return 1, [reps[i].size for i in gated_fields]

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        x = input.tensor
        gated = x if not self.drop_gates else x.index_select(1, self._gated_channels)
        y = gate_activation(gated, x.index_select(1, self._gate_channels), self.bias, self._per_gate, self._src,
                            self._gate_mask)
        return GeometricTensor(keep_memory_format(y, x), self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        shape = tuple(input_shape)
        if len(shape) < 2 or shape[1] != self.in_type.size:
            raise InvalidValueError(f"input_shape must be (batch, {self.in_type.size}, ...), got {shape}")
        return (shape[0], self.out_type.size) + shape[2:]

    def export(self) -> GatedNonLinearityExport:
        """The equivalent :class:`GatedNonLinearityExport` (the bias copied)."""
        return GatedNonLinearityExport(self._gate_channels, self._gated_channels, self._src, self._gate_mask,
                                       self.bias, self._per_gate)

    def extra_repr(self) -> str:
        return f"{self.in_type}, gates={self.bias.shape[1]}, drop_gates={self.drop_gates}"


class GatedNonLinearity1(_Gated1):
    """Gated non-linearity: each gated field ``v`` becomes ``sigmoid(g - b) v`` for its gate ``g``, a
    trivial field of the same input (e2cnn's GatedNonLinearity1).

    ``gates`` labels each field ``'gate'`` or ``'gated'`` (default: the first half gates, the second half
    gated); there must be as many gates as gated fields.  Gates are trivial; gated fields may have any
    representation supporting ``'gated'`` (irreps of any group, SO(2) and O(2) included, regular, quotient,
    induced).  ``bias`` (shape ``(1, gates, 1, 1)``) is learnt.  The ``j``-th gate gates the ``j``-th gated
    field in the order of increasing field size (stable), as in e2cnn.  With ``drop_gates=False`` the
    output keeps the gate fields, replaced by ``sigmoid(g - b)``.  Export: :class:`GatedNonLinearityExport`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> so2 = gspaces.Rot2dOnR2(-1, maximum_frequency=2)
    >>> t = nn.FieldType(so2, [so2.trivial_repr, so2.irrep(1)])
    >>> gate = nn.GatedNonLinearity1(t)
    >>> with torch.no_grad():
    ...     _ = gate.bias.fill_(0.0)
    >>> gate.out_type, gate(nn.GeometricTensor(torch.tensor([[0.0, 2.0, -4.0]]), t)).tensor.tolist()
    ([Continuous-Rotations: {irrep_1}], [[1.0, -2.0]])
    """


class InducedGatedNonLinearity1(_Gated1):
    """Gated non-linearity on induced fields (e2cnn's InducedGatedNonLinearity1).

    Gates are quotient fields ``G/H`` (tagged ``'induced_gate'``, e.g. ``gspace.quotient_repr(id)``),
    gated fields are induced from ``H`` (tagged ``'induced_gated_{d}'``, e.g. ``gspace.induced_repr(id,
    ...)``), all from the same subgroup, so a gate has one channel per coset and a gated field one block of
    ``d`` channels per coset.  Block ``q`` of the gated field is multiplied by ``sigmoid(g_q - b)``, ``g_q``
    the ``q``-th channel of its gate; ``bias`` (shape ``(1, gates, 1, 1, 1)``) has one entry per gate field.
    ``gates`` and ``drop_gates`` as in :class:`GatedNonLinearity1`; gated fields are paired with gates after
    sorting them by (size, block size).  Export: :class:`GatedNonLinearityExport`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(8)
    >>> induced = r2.induced_repr(4, r2.fibergroup.subgroup(4)[0].irrep(1))    # 2 cosets x 2 channels
    >>> t = nn.FieldType(r2, [r2.quotient_repr(4), induced])
    >>> gate = nn.InducedGatedNonLinearity1(t)
    >>> with torch.no_grad():
    ...     _ = gate.bias.fill_(0.0)
    >>> x = torch.tensor([[0.0, 100.0, 2.0, 4.0, 6.0, 8.0]])
    >>> gate(nn.GeometricTensor(x, t)).tensor.tolist()
    [[1.0, 2.0, 6.0, 8.0]]
    """

    _induced = True

    def _check_fields(self, in_type: FieldType, gate_fields: List[int], gated_fields: List[int]):
        reps = in_type.representations
        name = type(self).__name__
        bad = sorted({reps[i].name for i in gate_fields if "induced_gate" not in reps[i].supported_nonlinearities})
        if bad:
            raise InvalidValueError(f"{name}: gate fields must be quotient representations (tagged 'induced_gate': "
                             f"gspace.quotient_repr(subgroup_id)); in_type {in_type!r} has gates {bad}. Use "
                             f"GatedNonLinearity1 for trivial gates.")
        sizes = {reps[i].size for i in gate_fields}
        if len(sizes) != 1:
            raise InvalidValueError(f"{name}: all gate fields must be quotients by the same subgroup; got sizes "
                             f"{sorted(sizes)} in {in_type!r}")
        quotient = sizes.pop()
        blocks = []
        for i in gated_fields:
            d = _tag_size(reps[i], "induced_gated_")
            if d is None or d <= 0 or reps[i].size != d * quotient:
                raise InvalidValueError(f"{name}: gated field {i} ({reps[i].name!r}, size {reps[i].size}) must be induced "
                                 f"from the gates' subgroup (tagged 'induced_gated_<d>' with {quotient} blocks)")
            blocks.append(d)
        subgroups = {repr(reps[i].attributes["subgroup_id"]) for i in gate_fields + gated_fields
                     if "subgroup_id" in reps[i].attributes}
        if len(subgroups) > 1:
            raise InvalidValueError(f"{name}: gates and gated fields must be induced from one subgroup, got subgroups "
                             f"{sorted(subgroups)} in {in_type!r}")
        return quotient, blocks


class GatedNonLinearity2(EquivariantModule):
    """Gated non-linearity with gates and gated fields in two tensors: ``forward(gates, input)``
    (e2cnn's GatedNonLinearity2).

    ``in_type`` is the pair ``(gates type, gated type)``: trivial gate fields and as many gated fields
    (representations supporting ``'gated'``).  Each gated field ``v`` becomes ``sigmoid(g - b) v``; the
    ``j``-th gate gates the ``j``-th gated field in the order of increasing field size (stable), as in
    e2cnn.  ``bias`` has shape ``(1, gates, 1, 1)``.  Export: :class:`GatedNonLinearity2Export`, taking two
    tensors.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.FlipRot2dOnR2(4)
    >>> gates, gated = nn.FieldType(r2, [r2.trivial_repr]), nn.FieldType(r2, [r2.irrep(1, 1)])
    >>> gate = nn.GatedNonLinearity2((gates, gated))
    >>> with torch.no_grad():
    ...     _ = gate.bias.fill_(0.0)
    >>> g, x = nn.GeometricTensor(torch.zeros(1, 1), gates), nn.GeometricTensor(torch.tensor([[2.0, -4.0]]), gated)
    >>> gate(g, x).tensor.tolist()
    [[1.0, -2.0]]
    """

    check_atol = 1e-6

    def __init__(self, in_type: Tuple[FieldType, FieldType], **kwargs):
        super().__init__()
        if not isinstance(in_type, (tuple, list)) or len(in_type) != 2:
            raise InvalidTypeError(f"in_type must be a pair (gates FieldType, gated FieldType), got {in_type!r}")
        gates_type = check_field_type(in_type[0], "in_type[0]")
        gated_type = check_field_type(in_type[1], "in_type[1]")
        _warn_kwargs("GatedNonLinearity2", kwargs)
        if gates_type.gspace != gated_type.gspace:
            raise InvalidValueError(f"GatedNonLinearity2: the gates and the gated fields must share one gspace, got "
                             f"{gates_type.gspace.name} and {gated_type.gspace.name}")
        bad = sorted({r.name for r in gates_type.representations if not (r.is_trivial() and r.size == 1)})
        if bad:
            raise InvalidValueError(f"GatedNonLinearity2: gate fields must be trivial of size 1; in_type[0] {gates_type!r} "
                             f"has {bad}")
        bad = sorted({r.name for r in gated_type.representations if GATED_ID not in r.supported_nonlinearities})
        if bad:
            raise InvalidValueError(f"GatedNonLinearity2: gated fields need representations supporting 'gated'; "
                             f"in_type[1] {gated_type!r} has {bad}")
        if len(gates_type) != len(gated_type):
            raise InvalidValueError(f"GatedNonLinearity2: the number of gates ({len(gates_type)}) must match the number "
                             f"of gated fields ({len(gated_type)})")
        self.space = gates_type.gspace
        self.in_type = (gates_type, gated_type)
        self.out_type = gated_type
        gate_of = _pairing([r.size for r in gated_type.representations])
        src = [gate_of[k] for k, r in enumerate(gated_type.representations) for _ in range(r.size)]
        self.register_buffer("_src", torch.tensor(src, dtype=torch.long), persistent=False)
        self.bias = torch.nn.Parameter(torch.randn(1, len(gates_type), 1, 1))

    def forward(self, gates: GeometricTensor, input: GeometricTensor) -> GeometricTensor:
        for name, x, t in (("gates", gates, self.in_type[0]), ("input", input, self.in_type[1])):
            if not isinstance(x, GeometricTensor):
                raise InvalidTypeError(f"GatedNonLinearity2 expects {name} as a GeometricTensor of type {t!r}, got "
                                f"{type(x).__name__}")
            if x.type != t:
                raise InvalidValueError(f"GatedNonLinearity2 expects {name} of type {t!r}, got {x.type!r}")
        if gates.tensor.shape[0] != input.tensor.shape[0] or gates.tensor.shape[2:] != input.tensor.shape[2:]:
            raise InvalidValueError(f"GatedNonLinearity2: gates and input must agree in batch and spatial shape, got "
                             f"{tuple(gates.tensor.shape)} and {tuple(input.tensor.shape)}")
        y = keep_memory_format(gate_activation(input.tensor, gates.tensor, self.bias, 1, self._src, None), input.tensor)
        return GeometricTensor(y, self.out_type)

    def evaluate_output_shape(self, *input_shapes: Tuple[int, ...]) -> Tuple[int, ...]:
        if len(input_shapes) != 2:
            raise InvalidValueError(f"GatedNonLinearity2.evaluate_output_shape takes the gates' and the input's shapes, "
                             f"got {len(input_shapes)} shapes")
        gates_shape, input_shape = (tuple(s) for s in input_shapes)
        for name, shape, t in (("gates", gates_shape, self.in_type[0]), ("input", input_shape, self.in_type[1])):
            if len(shape) < 2 or shape[1] != t.size:
                raise InvalidValueError(f"the {name} shape must be (batch, {t.size}, ...), got {shape}")
        if gates_shape[0] != input_shape[0] or gates_shape[2:] != input_shape[2:]:
            raise InvalidValueError(f"gates and input must agree in batch and spatial shape, got {gates_shape} and "
                             f"{input_shape}")
        return (input_shape[0], self.out_type.size) + input_shape[2:]

    def export(self) -> GatedNonLinearity2Export:
        """The equivalent :class:`GatedNonLinearity2Export`, ``forward(gates, input)`` on tensors."""
        return GatedNonLinearity2Export(self._src, self.bias)

    def extra_repr(self) -> str:
        return f"{self.in_type[0]}, {self.in_type[1]}"


# ---- escnn's GatedNonLinearityUniform: gates inside each field ---------------------------------------------------
def _uniform_gate(x: torch.Tensor, bias: torch.Tensor, src: torch.Tensor, fields: int, gates: int,
                  gate: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """``gate(gates - bias)[src] * gated`` field by field: ``x`` is (batch, fields * (gates + gated), ...)."""
    shape = x.shape
    spatial = [int(s) for s in shape[2:]]
    y = x.reshape([shape[0], fields, shape[1] // fields] + spatial)
    g = gate(y[:, :, :gates] - bias.reshape([1, fields, gates] + [1] * len(spatial)))
    out = g.index_select(2, src) * y[:, :, gates:]
    return out.reshape([shape[0], out.shape[1] * out.shape[2]] + spatial)


class GatedNonLinearityUniformExport(torch.nn.Module):
    """Plain-PyTorch form of :class:`GatedNonLinearityUniform` (what its ``export()`` returns).

    Examples
    --------
    >>> import torch
    >>> f = GatedNonLinearityUniformExport(torch.zeros(1, 1, 1), torch.tensor([0, 0]), 1, 1)
    >>> f(torch.tensor([[0.0, 2.0, -4.0]])).tolist()      # sigmoid(0) = 1/2
    [[1.0, -2.0]]
    """

    def __init__(self, bias: torch.Tensor, src: torch.Tensor, fields: int, gates: int,
                 gate: Callable[[torch.Tensor], torch.Tensor] = torch.sigmoid):
        super().__init__()
        self.bias = torch.nn.Parameter(bias.detach().clone(), requires_grad=bias.requires_grad)
        self.register_buffer("src", src.detach().clone())
        self.fields, self.gates, self.gate = int(fields), int(gates), gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _uniform_gate(x, self.bias, self.src, self.fields, self.gates, self.gate)

    def extra_repr(self) -> str:
        return f"fields={self.fields}, gates={self.gates}, gate={getattr(self.gate, '__name__', self.gate)}"


class GatedNonLinearityUniform(EquivariantModule):
    """Gated non-linearity on fields that carry their own gates (escnn's ``GatedNonLinearityUniform``).

    ``in_type`` holds copies of one representation whose change of basis is the identity and whose ``2n``
    irreps are ``n`` trivial irreps (the gates) followed by ``n`` irreps (the gated ones): the ``i``-th
    gated irrep of each field is multiplied by ``gate(g_i - b_i)`` for the ``i``-th gate ``g_i`` of the
    same field.  The output has one field per input field, the direct sum of the gated irreps.  ``bias``
    (shape ``(1, fields, n)``, drawn from a normal distribution as in escnn) is learnt.  Any group; exact
    for every element since the gates are invariant.  ``gate`` must map a tensor to a tensor of the same
    shape, element-wise (default ``torch.sigmoid``; a module-level function keeps the module picklable).
    Export: :class:`GatedNonLinearityUniformExport`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> from e2layers.group import directsum
    >>> r2 = gspaces.Rot2dOnR2(-1, maximum_frequency=2)
    >>> G = r2.fibergroup
    >>> rho = directsum([G.irrep(0), G.irrep(0), G.irrep(1), G.irrep(2)])
    >>> gate = nn.GatedNonLinearityUniform(nn.FieldType(r2, 3 * [rho]))
    >>> gate.out_type.size, tuple(gate.bias.shape)
    (12, (1, 3, 2))
    """

    check_atol = 1e-6

    def __init__(self, in_type: FieldType, gate: Callable[[torch.Tensor], torch.Tensor] = torch.sigmoid):
        super().__init__()
        check_field_type(in_type)
        if not callable(gate):
            raise InvalidTypeError(f"gate must be a callable (e.g. torch.sigmoid), got {type(gate).__name__}")
        rho = in_type.representations[0]
        if any(r != rho for r in in_type.representations):
            raise InvalidValueError(f"GatedNonLinearityUniform needs a uniform in_type (copies of one representation), "
                                    f"got {in_type!r}")
        irreps = list(rho.basisgen.irreps)
        n = len(irreps) // 2
        if len(irreps) % 2 or not all(psi.is_trivial() for psi in irreps[:n]):
            raise InvalidValueError(f"GatedNonLinearityUniform: the representation's irreps must be n trivial gates "
                                    f"followed by n gated irreps, got {rho.irreps}")
        if not np.allclose(rho.change_of_basis, np.eye(rho.size)):
            raise InvalidValueError(f"GatedNonLinearityUniform: the representation {rho.name!r} must have the identity "
                                    f"as change of basis")
        from ..group import directsum
        G = in_type.fibergroup
        out_rho = directsum([G.irrep(*psi.id) for psi in irreps[n:]])
        self.space = in_type.gspace
        self.in_type = in_type
        self.out_type = FieldType(in_type.gspace, len(in_type) * [out_rho])
        self.rho_in, self.rho_out, self.n_gates = rho, out_rho, n
        self.gate_function = gate
        src = [i for i, psi in enumerate(irreps[n:]) for _ in range(psi.dim)]
        self.register_buffer("_src", torch.tensor(src, dtype=torch.long), persistent=False)
        self.bias = torch.nn.Parameter(torch.randn(1, len(in_type), n))

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        x = input.tensor
        y = _uniform_gate(x, self.bias, self._src, len(self.in_type), self.n_gates, self.gate_function)
        return GeometricTensor(keep_memory_format(y, x), self.out_type, input.coords)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        shape = tuple(input_shape)
        if len(shape) < 2 or shape[1] != self.in_type.size:
            raise InvalidValueError(f"input_shape must be (batch, {self.in_type.size}, ...), got {shape}")
        return (shape[0], self.out_type.size) + shape[2:]

    def export(self) -> GatedNonLinearityUniformExport:
        """The equivalent :class:`GatedNonLinearityUniformExport` (the bias copied)."""
        return GatedNonLinearityUniformExport(self.bias, self._src, len(self.in_type), self.n_gates,
                                              self.gate_function)

    def extra_repr(self) -> str:
        return f"{self.in_type}, gates={self.n_gates}, gate={getattr(self.gate_function, '__name__', '?')}"
