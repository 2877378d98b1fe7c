"""File operations of the cache that never follow a link, never block and never reuse a name.

Everything the cache opens for reading goes through :func:`read_regular` (a regular file, opened
with ``O_NOFOLLOW | O_NONBLOCK``, size-checked before a byte is read); everything it creates goes
through :func:`publish_bytes` (``tempfile.mkstemp`` in the target directory: exclusive creation of an
unpredictable name, then ``os.replace``), :func:`open_lock` (``O_NOFOLLOW``) or
:func:`real_directory` (refuses a directory that is a symbolic link).
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import Optional

_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_LOCK_FLAGS = os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)

#: the prefix of every temporary file the cache creates (``.tmp-<tag>-<pid>-<random>.h5``)
TMP_PREFIX = ".tmp-"


class NotARegularFile(OSError):
    """The path names a symbolic link, a FIFO, a device or a directory: never opened as an entry."""


class TooLarge(OSError):
    """The file is larger than anything the cache would have written there."""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def read_regular(path: Path, max_bytes: int) -> bytes:
    """The bytes of the regular file ``path``; nothing is read from anything else.

    Raises ``FileNotFoundError`` (nothing there), ``PermissionError`` (this user may not read it),
    :class:`NotARegularFile` (a link, FIFO, device or directory: never followed, never blocks) and
    :class:`TooLarge` (over ``max_bytes``: checked from ``fstat`` before reading).
    """
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise NotARegularFile(errno.ELOOP, "a symbolic link, not a file the cache wrote", str(path)) from None
        if err.errno in (errno.ENXIO, errno.EISDIR):
            raise NotARegularFile(err.errno, "not a regular file", str(path)) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(errno.EINVAL, _kind(info.st_mode), str(path))
        if info.st_size > max_bytes:
            raise TooLarge(errno.EFBIG, f"{info.st_size} bytes, more than the {max_bytes} its key allows",
                           str(path))
        chunks, left = [], info.st_size + 1      # one byte more: a file growing meanwhile is caught
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:
            raise TooLarge(errno.EFBIG, f"more than the {max_bytes} bytes its key allows", str(path))
        return data
    finally:
        os.close(fd)


def file_type(path: Path) -> Optional[str]:
    """``None`` for a regular file (links not followed), else what it is; ``FileNotFoundError`` if absent."""
    mode = os.lstat(path).st_mode
    return None if stat.S_ISREG(mode) else _kind(mode)


def real_directory(path: Path, create: bool = True) -> bool:
    """``path`` is (after creating it, if asked) a directory and not a symbolic link to one."""
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            return False
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    return stat.S_ISDIR(mode)


def publish_bytes(path: Path, data: bytes, tag: str) -> None:
    """Write ``data`` to ``path`` atomically: a ``mkstemp`` file next to it, fsync, ``os.replace``.

    Readers see either the old state or the complete file; a crash leaves at most a ``.tmp-*`` file.
    ``os.replace`` renames over whatever is at ``path`` (a link is replaced, never followed).  Any
    ``OSError`` (a full disk included) propagates after the temporary file is removed.
    """
    directory = path.parent
    if not real_directory(directory):
        raise NotARegularFile(errno.ENOTDIR, "not a real directory (a symbolic link?)", str(directory))
    fd, name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{tag}-{os.getpid()}-", suffix=".h5", dir=directory)
    tmp = Path(name)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    fsync_directory(directory)


def fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def open_lock(path: Path) -> int:
    """A file descriptor on the lock file ``path``, created if missing; a link there is never followed."""
    if not real_directory(path.parent):
        raise NotARegularFile(errno.ENOTDIR, "not a real directory (a symbolic link?)", str(path.parent))
    try:
        fd = os.open(path, _LOCK_FLAGS, 0o644)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise NotARegularFile(errno.ELOOP, "a symbolic link", str(path)) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotARegularFile(errno.EINVAL, "not a regular file", str(path))
    return fd
