r"""The layer's kernel in LaTeX (basisgen/layer_latex.py), read back and resampled.

Every test parses the printed formula with a reader written here (ring radii, widths, cutoffs, the sets J_i,
the angular elements, the pixel grid, the reflection axis, the count), rebuilds the filters on the grid from
what it read, normalises them as the formula states, and compares them with what the layer samples
(``sample_irreps_basis(...).array``): same number, same filters up to sign.  The symbolic mode is expanded
with the values of its "with" line and compared the same way.
"""
import re
from functools import lru_cache

import numpy as np
import pytest
import sympy as sp

import basisgen as bg
from basisgen.errors import EmptyBasisError
from basisgen.layer_latex import kernel_latex
from basisgen.radial import basis_params
from basisgen.sampling import sample_irreps_basis
from test_latex import ALLOWED, render_with_katex, structural_problems

from latex_reader import A_, B_, BETA, NN, M, N_, PHI, T_, expression, parse_formula

#: the commands these formulas use beyond test_latex's allowlist (all in KaTeX and amsmath/amssymb)
COMMANDS = ALLOWED | {"lVert", "rVert", "emptyset", "times", "ne", "dots"}
ATOL = 1e-9


@lru_cache(maxsize=None)
def angular_function(tex: str):
    """``f(phi, beta, m, n, N, t) -> (rows, cols, P)``, numerically, for the printed element ``tex``."""
    matrix = parse_formula(tex)
    f = sp.lambdify((PHI, BETA, M, N_, NN, T_), matrix, "numpy")

    def evaluate(phi, beta=0.0, m=0, n=0, N=1, t=0):
        out = np.empty(matrix.shape + (len(phi),))
        value = f(phi, beta, m, n, N, t)
        for r in range(matrix.shape[0]):
            for c in range(matrix.shape[1]):
                out[r, c] = np.broadcast_to(np.asarray(value[r][c], dtype=float), phi.shape)
        return out
    return evaluate


def _float(text: str) -> float:
    assert re.fullmatch(r"-?\d+(\.\d+)?", text), text   # compact: no exponent, no trailing zeros
    assert not re.fullmatch(r"-?\d+\.\d*0", text), text
    return float(text)


def _lines(tex: str) -> list:
    lines = tex.split("\n")
    assert lines[0] == r"\begin{aligned}" and lines[-1] == r"\end{aligned}", tex
    body = [line[:-3] if line.endswith(r" \\") else line for line in lines[1:-1]]
    assert all(line.endswith(r" \\") for line in lines[1:-2]) and not lines[-2].endswith(r" \\")
    return body


def parse_grid(lines: list, k: int):
    """The pixel grid the formula states: (r_p, phi_p) of every pixel, row-major, from its (x_p, y_p) line."""
    [line] = [x for x in lines if x.startswith(r"& \text{sampled at the pixels }")]
    match = re.search(r"\(x_\{p\}, y_\{p\}\) = \((.*?), (.*?)\) = r_\{p\} \(\\cos\\phi_\{p\}, \\sin\\phi_\{p\}\),"
                      r"\\ a, b \\in \\\{0, \\dots, (\d+)\\\}", line)
    assert match, line
    assert int(match.group(3)) == k - 1
    assert line.endswith(r"A(\phi_{p}) = 0 \text{ at } r_{p} = 0 \text{ if } \mu \ne 0")
    a, b = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    x = sp.lambdify((A_, B_), expression(match.group(1)), "numpy")(a, b) + 0.0 * a
    y = sp.lambdify((A_, B_), expression(match.group(2)), "numpy")(a, b) + 0.0 * a
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    r = np.hypot(x, y)
    return r, np.where(r < 1e-9, 0.0, np.arctan2(y, x))


def parse_normalisation(lines: list, sub: str, element: str) -> int:
    """The stated normalisation (checked word for word against the rule this test implements): d_out."""
    [n] = [n for n, x in enumerate(lines) if x.startswith(rf"Z_{{{sub}}} &= ")]
    expected = (rf"Z_{{{sub}}} &= \left(\frac{{1}}{{d_{{\text{{out}}}}}} \sum_{{p}} \exp\left(-\frac{{(r_{{p}} - "
                rf"r_{{i}})^{{2}}}}{{\sigma_{{i}}^{{2}}}}\right) \lVert {element}(\phi_{{p}}) \rVert_{{F}}^{{2}}"
                rf"\right)^{{1/2}},\ d_{{\text{{out}}}} = ")
    assert lines[n].startswith(expected), lines[n]
    words = lines[n + 1]
    assert words.startswith(r"& \text{so each filter has squared Frobenius norm } d_{\text{out}}"), words
    assert words.endswith(rf"Z_{{{sub}}} < 10^{{-6}} \text{{ is zero there and dropped}}"), words
    return int(lines[n][len(expected):])


