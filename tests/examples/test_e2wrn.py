"""examples/e2wrn.py: the E(2) Wide ResNet builds with e2cnn's parameter counts, trains, is invariant where the
paper says, and reads CIFAR-10 batches without unpickling anything but numpy arrays."""
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch


from examples import e2wrn  # noqa: E402
from rounding import assert_close_up_to_rounding  # noqa: E402

pytestmark = pytest.mark.usefixtures("private_cache")

# parameter counts of the same models built by e2cnn 0.2.3 with examples/e2wrn.py(backend="e2cnn")
E2CNN_PARAMETERS = [
    ("wrn10_6_d8", {}, 6_144_750),                      # the D8 model the benchmarks time (e2cnn: about 30 s)
    ("wrn10_4_d4", {}, 1_062_307),                      # --rot90
    ("wrn10_4_d4d2d1", {}, 1_217_929),                  # --flip
    ("wrn10_6_d8", {"widen": 1}, 178_014),
    ("wrn10_6_d8", {"group": "C8", "restrict": 1, "widen": 2}, 390_027),
    ("wrn10_6_d8", {"group": "C4", "widen": 1}, 70_322),
    ("wrn10_6_d8", {"group": "D8", "restrict": 2, "widen": 2, "depth": 16}, 676_262),
]


@pytest.mark.parametrize("name,overrides,expected", E2CNN_PARAMETERS)
def test_parameter_counts_equal_e2cnns(name, overrides, expected):
    assert e2wrn.parameter_count(e2wrn.build_model(name, **overrides)) == expected


def _relative_change(model, x, transform):
    model.eval()
    with torch.no_grad():
        y = model(x)
        return (model(transform(x)) - y).abs().max().item() / y.abs().max().item()


def _rot90(x):
    return x.rot90(1, (2, 3))


def _flip(x):
    return x.flip(3)


@pytest.mark.parametrize("group", ["C4", "D4"])
def test_logits_are_invariant_under_quarter_turns_without_restriction(group):
    model = e2wrn.wrn(10, 1, group, restrict=0)
    x = torch.randn(2, 3, 33, 33)    # odd size: the strided layers' grids stay centred
    for k in (1, 2, 3):
        assert _relative_change(model, x, lambda t: t.rot90(k, (2, 3))) < 1e-5
    assert (_relative_change(model, x, _flip) < 1e-5) == (group == "D4")


def test_restriction_to_reflections_keeps_only_the_flip_invariance():
    model = e2wrn.wrn(10, 1, "D4", restrict=3)       # D4, then D2, then D1 in the last block (--flip)
    x = torch.randn(2, 3, 33, 33)
    assert _relative_change(model, x, _flip) < 1e-5
    assert _relative_change(model, x, _rot90) > 1e-2


def test_one_training_step_on_synthetic_data_changes_the_weights():
    torch.manual_seed(0)
    model = e2wrn.wrn(10, 1, "C4")
    before = [p.detach().clone() for p in model.parameters()]
    images, labels = e2wrn.synthetic_cifar(8)
    result = e2wrn.train(model, images, labels, epochs=1, batch_size=8, steps=1, augment=True,
                         test=e2wrn.synthetic_cifar(4, seed=1))
    assert result["steps"] == 1 and np.isfinite(result["loss"]) and 0 <= result["test_accuracy"] <= 1
    changed = [not torch.equal(a, b) for a, b in zip(before, model.parameters())]
    assert sum(changed) > len(changed) // 2


def test_command_line_synthetic_smoke_run(capsys):
    e2wrn.main(["--synthetic", "--steps", "1", "--batch-size", "4", "--group", "C4", "--widen", "1", "--epochs", "1"])
    out = capsys.readouterr().out
    assert "70,322 parameters" in out and "steps 1" in out


def test_model_pickles_and_exports():
    model = e2wrn.wrn(10, 1, "C4").eval()
    x = torch.randn(1, 3, 17, 17)
    with torch.no_grad():
        y = model(x)
        assert torch.equal(pickle.loads(pickle.dumps(model))(x), y)
        from e2layers import nn
        # measured over 20 seeds, torch threads 1 and 2: the exported model gives the same float32 numbers
        # (0 ulps); 16 ulps of max |y| leave room for another summation order, not for a real difference
        assert_close_up_to_rounding(nn.export(model)(x), y, ulps=16)


def test_bad_configurations_are_rejected():
    with pytest.raises(ValueError, match="depth"):
        e2wrn.wrn(12, 1, "C4")
    with pytest.raises(ValueError, match="group"):
        e2wrn.wrn(10, 1, "E4")
    with pytest.raises(ValueError, match="N must be even"):
        e2wrn.wrn(10, 1, "C5", restrict=1)
    with pytest.raises(ValueError, match="name must be one of"):
        e2wrn.build_model("wrn99")


# ---- CIFAR-10 ----------------------------------------------------------------------------------------------
def _write_batches(directory: Path, n: int = 5) -> dict:
    rng = np.random.default_rng(0)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"batch_label": b"training batch", b"labels": rng.integers(0, 10, n).tolist(),
                 b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 b"filenames": [f"img{i}.png".encode() for i in range(n)]}
        with open(directory / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)      # as CIFAR-10's python version (cPickle, protocol 2)
        written[name] = batch
    return written


def test_cifar_batches_load_through_the_restricted_unpickler(tmp_path):
    raw = _write_batches(tmp_path)["data_batch_1"]
    images, labels = e2wrn.load_cifar10(tmp_path, train=True)
    assert images.shape == (25, 3, 32, 32) and images.dtype == torch.float32 and labels.shape == (25,)
    expected = (raw[b"data"].reshape(-1, 3, 32, 32)[:, 0] / 255 - 0.4914) / 0.2470
    torch.testing.assert_close(images[:5, 0], torch.as_tensor(expected, dtype=torch.float32))
    assert labels[:5].tolist() == raw[b"labels"]
    test_images, _ = e2wrn.load_cifar10(tmp_path, train=False)
    assert test_images.shape == (5, 3, 32, 32)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("payload", ["os.system", "class"])
def test_a_crafted_batch_cannot_run_code(tmp_path, payload):
    _write_batches(tmp_path)
    marker = tmp_path / "pwned"
    evil = _Exploit(marker) if payload == "os.system" else {b"data": _Exploit(marker), b"labels": [0]}
    with open(tmp_path / "data_batch_3", "wb") as f:
        pickle.dump(evil, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        e2wrn.load_cifar10(tmp_path)
    assert not marker.exists()


def test_malformed_or_missing_batches_are_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py"):
        e2wrn.load_cifar10(tmp_path)
    _write_batches(tmp_path)
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 5), dtype=np.float64), b"labels": [0, 1]}, f, protocol=2)
    with pytest.raises(ValueError, match="not a CIFAR-10 batch"):
        e2wrn.load_cifar10(tmp_path, train=False)
