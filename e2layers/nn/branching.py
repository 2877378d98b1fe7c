"""BranchingModule, MergeModule and MultipleModule."""
from __future__ import annotations

__all__: list = []
