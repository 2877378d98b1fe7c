"""Generate e2cnn 0.2.3 reference outputs of the non-linearities (norm, induced norm, gated, induced gated,
concatenated, vector field) for tests/test_nn_nonlinearities.py.

Run only in an environment with e2cnn 0.2.3 and numpy<2 (see generate.py for the recipe)::

    /work/e2cnn-venv/bin/python tests/data/e2cnn/generate_nonlinearities.py

e2cnn builds the output representation of ``ConcatenatedNonLinearity`` with pymanopt, which is not
installed: its change of basis (any invertible intertwiner; e2cnn's own is a random optimum) is replaced
here by a random combination of the intertwiners e2cnn computes.  The representation's matrices, irreps and
the module's outputs do not depend on that choice.

Writes ``nonlinearities.json`` (per case: module, gspace, field tokens, arguments, output field names and
irreps, e2cnn's ``state_dict`` keys and shapes) and ``nonlinearities.npz`` (``<case>__input``,
``<case>__gates`` for GatedNonLinearity2, ``<case>__output``, ``<case>__<parameter>`` for the parameters set
before the forward pass, and ``<case>__rep__<name>`` the matrices of each concatenated representation on the
group elements, in the order of ``elements`` in the json).
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
import e2cnn.group.representation as e2rep
from e2cnn import gspaces, nn

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent.parent))      # tests/, for the fixtures' token reader
from e2cnn_tokens import representation  # noqa: E402
RNG = np.random.default_rng(0)


def _any_intertwiner(basis, shape):
    return (basis @ RNG.standard_normal(basis.shape[1])).reshape(shape, order="F"), 0.0


e2rep.find_orthogonal_matrix = _any_intertwiner

GSPACES = {
    "C8": lambda: gspaces.Rot2dOnR2(8),
    "D4": lambda: gspaces.FlipRot2dOnR2(4),
    "SO2": lambda: gspaces.Rot2dOnR2(-1, maximum_frequency=3),
    "O2": lambda: gspaces.FlipRot2dOnR2(-1, maximum_frequency=3),
}


def ftype(gs, tokens):
    return nn.FieldType(gs, [representation(gs, t) for t in tokens])


C8_NORM = ["irrep:1", "regular", "trivial", "irrep:1", "irrep:4", "regular", "irrep:2"]
D4_NORM = ["irrep:1,1", "regular", "trivial", "irrep:1,0", "irrep:1,1", "quotient:(0,1)"]
C8_INDUCED = ["induced:4:1", "quotient:4", "induced:2:1", "induced:4:1", "quotient:2"]
C8_GATED = ["trivial", "irrep:1", "trivial", "regular", "trivial", "irrep:2", "trivial", "trivial"]
C8_GATED_LABELS = ["gate", "gated", "gate", "gated", "gate", "gated", "gated", "gate"]
D4_GATED = ["trivial", "trivial", "trivial", "irrep:1,1", "regular", "irrep:1,1"]
C8_IGATED = ["quotient:4", "induced:4:1", "quotient:4", "induced:4:2", "induced:4:1", "quotient:4"]
C8_IGATED_LABELS = ["gate", "gated", "gate", "gated", "gated", "gate"]

# (case, module, gspace, fields, kwargs)
CASES = [
    ("norm_relu_C8", "NormNonLinearity", "C8", C8_NORM, {"function": "n_relu"}),
    ("norm_sigmoid_C8", "NormNonLinearity", "C8", C8_NORM, {"function": "n_sigmoid"}),
    ("norm_squash_C8", "NormNonLinearity", "C8", C8_NORM, {"function": "squash", "bias": False}),
    ("norm_relu_nobias_D4", "NormNonLinearity", "D4", D4_NORM, {"function": "n_relu", "bias": False}),
    ("norm_sigmoid_D4", "NormNonLinearity", "D4", D4_NORM, {"function": "n_sigmoid"}),
    ("norm_relu_SO2", "NormNonLinearity", "SO2", ["irrep:1", "irrep:0", "irrep:3", "irrep:1"], {}),
    ("norm_sigmoid_O2", "NormNonLinearity", "O2", ["irrep:1,1", "irrep:1,0", "irrep:1,2", "irrep:0,0"],
     {"function": "n_sigmoid"}),
    ("induced_norm_relu_C8", "InducedNormNonLinearity", "C8", C8_INDUCED, {"function": "n_relu"}),
    ("induced_norm_squash_C8", "InducedNormNonLinearity", "C8", C8_INDUCED, {"function": "squash"}),
    ("gated1_C8", "GatedNonLinearity1", "C8", C8_GATED, {"gates": C8_GATED_LABELS}),
    ("gated1_keep_C8", "GatedNonLinearity1", "C8", C8_GATED, {"gates": C8_GATED_LABELS, "drop_gates": False}),
    ("gated1_default_D4", "GatedNonLinearity1", "D4", D4_GATED, {}),
    ("gated1_SO2", "GatedNonLinearity1", "SO2", ["trivial", "irrep:2", "trivial", "irrep:1"],
     {"gates": ["gate", "gated", "gate", "gated"]}),
    ("gated1_O2", "GatedNonLinearity1", "O2", ["trivial", "trivial", "trivial", "irrep:1,1", "irrep:1,0", "irrep:1,3"],
     {}),
    ("gated2_C8", "GatedNonLinearity2", "C8", (["trivial"] * 4, ["regular", "irrep:1", "trivial", "irrep:1"]), {}),
    ("induced_gated1_C8", "InducedGatedNonLinearity1", "C8", C8_IGATED, {"gates": C8_IGATED_LABELS}),
    ("induced_gated1_keep_C8", "InducedGatedNonLinearity1", "C8", C8_IGATED,
     {"gates": C8_IGATED_LABELS, "drop_gates": False}),
    ("concat_relu_C8", "ConcatenatedNonLinearity", "C8", ["regular", "trivial", "irrep:4", "quotient:2"],
     {"function": "c_relu"}),
    ("concat_sigmoid_C8", "ConcatenatedNonLinearity", "C8", ["trivial", "regular"], {"function": "c_sigmoid"}),
    ("concat_tanh_D4", "ConcatenatedNonLinearity", "D4", ["regular", "irrep:1,0", "irrep:0,2", "quotient:(0,1)"],
     {"function": "c_tanh"}),
    ("vectorfield_C8", "VectorFieldNonLinearity", "C8", ["regular"] * 3, {}),
]


def main():
    torch.manual_seed(0)
    records, arrays = [], {}
    for case, module_name, gs_name, tokens, kwargs in CASES:
        gs = GSPACES[gs_name]()
        if module_name == "GatedNonLinearity2":
            in_type = (ftype(gs, tokens[0]), ftype(gs, tokens[1]))
            module = nn.GatedNonLinearity2(in_type, **kwargs)
            gates = torch.randn(2, in_type[0].size, 3, 3)
            x = torch.randn(2, in_type[1].size, 3, 3)
            arrays[f"{case}__gates"] = gates.numpy()
            inputs = (nn.GeometricTensor(gates, in_type[0]), nn.GeometricTensor(x, in_type[1]))
        else:
            in_type = ftype(gs, tokens)
            module = getattr(nn, module_name)(in_type, **kwargs)
            x = torch.randn(2, in_type.size, 3, 3)
            if module_name.endswith("NormNonLinearity"):
                x[0, :, 1, 1] = 0.0   # every field zero at one pixel: the zero-norm branch
                x[1, :in_type.representations[0].size, 0, 2] *= 1e-3
            inputs = (nn.GeometricTensor(x, in_type),)
        with torch.no_grad():
            for name, p in module.named_parameters():
                if p.requires_grad:
                    p.copy_(0.5 * torch.randn(p.shape))
                    arrays[f"{case}__{name}"] = p.numpy().copy()
            y = module(*inputs).tensor
        arrays[f"{case}__input"] = x.numpy()
        arrays[f"{case}__output"] = y.numpy()
        G = gs.fibergroup
        record = {"case": case, "module": module_name, "gspace": gs_name, "fields": tokens,
                  "kwargs": kwargs, "out_fields": [r.name for r in module.out_type.representations],
                  "out_irreps": [r.irreps for r in module.out_type.representations],
                  "state_dict": {k: list(v.shape) for k, v in module.state_dict().items()},
                  "elements": None if G.elements is None else [list(e) if isinstance(e, tuple) else e
                                                               for e in G.elements]}
        if module_name == "ConcatenatedNonLinearity":
            for r in module.out_type._unique_representations:
                arrays[f"{case}__rep__{r.name}"] = np.stack([r(g) for g in G.elements])
        records.append(record)
    (HERE / "nonlinearities.json").write_text(json.dumps(records, indent=1))
    np.savez_compressed(HERE / "nonlinearities.npz", **arrays)


if __name__ == "__main__":
    main()
