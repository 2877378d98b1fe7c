"""What the package installs: only the import names ``basisgen`` and ``e2layers``, so that a user's own
``cache``/``cli`` module or folder can neither shadow ours nor be overwritten by ours."""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BUILD_CONV = """
from e2layers import gspaces, nn
g = gspaces.Rot2dOnR2(8)
t = nn.FieldType(g, [g.regular_repr])
print(nn.R2Conv(t, t, 3).weights.shape[0])
"""


def _hostile_scratch(directory: Path) -> None:
    """Folders and modules named like the repository's top-level entries (and the old helper modules),
    each raising on import: ``cache/`` and ``cache.py``, ``cli/`` and ``cli.py``, ..."""
    bomb = "raise ImportError('the user\\'s {} was imported')\n"
    for name in ("cache", "cli", "commands"):
        (directory / name).mkdir()
        (directory / name / "__init__.py").write_text(bomb.format(name + "/"))
    for name in ("cache", "cli", "commands", "cli_cache", "cli_demo", "cli_plot", "cli_tasks"):
        (directory / f"{name}.py").write_text(bomb.format(name + ".py"))


def _run(args, cwd, env):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_users_cache_and_cli_cannot_shadow_the_package(tmp_path):
    """In a directory full of the user's own cache/cli modules (the working directory is first on
    ``sys.path`` for ``python -c`` and scripts), an R2Conv builds and the command runs."""
    if shutil.which("basisgen") is None:
        pytest.skip("the basisgen console script is not installed (pip install -e .)")
    _hostile_scratch(tmp_path)
    env = dict(os.environ, BASISGEN_CACHE=str(tmp_path / "basis-cache"))
    env.pop("PYTHONPATH", None)
    built = _run([sys.executable, "-c", BUILD_CONV], tmp_path, env)
    assert built.returncode == 0, built.stderr
    assert built.stdout.split() == ["48"]        # C8 regular -> regular, k=3: 6 basis elements per pair x 8
    for args in (["basisgen", "precompute", "C4", "-k", "3"], [sys.executable, "-m", "basisgen.cli", "cache", "ls"]):
        ran = _run(args, tmp_path, env)
        assert ran.returncode == 0 and "was imported" not in ran.stderr, (args, ran.stderr)
    assert "C4" in ran.stdout
    # the bombs do go off when imported: the test would notice a shadowing import
    assert "the user's cache/ was imported" in _run([sys.executable, "-c", "import cache"], tmp_path, env).stderr


def test_the_editable_install_is_this_checkout():
    """The mapped packages (cache/ -> basisgen.cache, ...) resolve to this repository's folders."""
    import basisgen.cache
    import basisgen.cli
    import basisgen.commands
    assert Path(basisgen.cache.__file__).resolve() == ROOT / "cache" / "__init__.py"
    assert Path(basisgen.cli.__file__).resolve() == ROOT / "cli.py"
    assert Path(basisgen.commands.__file__).resolve() == ROOT / "commands" / "__init__.py"


def test_the_console_script_and_the_mapping_are_declared():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"] == {"basisgen": "basisgen.cli:main"}
    setuptools = project["tool"]["setuptools"]
    assert {p.split(".")[0] for p in setuptools["packages"]} | {m.split(".")[0] for m in setuptools.get("py-modules", [])} == {"basisgen", "e2layers"}
    assert setuptools["package-dir"] == {"basisgen.cache": "cache", "basisgen.commands": "commands",
                                         "basisgen.cli": "cli"}
    # every helper of the command is packaged
    packaged = {p.stem for p in (ROOT / "commands").glob("*.py")}
    assert packaged >= {"__init__", "cache", "demo", "plot", "tasks"}


@pytest.mark.slow
def test_a_built_wheel_installs_only_basisgen_and_e2layers(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=600)
    if built.returncode != 0 and "No module named" in built.stderr:
        pytest.skip(f"cannot build a wheel here: {built.stderr.strip().splitlines()[-1]}")
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("e2layers-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"basisgen", "e2layers"}
    assert {"basisgen/cli.py", "basisgen/cache/store.py", "basisgen/commands/tasks.py",
            "e2layers/nn/r2conv.py"} <= set(names)
    # every module of the two packages is in the wheel (a subpackage missing from pyproject's list is not)
    sources = {str(p.relative_to(ROOT)) for top in ("basisgen", "e2layers") for p in (ROOT / top).rglob("*.py")
               if "__pycache__" not in p.parts}
    assert sources <= set(names), sorted(sources - set(names))
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "basisgen = basisgen.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
