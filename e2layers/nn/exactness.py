"""Where and why a network stops being exactly equivariant: :func:`exactness_report`.

Quarter turns about the image centre and the mirrors map the pixel grid onto itself, so an equivariant
network commutes with them exactly, up to float rounding, unless something in it samples the grid
asymmetrically.  The report runs the network (a float64 copy, in eval mode) on a random input and on each
moved input, watching every layer with forward hooks, and gives per layer:

- the error of its output (``max |f(g x) - g f(x)| / max |g f(x)|``) under each motion the group has: how
  far the network is from exact at that point;
- the layer's own error (the layer alone, on its recorded input moved): whether it breaks exactness
  itself or inherits it from above;
- a verdict and, where it breaks, the cause in words (``_exactness_causes``, ``_grid_geometry``);

then the first layer that breaks, the input sizes at which the whole network is exact (from the layers'
geometry alone, :mod:`valid_sizes`) and the nearest exact sizes to the one checked.  Plain ``torch.nn``
modules and plain tensors may be mixed in; a plain tensor's field type is inferred from the data flow
(``_exactness_trace``).  ``basisgen check`` prints the report; docs/exactness.md explains how to read it.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from basisgen.checks import is_int
from basisgen.errors import InvalidTypeError, InvalidValueError

from ._checks import check_input_shape
from ._exactness_causes import intrinsic_words
from ._exactness_errors import act, map_leaves, value_error
from ._equivariance import _probe
from ._exactness_trace import MODEL_INPUT, Call, Recorder, leaves, spatial_size
from ._grid_geometry import geometry_of
from ._grid_motions import ALL_MOTIONS, GridMotion, element_of, motion_of, motions_of
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor
from .valid_sizes import MAX_SIZE_BOUND, LayerSizes, SizeRule, derive_rule

__all__ = ["exactness_report", "ExactnessReport", "LayerRow", "sizes_by_brute_force"]

Progress = Optional[Callable[[int, int], None]]


@dataclass
class LayerRow:
    """One call of a layer in the report.

    ``errors``: the relative error of its output under each motion (None where the motion is not a
    symmetry there: a layer after a restriction to a subgroup); ``own``: the layer's own error (alone, on
    its recorded input moved; run only where ``errors`` is above the tolerance); ``verdict``: ``"exact"``,
    ``"breaks"`` (it breaks exactness itself), ``"inherits"`` (exact itself, but its input is not) or
    ``"n/a"``; ``cause``: why it breaks (or ``"float precision only"`` where the errors are rounding);
    ``always``: the motions it breaks at every input size.

    Examples
    --------
    >>> row = LayerRow("conv", "R2Conv", (8, 8), {"rot90": 0.6}, {"rot90": 0.6}, "breaks", "asymmetric padding")
    >>> row.worst, row.to_dict()["output_size"]
    (0.6, [8, 8])
    """

    name: str
    kind: str
    out_size: Optional[Tuple[int, int]]
    errors: Dict[str, Optional[float]]
    own: Dict[str, Optional[float]]
    verdict: str = "exact"
    cause: Optional[str] = None
    always: Tuple[str, ...] = ()

    @property
    def worst(self) -> Optional[float]:
        values = [e for e in self.errors.values() if e is not None]
        return max(values) if values else None

    def to_dict(self) -> Dict[str, Any]:
        return dict(name=self.name, kind=self.kind, output_size=list(self.out_size) if self.out_size else None,
                    errors={k: _json_number(v) for k, v in self.errors.items()},
                    own_errors={k: _json_number(v) for k, v in self.own.items()},
                    verdict=self.verdict, cause=self.cause, breaks_at_every_size=list(self.always))


def _json_number(x: Optional[float]) -> Any:
    return None if x is None else x if math.isfinite(x) else "inf"


@dataclass
class ExactnessReport:
    """What :func:`exactness_report` found; ``str(report)`` is the table, the sizes and a summary.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.trivial_repr])
    >>> net = nn.SequentialModule(nn.R2Conv(t, nn.FieldType(r2, [r2.regular_repr]), 3, padding=1, stride=2))
    >>> report = nn.exactness_report(net, (1, 1, 8, 8))
    >>> report.exact, report.first_break.name
    (False, '0')
    >>> report.sizes.describe()
    'H, W = 2k + 1: 1, 3, 5, 7, 9, 11, ...'
    >>> nn.exactness_report(net, (1, 1, 9, 9)).exact
    True
    """

    model: str
    input_shape: Tuple[int, int, int, int]
    dtype: str
    tolerance: float
    motions: List[str]
    rows: List[LayerRow]
    output_errors: Dict[str, Optional[float]]
    sizes: SizeRule
    input_fields: str
    notes: List[str] = field(default_factory=list)
    reach: Optional[SizeRule] = field(default=None, repr=False)     # ``sizes`` derived a little further

    @property
    def exact(self) -> bool:
        """Is the output exact under every motion checked (up to the tolerance)?"""
        return all(e is None or e <= self.tolerance for e in self.output_errors.values()) and \
            all(r.verdict != "breaks" for r in self.rows)

    @property
    def first_break(self) -> Optional[LayerRow]:
        return next((r for r in self.rows if r.verdict == "breaks"), None)

    def nearest_sizes(self, axis: int = 0) -> List[Tuple[int, str]]:
        """The exact lengths nearest to the input's along ``axis`` (0: height, 1: width), one below and one
        above (looked for a little beyond the bound), each with the padding or cropping that reaches it."""
        rule = self.reach or self.sizes
        return rule.nearest(self.input_shape[2 + axis], axis) if rule.derived else []

    def summary(self) -> str:
        """One line: exact or not, where it first breaks and why."""
        h, w = self.input_shape[2:]
        shown = [e for e in self.output_errors.values() if e is not None]
        if not shown:
            return f"nothing to check: the group has no motion of the grid among {', '.join(self.motions) or 'its elements'}"
        if self.exact:
            acting = [m for m in self.motions if self.output_errors.get(m) is not None]
            return (f"exact at {h}x{w}: the output commutes with {', '.join(acting)} to {self.dtype} rounding "
                    f"(largest error {_number(max(shown))})")
        row = self.first_break
        if row is None:
            return f"not exact at {h}x{w} (largest output error {_number(max(shown))})"
        return f"not exact at {h}x{w}: first breaks at {row.name} ({row.kind}): {row.cause}"

    def to_dict(self) -> Dict[str, Any]:
        """Everything, JSON-ready (``basisgen check --json``)."""
        return dict(model=self.model, input_shape=list(self.input_shape), dtype=self.dtype,
                    tolerance=self.tolerance, motions=self.motions, input_fields=self.input_fields,
                    exact=self.exact, summary=self.summary(),
                    first_break=self.first_break.name if self.first_break else None,
                    layers=[r.to_dict() for r in self.rows],
                    output_errors={k: _json_number(v) for k, v in self.output_errors.items()},
                    valid_sizes=dict(rule=self.sizes.describe(), bound=self.sizes.bound, height=list(self.sizes.height),
                                     width=list(self.sizes.width), derived=self.sizes.derived,
                                     notes=list(self.sizes.notes)),
                    nearest_sizes=[dict(size=n, how=how) for n, how in self.nearest_sizes()],
                    nearest_widths=[dict(size=n, how=how) for n, how in self.nearest_sizes(1)], notes=self.notes)

    def table(self) -> str:
        """The per-layer table: layer, output size, error per motion, verdict; causes below their row."""
        heads = ["layer", "kind", "output"] + self.motions + ["verdict"]
        lines = []
        for row in self.rows + [LayerRow("(output)", "", None, self.output_errors, {},
                                         "exact" if self.exact else "not exact")]:
            size = "x".join(map(str, row.out_size)) if row.out_size else ""
            lines.append([row.name, row.kind, size] + [_number(row.errors.get(m)) for m in self.motions]
                         + [row.verdict])
        widths = [max(len(str(x)) for x in col) for col in zip(heads, *lines)]
        out = ["  ".join(h.ljust(w) for h, w in zip(heads, widths)).rstrip()]
        for row, cells in zip(self.rows + [None], lines):
            out.append("  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip())
            if row is not None and row.cause and row.verdict == "breaks":
                out.append(f"    cause: {row.cause}")
        return "\n".join(out)

    def __str__(self) -> str:
        lines = [f"{self.model} on {'x'.join(map(str, self.input_shape))} ({self.input_fields}), {self.dtype}, "
                 f"motions {', '.join(self.motions) or 'none'}; errors max |f(g x) - g f(x)| / max |g f(x)|, "
                 f"exact below {self.tolerance:.1e}", "", self.table(), ""]
        lines.append(f"exact input sizes (up to {self.sizes.bound}): {self.sizes.describe()}")
        lines += [f"  {note}" for note in self.sizes.notes]
        h, w = self.input_shape[2:]
        if self.sizes.derived and not self.sizes.exact(h, w):
            for axis, what in ((0, "sizes" if h == w else "heights"), (1, "widths")):
                near = self.nearest_sizes(axis)
                off = (h, w)[axis] not in (self.sizes.height, self.sizes.width)[axis]
                if near and off and (axis == 0 or h != w):
                    lines.append(f"nearest exact {what}: " + "; ".join(f"{n} ({how})" for n, how in near))
        lines += self.notes
        lines.append(self.summary())
        return "\n".join(lines)


def _number(x: Optional[float]) -> str:
    if x is None:
        return "-"
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return "inf"
    return f"{x:.1e}" if x < 0.01 else f"{x:.2f}"


# ---- arguments ----------------------------------------------------------------------------------------------
def _motions(elements: Any, gspace: Any) -> List[GridMotion]:
    """The motions to check: ``elements`` (GridMotions, their names, or elements of the input's group that map
    the grid onto itself), or every motion of the input's group."""
    if elements is None:
        return motions_of(gspace)
    if isinstance(elements, (str, GridMotion)) or not hasattr(elements, "__iter__"):
        elements = [elements]
    names = {m.name: m for m in ALL_MOTIONS}
    out = []
    for e in elements:
        if isinstance(e, GridMotion):
            m = e
        elif isinstance(e, str):
            if e not in names:
                raise InvalidValueError(f"elements: unknown motion {e!r}; the grid's motions are {sorted(names)}")
            m = names[e]
        else:
            m = motion_of(gspace, e)
            if m is None:
                raise InvalidValueError(f"elements: {e!r} does not map the pixel grid onto itself, so it cannot be "
                                        f"exact; use angle_errors for the error at any angle")
        if m.turns == 0 and not m.flip:
            continue
        if element_of(gspace, m) is None:
            raise InvalidValueError(f"elements: {m.name} is not an element of {gspace.fibergroup.name}")
        if m not in out:
            out.append(m)
    return out


