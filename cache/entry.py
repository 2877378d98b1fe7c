"""One cache entry as an HDF5 file: layout, checksum, atomic write, verified read.

Layout (readable with h5py or h5dump alone)::

    /blocks              (B, 2, 2, P) float64  the basis in the irreps' basis (see basisgen.SampledBasis)
    /element_index       (B, 8) int64  out_index, in_index, ring, mu, s, t, inner_idx, angular_idx
    /element_values      (B, 3) float64 gamma, radius, sigma
    /radial              (3, rings) float64 ring radii, widths, frequency cutoffs
    /change_of_basis_out, /change_of_basis_in, /change_of_basis_in_inv  float64
    attributes: description (the key's JSON: group, representations, grid, radial and band settings),
                layout (JSON: irrep names and dimensions, axis), sha256, key, schema,
                basisgen_version, created, group (formulas for people: `basisgen latex`, not stored)

``sha256`` covers the description, the layout and every dataset (name, dtype, shape, bytes), so a
truncated file or flipped bytes fail :func:`read_entry` with :class:`CorruptEntry`.  Before a dataset
is read, its dtype, shape and storage are checked against what the key implies (cache/validate.py),
so a file declaring more than it holds costs nothing; after, the structure is checked against the
key, so an entry that passes its checksum but does not fit its key is refused too.  Files are read
whole into memory from a regular file opened without following links or blocking (cache/safe_io.py)
and parsed there; nothing read is executed or unpickled: only numbers, strings and JSON are read.
"""
from __future__ import annotations

import datetime
import hashlib
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, NamedTuple, Optional, Tuple

import numpy as np

import basisgen
from basisgen.sampling import INDEX_COLUMNS, VALUE_COLUMNS, SampledBasis

from .keys import SCHEMA_VERSION, BasisKey
from .safe_io import NotARegularFile, TooLarge, publish_bytes, read_regular
from .validate import KeyMismatch, check_structure, expected_layout, expected_shapes

if TYPE_CHECKING:
    import h5py

#: what the three rows of ``/radial`` (and the columns ``ring``, ``radius``, ``sigma`` of the element tables)
#: hold, per family of bases
RADIAL_ROWS = {"gaussian_rings": "rings,sigmas,cutoffs", "diffop": "laplacian_powers,orders,cutoffs"}
DATASETS = ("blocks", "element_index", "element_values", "radial", "change_of_basis_out", "change_of_basis_in",
            "change_of_basis_in_inv")
TEXT_ATTRIBUTES = ("key", "description", "layout", "sha256")
#: no text attribute of an entry is longer (the description of a 100-irrep representation is ~5 KB)
MAX_TEXT_BYTES = 1 << 20
#: the most bytes an entry file may have before its key is known (the description is needed first)
MAX_ENTRY_BYTES = 1 << 30


def load_h5py():
    """h5py, imported when an entry file is first read or written rather than with the cache: importing the
    cache (and e2layers) loads no HDF5 library, and a process whose bases all come from the in-process memo
    never does (every entry read from disk is still checked in full)."""
    import h5py
    return h5py


class CorruptEntry(Exception):
    """An entry file that cannot be trusted: unreadable, incomplete, foreign or failing its checksum."""


class EntryInaccessible(Exception):
    """An entry this user may not read (a group-shared cache): not damage, never moved or reported as such."""


