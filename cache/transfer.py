"""Export entries to one HDF5 file and import them back, treating every imported byte as untrusted.

An export holds one HDF5 group per entry, named by its key, with the entry's datasets and
attributes, and the file attribute ``basisgen_cache_export``.  An import first checks the whole
file's shape (every member a group named like a key, no links of any kind), then reads each member
like a disk entry (shapes before data, checksum, structure against the key) and recomputes it with
basisgen: a checksum in a file from elsewhere proves nothing, the mathematics does.
"""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import h5py

from .entry import CorruptEntry, EntryInaccessible, encode_entry, read_entry_bytes, read_group
from .keys import SCHEMA_VERSION, BasisKey
from .safe_io import NotARegularFile, publish_bytes, read_regular
from .validate import KeyMismatch, recompute_and_compare

if TYPE_CHECKING:
    from .store import BasisCache

MARKER = "basisgen_cache_export"
_KEY = re.compile(r"[0-9a-f]{64}")
#: the most bytes of an export file an import reads into memory
MAX_EXPORT_BYTES = 1 << 34


def export_entries(store: "BasisCache", destination: Path, group: Optional[str]) -> int:
    """:meth:`BasisCache.export`: every verified entry into one file, published atomically."""
    buffer = io.BytesIO()
    exported = set()
    with h5py.File(buffer, "w", locking=False) as out:
        out.attrs[MARKER] = SCHEMA_VERSION
        for info in store.entries(group):
            if info.digest in exported:      # the same key in two roots: the first one wins
                continue
            try:
                data = read_entry_bytes(info.path)
                with h5py.File(io.BytesIO(data), "r", locking=False) as src:
                    read_group(src, info.digest, len(data))          # never export damaged data
                    member = out.create_group(info.digest)
                    for name, ds in src.items():
                        member.create_dataset(name, data=ds[()])
                        for k, v in ds.attrs.items():
                            member[name].attrs[k] = v
                    for k, v in src.attrs.items():
                        member.attrs[k] = v
            except (FileNotFoundError, EntryInaccessible):
                continue
            except CorruptEntry as err:
                store._discard(info.path, str(err), info.digest)
                continue
            exported.add(info.digest)
    publish_bytes(destination, buffer.getvalue(), "export")
    return len(exported)


def _refuse(source: Path, why: str) -> None:
    from .store import CacheError
    raise CacheError(f"cannot import {source}: {why}")


def import_entries(store: "BasisCache", source: Path) -> int:
    """:meth:`BasisCache.import_`: check the file, prove each entry, publish those that pass."""
    root = store.write_root
    if root is None:
        _refuse(source, f"no writable cache directory among {[str(r) for r in store.roots]} to import into")
    try:
        data = read_regular(source, MAX_EXPORT_BYTES)
    except NotARegularFile as err:
        _refuse(source, f"{err.strerror}")
    except OSError as err:
        _refuse(source, f"{err.strerror or err}")
    try:
        src = h5py.File(io.BytesIO(data), "r", locking=False)
    except Exception:
        _refuse(source, "not an HDF5 file")
    count = 0
    with src:
        if MARKER not in src.attrs:
            _refuse(source, "not a basisgen cache export (made by `basisgen cache export`)")
        for name in src:
            link = src.get(name, getlink=True)
            kind = ("an external link" if isinstance(link, h5py.ExternalLink) else "a soft link"
                    if isinstance(link, h5py.SoftLink) else None)
            if kind is None and not isinstance(src[name], h5py.Group):
                kind = "a dataset"
            if kind is None and not _KEY.fullmatch(name):
                kind = "not named by a cache key"
            if kind is not None:
                _refuse(source, f"member {name[:80]!r} is {kind}, not an exported entry; nothing was imported")
        for digest in src:
            member = src[digest]
            try:
                entry = read_group(member, digest, len(data))
                recompute_and_compare(entry.basis, entry.description, digest, entry.change_of_basis_in)
            except (CorruptEntry, KeyMismatch) as err:
                check = "content check" if isinstance(err, KeyMismatch) else "check"
                store._warn_once(f"import:{digest}", f"skipped damaged entry {digest[:12]} of {source}: it fails "
                                                     f"the {check} ({err})")
                continue
            encoded, _ = encode_entry(BasisKey(digest, entry.description), entry.basis, entry.change_of_basis_in)
            publish_bytes(store._path(root, digest), encoded, digest[:16])
            count += 1
    return count