def _copy(model: torch.nn.Module, dtype: torch.dtype) -> torch.nn.Module:
    if not isinstance(model, torch.nn.Module):
        raise InvalidTypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if dtype not in (torch.float64, torch.float32):
        raise InvalidValueError(f"dtype must be torch.float64 or torch.float32, got {dtype!r}")
    return copy.deepcopy(model).to(dtype).eval()


def _input(model: torch.nn.Module, shape: Tuple[int, ...], dtype: torch.dtype, seed: int,
           in_type: Optional[FieldType]) -> Any:
    device = _probe(model)[1]
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype).to(device)
    if isinstance(model, EquivariantModule):
        t = model.in_type
        if not isinstance(t, FieldType):
            raise InvalidTypeError(f"{type(model).__name__} takes {t!r}; exactness_report needs a model of one "
                                   f"input (a FieldType or plain tensors)")
        if t.size != shape[1]:
            raise InvalidValueError(f"input_shape has {shape[1]} channels but {type(model).__name__}'s in_type has "
                                    f"{t.size}")
        return GeometricTensor(x, t)
    if in_type is not None and in_type.size != shape[1]:
        raise InvalidValueError(f"input_shape has {shape[1]} channels but in_type has {in_type.size}")
    return x


def _default_type(channels: int) -> FieldType:
    from .. import gspaces
    space = gspaces.FlipRot2dOnR2(4)
    return FieldType(space, channels * [space.trivial_repr])


