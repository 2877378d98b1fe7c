"""The E(2)-equivariant Wide ResNet of Weiler & Cesa (NeurIPS 2019), on CIFAR-10 or on synthetic data.

A Wide ResNet (Zagoruyko & Komodakis) whose convolutions are steerable: regular fields of C_N or D_N
throughout, optionally restricted to a subgroup between the blocks (the paper's "D8D4D1" models),
and trivial fields after the last block, so the logits are invariant under the group the last
block still respects.  The same code builds the model with e2layers or, for comparisons, with e2cnn
(``backend="e2cnn"``): the two have the same API and the same parameter counts.

Run from the repository root::

    python examples/e2wrn.py --synthetic --steps 3                 # a smoke test, no data needed
    python examples/e2wrn.py --build-only                           # build the D8 model, count parameters
    python examples/e2wrn.py --data ~/data/cifar-10-batches-py --epochs 200
    python examples/e2wrn.py --rot90 --synthetic --steps 2          # D4 model, invariant to 90-degree turns
    python examples/e2wrn.py --group C8 --depth 16 --widen 4 --restrict 1 --synthetic

``--data`` is the directory of the "CIFAR-10 python version" (``data_batch_1`` ... ``test_batch``).
Those files are pickles; they are read with :class:`RestrictedUnpickler`, which only rebuilds
numpy arrays, lists, dicts, strings and numbers, so a crafted file cannot run code.

From Python (what the benchmarks use)::

    from examples.e2wrn import build_model
    model = build_model("wrn10_6_d8")            # the D8 model of about 6.1 M parameters
"""
from __future__ import annotations

import argparse
import codecs
import importlib
import io
import logging
import math
import pickle
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

log = logging.getLogger("e2wrn")

__all__ = ["WRNConfig", "PRESETS", "WideResNet", "build_model", "wrn", "parameter_count", "load_cifar10",
           "RestrictedUnpickler", "synthetic_cifar", "train"]


# ---- configuration ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WRNConfig:
    """A Wide ResNet ``depth``-``widen``: ``(depth - 4) / 6`` blocks per stage, stage widths 16k, 32k, 64k.

    ``group`` is ``"C<N>"`` (rotations), ``"D<N>"`` (rotations and reflections), ``"D1"`` (reflections)
    or ``"C1"`` (a plain CNN).  ``restrict`` is the paper's restriction level:

    * 0: the group is kept from the input to the output;
    * 1: restricted to N/2 rotations before the last block;
    * 2: restricted to N/2 rotations after the first block;
    * 3: restricted to N/2 rotations after the first block and to no rotation (reflections only for
      D_N) before the last block.

    ``fixparams`` scales the fields so the parameter count stays close to the plain CNN's (e2cnn's
    default); ``initial_stride`` 2 is the STL-10 variant.
    """
    depth: int = 10
    widen: int = 6
    group: str = "D8"
    restrict: int = 0
    dropout: float = 0.3
    num_classes: int = 10
    initial_stride: int = 1
    fixparams: bool = True
    deltaorth: bool = False

    def __post_init__(self):
        if not isinstance(self.depth, int) or self.depth < 10 or (self.depth - 4) % 6:
            raise ValueError(f"depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, ...), got {self.depth!r}")
        if not isinstance(self.widen, int) or self.widen < 1:
            raise ValueError(f"widen must be a positive int, got {self.widen!r}")
        flip, N = _parse_group(self.group)
        if self.restrict not in (0, 1, 2, 3):
            raise ValueError(f"restrict must be 0, 1, 2 or 3, got {self.restrict!r}")
        if self.restrict and N % 2:
            raise ValueError(f"restrict={self.restrict} halves the rotations, so N must be even; got {self.group!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")

    @property
    def rotations(self) -> int:
        return _parse_group(self.group)[1]

    @property
    def flip(self) -> bool:
        return _parse_group(self.group)[0]


def _parse_group(name: str) -> Tuple[bool, int]:
    if not isinstance(name, str) or len(name) < 2 or name[0] not in "CD" or not name[1:].isdigit() \
            or int(name[1:]) < 1:
        raise ValueError(f"group must be C<N> or D<N> with N >= 1 (e.g. 'D8', 'C4', 'D1'), got {name!r}")
    return name[0] == "D", int(name[1:])


