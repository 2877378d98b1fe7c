"""Cases shared by the e2cnn fixture generators (run with e2cnn) and the tests that read their output (run
with e2layers): each function takes the library's module, so one source serves both sides."""
import numpy as np


def to_json(x):
    """``x`` as plain JSON values: numpy arrays and scalars, tuples, sets (sorted) and tensors converted."""
    if isinstance(x, dict):
        return {str(k): to_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_json(v) for v in x]
    if isinstance(x, np.ndarray):
        return to_json(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x)
    if hasattr(x, "detach"):                      # a torch tensor (this module does not import torch)
        return to_json(x.detach().cpu().numpy())
    if x is None or isinstance(x, str):
        return x
    if isinstance(x, (set, frozenset)):
        return sorted(to_json(v) for v in x)
    raise TypeError(f"cannot serialise {type(x)}: {x!r}")


def fixture_gspaces(gspaces) -> dict:
    """The gspaces of the kernel and basis-info fixtures, by name."""
    return {
        "C3": lambda: gspaces.Rot2dOnR2(3),
        "C4": lambda: gspaces.Rot2dOnR2(4),
        "C8": lambda: gspaces.Rot2dOnR2(8),
        "D3": lambda: gspaces.FlipRot2dOnR2(3),
        "D4": lambda: gspaces.FlipRot2dOnR2(4),
        "SO2_4": lambda: gspaces.Rot2dOnR2(-1, maximum_frequency=4),
        "O2_4": lambda: gspaces.FlipRot2dOnR2(-1, maximum_frequency=4),
        "Flip": lambda: gspaces.Flip2dOnR2(),
        "Trivial": lambda: gspaces.TrivialOnR2(),
    }


def group_error_cases(group) -> dict:
    """Bad calls of the group API, by name: e2cnn's exception type for each is in group.json."""
    C4, D4, O2, SO2 = group.cyclic_group(4), group.dihedral_group(4), group.o2_group(4), group.so2_group(4)
    return {
        "cyclic_group(0)": lambda: group.cyclic_group(0),
        "dihedral_group(0)": lambda: group.dihedral_group(0),
        "CyclicGroup(-2)": lambda: group.CyclicGroup(-2),
        "C4.irrep(99)": lambda: C4.irrep(99),
        "D4.irrep(0,1)": lambda: D4.irrep(0, 1),
        "D4.irrep(2,1)": lambda: D4.irrep(2, 1),
        "O2.irrep(0,1)": lambda: O2.irrep(0, 1),
        "SO2.irrep(-1)": lambda: SO2.irrep(-1),
        "C4.subgroup(3)": lambda: C4.subgroup(3),
        "D4.subgroup((5,2))": lambda: D4.subgroup((5, 2)),
        "D4.subgroup(2)": lambda: D4.subgroup(2),
        "Representation(C4,'regular',...)": lambda: group.Representation(C4, "regular", ["irrep_0"], np.eye(1), []),
        "SO2.regular_representation": lambda: SO2.regular_representation,
        "O2.induced_representation((None,4),...)":
            lambda: O2.induced_representation((None, 4), O2.subgroup((None, 4))[0].irrep(1)),
        "C4.induced_representation(2, regular)":
            lambda: C4.induced_representation(2, C4.subgroup(2)[0].regular_representation),
        "C4.regular_representation(7)": lambda: C4.regular_representation(7),
    }
