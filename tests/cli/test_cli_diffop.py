"""The ``--diffop`` flag of the ``basisgen`` command (PDO bases): latex, precompute, inspect, plot, through click's
CliRunner.

Each test has its own cache directory (the ``private_cache`` fixture, named to the command by ``BASISGEN_CACHE``).
Expected values come from the library called directly (``pdo_basis_latex``, ``basisgen.families.sample``,
``e2cnn_attributes``, ``BasisCache``), not from the command's own code paths.
"""
import json
from collections import Counter
from pathlib import Path

import pytest

import basisgen as bg
from basisgen import cache
from basisgen.families import e2cnn_attributes, sample
from basisgen.pdo_latex import pdo_basis_latex
from basisgen.pdo_sampling import diffop_params
from basisgen.representation import Representation
from cli_runner import run


def irrep(G, *ids):
    return Representation.from_irrep(G.irrep(*ids))


# ---- latex ------------------------------------------------------------------------------------------------
def test_latex_diffop_prints_the_pdo_basis():
    out = run("latex", "C8", "--in", 1, "--out", 1, "--diffop", "--maximum-order", 4).stdout
    assert out == pdo_basis_latex(bg.cyclic_group(8), 1, 1, maximum_order=4) + "\n"
    assert r"\partial_x" in out and r"\Delta" in out
    trivial = run("latex", "C4", "--in", 0, "--out", 0, "--diffop", "--maximum-order", 4, "--maximum-power", 1).stdout
    assert r"D_{2} &= \Delta, \qquad \text{order } 2,\ \text{power } 1" in trivial
    assert r"\partial_x^{4} - 6 \partial_x^{2} \partial_y^{2} + \partial_y^{4}" in trivial
    assert r"\Delta^{2}" not in trivial                 # --maximum-power 1


def test_latex_diffop_standalone_names_its_command(tmp_path):
    target = tmp_path / "pdo.tex"
    run("latex", "D4", "--in", "1,1", "--out", "0,0", "--diffop", "--maximum-order", 3, "--standalone", "-o", target)
    doc = target.read_text()
    assert doc.startswith(r"\documentclass{article}") and doc.rstrip().endswith(r"\end{document}")
    assert pdo_basis_latex(bg.dihedral_group(4), (1, 1), (0, 0), maximum_order=3) in doc
    assert "basisgen latex D4 --in 1,1 --out 0,0 --diffop --maximum-order 3 --standalone" in doc


# ---- precompute and inspect ---------------------------------------------------------------------------------
def test_precompute_diffop_fills_the_cache_and_inspect_reads_it_back(cache_dir):
    G = bg.cyclic_group(4)
    report = json.loads(run("precompute", "C4", "-r", "regular", "-r", "trivial", "--diffop", "-k", 5,
                            "--smoothing", 1.0, "--json").stdout)
    params = diffop_params(kernel_size=5, smoothing=1.0)
    entries = report["entries"]
    assert len(entries) == 4 and {e["status"] for e in entries} == {"created"}
    assert {e["kind"] for e in entries} == {"diffop"} and {e["kernel_size"] for e in entries} == {5}
    reps = {"regular": G.regular_representation, "irrep_0": G.trivial_representation,
            "trivial": G.trivial_representation}
    for e in entries:
        assert e["elements"] == len(sample(reps[e["in"]], reps[e["out"]], params)), e
        assert cache_dir in Path(e["path"]).parents and Path(e["path"]).is_file()
    # a fresh cache on the directory finds every entry on disk
    store = cache.BasisCache([cache_dir])
    store.get(G.regular_representation, G.regular_representation, params)
    assert store.stats["disk_hits"] == 1 and store.stats["computed"] == 0
    # inspect --diffop reads the same entry (and computes nothing)
    shown = json.loads(run("inspect", "C4", "--in", "regular", "--out", "regular", "--diffop", "-k", 5,
                           "--smoothing", 1.0, "--json").stdout)
    regular = next(e for e in entries if e["in"] == e["out"] == "regular")
    assert shown["cache"]["status"] == "reused" and shown["cache"]["path"] == regular["path"]
    assert shown["kind"] == "diffop" and shown["method"] == "gauss"
    assert (shown["maximum_order"], shown["maximum_power"]) == (4, 2)
    expected = e2cnn_attributes(sample(G.regular_representation, G.regular_representation, params),
                                G.regular_representation, G.regular_representation)
    assert len(shown["elements"]) == len(expected)
    assert [(e["order"], e["power"], e["mu"]) for e in shown["elements"]] == \
        [(a["order"], a["power"], a["frequency"]) for a in expected]
    assert shown["per_order"] == {str(k): v for k, v in sorted(Counter(a["order"] for a in expected).items())}
    assert shown["per_power"] == {str(k): v for k, v in sorted(Counter(a["power"] for a in expected).items())}