def parse_count(lines: list) -> int:
    r"""The stated number of filters: ``\sum_{i} |J_{i}| = 4`` (concrete) or ``\text{in all } 4`` (symbolic)."""
    match = re.fullmatch(r"& (?:\\sum_\{i\} \|J_\{i\}\| =|\\text\{in all \}) (\d+) \\text\{ basis filters?\}",
                         lines[-1] if lines[-1].startswith(r"& \sum") else lines[-2])
    assert match, lines[-2:]
    return int(match.group(1))


def build_filter(function, radius, sigma, r, phi, constant: bool, d_out: int, **values) -> np.ndarray:
    """exp(-(r - r_i)^2 / 2 sigma_i^2) A(phi) on the pixels, A = 0 at the centre unless constant, normalised as
    the formula states; None when the formula says it is dropped (Z < 1e-6)."""
    A = function(phi, **values)
    if not constant:
        A[..., r < 1e-9] = 0.0
    filt = np.exp(-(r - radius) ** 2 / (2 * sigma ** 2)) * A
    Z = np.sqrt(np.sum(filt ** 2) / d_out)
    assert Z >= 1e-6, "the formula keeps a filter that is zero on the grid"
    return filt / Z


def is_constant(function, **values) -> bool:
    probe = np.array([0.1, 0.9, 1.7, 2.6, 3.3, 4.4, 5.1, 5.9])
    A = function(probe, **values)
    return bool(np.allclose(A, A[..., :1], atol=1e-12))


# ---- the concrete formula ----------------------------------------------------------------------------
RING = re.compile(r"r_\{(\d+)\} &= ([-0-9.]+),\\ \\sigma_\{\1\} = ([-0-9.]+),\\ F_\{\1\} = ([-0-9.]+),\\ "
                  r"J_\{\1\} = (\\emptyset|\\\{[0-9, ]*\\\})( \\qquad .*)?")
ELEMENT = re.compile(r"A_\{(\d+)\}\(\\phi\) &= (.*), \\qquad \\mu_\{\1\} = (-?\d+)")


def read_concrete(tex: str, k: int) -> dict:
    lines = _lines(tex)
    assert lines[0] == (r"\kappa(r, \phi) &= \sum_{i} \sum_{j \in J_{i}} w_{ij} \frac{1}{Z_{ij}} "
                        r"\exp\left(-\frac{(r - r_{i})^{2}}{2 \sigma_{i}^{2}}\right) A_{j}(\phi)")
    assert lines[1].startswith(r"& J_{i} = \{j : |\mu_{j}| \le F_{i}\} \text{ less those that are zero on every "
                               r"pixel of ring } i")
    rings, elements, beta = [], {}, 0.0
    for line in lines[2:]:
        if (m := RING.fullmatch(line)):
            J = [] if m.group(5) == r"\emptyset" else [int(j) for j in m.group(5)[2:-2].split(",")]
            rings.append(dict(index=int(m.group(1)), radius=_float(m.group(2)), sigma=_float(m.group(3)),
                              cutoff=_float(m.group(4)), J=J, notes=m.group(6) or ""))
        elif (m := ELEMENT.fullmatch(line)):
            elements[int(m.group(1))] = (m.group(2), int(m.group(3)))
        elif line.startswith(r"& \beta = "):
            beta = float(expression(line[len(r"& \beta = "):-len(r" \text{ (the reflection axis)}")]))
    assert [ring["index"] for ring in rings] == list(range(len(rings)))
    assert sorted(elements) == list(range(1, len(elements) + 1)), "A_j numbered 1, 2, ... without gaps"
    r, phi = parse_grid(lines, k)
    return dict(rings=rings, elements=elements, beta=beta, r=r, phi=phi,
                d_out=parse_normalisation(lines, "ij", "A_{j}"), count=parse_count(lines))


