"""e2cnn's ``store_cache``/``load_cache``, kept as safe calls that read and write nothing.

e2cnn pickled its in-process memo of discretised operators to a file and offered to load it back (0.2.3's
``load_cache`` in fact loaded nothing).  Here the sampled PDO bases and their stencils persist in the basis
cache (``basisgen.cache``), so there is nothing to store; and a pickle file is never opened, since loading
one runs whatever code it names.
"""
from __future__ import annotations

import logging
import os
from typing import Union

from basisgen.errors import InvalidTypeError

__all__ = ["store_cache", "load_cache"]

_log = logging.getLogger(__name__)

_DEFAULT = "./.e2cnn_cache/diffops.pickle"


def _check_path(path: Union[str, "os.PathLike[str]"]) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidTypeError(f"path must be a str or an os.PathLike, got {type(path).__name__} {path!r}")
    return os.fspath(path)


def store_cache(path: str = _DEFAULT) -> None:
    """Accepted for e2cnn compatibility; writes nothing: discretised PDO bases persist in the basis cache.

    Examples
    --------
    >>> store_cache("unused/diffops.pickle")
    >>> import os; os.path.exists("unused")
    False
    """
    _log.info("store_cache(%r) writes nothing: discretised PDO bases persist in the basis cache", _check_path(path))


def load_cache(path: str = _DEFAULT) -> None:
    """Accepted for e2cnn compatibility; never opens ``path`` (a pickle file can run arbitrary code when
    loaded): discretised PDO bases come from the basis cache.

    Examples
    --------
    >>> load_cache("missing/diffops.pickle")
    """
    path = _check_path(path)
    _log.info("load_cache(%r) reads nothing (pickle files are never loaded): discretised PDO bases come from the "
              "basis cache", path)
