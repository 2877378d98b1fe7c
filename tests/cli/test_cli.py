"""The ``basisgen`` command line (cli.py and its helpers in commands/), through click's CliRunner and through the
installed console script.

Every test works on its own empty cache directory.  Expected values come from the library called
directly (``sample_basis``, ``pair_latex``, ``BasisCache``), not from the command's own code paths.
"""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import basisgen as bg
from basisgen import cache
from basisgen import cli
from basisgen.commands.tasks import parse_groups, parse_representations
from paths import ROOT
from cli_runner import run


def assert_one_line_error(result, *fragments):
    err = result.stderr.strip()
    assert "Traceback" not in result.output and len(err.splitlines()) == 1, result.output
    assert "error" in err and all(f in err for f in fragments), err


def entry_files(directory: Path):
    return sorted(p for p in (directory / cache.store.ENTRIES).rglob("*.h5") if not p.name.startswith(".tmp-"))


# ---- help ----------------------------------------------------------------------------------------------
def _commands(group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,)
        if hasattr(command, "commands"):
            yield from _commands(command, prefix + (name,))


def test_every_command_has_help_with_an_example():
    commands = list(_commands(cli.main))
    assert {c[0] for c in commands} == {"precompute", "inspect", "latex", "plot", "gallery", "cache", "demo", "derive", "check"}
    assert {c[1] for c in commands if len(c) == 2} == {"path", "ls", "info", "verify", "clear", "export", "import"}
    for command in [()] + commands:
        out = run(*command, "--help").output
        assert re.search(r"Examples?:|Start here:", out), (command, out)
        assert "basisgen " in out.split("Example")[-1], command


# ---- demo ----------------------------------------------------------------------------------------------
def _errors(output):
    return {name: float(v) for name, v in re.findall(r"(equivariant|plain) CNN:\s+(\S+)", output)}


def test_demo_runs_and_the_second_run_reads_the_cache(cache_dir):
    first = run("demo", "--size", 21).stdout
    assert f"cache: {cache_dir}" in first
    assert "1. bases: 2 derived and cached" in first and "2 written" in first
    errors = _errors(first)
    assert errors["equivariant"] < 1e-4 and errors["plain"] > 1e-2, errors
    formula = first.split("4. a kernel formula")[1].splitlines()[1].strip()
    G = bg.cyclic_group(8)
    assert formula in bg.pair_latex(G, 1, 1) and "$" not in formula
    assert re.search(r"total \d+\.\d+ s", first)
    assert len(entry_files(cache_dir)) == 2
    cache.set_default_cache(None)
    second = run("demo", "--size", 21).stdout
    assert "1. bases: 2 read from the cache" in second
    assert "cache: 0 bases computed, 0 written, 2 read from disk" in second
    assert _errors(second) == errors     # seeded: the same networks and image


# ---- precompute ----------------------------------------------------------------------------------------
def test_group_and_representation_specs():
    assert [G.name for G in parse_groups("C4,C8,D4-D6")] == ["C4", "C8", "D4", "D5", "D6"]
    assert [G.name for G in parse_groups("c2-4,SO2,o2,flip,trivial,C4")] == ["C2", "C3", "C4", "SO(2)", "O(2)",
                                                                             "Flip", "C1"]
    for bad in ("C4-D8", "C8-C4", "X9", "C4,,C8"):
        with pytest.raises(ValueError):
            parse_groups(bad)
    D4 = bg.dihedral_group(4)
    assert [s for s, _ in parse_representations("irreps", D4)] == [f"irrep({i}, {j})" for i, j in
                                                                   (p.id for p in D4.irreps)]
    assert parse_representations("1,1", D4)[0][1] == D4.irrep_representation(1, 1)
    assert parse_representations("quotient:none,2", D4)[0][1].size == 4
    assert parse_representations("quotient:0,2", D4)[0][1].size == 2
    for bad in ("irrep:1", "quotient:x", "regularish", "irrep(1)", "2x regular", "regular + trivial", ""):
        with pytest.raises(ValueError):
            parse_representations(bad, D4)
    with pytest.raises(ValueError, match="no regular"):
        parse_representations("regular", bg.so2_group(3))


