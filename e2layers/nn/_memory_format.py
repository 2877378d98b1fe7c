"""A module's output keeps the memory format of its input, as torch's own layers do (private)."""
from __future__ import annotations

import torch


def channels_innermost(t: torch.Tensor) -> bool:
    """Whether the 4-D tensor ``t`` stores its channels innermost (``torch.channels_last``, or a view of it)
    rather than as a plain contiguous tensor."""
    return t.dim() == 4 and t.stride(1) == 1 and not t.is_contiguous()


def keep_memory_format(y: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``y`` stored channels-last when the 4-D input ``like`` stores its channels innermost and ``y`` does not
    (a copy); else ``y`` itself.

    Gathering channels (``index_select``), viewing fields as ``(batch, fields, size, H, W)`` and ``einsum`` over
    the channels all return contiguous tensors: without this, a ``torch.channels_last`` network would silently
    switch back to the default format at such a layer (tests/e2layers/test_scale.py).

    Examples
    --------
    >>> import torch
    >>> x = torch.randn(2, 3, 4, 4).to(memory_format=torch.channels_last)
    >>> y = keep_memory_format(x.index_select(1, torch.tensor([2, 0, 1])), x)
    >>> y.is_contiguous(memory_format=torch.channels_last)
    True
    >>> z = torch.randn(2, 3, 4, 4)
    >>> keep_memory_format(z.index_select(1, torch.tensor([2, 0, 1])), z).is_contiguous()
    True
    """
    if channels_innermost(like) and y.dim() == 4 and not channels_innermost(y):
        return y.contiguous(memory_format=torch.channels_last)
    return y
