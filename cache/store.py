"""The basis cache: an in-process memo in front of HDF5 entry files shared by all processes of a user.

Guarantees (see docs/cache.md for the reasoning):

* Readers never see a partial entry: entries are written to a private temporary file in the same
  directory, fsynced, and published with an atomic ``os.replace``.  This holds on local filesystems
  and on NFS (rename within one directory is atomic there too).
* Writers never corrupt each other: each writes its own temporary file; two processes computing the
  same key both publish identical content, and the last rename wins.  A per-key lock file (``flock``)
  only avoids computing the same key twice at once; correctness never depends on it, and where locks
  are not supported (some network filesystems) or a holder hangs, the waiter computes anyway after a
  timeout.
* A process killed at any moment leaves at most a ``.tmp-*`` file, invisible to readers and removed by
  :meth:`BasisCache.verify`, or by the next writer into the same directory, once its process is gone.
* Every entry carries a SHA-256 of its contents; a damaged or foreign file is reported once (a
  warning), moved to ``quarantine/`` and the entry recomputed.  Wrong data is never returned.
* A read-only cache directory is used for reads; misses are computed in memory (or written to a later,
  writable directory of ``$BASISGEN_CACHE``) with a single warning.
"""
from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import shutil
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

import h5py
import numpy as np

import basisgen
from basisgen.radial import basis_params
from basisgen.representation import Representation
from basisgen.sampling import SampledBasis, resolve_axis, sample_basis

from .entry import CorruptEntry, _text, read_entry, write_entry
from .keys import SCHEMA_VERSION, BasisKey, basis_key
from .location import cache_roots

log = logging.getLogger(__name__)

ENTRIES = f"v{SCHEMA_VERSION}"
LOCK_TIMEOUT_S = 300.0
STALE_TMP_S = 3600.0


@dataclass(frozen=True)
class EntryInfo:
    """One entry on disk, as listed by :meth:`BasisCache.entries`."""

    path: Path
    digest: str
    group: str
    description: Dict[str, Any]
    size_bytes: int
    elements: int
    created: str


def _writable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK | os.X_OK)


