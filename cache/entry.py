"""One cache entry as an HDF5 file: layout, checksum, atomic write, verified read.

Layout (readable with h5py or h5dump alone)::

    /blocks              (B, 2, 2, P)  the basis in the irreps' basis (see basisgen.SampledBasis)
    /element_index       (B, 8) int64  out_index, in_index, ring, mu, s, t, inner_idx, angular_idx
    /element_values      (B, 3) float64 gamma, radius, sigma
    /radial              (3, rings) float64 ring radii, widths, frequency cutoffs
    /change_of_basis_out, /change_of_basis_in_inv  float64
    attributes: description (the key's JSON: group, representations, grid, radial and band settings),
                layout (JSON: irrep names and dimensions, axis, dtype), sha256, key, schema,
                basisgen_version, created, group, latex (the formulas of every irrep pair)

``sha256`` covers the description and every dataset (name, dtype, shape, bytes), so a truncated file,
flipped bytes or a foreign file fail :func:`read_entry` with :class:`CorruptEntry`.  Nothing read is
executed or unpickled: only numbers, strings and JSON are read.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import h5py
import numpy as np

import basisgen
from basisgen.radial import BasisParams
from basisgen.sampling import INDEX_COLUMNS, VALUE_COLUMNS, SampledBasis

from .keys import SCHEMA_VERSION, BasisKey

DATASETS = ("blocks", "element_index", "element_values", "radial", "change_of_basis_out", "change_of_basis_in_inv")

#: called between writing the temporary file and publishing it (tests widen the crash window with it)
before_publish: Optional[Callable[[Path], None]] = None


class CorruptEntry(Exception):
    """An entry file that cannot be trusted: unreadable, incomplete, foreign or failing its checksum."""


def checksum(description_json: str, datasets: Dict[str, np.ndarray]) -> str:
    h = hashlib.sha256(description_json.encode())
    for name in sorted(datasets):
        a = np.ascontiguousarray(datasets[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _to_datasets(basis: SampledBasis) -> Dict[str, np.ndarray]:
    p = basis.params
    return {"blocks": np.ascontiguousarray(basis.blocks, dtype=basis.dtype),
            "element_index": np.ascontiguousarray(basis.element_index, dtype=np.int64),
            "element_values": np.ascontiguousarray(basis.element_values, dtype=np.float64),
            "radial": np.array([p.rings, p.sigmas, p.cutoffs], dtype=np.float64).reshape(3, -1),
            "change_of_basis_out": np.asarray(basis.change_of_basis_out, dtype=np.float64),
            "change_of_basis_in_inv": np.asarray(basis.change_of_basis_in_inv, dtype=np.float64)}


def _layout(basis: SampledBasis) -> str:
    return json.dumps({"out_irreps": list(basis.out_irrep_names), "in_irreps": list(basis.in_irrep_names),
                       "out_dims": list(basis.out_irrep_dims), "in_dims": list(basis.in_irrep_dims),
                       "axis": float(basis.axis).hex(), "dtype": np.dtype(basis.dtype).name,
                       "kernel_size": basis.params.kernel_size, "dilation": basis.params.dilation,
                       "maximum_frequency": basis.params.maximum_frequency,
                       "maximum_offset": basis.params.maximum_offset}, sort_keys=True)


def write_entry(path: Path, key: BasisKey, basis: SampledBasis, latex: str = "") -> None:
    """Write ``basis`` to ``path`` atomically: a private temporary file, fsync, then ``os.replace``.

    Readers see either no file or the complete file; a crash leaves at most a ``.tmp-*`` file behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".tmp-{path.stem}-{os.getpid()}-{secrets.token_hex(4)}.h5"
    datasets = _to_datasets(basis)
    description_json = key.description_json
    layout = _layout(basis)
    try:
        with h5py.File(tmp, "w", locking=False) as f:
            for name, data in datasets.items():
                f.create_dataset(name, data=data)
            # name the columns for people reading the file with h5dump
            f["element_index"].attrs["columns"] = ",".join(INDEX_COLUMNS)
            f["element_values"].attrs["columns"] = ",".join(VALUE_COLUMNS)
            f["radial"].attrs["rows"] = "rings,sigmas,cutoffs"
            f.attrs["key"] = key.digest
            f.attrs["description"] = description_json
            f.attrs["layout"] = layout
            f.attrs["sha256"] = checksum(description_json + layout, datasets)
            f.attrs["schema"] = SCHEMA_VERSION
            f.attrs["basisgen_version"] = basisgen.__version__
            f.attrs["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
            f.attrs["group"] = key.description["group"]["name"]
            f.attrs["latex"] = latex
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if before_publish is not None:
            before_publish(tmp)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_entry(path: Path, expected_digest: Optional[str] = None) -> tuple[SampledBasis, Dict[str, Any]]:
    """Read and verify an entry; returns the basis and its description.  Raises :class:`CorruptEntry`."""
    try:
        with h5py.File(path, "r", locking=False) as f:
            attrs = f.attrs
            if any(name not in attrs for name in ("description", "layout", "sha256", "schema")):
                raise CorruptEntry("not a basisgen cache entry (attributes missing)")
            description_json, layout_json = _text(attrs["description"]), _text(attrs["layout"])
            stored_sum, schema = _text(attrs["sha256"]), int(attrs["schema"])
            missing = [name for name in DATASETS if name not in f]
            if missing:
                raise CorruptEntry(f"not a basisgen cache entry (datasets {missing} missing)")
            datasets = {name: f[name][()] for name in DATASETS}
    except CorruptEntry:
        raise
    except Exception as err:   # h5py raises OSError, KeyError, ValueError... on damaged files
        raise CorruptEntry(f"unreadable HDF5 file ({type(err).__name__}: {err})") from None
    if schema != SCHEMA_VERSION:
        raise CorruptEntry(f"schema {schema} is not {SCHEMA_VERSION}")
    if checksum(description_json + layout_json, datasets) != stored_sum:
        raise CorruptEntry("checksum mismatch (damaged data)")
    digest = hashlib.sha256(description_json.encode()).hexdigest()
    if expected_digest is not None and digest != expected_digest:
        raise CorruptEntry(f"holds key {digest[:12]}..., not {expected_digest[:12]}...")
    try:
        return _from_datasets(datasets, json.loads(layout_json)), json.loads(description_json)
    except (ValueError, KeyError, TypeError, IndexError) as err:
        raise CorruptEntry(f"inconsistent entry ({err})") from None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _from_datasets(d: Dict[str, np.ndarray], layout: Dict[str, Any]) -> SampledBasis:
    rings, sigmas, cutoffs = (tuple(row) for row in d["radial"].tolist())
    params = BasisParams(int(layout["kernel_size"]), int(layout["dilation"]), rings, sigmas, cutoffs,
                         int(layout["maximum_frequency"]), layout["maximum_offset"])
    index = d["element_index"]
    if index.ndim != 2 or index.shape[1] != len(INDEX_COLUMNS) or d["blocks"].shape[0] != index.shape[0]:
        raise ValueError("element tables do not match the blocks")
    return SampledBasis(d["blocks"], index, d["element_values"], tuple(layout["out_irreps"]),
                        tuple(layout["in_irreps"]), tuple(layout["out_dims"]), tuple(layout["in_dims"]),
                        d["change_of_basis_out"], d["change_of_basis_in_inv"], params,
                        float.fromhex(layout["axis"]), np.dtype(layout["dtype"]))
