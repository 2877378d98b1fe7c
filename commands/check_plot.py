"""The picture of ``basisgen check``'s sweep over angles (a helper of ``cli.py``): equivariance error
against rotation angle, one line per :class:`~e2layers.nn.angle_errors.AngleCurve`.

The y axis is logarithmic, so that the exact quarter turns (round-off, about 1e-16) and the sampled angles
between them (about 1e-2) share one picture: errors below ``FLOOR``, exact zeros among them, are drawn at
``FLOOR``; NaN (a group without the angle's rotation) and infinite errors are left out, the line broken
there.  The x axis runs over the full circle, 0 to 360 degrees (angles read modulo 360; a curve with 0 is
closed at 360 with its value at 0), ticks every 45 degrees, with the quarter turns
marked.  :func:`plotted_errors` computes what is drawn (numpy only); :func:`draw_angle_errors` draws it and
:func:`plot_angle_errors` writes the image.  Drawing needs matplotlib (the ``plot`` extra), imported by
those two only, with the Agg canvas (no screen, no pyplot).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence, Tuple, Union

import numpy as np

from basisgen.errors import InvalidTypeError, InvalidValueError
from e2layers.nn.angle_errors import AngleCurve

__all__ = ["FLOOR", "MISSING_MATPLOTLIB", "plotted_errors", "draw_angle_errors", "plot_angle_errors"]

MISSING_MATPLOTLIB = ("the plot of basisgen check needs matplotlib, which is not installed: "
                      "pip install 'e2layers[plot]' (or pip install matplotlib)")

FLOOR = 1e-17                           # errors below it (exact ones: 0) are drawn here, so they show
QUARTER_TURNS = (90.0, 180.0, 270.0)
FIGURE_SIZE = (8.0, 4.5)                # inches
DPI = 120
X_LABEL = "rotation angle (degrees)"
Y_LABEL = "relative equivariance error"
QUARTER_TURN_LABEL = "exact quarter turns"
FLOOR_NOTE = f"errors below {FLOOR:.0e} (exact: 0) drawn at {FLOOR:.0e}"


def plotted_errors(curve: AngleCurve) -> Tuple[np.ndarray, np.ndarray]:
    """The points drawn for ``curve``: its angles in [0, 360] (modulo 360, sorted; 360 added with the value at 0
    when the curve has 0) and its errors, those below ``FLOOR`` raised to it, NaN and infinite
    ones NaN (a gap in the line).

    Examples
    --------
    >>> curve = AngleCurve("model", [90.0, 0.0, 405.0, 180.0], [1e-16, 0.0, 0.02, np.nan])
    >>> angles, errors = plotted_errors(curve)
    >>> angles.tolist(), errors.tolist()
    ([0.0, 45.0, 90.0, 180.0, 360.0], [1e-17, 0.02, 1e-16, nan, 1e-17])
    """
    if not isinstance(curve, AngleCurve):
        raise InvalidTypeError(f"curve must be an AngleCurve, got {type(curve).__name__}")
    angles = np.mod(curve.angles, 360.0)
    errors = np.where(np.isfinite(curve.errors), np.maximum(curve.errors, FLOOR), np.nan)
    order = np.argsort(angles, kind="stable")
    angles, errors = angles[order], errors[order]
    if angles.size and angles[0] == 0.0:        # 360 degrees is the rotation by 0: the circle closes
        angles, errors = np.append(angles, 360.0), np.append(errors, errors[0])
    return angles, errors


def _checked(curves: Sequence[AngleCurve], title: str) -> Sequence[AngleCurve]:
    if isinstance(curves, AngleCurve) or not isinstance(curves, (list, tuple)):
        raise InvalidTypeError(f"curves must be a list or tuple of AngleCurve, got {type(curves).__name__}")
    if not curves:
        raise InvalidValueError("curves must hold at least one AngleCurve, got none")
    for n, curve in enumerate(curves):
        if not isinstance(curve, AngleCurve):
            raise InvalidTypeError(f"curves[{n}] must be an AngleCurve, got {type(curve).__name__}")
    if not isinstance(title, str):
        raise InvalidTypeError(f"title must be a str, got {type(title).__name__}")
    return curves


def _matplotlib():
    """matplotlib's Figure and Agg canvas, or an ImportError that says how to install matplotlib."""
    try:
        import matplotlib  # noqa: F401 (first: a missing or blocked matplotlib fails here)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(MISSING_MATPLOTLIB) from error
    return Figure, FigureCanvasAgg


def draw_angle_errors(curves: Sequence[AngleCurve], title: str, y_label: str = Y_LABEL):
    """The matplotlib Figure (on an Agg canvas, no pyplot) of ``curves``: one line with markers per curve,
    labelled with the curve's label in the legend, on a log y axis (see :func:`plotted_errors`), x from 0
    to 360 degrees with ticks every 45, grid lines, dashed vertical lines at the quarter turns labelled
    once and a dotted line at ``FLOOR``.  Raises ImportError without matplotlib."""
    curves = _checked(curves, title)
    Figure, FigureCanvasAgg = _matplotlib()
    fig = Figure(figsize=FIGURE_SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for n, degrees in enumerate(QUARTER_TURNS):
        ax.axvline(degrees, color="0.55", linestyle="--", linewidth=0.9, zorder=1,
                   label=QUARTER_TURN_LABEL if n == 0 else "_nolegend_")
    highest = FLOOR
    for curve in curves:
        angles, errors = plotted_errors(curve)
        ax.plot(angles, errors, marker="o", markersize=3, linewidth=1.4, label=curve.label, zorder=3)
        if np.any(np.isfinite(errors)):
            highest = max(highest, float(np.nanmax(errors)))
    ax.axhline(FLOOR, color="0.55", linestyle=":", linewidth=0.9, zorder=1)
    ax.text(0.005, FLOOR * 1.6, FLOOR_NOTE, transform=ax.get_yaxis_transform(), fontsize=7.5, color="0.4",
            va="bottom", ha="left")
    ax.set_yscale("log")
    ax.set_ylim(FLOOR / 4, 10.0 ** np.ceil(np.log10(max(highest, 1.0)) + 0.3))
    ax.set_xlim(0.0, 360.0)
    ax.set_xticks(np.arange(0.0, 361.0, 45.0))
    ax.grid(True, which="major", color="0.88", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel(X_LABEL)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    ax.legend(loc="best", fontsize=9, framealpha=0.9)
    return fig


def plot_angle_errors(curves: Sequence[AngleCurve], path: Union[str, Path], title: str,
                      y_label: str = Y_LABEL) -> Path:
    """Write the picture of ``curves`` (see :func:`draw_angle_errors`) to ``path``, its format from the
    suffix (PNG for ``.png``), and return ``path`` as a Path.  Raises ImportError without matplotlib."""
    if not isinstance(path, (str, Path)):
        raise InvalidTypeError(f"path must be a str or a Path, got {type(path).__name__}")
    path = Path(path)
    draw_angle_errors(curves, title, y_label).savefig(path, dpi=DPI)
    return path
