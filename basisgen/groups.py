"""The planar symmetry groups: C_N, D_N, SO(2), O(2), the flip group and the trivial group.

Elements, group laws and irreps: docs/math.md, "Groups and their irreps".

Every group here is a subgroup of O(2), so an element is described by how it acts on the plane:
a flip bit ``j`` and a rotation angle ``theta`` (the element ``r_theta f^j``).  Groups are immutable
values: two groups built with the same arguments are equal and hash alike, so they can key memos
and caches, pickle, and deep-copy.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from functools import cached_property
from typing import Any, Iterator, List, Optional, Tuple

import numpy as np

from . import limits
from ._lazy import lazy_import
from .errors import InvalidValueError
from .irreps import Irrep

sp = lazy_import("sympy")

TWO_PI = 2 * math.pi


def _check_order(N: Any, name: str, elements_per_rotation: int = 1) -> int:
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 1:
        raise InvalidValueError(f"{name} must be a positive int (the number of rotations), got {N!r}")
    order = elements_per_rotation * int(N)
    limits.check(order, "MAX_GROUP_ORDER", f"{name} = {int(N)} gives a group of order {order}")
    return int(N)


def _check_frequency(k: Any, name: str) -> None:
    limits.check(k, "MAX_FREQUENCY", f"{name} = {k}")


class Group(ABC):
    """A finite or compact subgroup of O(2) acting on the plane.

    Subclasses define the elements and the irreps; the derivation engine only uses
    :attr:`rotation_order`, :attr:`has_reflection` and the irreps' data.
    """

    #: ``N`` for the finite groups, ``None`` for SO(2) and O(2).
    rotation_order: Optional[int]
    #: whether the group contains a reflection.
    has_reflection: bool
    #: a short tag naming the family: ``cyclic``, ``dihedral``, ``so2``, ``o2``, ``flip``.
    kind: str

    @property
    @abstractmethod
    def name(self) -> str: ...

    @property
    def continuous(self) -> bool:
        return self.rotation_order is None

    @property
    def elements(self) -> Optional[List[Any]]:
        """All elements in their canonical order, or ``None`` for continuous groups."""
        return None

    def order(self) -> int:
        """The number of elements, ``-1`` for continuous groups (as e2cnn)."""
        return -1 if self.elements is None else len(self.elements)

    @property
    @abstractmethod
    def identity(self) -> Any: ...

    @abstractmethod
    def combine(self, e1: Any, e2: Any) -> Any: ...

    @abstractmethod
    def inverse(self, e: Any) -> Any: ...

    @abstractmethod
    def is_element(self, e: Any) -> bool: ...

    def equal(self, e1: Any, e2: Any) -> bool:
        return e1 == e2

    @abstractmethod
    def element_action(self, e: Any, exact: bool = False) -> Tuple[int, Any]:
        """``(j, theta)`` such that ``e`` acts on the plane as ``R(theta) F^j`` (F: the reflection across the axis)."""

    def testing_elements(self) -> Iterator[Any]:
        """Elements to test equivariance on: all of them for finite groups."""
        return iter(self.elements)

    @property
    @abstractmethod
    def irreps(self) -> List[Irrep]:
        """The irreps in e2cnn's (dictionary) order."""

    def irrep(self, *id: int) -> Irrep:
        """The irrep with the given id: ``irrep(k)`` or ``irrep(j, k)``."""
        if not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in id):
            raise InvalidValueError(f"irrep ids are ints, got {id!r}; valid ids of {self.name}: {self._valid_irrep_ids()}")
        for psi in self.irreps:
            if psi.id == tuple(id):
                return psi
        raise InvalidValueError(f"{self.name} has no irrep with id {id!r}; valid ids: {self._valid_irrep_ids()}")

    def _valid_irrep_ids(self) -> str:
        return ", ".join(str(p.id if len(p.id) > 1 else p.id[0]) for p in self.irreps)

    @property
    def trivial_irrep(self) -> Irrep:
        return self.irreps[0]

    def _check(self, e: Any) -> None:
        if not self.is_element(e):
            raise InvalidValueError(f"{e!r} is not an element of {self.name}")

    # ---- representations (built in representations.py / induced.py) -------------------------
    @cached_property
    def trivial_representation(self):
        from .representation import Representation
        return Representation.from_irrep(self.trivial_irrep)

    @cached_property
    def regular_representation(self):
        from .induced import regular_representation
        return regular_representation(self)

    def quotient_representation(self, subgroup_id: Any):
        from .induced import quotient_representation
        return quotient_representation(self, subgroup_id)

    def irrep_representation(self, *id: int):
        from .representation import Representation
        return Representation.from_irrep(self.irrep(*id))

    def subgroup(self, subgroup_id: Any):
        """``(H, parent_map, child_map)`` as e2cnn's ``Group.subgroup`` (see restriction.py)."""
        from .restriction import subgroup
        return subgroup(self, subgroup_id)

    # ---- value semantics -----------------------------------------------------------------------
    def _key(self) -> tuple:
        return (self.kind, self.rotation_order)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Group) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"

    def __reduce__(self):
        return (type(self), self._init_args())

    def _init_args(self) -> tuple:
        return (self.rotation_order,)


