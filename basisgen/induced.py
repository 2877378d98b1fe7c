"""Regular and quotient representations of the finite groups (MATH.md §1.6, §1.7).

Both are permutation representations whose change of basis has rows
``Q[i, :] = ((+)_psi psi(r_i) v)^T``: the irreps evaluated at the i-th basis element (group element or
coset representative) applied to one fixed vector ``v``.  Only ``v`` differs:

* regular: ``v = |G|^(-1/2) (sqrt(d_psi) e_c)`` with ``c`` the copy index of the irrep (§1.6);
* quotient: ``v`` is built from the H-invariant vectors that the restriction to H exposes, as e2cnn
  builds it (§1.7, quirk 6): for complex-type irreps both invariant directions are summed.

``Q`` is produced twice from the same code: in float64 and, lazily, exactly with sympy.
"""
from __future__ import annotations

from typing import Any, Callable, List, Sequence, Tuple

import numpy as np
import sympy as sp

from .groups import Group
from .irreps import Irrep
from .representation import Representation
from .restriction import restrict_irrep, subgroup_geometry

REGULAR_NONLINEARITIES = {"pointwise", "norm", "gated", "concatenated"}


def _require_finite(G: Group, what: str) -> None:
    if G.elements is None:
        raise ValueError(f"the {what} representation needs a finite group; {G.name} is continuous")


def _build_Q(elements: Sequence[Any], irreps: List[Irrep], v_blocks: List[Any], exact: bool):
    """Rows ``((+)psi(g) v)^T`` for ``g`` in ``elements``; ``v_blocks[i]`` is the part of v in irrep i."""
    rows = []
    for g in elements:
        row = []
        for psi, v in zip(irreps, v_blocks):
            M = psi.exact(g) * v if exact else psi.matrix(g) @ v
            row += list(M)
        rows.append(row)
    return sp.Matrix(rows) if exact else np.array(rows, dtype=float)


def regular_representation(G: Group) -> Representation:
    """The regular representation of a finite group, named ``regular``.

    Basis vectors are the group elements in ``G.elements`` order; ``rho(h) e_g = e_(hg)``.

    Examples
    --------
    >>> from basisgen import dihedral_group
    >>> rho = dihedral_group(4).regular_representation
    >>> [psi.name for psi in rho.irreps]
    ['irrep_0,0', 'irrep_1,0', 'irrep_1,1', 'irrep_1,1', 'irrep_1,2', 'irrep_0,2']
    >>> (rho.change_of_basis * 8 ** 0.5).round(3)[1].tolist()
    [1.0, 1.0, 0.0, 1.414, -1.414, 0.0, -1.0, -1.0]
    """
    _require_finite(G, "regular")
    order = len(G.elements)
    irreps: List[Irrep] = []
    copies: List[int] = []
    for psi in G.irreps:
        # multiplicity <chi_reg, chi_psi> / (|G| sos) = d / sos  (chi_reg is |G| at e, 0 elsewhere)
        for c in range(psi.dim // psi.sum_of_squares_constituents):
            irreps.append(psi)
            copies.append(c)

    def v_blocks(exact: bool):
        sqrt = sp.sqrt if exact else np.sqrt
        blocks = []
        for psi, c in zip(irreps, copies):
            e = [sp.Integer(0)] * psi.dim if exact else np.zeros(psi.dim)
            e[c] = sqrt(sp.Integer(psi.dim) / order) if exact else np.sqrt(psi.dim / order)
            blocks.append(sp.Matrix(e) if exact else e)
        return blocks

    Q = _build_Q(G.elements, irreps, v_blocks(False), exact=False)
    nonlinearities = set(REGULAR_NONLINEARITIES)
    if not G.has_reflection or G.kind == "flip":
        nonlinearities.add("vectorfield")
    return Representation(G, "regular", irreps, Q, lambda: _build_Q(G.elements, irreps, v_blocks(True), True),
                          nonlinearities)


def coset_representatives(G: Group, subgroup_id: Any) -> Tuple[List[Any], Callable[[Any], int]]:
    """Left coset representatives in e2cnn's order (first element of each new coset), and a map
    from an element to the index of its coset."""
    _require_finite(G, "quotient")
    geo = subgroup_geometry(G, subgroup_id)
    H = geo.subgroup
    index = {}
    reps = []
    for g in G.elements:
        if g not in index:
            for h in H.elements:
                index[G.combine(g, geo.parent_map(h))] = len(reps)
            reps.append(g)
    return reps, index.__getitem__


def quotient_representation(G: Group, subgroup_id: Any) -> Representation:
    """The quotient representation ``G/H`` (the induction of H's trivial representation).

    Named ``quotient[{subgroup_id}]``; basis vectors are the cosets ``r_i H`` in
    :func:`coset_representatives` order.

    Examples
    --------
    >>> from basisgen import cyclic_group
    >>> rho = cyclic_group(8).quotient_representation(2)
    >>> [psi.name for psi in rho.irreps], rho.size
    (['irrep_0', 'irrep_2', 'irrep_4'], 4)
    >>> (2 * rho.change_of_basis).round(6).tolist()[1]
    [1.0, -1.0, 1.0, -1.0]
    """
    _require_finite(G, "quotient")
    reps, _ = coset_representatives(G, subgroup_id)
    irreps: List[Irrep] = []
    raw: List[Tuple[sp.Matrix, List[int]]] = []   # (restriction cob, invariant positions) per copy
    for psi in G.irreps:
        Q_res, phis = restrict_irrep(psi, subgroup_id)
        invariant = [i for i, phi in enumerate(phis) if phi.is_trivial()]
        sos = psi.sum_of_squares_constituents
        m = len(invariant) // sos          # Frobenius reciprocity
        per_copy = len(invariant) // m if m else 0
        for c in range(m):
            irreps.append(psi)
            raw.append((Q_res, invariant[c * per_copy:(c + 1) * per_copy]))
    norm_sq = sum(len(pos) * psi.dim // psi.sum_of_squares_constituents for psi, (_, pos) in zip(irreps, raw))

    def v_blocks(exact: bool):
        blocks = []
        for psi, (Q_res, positions) in zip(irreps, raw):
            e = sp.zeros(psi.dim, 1)
            for p in positions:
                e[p] = 1
            scale = sp.sqrt(sp.Rational(psi.dim, psi.sum_of_squares_constituents * norm_sq))
            v = Q_res * e * scale
            blocks.append(v if exact else np.array(v.evalf(17), dtype=float).ravel())
        return blocks

    Q = _build_Q(reps, irreps, v_blocks(False), exact=False)
    return Representation(G, f"quotient[{subgroup_id}]", irreps, Q,
                          lambda: _build_Q(reps, irreps, v_blocks(True), True),
                          REGULAR_NONLINEARITIES, subgroup_id=subgroup_id)
