r"""The kernel a convolution layer really samples for one irrep pair, stated in LaTeX.

The rules it states are those of docs/math.md, "Rings, widths and frequency cut-offs" and
docs/math.md, "Sampling and normalisation".

:func:`kernel_latex` states the basis exactly as :func:`~basisgen.sampling.sample_irreps_basis` builds it under
the layer's :class:`~basisgen.radial.BasisParams`: which angular elements each Gaussian ring keeps (its own
frequency cutoff, only ``mu = 0`` at the centre, none that are zero on the ring's pixels, none that a
``basis_filter`` rejects), the rings' radii and widths, the pixel grid, the normalisation and the number of
filters.  The elements are read off the sampled basis itself, so the formula cannot drift from the layer.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

from .checks import flag, is_int
from .derivation import _derive
from .errors import EmptyBasisError, InvalidTypeError, InvalidValueError
from .groups import Group
from .harmonics import HarmonicElement
from .irreps import Irrep
from .latex import _families, _frequency_form, _index_set, _resolve_irrep, element_latex
from .radial import BasisParams, basis_params
from .sampling import _lowest_frequency, band_limit, sample_irreps_basis

__all__ = ["kernel_latex"]

_GAUSSIAN = r"\exp\left(-\frac{(r - r_{i})^{2}}{2 \sigma_{i}^{2}}\right)"
_CENTRE = r"\text{the centre: only } \mu = 0 \text{ is possible}"


# ---- numbers ---------------------------------------------------------------------------------------
def _number(x: float) -> str:
    """A radius, width or cutoff, compactly: ``2``, ``0.6``, ``0.005`` (12 significant digits, no exponent)."""
    x = float(f"{float(x):.12g}")
    if x == int(x):
        return str(int(x))
    return np.format_float_positional(x, trim="-")


def _angle(beta: float) -> str:
    r"""The reflection axis: ``\frac{\pi}{2}`` for a small rational multiple of pi, else the number."""
    for q in range(1, 13):
        p = beta * q / math.pi
        if abs(p - round(p)) < 1e-12:   # the smallest such q: p / q in lowest terms
            p = int(round(p))
            if p == 0:
                return "0"
            sign, p = ("-" if p < 0 else ""), abs(p)
            top = r"\pi" if p == 1 else rf"{p}\pi"
            return sign + (top if q == 1 else rf"\frac{{{top}}}{{{q}}}")
    return _number(beta)


def _tuple(values: Sequence[str]) -> str:
    return "(" + ", ".join(values) + ")"


def _set(indices: Sequence[int]) -> str:
    return r"\{" + ", ".join(str(j) for j in indices) + r"\}" if indices else r"\emptyset"


# ---- what the layer samples -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Ring:
    """One ring: its parameters and, as indices into the pair's angular elements, the elements it keeps, those
    that are zero on its pixels (beyond the centre's rule), those the basis filter removes."""

    index: int
    radius: float
    sigma: float
    cutoff: float
    kept: Tuple[int, ...]
    vanished: Tuple[int, ...]
    filtered: Tuple[int, ...]
    centre_rule: bool      # radius 0, and no element with mu != 0 can be kept: the cutoff or the pixels rule it out
    candidates: Tuple[int, ...]


@dataclass(frozen=True)
class _Layer:
    group: Group
    psi_in: Irrep
    psi_out: Irrep
    params: BasisParams
    F: Optional[int]
    T: Optional[int]
    elements: Tuple[HarmonicElement, ...]
    rings: Tuple[_Ring, ...]
    count: int


def _sampled(group: Group, psi_in: Irrep, psi_out: Irrep, params: BasisParams) -> Tuple[Set[Tuple[int, int]], int]:
    """``{(ring, inner index)}`` of the sampled basis and its size (empty for an EmptyBasisError)."""
    try:
        basis = sample_irreps_basis(group, psi_in, psi_out, params)
    except EmptyBasisError:
        return set(), 0
    return {(a["ring"], a["inner_idx"]) for a in basis.attributes}, len(basis)


def _layer(group: Group, psi_in: Irrep, psi_out: Irrep, params: BasisParams) -> _Layer:
    F, T = band_limit(group, params), params.maximum_offset
    elements = tuple(_derive(group, psi_in, psi_out, F, T))
    kept, count = _sampled(group, psi_in, psi_out, params)
    unfiltered = kept if params.basis_filter is None else _sampled(
        group, psi_in, psi_out, replace(params, basis_filter=None))[0]
    rings = []
    for i, (radius, sigma, cutoff) in enumerate(zip(params.rings, params.sigmas, params.cutoffs)):
        candidates = tuple(j for j, e in enumerate(elements) if abs(e.mu) <= cutoff)
        kept_i = tuple(j for j in candidates if (i, j) in kept)
        # the centre's rule (only mu = 0 survives) shows when the cutoff or the pixels leave only mu = 0 there
        centre_rule = (radius == 0 and all(elements[j].mu == 0 for j in kept_i)
                       and (cutoff < 1 or any(elements[j].mu != 0 for j in candidates)))
        vanished = tuple(j for j in candidates if (i, j) not in unfiltered
                         and not (centre_rule and elements[j].mu != 0))
        filtered = tuple(j for j in candidates if (i, j) in unfiltered and (i, j) not in kept)
        rings.append(_Ring(i, radius, sigma, cutoff, kept_i, vanished, filtered, centre_rule, candidates))
    if sum(len(r.kept) for r in rings) != count:
        raise AssertionError(f"the sampled basis has {count} elements, not one per (ring, element) pair: "
                             f"{sorted(kept)}")
    return _Layer(group, psi_in, psi_out, params, F, T, elements, tuple(rings), count)


# ---- shared lines -----------------------------------------------------------------------------------
def _grid_line(params: BasisParams) -> str:
    """Where the filter is sampled: the pixel centres in polar coordinates, and the centre's rule."""
    k, d = params.kernel_size, params.dilation
    c = _number(d * (k - 1) / 2)
    scaled = "b" if d == 1 else f"{d}b"
    rows = "a" if d == 1 else f"{d}a"
    x = scaled if c == "0" else f"{scaled} - {c}"
    y = f"-{rows}" if c == "0" else f"{c} - {rows}"
    return (rf"& \text{{sampled at the pixels }} (x_{{p}}, y_{{p}}) = ({x}, {y}) = r_{{p}} (\cos\phi_{{p}}, "
            rf"\sin\phi_{{p}}),\ a, b \in \{{0, \dots, {k - 1}\}} \text{{ (row }} a \text{{, column }} b"
            r"\text{); } A(\phi_{p}) = 0 \text{ at } r_{p} = 0 \text{ if } \mu \ne 0")


def _norm_lines(layer: _Layer, sub: str) -> List[str]:
    """The normalisation Z and what it does, as :func:`~basisgen.sampling.assemble_basis` applies it."""
    k = layer.params.kernel_size
    return [rf"Z_{{{sub}}} &= \left(\frac{{1}}{{d_{{\text{{out}}}}}} \sum_{{p}} \exp\left(-\frac{{(r_{{p}} - "
            rf"r_{{i}})^{{2}}}}{{\sigma_{{i}}^{{2}}}}\right) \lVert {_element_symbol(layer, sub)}(\phi_{{p}}) "
            rf"\rVert_{{F}}^{{2}}\right)^{{1/2}},\ d_{{\text{{out}}}} = {layer.psi_out.dim}",
            rf"& \text{{so each filter has squared Frobenius norm }} d_{{\text{{out}}}} \text{{ on the }} "
            rf"{k} \times {k} \text{{ grid; a filter with }} Z_{{{sub}}} < 10^{{-6}} \text{{ is zero there and dropped}}"]


def _element_symbol(layer: _Layer, sub: str) -> str:
    if sub == "ij":
        return "A_{j}"
    return "A^{(k)}_{t}" if _has_t(layer.group) else "A^{(k)}"


def _has_t(group: Group) -> bool:
    return group.rotation_order is not None


def _count_line(layer: _Layer, prefix: str) -> str:
    noun = "basis filter" if layer.count == 1 else "basis filters"
    return rf"& {prefix} {layer.count} \text{{ {noun}}}"


def _axis_line(layer: _Layer) -> List[str]:
    if not layer.group.has_reflection:
        return []
    return [rf"& \beta = {_angle(layer.params.axis)} \text{{ (the reflection axis)}}"]


def _rule_line(layer: _Layer, kept: str, listed: str) -> str:
    """Which elements a ring keeps: ``kept``, less the ones that are zero on all its pixels (and those the basis
    filter rejects), which are ``listed``."""
    rejected = " and those the layer's basis filter rejects" if layer.params.basis_filter is not None else ""
    return rf"& {kept} \text{{ less those that are zero on every pixel of ring }} i\text{{{rejected} ({listed})}}"


# ---- concrete ---------------------------------------------------------------------------------------
def _ring_notes(layer: _Layer, ring: _Ring, name) -> List[str]:
    """What the ring line adds in words: the centre's rule, the dropped elements, an empty ring."""
    notes = []
    if ring.centre_rule:
        notes.append(_CENTRE)
    if ring.vanished:
        names = ", ".join(name(j) for j in ring.vanished)
        notes.append(names + r" \text{ " + ("is" if len(ring.vanished) == 1 else "are")
                     + r" zero on every pixel of this ring (dropped)}")
    if ring.filtered:
        notes.append(", ".join(name(j) for j in ring.filtered) + r" \text{ removed by the basis filter}")
    if not ring.kept:
        if ring.centre_rule and not any(layer.elements[j].mu == 0 for j in ring.candidates):
            notes.append(r"\text{keeps nothing: no element has } \mu = 0")
        elif not ring.candidates:
            notes.append(rf"\text{{keeps nothing: no element has }} |\mu| \le F_{{{ring.index}}}")
        else:
            notes.append(r"\text{keeps nothing}")
    return notes


def _used(layer: _Layer) -> List[int]:
    """The elements that some ring keeps, drops or filters out (every other one is above every cutoff)."""
    return sorted({j for r in layer.rings for j in r.kept + r.vanished + r.filtered})


def _concrete(layer: _Layer) -> str:
    used = _used(layer)
    number = {j: position for position, j in enumerate(used, start=1)}   # A_1, A_2, ... in the sampler's order
    lines = [r"\kappa(r, \phi) &= \sum_{i} \sum_{j \in J_{i}} w_{ij} \frac{1}{Z_{ij}} " + _GAUSSIAN + r" A_{j}(\phi)",
             _rule_line(layer, r"J_{i} = \{j : |\mu_{j}| \le F_{i}\}", "named on its line")]
    for ring in layer.rings:
        i = ring.index
        line = (rf"r_{{{i}}} &= {_number(ring.radius)},\ \sigma_{{{i}}} = {_number(ring.sigma)},\ "
                rf"F_{{{i}}} = {_number(ring.cutoff)},\ J_{{{i}}} = {_set([number[j] for j in ring.kept])}")
        notes = _ring_notes(layer, ring, lambda j: f"A_{{{number[j]}}}")
        lines.append(line + (r" \qquad " + r";\ ".join(notes) if notes else ""))
    for j in used:
        e = layer.elements[j]
        formula = element_latex(e, symbolic=False)
        lines.append(rf"A_{{{number[j]}}}(\phi) &= {formula}, \qquad \mu_{{{number[j]}}} = {e.mu}")
    lines += (_axis_line(layer) + [_grid_line(layer.params)] + _norm_lines(layer, "ij")
              + [_count_line(layer, r"\sum_{i} |J_{i}| =")])
    return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


# ---- symbolic ---------------------------------------------------------------------------------------
def _offset_set(members: Sequence[HarmonicElement], layer: _Layer, k: int) -> str:
    r"""``T_{ik} = \{t \in \mathbb{Z} : |m - n + tN| \le F_{i}\}``: the family's offsets on ring i."""
    text = _index_set(members, layer.F, layer.T)
    prefix = r"t \in \mathbb{Z}"
    if text.startswith(prefix):
        base, conditions = prefix, [c for c in text[len(prefix):].split(r",\ ") if c]
        conditions = [c.replace(r"\le F", r"\le F_{i}") if c.endswith(r"\le F") else c for c in conditions]
    else:   # an irregular set of offsets, listed
        base, conditions = text, []
    if not any(c.endswith(r"\le F_{i}") for c in conditions):
        conditions.append(rf"|{_frequency_form(members[0])}| \le F_{{i}}")
    return rf"T_{{i{k}}} = \{{{base} : " + r",\ ".join(conditions) + r"\}"


def _values_line(layer: _Layer) -> str:
    group, params = layer.group, layer.params
    values = []
    if group.rotation_order != 1:   # with N = 1, mu = t: m and n do not appear
        values += [f"m = {layer.psi_out.frequency}", f"n = {layer.psi_in.frequency}"]
    if group.rotation_order not in (None, 1):
        values.append(f"N = {group.rotation_order}")
    if _has_t(group) and layer.T is not None:
        values.append(rf"\hat{{T}} = {layer.T}")
    if group.has_reflection:
        values.append(rf"\beta = {_angle(params.axis)}")
    n = len(params.rings)
    for symbol, row in ((r"r", params.rings), (r"\sigma", params.sigmas), ("F", params.cutoffs)):
        values.append(_tuple([f"{symbol}_{{{i}}}" for i in range(n)]) + " = " + _tuple([_number(v) for v in row]))
    return r"& \text{with } " + r",\ ".join(values)


def _symbolic(layer: _Layer) -> str:
    used = _used(layer)
    families = [(formula, members) for formula, members in _families(layer.elements)
                if any(layer.elements.index(e) in used for e in members)]
    family_of: Dict[int, Tuple[int, HarmonicElement]] = {}
    for k, (_, members) in enumerate(families, start=1):
        for e in members:
            family_of[layer.elements.index(e)] = (k, e)
    finite = _has_t(layer.group)

    def name(j: int) -> str:
        k, e = family_of[j]
        return f"A^{{({k})}}_{{{e.t}}}" if finite else f"A^{{({k})}}"

    if finite:
        head = (r"\kappa(r, \phi) &= \sum_{i} \sum_{k} \sum_{t \in T_{ik}} w_{ikt} \frac{1}{Z_{ikt}} " + _GAUSSIAN
                + r" A^{(k)}_{t}(\phi)")
        kept = r"\text{ring } i \text{ keeps the } A^{(k)}_{t} \text{ with } t \in T_{ik}\text{,}"
        lines = [head, _rule_line(layer, kept, "named below")]
    else:
        head = (r"\kappa(r, \phi) &= \sum_{i} \sum_{k \in K_{i}} w_{ik} \frac{1}{Z_{ik}} " + _GAUSSIAN
                + r" A^{(k)}(\phi)")
        lines = [head, _rule_line(layer, r"K_{i} = \{k : |\mu_{k}| \le F_{i}\}", "named below")]
    for k, (formula, members) in enumerate(families, start=1):
        if finite:
            lines.append(rf"A^{{({k})}}_{{t}}(\phi) &= {formula}, \qquad {_offset_set(members, layer, k)}")
        else:
            lines.append(rf"A^{{({k})}}(\phi) &= {formula}, \qquad \mu_{{{k}}} = {_frequency_form(members[0])}")
    for ring in layer.rings:
        notes = _ring_notes(layer, ring, name)
        if notes:
            lines.append(rf"& \text{{ring }} {ring.index}\text{{ (}}r_{{{ring.index}}} = {_number(ring.radius)}"
                         r"\text{): }" + r";\ ".join(notes))
    sub = "ikt" if finite else "ik"
    lines += ([_grid_line(layer.params)] + _norm_lines(layer, sub)
              + [_count_line(layer, r"\text{in all }"), _values_line(layer)])
    return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


# ---- empty ------------------------------------------------------------------------------------------
def _empty(layer: _Layer) -> str:
    """``kappa = 0`` and why, in words."""
    lowest = _lowest_frequency(layer.group, layer.psi_in, layer.psi_out)
    cutoffs = _tuple([f"F_{{{i}}}" for i in range(len(layer.rings))]) + " = " + _tuple(
        [_number(r.cutoff) for r in layer.rings])
    if lowest is None:
        reason = r"\text{the kernel constraint admits only the zero kernel between these irreps}"
    elif not any(r.candidates for r in layer.rings):
        reason = (rf"\text{{no element has }} |\mu| \le F_{{i}} \text{{ on any ring: the lowest is }} "
                  rf"|\mu| = {lowest},\ {cutoffs}")
    elif any(r.filtered for r in layer.rings):
        reason = (r"\text{every element with } |\mu| \le F_{i} \text{ is zero on the pixels of ring } i"
                  r"\text{ or removed by the basis filter}")
    else:
        reason = (r"\text{every element with } |\mu| \le F_{i} \text{ is zero on the pixels of ring } i"
                  + (r"\text{ (only } \mu = 0 \text{ at the centre)}" if any(r.centre_rule for r in layer.rings)
                     else ""))
    return r"\kappa(r, \phi) = 0 \qquad " + reason


# ---- public -----------------------------------------------------------------------------------------
def _check_params(params: Any) -> BasisParams:
    if isinstance(params, BasisParams):
        return params
    if is_int(params):
        if params < 1:
            raise InvalidValueError(f"params must be a kernel size >= 1 or a BasisParams, got {params!r}")
        return basis_params(int(params))
    raise InvalidTypeError(f"params must be an int kernel size or a basisgen.radial.BasisParams (R2Conv's basis "
                           f"parameters, basis_params(...)), got {type(params).__name__} {params!r}")


def kernel_latex(group: Group, in_irrep: Any, out_irrep: Any, params: Any = 5, symbolic: bool = False) -> str:
    r"""The kernel a layer samples between two irreps, as LaTeX (math mode, no ``$``).

    Parameters
    ----------
    group:
        A basisgen :class:`~basisgen.groups.Group`.
    in_irrep, out_irrep:
        Irreps of ``group``, as :class:`~basisgen.irreps.Irrep` objects or their ids (``1``, ``(1, 1)``).
    params:
        A kernel size (R2Conv's defaults, :func:`~basisgen.radial.basis_params`) or the layer's own
        :class:`~basisgen.radial.BasisParams` (rings, widths, per-ring frequency cutoffs, dilation, filter).
    symbolic:
        If false (default), an ``aligned`` block with every ring's radius r_i, width sigma_i, cutoff F_i
        and kept elements J_i, every angular element A_j used, the sampling grid, the normalisation Z_ij
        and the number of filters.  If true, the same with the angular elements as families of aliases in
        m, n, N, t and a closing line with the layer's values.

    Returns
    -------
    str
        The formula; ``\kappa(r, \phi) = 0`` and the reason in words when the layer has no filter for this
        pair.  Its filters are exactly those of :func:`~basisgen.sampling.sample_irreps_basis` with ``params``,
        in the same order (ring by ring, ``j`` increasing).

    Examples
    --------
    C8, input irrep 1, output irrep 3, kernel size 5: four filters, mu = 2 on rings 1 and 2.

    >>> from basisgen import cyclic_group
    >>> print(kernel_latex(cyclic_group(8), 1, 3, 5))
    \begin{aligned}
    \kappa(r, \phi) &= \sum_{i} \sum_{j \in J_{i}} w_{ij} \frac{1}{Z_{ij}} \exp\left(-\frac{(r - r_{i})^{2}}{2 \sigma_{i}^{2}}\right) A_{j}(\phi) \\
    & J_{i} = \{j : |\mu_{j}| \le F_{i}\} \text{ less those that are zero on every pixel of ring } i\text{ (named on its line)} \\
    r_{0} &= 0,\ \sigma_{0} = 0.005,\ F_{0} = 0,\ J_{0} = \emptyset \qquad \text{the centre: only } \mu = 0 \text{ is possible};\ \text{keeps nothing: no element has } \mu = 0 \\
    r_{1} &= 1,\ \sigma_{1} = 0.6,\ F_{1} = 2,\ J_{1} = \{1, 2\} \\
    r_{2} &= 2,\ \sigma_{2} = 0.4,\ F_{2} = 2,\ J_{2} = \{1, 2\} \\
    A_{1}(\phi) &= \begin{bmatrix} \cos(2\phi) & -\sin(2\phi) \\ \sin(2\phi) & \cos(2\phi) \end{bmatrix}, \qquad \mu_{1} = 2 \\
    A_{2}(\phi) &= \begin{bmatrix} -\sin(2\phi) & -\cos(2\phi) \\ \cos(2\phi) & -\sin(2\phi) \end{bmatrix}, \qquad \mu_{2} = 2 \\
    & \text{sampled at the pixels } (x_{p}, y_{p}) = (b - 2, 2 - a) = r_{p} (\cos\phi_{p}, \sin\phi_{p}),\ a, b \in \{0, \dots, 4\} \text{ (row } a \text{, column } b\text{); } A(\phi_{p}) = 0 \text{ at } r_{p} = 0 \text{ if } \mu \ne 0 \\
    Z_{ij} &= \left(\frac{1}{d_{\text{out}}} \sum_{p} \exp\left(-\frac{(r_{p} - r_{i})^{2}}{\sigma_{i}^{2}}\right) \lVert A_{j}(\phi_{p}) \rVert_{F}^{2}\right)^{1/2},\ d_{\text{out}} = 2 \\
    & \text{so each filter has squared Frobenius norm } d_{\text{out}} \text{ on the } 5 \times 5 \text{ grid; a filter with } Z_{ij} < 10^{-6} \text{ is zero there and dropped} \\
    & \sum_{i} |J_{i}| = 4 \text{ basis filters}
    \end{aligned}
    """
    if not isinstance(group, Group):
        raise InvalidTypeError(f"group must be a basisgen Group (e.g. cyclic_group(8)), got {type(group).__name__}")
    psi_in = _resolve_irrep(group, in_irrep, "in_irrep")
    psi_out = _resolve_irrep(group, out_irrep, "out_irrep")
    params = _check_params(params).for_group(group)
    symbolic = flag(symbolic, "symbolic")
    layer = _layer(group, psi_in, psi_out, params)
    if layer.count == 0:
        return _empty(layer)
    return _symbolic(layer) if symbolic else _concrete(layer)
