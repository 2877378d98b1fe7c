"""Linear: equivariant 1x1 channel mixing."""
from __future__ import annotations

__all__: list = []
