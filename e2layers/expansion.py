"""Weights -> filter for steerable convolutions, in e2cnn's weight layout, from compact cached bases.

For every pair of distinct field representations (sorted by ``(in name, out name)``, as e2cnn's
``BlocksBasisExpansion``), the basis comes from the cache in compact form: per element an irrep
block (d_out, d_in, P) at its irrep positions.  The expansion then is

1. ``K_irr = W @ M``: the pair's weights (one row per (out field, in field), output-occurrence-major)
   times a sparse matrix M holding the blocks in the irreps' basis (B x S_out S_in P, a few hundred KB);
2. ``K = Q_out K_irr Q_in^-1``: two small matrix products with the changes of basis;
3. the blocks are placed at the fields' channels.

So the memory held per layer is the sparse M and the changes of basis, not e2cnn's dense
(B, c_out, c_in, k^2) basis (115 MB for one D16 regular 32 -> 32 k=7 layer).
"""
from __future__ import annotations

from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np
import torch

import cache as basis_cache
from basisgen.errors import EmptyBasisError
from basisgen.representation import Representation
from basisgen.sampling import SampledBasis


_WEIGHT_COLUMNS = ("in_irrep", "out_irrep", "in_irrep_code", "out_irrep_code", "in_irreps_position",
                   "out_irreps_position", "radius", "in_field_position", "out_field_position")


class _Pair(NamedTuple):
    in_name: str
    out_name: str
    start: int        # offset of the pair's weights in the weight vector
    size: int         # basis elements of the pair
    n_out: int        # output fields with this representation
    n_in: int
    S_out: int        # representation sizes
    S_in: int


def _field_channels(reprs: Sequence[Representation]) -> Dict[str, List[np.ndarray]]:
    """For each representation name, the channel indices of each of its fields, in field order."""
    out: Dict[str, List[np.ndarray]] = {}
    start = 0
    for rho in reprs:
        out.setdefault(rho.name, []).append(np.arange(start, start + rho.size))
        start += rho.size
    return out


def _sparse_blocks(basis: SampledBasis, dtype: torch.dtype) -> torch.Tensor:
    """The (B, S_out * S_in * P) sparse matrix placing every element's irrep block at its positions."""
    S_out, S_in = sum(basis.out_irrep_dims), sum(basis.in_irrep_dims)
    P = basis.blocks.shape[-1]
    out_pos = np.cumsum((0,) + tuple(basis.out_irrep_dims))
    in_pos = np.cumsum((0,) + tuple(basis.in_irrep_dims))
    out_dims = np.asarray(basis.out_irrep_dims)[basis.out_index]
    in_dims = np.asarray(basis.in_irrep_dims)[basis.in_index]
    rows, cols, vals = [], [], []
    for do, di in {(int(a), int(b)) for a, b in zip(out_dims, in_dims)}:   # vectorised per block shape
        members = np.flatnonzero((out_dims == do) & (in_dims == di))
        a, c, p = np.meshgrid(np.arange(do), np.arange(di), np.arange(P), indexing="ij")
        row0 = out_pos[basis.out_index[members]][:, None, None, None]
        col0 = in_pos[basis.in_index[members]][:, None, None, None]
        flat = ((row0 + a) * S_in + (col0 + c)) * P + p
        rows.append(np.repeat(members, do * di * P))
        cols.append(flat.reshape(-1))
        vals.append(basis.blocks[members, :do, :di].reshape(-1))
    index = torch.as_tensor(np.stack([np.concatenate(rows), np.concatenate(cols)]), dtype=torch.long)
    values = torch.as_tensor(np.concatenate(vals), dtype=dtype)
    return torch.sparse_coo_tensor(index, values, (len(basis), S_out * S_in * P), check_invariants=True).coalesce()


