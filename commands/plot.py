"""The picture of ``basisgen plot`` (a helper of ``cli.py``): sampled basis filters as a labelled grid of images.

:func:`plot_layout` decides everything without drawing: one row per basis element and one column per
matrix entry ``[o, i]`` (output row o, input column i), the elements wrapped into several
element-columns when that keeps the figure page-shaped (width / height between 3:4 and 16:9, at most
10 inches wide); each element labelled with its number in the basis (0-based, as ``basisgen inspect``
numbers it), its ring (for PDOs its order n and Laplacian power p), mu, gamma and, for finite groups, t;
entries that are identically zero flagged (drawn as a grey panel with a "0"); one symmetric colour scale
for the whole figure.  :func:`draw_layout` draws it (diverging map centred on 0, one colour bar) and
:func:`plot_basis` writes the PNG.  Drawing needs matplotlib (the ``plot`` extra), imported by those two
only; :func:`element_filter` and :func:`plot_layout` need numpy alone.
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, Tuple

import numpy as np

from basisgen.errors import InvalidValueError
from basisgen.pdo_sampling import DiffopParams
from basisgen.sampling import SampledBasis

MISSING_MATPLOTLIB = ("basisgen plot needs matplotlib, which is not installed: pip install 'e2layers[plot]' "
                      "(or pip install matplotlib)")

ZERO_TOLERANCE = 1e-12                  # an entry is zero when its max |value| <= this times the figure's scale
ASPECT_BOUNDS = (3 / 4, 16 / 9)         # the page-like range of width / height
COLOUR_MAP = "RdBu_r"                   # diverging: blue negative, white 0, red positive
ZERO_GREY = "#e4e4e4"

# geometry, in inches
MAX_WIDTH, MAX_HEIGHT = 10.0, 13.0
PANEL_MAX, PANEL_MIN, PANEL_FLOOR = 0.95, 0.5, 0.04
ENTRY_GAP, ROW_GAP, BLOCK_GAP = 0.06, 0.14, 0.3
LABEL_WIDTH, LABEL_LINE = 0.95, 0.125   # the element labels left of each element's panels
SUBROW_WIDTH = 0.38                     # the "[o, :]" labels of matrix-shaped elements
MARGIN, BOTTOM = 0.1, 0.2
TITLE_PAD, TITLE_LINE, TITLE_CHAR = 0.1, 0.19, 0.076
HEADER_HEIGHT = 0.2
COLOURBAR_GAP, COLOURBAR_WIDTH, COLOURBAR_TICKS, COLOURBAR_MAX = 0.25, 0.14, 0.55, 4.0
COLOURBAR_RIGHT = COLOURBAR_GAP + COLOURBAR_WIDTH + COLOURBAR_TICKS        # the width a colour bar on the right takes
COLOURBAR_BELOW = COLOURBAR_GAP + COLOURBAR_WIDTH + 0.25                   # the height one below the panels takes


def element_filter(basis: SampledBasis, b: int) -> np.ndarray:
    """Element ``b`` as a (c_out, c_in, k, k) float64 filter, without expanding the whole basis.

    >>> from basisgen import cyclic_group, sample_basis
    >>> rho = cyclic_group(4).regular_representation
    >>> element_filter(sample_basis(rho, rho, kernel_size=3), 0).shape
    (4, 4, 3, 3)
    """
    oo, ii = int(basis.out_index[b]), int(basis.in_index[b])
    out_pos = int(np.sum(basis.out_irrep_dims[:oo]))
    in_pos = int(np.sum(basis.in_irrep_dims[:ii]))
    do, di = basis.out_irrep_dims[oo], basis.in_irrep_dims[ii]
    q_out = np.asarray(basis.change_of_basis_out, dtype=np.float64)[:, out_pos:out_pos + do]
    q_in_inv = np.asarray(basis.change_of_basis_in_inv, dtype=np.float64)[in_pos:in_pos + di, :]
    block = np.asarray(basis.blocks[b, :do, :di], dtype=np.float64)
    k = basis.params.kernel_size
    return np.einsum("ca,abp,bd->cdp", q_out, block, q_in_inv).reshape(q_out.shape[0], q_in_inv.shape[1], k, k)


def _radial_label(basis: SampledBasis, attrs: dict) -> str:
    """``ring 2`` for a kernel element; ``n=3, p=1`` (order, Laplacian power) for a PDO, whose rings are its
    Laplacian powers."""
    if isinstance(basis.params, DiffopParams):
        return f"n={abs(attrs['mu']) + 2 * attrs['ring']}, p={attrs['ring']}"
    return f"ring {attrs['ring']}"


def gamma_text(gamma: float) -> str:
    """gamma as it reads in a label: ``0``, ``π/2`` (the only values it takes), anything else to 3 digits.

    >>> gamma_text(0.0), gamma_text(1.5707963267948966), gamma_text(1.0)
    ('0', 'π/2', '1')
    """
    if abs(gamma) < 1e-9:
        return "0"
    if abs(gamma - math.pi / 2) < 1e-9:
        return "\u03c0/2"
    return f"{gamma:.3g}"


def element_label(basis: SampledBasis, b: int, finite: bool = False) -> str:
    """The label of element ``b`` (0-based, as ``basisgen inspect`` numbers it), one item a line: ``#b``, its
    ring (for PDOs ``n=.., p=..``), ``μ=.., γ=..`` and, for a finite group (``finite``), its offset ``t=..``.

    >>> from basisgen import Representation, cyclic_group, sample_basis
    >>> rho = Representation.from_irrep(cyclic_group(8).irreps[1])
    >>> print(element_label(sample_basis(rho, rho, kernel_size=9), 14, finite=True))
    #14
    ring 3
    μ=-6, γ=π/2
    t=-1
    """
    attrs = basis.attributes[b]
    lines = [f"#{b}", _radial_label(basis, attrs), f"\u03bc={attrs['mu']}, \u03b3={gamma_text(attrs['gamma'])}"]
    if finite:
        lines.append(f"t={attrs['t']}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Box:
    """A rectangle of the figure in inches, measured from the figure's top-left corner."""

    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True, eq=False)
