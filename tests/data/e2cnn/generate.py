"""Generate reference fixtures from e2cnn 0.2.3.

This script is NOT part of the test suite and is never imported by it.  It is
run only in an isolated environment that has e2cnn==0.2.3 and numpy<2 installed
(plus scipy<1.14 and a CPU build of torch), e.g. a virtual environment created
outside the repository with::

    python3 -m venv /work/e2cnn-venv
    /work/e2cnn-venv/bin/pip install "numpy<2" "scipy<1.14" torch==2.13.0 e2cnn==0.2.3

The fixtures in this directory are regenerated (overwritten) with::

    /work/e2cnn-venv/bin/python tests/data/e2cnn/generate.py

(run from the repository root; the output directory is always the directory
containing this script, whatever the working directory).

Files written
-------------

``representations.json`` / ``representations.npz``
    ``representations.json`` holds ``{"meta": {...}, "groups": {...},
    "cases": [...]}``.  ``groups`` maps each group name used (``"C8"``,
    ``"D4"``, ``"SO(2)"``, ``"O(2)"``, ...) to its constructor call and the
    ordered list of its irreps (name, size, attributes) as e2cnn lists them in
    ``group.irreps``.  Each record in ``cases`` is::

        {"key": str, "group": group name, "group_ctor": "dihedral_group(4)",
         "kind": "regular" | "quotient" | "restrict",
         "args": subgroup id (JSON: tuples -> lists, None -> null) or null,
         "name": e2cnn name of the resulting representation,
         "irreps": [irrep names in order], "size": int,
         # restrict only:
         "subgroup": name of the subgroup, "restricted_irrep": name of the
         irrep of the parent group that was restricted}

    The npz stores each representation's ``change_of_basis`` (float64,
    shape (size, size)) under the record's key.  Cases: regular
    representations of C1..C8 and D1..D6; the quotient representations
    listed in ``QUOTIENTS``; and ``group.restrict_representation(id, irrep)``
    for every irrep of the groups/subgroup ids listed in ``RESTRICTIONS``
    (irreps are those of the subgroup, the change of basis is the one of the
    restricted representation).

``bases.json`` / ``bases.npz``
    ``bases.json`` holds ``{"meta": {...}, "configs": [...]}``; ``meta``
    records the e2cnn / numpy / torch / scipy / python versions and the date.
    Every config is a real ``e2cnn.nn.R2Conv`` with ONE input field and ONE
    output field, so its ``BlocksBasisExpansion`` has exactly one
    ``SingleBlockBasisExpansion`` submodule.  Each config record has: ``key``,
    ``gspace`` (constructor call as a string, evaluated with
    ``from e2cnn import gspaces``), ``in_repr_expr`` / ``out_repr_expr``
    (python expressions on ``gs``), ``in_repr`` / ``out_repr`` (e2cnn names),
    their irreps lists, ``kernel_size``, ``dilation``, ``conv_kwargs`` (all
    other R2Conv kwargs; everything else default), the derived basis
    parameters (``rings``, ``sigma``, ``maximum_frequency`` from
    ``compute_basis_params``), ``block_name`` (the submodule name),
    ``full_basis_dim`` (size of the unfiltered analytical basis),
    ``kept_mask`` (0/1 per element of the unfiltered basis: kept by the
    frequency filter AND by the norm > 1e-2 check), ``dim`` (basis dimension
    B), ``sampled_basis_shape`` and ``attributes`` (one JSON dict per kept
    basis element, in order, with all e2cnn attributes: radius, sigma,
    frequency, gamma, s, offset, in_irrep, out_irrep, in_irrep_idx,
    out_irrep_idx, shape, idx, idx1, idx2, inner_idx, id, ... whenever
    present).

    The npz stores under ``key`` the block expansion's ``sampled_basis``
    buffer, float32, shape (B, c_out, c_in, P) (already normalised and
    filtered, exactly as e2cnn uses it); under ``key + "__grid"`` the
    (2, P) float64 sampling grid (``BlocksBasisExpansion.points``, row 0 = x,
    row 1 = y, points enumerated row by row from the top-left cell, y
    pointing up); under ``key + "__in_cob"`` / ``key + "__out_cob"`` the
    float64 change of basis of the input / output representation.

Notes: torch >= 2 warns that e2cnn indexes with a uint8 mask in
``SingleBlockBasisExpansion``; that warning is silenced here (it does not
change results).  No e2cnn code is patched, but e2cnn's module-level cache of
block expansions (``basisexpansion_singleblock._stored_filters``) is cleared
before building each R2Conv: its key compares bases with
``R2FlipsDiscreteRotationsSolution.__eq__``, which ignores the flip axis, so
``FlipRot2dOnR2(4, axis=0.0)`` built after ``FlipRot2dOnR2(4)`` (default axis
pi/2) would otherwise reuse the axis-pi/2 basis.  Each stored basis is thus
what a fresh process computes for that config alone.
"""