#: Named models: the paper's CIFAR and STL-10 models and the two models of e2cnn's example.
PRESETS: Dict[str, WRNConfig] = {
    # the D8 model of about 6.1 M parameters that benchmarks/ times (e2cnn's "wider" example model)
    "wrn10_6_d8": WRNConfig(10, 6, "D8", restrict=0),
    # e2cnn's example: invariant to rotations by 90 degrees and both reflections (--rot90) ...
    "wrn10_4_d4": WRNConfig(10, 4, "D4", restrict=0),
    # ... or to the reflection x -> -x only (--flip): D4, then D2, then D1
    "wrn10_4_d4d2d1": WRNConfig(10, 4, "D4", restrict=3),
    "wrn28_10_d8d4d1": WRNConfig(28, 10, "D8", restrict=3),
    "wrn28_7_d8d4d1": WRNConfig(28, 7, "D8", restrict=3),
    "wrn28_10_c8c4c1": WRNConfig(28, 10, "C8", restrict=3),
    "wrn28_10_d1d1d1": WRNConfig(28, 10, "D1", restrict=0),
    "wrn16_8_stl_d8d4d1": WRNConfig(16, 8, "D8", restrict=3, initial_stride=2),
    "wrn16_8_stl_d8d4d4": WRNConfig(16, 8, "D8", restrict=2, initial_stride=2),
    "wrn16_8_stl_d1d1d1": WRNConfig(16, 8, "D1", restrict=0, initial_stride=2),
}


# ---- the model ---------------------------------------------------------------------------------------------
def _library(backend: str):
    if backend not in ("e2layers", "e2cnn"):
        raise ValueError(f"backend must be 'e2layers' or 'e2cnn', got {backend!r}")
    return (importlib.import_module(f"{backend}.gspaces"), importlib.import_module(f"{backend}.nn"))


def _cutoff(r: float) -> float:
    """The paper's frequency cutoff: up to 3r on the ring of radius r (a named function: models pickle)."""
    return 3 * r


class _Wrap(torch.nn.Module):
    """Tensor -> GeometricTensor, for libraries without ``nn.TensorToGeometric`` (e2cnn)."""

    def __init__(self, nn, field_type):
        super().__init__()
        self.out_type, self._geometric_tensor = field_type, nn.GeometricTensor

    def forward(self, x):
        return self._geometric_tensor(x, self.out_type)


class _Unwrap(torch.nn.Module):
    def forward(self, x):
        return x.tensor


class WideBasic(torch.nn.Module):
    """BN-ReLU-conv-BN-ReLU-dropout-conv with a shortcut (a 1x1 convolution when the type or stride changes).

    A plain ``torch.nn.Module`` whose ``forward`` works on geometric and plain tensors alike, so
    ``nn.export`` of the network turns it into a plain-PyTorch block.
    """

    def __init__(self, nn, in_type, inner_type, out_type, kernel_size: int, dropout: float, stride: int):
        super().__init__()
        self.in_type, self.out_type = in_type, out_type
        pad = kernel_size // 2
        conv = dict(bias=False, sigma=None, frequencies_cutoff=_cutoff)
        self.bn1 = nn.InnerBatchNorm(in_type)
        self.relu1 = nn.ReLU(in_type, inplace=True)
        self.conv1 = nn.R2Conv(in_type, inner_type, kernel_size, padding=pad, **conv)
        self.bn2 = nn.InnerBatchNorm(inner_type)
        self.relu2 = nn.ReLU(inner_type, inplace=True)
        self.dropout = nn.PointwiseDropout(inner_type, p=dropout)
        self.conv2 = nn.R2Conv(inner_type, out_type, kernel_size, padding=pad, stride=stride, **conv)
        self.shortcut = None
        if stride != 1 or in_type != out_type:
            self.shortcut = nn.R2Conv(in_type, out_type, 1, stride=stride, **conv)

    def forward(self, x):
        x_n = self.relu1(self.bn1(x))
        out = self.conv2(self.dropout(self.relu2(self.bn2(self.conv1(x_n)))))
        return out + (self.shortcut(x_n) if self.shortcut is not None else x)


