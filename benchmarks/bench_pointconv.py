"""Point convolutions: ``nn.R2PointConv`` against a plain-torch message-passing layer of the same size.

Section ``pointconv`` of ``python -m benchmarks`` (``--only pointconv``); also ``python -m benchmarks.bench_pointconv``
on its own.  A cloud of N points uniform in a square whose radius graph (``nn.radius_graph``, radius R = 1.5) has
about 16 neighbours per point, self-loops included; fields: C8 4 -> 4 regular (32 channels) and SO(2) 4 x (irreps
0..3) -> the same (28 channels); ``width=R, n_rings=3``, escnn's defaults otherwise.

The plain layer is the same layer without the equivariance constraint: the same channels, the same per-edge
features (each ring times cos/sin of each harmonic the steerable basis uses) and the same algorithm (features times
the sources summed per target, then one matrix product), with a free (C_out, C_in) matrix per feature.  It has more
parameters: a plain kernel with C_out x C_in entries per feature cannot have as few as the steerable one (both counts
are reported).  Timed: a training step, forward + backward, the input features requiring a gradient; the graph is
built once, outside the timing.  The two layers alternate in ``rounds`` blocks; figures are medians.  escnn does not
install on this Python (it needs torch_geometric and an old lie_learn): there is no escnn column.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from typing import Dict, List

import torch

from e2layers import gspaces, nn

NEIGHBOURS = 16
#: the graph radius and the filter width: rings at 0, R/2, R; frequencies up to 3r (escnn's default cutoff)
RADIUS = 1.5
CASES = ("C8 regular", "SO2 irreps")


def _types(case: str):
    if case == "C8 regular":
        gs = gspaces.Rot2dOnR2(8)
        t = nn.FieldType(gs, 4 * [gs.regular_repr])
    else:
        gs = gspaces.Rot2dOnR2(-1, maximum_frequency=3)
        t = nn.FieldType(gs, 4 * [gs.irrep(k) for k in range(4)])
    return t, t


class PlainPointConv(torch.nn.Module):
    """A message-passing layer in plain torch: ``out_i = mean_j sum_f phi_f(x_j - x_i) W_f x_j + b`` with the
    steerable layer's per-edge features ``phi`` (``features``, a callable of the offsets) and free ``W_f``."""

    def __init__(self, c_in: int, c_out: int, n_features: int, features):
        super().__init__()
        self.features = features
        self.weight = torch.nn.Parameter(torch.randn(n_features, c_out, c_in) / math.sqrt(n_features * c_in))
        self.bias = torch.nn.Parameter(torch.zeros(c_out))

    def forward(self, x: torch.Tensor, pos: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        src, dst = edge_index
        phi = self.features(pos[src] - pos[dst])                                     # (E, F)
        F, C = phi.shape[1], x.shape[1]
        gathered = x.new_zeros(x.shape[0], F * C).index_add(0, dst, (phi[:, :, None] * x[src][:, None]).reshape(-1, F * C))
        degree = torch.zeros(x.shape[0], dtype=x.dtype).index_add_(0, dst, torch.ones_like(dst, dtype=x.dtype))
        gathered = gathered / degree.clamp(min=1)[:, None]
        return gathered @ self.weight.permute(0, 2, 1).reshape(F * C, -1) + self.bias


def _cloud(n: int, seed: int = 0):
    """``n`` points uniform in a square sized so that the graph of radius ``RADIUS`` has ``NEIGHBOURS`` per point."""
    g = torch.Generator().manual_seed(seed)
    side = RADIUS * math.sqrt(math.pi * n / NEIGHBOURS)
    return side * torch.rand(n, 2, generator=g), RADIUS


def prepare(case: str, n: int):
    t_in, t_out = _types(case)
    pos, radius = _cloud(n)
    edges = nn.radius_graph(pos, radius, loop=True, chunk_size=1024)
    conv = nn.R2PointConv(t_in, t_out, width=radius, n_rings=3)
    plain = PlainPointConv(t_in.size, t_out.size, conv.n_features, lambda d: conv.edge_features(d).detach())
    x = torch.randn(n, t_in.size)

    def step_steerable():
        inp = x.clone().requires_grad_()
        conv(nn.GeometricTensor(inp, t_in, pos), edges).tensor.square().mean().backward()

    def step_plain():
        inp = x.clone().requires_grad_()
        plain(inp, pos, edges).square().mean().backward()

    info = dict(case=case, points=n, edges=int(edges.shape[1]), channels=[t_in.size, t_out.size],
                features=conv.n_features, parameters={"R2PointConv": sum(p.numel() for p in conv.parameters()),
                                                      "plain": sum(p.numel() for p in plain.parameters())})
    return info, {"R2PointConv": step_steerable, "plain": step_plain}


def interleaved(steps: Dict[str, callable], rounds: int, block_s: float) -> Dict[str, float]:
    """Median seconds per call of each step, in ``rounds`` alternating blocks of about ``block_s``."""
    reps, times = {}, {k: [] for k in steps}
    for k, f in steps.items():
        f()                                        # warm-up
        t0 = time.perf_counter()
        f()
        reps[k] = max(1, min(50, round(block_s / max(time.perf_counter() - t0, 1e-6))))
    names = list(steps)
    for r in range(rounds):
        for i in range(len(names)):
            k = names[(i + r) % len(names)]
            for _ in range(reps[k]):
                t0 = time.perf_counter()
                steps[k]()
                times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def rows(ctx: dict) -> List[dict]:
    """One row per case: the medians and their ratio."""
    out = []
    for case in CASES:
        info, steps = prepare(case, ctx.get("points", 2000 if ctx["quick"] else 4000))
        t = interleaved(steps, ctx["rounds"], ctx["block_s"])
        row = dict(section="pointconv", seconds=t, ratio_plain=t["R2PointConv"] / t["plain"], **info)
        out.append(row)
        print(f"  pointconv {case}: R2PointConv {t['R2PointConv'] * 1e3:.2f} ms, plain {t['plain'] * 1e3:.2f} ms, "
              f"ratio {row['ratio_plain']:.3f}", flush=True)
    return out


def report(all_rows: List[dict]) -> List[str]:
    chosen = [r for r in all_rows if r["section"] == "pointconv"]
    if not chosen:
        return []
    lines = ["R2PointConv training step (forward + backward), ms, against a plain message-passing layer", "",
             "| case | points | edges | channels | per-edge features | parameters: R2PointConv / plain | R2PointConv | "
             "plain | R2PointConv / plain |", "|---|---|---|---|---|---|---|---|---|"]
    for r in chosen:
        s, p = r["seconds"], r["parameters"]
        lines.append(f"| {r['case']} | {r['points']} | {r['edges']} | {r['channels'][0]} -> {r['channels'][1]} | "
                     f"{r['features']} | {p['R2PointConv']:,} / {p['plain']:,} | {s['R2PointConv'] * 1e3:.2f} | "
                     f"{s['plain'] * 1e3:.2f} | {r['ratio_plain']:.3f} |")
    return lines + [""]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_pointconv", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--points", type=int)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args(argv)
    ctx = dict(quick=args.quick, rounds=args.rounds or (2 if args.quick else 5), block_s=0.15 if args.quick else 0.4)
    if args.points:
        ctx["points"] = args.points
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    result = rows(ctx)
    print("\n".join(report(result)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
