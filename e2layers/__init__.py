"""e2layers: e2cnn's public API (``from e2layers import gspaces, nn``) on cached steerable kernel bases.

Layers: ``group`` (e2cnn's group API over basisgen), ``gspaces``, ``expansion`` (weights -> filter on
compact cached bases) and ``nn``.
"""
from . import group, gspaces

__all__ = ["group", "gspaces"]
