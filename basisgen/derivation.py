"""Derive the angular kernel basis of an irrep pair by solving the kernel constraint (docs/math.md, "Deriving
the elements").

Method A, the complex-eigenbasis selection rule:

1. In the eigenbases U of the rotations, write ``A~ = U_out^-1 A U_in = sum c_abk E_ab e^{ik phi}``.
2. Rotations allow ``c_abk != 0`` only for ``k = w_out[a] - w_in[b]`` (mod N for C_N/D_N), ``|k| <= F``.
3. ``A`` is real iff ``c_abk = conj(c_{a' b' -k})`` (a', b': the conjugation partners).
4. The reflection (solved at beta = 0) requires ``c_abk = sigma c_{fa fb -k}``.
5. These are linear equations over Q in (Re c, Im c); they couple only the triples of one orbit, so
   each orbit's small system is solved exactly (sympy's DomainMatrix nullspace over QQ), the solution
   is put in canonical form (``c_rep`` = 1 or i, i.e. gamma = 0 or pi/2) and mapped back to a real
   matrix ``C cos(k phi) + S sin(k phi)``, scaled to unit amplitude.

Nothing here encodes a closed-form table of the elements: it comes out of the equations (the
tests compare the two).  Results are memoised per process; :func:`memo_info` and :func:`clear_memo`
inspect and clear the memo.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

from . import limits
from ._lazy import lazy_import
from .errors import EmptyBasisError, InvalidValueError
from .groups import Group
from .harmonics import HarmonicElement
from .irreps import Irrep

sp = lazy_import("sympy")

log = logging.getLogger(__name__)

Triple = Tuple[int, int, int]


def check_bound(value: Any, name: str) -> Optional[int]:
    """Validate a ``maximum_frequency``/``maximum_offset``-like argument: a non-negative int or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not hasattr(value, "__index__") or int(value) < 0:
        raise InvalidValueError(f"{name} must be a non-negative int or None, got {value!r}")
    limits.check(int(value), "MAX_FREQUENCY", f"{name} = {int(value)}")
    return int(value)


def reference_frequency(out_irrep: Irrep, in_irrep: Irrep, s: int) -> int:
    """The frequency ``mu_0`` that aliasing offsets ``t`` count from (``mu = mu_0 + t N``), in e2cnn's
    convention: ``m - (-1)^s n`` for 2x2 blocks, ``m + n`` when one side is 1-D and the other 2-D,
    ``m - n`` for 1x1 blocks (m, n: output and input frequencies)."""
    m, n = out_irrep.frequency, in_irrep.frequency
    if out_irrep.dim == 2 and in_irrep.dim == 2:
        return m - (-1) ** s * n
    if out_irrep.dim != in_irrep.dim:
        return m + n
    return m - n


def _candidate_frequencies(N: Optional[int], base: int, F: Optional[int], T: Optional[int], reach: int) -> List[int]:
    if N is None:
        return [base]
    if F is None and T is None:
        raise ValueError("a finite group needs maximum_frequency or maximum_offset to bound the aliased frequencies")
    bound = F if F is not None else reach + (T + 1) * N
    return [k for k in range(-bound, bound + 1) if (k - base) % N == 0]


def _orbits(triples: List[Triple], maps) -> List[List[Triple]]:
    allowed = set(triples)
    seen, orbits = set(), []
    for tau in triples:
        if tau in seen:
            continue
        orbit, todo = [], [tau]
        while todo:
            x = todo.pop()
            if x in seen:
                continue
            if x not in allowed:   # a partner outside the band: the orbit cannot be real, drop it
                orbit = None
                break
            seen.add(x)
            orbit.append(x)
            todo += [f(x) for f in maps]
        if orbit:
            orbits.append(sorted(orbit, key=lambda x: (x[0], -x[1], -x[2])))
    return orbits


@lru_cache(maxsize=None)
def _solve_orbit_system(rows: Tuple[Tuple[int, ...], ...], n_unknowns: int) -> Tuple[Tuple[Any, ...], ...]:
    """Exact nullspace (over QQ) of an integer system; orbits of the same shape share one solve."""
    from sympy.polys.domains import QQ
    from sympy.polys.matrices import DomainMatrix
    if not rows:
        return tuple(tuple(QQ(int(i == j)) for j in range(n_unknowns)) for i in range(n_unknowns))
    M = DomainMatrix([[QQ(x) for x in row] for row in rows], (len(rows), n_unknowns), QQ)
    return tuple(tuple(v) for v in M.nullspace().to_Matrix().tolist())


