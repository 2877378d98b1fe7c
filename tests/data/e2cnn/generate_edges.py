"""Generate e2cnn 0.2.3 reference results for the edge cases of tests/test_nn_edges.py: GeometricTensor
indexing in every form e2cnn accepts, ``split``, ``repr`` and ``tensor_directsum``; ReshuffleModule and
MultipleModule with the arguments e2cnn accepts beyond the obvious ones (repeated fields, ``reshuffle=True``,
modules of several labels); R2Upsampling's equivariance errors on the pixel grid.

Not part of the test suite.  Run only in an environment with e2cnn 0.2.3 and numpy<2 (see generate.py for
the recipe), from the repository root::

    /work/e2cnn-venv/bin/python tests/data/e2cnn/generate_edges.py

Writes ``edges.json`` and ``edges.npz`` next to this script.  An index is written as a JSON list with one
entry per position: an int, ``"..."`` for Ellipsis, or ``{"slice": [start, stop, step]}``.
"""
import inspect
import json
import warnings
from pathlib import Path

import numpy as np
import torch
from e2cnn import gspaces, nn

HERE = Path(__file__).parent
warnings.filterwarnings("ignore")

S = slice(None)
#: index forms on a (3, C, 5, 6) tensor of 5 fields (tuples, or one bare entry)
INDICES = [
    1, -1, slice(0, 2), slice(None, None, 2), Ellipsis,
    (S, 1), (S, -1), (S, 0), (S, slice(1, 3)), (S, slice(-3, None)), (S, slice(None, 2)),
    (S, slice(None, None, 2)), (S, slice(1, None, 2)), (S, slice(None, None, -1)), (S, slice(3, None, -2)),
    (0, 2, 1, 3), (-1, -2, -1, -1), (S, S, slice(1, 4), slice(None, None, 2)), (slice(1, 3), slice(0, 5), 2),
    (Ellipsis, 2), (Ellipsis, slice(1, 3)), (1, Ellipsis), (S, 2, Ellipsis), (0, Ellipsis, 1),
    (Ellipsis, 1, S, S), (Ellipsis, 0, Ellipsis), (0, S, 1, 2, Ellipsis), (Ellipsis, Ellipsis),
    (S, slice(2, 2)), (S, slice(3, 1)),
]


def encode(index):
    entries = index if isinstance(index, tuple) else (index,)
    out = [e if isinstance(e, int) else "..." if e is Ellipsis else {"slice": [e.start, e.stop, e.step]}
           for e in entries]
    return {"tuple": isinstance(index, tuple), "entries": out}


def names(t):
    return [r.name for r in t.representations]


def indexing(records, arrays):
    d4 = gspaces.FlipRot2dOnR2(4)
    t = nn.FieldType(d4, [d4.trivial_repr, d4.regular_repr, d4.irrep(1, 1), d4.trivial_repr, d4.regular_repr])
    x = nn.GeometricTensor(torch.arange(3 * t.size * 30, dtype=torch.float64).reshape(3, t.size, 5, 6), t)
    cases = []
    for n, index in enumerate(INDICES):
        case = {"index": encode(index)}
        try:
            y = x[index]
            case.update(result=type(y).__name__, type=names(y.type), shape=list(y.tensor.shape))
            arrays[f"index_{n}"] = y.tensor.numpy()
        except Exception as error:      # noqa: BLE001 (we record what e2cnn raises)
            case.update(result="error", error=type(error).__name__)
        cases.append(case)
    split = {}
    for key, breaks in [("1,3", [1, 3]), ("2", [2]), ("none", None), ("empty", [])]:
        parts = x.split(breaks)
        split[key] = [{"type": names(p.type), "shape": list(p.tensor.shape)} for p in parts]
    small = nn.GeometricTensor(torch.arange(2 * 5 * 2 * 2, dtype=torch.float32).reshape(2, 5, 2, 2),
                               nn.FieldType(d4, [d4.trivial_repr, d4.irrep(1, 1), d4.irrep(1, 1)]))
    one = nn.GeometricTensor(torch.zeros(1, 1), nn.FieldType(d4, [d4.trivial_repr]))
    summed = nn.tensor_directsum([x[:, 1:3], x[:, 0], x[:, 4]])
    arrays["directsum"] = summed.tensor.numpy()
    records["geometric_tensor"] = {"group": "D4", "in": names(t), "shape": [3, t.size, 5, 6], "values": "arange",
                                   "cases": cases, "split": split,
                                   "repr": [repr(small), repr(one)], "directsum": names(summed.type)}


def reshuffle(records):
    c4 = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(c4, [c4.regular_repr, c4.irrep(1), c4.regular_repr, c4.trivial_repr])
    cases = []
    for perm in ([1, 1, 0, 2, 3], (3, 2, 1, 0), [True, False, 2, 3], [3, 2, 1, 0, 0, 2]):
        m = nn.ReshuffleModule(t, perm)
        x = nn.GeometricTensor(torch.arange(t.size, dtype=torch.float32).reshape(1, -1, 1, 1), t)
        cases.append({"permutation": [int(p) for p in perm], "kind": type(perm).__name__,
                      "bools": any(isinstance(p, bool) for p in perm), "out": names(m.out_type),
                      "order": [int(v) for v in m(x).tensor.reshape(-1).tolist()]})
    records["reshuffle"] = {"group": "C4", "in": names(t), "cases": cases}


