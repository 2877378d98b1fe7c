"""A grid motion acting on recorded values, and the relative error between two of them.

A GeometricTensor moves by its own type (``transform``), or not at all where its group lacks the motion (a
network restricted to a subgroup).  A plain feature map ``(batch, C, H, W)`` moves its pixels and, where its
field type is known (:attr:`Call.plain_type`), its channels; a plain ``(batch, C)`` vector moves its channels
only (an invariant one not at all).  Since a plain tensor's type is a guess, :func:`value_error` takes the
smaller error of "its guessed type" and "trivial fields".
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional

import torch

from ._equivariance import act as act_on, act_on_fibres
from ._exactness_trace import leaves
from ._grid_motions import GridMotion, element_of
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["act", "map_leaves", "relative_error", "value_error"]


def map_leaves(value: Any, fn: Callable[[Any], Any]) -> Any:
    """``value`` with ``fn`` applied to each GeometricTensor and tensor in it (tuples, lists, dicts kept)."""
    if isinstance(value, (GeometricTensor, torch.Tensor)):
        return fn(value)
    if isinstance(value, dict):
        return {k: map_leaves(v, fn) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(map_leaves(v, fn) for v in value)
    return value


def act(leaf: Any, motion: GridMotion, plain_type: Optional[FieldType] = None) -> Optional[Any]:
    """``motion`` acting on one recorded value (a new object), or None where it cannot act: a group without
    the motion, a point cloud, a tensor that is neither a feature map nor a vector."""
    if isinstance(leaf, GeometricTensor):
        element = element_of(leaf.type.gspace, motion)
        if element is None or leaf.coords is not None or leaf.tensor.ndim != 4:
            return None
        return act_on(leaf, element)
    if not isinstance(leaf, torch.Tensor) or leaf.ndim not in (2, 4):
        return None
    typed = plain_type is not None and plain_type.size == leaf.shape[1]
    element = element_of(plain_type.gspace, motion) if typed else None
    if leaf.ndim == 4:
        return act_on(GeometricTensor(leaf, plain_type), element).tensor if element is not None else \
            motion.apply(leaf).clone()
    if element is None:
        return leaf.clone()
    return act_on_fibres(GeometricTensor(leaf, plain_type), element).tensor


def relative_error(got: torch.Tensor, expected: torch.Tensor, scale: Optional[float] = None) -> float:
    """``max |got - expected|`` over ``scale``, by default ``max |expected|`` (0 where both vanish; inf where
    the shapes differ or only the scale vanishes)."""
    if got.shape != expected.shape:
        return math.inf
    diff = (got - expected).abs().max().item() if got.numel() else 0.0
    if scale is None:
        scale = expected.abs().max().item() if expected.numel() else 0.0
    if diff == 0:
        return 0.0
    return diff / scale if scale > 0 else math.inf


def _data(value: Any) -> torch.Tensor:
    return value.tensor if isinstance(value, GeometricTensor) else value


def value_error(base: Any, moved_run: Any, motion: GridMotion, plain_type: Optional[FieldType] = None
                ) -> Optional[float]:
    """The largest relative error between ``moved_run`` (the value computed from the moved input) and
    ``motion`` acting on ``base`` (the value computed from the input), over their leaves; None where the
    motion does not act on ``base``."""
    worst = 0.0
    got_leaves, base_leaves = leaves(moved_run), leaves(base)
    if len(got_leaves) != len(base_leaves):
        return math.inf
    for got, leaf in zip(got_leaves, base_leaves):
        candidates = [plain_type, None] if not isinstance(leaf, GeometricTensor) and plain_type is not None else [None]
        errors = []
        for candidate in candidates:
            moved = act(leaf, motion, candidate)
            if moved is not None:
                errors.append(relative_error(_data(got), _data(moved)))
        if not errors:
            return None
        worst = max(worst, min(errors))
    return worst
