"""Containers and plumbing: ``IdentityModule``, ``SequentialModule`` and ``ModuleList``."""
from __future__ import annotations

import collections.abc
from collections import OrderedDict
from typing import Any, Iterable, Optional, Tuple

import torch

from basisgen.errors import InvalidTypeError, InvalidValueError

from ._checks import check_field_type, check_shape
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["IdentityModule", "SequentialModule", "ModuleList"]


class IdentityModule(EquivariantModule):
    """The identity on any field type.

    Examples
    --------
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> nn.IdentityModule(nn.FieldType(r2, [r2.irrep(1)])).export()
    Identity()
    """

    check_atol = 2e-6

    def __init__(self, in_type: FieldType):
        super().__init__()
        self.in_type = self.out_type = check_field_type(in_type)
        self.space = in_type.gspace

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        return input

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        return check_shape(self, input_shape, False)

    def export(self) -> torch.nn.Identity:
        """A ``torch.nn.Identity``."""
        return torch.nn.Identity()

    def extra_repr(self) -> str:
        return f"{self.in_type}"


class SequentialModule(EquivariantModule):
    """Equivariant modules applied in order; each one's ``in_type`` must equal the previous ``out_type``.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, 2 * [r2.regular_repr])
    >>> net = nn.SequentialModule(nn.ReLU(t), nn.PointwiseMaxPool(t, 2))
    >>> net(nn.GeometricTensor(torch.randn(1, 8, 6, 6), t)).shape
    torch.Size([1, 8, 3, 3])
    >>> type(net.export()).__name__
    'Sequential'
    """

    check_atol = 2e-6

    def __init__(self, *args: EquivariantModule):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            items = list(args[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(args)]
        for name, module in items:
            self.add_module(name, module)

    def add_module(self, name: str, module: EquivariantModule) -> None:
        """Append ``module`` under ``name``; its ``in_type`` must equal the current ``out_type``."""
        if not isinstance(module, EquivariantModule):
            raise InvalidTypeError(f"SequentialModule takes EquivariantModules, got {type(module).__name__} for {name!r}")
        if len(self._modules) == 0:
            self.in_type = module.in_type
        elif module.in_type != self.out_type:
            last = list(self._modules)[-1]
            raise InvalidValueError(f"module {name!r} ({type(module).__name__}) has in_type {module.in_type!r}, but the "
                             f"previous module {last!r} has out_type {self.out_type!r}")
        super().add_module(name, module)
        self.out_type = module.out_type

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        if not self._modules:
            raise RuntimeError("SequentialModule is empty")
        self._check_input(input)
        x = input
        for module in self._modules.values():
            x = module(x)
        return x

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        shape = tuple(input_shape)
        for module in self._modules.values():
            shape = module.evaluate_output_shape(shape)
        return shape

    def _test_input_size(self) -> int:
        return max([m._test_input_size() for m in self._modules.values()] + [10])

    def export(self) -> torch.nn.Sequential:
        """A ``torch.nn.Sequential`` of the exported modules (same names)."""
        return torch.nn.Sequential(OrderedDict((name, m.export()) for name, m in self._modules.items()))


def _equivariant(module: Any, where: str) -> EquivariantModule:
    if not isinstance(module, EquivariantModule):
        raise InvalidTypeError(f"ModuleList.{where} takes EquivariantModules, got {type(module).__name__}")
    return module


class ModuleList(torch.nn.ModuleList):
    """A ``torch.nn.ModuleList`` that holds only :class:`EquivariantModule` s and can be exported.

    As in e2cnn it is a container, not a module with a ``forward``: iterate over it in your own
    ``forward``.  :meth:`export` exports every module into a ``torch.nn.ModuleList``.

    Examples
    --------
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.regular_repr])
    >>> layers = nn.ModuleList([nn.ReLU(t)])
    >>> layers.append(nn.IdentityModule(t))
    ModuleList(
      (0): ReLU([4-Rotations: {regular}], inplace=False)
      (1): IdentityModule([4-Rotations: {regular}])
    )
    >>> layers.export()
    ModuleList(
      (0): ReLU()
      (1): Identity()
    )
    """

    def __init__(self, modules: Optional[Iterable[EquivariantModule]] = None):
        super().__init__(modules)

    def __setitem__(self, idx: int, module: EquivariantModule) -> None:
        super().__setitem__(idx, _equivariant(module, "__setitem__"))

    def insert(self, index: int, module: EquivariantModule) -> None:
        super().insert(index, _equivariant(module, "insert"))

    def append(self, module: EquivariantModule) -> "ModuleList":
        return super().append(_equivariant(module, "append"))

    def extend(self, modules: Iterable[EquivariantModule]) -> "ModuleList":
        if not isinstance(modules, collections.abc.Iterable):
            raise InvalidTypeError(f"ModuleList.extend takes an iterable of EquivariantModules, got {type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def export(self) -> torch.nn.ModuleList:
        """A ``torch.nn.ModuleList`` of the exported modules (in the same train/eval mode)."""
        exported = torch.nn.ModuleList([module.export() for module in self])
        exported.training = self.training
        return exported