def multiple(records, arrays):
    c8 = gspaces.Rot2dOnR2(8)
    reprs = [c8.regular_repr, c8.trivial_repr, c8.irrep(1), c8.trivial_repr, c8.regular_repr, c8.irrep(2),
             c8.trivial_repr]
    labels = ["x", "gates", "gated", "gates", "x", "gated", "y"]
    t = nn.FieldType(c8, reprs)
    torch.manual_seed(0)
    x = torch.randn(2, t.size, 4, 4)
    arrays["multiple_input"] = x.numpy()
    cases = []
    for reshuffle in (True, False, 1, 2):
        out = nn.BranchingModule(t, labels, reshuffle=int(reshuffle)).out_type
        gated = nn.GatedNonLinearity2((out["gates"], out["gated"]))
        with torch.no_grad():
            gated.bias.zero_()           # its only parameter: the test zeroes its own too
        modules = [(nn.ELU(out["x"]), "x"), (gated, ["gates", "gated"]), (nn.IdentityModule(out["y"]), "y")]
        m = nn.MultipleModule(t, labels, modules, reshuffle=reshuffle)
        arrays[f"multiple_output_{reshuffle!r}"] = m(nn.GeometricTensor(x, t)).tensor.detach().numpy()
        cases.append({"reshuffle": reshuffle, "key": f"multiple_output_{reshuffle!r}",
                      "branches": {label: names(ft) for label, ft in out.items()}, "out": names(m.out_type)})
    out = nn.BranchingModule(t, labels, reshuffle=1).out_type
    gated = nn.GatedNonLinearity2((out["gates"], out["gated"]))
    m = nn.MultipleModule(t, labels, [(nn.R2Conv(out["x"], out["x"], 3, padding=1), "x"),
                                      (gated, ["gates", "gated"]), (nn.R2Conv(out["y"], out["y"], 3, padding=1), "y")],
                          reshuffle=True)
    records["multiple"] = {"group": "C8", "in": names(t), "labels": labels, "cases": cases,
                           "modules": ["ELU:x", "GatedNonLinearity2:gates,gated", "IdentityModule:y"],
                           "state_dict_with_convs": sorted(m.state_dict())}


def upsampling(records):
    d4 = gspaces.FlipRot2dOnR2(4)
    t = nn.FieldType(d4, [d4.regular_repr, d4.irrep(1, 1), d4.trivial_repr])
    torch.manual_seed(0)
    cases = []
    for size in (7, 8):
        x = nn.GeometricTensor(torch.randn(2, t.size, size, size), t)
        for mode in ("nearest", "bilinear"):
            for align_corners in (False, True):
                for scale in (2, 3, 4):
                    up = nn.R2Upsampling(t, scale_factor=scale, mode=mode, align_corners=align_corners)
                    errors = {}
                    for g in [(0, 1), (0, 2), (0, 3), (1, 0), (1, 1)]:
                        out1 = up(x.transform(g)).tensor
                        out2 = up(x).transform(g).tensor
                        errors[repr(g)] = float((out1 - out2).abs().max() / out1.abs().max())
                    cases.append({"input_size": size, "mode": mode, "align_corners": align_corners,
                                  "scale_factor": scale, "relative_errors": errors})
    records["upsampling"] = {"group": "D4", "in": names(t), "cases": cases}


#: the public callables of the files tests/test_nn_edges.py covers
SIGNED = ["ReshuffleModule", "BranchingModule", "MergeModule", "MultipleModule", "IdentityModule", "SequentialModule",
          "ModuleList", "R2Upsampling", "GeometricTensor", "tensor_directsum", "init.generalized_he_init",
          "init.deltaorthonormal_init"] + [f"GeometricTensor.{m}" for m in (
              "restrict", "split", "transform", "transform_fibers", "to", "size", "__getitem__", "__add__", "__sub__",
              "__iadd__", "__isub__", "__mul__", "__rmul__", "__imul__", "__repr__")]


def signatures(records):
    out = {}
    for name in SIGNED:
        obj = nn
        for part in name.split("."):
            obj = getattr(obj, part)
        target = obj.__init__ if inspect.isclass(obj) else obj
        out[name] = [[p.name, str(p.kind), None if p.default is p.empty else repr(p.default)]
                     for p in inspect.signature(target).parameters.values() if p.name != "self"]
    records["signatures"] = out


def main():
    records, arrays = {}, {}
    signatures(records)
    indexing(records, arrays)
    reshuffle(records)
    multiple(records, arrays)
    upsampling(records)
    (HERE / "edges.json").write_text(json.dumps(records, indent=1))
    np.savez_compressed(HERE / "edges.npz", **arrays)


if __name__ == "__main__":
    main()
