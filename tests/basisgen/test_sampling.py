"""Sampled bases: e2cnn parity, the reference dimensions e2cnn gives (docs/math.md, "The tables"), grid equivariance."""
import ast
import json
import math
import re

import numpy as np
import pytest

import basisgen as bg
from basisgen.errors import EmptyBasisError
from basisgen.sampling import grid_coordinates, sample_basis, sample_irreps_basis
from paths import E2CNN_FIXTURES

DATA = E2CNN_FIXTURES
CONFIGS = json.loads((DATA / "bases.json").read_text())["configs"]


def _group(gspace: str):
    axis = re.search(r"axis=([-0-9.]+)", gspace)
    axis = float(axis.group(1)) if axis else None
    N = re.search(r"\((-?\d+)", gspace)
    if gspace.startswith("gspaces.FlipRot2dOnR2(-1"):
        return bg.o2_group(4), axis
    if gspace.startswith("gspaces.Rot2dOnR2(-1"):
        return bg.so2_group(4), axis
    if gspace.startswith("gspaces.FlipRot2dOnR2"):
        return bg.dihedral_group(int(N.group(1))), axis
    if gspace.startswith("gspaces.Rot2dOnR2"):
        return bg.cyclic_group(int(N.group(1))), axis
    if gspace.startswith("gspaces.Flip2dOnR2"):
        return bg.flip_group(), axis
    return bg.trivial_group(), axis


def _repr(G, expr: str):
    if expr == "gs.regular_repr":
        return G.regular_representation
    if expr == "gs.trivial_repr":
        return G.trivial_representation
    m = re.fullmatch(r"gs\.irrep\((.*)\)", expr)
    if m:
        return G.irrep_representation(*[int(x) for x in m.group(1).split(",")])
    m = re.fullmatch(r"gs\.quotient_repr\((.*)\)", expr)
    if m:
        return G.quotient_representation(ast.literal_eval(m.group(1)))
    assert "directsum" in expr
    return bg.directsum([G.irrep_representation(k) for k in (0, 1, 2)])


@pytest.mark.parametrize("config", CONFIGS, ids=[c["key"] for c in CONFIGS])
def test_equals_e2cnn_element_by_element(config):
    G, axis = _group(config["gspace"])
    kwargs = {k: v for k, v in config["conv_kwargs"].items() if k in ("frequencies_cutoff", "maximum_offset")}
    basis = sample_basis(_repr(G, config["in_repr_expr"]), _repr(G, config["out_repr_expr"]), config["kernel_size"],
                         dilation=config["dilation"], axis=axis, **kwargs)
    reference = np.load(DATA / "bases.npz")[config["key"]]
    ours = basis.array.reshape(reference.shape[:3] + (-1,)) if basis.array.shape[0] == reference.shape[0] \
        else basis.array
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, atol=1e-6)
    assert list(basis.params.rings) == config["rings"]
    assert list(basis.params.sigmas) == config["sigma"]
    for ours_attr, ref in zip(basis.attributes, config["attributes"]):
        assert ours_attr["frequency"] == ref["frequency"]
        assert ours_attr["gamma"] == pytest.approx(ref["gamma"])
        assert ours_attr["s"] == ref.get("s", 0)
        assert ours_attr["offset"] == ref.get("offset", 0)
        assert ours_attr["radius"] == ref["radius"] and ours_attr["sigma"] == ref["sigma"]
        assert (ours_attr["in_irrep"], ours_attr["out_irrep"]) == (ref["in_irrep"], ref["out_irrep"])
        assert (ours_attr["in_irrep_idx"], ours_attr["out_irrep_idx"]) == (ref["in_irrep_idx"], ref["out_irrep_idx"])
        assert ours_attr["inner_idx"] == ref["inner_idx"]
        assert ours_attr["angular_idx"] == ref["idx"]
        assert tuple(ours_attr["shape"]) == tuple(ref["shape"])


# ---- reference dimensions (as e2cnn gives them) ------------------------------------------------
REGULAR_DIMS = {  # group -> dims for k = 3, 5, 7, 9
    ("C", 4): (24, 44, 72, 124), ("C", 8): (48, 88, 144, 248),
    ("D", 4): (48, 88, 144, 248), ("D", 8): (96, 176, 288, 496),
}


