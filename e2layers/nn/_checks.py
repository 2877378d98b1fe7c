"""Argument checks shared by the modules of ``e2layers.nn`` (private: the names may change)."""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Optional, Tuple, Union

import numpy as np

from basisgen.errors import InvalidTypeError, InvalidValueError

from .field_type import FieldType

IntOrPair = Union[int, Tuple[int, int]]

_HINTS = {
    "pointwise": "For irrep fields use NormNonLinearity or GatedNonLinearity1 (and NormMaxPool for pooling); "
                 "for SO(2)/O(2) use FourierPointwise.",
}


def check_field_type(in_type: Any, name: str = "in_type") -> FieldType:
    """``in_type`` itself, or a ``TypeError`` naming ``name``."""
    if not isinstance(in_type, FieldType):
        raise InvalidTypeError(f"{name} must be a FieldType, got {type(in_type).__name__}")
    return in_type


def unsupported(in_type: FieldType, tag: str) -> list:
    """The sorted names of the representations of ``in_type`` that lack the non-linearity tag ``tag``."""
    return sorted({r.name for r in in_type.representations if tag not in r.supported_nonlinearities})


def check_supports(in_type: Any, tag: str, module: str, what: str, hint: str = "") -> FieldType:
    """Reject field types with a representation that is not tagged ``tag`` (e2cnn's
    ``supported_nonlinearities``); ``what`` says in words which representations carry the tag."""
    check_field_type(in_type)
    bad = unsupported(in_type, tag)
    if bad:
        hint = hint or _HINTS.get(tag, "")
        raise InvalidValueError(f"{module} needs representations supporting {tag!r} ({what}); in_type {in_type!r} has "
                         f"unsupported representations {bad}." + (f" {hint}" if hint else ""))
    return in_type


def check_pointwise(in_type: Any, module: str) -> FieldType:
    """Reject fields on which a channel-wise map is not equivariant."""
    return check_supports(in_type, "pointwise", module + " acts channel-wise, so it",
                          "trivial, regular or quotient representations of finite groups")


def check_shape(module: Any, input_shape: Iterable[int], spatial: bool) -> Tuple[int, ...]:
    """``input_shape`` as a tuple, checked against ``module.in_type.size`` (and 4-D when ``spatial``)."""
    shape = tuple(input_shape)
    if len(shape) < 2 or shape[1] != module.in_type.size or (spatial and len(shape) != 4):
        what = "(batch, %d, H, W)" % module.in_type.size if spatial else "(batch, %d, ...)" % module.in_type.size
        raise InvalidValueError(f"input_shape must be {what}, got {shape}")
    return shape


def pair(value: Any, name: str, minimum: int) -> Tuple[int, int]:
    """An int or a pair of ints, each at least ``minimum``, as a pair."""
    result = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(result) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in result):
        raise InvalidValueError(f"{name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return result


def finite_float(value: Any, name: str, above: Optional[float] = None) -> float:
    """``value`` as a float: a real number (not a bool, a string or a complex number), finite, and greater
    than ``above`` when given; else an error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"{name} must be a finite float, got {value!r} ({type(value).__name__})")
    result = float(value)
    if not math.isfinite(result) or (above is not None and not result > above):
        bound = "" if above is None else f" > {above}"
        raise InvalidValueError(f"{name} must be a finite float{bound}, got {value!r}")
    return result


def check_flag(value: Any, name: str) -> bool:
    """``value`` as a bool: True, False, 0 or 1 (not a string, whose truth would be its length)."""
    if not isinstance(value, (bool, int, np.bool_)) or value not in (0, 1):
        raise InvalidTypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def probability(p: Any, name: str = "p") -> float:
    """A probability in [0, 1] as a float."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise InvalidValueError(f"{name} must be a probability in [0, 1], got {p!r}")
    return float(p)


def pool_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """torch's pooling output size (including its ceil-mode rule that the last window starts inside)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (math.ceil(span / stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out
