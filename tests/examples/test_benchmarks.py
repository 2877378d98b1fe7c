"""The benchmark suite runs end to end and writes the JSON its RESULTS.md tables come from.

Only the machinery is checked here (sections, cases, finite positive timings, the memory figures that do
not depend on the machine); the figures themselves are measured by ``python -m benchmarks``, never in a
timed test.
"""
import json
import math
import os
import subprocess
import sys

import pytest

from paths import ROOT



@pytest.mark.slow
def test_quick_suite_writes_every_requested_section(tmp_path):
    out = tmp_path / "results.json"
    env = dict(os.environ, BASISGEN_CACHE=str(tmp_path / "cache"))
    run = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--only", "train,eval,expansion,memory",
                          "--groups", "C8", "--batches", "1", "--rounds", "1", "--threads", "1", "--json", str(out)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "| cpu | C8 | 1 |" in run.stdout and "targets" in run.stdout
    data = json.loads(out.read_text())
    assert data["machine"]["threads"] == 1 and data["machine"]["command"].startswith("python -m benchmarks")
    by_section = {}
    for row in data["results"]:
        by_section.setdefault(row["section"], []).append(row)
    assert set(by_section) == {"train", "eval", "expansion", "memory"}
    for section in ("train", "eval"):
        (row,) = by_section[section]
        assert row["group"] == "C8" and row["batch"] == 1
        assert set(row["seconds"]) == {"e2layers", "conv2d"}
        assert all(math.isfinite(s) and s > 0 for s in row["seconds"].values())
        assert math.isclose(row["ratio_conv2d"], row["seconds"]["e2layers"] / row["seconds"]["conv2d"])
    (expansion,) = by_section["expansion"]
    assert expansion["seconds"]["e2layers"] > 0
    memory = {row["case"]: row for row in by_section["memory"]}
    layer = memory["D16 regular 32->32 k=7"]
    assert layer["state_keys"] == ["bias", "weights"] and layer["state_tensor_bytes"] == layer["parameter_bytes"]
    assert 0 < layer["basis_bytes"] < 115_600_000 / 10          # the target: a tenth of e2cnn's bytes
    wrn = memory["wrn10_6_d8"]
    assert wrn["parameters"] == 6_144_750 and wrn["extra_keys"] == []
    assert wrn["state_tensor_bytes"] == wrn["parameter_and_statistics_bytes"]
    assert {t["target"] for t in data["targets"]} >= {"checkpoint holds only parameters and running statistics"}


@pytest.mark.slow
def test_quick_diffop_section_writes_its_rows(tmp_path):
    out = tmp_path / "results.json"
    env = dict(os.environ, BASISGEN_CACHE=str(tmp_path / "cache"))
    run = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--only", "diffop", "--rounds", "1",
                          "--threads", "1", "--json", str(out)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "R2Diffop construction" in run.stdout and "| train | C8 | 8 |" in run.stdout
    data = json.loads(out.read_text())
    build = [row for row in data["results"] if row["section"] == "diffop_build"]
    assert {(row["group"], row["discretisation"]) for row in build} == {("C8", "fd"), ("C8", "gauss")}
    for row in build:
        assert row["weights"] == 30_720 and row["e2cnn_s"] is None
        assert all(math.isfinite(row[k]) and row[k] > 0 for k in ("cold_s", "warm_s", "again_s"))
    steps = {row["kind"]: row for row in data["results"] if row["section"] == "diffop_step"}
    assert set(steps) == {"expansion", "train"} and steps["train"]["batch"] == 8
    assert set(steps["train"]["seconds"]) == {"r2diffop", "r2conv", "conv2d"}
    assert math.isclose(steps["train"]["ratio_r2conv"],
                        steps["train"]["seconds"]["r2diffop"] / steps["train"]["seconds"]["r2conv"])
    assert any(t["target"].startswith("R2Diffop train step C8 batch 8") for t in data["targets"])
