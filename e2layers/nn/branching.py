"""Splitting a feature map by field labels and merging branches: ``BranchingModule``, ``MergeModule``
and ``MultipleModule`` (e2cnn's), with plain-PyTorch exports.

``BranchingModule`` maps a tensor to a dict ``label -> GeometricTensor``; ``MergeModule`` applies one
module per label (or per list of labels, for modules of several inputs) and concatenates the outputs
in the order of its ``modules`` list; ``MultipleModule`` is the two in sequence.
"""
from __future__ import annotations

import operator
from collections import OrderedDict
from typing import Any, Dict, List, Tuple, Union

import numpy as np
import torch

from basisgen.errors import InvalidTypeError, InvalidValueError

from ._checks import check_field_type, check_shape
from ._equivariance import act_on_fibres, check
from ._memory_format import keep_memory_format
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["BranchingModule", "MergeModule", "MultipleModule"]

Labels = Union[str, List[str]]


# ---- plain-PyTorch exports ----------------------------------------------------------------------------
class BranchingExport(torch.nn.Module):
    """Plain-PyTorch branching (what :class:`BranchingModule` exports to): a dict ``label -> tensor``.

    Label ``labels[i]`` gets the channels ``start[i]:start[i] + size[i]`` of the input when
    ``start[i] >= 0`` (a view, as e2cnn's slicing), otherwise ``index[offset[i]:offset[i] + size[i]]``.
    """

    def __init__(self, labels: List[str], starts: List[int], offsets: List[int], sizes: List[int],
                 index: torch.Tensor):
        super().__init__()
        self.labels: List[str] = list(labels)
        self.starts: List[int] = list(starts)
        self.offsets: List[int] = list(offsets)
        self.sizes: List[int] = list(sizes)
        self.register_buffer("index", index.detach().clone())

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        out: Dict[str, torch.Tensor] = {}
        for i in range(len(self.labels)):
            start, size = self.starts[i], self.sizes[i]
            if start >= 0:
                out[self.labels[i]] = x[:, start:start + size]
            else:
                out[self.labels[i]] = x.index_select(1, self.index[self.offsets[i]:self.offsets[i] + size])
        return out

    def extra_repr(self) -> str:
        return f"labels={self.labels}"


