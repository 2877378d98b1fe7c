"""``R2PointConv``: steerable convolution on point clouds in the plane (escnn's signature), in plain torch.

A message passes along every edge j -> i of a graph (``edge_index[0]`` the source j, ``edge_index[1]`` the target
i, torch_geometric's convention): the filter evaluated at the edge's offset ``x_j - x_i`` times the source's
features, ``K(x_j - x_i) f(x_j)``; the target averages its messages (escnn's ``aggr="mean"``; ``aggr="sum"``
adds them).  On a pixel grid with every neighbour this is R2Conv's correlation, ``out(p) = sum_x K(x) f(p + x)``
(docs/math.md, "Conventions: the plane, the grid and the rotation direction").  The filter is a learnt
combination of the gspace's analytical basis of equivariant kernels (:meth:`GeneralOnR2.build_kernel_basis`:
Gaussian rings times the closed-form angular solutions), evaluated exactly at the offsets in torch, so the layer
is equivariant under every rotation and reflection of the group, not only the grid-preserving ones.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from basisgen.checks import flag, is_int, is_real
from basisgen.errors import EmptyBasisError, InvalidTypeError, InvalidValueError

from .._derived import DerivedTensors
from ..kernels import GaussianRadialProfile
from ..kernels import _torch as kernel_torch
from ._checks import one_of
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor
from .point_graphs import radius_graph
from .r2conv import _check_types, set_up_bias

__all__ = ["R2PointConv"]

#: elements of the (edges, features, channels) products formed at a time in the forward
_CHUNK_ELEMENTS = 1 << 24

_AGGREGATIONS = ("mean", "sum")


class PointBasisParams(NamedTuple):
    """The resolved radial and band-limit settings of an R2PointConv."""
    rings: Tuple[float, ...]
    sigmas: Tuple[float, ...]
    cutoffs: Tuple[float, ...]          # the largest |frequency| kept on each ring
    maximum_frequency: int


def point_basis_params(width: Optional[float] = None, n_rings: Optional[int] = None,
                       rings: Optional[Sequence[float]] = None, sigma: Union[None, float, Sequence[float]] = None,
                       frequencies_cutoff: Union[None, float, Callable[[float], float]] = None) -> PointBasisParams:
    """escnn's defaults for point convolutions, validated.

    Either ``rings`` (radii >= 0) or both ``width`` and ``n_rings`` (``n_rings`` rings evenly spaced on
    [0, width]); ``sigma`` one width for every ring or one per ring (default 0.6, 0.4 on the outermost ring,
    0.005 on a ring at radius 0); ``frequencies_cutoff`` a positive float c (a ring of radius r keeps the
    frequencies ``|k| <= c r``; default 3) or a callable giving the largest frequency at a radius.

    Examples
    --------
    >>> point_basis_params(width=2.0, n_rings=3)
    PointBasisParams(rings=(0.0, 1.0, 2.0), sigmas=(0.005, 0.6, 0.4), cutoffs=(0.0, 3.0, 6.0), maximum_frequency=6)
    """
    if rings is None:
        if width is None or n_rings is None:
            raise InvalidValueError(f"R2PointConv needs either rings or both width and n_rings, got rings=None, "
                                    f"width={width!r}, n_rings={n_rings!r}")
        if not is_real(width) or not math.isfinite(width) or width <= 0:
            raise InvalidValueError(f"width must be a positive finite radius, got {width!r}")
        if not is_int(n_rings) or int(n_rings) < 1:
            raise InvalidValueError(f"n_rings must be a positive int, got {n_rings!r}")
        rings = [float(r) for r in np.linspace(0.0, float(width), int(n_rings))]
    else:
        if width is not None or n_rings is not None:
            raise InvalidValueError(f"give either rings or width and n_rings, not both (got rings={rings!r}, "
                                    f"width={width!r}, n_rings={n_rings!r})")
        if isinstance(rings, (str, bytes)) or not hasattr(rings, "__len__") or not len(rings) \
                or not all(is_real(r) and math.isfinite(r) and r >= 0 for r in rings):
            raise InvalidValueError(f"rings must be a non-empty list of finite radii >= 0, got {rings!r}")
        rings = [float(r) for r in rings]
    if sigma is None:
        sigmas = [0.6] * (len(rings) - 1) + [0.4]
        sigmas = [0.005 if r == 0 else s for r, s in zip(rings, sigmas)]
    elif is_real(sigma):
        sigmas = [float(sigma)] * len(rings)
    elif hasattr(sigma, "__len__") and not isinstance(sigma, (str, bytes)) and len(sigma) == len(rings) \
            and all(is_real(s) for s in sigma):
        sigmas = [float(s) for s in sigma]
    else:
        raise InvalidValueError(f"sigma must be a positive float or one per ring ({len(rings)}), got {sigma!r}")
    if not all(math.isfinite(s) and s > 0 for s in sigmas):
        raise InvalidValueError(f"sigma must be positive and finite, got {sigma!r}")
    if frequencies_cutoff is None:
        frequencies_cutoff = 3.0
    if callable(frequencies_cutoff):
        cutoff = frequencies_cutoff
    elif is_real(frequencies_cutoff) and math.isfinite(frequencies_cutoff) and frequencies_cutoff > 0:
        c = float(frequencies_cutoff)

        def cutoff(r: float) -> float:
            return c * r
    else:
        raise InvalidValueError(f"frequencies_cutoff must be a positive float or a callable of the radius, got "
                                f"{frequencies_cutoff!r}")
    cutoffs = []
    for r in rings:
        value = cutoff(r)
        if not is_real(value) or not math.isfinite(value):
            raise InvalidValueError(f"frequencies_cutoff must give a finite number on every ring, got {value!r} at "
                                    f"radius {r:g}")
        cutoffs.append(float(value))
    return PointBasisParams(tuple(rings), tuple(sigmas), tuple(cutoffs), max(0, int(max(cutoffs))))


@lru_cache(maxsize=256)
def _shared_basis(gspace, in_repr, out_repr, params: PointBasisParams):
    """The gspace's kernel basis of one pair of representations, shared by the layers that use it."""
    return gspace.build_kernel_basis(in_repr, out_repr, sigma=list(params.sigmas), rings=list(params.rings),
                                     maximum_frequency=params.maximum_frequency)