@pytest.mark.parametrize("family,N", list(REGULAR_DIMS))
def test_regular_dimensions(family, N):
    G = bg.cyclic_group(N) if family == "C" else bg.dihedral_group(N)
    rho = G.regular_representation
    dims = tuple(len(sample_basis(rho, rho, k)) for k in (3, 5, 7, 9))
    assert dims == REGULAR_DIMS[(family, N)]


IRREP_DIMS = [  # (group, in id, out id, dims for k = 3, 5, 7, 9)
    ("SO2", (1,), (2,), (2, 4, 8, 12)), ("SO2", (0,), (2,), (2, 4, 6, 8)), ("SO2", (3,), (3,), (4, 6, 8, 12)),
    ("O2", (1, 1), (1, 2), (1, 2, 4, 6)), ("O2", (0, 0), (1, 2), (1, 2, 3, 4)), ("O2", (1, 0), (1, 1), (1, 2, 3, 4)),
    ("O2", (1, 2), (1, 0), (1, 2, 3, 4)), ("O2", (1, 1), (1, 1), (3, 5, 7, 9)),
]


@pytest.mark.parametrize("name,i,o,dims", IRREP_DIMS)
def test_continuous_irrep_dimensions(name, i, o, dims):
    G = bg.group_from_name(name, maximum_frequency=4)
    got = tuple(len(sample_irreps_basis(G, G.irrep(*i), G.irrep(*o), k)) for k in (3, 5, 7, 9))
    assert got == dims


def test_o2_trivial_to_sign_is_empty_at_every_frequency():
    G = bg.o2_group(2)
    with pytest.raises(EmptyBasisError, match="every frequency"):
        sample_irreps_basis(G, G.irrep(0, 0), G.irrep(1, 0), 5)


@pytest.mark.parametrize("name,k,triv_reg,reg_reg,triv_triv", [
    ("C4", 3, 6, 24, 2), ("C4", 5, 11, 44, 3), ("C4", 7, 18, 72, 4),
    ("C8", 3, 6, 48, 2), ("C16", 5, 11, 176, 3), ("C16", 7, 18, 288, 4),
    ("D4", 5, 11, 88, 3), ("D8", 7, 18, 288, 4),
    ("flip", 3, 6, 12, 4), ("flip", 5, 11, 22, 7), ("flip", 7, 18, 36, 11),
    ("trivial", 3, 6, 6, 6), ("trivial", 5, 11, 11, 11), ("trivial", 7, 18, 18, 18),
])
def test_api_reference_dimensions(name, k, triv_reg, reg_reg, triv_triv):
    G = bg.group_from_name(name)
    triv, reg = G.trivial_representation, G.regular_representation
    assert (len(sample_basis(triv, reg, k)), len(sample_basis(reg, reg, k)), len(sample_basis(triv, triv, k))) == \
        (triv_reg, reg_reg, triv_triv)


def test_further_cases_of_math_5_1():
    C8 = bg.cyclic_group(8)
    reg = C8.regular_representation
    assert len(sample_basis(reg, reg, 5, dilation=2)) == 168
    assert len(sample_basis(reg, reg, 7, frequencies_cutoff=1.0)) == 128
    assert len(sample_basis(C8.quotient_representation(2), reg, 5)) == 44
    D4 = bg.dihedral_group(4)
    assert len(sample_basis(D4.irrep_representation(1, 1), D4.regular_representation, 4)) == 10
    assert len(sample_basis(D4.regular_representation, D4.irrep_representation(0, 2), 6)) == 12


def test_worked_count_c8_k5_per_ring():
    reg = bg.cyclic_group(8).regular_representation
    rings = [a["ring"] for a in sample_basis(reg, reg, 5).attributes]
    assert [rings.count(r) for r in range(3)] == [8, 40, 40]


# ---- equivariance on the pixel grid (exact symmetries: rotations by 90 degrees and flips) ------------
def _pixel_permutation(k: int, dilation: int, matrix: np.ndarray) -> np.ndarray:
    """perm[p] = index of the pixel at matrix @ x_p."""
    x, y = grid_coordinates(k, dilation)
    pts = np.stack([x, y], 1)
    moved = pts @ matrix.T
    lookup = {(round(a, 6), round(b, 6)): i for i, (a, b) in enumerate(pts)}
    return np.array([lookup[(round(a, 6), round(b, 6))] for a, b in moved])


def _plane_matrix(G, element, axis):
    j, theta = G.element_action(element)
    R = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    if j:
        F = np.array([[math.cos(2 * axis), math.sin(2 * axis)], [math.sin(2 * axis), -math.cos(2 * axis)]])
        R = R @ F
    return np.round(R, 12)


