"""Bitwise comparison of tensors, cheap enough to run before every eval-mode forward (private).

An eval-mode cache keyed on the parameters must read them: a version counter misses ``p.data.mul_()``
(the usual EMA update) and ``p.data = t``.  On the CPU the comparison is a ``memcmp`` of the two buffers:
it allocates nothing, where ``torch.equal`` or numpy allocate temporaries that, with glibc's default
allocator, make the next convolution page-fault its buffers in again (benchmarks/RESULTS.md, "Eval-mode
parameter check").
"""
from __future__ import annotations

import ctypes
from typing import Callable, Optional

import torch

_INT_OF_WIDTH = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def _libc_memcmp() -> Optional[Callable[[int, int, int], int]]:
    try:
        memcmp = ctypes.CDLL(None).memcmp          # the C library the interpreter is linked with
    except (OSError, TypeError, AttributeError):    # e.g. Windows: fall back to torch.equal
        return None
    memcmp.restype = ctypes.c_int
    memcmp.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    return memcmp


_MEMCMP = _libc_memcmp()


def same_bits(a: Optional[torch.Tensor], b: Optional[torch.Tensor]) -> bool:
    """Whether ``a`` and ``b`` are both None or hold the same bits (same dtype, device and shape): unlike
    ``torch.equal``, a NaN equals itself and -0.0 differs from 0.0.

    Examples
    --------
    >>> x = torch.tensor([1.0, float("nan")])
    >>> same_bits(x, x.clone()), torch.equal(x, x.clone()), same_bits(torch.zeros(1), -torch.zeros(1))
    (True, False, False)
    """
    if a is None or b is None:
        return a is b
    if a.dtype != b.dtype or a.device != b.device or a.shape != b.shape:
        return False
    if _MEMCMP is not None and a.is_cpu and a.is_contiguous() and b.is_contiguous() and not a.is_conj() \
            and not b.is_conj():
        return _MEMCMP(a.data_ptr(), b.data_ptr(), a.numel() * a.element_size()) == 0
    if a.is_floating_point() and a.element_size() in _INT_OF_WIDTH:
        a, b = a.view(_INT_OF_WIDTH[a.element_size()]), b.view(_INT_OF_WIDTH[b.element_size()])
    return torch.equal(a, b)
