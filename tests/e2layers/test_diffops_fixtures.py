"""The steerable-PDO fixtures (tests/fixtures/e2cnn/diffops.json/.npz) are complete and self-consistent.

Checks the files only (the format documented in generate_diffops.py): every case has its arrays with the
shapes its record implies, and the counts agree with each other.  Comparing e2layers with the data is the
job of the R2Diffop tests.
"""
import json
import math

import numpy as np
import pytest

from e2cnn_tokens import notation_of
from paths import E2CNN_FIXTURES

META = json.loads((E2CNN_FIXTURES / "diffops.json").read_text())
ARRAYS = np.load(E2CNN_FIXTURES / "diffops.npz")
LAYERS = META["layers"]
BASES = META["bases"]
DISCRETISATIONS = ("fd", "gauss", "rbffd")


def test_sections_and_counts():
    assert {"gspaces", "custom_representations", "layers", "errors", "bases", "laplace", "tensor",
            "parameters", "pretty", "quirks"} <= set(META)
    assert len(LAYERS) >= 48
    assert sum(c["forward"] for c in LAYERS.values()) >= 8
    assert {c["gspace"] for c in LAYERS.values()} == set(META["gspaces"])
    methods = {("rbffd" if c["kwargs"].get("rbffd") else "gauss" if "smoothing" in c["kwargs"] else "fd")
               for c in LAYERS.values()}
    assert methods == set(DISCRETISATIONS)


def test_every_array_belongs_to_a_case():
    prefixes = set(LAYERS) | set(BASES) | {"grid", "laplace"}
    for key in ARRAYS.files:
        assert key.split("__")[0] in prefixes, key


def test_custom_representations():
    for name, custom in META["custom_representations"].items():
        q = np.asarray(custom["change_of_basis"])
        assert custom["gspace"] in META["gspaces"]
        assert np.allclose(q @ q.T, np.eye(len(q)), atol=1e-12), name


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_case(name):
    case = LAYERS[name]
    k = case["kernel_size"]
    weights = ARRAYS[f"{name}__weights"]
    assert weights.shape == (case["weights"],) and weights.dtype == np.float32
    filt = ARRAYS[f"{name}__filter"]
    assert filt.ndim == 4 and filt.shape[2:] == (k, k) and filt.dtype == np.float32
    c_out, c_in = filt.shape[:2]
    for token in case["in"] + case["out"]:
        if token.startswith("custom:"):
            assert token.partition(":")[2] in META["custom_representations"]
        else:
            notation_of(token)       # a token e2cnn_tokens can read
    assert len(case["basis_names"]) == len(case["basis_info"]) == case["weights"]
    assert [d["id"] for d in case["basis_info"]] == case["basis_names"]
    assert all(d["order"] <= case["maximum_order"] for d in case["basis_info"])
    assert case["max_order_in_basis"] == max(d["order"] for d in case["basis_info"])
    assert case["max_power_in_basis"] <= case["max_power"] <= case["maximum_order"] // 2
    assert case["maximum_frequency"] == case["maximum_order"]
    if case["kwargs"].get("kernel_size") is not None:
        assert case["kernel_size"] == case["kwargs"]["kernel_size"]
    if case["bias"] is None:
        assert f"{name}__bias" not in ARRAYS.files and f"{name}__expanded_bias" not in ARRAYS.files
        assert "bias" not in case["state_dict_keys"]
    else:
        assert ARRAYS[f"{name}__bias"].shape == (case["bias"],)
        assert ARRAYS[f"{name}__expanded_bias"].shape == (c_out,)
        assert "bias" in case["state_dict_keys"] and "bias_expansion" in case["state_dict_keys"]
    assert "weights" in case["state_dict_keys"]
    assert "filter" in case["state_dict_keys_eval"] and "filter" not in case["state_dict_keys"]
    if "basis_filter" in case["kwargs"]:
        assert case["filter_seen"], "a basis_filter case records the dicts its filter saw"
    if case["forward"]:
        x, y = ARRAYS[f"{name}__input"], ARRAYS[f"{name}__output"]
        assert x.shape[:2] == (2, c_in)
        d, p = case["dilation"], case["padding"]
        side = x.shape[2] + 2 * p - d * (k - 1)
        assert y.shape == (2, c_out, side, side)
        assert np.isfinite(y).all()
    else:
        assert f"{name}__input" not in ARRAYS.files


@pytest.mark.parametrize("name", sorted(BASES))
def test_basis_case(name):
    case = BASES[name]
    if case["dim"] == 0:
        assert case["exception"] == "EmptyBasisException"
        return
    dim = case["dim"]
    assert len(case["attributes"]) == len(case["coefficients"]) == dim
    assert [a["idx"] for a in case["attributes"]] == list(range(dim))
    shape = None
    for attr, coeff in zip(case["attributes"], case["coefficients"]):
        c = np.asarray(coeff)
        assert c.ndim == 3 and c.shape[2] == attr["order"] + 1, (attr, c.shape)
        assert attr["order"] == abs(attr["frequency"]) + 2 * attr["power"]
        shape = shape or c.shape[:2]
        assert c.shape[:2] == shape
    assert case["maximum_order"] == max(a["order"] for a in case["attributes"])
    assert set(DISCRETISATIONS) <= set(case["samples"])
    for sname, sample in case["samples"].items():
        grid = ARRAYS[f"grid__{sample['grid']}"]
        array = ARRAYS[f"{name}__sample_{sname}"]
        assert array.shape == (*shape, dim, grid.shape[1]) and array.dtype == np.float64
        assert np.isfinite(array).all()


def test_grids():
    for key in (k for k in ARRAYS.files if k.startswith("grid__")):
        grid = ARRAYS[key]
        k = math.isqrt(grid.shape[1])
        assert grid.shape == (2, k * k)
        xs, ys = grid.reshape(2, k, k)
        assert (np.diff(xs, axis=1) > 0).all() and (np.diff(ys, axis=0) < 0).all()   # x right, y up
        assert np.allclose(xs.mean(), 0) and np.allclose(ys.mean(), 0)


def test_laplace_tensor_pretty():
    lap = META["laplace"]
    assert lap["dim"] == lap["max_power"] + 1 == len(lap["attributes"]) == len(lap["coefficients"])
    assert ARRAYS["laplace__sample_fd"].shape == (1, 1, lap["dim"], 25)
    tensor = META["tensor"]
    basis = BASES[tensor["case"]]
    assert len(tensor["basis1_attributes"]) * len(tensor["basis2_attributes"]) == basis["dim"]
    for case, text in META["pretty"].items():
        assert case in BASES and text.count("-" * 34) == BASES[case]["dim"]


def test_parameters_and_errors():
    for row in META["parameters"]:
        result = row["result"]
        assert ("exception" in result) != ("kernel_size" in result), row
        if "kernel_size" in result:
            for key in ("kernel_size", "maximum_order"):
                if key in row["kwargs"]:
                    assert result[key] == row["kwargs"][key], row
            assert result["max_power"] <= result["maximum_order"] // 2
    assert META["errors"] and all(e["exception"] for e in META["errors"].values())
    assert not set(META["errors"]) & set(LAYERS)
