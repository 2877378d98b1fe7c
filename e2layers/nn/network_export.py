"""Export whole networks, equivariant and plain modules mixed, to plain PyTorch.

e2cnn exports one equivariant module at a time (``module.export()``).  :func:`export` copies a
whole network and replaces every submodule that has an ``export()`` by its export, recursively.
Two idioms of a network's own ``forward`` keep working on the copy:

- e2cnn's: ``forward`` wraps its input itself (``nn.GeometricTensor(x, self.in_type)``) and returns
  ``.tensor``.  Each export is held by a :class:`PlainOrGeometric`, which takes a GeometricTensor,
  runs the plain module on its tensor and wraps the result in the original module's output type;
  so ``.tensor``, ``+`` and slicing in ``forward`` see what they saw before.
- explicit boundaries: :class:`TensorToGeometric` (wrap) and :class:`GeometricToTensor` (unwrap) as
  modules.  Only plain tensors then flow through the copy, which ``torch.jit.script``,
  ``torch.jit.trace``, ``torch.export`` and ``torch.compile`` accept.

With e2cnn's idiom the copy still builds GeometricTensors in ``forward``: ``torch.jit.trace``,
``torch.export`` and ``torch.compile`` accept it, ``torch.jit.script`` does not (a GeometricTensor is
no TorchScript type).
"""
from __future__ import annotations

import copy
from typing import Any, Dict, Optional, Union

import torch

from basisgen.errors import InvalidTypeError

from ._checks import check_field_type
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["TensorToGeometric", "GeometricToTensor", "export"]

OutType = Optional[Union[FieldType, Dict[str, FieldType]]]


class TensorToGeometric(torch.nn.Module):
    """Wrap a plain tensor as a :class:`GeometricTensor` of ``field_type`` (exports to ``Identity``).

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.trivial_repr])
    >>> net = torch.nn.Sequential(nn.TensorToGeometric(t), nn.R2Conv(t, nn.FieldType(r2, [r2.regular_repr]), 3),
    ...                           nn.GeometricToTensor(), torch.nn.Flatten(), torch.nn.LazyLinear(2))
    >>> net(torch.randn(5, 1, 9, 9)).shape
    torch.Size([5, 2])
    >>> plain = nn.export(net)
    >>> type(plain[1].module).__name__, type(plain[0]).__name__
    ('Conv2d', 'Identity')
    """

    def __init__(self, field_type: FieldType):
        super().__init__()
        self.out_type = check_field_type(field_type, "field_type")

    def forward(self, input: torch.Tensor) -> GeometricTensor:
        return GeometricTensor(input, self.out_type)

    def export(self) -> torch.nn.Identity:
        """``torch.nn.Identity``: exported networks run on plain tensors."""
        return torch.nn.Identity()

    def extra_repr(self) -> str:
        return f"{self.out_type}"


class GeometricToTensor(torch.nn.Module):
    """The plain tensor of a :class:`GeometricTensor` (exports to :class:`Unwrap`); see
    :class:`TensorToGeometric`."""

    def forward(self, input: GeometricTensor) -> torch.Tensor:
        if not isinstance(input, GeometricTensor):
            raise InvalidTypeError(f"GeometricToTensor expects a GeometricTensor, got {type(input).__name__}")
        return input.tensor

    def export(self) -> "Unwrap":
        """An :class:`Unwrap`: the identity on the plain tensors of an exported network."""
        return Unwrap()


class Unwrap(torch.nn.Module):
    """The identity on plain tensors, ``.tensor`` of a GeometricTensor: what :class:`GeometricToTensor`
    exports to, for networks whose ``forward`` still builds GeometricTensors after export."""

    def forward(self, input):     # no annotation: a Tensor for TorchScript
        if not torch.jit.is_scripting():
            if isinstance(input, GeometricTensor):
                return input.tensor
        return input


def _plain(value: Any) -> Any:
    """``value`` with every GeometricTensor (also as a dict value) replaced by its tensor."""
    if isinstance(value, GeometricTensor):
        return value.tensor
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _is_geometric(value: Any) -> bool:
    return isinstance(value, GeometricTensor) or (isinstance(value, dict) and
                                                   any(isinstance(v, GeometricTensor) for v in value.values()))


