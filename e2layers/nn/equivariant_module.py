"""``EquivariantModule``: the base class of the layers; its equivariance check is the one of ``_equivariance``."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Dict, List, Tuple

import torch

from basisgen.errors import InvalidTypeError, InvalidValueError

from ._equivariance import assert_equivariant, check, equivariance_errors
from .geometric_tensor import GeometricTensor

__all__ = ["EquivariantModule", "equivariance_errors", "assert_equivariant"]


def _check_equivariance_with(atol: float, rtol: float, owner: str) -> Callable[..., List[Tuple[Any, float]]]:
    """``check_equivariance`` for the class named ``owner``, with the defaults ``atol`` and ``rtol`` (the
    class's ``check_atol`` and ``check_rtol``)."""
    def check_equivariance(self, atol: float = atol, rtol: float = rtol) -> List[Tuple[Any, float]]:
        """Compare ``f(g.x)`` and ``g.f(x)`` on random input for the grid-exact elements.

        Returns ``(element, mean absolute error)`` pairs and raises ``AssertionError`` when an
        element's error exceeds ``atol + rtol * |g.f(x)|``.  The defaults are the class's
        ``check_atol`` and ``check_rtol``.
        """
        return check(self, atol, rtol)
    check_equivariance.__qualname__ = f"{owner}.check_equivariance"
    check_equivariance.from_tolerances = True
    return check_equivariance


def _keep_points(module: torch.nn.Module, args: Tuple[Any, ...], output: Any) -> Any:
    """A point cloud keeps its points through a module that keeps its rows (escnn's convention): the output of a
    module given a GeometricTensor with ``coords`` gets the same ``coords`` when it has none and as many rows."""
    x = args[0] if args else None
    if not isinstance(x, GeometricTensor) or x.coords is None or not isinstance(output, GeometricTensor):
        return None
    if output.coords is not None or output.tensor.shape[0] != x.tensor.shape[0]:
        return None
    return GeometricTensor(output.tensor, output.type, x.coords)


class EquivariantModule(torch.nn.Module, ABC):
    """A ``torch.nn.Module`` mapping a :class:`GeometricTensor` of ``in_type`` to one of ``out_type``.

    Subclasses set ``in_type`` and ``out_type`` and implement ``forward`` and
    ``evaluate_output_shape``.  :meth:`check_equivariance` tests a module on random input under the
    elements that map the pixel grid onto itself (no image file needed): its default tolerances are the
    class attributes ``check_atol`` and ``check_rtol`` (e2cnn's defaults, per module), and what a module
    checks differently (its inputs, elements, actions) it says in ``_check_protocol``.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.regular_repr])
    >>> class Double(nn.EquivariantModule):
    ...     def __init__(self, in_type):
    ...         super().__init__()
    ...         self.in_type = self.out_type = in_type
    ...     def forward(self, x):
    ...         return nn.GeometricTensor(2 * x.tensor, self.out_type)
    ...     def evaluate_output_shape(self, input_shape):
    ...         return input_shape
    >>> [g for g, err in Double(t).check_equivariance()]
    [0, 1, 2, 3]
    """

    #: the default tolerances of :meth:`check_equivariance`; a subclass that sets them gets a
    #: ``check_equivariance`` whose signature shows them
    check_atol: float = 1e-7
    check_rtol: float = 1e-5

    check_equivariance = _check_equivariance_with(check_atol, check_rtol, "EquivariantModule")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        inherited = getattr(cls.check_equivariance, "from_tolerances", False)
        if inherited and "check_equivariance" not in cls.__dict__ and {"check_atol", "check_rtol"} & set(cls.__dict__):
            cls.check_equivariance = _check_equivariance_with(cls.check_atol, cls.check_rtol, cls.__qualname__)

    def __init__(self):
        super().__init__()
        self.in_type = None
        self.out_type = None
        self.register_forward_hook(_keep_points)

    @abstractmethod
    def forward(self, *input):
        ...

    @abstractmethod
    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        """The output shape for an input of shape ``input_shape``."""

    def _check_input(self, input: Any) -> None:
        if not isinstance(input, GeometricTensor):
            raise InvalidTypeError(f"{type(self).__name__} expects a GeometricTensor of type {self.in_type!r}, got "
                            f"{type(input).__name__}")
        if input.type != self.in_type:
            raise InvalidValueError(f"{type(self).__name__} expects input of type {self.in_type!r}, got {input.type!r}")

    def _test_input_size(self) -> int:
        """A spatial size on which the module's output grid is symmetric (overridden by the convolutions)."""
        return 10

    def _check_protocol(self) -> Dict[str, Any]:
        """How the equivariance checks test this module where it differs from the defaults: any of the
        keywords ``elements``, ``action``, ``input_action`` and ``seed`` of ``_equivariance.comparisons``."""
        return {}

    def export(self) -> torch.nn.Module:
        """An equivalent plain-PyTorch module."""
        raise NotImplementedError(f"{type(self).__name__} has no plain-PyTorch equivalent to export to")
