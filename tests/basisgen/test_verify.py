"""Exact verification of the kernel constraint (docs/math.md, "Verifying an element exactly"): every derived
element is proven, and hand-written wrong kernels (the classic wrong answers and more) are refuted."""
from __future__ import annotations

import pytest
import sympy as sp

from basisgen import cyclic_group, dihedral_group, flip_group, o2_group, so2_group
from basisgen.derivation import _derive
from basisgen.harmonics import BETA, PHI
from basisgen.verify import verify

phi, beta = PHI, BETA


def R(x):
    return sp.Matrix([[sp.cos(x), -sp.sin(x)], [sp.sin(x), sp.cos(x)]])


X = sp.diag(1, -1)


def column(x):
    return sp.Matrix([sp.cos(x), sp.sin(x)])


def row(x):
    return sp.Matrix([[sp.cos(x), sp.sin(x)]])


def gid(G):
    return G.name.replace("(", "").replace(")", "")


# ---- every derived element holds -----------------------------------------------------------------
# All pairs of every group, F = 0..5 (the F-bases are nested, so the distinct elements over F are
# verified once each).  The whole set takes a few seconds.
VERIFIED_GROUPS = ([cyclic_group(N) for N in range(1, 9)] + [dihedral_group(N) for N in range(1, 9)]
                   + [so2_group(4), o2_group(4), flip_group()])


# the orders 5 to 7 repeat what 1 to 4 and 8 show: the full suite only
@pytest.mark.parametrize("G", [pytest.param(G, marks=pytest.mark.slow) if gid(G)[1:] in ("5", "6", "7") else G
                               for G in VERIFIED_GROUPS], ids=gid)
def test_every_derived_element_is_proven(G):
    frequencies = range(6) if G.rotation_order is not None else (None,)
    elements = {}
    for F in frequencies:
        for psi_in in G.irreps:
            for psi_out in G.irreps:
                for e in _derive(G, psi_in, psi_out, F, None):
                    elements[(psi_in.id, psi_out.id, e.mu, e.s, e.gamma)] = e
    assert elements
    failed = [(k, v.reason) for k, v in ((k, verify(e)) for k, e in elements.items()) if not v]
    assert not failed, f"{len(failed)} of {len(elements)} derived elements fail: {failed[:10]}"


def test_verification_ignores_the_elements_numeric_axis():
    """A HarmonicElement is checked with beta symbolic, so one check covers every axis."""
    D4 = dihedral_group(4)
    for e in _derive(D4, D4.irrep(0, 0), D4.irrep(1, 1), 5, None):
        assert verify(e.with_axis(0.7))


def test_verification_result_is_truthy_or_falsy_with_a_reason():
    C8 = cyclic_group(8)
    good = verify(column(phi), C8.irrep(0), C8.irrep(1))
    bad = verify(column(2 * phi), C8.irrep(0), C8.irrep(1))
    assert good and bool(good) is True and isinstance(good.reason, str)
    assert not bad and bool(bad) is False and bad.reason


# ---- controls: wrong kernels --------------------------------------------------------------------------
def test_c8_wrong_harmonic_fails_and_alias_passes():
    C8 = cyclic_group(8)
    psi1, psi2 = C8.irrep(1), C8.irrep(2)
    # psi1 -> psi2: s = 0 needs mu = 1 (mod 8), s = 1 needs mu = 3 (mod 8)
    assert verify(R(phi), psi1, psi2)
    assert verify(R(9 * phi), psi1, psi2)                 # aliased mu = 1 + 8
    assert verify(R(-7 * phi), psi1, psi2)
    assert verify(R(3 * phi) * X, psi1, psi2)
    assert verify(R(11 * phi + sp.pi / 2) * X, psi1, psi2)
    assert not verify(R(2 * phi), psi1, psi2)             # the wrong harmonic
    assert not verify(R(2 * phi) * X, psi1, psi2)
    assert not verify(R(5 * phi), psi1, psi2)
    # the same with a 1-D input (the column form)
    assert verify(column(9 * phi), C8.irrep(0), psi1)
    assert not verify(column(2 * phi), C8.irrep(0), psi1)


def test_aliased_harmonic_fails_for_so2():
    """mu = 9 is an alias for C8 only: SO(2) has no aliasing."""
    SO2 = so2_group(3)
    assert verify(R(phi), SO2.irrep(1), SO2.irrep(2))
    assert verify(R(3 * phi + sp.pi / 2) * X, SO2.irrep(1), SO2.irrep(2))
    assert not verify(R(9 * phi), SO2.irrep(1), SO2.irrep(2))
    assert not verify(R(2 * phi), SO2.irrep(1), SO2.irrep(1))


