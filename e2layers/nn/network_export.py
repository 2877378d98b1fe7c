"""Export whole networks, equivariant and plain modules mixed, to plain PyTorch.

e2cnn exports one equivariant module at a time (``module.export()``), so a network that wraps
tensors into ``GeometricTensor`` inside its own ``forward`` and mixes equivariant with plain
``torch.nn`` modules cannot be exported.  Here the two boundaries are modules of their own:
:class:`TensorToGeometric` (wrap) and :class:`GeometricToTensor` (unwrap); both export to
``torch.nn.Identity``.  :func:`export` copies a network and replaces every module that has an
``export()`` (every equivariant module, and the two boundaries) by its export, recursively, so the
copy's own ``forward`` now runs on plain tensors and can be scripted or compiled.
"""
from __future__ import annotations

import copy

import torch

from ._checks import check_field_type
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["TensorToGeometric", "GeometricToTensor", "export"]


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
    >>> type(plain[1]).__name__, type(plain[0]).__name__
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
    """The plain tensor of a :class:`GeometricTensor` (exports to ``Identity``); see :class:`TensorToGeometric`."""

    def forward(self, input: GeometricTensor) -> torch.Tensor:
        if not isinstance(input, GeometricTensor):
            raise TypeError(f"GeometricToTensor expects a GeometricTensor, got {type(input).__name__}")
        return input.tensor

    def export(self) -> torch.nn.Identity:
        """``torch.nn.Identity``: exported networks run on plain tensors."""
        return torch.nn.Identity()


def export(module: torch.nn.Module) -> torch.nn.Module:
    """A plain-PyTorch copy of ``module``: every submodule with an ``export()`` replaced by its export.

    ``module`` itself is left untouched; the copy keeps its train/eval mode.  A network whose own
    ``forward`` moves between tensors and geometric tensors only through :class:`TensorToGeometric`
    and :class:`GeometricToTensor` runs unchanged on the copy, which ``torch.jit.script``,
    ``torch.export`` and ``torch.compile`` accept.

    Raises ``NotImplementedError`` naming the submodule when one of them cannot be exported.
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
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


def _replace_children(parent: torch.nn.Module, prefix: str) -> None:
    for name, child in list(parent.named_children()):
        path = f"{prefix}{name}"
        if hasattr(child, "export"):
            setattr(parent, name, _export_one(child, path))
        else:
            _replace_children(child, prefix=path + ".")