def _run(model: torch.nn.Module, x: Any) -> Tuple[Recorder, Any]:
    recorder = Recorder(model, x)
    with torch.no_grad(), recorder.watching():
        output = model(x)
    return recorder, output


# ---- the report -----------------------------------------------------------------------------------------------
def exactness_report(model: torch.nn.Module, input_shape: Sequence[int], elements: Any = None, *,
                     in_type: Optional[FieldType] = None, dtype: torch.dtype = torch.float64,
                     tolerance: Optional[float] = None, seed: int = 0, size_bound: int = 64,
                     progress: Progress = None) -> ExactnessReport:
    """Check ``model`` layer by layer under the grid's exact motions; see :class:`ExactnessReport`.

    ``model``: any ``torch.nn.Module``; it is not changed (a copy in ``dtype``, in eval mode, is run).  An
    :class:`EquivariantModule` gets a GeometricTensor of its ``in_type``, any other model a plain tensor whose
    fields are those it wraps it in (``nn.GeometricTensor(x, self.in_type)``), or ``in_type``, or trivial
    fields of D4.  ``input_shape``: ``(batch, channels, height, width)``.  ``elements``: the motions to check
    (their names such as ``"rot90"``, or elements of the input's group that map the grid onto itself); default
    every one the input's group has.  ``tolerance``: errors up to it are float rounding (default
    ``sqrt(eps)`` of ``dtype``).  ``size_bound``: the exact input sizes are listed up to it (or up to the
    input's size, if larger).  ``progress``
    is called as ``progress(done, total)`` after each pass.
    """
    shape = check_input_shape(input_shape)
    if not is_int(size_bound) or not 1 <= size_bound <= MAX_SIZE_BOUND:
        raise InvalidValueError(f"size_bound must be an int in [1, {MAX_SIZE_BOUND}], got {size_bound!r}")
    net = _copy(model, dtype)
    tolerance = math.sqrt(torch.finfo(dtype).eps) if tolerance is None else float(tolerance)
    if not tolerance >= 0:
        raise InvalidValueError(f"tolerance must be a number >= 0, got {tolerance!r}")
    x = _input(net, shape, dtype, seed, in_type)
    base, base_output = _run(net, x)
    input_type = base.input_type or in_type or _default_type(shape[1])
    motions = _motions(elements, input_type.gspace)
    total = 1 + len(motions)
    if progress is not None:
        progress(1, total)
    calls = base.calls
    spaces = _gspaces(calls, input_type.gspace)
    out_space = spaces[-1] if calls else input_type.gspace
    out_type = _output_type(base, base_output)
    rows = [LayerRow(c.name, c.kind, c.out_size, {}, {}) for c in calls]
    inputs_moved: Dict[str, List[Optional[float]]] = {}
    output_errors: Dict[str, Optional[float]] = {}
    for done, m in enumerate(motions, 2):
        moved_x = act(x, m, input_type)
        moved, moved_output = _run(net, moved_x)
        if [c.name for c in moved.calls] != [c.name for c in calls]:
            raise InvalidValueError(f"model runs other layers on the moved input ({m.name}) than on the input: "
                                    f"the analyzer needs the same layers in the same order")
        inputs_moved[m.name] = []
        for c, c2, row, space in zip(calls, moved.calls, rows, spaces):
            symmetric = element_of(space, m) is not None
            row.errors[m.name] = value_error(c.output, c2.output, m, base.output_type(c.index)) if symmetric else None
            inputs_moved[m.name].append(value_error(c.args, c2.args, m, c.plain_type) if symmetric else None)
            # the layer alone is run only where its output is off: an exact output needs no explaining
            broken = symmetric and row.errors[m.name] is not None and row.errors[m.name] > tolerance
            row.own[m.name] = _own_error(c, m, base.output_type(c.index)) if broken else None
        output_errors[m.name] = (value_error(base_output, moved_output, m, out_type)
                                 if element_of(out_space, m) is not None else None)
        if progress is not None:
            progress(done, total)
    notes = _judge(rows, calls, motions, inputs_moved, tolerance)
    acting = [m for m in motions if output_errors[m.name] is not None]
    bound = max(size_bound, min(max(shape[2:]), MAX_SIZE_BOUND))
    # derived a little beyond the bound, so that the nearest exact size above the input's is found
    wide = _size_rule(calls, rows, spaces, acting, min(bound + _REACH, MAX_SIZE_BOUND))
    rule = replace(wide, bound=bound, height=tuple(n for n in wide.height if n <= bound),
                   width=tuple(n for n in wide.width if n <= bound))
    if len(acting) < len(motions):
        lost = ", ".join(m.name for m in motions if m not in acting)
        kept = ", ".join(m.name for m in acting) or "no motion"
        rule = replace(rule, notes=rule.notes + (f"the sizes are those at which the output is exact under {kept}: "
                                                 f"the network restricts to a subgroup without {lost}",))
    return ExactnessReport(type(model).__name__, shape, str(dtype).replace("torch.", ""), tolerance,
                           [m.name for m in motions], rows, output_errors, rule, _fields(input_type), notes, wide)


