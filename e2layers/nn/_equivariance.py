"""The equivariance checker: one loop "act on the input, run, act on the output, compare" for every module.

:func:`comparisons` yields ``(element, f(g.x), g.f(x))``; :func:`equivariance_errors`,
:func:`assert_equivariant` and ``EquivariantModule.check_equivariance`` (through :func:`check`) read
it.  What varies between modules is a parameter, never a copy of the loop:

- the inputs: one GeometricTensor, several (a tuple: ``GatedNonLinearity2``), or a dict of them passed
  as one argument (``MergeModule``); random ones by default, of the module's input type(s), or the module's
  own ``_test_inputs(dtype, device)`` (``R2PointConv``: a point cloud and its graph; plain tensors among the
  arguments are passed on unchanged);
- the elements: by default the testing elements that map the pixel grid onto itself (all of them where the
  module's protocol says ``every_element``: a point cloud moves exactly under any element);
- the actions: :func:`act` (plane and fibres, the default) or :func:`act_on_fibres`, and an
  ``input_action`` where the input is acted on differently (``RestrictionModule``: by the parent group);
- ``seed``: each forward pass starts from this random seed (dropout in training: one mask both sides).

A module states its own defaults for these in ``_check_protocol()``; explicit arguments win.  In
training mode the module's persistent buffers (running statistics) are restored before every pass and
afterwards, so every pass sees the same state and the check leaves the module as it was.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Any, Callable, Iterable, Iterator, List, Optional, Tuple

import torch

from basisgen.checks import finite_float
from basisgen.errors import InvalidTypeError

from .geometric_tensor import GeometricTensor

__all__ = ["act", "act_on_fibres", "comparisons", "equivariance_errors", "assert_equivariant", "check"]

log = logging.getLogger(__name__)

#: how an element acts on a GeometricTensor
Action = Callable[[GeometricTensor, Any], GeometricTensor]


def act(x: GeometricTensor, element: Any) -> GeometricTensor:
    """``element`` acting on the plane and the fibres (``x.transform(element)``)."""
    return x.transform(element)


def grid_elements(gspace: Any) -> List[Any]:
    """The testing elements of ``gspace`` that map the pixel grid onto itself (quarter turns, mirrors)."""
    return [g for g in gspace.testing_elements if gspace.is_grid_element(g)]


def act_on_fibres(x: GeometricTensor, element: Any) -> GeometricTensor:
    """``element`` acting on the fibres alone (``x.transform_fibers(element)``): no interpolation, so every
    testing element is exact."""
    return x.transform_fibers(element)


# ---- the module's inputs --------------------------------------------------------------------------------
def _input_types(module: Any) -> Tuple[Any, ...]:
    """The input field types, as the module takes them: ``(type,)``, a tuple of several, or ``(dict,)``
    for a module taking one dict ``label -> GeometricTensor`` (``in_type`` None, ``in_types`` a dict)."""
    if not isinstance(module, torch.nn.Module) or not hasattr(module, "in_type"):
        raise InvalidTypeError(f"module must be an EquivariantModule (a torch.nn.Module with an in_type), got "
                               f"{type(module).__name__}")
    in_type = module.in_type
    if in_type is None and isinstance(getattr(module, "in_types", None), dict):
        types, args = list(module.in_types.values()), (dict(module.in_types),)
    else:
        args = tuple(in_type) if isinstance(in_type, tuple) else (in_type,)
        types = list(args)
    if not types or not all(hasattr(t, "gspace") and hasattr(t, "size") for t in types):
        raise InvalidTypeError(f"{type(module).__name__} has in_type {in_type!r}; the equivariance checks need a "
                               f"FieldType, a tuple of them, or a dict of them as in_types")
    return args


def _probe(module: torch.nn.Module) -> Tuple[torch.dtype, torch.device]:
    for t in list(module.parameters()) + list(module.buffers()):
        if t.is_floating_point():
            return t.dtype, t.device
    return torch.get_default_dtype(), torch.device("cpu")


def _map(value: Any, fn: Callable[[GeometricTensor], Any]) -> Any:
    """``fn`` on every GeometricTensor (or field type) in ``value``: itself, or the values of a dict, tuple or
    list; a plain tensor (``R2PointConv``'s ``edge_index``) is passed on unchanged."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, dict):
        return {k: fn(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(fn(v) for v in value)
    return fn(value)


def random_inputs(module: Any) -> Tuple[Any, ...]:
    """A random batch of 3 of each input, of size ``module._test_input_size()``, on the module's dtype and
    device: the positional arguments of ``module(*inputs)``."""
    dtype, device = _probe(module)
    if hasattr(module, "_test_inputs"):         # a module of other inputs than images: R2PointConv's point cloud
        return module._test_inputs(dtype, device)
    size = module._test_input_size() if hasattr(module, "_test_input_size") else 10

    def draw(t):
        return GeometricTensor(torch.randn(3, t.size, size, size, dtype=dtype, device=device), t)
    return tuple(_map(arg, draw) for arg in _input_types(module))


def _as_arguments(x: Any) -> Tuple[Any, ...]:
    """Given inputs as positional arguments: a tuple or list is several, anything else (a GeometricTensor,
    a dict) one."""
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _leaves(args: Iterable[Any]) -> List[GeometricTensor]:
    out = []
    for a in args:
        out += list(a.values()) if isinstance(a, dict) else list(a) if isinstance(a, (tuple, list)) else [a]
    return [a for a in out if not isinstance(a, torch.Tensor)]


def _flat(output: Any, action: Optional[Action] = None, element: Any = None) -> torch.Tensor:
    """The raw data of an output (a GeometricTensor, or a tuple, list or dict of them), concatenated, after
    ``action`` with ``element`` when given."""
    parts = _leaves([output])
    return torch.cat([(p if action is None else action(p, element)).tensor.flatten(1) for p in parts], dim=1)


# ---- running the module ----------------------------------------------------------------------------------
@contextlib.contextmanager
def _runner(module: torch.nn.Module, seed: Optional[int], devices: List[torch.device]) -> Iterator[Callable]:
    """A function running ``module`` under the check's rules: no autograd; from ``seed`` when given (in a
    forked random state); in training, from the persistent buffers as they were at the start."""
    names = set(module.state_dict(keep_vars=True)) if module.training else set()
    saved = [(b, b.detach().clone()) for n, b in module.named_buffers() if n in names]

    def restore():
        for b, value in saved:
            b.copy_(value)

    def run(*args):
        with torch.no_grad():
            restore()
            if seed is not None:
                torch.manual_seed(seed)
            return module(*args)

    cuda = sorted({d.index or 0 for d in devices if d.type == "cuda"})
    forked = torch.random.fork_rng(devices=cuda) if seed is not None else contextlib.nullcontext()
    try:
        with forked:
            yield run
    finally:
        with torch.no_grad():
            restore()


def comparisons(module: Any, x: Any = None, elements: Optional[Iterable[Any]] = None, action: Optional[Action] = None,
                input_action: Optional[Action] = None, seed: Optional[int] = None
                ) -> Iterator[Tuple[Any, torch.Tensor, torch.Tensor]]:
    """Yield ``(element, f(input_action(x, g)), action(f(x), g))``, flattened to ``(batch, n)``.

    ``x``: the inputs (see the module docstring; default random).  ``elements``: default the testing
    elements of the first input's gspace, those mapping the pixel grid onto itself unless ``action`` is
    :func:`act_on_fibres`.  ``action`` (default :func:`act`) acts on the output, and on the input unless
    ``input_action`` is given.  Arguments left ``None`` take the module's ``_check_protocol()`` values.
    """
    _input_types(module)
    protocol = getattr(module, "_check_protocol", dict)()
    given = dict(elements=elements, action=action, input_action=input_action, seed=seed)
    setup = {**protocol, **{k: v for k, v in given.items() if v is not None}}
    action = setup.get("action") or act
    input_action = setup.get("input_action") or action
    args = random_inputs(module) if x is None else _as_arguments(x)
    leaves = _leaves(args)
    elements = setup.get("elements")
    if elements is None:
        gspace = leaves[0].type.gspace
        every = action is act_on_fibres or setup.get("every_element", False)
        elements = list(gspace.testing_elements) if every else grid_elements(gspace)
    with _runner(module, setup.get("seed"), [t.tensor.device for t in leaves]) as run:
        y = run(*[_map(a, lambda t: GeometricTensor(t.tensor.clone(), t.type, coords=t.coords))     # in-place safe
                  for a in args])
        for g in elements:
            with torch.no_grad():
                out1, out2 = _flat(run(*[_map(a, lambda t: input_action(t, g)) for a in args])), _flat(y, action, g)
            yield g, out1, out2


# ---- what the checks report ----------------------------------------------------------------------------
def equivariance_errors(module: Any, x: Any = None, elements: Optional[Iterable[Any]] = None, *,
                        action: Optional[Action] = None, input_action: Optional[Action] = None,
                        seed: Optional[int] = None) -> List[Tuple[Any, float, float]]:
    """``(element, max |f(g.x) - g.f(x)|, max |f(g.x)|)`` for each element (default: the grid-exact ones).

    ``x`` defaults to a random batch of 3 on the module's device and dtype; it may be a GeometricTensor,
    a tuple of them (a module of several inputs) or a dict of them (one dict argument).  ``action``,
    ``input_action`` and ``seed``: see :func:`comparisons`.

    Examples
    --------
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> relu = nn.ReLU(nn.FieldType(r2, [r2.regular_repr]))
    >>> [(g, err < 1e-5 * scale) for g, err, scale in nn.equivariance_errors(relu)]
    [(0, True), (1, True), (2, True), (3, True)]
    """
    return [(g, (out1 - out2).abs().max().item(), out1.abs().max().item())
            for g, out1, out2 in comparisons(module, x, elements, action, input_action, seed)]


def assert_equivariant(module: Any, x: Any = None, elements: Optional[Iterable[Any]] = None,
                       tolerance: Optional[float] = None, *, action: Optional[Action] = None,
                       input_action: Optional[Action] = None, seed: Optional[int] = None) -> List[Tuple[Any, float]]:
    """Assert ``max |f(g.x) - g.f(x)| <= tolerance * max |f(g.x)|`` (relative; default 1e-5 for float32,
    1e-10 for float64) and return ``(element, relative error)`` pairs; the other arguments as in
    :func:`equivariance_errors`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.FlipRot2dOnR2(4)
    >>> drop = nn.FieldDropout(nn.FieldType(r2, [r2.regular_repr, r2.irrep(1, 1)]), p=0.5)
    >>> len(nn.assert_equivariant(drop, action=nn.act_on_fibres, seed=0))     # every testing element
    8
    """
    _input_types(module)
    if tolerance is not None:
        tolerance = finite_float(tolerance, "tolerance", minimum=0)
    else:
        first = _leaves(_as_arguments(x))[0] if x is not None else None
        dtype = first.tensor.dtype if first is not None else _probe(module)[0]
        tolerance = 1e-10 if dtype == torch.float64 else 1e-5
    result = []
    for g, err, scale in equivariance_errors(module, x, elements, action=action, input_action=input_action,
                                             seed=seed):
        rel = err / max(scale, 1e-30)
        if rel > tolerance:
            raise AssertionError(f"{type(module).__name__} is not equivariant under {g!r}: relative error "
                                 f"{rel:.3g} > {tolerance:.3g}")
        result.append((g, rel))
    return result


def check(module: Any, atol: float, rtol: float, assertion: bool = True, verbose: bool = False,
          **setup: Any) -> List[Tuple[Any, float]]:
    """e2cnn's ``check_equivariance`` protocol on random input: ``(element, mean absolute error)`` pairs,
    raising ``AssertionError`` (when ``assertion``) where ``f(g.x)`` and ``g.f(x)`` are not close within
    ``atol + rtol * |g.f(x)|``; ``setup``: the keywords of :func:`comparisons` but ``x``."""
    atol, rtol = finite_float(atol, "atol", minimum=0), finite_float(rtol, "rtol", minimum=0)
    result = []
    for g, out1, out2 in comparisons(module, **setup):
        diff = (out1 - out2).abs()
        if verbose:
            log.info("%s: element %r, max error %.3g, mean error %.3g", type(module).__name__, g,
                     diff.max().item(), diff.mean().item())
        if assertion and not torch.allclose(out1, out2, atol=atol, rtol=rtol):
            raise AssertionError(f"{type(module).__name__} is not equivariant under {g!r}: max error "
                                 f"{diff.max().item():.3g} (atol={atol}, rtol={rtol})")
        result.append((g, diff.mean().item()))
    return result
