"""The one table of gspaces the tests build, by name.

:data:`GSPACES` is the shared selection; :func:`gspace_table` picks other cases (more orders) from the same
factories.  SO(2) and O(2) are band-limited to frequency 3 everywhere: the equivariance and network tests of
test_nn_core, test_nn_networks and test_scale, written with 4, pass unchanged with it.
"""
from typing import Callable

from e2layers import gspaces

#: the shared band limit of SO(2) and O(2)
BAND_LIMIT = 3


def _factories() -> dict[str, Callable]:
    return {
        "C1": lambda: gspaces.TrivialOnR2(),
        "C2": lambda: gspaces.Rot2dOnR2(2),
        "C4": lambda: gspaces.Rot2dOnR2(4),
        "C8": lambda: gspaces.Rot2dOnR2(8),
        "D1": lambda: gspaces.FlipRot2dOnR2(1),
        "D2": lambda: gspaces.FlipRot2dOnR2(2),
        "D4": lambda: gspaces.FlipRot2dOnR2(4),
        "D8": lambda: gspaces.FlipRot2dOnR2(8),
        "SO2": lambda: gspaces.Rot2dOnR2(-1, maximum_frequency=BAND_LIMIT),
        "O2": lambda: gspaces.FlipRot2dOnR2(-1, maximum_frequency=BAND_LIMIT),
        "Flip": lambda: gspaces.Flip2dOnR2(),
    }


def gspace_table(*names: str) -> dict[str, Callable]:
    """Factories of the named gspaces (all of them when no name is given), in the order given."""
    factories = _factories()
    return {name: factories[name] for name in (names or factories)}


#: the gspaces most e2layers.nn tests run on
GSPACES = gspace_table("C1", "C4", "C8", "D1", "D4", "SO2", "O2", "Flip")
#: the finite groups whose regular fields every pointwise module accepts
FINITE = ["C1", "C4", "C8", "D1", "D4"]