def _fields(t: FieldType) -> str:
    from ._exactness_causes import field_words
    return f"{field_words(t)} of {t.gspace.fibergroup.name}"


def _gspaces(calls: List[Call], input_space: Any) -> List[Any]:
    """The gspace in force at each call: of its GeometricTensors (output first), of its plain input's inferred
    type, or of the call that fed it."""
    out: List[Any] = []
    for c in calls:
        space = next((leaf.type.gspace for leaf in c.out_leaves + c.in_leaves if isinstance(leaf, GeometricTensor)),
                     None)
        if space is None and c.plain_type is not None:
            space = c.plain_type.gspace
        if space is None:
            producer = next((p for p in c.producers if p is not None), None)
            space = input_space if producer == MODEL_INPUT or not out else out[producer if producer is not None else -1]
        out.append(space)
    return out


def _output_type(recorder: Recorder, output: Any) -> Optional[FieldType]:
    leaf = next(iter(leaves(output)), None)
    if leaf is None or isinstance(leaf, GeometricTensor):
        return None
    producer = recorder.producer_of(leaf)
    if producer is None or producer == MODEL_INPUT:
        return recorder.input_type if producer == MODEL_INPUT else None
    return recorder.output_type(producer)


def _own_error(call: Call, motion: GridMotion, out_type: Optional[FieldType]) -> Optional[float]:
    """The layer alone: ``f(g x)`` against ``g f(x)`` on its recorded input ``x``."""
    moved = map_leaves(call.args, lambda leaf: act(leaf, motion, call.plain_type))
    if any(leaf is None for leaf in _all(moved)):
        return None
    try:
        with torch.no_grad():
            got = call.module(*moved, **call.kwargs)
    except (RuntimeError, ValueError, IndexError):       # refuses the moved input (a non-square size, ...)
        return math.inf
    return value_error(call.output, got, motion, out_type)