def _grid_elements(G):
    """The group elements that map the square pixel grid onto itself."""
    if G.continuous:
        rot = [k * math.pi / 2 for k in range(4)]
        return rot if not G.has_reflection else [(j, t) for j in (0, 1) for t in rot]
    out = []
    for e in G.elements:
        _, theta = G.element_action(e)
        if abs(math.remainder(theta, math.pi / 2)) < 1e-12:
            out.append(e)
    return out


EQUIVARIANCE_CASES = [
    ("C4", "regular", "regular", 5, 1, None), ("C8", "regular", "regular", 7, 1, None),
    ("C8", "quotient2", "regular", 4, 1, None), ("C2", "regular", "irrep1", 3, 2, None),
    ("C1", "regular", "regular", 3, 1, None), ("D4", "regular", "regular", 5, 1, None),
    ("D4", "regular", "regular", 6, 1, 0.0), ("D8", "irrep1,1", "regular", 5, 1, None),
    ("D2", "regular", "regular", 4, 2, None), ("D1", "regular", "regular", 3, 1, 0.0),
    ("D6", "quotient(0,3)", "regular", 5, 1, None), ("flip", "regular", "regular", 5, 1, None),
    ("flip", "regular", "irrep1", 4, 1, 0.0), ("SO2", "irreps", "irreps", 5, 1, None),
    ("O2", "irreps", "irreps", 6, 1, None), ("O2", "irreps", "irreps", 5, 1, 0.0),
]


def _make_repr(G, spec):
    if spec == "regular":
        return G.regular_representation
    if spec == "irreps":
        return bg.directsum(list(map(bg.Representation.from_irrep, G.irreps)))
    if spec.startswith("irrep"):
        return G.irrep_representation(*[int(x) for x in spec[5:].split(",")])
    if spec == "quotient2":
        return G.quotient_representation(2)
    return G.quotient_representation(ast.literal_eval(spec[len("quotient"):]))


@pytest.mark.parametrize("name,ins,outs,k,dilation,axis", EQUIVARIANCE_CASES)
def test_sampled_kernels_are_equivariant_on_the_grid(name, ins, outs, k, dilation, axis):
    G = bg.group_from_name(name, maximum_frequency=3)
    rho_in, rho_out = _make_repr(G, ins), _make_repr(G, outs)
    basis = sample_basis(rho_in, rho_out, k, dilation=dilation, axis=axis)
    beta = basis.axis
    filters = basis.array.reshape(len(basis), rho_out.size, rho_in.size, -1)
    elements = _grid_elements(G)
    assert len(elements) >= 1
    for g in elements:
        perm = _pixel_permutation(k, dilation, _plane_matrix(G, g, beta))
        lhs = filters[..., perm]                                     # K(g x)
        rhs = np.einsum("oa,bacp,ci->boip", rho_out(g), filters, rho_in(g).T)
        err = np.abs(lhs - rhs).max()
        assert err < 1e-12, (g, err)


def test_float32_is_the_rounded_float64():
    reg = bg.dihedral_group(4).regular_representation
    b64 = sample_basis(reg, reg, 5)
    b32 = sample_basis(reg, reg, 5, dtype=np.float32)
    assert b64.array.dtype == np.float64 and b32.array.dtype == np.float32
    np.testing.assert_array_equal(b32.array, b64.array.astype(np.float32))


def test_normalisation_and_rank():
    reg = bg.cyclic_group(8).regular_representation
    b = sample_basis(reg, reg, 7)
    sq = (b.array.reshape(len(b), -1) ** 2).sum(1)
    d_out = np.array([a["shape"][0] for a in b.attributes])
    np.testing.assert_allclose(sq, d_out, rtol=1e-12)
    assert np.linalg.matrix_rank(b.array.reshape(len(b), -1)) == len(b)


def test_basis_filter_sees_attributes_and_filters():
    reg = bg.cyclic_group(4).regular_representation
    seen = []

    def only_gamma_zero(attrs):
        seen.append(attrs)
        return attrs["gamma"] == 0
    b = sample_basis(reg, reg, 5, basis_filter=only_gamma_zero)
    full = sample_basis(reg, reg, 5)
    assert 0 < len(b) < len(full)
    assert all(a["gamma"] == 0 for a in b.attributes)
    # e2cnn's keys exactly: ``s`` only on 2x2 blocks, ``offset`` on finite groups
    assert len(seen) > len(full)          # every element of the polar basis, before the band limit
    common = {"radius", "sigma", "idx", "frequency", "gamma", "offset", "shape", "in_irrep", "out_irrep",
              "in_irrep_idx", "out_irrep_idx", "inner_idx", "idx1", "idx2"}
    assert all(set(a) == common | ({"s"} if a["shape"] == (2, 2) else set()) for a in seen)
    assert [a["idx"] for a in seen] == list(range(len(seen)))


