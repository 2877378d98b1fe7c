"""An O(2)-invariant regressor: an equivariant MLP over ``gspaces.no_base_space(O(2))`` against a plain MLP.

The task: ``K`` points in the plane (Gaussian, centred on their mean); the target is their mean pairwise
distance, which rotations and reflections of the point set leave unchanged.  Both models see the ``2K``
coordinates and are trained on the same point sets, never rotated or reflected on purpose.

- The equivariant MLP reads the ``K`` centred points as ``K`` vector fields of O(2) (the irrep ``(1, 1)``:
  a rotation by ``theta`` rotates each point, the reflection maps ``y -> -y``) and computes

      Linear -> FourierELU -> Linear -> FourierELU -> Linear -> one trivial (invariant) field

  where each hidden layer holds ``--channels`` band-limited functions on O(2) (irreps up to frequency
  ``--frequency``), sampled on ``--grid`` rotations times the two reflections for the ELU
  (``nn.FourierELU``).  Every ``nn.Linear`` maps between field types with O(2)'s intertwiners, so the
  network is exactly invariant under the rotations of the grid and the reflections (the dihedral group
  ``D_grid``), and under the other rotations up to the aliasing of the sampled ELU.  With
  ``--nonlinearity norm`` the network is exactly invariant under all of O(2): ``Linear`` to frequency-1 and
  frequency-2 fields, their norms (``nn.NormPool``, invariant), then ``Linear -> ELU -> Linear`` on these
  trivial fields.
- The plain MLP has ``torch.nn.Linear`` layers of the same widths (channels) and ELU.

The invariance error is ``max |f(g x) - f(x)| / std(y)`` over the test set for random elements ``g`` of O(2)
(random angle and reflection), and separately for the elements of ``D_grid``.

Run from the repository root::

    python examples/equivariant_mlp.py                  # a few seconds on a CPU
    python examples/equivariant_mlp.py --quick          # the smoke test of the test suite
    python examples/equivariant_mlp.py --nonlinearity norm --float64
"""
from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import torch

from e2layers import group, gspaces, nn


@dataclass
class Report:
    """What :func:`main` measured, per model (``"equivariant"``, ``"plain"``)."""
    config: Dict[str, object]
    test_error: Dict[str, float] = field(default_factory=dict)          # RMSE / std(y) on the test set
    invariance_error: Dict[str, float] = field(default_factory=dict)    # random elements of O(2)
    grid_invariance_error: Dict[str, float] = field(default_factory=dict)   # the elements of D_grid
    parameters: Dict[str, int] = field(default_factory=dict)
    train_seconds: Dict[str, float] = field(default_factory=dict)