def _all(value: Any) -> List[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _all(v)]
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _all(v)]
    return [value]


# ---- verdicts and causes --------------------------------------------------------------------------------------
def _judge(rows: List[LayerRow], calls: List[Call], motions: List[GridMotion],
           inputs_moved: Dict[str, List[Optional[float]]], tol: float) -> List[str]:
    """Fill in each row's verdict and cause; notes for what happens between layers."""
    notes = []

    def bad(x: Optional[float]) -> bool:
        return x is not None and x > tol

    for i, (row, call) in enumerate(zip(rows, calls)):
        applicable = [m for m in motions if row.errors.get(m.name) is not None]
        if not applicable:
            row.verdict = "n/a"
            continue
        own_broken = [m for m in applicable if bad(row.own.get(m.name))]
        if own_broken:
            row.verdict = "breaks"
            causes: Dict[str, List[str]] = {}
            always = []
            for m in own_broken:
                words, intrinsic = _cause(call, m, tol)
                causes.setdefault(words, []).append(m.name)
                if intrinsic:
                    always.append(m.name)
            row.cause = "; ".join((words if len(causes) == 1 else f"{', '.join(ms)}: {words}")
                                  .replace(_MOTIONS, ", ".join(ms)) for words, ms in causes.items())
            row.always = tuple(always)
            continue
        fed_broken = [m for m in applicable if bad(inputs_moved[m.name][i])]
        upstream_fine = all(not bad(rows[p].errors.get(m.name)) for m in fed_broken for p in call.producers
                            if p is not None and p != MODEL_INPUT)
        if fed_broken and upstream_fine and not any(rows[j].verdict == "breaks" for j in range(i)):
            row.verdict = "breaks"
            row.cause = (f"the model's forward code before this layer (not a module: a functional call, slice or "
                         f"padding) breaks exactness under {', '.join(m.name for m in fed_broken)}")
            notes.append(f"note: code in the model's forward before {row.name} breaks exactness; the size rule "
                         f"cannot see it")
        elif any(bad(row.errors.get(m.name)) for m in applicable):
            row.verdict = "inherits"
        else:
            row.verdict = "exact"
            worst = row.worst
            row.cause = "float precision only" if worst else None
    return notes


