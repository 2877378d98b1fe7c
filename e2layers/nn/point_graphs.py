"""Graphs on point clouds, in plain torch: ``radius_graph`` and ``knn_graph`` (torch_geometric's conventions).

``edge_index`` is a (2, E) long tensor: ``edge_index[0]`` the source j, ``edge_index[1]`` the target i, and
messages flow source -> target (torch_geometric's ``flow="source_to_target"``), the convention
:class:`e2layers.nn.R2PointConv` takes.  Both functions compare every target with every point: O(N^2 d) time;
``chunk_size`` targets at a time hold O(chunk_size * N) memory (the whole (N, N) table without it).  Edges come
sorted by target, then by source.  Distances are compared as squared distances ``sum_d (x_i - x_j)^2`` computed
from the differences (never through ``|x|^2 - 2 x.y + |y|^2``), so ties between equal distances are exact.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import torch

from basisgen.checks import flag, is_int, is_real
from basisgen.errors import InvalidTypeError, InvalidValueError

__all__ = ["radius_graph", "knn_graph"]


def _check_coords(coords: Any) -> torch.Tensor:
    if not isinstance(coords, torch.Tensor):
        raise InvalidTypeError(f"coords must be a torch.Tensor (N, d), got {type(coords).__name__}")
    if coords.ndim != 2 or not coords.is_floating_point():
        raise InvalidValueError(f"coords must be a floating-point tensor of shape (N, d), got {coords.dtype} "
                                f"{tuple(coords.shape)}")
    if not bool(torch.isfinite(coords).all()):
        raise InvalidValueError("coords must be finite")
    return coords


def _check_batch(batch: Any, coords: torch.Tensor) -> Optional[torch.Tensor]:
    if batch is None:
        return None
    if not isinstance(batch, torch.Tensor) or batch.shape != coords.shape[:1] or batch.is_floating_point() \
            or batch.is_complex() or batch.dtype == torch.bool:
        raise InvalidValueError(f"batch must be an integer tensor of shape ({coords.shape[0]},) assigning each point "
                                f"to an example, got {getattr(batch, 'dtype', type(batch).__name__)} "
                                f"{tuple(getattr(batch, 'shape', ()))}")
    if batch.device != coords.device:
        raise InvalidValueError(f"batch must be on the device of coords ({coords.device}), got {batch.device}")
    return batch


def _positive_int_or_none(value: Any, name: str) -> Optional[int]:
    if value is None:
        return None
    if not is_int(value) or int(value) < 1:
        raise InvalidValueError(f"{name} must be a positive int or None, got {value!r}")
    return int(value)


def _candidates(coords: torch.Tensor, batch: Optional[torch.Tensor], loop: bool, start: int, stop: int):
    """Squared distances (stop - start, N) from the targets ``start:stop`` to every point, and the pairs allowed
    (same example; not the point itself unless ``loop``)."""
    d2 = ((coords[start:stop, None, :] - coords[None, :, :]) ** 2).sum(-1)
    allowed = torch.ones_like(d2, dtype=torch.bool)
    if batch is not None:
        allowed &= batch[start:stop, None] == batch[None, :]
    if not loop:
        rows = torch.arange(stop - start, device=coords.device)
        allowed[rows, rows + start] = False
    return d2, allowed


def _nearest(d2: torch.Tensor, allowed: torch.Tensor, k: int) -> torch.Tensor:
    """The mask of the ``k`` nearest allowed points of each row (ties: the lower index first)."""
    ranked = torch.where(allowed, d2, torch.full_like(d2, math.inf))
    order = torch.sort(ranked, dim=1, stable=True).indices[:, :k]
    keep = torch.zeros_like(allowed)
    keep.scatter_(1, order, torch.gather(allowed, 1, order))
    return keep


def _edges(keep: torch.Tensor, start: int) -> torch.Tensor:
    target, source = keep.nonzero(as_tuple=True)        # row-major: by target, then by source
    return torch.stack([source, target + start])


def _chunks(n: int, chunk_size: Optional[int]):
    step = n if chunk_size is None else chunk_size
    return [(s, min(n, s + step)) for s in range(0, n, max(step, 1))]


def radius_graph(coords: torch.Tensor, r: float, batch: Optional[torch.Tensor] = None, loop: bool = False,
                 max_num_neighbors: Optional[int] = None, chunk_size: Optional[int] = None) -> torch.Tensor:
    """The edges j -> i between the points at distance at most ``r`` (``|x_i - x_j|^2 <= r^2``).

    ``coords`` (N, d) floating point; ``batch`` (N,) integers assigning each point to an example (points of
    different examples are never joined; need not be sorted); ``loop`` keeps the edges i -> i;
    ``max_num_neighbors`` keeps, for each target, only its nearest sources (ties: lower index first; unlike
    torch_cluster's, the choice is deterministic, and ``None``, the default, keeps all).  Returns ``edge_index``
    (2, E) long on the points' device: row 0 the sources, row 1 the targets, sorted by target then source.
    O(N^2 d) time; O(chunk_size * N) memory, O(N^2) without ``chunk_size``.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    >>> radius_graph(x, 1.5).tolist()
    [[1, 0], [0, 1]]
    >>> radius_graph(x, 1.5, loop=True, chunk_size=2).tolist()
    [[0, 1, 0, 1, 2], [0, 0, 1, 1, 2]]
    """
    coords = _check_coords(coords)
    if not is_real(r) or not math.isfinite(r) or r < 0:
        raise InvalidValueError(f"r must be a finite non-negative radius, got {r!r}")
    batch = _check_batch(batch, coords)
    loop = flag(loop, "loop")
    max_num_neighbors = _positive_int_or_none(max_num_neighbors, "max_num_neighbors")
    chunk_size = _positive_int_or_none(chunk_size, "chunk_size")
    parts = [torch.zeros(2, 0, dtype=torch.long, device=coords.device)]
    for start, stop in _chunks(coords.shape[0], chunk_size):
        d2, allowed = _candidates(coords, batch, loop, start, stop)
        keep = allowed & (d2 <= float(r) ** 2)
        if max_num_neighbors is not None and max_num_neighbors < coords.shape[0]:
            keep = _nearest(d2, keep, max_num_neighbors)
        parts.append(_edges(keep, start))
    return torch.cat(parts, dim=1)


def knn_graph(coords: torch.Tensor, k: int, batch: Optional[torch.Tensor] = None, loop: bool = False,
              chunk_size: Optional[int] = None) -> torch.Tensor:
    """The edges j -> i from the ``k`` nearest points j of each point i (of its own example).

    ``coords`` (N, d) floating point; ``batch`` (N,) integers assigning each point to an example; ``loop``
    counts the point itself among its neighbours (at distance 0).  Ties are broken by the lower index; a point
    with fewer than ``k`` candidates gets all of them.  Returns ``edge_index`` (2, E) long on the points' device:
    row 0 the sources (the neighbours), row 1 the targets, sorted by target then source.  O(N^2 log N) time;
    O(chunk_size * N) memory, O(N^2) without ``chunk_size``.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    >>> knn_graph(x, 1).tolist()
    [[1, 0, 1], [0, 1, 2]]
    """
    coords = _check_coords(coords)
    if not is_int(k) or int(k) < 1:
        raise InvalidValueError(f"k must be a positive int, got {k!r}")
    batch = _check_batch(batch, coords)
    loop = flag(loop, "loop")
    chunk_size = _positive_int_or_none(chunk_size, "chunk_size")
    parts = [torch.zeros(2, 0, dtype=torch.long, device=coords.device)]
    for start, stop in _chunks(coords.shape[0], chunk_size):
        d2, allowed = _candidates(coords, batch, loop, start, stop)
        parts.append(_edges(_nearest(d2, allowed, min(int(k), coords.shape[0])), start))
    return torch.cat(parts, dim=1)