def test_precompute_diffop_takes_the_kernel_size_from_the_order(cache_dir):
    report = json.loads(run("precompute", "D4", "-r", "regular", "--diffop", "--maximum-order", 2, "--json").stdout)
    entry, = report["entries"]
    assert entry["kernel_size"] == diffop_params(maximum_order=2).kernel_size == 3
    G = bg.dihedral_group(4)
    assert entry["elements"] == len(sample(G.regular_representation, G.regular_representation,
                                           diffop_params(maximum_order=2)))
    again = json.loads(run("precompute", "D4", "--diffop", "--maximum-order", 2, "--json").stdout)
    assert [e["status"] for e in again["entries"]] == ["reused"]


def test_inspect_diffop_table_reports_orders_and_powers(cache_dir):
    lines = run("inspect", "C8", "--in", 1, "--out", 1, "--diffop", "--maximum-order", 4).stdout.splitlines()
    assert lines[0].startswith("C8: irrep_1 -> irrep_1, PDOs of order <= 4 (Laplacian power <= 2, fd stencils), "
                               "kernel size 5")
    assert "10 elements" in lines[0]
    assert lines[1].split() == ["#", "in", "out", "order", "power", "mu", "s", "gamma", "t", "norm"]
    assert "per order:    0: 2, 2: 4, 4: 4" in lines and "per power:    0: 4, 1: 4, 2: 2" in lines
    assert lines[-1].startswith("cache entry: ") and "created now" in lines[-1]


# ---- plot ---------------------------------------------------------------------------------------------------
def test_plot_diffop_draws_the_stencils(cache_dir, tmp_path):
    image = pytest.importorskip("matplotlib.image")
    target = tmp_path / "stencils.png"
    out = run("plot", "C8", "--in", 1, "--out", 1, "--diffop", "-k", 5, "-n", 4, "-o", target).stdout
    assert out.startswith(f"wrote {target}: 4 of 10 elements") and target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image.imread(target)[..., :3]
    assert pixels.shape[0] > 100 and pixels.std() > 0.05
    assert len(cache.BasisCache([cache_dir]).entries()) == 1      # through the cache


# ---- usage errors -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, fragments", [
    (["precompute", "C4", "--diffop", "--smoothing", 1, "--rbffd"], ["--smoothing", "--rbffd"]),
    (["inspect", "C4", "--diffop", "--rbffd", "--smoothing", 1], ["--smoothing", "--rbffd"]),
    (["inspect", "C4", "--diffop", "-k", 5, "--maximum-order", 2, "--accuracy", 2],
     ["--kernel-size", "--accuracy", "--maximum-order"]),
    (["inspect", "C4", "--diffop", "--sigma", 0.5], ["--sigma", "--diffop"]),
    (["precompute", "C4", "--diffop", "--rings", "0,1"], ["--rings", "--diffop"]),
    (["inspect", "C4", "--maximum-order", 2], ["--maximum-order", "add --diffop"]),
    (["plot", "C4", "--angle-offset", 0.5], ["--angle-offset", "add --diffop"]),
    (["inspect", "C4", "--diffop", "--angle-offset", "nan"], ["--angle-offset"]),
    (["precompute", "--model", "basisgen.commands.demo:demo_network", "--diffop"], ["--diffop"]),
    (["latex", "C8", "--in", 1, "--out", 1, "--diffop"], ["--maximum-order"]),
    (["latex", "C8", "--in", 1, "--diffop", "--maximum-order", 2], ["--in and --out"]),
    (["latex", "C8", "--in", 1, "--out", 1, "--diffop", "--maximum-order", 2, "--concrete"], ["--concrete"]),
    (["latex", "C8", "--table", "--diffop", "--maximum-order", 2], ["--table"]),
])
def test_bad_combinations_are_usage_errors_naming_the_option(cache_dir, args, fragments):
    result = run(*args, code=2)
    err = result.stderr.strip()
    assert "Traceback" not in result.output and len(err.splitlines()) == 1, result.output
    assert "error" in err and all(f in err for f in fragments), err
    assert not list(cache_dir.rglob("*.h5"))
