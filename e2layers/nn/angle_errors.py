"""The equivariance error of a whole model over the full circle of rotation angles, and a plain-CNN baseline.

On the pixel grid, quarter turns are exact, so an equivariant network is equivariant there to round-off;
between them a rotation must interpolate, and the network is only approximately equivariant (its
filters are sampled on the grid, and the interpolation itself loses a little).  :func:`angle_errors`
measures how far: for each angle theta it compares ``f(R x)`` with ``R f(x)`` on a smooth random image
``x`` and returns an :class:`AngleCurve`.  :func:`plain_baseline` gives the same layout with
unconstrained filters, whose curve shows what "not equivariant" looks like for comparison.

The rotation: counter-clockwise as ``torch.rot90(x, 1, dims=(-2, -1))`` is for +90 degrees, about the
image centre; ``torch.rot90`` itself at multiples of 90 degrees, a cubic spline otherwise
(``scipy.ndimage.rotate``, order 3, mirrored at the border, in float64 on the CPU).  A field type's
non-trivial fibres turn by the group's element of that angle; where the group has none (45 degrees in C_4),
the curve is NaN.
"""
from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from basisgen._lazy import lazy_import
from basisgen.checks import finite_float, integer, one_of
from basisgen.errors import InvalidTypeError, InvalidValueError

from ._checks import check_input_shape
from ._equivariance import _probe, act_on_fibres
from ._exactness_errors import relative_error
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor
from .network_export import PlainOrGeometric, export

__all__ = ["AngleCurve", "angle_errors", "plain_baseline"]

log = logging.getLogger(__name__)

scipy = lazy_import("scipy.ndimage")

DEFAULT_ANGLES = tuple(float(a) for a in range(0, 360, 5))
SPLINE_ORDER = 3            # cubic: on a smooth image its error is far below the network's own
SMOOTHING = 1.5             # the input noise's Gaussian blur (pixels): little left near the Nyquist frequency
RAMP = 3.0                  # the width (pixels) of the input disc's soft edge, at most half its radius
MARGIN = 2.0                # the output's rim (pixels) left out: the spline there reads mirrored, invented values
ANGLE_TOLERANCE = 1e-9      # radians: a group element "is" the rotation by theta within this
_REDRAWN = (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)


@dataclass(frozen=True)
class AngleCurve:
    """The relative equivariance error of one model at each angle (degrees; NaN where not comparable).

    Examples
    --------
    >>> import numpy as np
    >>> curve = AngleCurve("model", np.array([0.0, 45.0, 90.0]), np.array([0.0, 0.01, 1e-16]))
    >>> curve.at(45), curve.at(405)
    (0.01, 0.01)
    """

    label: str
    angles: np.ndarray
    errors: np.ndarray

    def __post_init__(self):
        if not isinstance(self.label, str):
            raise InvalidTypeError(f"label must be a str, got {type(self.label).__name__}")
        angles = np.asarray(self.angles, dtype=np.float64)
        errors = np.asarray(self.errors, dtype=np.float64)
        if angles.ndim != 1 or angles.shape != errors.shape:
            raise InvalidValueError(f"angles and errors must be 1-D arrays of one length, got shapes {angles.shape} "
                                    f"and {errors.shape}")
        object.__setattr__(self, "angles", angles)      # frozen: the arrays are set once, as float64
        object.__setattr__(self, "errors", errors)

    def at(self, degrees: float) -> float:
        """The error at ``degrees``, which must be one of the curve's angles (modulo 360)."""
        degrees = finite_float(degrees, "degrees")
        distance = np.abs((self.angles - degrees + 180.0) % 360.0 - 180.0)
        hits = np.flatnonzero(distance < 1e-9)
        if not hits.size:
            raise InvalidValueError(f"degrees must be one of the curve's angles {self.angles.tolist()} (modulo 360), "
                                    f"got {degrees!r}")
        return float(self.errors[hits[0]])


# ---- rotations -------------------------------------------------------------------------------------------
def _quarter_turns(degrees: float) -> Optional[int]:
    k = degrees / 90.0
    return int(round(k)) % 4 if abs(k - round(k)) < 1e-9 else None


def _rotate_plane(x: torch.Tensor, degrees: float) -> torch.Tensor:
    """The plane of ``x`` (its last two dimensions) turned counter-clockwise by ``degrees`` about its centre."""
    k = _quarter_turns(degrees)
    if k is not None:
        return torch.rot90(x, k, dims=(-2, -1))
    # scipy's positive angle turns the same way as rot90's (both map the axis -1 onto the axis -2)
    out = scipy.ndimage.rotate(x.detach().cpu().double().numpy(), degrees, axes=(-2, -1), reshape=False,
                         order=SPLINE_ORDER, mode="mirror")
    return torch.as_tensor(np.ascontiguousarray(out), dtype=x.dtype, device=x.device)