def test_representation_specs_are_the_notation_of_field_types():
    """--in/--out/-r read FieldType.parse's notation: the same text names the same representation, and the
    canonical spec of a task reads back to it."""
    D4, C8 = bg.dihedral_group(4), bg.cyclic_group(8)
    H = D4.subgroup((None, 4))[0]
    cases = [(D4, "regular", D4.regular_representation), (D4, "trivial", D4.trivial_representation),
             (D4, "irrep(1, 1)", D4.irrep_representation(1, 1)), (D4, "irrep_1,0", D4.irrep_representation(1, 0)),
             (D4, "quotient((None, 2))", D4.quotient_representation((None, 2))),
             (D4, "quot((0,2))", D4.quotient_representation((0, 2))),
             (D4, "induced((None, 4), irrep(1))", bg.induced_representation(D4, (None, 4), H.irrep(1))),
             (C8, " irrep( 3 ) ", C8.irrep_representation(3)), (C8, "quotient[2]", C8.quotient_representation(2)),
             (C8, "reg", C8.regular_representation)]
    for G, text, expected in cases:
        (spec, rho), = parse_representations(text, G)
        assert rho.name == expected.name and rho.size == expected.size, text
        np.testing.assert_allclose(rho.change_of_basis, expected.change_of_basis, atol=1e-12, err_msg=text)
        (again, rho_again), = parse_representations(spec, G)
        assert again == spec and rho_again.name == rho.name, text
    assert parse_representations("irrep(1,1)", D4)[0][0] == parse_representations("1,1", D4)[0][0] == "irrep(1, 1)"
    for text, fragment in [("irrep(1)", "have 2 ids, got 1"), ("banana", "unknown representation 'banana'"),
                           ("quotient(3x)", "subgroup id"), ("2x regular", "names 2 fields"),
                           ("irrep(" + "(" * 100 + ")", "MAX_NOTATION_DEPTH")]:
        with pytest.raises(ValueError, match=re.escape(fragment)):
            parse_representations(text, D4)


def test_cli_options_read_the_notation(cache_dir):
    by_notation = json.loads(run("inspect", "D4", "--in", "quotient((None,2))", "--out", "irrep(1,1)", "-k", 3,
                                 "--json").stdout)
    by_old_spelling = json.loads(run("inspect", "D4", "--in", "quotient:none,2", "--out", "1,1", "-k", 3,
                                     "--json").stdout)
    assert by_notation["cache"]["key"] == by_old_spelling["cache"]["key"]
    assert by_old_spelling["cache"]["status"] == "reused"
    assert run("latex", "D4", "--in", "irrep(1,1)", "--out", "irrep_1,0").stdout == \
        run("latex", "D4", "--in", "1,1", "--out", "1,0").stdout
    assert_one_line_error(run("latex", "D4", "--in", "regular", "--out", "1,0", code=2), "not an irrep of D4")
    report = json.loads(run("precompute", "C4", "-r", "irrep(1)", "-r", "quotient(2)", "-k", 3, "--json").stdout)
    assert sorted((e["in"], e["out"]) for e in report["entries"]) == sorted(
        (a, b) for a in ("irrep_1", "quotient[2]") for b in ("irrep_1", "quotient[2]"))
    assert {e["task"]["in_spec"] for e in report["entries"]} == {"irrep(1)", "quotient(2)"}
    help_text = run("inspect", "--help").stdout + run("precompute", "--help").stdout
    assert "irrep(1,1)" in help_text and "quotient((None,2))" in help_text


def test_precompute_with_two_workers_then_verify(cache_dir):
    result = run("precompute", "C4,D2", "-r", "regular", "-r", "trivial", "-k", "3,5", "--jobs", 2, "--json")
    report = json.loads(result.stdout)
    entries = report["entries"]
    assert len(entries) == 2 * 4 * 2 and {e["status"] for e in entries} == {"created"}
    assert report["summary"]["total"]["created"] == 16 and report["jobs"] == 2
    assert report["summary"]["total"]["bytes"] == sum(p.stat().st_size for p in entry_files(cache_dir))
    for e in entries:
        assert Path(e["path"]).is_file() and e["elements"] > 0 and e["bytes"] > 0
    assert run("cache", "verify").stdout.strip().endswith("16 entries verified; all clean")
    # the entries are the ones layers ask for: a new cache object on the directory computes nothing
    fresh = cache.BasisCache([cache_dir])
    rho = bg.dihedral_group(2).regular_representation
    basis = fresh.get(rho, rho, 5)
    assert fresh.stats["computed"] == 0 and fresh.stats["disk_hits"] == 1
    assert len(basis) == len(bg.sample_basis(rho, rho, 5, dtype=np.float32))
    # again, in this process: everything reused, summary table on stdout
    table = run("precompute", "C4,D2", "-r", "regular", "-r", "trivial", "-k", "3,5").stdout.splitlines()
    assert table[0].split() == ["group", "entries", "created", "reused", "empty", "time", "(s)", "size"]
    assert table[-2].split()[:5] == ["total", "16", "0", "16", "0"]


