"""Generate e2cnn 0.2.3 reference induced representations (``group.induced_representation``).

Run only in an environment with e2cnn 0.2.3 and numpy<2 (see generate.py for the recipe)::

    /work/e2cnn-venv/bin/python tests/data/e2cnn/generate_induced.py

Writes ``induced.json`` (group, subgroup id, subgroup irrep id, the induced representation's name,
irreps and size) and ``induced.npz`` (its change of basis under the same key).
"""
import json
from pathlib import Path

import numpy as np
from e2cnn.group import cyclic_group, dihedral_group

HERE = Path(__file__).parent

CASES = [  # (family, N, subgroup id, subgroup irrep id)
    ("C", 8, 4, (1,)), ("C", 8, 2, (1,)), ("C", 8, 4, (2,)), ("C", 6, 3, (1,)), ("C", 12, 4, (1,)),
    ("D", 4, (None, 4), (1,)), ("D", 4, (None, 2), (1,)), ("D", 4, (0, 2), (1, 1)), ("D", 4, (0, 2), (0, 1)),
    ("D", 8, (0, 4), (1, 1)), ("D", 8, (1, 4), (1, 2)), ("D", 6, (None, 3), (1,)), ("D", 8, (0, 1), (1,)),
    ("D", 6, (1, 3), (1, 0)),
]


def main():
    records, arrays = [], {}
    for family, N, sid, irrep_id in CASES:
        G = cyclic_group(N) if family == "C" else dihedral_group(N)
        H = G.subgroup(sid)[0]
        rho = G.induced_representation(sid, H.irrep(*irrep_id))
        key = f"{family}{N}__{sid}__{irrep_id}".replace(" ", "")
        records.append({"key": key, "family": family, "N": N, "subgroup_id": sid, "subgroup": H.name,
                        "subgroup_irrep": list(irrep_id), "name": rho.name, "irreps": list(rho.irreps),
                        "size": rho.size})
        arrays[key] = rho.change_of_basis
    (HERE / "induced.json").write_text(json.dumps(records, indent=1))
    np.savez_compressed(HERE / "induced.npz", **arrays)


if __name__ == "__main__":
    main()
