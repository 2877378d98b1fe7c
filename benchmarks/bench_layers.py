"""Layer construction time in a fresh process, with a warm and with an empty basis cache, next to e2cnn.

Each figure is the time to construct the layers (imports excluded) in a new Python process:

* ``empty``: the cache directory starts empty (every basis is derived, sampled and written);
* ``warm``: a second process on the same directory (every basis is read from disk);
* ``e2cnn``: e2cnn 0.2.3 building the same layers in a new process (with ``--e2cnn PYTHON``).

Cases: ``conv:GROUP:FIELDS:K`` builds one R2Conv between FIELDS regular fields (for SO2/O2 a field
is the sum of the irreps up to frequency 3), ``stack`` builds the 13-layer D8 stack of the layers
issue (regular fields, widths 8 to 24, k=3, the first k=5 and the last k=7), and ``wrn`` (or
``wrn:PRESET``) the Wide ResNet of ``examples/e2wrn.py`` (default: the D8 model of 6.1 M parameters).
"weights" counts every parameter (batch norms and the classifier too, for ``wrn``).

``python -m benchmarks`` runs these next to its other measurements (section ``build``).

Usage::

    python benchmarks/bench_layers.py --cases conv:D16:32:7,stack --e2cnn /work/e2cnn-venv/bin/python
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BUILD = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
library, case = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
from benchmarks._cases import field_space, library as load
gspaces, nn, group = load(library)
t1 = time.perf_counter()
if case == "stack":
    gs, rep = field_space(gspaces, group, "D8")
    widths = [8, 8, 12, 12, 12, 16, 16, 16, 20, 20, 20, 24, 24, 24]
    kernels = [5] + [3] * 11 + [7]
    layers = [nn.R2Conv(nn.FieldType(gs, a * [rep]), nn.FieldType(gs, b * [rep]), k, padding=k // 2)
              for a, b, k in zip(widths, widths[1:], kernels)]
elif case.split(":")[0] == "wrn":
    from examples.e2wrn import build_model
    layers = [build_model(*case.split(":")[1:], backend=library)]
else:
    _, name, fields, k = case.split(":")
    gs, rep = field_space(gspaces, group, name)
    t = nn.FieldType(gs, int(fields) * [rep])
    layers = [nn.R2Conv(t, t, int(k))]
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "build_s": t2 - t1,
                  "weights": sum(p.numel() for l in layers for p in l.parameters())}))
"""


def run(python: str, library: str, case: str, cache_dir: str) -> dict:
    """Build ``case`` with ``library`` in a new ``python`` process on the basis cache ``cache_dir``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), BASISGEN_CACHE=cache_dir)
    out = subprocess.run([python, "-c", BUILD, library, case], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="conv:D16:32:7,stack")
    parser.add_argument("--e2cnn", help="a Python interpreter with e2cnn 0.2.3 installed")
    args = parser.parse_args()
    print("| case | weights | e2layers, empty cache (s) | e2layers, warm cache (s) | e2cnn (s) | e2cnn / warm |")
    print("|---|---|---|---|---|---|")
    for case in args.cases.split(","):
        with tempfile.TemporaryDirectory() as d:
            empty = run(sys.executable, "e2layers", case, d)
            warm = run(sys.executable, "e2layers", case, d)
        theirs = run(args.e2cnn, "e2cnn", case, d) if args.e2cnn else None
        e2 = f"{theirs['build_s']:.2f}" if theirs else "-"
        ratio = f"{theirs['build_s'] / warm['build_s']:.0f}x" if theirs else "-"
        assert theirs is None or theirs["weights"] == warm["weights"], (theirs, warm)
        print(f"| {case} | {warm['weights']} | {empty['build_s']:.3f} | {warm['build_s']:.3f} | {e2} | {ratio} |")


if __name__ == "__main__":
    main()
