"""Completeness: the derived basis spans the whole solution space of the kernel constraint.

The dimension of the solution space is computed here independently and numerically (in floating
point): for every frequency k, A(phi) = Ac cos(k phi) + As sin(k phi) is
constrained at the group's generators,

    rotation r_theta:     A(phi + theta) = psi_out(theta) A(phi) psi_in(theta)^-1
    reflection (beta=0):  A(-phi)        = psi_out(f)     A(phi) psi_in(f)^-1

which is a linear system in the entries of (Ac, As); its nullity (SVD, tolerance 1e-9) summed over
k = 0..F is the dimension of the band-limited (|mu| <= F) solution space.  The irrep matrices are
written here from docs/math.md, "Groups and their irreps" (and checked against the library's).  For SO(2)/O(2)
one generic
rotation (1 rad) has the same solutions as the whole group for integer frequencies, and
frequencies beyond m + n + 3 are not needed (none solve beyond m + n).

The derived elements must be exactly that many, linearly independent, and solutions (checked
numerically at every group element, with a non-trivial reflection axis): together, the same space.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from basisgen import cyclic_group, dihedral_group, flip_group, o2_group, so2_group
from basisgen.derivation import _derive

from closed_form_table import irrep_data, irrep_matrix

F_FINITE = 4
TOL = 1e-9
GENERIC_ANGLE = 1.0
AXIS = 0.7
GRID = 2 * math.pi * np.arange(96) / 96 + 0.05     # harmonics |mu| < 48 are orthogonal on it

GROUPS = ([cyclic_group(N) for N in range(1, 13)] + [dihedral_group(N) for N in range(1, 13)]
          + [so2_group(4), o2_group(4), flip_group()])


def gid(G):
    return G.name.replace("(", "").replace(")", "")


def rotation_generator(G):
    return 2 * math.pi / G.rotation_order if G.rotation_order is not None else GENERIC_ANGLE


def solution_dimension(G, psi_in, psi_out, k):
    """Nullity of the constraint on A = Ac cos(k phi) + As sin(k phi) (As absent for k = 0)."""
    do, di = irrep_data(G, psi_out).dim, irrep_data(G, psi_in).dim
    size = do * di
    n_unknowns = size * (2 if k else 1)
    theta = rotation_generator(G)
    Po, Pi_inv = irrep_matrix(G, psi_out, 0, theta), np.linalg.inv(irrep_matrix(G, psi_in, 0, theta))
    maps = []      # residual maps (Ac, As) -> matrices, one pair of rows per cos/sin coefficient
    c, s = math.cos(k * theta), math.sin(k * theta)
    # A(phi + theta) = (Ac c + As s) cos(k phi) + (As c - Ac s) sin(k phi)
    maps.append(lambda Ac, As: Ac * c + As * s - Po @ Ac @ Pi_inv)
    maps.append(lambda Ac, As: As * c - Ac * s - Po @ As @ Pi_inv)
    if G.has_reflection:
        Fo, Fi_inv = irrep_matrix(G, psi_out, 1, 0.0), np.linalg.inv(irrep_matrix(G, psi_in, 1, 0.0))
        # A(-phi) = Ac cos(k phi) - As sin(k phi)
        maps.append(lambda Ac, As: Ac - Fo @ Ac @ Fi_inv)
        maps.append(lambda Ac, As: -As - Fo @ As @ Fi_inv)
    columns = []
    for u in range(n_unknowns):
        x = np.zeros(2 * size)
        x[u] = 1.0
        Ac, As = x[:size].reshape(do, di), x[size:].reshape(do, di)
        columns.append(np.concatenate([f(Ac, As).ravel() for f in maps]))
    M = np.array(columns).T
    sv = np.linalg.svd(M, compute_uv=False)
    return n_unknowns - int(np.sum(sv > TOL))


def numeric_dimension(G, psi_in, psi_out, F=F_FINITE):
    """Dimension of the solution space with |mu| <= F (finite groups) or of all of it (SO(2), O(2))."""
    if G.rotation_order is not None:
        top = F
    else:
        top = irrep_data(G, psi_in).k + irrep_data(G, psi_out).k + 3
    return sum(solution_dimension(G, psi_in, psi_out, k) for k in range(top + 1))


def derived(G, psi_in, psi_out):
    F = F_FINITE if G.rotation_order is not None else None
    elements = _derive(G, psi_in, psi_out, F, None)
    return [e.with_axis(AXIS) for e in elements] if G.has_reflection else list(elements)


def group_actions(G):
    """(j, theta) of the elements to check: all of a finite group, a sample of SO(2)/O(2)."""
    if G.kind == "flip":
        return [(0, 0.0), (1, 0.0)]
    flips = (0, 1) if G.has_reflection else (0,)
    if G.rotation_order is not None:
        N = G.rotation_order
        return [(j, 2 * math.pi * g / N) for j in flips for g in range(N)]
    return [(j, th) for j in flips for th in (0.0, 0.3, 1.0, 2.5, -4.0)]


def test_spec_irreps_agree_with_library_irreps():
    """The hand-written irrep matrices are the library's, on the elements of §1."""
    for G in GROUPS:
        if G.kind == "cyclic":
            elements = [(g, (0, 2 * math.pi * g / G.rotation_order)) for g in range(G.rotation_order)]
        elif G.kind == "dihedral":
            elements = [((j, g), (j, 2 * math.pi * g / G.rotation_order)) for j in (0, 1)
                        for g in range(G.rotation_order)]
        elif G.kind == "flip":
            elements = [(0, (0, 0.0)), (1, (1, 0.0))]
        elif G.kind == "so2":
            elements = [(th, (0, th)) for th in (0.0, 1.0, 2.5)]
        else:
            elements = [((j, th), (j, th)) for j in (0, 1) for th in (0.0, 1.0, 2.5)]
        for psi in G.irreps:
            for element, (j, th) in elements:
                assert np.allclose(psi.matrix(element), irrep_matrix(G, psi, j, th), atol=1e-12), (G, psi, element)