def rebuild_concrete(tex: str, k: int) -> list:
    """The filters the concrete formula states, in its order (ring by ring, j increasing), with their rings."""
    read = read_concrete(tex, k)
    out = []
    for ring in read["rings"]:
        for j in ring["J"]:
            formula, mu = read["elements"][j]
            function = angular_function(formula)
            assert abs(mu) <= ring["cutoff"] + 1e-12, f"A_{j} (mu = {mu}) kept above F_{ring['index']}"
            constant = is_constant(function, beta=read["beta"])
            assert constant == (mu == 0), f"A_{j} is {'' if constant else 'not '}constant but mu = {mu}"
            out.append((ring["index"], build_filter(function, ring["radius"], ring["sigma"], read["r"], read["phi"],
                                                    constant, read["d_out"], beta=read["beta"])))
    assert read["count"] == len(out)
    if any(ring["radius"] == 0 for ring in read["rings"]):
        centre = [ring for ring in read["rings"] if ring["radius"] == 0][0]
        if all(read["elements"][j][1] == 0 for j in centre["J"]) and centre["cutoff"] < 1:
            assert r"\text{the centre: only } \mu = 0 \text{ is possible}" in centre["notes"]
    return out


# ---- the symbolic formula ----------------------------------------------------------------------------
FAMILY_T = re.compile(r"A\^\{\((\d+)\)\}_\{t\}\(\\phi\) &= (.*), \\qquad T_\{i\1\} = \\\{(.*?) : (.*)\\\}")
FAMILY = re.compile(r"A\^\{\((\d+)\)\}\(\\phi\) &= (.*), \\qquad \\mu_\{\1\} = (.*)")
RING_NOTE = re.compile(r"& \\text\{ring \} (\d+)\\text\{ \(\}r_\{\1\} = [0-9.]+\\text\{\): \}(.*)")
NAME = re.compile(r"A\^\{\((\d+)\)\}(?:_\{(-?\d+)\})?")


def _condition(text: str, values: dict) -> bool:
    py = (text.replace(r"\hat{T}", "T").replace("F_{i}", "F").replace(r"\le", "<=").replace(r"\ge", ">=")
          .replace("tN", "t*N"))
    py = re.sub(r"\|([^|]*)\|", r"abs(\1)", py)
    assert re.fullmatch(r"[-+*<=>() 0-9mnNtFTabs.]*", py), py
    return bool(eval(py, {"abs": abs, "__builtins__": {}}, values))


def _values(line: str) -> dict:
    assert line.startswith(r"& \text{with } "), line
    values = {}
    for item in line[len(r"& \text{with } "):].split(r",\ "):
        if item.startswith("("):
            names, numbers = item.split(" = ")
            symbol = re.match(r"\((\\sigma|r|F)_\{0\}", names).group(1).lstrip("\\")
            values[symbol] = [_float(x) for x in numbers[1:-1].split(", ")]
        else:
            name, value = item.split(" = ")
            values[{r"\hat{T}": "T"}.get(name, name.lstrip("\\"))] = (float(expression(value)) if name == r"\beta"
                                                                       else int(value))
    return values


