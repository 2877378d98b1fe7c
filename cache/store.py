"""The basis cache: an in-process memo in front of HDF5 entry files shared by all processes of a user.

Guarantees (see docs/cache.md for the reasoning and the trust model):

* Readers never see a partial entry: entries are built in memory, written to a ``mkstemp`` file in
  the same directory, fsynced, and published with an atomic ``os.replace``.  This holds on local
  filesystems and on NFS (rename within one directory is atomic there too).
* Writers never corrupt each other: each writes its own temporary file; two processes computing the
  same key both publish identical content, and the last rename wins.  A per-key lock file (``flock``)
  only avoids computing the same key twice at once; correctness never depends on it, and where locks
  are not supported (some network filesystems) or a holder hangs, the waiter computes anyway after a
  timeout.
* A process killed at any moment leaves at most a ``.tmp-*`` file, invisible to readers and removed by
  :meth:`BasisCache.verify`, or by the next writer into the same directory, once its process is gone.
* Every entry carries a SHA-256 of its contents and is checked against what its key implies (shapes
  before reading, structure after); a damaged, foreign or inconsistent file is reported once (a
  warning), moved to ``quarantine/`` and the entry recomputed.  With ``verify="content"`` an entry
  this process did not write is also recomputed and compared once.
* The cache opens only regular files, never follows a link, never blocks on a FIFO, and never
  deletes or moves a file it does not recognise as its own.
* A read-only cache directory is used for reads; misses are computed in memory (or written to a later,
  writable directory of ``$BASISGEN_CACHE``) with a single warning; so are writes that fail (a full disk).
"""
from __future__ import annotations

import errno
import hashlib
import io
import fcntl
import json
import logging
import os
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Union

import numpy as np

from basisgen.errors import EmptyBasisError
from basisgen.radial import KernelParams, as_params
from basisgen.representation import Representation
from basisgen.families import sample
from basisgen.sampling import INDEX_COLUMNS, VALUE_COLUMNS, SampledBasis

from . import layout as _layout
from .entry import (CorruptEntry, EntryData, EntryInaccessible, decode_entry_data, load_h5py, read_entry_bytes,
                    read_text, write_entry)
from .keys import BasisKey, basis_key
from .layout import ENTRIES, STALE_TMP_S, ForeignFiles, quarantine, scan  # noqa: F401 (re-exported)
from .location import cache_roots
from .memo import freeze, hand_out
from .safe_io import open_lock
from .validate import KeyMismatch, expected_layout, recompute_and_compare

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 300.0
#: ``verify`` modes of :class:`BasisCache` (also ``$BASISGEN_CACHE_VERIFY``)
VERIFY_MODES = ("checksum", "content")


class CacheError(RuntimeError):
    """The cache cannot do what was asked (no writable directory, a file that is not an export...)."""


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


@dataclass(frozen=True)
class Finding:
    """One thing :meth:`BasisCache.verify` found: the file, what is wrong, and what was done about it.

    ``action`` is ``"quarantined"`` (moved to ``quarantine/``), ``"removed"`` (a dead writer's
    temporary file), ``"left"`` (damaged, but this user cannot move it: read-only directory) or
    ``"skipped"`` (this user may not read it: not damage, nothing done).
    """

    path: Path
    problem: str
    action: str

    @property
    def damaged(self) -> bool:
        return self.action in ("quarantined", "left")

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def _writable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK | os.X_OK)


def _verify_mode(mode: Optional[str]) -> str:
    mode = mode if mode is not None else (os.environ.get("BASISGEN_CACHE_VERIFY") or "checksum")
    if mode not in VERIFY_MODES:
        raise ValueError(f"verify must be one of {', '.join(VERIFY_MODES)} (or $BASISGEN_CACHE_VERIFY), got {mode!r}")
    return mode


