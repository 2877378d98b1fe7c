"""``EquivariantModule``: the base class of the layers, and equivariance testing without image files."""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Iterable, List, Optional, Tuple

import torch

from basisgen.errors import InvalidTypeError, InvalidValueError

from .geometric_tensor import GeometricTensor

__all__ = ["EquivariantModule", "equivariance_errors", "assert_equivariant"]

log = logging.getLogger(__name__)


class EquivariantModule(torch.nn.Module, ABC):
    """A ``torch.nn.Module`` mapping a :class:`GeometricTensor` of ``in_type`` to one of ``out_type``.

    Subclasses set ``in_type`` and ``out_type`` and implement ``forward`` and
    ``evaluate_output_shape``.  :meth:`check_equivariance` tests a module on random input under the
    elements that map the pixel grid onto itself (no image file needed).

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

    def __init__(self):
        super().__init__()
        self.in_type = None
        self.out_type = None

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

    def check_equivariance(self, atol: float = 1e-7, rtol: float = 1e-5) -> List[Tuple[Any, float]]:
        """Compare ``f(g.x)`` and ``g.f(x)`` on random input for the grid-exact elements.

        Returns ``(element, mean absolute error)`` pairs and raises ``AssertionError`` when an
        element's error exceeds ``atol + rtol * |f(g.x)|``.
        """
        return _check(self, atol, rtol, assertion=True)

    def export(self) -> torch.nn.Module:
        """An equivalent plain-PyTorch module."""
        raise NotImplementedError(f"{type(self).__name__} has no plain-PyTorch equivalent to export to")


def _probe(module: torch.nn.Module) -> Tuple[torch.dtype, torch.device]:
    for t in list(module.parameters()) + list(module.buffers()):
        if t.is_floating_point():
            return t.dtype, t.device
    return torch.get_default_dtype(), torch.device("cpu")


def _input_types(module: EquivariantModule) -> Tuple[Any, ...]:
    """The module's input field types: one, or a tuple for modules with several inputs (GatedNonLinearity2)."""
    if not isinstance(module, torch.nn.Module) or not hasattr(module, "in_type"):
        raise InvalidTypeError(f"module must be an EquivariantModule (a torch.nn.Module with an in_type), got "
                               f"{type(module).__name__}")
    types = module.in_type if isinstance(module.in_type, tuple) else (module.in_type,)
    if not types or not all(hasattr(t, "gspace") and hasattr(t, "size") for t in types):
        raise InvalidTypeError(f"{type(module).__name__} has in_type {module.in_type!r}; the equivariance checks need a "
                        f"FieldType or a tuple of them")
    return types


def _tolerance(value: Any, name: str) -> float:
    """A tolerance: a finite float >= 0 (a NaN would make every comparison pass or fail silently)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTypeError(f"{name} must be a finite float >= 0, got {value!r} ({type(value).__name__})")
    if not 0 <= value < float("inf"):
        raise InvalidValueError(f"{name} must be a finite float >= 0, got {value!r}")
    return float(value)


def _random_inputs(module: EquivariantModule) -> Tuple[GeometricTensor, ...]:
    dtype, device = _probe(module)
    size = module._test_input_size()
    return tuple(GeometricTensor(torch.randn(3, t.size, size, size, dtype=dtype, device=device), t)
                 for t in _input_types(module))


def _random_input(module: EquivariantModule) -> GeometricTensor:
    """A random batch of 3 of the module's (first) input type, on its device and dtype."""
    return _random_inputs(module)[0]


def _tensors(output: Any, element: Any = None) -> torch.Tensor:
    """The raw data of an output (a GeometricTensor, or a tuple, list or dict of them), concatenated,
    after acting with ``element`` when given."""
    if isinstance(output, GeometricTensor):
        parts = [output]
    elif isinstance(output, dict):
        parts = [output[k] for k in sorted(output)]
    else:
        parts = list(output)
    return torch.cat([(p if element is None else p.transform(element)).tensor.flatten(1) for p in parts], dim=1)


def _outputs(module: EquivariantModule, x: Any, elements: Optional[Iterable[Any]]):
    """Yield ``(element, f(g.x), g.f(x))`` (default: random input, the grid-exact elements).

    ``x`` is a GeometricTensor, or a tuple of them for a module with several inputs; outputs may be a
    GeometricTensor or a tuple, list or dict of them.
    """
    gspace = _input_types(module)[0].gspace
    xs = _random_inputs(module) if x is None else (tuple(x) if isinstance(x, (tuple, list)) else (x,))
    if elements is None:
        elements = [g for g in gspace.testing_elements if gspace.is_grid_element(g)]
    with torch.no_grad():
        y = module(*xs)
        for g in elements:
            yield g, _tensors(module(*[xi.transform(g) for xi in xs])), _tensors(y, g)


def equivariance_errors(module: EquivariantModule, x: Any = None,
                        elements: Optional[Iterable[Any]] = None) -> List[Tuple[Any, float, float]]:
    """``(element, max |f(g.x) - g.f(x)|, max |f(g.x)|)`` for each element (default: the grid-exact ones).

    ``x`` defaults to a random batch of 3 on the module's device and dtype.
    """
    _input_types(module)
    return [(g, (out1 - out2).abs().max().item(), out1.abs().max().item())
            for g, out1, out2 in _outputs(module, x, elements)]


def assert_equivariant(module: EquivariantModule, x: Any = None,
                       elements: Optional[Iterable[Any]] = None, tolerance: Optional[float] = None) -> List:
    """Assert ``max |f(g.x) - g.f(x)| <= tolerance * max |f(g.x)|`` (relative; default 1e-5 for float32,
    1e-10 for float64) and return ``(element, relative error)`` pairs."""
    _input_types(module)
    if tolerance is not None:
        tolerance = _tolerance(tolerance, "tolerance")
    if tolerance is None:
        first = x[0] if isinstance(x, (tuple, list)) else x
        dtype = first.tensor.dtype if first is not None else _probe(module)[0]
        tolerance = 1e-10 if dtype == torch.float64 else 1e-5
    result = []
    for g, err, scale in equivariance_errors(module, x, elements):
        rel = err / max(scale, 1e-30)
        if rel > tolerance:
            raise AssertionError(f"{type(module).__name__} is not equivariant under {g!r}: relative error "
                                 f"{rel:.3g} > {tolerance:.3g}")
        result.append((g, rel))
    return result


def _check(module: EquivariantModule, atol: float, rtol: float, assertion: bool = True,
           verbose: bool = False) -> List[Tuple[Any, float]]:
    """e2cnn's ``check_equivariance`` protocol on random input: ``(element, mean absolute error)`` pairs."""
    atol, rtol = _tolerance(atol, "atol"), _tolerance(rtol, "rtol")
    result = []
    for g, out1, out2 in _outputs(module, None, None):
        diff = (out1 - out2).abs()
        if verbose:
            log.info("%s: element %r, max error %.3g, mean error %.3g", type(module).__name__, g,
                     diff.max().item(), diff.mean().item())
        if assertion and not torch.allclose(out1, out2, atol=atol, rtol=rtol):
            raise AssertionError(f"{type(module).__name__} is not equivariant under {g!r}: max error "
                                 f"{diff.max().item():.3g} (atol={atol}, rtol={rtol})")
        result.append((g, diff.mean().item()))
    return result
