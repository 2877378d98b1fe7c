"""Networks written in e2cnn's idioms build *the same network* with e2layers, and export.

The models (``tests/helpers/e2cnn_style_models.py``) use ``rotation_order``, ``DihedralGroup``/``CyclicGroup``
checks, ``representations['regular']``, irreps selected by frequency on the flip group, an H-Net
``basis_filter`` and an ``except AssertionError`` fall-back.  e2cnn built the same source
(``tests/fixtures/e2cnn/generate_idioms.py``): our parameter counts and state-dict keys equal its, its
trained checkpoints load, and the outputs agree; ``nn.export`` turns each into plain PyTorch.
"""
import json
import types

import numpy as np
import pytest
import torch

from e2layers import group, gspaces, nn
from e2layers.checkpoint import convert_e2cnn_state_dict, load_e2cnn_state_dict
from e2cnn_style_models import build
from paths import E2CNN_FIXTURES
from rounding import assert_close_up_to_rounding

pytestmark = pytest.mark.usefixtures("private_cache")

DATA = E2CNN_FIXTURES
META = json.loads((DATA / "idioms.json").read_text())
ARRAYS = np.load(DATA / "idioms.npz")


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return build(types.SimpleNamespace(gspaces=gspaces, nn=nn, group=group))


def _e2cnn_state(name):
    prefix = f"{name}__state__"
    return {k[len(prefix):]: torch.from_numpy(ARRAYS[k]) for k in ARRAYS.files if k.startswith(prefix)}


@pytest.mark.parametrize("name", sorted(META))
def test_same_parameters_and_state_keys(models, name):
    model, _ = models[name]
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == META[name]["parameters"]
    assert list(model.state_dict()) == list(convert_e2cnn_state_dict(dict.fromkeys(META[name]["state_keys"])))


@pytest.mark.parametrize("name", sorted(META))
def test_e2cnn_checkpoint_gives_e2cnns_output_and_exports(models, name):
    model, _ = models[name]
    load_e2cnn_state_dict(model, _e2cnn_state(name))
    model.eval()
    x = torch.from_numpy(ARRAYS[f"{name}__input"])
    with torch.no_grad():
        y = model(x)
    expected = torch.from_numpy(ARRAYS[f"{name}__output"])
    torch.testing.assert_close(y, expected, rtol=1e-4, atol=1e-5 * float(expected.abs().max()))
    exported = nn.export(model)
    assert not any(isinstance(m, nn.EquivariantModule) for m in exported.modules())
    with torch.no_grad():
        assert_close_up_to_rounding(exported(x), y)


def test_the_idioms_hold():
    """What the models rely on, stated directly."""
    flip = gspaces.Flip2dOnR2()
    assert isinstance(flip.fibergroup, group.CyclicGroup) and flip.fibergroup.order() == 2
    assert [irr.attributes["frequency"] for irr in flip.fibergroup.irreps.values()] == [0, 1]
    assert gspaces.FlipRot2dOnR2(6).fibergroup.rotation_order == 6
    assert "regular" in gspaces.Rot2dOnR2(5).representations       # before regular_repr was touched
    so2 = gspaces.Rot2dOnR2(-1, maximum_frequency=2)
    t = nn.FieldType(so2, [so2.irrep(1)])
    with pytest.raises(AssertionError):
        nn.ReLU(t)
    with pytest.raises(ValueError):
        nn.ReLU(t)