# ---- bad input -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,match", [
    (dict(kernel_size=0), "kernel_size"), (dict(kernel_size=-3), "kernel_size"), (dict(kernel_size=2.5), "kernel_size"),
    (dict(kernel_size=5, dilation=0), "dilation"), (dict(kernel_size=5, sigma=0.0), "sigma"),
    (dict(kernel_size=5, sigma=[0.5, 0.5]), "sigma"), (dict(kernel_size=5, rings=[0.0, 4.0]), "rings"),
    (dict(kernel_size=5, rings=[-1.0]), "rings"), (dict(kernel_size=5, rings=[]), "rings"),
    (dict(kernel_size=5, frequencies_cutoff=-4.0), "frequencies_cutoff"),
    (dict(kernel_size=5, frequencies_cutoff="high"), "frequencies_cutoff"),
    (dict(kernel_size=5, maximum_offset=-1), "maximum_offset"), (dict(kernel_size=5, dtype=np.int32), "dtype"),
    (dict(kernel_size=5, axis="vertical"), "axis"),
])
def test_bad_arguments_name_the_argument(kwargs, match):
    reg = bg.dihedral_group(4).regular_representation
    # a value of the wrong kind (kernel_size=2.5) is an InvalidTypeError, as R2Conv's check raises
    with pytest.raises((ValueError, TypeError), match=match):
        sample_basis(reg, reg, **kwargs)


def test_representations_of_different_groups_are_rejected():
    with pytest.raises(ValueError, match="share one group"):
        sample_basis(bg.cyclic_group(4).regular_representation, bg.cyclic_group(8).regular_representation, 3)
    with pytest.raises(ValueError, match="Representation"):
        sample_basis("regular", bg.cyclic_group(8).regular_representation, 3)


def test_empty_basis_says_what_would_work():
    reg = bg.cyclic_group(8).regular_representation
    with pytest.raises(EmptyBasisError, match=r"no pixel at the origin"):
        sample_basis(reg, reg, 2)
    G = bg.cyclic_group(8)
    with pytest.raises(EmptyBasisError, match=r"\|mu\| >= 4"):
        sample_irreps_basis(G, G.irrep(0), G.irrep(4), 3, frequencies_cutoff=-3.0)


def test_polar_basis_on_the_grid_gives_the_sampled_basis_after_filtering_and_normalising():
    from basisgen.polar import PolarBasis
    G = bg.dihedral_group(4)
    reg = G.regular_representation
    sampled = sample_basis(reg, reg, 5, axis=0.3)
    p = sampled.params
    polar = PolarBasis(reg, reg, p.rings, p.sigmas, p.maximum_frequency, axis=0.3)
    x, y = grid_coordinates(5)
    raw = polar.sample(np.stack([x, y]))                     # (c_out, c_in, dim, P)
    attrs = list(polar)
    assert raw.shape == (8, 8, polar.dim, 25) and len(attrs) == polar.dim
    for b, a in enumerate(sampled.attributes):
        element = raw[:, :, a["angular_idx"], :]
        assert attrs[a["angular_idx"]]["frequency"] == a["frequency"]
        scale = np.sqrt((element ** 2).sum() / a["shape"][0])
        np.testing.assert_allclose(element / scale, sampled.array[b].reshape(8, 8, 25), atol=1e-12)


def test_gspace_build_kernel_basis():
    from e2layers import gspaces
    gs = gspaces.Rot2dOnR2(8)
    basis = gs.build_kernel_basis(gs.regular_repr, gs.irrep(1), 0.6, [0.0, 1.0, 2.0], maximum_frequency=3)
    assert basis.shape == (2, 8) and basis.sample(np.array([[1.0, 0.5], [0.0, 2.0]])).shape == (2, 8, basis.dim, 2)
    with pytest.raises(ValueError, match="maximum_frequency"):
        gs.build_kernel_basis(gs.regular_repr, gs.irrep(1), 0.6, [1.0], max_freq=3)
