"""e2cnn's concrete groups ``CyclicGroup``, ``DihedralGroup``, ``SO2``, ``O2`` and their factories.

Constructing a class builds a new group with its own registries, as in e2cnn; the factories
(``cyclic_group(N)``, ...) return one group per process, so representations registered on a group are
found again through ``gspace.fibergroup.representations``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

import basisgen as bg
from basisgen.errors import InvalidTypeError, InvalidValueError

from ._base import Group
from ._representation import IrreducibleRepresentation


def _checked(build, *args):
    try:
        return build(*args)
    except (TypeError, ValueError) as e:
        raise (e if isinstance(e, (InvalidValueError, InvalidTypeError)) else InvalidValueError(str(e))) from None


class CyclicGroup(Group):
    """C_N: the rotations by multiples of ``2 pi / N``; elements are the ints ``0..N-1``.

    The reflection group of ``Flip2dOnR2`` is also a ``CyclicGroup`` of order 2 named ``C2`` (as in
    e2cnn), whose generator acts on the plane by the flip.

    Examples
    --------
    >>> G = CyclicGroup(4)
    >>> G.name, G.combine(3, 2), G.elements_names, list(G.representations)
    ('C4', 1, ['e', 'r1', 'r2', 'r3'], ['irrep_0', 'irrep_1', 'irrep_2', 'regular'])
    >>> G.irrep(1).attributes
    {'frequency': 1}
    """

    def __init__(self, N: int):
        self._attach(_checked(bg.CyclicGroup, N), f"C{N}", True)

    def _element_names(self) -> List[str]:
        return ["e"] + [f"r{i}" for i in range(1, len(self.elements))]

    def _irrep_attributes(self, psi_: bg.Irrep) -> Dict[str, int]:
        # for the flip group's sign irrep too: it is C2's irrep of frequency 1
        return {"frequency": psi_.id[0]}

    def irrep(self, k: int) -> IrreducibleRepresentation:
        return super().irrep(k)


class DihedralGroup(Group):
    """D_N: N rotations and N reflections; elements are pairs ``(j, k)`` meaning ``r^k f^j``.

    Examples
    --------
    >>> G = DihedralGroup(3)
    >>> G.reflection, G.rotation_order, G.elements_names
    ((1, 0), 3, ['e', 'r1', 'r2', 'f', 'r1f', 'r2f'])
    >>> G.irrep(1, 1).attributes
    {'frequency': 1, 'flip_frequency': 1}
    """

    def __init__(self, N: int):
        group = _checked(bg.DihedralGroup, N)
        self.rotation_order = group.rotation_order
        self.reflection = (1, 0)
        self._attach(group, f"D{N}", False)

    def _element_names(self) -> List[str]:
        N = self.rotation_order
        return ["e"] + [f"r{i}" for i in range(1, N)] + ["f"] + [f"r{i}f" for i in range(1, N)]

    def _irrep_attributes(self, psi_: bg.Irrep) -> Dict[str, int]:
        return {"frequency": psi_.id[1], "flip_frequency": psi_.id[0]}

    def irrep(self, j: int, k: int) -> IrreducibleRepresentation:
        return super().irrep(j, k)


class _Continuous(Group):
    @property
    def maximum_frequency(self) -> int:
        """The highest frequency of the irreps listed at construction (e2cnn's ``_maximum_frequency``)."""
        return self._maximum_frequency

    def _raise_maximum_frequency(self, group: bg.Group) -> None:
        """e2cnn's factories list more irreps when asked for a higher maximum frequency."""
        self.basisgen = group
        self._maximum_frequency = group.maximum_frequency
        self._build_representations()


class SO2(_Continuous):
    """SO(2): all planar rotations; elements are float angles.

    Examples
    --------
    >>> G = SO2(2)
    >>> list(G.irreps), G.order(), G.equal(0.0, 6.283185307179586)
    (['irrep_0', 'irrep_1', 'irrep_2'], -1, True)
    """

    def __init__(self, maximum_frequency: int):
        group = _checked(bg.SO2, maximum_frequency)
        self._maximum_frequency = group.maximum_frequency
        self._attach(group, "SO(2)", True)

    def _irrep_attributes(self, psi_: bg.Irrep) -> Dict[str, int]:
        return {"frequency": psi_.id[0]}

    def irrep(self, k: int) -> IrreducibleRepresentation:
        return super().irrep(k)


class O2(_Continuous):
    """O(2): all planar rotations and reflections; elements are pairs ``(j, theta)`` meaning ``r_theta f^j``.

    ``induced_representation((None, -1), rho)`` induces from the rotations SO(2).

    Examples
    --------
    >>> G = O2(2)
    >>> list(G.irreps), G.reflection, G.rotation_order
    (['irrep_0,0', 'irrep_1,0', 'irrep_1,1', 'irrep_1,2'], (1, 0.0), -1)
    >>> rho = G.induced_representation((None, -1), G.subgroup((None, -1))[0].irrep(1))
    >>> rho.name, rho.irreps
    ('induced[(None, -1)][irrep_1]', ['irrep_1,1', 'irrep_1,1'])
    """

    def __init__(self, maximum_frequency: int):
        group = _checked(bg.O2, maximum_frequency)
        self.rotation_order = -1
        self._maximum_frequency = group.maximum_frequency
        self.reflection = (1, 0.0)
        self._attach(group, "O(2)", False)

    def _irrep_attributes(self, psi_: bg.Irrep) -> Dict[str, int]:
        return {"frequency": psi_.id[1], "flip_frequency": psi_.id[0]}

    def irrep(self, j: int, k: int) -> IrreducibleRepresentation:
        return super().irrep(j, k)

    # e2cnn does not reduce the angles of O(2)'s products and inverses modulo 2 pi
    def combine(self, e1: Tuple[int, float], e2: Tuple[int, float]) -> Tuple[int, float]:
        self._check(e1), self._check(e2)
        return ((e1[0] + e2[0]) % 2, e1[1] + (-1 if e1[0] else 1) * e2[1])

    def inverse(self, element: Tuple[int, float]) -> Tuple[int, float]:
        self._check(element)
        return (element[0], -element[1] * (-1 if element[0] else 1))

    def _check(self, e: Any) -> None:
        if not self.is_element(e):
            raise InvalidValueError(f"{e!r} is not an element of O(2): expected (j, theta) with j in (0, 1) and "
                                    f"a float theta")


# ---- factories (one group per process, as e2cnn) ----------------------------------------------------
_FACADES: Dict[Any, Group] = {}
_CLASSES = {"cyclic": CyclicGroup, "flip": CyclicGroup, "dihedral": DihedralGroup, "so2": SO2, "o2": O2}


def _new_facade(group: bg.Group) -> Group:
    cls = _CLASSES[group.kind]
    if group.kind != "flip":
        return cls(group.maximum_frequency if group.continuous else group.rotation_order)
    facade = cls.__new__(cls)
    facade._attach(group, "C2", True)
    return facade


def _facade(group: bg.Group) -> Group:
    key = (group.kind, group.rotation_order)
    facade = _FACADES.get(key)
    if facade is None:
        facade = _FACADES[key] = _new_facade(group)
    elif group.continuous and group.maximum_frequency > facade.basisgen.maximum_frequency:
        facade._raise_maximum_frequency(group)
    return facade


def trivial_group() -> CyclicGroup:
    """The trivial group C1."""
    return _facade(bg.trivial_group())


def cyclic_group(N: int) -> CyclicGroup:
    """C_N (N >= 1), one instance per process."""
    return _facade(_checked(bg.cyclic_group, N))


def dihedral_group(N: int) -> DihedralGroup:
    """D_N (N >= 1, order 2N), one instance per process."""
    return _facade(_checked(bg.dihedral_group, N))


def so2_group(maximum_frequency: int = 10) -> SO2:
    """SO(2), listing its irreps up to ``maximum_frequency`` (raised in place by a later, higher request)."""
    return _facade(_checked(bg.so2_group, maximum_frequency))


def o2_group(maximum_frequency: int = 10) -> O2:
    """O(2), listing its irreps up to ``maximum_frequency`` (raised in place by a later, higher request)."""
    return _facade(_checked(bg.o2_group, maximum_frequency))


def flip_group() -> CyclicGroup:
    """The reflection group of ``Flip2dOnR2``: a ``CyclicGroup`` of order 2 named ``C2`` (as in e2cnn) whose
    generator acts on the plane by the flip."""
    return _facade(bg.flip_group())


__all__ = ["CyclicGroup", "DihedralGroup", "SO2", "O2", "trivial_group", "cyclic_group", "dihedral_group",
           "so2_group", "o2_group", "flip_group"]