def test_d4_wrong_phase_fails():
    D4 = dihedral_group(4)
    triv, sign, psi11 = D4.irrep(0, 0), D4.irrep(1, 0), D4.irrep(1, 1)
    # (0,0) -> (1,1): column [cos; sin](mu (phi - beta)) with gamma = 0; (1,0) -> (1,1): gamma = pi/2
    assert verify(column(phi - beta), triv, psi11)
    assert verify(column(-3 * (phi - beta)), triv, psi11)
    assert not verify(column(phi - beta + sp.pi / 2), triv, psi11)
    assert verify(column(phi - beta + sp.pi / 2), sign, psi11)
    assert not verify(column(phi - beta), sign, psi11)
    # (1,1) -> (1,0): row with gamma = pi/2
    assert verify(row(phi - beta + sp.pi / 2), psi11, sign)
    assert not verify(row(phi - beta), psi11, sign)
    # 1x1 (0,2) -> (1,2): gamma = pi/2, i.e. -sin(mu phi')
    assert verify(sp.Matrix([[sp.sin(4 * (phi - beta))]]), D4.irrep(0, 2), D4.irrep(1, 2))
    assert not verify(sp.Matrix([[sp.cos(4 * (phi - beta))]]), D4.irrep(0, 2), D4.irrep(1, 2))
    # 2x2: psichi(mu phi', s) has gamma = 0; a gamma = pi/2 version only holds for the rotations
    assert verify(R(2 * (phi - beta)) * X, psi11, psi11)
    assert verify(R(2 * phi + sp.pi / 2) * X, cyclic_group(4).irrep(1), cyclic_group(4).irrep(1))
    assert not verify(R(2 * (phi - beta) + sp.pi / 2) * X, psi11, psi11)


def test_wrong_s_fails():
    C8 = cyclic_group(8)
    psi1, psi2 = C8.irrep(1), C8.irrep(2)
    assert not verify(R(phi) * X, psi1, psi2)             # mu = m - n belongs to s = 0
    assert not verify(R(3 * phi), psi1, psi2)             # mu = m + n belongs to s = 1
    D4 = dihedral_group(4)
    psi11 = D4.irrep(1, 1)
    assert verify(R(0 * phi), psi11, psi11)
    assert not verify(X, psi11, psi11)
    assert not verify(R(2 * (phi - beta)), psi11, psi11)


def test_a_wrong_sign_on_one_entry_fails():
    C8 = cyclic_group(8)
    for good, psi_in, psi_out in ((R(phi), C8.irrep(1), C8.irrep(2)),
                                  (R(3 * phi) * X, C8.irrep(1), C8.irrep(2)),
                                  (R(2 * (phi - beta)) * X, dihedral_group(4).irrep(1, 1),
                                   dihedral_group(4).irrep(1, 1)),
                                  (R(phi - beta), o2_group(3).irrep(1, 1), o2_group(3).irrep(1, 2))):
        assert verify(good, psi_in, psi_out)
        for i in range(2):
            for j in range(2):
                bad = good.copy()
                bad[i, j] = -bad[i, j]
                assert not verify(bad, psi_in, psi_out), (good, i, j)
    # a column with one sign flipped
    assert not verify(sp.Matrix([sp.cos(phi), -sp.sin(phi)]), C8.irrep(0), C8.irrep(1))


def test_correct_element_checked_against_the_wrong_axis_fails():
    """A D4 element for beta = pi/2 holds for the axis pi/2 and fails for the axis 0.

    Moving the axis by pi/2 shifts the phase by mu pi/2, so the elements with odd mu are the ones that
    must fail (even mu only changes the sign, which is still a solution).  D4's only 2x2 pair has
    even mu, so a D8 2x2 pair is added."""
    D4, D8 = dihedral_group(4), dihedral_group(8)
    for G, psi_in, psi_out in ((D4, (0, 0), (1, 1)), (D4, (1, 1), (1, 0)), (D4, (1, 2), (1, 1)),
                               (D4, (1, 1), (0, 2)), (D8, (1, 1), (1, 2)), (D8, (1, 2), (1, 1))):
        psi_in, psi_out = G.irrep(*psi_in), G.irrep(*psi_out)
        odd = [e for e in _derive(G, psi_in, psi_out, 3, None) if e.mu % 2]
        assert odd, (psi_in, psi_out)
        for e in odd:
            A = e.matrix(phi, axis=sp.pi / 2)                 # beta = pi/2 substituted
            assert not A.free_symbols - {phi}
            assert verify(A, psi_in, psi_out, axis=sp.pi / 2)
            assert not verify(A, psi_in, psi_out, axis=0), (e.mu, e.s, e.gamma)
            # the same element written with the symbolic axis holds for every axis
            assert verify(e.matrix(phi, axis=beta), psi_in, psi_out, axis=beta)


def test_other_axis_symbol_is_accepted():
    D4 = dihedral_group(4)
    b = sp.Symbol("b", real=True)
    assert verify(column(phi - b), D4.irrep(0, 0), D4.irrep(1, 1), axis=b)
    assert not verify(column(phi - b + sp.pi / 2), D4.irrep(0, 0), D4.irrep(1, 1), axis=b)


