"""``TensorProductModule`` (escnn's): a learnable quadratic non-linearity, ``x -> W (x (x) x)`` field by field.

The tensor square ``rho (x) rho`` of a field's representation ``rho = A ((+)_i psi_i) A^-1`` is decomposed
with the exact Clebsch-Gordan matrices of :mod:`basisgen.clebsch_gordan`:
``rho(g) (x) rho(g) = H ((+)_{ijk} phi_ijk(g)) H^-1`` with ``H = (A (x) A) P ((+)_ij C_ij)``, ``P`` the
permutation taking the pairs of blocks ``psi_i (x) psi_j`` to numpy's ``kron`` order and ``C_ij`` the
change of basis of ``psi_i (x) psi_j``.  The equivariant maps to ``rho_out = B ((+)_l phi'_l) B^-1`` are then
``W = B M H^-1`` with ``M`` block-wise ``w I`` between equal irreps (``a I + b J`` for the complex-type 2-D
irreps of C_N and SO(2), ``J`` the quarter turn): the learnable basis, exact up to float64 rounding.
"""
from __future__ import annotations

from typing import Any, List, Tuple

import numpy as np
import torch

from basisgen.clebsch_gordan import clebsch_gordan
from basisgen.errors import InvalidTypeError, InvalidValueError

from .._derived import DerivedTensors
from ._checks import check_field_type, flag, positive_int
from ._memory_format import keep_memory_format
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["TensorProductModule"]

_J = np.array([[0.0, -1.0], [1.0, 0.0]])


