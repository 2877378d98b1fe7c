"""``basisgen gallery``: one self-contained HTML page of a group's steerable kernel basis.

For each irrep pair (or the one pair given), the page shows the pair's concrete angular elements
``A_j(phi)`` (:func:`basisgen.latex.pair_latex`) typeset as MathML, beside pictures of the sampled basis
at one kernel size: one picture per basis element (a Gaussian ring times one ``A_j``), labelled with its
ring and its ``A_j``, laid out like the matrix ``A_j`` (rows: output channels, columns: input channels),
in one symmetric diverging colour scale per pair.  The page needs nothing from the network: the formulas
are MathML (rendered natively by current browsers), the pictures PNG data URIs, the style a few inline
CSS rules.  Needs matplotlib (the ``plot`` extra) for the colour map and the PNG writer.
"""
from __future__ import annotations

import base64
import contextlib
import html
import importlib
import io
import math
import shlex
import sys
from pathlib import Path
from typing import Any, Optional, Sequence, Tuple

import click
import numpy as np

import basisgen
from basisgen import cache
from basisgen.derivation import derive_angular_basis
from basisgen.errors import EmptyBasisError
from basisgen.irreps import Irrep
from basisgen.latex import pair_latex
from basisgen.mathml import latex_to_mathml
from basisgen.radial import basis_params
from basisgen.sampling import SampledBasis

from .latex import parse_irrep_option
from .plot import MISSING_MATPLOTLIB, element_filter
from .tasks import format_size

#: the side, in screen pixels, that one k x k filter is drawn at (about)
FILTER_SIDE = 60
COLOUR_MAP = "RdBu_r"

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b; background: #fff;
       max-width: 84rem; margin: 1.5rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.15rem; margin: 0 0 .6rem; font-weight: 600; }
