"""Invariant pooling over the group: GroupPooling and MaxPoolChannels."""
from __future__ import annotations

__all__: list = []