@pytest.mark.parametrize("G", GROUPS, ids=gid)
def test_derived_basis_is_complete(G):
    problems = []
    for psi_in in G.irreps:
        for psi_out in G.irreps:
            where = f"{G.name} {psi_in.name}->{psi_out.name}"
            elements = derived(G, psi_in, psi_out)
            expected = numeric_dimension(G, psi_in, psi_out)
            if len(elements) != expected:
                problems.append(f"{where}: {len(elements)} derived elements, solution space has dimension {expected}")
            if G.rotation_order is not None and any(abs(e.mu) > F_FINITE for e in elements):
                problems.append(f"{where}: element outside the band |mu| <= {F_FINITE}")
            if elements:
                samples = np.array([e.evaluate(GRID).ravel() for e in elements])
                sv = np.linalg.svd(samples, compute_uv=False)
                r = int(np.sum(sv > 1e-9 * sv[0]))
                if r != len(elements):
                    problems.append(f"{where}: derived elements are dependent (rank {r} of {len(elements)})")
    assert not problems, "\n".join(problems[:25])


@pytest.mark.parametrize("G", GROUPS, ids=gid)
def test_derived_elements_solve_the_constraint_at_every_element(G):
    """K(g.x) = psi_out(g) K(x) psi_in(g)^-1, with g acting on the angle by phi -> theta + (2 beta - phi)^j."""
    phi = np.random.default_rng(7).uniform(-math.pi, math.pi, 16)
    beta = AXIS if G.has_reflection else 0.0
    problems = []
    for psi_in in G.irreps:
        for psi_out in G.irreps:
            for e in derived(G, psi_in, psi_out):
                K = e.evaluate(phi)
                for j, theta in group_actions(G):
                    moved = theta + (2 * beta - phi if j else phi)
                    lhs = e.evaluate(moved)
                    Po, Pi_inv = irrep_matrix(G, psi_out, j, theta), np.linalg.inv(irrep_matrix(G, psi_in, j, theta))
                    rhs = np.einsum("ab,bcp,cd->adp", Po, K, Pi_inv)
                    err = np.max(np.abs(lhs - rhs))
                    if not err < 1e-10:
                        problems.append(f"{G.name} {psi_in.name}->{psi_out.name} mu={e.mu} s={e.s} gamma={e.gamma}: "
                                        f"residual {err:.2g} at (j={j}, theta={theta:.3f})")
    assert not problems, "\n".join(problems[:25])


def test_numeric_dimension_reproduces_math_count_matrix():
    """The numeric Method B itself reproduces the counts of docs/math.md, "The angular elements" (D4 and C8, F = 2)."""
    G = dihedral_group(4)
    counts = [[numeric_dimension(G, psi_in, psi_out, 2) for psi_in in G.irreps] for psi_out in G.irreps]
    assert counts == [[1, 0, 1, 1, 1], [0, 1, 1, 1, 1], [1, 1, 3, 1, 1], [1, 1, 1, 1, 0], [1, 1, 1, 0, 1]]
    C8 = cyclic_group(8)
    counts = [[numeric_dimension(C8, psi_in, psi_out, 2) for psi_in in C8.irreps] for psi_out in C8.irreps]
    assert counts == [[1, 2, 2, 0, 0], [2, 4, 2, 2, 0], [2, 2, 2, 2, 2], [0, 2, 2, 4, 2], [0, 0, 2, 2, 1]]