@pytest.mark.parametrize("N", [3, 5, 6, 7])
def test_groups_whose_order_is_not_a_multiple_of_4(N):
    """The real and imaginary parts are reduced modulo Phi_N separately there."""
    C = cyclic_group(N)
    psi1 = C.irrep(1)
    assert verify(R((1 - 1) * phi), psi1, psi1)
    assert verify(R(N * phi), psi1, psi1)
    assert verify(R(N * phi + sp.pi / 2), psi1, psi1)
    assert verify(R((2 - N) * phi) * X, psi1, psi1)
    assert not verify(R(phi), psi1, psi1)
    assert not verify(R((N - 1) * phi + sp.pi / 2), psi1, psi1)
    assert not verify(R(phi) * X, psi1, psi1)
    D = dihedral_group(N)
    d11 = D.irrep(1, 1)
    assert verify(R(N * (phi - beta)), d11, d11)
    assert not verify(R(N * (phi - beta) + sp.pi / 2), d11, d11)


def test_irrational_coefficients():
    """Entries with a common factor sqrt(2) (docs/math.md, "Verifying an element exactly") are decided exactly too."""
    C8 = cyclic_group(8)
    assert verify(sp.sqrt(2) * column(phi), C8.irrep(0), C8.irrep(1))
    assert not verify(sp.sqrt(2) * column(2 * phi), C8.irrep(0), C8.irrep(1))
    C5 = cyclic_group(5)
    # C5 psi2 -> psi1: s = 0 needs mu = -1 (mod 5), s = 1 needs mu = 3 (mod 5)
    assert verify(sp.sqrt(2) * R(4 * phi), C5.irrep(2), C5.irrep(1))
    assert verify(sp.sqrt(2) * R(-6 * phi + sp.pi / 2), C5.irrep(2), C5.irrep(1))
    assert verify(sp.sqrt(2) * R(-2 * phi) * X, C5.irrep(2), C5.irrep(1))
    assert not verify(sp.sqrt(2) * R(6 * phi), C5.irrep(2), C5.irrep(1))
    assert not verify(sp.sqrt(2) * R(2 * phi), C5.irrep(2), C5.irrep(1))


def test_flip_group_controls():
    G = flip_group()
    triv, sign = G.irrep(0), G.irrep(1)
    assert verify(sp.Matrix([[sp.cos(3 * (phi - beta))]]), triv, triv)
    assert verify(sp.Matrix([[sp.sin(3 * (phi - beta))]]), triv, sign)
    assert not verify(sp.Matrix([[sp.cos(3 * (phi - beta))]]), triv, sign)
    assert not verify(sp.Matrix([[sp.sin(3 * (phi - beta))]]), triv, triv)
    assert not verify(sp.Matrix([[sp.Integer(1)]]), triv, sign)


def test_o2_controls():
    O2 = o2_group(3)
    assert verify(sp.Matrix([[1]]), O2.irrep(1, 0), O2.irrep(1, 0))
    assert not verify(sp.Matrix([[1]]), O2.irrep(0, 0), O2.irrep(1, 0))
    assert verify(row(2 * (phi - beta) + sp.pi / 2), O2.irrep(1, 2), O2.irrep(1, 0))
    assert not verify(row(2 * (phi - beta)), O2.irrep(1, 2), O2.irrep(1, 0))
    assert not verify(row(3 * (phi - beta) + sp.pi / 2), O2.irrep(1, 2), O2.irrep(1, 0))


# ---- invalid input ---------------------------------------------------------------------------------
def test_shape_mismatch_raises():
    C8 = cyclic_group(8)
    with pytest.raises(ValueError):
        verify(R(phi), C8.irrep(0), C8.irrep(1))          # 2x2 given, 2x1 expected
    with pytest.raises(ValueError):
        verify(row(phi), C8.irrep(0), C8.irrep(1))        # 1x2 given, 2x1 expected
    with pytest.raises(ValueError):
        verify(sp.Matrix([[sp.cos(phi)]]), C8.irrep(1), C8.irrep(1))


def test_irreps_of_different_groups_raise():
    with pytest.raises(ValueError):
        verify(R(phi), cyclic_group(4).irrep(1), cyclic_group(8).irrep(1))
    with pytest.raises(ValueError):
        verify(R(phi), cyclic_group(4).irrep(1), dihedral_group(4).irrep(1, 1))


def test_missing_irreps_for_a_matrix_raise():
    with pytest.raises(ValueError):
        verify(R(phi))


@pytest.mark.parametrize("entry", [sp.cos(phi / 2), phi ** 2, phi, sp.exp(phi), sp.cos(phi) ** sp.Rational(1, 2),
                                   sp.cos(sp.sqrt(2) * phi), sp.cos(phi * beta)],
                         ids=["cos(phi/2)", "phi**2", "phi", "exp(phi)", "sqrt(cos)", "cos(sqrt2 phi)", "cos(phi beta)"])
def test_non_trigonometric_input_raises(entry):
    C4 = cyclic_group(4)
    with pytest.raises(ValueError):
        verify(sp.Matrix([[entry]]), C4.irrep(0), C4.irrep(0))
    D4 = dihedral_group(4)
    with pytest.raises(ValueError):
        verify(sp.Matrix([[entry]]), D4.irrep(0, 0), D4.irrep(0, 0))
