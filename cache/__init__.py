"""cache: a persistent, shared, crash-safe HDF5 store of sampled kernel bases (no torch here).

``get_basis(...)`` is the call layers use: it returns the basis from the in-process memo, else from
disk, else derives it with basisgen, stores it and returns it.  ``default_cache()`` is the process's
cache object (explicit, inspectable, resettable with ``set_default_cache``).

Examples
--------
>>> import tempfile, basisgen
>>> set_default_cache(BasisCache([tempfile.mkdtemp()]))
>>> rho = basisgen.dihedral_group(4).regular_representation
>>> get_basis(rho, rho, 5).array.shape
(88, 8, 8, 5, 5)
>>> set_default_cache(None)
"""
from __future__ import annotations

from typing import Optional

from .entry import CorruptEntry
from .keys import SCHEMA_VERSION, BasisKey, basis_key
from .layout import ForeignFiles
from .location import cache_root, cache_roots
from .store import BasisCache, CacheError, EntryInfo, Finding

_default: Optional[BasisCache] = None


def default_cache() -> BasisCache:
    """The process's cache, created on first use from :func:`cache_roots`."""
    global _default
    if _default is None:
        _default = BasisCache()
    return _default


def set_default_cache(cache: Optional[BasisCache]) -> None:
    """Replace the process's cache (``None``: rebuild it from the environment on next use)."""
    global _default
    _default = cache


def get_basis(in_repr, out_repr, kernel_size, **kwargs):
    """:meth:`BasisCache.get` on :func:`default_cache`."""
    return default_cache().get(in_repr, out_repr, kernel_size, **kwargs)


__all__ = ["BasisCache", "CacheError", "EntryInfo", "Finding", "ForeignFiles", "BasisKey", "CorruptEntry", "SCHEMA_VERSION", "basis_key", "cache_root",
           "cache_roots", "default_cache", "set_default_cache", "get_basis"]
