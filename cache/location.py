"""Where the cache lives: ``$BASISGEN_CACHE``, else ``$XDG_CACHE_HOME/basisgen``, else ``~/.cache/basisgen``."""
from __future__ import annotations

import os
import sysconfig
import warnings
from pathlib import Path
from typing import List


def _inside_site_packages(path: Path) -> bool:
    resolved = path.resolve()
    for name in ("purelib", "platlib"):
        site = Path(sysconfig.get_paths()[name]).resolve()
        if resolved == site or site in resolved.parents:
            return True
    return False


def cache_roots() -> List[Path]:
    """The cache directories, in search order.

    ``$BASISGEN_CACHE`` may list several directories separated by ``os.pathsep`` (e.g. a read-only,
    site-wide prebuilt cache first, then a personal writable one).  Directories inside site-packages
    are refused with a warning.

    Examples
    --------
    >>> import os
    >>> os.environ["BASISGEN_CACHE"] = "/tmp/a" + os.pathsep + "/tmp/b"
    >>> [str(p) for p in cache_roots()]
    ['/tmp/a', '/tmp/b']
    >>> del os.environ["BASISGEN_CACHE"]
    """
    configured = os.environ.get("BASISGEN_CACHE")
    if configured:
        candidates = [Path(p).expanduser() for p in configured.split(os.pathsep) if p.strip()]
    elif os.environ.get("XDG_CACHE_HOME"):
        candidates = [Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "basisgen"]
    else:
        candidates = [Path.home() / ".cache" / "basisgen"]
    roots = []
    for path in candidates:
        if _inside_site_packages(path):
            warnings.warn(f"ignoring cache directory {path}: it is inside site-packages", RuntimeWarning,
                          stacklevel=2)
            continue
        roots.append(path)
    if not roots:
        roots = [Path.home() / ".cache" / "basisgen"]
    return roots


def cache_root() -> Path:
    """The first cache directory (where new entries go when it is writable)."""
    return cache_roots()[0]