class WideResNet(torch.nn.Module):
    """The equivariant Wide ResNet for a :class:`WRNConfig` (see :func:`build_model`).

    Takes plain ``(batch, 3, H, W)`` tensors and returns ``(batch, num_classes)`` logits.  Odd input
    sizes (33 x 33) keep the strided layers' sampling grid centred, so the logits are exactly
    invariant under 90-degree rotations for a C4/D4/C8/D8 model without restriction.
    """

    def __init__(self, config: WRNConfig, backend: str = "e2layers"):
        super().__init__()
        self.config = config
        gspaces, nn = _library(backend)
        flip, N = config.flip, config.rotations
        if flip:
            space = gspaces.FlipRot2dOnR2(N) if N > 1 else gspaces.Flip2dOnR2()
        else:
            space = gspaces.Rot2dOnR2(N) if N > 1 else gspaces.TrivialOnR2()
        self._nn, self._space, self._rotations = nn, space, N
        widths = [16, 16 * config.widen, 32 * config.widen, 64 * config.widen]
        blocks = (config.depth - 4) // 6

        self.in_type = nn.FieldType(space, 3 * [space.trivial_repr])
        first = self._regular(widths[0], fixparams=True)     # the first layer is always scaled up
        self.wrap = nn.TensorToGeometric(self.in_type) if hasattr(nn, "TensorToGeometric") else _Wrap(nn, self.in_type)
        self.conv1 = nn.R2Conv(self.in_type, first, 5, padding=2, bias=False, sigma=None, frequencies_cutoff=_cutoff)
        self._type = first
        self.layer1 = self._stage(widths[1], blocks, config.initial_stride)
        self.restrict1 = self._restriction(N // 2) if config.restrict >= 2 else torch.nn.Identity()
        self.layer2 = self._stage(widths[2], blocks, 2)
        if config.restrict == 3:
            self.restrict2 = self._restriction(1)
        elif config.restrict == 1:
            self.restrict2 = self._restriction(N // 2)
        else:
            self.restrict2 = torch.nn.Identity()
        self.layer3 = self._stage(widths[3], blocks, 2, to_trivial=True)
        self.bn = nn.InnerBatchNorm(self._type, momentum=0.9)
        self.relu = nn.ReLU(self._type, inplace=True)
        self.unwrap = nn.GeometricToTensor() if hasattr(nn, "GeometricToTensor") else _Unwrap()
        self.linear = torch.nn.Linear(self._type.size, config.num_classes)
        self.out_type = self._type
        del self._nn, self._space, self._type, self._rotations    # construction state: the model pickles
        with torch.no_grad():
            self.linear.bias.zero_()
            if config.deltaorth:
                for module in self.modules():
                    if isinstance(module, nn.R2Conv):
                        nn.init.deltaorthonormal_init(module.weights.data, module.basisexpansion)

    def _regular(self, planes: int, fixparams: bool):
        """e2cnn's rule: int(planes * sqrt(|G|) / |G|) regular fields with fixparams, int(planes / |G|) without."""
        order = self._space.fibergroup.order()
        if fixparams:
            planes = planes * math.sqrt(order)
        return self._nn.FieldType(self._space, int(planes / order) * [self._space.regular_repr])

    def _trivial(self, planes: int, fixparams: bool):
        if fixparams:
            planes = planes * math.sqrt(self._space.fibergroup.order())
        return self._nn.FieldType(self._space, int(planes) * [self._space.trivial_repr])

    def _restriction(self, rotations: int) -> torch.nn.Module:
        subgroup = (0, rotations) if self.config.flip else rotations
        restrict = self._nn.RestrictionModule(self._type, subgroup)
        disentangle = self._nn.DisentangleModule(restrict.out_type)
        self._type, self._space, self._rotations = disentangle.out_type, disentangle.out_type.gspace, rotations
        return torch.nn.Sequential(restrict, disentangle)

    def _stage(self, planes: int, blocks: int, stride: int, to_trivial: bool = False) -> torch.nn.Sequential:
        fixparams = self.config.fixparams
        main = self._regular(planes, fixparams)
        last = self._trivial(planes, fixparams) if to_trivial else main
        # 5x5 filters where the group has more than 4 rotations, as in the paper
        kernel_size = 3 if self._rotations in (1, 2, 4) else 5
        layers = []
        for b in range(blocks):
            out_type = last if b == blocks - 1 else main
            layers.append(WideBasic(self._nn, self._type, main, out_type, kernel_size, self.config.dropout,
                                    stride if b == 0 else 1))
            self._type = out_type
        return torch.nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.wrap(x))
        out = self.layer3(self.restrict2(self.layer2(self.restrict1(self.layer1(out)))))
        out = self.unwrap(self.relu(self.bn(out)))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))


def wrn(depth: int = 10, widen: int = 6, group: str = "D8", restrict: int = 0, *, backend: str = "e2layers",
        **options) -> WideResNet:
    """A Wide ResNet ``depth``-``widen`` for ``group`` (see :class:`WRNConfig` for ``restrict`` and ``options``)."""
    return WideResNet(WRNConfig(depth, widen, group, restrict, **options), backend=backend)