def test_precompute_irreps_and_empty_pairs(cache_dir):
    report = json.loads(run("precompute", "O2", "-r", "irreps", "--irreps-up-to", 1, "-k", 3, "--json").stdout)
    irreps = bg.o2_group(1).irreps
    assert len(report["entries"]) == len(irreps) ** 2
    for e in report["entries"]:
        psi_in, psi_out = (bg.o2_group(1).irrep(*map(int, e[k].split("_")[1].split(","))) for k in ("in", "out"))
        try:
            expected = len(bg.sample_irreps_basis(bg.o2_group(1), psi_in, psi_out, 3))
        except bg.EmptyBasisError:
            expected = 0
        assert e["elements"] == expected and (e["status"] == "empty") == (expected == 0)
    assert report["summary"]["O(2)"]["empty"] > 0


def test_precompute_model(cache_dir):
    report = json.loads(run("precompute", "--model", "basisgen.commands.demo:demo_network", "--json").stdout)
    assert sorted((e["in"], e["out"], e["kernel_size"]) for e in report["entries"]) == [
        ("irrep_0", "regular", 5), ("regular", "regular", 5)]
    assert {e["status"] for e in report["entries"]} == {"created"}
    # building the model again computes nothing
    from basisgen.commands import demo as cli_demo
    cache.set_default_cache(cache.BasisCache([cache_dir]))
    cli_demo.demo_network()
    assert cache.default_cache().stats["computed"] == 0
    # the same through the factory of a module in the current directory
    assert_one_line_error(run("precompute", "--model", "basisgen.commands.demo:nosuch", code=2), "nosuch")
    assert_one_line_error(run("precompute", "--model", "nosuch_module_xyz:f", code=2), "nosuch_module_xyz")
    assert_one_line_error(run("precompute", "C4", "--model", "basisgen.commands.demo:demo_network", code=2), "not both")


# ---- inspect -------------------------------------------------------------------------------------------
def test_inspect_json_against_the_library(cache_dir):
    G = bg.cyclic_group(8)
    first = json.loads(run("inspect", "C8", "--in", "1", "--out", "regular", "-k", 5, "--json").stdout)
    expected = bg.sample_basis(G.irrep_representation(1), G.regular_representation, 5, dtype=np.float32)
    assert len(first["elements"]) == len(expected) and first["shape"] == list(expected.array.shape)
    norms = np.sqrt((expected.array.astype(np.float64) ** 2).sum(axis=(1, 2, 3, 4)))
    np.testing.assert_allclose([e["norm"] for e in first["elements"]], norms, rtol=1e-5)
    for e, a in zip(first["elements"], expected.attributes):
        assert (e["ring"], e["mu"], e["s"], e["t"]) == (a["ring"], a["mu"], a["s"], a["t"])
        assert e["gamma"] == pytest.approx(a["gamma"]) and e["radius"] == pytest.approx(a["radius"])
    assert sum(first["per_ring"].values()) == sum(first["per_harmonic"].values()) == len(expected)
    assert first["per_harmonic"] == {str(k): v for k, v in sorted(
        {mu: [a["mu"] for a in expected.attributes].count(mu) for mu in {a["mu"] for a in expected.attributes}}.items())}
    assert first["cache"]["status"] == "created" and Path(first["cache"]["path"]).is_file()
    assert first["cache"]["path"] == str(entry_files(cache_dir)[0])
    again = json.loads(run("inspect", "C8", "--in", "irrep:1", "--out", "regular", "--json").stdout)
    assert again["cache"]["status"] == "reused" and again["cache"]["key"] == first["cache"]["key"]


