"""python -m benchmarks: e2layers next to torch.nn.Conv2d and e2cnn, interleaved, with the issue's targets.

Sections (``--only`` picks some, comma-separated):

* ``build``: layer and model construction in new processes, with an empty and with a warm basis
  cache, and e2cnn's (``--e2cnn PYTHON``); the model is the D8 Wide ResNet of ``examples/e2wrn.py``;
* ``train``: a training step (forward + backward, the input requiring a gradient as inside a network)
  of ``R2Conv`` between 16 regular fields (C8, D8; SO2: fields of the irreps up to frequency 3), k=5,
  32 x 32, batch 1, 8, 32, against ``torch.nn.Conv2d`` with the same channels and against e2cnn;
* ``eval``: the eval-mode forward (cached filter) against ``Conv2d``;
* ``expansion``: weights -> filter alone, forward + backward, against e2cnn's;
* ``memory``: bytes of bases held by one D16 regular 32 -> 32 k=7 layer, checkpoint bytes of layers and
  of the Wide ResNet against the parameters they hold and the plain CNN they export to;
* ``wrn``: training throughput of the Wide ResNet against the same network exported to plain PyTorch;
* ``cuda``: ``train``, ``eval``, ``expansion`` and ``wrn`` on the GPU (skipped without one);
* ``startup``: a new process that imports torch and e2layers, builds the D8 Wide ResNet from a warm
  cache and runs one forward, against the same with plain torch (``benchmarks/bench_startup.py``);
* ``diffop``: ``R2Diffop`` (steerable PDOs) C8/D4 16 -> 16 regular, k=5, fd and gauss: construction
  (empty and warm cache, e2cnn's), training step against ``R2Conv``, ``Conv2d`` and e2cnn's
  (``benchmarks/bench_diffop.py``);
* ``pointconv``: ``R2PointConv`` (C8 regular, SO(2) irreps, a few thousand points, radius graph) training step
  against a plain-torch message-passing layer of the same channels and per-edge features
  (``benchmarks/bench_pointconv.py``).

Each comparison runs in warm worker processes (one per library: e2cnn needs its own interpreter), in
``--rounds`` rounds of short blocks that alternate between the implementations; figures are medians.

    python -m benchmarks --e2cnn /work/e2cnn-venv/bin/python          # everything (about 20 min on 2 cores)
    python -m benchmarks --quick                                      # a smoke run, a few minutes
    python -m benchmarks --only train,expansion --groups D8 --batches 1
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch

from benchmarks import bench_diffop, bench_layers, bench_pointconv, bench_startup

ROOT = Path(__file__).resolve().parents[1]
#: idle time before each block, so the OpenMP threads of the worker that ran last stop spinning
PAUSE_S = 0.3
SECTIONS = ("build", "train", "eval", "expansion", "memory", "wrn", "cuda", "startup", "diffop", "pointconv")


# ---- workers -----------------------------------------------------------------------------------------------
class Worker:
    """A ``benchmarks._worker`` process of one library, answering JSON requests."""

    def __init__(self, python: str, library: str, threads: int, device: str = "cpu"):
        self.library, self.device = library, device
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        if threads:   # no larger OpenMP/MKL pools than the torch threads asked for
            env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        self.process = subprocess.Popen([python, "-m", "benchmarks._worker", library, "--threads", str(threads),
                                         "--device", device], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=env, cwd=ROOT)
        self.hello = self._read()

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.library} worker exited (exit code {self.process.wait()})")
        return json.loads(line)

    def request(self, op: str, **kwargs) -> dict:
        self.process.stdin.write(json.dumps(dict(kwargs, op=op)) + "\n")
        self.process.stdin.flush()
        answer = self._read()
        if "error" in answer:
            raise RuntimeError(f"{self.library} worker, {op} {kwargs}: {answer['error']}\n{answer['traceback']}")
        return answer

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.process.stdin.flush()
            self.process.wait(timeout=60)


class Member:
    """One implementation in a comparison: a worker and a case."""

    def __init__(self, label: str, worker: Worker, case: dict):
        self.label, self.worker, self.case = label, worker, case
        self.key = f"{label}:{json.dumps(case, sort_keys=True)}"
        self.times: List[float] = []


def interleaved(members: List[Member], rounds: int, block_s: float) -> Dict[str, float]:
    """Median seconds per step of each member, timed in ``rounds`` alternating blocks of about ``block_s``."""
    reps = {}
    for m in members:
        seconds = m.worker.request("prepare", key=m.key, case=m.case)["seconds"]
        reps[m.label] = max(1, min(200, round(block_s / max(seconds, 1e-6))))
    for r in range(rounds):
        for i in range(len(members)):
            m = members[(i + r) % len(members)]     # rotate the order: no member always runs first
            time.sleep(PAUSE_S)
            m.times += m.worker.request("time", key=m.key, reps=reps[m.label])["times"]
    for m in members:
        m.worker.request("release", key=m.key)
    return {m.label: statistics.median(m.times) for m in members}


# ---- sections ----------------------------------------------------------------------------------------------
def layer_comparisons(kind: str, ctx: dict, device: str) -> List[dict]:
    """``train``/``eval``/``expansion`` rows: e2layers, its Conv2d, and e2cnn with its own Conv2d."""
    ours, theirs = ctx["workers"][device], ctx["e2cnn"] if device == "cpu" else None
    rows = []
    batches = [None] if kind == "expansion" else ctx["batches"]
    for group in ctx["groups"]:
        for batch in batches:
            case = dict(kind=kind, group=group, fields=16, k=5, size=32)
            if batch is not None:
                case["batch"] = batch
            members = [Member("e2layers", ours, dict(case, impl="r2conv"))]
            if kind != "expansion":
                members.append(Member("conv2d", ours, dict(case, impl="conv2d")))
            if theirs is not None:
                members.append(Member("e2cnn", theirs, dict(case, impl="r2conv")))
                if kind == "train":
                    members.append(Member("e2cnn_conv2d", theirs, dict(case, impl="conv2d")))
            t = interleaved(members, ctx["rounds"], ctx["block_s"])
            row = dict(section=kind, device=device, group=group, batch=batch, seconds=t)
            if "conv2d" in t:
                row["ratio_conv2d"] = t["e2layers"] / t["conv2d"]
                row["overhead_s"] = t["e2layers"] - t["conv2d"]
            if "e2cnn" in t:
                row["e2cnn_over_ours"] = t["e2cnn"] / t["e2layers"]
                if "e2cnn_conv2d" in t:
                    row["e2cnn_ratio_conv2d"] = t["e2cnn"] / t["e2cnn_conv2d"]
                    row["e2cnn_overhead_s"] = t["e2cnn"] - t["e2cnn_conv2d"]
            rows.append(row)
            print(f"  {kind} {device} {group} batch {batch}: " +
                  ", ".join(f"{k} {v * 1e3:.3f} ms" for k, v in t.items()), flush=True)
    return rows


def build_rows(ctx: dict) -> List[dict]:
    rows = []
    for case in ctx["build_cases"]:
        cold, warm, theirs = [], [], []
        for repeat in range(ctx["build_repeats"]):
            with tempfile.TemporaryDirectory() as d:   # cold: an empty cache; warm: a new process on it
                cold.append(bench_layers.run(sys.executable, "e2layers", case, d))
                warm.append(bench_layers.run(sys.executable, "e2layers", case, d))
            slow = case.startswith("wrn") and repeat > 0           # e2cnn takes about 30 s: once
            if ctx["e2cnn_python"] and not slow and not (ctx["quick"] and case.startswith("wrn")):
                theirs.append(bench_layers.run(ctx["e2cnn_python"], "e2cnn", case, tempfile.gettempdir()))
        med = lambda runs, k="build_s": statistics.median(r[k] for r in runs) if runs else None   # noqa: E731
        row = dict(section="build", case=case, parameters=warm[0]["weights"], cold_s=med(cold), warm_s=med(warm),
                   import_s=med(warm, "import_s"), e2cnn_s=med(theirs))
        if theirs:
            assert theirs[0]["weights"] == warm[0]["weights"], (case, theirs[0], warm[0])
            row["e2cnn_over_warm"] = row["e2cnn_s"] / row["warm_s"]
            row["cold_over_e2cnn"] = row["cold_s"] / row["e2cnn_s"]
        rows.append(row)
        print(f"  build {case}: cold {row['cold_s']:.3f} s, warm {row['warm_s']:.3f} s, e2cnn {row['e2cnn_s']}",
              flush=True)
    return rows


def memory_rows(ctx: dict) -> List[dict]:
    case = dict(group="D16", fields=32, k=7)
    rows = []
    row = dict(section="memory", case="D16 regular 32->32 k=7", **ctx["workers"]["cpu"].request("memory", case=case))
    if ctx["e2cnn"] is not None:
        row["e2cnn"] = ctx["e2cnn"].request("memory", case=case)
    rows.append(row)
    rows.append(dict(section="memory", case="wrn10_6_d8", **ctx["workers"]["cpu"].request("wrn_checkpoint", case={})))
    return rows


def wrn_rows(ctx: dict, device: str) -> List[dict]:
    rows = []
    for batch in ctx["wrn_batches"][device]:
        case = dict(kind="wrn_train", batch=batch)
        worker = ctx["workers"][device]
        t = interleaved([Member("e2layers", worker, dict(case, impl="e2layers")),
                         Member("exported", worker, dict(case, impl="exported"))], ctx["rounds"], ctx["block_s"])
        rows.append(dict(section="wrn", device=device, batch=batch, seconds=t,
                         images_per_s={k: batch / v for k, v in t.items()},
                         throughput_ratio=t["exported"] / t["e2layers"]))
        print(f"  wrn {device} batch {batch}: e2layers {t['e2layers'] * 1e3:.1f} ms, "
              f"exported {t['exported'] * 1e3:.1f} ms", flush=True)
    return rows


# ---- targets and the report --------------------------------------------------------------------------------
def targets(rows: List[dict]) -> List[dict]:
    """The issue's targets, each with the figure it is judged on (None where not measured)."""
    def find(section, **match):
        return [r for r in rows if r["section"] == section and all(r.get(k) == v for k, v in match.items())]
    out = []

    def add(name, value, met, detail):
        out.append(dict(target=name, value=value, met=met, detail=detail))
    for r in find("build", case="wrn"):
        if r.get("e2cnn_s"):
            add("D8 WRN build, warm cache: >= 20x faster than e2cnn", r["e2cnn_over_warm"],
                r["e2cnn_over_warm"] >= 20, f"{r['warm_s']:.2f} s vs {r['e2cnn_s']:.1f} s")
            add("D8 WRN build, empty cache: no slower than e2cnn", r["cold_over_e2cnn"], r["cold_over_e2cnn"] <= 1,
                f"{r['cold_s']:.2f} s vs {r['e2cnn_s']:.1f} s")
    for r in find("train", device="cpu", batch=32):
        if r["group"] in ("C8", "D8"):
            add(f"train step {r['group']} batch 32: within 3% of Conv2d", r["ratio_conv2d"],
                r["ratio_conv2d"] <= 1.03, f"{r['seconds']['e2layers'] * 1e3:.1f} ms vs "
                f"{r['seconds']['conv2d'] * 1e3:.1f} ms")
    for r in find("train", device="cpu", batch=1):
        if "e2cnn_overhead_s" in r:
            ratio = r["overhead_s"] / r["e2cnn_overhead_s"] if r["e2cnn_overhead_s"] > 0 else float("inf")
            add(f"train step {r['group']} batch 1: overhead <= half of e2cnn's", ratio, ratio <= 0.5,
                f"{r['overhead_s'] * 1e3:.2f} ms vs {r['e2cnn_overhead_s'] * 1e3:.2f} ms")
    for r in find("expansion", device="cpu"):
        if "e2cnn_over_ours" in r:
            add(f"expansion {r['group']}: >= 2x faster than e2cnn", r["e2cnn_over_ours"], r["e2cnn_over_ours"] >= 2,
                f"{r['seconds']['e2layers'] * 1e3:.3f} ms vs {r['seconds']['e2cnn'] * 1e3:.3f} ms")
    for r in find("eval", device="cpu"):
        add(f"eval forward {r['group']} batch {r['batch']}: within 1% of Conv2d", r["ratio_conv2d"],
            r["ratio_conv2d"] <= 1.01, f"{r['seconds']['e2layers'] * 1e3:.3f} ms vs "
            f"{r['seconds']['conv2d'] * 1e3:.3f} ms")
    for r in find("memory", case="D16 regular 32->32 k=7"):
        if "e2cnn" in r:
            ratio = r["basis_bytes"] / r["e2cnn"]["basis_bytes"]
            add("bases held, D16 regular 32->32 k=7: <= 1/10 of e2cnn's", ratio, ratio <= 0.1,
                f"{r['basis_bytes'] / 1e6:.2f} MB vs {r['e2cnn']['basis_bytes'] / 1e6:.1f} MB")
    for r in find("memory", case="wrn10_6_d8"):
        ok = not r["extra_keys"] and r["state_tensor_bytes"] == r["parameter_and_statistics_bytes"]
        add("checkpoint holds only parameters and running statistics", r["checkpoint_bytes"] / r["state_tensor_bytes"],
            ok, f"{r['checkpoint_bytes'] / 1e6:.2f} MB file for {r['state_tensor_bytes'] / 1e6:.2f} MB of tensors")
    for r in find("startup"):
        add(f"start-up (import, warm-cache D8 WRN build, one forward): e2layers adds <= "
            f"{bench_startup.MAX_OVERHEAD_S} s and <= {100 * bench_startup.MAX_OVERHEAD_OF_TORCH_IMPORT:.0f}% of "
            f"torch's import", r["overhead_s"], r["met"],
            f"{r['overhead_s']:.3f} s, {100 * r['overhead_of_torch_import']:.0f}% of {r['torch_import_s']:.3f} s")
    for r in find("wrn", device="cuda"):
        add(f"GPU: D8 WRN training throughput within 10% of its export (batch {r['batch']})", r["throughput_ratio"],
            r["throughput_ratio"] >= 0.9, f"{r['images_per_s']['e2layers']:.0f} vs "
            f"{r['images_per_s']['exported']:.0f} images/s")
    return out + bench_diffop.targets(rows)