def build_model(name: str = "wrn10_6_d8", *, backend: str = "e2layers", **overrides) -> WideResNet:
    """The preset ``name`` of :data:`PRESETS`, with any :class:`WRNConfig` field overridden.

    ``build_model()`` is the D8 Wide ResNet 10-6 of about 6.1 M parameters that the benchmarks time.
    """
    if name not in PRESETS:
        raise ValueError(f"name must be one of {sorted(PRESETS)}, got {name!r}")
    return WideResNet(replace(PRESETS[name], **overrides), backend=backend)


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ---- data --------------------------------------------------------------------------------------------------
class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds numpy arrays and plain containers and refuses every other global.

    The CIFAR-10 python batches are dicts of a uint8 array, lists of labels and file names; a
    pickle naming anything else (``os.system``, ``builtins.eval``, ...) raises
    ``pickle.UnpicklingError`` before it can run.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("_codecs", "encode"),      # how Python 3 writes bytes at protocol 2 (a text codec: no code runs)
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only numpy arrays may be rebuilt")
        if module == "_codecs":
            return codecs.encode
        if name == "_reconstruct":
            # numpy 2 moved numpy.core to numpy._core; CIFAR's files name the old one
            core = getattr(np, "_core", None) or np.core
            return core.multiarray._reconstruct
        return getattr(np, name)


def _read_batch(path: Path) -> Tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as f:
        batch = RestrictedUnpickler(io.BytesIO(f.read()), encoding="bytes").load()
    if not isinstance(batch, dict):
        raise ValueError(f"{path}: not a CIFAR-10 batch (a {type(batch).__name__}, not a dict)")
    data, labels = batch.get(b"data", batch.get("data")), batch.get(b"labels", batch.get("labels"))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"{path}: not a CIFAR-10 batch (data must be a uint8 array of shape (n, 3072))")
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != (data.shape[0],) or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{path}: not a CIFAR-10 batch (labels must be n ints in 0..9)")
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10(directory, train: bool = True) -> Tuple[torch.Tensor, torch.Tensor]:
    """Images (n, 3, 32, 32) float32, normalised per channel, and labels (n,) from the CIFAR-10 python batches."""
    directory = Path(directory).expanduser()
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    missing = [n for n in names if not (directory / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{directory} lacks {', '.join(missing)}: --data must be the extracted "
                                f"'cifar-10-batches-py' directory of the CIFAR-10 python version")
    parts = [_read_batch(directory / n) for n in names]
    images = torch.from_numpy(np.concatenate([p[0] for p in parts])).float().div_(255)
    mean = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
    std = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)
    return (images - mean) / std, torch.from_numpy(np.concatenate([p[1] for p in parts]))


