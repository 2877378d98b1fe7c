"""The eight motions of the pixel grid: quarter turns about the centre and the four mirrors.

They are the elements of O(2) that map a square grid onto itself, so their action on images is exact (no
interpolation).  A :class:`GridMotion` names one independently of any gspace: ``flip`` (the rows reversed,
``y -> -y``) and then ``turns`` quarter turns counter-clockwise, the order of ``GeneralOnR2``'s action.
:func:`element_of` finds the element of a gspace that moves the grid this way (None where the gspace has
none), so one motion can be followed through a network whose gspace changes (a restriction to a subgroup).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

import torch

from basisgen.errors import InvalidValueError

from ._equivariance import grid_elements

__all__ = ["GridMotion", "ALL_MOTIONS", "motion_of", "element_of", "motions_of"]

_NAMES = {(False, 0): "identity", (False, 1): "rot90", (False, 2): "rot180", (False, 3): "rot270",
          (True, 0): "flip-ud", (True, 1): "anti-transpose", (True, 2): "flip-lr", (True, 3): "transpose"}


@dataclass(frozen=True)
class GridMotion:
    """A motion of the pixel grid: rows reversed if ``flip``, then ``turns`` quarter turns counter-clockwise.

    Examples
    --------
    >>> import torch
    >>> m = GridMotion(False, 1)
    >>> m.name, m.swaps_axes
    ('rot90', True)
    >>> m.apply(torch.arange(4.).reshape(1, 1, 2, 2)).flatten().tolist()
    [1.0, 3.0, 0.0, 2.0]
    """

    flip: bool
    turns: int

    @property
    def name(self) -> str:
        """``rot90``, ``rot180``, ``rot270``, ``flip-ud`` (rows reversed), ``flip-lr`` (columns reversed),
        ``transpose``, ``anti-transpose`` or ``identity``."""
        return _NAMES[(self.flip, self.turns % 4)]

    @property
    def swaps_axes(self) -> bool:
        """Does the motion exchange the height and width axes (a quarter turn, a diagonal mirror)?"""
        return self.turns % 2 == 1

    @property
    def axes(self) -> Tuple[int, ...]:
        """The spatial axes (0: height, 1: width) whose sampling must be symmetric about the centre for
        the motion to be exact: one for the two axis mirrors, both otherwise."""
        if self.flip and self.turns % 4 == 0:
            return (0,)
        if self.flip and self.turns % 4 == 2:
            return (1,)
        return (0, 1)

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """The motion on the last two dimensions of ``x`` (the plane only, not the channels)."""
        if self.flip:
            x = x.flip(-2)
        return torch.rot90(x, self.turns % 4, dims=(-2, -1))

    def __str__(self) -> str:
        return self.name


#: every motion but the identity, rotations first
ALL_MOTIONS: Tuple[GridMotion, ...] = tuple(GridMotion(f, k) for f in (False, True) for k in range(4))[1:]


def motion_of(gspace: Any, element: Any) -> Optional[GridMotion]:
    """The grid motion of ``element`` of ``gspace`` (a 2D gspace), or None if it does not map the grid onto
    itself (a rotation by 45 degrees)."""
    if not hasattr(gspace, "_flip_and_angle"):
        raise InvalidValueError(f"gspace must act on the plane (a gspace on R^2), got {gspace!r}")
    flip, angle = gspace._flip_and_angle(element)
    turns = angle / (torch.pi / 2)
    if abs(turns - round(turns)) > 1e-9:
        return None
    return GridMotion(bool(flip), int(round(turns)) % 4)


def element_of(gspace: Any, motion: GridMotion) -> Any:
    """The element of ``gspace`` that moves the grid by ``motion``, or None if the group has none (or the
    gspace has no plane: ``no_base_space``)."""
    if not hasattr(gspace, "_flip_and_angle"):
        return None
    return next((g for g in grid_elements(gspace) if motion_of(gspace, g) == motion), None)


def motions_of(gspace: Any) -> List[GridMotion]:
    """The grid motions the group of ``gspace`` contains, identity excluded, in the order of
    :data:`ALL_MOTIONS`."""
    own = {motion_of(gspace, g) for g in grid_elements(gspace)}
    return [m for m in ALL_MOTIONS if m in own]
