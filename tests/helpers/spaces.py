"""The gspaces the e2layers.nn tests build, by name (SO(2) and O(2) band-limited to frequency 3)."""
from e2layers import gspaces

GSPACES = {
    "C1": lambda: gspaces.TrivialOnR2(),
    "C4": lambda: gspaces.Rot2dOnR2(4),
    "C8": lambda: gspaces.Rot2dOnR2(8),
    "D1": lambda: gspaces.FlipRot2dOnR2(1),
    "D4": lambda: gspaces.FlipRot2dOnR2(4),
    "SO2": lambda: gspaces.Rot2dOnR2(-1, maximum_frequency=3),
    "O2": lambda: gspaces.FlipRot2dOnR2(-1, maximum_frequency=3),
    "Flip": lambda: gspaces.Flip2dOnR2(),
}
#: the finite groups whose regular fields every pointwise module accepts
FINITE = ["C1", "C4", "C8", "D1", "D4"]
