"""A real e2cnn 0.2.3 checkpoint loads into the matching e2layers model and gives the same output;
a layer built in a new process from a warm cache derives nothing."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from e2layers import gspaces, nn
from e2layers.checkpoint import load_e2cnn_state_dict
from paths import E2CNN_FIXTURES, ROOT

DATA = E2CNN_FIXTURES


class TwoConvs(torch.nn.Module):
    """The model of tests/fixtures/e2cnn/generate_filters.py, written against e2layers."""

    def __init__(self):
        super().__init__()
        gs = gspaces.Rot2dOnR2(8)
        t0 = nn.FieldType(gs, 3 * [gs.trivial_repr])
        t1 = nn.FieldType(gs, 4 * [gs.regular_repr])
        t2 = nn.FieldType(gs, 2 * [gs.regular_repr] + [gs.irrep(1)])
        self.conv1 = nn.R2Conv(t0, t1, 5)
        self.conv2 = nn.R2Conv(t1, t2, 3, padding=1)

    def forward(self, x):
        return self.conv2(self.conv1(x))


pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_e2cnn_checkpoint_loads_and_reproduces_the_output(mode):
    saved = np.load(DATA / "checkpoint.npz")
    state = {k[len("state__"):]: torch.as_tensor(saved[k]) for k in saved.files if k.startswith("state__")}
    assert any("sampled_basis" in k for k in state) and any(k.endswith(".filter") for k in state)
    model = TwoConvs().train(mode == "train")
    load_e2cnn_state_dict(model, state)
    with torch.no_grad():
        out = model(nn.GeometricTensor(torch.as_tensor(saved["input"]), model.conv1.in_type)).tensor
    reference = saved["output"]
    np.testing.assert_allclose(out.numpy(), reference, rtol=1e-4, atol=1e-4 * np.abs(reference).max())


def test_loader_names_missing_and_unexpected_keys():
    saved = np.load(DATA / "checkpoint.npz")
    state = {k[len("state__"):]: torch.as_tensor(saved[k]) for k in saved.files if k.startswith("state__")}
    del state["conv2.weights"]
    state["conv3.weights"] = torch.zeros(3)
    with pytest.raises(KeyError, match=r"missing keys \['conv2.weights'\].*unexpected keys \['conv3.weights'\]"):
        load_e2cnn_state_dict(TwoConvs(), state)


BUILD = """
import json
from basisgen import cache
from e2layers import gspaces, nn
gs = gspaces.FlipRot2dOnR2(4)
t = nn.FieldType(gs, 2 * [gs.regular_repr])
nn.R2Conv(t, t, 5)
print(json.dumps(cache.default_cache().stats))
"""


@pytest.mark.slow
def test_a_new_process_with_a_warm_cache_derives_nothing(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), BASISGEN_CACHE=str(tmp_path / "shared"))
    runs = [json.loads(subprocess.run([sys.executable, "-c", BUILD], env=env, capture_output=True, text=True,
                                      check=True).stdout.strip().splitlines()[-1]) for _ in range(2)]
    assert runs[0]["computed"] >= 1 and runs[0]["written"] == runs[0]["computed"]
    assert runs[1]["computed"] == 0 and runs[1]["disk_hits"] >= 1