class PlotLayout:
    """Everything :func:`draw_layout` draws, decided without drawing (see :func:`plot_layout`).

    ``panels[n][e]`` is the box of element ``elements[n]``'s matrix entry ``entries[e]``, ``zero[n][e]``
    whether that entry is identically zero; ``labels[n]`` stands right-aligned at ``label_anchors[n]``
    (x of its right edge, y of its centre); ``headers`` and ``row_headers`` are (text, x, y) of the
    column headers ``[o, i]`` (bottom-centred) and, for matrix-shaped elements, the row headers
    ``[o, :]`` (right-aligned, centred); ``scale`` is s of the one colour scale [-s, s].
    """

    elements: Tuple[int, ...]
    labels: Tuple[str, ...]
    entries: Tuple[Tuple[int, int], ...]
    zero: Tuple[Tuple[bool, ...], ...]
    scale: float
    element_columns: int
    rows: int
    panel_size: float
    figure_size: Tuple[float, float]
    title_lines: Tuple[str, ...]
    panels: Tuple[Tuple[Box, ...], ...]
    label_anchors: Tuple[Tuple[float, float], ...]
    headers: Tuple[Tuple[str, float, float], ...]
    row_headers: Tuple[Tuple[str, float, float], ...]
    colourbar: Box
    filters: np.ndarray = field(repr=False)          # (len(elements), c_out, c_in, k, k)

    @property
    def entries_as_matrix(self) -> bool:
        """Whether each element's entries stand as a c_out x c_in matrix of panels (else in one row)."""
        return bool(self.row_headers)

    @property
    def aspect(self) -> float:
        """Width / height of the figure."""
        return self.figure_size[0] / self.figure_size[1]


@dataclass(frozen=True)
class _Grid:
    """The geometry of one choice of element-columns."""

    block: Tuple[int, int]      # the panels of one element: 1 x entries (a row) or c_out x c_in (a matrix)
    colourbar_below: bool       # below the panels (else on their right)
    columns: int
    rows: int
    panel: float
    width: float
    height: float
    top: float                  # where the first row of panels begins
    title_lines: Tuple[str, ...]