class BasisCache:
    """Get-or-compute sampled kernel bases: memo, then disk, then :func:`basisgen.sample_basis`.

    ``roots`` are cache directories searched in order for reads; the first writable one receives new
    entries.  By default they come from :func:`cache.location.cache_roots`.

    Examples
    --------
    >>> import tempfile, basisgen
    >>> cache = BasisCache([tempfile.mkdtemp()])
    >>> rho = basisgen.cyclic_group(4).regular_representation
    >>> first = cache.get(rho, rho, 3)              # computed and stored
    >>> cache.clear_memo(); again = cache.get(rho, rho, 3)   # read back from disk
    >>> len(again), cache.stats["disk_hits"], len(cache.entries())
    (24, 1, 1)
    """

    def __init__(self, roots: Optional[Sequence[os.PathLike]] = None):
        self.roots: List[Path] = [Path(r).expanduser() for r in (roots if roots is not None else cache_roots())]
        if not self.roots:
            raise ValueError("roots must name at least one cache directory")
        self._memo: Dict[str, SampledBasis] = {}
        self._lock = threading.Lock()
        self._warned: set = set()
        self.stats = {"memo_hits": 0, "disk_hits": 0, "computed": 0, "written": 0, "corrupt": 0}

    # ---- where -------------------------------------------------------------------------------------
    @property
    def write_root(self) -> Optional[Path]:
        """The first writable root, or ``None`` when every root is read-only."""
        for root in self.roots:
            if _writable(root):
                return root
        return None

    def _path(self, root: Path, digest: str) -> Path:
        return root / ENTRIES / digest[:2] / f"{digest}.h5"

    # ---- the get-or-compute call ----------------------------------------------------------------------
    def get(self, in_repr: Representation, out_repr: Representation, kernel_size: int, dilation: int = 1,
            rings=None, sigma=None, frequencies_cutoff=None, maximum_offset: Optional[int] = None,
            basis_filter: Optional[Callable[[dict], bool]] = None, axis: Optional[float] = None,
            dtype: Any = np.float32) -> SampledBasis:
        """The basis :func:`basisgen.sample_basis` returns for these arguments, computed at most once."""
        kwargs = dict(dilation=dilation, rings=rings, sigma=sigma, frequencies_cutoff=frequencies_cutoff,
                      maximum_offset=maximum_offset, axis=axis, dtype=dtype)
        if basis_filter is not None:
            log.info("basis_filter is an arbitrary callable: the basis is computed in memory, not cached")
            return sample_basis(in_repr, out_repr, kernel_size, basis_filter=basis_filter, **kwargs)
        key = self.key(in_repr, out_repr, kernel_size, dilation, rings, sigma, frequencies_cutoff, maximum_offset,
                       axis, dtype)
        with self._lock:
            hit = self._memo.get(key.digest)
        if hit is not None:
            self.stats["memo_hits"] += 1
            return hit
        basis = self._read_any(key)
        if basis is None:
            basis = self._compute_and_store(key, in_repr, out_repr, kernel_size, kwargs)
        with self._lock:
            self._memo[key.digest] = basis
        return basis

    def key(self, in_repr: Representation, out_repr: Representation, kernel_size: int, dilation: int = 1,
            rings=None, sigma=None, frequencies_cutoff=None, maximum_offset: Optional[int] = None,
            axis: Optional[float] = None, dtype: Any = np.float32) -> BasisKey:
        """The key under which :meth:`get` stores the basis for these arguments (nothing is computed)."""
        if in_repr.group != out_repr.group:
            raise ValueError(f"in_repr and out_repr must share one group, got {in_repr.group.name} and "
                             f"{out_repr.group.name}")
        params = basis_params(kernel_size, dilation, rings, sigma, frequencies_cutoff, maximum_offset)
        return basis_key(in_repr, out_repr, params, resolve_axis(in_repr.group, axis), np.dtype(dtype))

    def locate(self, key) -> Optional[Path]:
        """The file of the entry ``key`` (a :class:`BasisKey` or its digest) in the first root holding it.

        ``None`` when no root has it.  The file is not read: :meth:`get` and :meth:`verify` check it.

        Examples
        --------
        >>> import tempfile, basisgen
        >>> cache = BasisCache([tempfile.mkdtemp()])
        >>> rho = basisgen.cyclic_group(4).regular_representation
        >>> key = cache.key(rho, rho, 3)
        >>> cache.locate(key) is None
        True
        >>> _ = cache.get(rho, rho, 3); cache.locate(key).name == key.digest + ".h5"
        True
        """
        digest = key.digest if isinstance(key, BasisKey) else str(key)
        for root in self.roots:
            path = self._path(root, digest)
            if path.is_file():
                return path
        return None

    def _read_any(self, key: BasisKey) -> Optional[SampledBasis]:
        for root in self.roots:
            path = self._path(root, key.digest)
            if not path.exists():
                continue
            try:
                basis, _ = read_entry(path, key.digest)
            except CorruptEntry as err:
                if path.exists():            # else another process removed it meanwhile: a plain miss
                    self._discard(path, str(err), key.digest)
                continue
            self.stats["disk_hits"] += 1
            return basis
        return None

    def _compute_and_store(self, key: BasisKey, in_repr, out_repr, kernel_size, kwargs) -> SampledBasis:
        root = self.write_root
        if root is None:
            self._warn_once("read-only", f"no writable cache directory among {[str(r) for r in self.roots]}: "
                                         "bases missing from the cache are computed in memory only")
            return self._compute(in_repr, out_repr, kernel_size, kwargs)
        path = self._path(root, key.digest)
        with self._key_lock(root, key.digest):
            basis = self._read_any(key)          # another process may have written it meanwhile
            if basis is not None:
                return basis
            basis = self._compute(in_repr, out_repr, kernel_size, kwargs)
            try:
                write_entry(path, key, basis, _latex_summary(in_repr, out_repr, basis))
                self.stats["written"] += 1
                _remove_stale_temporaries(path.parent)
            except OSError as err:
                self._warn_once(f"write:{root}", f"could not write to the cache at {root} ({err}); "
                                                 "continuing without storing")
        return basis

    def _compute(self, in_repr, out_repr, kernel_size, kwargs) -> SampledBasis:
        self.stats["computed"] += 1
        basis = sample_basis(in_repr, out_repr, kernel_size, **kwargs)
        # what is stored and what is returned are the same numbers
        basis.blocks = np.ascontiguousarray(basis.blocks, dtype=basis.dtype)
        return basis

    @contextmanager
    def _key_lock(self, root: Path, digest: str) -> Iterator[None]:
        lock_dir = root / "locks"
        try:
            lock_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_dir / f"{digest}.lock", os.O_CREAT | os.O_RDWR, 0o644)
        except OSError:
            yield
            return
        acquired = False
        try:
            deadline = time.monotonic() + LOCK_TIMEOUT_S
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    acquired = True
                    break
                except OSError as err:
                    if err.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                        log.info("computing %s without the lock (%s)", digest[:12], err)
                        break
                    time.sleep(0.02)
            yield
        finally:
            if acquired:
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _discard(self, path: Path, reason: str, digest: str) -> None:
        """Report a damaged entry once and move it out of the way (or leave it, if read-only)."""
        try:
            identity = path.stat().st_mtime_ns
        except OSError:
            return                 # already gone
        try:
            read_entry(path, digest)
            return                 # republished meanwhile by another process: it is good now
        except CorruptEntry:
            pass
        self.stats["corrupt"] += 1
        self._warn_once(f"corrupt:{path}:{identity}",
                        f"damaged cache entry {path}: {reason}; it is quarantined and the basis recomputed")
        root = next((r for r in self.roots if r in path.parents), path.parent)
        quarantine = root / "quarantine"
        try:
            quarantine.mkdir(parents=True, exist_ok=True)
            os.replace(path, quarantine / f"{path.name}.{int(time.time() * 1000)}")
        except OSError:
            try:
                path.unlink()
            except OSError:
                pass   # a read-only cache: leave the file; it is never trusted

    def _warn_once(self, tag: str, message: str) -> None:
        if tag not in self._warned:
            self._warned.add(tag)
            warnings.warn(message, RuntimeWarning, stacklevel=4)

    # ---- memo --------------------------------------------------------------------------------------
    def memo_info(self) -> Dict[str, int]:
        """How many bases the in-process memo holds and their bytes (compact form)."""
        with self._lock:
            return {"entries": len(self._memo), "bytes": sum(b.blocks.nbytes for b in self._memo.values())}

    def clear_memo(self) -> None:
        """Forget the bases held in this process (disk entries stay)."""
        with self._lock:
            self._memo.clear()

    # ---- management ----------------------------------------------------------------------------------
    def _entry_files(self, roots: Optional[Sequence[Path]] = None) -> Iterator[Path]:
        for root in roots or self.roots:
            base = root / ENTRIES
            if base.is_dir():
                yield from sorted(p for p in base.rglob("*") if p.is_file())

    def entries(self, group: Optional[str] = None) -> List[EntryInfo]:
        """The readable entries of every root (optionally only those of the group named ``group``)."""
        out = []
        for path in self._entry_files():
            if path.name.startswith(".tmp-"):
                continue
            try:
                with h5py.File(path, "r", locking=False) as f:
                    description = json.loads(_text(f.attrs["description"]))
                    info = EntryInfo(path, _text(f.attrs["key"]), _text(f.attrs["group"]),
                                     description, path.stat().st_size, int(f["blocks"].shape[0]),
                                     _text(f.attrs["created"]))
            except Exception:
                continue
            if group is None or info.group == group:
                out.append(info)
        return out

    def total_size(self) -> int:
        """Bytes used by entry files in every root."""
        return sum(p.stat().st_size for p in self._entry_files())

    def verify(self) -> List[str]:
        """Check every file of the writable roots: checksums, shapes, stale temporary files.

        Damaged, partial or foreign files are removed (moved to ``quarantine/``); returns one line per
        removed file, empty when everything was clean.
        """
        removed = []
        for path in self._entry_files([r for r in self.roots if _writable(r)]):
            if path.name.startswith(".tmp-"):
                if _stale_temporary(path):
                    path.unlink(missing_ok=True)
                    removed.append(f"{path}: partial write of a process that is gone")
                continue
            # an entry is only trusted under its own name: the name is what readers look up
            expected = path.stem if len(path.stem) == 64 and path.suffix == ".h5" else ""
            try:
                if not expected:
                    raise CorruptEntry("not named like a cache entry")
                read_entry(path, expected)
            except CorruptEntry as err:
                self._discard(path, str(err), expected)
                removed.append(f"{path}: {err}")
        return removed

    def clear(self, group: Optional[str] = None) -> int:
        """Delete the entries of the writable roots (all, or those of ``group``); returns how many."""
        count = 0
        for root in self.roots:
            if not _writable(root):
                continue
            if group is None:
                base = root / ENTRIES
                count += sum(1 for _ in self._entry_files([root]))
                shutil.rmtree(base, ignore_errors=True)
                continue
            for info in self.entries(group):
                if root in info.path.parents:
                    info.path.unlink(missing_ok=True)
                    count += 1
        self.clear_memo()
        return count

    def export(self, destination: os.PathLike, group: Optional[str] = None) -> int:
        """Copy the entries (all, or those of ``group``) into one standalone HDF5 file; returns the count."""
        destination = Path(destination)
        tmp = destination.with_name(destination.name + f".tmp-{os.getpid()}")
        exported = set()
        try:
            with h5py.File(tmp, "w", locking=False) as out:
                out.attrs["basisgen_cache_export"] = SCHEMA_VERSION
                for info in self.entries(group):
                    if info.digest in exported:      # the same key in two roots: the first one wins
                        continue
                    try:
                        read_entry(info.path, info.digest)      # never export damaged data
                    except CorruptEntry as err:
                        self._discard(info.path, str(err), info.digest)
                        continue
                    with h5py.File(info.path, "r", locking=False) as src:
                        src.copy(src["/"], out, name=info.digest)
                        for k, v in src.attrs.items():
                            out[info.digest].attrs[k] = v
                    exported.add(info.digest)
            os.replace(tmp, destination)
        finally:
            tmp.unlink(missing_ok=True)
        return len(exported)

    def import_(self, source: os.PathLike) -> int:
        """Add the entries of a file made by :meth:`export` (each verified) to the writable root."""
        root = self.write_root
        if root is None:
            raise ValueError(f"no writable cache directory among {[str(r) for r in self.roots]} to import into")
        count = 0
        with h5py.File(source, "r", locking=False) as src:
            if "basisgen_cache_export" not in src.attrs:
                raise ValueError(f"{source} is not a basisgen cache export")
            for digest in src:
                path = self._path(root, digest)
                tmp = path.parent / f".tmp-{digest}-{os.getpid()}-import.h5"
                path.parent.mkdir(parents=True, exist_ok=True)
                with h5py.File(tmp, "w", locking=False) as dst:
                    for name in src[digest]:
                        src.copy(src[digest][name], dst, name=name)
                    for k, v in src[digest].attrs.items():
                        dst.attrs[k] = v
                try:
                    read_entry(tmp, digest)
                except CorruptEntry as err:
                    tmp.unlink(missing_ok=True)
                    self._warn_once(f"import:{digest}", f"skipped damaged entry {digest[:12]} in {source}: {err}")
                    continue
                os.replace(tmp, path)
                count += 1
        return count