import datetime
import json
import os
import platform
import sys
import warnings

import numpy as np
import scipy
import torch

import e2cnn
from e2cnn import gspaces, nn
from e2cnn.group import directsum
from e2cnn.nn.modules.r2_conv.r2convolution import compute_basis_params
from e2cnn.nn.modules.r2_conv import basisexpansion_singleblock as _singleblock

warnings.filterwarnings("ignore", message="indexing with dtype torch.uint8")

OUT_DIR = os.path.dirname(os.path.abspath(__file__))


# --------------------------------------------------------------------------- utils

def to_json(x):
    """Convert numpy / tuple values into plain JSON-serialisable python."""
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
    if isinstance(x, torch.Tensor):
        return to_json(x.detach().cpu().numpy())
    if x is None or isinstance(x, str):
        return x
    if isinstance(x, (set, frozenset)):
        return sorted(to_json(v) for v in x)
    raise TypeError(f"cannot serialise {type(x)}: {x!r}")


def id_token(x):
    """Short, filename-safe token for a subgroup id."""
    if isinstance(x, tuple):
        return "_".join(id_token(v) for v in x)
    if x is None:
        return "None"
    if isinstance(x, float):
        return f"{x:g}"
    return str(x)


def group_token(name):
    return name.replace("(", "").replace(")", "")


def meta():
    return {
        "e2cnn": e2cnn.__version__ if hasattr(e2cnn, "__version__") else "0.2.3",
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "generator": "tests/data/e2cnn/generate.py",
    }


def dense(m):
    if hasattr(m, "toarray"):
        m = m.toarray()
    return np.asarray(m, dtype=np.float64)


# --------------------------------------------------------------------------- representations

# Group constructors, by code string.  Irreps lists are snapshotted right after
# construction (e2cnn caches group instances, so later operations could add
# irreps to the dictionaries of continuous groups).
GROUP_CTORS = (
    [f"cyclic_group({n})" for n in range(1, 13)]
    + [f"dihedral_group({n})" for n in range(1, 9)]
    + ["so2_group(4)", "o2_group(4)"]
)

REGULAR = [f"cyclic_group({n})" for n in range(1, 9)] + [f"dihedral_group({n})" for n in range(1, 7)]

QUOTIENTS = [
    ("cyclic_group(8)", 2),
    ("cyclic_group(8)", 4),
    ("cyclic_group(6)", 3),
    ("cyclic_group(12)", 3),
    ("cyclic_group(12)", 2),
    ("cyclic_group(4)", 2),
    ("dihedral_group(4)", (None, 2)),
    ("dihedral_group(4)", (0, 1)),
    ("dihedral_group(4)", (1, 1)),
    ("dihedral_group(4)", (0, 2)),
    ("dihedral_group(4)", (1, 2)),
    ("dihedral_group(6)", (None, 3)),
    ("dihedral_group(6)", (0, 3)),
    ("dihedral_group(6)", (1, 3)),
    ("dihedral_group(6)", (0, 2)),
    ("dihedral_group(6)", (None, 2)),
    ("dihedral_group(8)", (0, 4)),
    ("dihedral_group(8)", (None, 4)),
    ("dihedral_group(8)", (2, 2)),
    ("dihedral_group(8)", (3, 1)),
]

