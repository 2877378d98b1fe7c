"""The network of ``basisgen demo`` (a helper of ``cli.py``): a small C_N-equivariant CNN and a plain CNN
with the same channel counts, and their equivariance error under 90-degree rotations of the grid.

``demo_network`` is also a model factory for ``basisgen precompute --model basisgen.commands.demo:demo_network``.
"""
from __future__ import annotations

from typing import Callable, List, Tuple

import torch

import basisgen
from e2layers import gspaces, nn

KERNEL_SIZE = 5
FIELDS = 8          # regular fields in the hidden layers


def demo_gspace(group: str = "C8") -> gspaces.GSpace:
    """``Rot2dOnR2(N)`` for ``CN``, ``FlipRot2dOnR2(N)`` for ``DN``; N divisible by 4 (quarter turns in the group)."""
    G = basisgen.group_from_name(group)
    if G.kind not in ("cyclic", "dihedral") or G.rotation_order % 4:
        raise ValueError(f"the demo needs C_N or D_N with N divisible by 4 (so that 90-degree rotations are in "
                         f"the group), got {group!r}")
    N = G.rotation_order
    return gspaces.Rot2dOnR2(N) if G.kind == "cyclic" else gspaces.FlipRot2dOnR2(N)


def demo_network(group: str = "C8") -> nn.SequentialModule:
    """R2Conv(3 trivial -> 8 regular) -> ReLU -> R2Conv(8 regular -> 8 regular) -> GroupPooling.

    Examples
    --------
    >>> net = demo_network("C4")
    >>> net(nn.GeometricTensor(torch.randn(1, 3, 13, 13), net.in_type)).shape
    torch.Size([1, 8, 5, 5])
    """
    r2 = demo_gspace(group)
    t_in = nn.FieldType(r2, 3 * [r2.trivial_repr])
    hidden = nn.FieldType(r2, FIELDS * [r2.regular_repr])
    return nn.SequentialModule(nn.R2Conv(t_in, hidden, KERNEL_SIZE), nn.ReLU(hidden),
                               nn.R2Conv(hidden, hidden, KERNEL_SIZE), nn.GroupPooling(hidden))


def plain_network(group: str = "C8") -> torch.nn.Sequential:
    """The same channel counts with ``torch.nn.Conv2d`` and the same max over each field's channels."""
    order = demo_gspace(group).fibergroup.order()
    c = FIELDS * order
    return torch.nn.Sequential(torch.nn.Conv2d(3, c, KERNEL_SIZE), torch.nn.ReLU(),
                               torch.nn.Conv2d(c, c, KERNEL_SIZE), nn.MaxPoolChannels(order))


def demo_bases(group: str = "C8") -> Tuple[List[Tuple[basisgen.Representation, basisgen.Representation]], float]:
    """The (in, out) representation pairs whose bases :func:`demo_network` needs, and the reflection axis."""
    r2 = demo_gspace(group)
    trivial, regular = r2.trivial_repr.basisgen, r2.regular_repr.basisgen
    return [(trivial, regular), (regular, regular)], r2.kernel_axis


def rotation_error(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> float:
    """max over quarter turns k of max|f(rot^k x) - rot^k f(x)| / max|f(x)|, rotations exact on the grid.

    Examples
    --------
    >>> x = torch.randn(1, 1, 5, 5)
    >>> rotation_error(lambda t: t ** 2, x), rotation_error(lambda t: t.flip(-1), x) > 0.1
    (0.0, True)
    """
    with torch.no_grad():
        y = f(x)
        scale = float(y.abs().max()) or 1.0
        return max(float((f(torch.rot90(x, k, (2, 3))) - torch.rot90(y, k, (2, 3))).abs().max()) / scale
                   for k in (1, 2, 3))


def weight_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
