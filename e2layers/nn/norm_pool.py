"""Pools on the norms of fields: NormMaxPool, NormPool and InducedNormPool."""
from __future__ import annotations

__all__: list = []
