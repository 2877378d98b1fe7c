"""Time deriving + sampling the regular -> regular basis from scratch, side by side with e2cnn.

Each measurement runs in a fresh Python process, so the derivation memo is empty and nothing is
cached: the timed work is the symbolic derivation of every irrep pair, the regular representation's
change of basis and the sampling on the grid (float32, as a layer uses it).  Python start-up and the
import of basisgen are reported separately.

With ``--e2cnn PYTHON`` (an interpreter that has e2cnn 0.2.3 and numpy<2), the same process-fresh
timing is taken for e2cnn building ``R2Conv`` between 8 regular fields (which samples the same
regular -> regular basis once), and the ratio is printed.

Usage::

    python benchmarks/bench_basisgen.py                       # basisgen only
    python benchmarks/bench_basisgen.py --e2cnn /work/e2cnn-venv/bin/python --e2cnn-cases D16:5,D16:7
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

OURS = r"""
import json, sys, time
t0 = time.perf_counter()
import basisgen
from basisgen.sampling import sample_basis
t1 = time.perf_counter()
family, N, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
G = basisgen.cyclic_group(N) if family == "C" else basisgen.dihedral_group(N)
rho = G.regular_representation
basis = sample_basis(rho, rho, k, dtype="float32")
t2 = time.perf_counter()
basis.array
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "compact_s": t2 - t1, "work_s": t3 - t1, "dim": len(basis)}))
"""

E2CNN = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
t0 = time.perf_counter()
from e2cnn import gspaces, nn
t1 = time.perf_counter()
family, N, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
gs = gspaces.Rot2dOnR2(N) if family == "C" else gspaces.FlipRot2dOnR2(N)
ft = nn.FieldType(gs, 8 * [gs.regular_repr])
conv = nn.R2Conv(ft, ft, k)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "work_s": t2 - t1, "dim": conv.basisexpansion.dimension() // 64}))
"""


def run(python: str, code: str, family: str, N: int, k: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([python, "-c", code, family, str(N), str(k)], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", default="C4,C8,C16,D4,D8,D16")
    parser.add_argument("--kernel-sizes", default="3,5,7,9")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per case; the median is reported")
    parser.add_argument("--e2cnn", help="a Python interpreter with e2cnn 0.2.3 installed")
    parser.add_argument("--e2cnn-cases", default="D16:5,D16:7", help="GROUP:k pairs to time e2cnn on")
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| group | k | dim | derive + sample, compact (s) | + dense filters (s) | import (s) |")
    print("|---|---|---|---|---|---|")
    ours = {}
    for name in args.groups.split(","):
        family, N = name[0], int(name[1:])
        for k in map(int, args.kernel_sizes.split(",")):
            runs = sorted((run(sys.executable, OURS, family, N, k) for _ in range(args.repeats)),
                          key=lambda r: r["work_s"])
            r = runs[len(runs) // 2]
            ours[(name, k)] = r
            print(f"| {name} regular->regular | {k} | {r['dim']} | {r['compact_s']:.3f} | {r['work_s']:.3f} | "
                  f"{r['import_s']:.2f} |")
    if args.e2cnn:
        print()
        print("| group | k | e2cnn 0.2.3 R2Conv(8 regular -> 8 regular) (s) | basisgen, dense (s) | speed-up |")
        print("|---|---|---|---|---|")
        for case in args.e2cnn_cases.split(","):
            name, k = case.split(":")
            k = int(k)
            theirs = run(args.e2cnn, E2CNN, name[0], int(name[1:]), k)
            mine = ours.get((name, k)) or run(sys.executable, OURS, name[0], int(name[1:]), k)
            print(f"| {name} | {k} | {theirs['work_s']:.2f} | {mine['work_s']:.3f} | "
                  f"{theirs['work_s'] / mine['work_s']:.0f}x |")


if __name__ == "__main__":
    main()