RESTRICTIONS = [
    ("cyclic_group(8)", [4, 2, 1]),
    ("cyclic_group(6)", [3, 2]),
    ("dihedral_group(8)", [(None, 4), (0, 4), (1, 4), (0, 1), (1, 1), (2, 1), (None, 1), (0, 2)]),
    ("dihedral_group(6)", [(0, 3), (1, 3), (None, 3), (1, 2)]),
    ("so2_group(4)", [4, 3]),
    ("o2_group(4)", [(None, -1), (None, 4), (0., 4), (0., 1), (np.pi / 2, 1)]),
]


def build_groups():
    groups = {}
    info = {}
    for ctor in GROUP_CTORS:
        G = eval(ctor)
        groups[ctor] = (G, list(G.irreps.keys()))
        info[G.name] = {
            "ctor": ctor,
            "order": int(G.order()),
            "irreps": [
                {"name": n, "size": int(G.irreps[n].size), "attributes": to_json(dict(G.irreps[n].attributes))}
                for n in G.irreps.keys()
            ],
        }
    return groups, info


def rep_record(key, G, ctor, kind, args, rep, **extra):
    rec = {
        "key": key,
        "group": G.name,
        "group_ctor": ctor,
        "kind": kind,
        "args": to_json(args),
        "name": rep.name,
        "irreps": list(rep.irreps),
        "size": int(rep.size),
    }
    rec.update(extra)
    return rec


def generate_representations():
    groups, group_info = build_groups()
    records, arrays = [], {}

    def add(rec, cob):
        assert rec["key"] not in arrays, rec["key"]
        cob = dense(cob)
        assert cob.shape == (rec["size"], rec["size"])
        records.append(rec)
        arrays[rec["key"]] = cob

    for ctor in REGULAR:
        G, _ = groups[ctor]
        rep = G.regular_representation
        add(rep_record(f"regular__{group_token(G.name)}", G, ctor, "regular", None, rep), rep.change_of_basis)

    for ctor, sid in QUOTIENTS:
        G, _ = groups[ctor]
        rep = G.quotient_representation(sid)
        key = f"quotient__{group_token(G.name)}__{id_token(sid)}"
        add(rep_record(key, G, ctor, "quotient", sid, rep), rep.change_of_basis)

    for ctor, sids in RESTRICTIONS:
        G, irrep_names = groups[ctor]
        for sid in sids:
            for irr_name in irrep_names:
                irr = G.irreps[irr_name]
                rep = G.restrict_representation(sid, irr)
                key = f"restrict__{group_token(G.name)}__{id_token(sid)}__{irr_name}"
                add(
                    rep_record(key, G, ctor, "restrict", sid, rep,
                               subgroup=rep.group.name, restricted_irrep=irr_name),
                    rep.change_of_basis,
                )
                if rep.group.name not in group_info:
                    group_info[rep.group.name] = {
                        "ctor": None,
                        "order": int(rep.group.order()),
                        "irreps": [
                            {"name": n, "size": int(rep.group.irreps[n].size),
                             "attributes": to_json(dict(rep.group.irreps[n].attributes))}
                            for n in rep.group.irreps.keys()
                        ],
                    }

    with open(os.path.join(OUT_DIR, "representations.json"), "w") as f:
        json.dump({"meta": meta(), "groups": group_info, "cases": records}, f, indent=1)
    np.savez_compressed(os.path.join(OUT_DIR, "representations.npz"), **arrays)
    return records, arrays


# --------------------------------------------------------------------------- bases

