"""Upper bounds on the sizes a caller can ask for, so that a typo fails at once instead of hanging.

``Rot2dOnR2(N=10**18)``, ``frequencies_cutoff=1e9`` or ``"100000000x trivial"`` are almost always
mistakes that would otherwise run for minutes or exhaust memory.  Each limit is a module constant,
checked where the argument enters (the group constructors, :func:`basisgen.basis_params`,
:func:`basisgen.sample_basis`, the field notation parser); exceeding one raises
:class:`LimitExceededError`, which names the argument, the limit and how to raise it.

A limit is raised for the whole process by assigning the constant
(``basisgen.limits.MAX_GROUP_ORDER = 4096``) or, before the import (and for the worker processes of
``basisgen precompute --jobs``), with the environment variable ``BASISGEN_<NAME>``
(``BASISGEN_MAX_GROUP_ORDER=4096``).  docs/limits.md lists them.

Examples
--------
>>> from basisgen import cyclic_group
>>> try:
...     cyclic_group(10 ** 18)
... except LimitExceededError as e:
...     print(str(e).split(";")[0])
N = 1000000000000000000 gives a group of order 1000000000000000000, above MAX_GROUP_ORDER = 1024
"""
from __future__ import annotations

import os
import warnings
from typing import Any

from .errors import InvalidValueError

#: the number of elements of a finite group: N for C_N, 2N for D_N
MAX_GROUP_ORDER = 1024
#: a band limit: SO(2)/O(2)'s ``maximum_frequency``, an irrep's frequency, a finite group's ``maximum_frequency``
#: and ``maximum_offset``, and the largest per-ring frequency cutoff a finite group's basis is sampled with
MAX_FREQUENCY = 1024
#: the side of a sampled kernel, ``kernel_size``, and ``dilation * (kernel_size - 1) + 1``
MAX_KERNEL_SIZE = 101
#: the memory a sampled basis's blocks (float64) may take before they are allocated
MAX_BASIS_BYTES = 2 ** 30
#: the number of fields a field notation may describe (``"100x regular"`` is 100)
MAX_FIELDS = 100_000
#: the length of a field notation string, in characters
MAX_NOTATION_LENGTH = 100_000
#: the nesting depth of brackets in a field notation string
MAX_NOTATION_DEPTH = 32
#: the number of groups one range of ``basisgen precompute`` may name (``C1-C256``)
MAX_GROUP_RANGE = 256

NAMES = ("MAX_GROUP_ORDER", "MAX_FREQUENCY", "MAX_KERNEL_SIZE", "MAX_BASIS_BYTES", "MAX_FIELDS",
         "MAX_NOTATION_LENGTH", "MAX_NOTATION_DEPTH", "MAX_GROUP_RANGE")


class LimitExceededError(InvalidValueError):
    """An argument asks for more than a limit of :mod:`basisgen.limits` allows; the message names the
    argument, the limit and how to raise it.  A ``ValueError`` (and an ``AssertionError``), as every
    invalid argument."""


def _from_environment() -> None:
    for name in NAMES:
        text = os.environ.get(f"BASISGEN_{name}")
        if text is None:
            continue
        try:
            value = int(text)
            if value < 1:
                raise ValueError
        except ValueError:
            warnings.warn(f"BASISGEN_{name}={text[:40]!r} is not a positive int; keeping {name} = "
                          f"{globals()[name]}", stacklevel=2)
            continue
        globals()[name] = value


_from_environment()


def current(name: str) -> int:
    """The value of the limit ``name`` now (after assignments and the environment)."""
    return globals()[name]


def check(value: Any, name: str, what: str) -> None:
    """Raise :class:`LimitExceededError` when ``value`` exceeds the limit ``name``; ``what`` says which
    argument asked for it (e.g. ``"N = 5000 gives a group of order 5000"``)."""
    limit = current(name)
    if value > limit:
        raise LimitExceededError(exceeded(what, name))


def exceeded(what: str, name: str) -> str:
    """The message for ``what`` exceeding the limit ``name``."""
    return (f"{what}, above {name} = {current(name)}; if you meant it, raise the limit with "
            f"basisgen.limits.{name} = ... or the environment variable BASISGEN_{name}")
