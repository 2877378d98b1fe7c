"""Modules imported on first use: sympy and scipy load only when something is derived or verified.

A layer built from a warm cache needs neither (sympy alone costs about a second at import), so the
modules that use them bind a :class:`LazyModule` in place of the import statement::

    sp = lazy_import("sympy")              # for ``import sympy as sp``
    scipy = lazy_import("scipy.linalg")    # for ``import scipy.linalg``
    scipy = lazy_import("scipy.linalg", "scipy.sparse")    # for both imports

and the import happens at the first attribute access (``sp.Matrix``, ``scipy.linalg.block_diag``).
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Optional

__all__ = ["LazyModule", "lazy_import"]


class LazyModule:
    """Stands for the package of ``names`` (``import a.b`` binds ``a``) until used; then imports every name.

    Examples
    --------
    >>> math = lazy_import("math")
    >>> math.sqrt(4.0), math
    (2.0, <lazy module 'math' (loaded)>)
    """

    __slots__ = ("_names", "_module")

    def __init__(self, *names: str):
        packages = {name.partition(".")[0] for name in names}
        if len(packages) != 1:
            raise ValueError(f"names must be modules of one package, got {names!r}")
        self._names = names
        self._module: Optional[ModuleType] = None

    def _load(self) -> ModuleType:
        if self._module is None:
            for name in self._names:                        # the submodules too, as ``import a.b`` would
                importlib.import_module(name)
            self._module = importlib.import_module(self._names[0].partition(".")[0])
        return self._module

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._load(), attribute)

    def __repr__(self) -> str:
        names = ", ".join(repr(name) for name in self._names)
        return f"<lazy module {names}{' (loaded)' if self._module is not None else ''}>"


def lazy_import(*names: str) -> LazyModule:
    """A :class:`LazyModule` for ``names`` (``import name`` for each runs at the first attribute access)."""
    return LazyModule(*names)
