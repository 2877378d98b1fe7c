"""Generate e2cnn 0.2.3 reference filters: weights -> expanded filter for multi-field R2Conv layers.

Run only in an environment with e2cnn 0.2.3 and numpy<2 (see generate.py for the recipe); the one patch
(``_TorchWithBoolMasks``) only changes the dtype of a mask, not a value::

    /work/e2cnn-venv/bin/python tests/data/e2cnn/generate_filters.py

Also writes ``checkpoint.npz``: the full eval-mode ``state_dict`` of a two-layer e2cnn model (keys as
e2cnn saves them, sampled bases and cached filters included), an input and the model's output.

Writes ``filters.npz`` (for each case: ``<case>__weights`` (D,), ``<case>__filter`` (c_out, c_in, k, k),
``<case>__bias`` and ``<case>__expanded_bias`` when the layer has a bias) and ``filters.json``
(the field types, kernel size, dilation and the weight dimension of each case).
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from e2cnn import gspaces, nn
from e2cnn.nn.modules.r2_conv import basisexpansion_singleblock

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parents[2]), str(HERE.parents[1])]   # the repository root and tests/
from benchmarks._cases import patch_e2cnn  # noqa: E402
from e2cnn_tokens import representation  # noqa: E402

warnings.filterwarnings("ignore")
patch_e2cnn()    # uint8 masks -> bool, the one patch (benchmarks/_cases.py)

GSPACES = {
    "gspaces.Rot2dOnR2(8)": lambda: gspaces.Rot2dOnR2(8),
    "gspaces.FlipRot2dOnR2(4)": lambda: gspaces.FlipRot2dOnR2(4),
    "gspaces.Rot2dOnR2(-1, maximum_frequency=3)": lambda: gspaces.Rot2dOnR2(-1, maximum_frequency=3),
    "gspaces.FlipRot2dOnR2(8)": lambda: gspaces.FlipRot2dOnR2(8),
}
CASES = {
    "C8_mixed_k5": ("gspaces.Rot2dOnR2(8)", ["regular", "trivial", "regular", "irrep:1"],
                    ["irrep:1", "regular", "trivial", "regular"], 5, 1),
    "D4_mixed_k3": ("gspaces.FlipRot2dOnR2(4)", ["regular", "irrep:1,1", "trivial", "quotient:(0,1)"],
                    ["trivial", "regular", "irrep:1,1", "irrep:0,2"], 3, 1),
    "SO2_mixed_k5": ("gspaces.Rot2dOnR2(-1, maximum_frequency=3)", ["irrep:0", "irrep:1", "irrep:2"],
                     ["irrep:1", "irrep:0", "irrep:1", "irrep:3"], 5, 1),
    "D8_regular_k5_dil2": ("gspaces.FlipRot2dOnR2(8)", ["regular", "regular"], ["regular", "trivial"], 5, 2),
}


def main():
    arrays, meta = {}, {}
    for name, (gspace, ins, outs, k, dilation) in CASES.items():
        basisexpansion_singleblock._stored_filters.clear()
        gs = GSPACES[gspace]()
        conv = nn.R2Conv(nn.FieldType(gs, [representation(gs, s) for s in ins]),
                         nn.FieldType(gs, [representation(gs, s) for s in outs]),
                         k, dilation=dilation, padding=0)
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            conv.weights.copy_(torch.randn(conv.weights.shape, generator=gen, dtype=conv.weights.dtype))
            if conv.bias is not None:
                conv.bias.copy_(torch.randn(conv.bias.shape, generator=gen, dtype=conv.bias.dtype))
        filt, bias = conv.expand_parameters()
        arrays[f"{name}__weights"] = conv.weights.detach().numpy()
        arrays[f"{name}__filter"] = filt.detach().numpy()
        if conv.bias is not None:
            arrays[f"{name}__bias"] = conv.bias.detach().numpy()
            arrays[f"{name}__expanded_bias"] = bias.detach().numpy()
        meta[name] = {"gspace": gspace, "in": ins, "out": outs, "kernel_size": k, "dilation": dilation,
                      "weights": int(conv.weights.numel())}
    np.savez_compressed(HERE / "filters.npz", **arrays)
    (HERE / "filters.json").write_text(json.dumps(meta, indent=1))


class TwoConvs(torch.nn.Module):
    """conv1: C8, 3 trivial -> 4 regular, k=5; conv2: 4 regular -> 2 regular + 1 irrep(1), k=3, padding 1."""

    def __init__(self, gspaces_module, nn_module):
        super().__init__()
        gs = gspaces_module.Rot2dOnR2(8)
        t0 = nn_module.FieldType(gs, 3 * [gs.trivial_repr])
        t1 = nn_module.FieldType(gs, 4 * [gs.regular_repr])
        t2 = nn_module.FieldType(gs, 2 * [gs.regular_repr] + [gs.irrep(1)])
        self.conv1 = nn_module.R2Conv(t0, t1, 5)
        self.conv2 = nn_module.R2Conv(t1, t2, 3, padding=1)

    def forward(self, x):
        return self.conv2(self.conv1(x))


def checkpoint():
    basisexpansion_singleblock._stored_filters.clear()
    torch.manual_seed(1)
    model = TwoConvs(gspaces, nn)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p))
    model.eval()
    x = torch.randn(2, 3, 13, 13)
    y = model(nn.GeometricTensor(x, model.conv1.in_type)).tensor
    arrays = {f"state__{k}": v.detach().numpy() for k, v in model.state_dict().items()}
    np.savez_compressed(HERE / "checkpoint.npz", input=x.numpy(), output=y.detach().numpy(), **arrays)


if __name__ == "__main__":
    main()
    checkpoint()