def _grid(count: int, columns: int, block: Tuple[int, int], colourbar_below: bool, label_lines: int, headers: bool,
          title: str) -> _Grid:
    """The largest panels for ``count`` elements in ``columns`` element-columns within MAX_WIDTH x MAX_HEIGHT
    (never below PANEL_FLOOR), and the figure's size with them."""
    block_rows, block_cols = block
    rows = -(-count // columns)
    fixed_width = (2 * MARGIN + columns * (LABEL_WIDTH + SUBROW_WIDTH * (block_rows > 1)
                                           + (block_cols - 1) * ENTRY_GAP)
                   + (columns - 1) * BLOCK_GAP + COLOURBAR_RIGHT * (not colourbar_below))
    panel = min(PANEL_MAX, (MAX_WIDTH - fixed_width) / (columns * block_cols))
    label_height = label_lines * LABEL_LINE

    def sized(panel: float) -> _Grid:
        width = fixed_width + columns * block_cols * panel
        lines = tuple(textwrap.wrap(title, max(20, int((width - 2 * MARGIN) / TITLE_CHAR)))) if title else ()
        top = TITLE_PAD + len(lines) * TITLE_LINE + TITLE_PAD + HEADER_HEIGHT * headers
        row = max(block_rows * panel + (block_rows - 1) * ENTRY_GAP, label_height) + ROW_GAP
        height = top + rows * row - ROW_GAP + COLOURBAR_BELOW * colourbar_below + BOTTOM
        return _Grid(block, colourbar_below, columns, rows, panel, width, height, top, lines)

    grid = sized(max(panel, PANEL_FLOOR))
    if grid.height > MAX_HEIGHT:           # shrink the panels to the height, as far as the labels allow
        spare = ((MAX_HEIGHT - grid.top - BOTTOM - COLOURBAR_BELOW * colourbar_below + ROW_GAP) / rows - ROW_GAP
                 - (block_rows - 1) * ENTRY_GAP)
        grid = sized(max(min(panel, spare / block_rows), PANEL_FLOOR))
    return grid


def _choose_grid(count: int, shape: Tuple[int, int], label_lines: int, title: str) -> _Grid:
    """The arrangement that gives the most page-like figure, for ``count`` elements of ``shape`` (c_out, c_in):
    each element's entries in a row (or, for c_out, c_in > 1, as a matrix), in 1 to ``count`` element-columns,
    the colour bar on the right or below.

    Preferred, in this order: panels of at least PANEL_MIN (where none can be, the largest panels), the aspect
    within ASPECT_BOUNDS (else the nearest), the largest panels (in steps of 0.1 inch), entries in a row, the
    colour bar on the right, the aspect nearest 4:3."""
    low, high = ASPECT_BOUNDS
    entries = shape[0] * shape[1]
    blocks = [(1, entries)] + [shape] * (min(shape) > 1)

    def badness(grid: _Grid):
        aspect = grid.width / grid.height
        outside = max(0.0, math.log(low / aspect), math.log(aspect / high))
        small = grid.panel < PANEL_MIN
        return (small, -grid.panel if small else 0.0, round(outside, 3), -math.floor(grid.panel * 10 + 1e-9), grid.block[0] > 1,
                grid.colourbar_below, abs(math.log(aspect * 3 / 4)))

    return min((_grid(count, w, block, below, label_lines, entries > 1, title) for block in blocks
                for below in (False, True) for w in range(1, count + 1)
                if w == 1 or -(-count // w) < -(-count // (w - 1))),       # the fewest element-columns per row count
               key=badness)


def plot_layout(basis: SampledBasis, elements: Sequence[int], title: str = "", finite: bool = False) -> PlotLayout:
    """The layout of the picture of ``elements`` (indices into ``basis``) under ``title``; ``finite``: whether
    the group is finite (then the labels show the offset t).

    One row per element, one column per matrix entry ``[o, i]`` (headed once, above the first row),
    the elements wrapped into element-columns so that the figure stays page-shaped.  Where that cannot
    be page-shaped with panels of PANEL_MIN inches or more, but another arrangement can, each element's
    entries form a c_out x c_in matrix of panels instead (column headers ``[:, i]``, row headers
    ``[o, :]``).  1 x 1 elements get no header (their one entry is ``[0, 0]``).

    >>> from basisgen import Representation, cyclic_group, sample_basis
    >>> rho = Representation.from_irrep(cyclic_group(8).irreps[1])
    >>> layout = plot_layout(sample_basis(rho, rho, kernel_size=9), [0, 1, 2, 3], "C8")
    >>> layout.entries, [h[0] for h in layout.headers]
    (((0, 0), (0, 1), (1, 0), (1, 1)), ['[0, 0]', '[0, 1]', '[1, 0]', '[1, 1]'])
    >>> layout.zero[:2]           # element 0 is the identity, element 1 the rotation by 90 degrees
    ((False, True, True, False), (True, False, False, True))
    >>> layout.element_columns, layout.rows, [round(inches, 1) for inches in layout.figure_size]
    (1, 4, [6.1, 5.0])
    """
    elements = tuple(int(b) for b in elements)
    if not elements or any(not 0 <= b < len(basis) for b in elements):
        raise InvalidValueError(f"elements must be a non-empty list of indices in [0, {len(basis)}), "
                                f"got {list(elements)}")
    c_out, c_in = basis.shape[1], basis.shape[2]
    entries = tuple((o, i) for o in range(c_out) for i in range(c_in))
    filters = np.stack([element_filter(basis, b) for b in elements])
    peaks = np.abs(filters).max(axis=(3, 4))                        # (n, c_out, c_in)
    scale = float(peaks.max())
    zero = tuple(tuple(bool(peaks[n, o, i] <= ZERO_TOLERANCE * scale) for o, i in entries)
                 for n in range(len(elements)))
    labels = tuple(element_label(basis, b, finite) for b in elements)

    label_lines = max(label.count("\n") + 1 for label in labels)
    grid = _choose_grid(len(elements), (c_out, c_in), label_lines, title)
    block = grid.block
    as_matrix = block[0] > 1

    p = grid.panel
    block_height = block[0] * p + (block[0] - 1) * ENTRY_GAP
    row_height = max(block_height, label_lines * LABEL_LINE)
    subrows = SUBROW_WIDTH * as_matrix
    element_width = LABEL_WIDTH + subrows + block[1] * p + (block[1] - 1) * ENTRY_GAP
    panels, anchors, row_headers = [], [], []
    for n in range(len(elements)):
        row, column = divmod(n, grid.columns)
        left = MARGIN + column * (element_width + BLOCK_GAP)
        top = grid.top + row * (row_height + ROW_GAP)
        anchors.append((left + LABEL_WIDTH - 0.06, top + row_height / 2))
        block_top = top + (row_height - block_height) / 2
        boxes = []
        for o, i in entries:
            sub_row, sub_column = (o, i) if as_matrix else (0, o * c_in + i)
            boxes.append(Box(left + LABEL_WIDTH + subrows + sub_column * (p + ENTRY_GAP),
                             block_top + sub_row * (p + ENTRY_GAP), p, p))
        panels.append(tuple(boxes))
        if as_matrix:
            row_headers += [(f"[{o}, :]", left + LABEL_WIDTH + subrows - 0.04, block_top + o * (p + ENTRY_GAP) + p / 2)
                            for o in range(c_out)]
    headers = []
    if len(entries) > 1:
        for column in range(min(grid.columns, len(elements))):
            for e, (o, i) in enumerate(entries[:block[1]] if as_matrix else entries):
                box = panels[column][e]
                headers.append((f"[:, {i}]" if as_matrix else f"[{o}, {i}]", box.left + p / 2, grid.top - 0.05))
    grid_height = grid.rows * (row_height + ROW_GAP) - ROW_GAP
    if grid.colourbar_below:
        grid_width = grid.width - 2 * MARGIN
        length = min(grid_width - 2 * COLOURBAR_GAP, COLOURBAR_MAX)        # room for the end ticks' labels
        colourbar = Box(MARGIN + (grid_width - length) / 2, grid.top + grid_height + COLOURBAR_GAP, length,
                        COLOURBAR_WIDTH)
    else:
        colourbar = Box(grid.width - MARGIN - COLOURBAR_TICKS - COLOURBAR_WIDTH, grid.top, COLOURBAR_WIDTH,
                        min(grid_height, COLOURBAR_MAX))
    return PlotLayout(elements, labels, entries, zero, scale, grid.columns, grid.rows, p, (grid.width, grid.height),
                      grid.title_lines, tuple(panels), tuple(anchors), tuple(headers), tuple(row_headers), colourbar,
                      filters)


def draw_layout(layout: PlotLayout, dpi: int = 90):
    """The matplotlib Figure of ``layout`` (no pyplot, no global state): the images on the one scale
    [-s, s] of a diverging map, grey "0" panels for the zero entries, the labels, headers and one colour
    bar.  Each panel's axes are labelled ``#b [o, i]``, the colour bar's ``colour bar``.  Raises ImportError
    without matplotlib.

    >>> from basisgen import Representation, cyclic_group, sample_basis
    >>> rho = Representation.from_irrep(cyclic_group(8).irreps[1])
    >>> figure = draw_layout(plot_layout(sample_basis(rho, rho, kernel_size=5), [3], "C8"))
    >>> [axes.get_label() for axes in figure.axes]
    ['#3 [0, 0]', '#3 [0, 1]', '#3 [1, 0]', '#3 [1, 1]', 'colour bar']
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    width, height = layout.figure_size
    fig = Figure(figsize=(width, height), dpi=dpi)

    def rect(box: Box) -> Tuple[float, float, float, float]:
        return box.left / width, 1 - (box.top + box.height) / height, box.width / width, box.height / height

    s = layout.scale or 1.0
    norm = Normalize(vmin=-s, vmax=s)
    text_size = max(5.0, min(9.0, layout.panel_size * 72 * 0.45))
    for n, boxes in enumerate(layout.panels):
        for e, box in enumerate(boxes):
            ax = fig.add_axes(rect(box), label=f"#{layout.elements[n]} {list(layout.entries[e])}")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_linewidth(0.5)
                spine.set_color("#888888")
            if layout.zero[n][e]:
                ax.set_facecolor(ZERO_GREY)
                ax.text(0.5, 0.5, "0", transform=ax.transAxes, ha="center", va="center", fontsize=text_size,
                        color="#707070")
            else:
                o, i = layout.entries[e]
                ax.imshow(layout.filters[n, o, i], cmap=COLOUR_MAP, norm=norm, interpolation="nearest")
    for label, (x, y) in zip(layout.labels, layout.label_anchors):
        fig.text(x / width, 1 - y / height, label, ha="right", va="center", fontsize=7, linespacing=1.25)
    header_size = min(7.0, (layout.panel_size + ENTRY_GAP - 0.02) * 72 / (0.6 * 6))    # "[o, i]" fits its column
    for text, x, y in layout.headers if header_size >= 4 else ():
        fig.text(x / width, 1 - y / height, text, ha="center", va="bottom", fontsize=header_size)
    for text, x, y in layout.row_headers:
        fig.text(x / width, 1 - y / height, text, ha="right", va="center", fontsize=6)
    if layout.title_lines:
        fig.text(0.5, 1 - TITLE_PAD / height, "\n".join(layout.title_lines), ha="center", va="top", fontsize=9)
    horizontal = layout.colourbar.width > layout.colourbar.height
    bar_axes = fig.add_axes(rect(layout.colourbar), label="colour bar")
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=COLOUR_MAP), cax=bar_axes, ticks=[-s, 0.0, s],
                       orientation="horizontal" if horizontal else "vertical")
    bar.set_ticklabels([f"{-s:.2g}", "0", f"{s:.2g}"], fontsize=7)
    bar.outline.set_linewidth(0.5)
    return fig


def plot_basis(basis: SampledBasis, elements: Sequence[int], path: Path, title: str, dpi: int = 90,
               finite: bool = False) -> PlotLayout:
    """Write a PNG of the given elements of ``basis`` to ``path`` (see :func:`plot_layout`) and return its
    layout.  Raises ImportError without matplotlib.

    >>> import tempfile
    >>> from basisgen import Representation, cyclic_group, sample_basis
    >>> rho = Representation.from_irrep(cyclic_group(4).irreps[0])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     layout = plot_basis(sample_basis(rho, rho, kernel_size=5), [0, 1, 2], Path(folder) / "b.png", "C4")
    ...     (Path(folder) / "b.png").read_bytes()[:4]
    b'\\x89PNG'
    """
    layout = plot_layout(basis, elements, title, finite)
    draw_layout(layout, dpi).savefig(path, dpi=dpi)
    return layout
