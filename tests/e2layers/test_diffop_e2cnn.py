"""nn.R2Diffop against e2cnn 0.2.3 (tests/fixtures/e2cnn/diffops.json/.npz, generate_diffops.py).

For every recorded layer: the same number of weights, the same attribute dicts and names, the same filter and
expanded bias for the same weights (float32 rounding), the same output for e2cnn's weights, and e2cnn's
checkpoint keys load.  The one difference on purpose: finite differences for groups with reflections, where
e2cnn's stencils are mirror-symmetric about the wrong axis (basisgen.pdo_sampling.fd_turns_back); there the
weights and names still agree, the filters do not, and ours are equivariant (test_r2diffop.py).
"""
import importlib.util
import json
import warnings

import numpy as np
import pytest
import torch

from basis_filters import FILTERS
from e2cnn_tokens import representation
from e2layers import gspaces, nn
from e2layers.group import directsum
from paths import E2CNN_FIXTURES as FIXTURES
from rounding import assert_close_up_to_rounding

pytestmark = pytest.mark.usefixtures("module_cache")

DATA = json.loads((FIXTURES / "diffops.json").read_text())
ARRAYS = np.load(FIXTURES / "diffops.npz")
LAYERS = DATA["layers"]


def _cases(names, table):
    """``names`` as pytest parameters; RBF-FD cases are slow (rbf compiles every RBF derivative on its first
    use in a process, about a second each): the quick subset checks the other discretisations."""
    marks = [pytest.mark.slow, pytest.mark.skipif(importlib.util.find_spec("rbf") is None,
                                                  reason="RBF-FD needs treverhines-rbf (pip install -e '.[rbf]')")]
    return [pytest.param(n, marks=marks) if table[n]["kwargs"].get("rbffd") else n for n in names]


def _gspace(name: str):
    spec = DATA["gspaces"][name]
    return getattr(gspaces, spec["constructor"])(*spec["args"], **spec["kwargs"])


def _field(gs, token: str):
    if token.startswith("custom:"):
        spec = DATA["custom_representations"][token.split(":", 1)[1]]
        return directsum([representation(gs, t) for t in spec["irreps"]],
                         change_of_basis=np.array(spec["change_of_basis"]), name=token.split(":", 1)[1])
    return representation(gs, token)


def _layer(case: dict):
    gs = _gspace(case["gspace"])
    kwargs = dict(case["kwargs"])
    if "basis_filter" in kwargs:
        kwargs["basis_filter"] = FILTERS[kwargs["basis_filter"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nn.R2Diffop(nn.FieldType(gs, [_field(gs, t) for t in case["in"]]),
                           nn.FieldType(gs, [_field(gs, t) for t in case["out"]]), **kwargs)


def _reflection_fd(case: dict) -> bool:
    method_kwargs = case["kwargs"]
    fd = "smoothing" not in method_kwargs and not method_kwargs.get("rbffd", False)
    return fd and _gspace(case["gspace"]).fibergroup.basisgen.has_reflection


@pytest.mark.parametrize("name", _cases(sorted(LAYERS), LAYERS))
def test_same_weights_names_and_sizes(name):
    case = LAYERS[name]
    layer = _layer(case)
    assert layer.kernel_size == case["kernel_size"] and layer.maximum_order == case["maximum_order"]
    assert layer.maximum_power == case["max_power"]
    assert layer.weights.numel() == case["weights"]
    assert (layer.bias is not None and layer.bias.numel()) == (case["bias"] or False)
    info = list(layer.basisexpansion.get_basis_info())
    assert [a["id"] for a in info] == case["basis_names"]
    for ours, theirs in zip(info, case["basis_info"]):
        assert {k: (list(v) if isinstance(v, tuple) else v) for k, v in ours.items() if k in theirs} == theirs


@pytest.mark.parametrize("name", _cases(sorted(LAYERS), LAYERS))
def test_same_filters_for_the_same_weights(name):
    case = LAYERS[name]
    if _reflection_fd(case):
        pytest.skip("fd with reflections: e2cnn's stencils are not equivariant; ours are turned back on purpose")
    layer = _layer(case)
    with torch.no_grad():
        layer.weights.copy_(torch.as_tensor(ARRAYS[f"{name}__weights"]))
        if layer.bias is not None:
            layer.bias.copy_(torch.as_tensor(ARRAYS[f"{name}__bias"]))
    filt, bias = layer.expand_parameters()
    reference = ARRAYS[f"{name}__filter"]
    rbffd = case["kwargs"].get("rbffd", False)
    if rbffd:   # RBF-FD weights come from a linear solve: agree to the solver's accuracy
        np.testing.assert_allclose(filt.detach().numpy(), reference, rtol=0, atol=1e-4 * np.abs(reference).max())
    else:
        assert_close_up_to_rounding(filt.detach(), torch.as_tensor(reference))
    if layer.bias is not None:
        assert_close_up_to_rounding(bias.detach(), torch.as_tensor(ARRAYS[f"{name}__expanded_bias"]))


FORWARD = sorted(n for n, c in LAYERS.items() if c["forward"] and not _reflection_fd(c))


@pytest.mark.parametrize("name", _cases(FORWARD, LAYERS))
def test_e2cnn_weights_reproduce_e2cnns_outputs(name):
    case = LAYERS[name]
    layer = _layer(case).eval()
    state = {"weights": torch.as_tensor(ARRAYS[f"{name}__weights"])}
    if layer.bias is not None:
        state["bias"] = torch.as_tensor(ARRAYS[f"{name}__bias"])
    layer.load_state_dict(state)
    x = nn.GeometricTensor(torch.as_tensor(ARRAYS[f"{name}__input"]), layer.in_type)
    out = layer(x).tensor
    reference = torch.as_tensor(ARRAYS[f"{name}__output"])
    tolerance = 1e-4 if case["kwargs"].get("rbffd", False) else 2e-5
    torch.testing.assert_close(out, reference, rtol=0, atol=tolerance * reference.abs().max().item())


def test_e2cnn_checkpoint_keys_load():
    """An e2cnn R2Diffop state_dict (with its sampled bases and cached filters) loads through the checkpoint
    loader: parameters taken, e2cnn's derived tensors dropped."""
    from e2layers.checkpoint import load_e2cnn_state_dict
    name = FORWARD[0]
    case = LAYERS[name]
    layer = _layer(case)
    state = {k: torch.zeros(1) for k in case["state_dict_keys_eval"]}
    state["weights"] = torch.as_tensor(ARRAYS[f"{name}__weights"])
    if layer.bias is not None:
        state["bias"] = torch.as_tensor(ARRAYS[f"{name}__bias"])
    load_e2cnn_state_dict(layer, state)
    assert torch.equal(layer.weights.detach(), state["weights"])


@pytest.mark.parametrize("name", _cases(sorted(DATA["errors"]), DATA["errors"]))
def test_what_e2cnn_refuses_we_refuse(name):
    case = DATA["errors"][name]
    expected = {"ValueError": ValueError, "AssertionError": AssertionError, "KeyError": KeyError,
                "Exception": Exception}[case["exception"]]
    with pytest.raises(expected):
        _layer(case)
