"""Argument checks shared by the layers: ints, pairs of ints, finite floats, probabilities, flags, choices.

Each check returns the value in its plain Python form (``int``, ``float``, ``bool``, a tuple of ints)
or raises, naming the argument: :class:`~basisgen.errors.InvalidTypeError` when the value is not of the
kind asked for, :class:`~basisgen.errors.InvalidValueError` when it is out of range.  NumPy integers
count as ints and NumPy floats as floats; bools are flags, never numbers (``True`` is not a kernel size).
Torch-free, so that every layer can use them.

Examples
--------
>>> import numpy as np
>>> positive_int(np.int64(3), "kernel_size"), int_or_pair(2, "stride", minimum=1)
(3, (2, 2))
>>> positive_int(True, "kernel_size")
Traceback (most recent call last):
    ...
basisgen.errors.InvalidTypeError: kernel_size must be a positive int, got True (bool)
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Optional, Tuple

import numpy as np

from .errors import InvalidTypeError, InvalidValueError

__all__ = ["is_int", "is_real", "integer", "positive_int", "nonnegative_int", "int_or_pair", "finite_float",
           "probability", "flag", "one_of"]


def is_int(value: Any) -> bool:
    """An int or a NumPy integer, not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """A real number (int, float, NumPy number), not a bool, a complex number or a string."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _kind(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def integer(value: Any, name: str, minimum: Optional[int] = None, what: str = "") -> int:
    """``value`` as an int, at least ``minimum`` when given; ``what`` replaces the words for the range
    ("a positive int") in the message."""
    what = what or ("an int" if minimum is None else "a positive int" if minimum == 1 else f"an int >= {minimum}")
    if not is_int(value):
        raise InvalidTypeError(f"{name} must be {what}, got {_kind(value)}")
    if minimum is not None and value < minimum:
        raise InvalidValueError(f"{name} must be {what}, got {value!r}")
    return int(value)


def positive_int(value: Any, name: str) -> int:
    """``value`` as an int >= 1."""
    return integer(value, name, 1)


def nonnegative_int(value: Any, name: str) -> int:
    """``value`` as an int >= 0."""
    return integer(value, name, 0)


def int_or_pair(value: Any, name: str, minimum: int = 0) -> Tuple[int, int]:
    """An int or a pair (tuple or list) of ints, each at least ``minimum``, as a pair of ints."""
    what = f"an int >= {minimum} or a pair of them"
    parts = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(parts) != 2:
        raise InvalidValueError(f"{name} must be {what}, got {value!r}")
    return tuple(integer(v, name, minimum, what=what) for v in parts)


def finite_float(value: Any, name: str, above: Optional[float] = None, minimum: Optional[float] = None,
                 maximum: Optional[float] = None) -> float:
    """``value`` as a finite float, greater than ``above``, at least ``minimum`` and at most ``maximum``
    (each when given)."""
    bounds = [f"> {above}" if above is not None else "", f">= {minimum}" if minimum is not None else "",
              f"<= {maximum}" if maximum is not None else ""]
    what = " and ".join(["a finite float"] + [b for b in bounds if b]).replace(" and ", " ", 1)
    if not is_real(value):
        raise InvalidTypeError(f"{name} must be {what}, got {_kind(value)}")
    x = float(value)
    if not (math.isfinite(x) and (above is None or x > above) and (minimum is None or x >= minimum)
            and (maximum is None or x <= maximum)):
        raise InvalidValueError(f"{name} must be {what}, got {value!r}")
    return x


def probability(value: Any, name: str = "p") -> float:
    """``value`` as a float in [0, 1]."""
    if not is_real(value):
        raise InvalidTypeError(f"{name} must be a probability in [0, 1], got {_kind(value)}")
    if not 0 <= float(value) <= 1:
        raise InvalidValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def flag(value: Any, name: str) -> bool:
    """``value`` as a bool: ``True``, ``False`` (or a NumPy bool), 0 or 1; not a string, whose truth
    would be its length, nor ``None``."""
    if not (isinstance(value, (bool, np.bool_)) or (is_int(value) and value in (0, 1))):
        raise InvalidTypeError(f"{name} must be a bool, got {_kind(value)}")
    return bool(value)


def one_of(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """``value`` itself when it is one of ``choices``."""
    choices = list(choices)
    try:
        known = value in choices
    except TypeError:                  # an unhashable value against a dict's keys
        known = False
    if not known:
        raise InvalidValueError(f"{name} must be one of {choices}, got {value!r}")
    return value