# ---- the data ------------------------------------------------------------------------------------------------
def point_sets(count: int, points: int, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """``count`` sets of ``points`` Gaussian points, centred: (count, 2 * points) as x1, y1, x2, y2, ..."""
    p = torch.randn(count, points, 2, generator=generator, dtype=torch.float64)
    return (p - p.mean(dim=1, keepdim=True)).reshape(count, 2 * points).to(dtype)


def mean_pairwise_distance(x: torch.Tensor) -> torch.Tensor:
    """The target: the mean distance between two points of a set, (count, 1)."""
    p = x.reshape(x.shape[0], -1, 2)
    d = torch.cdist(p, p)
    k = p.shape[1]
    return (d.sum(dim=(1, 2)) / (k * (k - 1))).unsqueeze(1)


# ---- the models ----------------------------------------------------------------------------------------------
class EquivariantMLP(torch.nn.Module):
    """The O(2)-invariant MLP of the module docstring: takes and returns plain tensors, (B, 2K) -> (B, 1)."""

    def __init__(self, points: int, channels: int, frequency: int, grid: int, nonlinearity: str = "fourier"):
        super().__init__()
        G = group.o2_group(max(frequency, 2))
        gs = gspaces.no_base_space(G)
        self.in_type = nn.FieldType(gs, points * [gs.irrep(1, 1)])
        layers: List[nn.EquivariantModule] = []
        if nonlinearity == "fourier":
            current = self.in_type
            for _ in range(2):
                act = nn.FourierELU(gs, channels, G.bl_irreps(frequency), N=grid)
                layers += [nn.Linear(current, act.in_type), act]
                current = act.out_type
        else:
            # invariant features first (the norms of learnt combinations of the vectors, exactly invariant),
            # then an MLP on these trivial fields
            vectors = nn.FieldType(gs, channels * [gs.irrep(1, 1), gs.irrep(1, 2)])
            norms = nn.NormPool(vectors)
            current = nn.FieldType(gs, 4 * channels * [gs.trivial_repr])
            layers += [nn.Linear(self.in_type, vectors), norms, nn.Linear(norms.out_type, current), nn.ELU(current)]
        self.out_type = nn.FieldType(gs, [gs.trivial_repr])
        layers.append(nn.Linear(current, self.out_type))
        self.body = nn.SequentialModule(*layers)
        self.widths = [self.in_type.size] + [m.out_type.size for m in layers if isinstance(m, nn.Linear)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(nn.GeometricTensor(x, self.in_type)).tensor


def plain_mlp(widths: Sequence[int]) -> torch.nn.Module:
    """``torch.nn.Linear`` layers of the given widths with ELU between them."""
    layers: List[torch.nn.Module] = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(torch.nn.ELU())
    return torch.nn.Sequential(*layers)


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ---- training and measuring ---------------------------------------------------------------------------------
def train(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, batch_size: int, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for i in range(0, len(x), batch_size):
            batch = order[i:i + batch_size]
            loss = torch.nn.functional.mse_loss(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
    model.eval()


def random_elements(count: int, generator: torch.Generator) -> list:
    """Random elements ``(reflection, angle)`` of O(2)."""
    flips = torch.randint(0, 2, (count,), generator=generator).tolist()
    angles = (2 * math.pi * torch.rand(count, generator=generator, dtype=torch.float64)).tolist()
    return list(zip(flips, angles))


def act(points: int, element, x: torch.Tensor) -> torch.Tensor:
    """The element acting on every point of the sets ``x`` (B, 2K): the fibre action of K vector fields."""
    gs = gspaces.no_base_space(group.o2_group(2))
    t = nn.FieldType(gs, points * [gs.irrep(1, 1)])
    return nn.GeometricTensor(x, t).transform(element).tensor


@torch.no_grad()
def invariance_error(model: torch.nn.Module, x: torch.Tensor, elements: list, scale: float, points: int) -> float:
    """``max_g max |f(g x) - f(x)| / scale``."""
    y = model(x)
    return max((model(act(points, g, x)) - y).abs().max().item() for g in elements) / scale


@torch.no_grad()
def test_error(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, scale: float) -> float:
    return (model(x) - y).square().mean().sqrt().item() / scale


# ---- the command line -----------------------------------------------------------------------------------------
def main(argv: Optional[Sequence[str]] = None) -> Report:
    """Train both models, print and return the :class:`Report`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke test: fewer samples and epochs")
    parser.add_argument("--points", type=int, default=4, help="points per set (default 4)")
    parser.add_argument("--channels", type=int, default=8, help="hidden channels per layer (default 8)")
    parser.add_argument("--frequency", type=int, default=2, help="band limit of the hidden fields (default 2)")
    parser.add_argument("--grid", type=int, default=12, help="rotations of the FourierELU grid (default 12)")
    parser.add_argument("--nonlinearity", choices=("fourier", "norm"), default="fourier",
                        help="FourierELU (default; exact under D_grid) or norms then ELU (exact under O(2))")
    parser.add_argument("--epochs", type=int, default=None, help="default 25 (--quick: 3)")
    parser.add_argument("--samples", type=int, default=None, help="training sets (default 2000; --quick: 256)")
    parser.add_argument("--float64", action="store_true", help="train and measure in float64")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (3 if args.quick else 25)
    samples = args.samples if args.samples is not None else (256 if args.quick else 2000)
    dtype = torch.float64 if args.float64 else torch.float32
    config = dict(vars(args), epochs=epochs, samples=samples)
    report = Report(config=config)

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        generator = torch.Generator().manual_seed(args.seed)
        x_train = point_sets(samples, args.points, generator, dtype)
        x_test = point_sets(512, args.points, generator, dtype)
        y_train, y_test = mean_pairwise_distance(x_train), mean_pairwise_distance(x_test)
        scale = y_test.std().item()
        elements = random_elements(8 if args.quick else 32, generator)
        grid = [(j, 2 * math.pi * i / args.grid) for j in (0, 1) for i in range(args.grid)]

        torch.manual_seed(args.seed)
        equivariant = EquivariantMLP(args.points, args.channels, args.frequency, args.grid, args.nonlinearity)
        models = {"equivariant": equivariant, "plain": plain_mlp(equivariant.widths)}
        for name, model in models.items():
            start = time.perf_counter()
            train(model, x_train, y_train, epochs, batch_size=128, seed=args.seed)
            report.train_seconds[name] = time.perf_counter() - start
            report.parameters[name] = parameter_count(model)
            report.test_error[name] = test_error(model, x_test, y_test, scale)
            report.invariance_error[name] = invariance_error(model, x_test, elements, scale, args.points)
            report.grid_invariance_error[name] = invariance_error(model, x_test, grid, scale, args.points)
    finally:
        torch.set_default_dtype(previous)
    print(format_report(report))
    return report


def format_report(report: Report) -> str:
    lines = [f"widths {report.config.get('channels')} channels, {report.config['nonlinearity']} non-linearity, "
             f"{report.config['epochs']} epochs on {report.config['samples']} point sets",
             "| model | parameters | test error (RMSE/std) | invariance error, random O(2) | invariance error, D_grid "
             "| train s |", "|---|---|---|---|---|---|"]
    for name in report.test_error:
        lines.append(f"| {name} | {report.parameters[name]} | {report.test_error[name]:.4f} | "
                     f"{report.invariance_error[name]:.2e} | {report.grid_invariance_error[name]:.2e} | "
                     f"{report.train_seconds[name]:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