def rebuild_symbolic(tex: str, k: int) -> list:
    """The filters the symbolic formula states: every family expanded with the printed values, ring by ring."""
    lines = _lines(tex)
    values = _values(lines[-1])
    finite = lines[0].startswith(r"\kappa(r, \phi) &= \sum_{i} \sum_{k} \sum_{t \in T_{ik}} w_{ikt}")
    rule = (r"& \text{ring } i \text{ keeps the } A^{(k)}_{t} \text{ with } t \in T_{ik}\text{,}" if finite
            else r"& K_{i} = \{k : |\mu_{k}| \le F_{i}\}")
    assert lines[1].startswith(rule + r" \text{ less those that are zero on every pixel of ring } i"), lines[1]
    numbers = {name: values[name] for name in ("m", "n", "N", "T") if name in values}
    families, notes = [], {}
    for line in lines[2:]:
        if finite and (m := FAMILY_T.fullmatch(line)):
            families.append((int(m.group(1)), m.group(2), m.group(3), m.group(4).split(r",\ ")))
        elif not finite and (m := FAMILY.fullmatch(line)):
            families.append((int(m.group(1)), m.group(2), None, [rf"|{m.group(3)}| \le F_{{i}}"]))
        elif (m := RING_NOTE.fullmatch(line)):
            notes[int(m.group(1))] = m.group(2)
    assert [f[0] for f in families] == list(range(1, len(families) + 1))
    r, phi = parse_grid(lines, k)
    sub, element = ("ikt", "A^{(k)}_{t}") if finite else ("ik", "A^{(k)}")
    d_out = parse_normalisation(lines, sub, element)
    out = []
    for i, (radius, sigma, cutoff) in enumerate(zip(values["r"], values["sigma"], values["F"])):
        removed = {(int(a), int(b) if b else 0) for a, b in NAME.findall(notes.get(i, ""))}
        centre = r"\text{the centre: only } \mu = 0 \text{ is possible}" in notes.get(i, "")
        for number, formula, base, conditions in families:
            if base is None or base == r"t \in \mathbb{Z}":
                ts = list(range(-60, 61)) if finite else [0]
            else:
                assert base.startswith(r"t \in \{"), base
                ts = [int(x) for x in base[len(r"t \in \{"):-2].split(",")]
            function = angular_function(formula)
            for t in ts:
                if not all(_condition(c, dict(numbers, F=cutoff, t=t)) for c in conditions):
                    continue
                if (number, t) in removed:
                    continue
                args = dict(beta=values.get("beta", 0.0), m=numbers.get("m", 0), n=numbers.get("n", 0),
                            N=numbers.get("N", 1), t=t)
                constant = is_constant(function, **args)
                if centre and not constant:
                    continue
                out.append((i, build_filter(function, radius, sigma, r, phi, constant, d_out, **args)))
    assert parse_count(lines) == len(out)
    return out


# ---- comparison with the layer's sampled basis --------------------------------------------------------
def sampled(group, psi_in, psi_out, params):
    try:
        basis = sample_irreps_basis(group, psi_in, psi_out, params)
    except EmptyBasisError:
        return []
    P = basis.params.kernel_size ** 2
    filters = basis.array.reshape(len(basis), basis.shape[1], basis.shape[2], P)
    return [(a["ring"], f) for a, f in zip(basis.attributes, filters)]