def _canonical_solutions(basis: List[List[Any]]) -> List[Tuple[Any, Any, List[Any]]]:
    """Re-express a nullspace basis through the representative's (Re c, Im c): returns
    ``(re, im, vector)`` with (re, im) = (1, 0), (0, 1), or one normalised direction."""
    if not basis:
        return []
    coords = [(v[0], v[1]) for v in basis]
    if len(basis) == 2:
        # invert the 2x2 coordinate matrix: new vectors have coordinates (1,0) and (0,1)
        (a, b), (c, d) = coords
        det = a * d - b * c
        if det == 0:
            raise RuntimeError("orbit solution space is not parametrised by its representative")
        inv = [[d / det, -b / det], [-c / det, a / det]]
        out = []
        for row, (re, im) in zip(inv, [(1, 0), (0, 1)]):
            vec = [row[0] * x + row[1] * y for x, y in zip(basis[0], basis[1])]
            out.append((re, im, vec))
        return out
    if len(basis) == 1:
        (re, im), vec = coords[0], list(basis[0])
        if re == 0 and im == 0:
            raise RuntimeError("orbit solution vanishes on its representative")
        lead = re if re != 0 else im
        scale = 1 / lead
        return [(re * scale, im * scale, [x * scale for x in vec])]
    raise RuntimeError(f"unexpected orbit solution space of dimension {len(basis)}")


def _to_sympy(x) -> sp.Expr:
    return sp.Rational(int(x.numerator), int(x.denominator))


@lru_cache(maxsize=None)
def _derive(group: Group, in_irrep: Irrep, out_irrep: Irrep, F: Optional[int], T: Optional[int]
            ) -> Tuple[HarmonicElement, ...]:
    N = group.rotation_order
    Eo, Ei = out_irrep.eigenbasis(), in_irrep.eigenbasis()
    do, di = out_irrep.dim, in_irrep.dim
    reach = out_irrep.frequency + in_irrep.frequency
    triples: List[Triple] = []
    for a in range(do):
        for b in range(di):
            base = Eo.weights[a] - Ei.weights[b]
            triples += [(a, b, k) for k in _candidate_frequencies(N, base, F, T, reach)]

    def conj(x):
        return (Eo.conj_partner[x[0]], Ei.conj_partner[x[1]], -x[2])

    def flip(x):
        return (Eo.flip_partner[x[0]], Ei.flip_partner[x[1]], -x[2])

    maps = [conj, flip] if group.has_reflection else [conj]
    elements = []
    for orbit in _orbits(triples, maps):
        index = {x: i for i, x in enumerate(orbit)}
        n = 2 * len(orbit)
        rows = []
        for x in orbit:
            i, p = index[x], index[conj(x)]
            # reality: Re c_p = Re c_x and Im c_p = -Im c_x
            rows.append(_row(n, (2 * p, 1), (2 * i, -1)))
            rows.append(_row(n, (2 * p + 1, 1), (2 * i + 1, 1)))
            if group.has_reflection:
                f = index[flip(x)]
                # reflection: c_abk = sigma^o_{fa} sigma^i_b c_{fa fb -k}, real and imaginary parts
                sigma = Eo.flip_sign[Eo.flip_partner[x[0]]] * Ei.flip_sign[x[1]]
                rows.append(_row(n, (2 * i, 1), (2 * f, -sigma)))
                rows.append(_row(n, (2 * i + 1, 1), (2 * f + 1, -sigma)))
        rows = tuple(r for r in rows if any(r))
        basis = [list(v) for v in _solve_orbit_system(rows, n)]
        for re, im, vec in _canonical_solutions(basis):
            elements.append(_element_from_solution(group, in_irrep, out_irrep, orbit, vec, re, im, Eo, Ei, F, T))
    elements = [e for e in elements if e is not None]
    elements.sort(key=lambda e: (e.gamma_float, e.s, e.mu))
    log.debug("derived %d elements for %s -> %s (F=%s, T=%s)", len(elements), in_irrep, out_irrep, F, T)
    return tuple(elements)


def _row(n: int, *entries: Tuple[int, int]) -> Tuple[int, ...]:
    """One equation over ``n`` unknowns with the given (index, coefficient) entries (indices may repeat)."""
    row = [0] * n
    for i, c in entries:
        row[i] += c
    return tuple(row)