# (key, gspace ctor, in repr expr, out repr expr, kernel_size, other R2Conv kwargs)
BASES = [
    ("C4_reg_reg_k3", "gspaces.Rot2dOnR2(4)", "gs.regular_repr", "gs.regular_repr", 3, {}),
    ("C4_reg_reg_k5", "gspaces.Rot2dOnR2(4)", "gs.regular_repr", "gs.regular_repr", 5, {}),
    ("C8_reg_reg_k5", "gspaces.Rot2dOnR2(8)", "gs.regular_repr", "gs.regular_repr", 5, {}),
    ("C8_reg_reg_k5_dil2", "gspaces.Rot2dOnR2(8)", "gs.regular_repr", "gs.regular_repr", 5, {"dilation": 2}),
    ("C8_reg_reg_k7_fco1", "gspaces.Rot2dOnR2(8)", "gs.regular_repr", "gs.regular_repr", 7,
     {"frequencies_cutoff": 1.0}),
    ("C8_quot2_reg_k5", "gspaces.Rot2dOnR2(8)", "gs.quotient_repr(2)", "gs.regular_repr", 5, {}),
    ("C8_triv_reg_k5", "gspaces.Rot2dOnR2(8)", "gs.trivial_repr", "gs.regular_repr", 5, {}),
    ("C8_reg_reg_k5_maxoff0", "gspaces.Rot2dOnR2(8)", "gs.regular_repr", "gs.regular_repr", 5,
     {"maximum_offset": 0}),
    ("C3_reg_reg_k5", "gspaces.Rot2dOnR2(3)", "gs.regular_repr", "gs.regular_repr", 5, {}),
    ("C5_reg_reg_k5", "gspaces.Rot2dOnR2(5)", "gs.regular_repr", "gs.regular_repr", 5, {}),
    ("D4_reg_reg_k5", "gspaces.FlipRot2dOnR2(4)", "gs.regular_repr", "gs.regular_repr", 5, {}),
    ("D4_irr11_reg_k4", "gspaces.FlipRot2dOnR2(4)", "gs.irrep(1, 1)", "gs.regular_repr", 4, {}),
    ("D4_reg_irr02_k6", "gspaces.FlipRot2dOnR2(4)", "gs.regular_repr", "gs.irrep(0, 2)", 6, {}),
    ("D4_quot01_reg_k5", "gspaces.FlipRot2dOnR2(4)", "gs.quotient_repr((0, 1))", "gs.regular_repr", 5, {}),
    ("D4ax0_reg_reg_k5", "gspaces.FlipRot2dOnR2(4, axis=0.0)", "gs.regular_repr", "gs.regular_repr", 5, {}),
    ("D4ax07_reg_reg_k3", "gspaces.FlipRot2dOnR2(4, axis=0.7)", "gs.regular_repr", "gs.regular_repr", 3, {}),
    ("D3_reg_reg_k5", "gspaces.FlipRot2dOnR2(3)", "gs.regular_repr", "gs.regular_repr", 5, {}),
    ("D6_quotN3_reg_k3", "gspaces.FlipRot2dOnR2(6)", "gs.quotient_repr((None, 3))", "gs.regular_repr", 3, {}),
    ("D8_reg_reg_k3", "gspaces.FlipRot2dOnR2(8)", "gs.regular_repr", "gs.regular_repr", 3, {}),
    ("SO2_irr1_irr2_k5", "gspaces.Rot2dOnR2(-1, maximum_frequency=4)", "gs.irrep(1)", "gs.irrep(2)", 5, {}),
    ("SO2_irr3_irr3_k7", "gspaces.Rot2dOnR2(-1, maximum_frequency=4)", "gs.irrep(3)", "gs.irrep(3)", 7, {}),
    ("SO2_irr0_irr2_k5", "gspaces.Rot2dOnR2(-1, maximum_frequency=4)", "gs.irrep(0)", "gs.irrep(2)", 5, {}),
    ("SO2_sum012_sum012_k5", "gspaces.Rot2dOnR2(-1, maximum_frequency=4)",
     "directsum([gs.irrep(0), gs.irrep(1), gs.irrep(2)])",
     "directsum([gs.irrep(0), gs.irrep(1), gs.irrep(2)])", 5, {}),
    ("O2_irr11_irr12_k5", "gspaces.FlipRot2dOnR2(-1, maximum_frequency=4)", "gs.irrep(1, 1)", "gs.irrep(1, 2)", 5,
     {}),
    ("O2_irr12_irr10_k7", "gspaces.FlipRot2dOnR2(-1, maximum_frequency=4)", "gs.irrep(1, 2)", "gs.irrep(1, 0)", 7,
     {}),
    ("O2_irr11_irr11_k5", "gspaces.FlipRot2dOnR2(-1, maximum_frequency=4)", "gs.irrep(1, 1)", "gs.irrep(1, 1)", 5,
     {}),
    ("Flip_reg_reg_k5", "gspaces.Flip2dOnR2()", "gs.regular_repr", "gs.regular_repr", 5, {}),
    ("Flipax0_reg_reg_k3", "gspaces.Flip2dOnR2(axis=0.)", "gs.regular_repr", "gs.regular_repr", 3, {}),
    ("Trivial_triv_triv_k5", "gspaces.TrivialOnR2()", "gs.trivial_repr", "gs.trivial_repr", 5, {}),
]