def checksum(description_json: str, datasets: Dict[str, np.ndarray]) -> str:
    h = hashlib.sha256(description_json.encode())
    for name in sorted(datasets):
        a = np.ascontiguousarray(datasets[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}".encode())
        h.update(a.reshape(-1).view(np.uint8))     # the array's bytes, without a copy
    return h.hexdigest()


def _to_datasets(basis: SampledBasis, change_of_basis_in: np.ndarray) -> Dict[str, np.ndarray]:
    p = basis.params
    return {"blocks": np.ascontiguousarray(basis.blocks, dtype="<f8"),
            "element_index": np.ascontiguousarray(basis.element_index, dtype="<i8"),
            "element_values": np.ascontiguousarray(basis.element_values, dtype="<f8"),
            "radial": np.array(p.radial_rows(), dtype="<f8").reshape(3, -1),
            "change_of_basis_out": np.asarray(basis.change_of_basis_out, dtype="<f8"),
            "change_of_basis_in": np.asarray(change_of_basis_in, dtype="<f8"),
            "change_of_basis_in_inv": np.asarray(basis.change_of_basis_in_inv, dtype="<f8")}


def _layout(basis: SampledBasis) -> str:
    return json.dumps({"out_irreps": list(basis.out_irrep_names), "in_irreps": list(basis.in_irrep_names),
                       "out_dims": list(basis.out_irrep_dims), "in_dims": list(basis.in_irrep_dims),
                       "axis": float(basis.axis).hex(),
                       "kernel_size": basis.params.kernel_size, "dilation": basis.params.dilation,
                       "maximum_frequency": basis.params.maximum_frequency,
                       "maximum_offset": basis.params.maximum_offset}, sort_keys=True)


def encode_entry(key: BasisKey, basis: SampledBasis, change_of_basis_in: np.ndarray,
                 attributes: Optional[Dict[str, Any]] = None) -> Tuple[bytes, str]:
    """The bytes of the entry file of ``basis`` (an HDF5 image built in memory) and its checksum."""
    datasets = _to_datasets(basis, change_of_basis_in)
    description_json = key.description_json
    layout = _layout(basis)
    buffer = io.BytesIO()
    with load_h5py().File(buffer, "w", locking=False) as f:
        for name, data in datasets.items():
            f.create_dataset(name, data=data)
        # name the columns for people reading the file with h5dump
        f["element_index"].attrs["columns"] = ",".join(INDEX_COLUMNS)
        f["element_values"].attrs["columns"] = ",".join(VALUE_COLUMNS)
        f["radial"].attrs["rows"] = RADIAL_ROWS[basis.params.kind]
        f.attrs["key"] = key.digest
        f.attrs["description"] = description_json
        f.attrs["layout"] = layout
        f.attrs["sha256"] = digest = checksum(description_json + layout, datasets)
        f.attrs["schema"] = SCHEMA_VERSION
        f.attrs["basisgen_version"] = basisgen.__version__
        f.attrs["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        f.attrs["group"] = key.description["group"]["name"]
        for name, value in (attributes or {}).items():
            f.attrs[name] = value
    return buffer.getvalue(), digest


def write_entry(path: Path, key: BasisKey, basis: SampledBasis, change_of_basis_in: np.ndarray) -> str:
    """Write ``basis`` to ``path`` atomically: a ``mkstemp`` file in the same directory, fsync, ``os.replace``.

    Readers see either no file or the complete file; a crash leaves at most a ``.tmp-*`` file behind.
    The whole file is built in memory first, so a full disk fails one ``os.write`` with ``OSError``.
    Returns the entry's checksum.
    """
    data, digest = encode_entry(key, basis, change_of_basis_in)
    publish_bytes(path, data, key.digest[:16])
    return digest


def read_entry(path: Path, expected_digest: Optional[str] = None) -> Tuple[SampledBasis, Dict[str, Any]]:
    """Read and verify an entry; returns the basis and its description.

    Raises :class:`CorruptEntry` (damaged, foreign, not a regular file, inconsistent with its key),
    :class:`EntryInaccessible` (this user may not read it) or ``FileNotFoundError`` (nothing there).
    """
    return decode_entry(read_entry_bytes(path), expected_digest)


def read_entry_bytes(path: Path, max_bytes: int = MAX_ENTRY_BYTES) -> bytes:
    try:
        return read_regular(path, max_bytes)
    except (NotARegularFile, TooLarge) as err:
        raise CorruptEntry(err.strerror) from None
    except PermissionError as err:
        raise EntryInaccessible(f"{path}: {err.strerror}") from None
    except FileNotFoundError:
        raise
    except OSError as err:
        raise CorruptEntry(f"unreadable ({err.strerror or err})") from None


def decode_entry(data: bytes, expected_digest: Optional[str] = None) -> Tuple[SampledBasis, Dict[str, Any]]:
    """:func:`read_entry` on the bytes of an entry file."""
    entry = decode_entry_data(data, expected_digest)
    return entry.basis, entry.description


def decode_entry_data(data: bytes, expected_digest: Optional[str] = None) -> "EntryData":
    """The verified entry held by the bytes of an entry file (basis, description, input change of basis)."""
    try:
        with load_h5py().File(io.BytesIO(data), "r", locking=False) as f:
            return read_group(f, expected_digest, len(data), image=data)
    except CorruptEntry:
        raise
    except Exception as err:   # h5py raises OSError, KeyError, ValueError... on damaged files
        raise CorruptEntry(f"unreadable HDF5 file ({type(err).__name__}: {_short(err)})") from None


class EntryData(NamedTuple):
    """A verified entry: the basis, the key's description, and ``Q_in`` (which the basis holds inverted)."""

    basis: SampledBasis
    description: Dict[str, Any]
    change_of_basis_in: np.ndarray
    sha256: str


def read_group(g: h5py.Group, expected_digest: Optional[str], budget: int,
               image: Optional[bytes] = None) -> EntryData:
    """Read and verify the entry held by the HDF5 group ``g`` (a file's root, or a member of an export).

    ``budget`` is the most bytes its datasets may take together (the size of the file holding them);
    ``image``, when ``g`` is the root of a file opened from these bytes, lets the datasets be read-only
    views of them instead of copies.
    """
    description_json, layout_json, stored_sum = (read_text(g, name) for name in ("description", "layout", "sha256"))
    schema = _read_scalar_int(g, "schema")
    if schema != SCHEMA_VERSION:
        raise CorruptEntry(f"schema {schema} is not {SCHEMA_VERSION}")
    digest = hashlib.sha256(description_json.encode()).hexdigest()
    if expected_digest is not None and digest != expected_digest:
        raise CorruptEntry(f"holds key {digest[:12]}..., not {expected_digest[:12]}...")
    try:
        description = json.loads(description_json)
        expected = expected_layout(description)
    except KeyMismatch as err:
        raise CorruptEntry(f"inconsistent with its key ({err})") from None
    except ValueError:
        raise CorruptEntry("the description attribute is not JSON") from None
    datasets = _read_datasets(g, expected, budget, image)
    if checksum(description_json + layout_json, datasets) != stored_sum:
        raise CorruptEntry("checksum mismatch (damaged data)")
    try:
        check_structure(datasets, layout_json, description, expected)
    except KeyMismatch as err:
        raise CorruptEntry(f"inconsistent with its key ({err})") from None
    return EntryData(_from_datasets(datasets, expected), description, datasets["change_of_basis_in"], stored_sum)


def read_text(g: h5py.Group, name: str) -> str:
    """A scalar text attribute, its size checked before it is read."""
    if name not in g.attrs:
        raise CorruptEntry(f"not a basisgen cache entry (attribute {name!r} missing)")
    attr = g.attrs.get_id(name)
    if attr.shape != () or attr.get_storage_size() > MAX_TEXT_BYTES:
        raise CorruptEntry(f"attribute {name!r} is not a short text")
    value = g.attrs[name]
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str) or len(value) > MAX_TEXT_BYTES:
        raise CorruptEntry(f"attribute {name!r} is not a short text")
    return value


def _read_scalar_int(g: h5py.Group, name: str) -> int:
    if name not in g.attrs:
        raise CorruptEntry(f"not a basisgen cache entry (attribute {name!r} missing)")
    attr = g.attrs.get_id(name)
    if attr.shape != () or attr.dtype.kind not in "iu":
        raise CorruptEntry(f"attribute {name!r} is not an integer")
    return int(g.attrs[name])


def _read_datasets(g: h5py.Group, expected: Dict[str, Any], budget: int,
                   image: Optional[bytes] = None) -> Dict[str, np.ndarray]:
    """Every dataset, after its link, dtype, shape and storage were checked against the key: read-only views
    of ``image`` (the bytes of the file ``g`` is the root of) where given, else copies."""
    h5py = load_h5py()
    found = {}
    for name in DATASETS:
        link = g.get(name, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise CorruptEntry(f"not a basisgen cache entry (dataset {name!r} "
                               f"{'missing' if link is None else 'is a link'})")
        ds = g[name]
        if not isinstance(ds, h5py.Dataset):
            raise CorruptEntry(f"not a basisgen cache entry ({name!r} is not a dataset)")
        found[name] = ds.id
    blocks_shape = found["blocks"].shape
    B = blocks_shape[0] if len(blocks_shape) == 4 else -1
    shapes = expected_shapes(expected, max(B, 0))
    total = 0
    for name, dsid in found.items():
        dtype, shape = shapes[name]
        if B < 0 or dsid.dtype != dtype or dsid.shape != shape:
            raise CorruptEntry(f"inconsistent with its key (dataset {name!r} is {dsid.dtype} {dsid.shape}, "
                               f"expected {np.dtype(dtype).name} {shape})")
        plist = dsid.get_create_plist()
        if plist.get_layout() != h5py.h5d.CONTIGUOUS or plist.get_nfilters() or plist.get_external_count():
            raise CorruptEntry(f"dataset {name!r} is not stored as the cache stores it (contiguous, uncompressed)")
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if dsid.get_storage_size() != nbytes:
            raise CorruptEntry(f"dataset {name!r} declares {nbytes} bytes but stores {dsid.get_storage_size()}")
        total += nbytes
    if total > budget:
        raise CorruptEntry(f"its datasets declare {total} bytes, more than the {budget} bytes of the file")
    out = {}
    for name, dsid in found.items():
        dtype, shape = shapes[name]
        count = int(np.prod(shape, dtype=np.int64))
        offset = dsid.get_offset() if image is not None and count else None
        if offset is not None:
            # contiguous and unfiltered (checked above): the dataset is these bytes of the file
            if offset < 0 or offset + count * dtype.itemsize > len(image):
                raise CorruptEntry(f"dataset {name!r} lies outside the file")
            out[name] = np.frombuffer(image, dtype=dtype, count=count, offset=offset).reshape(shape)
            continue
        array = np.empty(shape, dtype=dtype)
        if array.size:
            dsid.read(h5py.h5s.ALL, h5py.h5s.ALL, array)
        out[name] = array
    return out


def _short(err: Exception, limit: int = 200) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[:limit] + "..."


def _from_datasets(d: Dict[str, np.ndarray], expected: Dict[str, Any]) -> SampledBasis:
    layout = expected["layout"]
    axis = float.fromhex(layout["axis"])
    params = expected["params"]
    return SampledBasis(d["blocks"].astype(np.float64, copy=False), d["element_index"].astype(np.int64),
                        d["element_values"].astype(np.float64), tuple(layout["out_irreps"]),
                        tuple(layout["in_irreps"]), tuple(layout["out_dims"]), tuple(layout["in_dims"]),
                        d["change_of_basis_out"].astype(np.float64), d["change_of_basis_in_inv"].astype(np.float64),
                        params, axis, np.dtype(np.float64))