def ms(value: Optional[float]) -> str:
    return "-" if value is None else f"{value * 1e3:.3f}"


def ratio(value: Optional[float], suffix: str = "") -> str:
    return "-" if value is None else f"{value:.3f}{suffix}"


def report(rows: List[dict], goals: List[dict]) -> str:
    lines = []
    build = [r for r in rows if r["section"] == "build"]
    if build:
        lines += ["construction in a new process (s; imports excluded)", "",
                  "| case | parameters | empty cache | warm cache | e2cnn | e2cnn / warm | empty / e2cnn |",
                  "|---|---|---|---|---|---|---|"]
        for r in build:
            e2 = "-" if r["e2cnn_s"] is None else f"{r['e2cnn_s']:.2f}"
            ratios = (f"{r['e2cnn_over_warm']:.0f}x | {r['cold_over_e2cnn']:.3f}" if r.get("e2cnn_s") else "- | -")
            lines.append(f"| {r['case']} | {r['parameters']:,} | {r['cold_s']:.3f} | {r['warm_s']:.3f} | {e2} | "
                         f"{ratios} |")
        lines.append("")
    for section, title in (("train", "training step (forward + backward), ms"), ("eval", "eval forward, ms"),
                           ("expansion", "filter expansion alone (forward + backward), ms")):
        chosen = [r for r in rows if r["section"] == section]
        if not chosen:
            continue
        lines += [title, "", "| device | group | batch | e2layers | Conv2d | e2layers / Conv2d | e2cnn | "
                  "e2cnn / its Conv2d | overhead: e2layers | overhead: e2cnn | e2cnn / e2layers |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in chosen:
            s = r["seconds"]
            cells = [r["device"], r["group"], r["batch"] or "-", ms(s["e2layers"]), ms(s.get("conv2d")),
                     ratio(r.get("ratio_conv2d")), ms(s.get("e2cnn")), ratio(r.get("e2cnn_ratio_conv2d")),
                     ms(r.get("overhead_s")), ms(r.get("e2cnn_overhead_s")), ratio(r.get("e2cnn_over_ours"), "x")]
            lines.append("| " + " | ".join(map(str, cells)) + " |")
        lines.append("")
    for r in rows:
        if r["section"] == "memory" and "basis_bytes" in r:
            e2 = r.get("e2cnn", {})
            lines += [f"memory, one {r['case']} layer (MB)", "",
                      "| | e2layers | e2cnn |", "|---|---|---|",
                      f"| bases held | {r['basis_bytes'] / 1e6:.2f} | {e2.get('basis_bytes', 0) / 1e6:.1f} |",
                      f"| checkpoint, train mode | {r['checkpoint_bytes'] / 1e6:.3f} | "
                      f"{e2.get('checkpoint_bytes', 0) / 1e6:.1f} |",
                      f"| checkpoint, eval mode | {r['eval_checkpoint_bytes'] / 1e6:.3f} | "
                      f"{e2.get('eval_checkpoint_bytes', 0) / 1e6:.1f} |",
                      f"| parameters | {r['parameter_bytes'] / 1e6:.3f} | {e2.get('parameter_bytes', 0) / 1e6:.3f} |",
                      ""]
        elif r["section"] == "memory":
            lines += [f"checkpoint of {r['case']} ({r['parameters']:,} parameters): "
                      f"{r['checkpoint_bytes']:,} bytes for {r['state_tensor_bytes']:,} bytes of parameters and "
                      f"running statistics (keys beyond them: {r['extra_keys'] or 'none'}); the plain CNN it exports "
                      f"to: {r['plain_parameters']:,} parameters, {r['plain_checkpoint_bytes']:,} bytes", ""]
    wrn = [r for r in rows if r["section"] == "wrn"]
    if wrn:
        lines += ["D8 Wide ResNet training step (ms) against its plain-PyTorch export", "",
                  "| device | batch | e2layers | exported | throughput e2layers / exported |", "|---|---|---|---|---|"]
        lines += [f"| {r['device']} | {r['batch']} | {ms(r['seconds']['e2layers'])} | {ms(r['seconds']['exported'])} "
                  f"| {r['throughput_ratio']:.3f} |" for r in wrn]
        lines.append("")
    for r in rows:
        if r["section"] == "startup":
            lines += ["start-up in a new process (s): import, warm-cache D8 Wide ResNet build, one forward", "",
                      bench_startup.table(r), ""]
    lines += bench_diffop.report(rows)
    lines += bench_pointconv.report(rows)
    if goals:
        lines += ["targets", "", "| target | figure | met |", "|---|---|---|"]
        lines += [f"| {g['target']} | {g['value']:.3g} ({g['detail']}) | {'yes' if g['met'] else 'NO'} |"
                  for g in goals]
    return "\n".join(lines)


def machine(args, ctx) -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    info = dict(date=datetime.datetime.now().isoformat(timespec="seconds"), cpu=model, cores=os.cpu_count(),
                platform=platform.platform(), python=platform.python_version(), torch=torch.__version__,
                threads=ctx["workers"]["cpu"].hello["threads"],
                command=" ".join(["python -m benchmarks"] + sys.argv[1:]),
                load_average_at_start=os.getloadavg() if hasattr(os, "getloadavg") else None,
                cuda=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
    if ctx["e2cnn"] is not None:
        info["e2cnn_python"] = args.e2cnn
    return info


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0],
                                     epilog=__doc__.split("\n\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--e2cnn", metavar="PYTHON", help="an interpreter with e2cnn 0.2.3 (numpy < 2)")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results.json"), help="where to write results")
    parser.add_argument("--only", help=f"comma-separated sections of {','.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="fewer cases, rounds and repeats")
    parser.add_argument("--groups", help="train/eval/expansion groups (default C8,D8,SO2; quick: C8,D8)")
    parser.add_argument("--batches", help="train/eval batch sizes (default 1,8,32; quick: 1,8)")
    parser.add_argument("--build-cases", help="bench_layers cases (default conv:C8:16:5,conv:D8:16:5,"
                        "conv:D16:32:7,stack,wrn)")
    parser.add_argument("--rounds", type=int, help="alternating blocks per comparison (default 5; quick: 2)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads in the workers (default: torch's)")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else set(SECTIONS)
    if only - set(SECTIONS):
        parser.error(f"--only: unknown sections {sorted(only - set(SECTIONS))}; choose from {','.join(SECTIONS)}")
    q = args.quick
    ctx = dict(quick=q, e2cnn_python=args.e2cnn, rounds=args.rounds or (2 if q else 5), block_s=0.15 if q else 0.4,
               groups=(args.groups or ("C8,D8" if q else "C8,D8,SO2")).split(","),
               batches=[int(b) for b in (args.batches or ("1,8" if q else "1,8,32")).split(",")],
               wrn_batches={"cpu": [2] if q else [8], "cuda": [32] if q else [32, 128]}, build_repeats=1 if q else 3,
               build_cases=(args.build_cases or ("conv:D8:16:5,wrn" if q else
                                                 "conv:C8:16:5,conv:D8:16:5,conv:D16:32:7,stack,wrn")).split(","))
    ctx["workers"] = {"cpu": Worker(sys.executable, "e2layers", args.threads)}
    ctx["e2cnn"] = Worker(args.e2cnn, "e2cnn", args.threads) if args.e2cnn else None
    cuda = torch.cuda.is_available()
    if "cuda" in only and cuda:
        ctx["workers"]["cuda"] = Worker(sys.executable, "e2layers", args.threads, device="cuda")
    rows: List[dict] = []
    try:
        info = machine(args, ctx)
        print(f"machine: {info['cpu']}, {info['cores']} cores, torch {info['torch']} ({info['threads']} threads), "
              f"load average {info['load_average_at_start']}", flush=True)
        if "build" in only:
            rows += build_rows(ctx)
        for kind in ("train", "eval", "expansion"):
            if kind in only:
                rows += layer_comparisons(kind, ctx, "cpu")
        if "memory" in only:
            rows += memory_rows(ctx)
        if "wrn" in only:
            rows += wrn_rows(ctx, "cpu")
        if "cuda" in only:
            if not cuda:
                print("  cuda: no GPU (torch.cuda.is_available() is False): skipped", flush=True)
            else:
                for kind in ("train", "eval", "expansion"):
                    rows += layer_comparisons(kind, ctx, "cuda")
                rows += wrn_rows(ctx, "cuda")
        if "startup" in only:
            rows.append(bench_startup.measure(repeats=2 if q else 5))
            print(f"  startup: e2layers adds {rows[-1]['overhead_s']:.3f} s", flush=True)
        if "diffop" in only:
            rows += bench_diffop.rows(ctx, Member, interleaved)
        if "pointconv" in only:
            rows += bench_pointconv.rows(ctx)
    finally:
        for w in list(ctx["workers"].values()) + [ctx["e2cnn"]]:
            if w is not None:
                w.close()
    goals = targets(rows)
    print()
    print(report(rows, goals))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(dict(machine=info, results=rows, targets=goals), indent=1, default=str))
    print(f"\nwritten: {args.json}")


if __name__ == "__main__":
    main()
