"""What the eval-mode parameter check costs: R2Conv's eval forward against the same forward without the check,
against ``torch.nn.Conv2d``, and against expanding the filter on every call.

In eval mode without autograd, R2Conv reuses its expanded filter while the parameters hold the values it was
expanded from; every forward compares the current ``weights`` and ``bias`` with those values, bit for bit
(a version counter would miss ``p.data.mul_()``, the usual EMA update).  Rows, all in one process with the
same input, interleaved in rounds (medians of the per-round medians):

* ``conv2d``: ``torch.nn.Conv2d`` with the same channels, kernel and padding;
* ``r2conv``: R2Conv's eval forward as shipped (check, then the cached filter);
* ``r2conv, no check``: the same forward handed the cached filter without comparing anything;
* ``r2conv, version key``: the key this check replaced (the parameters' version counters, data pointers,
  dtype, device), which missed changes made through ``.data``;
* ``r2conv, re-expand``: no cache at all, the filter expanded on every call;
* ``check alone``: the comparison itself, on the layer's parameters.

Usage::

    python -m benchmarks.bench_eval_check                       # C8 regular 16 -> 16, k=5, 32x32, batch 1
    python -m benchmarks.bench_eval_check --group D8 --batch 8 --threads 2
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable, Dict

import torch
import torch.nn.functional as F

from benchmarks._cases import conv_layer


def _time(fn: Callable[[], None], reps: int) -> float:
    """Median seconds of ``reps`` calls."""
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure(group: str, fields: int, k: int, size: int, batch: int, rounds: int, reps: int) -> Dict[str, float]:
    from e2layers import nn
    from e2layers.nn._same_bits import same_bits
    torch.manual_seed(0)
    conv, _ = conv_layer("e2layers", group, fields, k)
    conv.eval()
    c = conv.in_type.size
    plain = torch.nn.Conv2d(c, c, k, padding=k // 2).eval()
    x = torch.randn(batch, c, size, size)
    gx = nn.GeometricTensor(x, conv.in_type)

    with torch.no_grad():
        conv(gx)                                                   # fills the cache
    cache = conv._eval_cache
    unchecked = nn.R2Conv.__new__(nn.R2Conv)                       # the same layer, its check bypassed
    unchecked.__dict__.update(conv.__dict__)
    unchecked._cached_filter_and_bias = lambda: (cache.filter, cache.expanded_bias)

    def version_key():
        w, b = conv.weights, conv.bias
        return (w._version, w.data_ptr(), w.dtype, w.device, torch.is_inference_mode_enabled(), b._version,
                b.data_ptr())
    keyed = nn.R2Conv.__new__(nn.R2Conv)
    keyed.__dict__.update(conv.__dict__)
    key = version_key()
    keyed._cached_filter_and_bias = lambda: (cache.filter, cache.expanded_bias) if version_key() == key else None

    def reexpand():
        filt, bias = conv.expand_parameters()
        nn.GeometricTensor(F.conv2d(x, filt, bias, conv.stride, conv.padding, conv.dilation), conv.out_type)

    weights, bias = conv.weights.detach(), conv.bias.detach()
    cases = {
        "conv2d": lambda: plain(x),
        "r2conv": lambda: conv(gx),
        "r2conv, no check": lambda: unchecked(gx),
        "r2conv, version key": lambda: keyed(gx),
        "r2conv, re-expand": reexpand,
        "check alone": lambda: (same_bits(weights, cache.weights), same_bits(bias, cache.bias)),
    }
    results: Dict[str, list] = {name: [] for name in cases}
    with torch.no_grad():
        for fn in cases.values():                                  # warm-up
            for _ in range(3):
                fn()
        for r in range(rounds):
            names = list(cases)
            names = names[r % len(names):] + names[:r % len(names)]   # no case always runs first
            for name in names:
                results[name].append(_time(cases[name], reps))
    assert conv._eval_cache is cache, "the check must not have re-expanded the filter"
    out = {name: statistics.median(times) for name, times in results.items()}
    out["weights"] = conv.weights.numel()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", default="C8")
    parser.add_argument("--fields", type=int, default=16)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    r = measure(args.group, args.fields, args.k, args.size, args.batch, args.rounds, args.reps)
    conv2d, unchecked = r["conv2d"], r["r2conv, no check"]
    print(f"{args.group} regular {args.fields} -> {args.fields}, k={args.k}, {args.size}x{args.size}, batch "
          f"{args.batch}, {r['weights']} weights, {torch.get_num_threads()} thread(s), torch {torch.__version__}")
    print("| eval forward | time (µs) | / Conv2d | - no check (µs) |")
    print("|---|---|---|---|")
    for name in ("conv2d", "r2conv", "r2conv, no check", "r2conv, version key", "r2conv, re-expand", "check alone"):
        t = r[name]
        extra = "-" if name in ("conv2d", "check alone") else f"{(t - unchecked) * 1e6:+.1f}"
        print(f"| {name} | {t * 1e6:.1f} | {t / conv2d:.3f} | {extra} |")


if __name__ == "__main__":
    main()