def test_inspect_table():
    out = run("inspect", "D4", "--in", "1,1", "--out", "0,0", "-k", 3).stdout
    lines = out.splitlines()
    assert lines[0].startswith("D4: irrep_1,1 -> irrep_0,0, kernel size 3")
    assert lines[1].split() == ["#", "in", "out", "ring", "radius", "mu", "s", "gamma", "t", "norm"]
    assert any(line.startswith("per ring:") for line in lines) and any(line.startswith("per harmonic:") for line in lines)
    assert lines[-1].startswith("cache entry: ")


# ---- latex (more in test_cli_latex.py) -----------------------------------------------------------------
def test_the_tables_of_docs_math_md_are_what_the_tool_prints():
    text = (ROOT / "docs" / "math.md").read_text()
    blocks = re.findall(r"<!-- generated by: basisgen (.*?) -->\n```bash\n.*?\n```\n\n\$\$\n(.*?)\n\$\$", text, re.S)
    assert [args.split()[1] for args, _ in blocks] == ["C4", "D4", "SO2", "O2"]
    for args, table in blocks:
        assert run(*args.split()).stdout.rstrip("\n") == table, f"docs/math.md is stale: rerun basisgen {args}"


# ---- plot: tests/cli/test_cli_plot.py --------------------------------------------------------------------


# ---- cache ---------------------------------------------------------------------------------------------
def test_cache_commands(cache_dir, tmp_path):
    run("precompute", "C4,D2", "-k", 3)
    assert run("cache", "path").stdout.strip() == str(cache_dir)
    assert run("cache", "path", "--all").stdout.strip() == f"{cache_dir}  (writable, new entries go here)"
    listed = json.loads(run("cache", "ls", "--json").stdout)
    assert sorted(e["path"] for e in listed) == [str(p) for p in entry_files(cache_dir)]
    assert {(e["group"], e["in"], e["out"], e["kernel_size"]) for e in listed} == {
        ("C4", "regular", "regular", 3), ("D2", "regular", "regular", 3)}
    assert len(json.loads(run("cache", "ls", "--group", "d2", "--json").stdout)) == 1
    info = json.loads(run("cache", "info", "--json").stdout)
    assert info["entries"] == 2 and info["per_group"] == {"C4": 1, "D2": 1} and info["write_root"] == str(cache_dir)
    assert info["bytes"] == sum(p.stat().st_size for p in entry_files(cache_dir))
    assert "entries: 2" in run("cache", "info").stdout
    exported = tmp_path / "bases.h5"
    assert run("cache", "export", exported, "--group", "C4").stdout.startswith(f"exported 1 entries to {exported}")
    assert run("cache", "clear", "--yes").stdout.strip() == "removed 2 entries"
    assert entry_files(cache_dir) == [] and json.loads(run("cache", "ls", "--json").stdout) == []
    assert run("cache", "import", exported).stdout.strip() == f"imported 1 entries into {cache_dir}"
    assert [e["group"] for e in json.loads(run("cache", "ls", "--json").stdout)] == ["C4"]
    # clear asks first; "no" keeps everything
    refused = run("cache", "clear", "--group", "C4", input="n\n", code=1)
    assert refused.stderr.splitlines() == [f"delete 1 entries of C4 from {cache_dir}? [y/N]: n", "basisgen: aborted"]
    assert len(entry_files(cache_dir)) == 1
    assert_one_line_error(run("cache", "import", tmp_path / "missing.h5", code=2), "does not exist")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    assert_one_line_error(run("cache", "import", tmp_path / "junk.h5", code=1), "junk.h5")