def _is_trivial(field_type: Optional[FieldType]) -> bool:
    return field_type is None or all(rep.is_trivial() for rep in field_type.representations)


def _rotation_element(gspace: Any, degrees: float) -> Any:
    """The element of ``gspace`` that turns the plane by ``degrees`` without a flip, or None if it has none."""
    if not hasattr(gspace, "_flip_and_angle"):
        raise InvalidValueError(f"the field types must live on the plane (a gspace on R^2), got {gspace!r}")
    theta = math.radians(degrees) % (2 * math.pi)
    group = gspace.fibergroup
    # a finite group lists its elements; a continuous one (SO(2): an angle, O(2): (0, angle)) is built
    candidates = ([] if group.continuous else list(group.elements)) + [theta, (0, theta)]
    for g in candidates:
        if not group.is_element(g):
            continue
        flip, angle = gspace._flip_and_angle(g)
        gap = (angle - theta) % (2 * math.pi)
        if not flip and min(gap, 2 * math.pi - gap) < ANGLE_TOLERANCE:
            return g
    return None


class _Rotation:
    """The rotation by ``degrees`` acting on tensors of given field types (None: trivial fields); its
    ``act`` returns None where a field type's group has no element for the angle."""

    def __init__(self, degrees: float):
        self.degrees = degrees
        self._elements: Dict[Any, Any] = {}

    def fibres(self, x: torch.Tensor, field_type: Optional[FieldType]) -> Optional[torch.Tensor]:
        if _is_trivial(field_type):
            return x
        gspace = field_type.gspace
        if gspace not in self._elements:
            self._elements[gspace] = _rotation_element(gspace, self.degrees)
        g = self._elements[gspace]
        if g is None:
            return None
        return act_on_fibres(GeometricTensor(x, field_type), g).tensor

    def act(self, x: torch.Tensor, field_type: Optional[FieldType], spatial: bool = True) -> Optional[torch.Tensor]:
        y = self.fibres(x, field_type)
        if y is None or not spatial:
            return y
        return _rotate_plane(y, self.degrees)


# ---- the input -------------------------------------------------------------------------------------------
def _radius_grid(h: int, w: int) -> np.ndarray:
    rows, cols = np.mgrid[:h, :w]
    return np.hypot(rows - (h - 1) / 2, cols - (w - 1) / 2)


def _smooth_input(shape: Tuple[int, int, int, int], seed: int) -> np.ndarray:
    """Blurred Gaussian noise of unit scale under a soft disc: 1 inside, a raised-cosine edge ``RAMP`` wide,
    0 from half a pixel inside the inscribed circle on, so no rotation moves anything off the grid."""
    rng = np.random.default_rng(seed)
    noise = scipy.ndimage.gaussian_filter(rng.standard_normal(shape), sigma=(0, 0, SMOOTHING, SMOOTHING), mode="wrap")
    outer = (min(shape[-2:]) - 1) / 2 - 0.5
    ramp = min(RAMP, outer / 2)
    t = np.clip((_radius_grid(*shape[-2:]) - (outer - ramp)) / ramp, 0.0, 1.0)
    mask = 0.5 * (1 + np.cos(math.pi * t))
    return noise / max(float(noise.std()), 1e-12) * mask


def _output_disc(h: int, w: int) -> np.ndarray:
    """The output pixels compared: within the inscribed circle less ``MARGIN`` (at least the central ones)."""
    r = _radius_grid(h, w)
    return r <= max((min(h, w) - 1) / 2 - MARGIN, float(r.min()))


# ---- checks of the arguments -----------------------------------------------------------------------------
def _angles(angles: Optional[Sequence[float]]) -> np.ndarray:
    if angles is None:
        return np.array(DEFAULT_ANGLES)
    if isinstance(angles, (str, bytes)) or not hasattr(angles, "__len__") or not len(angles):
        raise InvalidValueError(f"angles must be a non-empty sequence of degrees, got {angles!r}")
    return np.array([finite_float(a, f"angles[{i}]") for i, a in enumerate(angles)], dtype=np.float64)


def _input_type(model: torch.nn.Module, in_type: Any, channels: int) -> Optional[FieldType]:
    """The field type the input rotates as: ``in_type``, else the model's, else None (trivial fields)."""
    if in_type is not None and not isinstance(in_type, FieldType):
        raise InvalidTypeError(f"in_type must be a FieldType or None, got {type(in_type).__name__}")
    own = getattr(model, "in_type", None)
    if isinstance(model, EquivariantModule) and not isinstance(own, FieldType):
        raise InvalidTypeError(f"angle_errors needs a model of one input; {type(model).__name__} has in_type {own!r}")
    field_type = in_type if in_type is not None else own if isinstance(own, FieldType) else None
    stated = ("in_type" if in_type is not None else "model.in_type", field_type)
    for name, t in (stated, ("model.in_type", own if isinstance(model, EquivariantModule) else None)):
        if t is not None and t.size != channels:
            raise InvalidValueError(f"input_shape has {channels} channels, but {name} {t!r} has {t.size}")
    return field_type