class PlainOrGeometric(torch.nn.Module):
    """An exported module that also takes the GeometricTensors its original took.

    On plain tensors it is ``module``.  On a GeometricTensor (or a dict of them), it runs ``module``
    on the tensor(s) and wraps the output in ``out_type`` (a FieldType, or a dict label -> FieldType
    for a branching module), as the equivariant original did.  :func:`export` puts one around each
    exported submodule.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.regular_repr])
    >>> relu = nn.network_export.PlainOrGeometric(torch.nn.ReLU(), t)
    >>> relu(torch.tensor([[-1., 2., -3., 4.]]))
    tensor([[0., 2., 0., 4.]])
    >>> relu(nn.GeometricTensor(torch.tensor([[-1., 2., -3., 4.]]), t)).type
    [4-Rotations: {regular}]
    """

    def __init__(self, module: torch.nn.Module, out_type: OutType):
        super().__init__()
        self.module = module
        self.out_type = out_type

    def _wrap(self, output: Any) -> Any:
        if isinstance(self.out_type, FieldType):
            return GeometricTensor(output, self.out_type)
        if isinstance(self.out_type, dict):
            return {label: GeometricTensor(output[label], t) for label, t in self.out_type.items()}
        return output

    def forward(self, input):     # no annotation: a Tensor for TorchScript
        if not torch.jit.is_scripting():
            if _is_geometric(input):
                return self._wrap(self.module(_plain(input)))
        return self.module(input)

    def extra_repr(self) -> str:
        return f"out_type={self.out_type}"


class PlainOrGeometricDict(PlainOrGeometric):
    """:class:`PlainOrGeometric` for modules taking a dict label -> tensor (``MergeModule``)."""

    def forward(self, input: Dict[str, torch.Tensor]):
        if not torch.jit.is_scripting():
            if _is_geometric(input):
                return self._wrap(self.module(_plain(input)))
        return self.module(input)


class PlainOrGeometric2(PlainOrGeometric):
    """:class:`PlainOrGeometric` for modules of two inputs (``GatedNonLinearity2``)."""

    def forward(self, input1, input2):
        if not torch.jit.is_scripting():
            if _is_geometric(input1) or _is_geometric(input2):
                return self._wrap(self.module(_plain(input1), _plain(input2)))
        return self.module(input1, input2)


def export(module: torch.nn.Module) -> torch.nn.Module:
    """A plain-PyTorch copy of ``module``: every submodule with an ``export()`` replaced by its export.

    ``module`` itself is left untouched; the copy keeps its train/eval mode and holds no
    EquivariantModule.  ``module.export()`` when ``module`` is equivariant itself.  Inside a network,
    each export sits in a :class:`PlainOrGeometric` (its parameters under ``<name>.module.``), so
    that the network's own ``forward`` runs unchanged on the copy, whether it passes GeometricTensors
    (e2cnn's idiom) or plain tensors between :class:`TensorToGeometric` and
    :class:`GeometricToTensor`; the elements of a ``ModuleList`` are exported one by one.  See the
    module's documentation for what ``torch.jit`` and ``torch.export`` accept.

    Raises ``NotImplementedError`` naming the submodule when one of them cannot be exported.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> class Net(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         r2 = gspaces.Rot2dOnR2(4)
    ...         self.in_type = nn.FieldType(r2, [r2.trivial_repr])
    ...         self.conv = nn.R2Conv(self.in_type, nn.FieldType(r2, [r2.regular_repr]), 3)
    ...     def forward(self, x):
    ...         return self.conv(nn.GeometricTensor(x, self.in_type)).tensor
    >>> net = Net().eval()
    >>> x = torch.randn(1, 1, 7, 7)
    >>> torch.allclose(nn.export(net)(x), net(x), atol=1e-6)
    True
    """
    if not isinstance(module, torch.nn.Module):
        raise InvalidTypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if hasattr(module, "export"):
        return _export_one(module, type(module).__name__)
    result = copy.deepcopy(module)
    _replace_children(result, prefix="")
    return result


def _export_one(module: torch.nn.Module, path: str) -> torch.nn.Module:
    try:
        exported = module.export()
    except NotImplementedError as error:
        raise NotImplementedError(f"cannot export {path} ({type(module).__name__}): {error}") from error
    return exported.train(module.training)


def _adapted(module: torch.nn.Module, path: str) -> torch.nn.Module:
    """The export of a submodule, in a :class:`PlainOrGeometric` when it is an equivariant module."""
    exported = _export_one(module, path)
    if isinstance(module, (TensorToGeometric, GeometricToTensor)):
        return exported                  # the boundaries' exports take both kinds of input themselves
    in_type = getattr(module, "in_type", None)
    if isinstance(in_type, tuple):
        adapter = PlainOrGeometric2
    elif in_type is None and isinstance(getattr(module, "in_types", None), dict):
        adapter = PlainOrGeometricDict
    else:
        adapter = PlainOrGeometric
    wrapped = adapter(exported, getattr(module, "out_type", None))
    wrapped.training = module.training
    return wrapped


def _replace_children(parent: torch.nn.Module, prefix: str) -> None:
    for name, child in list(parent.named_children()):
        path = f"{prefix}{name}"
        if isinstance(child, torch.nn.ModuleList):     # a container: its elements are called one by one
            plain = torch.nn.ModuleList(list(child))
            plain.training = child.training
            setattr(parent, name, plain)
            _replace_children(plain, prefix=path + ".")
        elif hasattr(child, "export"):
            setattr(parent, name, _adapted(child, path))
        else:
            _replace_children(child, prefix=path + ".")
