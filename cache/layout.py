"""Which files under a cache root are the cache's own, recognised by name and type, never by location alone.

A root holds ``v<schema>/<2 hex>/<64 hex>.h5`` entries (and their ``.tmp-*`` partial writes),
``locks/<64 hex>.lock`` and ``quarantine/``.  :func:`scan` walks these directories without following
a single symbolic link and sorts what it finds; anything else inside them is *foreign*: the cache
never deletes or moves it, and :meth:`BasisCache.clear` / :meth:`BasisCache.verify` refuse a root
holding any (:class:`ForeignFiles`).  Files of the root itself, outside these directories, are not
looked at.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from .keys import SCHEMA_VERSION
from .safe_io import TMP_PREFIX, real_directory

log = logging.getLogger(__name__)

ENTRIES = f"v{SCHEMA_VERSION}"
STALE_TMP_S = 3600.0
_ENTRY = re.compile(r"[0-9a-f]{64}\.h5")
_SHARD = re.compile(r"[0-9a-f]{2}")
_TMP = re.compile(re.escape(TMP_PREFIX) + r"[0-9A-Za-z_.-]{1,200}\.h5")
_TMP_PID = re.compile(re.escape(TMP_PREFIX) + r"[0-9a-f]{1,64}-([0-9]{1,9})-")
_LOCK = re.compile(r"[0-9a-f]{64}\.lock")
_QUARANTINED = re.compile(r"(?:[0-9a-f]{64}\.h5|" + re.escape(TMP_PREFIX) + r"[0-9A-Za-z_.-]{1,200}\.h5)"
                          r"\.[0-9]+(?:\.[0-9a-f]+)?")
_OLD_SCHEMA = re.compile(r"v[0-9]{1,6}")
_logged_old: set = set()


class ForeignFiles(RuntimeError):
    """A cache root whose layout holds files the cache did not create: it refuses to manage it."""


@dataclass
class Layout:
    """What :func:`scan` found under one root (paths, links not followed)."""

    root: Path
    entries: List[Path] = field(default_factory=list)       # named as entries (of any file type)
    temporaries: List[Path] = field(default_factory=list)   # .tmp-* partial writes
    locks: List[Path] = field(default_factory=list)
    quarantined: List[Path] = field(default_factory=list)
    foreign: List[Path] = field(default_factory=list)

    def refuse_if_foreign(self, action: str) -> None:
        if self.foreign:
            shown = ", ".join(str(p) for p in self.foreign[:3]) + (" ..." if len(self.foreign) > 3 else "")
            raise ForeignFiles(f"refusing to {action} {self.root}: {len(self.foreign)} files in its cache "
                               f"directories were not created by the cache ({shown}); the cache never deletes or "
                               f"moves them. Move them away, or point BASISGEN_CACHE at a directory of its own")


def _listing(directory: Path) -> List[os.DirEntry]:
    try:
        with os.scandir(directory) as it:
            return sorted(it, key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []          # gone meanwhile, or this user may not list it: nothing of it is touched


def _is_dir(e: os.DirEntry) -> bool:
    try:
        return e.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _is_file(e: os.DirEntry) -> bool:
    try:
        return e.is_file(follow_symlinks=False)
    except OSError:
        return False


def scan(root: Path) -> Layout:
    """Sort the files of ``root``'s cache directories; nothing is opened, no link is followed."""
    layout = Layout(root)
    for top in _listing(root):
        if top.name == ENTRIES:
            if not _is_dir(top):
                layout.foreign.append(Path(top.path))
                continue
            for shard in _listing(Path(top.path)):
                if not (_SHARD.fullmatch(shard.name) and _is_dir(shard)):
                    layout.foreign.append(Path(shard.path))
                    continue
                for e in _listing(Path(shard.path)):
                    if _ENTRY.fullmatch(e.name) and e.name.startswith(shard.name) and not _is_dir(e):
                        layout.entries.append(Path(e.path))
                    elif _TMP.fullmatch(e.name) and _is_file(e):
                        layout.temporaries.append(Path(e.path))
                    else:
                        layout.foreign.append(Path(e.path))
        elif top.name in ("locks", "quarantine"):
            if not _is_dir(top):
                layout.foreign.append(Path(top.path))
                continue
            pattern = _LOCK if top.name == "locks" else _QUARANTINED
            target = layout.locks if top.name == "locks" else layout.quarantined
            for e in _listing(Path(top.path)):
                (target if pattern.fullmatch(e.name) and not _is_dir(e) else layout.foreign).append(Path(e.path))
        elif _OLD_SCHEMA.fullmatch(top.name) and str(root) not in _logged_old:
            _logged_old.add(str(root))
            log.info("ignoring %s: entries of another schema version (this one reads %s)", top.path, ENTRIES)
    return layout


def writer_pid(path: Path) -> Optional[int]:
    """The pid in a temporary file's name (bounded: a junk name never overflows), or ``None``."""
    match = _TMP_PID.match(path.name)
    return int(match.group(1)) if match else None


def stale_temporary(path: Path) -> bool:
    """A temporary file whose writer is gone (its pid is not alive) or that is over an hour old."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if time.time() - info.st_mtime > STALE_TMP_S:
        return True
    pid = writer_pid(path)
    if pid is None or pid <= 0:
        return False            # no pid to ask: judged by age alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return False
    return False


def remove_stale_temporaries(directory: Path) -> List[Path]:
    """Remove the partial writes of dead processes in one shard directory; returns what went."""
    removed = []
    for e in _listing(directory):
        path = Path(e.path)
        if _TMP.fullmatch(e.name) and _is_file(e) and stale_temporary(path):
            try:
                path.unlink()
                removed.append(path)
            except FileNotFoundError:
                pass
            except OSError:
                continue
    return removed


def quarantine(root: Path, path: Path) -> bool:
    """Move ``path`` (the link itself, for a link) into ``root/quarantine`` under a new unique name.

    Never overwrites anything there; returns False when it could not be moved (read-only root, a
    quarantine directory that is a link...), leaving the file where it is.
    """
    directory = root / "quarantine"
    if not real_directory(directory):
        return False
    for _ in range(5):
        target = directory / f"{path.name}.{time.time_ns()}.{secrets.token_hex(4)}"
        if os.path.lexists(target):
            continue
        try:
            os.rename(path, target)
            return True
        except OSError:
            return False
    return False


def is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
