"""An independent implementation of the closed-form kernel table (the test oracle; docs/math.md, "The angular
elements").

Written from the rules of docs/math.md ("Groups and their irreps", "The angular elements"), not from
``basisgen``'s code:
it enumerates e2cnn's irrep-pair solutions directly, in e2cnn's order (the gamma loop outermost,
then s, then the offset t ascending; D_N, O(2) and the flip group have gamma fixed per pair;
SO(2)/O(2) have t = 0 only; 1x1 blocks keep mu >= 0 and skip (mu = 0, gamma = pi/2)), and evaluates
each element as e2cnn does:

    2x2  psichi(mu (phi - beta) + gamma, s)
    1x2  [cos, sin](mu (phi - beta) + gamma)          (row: 1-D output, 2-D input)
    2x1  [cos; sin](mu (phi - beta) + gamma)          (column: 2-D output, 1-D input)
    1x1  cos(mu (phi - beta) + gamma)

with beta = 0 for the groups without reflections.  The only things taken from ``basisgen`` are the
group's family (``group.kind``), its rotation order and the irrep ids; dimensions, frequencies and
flip frequencies are re-derived here from docs/math.md, "Groups and their irreps".

The offset enumeration follows e2cnn's ``offset_iterator``, including its quirk
(docs/migrating.md, "Differences on purpose"): with ``maximum_offset`` only, the 1x1 cosine sets are not
restricted to mu >= 0, so they contain duplicated cosines.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

HALF_PI = math.pi / 2


# ---- irreps, from the group definitions ------------------------------------------------------------------
@dataclass(frozen=True)
class IrrepData:
    """What the table needs of an irrep: dimension, rotation frequency k, flip frequency j."""

    dim: int
    k: int
    j: int


def irrep_data(group, irrep) -> IrrepData:
    """Dimension, frequency and flip frequency of ``irrep`` according to its id."""
    kind, N, ident = group.kind, group.rotation_order, tuple(irrep.id)
    if kind == "cyclic":                                     # §1.3: irrep_k, 1-D iff k in {0, N/2}
        (k,) = ident
        return IrrepData(1 if 2 * k in (0, N) else 2, k, 0)
    if kind == "dihedral":                                   # §1.4: irrep_(j,k)
        j, k = ident
        return IrrepData(1 if 2 * k in (0, N) else 2, k, j)
    if kind == "so2":                                        # §1.1
        (k,) = ident
        return IrrepData(1 if k == 0 else 2, k, 0)
    if kind == "o2":                                         # §1.2
        j, k = ident
        return IrrepData(1 if k == 0 else 2, k, j)
    if kind == "flip":                                       # C_2 acting by a reflection
        (j,) = ident
        return IrrepData(1, 0, j)
    raise ValueError(f"unknown group family {kind!r}")


def irrep_matrix(group, irrep, j: int, theta: float) -> np.ndarray:
    """The matrix of ``r_theta f^j`` in ``irrep``: ``R(k theta) X^j`` or ``cos(k theta) (-1)^(j f)``."""
    d = irrep_data(group, irrep)
    if d.dim == 2:
        c, s = math.cos(d.k * theta), math.sin(d.k * theta)
        sign = -1.0 if j else 1.0        # every 2-D irrep with a flip has flip frequency 1
        return np.array([[c, -sign * s], [s, sign * c]])
    return np.array([[math.cos(d.k * theta) * (-1.0 if (j and d.j) else 1.0)]])


# ---- aliasing sets ----------------------------------------------------------------------------
def offsets(k: int, N: int, F: Optional[int], T: Optional[int], non_negative: bool = False) -> List[int]:
    """The offsets t (ascending) with mu = k + t N, as e2cnn's ``offset_iterator``.

    With F: ``min_f <= k + tN <= F``, min_f = 0 if ``non_negative`` else -F; with T: ``|t| <= T``.
    With T only, the sign restriction is NOT applied (e2cnn's quirk: docs/migrating.md, "Differences on purpose").
    """
    if F is None and T is None:
        raise ValueError("a finite group needs F or T")
    lo, hi = -math.inf, math.inf
    if F is not None:
        min_f = 0 if non_negative else -F
        lo, hi = math.ceil((min_f - k) / N), math.floor((F - k) / N)
    if T is not None:
        lo, hi = max(lo, -T), min(hi, T)
    if lo > hi:
        return []
    return list(range(int(lo), int(hi) + 1))


def alias_count(k: int, N: int, F: int) -> int:
    """|T_N(k; F)| by the closed formula (docs/math.md, "The angular elements")."""
    return max(0, math.floor((F - k) / N) - math.ceil((-F - k) / N) + 1)


def alias_count_non_negative(k: int, N: int, F: int) -> int:
    """|T+_N(k; F)| by the closed formula (docs/math.md, "The angular elements")."""
    return max(0, math.floor((F - k) / N) - math.ceil(-k / N) + 1)


# ---- elements -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClosedFormElement:
    """One element of the table: ``mu``, ``s``, ``gamma = quarter * pi/2``, offset ``t``, shape, axis."""

    mu: int
    s: int
    quarter: int          # gamma = quarter * pi / 2, quarter in {0, 1}
    t: int
    shape: Tuple[int, int]
    beta: float = 0.0

    @property
    def gamma(self) -> float:
        return self.quarter * HALF_PI

    @property
    def key(self) -> Tuple[int, int, int, int]:
        """(mu, s, quarter, t)."""
        return (self.mu, self.s, self.quarter, self.t)

    def _block(self, c, s):
        """The element's matrix with cos(x) -> c, sin(x) -> s (x = mu (phi - beta) + gamma)."""
        do, di = self.shape
        if (do, di) == (2, 2):
            sign = -1 if self.s else 1
            return [[c, -sign * s], [s, sign * c]]          # psichi(x, s)
        if (do, di) == (1, 2):
            return [[c, s]]
        if (do, di) == (2, 1):
            return [[c], [s]]
        return [[c]]

    def evaluate(self, phi: np.ndarray) -> np.ndarray:
        """Samples at the angles ``phi`` (shape (P,)), as an array (d_out, d_in, P)."""
        x = self.mu * (np.asarray(phi, dtype=float) - self.beta) + self.gamma
        return np.array(self._block(np.cos(x), np.sin(x)), dtype=float)

    def coefficients(self) -> Tuple[List[List[int]], List[List[int]]]:
        """Integer matrices (C, S) with element = C cos(mu (phi - beta)) + S sin(mu (phi - beta)).

        cos(u + gamma) = cos(gamma) cos u - sin(gamma) sin u, sin(u + gamma) = sin(gamma) cos u + cos(gamma) sin u.
        """
        cg, sg = 1 - self.quarter, self.quarter
        return self._block(cg, sg), self._block(-sg, cg)


def closed_form_table(group, in_irrep, out_irrep, F: Optional[int] = None, T: Optional[int] = None,
                      beta: float = 0.0) -> List[ClosedFormElement]:
    """The e2cnn basis of ``in_irrep -> out_irrep`` (docs/math.md, "The angular elements"), in e2cnn's order.

    ``F`` (max_frequency) and ``T`` (max_offset) are used by the finite groups only (at least one is
    required there); ``beta`` is the reflection axis and is ignored without reflections.
    """
    di, do = irrep_data(group, in_irrep), irrep_data(group, out_irrep)
    n, m = di.k, do.k
    shape = (do.dim, di.dim)
    reflection = group.kind in ("dihedral", "o2", "flip")
    beta = float(beta) if reflection else 0.0
    N = group.rotation_order

    def aliases(k: int, non_negative: bool = False) -> List[Tuple[int, int]]:
        if N is None:                       # SO(2), O(2): no aliasing, no band
            return [(k, 0)]
        return [(k + t * N, t) for t in offsets(k, N, F, T, non_negative)]

    out: List[ClosedFormElement] = []

    def add(mu, s, quarter, t):
        out.append(ClosedFormElement(mu, s, quarter, t, shape, beta))

    if not reflection:
        quarters: Sequence[int] = (0, 1)
        if shape == (2, 2):
            for q in quarters:
                for s in (0, 1):
                    for mu, t in aliases(m - (-1) ** s * n):
                        add(mu, s, q, t)
        elif shape in ((1, 2), (2, 1)):
            for q in quarters:
                for mu, t in aliases(n + m):
                    add(mu, 0, q, t)
        else:
            for q in quarters:
                for mu, t in aliases(m - n, non_negative=True):
                    if mu > 0 or q == 0:          # no sin(0 phi)
                        add(mu, 0, q, t)
        return out

    if shape == (2, 2):
        for s in (0, 1):
            for mu, t in aliases(m - (-1) ** s * n):
                add(mu, s, 0, t)
    elif shape == (1, 2):
        for mu, t in aliases(n + m):
            add(mu, 0, do.j, t)
    elif shape == (2, 1):
        for mu, t in aliases(n + m):
            add(mu, 0, di.j, t)
    else:
        q = (di.j + do.j) % 2
        for mu, t in aliases(m - n, non_negative=True):
            if mu > 0 or q == 0:
                add(mu, 0, q, t)
    return out


def table_count(group, in_irrep, out_irrep, F: int) -> int:
    """The element counts of docs/math.md, "The angular elements" (finite groups, F given), from the closed
    formulas only."""
    di, do = irrep_data(group, in_irrep), irrep_data(group, out_irrep)
    n, m, N = di.k, do.k, group.rotation_order
    reflection = group.kind in ("dihedral", "flip")
    if (do.dim, di.dim) == (2, 2):
        c = alias_count(m - n, N, F) + alias_count(m + n, N, F)
        return c if reflection else 2 * c
    if do.dim != di.dim:
        c = alias_count(n + m, N, F)
        return c if reflection else 2 * c
    plus = alias_count_non_negative(m - n, N, F)
    zero_in = 1 if (m - n) % N == 0 else 0      # 0 in T+ (F >= 0 always)
    if not reflection:
        return 2 * plus - zero_in
    sine = (di.j + do.j) % 2 == 1
    return plus - (1 if (sine and zero_in) else 0)
