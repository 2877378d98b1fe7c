"""R2Conv's weight descriptions and basis-filter dicts equal e2cnn's (tests/fixtures/e2cnn/basis_info.json).

Every key, every value (floats to 1e-9) and the type of every number (int or float), for each weight of
each layer, for the dicts a ``basis_filter`` receives and keeps, and for ``get_element_info`` by index
and by name.
"""
import json

import pytest
import torch

from basis_filters import FILTERS
from e2cnn_cases import fixture_gspaces
from e2cnn_tokens import representation
from e2layers import gspaces, nn
from paths import E2CNN_FIXTURES

DATA = E2CNN_FIXTURES
CASES = json.loads((DATA / "basis_info.json").read_text())
GSPACES = fixture_gspaces(gspaces)


def _assert_same_dict(ours: dict, ref: dict, where: str) -> None:
    assert list(ours) == list(ref), f"{where}: keys {list(ours)} != {list(ref)}"
    for key, expected in ref.items():
        value = ours[key]
        if isinstance(expected, list):       # JSON has no tuples: e2cnn's ``shape``
            assert isinstance(value, tuple) and list(value) == expected, (where, key, value, expected)
        elif isinstance(expected, float):
            assert type(value) is float and value == pytest.approx(expected, abs=1e-9), (where, key, value, expected)
        else:
            assert type(value) is type(expected) and value == expected, (where, key, value, expected)


def _conv(case, basis_filter=None):
    gs = GSPACES[case["gspace"]]()
    return nn.R2Conv(nn.FieldType(gs, [representation(gs, t) for t in case["in"]]),
                     nn.FieldType(gs, [representation(gs, t) for t in case["out"]]), case["kernel_size"],
                     basis_filter=basis_filter, **case["kwargs"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_basis_info_equals_e2cnn(name, private_cache):
    case = CASES[name]
    seen, kept = [], []

    def recording(d, f=FILTERS.get(case["filter"])):
        keep = bool(f(d))
        for store, wanted in ((seen, True), (kept, keep)):
            if wanted and d not in store:
                store.append(dict(d))
        return keep

    conv = _conv(case, recording if case["filter"] else None)
    be = conv.basisexpansion
    assert be.dimension() == case["dimension"] and list(conv.weights.shape) == case["weights_shape"]
    info = list(be.get_basis_info())
    assert len(info) == len(case["basis_info"])
    for k, (ours, ref) in enumerate(zip(info, case["basis_info"])):
        _assert_same_dict(ours, ref, f"{name} weight {k}")
    assert be.get_basis_names() == [a["id"] for a in case["basis_info"]]
    for idx, ref in case["element_info"].items():
        _assert_same_dict(be.get_element_info(int(idx)), ref, f"{name} element {idx}")
        _assert_same_dict(be.get_element_info(ref["id"]), ref, f"{name} element {ref['id']}")
    if case["filter"]:    # the pairs of representations are visited in another order: compare as sets
        for what, ours_dicts, ref_dicts in (("input", seen, case["filter_seen"]), ("kept", kept, case["filter_kept"])):
            assert len(ours_dicts) == len(ref_dicts)
            for ours, ref in zip(sorted(ours_dicts, key=_order), sorted(ref_dicts, key=_order)):
                _assert_same_dict(ours, ref, f"{name} filter {what}")


def _order(d: dict) -> tuple:
    return tuple(sorted((k, round(v, 6) if isinstance(v, float) else tuple(v) if isinstance(v, list) else v)
                        for k, v in d.items()))


def test_hnet_filter_on_so2_is_not_empty(private_cache):
    gs = gspaces.Rot2dOnR2(-1, maximum_frequency=4)
    t = nn.FieldType(gs, [gs.irrep(1), gs.irrep(2)])
    conv = nn.R2Conv(t, t, 5, basis_filter=lambda d: d["s"] == 1 if "s" in d else True)
    assert all(a.get("s", 1) == 1 for a in conv.basisexpansion.get_basis_info())


def test_element_info_rejects_bad_names(private_cache):
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    be = nn.R2Conv(t, t, 3).basisexpansion
    with pytest.raises(KeyError, match="no basis element"):
        be.get_element_info("nope")
    with pytest.raises(ValueError, match="weight index"):
        be.get_element_info(be.dimension())
    with pytest.raises(TypeError, match="name must be"):
        be.get_element_info(1.5)


def test_eval_filter_and_expanded_bias_are_attributes_outside_the_state_dict(private_cache):
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr])
    conv = nn.R2Conv(t, t, 3)
    assert not hasattr(conv, "filter") and not hasattr(conv, "expanded_bias")     # as e2cnn after train()
    conv.eval()
    filt, bias = conv.expand_parameters()
    torch.testing.assert_close(conv.filter, filt)
    torch.testing.assert_close(conv.expanded_bias, bias)
    assert sorted(conv.state_dict()) == ["bias", "weights"]
    with torch.no_grad():
        conv.weights.mul_(2)           # e2cnn would keep the stale filter; ours follows the parameters
    torch.testing.assert_close(conv.filter, 2 * filt)
    assert conv.filter is conv.filter                                              # one cached tensor
    conv.train()
    assert not hasattr(conv, "filter")
    no_bias = nn.R2Conv(t, t, 3, bias=False).eval()
    assert no_bias.expanded_bias is None
    up = nn.R2ConvTransposed(t, nn.FieldType(gs, [gs.regular_repr]), 3).eval()
    assert up.filter.shape == (t.size, 4, 3, 3)                                    # e2cnn's transposed layout
