"""A warm read from the basis cache against computing the basis, side by side in one run.

Every figure except the last comes from its own fresh Python process (empty derivation memo), so a
"warm read" is what a new training script pays when the cache directory already holds the entry:

* compute: ``basisgen.sample_basis`` from scratch (the compact basis the cache stores) and, for
  scale, the dense (B, c_out, c_in, k, k) filters e2cnn keeps;
* cold get: ``BasisCache.get`` on an empty directory (compute + write the entry);
* warm get: ``BasisCache.get`` in a new process on the populated directory (read + checksum);
* in-process warm read: the same, repeated with the memo cleared (median of 50).

Usage::

    python benchmarks/bench_cache.py              # D16 regular -> regular, k = 7
    python benchmarks/bench_cache.py --group D8 --kernel-size 5
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
import numpy as np
import basisgen
from basisgen import cache
mode, name, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
G = basisgen.group_from_name(name)
rho = G.regular_representation
out = {}
if mode == "compute":
    t = time.perf_counter(); b = basisgen.sample_basis(rho, rho, k, dtype=np.float32)
    out["compact_s"] = time.perf_counter() - t
    t = time.perf_counter(); b.array; out["dense_s"] = time.perf_counter() - t
    out["compact_bytes"], out["dense_bytes"] = b.blocks.nbytes, b.array.nbytes
else:
    c = cache.BasisCache()
    t = time.perf_counter(); b = c.get(rho, rho, k); out["get_s"] = time.perf_counter() - t
    out["stats"] = c.stats
    if mode == "inprocess":
        times = []
        for _ in range(50):
            c.clear_memo(); t = time.perf_counter(); c.get(rho, rho, k); times.append(time.perf_counter() - t)
        out["get_s"] = sorted(times)[len(times) // 2]
print(json.dumps(out))
"""


def child(mode: str, group: str, k: int, cache_dir: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), BASISGEN_CACHE=cache_dir)
    out = subprocess.run([sys.executable, "-c", CHILD, mode, group, str(k)], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", default="D16")
    parser.add_argument("--kernel-size", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    g, k = args.group, args.kernel_size
    compute, cold, warm = [], [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as d:
            compute.append(child("compute", g, k, d))
            cold.append(child("get", g, k, d))
            assert cold[-1]["stats"]["computed"] == 1
            warm.append(child("get", g, k, d))
            assert warm[-1]["stats"]["disk_hits"] == 1 and warm[-1]["stats"]["computed"] == 0
            inproc = child("inprocess", g, k, d)
    med = statistics.median
    compact = med(r["compact_s"] for r in compute)
    dense = compact + med(r["dense_s"] for r in compute)
    warm_s = med(r["get_s"] for r in warm)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{g} regular -> regular, k={k}, float32; medians of {args.repeats} fresh processes")
    print("| what | time (ms) | warm read is faster by |")
    print("|---|---|---|")
    print(f"| compute from scratch, compact ({compute[0]['compact_bytes'] / 1e6:.2f} MB) | {compact * 1e3:.1f} | "
          f"{compact / warm_s:.0f}x |")
    print(f"| compute from scratch, dense filters ({compute[0]['dense_bytes'] / 1e6:.0f} MB) | {dense * 1e3:.1f} | "
          f"{dense / warm_s:.0f}x |")
    print(f"| cold get: compute + write the entry | {med(r['get_s'] for r in cold) * 1e3:.1f} | |")
    print(f"| **warm get in a new process** (read + SHA-256 check) | **{warm_s * 1e3:.2f}** | |")
    print(f"| warm get in a warm process (memo cleared, median of 50) | {inproc['get_s'] * 1e3:.2f} | |")


if __name__ == "__main__":
    main()