def same_up_to_sign(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and (np.allclose(a, b, rtol=0, atol=ATOL) or np.allclose(a, -b, rtol=0, atol=ATOL))


def assert_same_in_order(built: list, want: list):
    assert len(built) == len(want)
    for n, ((ring, f), (ring_want, g)) in enumerate(zip(built, want)):
        assert ring == ring_want, f"filter {n}: ring {ring}, the layer's is on ring {ring_want}"
        assert same_up_to_sign(f, g), f"filter {n} differs by {np.abs(f - g).max()}"


def assert_same_per_ring(built: list, want: list):
    """The same filters on every ring, in any order within the ring (the symbolic form does not fix it)."""
    assert len(built) == len(want)
    rings = {ring for ring, _ in want} | {ring for ring, _ in built}
    for ring in rings:
        mine = [f for r, f in built if r == ring]
        theirs = [g for r, g in want if r == ring]
        assert len(mine) == len(theirs), f"ring {ring}: {len(mine)} filters, the layer has {len(theirs)}"
        for f in mine:
            match = next((n for n, g in enumerate(theirs) if same_up_to_sign(f, g)), None)
            assert match is not None, f"ring {ring}: a stated filter is not among the layer's"
            theirs.pop(match)


def check_pair(group, psi_in, psi_out, params):
    params = params if isinstance(params, bg.BasisParams) else basis_params(params)
    k = params.kernel_size
    want = sampled(group, psi_in, psi_out, params)
    concrete = kernel_latex(group, psi_in, psi_out, params)
    symbolic = kernel_latex(group, psi_in, psi_out, params, symbolic=True)
    for tex in (concrete, symbolic):
        assert not structural_problems(tex, commands=COMMANDS), (tex, structural_problems(tex, commands=COMMANDS))
    if not want:
        assert concrete == symbolic and concrete.startswith(r"\kappa(r, \phi) = 0 \qquad \text{"), concrete
        return 0
    assert_same_in_order(rebuild_concrete(concrete, k), want)
    assert_same_per_ring(rebuild_symbolic(symbolic, k), want)
    return len(want)


GROUPS = {"C4": bg.cyclic_group(4), "C8": bg.cyclic_group(8), "D4": bg.dihedral_group(4), "SO2": bg.so2_group(3),
          "O2": bg.o2_group(3), "flip": bg.flip_group(), "trivial": bg.trivial_group()}


@pytest.mark.parametrize("name, k", [pytest.param(g, k, marks=[] if k == 5 and g in ("C8", "D4", "O2")
                                                    else [pytest.mark.slow])
                                     for g in GROUPS for k in (3, 5, 7)])       # the rest: the full suite only
def test_every_pair_restates_the_sampled_basis(name, k):
    group = GROUPS[name]
    counts = [check_pair(group, psi_in, psi_out, k) for psi_in in group.irreps for psi_out in group.irreps]
    assert sum(counts) > 0


CUSTOM = [basis_params(5, rings=[0, 1.5, 2.25], sigma=[0.3, 0.5, 0.35], frequencies_cutoff=1.5),
          basis_params(5, rings=[0, 0.1 + 0.2, 1.2, 2], sigma=0.45, frequencies_cutoff=lambda r: 3.0),
          basis_params(3, dilation=2, frequencies_cutoff=2.0),
          basis_params(5, maximum_offset=0),
          basis_params(5, basis_filter=lambda attrs: attrs["gamma"] == 0),
          basis_params(5, axis=0.3)]


@pytest.mark.parametrize("params", CUSTOM, ids=["rings-sigmas", "wide-centre", "dilation", "offset", "filter",
                                                "axis"])
@pytest.mark.parametrize("name", [pytest.param("C8", marks=pytest.mark.slow), "D4",
                                  pytest.param("O2", marks=pytest.mark.slow)])   # D4 in the quick subset
def test_custom_parameters_restate_the_sampled_basis(name, params):
    group = GROUPS[name]
    pairs = [(i, o) for i in group.irreps for o in group.irreps][::2]
    assert sum(check_pair(group, psi_in, psi_out, params) for psi_in, psi_out in pairs) > 0


# ---- what the formula says, by hand -------------------------------------------------------------------
def test_c8_1_to_3_has_four_filters_with_mu_2_on_rings_1_and_2():
    G = bg.cyclic_group(8)
    tex = kernel_latex(G, 1, 3, 5)
    read = read_concrete(tex, 5)
    assert read["count"] == 4 == len(sample_irreps_basis(G, G.irrep(1), G.irrep(3), 5))
    assert [(r["radius"], r["sigma"], r["cutoff"], r["J"]) for r in read["rings"]] == [
        (0, 0.005, 0, []), (1, 0.6, 2, [1, 2]), (2, 0.4, 2, [1, 2])]
    assert [mu for _, mu in read["elements"].values()] == [2, 2]
    assert r"\text{the centre: only } \mu = 0 \text{ is possible}" in read["rings"][0]["notes"]
    assert r"\text{keeps nothing: no element has } \mu = 0" in read["rings"][0]["notes"]
    assert r"(x_{p}, y_{p}) = (b - 2, 2 - a)" in tex and r"d_{\text{out}} = 2" in tex
    assert tex.endswith(r"& \sum_{i} |J_{i}| = 4 \text{ basis filters}" + "\n\\end{aligned}")
    symbolic = kernel_latex(G, G.irrep(1), G.irrep(3), basis_params(5), symbolic=True)
    assert symbolic.count(r"T_{i1} = \{t \in \mathbb{Z} : |m - n + tN| \le F_{i}\}") == 1
    assert _values(_lines(symbolic)[-1]) == {"m": 3, "n": 1, "N": 8, "r": [0, 1, 2], "sigma": [0.005, 0.6, 0.4],
                                             "F": [0, 2, 2]}


def test_elements_that_alias_to_zero_on_the_grid_are_named():
    # on a 3x3 grid the ring of radius 1 reaches the pixels at angles k pi / 4, where sin(4 phi) = 0
    G = bg.trivial_group()
    params = basis_params(3, frequencies_cutoff=4.0)
    tex = kernel_latex(G, 0, 0, params)
    read = read_concrete(tex, 3)
    dropped = [j for j, (formula, mu) in read["elements"].items() if formula == r"-\sin(4\phi)"]
    assert len(dropped) == 1 and read["elements"][dropped[0]][1] == 4
    ring = read["rings"][1]
    assert ring["cutoff"] == 4 and dropped[0] not in ring["J"] and len(ring["J"]) == 8
    assert rf"A_{{{dropped[0]}}} \text{{ is zero on every pixel of this ring (dropped)}}" in ring["notes"]
    assert read["count"] == 9 == len(sample_irreps_basis(G, G.irrep(0), G.irrep(0), params))
    symbolic = kernel_latex(G, 0, 0, params, symbolic=True)
    assert r"& \text{ring } 1\text{ (}r_{1} = 1\text{): }A^{(2)}_{4} \text{ is zero on every pixel" in symbolic
    assert check_pair(G, G.irrep(0), G.irrep(0), params) == 9


def test_the_basis_filter_is_named():
    G = bg.so2_group(3)
    params = basis_params(5, basis_filter=lambda attrs: attrs["gamma"] == 0)
    tex = kernel_latex(G, 1, 3, params)
    assert r"A_{2} \text{ removed by the basis filter}" in tex
    assert "and those the layer's basis filter rejects" in tex
    assert check_pair(G, G.irrep(1), G.irrep(3), params) == 2


def test_a_wide_centre_ring_keeps_what_survives_there():
    # a centre ring of width 1 reaches the neighbouring pixels: mu != 0 survives there and is stated
    G = bg.cyclic_group(4)
    params = basis_params(5, sigma=1.0, frequencies_cutoff=lambda r: 2.0)
    tex = kernel_latex(G, 0, 1, params)
    read = read_concrete(tex, 5)
    assert read["rings"][0]["J"] and r"\text{the centre" not in read["rings"][0]["notes"]
    assert check_pair(G, G.irrep(0), G.irrep(1), params) > 0
    # the same width-0.005 centre with cutoff 2 keeps only mu = 0: the rule, not the cutoff, rules mu != 0 out
    narrow = basis_params(5, frequencies_cutoff=lambda r: 2.0)
    read = read_concrete(kernel_latex(G, 1, 1, narrow), 5)
    centre = read["rings"][0]
    assert centre["cutoff"] == 2 and centre["notes"] == r" \qquad \text{the centre: only } \mu = 0 \text{ is possible}"
    assert centre["J"] and all(read["elements"][j][1] == 0 for j in centre["J"])
    assert any(mu == 2 for _, mu in read["elements"].values())
    assert check_pair(G, G.irrep(1), G.irrep(1), narrow) > 0


def test_numbers_are_compact():
    params = basis_params(5, rings=[0, 0.1 + 0.2, 2], sigma=[0.6, 0.6000000000001, 0.4],
                          frequencies_cutoff=lambda r: 2.5)
    tex = kernel_latex(bg.cyclic_group(4), 0, 0, params)
    assert r"r_{1} &= 0.3,\ \sigma_{1} = 0.6,\ F_{1} = 2.5" in tex
    assert "0000" not in tex and "e-" not in tex


@pytest.mark.parametrize("group, psi_in, psi_out, params, reason", [
    (bg.o2_group(3), (0, 0), (1, 0), 5, "admits only the zero kernel"),
    (bg.so2_group(3), 0, 3, 5, r"the lowest is } |\mu| = 3,\ (F_{0}, F_{1}, F_{2}) = (0, 2, 2)"),
    (bg.trivial_group(), 0, 0, 2, r"zero on the pixels of ring } i\text{ (only } \mu = 0 \text{ at the centre)}"),
    (bg.cyclic_group(4), 0, 1, basis_params(5, basis_filter=lambda a: False), "removed by the basis filter")])
def test_an_empty_basis_says_why(group, psi_in, psi_out, params, reason):
    for symbolic in (False, True):
        tex = kernel_latex(group, psi_in, psi_out, params, symbolic=symbolic)
        assert tex.startswith(r"\kappa(r, \phi) = 0 \qquad \text{") and reason in tex, tex
        assert not structural_problems(tex, commands=COMMANDS)
    with pytest.raises(EmptyBasisError):
        sample_irreps_basis(group, group.irrep(*(psi_in if isinstance(psi_in, tuple) else (psi_in,))),
                            group.irrep(*(psi_out if isinstance(psi_out, tuple) else (psi_out,))),
                            params if isinstance(params, bg.BasisParams) else basis_params(params))


# ---- the reader can fail ------------------------------------------------------------------------------
def test_the_reader_catches_a_wrong_formula():
    G = bg.cyclic_group(8)
    psi_in, psi_out = G.irrep(1), G.irrep(3)
    want = sampled(G, psi_in, psi_out, basis_params(5))
    tex = kernel_latex(G, psi_in, psi_out, 5)
    assert_same_in_order(rebuild_concrete(tex, 5), want)
    for a, b in ((r"\sigma_{2} = 0.4", r"\sigma_{2} = 0.5"), (r"r_{1} &= 1,", r"r_{1} &= 1.1,"),
                 (r"\cos(2\phi) & -\sin(2\phi)", r"\cos(2\phi) & \sin(2\phi)"), ("(b - 2, 2 - a)", "(b - 2, a - 2)"),
                 (r"J_{2} = \{1, 2\}", r"J_{2} = \{1\}"), ("= 4 \\text{ basis", "= 5 \\text{ basis"),
                 (r"d_{\text{out}} = 2", r"d_{\text{out}} = 1")):
        assert a in tex, a
        with pytest.raises(AssertionError):
            assert_same_in_order(rebuild_concrete(tex.replace(a, b), 5), want)
    symbolic = kernel_latex(G, psi_in, psi_out, 5, symbolic=True)
    assert_same_per_ring(rebuild_symbolic(symbolic, 5), want)
    for a, b in ((r"|m - n + tN| \le F_{i}\} \\", r"|m + n + tN| \le F_{i}\} \\"), ("N = 8", "N = 4"),
                 ("(0, 2, 2)", "(0, 2, 1)")):
        assert a in symbolic, a
        with pytest.raises(AssertionError):
            assert_same_per_ring(rebuild_symbolic(symbolic.replace(a, b), 5), want)


# ---- LaTeX that KaTeX and amsmath accept ----------------------------------------------------------------
def formulas() -> list:
    """One formula of every kind: plain, with reflections, continuous, aliased, empty, filtered; both modes."""
    return [kernel_latex(G, i, o, p, symbolic=s) for G, i, o, p in (
        (bg.cyclic_group(8), 1, 3, 5), (bg.dihedral_group(4), (1, 1), (1, 1), 7), (bg.o2_group(3), (1, 1), (1, 2), 5),
        (bg.trivial_group(), 0, 0, basis_params(3, frequencies_cutoff=4.0)), (bg.so2_group(3), 0, 3, 5),
        (bg.so2_group(3), 1, 3, basis_params(5, basis_filter=lambda a: a["gamma"] == 0)),
        (bg.flip_group(), 1, 0, basis_params(5, maximum_offset=1))) for s in (False, True)]


@pytest.mark.slow     # node + KaTeX: the full suite
def test_katex_renders_the_formulas():
    errors = render_with_katex(formulas() + [r"\lVert x \rVert_{F} \notacommand"])
    assert errors[-1] is not None, "KaTeX accepted broken LaTeX: the check cannot fail"
    assert errors[:-1] == [None] * (len(errors) - 1), [e for e in errors if e]


def test_formulas_compile_with_pdflatex(tmp_path):
    import shutil
    import subprocess
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not on PATH")
    doc = ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\usepackage[paperwidth=90cm,"
           "paperheight=120cm,margin=1cm]{geometry}\n\\begin{document}\n"
           + "\n".join(f"\\[\n{f}\n\\]" for f in formulas()) + "\n\\end{document}\n")
    (tmp_path / "kernel.tex").write_text(doc)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "kernel.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]


# ---- bad input ---------------------------------------------------------------------------------------
def test_bad_arguments_name_themselves():
    C4 = bg.cyclic_group(4)
    with pytest.raises(TypeError, match="group"):
        kernel_latex("C4", 0, 0)
    for params in ("5", 2.5, None, True, [5]):
        with pytest.raises(TypeError, match="params"):
            kernel_latex(C4, 0, 0, params)
    for params in (0, -3):
        with pytest.raises(ValueError, match="params"):
            kernel_latex(C4, 0, 0, params)
    from basisgen.pdo_sampling import diffop_params
    with pytest.raises(TypeError, match="params"):
        kernel_latex(C4, 0, 0, diffop_params(5, maximum_order=2))
    for symbolic in ("yes", None, 2):
        with pytest.raises(TypeError, match="symbolic"):
            kernel_latex(C4, 0, 0, 5, symbolic=symbolic)
    with pytest.raises(ValueError, match="in_irrep"):
        kernel_latex(C4, 7, 0)
    with pytest.raises(ValueError, match="out_irrep"):
        kernel_latex(C4, 0, bg.cyclic_group(8).irrep(3))
