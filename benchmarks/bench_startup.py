"""Start-up cost: a new process that imports torch and e2layers, builds the D8 Wide ResNet from a warm
cache and runs one forward, against the same with plain torch.

Two scripts, each timed as a whole new process (from the start of the interpreter to its exit) and in
phases (imports, construction, forward), in alternating runs, after one run that warms the caches a user's
second run finds warm: the basis cache, and the byte code of the project's modules (``compileall``, as
``pip install`` does; torch's byte code is installed with it):

* ``e2layers``: ``import torch; import e2layers``, ``build_model("wrn10_6_d8")`` of ``examples/e2wrn.py``
  on a basis cache warmed by a first run, one training-mode forward of a ``(1, 3, 32, 32)`` batch;
* ``torch``: ``import torch`` and the same Wide ResNet made of ``torch.nn`` layers with the channels of
  the equivariant one (the network ``nn.export`` turns it into: same convolutions, same work in the
  forward), built and run the same way; the two scripts check that their convolution shapes agree.

Targets: e2layers adds at most 0.3 s to the process, and at most 25% of torch's own import time.  The
machine's load average is reported: on a shared machine every figure grows with it, unevenly.

``python -m benchmarks`` runs this as its section ``startup``.

Usage::

    python benchmarks/bench_startup.py --repeats 5
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]

#: e2layers may add at most this many seconds to the process ...
MAX_OVERHEAD_S = 0.3
#: ... and at most this fraction of torch's own import time
MAX_OVERHEAD_OF_TORCH_IMPORT = 0.25
#: the project's source folders the two scripts import from (byte-compiled before timing)
SOURCES = ("basisgen", "cache", "e2layers", "examples")

E2LAYERS = r"""
import time
t0 = time.perf_counter()
import json, sys
import torch
t1 = time.perf_counter()
import e2layers
t2 = time.perf_counter()
h5py_at_import = "h5py" in sys.modules
from examples.e2wrn import build_model
model = build_model("wrn10_6_d8")
t3 = time.perf_counter()
out = model(torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)))
t4 = time.perf_counter()
convs = [[m.in_type.size, m.out_type.size, m.kernel_size, torch.nn.modules.utils._pair(m.stride)[0]]
         for m in model.modules() if isinstance(m, e2layers.nn.R2Conv)]
print(json.dumps(dict(torch_s=t1 - t0, library_s=t2 - t1, build_s=t3 - t2, forward_s=t4 - t3, total_s=t4 - t0,
                      convs=convs, lazy_loaded=[m for m in ("sympy", "scipy") if m in sys.modules],
                      h5py_at_import=h5py_at_import)))
"""

TORCH = r"""
import time
t0 = time.perf_counter()
import json, math, sys
import torch
t1 = time.perf_counter()
from examples.e2wrn import WideBasic, build_model


class Layers:
    '''The layer constructors WideBasic asks for, as torch.nn layers on channel counts.'''
    InnerBatchNorm = staticmethod(lambda c, momentum=0.1: torch.nn.BatchNorm2d(c, momentum=momentum))
    ReLU = staticmethod(lambda c, inplace=False: torch.nn.ReLU(inplace=inplace))
    PointwiseDropout = staticmethod(lambda c, p=0.5: torch.nn.Dropout(p))
    R2Conv = staticmethod(lambda i, o, k, padding=0, stride=1, bias=True, sigma=None, frequencies_cutoff=None:
                          torch.nn.Conv2d(i, o, k, stride=stride, padding=padding, bias=bias))


def plain_wrn(depth=10, widen=6, order=16, classes=10):
    '''The D8 Wide ResNet's channels (e2cnn's fixparams rule) with plain layers.'''
    blocks, root = (depth - 4) // 6, math.sqrt(order)
    regular = lambda planes: int(planes * root / order) * order
    c = regular(16)
    layers = [torch.nn.Conv2d(3, c, 5, padding=2, bias=False)]
    for stage, (planes, stride) in enumerate([(16 * widen, 1), (32 * widen, 2), (64 * widen, 2)]):
        main = regular(planes)
        last = int(planes * root) if stage == 2 else main
        for b in range(blocks):
            out = last if b == blocks - 1 else main
            layers.append(WideBasic(Layers, c, main, out, 5, 0.3, stride if b == 0 else 1))
            c = out
    layers += [torch.nn.BatchNorm2d(c, momentum=0.9), torch.nn.ReLU(inplace=True), torch.nn.AdaptiveAvgPool2d(1),
               torch.nn.Flatten(), torch.nn.Linear(c, classes)]
    return torch.nn.Sequential(*layers)