def tensor_square(rho: Any) -> Tuple[list, np.ndarray, np.ndarray]:
    """``(irreps, H, H_inv)`` with ``rho(g) (x) rho(g) = H ((+) irreps(g)) H_inv`` (``rho``: a basisgen
    representation; float64 from the exact Clebsch-Gordan matrices)."""
    psis = list(rho.irreps)
    starts = np.cumsum([0] + [p.dim for p in psis])
    d = rho.size
    columns, blocks, irreps = [], [], []
    for i, a in enumerate(psis):
        for j, b in enumerate(psis):
            for p in range(a.dim):
                for q in range(b.dim):
                    columns.append((starts[i] + p) * d + starts[j] + q)      # kron index of (p in i, q in j)
            cg = clebsch_gordan(a, b)
            blocks.append(cg.Q)
            irreps += list(cg.irreps)
    P = np.zeros((d * d, d * d))
    P[columns, np.arange(d * d)] = 1.0
    C = np.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)))
    r = c = 0
    for b in blocks:                      # the block-diagonal of the pairs' changes of basis
        C[r:r + b.shape[0], c:c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    A, A_inv = rho.change_of_basis, rho.change_of_basis_inv
    H = np.kron(A, A) @ P @ C
    H_inv = C.T @ P.T @ np.kron(A_inv, A_inv)
    return irreps, H, H_inv


def intertwiner_basis(in_irreps: list, out_irreps: list) -> Tuple[np.ndarray, List[int]]:
    """The matrices ``M`` (stacked: basis x out x in) with ``M ((+) in_irreps) = ((+) out_irreps) M``, and the
    output irrep slot of each (for the initialisation)."""
    in_starts = np.cumsum([0] + [p.dim for p in in_irreps])
    out_starts = np.cumsum([0] + [p.dim for p in out_irreps])
    basis, slots = [], []
    for o, phi in enumerate(out_irreps):
        for i, psi in enumerate(in_irreps):
            if phi != psi:
                continue
            gens = [np.eye(phi.dim)] + ([_J] if phi.sum_of_squares_constituents == 2 else [])
            for block in gens:
                M = np.zeros((out_starts[-1], in_starts[-1]))
                M[out_starts[o]:out_starts[o + 1], in_starts[i]:in_starts[i + 1]] = block
                basis.append(M)
                slots.append(o)
    return np.array(basis).reshape(len(basis), out_starts[-1], in_starts[-1]), slots


def _tensor_product(x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """``matrix[c] @ (x_c (x) x_c)`` for each of the ``matrix.shape[0]`` fields of ``x`` (batch, channels, ...)."""
    shape = x.shape
    spatial = [int(s) for s in shape[2:]]
    C, d_out, d_hid = matrix.shape
    y = x.reshape([shape[0], C, shape[1] // C] + spatial)
    d = y.shape[2]
    square = (y.unsqueeze(3) * y.unsqueeze(2)).reshape([shape[0], C, d * d] + spatial)
    out = torch.einsum("coi,bci...->bco...", matrix, square)
    return out.reshape([shape[0], C * d_out] + spatial)


class TensorProductExport(torch.nn.Module):
    """The plain-PyTorch form of :class:`TensorProductModule`: ``matrix[c] @ (x_c (x) x_c)`` for each field
    ``c``; ``matrix`` (fields x out size x in size squared) is a buffer.

    Examples
    --------
    >>> import torch
    >>> m = TensorProductExport(torch.ones(1, 1, 4))
    >>> m(torch.tensor([[1.0, 2.0]])).tolist()        # (1 + 2)^2
    [[9.0]]
    """

    def __init__(self, matrix: torch.Tensor):
        super().__init__()
        self.register_buffer("matrix", matrix.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _tensor_product(x, self.matrix)

    def extra_repr(self) -> str:
        C, d_out, d_hid = self.matrix.shape
        return f"fields={C}, in={int(round(d_hid ** 0.5))}, out={d_out}"


def _uniform(t: FieldType, name: str) -> Any:
    rho = t.representations[0]
    if any(r != rho for r in t.representations):
        raise InvalidValueError(f"TensorProductModule needs a uniform {name} (copies of one representation), got {t!r}")
    return rho


class TensorProductModule(DerivedTensors, EquivariantModule):
    """A learnable quadratic non-linearity (escnn's ``TensorProductModule``): each field ``x_c`` of ``in_type``
    becomes ``W_c (x_c (x) x_c)``, an equivariant linear map of its tensor square to the field ``c`` of
    ``out_type``.

    ``in_type`` and ``out_type`` are uniform (copies of one representation each) with the same number of
    fields; fields are not mixed.  ``W_c`` is expanded in the exact basis of the equivariant maps from the
    tensor square (Clebsch-Gordan, :mod:`basisgen.clebsch_gordan`) with the learnable ``weights`` (fields x
    basis size).  ``initialize=True`` draws each weight from a normal distribution of variance ``1 / n``, ``n``
    the number of basis elements feeding the same output irrep; otherwise standard normal (escnn).  Every
    planar group, SO(2)/O(2) included, exact for every element.  A network of these alone is a polynomial
    whose degree doubles at every layer.  Export: :class:`TensorProductExport`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(-1, maximum_frequency=2)
    >>> t = nn.FieldType(r2, 4 * [r2.fibergroup.bl_regular_representation(1)])
    >>> tp = nn.TensorProductModule(t, t)
    >>> tuple(tp.weights.shape), tp(nn.GeometricTensor(torch.randn(2, 12, 5, 5), t)).shape
    ((4, 7), torch.Size([2, 12, 5, 5]))
    """

    check_atol = 1e-6

    def __init__(self, in_type: FieldType, out_type: FieldType, initialize: bool = True):
        super().__init__()
        check_field_type(in_type)
        check_field_type(out_type, "out_type")
        if in_type.gspace != out_type.gspace:
            raise InvalidValueError(f"in_type and out_type must share one gspace, got {in_type.gspace.name} and "
                                    f"{out_type.gspace.name}")
        if len(in_type) != len(out_type):
            raise InvalidValueError(f"in_type and out_type must have the same number of fields, got {len(in_type)} and "
                                    f"{len(out_type)}")
        rho_in, rho_out = _uniform(in_type, "in_type"), _uniform(out_type, "out_type")
        initialize = flag(initialize, "initialize")
        self.space = in_type.gspace
        self.in_type, self.out_type = in_type, out_type
        self._C = len(in_type)
        hid_irreps, H, H_inv = tensor_square(rho_in.basisgen)
        self.hidden_irreps = [p.name for p in hid_irreps]
        M, slots = intertwiner_basis(hid_irreps, list(rho_out.basisgen.irreps))
        if len(M) == 0:
            raise InvalidValueError(f"TensorProductModule: no equivariant map from the tensor square of {rho_in.name} "
                                    f"(irreps {sorted(set(self.hidden_irreps))}) to {rho_out.name} (irreps "
                                    f"{rho_out.irreps}): they share no irrep")
        B, B_inv = rho_out.basisgen.change_of_basis, rho_out.basisgen.change_of_basis_inv
        del B_inv
        basis = np.einsum("oa,nab,bi->noi", B, M, H_inv)
        self._basis_np = basis
        self.register_derived("basis", torch.as_tensor(basis, dtype=torch.get_default_dtype()), exact=basis)
        counts = np.bincount(slots)
        std = torch.as_tensor(1.0 / np.sqrt(counts[slots]), dtype=torch.get_default_dtype())
        weights = torch.randn(self._C, len(M))
        self.weights = torch.nn.Parameter(weights * std if initialize else weights)

    @classmethod
    def construct(cls, gspace: Any, channels: int, in_repr: Any, out_repr: Any,
                  initialize: bool = True) -> "TensorProductModule":
        """``channels`` fields of ``in_repr`` to ``channels`` fields of ``out_repr`` (escnn's ``construct``)."""
        channels = positive_int(channels, "channels")
        for name, rho in (("in_repr", in_repr), ("out_repr", out_repr)):
            if not hasattr(rho, "basisgen") or rho.group != gspace.fibergroup:
                raise InvalidTypeError(f"{name} must be a representation of {gspace.fibergroup.name}, got {rho!r}")
        return cls(FieldType(gspace, channels * [in_repr]), FieldType(gspace, channels * [out_repr]), initialize)

    def expand_parameters(self) -> torch.Tensor:
        """The projection matrices ``W_c``: (fields, out size, in size squared)."""
        return torch.einsum("cn,noi->coi", self.weights, self.basis.to(self.weights.dtype))

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        y = _tensor_product(input.tensor, self.expand_parameters())
        return GeometricTensor(keep_memory_format(y, input.tensor), self.out_type, input.coords)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        shape = tuple(input_shape)
        if len(shape) < 2 or shape[1] != self.in_type.size:
            raise InvalidValueError(f"input_shape must be (batch, {self.in_type.size}, ...), got {shape}")
        return (shape[0], self.out_type.size) + shape[2:]

    def export(self) -> TensorProductExport:
        """The equivalent :class:`TensorProductExport` (the current matrices)."""
        with torch.no_grad():
            return TensorProductExport(self.expand_parameters())

    def extra_repr(self) -> str:
        return f"{self.in_type} -> {self.out_type}, basis={self.weights.shape[1]}"