def synthetic_cifar(n: int, size: int = 32, num_classes: int = 10, seed: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """``n`` random images (n, 3, size, size) and labels, for benchmarks and tests."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, size, size, generator=g), torch.randint(0, num_classes, (n,), generator=g)


def _batches(images, labels, batch_size: int, shuffle: bool, augment: bool, seed: int) -> Iterator:
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed)) if shuffle \
        else torch.arange(len(images))
    for start in range(0, len(images), batch_size):
        idx = order[start:start + batch_size]
        x, y = images[idx], labels[idx]
        if augment:     # random crops of the 4-padded image and horizontal flips, as the paper
            x = F.pad(x, (4, 4, 4, 4), mode="reflect")
            i, j = np.random.randint(0, 9, 2)
            x = x[:, :, i:i + images.shape[2], j:j + images.shape[3]]
            flip = torch.rand(len(x)) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        yield x, y


# ---- training ----------------------------------------------------------------------------------------------
def train(model: WideResNet, images, labels, *, epochs: int = 1, batch_size: int = 128, lr: float = 0.1,
          weight_decay: float = 5e-4, steps: Optional[int] = None, augment: bool = False,
          test: Optional[Tuple[torch.Tensor, torch.Tensor]] = None, seed: int = 0) -> dict:
    """SGD with Nesterov momentum 0.9 and the step schedule of the paper (x0.2 at 30%, 60%, 80% of training).

    ``steps`` stops after that many optimiser steps (smoke tests).  Returns the last loss, the steps
    taken, images per second and, with ``test``, the test accuracy.
    """
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    milestones = [int(epochs * f) for f in (0.3, 0.6, 0.8)]
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [m for m in milestones if m > 0], gamma=0.2)
    done, seen, loss = 0, 0, float("nan")
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        for x, y in _batches(images, labels, batch_size, True, augment, seed + epoch):
            opt.zero_grad(set_to_none=True)
            batch_loss = F.cross_entropy(model(x), y)
            batch_loss.backward()
            opt.step()
            done, seen, loss = done + 1, seen + len(x), batch_loss.item()
            if done % 20 == 0 or done == 1:
                log.info("epoch %d step %d loss %.4f (%.1f images/s)", epoch, done, loss,
                         seen / (time.perf_counter() - start))
            if steps is not None and done >= steps:
                break
        sched.step()
        if steps is not None and done >= steps:
            break
    result = {"loss": loss, "steps": done, "images_per_s": seen / (time.perf_counter() - start)}
    if test is not None:
        result["test_accuracy"] = accuracy(model, *test, batch_size=batch_size)
    return result


@torch.no_grad()
def accuracy(model: torch.nn.Module, images, labels, batch_size: int = 256) -> float:
    model.eval()
    correct = sum((model(x).argmax(1) == y).sum().item()
                  for x, y in _batches(images, labels, batch_size, False, False, 0))
    return correct / len(images)


def _invariance_error(model: WideResNet, size: int = 33) -> float:
    """max |f(rot90 x) - f(x)| / max |f(x)| over a few random images, eval mode."""
    model.eval()
    x = torch.randn(4, 3, size, size)
    with torch.no_grad():
        y = model(x)
        return max((model(x.rot90(k, (2, 3))) - y).abs().max().item() for k in (1, 2, 3)) / y.abs().max().item()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="presets: " + ", ".join(PRESETS))
    parser.add_argument("--model", default="wrn10_6_d8", choices=sorted(PRESETS),
                        help="a preset (default: %(default)s)")
    parser.add_argument("--rot90", action="store_true", help="the D4 model invariant to 90-degree turns and flips")
    parser.add_argument("--flip", action="store_true", help="the D4 -> D2 -> D1 model, invariant to x -> -x only")
    parser.add_argument("--group", help="override the preset's group: C<N> or D<N>")
    parser.add_argument("--depth", type=int, help="override the depth (6n + 4)")
    parser.add_argument("--widen", type=int, help="override the widen factor")
    parser.add_argument("--restrict", type=int, choices=(0, 1, 2, 3), help="override the restriction level")
    parser.add_argument("--data", help="the extracted cifar-10-batches-py directory")
    parser.add_argument("--synthetic", action="store_true", help="random images instead of CIFAR-10")
    parser.add_argument("--build-only", action="store_true", help="build, count parameters, check invariance")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--steps", type=int, help="stop after this many optimiser steps")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--augment", action="store_true", help="random crops and horizontal flips")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.rot90 and args.flip:
        parser.error("--rot90 and --flip exclude each other")
    name = "wrn10_4_d4" if args.rot90 else "wrn10_4_d4d2d1" if args.flip else args.model
    overrides = {k: v for k, v in dict(group=args.group, depth=args.depth, widen=args.widen,
                                       restrict=args.restrict).items() if v is not None}
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    _library("e2layers")        # imported before the clock starts: the build time is the model's
    start = time.perf_counter()
    try:
        model = build_model(name, **overrides)
    except ValueError as err:
        parser.error(str(err))
    print(f"{name} {asdict(model.config)}: {parameter_count(model):,} parameters, built in "
          f"{time.perf_counter() - start:.2f} s")
    if args.build_only:
        if model.config.restrict == 0 and model.config.rotations % 4 == 0:
            print(f"invariance under 90-degree rotations (33x33 input): {_invariance_error(model):.1e}")
        return
    if args.synthetic:
        n = args.batch_size * (args.steps or 4)
        train_set, test_set = synthetic_cifar(n, seed=args.seed), synthetic_cifar(args.batch_size, seed=args.seed + 1)
    elif args.data:
        train_set, test_set = load_cifar10(args.data, train=True), load_cifar10(args.data, train=False)
    else:
        parser.error("give --data DIR (CIFAR-10 python batches) or --synthetic")
    result = train(model, *train_set, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, steps=args.steps,
                   augment=args.augment, test=test_set, seed=args.seed)
    print(f"steps {result['steps']}, last loss {result['loss']:.4f}, {result['images_per_s']:.1f} images/s, "
          f"test accuracy {result['test_accuracy']:.4f}")


if __name__ == "__main__":
    main()