# ---- the measurement -------------------------------------------------------------------------------------
def _output(model: torch.nn.Module, x: torch.Tensor) -> Tuple[torch.Tensor, Optional[FieldType]]:
    """``model(x)`` as (tensor, field type or None), x wrapped in ``model.in_type`` for equivariant models."""
    y = model(GeometricTensor(x, model.in_type) if isinstance(model, EquivariantModule) else x)
    if isinstance(y, GeometricTensor):
        return y.tensor, y.type
    if not isinstance(y, torch.Tensor):
        raise InvalidTypeError(f"the model must return a tensor or a GeometricTensor, got {type(y).__name__}")
    # a plain output reads as the model's out_type where it states one of that size (a plain_baseline does)
    own = getattr(model, "out_type", None)
    return y, own if isinstance(own, FieldType) and y.ndim >= 2 and y.shape[1] == own.size else None


def angle_errors(model: torch.nn.Module, input_shape: Sequence[int], angles: Optional[Sequence[float]] = None, *,
                 in_type: Optional[FieldType] = None, dtype: torch.dtype = torch.float64, seed: int = 0,
                 label: Optional[str] = None, progress: Optional[Callable[[int], None]] = None,
                 scale: str = "output") -> AngleCurve:
    """The relative equivariance error of ``model`` at each of ``angles`` (degrees; default 0, 5, ..., 355).

    ``model`` is left as it is: a deep copy runs, in ``dtype``, in eval mode, on the model's device.  Its
    input is a smooth random image of ``input_shape`` (batch, channels, H, W) drawn from ``seed`` under a
    soft disc mask: a GeometricTensor of ``model.in_type`` for an :class:`EquivariantModule`, else a plain
    tensor.  The input turns as ``in_type`` when given, else as ``model.in_type`` when that is a FieldType,
    else as trivial fields (pixels only).

    The output: a GeometricTensor, or a plain tensor read as ``model.out_type`` when the model has a
    FieldType of that size there, else as trivial fields.  One of no or 1 x 1 spatial extent, ``(batch, k)``
    or ``(batch, k, 1, 1)``, is compared as invariant (up to its fibres' action): ``f(R x)`` with
    ``rho(g) f(x)``.  A spatial one is turned the same way as the input and compared within its disc (the
    inscribed circle less a rim of 2 pixels, which the rotation would invent).  The error is
    ``max |f(R x) - R f(x)| / max |R f(x)|`` over the compared entries; NaN where the input's or the
    output's group has no rotation by the angle (non-trivial fields of C_4 at 45 degrees).

    ``scale="contrast"`` divides ``max |f(R x) - R f(x)|`` by ``max |f(x) - f(x')|`` instead, ``x'`` a second
    random input (of ``seed + 1``): 1 then means "as far off as the answer for another image".  It compares
    models fairly where an output is mostly a constant (a randomly initialised plain CNN after global
    pooling), which makes the error relative to ``max |R f(x)|`` look small.

    ``progress(k)``, when given, is called after each angle with the number of angles done; ``label``
    (default: the model's class name) names the curve.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(8)
    >>> t = nn.FieldType(r2, [r2.trivial_repr])
    >>> conv = nn.R2Conv(t, nn.FieldType(r2, [r2.regular_repr]), 5, padding=2)
    >>> from e2layers.nn.angle_errors import angle_errors
    >>> curve = angle_errors(conv, (1, 1, 15, 15), [0, 45, 90])
    >>> curve.at(90) < 1e-12, 1e-12 < curve.at(45) < 0.2
    (True, True)
    """
    if not isinstance(model, torch.nn.Module):
        raise InvalidTypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise InvalidTypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    if label is not None and not isinstance(label, str):
        raise InvalidTypeError(f"label must be a str or None, got {type(label).__name__}")
    if progress is not None and not callable(progress):
        raise InvalidTypeError(f"progress must be callable or None, got {type(progress).__name__}")
    seed = integer(seed, "seed", 0)
    one_of(scale, "scale", ("output", "contrast"))
    shape, degrees = check_input_shape(input_shape), _angles(angles)
    field_type = _input_type(model, in_type, shape[1])

    device = _probe(model)[1]
    net = copy.deepcopy(model).to(dtype=dtype).eval()
    x = torch.as_tensor(_smooth_input(shape, seed), dtype=dtype, device=device)
    errors = np.full(len(degrees), np.nan)
    with torch.no_grad():
        y, out_type = _output(net, x)
        spatial = y.ndim == 4 and y.shape[-2:] != (1, 1)
        reference = None
        if scale == "contrast":         # how much the value changes from one random input to another
            x2 = torch.as_tensor(_smooth_input(shape, seed + 1), dtype=dtype, device=device)
            y2 = _output(net, x2)[0]
            inside = torch.as_tensor(_output_disc(*y.shape[-2:]), device=y.device) if spatial else None
            change = (y - y2)[..., inside] if spatial else y - y2
            reference = change.abs().max().item() if change.numel() else 0.0
        if y.ndim not in (2, 4):
            raise InvalidValueError(f"the model's output must be (batch, k) or (batch, k, H, W), got shape "
                                    f"{tuple(y.shape)}")
        for n, angle in enumerate(degrees):
            rotation = _Rotation(float(angle))
            moved, expected = rotation.act(x, field_type), rotation.act(y, out_type, spatial)
            if moved is not None and expected is not None:
                got = _output(net, moved)[0]
                if got.shape != expected.shape:
                    raise InvalidValueError(f"at {angle} degrees the output of the turned input has shape "
                                            f"{tuple(got.shape)}, the turned output {tuple(expected.shape)}: the "
                                            f"model must map the image centre onto the output's centre")
                if spatial:
                    disc = torch.as_tensor(_output_disc(*got.shape[-2:]), device=got.device)
                    got, expected = got[..., disc], expected[..., disc]
                errors[n] = relative_error(got, expected, reference)
            if progress is not None:
                progress(n + 1)
    log.debug("angle_errors of %s: worst %.3g", type(model).__name__, float(np.nanmax(errors, initial=0.0)))
    return AngleCurve(label if label is not None else type(model).__name__, degrees, errors)


