"""The layers stay layers: basisgen (mathematics) <- basisgen.cache (storage) <- e2layers (torch) <- the
command line (basisgen.cli, basisgen.commands).

* in a fresh process, ``import basisgen`` and ``import basisgen.cache`` load neither torch nor e2layers,
  and neither sympy nor scipy (they load when something is derived);
* building an ``R2Conv`` between trivial, regular and irrep fields from a warm cache, and running it,
  loads neither sympy nor scipy and derives nothing (quotient, induced fields and empty irrep pairs:
  tests/e2layers/test_warm_start.py);
* in the source (the AST of every module), no module imports from a layer above its own, and nothing
  below e2layers imports torch.
"""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: layer of each installed module name (the first matching prefix wins), bottom up
LAYERS = [("basisgen.cache", 1), ("basisgen.cli", 3), ("basisgen.commands", 3), ("basisgen", 0), ("e2layers", 2)]
LAYER_NAMES = {0: "basisgen", 1: "basisgen.cache", 2: "e2layers", 3: "the command line"}
#: source folders and files -> installed package names (pyproject.toml's package-dir)
SOURCES = {"basisgen": "basisgen", "cache": "basisgen.cache", "e2layers": "e2layers", "commands": "basisgen.commands",
           "cli.py": "basisgen.cli"}
HEAVY = ("torch", "e2layers", "sympy", "scipy")


def layer_of(module: str):
    """The layer of an installed module name, or None for a module outside the project."""
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return None


def project_modules():
    """``(installed name, is a package, path)`` of every module of the project."""
    for source, package in SOURCES.items():
        path = ROOT / source
        if path.is_file():
            yield package, False, path
            continue
        for file in sorted(path.rglob("*.py")):
            parts = list(file.relative_to(path).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            yield ".".join([package] + parts), is_package, file


def imported_names(tree: ast.AST, module: str, is_package: bool):
    """Every module name the source imports (``import a.b``, ``from a import b`` as ``a`` and ``a.b``,
    relative imports resolved, ``importlib.import_module("a")`` with a constant), with its line."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module
            yield origin, node.lineno
            for alias in node.names:
                yield f"{origin}.{alias.name}", node.lineno     # a submodule, or a name (no layer: harmless)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            yield node.args[0].value, node.lineno


def _imports_of_every_module():
    for module, is_package, path in project_modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        yield module, path, list(imported_names(tree, module, is_package))


def test_the_layer_table_covers_every_module():
    modules = {module for module, _, _ in project_modules()}
    assert {"basisgen", "basisgen.notation", "basisgen.cache", "basisgen.cache.store", "basisgen.cli",
            "basisgen.commands.tasks", "e2layers", "e2layers.nn.r2conv"} <= modules
    assert all(layer_of(m) is not None for m in modules)
    assert [layer_of(m) for m in ("basisgen.sampling", "basisgen.cache.keys", "e2layers.nn", "basisgen.cli",
                                  "basisgen.commands.demo", "basisgen.cachet", "torch")] == [0, 1, 2, 3, 3, 0, None]


def test_no_module_imports_from_a_layer_above_it():
    found = []
    for module, path, imports in _imports_of_every_module():
        own = layer_of(module)
        for name, line in imports:
            other = layer_of(name)
            if other is not None and other > own:
                found.append(f"{path.relative_to(ROOT)}:{line}: {module} ({LAYER_NAMES[own]}) imports {name} "
                             f"({LAYER_NAMES[other]})")
    assert not found, "imports from a layer above:\n" + "\n".join(found)


def test_nothing_below_e2layers_imports_torch():
    found = [f"{path.relative_to(ROOT)}:{line}: {module} imports {name}"
             for module, path, imports in _imports_of_every_module() if layer_of(module) < 2
             for name, line in imports if name == "torch" or name.startswith("torch.")]
    assert not found, "\n".join(found)


def test_the_source_check_catches_an_upward_import():
    """The checker itself: an upward import in a made-up module of each lower layer is reported."""
    for module, source in [("basisgen.groups", "from basisgen.cache import BasisCache"),
                           ("basisgen.groups", "from . import cache"), ("basisgen.groups", "import basisgen.cli"),
                           ("basisgen.cache.store", "from e2layers import nn"),
                           ("basisgen.cache.store", "from ..commands import tasks"),
                           ("e2layers.nn.r2conv", "from basisgen.commands.tasks import Task"),
                           ("basisgen.irreps", "importlib.import_module('e2layers.nn')")]:
        names = [name for name, _ in imported_names(ast.parse(source), module, False)]
        assert any((layer_of(n) or -1) > layer_of(module) for n in names), (module, source, names)
    assert all((layer_of(n) or 0) <= 1 for n, _ in imported_names(ast.parse("from .. import limits"),
                                                                   "basisgen.cache.store", False))


def _fresh(code: str, **env) -> dict:
    """Run ``code`` in a new interpreter; the JSON it prints last."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, **env), timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


MODULES = "{m: m in sys.modules for m in %r}" % (HEAVY,)
LOADED = f"json.dumps({MODULES})"


@pytest.mark.parametrize("statement", ["import basisgen", "import basisgen.cache",
                                       "import basisgen.cache, basisgen.notation; basisgen.cache.BasisCache()"])
def test_basisgen_and_the_cache_load_no_torch_and_nothing_heavy(statement, tmp_path):
    loaded = _fresh(f"import json, sys\n{statement}\nprint({LOADED})", BASISGEN_CACHE=str(tmp_path))
    assert loaded == dict.fromkeys(HEAVY, False)


BUILD = """
import json, sys
import torch
from basisgen import cache
from e2layers import gspaces, nn
gs = gspaces.FlipRot2dOnR2(4)
t_in = nn.FieldType(gs, 3 * [gs.trivial_repr])
t_out = nn.FieldType.parse(gs, "2x regular + irrep(1, 1) + trivial")
conv = nn.R2Conv(t_in, t_out, 5)
conv(nn.GeometricTensor(torch.randn(1, 3, 9, 9), t_in))
print(json.dumps(dict(stats=cache.default_cache().stats, **%s)))
""" % MODULES


@pytest.mark.slow
def test_a_warm_cache_build_loads_neither_sympy_nor_scipy(tmp_path):
    first = _fresh(BUILD, BASISGEN_CACHE=str(tmp_path))       # derives, loading sympy; writes the cache
    assert first["stats"]["written"] > 0 and first["sympy"]
    warm = _fresh(BUILD, BASISGEN_CACHE=str(tmp_path))
    assert warm["stats"]["computed"] == 0 and warm["stats"]["disk_hits"] > 0, warm["stats"]
    assert {m: warm[m] for m in ("sympy", "scipy")} == {"sympy": False, "scipy": False}


def test_the_storage_layer_stores_data_not_summaries():
    """The cache stores and checks sampled bases; typesetting them (LaTeX) is the engine's and the command's
    job, so no module of the cache calls it (writing an entry used to typeset every irrep pair)."""
    offenders = [str(p) for p in (ROOT / "cache").glob("*.py") if "latex" in p.read_text().lower().replace(
        "basisgen latex", "")]
    assert not offenders
