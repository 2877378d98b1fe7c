"""The one table of gspaces the tests build, by name.

:data:`GSPACES` is the shared table (SO(2) and O(2) band-limited to frequency 3).  :func:`gspace_table` picks
cases from the same factories with another band limit, where a test needs one; each such table says why.
"""
from typing import Callable

from e2layers import gspaces

#: the shared band limit of SO(2) and O(2)
BAND_LIMIT = 3


def _factories(band_limit: int) -> dict[str, Callable]:
    return {
        "C1": lambda: gspaces.TrivialOnR2(),
        "C2": lambda: gspaces.Rot2dOnR2(2),
        "C4": lambda: gspaces.Rot2dOnR2(4),
        "C8": lambda: gspaces.Rot2dOnR2(8),
        "D1": lambda: gspaces.FlipRot2dOnR2(1),
        "D2": lambda: gspaces.FlipRot2dOnR2(2),
        "D4": lambda: gspaces.FlipRot2dOnR2(4),
        "D8": lambda: gspaces.FlipRot2dOnR2(8),
        "SO2": lambda: gspaces.Rot2dOnR2(-1, maximum_frequency=band_limit),
        "O2": lambda: gspaces.FlipRot2dOnR2(-1, maximum_frequency=band_limit),
        "Flip": lambda: gspaces.Flip2dOnR2(),
    }


def gspace_table(*names: str, band_limit: int = BAND_LIMIT) -> dict[str, Callable]:
    """Factories of the named gspaces (all of them when no name is given), in the order given."""
    factories = _factories(band_limit)
    return {name: factories[name] for name in (names or factories)}


#: the gspaces most e2layers.nn tests run on
GSPACES = gspace_table("C1", "C4", "C8", "D1", "D4", "SO2", "O2", "Flip")
#: the finite groups whose regular fields every pointwise module accepts
FINITE = ["C1", "C4", "C8", "D1", "D4"]
