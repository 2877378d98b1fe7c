"""``basisgen plot`` and its picture (commands/plot.py): the layout computed without drawing (labels, zero entries,
one colour scale, page-shaped figure), the drawn figure, and the command through click's CliRunner.

Expected values come from the library called directly (``sample_basis``, ``sample_diffop_basis``, the elements'
attributes and ``element_filter``'s arrays), not from the layout's own code paths.  Tests that draw skip
without matplotlib.
"""
import dataclasses
import itertools
import math
import sys

import numpy as np
import pytest

from basisgen import Representation, cache, cyclic_group, sample_basis
from basisgen.commands.plot import ZERO_GREY, element_filter, plot_layout
from basisgen.errors import InvalidValueError
from basisgen.pdo_sampling import diffop_params, sample_diffop_basis
from cli_runner import run

LONG_TITLE = "C8: irrep_1 -> irrep_1, kernel size 9 (8 of 20 elements, #: the number in basisgen inspect)"


def c8(in_id, out_id, kernel_size):
    G = cyclic_group(8)
    return sample_basis(Representation.from_irrep(G.irreps[in_id]), Representation.from_irrep(G.irreps[out_id]),
                        kernel_size=kernel_size)


BASES = {   # (c_out, c_in) -> a C8 basis of that shape with at least 16 elements
    (1, 1): lambda: c8(0, 0, 33), (1, 2): lambda: c8(1, 0, 17), (2, 1): lambda: c8(0, 1, 17),
    (2, 2): lambda: c8(1, 1, 11)}


# ---- labels --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("finite", [False, True])
def test_every_label_is_its_own_and_names_number_ring_mu_gamma(finite):
    basis = c8(1, 1, 9)
    layout = plot_layout(basis, range(len(basis)), "C8", finite=finite)
    assert len(set(layout.labels)) == len(basis) == 20
    for b, label in enumerate(layout.labels):
        attrs = basis.attributes[b]
        lines = label.split("\n")
        assert lines[0] == f"#{b}" and lines[1] == f"ring {attrs['ring']}"
        gamma = "\u03c0/2" if math.isclose(attrs["gamma"], math.pi / 2) else "0"
        assert lines[2] == f"\u03bc={attrs['mu']}, \u03b3={gamma}"
        assert lines[3:] == ([f"t={attrs['t']}"] if finite else [])
    # the two elements the old picture both called "ring 1, mu=2": only gamma tells them apart
    assert "\u03bc=2, \u03b3=0" in layout.labels[3] and "\u03bc=2, \u03b3=\u03c0/2" in layout.labels[5]
    assert any("t=-1" in label for label in layout.labels) == finite


def test_pdo_labels_name_order_and_laplacian_power():
    rho = Representation.from_irrep(cyclic_group(4).irreps[0])
    basis = sample_diffop_basis(rho, rho, diffop_params(kernel_size=5))
    layout = plot_layout(basis, range(len(basis)), "C4 PDOs", finite=True)
    # basisgen inspect C4 --in 0 --out 0 --diffop -k 5: orders 0 2 4 4 4, powers 0 1 2 0 0, mu 0 0 0 4 4
    assert [label.split("\n")[1] for label in layout.labels] == [
        "n=0, p=0", "n=2, p=1", "n=4, p=2", "n=4, p=0", "n=4, p=0"]
    assert layout.labels[3].split("\n")[2:] == ["\u03bc=4, \u03b3=0", "t=1"]
    assert layout.labels[4].split("\n")[2] == "\u03bc=4, \u03b3=\u03c0/2"
    assert not any("ring" in label for label in layout.labels)
    assert layout.headers == () and layout.element_columns * layout.rows >= 5


def test_bad_element_lists_are_refused():
    basis = c8(1, 1, 5)
    for elements in ([], [len(basis)], [-1]):
        with pytest.raises(InvalidValueError, match="elements"):
            plot_layout(basis, elements)


