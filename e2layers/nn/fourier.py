"""Fourier non-linearities (escnn's, beyond e2cnn): point-wise functions of band-limited functions on the group.

A field of the band-limited regular representation spanned by some irreps
(``Group.spectral_regular_representation``) holds the Fourier coefficients of a function on the group.  The
function is sampled on a finite grid of group elements (``A``, an inverse Fourier transform), a point-wise
function is applied to the samples, and the result is projected back onto the output irreps (``Ainv``, a Fourier
transform).  Left translation by an element under which the grid is closed permutes the samples, so the module is
exactly equivariant under that subgroup (for SO(2) and N rotations: C_N) and approximately under the rest.

Sampling convention: with ``k = concat_psi concat_{j < c} sqrt(d) e_j`` (``c = d / sum_of_squares_constituents``
copies of the irrep psi of dimension d, ``e_j`` the j-th unit vector), the sample of a field ``x`` at ``g`` is
``f(g) = (rho(g) k) . x``; for SO(2), ``f(theta) = x_0 + sqrt(2) sum_k (x_k1 cos k theta + x_k2 sin k theta)``.
On a finite group with all its irreps, ``(rho(g) k) / sqrt(|G|)`` is the row of g of ``regular_repr.change_of_basis``
(docs/math.md, "Regular and quotient representations").
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from basisgen.errors import InvalidTypeError, InvalidValueError

from .. import group as groups
from .._derived import DerivedTensors
from ..gspaces import GSpace
from ._checks import check_shape, flag, is_int, one_of, positive_int
from ._memory_format import keep_memory_format
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["FourierPointwise", "FourierELU", "GridPointwise"]

FUNCTIONS = ("p_relu", "p_elu", "p_sigmoid", "p_tanh")


# ---- the computation, shared by the module and its export (so their outputs are identical) ------------------
def _activate(x: torch.Tensor, function: str, inplace: bool) -> torch.Tensor:
    if function == "p_relu":
        return torch.relu_(x) if inplace else torch.relu(x)
    if function == "p_elu":
        return F.elu(x, 1.0, inplace)
    if function == "p_sigmoid":
        return x.sigmoid_() if inplace else torch.sigmoid(x)
    if function == "p_tanh":
        return x.tanh_() if inplace else torch.tanh(x)
    raise InvalidValueError("unknown function " + function)


def _sample_apply_project(x: torch.Tensor, A: torch.Tensor, Ainv: torch.Tensor, channels: int, function: str,
                          inplace: bool) -> torch.Tensor:
    """``Ainv @ function(A @ x_c)`` for every field ``x_c`` of ``x`` (batch, channels * A.shape[1], ...)."""
    shape = x.shape
    spatial = [int(s) for s in shape[2:]]
    n = 1
    for s in spatial:
        n *= s
    if n == 1:      # (batch, channels) features (an MLP): two plain matrix products, not batched matrix-vector ones
        samples = torch.matmul(x.reshape(shape[0] * channels, A.shape[1]), A.t())
        samples = _activate(samples, function, inplace)
        return torch.matmul(samples, Ainv.t()).reshape([shape[0], channels * Ainv.shape[0]] + spatial)
    samples = torch.matmul(A, x.reshape(shape[0], channels, A.shape[1], n))      # (batch, channels, |grid|, n)
    samples = _activate(samples, function, inplace)                              # a fresh tensor: safe in place
    out = torch.matmul(Ainv, samples)
    return out.reshape([shape[0], channels * Ainv.shape[0]] + spatial)


class GridPointwise(torch.nn.Module):
    """The plain-PyTorch form of :class:`FourierPointwise` (what its ``export()`` returns): for each of
    ``channels`` fields, ``Ainv @ function(A @ field)``; scriptable with ``torch.jit.script``.

    Examples
    --------
    >>> import torch
    >>> from e2layers import nn
    >>> m = nn.GridPointwise(torch.eye(3), torch.eye(3), channels=2)
    >>> m(torch.tensor([[-1., 2., 3., -4., 5., 6.]])).tolist()
    [[0.0, 2.0, 3.0, 0.0, 5.0, 6.0]]
    """

    def __init__(self, A: torch.Tensor, Ainv: torch.Tensor, channels: int, function: str = "p_relu",
                 inplace: bool = True):
        super().__init__()
        if function not in FUNCTIONS:
            raise InvalidValueError(f"function must be one of {list(FUNCTIONS)}, got {function!r}")
        if A.ndim != 2 or Ainv.ndim != 2 or Ainv.shape[1] != A.shape[0]:
            raise InvalidValueError(f"A (grid x in) and Ainv (out x grid) must be matrices sharing the grid dimension, got "
                             f"shapes {tuple(A.shape)} and {tuple(Ainv.shape)}")
        self.register_buffer("A", A)
        self.register_buffer("Ainv", Ainv)
        self.channels = int(channels)
        self.function = function
        self.inplace = bool(inplace)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _sample_apply_project(x, self.A, self.Ainv, self.channels, self.function, self.inplace)

    def extra_repr(self) -> str:
        return (f"channels={self.channels}, in={self.A.shape[1]}, grid={self.A.shape[0]}, out={self.Ainv.shape[0]}, "
                f"function={self.function}, inplace={self.inplace}")


# ---- construction ---------------------------------------------------------------------------------------------
def _irrep_ids(G: groups.Group, irreps: Any, name: str) -> List[Tuple[int, ...]]:
    if isinstance(irreps, (str, groups.Representation)) or not isinstance(irreps, Sequence) or not irreps:
        raise InvalidTypeError(f"{name} must be a non-empty list of irrep ids, names or irreps of {G.name} (e.g. "
                        f"{G.bl_irreps(1)}), got {irreps!r}")
    try:
        rho = G.spectral_regular_representation(*irreps)
    except ValueError as error:
        raise InvalidValueError(f"{name}: {error}") from None
    ids = []
    for psi in rho.basisgen.irreps:
        if psi.id not in ids:
            ids.append(psi.id)
    return ids


def _grid(G: groups.Group, grid_args: tuple, grid_kwargs: dict) -> Tuple[list, str]:
    """The grid of group elements and a description of it for ``extra_repr``."""
    kwargs = dict(grid_kwargs)
    explicit, N, kind = kwargs.pop("grid", None), kwargs.pop("N", None), kwargs.pop("type", None)
    if kwargs:
        raise InvalidTypeError(f"unknown grid arguments {sorted(kwargs)}: the grid is N=<int>, type='regular' or "
                        f"grid=[group elements]")
    for arg in grid_args:
        if isinstance(arg, str) and kind is None:
            kind = arg
        elif is_int(arg) and N is None:
            N = arg
        else:
            raise InvalidTypeError(f"grid_args may hold one int N and one str type, got {grid_args!r}")
    if explicit is not None:
        if N is not None or kind is not None:
            raise InvalidValueError("give the grid either as grid=[elements] or by N/type, not both")
        elements = list(explicit)
        bad = [g for g in elements if not G.is_element(g)]
        if not elements or bad:
            raise InvalidValueError(f"grid must be a non-empty list of elements of {G.name}, got invalid elements {bad}")
        return elements, f"{len(elements)} given elements"
    if (kind or "regular") != "regular":
        raise InvalidValueError(f"type must be 'regular' (for other grids pass grid=[group elements]), got {kind!r}")
    if N is not None:
        N = positive_int(N, "N")
    flips = (0, 1) if G.basisgen.has_reflection else None
    if G.continuous:
        if N is None:
            raise InvalidValueError(f"N is required for {G.name}: the grid has N equally spaced rotations"
                             + (" times the two reflections" if flips else "") + "; take N a multiple of 4 above "
                             "twice the highest frequency so that 90 degree rotations are exact")
        rotations = [2 * math.pi * i / N for i in range(N)]
    else:
        M = G.basisgen.rotation_order
        if N is None or N == M:
            return list(G.elements), f"all {G.order()} elements"
        if M % N:
            raise InvalidValueError(f"N must divide the rotation order {M} of {G.name}, got N={N}")
        rotations = [i * (M // N) for i in range(N)]
    elements = [(j, r) for j in flips for r in rotations] if flips else rotations
    return elements, f"N={N}, type='regular' ({len(elements)} elements)"


def _sampling_matrix(G: groups.Group, ids: List[Tuple[int, ...]], grid: list) -> np.ndarray:
    """Row g: ``(rho(g) k)^T`` for the spectral regular representation of ``ids`` (the unnormalised samples)."""
    psis = [G.irrep(*i) for i in ids]
    rows = []
    for g in grid:
        rows.append(np.concatenate([(math.sqrt(p.size) * p(g)[:, :p.size // p.sum_of_squares_constituents]).T.ravel()
                                    for p in psis]))
    return np.array(rows)


class FourierPointwise(DerivedTensors, EquivariantModule):
    """A point-wise non-linearity applied to band-limited functions on the group (escnn's ``FourierPointwise``).

    The input has ``channels`` fields of ``gspace.fibergroup.spectral_regular_representation(*irreps)``: each
    holds the Fourier coefficients of a function on the group.  The module samples the function on a grid of
    group elements, applies ``function`` to each sample and projects back onto ``out_irreps`` (default:
    ``irreps``).  Works for every gspace: SO(2)/O(2) (continuous groups, where point-wise non-linearities on
    irreps are otherwise impossible), and C_N, D_N, flips, trivial; on the plane (``(B, C, H, W)`` tensors) or
    over ``gspaces.no_base_space(G)`` (``(B, C)`` tensors of an equivariant MLP; any ``(B, C, ...)`` works).
    Over ``no_base_space`` the equivariance checks use the grid's elements, under which the module is exact.

    Parameters
    ----------
    gspace
        The gspace; the transforms are over ``gspace.fibergroup``.
    channels
        The number of fields.
    irreps
        The band limit: irrep ids (``(k,)`` or ``k`` for SO(2)/C_N, ``(j, k)`` for O(2)/D_N), names or irreps
        (``gspace.fibergroup.bl_irreps(L)`` gives all up to frequency L).
    *grid_args, **grid_kwargs
        The grid: ``N`` (an int) and ``type`` (a str, only ``'regular'``), positionally in either order or as
        keywords.  SO(2): N rotations by ``2 pi i / N``; O(2): those times the two reflections (2N elements);
        C_M/D_M: by default the whole group, or the subgroup of N | M rotations (times the reflections).  Or
        ``grid=[elements]``.  The module is exactly equivariant under the rotations of the grid: take N a multiple
        of 4 (exact 90 degree rotations) and larger than twice the highest frequency (or the transform is
        lossy and a warning says so).
    function
        ``'p_relu'``, ``'p_elu'``, ``'p_sigmoid'`` or ``'p_tanh'``.
    inplace
        Apply the function in place on the (internal) samples; the input is never modified.
    out_irreps
        The band limit of the output (default ``irreps``).
    normalize
        If True (escnn's default), the samples are ``f(g) / sqrt(in_size)`` (unit rows of ``A``) and the
        transform back multiplies by ``sqrt(in_size)``; if False, the samples are the values ``f(g)``.  Either way,
        with the identity function the module is the projection onto ``out_irreps``.

    ``A`` (|grid| x in size) and ``Ainv`` (out size x |grid|) are non-persistent buffers. ``Ainv`` is the
    rows for ``out_irreps`` of the Moore-Penrose pseudo-inverse of the sampling matrix of ``irreps`` and
    ``out_irreps`` together (escnn regularises instead); on a regular grid resolving these frequencies it is
    the exact quadrature ``A^T / |grid|`` (up to the normalisation).

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> so2 = gspaces.Rot2dOnR2(-1, maximum_frequency=2)
    >>> relu = nn.FourierPointwise(so2, 3, so2.fibergroup.bl_irreps(2), N=8)
    >>> relu.in_type.size, relu.A.shape
    (15, torch.Size([8, 5]))
    >>> relu(nn.GeometricTensor(torch.randn(2, 15, 5, 5), relu.in_type)).shape
    torch.Size([2, 15, 5, 5])
    >>> len(relu.check_equivariance())      # the rotations by multiples of 90 degrees
    4
    """

    check_atol = 1e-6

    def __init__(self, gspace: GSpace, channels: int, irreps: List, *grid_args: Any, function: str = "p_relu",
                 inplace: bool = True, out_irreps: List = None, normalize: bool = True, **grid_kwargs: Any):
        super().__init__()
        name = type(self).__name__
        if isinstance(gspace, FieldType):
            raise InvalidTypeError(f"{name} takes (gspace, channels, irreps, ...) and builds its field type itself; got a "
                            f"FieldType (escnn's newer FourierFieldType API): pass in_type.gspace instead")
        if not isinstance(gspace, GSpace):
            raise InvalidTypeError(f"gspace must be a gspace (e.g. gspaces.Rot2dOnR2(-1) or gspaces.no_base_space(G)), "
                                   f"got {type(gspace).__name__}")
        channels = positive_int(channels, "channels")
        one_of(function, "function", FUNCTIONS)
        G = gspace.fibergroup
        ids = _irrep_ids(G, irreps, "irreps")
        out_ids = ids if out_irreps is None else _irrep_ids(G, out_irreps, "out_irreps")
        self.space = gspace
        self.channels = channels
        self.rho = G.spectral_regular_representation(*ids)
        self.rho_out = G.spectral_regular_representation(*out_ids)
        self.in_type = FieldType(gspace, channels * [self.rho])
        self.out_type = FieldType(gspace, channels * [self.rho_out])
        self.grid, self._grid_repr = _grid(G, grid_args, grid_kwargs)
        self._function_name = function
        self._inplace = flag(inplace, "inplace")
        self._normalize = flag(normalize, "normalize")
        self._A_np, self._Ainv_np = self._transforms(G, ids, out_ids)
        dtype = torch.get_default_dtype()
        # derived from float64 numbers: re-derived, not cast, when the dtype changes (buffers: the module has no
        # parameters, and its buffers tell its dtype and device)
        self.register_derived("A", torch.as_tensor(self._A_np, dtype=dtype), exact=self._A_np, buffer=True)
        self.register_derived("Ainv", torch.as_tensor(self._Ainv_np, dtype=dtype), exact=self._Ainv_np, buffer=True)

    def _transforms(self, G: groups.Group, ids: list, out_ids: list) -> Tuple[np.ndarray, np.ndarray]:
        return self._grid_transforms(lambda irreps: _sampling_matrix(G, irreps, self.grid), ids, out_ids)

    def _grid_transforms(self, sample: Callable[[list], np.ndarray], ids: list, out_ids: list,
                         where: str = "") -> Tuple[np.ndarray, np.ndarray]:
        """``(A, Ainv)``: ``sample(irreps)`` (grid points x channels) of the input irreps, and the pseudo-inverse of
        the sampling of the output and input irreps, its leading (output) rows; a warning when the grid does not
        resolve them (``where``: on what the grid lies, for the message)."""
        union = out_ids + [i for i in ids if i not in out_ids]           # out first: Ainv keeps the leading rows
        scale = math.sqrt(self.rho.size) if self._normalize else 1.0
        A = sample(ids) / scale
        B = sample(union) / scale
        s = np.linalg.svd(B, compute_uv=False)
        rank = int(np.sum(s > 1e-9 * s[0]))
        if rank < B.shape[1]:
            warnings.warn(f"{type(self).__name__}: the grid ({self._grid_repr}) does not resolve the irreps "
                          f"{union}{where} (rank {rank} < {B.shape[1]}), so the transforms alias frequencies; use a "
                          f"finer grid (N above twice the highest frequency)", stacklevel=4)
        Ainv = np.linalg.pinv(B, rcond=1e-9)[:self.rho_out.size]
        return A, Ainv

    def _check_input(self, input: Any) -> None:
        if isinstance(input, GeometricTensor) and input.type != self.in_type:
            raise InvalidValueError(f"{type(self).__name__} expects {self.channels} fields of the band-limited regular "
                             f"representation {self.rho.name} (type {self.in_type!r}), got {input.type!r}; for "
                             f"regular (permutation) fields of finite groups use nn.ReLU / nn.PointwiseNonLinearity")
        super()._check_input(input)

    def _check_protocol(self) -> Dict[str, Any]:
        # with no plane, every element acts exactly on the fibres: test the grid's elements, which permute the
        # samples of a regular grid (on the plane the 90 degree rotations of the default protocol are used)
        return {"elements": list(self.grid)} if self.space.dimensionality == 0 else {}

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        out = _sample_apply_project(input.tensor, self.A, self.Ainv, self.channels, self._function_name,
                                    self._inplace)
        return GeometricTensor(keep_memory_format(out, input.tensor), self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        shape = check_shape(self, input_shape, spatial=False)
        return (shape[0], self.out_type.size) + shape[2:]

    def export(self) -> GridPointwise:
        """The equivalent plain :class:`GridPointwise` (buffers copied; they are persistent there)."""
        return GridPointwise(self.A.clone(), self.Ainv.clone(), self.channels, self._function_name, self._inplace)

    def extra_repr(self) -> str:
        ids = [p.id for p in dict.fromkeys(self.rho.basisgen.irreps)]
        out_ids = [p.id for p in dict.fromkeys(self.rho_out.basisgen.irreps)]
        out = "" if self.rho_out is self.rho else f", out_irreps={out_ids}"
        return (f"{self.space}, channels={self.channels}, irreps={ids}{out}, grid: {self._grid_repr}, "
                f"function={self._function_name}, normalize={self._normalize}, inplace={self._inplace}")


class FourierELU(FourierPointwise):
    """:class:`FourierPointwise` with ``function='p_elu'`` (escnn's ``FourierELU``).

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> o2 = gspaces.FlipRot2dOnR2(-1, maximum_frequency=2)
    >>> elu = nn.FourierELU(o2, 2, o2.fibergroup.bl_irreps(1), 'regular', 8)
    >>> elu.in_type.size, len(elu.grid)
    (12, 16)
    >>> elu.export()
    GridPointwise(channels=2, in=6, grid=16, out=6, function=p_elu, inplace=True)
    """

    def __init__(self, gspace: GSpace, channels: int, irreps: List, *grid_args: Any, inplace: bool = True,
                 out_irreps: List = None, normalize: bool = True, **grid_kwargs: Any):
        if "function" in grid_kwargs:
            raise InvalidTypeError("FourierELU always applies ELU; use FourierPointwise(..., function=...) for another one")
        super().__init__(gspace, channels, irreps, *grid_args, function="p_elu", inplace=inplace,
                         out_irreps=out_irreps, normalize=normalize, **grid_kwargs)