def _remove_stale_temporaries(directory: Path) -> None:
    """Remove the partial writes of dead processes next to a fresh entry (cheap: one directory)."""
    for tmp in directory.glob(".tmp-*"):
        if _stale_temporary(tmp):
            tmp.unlink(missing_ok=True)


def _stale_temporary(path: Path) -> bool:
    """A temporary file whose writer is gone (its pid is not alive) or that is over an hour old."""
    try:
        pid = int(path.name.split("-")[2])
        os.kill(pid, 0)
        alive = True
    except (IndexError, ValueError):
        alive = False
    except ProcessLookupError:
        alive = False
    except PermissionError:
        alive = True
    try:
        old = time.time() - path.stat().st_mtime > STALE_TMP_S
    except OSError:
        return False
    return not alive or old


def _latex_summary(in_repr: Representation, out_repr: Representation, basis: SampledBasis) -> str:
    """One concrete formula line per distinct irrep pair of the basis, for people reading the file."""
    group = in_repr.group
    F = None if group.continuous else basis.params.maximum_frequency
    lines = []
    seen = set()
    for psi_in in in_repr.irreps:
        for psi_out in out_repr.irreps:
            if (psi_in, psi_out) in seen:
                continue
            seen.add((psi_in, psi_out))
            try:
                formulas = basisgen.pair_latex(group, psi_in, psi_out, F, basis.params.maximum_offset,
                                               symbolic=False)
            except ValueError:
                continue
            lines += [f"{psi_in.name} -> {psi_out.name}: {f}" for f in formulas]
    return "\n".join(lines)
