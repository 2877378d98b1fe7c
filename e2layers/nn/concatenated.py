"""ConcatenatedNonLinearity: ``f(x)`` and ``f(-x)`` side by side.

A representation whose matrices are signed permutations maps channel ``j`` to ``+-`` channel ``i``.  After
doubling each channel into the pair ``(f(x_j), f(-x_j))`` a sign becomes a swap of the pair, so the
output transforms by a permutation representation of twice the size: ``1`` becomes the 2x2 identity and
``-1`` the 2x2 swap (e2cnn's ``concatenated_<name>`` representations).

e2cnn decomposes that representation into irreps with an optimiser (pymanopt) and a random start, so its
change of basis differs from run to run.  Here it is computed exactly and deterministically: the
multiplicities from the characters, then an orthonormal set of intertwiners per irrep (null space of
``rho(g) T = T psi(g)``, Gram-Schmidt against the commutant of ``psi``); the matrices ``rho(g)`` and the
irreps (sorted by name, as e2cnn) are e2cnn's.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

import numpy as np
import torch

from basisgen.errors import InvalidValueError

from ..group import Representation
from ._checks import check_shape, check_supports, one_of
from ._memory_format import keep_memory_format
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor

__all__ = ["ConcatenatedNonLinearity"]

_FUNCTIONS = ("c_relu", "c_sigmoid", "c_tanh")
_TOL = 1e-9


def concatenated_activation(x: torch.Tensor, function: str) -> torch.Tensor:
    """Channels ``2c`` and ``2c + 1`` of the output are ``f(x_c)`` and ``f(-x_c)``."""
    if function == "c_relu":
        pair = (torch.relu(x), torch.relu(-x))
    elif function == "c_sigmoid":
        pair = (torch.sigmoid(x), torch.sigmoid(-x))
    else:
        pair = (torch.tanh(x), torch.tanh(-x))
    return torch.stack(pair, dim=2).flatten(1, 2)


class ConcatenatedNonLinearityExport(torch.nn.Module):
    """Plain-PyTorch concatenated non-linearity (what :class:`ConcatenatedNonLinearity` exports to).

    Examples
    --------
    >>> import torch
    >>> ConcatenatedNonLinearityExport("c_relu")(torch.tensor([[2.0, -3.0]])).tolist()
    [[2.0, 0.0, 0.0, 3.0]]
    """

    def __init__(self, function: str):
        super().__init__()
        self.function = function

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return concatenated_activation(x, self.function)

    def extra_repr(self) -> str:
        return f"function={self.function!r}"


def _doubled(matrix: np.ndarray, rho: Any, element: Any) -> np.ndarray:
    """``matrix`` (a signed permutation) with ``+1`` -> identity and ``-1`` -> swap, as 2x2 blocks."""
    s = matrix.shape[0]
    nonzero = np.abs(matrix) > _TOL
    if not (np.all(nonzero.sum(axis=0) == 1) and np.all(nonzero.sum(axis=1) == 1)
            and np.allclose(np.abs(matrix[nonzero]), 1.0, atol=_TOL)):
        raise InvalidValueError(f"ConcatenatedNonLinearity needs representations given by signed permutation matrices; "
                         f"{rho.name!r} maps element {element!r} to\n{np.round(matrix, 6)}")
    out = np.zeros((2 * s, 2 * s))
    for i, j in zip(*np.nonzero(nonzero)):
        out[2 * i:2 * i + 2, 2 * j:2 * j + 2] = np.eye(2) if matrix[i, j] > 0 else np.eye(2)[::-1]
    return out


def _null_space(blocks: List[np.ndarray]) -> np.ndarray:
    """An orthonormal basis (columns) of the common null space of ``blocks`` (stacked: more rows than columns)."""
    _, s, vh = np.linalg.svd(np.vstack(blocks), full_matrices=False)
    return vh[s <= 1e-10 * max(s.max(), 1.0)].T


def _intertwiners(matrices: List[np.ndarray], psis: List[np.ndarray], commutant: List[np.ndarray],
                  m: int) -> List[np.ndarray]:
    """``m`` isometries ``T`` with ``rho(g) T = T psi(g)`` and mutually orthogonal images."""
    n, d = matrices[0].shape[0], psis[0].shape[0]
    # row-major vec: vec(R T) = (R kron I) vec T, vec(T P) = (I kron P^T) vec T
    space = _null_space([np.kron(R, np.eye(d)) - np.kron(np.eye(n), P.T) for R, P in zip(matrices, psis)])
    copies: List[np.ndarray] = []
    span: List[np.ndarray] = []     # orthonormal (Frobenius) basis of the intertwiners found so far
    for v in space.T:
        T = v.reshape(n, d)
        for B in span:
            T = T - np.sum(T * B) * B
        norm = np.sqrt(np.sum(T * T) / d)
        if norm < 1e-6:
            continue
        T = T / norm                 # an isometry: T^T T is a positive multiple of the identity
        copies.append(T)
        span.extend(T @ E for E in commutant)
        if len(copies) == m:
            break
    if len(copies) != m:
        raise RuntimeError(f"found {len(copies)} of {m} copies of an irrep while decomposing a representation")
    return copies


def concatenated_representation(rho: Any) -> Representation:
    """e2cnn's ``concatenated_<name>`` representation of ``rho`` (a signed-permutation representation of a
    finite group), registered on ``rho``'s group; built once per group."""
    G = rho.group
    name = f"concatenated_{rho.name}"
    if name in G.representations:
        return G.representations[name]
    if G.elements is None:
        raise InvalidValueError(f"ConcatenatedNonLinearity needs a finite group; {G.name} is continuous")
    elements = list(G.elements)
    matrices = [_doubled(np.asarray(rho(g), dtype=float), rho, g) for g in elements]
    columns: List[np.ndarray] = []
    irreps: List[str] = []
    for irrep_name in sorted(G.irreps):     # e2cnn sums the irreps in the order of their names
        psi = G.irreps[irrep_name]
        chars = sum(np.trace(R) * psi.character(G.inverse(g)) for R, g in zip(matrices, elements))
        multiplicity = chars / (len(elements) * psi.sum_of_squares_constituents)
        m = int(round(multiplicity))
        if abs(multiplicity - m) > 1e-6:
            raise RuntimeError(f"non-integer multiplicity {multiplicity} of {irrep_name} in {name}")
        if m == 0:
            continue
        psis = [np.asarray(psi(g), dtype=float) for g in elements]
        # orthonormal (Frobenius) basis of the matrices commuting with psi
        commutant = _null_space([np.kron(P, np.eye(psi.size)) - np.kron(np.eye(psi.size), P.T) for P in psis])
        columns += _intertwiners(matrices, psis, [c.reshape(psi.size, psi.size) for c in commutant.T], m)
        irreps += [irrep_name] * m
    Q = np.hstack(columns)
    # e2cnn keeps rho's tags and adds 'pointwise'; the tags that no longer hold are dropped or fixed
    tags = {t for t in rho.supported_nonlinearities if not t.startswith("induced_") and t != "vectorfield"}
    tags.add("pointwise")
    for t in rho.supported_nonlinearities:
        if t.startswith("induced_norm_") or t.startswith("induced_gated_"):
            # each block of d channels becomes a block of 2d interleaved channels
            head, _, d = t.rpartition("_")
            tags.add(f"{head}_{2 * int(d)}")
    # user-built representations are not registered (as in e2cnn): register this one so it is built once
    G.representations[name] = Representation(G, name, irreps, Q, tags)
    return G.representations[name]


