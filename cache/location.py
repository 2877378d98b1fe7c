"""Where the cache lives: ``$BASISGEN_CACHE``, else ``$XDG_CACHE_HOME/basisgen``, else ``~/.cache/basisgen``."""
from __future__ import annotations

import os
import site
import sysconfig
import warnings
from pathlib import Path
from typing import List


def _inside_site_packages(path: Path) -> bool:
    """Inside this interpreter's (or the user's) site-packages, or any site-/dist-packages directory."""
    resolved = path.resolve()
    if any(part in ("site-packages", "dist-packages") for part in resolved.parts):
        return True
    sites = [sysconfig.get_paths()[name] for name in ("purelib", "platlib")]
    try:
        sites.append(site.getusersitepackages())
    except Exception:   # some embedded interpreters have no user site
        pass
    for directory in sites:
        directory = Path(directory).resolve()
        if resolved == directory or directory in resolved.parents:
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
    >>> previous = os.environ.get("BASISGEN_CACHE")
    >>> os.environ["BASISGEN_CACHE"] = "/tmp/a" + os.pathsep + "/tmp/b"
    >>> [str(p) for p in cache_roots()]
    ['/tmp/a', '/tmp/b']
    >>> _ = os.environ.pop("BASISGEN_CACHE") if previous is None else os.environ.update(BASISGEN_CACHE=previous)
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
