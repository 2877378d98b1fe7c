"""Gated non-linearities: GatedNonLinearity1, GatedNonLinearity2 and InducedGatedNonLinearity1."""
from __future__ import annotations

__all__: list = []