class _Block(NamedTuple):
    """The kept basis elements of one (input representation, output representation) pair and their weights."""
    in_group: int                # positions in the layer's lists of distinct representations
    out_group: int
    ring: np.ndarray             # (K,) ring of each kept element
    angular: np.ndarray          # (K,) angular index of each kept element
    start: int                   # the block's first weight
    n_in: int                    # fields of the input representation
    n_out: int                   # fields of the output representation
    c_in: int                    # size of the input representation
    c_out: int

    @property
    def size(self) -> int:
        return self.n_out * self.n_in * len(self.ring)


def _groups(ftype: FieldType) -> List[Tuple[Any, List[int]]]:
    """The distinct representations of ``ftype`` in order of first appearance, each with its fields."""
    out: Dict[str, Tuple[Any, List[int]]] = {}
    for f, rho in enumerate(ftype.representations):
        out.setdefault(rho.name, (rho, []))[1].append(f)
    return list(out.values())


def _channels(ftype: FieldType, fields: List[int]) -> np.ndarray:
    starts, ends = ftype.fields_start.astype(int), ftype.fields_end.astype(int)
    return np.concatenate([np.arange(starts[f], ends[f]) for f in fields])


def _harmonic_tables(table, U: int) -> Tuple[np.ndarray, np.ndarray]:
    """An angular table's elements as combinations of cos(u (phi - beta)) and sin(u (phi - beta)), u = |mu|:
    (A, U, c_out, c_in) each (``cos(mu x) = cos(|mu| x)``, ``sin(mu x) = sign(mu) sin(|mu| x)``)."""
    mu = np.asarray(table.mu)
    onehot = np.zeros((len(mu), U))
    onehot[np.arange(len(mu)), np.abs(mu)] = 1.0
    cos = np.einsum("au,aoi->auoi", onehot, np.asarray(table.cos, dtype=np.float64))
    sin = np.einsum("au,aoi->auoi", onehot * np.sign(mu)[:, None], np.asarray(table.sin, dtype=np.float64))
    return cos, sin


