"""Generate e2cnn 0.2.3 reference outputs of the structural modules (Reshuffle, Branching, Multiple/Merge,
Disentangle, Restriction, Mask, FieldDropout).

Not part of the test suite.  Run only in an environment with e2cnn 0.2.3 and numpy<2 (see generate.py
for the recipe), from the repository root::

    /work/e2cnn-venv/bin/python tests/data/e2cnn/generate_structure.py

Writes ``structure.json`` (field types as lists of representation names, channel orders, state_dict
keys, ...) and ``structure.npz`` (masks, inputs and outputs) next to this script.  A channel order
is the module's output on the input ``arange(C)`` (one pixel), i.e. which input channel lands where.
"""
import json
from pathlib import Path

import numpy as np
import torch
from e2cnn import group, gspaces, nn

HERE = Path(__file__).parent


def names(t):
    return [r.name for r in t.representations]


def channel_order(module, t, label=None):
    x = nn.GeometricTensor(torch.arange(t.size, dtype=torch.float32).reshape(1, -1, 1, 1), t)
    y = module(x)
    if label is not None:
        y = y[label]
    return [int(v) for v in y.tensor.reshape(-1).tolist()]


def main():
    torch.manual_seed(0)
    records, arrays = {}, {}

    # ReshuffleModule
    c4 = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(c4, [c4.trivial_repr, c4.regular_repr, c4.irrep(1), c4.regular_repr, c4.trivial_repr])
    perm = [3, 0, 4, 2, 1]
    m = nn.ReshuffleModule(t, perm)
    records["reshuffle"] = {"group": "C4", "in": names(t), "permutation": perm, "out": names(m.out_type),
                            "order": channel_order(m, t), "state_dict": sorted(m.state_dict())}

    # BranchingModule: reshuffle levels 0, 1, 2 (e2cnn asserts reshuffle < 3)
    d4 = gspaces.FlipRot2dOnR2(4)
    reprs = [d4.regular_repr, d4.irrep(1, 1), d4.trivial_repr, d4.regular_repr, d4.irrep(1, 1), d4.irrep(1, 0),
             d4.trivial_repr]
    labels = ["b", "a", "c", "a", "b", "a", "a"]
    t = nn.FieldType(d4, reprs)
    branching = []
    for level in (0, 1, 2):
        m = nn.BranchingModule(t, labels, reshuffle=level)
        branching.append({"reshuffle": level,
                          "out": {label: names(ft) for label, ft in m.out_type.items()},
                          "order": {label: channel_order(m, t, label) for label in m.out_type},
                          "state_dict": sorted(m.state_dict())})
    try:
        nn.BranchingModule(t, labels, reshuffle=3)
        level3 = "accepted"
    except AssertionError:
        level3 = "AssertionError"
    records["branching"] = {"group": "D4", "in": names(t), "labels": labels, "cases": branching, "reshuffle_3": level3}

    # MultipleModule (Branching + Merge): output order follows the modules list
    c8 = gspaces.Rot2dOnR2(8)
    t = nn.FieldType(c8, [c8.regular_repr, c8.trivial_repr, c8.irrep(1), c8.regular_repr, c8.trivial_repr])
    labels = ["x", "y", "z", "x", "y"]
    multiple = []
    x = torch.randn(2, t.size, 3, 3)
    arrays["multiple_input"] = x.numpy()
    for level in (0, 1):
        probe = nn.BranchingModule(t, labels, reshuffle=level).out_type
        modules = [(nn.ReLU(probe["y"]), "y"), (nn.IdentityModule(probe["z"]), "z"), (nn.ELU(probe["x"]), "x")]
        m = nn.MultipleModule(t, labels, modules, reshuffle=level)
        arrays[f"multiple_output_{level}"] = m(nn.GeometricTensor(x, t)).tensor.detach().numpy()
        multiple.append({"reshuffle": level, "out": names(m.out_type)})
    probe = nn.BranchingModule(t, labels, reshuffle=1).out_type
    conv = nn.R2Conv(probe["x"], probe["x"], 3, padding=1)
    m = nn.MultipleModule(t, labels, [(conv, "x"), (nn.ReLU(probe["y"]), "y"), (nn.IdentityModule(probe["z"]), "z")],
                          reshuffle=1)
    records["multiple"] = {"group": "C8", "in": names(t), "labels": labels, "cases": multiple,
                           "modules": ["ReLU:y", "IdentityModule:z", "ELU:x"],
                           "state_dict_with_conv": sorted(m.state_dict())}

    # DisentangleModule
    disentangle = []
    interleaved = group.change_basis(group.directsum([c4.irrep(1), c4.trivial_repr, c4.irrep(1)]),
                                     np.eye(5)[[0, 2, 3, 1, 4]], "interleaved")
    cases = [("D4", d4, [group.directsum([d4.regular_repr, d4.irrep(1, 1)]), d4.trivial_repr]),
             ("C4", c4, [c4.regular_repr, interleaved, interleaved]),
             ("C8", c8, [c8.regular_repr])]
    for gname, gs, reprs in cases:
        t = nn.FieldType(gs, reprs)
        if gname == "C8":
            t = t.restrict(4)
        m = nn.DisentangleModule(t)
        disentangle.append({"group": gname, "in": names(t), "restricted": gname == "C8",
                            "out": names(m.out_type), "out_irreps": [r.irreps for r in m.out_type.representations],
                            "order": channel_order(m, t), "state_dict": sorted(m.state_dict())})
    records["disentangle"] = disentangle

    # RestrictionModule: the output type
    restriction = []
    for gname, gs, ids in [("C8", c8, [4, 2, 1]), ("D4", d4, [(None, 4), (None, 2), (0, 1), (1, 1), (0, 2)])]:
        t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr] + [gs.irrep(*i) for i in
                                                                   ([(1,), (2,)] if gname == "C8" else [(1, 1)])])
        for sid in ids:
            m = nn.RestrictionModule(t, sid)
            restriction.append({"group": gname, "id": sid, "out_gspace": m.out_type.gspace.name,
                                "out": names(m.out_type), "out_irreps": [r.irreps for r in m.out_type.representations],
                                "state_dict": sorted(m.state_dict())})
    records["restriction"] = restriction

    # MaskModule: the mask values
    masks = []
    for S in (5, 8, 9, 16):
        for margin in (0.0, 2.0, 10.0, 33.3):
            m = nn.MaskModule(nn.FieldType(c4, [c4.regular_repr]), S, margin=margin)
            key = f"mask_{S}_{margin}"
            arrays[key] = m.mask.detach().numpy()
            masks.append({"S": S, "margin": margin, "key": key, "state_dict": sorted(m.state_dict())})
    records["mask"] = masks

    # FieldDropout in training: e2cnn's mask is per sample, field and pixel
    t = nn.FieldType(c4, [c4.regular_repr, c4.irrep(1), c4.trivial_repr, c4.regular_repr])
    m = nn.FieldDropout(t, p=0.5)
    m.train()
    arrays["field_dropout_ones"] = m(nn.GeometricTensor(torch.ones(2, t.size, 6, 6), t)).tensor.numpy()
    records["field_dropout"] = {"group": "C4", "in": names(t), "p": 0.5, "input": "ones(2, C, 6, 6)",
                                "state_dict": sorted(m.state_dict())}

    (HERE / "structure.json").write_text(json.dumps(records, indent=1))
    np.savez_compressed(HERE / "structure.npz", **arrays)


if __name__ == "__main__":
    main()
