"""Norm non-linearities: NormNonLinearity and InducedNormNonLinearity."""
from __future__ import annotations

__all__: list = []
