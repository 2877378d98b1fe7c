"""Derived tensors: data a module computes from its construction arguments, held outside the ``state_dict``.

A steerable layer holds tensors that are not learnt and not state: bases, changes of basis, index
tables, projections.  They must follow ``.to()``, ``.double()``, ``.half()`` and ``.cuda()`` like a
buffer, never enter a checkpoint, and, when the precision changes, be rebuilt from their exact
(float64) values: a float32 copy widened to float64 keeps float32's rounding, which breaks float64
equivariance at 1e-8.  :class:`DerivedTensors` is the one mechanism for this: a module registers each
such tensor with :meth:`~DerivedTensors.register_derived`, naming where its exact values come from.
A move never reads the basis cache and never samples a basis.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, NamedTuple, Optional, Union

import numpy as np
import torch

#: where a floating derived tensor's exact values come from: a float64 array, or a picklable
#: zero-argument callable returning one (e.g. a ``functools.partial`` over data the module holds anyway)
Exact = Union[np.ndarray, Callable[[], np.ndarray], None]


class _Entry(NamedTuple):
    exact: Exact
    buffer: bool


class DerivedTensors(torch.nn.Module):
    """A module base class for tensors derived at construction, moved with the module, never in the state_dict.

    ``register_derived(name, tensor, exact=...)`` makes ``self.<name>`` such a tensor.  On every
    ``_apply`` (``.to()``, ``.double()``, ``.half()``, ``.cuda()``, ``share_memory()`` ...) it follows the
    module's conversion; when that changes its floating dtype it is rebuilt from ``exact`` at the new
    dtype and device instead of being cast.  ``buffer=True`` keeps it a non-persistent buffer (small
    tensors of modules without parameters, whose ``buffers()`` tell their dtype and device); by default
    it is a plain attribute, so that DistributedDataParallel does not broadcast it at every step.

    Examples
    --------
    >>> import numpy as np
    >>> m = DerivedTensors()
    >>> third = np.full(2, 1 / 3)
    >>> m.register_derived("w", torch.tensor(third, dtype=torch.float32), exact=third)
    >>> m.double().w.tolist() == [1 / 3, 1 / 3], len(m.state_dict()), list(m.derived_tensors())
    (True, 0, ['w'])
    """

    def register_derived(self, name: str, tensor: Optional[torch.Tensor], exact: Exact = None,
                         buffer: bool = False) -> None:
        """Hold ``tensor`` as ``self.<name>`` (``None`` allowed: nothing to move), derived from ``exact``."""
        entries: Dict[str, _Entry] = self.__dict__.setdefault("_derived", {})
        entries[name] = _Entry(exact, buffer)
        if buffer:
            self.register_buffer(name, tensor, persistent=False)
        else:
            setattr(self, name, tensor)

    def derived_tensors(self) -> Dict[str, torch.Tensor]:
        """The derived tensors of this module (not of its children), by name; ``None`` ones left out."""
        out = {}
        for name in self.__dict__.get("_derived", {}):
            tensor = getattr(self, name)
            if tensor is not None:
                out[name] = tensor
        return out

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], *args: Any, **kwargs: Any):
        entries: Dict[str, _Entry] = self.__dict__.get("_derived", {})
        before = {name: getattr(self, name) for name in entries}
        super()._apply(fn, *args, **kwargs)          # parameters, buffers (derived buffers too), children
        for name, entry in entries.items():
            old = before[name]
            if old is None:
                continue
            new = getattr(self, name) if entry.buffer else fn(old)
            if entry.exact is not None and new.dtype != old.dtype and new.is_floating_point():
                exact = entry.exact() if callable(entry.exact) else entry.exact
                new = torch.tensor(np.asarray(exact, dtype=np.float64), dtype=new.dtype, device=new.device)
            setattr(self, name, new)
        return self
