"""Fourier non-linearities for band-limited regular fields: FourierPointwise and FourierELU."""
from __future__ import annotations

__all__: list = []
