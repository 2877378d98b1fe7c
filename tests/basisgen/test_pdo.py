"""basisgen.pdo: the steerable PDO bases, proved exactly and compared with e2cnn's polynomials.

Every polynomial of every irrep pair (order <= 4) is verified symbolically (basisgen.verify_pdo); a perturbed
polynomial is refuted; the exact coefficients equal the float ones; the bases' sizes and polynomials equal
e2cnn 0.2.3's (tests/fixtures/e2cnn/diffops.json, "bases").
"""
import json

import numpy as np
import pytest
import sympy as sp

import basisgen
from basisgen.pdo import PDOElement, derive_pdo_basis, laplacian_power, multiply, verify_pdo
from paths import E2CNN_FIXTURES

GROUPS = {"C1": lambda: basisgen.trivial_group(), "C3": lambda: basisgen.cyclic_group(3),
          "C4": lambda: basisgen.cyclic_group(4), "C8": lambda: basisgen.cyclic_group(8),
          "D3": lambda: basisgen.dihedral_group(3), "D4": lambda: basisgen.dihedral_group(4),
          "SO2": lambda: basisgen.so2_group(3), "O2": lambda: basisgen.o2_group(3),
          "Flip": lambda: basisgen.flip_group()}


def _pairs(G):
    for a in G.irreps:
        for b in G.irreps:
            try:
                yield a, b, derive_pdo_basis(G, a, b, maximum_order=4)
            except basisgen.EmptyBasisError:
                continue


@pytest.mark.parametrize("group", list(GROUPS))
def test_every_polynomial_is_proved_exact(group):
    G = GROUPS[group]()
    count = 0
    for _, _, basis in _pairs(G):
        for element in basis:
            assert verify_pdo(element), element
            exact = np.array([[[float(c) for c in p] for p in row] for row in element.coefficients()])
            np.testing.assert_allclose(exact, element.numeric_coefficients(), rtol=0, atol=1e-14)
            assert element.order <= 4 and element.order == abs(element.angular.mu) + 2 * element.power
            count += 1
    assert count > 0


@pytest.mark.parametrize("group", ["C4", "D4", "O2"])
def test_a_wrong_polynomial_is_refuted(group):
    """The verifier is not a rubber stamp: the element's polynomial with one coefficient changed, and the
    element turned by an angle that is not a symmetry, fail."""
    G = GROUPS[group]()
    x, y = sp.symbols("x y", real=True)
    phi, beta = sp.symbols("phi beta", real=True)
    refuted = 0
    for a, b, basis in _pairs(G):
        element = next((e for e in basis if e.angular.mu != 0), None)
        if element is None:
            continue
        P = element.polynomial(x, y)
        wrong = P + sp.ones(*P.shape) * x ** element.order
        M = wrong.subs({x: sp.cos(phi), y: sp.sin(phi)}, simultaneous=True)
        assert not basisgen.verify(M, a, b, axis=0, phi=phi)
        refuted += 1
    assert refuted > 2


def test_laplacian_and_products():
    x, y = sp.symbols("x y")
    for p in range(4):
        poly = sum(c * x ** (2 * p - j) * y ** j for j, c in enumerate(laplacian_power(p)))
        assert sp.expand(poly - (x ** 2 + y ** 2) ** p) == 0
    assert multiply((1, 2), (3, 0, 1)) == (3, 6, 1, 2)


def test_the_angle_turns_the_operator():
    """``numeric_coefficients(rotation)`` is the polynomial turned: P_a(v) = P_0(R(-a) v), at random points."""
    G = basisgen.cyclic_group(8)
    rng = np.random.default_rng(0)
    a = 0.37
    pts = rng.normal(size=(2, 5))
    turned = np.array([np.cos(a) * pts[0] + np.sin(a) * pts[1], -np.sin(a) * pts[0] + np.cos(a) * pts[1]])
    for element in derive_pdo_basis(G, G.irrep(1), G.irrep(2), maximum_order=3):
        n = element.order
        monomials = lambda v: np.stack([v[0] ** (n - j) * v[1] ** j for j in range(n + 1)])   # noqa: E731
        lhs = element.numeric_coefficients(a) @ monomials(pts)
        rhs = element.numeric_coefficients() @ monomials(turned)
        np.testing.assert_allclose(lhs, rhs, rtol=0, atol=1e-12)


def test_bad_arguments():
    G = basisgen.cyclic_group(4)
    with pytest.raises(ValueError, match="maximum_order"):
        derive_pdo_basis(G, G.irrep(0), G.irrep(0), maximum_order=-1)
    with pytest.raises(ValueError, match="in_irrep"):
        derive_pdo_basis(G, basisgen.cyclic_group(3).irrep(0), G.irrep(0), maximum_order=2)
    with pytest.raises(basisgen.EmptyBasisError):
        derive_pdo_basis(G, G.irrep(0), G.irrep(1), maximum_order=0)
    assert isinstance(derive_pdo_basis(G, G.irrep(0), G.irrep(0), maximum_order=0)[0], PDOElement)


# ---- against e2cnn's polynomials --------------------------------------------------------------------------
BASES = json.loads((E2CNN_FIXTURES / "diffops.json").read_text())["bases"]


def _e2cnn_group(name):
    return {"C4": basisgen.cyclic_group(4), "C8": basisgen.cyclic_group(8), "D4": basisgen.dihedral_group(4),
            "SO2_4": basisgen.so2_group(4), "O2_4": basisgen.o2_group(4), "Flip": basisgen.flip_group(),
            "Flip_axis45": basisgen.flip_group(), "D4_axis60": basisgen.dihedral_group(4), "C3": basisgen.cyclic_group(3),
            "D3": basisgen.dihedral_group(3), "Trivial": basisgen.trivial_group()}[name]


def _irrep(G, token):
    kind, _, arg = token.partition(":")
    if kind == "trivial":
        return G.trivial_representation.irreps[0]
    return G.irrep(*[int(v) for v in arg.split(",")])


@pytest.mark.parametrize("name", sorted(n for n, c in BASES.items() if c["dim"]))
def test_same_polynomials_as_e2cnn(name):
    """e2cnn's diffops_*_act_R2 pair every angular element with every Laplacian power (no order cap): the same
    elements, in the same order, with the same polynomials."""
    case = BASES[name]
    G = _e2cnn_group(case["gspace"])
    kwargs = case["kwargs"]
    if G.rotation_order == 1 and "max_frequency" not in kwargs:
        pytest.skip("with only an offset bound e2cnn lists cos(mu phi) under both signs of mu: the same operator "
                    "twice; the derivation keeps it once (layers always set a frequency bound)")
    axis = kwargs.get("axis", np.pi / 2) if G.has_reflection else 0.0
    angular = basisgen.pdo.angular_pdo_elements(G, _irrep(G, case["in"]), _irrep(G, case["out"]),
                                                kwargs.get("max_frequency"), kwargs.get("max_offset"))
    elements = [PDOElement(a.with_axis(axis), p) for a in angular for p in range(kwargs["max_power"] + 1)]
    theirs = [np.array(c) for c in case["coefficients"]]
    assert len(elements) == case["dim"] == len(theirs)
    for element, ref in zip(elements, theirs):
        ours = element.numeric_coefficients()
        np.testing.assert_allclose(np.where(np.abs(ours) < 1e-8, 0.0, ours), ref, rtol=0, atol=1e-12)