class ConcatenatedNonLinearity(EquivariantModule):
    """Concatenated non-linearity: every channel ``x`` becomes the pair ``(f(x), f(-x))`` (e2cnn's
    ConcatenatedNonLinearity), doubling the channels.

    ``function``: ``'c_relu'``, ``'c_sigmoid'`` or ``'c_tanh'``.  Accepts fields of finite groups whose
    matrices are signed permutations (tagged ``'concatenated'``: trivial and other one-dimensional irreps,
    regular and quotient representations).  A field of representation ``rho`` becomes one of
    ``concatenated_<name>``, the permutation representation that replaces each ``1`` of ``rho(g)`` by the
    2x2 identity and each ``-1`` by the 2x2 swap (same matrices and irreps as e2cnn; e2cnn's change of
    basis is random, this one is deterministic).  Export: :class:`ConcatenatedNonLinearityExport`.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.irrep(2)])                  # the sign representation of C4
    >>> relu = nn.ConcatenatedNonLinearity(t)
    >>> relu.out_type, relu.out_type.irreps
    ([4-Rotations: {concatenated_irrep_2}], ['irrep_0', 'irrep_2'])
    >>> relu(nn.GeometricTensor(torch.tensor([[-3.0]]), t)).tensor.tolist()
    [[0.0, 3.0]]
    """

    check_atol = 1e-6

    def __init__(self, in_type: FieldType, function: str = 'c_relu'):
        super().__init__()
        check_supports(in_type, "concatenated", "ConcatenatedNonLinearity",
                       "signed-permutation representations of finite groups: one-dimensional irreps, regular and "
                       "quotient representations", "Use NormNonLinearity or GatedNonLinearity1 for other fields.")
        one_of(function, "function", _FUNCTIONS)
        self.space = in_type.gspace
        self.in_type = in_type
        self._function = function
        transformed: Dict[str, Any] = {}
        for r in in_type.representations:
            if r.name not in transformed:
                transformed[r.name] = concatenated_representation(r)
        self.out_type = FieldType(in_type.gspace, [transformed[r.name] for r in in_type.representations])

    def forward(self, input: GeometricTensor) -> GeometricTensor:
        self._check_input(input)
        return GeometricTensor(keep_memory_format(concatenated_activation(input.tensor, self._function), input.tensor),
                               self.out_type)

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        shape = check_shape(self, input_shape, False)
        return (shape[0], self.out_type.size) + shape[2:]

    def export(self) -> ConcatenatedNonLinearityExport:
        """The equivalent :class:`ConcatenatedNonLinearityExport`."""
        return ConcatenatedNonLinearityExport(self._function)

    def extra_repr(self) -> str:
        return f"{self.in_type}, function={self._function!r}"
