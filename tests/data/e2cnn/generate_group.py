"""Generate e2cnn 0.2.3 reference data for ``e2layers.group`` (the group API, irreps, registries).

Run only in an environment with e2cnn 0.2.3 and numpy<2 (see generate.py for the recipe)::

    /work/e2cnn-venv/bin/python tests/data/e2cnn/generate_group.py

Writes ``group.json`` and ``group.npz`` next to this script:

* ``api``: ``e2cnn.group.__all__``, the signatures of its functions and, per class, the public members
  (methods with their signatures, properties, and the instance attributes of an instance);
* ``groups``: per group (C1..C8, D1..D6, SO(2), O(2) with maximum frequency 4, the fibre group of
  ``Flip2dOnR2``): name, order, flags, elements and their names, identity, the registry keys right after
  construction and after touching ``regular_representation``, and every irrep (name, attributes, size,
  sum of squares, non-linearities); the npz holds each irrep's change of basis and its matrices at the
  listed elements;
* ``representations``: regular, quotient, induced (O(2) from SO(2) included) and restricted
  representations: name, irreps, size, non-linearities, attributes; the npz holds the change of basis
  and the matrices at the listed elements;
* ``errors``: the exception class e2cnn raises for a few bad inputs.

e2cnn's O(2) induction calls ``np.float``, removed in numpy 1.24; it is restored as ``float`` (its
meaning in the numpy e2cnn 0.2.3 was written for) before building those representations.
"""
import inspect
import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")

import e2cnn.group as eg  # noqa: E402
from e2cnn import gspaces  # noqa: E402

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parents[1])]   # tests/
from e2cnn_cases import group_error_cases  # noqa: E402

np.float = float  # e2cnn 0.2.3's O(2) induction needs numpy<1.24's alias

SEMI_PUBLIC = {"_irreps", "_representations", "_subgroups", "_maximum_frequency"}


def to_json(x):
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
    if isinstance(x, (set, frozenset)):
        return sorted(to_json(v) for v in x)
    if x is None or isinstance(x, str):
        return x
    raise TypeError(f"cannot serialise {type(x)}: {x!r}")


def dense(m):
    return np.asarray(m.toarray() if hasattr(m, "toarray") else m, dtype=np.float64)


# ---- API surface ---------------------------------------------------------------------------------
def signature(f):
    params = inspect.signature(f).parameters.values()
    return [[p.name, p.kind.name, p.default is not inspect.Parameter.empty] for p in params]


def members(cls, instance=None):
    out = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if name.startswith("_") and name not in SEMI_PUBLIC and name not in ("__init__", "__call__", "__add__",
                                                                                 "__eq__"):
                continue
            if isinstance(value, property):
                out[name] = ["property"]
            elif isinstance(value, staticmethod):
                out[name] = ["staticmethod", signature(value.__func__)]
            elif callable(value):
                out[name] = ["method", signature(value)]
    if instance is not None:
        for name in vars(instance):
            if not name.startswith("_") or name in SEMI_PUBLIC:
                out.setdefault(name, ["attribute"])
    return out


def api():
    instances = {"Group": None, "CyclicGroup": eg.CyclicGroup(3), "DihedralGroup": eg.DihedralGroup(3),
                 "SO2": eg.SO2(2), "O2": eg.O2(2)}
    classes = {name: members(getattr(eg, name), inst) for name, inst in instances.items()}
    C3 = instances["CyclicGroup"]
    classes["Representation"] = members(eg.Representation, C3.regular_representation)
    classes["IrreducibleRepresentation"] = members(eg.IrreducibleRepresentation, C3.irrep(1))
    functions = {name: signature(getattr(eg, name)) for name in eg.__all__
                 if inspect.isfunction(getattr(eg, name))}
    return {"all": list(eg.__all__), "classes": classes, "functions": functions}


# ---- groups and irreps -----------------------------------------------------------------------------
GROUPS = ([(f"C{n}", f"cyclic_group({n})") for n in (1, 2, 3, 4, 5, 8)]
          + [(f"D{n}", f"dihedral_group({n})") for n in (1, 2, 3, 4, 6)]
          + [("SO2", "so2_group(4)"), ("O2", "o2_group(4)"), ("Flip", "flips")])


def build(ctor):
    if ctor == "flips":
        return gspaces.Flip2dOnR2().fibergroup
    return eval(ctor, {name: getattr(eg, name) for name in eg.__all__})


def sample_elements(G):
    if G.elements is not None:
        return list(G.elements)
    angles = [0.0, 0.3, 1.1, math.pi / 2, 2.5, 4.0]
    if isinstance(G, eg.SO2):
        return angles
    return [(j, a) for j in (0, 1) for a in angles]