# ---- zero entries and the one scale --------------------------------------------------------------------
def test_identically_zero_entries_are_flagged():
    basis = c8(1, 1, 9)
    layout = plot_layout(basis, [0, 1, 3])
    # element 0 is the identity, 1 the rotation by 90 degrees (both ring 0, mu 0): zero off / on the diagonal
    assert layout.zero == ((False, True, True, False), (True, False, False, True), (False,) * 4)
    scale = max(np.abs(element_filter(basis, b)).max() for b in (0, 1, 3))
    assert layout.scale == pytest.approx(scale)
    for n, b in enumerate(layout.elements):
        peaks = np.abs(element_filter(basis, b)).max(axis=(2, 3))
        assert [peaks[o, i] > 1e-3 * scale for o, i in layout.entries] == [not z for z in layout.zero[n]]


def test_a_vanishing_row_is_zero_and_a_small_one_is_not():
    basis = c8(0, 1, 9)                                    # 2 x 1 elements: [cos; sin]-like, no zero entry
    assert plot_layout(basis, [0, 1]).zero == ((False, False), (False, False))
    for factor, flagged in ((0.0, True), (1e-14, True), (1e-9, False)):
        blocks = np.array(basis.blocks, copy=True)
        blocks[0, 1, :, :] *= factor                       # element 0's second output row
        shrunk = dataclasses.replace(basis, blocks=blocks)
        assert plot_layout(shrunk, [0, 1]).zero == ((False, flagged), (False, False)), factor


# ---- geometry ------------------------------------------------------------------------------------------
def _overlap(a, b):
    return (a.left < b.left + b.width and b.left < a.left + a.width
            and a.top < b.top + b.height and b.top < a.top + a.height)


@pytest.mark.parametrize("shape", sorted(BASES))
def test_the_figure_is_page_shaped_for_1_to_16_elements(shape):
    basis = BASES[shape]()
    assert basis.shape[1:3] == shape and len(basis) >= 16
    for count, finite, title in itertools.product(range(1, 17), (False, True), ("C8", LONG_TITLE)):
        layout = plot_layout(basis, range(count), title, finite=finite)
        width, height = layout.figure_size
        assert 3 / 4 <= layout.aspect <= 16 / 9 and width <= 10.0 + 1e-9, (shape, count, layout.figure_size)
        assert layout.panel_size >= 0.5 and layout.element_columns * layout.rows >= count
        boxes = [box for row in layout.panels for box in row] + [layout.colourbar]
        assert all(0 <= b.left and b.left + b.width <= width + 1e-9 and 0 <= b.top
                   and b.top + b.height <= height + 1e-9 for b in boxes)
        assert not any(_overlap(a, b) for a, b in itertools.combinations(boxes, 2)), (shape, count)
        for (x, _), row in zip(layout.label_anchors, layout.panels):
            assert x < min(box.left for box in row)        # each label stands left of its panels


def test_many_one_by_one_elements_wrap_into_element_columns():
    layout = plot_layout(BASES[(1, 1)](), range(12), LONG_TITLE)
    assert layout.element_columns > 1 and layout.rows < 12 and layout.headers == ()
    assert len({round(row[0].left, 6) for row in layout.panels}) == layout.element_columns


def test_column_headers_name_the_entries_once():
    basis = BASES[(2, 2)]()
    layout = plot_layout(basis, range(4), "C8")            # four 2 x 2 elements: one row each
    assert not layout.entries_as_matrix and layout.element_columns == 1
    assert [h[0] for h in layout.headers] == ["[0, 0]", "[0, 1]", "[1, 0]", "[1, 1]"]
    assert [h[1] for h in layout.headers] == pytest.approx([box.left + box.width / 2 for box in layout.panels[0]])
    assert all(h[2] <= layout.panels[0][0].top for h in layout.headers)
    matrix = plot_layout(basis, range(8), "C8")            # eight: each a 2 x 2 matrix of panels, two columns
    assert matrix.entries_as_matrix and matrix.element_columns == 2
    assert [h[0] for h in matrix.headers] == ["[:, 0]", "[:, 1]"] * 2
    assert [h[0] for h in matrix.row_headers] == ["[0, :]", "[1, :]"] * 8


