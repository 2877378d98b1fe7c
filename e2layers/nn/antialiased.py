"""Anti-aliased point-wise pools: PointwiseMaxPoolAntialiased and PointwiseAvgPoolAntialiased."""
from __future__ import annotations

__all__: list = []
