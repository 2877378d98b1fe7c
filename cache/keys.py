"""Canonical cache keys: everything that determines a sampled basis, hashed stably.

The key of a basis is the SHA-256 of a canonical JSON description: the group (family, N, reflection
axis), both representations (irrep ids and a fingerprint of the change of basis, not just names), and
the basis parameters' own description (:meth:`basisgen.radial.KernelParams.key_description`: their
kind, the grid, the rings and widths, the frequency cutoff *as evaluated on the rings* -- so a callable
cutoff is as cacheable as a number: only its values at the rings enter the basis -- and the maximum
offset), the normalisation rule and the schema version.  There is no dtype: every entry is float64 and
layers cast.  Floats enter as ``float.hex`` and matrices as hashes of their little-endian float64 bytes,
so the key is the same in every process, on every machine and Python version.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Dict

import numpy as np

from basisgen.radial import KernelParams
from basisgen.representation import Representation

#: bump when the stored layout or the meaning of a key changes; older entries are then never read
#: (3: keys derived from the parameter object, no dtype: one float64 entry per basis)
SCHEMA_VERSION = 3
#: the normalisation every entry uses (docs/math.md, "Sampling and normalisation")
NORMALISATION = "e2cnn: squared Frobenius norm = output irrep dimension; drop if <= 1e-2"


def _hex(x: float) -> str:
    return float(x).hex()


def matrix_fingerprint(Q: np.ndarray) -> str:
    """SHA-256 of ``Q`` rounded to 12 decimals (so -0.0 and round-off do not split keys)."""
    canonical = np.ascontiguousarray(np.round(np.asarray(Q, dtype=np.float64), 12) + 0.0, dtype="<f8")
    return hashlib.sha256(str(canonical.shape).encode() + canonical.tobytes()).hexdigest()


def representation_description(rho: Representation) -> Dict[str, Any]:
    return {"name": rho.name, "irreps": [list(psi.id) for psi in rho.irreps],
            "change_of_basis": matrix_fingerprint(rho.change_of_basis)}


def group_description(group, axis: float) -> Dict[str, Any]:
    return {"kind": group.kind, "name": group.name, "N": group.rotation_order,
            "axis": _hex(axis) if group.has_reflection else None}


@dataclass(frozen=True)
class BasisKey:
    """A cache key: ``digest`` (64 hex characters) and the ``description`` it hashes."""

    digest: str
    description: Dict[str, Any]

    @property
    def description_json(self) -> str:
        return json.dumps(self.description, sort_keys=True, separators=(",", ":"))


def basis_key(in_repr: Representation, out_repr: Representation, params: KernelParams) -> BasisKey:
    """The key of the basis ``basisgen.families.sample(in_repr, out_repr, params)`` would produce (``params.basis_filter``
    is not part of it: a filtered basis is never cached).

    Examples
    --------
    >>> import basisgen
    >>> rho = basisgen.cyclic_group(4).regular_representation
    >>> key = basis_key(rho, rho, basisgen.basis_params(3))
    >>> len(key.digest), key.description["group"]["name"], key.description["kind"]
    (64, 'C4', 'gaussian_rings')
    """
    params = params.for_group(in_repr.group)
    description = {
        "schema": SCHEMA_VERSION,
        "group": group_description(in_repr.group, params.axis),
        "in": representation_description(in_repr),
        "out": representation_description(out_repr),
        **params.key_description(),
        "normalisation": NORMALISATION,
    }
    text = json.dumps(description, sort_keys=True, separators=(",", ":"))
    return BasisKey(hashlib.sha256(text.encode()).hexdigest(), description)
