"""Generate e2cnn 0.2.3 reference runs of its four batch normalisations.

Run only in an environment with e2cnn 0.2.3 and numpy<2 (see generate.py for the recipe); the one patch
(``_ContiguousEinsum``) only changes the memory layout of GNormBatchNorm's einsum results, not a value::

    PYTHONHASHSEED=0 /work/e2cnn-venv/bin/python tests/data/e2cnn/generate_batchnorm.py

(GNormBatchNorm creates its parameters in the order of a set of representation names, so the random
values each receives depend on the hash seed: fix it to reproduce the file.)

For each case of ``batchnorm.json`` (module, gspace, fields, keyword arguments): random parameters are set,
the module takes two training steps (inputs ``x0``, ``x1``) and one eval step (``x2``).  ``batchnorm.npz``
holds, under ``<case>__``, the inputs, the outputs ``y0``..``y2``, and the full ``state_dict`` before
(``init__<key>``) and after (``final__<key>``) the steps, e2cnn's derived buffers included.
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from e2cnn import gspaces, nn
from e2cnn.nn.modules.batchnormalization import gnorm

warnings.filterwarnings("ignore")
HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent.parent))      # tests/, for the fixtures' token reader
from e2cnn_tokens import representation  # noqa: E402


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


def main():
    arrays = {}
    gen = torch.Generator().manual_seed(0)
    for case, (module, gspace, fields, kwargs) in CASES.items():
        gs = GSPACES[gspace]()
        t = nn.FieldType(gs, [representation(gs, s) for s in fields])
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