h2 .counts { font-size: .85rem; font-weight: normal; color: #555; margin-left: .6rem; }
header p, .note { max-width: 60rem; }
.note, .empty { color: #555; font-size: .9rem; margin: .3rem 0; }
nav ol { columns: 14rem; font-size: .9rem; padding-left: 1.5rem; }
section.pair { border-top: 1px solid #d0d0d0; padding: 1rem 0; }
.pair-body { display: flex; flex-wrap: wrap; gap: 1rem 2.5rem; align-items: flex-start; }
.formulas { flex: 1 1 28rem; min-width: 0; overflow-x: auto; }
.formulas math[display="block"] { margin: .4rem auto .4rem 0; width: fit-content; font-size: 1.1em; }
.filters { flex: 1 1 22rem; display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-end; }
figure { margin: 0; text-align: center; font-size: .8rem; }
figure img, .scale img { display: block; margin: 0 auto .2rem; image-rendering: pixelated; }
.scale { font-size: .75rem; color: #444; flex-basis: 100%; display: flex; align-items: center; gap: .4rem; }
.scale img { display: inline-block; margin: 0; border: 1px solid #999; }
code { font-size: .9em; }
"""


# ---- pictures ---------------------------------------------------------------------------------------------
def _colour_map():
    import matplotlib
    return matplotlib.colormaps[COLOUR_MAP]


def _png(rgba: np.ndarray) -> str:
    """An (H, W, 4) float image in [0, 1] as a PNG data URI."""
    import matplotlib.image
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, rgba, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _pixel(kernel_size: int) -> int:
    return max(3, math.ceil(FILTER_SIDE / kernel_size))


def filter_picture(filt: np.ndarray, scale: float) -> Tuple[str, int, int]:
    """One element's (c_out, c_in, k, k) filter as a PNG data URI and its width and height in pixels: the
    entries laid out like the matrix, each k x k sample drawn as a square of pixels, coloured on the
    symmetric scale ``[-scale, scale]``.  Needs matplotlib (the colour map and the PNG writer).

    For a (2, 1, 3, 3) filter: a 62 x 126 picture, two 60-pixel squares (20 pixels a sample) in 1-pixel
    frames, 4 pixels apart.
    """
    c_out, c_in, k, _ = filt.shape
    pixel = _pixel(k)
    side, gap = k * pixel, 4
    height, width = c_out * side + (c_out - 1) * gap + 2, c_in * side + (c_in - 1) * gap + 2
    image = np.ones((height, width, 4))
    colours = _colour_map()(np.clip(0.5 + 0.5 * filt / (scale or 1.0), 0.0, 1.0))
    for o in range(c_out):
        for i in range(c_in):
            y, x = 1 + o * (side + gap), 1 + i * (side + gap)
            image[y - 1:y + side + 1, x - 1:x + side + 1, :3] = 0.75     # a thin grey frame round each entry
            image[y:y + side, x:x + side] = np.repeat(np.repeat(colours[o, i], pixel, axis=0), pixel, axis=1)
    return _png(image), width, height


def _colour_bar(scale: float) -> str:
    ramp = _colour_map()(np.linspace(0.0, 1.0, 120))[None, :, :].repeat(10, axis=0)
    return (f'<div class="scale">colour scale <span>\u2212{scale:.3g}</span>'
            f'<img src="{_png(ramp)}" width="120" height="10" alt="colour scale from blue (negative) to red '
            f'(positive)"><span>+{scale:.3g}</span></div>')


# ---- one pair ---------------------------------------------------------------------------------------------
def _angular_elements(G: basisgen.Group, psi_in: Irrep, psi_out: Irrep, F: Optional[int]) -> tuple:
    """The pair's angular elements within the band F, in the formulas' order (empty: only the zero kernel)."""
    try:
        return derive_angular_basis(G, psi_in, psi_out, F)
    except EmptyBasisError:
        return ()


def _key(mu: Any, s: Any, t: Any, gamma: Any) -> Tuple[int, int, int, float]:
    return int(mu), int(s), int(t or 0), round(float(gamma), 9)


def _sample(store: cache.BasisCache, psi_in: Irrep, psi_out: Irrep, kernel_size: int
            ) -> Tuple[Optional[SampledBasis], str]:
    rho_in, rho_out = basisgen.Representation.from_irrep(psi_in), basisgen.Representation.from_irrep(psi_out)
    try:
        return store.get(rho_in, rho_out, kernel_size), ""
    except EmptyBasisError as err:
        return None, " ".join(str(err).split())


def _no_picture(elements: tuple, kernel_size: int, why: str) -> str:
    """Why a pair with formulas has no sampled element at this kernel size: its frequencies are all above the
    rings' cutoffs (the library's own message otherwise)."""
    cutoffs = basis_params(kernel_size).cutoffs
    lowest = min(abs(e.mu) for e in elements)
    if lowest <= max(cutoffs):
        return why
    return (f"the pair's lowest frequency |\u03bc| = {lowest} is above every ring's frequency cutoff "
            f"({', '.join(f'{c:g}' for c in cutoffs)}); a larger kernel size lets it through.")


def _m(tex: str) -> str:
    return latex_to_mathml(tex, display=False)


def irrep_tex(psi: Irrep) -> str:
    """An irrep by its ids, as the printers write it.

    >>> irrep_tex(basisgen.dihedral_group(4).irrep(1, 0))
    '\\\\psi_{1,0}'
    """
    return r"\psi_{" + ",".join(str(i) for i in psi.id) + "}"


def _anchor(psi_in: Irrep, psi_out: Irrep) -> str:
    return "pair-" + "_".join(map(str, psi_in.id)) + "-to-" + "_".join(map(str, psi_out.id))


def _pair_heading(psi_in: Irrep, psi_out: Irrep) -> str:
    return _m(rf"{irrep_tex(psi_in)} \to {irrep_tex(psi_out)}")


def pair_section(G: basisgen.Group, psi_in: Irrep, psi_out: Irrep, F: Optional[int], kernel_size: int,
                 store: cache.BasisCache) -> Tuple[str, int]:
    """The HTML ``<section>`` of one irrep pair, and the number of pictures in it."""
    formulas = pair_latex(G, psi_in, psi_out, F, symbolic=False)
    elements = _angular_elements(G, psi_in, psi_out, F)
    if len(elements) != len(formulas):    # the pictures' labels A_j count on one formula per element, in order
        raise RuntimeError(f"{len(formulas)} formulas but {len(elements)} angular elements for {psi_in.name} -> "
                           f"{psi_out.name} of {G.name}")
    basis, why = _sample(store, psi_in, psi_out, kernel_size)
    anchor, heading = _anchor(psi_in, psi_out), _pair_heading(psi_in, psi_out)
    counts = (f"{len(formulas)} angular element{'s' * (len(formulas) != 1)}, "
              + (f"{len(basis)} sampled basis element{'s' * (len(basis) != 1)}" if basis is not None
                 else "no sampled element"))
    if formulas:
        left = "".join(f'<div class="formula">{latex_to_mathml(f)}</div>' for f in formulas)
    else:
        left = (f'<p class="empty">Only the zero kernel: no non-zero kernel maps {html.escape(psi_in.name)} '
                f'to {html.escape(psi_out.name)}' + (f" with |\u03bc| \u2264 F = {F}" if F is not None else "")
                + ".</p>")
    if basis is None:
        reason = _no_picture(elements, kernel_size, why) if elements else "nothing to sample."
        right = f'<p class="note">No picture at kernel size {kernel_size}: {html.escape(reason)}</p>'
        pictures = 0
    else:
        numbers = {_key(e.mu, e.s, e.t, e.gamma): j for j, e in enumerate(elements, start=1)}
        filters = [element_filter(basis, b) for b in range(len(basis))]
        scale = max(float(np.abs(f).max()) for f in filters) or 1.0
        figures = []
        for attrs, filt in zip(basis.attributes, filters):
            j = numbers.get(_key(attrs["mu"], attrs["s"], attrs["t"], attrs["gamma"]))
            ring = f"ring {attrs['ring']} (r = {attrs['radius']:g})"
            if j is None:   # only when -F is below the sampled basis's band limit
                label, formula = f"\u03bc = {attrs['mu']} (|\u03bc| > F), {ring}", ""
                caption = html.escape(label)
            else:
                label, formula = f"A_{j}, {ring}", str(j)
                caption = f"{_m(f'A_{{{j}}}')}, {html.escape(ring)}"
            uri, width, height = filter_picture(filt, scale)
            figures.append(f'<figure data-ring="{attrs["ring"]}" data-formula="{formula}">'
                           f'<img src="{uri}" width="{width}" height="{height}" alt="{html.escape(label)}">'
                           f'<figcaption>{caption}</figcaption></figure>')
        right = _colour_bar(scale) + "".join(figures)
        pictures = len(figures)
    return (f'<section class="pair" id="{anchor}"><h2>{heading}<span class="counts">{html.escape(counts)}</span>'
            f'</h2><div class="pair-body"><div class="formulas">{left}</div><div class="filters">{right}</div>'
            f"</div></section>\n"), pictures


# ---- the page ---------------------------------------------------------------------------------------------
def _axis_text(axis: float) -> str:
    for value, text in ((math.pi / 2, "\u03c0/2"), (0.0, "0"), (math.pi, "\u03c0"), (math.pi / 4, "\u03c0/4")):
        if abs(axis - value) < 1e-12:
            return text
    return f"{axis:.6g}"


def gallery_page(G: basisgen.Group, pairs: Sequence[Tuple[Irrep, Irrep]], F: Optional[int], kernel_size: int,
                 store: cache.BasisCache, command: str, progress: bool = False) -> Tuple[str, int]:
    """The whole HTML page for ``pairs`` and the number of pictures on it; ``progress`` shows a progress bar
    over the pairs on stderr."""
    sections, pictures = [], 0
    bar = (click.progressbar(pairs, label=f"{G.name}: {len(pairs)} irrep pairs", file=sys.stderr, show_pos=True)
           if progress else contextlib.nullcontext(pairs))
    with bar as shown:
        for psi_in, psi_out in shown:
            text, count = pair_section(G, psi_in, psi_out, F, kernel_size, store)
            sections.append(text)
            pictures += count
    params = basis_params(kernel_size)
    rings = ", ".join(f"{r:g}" for r in params.rings)
    band = ("" if F is None else f" A finite group aliases frequencies: the formulas list the elements with "
            f"|\u03bc| \u2264 F = {F}.")
    axis = (f" \u03b2 is the reflection axis; the pictures use \u03b2 = "
            f"{_axis_text(params.for_group(G).axis)}." if G.has_reflection else "")
    picture = _m(r"\exp\left(-\frac{(r - r_{i})^{2}}{2 \sigma_{i}^{2}}\right) A_{j}(\phi)")
    pair, element = _m(r"\psi_{\text{in}} \to \psi_{\text{out}}"), _m(r"A_{j}(\phi)")
    nav = "".join(f'<li><a href="#{_anchor(a, b)}">{_pair_heading(a, b)}</a></li>' for a, b in pairs)
    title = f"Steerable kernel basis of {G.name}"
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, '
        f'initial-scale=1"><title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n'
        f"<header><h1>{html.escape(title)}</h1>\n"
        f"<p>Generated by <code>{html.escape(command)}</code>. For each pair of irreps "
        f"{pair}: left, the angular elements {element} of the kernel "
        f"basis in closed form.{html.escape(band)}{html.escape(axis)} Right, the sampled basis at kernel size "
        f"{kernel_size} (rings at radii {html.escape(rings)} pixels): each picture is one basis element "
        f"{picture} on the {kernel_size}\u00d7{kernel_size} grid (normalised), labelled with its ring and its "
        f"{_m('A_{j}')}, with one square per matrix entry laid out like {_m('A_{j}')} (rows: output channels, "
        f"columns: input channels). Colours: blue negative, white 0, red positive, on one symmetric scale per "
        f"pair.</p>\n"
        + (f"<nav><ol>{nav}</ol></nav>\n" if len(pairs) > 1 else "")
        + "</header>\n<main>\n" + "".join(sections) + "</main>\n</body></html>\n")
    return page, pictures


# ---- the command ------------------------------------------------------------------------------------------
def _group(name: str, irreps_up_to: int) -> basisgen.Group:
    try:
        return basisgen.group_from_name(name, maximum_frequency=irreps_up_to)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="GROUP") from None


@click.command(name="gallery", short_help="One self-contained HTML page: formulas beside sampled filters.")
@click.argument("group")
@click.option("--in", "in_irrep", help="Input irrep: an id (1 or 1,1) or irrep(1,1), irrep_1,1, trivial "
              "(with --out; default: every pair of the group).")
@click.option("--out", "out_irrep", help="Output irrep, as --in.")
@click.option("-F", "--maximum-frequency", type=click.IntRange(0),
              help="Band limit of the formulas (finite groups; default: the sampled basis's band limit at -k).")
@click.option("-L", "--irreps-up-to", default=3, show_default=True, type=click.IntRange(0),
              help="SO2/O2: the irreps (frequencies 0..L) that the page lists and --in/--out may name.")
@click.option("-k", "--kernel-size", default=5, show_default=True, type=click.IntRange(1),
              help="Kernel size of the sampled pictures.")
@click.option("-o", "--output", default="basis.html", show_default=True, type=click.Path(dir_okay=False),
              help="The HTML file to write.")
def gallery_command(group, in_irrep, out_irrep, maximum_frequency, irreps_up_to, kernel_size, output) -> None:
    """One self-contained HTML page of GROUP's steerable kernel basis: for each irrep pair, the closed-form
    angular elements A_j as MathML beside pictures of the sampled basis at kernel size -k, each labelled
    with its ring and its A_j.  The page loads nothing from the network (needs the plot extra to draw).

    \b
    Examples:
      basisgen gallery D4 -k 5 -o d4.html
      basisgen gallery C8 --in 1 --out 2 -F 8 -k 7 -o c8_1_2.html
      basisgen gallery SO2 -L 2 -o so2.html
    """
    G = _group(group, irreps_up_to)
    if (in_irrep is None) != (out_irrep is None):
        raise click.UsageError("give both --in and --out (one pair), or neither (every pair of the group)")
    if in_irrep is None:
        pairs = [(a, b) for a in G.irreps for b in G.irreps]
    else:
        pairs = [(parse_irrep_option(G, in_irrep, "--in"), parse_irrep_option(G, out_irrep, "--out"))]
    params = basis_params(kernel_size)      # checks the kernel size before anything is drawn
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        raise click.ClickException(MISSING_MATPLOTLIB) from None
    F = None if G.continuous else (maximum_frequency if maximum_frequency is not None else params.maximum_frequency)
    flags = ([f"--in {shlex.quote(str(in_irrep))} --out {shlex.quote(str(out_irrep))}"] * (in_irrep is not None)
             + [f"-F {maximum_frequency}"] * (maximum_frequency is not None)
             + [f"-L {irreps_up_to}"] * (G.continuous and irreps_up_to != 3))
    command = " ".join(["basisgen gallery", shlex.quote(group)] + flags + [f"-k {kernel_size}"])
    page, pictures = gallery_page(G, pairs, F, kernel_size, cache.BasisCache(), command, progress=len(pairs) > 1)
    path = Path(output)
    path.write_text(page, encoding="utf-8")
    click.echo(f"wrote {output}: {len(pairs)} irrep pair{'s' * (len(pairs) != 1)}, {pictures} pictures, "
               f"{format_size(path.stat().st_size)}")