class BasisExpansion(torch.nn.Module):
    """Expands a weight vector into the filter of a steerable convolution between fields.

    Parameters
    ----------
    in_reprs, out_reprs:
        The representations of the input and output fields, in order (basisgen representations).
    kernel_size:
        The filter size; further keyword arguments (dilation, rings, sigma, frequencies_cutoff,
        maximum_offset, basis_filter, axis) are passed to the basis cache.
    cache:
        The :class:`cache.BasisCache` to use (default: the process's).
    dtype:
        ``torch.float32`` (default) or ``torch.float64``: the precision the basis is sampled and held
        in (a float64 layer should hold a float64 basis).

    Examples
    --------
    >>> import basisgen, torch
    >>> reg = basisgen.cyclic_group(4).regular_representation
    >>> expansion = BasisExpansion([reg, reg], [reg], 3)
    >>> expansion.dimension(), expansion(torch.randn(expansion.dimension())).shape
    (48, torch.Size([4, 8, 3, 3]))
    """

    def __init__(self, in_reprs: Sequence[Representation], out_reprs: Sequence[Representation], kernel_size: int,
                 cache: Optional["basis_cache.BasisCache"] = None, dtype: torch.dtype = torch.float32,
                 **basis_kwargs):
        super().__init__()
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        np_dtype = np.float32 if dtype == torch.float32 else np.float64
        if not in_reprs or not out_reprs:
            raise ValueError("in_reprs and out_reprs must be non-empty lists of representations")
        group = in_reprs[0].group
        for rho in list(in_reprs) + list(out_reprs):
            if rho.group != group:
                raise ValueError(f"all field representations must share one group: {group.name} vs {rho.group.name}")
        cache = cache or basis_cache.default_cache()
        self.kernel_size = kernel_size
        self.basis_dtype = dtype
        self.in_size = sum(r.size for r in in_reprs)
        self.out_size = sum(r.size for r in out_reprs)
        in_fields, out_fields = _field_channels(in_reprs), _field_channels(out_reprs)
        unique_in = {r.name: r for r in in_reprs}
        unique_out = {r.name: r for r in out_reprs}
        self._pairs: List[_Pair] = []
        in_offsets = np.cumsum([0] + [len(r.irreps) for r in in_reprs])
        out_offsets = np.cumsum([0] + [len(r.irreps) for r in out_reprs])
        columns: Dict[str, list] = {k: [] for k in _WEIGHT_COLUMNS}
        codes: Dict[str, int] = {}          # irrep name -> small int, for fast grouping by irrep type
        start = 0
        for in_name, out_name in sorted((i, o) for i in unique_in for o in unique_out):
            try:
                basis = cache.get(unique_in[in_name], unique_out[out_name], kernel_size, dtype=np_dtype,
                                  **basis_kwargs)
            except EmptyBasisError:
                continue
            n_out, n_in = len(out_fields[out_name]), len(in_fields[in_name])
            tag = len(self._pairs)
            self.register_buffer(f"_blocks_{tag}", _sparse_blocks(basis, dtype), persistent=False)
            self.register_buffer(f"_q_out_{tag}", torch.as_tensor(basis.change_of_basis_out, dtype=dtype),
                                 persistent=False)
            self.register_buffer(f"_q_in_inv_{tag}", torch.as_tensor(basis.change_of_basis_in_inv, dtype=dtype),
                                 persistent=False)
            out_idx = np.concatenate(out_fields[out_name])
            in_idx = np.concatenate(in_fields[in_name])
            self.register_buffer(f"_out_idx_{tag}", torch.as_tensor(out_idx, dtype=torch.long), persistent=False)
            self.register_buffer(f"_in_idx_{tag}", torch.as_tensor(in_idx, dtype=torch.long), persistent=False)
            self._pairs.append(_Pair(in_name, out_name, start, len(basis), n_out, n_in,
                                     unique_out[out_name].size, unique_in[in_name].size))
            start += n_out * n_in * len(basis)
            out_f = np.array([f for f, r in enumerate(out_reprs) if r.name == out_name])
            in_f = np.array([f for f, r in enumerate(in_reprs) if r.name == in_name])
            oo, ii = basis.out_index, basis.in_index
            in_codes = np.array([codes.setdefault(n, len(codes)) for n in basis.in_irrep_names])
            out_codes = np.array([codes.setdefault(n, len(codes)) for n in basis.out_irrep_names])
            pair_columns = {   # each broadcast to (out field, in field, element): output-occurrence-major
                "in_irrep": np.array(basis.in_irrep_names, dtype=object)[ii][None, None, :],
                "out_irrep": np.array(basis.out_irrep_names, dtype=object)[oo][None, None, :],
                "in_irrep_code": in_codes[ii][None, None, :],
                "out_irrep_code": out_codes[oo][None, None, :],
                "in_irreps_position": in_offsets[in_f][None, :, None] + ii[None, None, :],
                "out_irreps_position": out_offsets[out_f][:, None, None] + oo[None, None, :],
                "radius": basis.element_values[:, 1][None, None, :],
                "in_field_position": in_f[None, :, None],
                "out_field_position": out_f[:, None, None],
            }
            for name, values in pair_columns.items():
                columns[name].append(np.broadcast_to(values, (n_out, n_in, len(basis))).ravel())
        self._weight_attributes = {k: np.concatenate(v) if v else np.zeros(0) for k, v in columns.items()}
        self._dimension = start
        if start == 0:
            raise EmptyBasisError(f"no kernel maps fields {[r.name for r in in_reprs]} to "
                                  f"{[r.name for r in out_reprs]} with kernel_size={kernel_size} and {basis_kwargs}")

    def dimension(self) -> int:
        """The number of weights."""
        return self._dimension

    def weight_attributes(self) -> Dict[str, np.ndarray]:
        """Per weight, in the weight vector's order: ``in_irrep``, ``out_irrep`` (names; ``*_code`` the same
        as small ints),
        ``in_irreps_position``, ``out_irreps_position`` (indices into the field types' flat irrep lists),
        ``radius``, ``in_field_position`` and ``out_field_position`` (e2cnn's ``get_basis_info``)."""
        return self._weight_attributes

    def forward(self, weights: torch.Tensor) -> torch.Tensor:
        """The filter (c_out, c_in, k, k) for a weight vector of length :meth:`dimension`."""
        if weights.shape != (self._dimension,):
            raise ValueError(f"weights must have shape ({self._dimension},), got {tuple(weights.shape)}")
        k = self.kernel_size
        P = k * k
        filt = weights.new_zeros((self.out_size, self.in_size, P))
        for tag, (_, _, start, B, n_out, n_in, S_out, S_in) in enumerate(self._pairs):  # e2cnn's pair order
            M = getattr(self, f"_blocks_{tag}").to(weights.dtype)
            W = weights[start:start + n_out * n_in * B].view(n_out * n_in, B)
            K_irr = torch.sparse.mm(M.t(), W.t()).t().reshape(n_out, n_in, S_out, S_in, P)
            q_out = getattr(self, f"_q_out_{tag}").to(weights.dtype)
            q_in_inv = getattr(self, f"_q_in_inv_{tag}").to(weights.dtype)
            K = torch.einsum("xa,oiabp,by->oxiyp", q_out, K_irr, q_in_inv).reshape(n_out * S_out, n_in * S_in, P)
            out_idx, in_idx = getattr(self, f"_out_idx_{tag}"), getattr(self, f"_in_idx_{tag}")
            filt = filt.index_put((out_idx[:, None], in_idx[None, :]), K)
        return filt.reshape(self.out_size, self.in_size, k, k)
