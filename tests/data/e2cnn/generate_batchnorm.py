"""Generate e2cnn 0.2.3 reference runs of its four batch normalisations.

Run only in an environment with e2cnn 0.2.3 and numpy<2 (see generate.py for the recipe); the one patch
(``_ContiguousEinsum``) only changes the memory layout of GNormBatchNorm's einsum results, not a value::

    /work/e2cnn-venv/bin/python tests/data/e2cnn/generate_batchnorm.py

For each case of ``batchnorm.json`` (module, gspace, fields, keyword arguments): random parameters are set,
the module takes two training steps (inputs ``x0``, ``x1``) and one eval step (``x2``).  ``batchnorm.npz``
holds, under ``<case>__``, the inputs, the outputs ``y0``..``y2``, and the full ``state_dict`` before
(``init__<key>``) and after (``final__<key>``) the steps, e2cnn's derived buffers included.
"""
import ast
import json
import warnings
from pathlib import Path

import numpy as np
import torch
from e2cnn import gspaces, nn
from e2cnn.nn.modules.batchnormalization import gnorm

warnings.filterwarnings("ignore")
HERE = Path(__file__).parent


class _ContiguousEinsum:
    """e2cnn 0.2.3's GNormBatchNorm calls ``.view`` on einsum results, which current torch may return
    non-contiguous (fields with a change of basis); hand its module a torch whose einsum is contiguous."""

    def __getattr__(self, name):
        return getattr(torch, name)

    @staticmethod
    def einsum(*args, **kwargs):
        return torch.einsum(*args, **kwargs).contiguous()


gnorm.torch = _ContiguousEinsum()

GSPACES = {"C8": lambda: gspaces.Rot2dOnR2(8), "D4": lambda: gspaces.FlipRot2dOnR2(4)}
CASES = {
    "inner_D4": ("InnerBatchNorm", "D4", ["regular", "trivial", "quotient:(0,1)", "regular", "trivial"], {}),
    "inner_C8_cumulative": ("InnerBatchNorm", "C8", ["trivial", "regular", "trivial"], {"momentum": None}),
    "norm_C8": ("NormBatchNorm", "C8", ["irrep:1", "irrep:2", "irrep:1", "irrep:4", "irrep:3"], {}),
    "induced_C8": ("InducedNormBatchNorm", "C8", ["induced:4:1", "induced:2:1", "induced:4:1"], {"momentum": 0.3}),
    "gnorm_D4": ("GNormBatchNorm", "D4", ["regular", "trivial", "irrep:1,1", "quotient:(0,1)", "regular",
                                          "irrep:1,0"], {}),
    "gnorm_C8": ("GNormBatchNorm", "C8", ["trivial", "induced:4:1", "regular", "irrep:4"], {"momentum": None}),
}


def rep(gs, spec):
    """A representation from its spec: regular, trivial, irrep:<id>, quotient:<subgroup id>,
    induced:<subgroup id>:<subgroup irrep id>."""
    if spec in ("regular", "trivial"):
        return gs.regular_repr if spec == "regular" else gs.trivial_repr
    kind, *args = spec.split(":")
    if kind == "irrep":
        return gs.irrep(*[int(a) for a in args[0].split(",")])
    if kind == "quotient":
        return gs.quotient_repr(ast.literal_eval(args[0]))
    G = gs.fibergroup
    sid = ast.literal_eval(args[0])
    return G.induced_representation(sid, G.subgroup(sid)[0].irrep(*[int(a) for a in args[1].split(",")]))


def main():
    arrays = {}
    gen = torch.Generator().manual_seed(0)
    for case, (module, gspace, fields, kwargs) in CASES.items():
        gs = GSPACES[gspace]()
        t = nn.FieldType(gs, [rep(gs, s) for s in fields])
        bn = getattr(nn, module)(t, **kwargs)
        with torch.no_grad():
            for name, p in bn.named_parameters():
                p.copy_(0.5 + torch.rand(p.shape, generator=gen) if "weight" in name
                        else torch.randn(p.shape, generator=gen))
        arrays.update({f"{case}__init__{k}": v.numpy().copy() for k, v in bn.state_dict().items()})
        for i in range(3):
            bn.train(i < 2)
            x = 2 * torch.randn(3, t.size, 4, 4, generator=gen) + 0.5
            with torch.no_grad():
                arrays[f"{case}__x{i}"] = x.numpy()
                arrays[f"{case}__y{i}"] = bn(nn.GeometricTensor(x, t)).tensor.numpy()
        arrays.update({f"{case}__final__{k}": v.numpy().copy() for k, v in bn.state_dict().items()})
    np.savez_compressed(HERE / "batchnorm.npz", **arrays)
    meta = {case: {"module": m, "gspace": g, "fields": f, "kwargs": k} for case, (m, g, f, k) in CASES.items()}
    (HERE / "batchnorm.json").write_text(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