#: stands for the motions a cause applies to, in the words of a cause that is the same for all of them
_MOTIONS = "{motions}"

#: how far beyond the listed sizes the rule is derived, for the nearest exact size above the input's
_REACH = 32


def _cause(call: Call, motion: GridMotion, tol: float) -> Tuple[str, bool]:
    """``(words, breaks at every size?)`` for a call that is not exact under ``motion`` by itself; the words
    of a module that is not equivariant name the motions as :data:`_MOTIONS`."""
    geometry = geometry_of(call.module)
    size = call.in_size
    if geometry is not None and size is not None:
        for axis in motion.axes:
            if not geometry.exact(size[axis], axis):
                words = geometry.cause(size[axis], axis)
                if size[0] != size[1]:
                    words += f" (along the {'height' if axis == 0 else 'width'})"
                if not call.equivariant and _breaks_elsewhere(call, motion, geometry, tol):
                    return words + "; and at sizes where it samples symmetrically, " + \
                        intrinsic_words(call.module, call.plain_type, _MOTIONS), True
                return words, False
        if motion.swaps_axes and not geometry.square:
            return geometry.square_cause(), True
    in_type = next((leaf.type for leaf in call.in_leaves if isinstance(leaf, GeometricTensor)), call.plain_type)
    return intrinsic_words(call.module, in_type, _MOTIONS), True


def _breaks_elsewhere(call: Call, motion: GridMotion, geometry: Any, tol: float) -> bool:
    """Is the layer, alone, still not exact under ``motion`` at the nearest size where its sampling is
    symmetric (a random input of the same type)?"""
    h, w = call.in_size
    sizes = []
    for axis, n in enumerate((h, w)):
        near = next((k for k in range(n, n + 65) if geometry.exact(k, axis) and geometry.out_size(k, axis)), None)
        if near is None:
            return False
        sizes.append(near)
    leaf = call.in_leaves[0]
    data = leaf.tensor if isinstance(leaf, GeometricTensor) else leaf
    x = torch.randn(data.shape[0], data.shape[1], *sizes, generator=torch.Generator().manual_seed(1),
                    dtype=data.dtype).to(data.device)
    probe_in = GeometricTensor(x, leaf.type) if isinstance(leaf, GeometricTensor) else x
    with torch.no_grad():
        try:
            out = call.module(probe_in)
        except (RuntimeError, ValueError, IndexError):
            return False
    probe = Call(call.index, call.name, call.module, (probe_in,), {}, out, call.producers, call.plain_type)
    error = _own_error(probe, motion, call.plain_type if isinstance(out, torch.Tensor) and call.plain_type is not None
                       and out.shape[1] == call.plain_type.size else None)
    return error is not None and error > tol


