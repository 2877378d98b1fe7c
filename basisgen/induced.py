"""Regular and quotient representations of the finite groups (docs/math.md, "Regular and quotient
representations").

Both are permutation representations whose change of basis has rows
``Q[i, :] = ((+)_psi psi(r_i) v)^T``: the irreps evaluated at the i-th basis element (group element or
coset representative) applied to one fixed vector ``v``.  Only ``v`` differs:

* regular: ``v = |G|^(-1/2) (sqrt(d_psi) e_c)`` with ``c`` the copy index of the irrep;
* quotient: ``v`` is built from the H-invariant vectors that the restriction to H exposes, as e2cnn
  builds it: for complex-type irreps both invariant directions are summed.

``Q`` is produced twice from the same code: in float64 (the exact entries correctly rounded, computed
without sympy by :mod:`basisgen.precise`) and, lazily, exactly with sympy.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, List, Optional, Sequence, Set, Tuple

import numpy as np

from ._lazy import lazy_import
from .groups import O2, Group
from .irreps import Irrep
from .representation import Representation
from .errors import InvalidValueError
from .precise import sqrt as precise_sqrt
from .restriction import IrrepRestriction, irrep_restriction, subgroup_geometry

sp = lazy_import("sympy")

REGULAR_NONLINEARITIES = {"pointwise", "norm", "gated", "concatenated"}


def _require_finite(G: Group, what: str) -> None:
    if G.elements is None:
        if isinstance(G, O2):
            raise InvalidValueError(f"the {what} representation of O(2) needs a finite group or the subgroup SO(2) "
                                    f"(subgroup id (None, -1)); induction from a discrete subgroup of O(2) gives "
                                    f"an infinite-dimensional representation")
        raise InvalidValueError(f"the {what} representation needs a finite group; {G.name} is continuous")


def _from_rotations(G: Group, subgroup_id: Any) -> bool:
    """Is this the induction from SO(2) to O(2), the one induction of a continuous group that is finite?"""
    return isinstance(G, O2) and isinstance(subgroup_id, tuple) and len(subgroup_id) == 2 \
        and subgroup_id[0] is None and not isinstance(subgroup_id[1], bool) and subgroup_id[1] == -1


def _build_Q(elements: Sequence[Any], irreps: List[Irrep], v_blocks: List[Any], exact: bool, width: int = 1):
    """Rows ``((+)psi(g) v)^T`` for ``g`` in ``elements``: ``v_blocks[i]`` is the part of v in irrep i,
    a (d_i,) vector, or a (d_i, width) matrix giving ``width`` rows per element."""
    rows = []
    for g in elements:
        parts = []
        for psi, v in zip(irreps, v_blocks):
            M = psi.exact(g) * v if exact else psi.matrix(g) @ v
            parts.append(M.reshape(psi.dim, width) if not exact else M)
        for a in range(width):
            rows.append([x for M in parts for x in (list(M[:, a]) if exact else M[:, a])])
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


def induced_nonlinearities(tags: Set[str], size: int) -> Set[str]:
    """e2cnn's non-linearity tags of a representation induced from one with ``tags`` and ``size``:
    point-wise and concatenated maps survive induction; norm and gated ones gain an ``induced_*_{size}``
    tag saying how large the induced blocks are, and gates become induced gates."""
    result = tags & {"pointwise", "concatenated"}
    for kind in ("gated", "norm"):
        if kind in tags:
            result.add(kind)
            own = [t for t in tags if t.startswith(f"induced_{kind}")]
            result.add(own[0] if own else f"induced_{kind}_{size}")
    if tags & {"gate", "induced_gate"}:
        result.add("induced_gate")
    return result


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
    if not _from_rotations(G, subgroup_id):
        _require_finite(G, "quotient")
    H = subgroup_geometry(G, subgroup_id).subgroup
    return induced_representation(G, subgroup_id, H.trivial_irrep, name=f"quotient[{subgroup_id}]")


_QUARTER_TURN = ((0, -1), (1, 0))


def induced_representation(G: Group, subgroup_id: Any, phi: Irrep, name: Optional[str] = None) -> Representation:
    """The representation of ``G`` induced from the irrep ``phi`` of the subgroup ``subgroup_id``.

    Basis: ``phi.dim`` vectors per coset, cosets in :func:`coset_representatives` order.  The change of
    basis is e2cnn's: ``Q[i d + a, :] = ((+)psi(r_i) v[:, a])^T`` where ``v`` places, in every irrep
    ``psi`` of ``G``, the copies of ``phi`` that the restriction of ``psi`` exposes (Frobenius
    reciprocity gives the multiplicities; complex-type ``phi`` uses 1 and a quarter turn as the two
    intertwiners), normalised so that ``Q`` is orthogonal.

    Examples
    --------
    >>> from basisgen import cyclic_group
    >>> G = cyclic_group(8)
    >>> rho = induced_representation(G, 4, G.subgroup(4)[0].irrep(1))
    >>> rho.name, [psi.name for psi in rho.irreps], rho.size
    ('induced[4][irrep_1]', ['irrep_1', 'irrep_3'], 4)

    O(2) induces from its rotations SO(2) (subgroup id ``(None, -1)``), as e2cnn does:

    >>> from basisgen import o2_group
    >>> G = o2_group(3)
    >>> rho = induced_representation(G, (None, -1), G.subgroup((None, -1))[0].irrep(2))
    >>> rho.name, [psi.name for psi in rho.irreps]
    ('induced[(None, -1)][irrep_2]', ['irrep_1,2', 'irrep_1,2'])
    """
    if not _from_rotations(G, subgroup_id):
        _require_finite(G, "induced")
    H = subgroup_geometry(G, subgroup_id).subgroup
    if not isinstance(phi, Irrep) or phi.group != H:
        raise InvalidValueError(f"phi must be an irrep of the subgroup {H.name} of {G.name} ({subgroup_id!r}), "
                                f"got {phi!r}")
    if _from_rotations(G, subgroup_id):
        return _induced_from_rotations(G, subgroup_id, phi, name)
    reps, _ = coset_representatives(G, subgroup_id)
    d = phi.dim
    irreps: List[Irrep] = []
    raw: List[Tuple[IrrepRestriction, List[Tuple[int, int]]]] = []   # per copy: (restriction, [(offset, t)])
    norm_sq = Fraction(0)
    for psi in G.irreps:
        restriction = irrep_restriction(psi, subgroup_id)
        phis = restriction.irreps
        offsets = np.cumsum([0] + [p.dim for p in phis])
        J = [int(offsets[j]) for j, p in enumerate(phis) if p == phi]
        if not J:
            continue
        m = phi.sum_of_squares_constituents * len(J) // psi.sum_of_squares_constituents   # Frobenius reciprocity
        per_copy = 1 if m == len(J) else psi.sum_of_squares_constituents
        for shift in range(m):
            entries = []
            for i in range(per_copy):
                idx = shift * psi.sum_of_squares_constituents + i
                entries.append((J[idx % len(J)], idx // len(J)))
            irreps.append(psi)
            raw.append((restriction, entries))
        used = m if m == len(J) else phi.sum_of_squares_constituents * len(J)
        norm_sq += Fraction(used * psi.dim, psi.sum_of_squares_constituents)

    def intertwiner(t: int) -> Sequence[Sequence[int]]:
        if phi.sum_of_squares_constituents == 1 or t % 2 == 0:
            return np.eye(d, dtype=int).tolist()
        return _QUARTER_TURN

    def placement(psi: Irrep, entries: List[Tuple[int, int]]) -> List[List[int]]:
        """The integer (psi.dim, d) matrix placing the intertwiners at the copies of phi."""
        v = [[0] * d for _ in range(psi.dim)]
        for x, t in entries:
            for a, row in enumerate(intertwiner(t)):
                v[x + a] = list(row)
        return v

    def v_blocks(exact: bool):
        blocks = []
        for psi, (restriction, entries) in zip(irreps, raw):
            scale = Fraction(psi.dim, psi.sum_of_squares_constituents) / norm_sq
            if exact:
                v = sp.Matrix(placement(psi, entries))
                blocks.append(restriction.exact() * v * sp.sqrt(sp.Rational(scale.numerator, scale.denominator)))
                continue
            # Q_res v sqrt(scale) to 256 bits, rounded once: the exact entries, correctly rounded
            Q_res, v, root = restriction.precise(), placement(psi, entries), precise_sqrt(scale)
            blocks.append(np.array([[float(sum(Q_res[i][j] * v[j][a] for j in range(psi.dim)) * root)
                                     for a in range(d)] for i in range(psi.dim)], dtype=float))
        return blocks

    Q = _build_Q(reps, irreps, v_blocks(False), exact=False, width=d)
    return Representation(G, name or f"induced[{subgroup_id}][{phi.name}]", irreps, Q,
                          lambda: _build_Q(reps, irreps, v_blocks(True), True, width=d),
                          induced_nonlinearities(Representation.from_irrep(phi).supported_nonlinearities, d),
                          subgroup_id=subgroup_id)


# e2cnn's intertwiners of SO(2)'s irrep k into the two copies of O(2)'s irrep (1, k): rotations by
# +-pi/4, scaled so that Q is orthogonal
_ROTATION_COPIES = (((1, -1), (1, 1)), ((1, 1), (-1, 1)))


def _induced_from_rotations(G: O2, subgroup_id: Any, phi: Irrep, name: Optional[str]) -> Representation:
    """``Ind_SO(2)^O(2) phi``: two cosets (the rotations and the reflections ``(1, 0.0)``).

    ``phi`` of frequency 0 induces ``irrep_0,0 + irrep_1,0`` (size 2); frequency ``k > 0`` induces two copies
    of ``irrep_1,k`` (size 4).  Built as the finite inductions, ``Q[i d + a, :] = ((+)psi(r_i) v[:, a])^T``,
    with e2cnn's vector ``v``: ``1/sqrt(2)`` for the 1-D irreps, the quarter-turn halves
    ``[[1, -1], [1, 1]] / 2`` and ``[[1, 1], [-1, 1]] / 2`` for the two copies of a 2-D irrep.
    """
    d, k = phi.dim, phi.frequency
    if k == 0:
        irreps = [G.irrep(0, 0), G.irrep(1, 0)]
        float_blocks = [np.full((1, 1), np.sqrt(0.5))] * 2           # 1/sqrt(2), correctly rounded

        def exact_blocks():
            return [sp.Matrix([[1 / sp.sqrt(2)]])] * 2
    else:
        irreps = [G.irrep(1, k)] * 2
        float_blocks = [np.array(block, dtype=float) / 2 for block in _ROTATION_COPIES]

        def exact_blocks():
            return [sp.Matrix(block) / 2 for block in _ROTATION_COPIES]
    Q = _build_Q([(0, 0.0), (1, 0.0)], irreps, float_blocks, exact=False, width=d)
    return Representation(G, name or f"induced[{subgroup_id}][{phi.name}]", irreps, Q,
                          lambda: _build_Q([(0, sp.Integer(0)), (1, sp.Integer(0))], irreps, exact_blocks(), True,
                                           width=d),
                          induced_nonlinearities(Representation.from_irrep(phi).supported_nonlinearities, d),
                          subgroup_id=subgroup_id)
