"""Weights -> filter for steerable convolutions, in e2cnn's weight layout, from compact cached bases.

For every pair of distinct field representations (sorted by ``(in name, out name)``, as e2cnn's
``BlocksBasisExpansion``), the basis comes from the cache in compact form: per element an irrep
block (d_out, d_in, P) at its irrep positions, and the changes of basis ``Q_out``, ``Q_in^-1``.
The filter between an output field o and an input field i is ``K = Q_out K_irr Q_in^-1`` with
``K_irr`` the weighted sum of the blocks.  The expansion computes it as two dense products:

1. ``Kp[a] = W_a @ M[a]`` for every row ``a`` of the output irreps (one batched matmul): ``M[a]``
   holds, for the elements whose output block covers row ``a``, that row of the block already
   multiplied by ``Q_in^-1`` (a ``(elements, S_in * P)`` matrix), and ``W_a`` the same elements'
   weights for every (out field, in field) pair, gathered from the weight vector;
2. ``K = Q_out @ Kp`` for every output field (a second batched matmul), written straight into the
   ``(c_out, c_in, k, k)`` layout of the filter (with several field types, one gather places them).
   Where ``Q_out`` is the identity (fields that are sums of irreps: SO(2)/O(2) band-limited fields,
   irrep and trivial fields) this step is a reordering of (row, field) to (field, row), a third of the
   product's time.

Per output entry this costs about ``E + S_out`` multiply-adds (E: elements per row, about 20 for
C8/D8 with k=5) where e2cnn's dense ``(B, S_out, S_in, P)`` basis costs ``B`` (88 for C8, 176 for
D8), and the memory held is ``M`` and ``Q_out``: 7 MB for a D16 regular -> regular k=7 layer, not
e2cnn's 115 MB.  The basis tensors are derived data (:class:`~e2layers._derived.DerivedTensors`), held as
plain attributes moved by ``.to()``, never buffers: they stay out of ``state_dict()`` and
DistributedDataParallel does not broadcast them.  The cache holds every basis in float64; the expansion
holds it in its dtype and, when ``.double()``/``.half()``/``.to(dtype)`` change it, re-derives it from
the float64 basis it already holds (no cache access, no sampling).

When the filter is expanded anyway (training) and a batch has few output positions, changing the basis
of the convolution's *output* costs less than changing that of the filter: :meth:`BasisExpansion.rows_filter`
and :meth:`BasisExpansion.rows_to_channels` are the two halves of that path, and
:meth:`BasisExpansion.output_basis_pays` the cost rule that chooses it.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from basisgen import cache as basis_cache
from basisgen.errors import EmptyBasisError, InvalidTypeError, InvalidValueError
from basisgen.radial import KernelParams, as_params
from basisgen.representation import Representation
from basisgen.families import e2cnn_attributes
from basisgen.sampling import SampledBasis

from ._derived import DerivedTensors

_WEIGHT_COLUMNS = ("in_irrep", "out_irrep", "in_irrep_code", "out_irrep_code", "in_irreps_position",
                   "out_irreps_position", "radius", "in_field_position", "out_field_position")


class PairAttributes(NamedTuple):
    """What the weights of one (in representation, out representation) pair are: the pair's weights
    are ``weights[start:start + n_out * n_in * size]``, laid out ``(out field, in field, element)``.

    Per element (arrays of length ``size``): ``in_irrep_code``/``out_irrep_code`` (small ints, the
    irreps' names in :attr:`BasisExpansion.irrep_names`), ``in_index``/``out_index`` (the irrep's
    position in its representation) and ``radius``; ``in_fields``/``out_fields`` are the positions of
    the pair's fields in the field lists, ``in_offsets``/``out_offsets`` each field's first position in
    the flat irrep lists, and ``out_irreps`` the number of irreps of the output representation.
    """
    in_name: str
    out_name: str
    start: int
    size: int
    n_out: int
    n_in: int
    in_irrep_code: np.ndarray
    out_irrep_code: np.ndarray
    in_index: np.ndarray
    out_index: np.ndarray
    radius: np.ndarray
    in_fields: np.ndarray
    out_fields: np.ndarray
    in_offsets: np.ndarray
    out_offsets: np.ndarray
    out_irreps: int


class _Pair(NamedTuple):
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


def _row_basis(basis: SampledBasis) -> tuple:
    """``(index, M)``: for every row a of the output irreps, the elements covering it (``index[a, m]``,
    padded with element 0) and ``M[a, m] = blocks[e][a - row0(e), :] @ Q_in^-1[rows of e's input irrep]``
    flattened to ``S_in * P`` (zero for the padding), in float64."""
    blocks = np.asarray(basis.blocks, dtype=np.float64)                      # (B, 2, 2, P), zero-padded
    B, P = len(basis), blocks.shape[-1]
    S_out, S_in = sum(basis.out_irrep_dims), sum(basis.in_irrep_dims)
    out_pos = np.cumsum((0,) + tuple(basis.out_irrep_dims))
    in_pos = np.cumsum((0,) + tuple(basis.in_irrep_dims))
    d_out = np.asarray(basis.out_irrep_dims)[basis.out_index]
    d_in = np.asarray(basis.in_irrep_dims)[basis.in_index]
    q_in_inv = np.asarray(basis.change_of_basis_in_inv, dtype=np.float64)
    rows_in = np.zeros((B, 2, S_in))                                         # the Q_in^-1 rows of e's input irrep
    for beta in range(2):
        has = beta < d_in
        rows_in[has, beta] = q_in_inv[in_pos[basis.in_index[has]] + beta]
    full = np.einsum("eabp,eby->eayp", blocks, rows_in).reshape(B, 2, S_in * P)
    # (row, element, alpha) triples, grouped by row in element order
    elements = np.concatenate([np.flatnonzero(d_out > alpha) for alpha in range(2)])
    alphas = np.concatenate([np.full(int((d_out > alpha).sum()), alpha) for alpha in range(2)])
    rows = out_pos[basis.out_index[elements]] + alphas
    order = np.lexsort((elements, rows))
    elements, alphas, rows = elements[order], alphas[order], rows[order]
    counts = np.bincount(rows, minlength=S_out)
    rank = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    width = max(int(counts.max()), 1)
    index = np.zeros((S_out, width), dtype=np.int64)
    M = np.zeros((S_out, width, S_in * P))
    index[rows, rank] = elements
    M[rows, rank] = full[elements, alphas]
    return index, M


def _row_matrix(basis: SampledBasis) -> np.ndarray:
    """``M`` of :func:`_row_basis` alone (float64): the exact values a pair's basis tensor is re-derived from."""
    return _row_basis(basis)[1]


def _gather_rows(W: torch.Tensor, index: torch.Tensor, n_out: int) -> torch.Tensor:
    """``W_a``: the weights of row a's elements for every (out field, in field) pair, ``(S_out, OI, E)``."""
    S, E = index.shape
    return W.index_select(1, index.view(-1)).view(n_out, -1, S, E).permute(2, 0, 1, 3).reshape(S, -1, E)


def _weights_gradient(grad_Kp: torch.Tensor, index: torch.Tensor, M: torch.Tensor, B: int) -> torch.Tensor:
    """The gradient of ``W (OI, B)`` for the gradient ``(S_out, OI, S_in P)`` of ``Kp``: ``M @ G^T`` is the fast
    orientation of this product (torch's ``bmm`` backward takes ``G @ M^T``, about 1.7x slower on CPU here)."""
    S, E = index.shape
    grad_Wa = torch.bmm(M, grad_Kp.transpose(1, 2))                          # (S_out, E, OI)
    grad_W = grad_Kp.new_zeros(B, grad_Kp.shape[1]).index_add_(0, index.view(-1), grad_Wa.view(S * E, -1))
    return grad_W.t()


class _PairRows(torch.autograd.Function):
    """Step 1 alone (module doc): ``Kp (S_out, n_out * n_in, S_in * P)`` from the weights ``(n_out * n_in, B)``."""

    @staticmethod
    def forward(ctx, W, index, M, n_out):
        ctx.save_for_backward(index, M)
        ctx.B = W.shape[1]
        return torch.bmm(_gather_rows(W, index, n_out), M)

    @staticmethod
    def backward(ctx, grad):
        index, M = ctx.saved_tensors
        return _weights_gradient(grad.contiguous(), index, M, ctx.B), None, None, None


class _PairExpansion(torch.autograd.Function):
    """One pair's filter ``(n_out, S_out, n_in * S_in * P)`` from its weights ``(n_out * n_in, B)`` (module doc),
    as one autograd node: ``Kp[a] = W_a @ M[a]``, then ``Q_out`` per output field."""

    @staticmethod
    def forward(ctx, W, index, M, q_out, n_out):
        S = index.shape[0]
        Kp = torch.bmm(_gather_rows(W, index, n_out), M)                     # (S_out, OI, S_in P): rows a
        ctx.save_for_backward(index, M, q_out)
        ctx.n_out, ctx.B = n_out, W.shape[1]
        if q_out is None:      # Q_out = I (fields that are sums of irreps): the rows are the channels
            return Kp.view(S, n_out, -1).transpose(0, 1).contiguous()
        return torch.bmm(q_out.expand(n_out, S, S), Kp.view(S, n_out, -1).transpose(0, 1))

    @staticmethod
    def backward(ctx, grad):
        index, M, q_out = ctx.saved_tensors
        S, n_out = index.shape[0], ctx.n_out
        if q_out is None:
            grad_Kp = grad.transpose(0, 1).contiguous()
        else:
            # Q_out^T per output field, written in the (a, out field, ...) layout of Kp: one filter-sized buffer
            grad_Kp = grad.new_empty(S, n_out, grad.shape[2])
            torch.bmm(q_out.t().expand(n_out, S, S), grad.contiguous(), out=grad_Kp.transpose(0, 1))
        return _weights_gradient(grad_Kp.view(S, -1, M.shape[2]), index, M, ctx.B), None, None, None, None


class BasisExpansion(DerivedTensors):
    """Expands a weight vector into the filter of a steerable convolution between fields.

    Parameters
    ----------
    in_reprs, out_reprs:
        The representations of the input and output fields, in order (basisgen representations).
    kernel_size:
        A :class:`basisgen.radial.BasisParams` (the filter size and every basis setting), or the filter
        size, with the other settings (dilation, rings, sigma, frequencies_cutoff, maximum_offset,
        basis_filter, axis) as keyword arguments.
    cache:
        The :class:`cache.BasisCache` to use (default: the process's).
    dtype:
        ``torch.float32`` (default) or ``torch.float64``: the precision the basis is held in (the cache
        stores float64; ``.double()`` later re-derives it exactly).

    Examples
    --------
    >>> import basisgen, torch
    >>> reg = basisgen.cyclic_group(4).regular_representation
    >>> expansion = BasisExpansion([reg, reg], [reg], 3)
    >>> expansion.dimension(), expansion(torch.randn(expansion.dimension())).shape
    (48, torch.Size([4, 8, 3, 3]))
    >>> expansion.basis_nbytes() < 10_000, len(expansion.state_dict())
    (True, 0)
    """

    #: the output-side change of basis is used when ``OUTPUT_BASIS_FACTOR * (output positions) <= c_in * k^2``
    #: (measured on 2 cores: benchmarks/RESULTS.md)
    OUTPUT_BASIS_FACTOR = 2

    def __init__(self, in_reprs: Sequence[Representation], out_reprs: Sequence[Representation],
                 kernel_size: Union[int, KernelParams], cache: Optional["basis_cache.BasisCache"] = None,
                 dtype: torch.dtype = torch.float32, **basis_kwargs):
        super().__init__()
        if dtype not in (torch.float32, torch.float64):
            raise InvalidValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        params = as_params(kernel_size, **basis_kwargs)
        if not in_reprs or not out_reprs:
            raise InvalidValueError("in_reprs and out_reprs must be non-empty lists of representations")
        group = in_reprs[0].group
        for rho in list(in_reprs) + list(out_reprs):
            if rho.group != group:
                raise InvalidValueError(f"all field representations must share one group: {group.name} vs {rho.group.name}")
        cache = cache or basis_cache.default_cache()
        self.params = params
        self.kernel_size = params.kernel_size
        self.in_size = sum(r.size for r in in_reprs)
        self.out_size = sum(r.size for r in out_reprs)
        in_fields, out_fields = _field_channels(in_reprs), _field_channels(out_reprs)
        unique_in = {r.name: r for r in in_reprs}
        unique_out = {r.name: r for r in out_reprs}
        in_offsets = np.cumsum([0] + [len(r.irreps) for r in in_reprs])
        out_offsets = np.cumsum([0] + [len(r.irreps) for r in out_reprs])
        self._pairs: List[_Pair] = []
        self._attributes: List[PairAttributes] = []
        # per pair: the sampled basis and its representations, for the per-weight attribute dicts (built lazily)
        self._pair_bases: List[Tuple[SampledBasis, Representation, Representation]] = []
        self._block_info: Optional[List[List[Dict[str, Any]]]] = None
        self._name_index: Optional[Dict[str, int]] = None
        self._field_irreps = ([len(r.irreps) for r in in_reprs], [len(r.irreps) for r in out_reprs])
        self._q_out_identity: List[bool] = []     # per pair: Q_out = I (a sum of irreps without change of basis)
        codes: Dict[str, int] = {}          # irrep name -> small int, for fast grouping by irrep type
        placement, start, rows = [], 0, 0
        for in_name, out_name in sorted((i, o) for i in unique_in for o in unique_out):
            try:
                basis = cache.get(unique_in[in_name], unique_out[out_name], params)
            except EmptyBasisError:
                continue
            n_out, n_in = len(out_fields[out_name]), len(in_fields[in_name])
            S_out, S_in = unique_out[out_name].size, unique_in[in_name].size
            tag = len(self._pairs)
            index, M = _row_basis(basis)
            self.register_derived(f"_index_{tag}", torch.as_tensor(index))
            self.register_derived(f"_basis_{tag}", torch.as_tensor(M, dtype=dtype),
                                  exact=functools.partial(_row_matrix, basis))
            self.register_derived(f"_q_out_{tag}", torch.tensor(basis.change_of_basis_out, dtype=dtype),
                                  exact=basis.change_of_basis_out)
            self._q_out_identity.append(bool(np.array_equal(basis.change_of_basis_out, np.eye(S_out))))
            self._pairs.append(_Pair(start, len(basis), n_out, n_in, S_out, S_in))
            self._pair_bases.append((basis, unique_in[in_name], unique_out[out_name]))
            out_f = np.array([f for f, r in enumerate(out_reprs) if r.name == out_name])
            in_f = np.array([f for f, r in enumerate(in_reprs) if r.name == in_name])
            self._attributes.append(PairAttributes(
                in_name, out_name, start, len(basis), n_out, n_in,
                np.array([codes.setdefault(n, len(codes)) for n in basis.in_irrep_names])[basis.in_index],
                np.array([codes.setdefault(n, len(codes)) for n in basis.out_irrep_names])[basis.out_index],
                np.array(basis.in_index), np.array(basis.out_index), np.array(basis.element_values[:, 1]),
                in_f, out_f, in_offsets[in_f], out_offsets[out_f], len(unique_out[out_name].irreps)))
            # the pair's filter comes out with rows (o, x, i, y): out channel of (o, x), in channel of (i, y)
            oc, ic = np.concatenate(out_fields[out_name]), np.concatenate(in_fields[in_name])
            placement.append((rows, oc, ic, n_out * S_out, n_in * S_in))
            start += n_out * n_in * len(basis)
            rows += n_out * S_out * n_in * S_in
        self.irrep_names = sorted(codes, key=codes.get)
        self._dimension = start
        if start == 0:
            raise EmptyBasisError(f"no kernel maps fields {[r.name for r in in_reprs]} to "
                                  f"{[r.name for r in out_reprs]} with {params}")
        # one pair covering every channel in field order needs no placement
        single = len(self._pairs) == 1 and self._pairs[0].n_out * self._pairs[0].S_out == self.out_size \
            and self._pairs[0].n_in * self._pairs[0].S_in == self.in_size \
            and all(np.array_equal(np.concatenate(f[n]), np.arange(size)) for f, n, size in
                    ((out_fields, self._attributes[0].out_name, self.out_size),
                     (in_fields, self._attributes[0].in_name, self.in_size)))
        self._placement = None
        if not single:
            # the filter's (c_out, c_in) entries as rows of the pairs' concatenated outputs (the last row: zero)
            place = np.full((self.out_size, self.in_size), rows, dtype=np.int64)
            for offset, oc, ic, n_rows, n_cols in placement:
                place[np.ix_(oc, ic)] = offset + np.arange(n_rows * n_cols).reshape(n_rows, n_cols)
            self.register_derived("_placement", torch.as_tensor(place.reshape(-1)))

    # ---- the derived tensors -------------------------------------------------------------------------------
    @property
    def basis_dtype(self) -> torch.dtype:
        """The dtype the basis is held in (follows ``.double()``/``.float()``/``.to(dtype)``)."""
        return self._basis_0.dtype

    def basis_tensors(self) -> Dict[str, torch.Tensor]:
        """The derived tensors the expansion holds (the bases, changes of basis and indices)."""
        return self.derived_tensors()

    def basis_nbytes(self) -> int:
        """Bytes held by :meth:`basis_tensors` (e2cnn holds 115 MB for one D16 regular 32 -> 32 k=7 layer)."""
        return sum(t.numel() * t.element_size() for t in self.basis_tensors().values())

    # ---- weights ---------------------------------------------------------------------------------------------
    def dimension(self) -> int:
        """The number of weights."""
        return self._dimension

    def pair_attributes(self) -> List[PairAttributes]:
        """Per pair of field representations, what its weights are (compact: one entry per basis element)."""
        return list(self._attributes)

    def weight_attributes(self) -> Dict[str, np.ndarray]:
        """Per weight, in the weight vector's order: ``in_irrep``, ``out_irrep`` (names; ``*_code`` the same
        as small ints), ``in_irreps_position``, ``out_irreps_position`` (indices into the field types' flat
        irrep lists), ``radius``, ``in_field_position`` and ``out_field_position`` (e2cnn's ``get_basis_info``).

        Built on each call (one entry per weight: large for wide layers); :meth:`pair_attributes` is the
        compact form.
        """
        names = np.array(self.irrep_names, dtype=object)
        columns: Dict[str, list] = {k: [] for k in _WEIGHT_COLUMNS}
        for p in self._attributes:
            per_pair = {   # each broadcast to (out field, in field, element)
                "in_irrep": names[p.in_irrep_code][None, None, :],
                "out_irrep": names[p.out_irrep_code][None, None, :],
                "in_irrep_code": p.in_irrep_code[None, None, :],
                "out_irrep_code": p.out_irrep_code[None, None, :],
                "in_irreps_position": p.in_offsets[None, :, None] + p.in_index[None, None, :],
                "out_irreps_position": p.out_offsets[:, None, None] + p.out_index[None, None, :],
                "radius": p.radius[None, None, :],
                "in_field_position": p.in_fields[None, :, None],
                "out_field_position": p.out_fields[:, None, None],
            }
            for name, values in per_pair.items():
                columns[name].append(np.broadcast_to(values, (p.n_out, p.n_in, p.size)).ravel())
        return {k: np.concatenate(v) if v else np.zeros(0) for k, v in columns.items()}

    # ---- e2cnn's descriptions of the weights ------------------------------------------------------------------
    def _pair_block_info(self) -> List[List[Dict[str, Any]]]:
        """Per pair, the attribute dicts of its basis elements as e2cnn's single-block expansion holds them
        (what the ``basis_filter`` saw, plus the element's ``id``)."""
        if self._block_info is None:
            self._block_info = []
            for basis, rho_in, rho_out in self._pair_bases:
                self._block_info.append(e2cnn_attributes(basis, rho_in, rho_out))
        return self._block_info

    def _weight_info(self, pair: int, o: int, i: int, element: int, idx: int) -> Dict[str, Any]:
        """The dict of weight ``idx``: element ``element`` of pair ``pair`` between its ``o``-th output field and
        ``i``-th input field (counted among the fields of the pair's representations)."""
        p = self._attributes[pair]
        attr = dict(self._pair_block_info()[pair][element])
        out_field, in_field = int(p.out_fields[o]), int(p.in_fields[i])
        attr.update(in_irreps_position=int(p.in_offsets[i]) + attr["in_irrep_idx"],
                    out_irreps_position=int(p.out_offsets[o]) + attr["out_irrep_idx"],
                    in_repr=p.in_name, out_repr=p.out_name, in_field_position=in_field,
                    out_field_position=out_field)
        attr["id"] = f"({p.in_name}-{in_field},{p.out_name}-{out_field})_{attr['id']}"
        attr["idx"] = idx
        return attr

    def get_basis_info(self) -> Iterator[Dict[str, Any]]:
        """One attribute dict per weight, in the weights' order (e2cnn's ``get_basis_info``): the element's
        attributes (those a ``basis_filter`` sees, ``idx`` now the weight's index), its ``id`` (the name of
        :meth:`get_basis_names`), ``in_repr``/``out_repr``, ``in_field_position``/``out_field_position`` and
        ``in_irreps_position``/``out_irreps_position`` (in the field types' flat irrep lists).

        Examples
        --------
        >>> import basisgen
        >>> rho = basisgen.so2_group(3).irrep(1)
        >>> rho = basisgen.Representation.from_irrep(rho)
        >>> info = list(BasisExpansion([rho], [rho], 3).get_basis_info())
        >>> len(info), info[0]["frequency"], info[0]["s"], info[0]["id"]
        (6, 0, 0, '(irrep_1-0,irrep_1-0)_(irrep_1-0,irrep_1-0)_(0.0/0)_0')
        """
        idx = 0
        for pair, p in enumerate(self._attributes):
            for o in range(p.n_out):
                for i in range(p.n_in):
                    for element in range(p.size):
                        yield self._weight_info(pair, o, i, element, idx)
                        idx += 1

    def get_basis_names(self) -> List[str]:
        """The name (``id``) of every weight, in the weights' order (e2cnn's ``get_basis_names``)."""
        return [a["id"] for a in self.get_basis_info()]

    def get_element_info(self, name: Union[str, int]) -> Dict[str, Any]:
        """The attribute dict of one weight (as :meth:`get_basis_info` gives it), by index or by name."""
        if isinstance(name, str):
            if self._name_index is None:
                self._name_index = {n: k for k, n in enumerate(self.get_basis_names())}
            if name not in self._name_index:
                raise KeyError(f"no basis element is named {name!r}")
            idx = self._name_index[name]
        elif isinstance(name, (int, np.integer)) and not isinstance(name, bool):
            idx = int(name)
            if not 0 <= idx < self._dimension:
                raise InvalidValueError(f"name must be a weight index in [0, {self._dimension}), got {name}")
        else:
            raise InvalidTypeError(f"name must be a basis element's name (str) or index (int), got {name!r}")
        for pair, p in enumerate(self._attributes):
            if p.start <= idx < p.start + p.n_out * p.n_in * p.size:
                block, element = divmod(idx - p.start, p.size)
                o, i = divmod(block, p.n_in)
                return self._weight_info(pair, o, i, element, idx)
        raise AssertionError("unreachable: the pairs cover every weight")

    # ---- the expansion -------------------------------------------------------------------------------------
    @property
    def single_field_type(self) -> bool:
        """Whether one pair of field types covers every channel in field order (then :meth:`rows_filter`
        applies)."""
        return self._placement is None

    @property
    def rows_are_channels(self) -> bool:
        """Whether, for a :attr:`single_field_type` expansion, ``Q_out`` is the identity (fields that are sums
        of irreps, e.g. SO(2)/O(2) band-limited or irrep fields): the output irreps' rows are the channels, and
        changing basis is a reordering of (row, field) to (field, row)."""
        return self.single_field_type and self._q_out_identity[0]

    def rows_filter(self, weights: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Step 1 alone, for a :attr:`single_field_type` expansion: ``(filter, Q_out)`` where ``filter``
        ``(c_out, c_in, k, k)`` has its output channels in the output irreps' basis, ordered (irreps row a,
        output field o), and ``Q_out (S_out, S_out)`` maps each field's rows to its channels.

        ``y = conv(x, filter)`` followed by ``Q_out`` on each output field (:meth:`rows_to_channels`) equals
        ``conv(x, self(weights))``; where a batch has few output positions (:meth:`output_basis_pays`),
        changing the basis of the output is the cheaper of the two (:class:`~e2layers.nn.R2Conv` does so).

        Examples
        --------
        >>> import basisgen, torch
        >>> reg = basisgen.cyclic_group(4).regular_representation
        >>> expansion = BasisExpansion([reg, reg], [reg, reg], 3)
        >>> w, x = torch.randn(expansion.dimension()), torch.randn(1, 8, 5, 5)
        >>> filt, q = expansion.rows_filter(w)
        >>> y = torch.nn.functional.conv2d(x, filt).view(1, 4, 2, 3, 3)        # (batch, a, o, H, W)
        >>> y = torch.einsum("xa,baohw->boxhw", q, y).reshape(1, 8, 3, 3)
        >>> torch.allclose(y, torch.nn.functional.conv2d(x, expansion(w)), atol=1e-5)
        True
        """
        if not self.single_field_type:
            raise InvalidValueError("rows_filter needs one pair of field types covering every channel in field order")
        self._check_weights(weights)
        if _autocast_enabled(weights.device.type):
            with torch.autocast(weights.device.type, enabled=False):
                return self.rows_filter(weights)
        (_, B, n_out, n_in, _, _), k = self._pairs[0], self.kernel_size
        M, q_out = self._pair_tensors(0, weights.dtype)
        Kp = _PairRows.apply(weights.view(n_out * n_in, B), self._index_0, M, n_out)
        return Kp.view(self.out_size, self.in_size, k, k), q_out

    def output_basis_pays(self, output_positions: int) -> bool:
        """Whether convolving with :meth:`rows_filter` and changing the basis of the output
        (:meth:`rows_to_channels`) costs less than expanding the whole filter, for a convolution with
        ``output_positions`` (batch x height x width) outputs: when there are fewer of them than the filter
        has entries per output channel (up to :attr:`OUTPUT_BASIS_FACTOR`).  Only a
        :attr:`single_field_type` expansion has that path."""
        return self.single_field_type and \
            self.OUTPUT_BASIS_FACTOR * output_positions <= self.in_size * self.kernel_size ** 2

    def rows_to_channels(self, y: torch.Tensor, q_out: torch.Tensor) -> torch.Tensor:
        """The output ``(b, c_out, ...)`` of a convolution with :meth:`rows_filter`'s filter, channels ordered
        (irreps row, output field), mapped by ``Q_out`` to the channels (output field, channel of the field):
        the output of the convolution with ``self(weights)``, contiguous.  No autograd node needs the result,
        so it may be updated in place."""
        b, spatial = y.shape[0], y.shape[2:]
        S = q_out.shape[0]
        n = self.out_size // S
        if not self.rows_are_channels:
            y = torch.matmul(q_out, y.reshape(b, S, n * math.prod(spatial))).view(b, S, n, *spatial)
        else:
            y = y.view(b, S, n, *spatial)
        return y.transpose(1, 2).contiguous().view(b, self.out_size, *spatial)

    def _check_weights(self, weights: torch.Tensor) -> None:
        if weights.shape != (self._dimension,):
            raise InvalidValueError(f"weights must have shape ({self._dimension},), got {tuple(weights.shape)}")

    def _pair_tensors(self, tag: int, dtype: torch.dtype) -> Tuple[torch.Tensor, torch.Tensor]:
        M, q_out = getattr(self, f"_basis_{tag}"), getattr(self, f"_q_out_{tag}")
        if M.dtype != dtype:
            M, q_out = M.to(dtype), q_out.to(dtype)
        return M, q_out

    def forward(self, weights: torch.Tensor) -> torch.Tensor:
        """The filter (c_out, c_in, k, k) for a weight vector of length :meth:`dimension`."""
        self._check_weights(weights)
        if _autocast_enabled(weights.device.type):
            # autocast would run the products in half precision; the filter is expanded in the weights'
            # dtype, like an nn.Conv2d weight, and the convolution casts it (tests/e2layers/test_scale.py)
            with torch.autocast(weights.device.type, enabled=False):
                return self.forward(weights)
        k = self.kernel_size
        pieces = []
        for tag, (start, B, n_out, n_in, S_out, S_in) in enumerate(self._pairs):   # e2cnn's pair order
            W = weights if len(self._pairs) == 1 else weights[start:start + n_out * n_in * B]
            M, q_out = self._pair_tensors(tag, weights.dtype)
            pieces.append(_PairExpansion.apply(W.view(n_out * n_in, B), getattr(self, f"_index_{tag}"), M,
                                               None if self._q_out_identity[tag] else q_out, n_out))
        if self._placement is None:
            return pieces[0].view(self.out_size, self.in_size, k, k)
        rows = torch.cat([p.view(-1, k * k) for p in pieces] + [weights.new_zeros(1, k * k)])
        return rows.index_select(0, self._placement).view(self.out_size, self.in_size, k, k)


def _autocast_enabled(device_type: str) -> bool:
    try:
        return torch.is_autocast_enabled(device_type)          # torch >= 2.4
    except TypeError:
        return torch.is_autocast_cpu_enabled() if device_type == "cpu" else torch.is_autocast_enabled()