class R2PointConv(DerivedTensors, EquivariantModule):
    """A G-steerable convolution on a geometric graph in the plane (escnn's ``R2PointConv``).

    Input: a :class:`GeometricTensor` (N, in_type.size) with ``coords`` (N, 2) and ``edge_index`` (2, E) long
    (``edge_index[0]`` the sources j, ``edge_index[1]`` the targets i; :func:`radius_graph`, :func:`knn_graph`).
    Each edge carries the message ``K(x_j - x_i) f(x_j)``, the filter evaluated exactly at the offset; each
    target averages its messages (``aggr="mean"``, escnn's) or adds them (``aggr="sum"``); targets without edges
    get zero (and the bias).  ``edge_delta`` (E, 2) may give the offsets ``x_j - x_i`` instead.  The output has
    the input's ``coords``.

    The filter is a learnt combination (``weights``) of the gspace's basis of equivariant kernels: Gaussian rings
    at ``rings`` (or ``n_rings`` evenly spaced on [0, ``width``]) of widths ``sigma``, times the angular
    solutions up to the band limit ``frequencies_cutoff`` (a ring of radius r keeps ``|k| <= c r``, c = 3 by
    default), filtered further by ``basis_filter`` (a callable on each element's attribute dict: ``radius``,
    ``frequency`` (also as escnn's ``irrep:frequency``), ``in_irrep``, ``out_irrep``, ...).  A bias is learnt for
    each trivial irrep of the output fields (as R2Conv).  ``groups`` other than 1 is refused (escnn does not
    implement it either); ``recompute`` builds the bases afresh instead of sharing them between layers.

    Unlike escnn's, the basis elements are not rescaled and the weights are laid out by pair of
    representations (escnn checkpoints do not load); the layer needs no torch_geometric.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(-1, maximum_frequency=3)
    >>> t_in = nn.FieldType(r2, [r2.trivial_repr])
    >>> t_out = nn.FieldType(r2, [r2.irrep(1), r2.trivial_repr])
    >>> conv = nn.R2PointConv(t_in, t_out, width=1.0, n_rings=3)
    >>> pos = torch.rand(50, 2)
    >>> x = nn.GeometricTensor(torch.randn(50, 1), t_in, coords=pos)
    >>> y = conv(x, nn.radius_graph(pos, 0.3))
    >>> y.shape, y.coords is pos
    (torch.Size([50, 3]), True)
    """

    check_atol = 1e-5
    check_rtol = 1e-4

    def __init__(self, in_type: FieldType, out_type: FieldType, groups: int = 1, bias: bool = True,
                 sigma: Union[List[float], float] = None, width: float = None, n_rings: int = None,
                 frequencies_cutoff: Union[float, Callable[[float], float]] = None, rings: List[float] = None,
                 basis_filter: Callable[[dict], bool] = None, recompute: bool = False, initialize: bool = True,
                 aggr: str = "mean"):
        super().__init__()
        _check_types(in_type, out_type, "R2PointConv")
        if not is_int(groups) or int(groups) != 1:
            raise InvalidValueError(f"groups must be 1 (grouped point convolutions are not implemented), got "
                                    f"{groups!r}")
        bias, recompute, initialize = (flag(v, n) for n, v in (("bias", bias), ("recompute", recompute),
                                                                 ("initialize", initialize)))
        if basis_filter is not None and not callable(basis_filter):
            raise InvalidTypeError(f"basis_filter must be a callable on an element's attribute dict or None, got "
                                   f"{type(basis_filter).__name__}")
        self.aggr = one_of(aggr, "aggr", _AGGREGATIONS)
        self.in_type, self.out_type = in_type, out_type
        self.space = in_type.gspace
        self.groups = 1
        self.recompute = recompute
        self.params = point_basis_params(width, n_rings, rings, sigma, frequencies_cutoff)
        self._in_groups, self._out_groups = _groups(in_type), _groups(out_type)
        self._blocks, tables = self._select(basis_filter)
        self._set_up_features(tables)

        in_order = np.concatenate([_channels(in_type, fields) for _, fields in self._in_groups])
        out_order = np.concatenate([_channels(out_type, fields) for _, fields in self._out_groups])
        self.register_derived("_in_order", torch.as_tensor(in_order))
        self.register_derived("_in_inverse", torch.as_tensor(np.argsort(in_order)))
        self.register_derived("_out_inverse", torch.as_tensor(np.argsort(out_order)))

        set_up_bias(self, out_type, bias)
        self.weights = torch.nn.Parameter(torch.zeros(sum(b.size for b in self._blocks)))
        if initialize:
            self.reset_parameters()

    # ---- basis ----------------------------------------------------------------------------------------
    def _select(self, basis_filter: Optional[Callable[[dict], bool]]) -> Tuple[List[_Block], List[Any]]:
        """The kept elements of every pair of representations (band limit, then ``basis_filter``), and the
        angular table of each pair kept."""
        blocks, tables, start = [], [], 0
        build = _shared_basis.__wrapped__ if self.recompute else _shared_basis
        for b, (rho_out, out_fields) in enumerate(self._out_groups):
            for a, (rho_in, in_fields) in enumerate(self._in_groups):
                try:
                    basis = build(self.space, rho_in, rho_out, self.params)
                except EmptyBasisError:
                    continue
                n_angular = basis.angular.dim
                kept = []
                for attr in basis:
                    ring = attr["idx1"]
                    if abs(attr["frequency"]) > self.params.cutoffs[ring] + 1e-9:
                        continue
                    if basis_filter is not None and not basis_filter(dict(attr, **{"irrep:frequency":
                                                                                    attr["frequency"]})):
                        continue
                    kept.append(attr["idx"])
                if not kept:
                    continue
                kept = np.asarray(kept)
                blk = _Block(a, b, kept // n_angular, kept % n_angular, start, len(in_fields), len(out_fields),
                             rho_in.size, rho_out.size)
                blocks.append(blk)
                tables.append(basis.angular._table)
                start += blk.size
        if not blocks:
            raise InvalidValueError(f"The basis for the steerable filter is empty! No equivariant kernel maps "
                                    f"{self.in_type!r} to {self.out_type!r} with rings={list(self.params.rings)} "
                                    f"and the frequency cutoffs {list(self.params.cutoffs)}; widen the rings or raise "
                                    f"frequencies_cutoff")
        return blocks, tables

    def _set_up_features(self, tables: List[Any]) -> None:
        """The per-edge features ``ring(|d|) cos(u (phi - beta))`` and ``ring(|d|) sin(u (phi - beta))`` the kept
        elements combine (u = |frequency| <= the ring's cutoff), and each block's constant tables.

        Every element of the basis is ``ring(|d|) (C cos(mu (phi - beta)) + S sin(mu (phi - beta)))`` with
        constant matrices C, S (the angular table's): the filter at an offset is a combination of these few
        features with constant (c_out, c_in) matrices, which the weights determine."""
        betas = {float(t.beta) for t in tables}
        if len(betas) != 1:
            raise InvalidValueError(f"the kernel bases of {self.space!r} disagree on the reflection axis: {betas}")
        self._beta = betas.pop()
        R = len(self.params.rings)
        U = 1 + max(int(np.abs(t.mu).max()) for t in tables)
        used = np.zeros((R, U), dtype=bool)
        for blk, table in zip(self._blocks, tables):
            used[blk.ring, np.abs(np.asarray(table.mu))[blk.angular]] = True
        ring_u = np.flatnonzero(used.ravel())               # (ring, u) features with an element
        self._n_harmonics = U
        self.register_derived("_cos_features", torch.as_tensor(ring_u))
        self.register_derived("_sin_features", torch.as_tensor(ring_u[ring_u % U > 0]))
        self._radial = GaussianRadialProfile(list(self.params.rings), list(self.params.sigmas))
        self._angular_sizes = [len(table.mu) for table in tables]
        for j, (blk, table) in enumerate(zip(self._blocks, tables)):
            cos, sin = _harmonic_tables(table, U)
            kept = blk.ring * len(table.mu) + blk.angular      # position in the (ring, angular) grid
            self.register_derived(f"_kept_{j}", torch.as_tensor(kept))
            self.register_derived(f"_cos_table_{j}", torch.as_tensor(cos, dtype=torch.get_default_dtype()),
                                  exact=cos)
            self.register_derived(f"_sin_table_{j}", torch.as_tensor(sin, dtype=torch.get_default_dtype()),
                                  exact=sin)

    @property
    def n_features(self) -> int:
        """The number of per-edge features (ring x harmonic, cos and sin) the filter combines."""
        return int(self._cos_features.numel() + self._sin_features.numel())

    def reset_parameters(self) -> None:
        """He-like initialisation: each weight ~ N(0, 1 / n), n the weights that reach its output field; zero bias."""
        fan = {}
        for blk in self._blocks:
            fan[blk.out_group] = fan.get(blk.out_group, 0) + blk.n_in * len(blk.ring)
        with torch.no_grad():
            for blk in self._blocks:
                part = self.weights[blk.start:blk.start + blk.size]
                part.normal_(0.0, 1.0 / math.sqrt(fan[blk.out_group]))
            if self.bias is not None:
                self.bias.zero_()

    def expand_bias(self) -> Optional[torch.Tensor]:
        """The bias of every output channel (out_type.size,), or None."""
        return None if self.bias is None else self.bias_expansion.to(self.bias.dtype) @ self.bias

    def expand_weights(self) -> torch.Tensor:
        """The filter as constant matrices of the per-edge features: (n_features, out_type.size, in_type.size) in
        the layer's grouped channel order (fields of one representation together)."""
        R, U = len(self.params.rings), self._n_harmonics
        dtype, device = self.weights.dtype, self.weights.device
        rows = []
        for b, (rho_out, out_fields) in enumerate(self._out_groups):
            cols = []
            for a, (rho_in, in_fields) in enumerate(self._in_groups):
                j = next((j for j, blk in enumerate(self._blocks) if blk.in_group == a and blk.out_group == b), None)
                shape = (R * U, len(out_fields) * rho_out.size, len(in_fields) * rho_in.size)
                if j is None:
                    cols.append((self.weights.new_zeros(shape), self.weights.new_zeros(shape)))
                    continue
                blk = self._blocks[j]
                A = self._angular_sizes[j]
                W = self.weights[blk.start:blk.start + blk.size].view(blk.n_out, blk.n_in, -1)
                dense = W.new_zeros(R * A, blk.n_out, blk.n_in).index_copy(0, getattr(self, f"_kept_{j}"),
                                                                            W.permute(2, 0, 1))
                dense = dense.view(R, A, blk.n_out, blk.n_in)
                both = []
                for name in ("cos", "sin"):
                    table = getattr(self, f"_{name}_table_{j}").to(dtype)
                    q = torch.einsum("ramn,auoi->rumoni", dense, table)
                    both.append(q.reshape(shape))
                cols.append(tuple(both))
            rows.append([torch.cat([c[k] for c in cols], dim=2) for k in (0, 1)])
        cos = torch.cat([r[0] for r in rows], dim=1)
        sin = torch.cat([r[1] for r in rows], dim=1)
        out = torch.cat([cos.index_select(0, self._cos_features), sin.index_select(0, self._sin_features)])
        return out.to(device)

    def edge_features(self, edge_delta: torch.Tensor) -> torch.Tensor:
        """The per-edge features at the offsets ``edge_delta`` (E, 2): (E, n_features), in its dtype.

        Computed in float64 (where the device has it) and rounded once, as :meth:`PolarBasis.sample_torch`; at
        an offset of (numerically) zero only the frequency-0 features are non-zero, with zero gradient."""
        points = edge_delta.T.to(kernel_torch.working_dtype(edge_delta))
        r, phi, origin = kernel_torch.polar_coordinates(points)
        radial = self._radial.sample_torch(r[None, :])[0, 0]                             # (R, E)
        u = torch.arange(self._n_harmonics, device=points.device, dtype=points.dtype)
        arg = u[:, None] * (phi[None, :] - self._beta)
        keep = (u[:, None] == 0) | ~origin[None, :]
        shape = (radial.shape[0] * self._n_harmonics, points.shape[1])
        cos = (radial[:, None, :] * (torch.cos(arg) * keep)[None]).reshape(shape)
        sin = (radial[:, None, :] * (torch.sin(arg) * keep)[None]).reshape(shape)
        features = torch.cat([cos.index_select(0, self._cos_features), sin.index_select(0, self._sin_features)])
        return features.T.to(edge_delta.dtype)

    def expand_filter(self, edge_delta: torch.Tensor) -> torch.Tensor:
        """The filter at the offsets ``edge_delta`` (E, 2) = ``x_source - x_target``: (E, out_type.size,
        in_type.size) in the fields' channel order."""
        delta = self._check_delta(edge_delta, edge_delta.shape[0] if isinstance(edge_delta, torch.Tensor) else 0)
        filt = torch.einsum("ef,foi->eoi", self.edge_features(delta.to(self.weights.dtype)), self.expand_weights())
        return filt.index_select(1, self._out_inverse).index_select(2, self._in_inverse)

    # ---- forward --------------------------------------------------------------------------------------
    def _check_delta(self, edge_delta: Any, n_edges: int) -> torch.Tensor:
        if not isinstance(edge_delta, torch.Tensor) or not edge_delta.is_floating_point() \
                or tuple(edge_delta.shape) != (n_edges, 2):
            raise InvalidValueError(f"edge_delta must be a floating-point tensor (E, 2) = ({n_edges}, 2) of the "
                                    f"offsets x_source - x_target, got "
                                    f"{getattr(edge_delta, 'shape', type(edge_delta).__name__)}")
        return edge_delta

    def forward(self, input: GeometricTensor, edge_index: torch.Tensor,
                edge_delta: Optional[torch.Tensor] = None) -> GeometricTensor:
        self._check_input(input)
        x = input.tensor
        if x.ndim != 2:
            raise InvalidValueError(f"R2PointConv takes a point cloud (N, {self.in_type.size}), got shape "
                                    f"{tuple(x.shape)}")
        N = x.shape[0]
        if not isinstance(edge_index, torch.Tensor) or edge_index.ndim != 2 or edge_index.shape[0] != 2 \
                or edge_index.dtype not in (torch.int64, torch.int32):
            raise InvalidValueError(f"edge_index must be a long tensor (2, E) of (source, target) point indices, got "
                                    f"{getattr(edge_index, 'dtype', type(edge_index).__name__)} "
                                    f"{tuple(getattr(edge_index, 'shape', ()))}")
        if edge_index.device != x.device:
            raise InvalidValueError(f"edge_index must be on the input's device {x.device}, got {edge_index.device}")
        if edge_index.numel() and bool(((edge_index < 0) | (edge_index >= N)).any()):
            raise InvalidValueError(f"edge_index must hold point indices in [0, {N})")
        src, dst = edge_index[0].long(), edge_index[1].long()
        if edge_delta is None:
            if input.coords is None:
                raise InvalidValueError("R2PointConv needs the input's coords (GeometricTensor(..., coords=...)) or "
                                        "edge_delta")
            delta = input.coords[src] - input.coords[dst]
        else:
            delta = self._check_delta(edge_delta, src.shape[0])
        out = self._aggregate(x, src, dst, delta)
        bias = self.expand_bias()
        if bias is not None:
            out = out + bias
        return GeometricTensor(out, self.out_type, input.coords)

    def _aggregate(self, x: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
        """sum (or mean) over the edges into each target of ``K(delta) x[src]``: the features times the sources
        are summed per target first, then one matrix product with the expanded weights."""
        N, E, F = x.shape[0], src.shape[0], self.n_features
        features = self.edge_features(delta.to(x.dtype))                                   # (E, F)
        xs = x.index_select(1, self._in_order)
        C = xs.shape[1]
        gathered = x.new_zeros(N, F * C)
        step = max(1, _CHUNK_ELEMENTS // max(1, F * C))
        for s in range(0, E, step):           # bounded memory: (step, F, C) at a time
            e = slice(s, min(E, s + step))
            outer = features[e, :, None] * xs.index_select(0, src[e])[:, None, :]
            gathered.index_add_(0, dst[e], outer.reshape(-1, F * C))
        if self.aggr == "mean":
            degree = torch.zeros(N, dtype=x.dtype, device=x.device).index_add_(0, dst, torch.ones_like(dst,
                                                                                                   dtype=x.dtype))
            gathered = gathered / degree.clamp(min=1)[:, None]
        weights = self.expand_weights()                                                     # (F, C_out, C_in)
        out = gathered @ weights.permute(0, 2, 1).reshape(F * C, -1)
        return out.index_select(1, self._out_inverse)

    # ---- module protocol --------------------------------------------------------------------------------
    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        shape = tuple(input_shape)
        if len(shape) != 2 or shape[1] != self.in_type.size:
            raise InvalidValueError(f"input_shape must be (N, {self.in_type.size}), got {shape}")
        return (shape[0], self.out_type.size)

    def _test_inputs(self, dtype: torch.dtype, device: torch.device) -> Tuple[GeometricTensor, torch.Tensor]:
        """The equivariance checks' input: a random cloud of 30 points, and its radius graph (about 8 neighbours a
        point, the point itself included)."""
        pos = torch.randn(30, 2, dtype=dtype, device=device)
        x = GeometricTensor(torch.randn(30, self.in_type.size, dtype=dtype, device=device), self.in_type, pos)
        return x, radius_graph(pos, float(torch.cdist(pos, pos).flatten().sort().values[30 * 30 // 8]), loop=True)

    def _check_protocol(self) -> Dict[str, Any]:
        """Every testing element: the points move exactly, whatever the angle."""
        return {"every_element": True}

    def extra_repr(self) -> str:
        s = f"{self.in_type}, {self.out_type}, rings={list(self.params.rings)}, aggr={self.aggr}"
        if self.bias is None:
            s += ", bias=False"
        return s