# ---- the baseline ----------------------------------------------------------------------------------------
class _PlainBaseline(PlainOrGeometric):
    """The export of an equivariant model, taking the model's GeometricTensors (or plain tensors) and stating
    its ``in_type`` and ``out_type``, so that :func:`angle_errors` turns its input and output alike."""

    def __init__(self, module: torch.nn.Module, in_type: FieldType, out_type: Any):
        super().__init__(module, out_type)
        self.in_type = in_type


def _redraw(module: torch.nn.Module) -> None:
    """``module.reset_parameters()``, its frozen parameters (``requires_grad`` False: a fixed blur) kept."""
    own = dict(module.named_parameters(recurse=False))
    if not any(p.requires_grad for p in own.values()):
        return
    if any(isinstance(p, torch.nn.parameter.UninitializedParameter) for p in own.values()):
        return                                   # a lazy layer draws its weights on its first call anyway
    frozen = {name: p.detach().clone() for name, p in own.items() if not p.requires_grad}
    module.reset_parameters()
    with torch.no_grad():
        for name, value in frozen.items():
            getattr(module, name).copy_(value)


def plain_baseline(model: torch.nn.Module, *, seed: int = 0) -> torch.nn.Module:
    """A plain-PyTorch network of ``model``'s layout with unconstrained filters: the equivariance baseline.

    ``nn.export(model)`` with every trainable weight of its ``Conv2d``, ``ConvTranspose2d`` and ``Linear``
    layers drawn again (their ``reset_parameters``, from ``torch.manual_seed(seed)``, the caller's random
    state left as it was); frozen parameters and buffers (the anti-aliasing blurs) stay.  ``model`` is
    left untouched.  The baseline takes the inputs the model takes: a network's own ``forward`` keeps
    working on its export, and an :class:`EquivariantModule`'s export is wrapped to take its
    GeometricTensors too (returning ones of its ``out_type``); it then states the model's ``in_type`` and
    ``out_type``, so that :func:`angle_errors` compares it as it compares the model.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.trivial_repr])
    >>> conv = nn.R2Conv(t, nn.FieldType(r2, [r2.regular_repr]), 3)
    >>> from e2layers.nn.angle_errors import plain_baseline
    >>> plain = plain_baseline(conv)
    >>> type(plain.module).__name__, tuple(plain.module.weight.shape)
    ('Conv2d', (4, 1, 3, 3))
    >>> plain(torch.randn(1, 1, 5, 5)).shape
    torch.Size([1, 4, 3, 3])
    """
    if not isinstance(model, torch.nn.Module):
        raise InvalidTypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    seed = integer(seed, "seed", 0)
    cuda = sorted({p.device.index or 0 for p in model.parameters() if p.device.type == "cuda"})
    with torch.random.fork_rng(devices=cuda):
        plain = export(model)           # inside: building torch layers draws their first weights
        torch.manual_seed(seed)
        for module in plain.modules():
            if isinstance(module, _REDRAWN):
                _redraw(module)
    if isinstance(model, EquivariantModule) and isinstance(model.in_type, FieldType):
        wrapped = _PlainBaseline(plain, model.in_type, getattr(model, "out_type", None))
        return wrapped.train(model.training)
    return plain