def group_record(key, ctor, arrays):
    G = build(ctor)
    at_construction = list(G.representations)
    irreps_at_construction = list(G.irreps)
    if not G.continuous:
        G.regular_representation
    elements = sample_elements(G)
    record = {"ctor": ctor, "type": type(G).__name__, "name": G.name, "order": G.order(),
              "continuous": G.continuous, "abelian": G.abelian, "elements": to_json(G.elements),
              "elements_names": G.elements_names, "identity": to_json(G.identity),
              "extras": {a: to_json(getattr(G, a)) for a in ("rotation_order", "reflection", "_maximum_frequency")
                         if hasattr(G, a)},
              "representations_at_construction": at_construction, "irreps_at_construction": irreps_at_construction,
              "representations_after_regular": list(G.representations),
              "testing_elements": to_json(list(G.testing_elements())), "sample_elements": to_json(elements),
              "irreps": []}
    for name, psi in G.irreps.items():
        record["irreps"].append({"name": psi.name, "attributes": to_json(psi.attributes), "size": psi.size,
                                 "sum_of_squares_constituents": psi.sum_of_squares_constituents,
                                 "supported_nonlinearities": to_json(psi.supported_nonlinearities),
                                 "irreducible": psi.irreducible, "is_trivial": psi.is_trivial(),
                                 "characters": [float(psi.character(g)) for g in elements]})
        arrays[f"{key}__{name}__cob"] = dense(psi.change_of_basis)
        arrays[f"{key}__{name}__matrices"] = np.stack([dense(psi(g)) for g in elements])
    return record


# ---- representations ----------------------------------------------------------------------------------
def rep_record(key, G, rho, how, arrays, elements=None):
    elements = sample_elements(G) if elements is None else elements
    arrays[f"{key}__cob"] = dense(rho.change_of_basis)
    arrays[f"{key}__matrices"] = np.stack([dense(rho(g)) for g in elements])
    return {"key": key, "how": how, "group": G.name, "name": rho.name, "irreps": list(rho.irreps),
            "size": rho.size, "supported_nonlinearities": to_json(rho.supported_nonlinearities),
            "attributes": to_json(rho.attributes), "irreducible": rho.irreducible,
            "elements": to_json(elements), "registered": rho.name in G.representations
            and G.representations[rho.name] is rho}


def representations(arrays):
    out = []
    for ctor in ("cyclic_group(4)", "cyclic_group(8)", "dihedral_group(4)", "dihedral_group(3)"):
        G = build(ctor)
        out.append(rep_record(f"regular__{G.name}", G, G.regular_representation, [ctor, "regular", None], arrays))
    for ctor, sid in [("cyclic_group(8)", 4), ("cyclic_group(8)", 2), ("dihedral_group(4)", (None, 2)),
                      ("dihedral_group(4)", (0, 1)), ("dihedral_group(4)", (1, 2)), ("dihedral_group(3)", (0, 1)),
                      ("dihedral_group(3)", (None, 3)), ("o2_group(4)", (None, -1))]:
        G = build(ctor)
        out.append(rep_record(f"quotient__{G.name}__{sid}", G, G.quotient_representation(sid),
                              [ctor, "quotient", sid], arrays))
    O2 = build("o2_group(4)")
    SO2 = O2.subgroup((None, -1))[0]
    for k in range(4):
        rho = O2.induced_representation((None, -1), SO2.irrep(k))
        out.append(rep_record(f"induced__O2__irrep_{k}", O2, rho, ["o2_group(4)", "induced", (None, -1), [k]],
                              arrays))
    D4 = build("dihedral_group(4)")
    out.append(rep_record("induced__D4__(0,2)__irrep_1,1", D4,
                          D4.induced_representation((0, 2), D4.subgroup((0, 2))[0].irrep(1, 1)),
                          ["dihedral_group(4)", "induced", (0, 2), [1, 1]], arrays))
    for ctor, sid, source in [("dihedral_group(4)", (0, 1), "regular"), ("dihedral_group(4)", (None, 2), "regular"),
                              ("dihedral_group(4)", (1, 1), "irrep_1,1"), ("cyclic_group(8)", 4, "regular"),
                              ("o2_group(4)", (None, -1), "irrep_1,2"), ("o2_group(4)", (0., 1), "irrep_1,1"),
                              ("o2_group(4)", (0., 1), "irrep_0,0"), ("o2_group(4)", (None, -1), "irrep_1,0"),
                              ("so2_group(4)", 4, "irrep_3"), ("so2_group(4)", 4, "irrep_2")]:
        G = build(ctor)
        rho = G.regular_representation if source == "regular" else G.irreps[source]
        res = G.restrict_representation(sid, rho)
        out.append(rep_record(f"restrict__{G.name}__{sid}__{source}", res.group, res,
                              [ctor, "restrict", sid, source], arrays))
    return out


# ---- errors --------------------------------------------------------------------------------------------
def raised(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001 - the class is the data
        return type(e).__name__
    return None


def errors():
    return {name: raised(f) for name, f in group_error_cases(eg).items()}


def main():
    arrays = {}
    data = {"api": api(), "groups": {key: group_record(key, ctor, arrays) for key, ctor in GROUPS},
            "representations": representations(arrays), "errors": errors()}
    (HERE / "group.json").write_text(json.dumps(data, indent=1))
    np.savez_compressed(HERE / "group.npz", **arrays)


if __name__ == "__main__":
    main()
