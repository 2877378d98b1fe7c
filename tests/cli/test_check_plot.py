"""The picture of ``basisgen check``'s sweep over angles (commands/check_plot.py): what is drawn (floor, gaps,
the full circle), the drawn figure's axes, and the written PNG.  Tests that draw skip without matplotlib."""
import math
import sys

import numpy as np
import pytest

from basisgen.commands.check_plot import (FLOOR, MISSING_MATPLOTLIB, draw_angle_errors, plot_angle_errors,
                                          plotted_errors)
from basisgen.errors import InvalidTypeError, InvalidValueError
from e2layers.nn.angle_errors import AngleCurve

ANGLES = np.arange(0.0, 360.0, 15.0)


def _model_and_baseline():
    """Two curves as angle_errors gives them: a C8 model (exact at quarter turns, NaN off the multiples of
    45 degrees) and a plain baseline (exactly 0 at 0 degrees, large elsewhere)."""
    model = np.where(ANGLES % 45 == 0, 0.03, np.nan)
    model[ANGLES % 90 == 0] = [0.0, 4e-16, 6e-16, 5e-16]
    baseline = 0.5 + 0.3 * np.sin(np.radians(ANGLES)) ** 2
    baseline[0] = 0.0
    return AngleCurve("C8 model", ANGLES, model), AngleCurve("plain baseline", ANGLES, baseline)


# ---- what is drawn (numpy only) ---------------------------------------------------------------------------
def test_errors_below_the_floor_are_raised_to_it_and_nan_and_inf_become_gaps():
    curve = AngleCurve("c", [0.0, 45.0, 90.0, 135.0, 180.0], [0.0, 0.02, 3e-18, np.nan, np.inf])
    angles, errors = plotted_errors(curve)
    assert angles.tolist() == [0.0, 45.0, 90.0, 135.0, 180.0, 360.0]
    assert errors[[0, 1, 2, 5]].tolist() == [FLOOR, 0.02, FLOOR, FLOOR] and np.isnan(errors[[3, 4]]).all()


def test_angles_are_read_modulo_360_and_sorted_and_only_a_curve_with_0_is_closed():
    angles, errors = plotted_errors(AngleCurve("c", [-90.0, 450.0, 30.0], [1.0, 2.0, 3.0]))
    assert angles.tolist() == [30.0, 90.0, 270.0] and errors.tolist() == [3.0, 2.0, 1.0]
    angles, errors = plotted_errors(AngleCurve("c", [360.0, 180.0], [1e-3, 1e-2]))
    assert angles.tolist() == [0.0, 180.0, 360.0] and errors.tolist() == [1e-3, 1e-2, 1e-3]


def test_the_arguments_are_checked_before_drawing():
    curve = _model_and_baseline()[0]
    for curves, error, match in [([], InvalidValueError, "curves"), (curve, InvalidTypeError, "curves"),
                                 ([curve, "baseline"], InvalidTypeError, r"curves\[1\]"),
                                 ((c for c in [curve]), InvalidTypeError, "curves")]:
        with pytest.raises(error, match=match):
            draw_angle_errors(curves, "title")
    with pytest.raises(InvalidTypeError, match="title"):
        draw_angle_errors([curve], None)
    with pytest.raises(InvalidTypeError, match="path"):
        plot_angle_errors([curve], 3, "title")
    with pytest.raises(InvalidTypeError, match="curve"):
        plotted_errors(curve.errors)


# ---- the figure --------------------------------------------------------------------------------------------
def test_the_figure_has_a_log_axis_over_the_full_circle_and_labels_every_curve():
    pytest.importorskip("matplotlib")
    model, baseline = _model_and_baseline()
    fig = draw_angle_errors([model, baseline], "C8 against plain")
    (ax,) = fig.axes
    assert ax.get_yscale() == "log" and ax.get_xlim() == (0.0, 360.0)
    assert ax.get_xticks().tolist() == list(range(0, 361, 45))
    assert ax.get_xlabel() == "rotation angle (degrees)" and ax.get_ylabel() == "relative equivariance error"
    assert ax.get_title() == "C8 against plain"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["exact quarter turns", "C8 model", "plain baseline"]
    assert ax.xaxis.get_gridlines()[0].get_visible() and ax.yaxis.get_gridlines()[0].get_visible()
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert sorted(line.get_xdata()[0] for line in dashed) == [90.0, 180.0, 270.0]
    curves = {line.get_label(): line for line in ax.get_lines() if line.get_label() in ("C8 model", "plain baseline")}
    x, y = curves["C8 model"].get_xdata(), np.asarray(curves["C8 model"].get_ydata())
    assert x[0] == 0.0 and x[-1] == 360.0 and y[0] == FLOOR == y[-1]          # exact 0 at the floor, shown
    assert np.isnan(y[x == 15.0]).all() and y[x == 45.0].tolist() == [0.03]
    low, high = ax.get_ylim()
    assert low < FLOOR and high >= 1.0


def test_the_png_is_written_at_the_stated_size(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    target = tmp_path / "angles.png"
    written = plot_angle_errors(list(_model_and_baseline()), str(target), "C8 against plain")
    assert written == target and target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size > 10_000
    assert image.imread(target).shape[:2] == (540, 960)                       # 8 x 4.5 inches at 120 dpi


def test_without_matplotlib_the_error_says_how_to_install(monkeypatch, tmp_path):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)      # import matplotlib now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'e2layers\[plot\]'") as raised:
        plot_angle_errors(list(_model_and_baseline()), tmp_path / "x.png", "title")
    assert str(raised.value) == MISSING_MATPLOTLIB and not (tmp_path / "x.png").exists()
    assert math.isnan(plotted_errors(_model_and_baseline()[0])[1][1])          # numpy alone still works
