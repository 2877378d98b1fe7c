"""One rank of the DDP training run of tests/e2layers/test_scale.py, and the small network that test trains.

Run as ``python tests/helpers/ddp_worker.py RANK WORLD_SIZE OUT_DIR`` with ``$BASISGEN_CACHE`` naming the shared
cache (empty at the start) and the repository root on ``$PYTHONPATH``.  The ranks meet through a file store
in ``OUT_DIR`` (no port to choose), build the network at the same moment (so they race for the same cache
keys), wrap it in ``DistributedDataParallel`` (gloo, CPU) and train it with :func:`train` on their half of
each global batch.  Each rank saves ``OUT_DIR/rank<RANK>.pt``: the state after each phase, the expanded
filters, the losses and the cache statistics.

The network (:func:`build_model`) and the data (:func:`global_batch`) are defined here so that the test's
single-process reference builds exactly the same ones.
"""
from __future__ import annotations

import os
import sys
from datetime import timedelta

import torch

STEPS_TRAIN_BN = 3      # phase 1: batch norm in train mode (statistics of each rank's half batch)
STEPS_FROZEN_BN = 2     # phase 2: batch norm in eval mode (running statistics), weights still trained
HALF = 4                # samples per rank; the global batch has WORLD_SIZE * HALF
SIZE = 16               # input size (even: the 2x2 pooling keeps the grid symmetric)
LR = 0.1


def build_model(group: str = "C8-pdo") -> torch.nn.Module:
    """R2Conv -> InnerBatchNorm -> ReLU -> PointwiseMaxPool -> R2Conv -> InnerBatchNorm -> ReLU -> GroupPooling
    -> global average pooling -> ``torch.nn.Linear`` head (10 classes), for ``group`` "C8" or "D4"; with the
    suffix "-pdo" ("C8-pdo", "D4-pdo") the second convolution is an ``R2Diffop`` (3x3 finite differences).

    The output is invariant under the grid rotations (and, for D4, flips) of the input."""
    from e2layers import gspaces, nn

    group, _, variant = group.partition("-")
    gs = gspaces.Rot2dOnR2(8) if group == "C8" else gspaces.FlipRot2dOnR2(4)
    t_in = nn.FieldType(gs, 3 * [gs.trivial_repr])
    t_hidden = nn.FieldType(gs, 4 * [gs.regular_repr])
    t_pooled = nn.FieldType(gs, 4 * [gs.trivial_repr])
    features = nn.SequentialModule(
        nn.R2Conv(t_in, t_hidden, 5, padding=2), nn.InnerBatchNorm(t_hidden), nn.ReLU(t_hidden),
        nn.PointwiseMaxPool(t_hidden, 2),
        (nn.R2Diffop if variant == "pdo" else nn.R2Conv)(t_hidden, t_hidden, 3, padding=1), nn.InnerBatchNorm(t_hidden),
        nn.ReLU(t_hidden),
        nn.GroupPooling(t_hidden), nn.PointwiseAdaptiveAvgPool(t_pooled, 1))
    return torch.nn.Sequential(nn.TensorToGeometric(t_in), features, nn.GeometricToTensor(), torch.nn.Flatten(),
                               torch.nn.Linear(t_pooled.size, 10))


def global_batch(step: int, world_size: int, dtype: torch.dtype = torch.float64):
    """The global batch of ``step``: ``(inputs, labels)`` with ``world_size * HALF`` samples; rank r trains on
    samples ``r * HALF`` to ``(r + 1) * HALF``, as a ``DistributedSampler`` without shuffling would split them."""
    g = torch.Generator().manual_seed(1000 + step)
    x = torch.randn(world_size * HALF, 3, SIZE, SIZE, generator=g, dtype=dtype)
    y = torch.randint(0, 10, (world_size * HALF,), generator=g)
    return x, y


def filters(model: torch.nn.Module):
    """The expanded filters of the model's R2Conv layers, in module order."""
    from e2layers import nn

    with torch.no_grad():
        return [m.expand_parameters()[0].clone() for m in model.modules() if isinstance(m, nn.R2Conv)]


def snapshot(model: torch.nn.Module):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def main(rank: int, world_size: int, out_dir: str) -> None:
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from basisgen import cache

    dist.init_process_group("gloo", init_method=f"file://{os.path.join(out_dir, 'rendezvous')}", rank=rank,
                            world_size=world_size, timeout=timedelta(seconds=60))
    try:
        dist.barrier()                       # both ranks ask the empty cache for the same bases at once
        torch.manual_seed(0)
        model = build_model().double()
        ddp = DistributedDataParallel(model)     # broadcasts rank 0's parameters and buffers
        optimiser = torch.optim.SGD(ddp.parameters(), lr=LR, momentum=0.9)
        initial = snapshot(model)
        losses, states = [], []
        for phase, steps in (("train-bn", STEPS_TRAIN_BN), ("frozen-bn", STEPS_FROZEN_BN)):
            ddp.train(phase == "train-bn")
            for _ in range(steps):
                x, y = global_batch(len(losses), world_size)
                loss = torch.nn.functional.cross_entropy(ddp(x[rank * HALF:(rank + 1) * HALF]),
                                                         y[rank * HALF:(rank + 1) * HALF])
                optimiser.zero_grad()
                loss.backward()              # DDP averages the gradients of the ranks
                optimiser.step()
                losses.append(loss.item())
            states.append(snapshot(model))
        torch.save({"initial": initial, "states": states, "filters": filters(model), "losses": losses,
                    "cache_stats": dict(cache.default_cache().stats)}, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