def test_cache_verify_removes_damage_and_exits_1(cache_dir):
    run("precompute", "C4", "-r", "regular", "-r", "trivial", "-k", 3)
    files = entry_files(cache_dir)
    assert len(files) == 4
    raw = bytearray(files[0].read_bytes())
    raw[len(raw) // 2:len(raw) // 2 + 64] = bytes(64)        # damaged data
    files[0].write_bytes(bytes(raw))
    files[1].write_bytes(files[1].read_bytes()[:1000])         # truncated
    partial = files[2].parent / f".tmp-{files[2].stem}-999999999-abcd.h5"   # a dead writer's temporary file
    partial.write_bytes(b"partial")
    result = run("cache", "verify", code=1)
    removed = [line for line in result.stdout.splitlines() if line.startswith("removed ")]
    assert sorted(line.split(":")[0][len("removed "):] for line in removed) == sorted(
        str(p) for p in (files[0], files[1], partial))
    assert result.stdout.strip().endswith("2 entries verified; 3 damaged or partial files removed")
    assert entry_files(cache_dir) == files[2:] and not partial.exists()
    report = json.loads(run("cache", "verify", "--json").stdout)
    assert report == {"findings": [], "removed": [], "entries": 2, "clean": True}


def test_cache_verify_help_says_what_each_mode_checks():
    out = run("cache", "verify", "--help").output
    assert "--quick" in out and "recomputed" in out and "checksum and structure only" in out


def test_cache_verify_and_clear_refuse_a_directory_with_foreign_files(cache_dir):
    run("precompute", "C4", "-k", 3)
    user = cache_dir / cache.store.ENTRIES / "my-notes"
    user.mkdir()
    (user / "thesis.tex").write_text("precious")
    for args in (["cache", "verify"], ["cache", "clear", "--yes"]):
        assert_one_line_error(run(*args, code=1), "not created by the cache", str(user))
    assert (user / "thesis.tex").read_text() == "precious" and len(entry_files(cache_dir)) == 1


def test_cache_import_errors_are_runtime_errors(cache_dir, tmp_path, monkeypatch):
    import h5py
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f["x"] = np.arange(3)
    assert_one_line_error(run("cache", "import", plain, code=1), "not a basisgen cache export")
    run("precompute", "C4", "-k", 3)
    bundle = tmp_path / "bundle.h5"
    run("cache", "export", bundle)
    with h5py.File(bundle, "r+") as f:
        f["e" * 64] = h5py.ExternalLink(str(plain), "/x")
    assert_one_line_error(run("cache", "import", bundle, code=1), "external link")
    assert not list(cache_dir.rglob(".tmp-*"))
    monkeypatch.setattr(cache.store, "_writable", lambda d: False)
    assert_one_line_error(run("cache", "import", bundle, code=1), "no writable cache directory")


# ---- errors ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, code, fragment", [
    (["latex", "X9", "--table"], 2, "unknown group 'X9'"),
    (["latex", "C4", "--in", "7", "--out", "1"], 2, "valid ids: 0, 1, 2"),
    (["latex", "C4"], 2, "give --in and --out"),
    (["inspect", "D4", "--in", "irrep:1"], 2, "the irreps of D4 have 2 ids, got 1"),
    (["inspect", "C8", "-k", "0"], 2, "kernel-size"),
    (["inspect", "O2", "--in", "0,0", "--out", "1,0"], 2, "empty at every frequency"),
    (["precompute", "C4", "-k", "3,x"], 2, "--kernel-size"),
    (["precompute", "C4", "-k", "3", "--rings", "0,5"], 2, "rings must lie within"),
    (["precompute", "C8-D9"], 2, "one family"),
    (["precompute", "SO2"], 2, "no regular representation"),
    (["precompute"], 2, "at least one GROUP"),
    (["demo", "--group", "C6"], 2, "divisible by 4"),
    (["plot", "D8", "--in", "regular", "--out", "regular"], 2, "too many"),
    (["nosuchcommand"], 2, "No such command"),
])
def test_errors_are_one_line(cache_dir, args, code, fragment):
    result = run(*args, code=code)
    assert_one_line_error(result, fragment)
    assert result.stderr.startswith(f"basisgen {args[0]}: error:" if args[0] != "nosuchcommand" else "basisgen: error:")


def test_unwritable_cache_is_a_runtime_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("BASISGEN_CACHE", str(blocker / "cache"))
    assert_one_line_error(run("precompute", "C4", "-k", 3, code=1), "no writable cache directory", str(blocker))


def test_debug_shows_the_exception(cache_dir):
    result = CliRunner().invoke(cli.main, ["--debug", "inspect", "O2", "--in", "0,0", "--out", "1,0"])
    assert result.exit_code == 1 and isinstance(result.exception, bg.EmptyBasisError)