class _TakeOne(torch.nn.Module):
    """Calls ``module`` on ``inputs[label]``."""

    def __init__(self, label: str, module: torch.nn.Module):
        super().__init__()
        self.label = label
        self.module = module

    def forward(self, inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        return self.module(inputs[self.label])


class _TakeTwo(torch.nn.Module):
    """Calls ``module`` on ``inputs[first], inputs[second]``."""

    def __init__(self, first: str, second: str, module: torch.nn.Module):
        super().__init__()
        self.first = first
        self.second = second
        self.module = module

    def forward(self, inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        return self.module(inputs[self.first], inputs[self.second])


class MergeExport(torch.nn.Module):
    """Plain-PyTorch merge (what :class:`MergeModule` exports to): each branch reads its labels from the
    input dict; the outputs are concatenated along the channels."""

    def __init__(self, branches: List[torch.nn.Module]):
        super().__init__()
        self.branches = torch.nn.ModuleList(branches)

    def forward(self, inputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        outputs: List[torch.Tensor] = []
        for branch in self.branches:
            outputs.append(branch(inputs))
        return torch.cat(outputs, dim=1)


class MultipleExport(torch.nn.Module):
    """Plain-PyTorch ``merging(branching(x))`` (what :class:`MultipleModule` exports to)."""

    def __init__(self, branching: BranchingExport, merging: MergeExport):
        super().__init__()
        self.branching = branching
        self.merging = merging

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.merging(self.branching(x))


# ---- BranchingModule -------------------------------------------------------------------------------------
def _check_labels(labels: Any, in_type: FieldType, module: str) -> List[str]:
    if isinstance(labels, str) or not hasattr(labels, "__iter__"):
        raise InvalidTypeError(f"{module}: labels must be a list of str, one per field, got {labels!r}")
    labels = list(labels)
    bad = [label for label in labels if not isinstance(label, str)]
    if bad:
        raise InvalidTypeError(f"{module}: labels must be strings, got {bad[:3]!r}")
    if len(labels) != len(in_type):
        raise InvalidValueError(f"{module}: the number of labels ({len(labels)}) does not match the number of "
                                f"fields of in_type ({len(in_type)})")
    return labels


def _reshuffle_level(reshuffle: Any) -> int:
    """``reshuffle`` as an int in 0..3; bools count as 0 and 1, as in e2cnn."""
    try:
        level = operator.index(reshuffle)
    except TypeError:
        level = None
    if level is None or not 0 <= level <= 3:
        raise InvalidValueError(f"reshuffle must be 0, 1, 2 or 3 (or a bool), got {reshuffle!r}")
    return level


class BranchingModule(EquivariantModule):
    """Splits the input by field labels into a dict ``label -> GeometricTensor`` (e2cnn's BranchingModule).

    ``labels`` holds one label per field.  ``reshuffle`` orders the fields before splitting: 0 (or
    ``False``) keeps the input order; 1 (or ``True``) sorts them by label, 2 by label then size, 3 by
    label, size then representation name (stable sorts; e2cnn stops at 2).  The order decides the
    field order inside each branch; the dict lists the labels in the order in which they first occur
    after the sort.  A label whose fields are one contiguous block of the input (and no reshuffle is
    needed) is a view of the input; the others are gathered copies.  Export: :class:`BranchingExport`
    (a dict of tensors).

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.regular_repr, r2.trivial_repr, r2.regular_repr])
    >>> branch = nn.BranchingModule(t, ["a", "b", "a"])
    >>> {label: x.type for label, x in branch(nn.GeometricTensor(torch.randn(2, 9, 5, 5), t)).items()}
    {'a': [4-Rotations: {regular, regular}], 'b': [4-Rotations: {irrep_0}]}
    """

    check_atol = 1e-6

    def __init__(self, in_type: FieldType, labels: List[str], reshuffle: int = 0):
        super().__init__()
        check_field_type(in_type)
        labels = _check_labels(labels, in_type, "BranchingModule")
        self.space = in_type.gspace
        self.in_type = in_type
        self.reshuffle = _reshuffle_level(reshuffle)
        reprs = in_type.representations
        keys = [(label, rho.size, rho.name) for label, rho in zip(labels, reprs)]
        order = list(range(len(reprs)))
        if self.reshuffle:
            order = sorted(order, key=lambda f: keys[f][:self.reshuffle])
        gathered = order != list(range(len(reprs)))   # e2cnn then works on a reshuffled copy
        fields: Dict[str, List[int]] = OrderedDict()
        for f in order:
            fields.setdefault(labels[f], []).append(f)
        self._labels = list(fields)
        self.out_type: Dict[str, FieldType] = OrderedDict(
            (label, in_type.index_select(fs)) for label, fs in fields.items())
        starts = [int(s) for s in in_type.fields_start]
        self._starts, self._offsets, self._sizes, index = [], [], [], []
        for label, fs in fields.items():
            channels = np.concatenate([np.arange(starts[f], starts[f] + reprs[f].size) for f in fs])
            contiguous = bool(np.all(np.diff(channels) == 1))
            self._starts.append(int(channels[0]) if contiguous and not gathered else -1)
            self._offsets.append(len(index))
            self._sizes.append(len(channels))
            index.extend(channels.tolist())
        # derived (e2cnn: persistent indices_{label} buffers): not in the state_dict
        self.register_buffer("_index", torch.as_tensor(index, dtype=torch.long), persistent=False)

    @property
    def labels(self) -> List[str]:
        """The labels, in the order of the output dict."""
        return list(self._labels)

    def forward(self, input: GeometricTensor) -> Dict[str, GeometricTensor]:
        self._check_input(input)
        x = input.tensor
        out = OrderedDict()
        for label, start, offset, size in zip(self._labels, self._starts, self._offsets, self._sizes):
            if start >= 0:
                data = x[:, start:start + size]
            else:
                data = keep_memory_format(x.index_select(1, self._index[offset:offset + size]), x)
            out[label] = GeometricTensor(data, self.out_type[label])
        return out

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Dict[str, Tuple[int, ...]]:
        shape = check_shape(self, input_shape, False)
        return OrderedDict((label, (shape[0], t.size) + shape[2:]) for label, t in self.out_type.items())

    def export(self) -> BranchingExport:
        """A :class:`BranchingExport` returning ``Dict[str, Tensor]`` with the same channels per label."""
        return BranchingExport(self._labels, self._starts, self._offsets, self._sizes, self._index)

    def extra_repr(self) -> str:
        return f"{self.in_type}, labels={self._labels}, reshuffle={self.reshuffle}"


# ---- MergeModule ---------------------------------------------------------------------------------------
def _module_in_types(module: EquivariantModule) -> Tuple[FieldType, ...]:
    return tuple(module.in_type) if isinstance(module.in_type, (tuple, list)) else (module.in_type,)


def _check_modules(modules: Any) -> List[Tuple[EquivariantModule, List[str]]]:
    if isinstance(modules, (str, bytes)) or not hasattr(modules, "__iter__"):
        raise InvalidTypeError(f"modules must be a list of (EquivariantModule, label or list of labels) pairs, "
                        f"got {type(modules).__name__}")
    pairs = []
    for i, pair in enumerate(modules):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise InvalidTypeError(f"modules[{i}] must be a pair (EquivariantModule, label or list of labels), got {pair!r}")
        module, labels = pair
        if not isinstance(module, EquivariantModule):
            raise InvalidTypeError(f"modules[{i}] must hold an EquivariantModule, got {type(module).__name__}")
        labels = [labels] if isinstance(labels, str) else labels
        if not isinstance(labels, (list, tuple)) or not labels or not all(isinstance(s, str) for s in labels):
            raise InvalidTypeError(f"modules[{i}]: the labels must be a str or a non-empty list of str, got {pair[1]!r}")
        in_types = _module_in_types(module)
        if len(in_types) != len(labels):
            raise InvalidValueError(f"modules[{i}]: {type(module).__name__} takes {len(in_types)} input(s) but is given "
                             f"{len(labels)} label(s) {list(labels)}")
        pairs.append((module, list(labels)))
    if not pairs:
        raise InvalidValueError("modules must hold at least one (EquivariantModule, labels) pair")
    return pairs


class MergeModule(EquivariantModule):
    """Applies each module to the tensors of its labels and concatenates the outputs (e2cnn's MergeModule).

    ``modules`` is a list of ``(module, label)`` pairs, or ``(module, [label, ...])`` for modules taking
    several inputs.  The input is a dict ``label -> GeometricTensor`` (a :class:`BranchingModule`'s
    output); the output fields are the modules' output fields in the order of ``modules``.  As in
    e2cnn, ``in_type`` is ``None``; ``in_types`` maps each label to the type its modules expect.
    Export: :class:`MergeExport` (``Dict[str, Tensor] -> Tensor``; modules of one or two inputs).

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> a, b = nn.FieldType(r2, [r2.regular_repr]), nn.FieldType(r2, [r2.trivial_repr])
    >>> merge = nn.MergeModule([(nn.IdentityModule(b), "b"), (nn.ReLU(a), "a")])
    >>> x = {"a": nn.GeometricTensor(-torch.ones(1, 4, 3, 3), a), "b": nn.GeometricTensor(torch.ones(1, 1, 3, 3), b)}
    >>> y = merge(x)
    >>> y.type, y.tensor[0, :, 0, 0].tolist()
    ([4-Rotations: {irrep_0, regular}], [1.0, 0.0, 0.0, 0.0, 0.0])
    """

    check_atol = 1e-6

    def __init__(self, modules: List[Tuple[EquivariantModule, Labels]]):
        super().__init__()
        pairs = _check_modules(modules)
        self.gspace = self.space = _module_in_types(pairs[0][0])[0].gspace
        in_types: Dict[str, FieldType] = OrderedDict()
        for i, (module, labels) in enumerate(pairs):
            for label, t in zip(labels, _module_in_types(module)):
                if t.gspace != self.gspace:
                    raise InvalidValueError(f"MergeModule: modules[{i}] ({type(module).__name__}) acts on "
                                            f"{t.gspace.name}, but modules[0] on {self.gspace.name}")
                if in_types.setdefault(label, t) != t:
                    raise InvalidValueError(f"MergeModule: label {label!r} is given to modules expecting different "
                                            f"types, {in_types[label]!r} and {t!r}")
        self.in_type = None
        self.in_types = in_types
        self.out_type = FieldType(self.gspace, [rho for module, _ in pairs for rho in module.out_type.representations])
        self._labels = [labels for _, labels in pairs]
        for i, (module, _) in enumerate(pairs):
            self.add_module(f"submodule_{i}", module)

    def _submodules(self) -> List[EquivariantModule]:
        return [getattr(self, f"submodule_{i}") for i in range(len(self._labels))]

    def forward(self, input: Dict[str, GeometricTensor]) -> GeometricTensor:
        if not isinstance(input, dict):
            raise InvalidTypeError(f"MergeModule expects a dict label -> GeometricTensor, got {type(input).__name__}")
        missing = [label for label in self.in_types if label not in input]
        if missing:
            raise InvalidValueError(f"MergeModule: the input has no tensor for labels {missing} (it has {list(input)})")
        outputs = [module(*[input[label] for label in labels]).tensor
                   for module, labels in zip(self._submodules(), self._labels)]
        like = input[self._labels[0][0]].tensor         # the memory format of the first input
        return GeometricTensor(keep_memory_format(torch.cat(outputs, dim=1), like), self.out_type)

    def evaluate_output_shape(self, *args: Dict[str, Tuple[int, ...]], **input_shapes: Tuple[int, ...]
                              ) -> Tuple[int, ...]:
        """The output shape for input shapes given as keywords ``label=shape`` (e2cnn) or as one dict."""
        if args:
            if len(args) != 1 or not isinstance(args[0], dict) or input_shapes:
                raise InvalidTypeError("evaluate_output_shape takes one dict label -> shape, or the shapes as keywords")
            input_shapes = dict(args[0])
        shapes = []
        for module, labels in zip(self._submodules(), self._labels):
            missing = [label for label in labels if label not in input_shapes]
            if missing:
                raise InvalidValueError(f"MergeModule.evaluate_output_shape: no shape for labels {missing}")
            shapes.append(tuple(module.evaluate_output_shape(*[tuple(input_shapes[label]) for label in labels])))
        first = shapes[0]
        for shape in shapes[1:]:
            if shape[:1] != first[:1] or shape[2:] != first[2:]:
                raise InvalidValueError(f"MergeModule: the branches' outputs cannot be concatenated: shapes "
                                        f"{shapes}")
        return (first[0], sum(s[1] for s in shapes)) + first[2:]

    def _test_input_size(self) -> int:
        return max([m._test_input_size() for m in self._submodules()] + [10])

    def export(self) -> MergeExport:
        """A :class:`MergeExport` of the exported modules (modules of one or two inputs)."""
        branches = []
        for i, (module, labels) in enumerate(zip(self._submodules(), self._labels)):
            if len(labels) == 1:
                branches.append(_TakeOne(labels[0], module.export()))
            elif len(labels) == 2:
                branches.append(_TakeTwo(labels[0], labels[1], module.export()))
            else:
                raise NotImplementedError(f"MergeModule.export: submodule_{i} takes {len(labels)} inputs; only "
                                          f"modules of one or two inputs can be exported")
        exported = MergeExport(branches)
        exported.training = self.training
        return exported

    def extra_repr(self) -> str:
        return f"labels={self._labels}"


# ---- MultipleModule --------------------------------------------------------------------------------------
class MultipleModule(EquivariantModule):
    """Splits the input by field labels and applies one module per label (e2cnn's MultipleModule): a
    :class:`BranchingModule` (``self.branching``) followed by a :class:`MergeModule` (``self.merging``).

    ``labels`` holds one label per field; ``modules`` is a list of ``(module, label)`` or
    ``(module, [labels])`` pairs covering every label, each module's ``in_type`` being the type of its
    branch (which ``reshuffle``, an int 0-3 or a bool, orders: see :class:`BranchingModule`).  The
    output concatenates the modules' outputs in the order of ``modules``.  Export: :class:`MultipleExport`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(8)
    >>> t = nn.FieldType(r2, [r2.regular_repr, r2.irrep(1), r2.regular_repr])
    >>> a, b = nn.FieldType(r2, 2 * [r2.regular_repr]), nn.FieldType(r2, [r2.irrep(1)])
    >>> net = nn.MultipleModule(t, ["a", "b", "a"], [(nn.ReLU(a), "a"), (nn.FieldDropout(b), "b")])
    >>> net.out_type
    [8-Rotations: {regular, regular, irrep_1}]
    >>> net(nn.GeometricTensor(torch.randn(1, 18, 4, 4), t)).shape
    torch.Size([1, 18, 4, 4])
    """

    def __init__(self, in_type: FieldType, labels: List[str], modules: List[Tuple[EquivariantModule, Labels]],
                 reshuffle: int = 0):
        super().__init__()
        check_field_type(in_type)
        labels = _check_labels(labels, in_type, "MultipleModule")
        pairs = _check_modules(modules)
        used = {label for _, ls in pairs for label in ls}
        unknown, unused = sorted(used - set(labels)), sorted(set(labels) - used)
        if unknown or unused:
            raise InvalidValueError("MultipleModule: the modules' labels must be exactly the fields' labels; "
                                    + (f"no field is labelled {unknown}" if unknown else "")
                                    + ("; " if unknown and unused else "")
                                    + (f"no module takes the fields labelled {unused}" if unused else ""))
        self.gspace = self.space = in_type.gspace
        self.in_type = in_type
        self.branching = BranchingModule(in_type, labels, reshuffle=reshuffle)
        for i, (module, ls) in enumerate(pairs):
            for label, t in zip(ls, _module_in_types(module)):
                if t != self.branching.out_type[label]:
                    raise InvalidValueError(f"MultipleModule: modules[{i}] ({type(module).__name__}) expects {t!r} "
                                            f"for label {label!r}, but the fields labelled {label!r} form "
                                            f"{self.branching.out_type[label]!r} (reshuffle={reshuffle})")
        self.merging = MergeModule(pairs)
        self.out_type = self.merging.out_type

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        return self.merging(self.branching(input))

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        return self.merging.evaluate_output_shape(self.branching.evaluate_output_shape(input_shape))

    def _test_input_size(self) -> int:
        return self.merging._test_input_size()

    def check_equivariance(self, atol: float = 2e-6, rtol: float = 1e-5, full_space_action: bool = True
                           ) -> List[Tuple[Any, float]]:
        """The usual check (``full_space_action``) or one under the fibre action alone (``transform_fibers``,
        every testing element, no interpolation)."""
        return check(self, atol, rtol, **({} if full_space_action else dict(action=act_on_fibres)))

    def export(self) -> MultipleExport:
        """A :class:`MultipleExport`: the exported branching and merging."""
        exported = MultipleExport(self.branching.export(), self.merging.export())
        exported.training = self.training
        return exported

    def extra_repr(self) -> str:
        return f"{self.in_type}"
