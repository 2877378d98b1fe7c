"""``basisgen check``: the per-layer table, the exact sizes and the summary of a model named by
``package.module:factory``; ``--json``, ``--verify``, ``--elements``, ``--strict``, ``--plot``, and one-line
errors for bad arguments.  Expected values come from ``nn.exactness_report`` called directly."""
import json
import re
import textwrap

import pytest

from e2layers import nn
from cli_runner import run

MODELS = textwrap.dedent("""
    import torch
    from e2layers import gspaces, nn

    def strided():
        space = gspaces.FlipRot2dOnR2(4)
        t = nn.FieldType(space, [space.trivial_repr])
        f = nn.FieldType(space, 2 * [space.regular_repr])
        return nn.SequentialModule(nn.R2Conv(t, f, 3, padding=1), nn.ReLU(f),
                                   nn.R2Conv(f, f, 3, padding=1, stride=2), nn.GroupPooling(f))

    class Padded(torch.nn.Module):
        def __init__(self):
            super().__init__()
            space = gspaces.Rot2dOnR2(4)
            self.t = nn.FieldType(space, [space.trivial_repr])
            self.f = nn.FieldType(space, [space.regular_repr])
            self.conv = nn.R2Conv(self.t, self.f, 3, padding=1)
            self.pad = torch.nn.ZeroPad2d((0, 1, 0, 1))

        def forward(self, x):
            return self.pad(self.conv(nn.GeometricTensor(x, self.t)).tensor)

    def not_a_module():
        return 3
""")


@pytest.fixture
def models(tmp_path, monkeypatch, cache_dir, request):
    """A module of test models importable under a name of this test's own."""
    name = f"check_models_{request.node.name.replace('[', '_').replace(']', '_').replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(MODELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_table_sizes_and_summary(models):
    out = run("check", "--model", f"{models}:strided", "--input", "1x1x16x16").stdout
    lines = out.splitlines()
    assert lines[0].startswith(f"{models}:strided on 1x1x16x16 (1 irrep_0,0 of D4), float64")
    head = next(line for line in lines if line.startswith("layer"))
    assert head.split() == ["layer", "kind", "output", "rot90", "rot180", "rot270", "flip-ud", "anti-transpose",
                            "flip-lr", "transpose", "verdict"]
    row = next(line for line in lines if line.startswith("2 "))
    assert row.split()[:3] == ["2", "R2Conv", "8x8"] and row.split()[-1] == "breaks"
    assert "    cause: even size 16 meets stride 2 in the 3x3 convolution" in out
    assert "exact input sizes (up to 64): H, W = 2k + 1: 1, 3, 5, 7, 9, 11, ..." in out
    assert "nearest exact sizes: 15 (crop 1 after (the centre moves by half a pixel)); 17 (pad 1 after" in out
    assert lines[-1].startswith("not exact at 16x16: first breaks at 2 (R2Conv): even size 16 meets stride 2")


def test_json_matches_the_library(models):
    data = json.loads(run("check", "--model", f"{models}:strided", "--input", "1x17x17", "--json").stdout)
    import importlib
    expected = nn.exactness_report(importlib.import_module(models).strided(), (1, 1, 17, 17)).to_dict()
    assert data["input_shape"] == [1, 1, 17, 17] and data["exact"] is True and data["first_break"] is None
    assert [layer["verdict"] for layer in data["layers"]] == [layer["verdict"] for layer in expected["layers"]]
    assert data["valid_sizes"] == expected["valid_sizes"]
    assert data["summary"].startswith("exact at 17x17")


def test_verify_elements_and_strict(models):
    out = run("check", "--model", f"{models}:strided", "--input", "1x1x9x9", "--verify", "--size-bound", "20",
              "--elements", "rot90,flip-lr").stdout
    assert re.search(r"^layer +kind +output +rot90 +flip-lr +verdict$", out, re.M)
    assert "verified by running every size up to 20: the rule agrees" in out
    run("check", "--model", f"{models}:strided", "--input", "1x1x9x9", "--strict")
    result = run("check", "--model", f"{models}:strided", "--input", "1x1x10x10", "--strict", code=1)
    assert "not exact at 10x10" in result.stdout


def test_plain_module_and_padding_cause(models):
    out = run("check", "--model", f"{models}:Padded", "--input", "1x1x9x9", "--json").stdout
    data = json.loads(out)
    assert data["first_break"] == "pad"
    assert data["layers"][1]["cause"] == "asymmetric padding (0 before, 1 after) moves the centre by 0.5 pixels"


def test_plot(models, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "angles.png"
    out = run("check", "--model", f"{models}:strided", "--input", "1x1x17x17", "--plot", path,
              "--angle-step", "45").stdout
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "angles: SequentialModule (equivariant): largest error away from quarter turns" in out
    assert "angles: plain CNN, same layout:" in out


@pytest.mark.parametrize("args,fragment", [
    (["--input", "1x9"], "BxCxHxW"),
    (["--input", "1x1x9x0"], "BxCxHxW"),
    (["--input", "1x2x9x9"], "channels"),
    (["--input", "1x1x9x9", "--elements", "rot45"], "--elements"),
    (["--input", "1x1x9x9", "--size-bound", "0"], "--size-bound"),
])
def test_bad_arguments_are_one_line_errors(models, args, fragment):
    result = run("check", "--model", f"{models}:strided", *args, code=2)
    last = result.stderr.strip().splitlines()[-1]        # after the progress lines
    assert "Traceback" not in result.output and last.startswith("basisgen check: error:") and fragment in last


def test_bad_models_are_one_line_errors(models):
    for spec, code, fragment in ((f"{models}:nosuch", 2, "no attribute"), ("nosuch_module_xyz:f", 2, "cannot import"),
                                 (f"{models}:not_a_module", 1, "not a torch.nn.Module")):
        err = run("check", "--model", spec, "--input", "1x1x9x9", code=code).stderr.strip()
        assert fragment in err.splitlines()[-1], err


def test_plot_without_matplotlib_stops_before_the_sweep(models, tmp_path, monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    result = run("check", "--model", f"{models}:strided", "--input", "1x1x9x9", "--plot", tmp_path / "a.png", code=1)
    assert "needs matplotlib" in result.stderr and "building" not in result.stderr
    assert not (tmp_path / "a.png").exists()