class BasisCache:
    """Get-or-compute sampled bases (kernels and PDOs): memo, then disk, then :func:`basisgen.families.sample`.

    ``roots`` are cache directories searched in order for reads; the first writable one receives new
    entries.  By default they come from :func:`cache.location.cache_roots`.  ``verify`` says how much
    an entry read from disk is checked (default ``$BASISGEN_CACHE_VERIFY``, else ``"checksum"``):

    * ``"checksum"``: its SHA-256 and its structure against its key (shapes, layout, ranges, changes
      of basis); catches every accident, costs about a millisecond;
    * ``"content"``: also, for an entry this process did not write, the numbers themselves: recomputed
      with basisgen and compared, once per key and process (as slow as a cache miss, without the write).

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

    def __init__(self, roots: Optional[Sequence[os.PathLike]] = None, verify: Optional[str] = None):
        self.roots: List[Path] = [Path(r).expanduser() for r in (roots if roots is not None else cache_roots())]
        if not self.roots:
            raise ValueError("roots must name at least one cache directory")
        self.verify_mode = _verify_mode(verify)
        self._memo: Dict[str, SampledBasis] = {}
        self._own: Dict[str, str] = {}         # digest -> sha256 of the entry this process wrote
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

    def _root_of(self, path: Path) -> Path:
        return next((r for r in self.roots if r in path.parents), path.parent)

    # ---- the get-or-compute call ----------------------------------------------------------------------
    def get(self, in_repr: Representation, out_repr: Representation, kernel_size: Union[int, KernelParams],
            dilation: int = 1, rings=None, sigma=None, frequencies_cutoff=None, maximum_offset: Optional[int] = None,
            basis_filter: Optional[Callable[[dict], bool]] = None, axis: Optional[float] = None,
            dtype: Any = None) -> SampledBasis:
        """The basis :func:`basisgen.families.sample` returns for these arguments, computed at most once.

        ``kernel_size`` is a :class:`basisgen.radial.KernelParams` (then nothing else but ``dtype`` is
        given), or an int with R2Conv's keyword arguments.  Every entry is stored in float64; ``dtype``
        (default float64) is only that of the returned basis's ``array``.  Its ``blocks`` and ``array``
        are read-only (shared with every other caller in the process).
        """
        params = as_params(kernel_size, dilation=dilation, rings=rings, sigma=sigma,
                           frequencies_cutoff=frequencies_cutoff, maximum_offset=maximum_offset,
                           basis_filter=basis_filter, axis=axis)
        return self._get(in_repr, out_repr, params, np.dtype(np.float64 if dtype is None else dtype))

    def _get(self, in_repr: Representation, out_repr: Representation, params: KernelParams,
             dtype: np.dtype) -> SampledBasis:
        """:meth:`get` once the parameters are built: memo, then disk, then compute and store."""
        if params.basis_filter is not None:
            log.info("basis_filter is an arbitrary callable: the basis is computed in memory, not cached")
            return sample(in_repr, out_repr, params, dtype=dtype)
        key = self.key(in_repr, out_repr, params)
        with self._lock:
            hit = self._memo.get(key.digest)
        if hit is not None:
            self.stats["memo_hits"] += 1
            return hand_out(_non_empty(hit, in_repr, out_repr, params), dtype)
        basis = self._read_any(key)
        if basis is None:
            basis = self._compute_and_store(key, in_repr, out_repr, params)
        with self._lock:
            master = self._memo.setdefault(key.digest, freeze(basis))
        return hand_out(_non_empty(master, in_repr, out_repr, params), dtype)

    def key(self, in_repr: Representation, out_repr: Representation, kernel_size: Union[int, KernelParams],
            dilation: int = 1, rings=None, sigma=None, frequencies_cutoff=None, maximum_offset: Optional[int] = None,
            axis: Optional[float] = None, dtype: Any = None) -> BasisKey:
        """The key under which :meth:`get` stores the basis for these arguments (nothing is computed).

        ``dtype`` is accepted and ignored: one float64 entry serves every precision.
        """
        if in_repr.group != out_repr.group:
            raise ValueError(f"in_repr and out_repr must share one group, got {in_repr.group.name} and "
                             f"{out_repr.group.name}")
        params = as_params(kernel_size, dilation=dilation, rings=rings, sigma=sigma,
                           frequencies_cutoff=frequencies_cutoff, maximum_offset=maximum_offset, axis=axis)
        return basis_key(in_repr, out_repr, params)

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
            if _layout.is_regular(path):
                return path
        return None

    def _load(self, path: Path, digest: str) -> EntryData:
        """Read, check and (in ``content`` mode, for entries not written here) prove one entry."""
        entry = decode_entry_data(read_entry_bytes(path), digest)
        if self.verify_mode == "content" and self._own.get(digest) != entry.sha256:
            try:
                recompute_and_compare(entry.basis, entry.description, digest, entry.change_of_basis_in)
            except KeyMismatch as err:
                raise CorruptEntry(f"fails the content check ({err})") from None
        return entry

    def _read_any(self, key: BasisKey) -> Optional[SampledBasis]:
        for root in self.roots:
            path = self._path(root, key.digest)
            try:
                entry = self._load(path, key.digest)
            except FileNotFoundError:
                continue
            except EntryInaccessible as err:
                self._warn_once(f"inaccessible:{path}", f"cannot read cache entry {err}; it is left alone and the "
                                                        "basis computed in memory")
                continue
            except CorruptEntry as err:
                self._discard(path, str(err), key.digest)
                continue
            self.stats["disk_hits"] += 1
            return entry.basis
        return None

    def _inaccessible(self, digest: str) -> bool:
        return any(f"inaccessible:{self._path(r, digest)}" in self._warned for r in self.roots)

    def _compute_and_store(self, key: BasisKey, in_repr, out_repr, params: KernelParams) -> SampledBasis:
        root = self.write_root
        if root is None:
            self._warn_once("read-only", f"no writable cache directory among {[str(r) for r in self.roots]}: "
                                         "bases missing from the cache are computed in memory only")
            return self._compute(in_repr, out_repr, params)
        if self._inaccessible(key.digest):
            return self._compute(in_repr, out_repr, params)
        path = self._path(root, key.digest)
        with self._key_lock(root, key.digest):
            basis = self._read_any(key)          # another process may have written it meanwhile
            if basis is not None:
                return basis
            empty = None
            try:
                basis = self._compute(in_repr, out_repr, params)
            except EmptyBasisError as err:
                # stored too (an entry of no elements), so that a warm cache knows the pair is empty without
                # deriving it again (the derivation loads sympy)
                basis, empty = _empty_basis(in_repr, out_repr, params), err
            try:
                written = write_entry(path, key, basis, in_repr.change_of_basis)
            except OSError as err:
                self._warn_once(f"write:{root}", f"could not write to the cache at {root} "
                                                 f"({err.strerror or err}); continuing without storing")
                written = None
            if written is not None:
                self.stats["written"] += 1
                self._own[key.digest] = written      # reading it back later needs no content check
                _layout.remove_stale_temporaries(path.parent)
        if empty is not None:
            raise empty
        return basis

    def _compute(self, in_repr, out_repr, params: KernelParams) -> SampledBasis:
        self.stats["computed"] += 1
        basis = sample(in_repr, out_repr, params)                 # float64: what is stored is what is returned
        basis.blocks = np.ascontiguousarray(basis.blocks, dtype=np.float64)
        return basis

    @contextmanager
    def _key_lock(self, root: Path, digest: str) -> Iterator[None]:
        try:
            fd = open_lock(root / "locks" / f"{digest}.lock")
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

    def _discard(self, path: Path, reason: str, digest: str, content: Optional[bool] = None) -> Optional[str]:
        """Report a damaged entry once and move it to quarantine (or leave it, if that is impossible).

        Returns ``"quarantined"`` or ``"left"``, or ``None`` when there was nothing to do (the file is
        gone, or another process republished a good entry meanwhile).
        """
        try:
            identity = os.lstat(path).st_mtime_ns
        except OSError:
            return None                # already gone
        content = self.verify_mode == "content" if content is None else content
        try:
            entry = decode_entry_data(read_entry_bytes(path), digest)
            if content:
                recompute_and_compare(entry.basis, entry.description, digest, entry.change_of_basis_in)
            return None                # republished meanwhile by another process: it is good now
        except FileNotFoundError:
            return None
        except (CorruptEntry, EntryInaccessible, KeyMismatch):
            pass
        moved = quarantine(self._root_of(path), path)
        self.stats["corrupt"] += 1
        self._warn_once(f"corrupt:{path}:{identity}",
                        f"damaged cache entry {path}: {reason}; " + (
                            "it is quarantined and the basis recomputed" if moved else
                            "it cannot be moved (read-only directory), is never used, and the basis is recomputed"))
        return "quarantined" if moved else "left"

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
            yield from scan(root).entries

    def entries(self, group: Optional[str] = None) -> List[EntryInfo]:
        """The entries of every root that fit their key (optionally only those of the group ``group``).

        Damaged files are skipped here (``verify`` reports them); listing reads no dataset.
        """
        out = []
        for path in self._entry_files():
            info = _entry_info(path)
            if info is not None and (group is None or info.group == group):
                out.append(info)
        return out

    def total_size(self) -> int:
        """Bytes used by entry files in every root."""
        total = 0
        for path in self._entry_files():
            try:
                total += os.lstat(path).st_size
            except OSError:
                pass
        return total

    def verify(self, content: bool = True) -> List[Finding]:
        """Check every file of every root; quarantine what is damaged, remove dead writers' temporaries.

        Each entry's checksum and structure are checked against its key, and with ``content`` (the
        default) its numbers are recomputed with basisgen and compared.  Returns one :class:`Finding`
        per problem (empty when everything is clean).  Files this user may not read are reported as
        ``skipped``, damaged files in a directory this user cannot write as ``left``; neither is moved.
        Raises :class:`ForeignFiles` for a root whose cache directories hold files the cache did not
        create (it touches nothing then).
        """
        layouts = [scan(root) for root in self.roots]
        for found in layouts:
            found.refuse_if_foreign("verify")
        findings: List[Finding] = []
        for found in layouts:
            writable = os.access(found.root, os.W_OK | os.X_OK) and _writable(found.root)
            for tmp in found.temporaries:
                if writable and _layout.stale_temporary(tmp):
                    try:
                        tmp.unlink()
                    except FileNotFoundError:
                        continue
                    except OSError:
                        continue
                    findings.append(Finding(tmp, "partial write of a process that is gone", "removed"))
            for path in found.entries:
                finding = self._verify_one(path, content, writable)
                if finding is not None:
                    findings.append(finding)
        return findings

    def _verify_one(self, path: Path, content: bool, writable: bool) -> Optional[Finding]:
        digest = path.stem
        try:
            entry = decode_entry_data(read_entry_bytes(path), digest)
            if content:
                recompute_and_compare(entry.basis, entry.description, digest, entry.change_of_basis_in)
            return None
        except FileNotFoundError:
            return None                          # removed meanwhile (a concurrent clear): nothing to report
        except EntryInaccessible:
            return Finding(path, "this user may not read it", "skipped")
        except KeyMismatch as err:
            reason = f"fails the content check ({err})"
        except CorruptEntry as err:
            reason = str(err)
        if not writable:
            if not os.path.lexists(path):
                return None
            self._warn_once(f"corrupt:{path}", f"damaged cache entry {path}: {reason}; left in place (the "
                                               "directory is not writable for this user)")
            return Finding(path, reason, "left")
        action = self._discard(path, reason, digest, content)
        return None if action is None else Finding(path, reason, action)

    def clear(self, group: Optional[str] = None) -> int:
        """Delete the entries of the writable roots (all, or those of ``group``); returns how many.

        Only files named as entries and holding an entry of that name are deleted; damaged files at
        entry names are quarantined instead.  Raises :class:`ForeignFiles` (and deletes nothing) for a
        root whose cache directories hold files the cache did not create.
        """
        count = 0
        targets = [scan(root) for root in self.roots if os.path.isdir(root) and _writable(root)]
        for found in targets:
            found.refuse_if_foreign("clear")
        for found in targets:
            for path in found.entries:
                info = _entry_info(path)
                if info is None:
                    if group is None and os.path.lexists(path):
                        quarantine(found.root, path)
                    continue
                if group is not None and info.group != group:
                    continue
                try:
                    path.unlink()
                    count += 1
                except FileNotFoundError:
                    pass
            for shard in {p.parent for p in found.entries + found.temporaries}:
                _layout.remove_stale_temporaries(shard)
                try:
                    shard.rmdir()               # only when empty
                except OSError:
                    pass
        self.clear_memo()
        return count

    def export(self, destination: os.PathLike, group: Optional[str] = None) -> int:
        """Copy the entries (all, or those of ``group``) into one standalone HDF5 file; returns the count."""
        from .transfer import export_entries
        return export_entries(self, Path(destination), group)

    def import_(self, source: os.PathLike) -> int:
        """Add the entries of a file made by :meth:`export` to the writable root; returns the count.

        Every entry is checked like a disk read and then recomputed with basisgen and compared (an
        export comes from outside: its checksums prove nothing); entries that fail are skipped with a
        warning.  Raises :class:`CacheError` when there is no writable root, or the file is not an
        export (no marker, or members that are not exported entries: nothing is imported then).
        """
        from .transfer import import_entries
        return import_entries(self, Path(source))


def _entry_info(path: Path) -> Optional[EntryInfo]:
    """The listing of one entry file, or ``None`` if it is not a readable entry of its own name."""
    try:
        data = read_entry_bytes(path)
        h5py = load_h5py()
        with h5py.File(io.BytesIO(data), "r", locking=False) as f:
            description_json = read_text(f, "description")
            if hashlib.sha256(description_json.encode()).hexdigest() != path.stem:
                return None
            description = json.loads(description_json)
            expected_layout(description)
            blocks = f.get("blocks")
            if not isinstance(blocks, h5py.Dataset) or len(blocks.shape) != 4:
                return None
            created = read_text(f, "created") if "created" in f.attrs else ""
            return EntryInfo(path, path.stem, description["group"]["name"], description, len(data),
                             int(blocks.shape[0]), created)
    except Exception:
        return None


def _empty_basis(in_repr: Representation, out_repr: Representation, params: KernelParams) -> SampledBasis:
    """The entry recording that no kernel maps ``in_repr`` to ``out_repr`` with ``params`` (zero elements)."""
    params = params.for_group(in_repr.group)
    P = params.kernel_size ** 2
    return SampledBasis(np.zeros((0, 2, 2, P)), np.zeros((0, len(INDEX_COLUMNS)), dtype=np.int64),
                        np.zeros((0, len(VALUE_COLUMNS))), tuple(p.name for p in out_repr.irreps),
                        tuple(p.name for p in in_repr.irreps), tuple(p.dim for p in out_repr.irreps),
                        tuple(p.dim for p in in_repr.irreps), out_repr.change_of_basis, in_repr.change_of_basis_inv,
                        params, params.axis)


def _non_empty(basis: SampledBasis, in_repr: Representation, out_repr: Representation,
               params: KernelParams) -> SampledBasis:
    """``basis``, or :class:`EmptyBasisError` for an entry recording an empty basis."""
    if not len(basis):
        raise EmptyBasisError(f"the kernel basis from {in_repr.name} to {out_repr.name} of {in_repr.group.name} is "
                              f"empty with {params} (recorded in the basis cache; basisgen.sample_basis derives "
                              f"the reason)")
    return basis