# ---- the installed console script ---------------------------------------------------------------------
def _console(args, env, cwd):
    return subprocess.Popen([shutil.which("basisgen"), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)


@pytest.mark.slow
def test_console_script_runs_every_command(tmp_path):
    if shutil.which("basisgen") is None:
        pytest.skip("the basisgen console script is not installed (pip install -e .)")
    pytest.importorskip("matplotlib", reason="the `plot` extra is not installed (the script runs basisgen plot)")
    cache_root = tmp_path / "cache"
    env = dict(os.environ, BASISGEN_CACHE=str(cache_root))
    env.pop("BASISGEN_DEBUG", None)
    blocked = dict(env, BASISGEN_CACHE=str(tmp_path / "a-file" / "cache"))
    (tmp_path / "a-file").write_text("")
    plot = ["plot", "C4", "--in", "1", "--out", "1", "-k", 5, "-n", 2, "-o", tmp_path / "f.png"]
    waves = [   # (args, env, expected exit code); each wave runs in parallel, waves in order
        [(["demo", "--size", 17], env, 0), (["precompute", "C4", "-k", 3, "--json"], env, 0),
         (["latex", "C4", "--in", 1, "--out", 1], env, 0), (["derive", "C2", "-F", 2, "-k", 3], env, 0),
         (plot, env, 0 if _has_matplotlib() else 1), (["latex", "X9", "--table"], env, 2),
         (["precompute", "C4", "-k", 3], blocked, 1), (["--debug", "inspect", "O2", "--in", "0,0", "--out", "1,0"], env, 1)],
        [(["inspect", "C4", "--in", "regular", "--out", "regular", "-k", 3, "--json"], env, 0),
         (["cache", "ls", "--json"], env, 0), (["cache", "verify"], env, 0), (["cache", "export", tmp_path / "all.h5"], env, 0)],
        [(["cache", "clear", "--yes"], env, 0)],
        [(["cache", "import", tmp_path / "all.h5"], env, 0)],
    ]
    results = {}
    for wave in waves:
        procs = [(args, code, _console(args, e, tmp_path)) for args, e, code in wave]
        for args, code, proc in procs:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == code, (args, out, err)
            results[" ".join(map(str, args))] = (out, err)
    assert "1. bases: 2 derived and cached" in results["demo --size 17"][0]
    created = json.loads(results["precompute C4 -k 3 --json"][0])["entries"]
    assert [e["status"] for e in created] == ["created"]
    assert results["latex C4 --in 1 --out 1"][0].splitlines() == bg.pair_latex(bg.cyclic_group(4), 1, 1)
    assert "0 failed" in results["derive C2 -F 2 -k 3"][0]
    for args, message in (("latex X9 --table", "unknown group"), ("precompute C4 -k 3", "no writable cache directory")):
        err = results[args][1]
        assert message in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert "Traceback" in results["--debug inspect O2 --in 0,0 --out 1,0"][1]
    inspected = json.loads(results["inspect C4 --in regular --out regular -k 3 --json"][0])
    assert inspected["cache"]["status"] == "reused" and inspected["cache"]["path"] == created[0]["path"]
    entries = len(json.loads(results["cache ls --json"][0]))
    # demo's 2, precompute's 1, plot's, and the empty O(2) pair inspect found (emptiness is cached too)
    assert entries == 4 + _has_matplotlib()
    assert "all clean" in results["cache verify"][0]
    assert results["cache clear --yes"][0].strip() == f"removed {entries} entries"
    assert results[f"cache import {tmp_path / 'all.h5'}"][0].startswith(f"imported {entries} entries")
    if _has_matplotlib():
        assert (tmp_path / "f.png").stat().st_size > 1000
    else:
        assert "pip install" in results[" ".join(map(str, plot))][1]


def _has_matplotlib() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


# ---- hostile and careless input (issue 14) -------------------------------------------------------------
def test_model_never_runs_a_torch_py_from_the_working_directory(tmp_path):
    """--model imports the user's module by name, but a torch.py (or numpy.py) in the working directory must not
    stand in for the installed package: torch is imported first and the directory is searched last."""
    if shutil.which("basisgen") is None:
        pytest.skip("the basisgen console script is not installed (pip install -e .)")
    for name in ("torch", "numpy", "e2layers"):
        (tmp_path / f"{name}.py").write_text(f"raise SystemExit('the working directory {name}.py was executed')\n")
    (tmp_path / "my_model.py").write_text(
        "from e2layers import gspaces, nn\n"
        "def build():\n"
        "    r2 = gspaces.Rot2dOnR2(4)\n"
        "    return nn.R2Conv(nn.FieldType(r2, [r2.trivial_repr]), nn.FieldType(r2, [r2.regular_repr]), 3)\n")
    env = dict(os.environ, BASISGEN_CACHE=str(tmp_path / "cache"))
    env.pop("PYTHONPATH", None)
    done = subprocess.run([shutil.which("basisgen"), "precompute", "--model", "my_model:build", "--json"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "was executed" not in done.stdout + done.stderr
    assert [e["status"] for e in json.loads(done.stdout)["entries"]] == ["created"]


def test_model_help_and_docs_say_the_module_is_imported():
    text = " ".join(run("precompute", "--help").output.split())
    assert "import package.module (this runs its code" in text and "searched after the installed packages" in text
    assert "Importing a module runs its code" in (ROOT / "docs" / "cli.md").read_text()


@pytest.mark.parametrize("args, fragment", [
    (["inspect", "C99999999999999999999"], "MAX_GROUP_ORDER"),
    (["latex", "D" + "9" * 5000, "--table"], "MAX_GROUP_ORDER"),
    (["inspect", "C8", "-k", "999"], "kernel_size = 999, above MAX_KERNEL_SIZE = 101"),
    (["precompute", "C4", "-k", "999"], "MAX_KERNEL_SIZE"),
    (["plot", "C8", "--in", "1", "--out", "1", "-k", "999"], "MAX_KERNEL_SIZE"),
    (["latex", "C8", "--in", "1", "--out", "1", "-F", "100000"], "maximum_frequency = 100000, above MAX_FREQUENCY"),
    (["derive", "C8", "-F", "100000"], "MAX_FREQUENCY"),
    (["latex", "SO2", "--table", "-L", "100000"], "MAX_FREQUENCY"),
    (["precompute", "SO2", "-r", "irreps", "--irreps-up-to", "100000"], "MAX_FREQUENCY"),
    (["precompute", "C1-C100000", "-k", "3"], "MAX_GROUP_ORDER"),
    (["precompute", "C1-C300", "-k", "3"], "names 300 groups, above MAX_GROUP_RANGE = 256"),
    (["precompute", "C1-C" + "9" * 5000, "-k", "3"], "MAX_GROUP_ORDER"),
    (["inspect", "C8", "--frequencies-cutoff", "inf"], "frequencies_cutoff must be a finite float, got inf"),
    (["inspect", "C8", "--frequencies-cutoff", "nan"], "frequencies_cutoff must be a finite float, got nan"),
    (["inspect", "C8", "--frequencies-cutoff", "1e9"], "MAX_FREQUENCY"),
    (["precompute", "C4", "-k", "3", "--sigma", "nan"], "sigma must be a finite float, got nan"),
    (["precompute", "C4", "-k", "3", "--rings", "0,inf"], "every entry of rings must be a finite float, got inf"),
    (["precompute", "D4", "-k", "3", "--axis", "nan"], "finite angle"),
])
def test_unbounded_and_non_finite_arguments_are_usage_errors_at_once(cache_dir, args, fragment):
    """Exit status 2 and one line naming the limit (or the argument), before any work: each of these hung, ran out
    of memory or exited 1 with 'Python int too large' / 'cannot convert float NaN to integer'."""
    if args[0] == "plot":       # without the `plot` extra, plot stops first for the missing matplotlib (exit 1)
        pytest.importorskip("matplotlib", reason="the `plot` extra is not installed")
    t0 = time.perf_counter()
    result = run(*args, code=2)
    assert time.perf_counter() - t0 < 5, args
    assert_one_line_error(result, fragment)
    assert not entry_files(cache_dir)


def test_a_raised_limit_lets_the_command_through(cache_dir, monkeypatch):
    monkeypatch.setattr(bg.limits, "MAX_KERNEL_SIZE", 3)
    assert_one_line_error(run("inspect", "C4", "-k", "5", code=2), "MAX_KERNEL_SIZE = 3")
    monkeypatch.setattr(bg.limits, "MAX_KERNEL_SIZE", 101)
    assert "kernel size 5" in run("inspect", "C4", "-k", "5").stdout
