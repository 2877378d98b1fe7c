"""Generate e2cnn 0.2.3 reference networks written in e2cnn's idioms (``tests/e2cnn_style_models.py``).

Run only in an environment with e2cnn 0.2.3 and numpy<2 (see generate.py for the recipe)::

    /work/e2cnn-venv/bin/python tests/data/e2cnn/generate_idioms.py

For each model of ``e2cnn_style_models.build`` (seeded weights, two training steps so that the batch-norm
statistics are not the initial ones, then eval mode) writes to ``idioms.npz``: ``<model>__state__<key>``
for every entry of e2cnn's ``state_dict``, ``<model>__input`` and ``<model>__output``; and to
``idioms.json`` the trainable parameter count (e2cnn also registers a constant, untrainable ``eps``
parameter in its norm modules) and the state-dict keys of each model.
"""
import json
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import torch
from e2cnn import group, gspaces, nn

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parents[2]), str(HERE.parents[1])]   # the repository root and tests/
from benchmarks._cases import patch_e2cnn  # noqa: E402
from e2cnn_style_models import build  # noqa: E402

warnings.filterwarnings("ignore")
patch_e2cnn()    # uint8 masks -> bool, the one patch (benchmarks/_cases.py)


def main():
    torch.manual_seed(0)
    models = build(types.SimpleNamespace(gspaces=gspaces, nn=nn, group=group))
    arrays, meta = {}, {}
    for name, (model, shape) in models.items():
        gen = torch.Generator().manual_seed(1)
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        model.train()
        for _ in range(2):
            opt.zero_grad()
            model(torch.randn(shape, generator=gen)).pow(2).mean().backward()
            opt.step()
        model.eval()
        x = torch.randn(shape, generator=gen)
        with torch.no_grad():
            y = model(x)
        state = model.state_dict()
        for key, value in state.items():
            arrays[f"{name}__state__{key}"] = value.detach().numpy()
        arrays[f"{name}__input"], arrays[f"{name}__output"] = x.numpy(), y.numpy()
        meta[name] = {"parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
                      "state_keys": list(state)}
    np.savez_compressed(HERE / "idioms.npz", **arrays)
    (HERE / "idioms.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
