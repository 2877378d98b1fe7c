"""Runnable examples (``python examples/NAME.py --help``); importable from the repository root as ``examples.NAME``."""