def _size_rule(calls: List[Call], rows: List[LayerRow], spaces: List[Any], motions: List[GridMotion],
               bound: int) -> SizeRule:
    layers = []
    for c, row, space in zip(calls, rows, spaces):
        spatial = c.in_size is not None
        geometry = geometry_of(c.module) if spatial else None
        if spatial and geometry is None and c.out_size is not None and c.out_size != c.in_size:
            return SizeRule(bound, (), (), reason=f"{c.name} ({c.kind}) changes the size {_hw(c.in_size)} -> "
                                                  f"{_hw(c.out_size)} in a way the analyzer does not know")
        if spatial and geometry is not None and c.out_size is not None:
            expected = tuple(geometry.out_size(n, axis) for axis, n in enumerate(c.in_size))
            if expected != tuple(c.out_size):
                return SizeRule(bound, (), (), reason=f"{c.name} ({c.kind}) gave {_hw(c.out_size)} from "
                                                      f"{_hw(c.in_size)}, not the {expected} its geometry says")
        producer = next((p for p, leaf in zip(c.producers, c.in_leaves) if spatial_size(leaf) is not None), None)
        in_group = tuple(m for m in motions if element_of(space, m) is not None)
        always = tuple(m for m in motions if m.name in row.always)
        layers.append(LayerSizes(f"{c.name} ({c.kind})", geometry, producer, spatial, in_group, always))
    for row in rows:
        if row.verdict == "breaks" and row.cause and row.cause.startswith("the model's forward code"):
            return SizeRule(bound, (), (), reason=f"code in the model's forward before {row.name} breaks exactness")
    index = {c.index: i for i, c in enumerate(calls)}
    for layer in layers:
        if layer.producer not in (None, MODEL_INPUT):
            layer.producer = index[layer.producer]
    return derive_rule(layers, motions, bound)


def _hw(size: Tuple[int, ...]) -> str:
    return "x".join(map(str, size))


# ---- brute force ----------------------------------------------------------------------------------------------
def sizes_by_brute_force(model: torch.nn.Module, channels: int, sizes: Sequence[int], elements: Any = None, *,
                         in_type: Optional[FieldType] = None, dtype: torch.dtype = torch.float64,
                         tolerance: Optional[float] = None, seed: int = 0,
                         progress: Optional[Callable[[int], None]] = None) -> Dict[int, bool]:
    """Is ``model``'s output exact on an ``n`` x ``n`` input, for each ``n`` of ``sizes``, under every motion
    that acts on it?  Runs the model (no geometry): what :attr:`ExactnessReport.sizes` is checked against.
    The input and its moved copies go through as one batch (the model is in eval mode, so its samples do not
    meet).  A size the model refuses is not exact.  ``progress(done)`` after each size."""
    net = _copy(model, dtype)
    tolerance = math.sqrt(torch.finfo(dtype).eps) if tolerance is None else float(tolerance)
    out: Dict[int, bool] = {}
    for done, n in enumerate(sizes, 1):
        try:
            out[n] = _exact_at(net, channels, n, elements, in_type, dtype, tolerance, seed)
        except (RuntimeError, ValueError, IndexError):          # the model refuses this size
            out[n] = False
        if progress is not None:
            progress(done)
    return out


def _exact_at(net: torch.nn.Module, channels: int, n: int, elements: Any, in_type: Optional[FieldType],
              dtype: torch.dtype, tolerance: float, seed: int) -> bool:
    x = _input(net, (1, channels, n, n), dtype, seed, in_type)
    base, y = _run(net, x)
    input_type = base.input_type or in_type or _default_type(channels)
    space = _gspaces(base.calls, input_type.gspace)[-1] if base.calls else input_type.gspace
    out_type = _output_type(base, y)
    motions = [m for m in _motions(elements, input_type.gspace) if element_of(space, m) is not None]
    if not motions:
        return True
    batch = [act(x, m, input_type) for m in motions]
    stacked = (GeometricTensor(torch.cat([b.tensor for b in batch]), x.type) if isinstance(x, GeometricTensor)
               else torch.cat(batch))
    with torch.no_grad():
        moved = net(stacked)
    for i, m in enumerate(motions):
        one = map_leaves(moved, lambda leaf: GeometricTensor(leaf.tensor[i:i + 1], leaf.type)
                         if isinstance(leaf, GeometricTensor) else leaf[i:i + 1])
        error = value_error(y, one, m, out_type)
        if error is None or error > tolerance:
            return False
    return True
