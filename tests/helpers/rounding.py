"""Test helper: compare two computations of the same values up to floating-point rounding.

Two summation orders of the same float32 sums (an exported vs. an equivariant network, channels_last vs.
contiguous, cached vs. recomputed filters) differ by a few units in the last place of the largest terms,
whatever the thread count; an absolute tolerance like ``1e-6`` is a handful of such units at magnitude ~1
and flakes on larger outputs.  Scale the tolerance to the dtype and to the values' magnitude instead.
"""
import torch


def rounding_atol(expected: torch.Tensor, ulps: float = 64) -> float:
    """``ulps`` units of ``expected``'s dtype's epsilon, times ``max |expected|``."""
    return ulps * torch.finfo(expected.dtype).eps * expected.abs().max().item()


def assert_close_up_to_rounding(actual: torch.Tensor, expected: torch.Tensor, ulps: float = 64,
                                rtol: float = 0, msg=None) -> None:
    """``torch.testing.assert_close`` with ``atol = rounding_atol(expected, ulps)``."""
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=rounding_atol(expected, ulps), msg=msg)
