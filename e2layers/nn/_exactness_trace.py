"""One forward pass, recorded layer by layer: what the exactness analyzer reads.

:func:`layers_of` picks the modules to watch: every equivariant module that holds no other equivariant
module (``R2Conv``, ``ReLU``, ``GroupPooling``; not ``SequentialModule``), and every plain module without
children (``torch.nn.Conv2d``, ``Linear``, ``Flatten``).  :class:`Recorder` hooks them and keeps, for each
call in execution order, a copy of its inputs (taken before it runs: in-place modules change them) and of
its output, and which earlier call produced each input.  An input is traced by identity (the object, or the
tensor under a GeometricTensor, that an earlier call returned); where the model's own forward made a new
one (``out + shortcut``, ``F.adaptive_avg_pool2d(x, 1)``) the producer is the latest call whose output has
the same shape, then the same spatial size, else unknown.

A plain tensor carries no field type.  :attr:`Call.plain_type` guesses it the way the data flows: a plain
tensor that is a GeometricTensor's ``.tensor`` has that type, and a plain module that keeps the number of
channels keeps its input's type (a ``ReLU`` on regular fields); otherwise fields are taken as trivial.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

import torch

from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["Call", "Recorder", "layers_of", "leaves", "clone_value", "spatial_size"]

#: producer of the model's own input
MODEL_INPUT = -1


def leaves(value: Any) -> List[Any]:
    """The GeometricTensors and tensors in ``value`` (itself, or inside tuples, lists and dicts), in order."""
    if isinstance(value, (GeometricTensor, torch.Tensor)):
        return [value]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in leaves(v)]
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in leaves(v)]
    return []


def clone_value(value: Any) -> Any:
    """A copy of ``value`` whose tensors no later in-place operation can change."""
    if isinstance(value, GeometricTensor):
        return GeometricTensor(value.tensor.detach().clone(), value.type, value.coords)
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: clone_value(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(clone_value(v) for v in value)
    return value


def _data(leaf: Any) -> torch.Tensor:
    return leaf.tensor if isinstance(leaf, GeometricTensor) else leaf


def spatial_size(leaf: Any) -> Optional[Tuple[int, int]]:
    """``(H, W)`` of a feature map (a 4D tensor or GeometricTensor), None for anything else."""
    data = _data(leaf)
    return tuple(data.shape[2:]) if data.ndim == 4 else None


def layers_of(model: torch.nn.Module) -> List[Tuple[str, torch.nn.Module]]:
    """``(qualified name, module)`` of the modules the analyzer watches, in registration order."""
    out: List[Tuple[str, torch.nn.Module]] = []

    def visit(name: str, module: torch.nn.Module) -> None:
        children = list(module.named_children())
        holds_equivariant = any(isinstance(m, EquivariantModule) for m in module.modules() if m is not module)
        if not children or (isinstance(module, EquivariantModule) and not holds_equivariant):
            out.append((name or type(module).__name__, module))
            return
        for child_name, child in children:
            visit(f"{name}.{child_name}" if name else child_name, child)

    visit("", model)
    return out


@dataclass
class Call:
    """One call of a watched module: its inputs (a copy from before it ran), its output (a copy), and the
    calls that produced its inputs (:data:`MODEL_INPUT`, an earlier call's index, or None: unknown)."""

    index: int
    name: str
    module: torch.nn.Module
    args: Tuple[Any, ...]
    kwargs: Dict[str, Any]
    output: Any = None
    producers: List[Optional[int]] = field(default_factory=list)
    plain_type: Optional[FieldType] = None

    @property
    def kind(self) -> str:
        return type(self.module).__name__

    @property
    def equivariant(self) -> bool:
        return isinstance(self.module, EquivariantModule)

    @property
    def in_leaves(self) -> List[Any]:
        return leaves(self.args)

    @property
    def out_leaves(self) -> List[Any]:
        return leaves(self.output)

    @property
    def in_size(self) -> Optional[Tuple[int, int]]:
        """The spatial size of the first feature-map input, None if it has none."""
        sizes = [spatial_size(leaf) for leaf in self.in_leaves]
        return next((s for s in sizes if s is not None), None)

    @property
    def out_size(self) -> Optional[Tuple[int, int]]:
        sizes = [spatial_size(leaf) for leaf in self.out_leaves]
        return next((s for s in sizes if s is not None), None)


class Recorder:
    """Records every call of the watched modules of ``model`` while active (``with recorder.watching():``).

    ``model_input`` is the model's input (a tensor or a GeometricTensor); its field type, when the model
    wraps it itself (``nn.GeometricTensor(x, self.in_type)``, ``nn.TensorToGeometric``), is
    :attr:`input_type` after the pass.
    """

    def __init__(self, model: torch.nn.Module, model_input: Any):
        self.layers = layers_of(model)
        self.calls: List[Call] = []
        self.input_type: Optional[FieldType] = model_input.type if isinstance(model_input, GeometricTensor) else None
        self._input = model_input
        self._owners: Dict[int, Tuple[int, Any]] = {}        # id of an object returned by a call -> (call, object)
        self._shapes: List[Tuple[int, Tuple[int, ...]]] = []   # (call, shape of its output leaves) in order
        for leaf in [model_input] + ([model_input.tensor] if isinstance(model_input, GeometricTensor) else []):
            self._owners[id(leaf)] = (MODEL_INPUT, leaf)
        self._pending: Dict[int, List[Call]] = {}

    # ---- hooks ---------------------------------------------------------------------------------------
    def _before(self, name: str, module: torch.nn.Module, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
        call = Call(len(self.calls) + sum(len(v) for v in self._pending.values()), name, module,
                    clone_value(tuple(args)), clone_value(dict(kwargs)))
        for leaf in leaves(args):
            if self.input_type is None and isinstance(leaf, GeometricTensor) and leaf.tensor is self._input:
                self.input_type = leaf.type
            call.producers.append(self.producer_of(leaf))
        call.plain_type = self._plain_type(call, args)
        self._pending.setdefault(id(module), []).append(call)

    def _after(self, module: torch.nn.Module, args: Any, kwargs: Any, output: Any) -> None:
        call = self._pending[id(module)].pop()
        call.output = clone_value(output)
        self.calls.append(call)
        self.calls.sort(key=lambda c: c.index)
        for leaf in leaves(output):
            for obj in [leaf] + ([leaf.tensor] if isinstance(leaf, GeometricTensor) else []):
                self._owners[id(obj)] = (call.index, obj)     # the object is kept: its id stays unique
        shapes = tuple(tuple(_data(leaf).shape) for leaf in leaves(output))
        self._shapes.append((call.index, shapes))

    def producer_of(self, leaf: Any) -> Optional[int]:
        for obj in (leaf, _data(leaf)):
            owner = self._owners.get(id(obj))
            if owner is not None and owner[1] is obj:
                return owner[0]
        shape = tuple(_data(leaf).shape)
        for index, shapes in reversed(self._shapes):
            if shape in shapes:
                return index
        if shape == tuple(_data(self._input).shape):
            return MODEL_INPUT
        size = spatial_size(leaf)
        for index, shapes in reversed(self._shapes):
            if size is not None and any(len(s) == 4 and tuple(s[2:]) == size for s in shapes):
                return index
        return None

    def _plain_type(self, call: Call, args: Tuple[Any, ...]) -> Optional[FieldType]:
        """The field type a plain input of ``call`` most likely has (see the module docstring)."""
        for leaf, producer in zip(leaves(args), call.producers):
            if isinstance(leaf, GeometricTensor):
                continue
            channels = leaf.shape[1] if leaf.ndim >= 2 else None
            if producer == MODEL_INPUT:
                candidate = self.input_type
            elif producer is not None:
                candidate = self.output_type(producer)
            else:
                candidate = None
            if candidate is not None and candidate.size == channels:
                return candidate
        return None

    def output_type(self, index: int) -> Optional[FieldType]:
        """The field type of call ``index``'s output: its own, or for a plain output the type its plain
        input had when the channel count is kept."""
        call = self.calls[index] if index < len(self.calls) and self.calls[index].index == index else \
            next(c for c in self.calls if c.index == index)
        outs = call.out_leaves
        if outs and isinstance(outs[0], GeometricTensor):
            return outs[0].type
        if outs and call.plain_type is not None and outs[0].ndim >= 2 and outs[0].shape[1] == call.plain_type.size:
            return call.plain_type
        return None

    @contextlib.contextmanager
    def watching(self) -> Iterator["Recorder"]:
        handles = []
        try:
            for name, module in self.layers:
                handles.append(module.register_forward_pre_hook(
                    lambda m, a, k, name=name: self._before(name, m, a, k), with_kwargs=True))
                handles.append(module.register_forward_hook(
                    lambda m, a, k, o: self._after(m, a, k, o), with_kwargs=True))
            yield self
        finally:
            for h in handles:
                h.remove()
        self._name_repeats()

    def _name_repeats(self) -> None:
        """A module called more than once gets ``name#2``, ``name#3``, ... for its later calls."""
        seen: Dict[str, int] = {}
        for call in self.calls:
            seen[call.name] = seen.get(call.name, 0) + 1
            if seen[call.name] > 1 and "#" not in call.name:
                call.name = f"{call.name}#{seen[call.name]}"