def generate_bases():
    configs, arrays = [], {}
    for key, gs_ctor, in_expr, out_expr, k, kwargs in BASES:
        gs = eval(gs_ctor, {"gspaces": gspaces})
        env = {"gs": gs, "directsum": directsum}
        in_repr = eval(in_expr, env)
        out_repr = eval(out_expr, env)
        in_type = nn.FieldType(gs, [in_repr])
        out_type = nn.FieldType(gs, [out_repr])
        # e2cnn caches SingleBlockBasisExpansion modules in a module-level dict keyed by
        # (basis, mask, points), and R2FlipsDiscreteRotationsSolution.__eq__ ignores the flip
        # axis: without clearing, FlipRot2dOnR2(4, axis=0.0) would silently reuse the basis
        # built earlier for FlipRot2dOnR2(4) (axis=pi/2).  Clearing the cache makes every
        # config equal to what a fresh process computes.
        _singleblock._stored_filters.clear()
        conv = nn.R2Conv(in_type, out_type, k, **kwargs)

        be = conv._basisexpansion
        blocks = [(n, m) for n, m in be.named_children()]
        assert len(blocks) == 1, (key, blocks)
        block_name, block = blocks[0]
        assert type(block).__name__ == "SingleBlockBasisExpansion"

        sampled = block.sampled_basis.detach().cpu().numpy().astype(np.float32)
        B = sampled.shape[0]
        assert sampled.shape[1:3] == (out_repr.size, in_repr.size), sampled.shape
        assert B == be.dimension() == len(block.attributes)

        grid = np.asarray(be.points, dtype=np.float64)
        assert grid.shape == (2, sampled.shape[3])

        dilation = kwargs.get("dilation", 1)
        grid2, _, rings, sigma, maxfreq = compute_basis_params(
            k, kwargs.get("frequencies_cutoff"), kwargs.get("rings"), kwargs.get("sigma"), dilation, None
        )
        assert np.allclose(grid2, grid)

        attrs = []
        for a in block.attributes:
            attrs.append(to_json(dict(a)))

        configs.append({
            "key": key,
            "gspace": gs_ctor,
            "gspace_name": gs.name,
            "group": gs.fibergroup.name,
            "in_repr_expr": in_expr,
            "out_repr_expr": out_expr,
            "in_repr": in_repr.name,
            "out_repr": out_repr.name,
            "in_irreps": list(in_repr.irreps),
            "out_irreps": list(out_repr.irreps),
            "in_size": int(in_repr.size),
            "out_size": int(out_repr.size),
            "kernel_size": k,
            "dilation": dilation,
            "conv_kwargs": to_json({kk: vv for kk, vv in kwargs.items() if kk != "dilation"}),
            "rings": to_json(rings),
            "sigma": to_json(sigma),
            "maximum_frequency": int(maxfreq),
            "block_name": block_name,
            "full_basis_dim": int(len(block.basis)),
            "kept_mask": to_json(block._mask.to(torch.int64)),
            "dim": int(B),
            "sampled_basis_shape": list(sampled.shape),
            "attributes": attrs,
        })
        arrays[key] = sampled
        arrays[key + "__grid"] = grid
        arrays[key + "__in_cob"] = dense(in_repr.change_of_basis)
        arrays[key + "__out_cob"] = dense(out_repr.change_of_basis)
        print(f"{key:28s} B={B:4d} shape={sampled.shape}", file=sys.stderr)

    with open(os.path.join(OUT_DIR, "bases.json"), "w") as f:
        json.dump({"meta": meta(), "configs": configs}, f, indent=1)
    np.savez_compressed(os.path.join(OUT_DIR, "bases.npz"), **arrays)
    return configs, arrays


def main():
    assert np.__version__.split(".")[0] == "1", "run with numpy<2"
    generate_representations()
    generate_bases()


if __name__ == "__main__":
    main()
