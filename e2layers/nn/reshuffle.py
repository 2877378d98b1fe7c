"""ReshuffleModule, RestrictionModule and DisentangleModule."""
from __future__ import annotations

__all__: list = []