model = plain_wrn()
t3 = time.perf_counter()
out = model(torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)))
t4 = time.perf_counter()
convs = [[m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0]] for m in model.modules()
         if isinstance(m, torch.nn.Conv2d)]
print(json.dumps(dict(torch_s=t1 - t0, library_s=0.0, build_s=t3 - t1, forward_s=t4 - t3, total_s=t4 - t0,
                      convs=convs, lazy_loaded=[m for m in ("sympy", "scipy") if m in sys.modules])))
"""


def run(script: str, cache_dir: str, python: str = sys.executable) -> Dict:
    """Run ``script`` in a new process on the cache ``cache_dir``: its phases and ``process_s``, the wall
    time from the start of the interpreter to its exit."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), BASISGEN_CACHE=cache_dir)
    t0 = time.perf_counter()
    out = subprocess.run([python, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(f"the start-up script failed (exit code {out.returncode}):\n{out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - t0
    return result


def measure(repeats: int = 5, cache_dir: str = None) -> Dict:
    """Medians of ``repeats`` alternating runs of both scripts, after one run that warms the caches."""
    for source in SOURCES:                           # byte code, so that no run compiles the project's modules
        compileall.compile_dir(str(ROOT / source), quiet=1)
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as scratch:
        cache_dir = cache_dir or scratch
        run(E2LAYERS, cache_dir)                     # warms the basis cache (and the file system)
        runs: Dict[str, List[Dict]] = {"e2layers": [], "torch": []}
        for r in range(repeats):
            for name in (("e2layers", "torch") if r % 2 == 0 else ("torch", "e2layers")):
                runs[name].append(run(E2LAYERS if name == "e2layers" else TORCH, cache_dir))
    load.append(os.getloadavg()[0])
    if runs["e2layers"][0]["convs"] != runs["torch"][0]["convs"]:
        raise AssertionError("the plain network's convolutions differ from the equivariant network's: "
                             f"{runs['torch'][0]['convs']} vs {runs['e2layers'][0]['convs']}")
    keys = ("process_s", "torch_s", "library_s", "build_s", "forward_s", "total_s")
    medians = {name: {k: statistics.median(r[k] for r in rs) for k in keys} for name, rs in runs.items()}
    torch_import = statistics.median(r["torch_s"] for rs in runs.values() for r in rs)
    overhead = medians["e2layers"]["process_s"] - medians["torch"]["process_s"]
    return dict(section="startup", repeats=repeats, seconds=medians, torch_import_s=torch_import,
                overhead_s=overhead, overhead_of_torch_import=overhead / torch_import,
                lazy_loaded=sorted({m for r in runs["e2layers"] for m in r["lazy_loaded"]}),
                h5py_at_import=any(r["h5py_at_import"] for r in runs["e2layers"]), load_average=load,
                met=overhead <= MAX_OVERHEAD_S and overhead <= MAX_OVERHEAD_OF_TORCH_IMPORT * torch_import)


def table(row: Dict) -> str:
    """The result as a Markdown table."""
    s = row["seconds"]
    lines = ["| | process | import torch | import e2layers | build | forward |", "|---|---|---|---|---|---|"]
    for name in ("torch", "e2layers"):
        r = s[name]
        lines.append(f"| {name} | {r['process_s']:.3f} | {r['torch_s']:.3f} | {r['library_s']:.3f} | "
                     f"{r['build_s']:.3f} | {r['forward_s']:.3f} |")
    lines.append(f"\ne2layers adds {row['overhead_s']:.3f} s = {100 * row['overhead_of_torch_import']:.0f}% of "
                 f"torch's import ({row['torch_import_s']:.3f} s); target <= {MAX_OVERHEAD_S} s and <= "
                 f"{100 * MAX_OVERHEAD_OF_TORCH_IMPORT:.0f}%: {'met' if row['met'] else 'NOT met'}; "
                 f"sympy/scipy loaded: {', '.join(row['lazy_loaded']) or 'neither'}")
    if "load_average" in row:        # rows recorded before these were measured have neither
        lines[-1] += (f"; h5py loaded by `import e2layers`: {'yes' if row['h5py_at_import'] else 'no'}; load "
                      f"average {row['load_average'][0]:.1f} -> {row['load_average'][1]:.1f} on {os.cpu_count()} cores")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each script (default 5)")
    args = parser.parse_args()
    print(table(measure(args.repeats)))


if __name__ == "__main__":
    main()
