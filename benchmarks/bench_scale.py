"""torch.compile, mixed precision and channels_last on an e2layers CNN: step times and equivariance errors.

One process, one network (C8 or D4; the layers below, widths in regular fields), one batch:

    R2Conv(3 trivial -> F, k=5) -> InnerBatchNorm -> ReLU -> PointwiseMaxPool(2)
    -> R2Conv(F -> F, k=3) -> InnerBatchNorm -> ReLU -> PointwiseMaxPool(2)
    -> R2Conv(F -> 2F, k=3) -> InnerBatchNorm -> ReLU -> GroupPooling -> global average pool -> Linear(10)

Rows (each on its own copy of the same initial network):

* training step = forward + cross-entropy + backward, in train mode: eager float32; ``torch.compile``
  (default inductor backend, on an empty inductor cache; "first call" is the compile); eager under
  ``torch.autocast("cpu", torch.bfloat16)``; eager with model and input in ``torch.channels_last``; for
  scale, the same layers as plain PyTorch modules (``nn.export``, then trained as a plain CNN), contiguous
  and channels_last;
* eval forward without autograd: eager; ``nn.export`` to plain PyTorch; ``torch.compile`` of the export.

Step times are medians over ``--steps`` rounds, each running every variant once in turn (after a warm-up
call each), so that changes in the machine's load hit all variants alike.  Then the equivariance errors,
after the float32 training steps, in eval mode: ``max |f(g x) - g f(x)| / max |f(x)|`` over the grid
rotations (and flips) g for the feature map before the group pooling, and ``max |y(g x) - y(x)| / max |y|``
for the invariant logits, in float32 and under bfloat16 autocast.

Usage::

    python benchmarks/bench_scale.py                       # C8, 8 regular fields, batch 16, 32 x 32
    python benchmarks/bench_scale.py --group D4 --fields 16 --batch 32
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import copy
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

# a fresh basis cache and a fresh inductor cache, removed at exit: the compile times are cold (set these
# variables to use caches of your own)
for _variable in ("BASISGEN_CACHE", "TORCHINDUCTOR_CACHE_DIR"):
    if _variable not in os.environ:
        os.environ[_variable] = tempfile.mkdtemp(prefix="bench-scale-")
        atexit.register(shutil.rmtree, os.environ[_variable], True)

import torch  # noqa: E402
import torch._dynamo  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from e2layers import gspaces, nn  # noqa: E402


def build(group: str, fields: int):
    """``(model, features)``: the network above, and its part up to the last ReLU (shares the modules)."""
    gs = gspaces.Rot2dOnR2(8) if group == "C8" else gspaces.FlipRot2dOnR2(4)
    t_in = nn.FieldType(gs, 3 * [gs.trivial_repr])
    t1 = nn.FieldType(gs, fields * [gs.regular_repr])
    t2 = nn.FieldType(gs, 2 * fields * [gs.regular_repr])
    features = nn.SequentialModule(
        nn.R2Conv(t_in, t1, 5, padding=2), nn.InnerBatchNorm(t1), nn.ReLU(t1), nn.PointwiseMaxPool(t1, 2),
        nn.R2Conv(t1, t1, 3, padding=1), nn.InnerBatchNorm(t1), nn.ReLU(t1), nn.PointwiseMaxPool(t1, 2),
        nn.R2Conv(t1, t2, 3, padding=1), nn.InnerBatchNorm(t2), nn.ReLU(t2))
    pooled = nn.FieldType(gs, 2 * fields * [gs.trivial_repr])
    model = torch.nn.Sequential(nn.TensorToGeometric(t_in), features, nn.GroupPooling(t2),
                                nn.PointwiseAdaptiveAvgPool(pooled, 1), nn.GeometricToTensor(), torch.nn.Flatten(),
                                torch.nn.Linear(pooled.size, 10))
    return model, features


def first_call(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def interleaved(fns, rounds: int):
    """The median time of each function over ``rounds`` rounds, each calling every function once in turn (so
    that changes in the machine's load hit all of them alike), after one warm-up call each."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, ts in zip(fns, times):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    return [statistics.median(ts) for ts in times]


def train_step(model, x, y, context=contextlib.nullcontext):
    def step():
        model.zero_grad(set_to_none=True)
        with context():
            loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
    return step


def equivariance_errors(model, features, x, context):
    """Relative errors of the feature map (equivariance) and of the logits (invariance) under the grid elements;
    the network runs under ``context()``, the group acts outside it (exactly)."""
    t_in = model[0].out_type
    gs = t_in.gspace
    elements = [g for g in gs.testing_elements if gs.is_grid_element(g)]
    with torch.no_grad():
        rotated = [nn.GeometricTensor(x, t_in).transform(g).tensor for g in elements]
        with context():
            f, y = features(nn.GeometricTensor(x, t_in)).tensor.float(), model(x).float()
            f_g = [features(nn.GeometricTensor(gx, t_in)).tensor.float() for gx in rotated]
            y_g = [model(gx).float() for gx in rotated]
        g_f = [nn.GeometricTensor(f, features.out_type).transform(g).tensor for g in elements]
        err_f = max((a - b).abs().max().item() for a, b in zip(f_g, g_f)) / f.abs().max().item()
        err_y = max((a - y).abs().max().item() for a in y_g) / y.abs().max().item()
    return err_f, err_y, len(elements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", choices=("C8", "D4"), default="C8")
    parser.add_argument("--fields", type=int, default=8, help="regular fields of the first two layers")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=32, help="input height and width (a multiple of 4)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")

    torch.manual_seed(0)
    model, features = build(args.group, args.fields)
    x = torch.randn(args.batch, 3, args.size, args.size)
    y = torch.randint(0, 10, (args.batch,))
    print(f"{args.group}, {args.fields} regular fields, batch {args.batch}, {args.size}x{args.size}; torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads, {platform.machine()}, "
          f"{os.cpu_count()} cores")
    bf16 = lambda: torch.autocast("cpu", dtype=torch.bfloat16)  # noqa: E731
    x_cl = x.to(memory_format=torch.channels_last)

    # training steps; "first call" of torch.compile is the compilation
    train = [("eager float32", train_step(copy.deepcopy(model).train(), x, y))]
    torch._dynamo.reset()
    compiled = torch.compile(copy.deepcopy(model).train())
    train.append(("torch.compile", train_step(compiled, x, y)))
    train.append(("autocast bfloat16", train_step(copy.deepcopy(model).train(), x, y, bf16)))
    train.append(("channels_last", train_step(copy.deepcopy(model).train().to(memory_format=torch.channels_last),
                                              x_cl, y)))
    # for scale: the same layers as plain PyTorch (the export: Conv2d, BatchNorm2d, ...), trained as a plain CNN
    plain = nn.export(copy.deepcopy(model)).train()
    train.append(("plain PyTorch export, contiguous", train_step(plain, x, y)))
    plain_cl = nn.export(copy.deepcopy(model)).train().to(memory_format=torch.channels_last)
    train.append(("plain PyTorch export, channels_last", train_step(plain_cl, x_cl, y)))
    firsts = [first_call(fn) for _, fn in train]
    graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    breaks = sum(torch._dynamo.utils.counters["graph_break"].values())
    train[1] = (f"torch.compile (graphs: {graphs}, graph breaks: {breaks})", train[1][1])
    steps = interleaved([fn for _, fn in train], args.steps)
    rows = [(f"train step, {name}", first, step, steps[0]) for (name, _), first, step in zip(train, firsts, steps)]
    eager = copy.deepcopy(model).train()
    reference, out = eager(x).detach(), compiled(x).detach()    # same parameters, batch statistics
    compile_diff = ((out - reference).abs().max() / reference.abs().max()).item()

    # eval forwards (and the equivariance errors below) on a trained network
    optimiser = torch.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(3):
        train_step(model, x, y)()
        optimiser.step()
    model.eval()
    exported = nn.export(model)
    torch._dynamo.reset()
    compiled_export = torch.compile(exported)
    forwards = [("eager", lambda: model(x)), ("nn.export", lambda: exported(x)),
                ("torch.compile(nn.export)", lambda: compiled_export(x))]
    with torch.no_grad():
        firsts = [first_call(fn) for _, fn in forwards]
        steps = interleaved([fn for _, fn in forwards], args.steps)
    rows += [(f"eval forward, {name}", first, step, steps[0])
             for (name, _), first, step in zip(forwards, firsts, steps)]

    print()
    print("| variant | first call (s) | median step (ms) | vs eager |")
    print("|---|---|---|---|")
    for name, first, step, base in rows:
        print(f"| {name} | {first:.2f} | {step * 1e3:.1f} | {step / base:.2f}x |")
    print(f"\ncompiled vs eager output (train mode, float32): max relative difference {compile_diff:.1e}")

    print("\n| precision | feature-map equivariance error | logit invariance error |")
    print("|---|---|---|")
    xe = torch.randn(args.batch, 3, args.size, args.size)
    for name, context in (("float32", contextlib.nullcontext), ("autocast bfloat16", bf16)):
        err_f, err_y, n = equivariance_errors(model, features, xe, context)
        print(f"| {name} | {err_f:.1e} | {err_y:.1e} |")
    print(f"(max over the {n} grid elements of the relative error max |f(g x) - g f(x)| / max |f(x)|, eval mode)")


if __name__ == "__main__":
    main()