def _element_from_solution(group, in_irrep, out_irrep, orbit, vec, re, im, Eo, Ei, F, T) -> Optional[HarmonicElement]:
    from sympy.polys.domains import QQ_I
    from sympy.polys.matrices import DomainMatrix
    rep = orbit[0]
    k = rep[2]
    do, di = out_irrep.dim, in_irrep.dim
    C = DomainMatrix.zeros((do, di), QQ_I)
    S = DomainMatrix.zeros((do, di), QQ_I)
    for j, (a, b, kk) in enumerate(orbit):
        c = QQ_I(vec[2 * j], vec[2 * j + 1])
        if c == 0:
            continue
        # c E_ab mapped back: U_out[:, a] U_in^{-1}[b, :]
        M = (Eo.U[:, a] * Ei.U_inv[b, :]).mul(c)
        C = C + M
        if kk != 0:
            S = S + M.mul(QQ_I(0, 1 if kk == k else -1))
    Cl, Sl = C.to_list(), S.to_list()
    if any(x.y != 0 for row in Cl + Sl for x in row):
        raise RuntimeError(f"non-real solution for {out_irrep}<-{in_irrep}: internal error")
    Cq = [[x.x for x in row] for row in Cl]
    Sq = [[x.x for x in row] for row in Sl]
    amp2 = next((c * c + s * s for rc, rs in zip(Cq, Sq) for c, s in zip(rc, rs) if c or s), None)
    if amp2 is None:
        return None
    amp = sp.sqrt(_to_sympy(amp2))
    C_exact = tuple(tuple(_to_sympy(x) / amp for x in row) for row in Cq)
    S_exact = tuple(tuple(_to_sympy(x) / amp for x in row) for row in Sq)
    # the matrix fixes s: R(.) X^s has determinant (-1)^s
    s = 0
    if do == 2 and di == 2:
        det = Cq[0][0] * Cq[1][1] - Cq[0][1] * Cq[1][0] + Sq[0][0] * Sq[1][1] - Sq[0][1] * Sq[1][0]
        s = 0 if det > 0 else 1
    gamma = sp.atan2(_to_sympy(im), _to_sympy(re))
    N = group.rotation_order
    t = 0
    if N is not None:
        delta = k - reference_frequency(out_irrep, in_irrep, s)
        if delta % N:
            raise RuntimeError("derived frequency is not an alias of the reference frequency: internal error")
        t = delta // N
        if T is not None and abs(t) > T:
            # with only an offset bound, e2cnn lists cos(mu phi) for mu of either sign (quirk 4): keep the
            # cosine once, under the sign whose offset is in range
            t_neg = (-k - reference_frequency(out_irrep, in_irrep, s)) // N
            even = all(x == 0 for row in S_exact for x in row)
            if F is None and do == di == 1 and even and k and abs(t_neg) <= T:
                k, t = -k, t_neg
            else:
                return None
    return HarmonicElement(k, s, gamma, t, C_exact, S_exact, in_irrep, out_irrep)



def derive_angular_basis(group: Group, in_irrep: Irrep, out_irrep: Irrep, maximum_frequency: Optional[int] = None,
                         maximum_offset: Optional[int] = None, axis: Any = 0) -> Tuple[HarmonicElement, ...]:
    """The angular basis of kernels ``in_irrep -> out_irrep``, in e2cnn's order (docs/math.md, "The angular elements").

    ``maximum_frequency`` (F) bounds ``|mu|`` and ``maximum_offset`` (T) bounds ``|t|``; finite groups
    need at least one of them, SO(2) and O(2) ignore both (no aliasing).  ``axis`` is the reflection
    axis beta (any float or sympy expression; ignored without reflections).  Raises
    :class:`EmptyBasisError` when the constraint has no solution in the band.

    Examples
    --------
    >>> from basisgen import dihedral_group
    >>> G = dihedral_group(4)
    >>> [(e.mu, e.s, e.gamma) for e in derive_angular_basis(G, G.irrep(1, 1), G.irrep(1, 1), 3)]
    [(0, 0, 0), (-2, 1, 0), (2, 1, 0)]
    """
    for name, psi in (("in_irrep", in_irrep), ("out_irrep", out_irrep)):
        if not isinstance(psi, Irrep):
            raise ValueError(f"{name} must be an Irrep of {group.name}, got {psi!r}")
        if psi.group != group:
            raise ValueError(f"{name} {psi!r} is not an irrep of {group.name}")
    F = check_bound(maximum_frequency, "maximum_frequency")
    T = check_bound(maximum_offset, "maximum_offset")
    if group.continuous:
        F = T = None
    elif F is None and T is None:
        raise ValueError(f"{group.name} is finite: give maximum_frequency or maximum_offset to bound the aliased "
                         f"frequencies mu + tN")
    elements = _derive(group, in_irrep, out_irrep, F, T)
    if not elements:
        raise EmptyBasisError(_empty_pair_message(group, in_irrep, out_irrep, F, T))
    beta = axis if group.has_reflection else 0
    return tuple(e.with_axis(beta) for e in elements) if beta != 0 else elements


def _empty_pair_message(group: Group, in_irrep: Irrep, out_irrep: Irrep, F, T) -> str:
    head = f"no kernel maps {in_irrep.name} to {out_irrep.name} of {group.name}"
    if group.continuous:
        return head + ": the constraint admits only the zero kernel for this pair at every frequency"
    reach = group.rotation_order + in_irrep.frequency + out_irrep.frequency
    wider = _derive(group, in_irrep, out_irrep, reach, None)
    if not wider:
        return head + ": the constraint admits only the zero kernel for this pair at every frequency"
    lowest = min(abs(e.mu) for e in wider)
    return (f"{head} with maximum_frequency={F}, maximum_offset={T}: the lowest allowed harmonic is |mu| = "
            f"{lowest}; use maximum_frequency >= {lowest}" + (" and drop maximum_offset" if T is not None else ""))


def memo_info() -> Dict[str, Any]:
    """What the in-process memo of derived bases holds (hits, misses, entries)."""
    info = _derive.cache_info()
    return {"hits": info.hits, "misses": info.misses, "entries": info.currsize,
            "orbit_systems": _solve_orbit_system.cache_info().currsize}


def clear_memo() -> None:
    """Forget every derived basis of this process (the next call derives from scratch)."""
    _derive.cache_clear()
    _solve_orbit_system.cache_clear()
