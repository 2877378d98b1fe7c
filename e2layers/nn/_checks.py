"""Argument checks of ``e2layers.nn`` (private: the names may change): the numeric ones of
:mod:`basisgen.checks`, re-exported, and the checks of field types and input shapes."""
from __future__ import annotations

import math
from typing import Any, Iterable, Tuple, Union

from basisgen.checks import (finite_float, flag, int_or_pair, integer, is_int, is_real,  # noqa: F401 (re-exported)
                             nonnegative_int, one_of, positive_int, probability)
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


def pool_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """torch's pooling output size (including its ceil-mode rule that the last window starts inside)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (math.ceil(span / stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


#: the largest probe input (batch x channels x H x W numbers) the diagnostics (exactness report, angle
#: curves) build
MAX_INPUT_NUMBERS = 2 ** 26


def check_input_shape(input_shape: Any) -> Tuple[int, int, int, int]:
    """``(batch, channels, height, width)``: 4 positive ints, at most :data:`MAX_INPUT_NUMBERS` in all."""
    if isinstance(input_shape, (str, bytes)) or not hasattr(input_shape, "__len__") or len(input_shape) != 4 or \
            not all(is_int(n) and n >= 1 for n in input_shape):
        raise InvalidValueError(f"input_shape must be 4 positive ints (batch, channels, height, width), got "
                                f"{input_shape!r:.80}")
    shape = tuple(int(n) for n in input_shape)
    if math.prod(shape) > MAX_INPUT_NUMBERS:
        raise InvalidValueError(f"input_shape {shape} has {math.prod(shape)} numbers, above MAX_INPUT_NUMBERS = "
                                f"{MAX_INPUT_NUMBERS}; use a smaller batch or size")
    return shape
