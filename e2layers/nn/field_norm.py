"""FieldNorm: an equivariant layer normalisation."""
from __future__ import annotations

__all__: list = []
