"""What an entry must look like, derived from its key alone; and the check of content by recomputation.

The key's description names the group, both representations' irreps, the grid and the radial
settings, so it fixes every dataset's dtype and every dimension but the number of elements B, the
whole ``layout`` attribute, the ``radial`` table and the changes of basis (through their
fingerprints).  :func:`expected_shapes` is checked before any dataset is read (so a file declaring a
3 GiB dataset costs nothing), :func:`check_structure` after (so an entry that passes its checksum but
does not fit its key is refused before anything indexes with it), :func:`recompute_and_compare` proves
the numbers themselves.
"""
from __future__ import annotations

import functools
import json
from typing import Any, Dict, Tuple

import numpy as np

import basisgen
from basisgen.errors import EmptyBasisError
from basisgen.groups import Group
from basisgen.families import params_from_description, sample
from basisgen.representation import Representation
from basisgen.sampling import INDEX_COLUMNS, VALUE_COLUMNS, SampledBasis

from .keys import SCHEMA_VERSION, basis_key, matrix_fingerprint


class KeyMismatch(ValueError):
    """The entry's description or datasets do not fit the key it is stored under."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise KeyMismatch(message)


@functools.lru_cache(maxsize=64)
def _group(name: str) -> Group:
    return basisgen.group_from_name(name)


def group_of(description: Dict[str, Any]) -> Group:
    """The group a description names (checked against its kind and order)."""
    g = description.get("group") if isinstance(description, dict) else None
    _require(isinstance(g, dict) and isinstance(g.get("name"), str), "the description names no group")
    try:
        group = _group(g["name"])
    except ValueError as err:
        raise KeyMismatch(f"unknown group in the description ({err})") from None
    _require(group.kind == g.get("kind") and group.rotation_order == g.get("N"),
             f"group {g['name']!r} does not match its kind and order in the description")
    return group


def _irreps(group: Group, rep: Any, side: str) -> list:
    _require(isinstance(rep, dict) and isinstance(rep.get("irreps"), list) and rep["irreps"]
             and isinstance(rep.get("name"), str) and isinstance(rep.get("change_of_basis"), str),
             f"the description's {side!r} representation is malformed")
    irreps = []
    for ident in rep["irreps"]:
        _require(isinstance(ident, list) and all(type(i) is int for i in ident), f"bad irrep id {ident!r}")
        try:
            irreps.append(group.irrep(*ident))
        except (ValueError, TypeError) as err:
            raise KeyMismatch(f"irrep {ident} of the {side!r} representation: {err}") from None
    return irreps


def expected_layout(description: Dict[str, Any]) -> Dict[str, Any]:
    """The ``layout`` attribute an entry of this description carries, and the numbers its shapes need.

    Returns ``{"layout": ..., "dtype" (always float64), "P", "params" (the basis parameters), "radial" (their
    :meth:`~basisgen.radial.KernelParams.radial_rows`), "n_out", "n_in"}``; raises
    :class:`KeyMismatch` for a description our code never writes.
    """
    _require(isinstance(description, dict), "the description is not a JSON object")
    _require(description.get("schema") == SCHEMA_VERSION, f"schema {description.get('schema')!r} is not "
                                                            f"{SCHEMA_VERSION}")
    group = group_of(description)
    out_irreps = _irreps(group, description.get("out"), "out")
    in_irreps = _irreps(group, description.get("in"), "in")
    k, dilation = description.get("kernel_size"), description.get("dilation")
    _require(type(k) is int and 0 < k <= 1001 and type(dilation) is int and 0 < dilation,
             "the description's grid is malformed")
    F, T = description.get("maximum_frequency"), description.get("maximum_offset")
    _require(type(F) is int and (T is None or type(T) is int), "the description's band limits are malformed")
    axis_hex = description["group"].get("axis")
    axis = 0.0 if axis_hex is None else float.fromhex(axis_hex) if isinstance(axis_hex, str) else None
    _require(axis is not None and np.isfinite(axis), "the description's axis is malformed")
    try:
        params = params_from_description(description, axis)
        radial = tuple(tuple(float(v) for v in row) for row in params.radial_rows())
    except ValueError as err:
        raise KeyMismatch(str(err)) from None
    _require(bool(np.isfinite(radial).all()), "the description's radial settings are not finite")
    layout = {"out_irreps": [p.name for p in out_irreps], "in_irreps": [p.name for p in in_irreps],
              "out_dims": [p.dim for p in out_irreps], "in_dims": [p.dim for p in in_irreps],
              "axis": float(axis).hex(), "kernel_size": k, "dilation": dilation,
              "maximum_frequency": F, "maximum_offset": T}
    return {"layout": layout, "dtype": np.dtype(np.float64), "P": k * k, "params": params, "radial": radial,
            "n_out": sum(layout["out_dims"]), "n_in": sum(layout["in_dims"])}


def expected_shapes(expected: Dict[str, Any], B: int) -> Dict[str, Tuple[np.dtype, Tuple[int, ...]]]:
    """dtype and shape of every dataset of an entry with ``B`` elements."""
    f8, i8 = np.dtype("<f8"), np.dtype("<i8")
    n_out, n_in = expected["n_out"], expected["n_in"]
    return {"blocks": (expected["dtype"].newbyteorder("<"), (B, 2, 2, expected["P"])),
            "element_index": (i8, (B, len(INDEX_COLUMNS))), "element_values": (f8, (B, len(VALUE_COLUMNS))),
            "radial": (f8, (3, len(expected["radial"][0]))), "change_of_basis_out": (f8, (n_out, n_out)),
            "change_of_basis_in": (f8, (n_in, n_in)), "change_of_basis_in_inv": (f8, (n_in, n_in))}


def inverse_like_representation(Q: np.ndarray) -> np.ndarray:
    """``Q^-1`` computed exactly as :class:`basisgen.Representation` computes it (bit for bit)."""
    orthogonal = np.allclose(Q.T @ Q, np.eye(len(Q)), atol=1e-10)
    return Q.T.copy() if orthogonal else np.linalg.inv(Q)


def check_structure(d: Dict[str, np.ndarray], layout_json: str, description: Dict[str, Any],
                    expected: Dict[str, Any]) -> None:
    """Everything of an entry that its key determines, except the basis numbers themselves."""
    try:
        layout = json.loads(layout_json)
    except ValueError:
        raise KeyMismatch("the layout attribute is not JSON") from None
    _require(layout == expected["layout"], "the layout attribute does not match the key")
    radial = np.array(expected["radial"], dtype=np.float64)
    _require(np.array_equal(d["radial"], radial), "the radial table does not match the key")
    blocks, index, values = d["blocks"], d["element_index"], d["element_values"]
    _require(bool(np.isfinite(blocks).all()) and bool(np.isfinite(values).all()), "non-finite numbers")
    n_out, n_in = len(layout["out_irreps"]), len(layout["in_irreps"])
    R = radial.shape[1]
    if len(index):
        _require(bool(((index[:, 0] >= 0) & (index[:, 0] < n_out)).all()), "an output irrep index is out of range")
        _require(bool(((index[:, 1] >= 0) & (index[:, 1] < n_in)).all()), "an input irrep index is out of range")
        _require(bool(((index[:, 2] >= 0) & (index[:, 2] < R)).all()), "a ring index is out of range")
        ring = index[:, 2]
        _require(np.array_equal(values[:, 1], radial[0][ring]) and np.array_equal(values[:, 2], radial[1][ring]),
                 "element radii or widths do not match their rings")
    for side, name in (("out", "change_of_basis_out"), ("in", "change_of_basis_in")):
        _require(matrix_fingerprint(d[name]) == description[side]["change_of_basis"],
                 f"{name} does not match the key")
    _require(np.array_equal(d["change_of_basis_in_inv"], inverse_like_representation(d["change_of_basis_in"])),
             "change_of_basis_in_inv is not the inverse of change_of_basis_in")


def representations_of(description: Dict[str, Any], Q_out: np.ndarray,
                       Q_in: np.ndarray) -> Tuple[Representation, Representation]:
    """The representations a description (and the entry's changes of basis) stand for."""
    group = group_of(description)
    out_irreps = _irreps(group, description["out"], "out")
    in_irreps = _irreps(group, description["in"], "in")
    try:
        return (Representation(group, description["in"]["name"], in_irreps, Q_in),
                Representation(group, description["out"]["name"], out_irreps, Q_out))
    except ValueError as err:
        raise KeyMismatch(f"the changes of basis are invalid ({err})") from None


def recompute_and_compare(basis: SampledBasis, description: Dict[str, Any], digest: str,
                          Q_in: np.ndarray) -> None:
    """Recompute the basis from the key alone with :func:`basisgen.families.sample`; raise unless equal.

    The key is rebuilt from the recovered representations and must give ``digest`` again, so the
    description cannot claim one basis and hold another.
    """
    in_repr, out_repr = representations_of(description, basis.change_of_basis_out, Q_in)
    params = basis.params
    key = basis_key(in_repr, out_repr, params)
    _require(key.digest == digest, "the description does not rebuild its own key")
    try:
        fresh = sample(in_repr, out_repr, params)
    except EmptyBasisError:
        _require(len(basis) == 0, f"{len(basis)} elements stored, none computed")
        return
    except ValueError as err:
        raise KeyMismatch(f"the key describes no basis ({err})") from None
    _require(fresh.params == params, "the radial settings do not rebuild")
    _require(fresh.blocks.shape == basis.blocks.shape, f"{len(basis)} elements stored, {len(fresh)} computed")
    _require(np.array_equal(fresh.element_index, basis.element_index)
             and np.array_equal(fresh.element_values, basis.element_values), "the element tables differ from the "
                                                                              "recomputed ones")
    _require(bool(np.allclose(fresh.blocks, basis.blocks, rtol=0, atol=1e-10)),
             "the basis numbers differ from the recomputed ones")