# ---- drawing -------------------------------------------------------------------------------------------
def test_the_figure_has_one_scale_and_one_colour_bar():
    pytest.importorskip("matplotlib")
    from basisgen.commands.plot import draw_layout
    basis = c8(1, 1, 9)
    elements = [3, 8, 11, 16, 19]          # no ring 0, whose peak 1 would hide a scale fixed at 1
    layout = plot_layout(basis, elements, "C8")
    figure = draw_layout(layout)
    bars = [ax for ax in figure.axes if ax.get_label() == "colour bar"]
    assert len(bars) == 1 and len(figure.axes) == len(elements) * 4 + 1
    scale = max(np.abs(element_filter(basis, b)).max() for b in elements)
    images = [image for ax in figure.axes for image in ax.get_images()]
    assert len(images) == sum(not z for row in layout.zero for z in row) == 5 * 4 - 2 - 2
    assert all(image.get_clim() == pytest.approx((-scale, scale)) for image in images)
    assert all(image.get_cmap().name == "RdBu_r" for image in images)
    zero_panels = [ax for ax in figure.axes if not ax.get_images() and ax not in bars]
    assert len(zero_panels) == 4
    assert all([t.get_text() for t in ax.texts] == ["0"] for ax in zero_panels)
    assert all(ax.get_facecolor()[:3] == pytest.approx(tuple(int(ZERO_GREY[k:k + 2], 16) / 255 for k in (1, 3, 5)))
               for ax in zero_panels)


def test_plot_writes_a_png(cache_dir, tmp_path):
    image = pytest.importorskip("matplotlib.image")
    target = tmp_path / "filters.png"
    out = run("plot", "C8", "--in", "1", "--out", "1", "-k", 7, "-n", 4, "-o", target).stdout
    assert out.startswith(f"wrote {target}: 4 of ") and target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 5_000 < target.stat().st_size < 500_000
    pixels = image.imread(target)[..., :3]
    height, width = pixels.shape[:2]
    assert 3 / 4 <= width / height <= 16 / 9 and width <= 10 * 90 and height > 4 * 50      # 4 rows at 90 dpi
    red = (pixels[..., 0] > 0.6) & (pixels[..., 2] < 0.4)
    blue = (pixels[..., 2] > 0.6) & (pixels[..., 0] < 0.4)
    assert red.sum() > 50 and blue.sum() > 50          # a diverging map: both signs show
    grey = np.all(np.abs(pixels - int(ZERO_GREY[1:3], 16) / 255) < 0.01, axis=-1)
    assert grey.sum() > 2 * 40 * 40                    # element 0's two zero entries drawn as grey panels


def test_plot_labels_show_t_for_finite_groups_only(cache_dir, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from basisgen.commands import plot as plot_module
    seen = {}
    original = plot_module.plot_layout

    def spy(*args, **kwargs):
        seen["layout"] = original(*args, **kwargs)
        return seen["layout"]

    monkeypatch.setattr(plot_module, "plot_layout", spy)
    run("plot", "C8", "--in", 1, "--out", 1, "-k", 9, "-n", 20, "-o", tmp_path / "c8.png")
    assert any(label.endswith("t=-1") for label in seen["layout"].labels)
    assert "#: the number in basisgen inspect" in " ".join(seen["layout"].title_lines)
    run("plot", "SO2", "--in", 1, "--out", 1, "-k", 9, "-n", 4, "-o", tmp_path / "so2.png")
    assert not any("t=" in label for label in seen["layout"].labels)


def test_plot_diffop_uses_the_same_layout(cache_dir, tmp_path):
    image = pytest.importorskip("matplotlib.image")
    target = tmp_path / "stencils.png"
    out = run("plot", "C4", "--in", 0, "--out", 0, "--diffop", "-k", 5, "-o", target).stdout
    assert out.startswith(f"wrote {target}: 5 of 5 elements")
    height, width = image.imread(target).shape[:2]
    assert 3 / 4 <= width / height <= 16 / 9
    assert len(cache.BasisCache([cache_dir]).entries()) == 1      # through the cache


def test_plot_without_matplotlib_says_how_to_install(monkeypatch, tmp_path):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)      # import matplotlib now raises ImportError
    result = run("plot", "C8", "-o", tmp_path / "x.png", code=1)
    err = result.stderr.strip()
    assert "Traceback" not in result.output and len(err.splitlines()) == 1, result.output
    assert "error" in err and "matplotlib" in err and "pip install 'e2layers[plot]'" in err
    assert not (tmp_path / "x.png").exists()