class CyclicGroup(Group):
    """C_N: the N rotations by multiples of 2 pi / N.

    Elements are the ints ``0..N-1``; irreps ``irrep_k`` for ``k = 0..N//2``.

    Examples
    --------
    >>> G = CyclicGroup(4)
    >>> G.name, G.combine(3, 2), [psi.name for psi in G.irreps]
    ('C4', 1, ['irrep_0', 'irrep_1', 'irrep_2'])
    """

    kind = "cyclic"
    has_reflection = False

    def __init__(self, N: int):
        self.rotation_order = _check_order(N, "N")

    @property
    def name(self) -> str:
        return f"C{self.rotation_order}"

    @cached_property
    def elements(self) -> List[int]:
        return list(range(self.rotation_order))

    @property
    def identity(self) -> int:
        return 0

    def combine(self, e1: int, e2: int) -> int:
        self._check(e1), self._check(e2)
        return (e1 + e2) % self.rotation_order

    def inverse(self, e: int) -> int:
        self._check(e)
        return (-e) % self.rotation_order

    def is_element(self, e: Any) -> bool:
        return isinstance(e, (int, np.integer)) and not isinstance(e, bool) and 0 <= e < self.rotation_order

    def element_action(self, e: int, exact: bool = False):
        self._check(e)
        N = self.rotation_order
        return 0, (2 * sp.pi * sp.Integer(int(e)) / N if exact else TWO_PI * int(e) / N)

    @cached_property
    def irreps(self) -> List[Irrep]:
        N = self.rotation_order
        return [Irrep(self, (k,), 1 if 2 * k in (0, N) else 2, k, None) for k in range(N // 2 + 1)]


class DihedralGroup(Group):
    """D_N: N rotations and N reflections, order 2N.

    Elements are pairs ``(j, g)`` meaning ``r^g f^j``; irreps ``irrep_j,k`` in the order
    (0,0), (1,0), (1,1), ..., (1,N//2), then (0,N/2) for even N.

    Examples
    --------
    >>> G = DihedralGroup(4)
    >>> G.combine((1, 1), (0, 1))
    (1, 0)
    >>> [psi.name for psi in G.irreps]
    ['irrep_0,0', 'irrep_1,0', 'irrep_1,1', 'irrep_1,2', 'irrep_0,2']
    """

    kind = "dihedral"
    has_reflection = True

    def __init__(self, N: int):
        self.rotation_order = _check_order(N, "N", 2)

    @property
    def name(self) -> str:
        return f"D{self.rotation_order}"

    @cached_property
    def elements(self) -> List[Tuple[int, int]]:
        N = self.rotation_order
        return [(j, g) for j in (0, 1) for g in range(N)]

    @property
    def identity(self) -> Tuple[int, int]:
        return (0, 0)

    def combine(self, e1, e2):
        self._check(e1), self._check(e2)
        return ((e1[0] + e2[0]) % 2, (e1[1] + (-1) ** e1[0] * e2[1]) % self.rotation_order)

    def inverse(self, e):
        self._check(e)
        return (0, (-e[1]) % self.rotation_order) if e[0] == 0 else tuple(e)

    def is_element(self, e: Any) -> bool:
        return (isinstance(e, tuple) and len(e) == 2 and e[0] in (0, 1)
                and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in e)
                and 0 <= e[1] < self.rotation_order)

    def element_action(self, e, exact: bool = False):
        self._check(e)
        N = self.rotation_order
        return int(e[0]), (2 * sp.pi * sp.Integer(int(e[1])) / N if exact else TWO_PI * int(e[1]) / N)

    @cached_property
    def irreps(self) -> List[Irrep]:
        N = self.rotation_order
        out = [Irrep(self, (0, 0), 1, 0, 0), Irrep(self, (1, 0), 1, 0, 1)]
        out += [Irrep(self, (1, k), 1 if 2 * k == N else 2, k, 1) for k in range(1, N // 2 + 1)]
        if N % 2 == 0:
            out.append(Irrep(self, (0, N // 2), 1, N // 2, 0))
        return out


class FlipGroup(Group):
    """The reflection group: C_2 acting on the plane by a flip (``Flip2dOnR2``'s fibre group).

    Elements are ``0`` (identity) and ``1`` (the flip); irreps ``irrep_0`` (trivial) and ``irrep_1``
    (sign).  The flip axis is a property of the action, passed to the kernel engine, not of the group.

    Examples
    --------
    >>> G = FlipGroup()
    >>> G.combine(1, 1), [psi.name for psi in G.irreps]
    (0, ['irrep_0', 'irrep_1'])
    """

    kind = "flip"
    has_reflection = True
    rotation_order = 1

    @property
    def name(self) -> str:
        return "Flip"

    @cached_property
    def elements(self) -> List[int]:
        return [0, 1]

    @property
    def identity(self) -> int:
        return 0

    def combine(self, e1, e2):
        self._check(e1), self._check(e2)
        return (e1 + e2) % 2

    def inverse(self, e):
        self._check(e)
        return e

    def is_element(self, e: Any) -> bool:
        return isinstance(e, (int, np.integer)) and not isinstance(e, bool) and e in (0, 1)

    def element_action(self, e, exact: bool = False):
        self._check(e)
        return int(e), (sp.Integer(0) if exact else 0.0)

    @cached_property
    def irreps(self) -> List[Irrep]:
        return [Irrep(self, (0,), 1, 0, 0), Irrep(self, (1,), 1, 0, 1)]

    def _init_args(self) -> tuple:
        return ()


class _ContinuousGroup(Group):
    rotation_order = None

    def __init__(self, maximum_frequency: int = 10):
        if isinstance(maximum_frequency, bool) or not isinstance(maximum_frequency, (int, np.integer)) \
                or maximum_frequency < 0:
            raise InvalidValueError(f"maximum_frequency must be a non-negative int, got {maximum_frequency!r}")
        _check_frequency(int(maximum_frequency), "maximum_frequency")
        self.maximum_frequency = int(maximum_frequency)

    def _key(self) -> tuple:
        # the maximum frequency only says which irreps are listed; the group is the same
        return (self.kind, None)

    def _init_args(self) -> tuple:
        return (self.maximum_frequency,)

    def irrep(self, *id: int) -> Irrep:
        k = id[-1] if id else None
        if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k > self.maximum_frequency:
            _check_frequency(int(k), "the irrep's frequency")
            candidate = self._irrep_of(int(k))  # irreps above maximum_frequency exist, just unlisted
            if candidate.id == tuple(id):
                return candidate
        return super().irrep(*id)

    @staticmethod
    def _angle(theta: Any) -> bool:
        return isinstance(theta, (float, np.floating)) and math.isfinite(theta)

    def equal(self, e1, e2) -> bool:
        a1, a2 = self.element_action(e1), self.element_action(e2)
        d = (a1[1] - a2[1]) % TWO_PI
        return a1[0] == a2[0] and min(d, TWO_PI - d) < 1e-9


class SO2(_ContinuousGroup):
    """SO(2): all planar rotations; elements are float angles.

    Irreps ``irrep_k`` exist for every k >= 0; ``irreps`` lists those up to ``maximum_frequency``.

    Examples
    --------
    >>> G = SO2(3)
    >>> [psi.name for psi in G.irreps]
    ['irrep_0', 'irrep_1', 'irrep_2', 'irrep_3']
    """

    kind = "so2"
    has_reflection = False

    @property
    def name(self) -> str:
        return "SO(2)"

    @property
    def identity(self) -> float:
        return 0.0

    def combine(self, e1, e2):
        self._check(e1), self._check(e2)
        return (e1 + e2) % TWO_PI

    def inverse(self, e):
        self._check(e)
        return (-e) % TWO_PI

    def is_element(self, e: Any) -> bool:
        return self._angle(e)

    def element_action(self, e, exact: bool = False):
        if exact and isinstance(e, sp.Expr):
            return 0, e
        self._check(e)
        return 0, (sp.Float(float(e), 30) if exact else float(e))

    def testing_elements(self):
        return iter([i * TWO_PI / 52 for i in range(52)])

    @cached_property
    def irreps(self) -> List[Irrep]:
        return [self._irrep_of(k) for k in range(self.maximum_frequency + 1)]

    def _irrep_of(self, k: int) -> Irrep:
        return Irrep(self, (k,), 1 if k == 0 else 2, k, None)

    def _valid_irrep_ids(self) -> str:
        return "any int k >= 0"


class O2(_ContinuousGroup):
    """O(2): all planar rotations and reflections; elements are ``(j, theta)``.

    Irreps ``irrep_0,0``, ``irrep_1,0`` and ``irrep_1,k`` (k >= 1), listed up to ``maximum_frequency``.

    Examples
    --------
    >>> G = O2(2)
    >>> [psi.name for psi in G.irreps]
    ['irrep_0,0', 'irrep_1,0', 'irrep_1,1', 'irrep_1,2']
    """

    kind = "o2"
    has_reflection = True

    @property
    def name(self) -> str:
        return "O(2)"

    @property
    def identity(self):
        return (0, 0.0)

    def combine(self, e1, e2):
        self._check(e1), self._check(e2)
        return ((e1[0] + e2[0]) % 2, (e1[1] + (-1) ** e1[0] * e2[1]) % TWO_PI)

    def inverse(self, e):
        self._check(e)
        return (0, (-e[1]) % TWO_PI) if e[0] == 0 else tuple(e)

    def is_element(self, e: Any) -> bool:
        return isinstance(e, tuple) and len(e) == 2 and e[0] in (0, 1) and self._angle(e[1])

    def element_action(self, e, exact: bool = False):
        if exact and isinstance(e, tuple) and len(e) == 2 and isinstance(e[1], sp.Expr):
            return int(e[0]), e[1]
        self._check(e)
        return int(e[0]), (sp.Float(float(e[1]), 30) if exact else float(e[1]))

    def testing_elements(self):
        return iter([(j, i * TWO_PI / 52) for j in (0, 1) for i in range(52)])

    @cached_property
    def irreps(self) -> List[Irrep]:
        out = [Irrep(self, (0, 0), 1, 0, 0), Irrep(self, (1, 0), 1, 0, 1)]
        return out + [self._irrep_of(k) for k in range(1, self.maximum_frequency + 1)]

    def _irrep_of(self, k: int) -> Irrep:
        return Irrep(self, (1, k), 2, k, 1)

    def _valid_irrep_ids(self) -> str:
        return "(0, 0), (1, 0) or (1, k) with k >= 1"


# ---- factories -------------------------------------------------------------------------------
def cyclic_group(N: int) -> CyclicGroup:
    """C_N, N >= 1."""
    return CyclicGroup(N)


def dihedral_group(N: int) -> DihedralGroup:
    """D_N, N >= 1 (order 2N)."""
    return DihedralGroup(N)


def so2_group(maximum_frequency: int = 10) -> SO2:
    """SO(2), listing irreps up to ``maximum_frequency``."""
    return SO2(maximum_frequency)


def o2_group(maximum_frequency: int = 10) -> O2:
    """O(2), listing irreps up to ``maximum_frequency``."""
    return O2(maximum_frequency)


def flip_group() -> FlipGroup:
    """The reflection group (C_2 acting by a flip)."""
    return FlipGroup()


def trivial_group() -> CyclicGroup:
    """The trivial group, C_1."""
    return CyclicGroup(1)


_FAMILIES = {"C": cyclic_group, "D": dihedral_group}


def group_from_name(name: str, maximum_frequency: int = 10) -> Group:
    """Parse ``C8``, ``D4``, ``SO2``/``SO(2)``, ``O2``/``O(2)``, ``flip``, ``trivial``.

    Examples
    --------
    >>> group_from_name("D4").name, group_from_name("SO2").name
    ('D4', 'SO(2)')
    """
    if not isinstance(name, str):
        raise InvalidValueError(f"group must be a name such as 'C8', 'D4', 'SO2', 'O2', 'flip', 'trivial'; got {name!r}")
    key = name.strip().upper()
    if key in ("SO2", "SO(2)"):
        return so2_group(maximum_frequency)
    if key in ("O2", "O(2)"):
        return o2_group(maximum_frequency)
    if key in ("FLIP", "FLIPS"):
        return flip_group()
    if key == "TRIVIAL":
        return trivial_group()
    if key[:1] in _FAMILIES and key[1:].isascii() and key[1:].isdigit():
        digits = key[1:].lstrip("0") or "0"
        if len(digits) > 18:    # no int() of a huge string: the limit below refuses it anyway
            raise limits.LimitExceededError(limits.exceeded(f"{name.strip()[:40]!r} names a group of order "
                                                            f"above 10**18", "MAX_GROUP_ORDER"))
        N = int(digits)
        if N >= 1:
            return _FAMILIES[key[0]](N)
    raise InvalidValueError(f"unknown group {name!r}; valid: C<N> or D<N> with N >= 1, SO2, O2, flip, trivial")

