"""``basisgen check``: where and why a model stops being exactly equivariant (``nn.exactness_report``).

It builds the model from ``--model package.module:factory``, runs the report on one input of ``--input``
(``BxCxHxW``) and prints the per-layer table, the exact input sizes and a one-line summary (or all of it as
JSON).  ``--verify`` runs the model at every size up to ``--size-bound`` and compares with the size rule;
``--plot`` draws the error over the full circle of angles for the model and for a plain CNN of the same
layout (``nn.angle_errors``, ``nn.plain_baseline``).  Every long step shows a progress bar on stderr.
"""
from __future__ import annotations

import importlib.util
import json
import re
import sys
from typing import Any, List, Optional, Tuple

import click

from .tasks import load_factory

#: the motions ``--elements`` may name
MOTION_NAMES = ("rot90", "rot180", "rot270", "flip-ud", "flip-lr", "transpose", "anti-transpose")


def parse_shape(text: str) -> Tuple[int, int, int, int]:
    """``"1x3x65x65"`` -> ``(1, 3, 65, 65)``; ``"3x65x65"`` means batch 1."""
    parts = text.strip().lower().split("x")
    if len(parts) not in (3, 4) or not all(re.fullmatch(r"[1-9][0-9]{0,5}", p) for p in parts):
        raise click.BadParameter(f"expected BxCxHxW (or CxHxW) of positive ints such as 1x3x65x65, got {text!r}",
                                 param_hint="--input")
    numbers = [int(p) for p in parts]
    return tuple([1] * (4 - len(numbers)) + numbers)


def parse_elements(text: Optional[str]) -> Optional[List[str]]:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in MOTION_NAMES]
    if unknown or not names:
        raise click.BadParameter(f"expected a comma-separated list of {', '.join(MOTION_NAMES)}, got {text!r}",
                                 param_hint="--elements")
    return names


def _progress_bar(label: str, length: int):
    return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True)


def _build(spec: str):
    import torch

    click.echo(f"building {spec} ...", err=True)
    model = load_factory(spec)()
    if not isinstance(model, torch.nn.Module):
        raise click.ClickException(f"{spec} returned {type(model).__name__}, not a torch.nn.Module")
    return model


def _verify(report: Any, model: Any, channels: int, elements: Optional[List[str]], dtype: Any) -> dict:
    """Brute force: the model run at every size up to the bound, against the rule."""
    from e2layers.nn import sizes_by_brute_force

    bound = report.sizes.bound
    with _progress_bar(f"verifying sizes 1..{bound}", bound) as bar:
        brute = sizes_by_brute_force(model, channels, range(1, bound + 1), elements, dtype=dtype,
                                     progress=lambda done: bar.update(1))
    rule = {n: bool(report.sizes.exact(n, n)) for n in range(1, bound + 1)}
    disagree = [n for n in rule if rule[n] != brute[n]]
    return {"bound": bound, "agrees": not disagree, "disagree": disagree,
            "exact_by_brute_force": [n for n in brute if brute[n]]}


def _plot(model: Any, shape: Tuple[int, ...], path: str, step: float, dtype: Any, label: str) -> List[Any]:
    from e2layers.nn import angle_errors, plain_baseline

    from .check_plot import plot_angle_errors

    angles = [i * step for i in range(int(round(360 / step)))]
    curves = []
    for name, net in ((f"{label} (equivariant)", model), ("plain CNN, same layout", plain_baseline(model))):
        with _progress_bar(f"angles: {name}", len(angles)) as bar:
            curves.append(angle_errors(net, shape, angles, dtype=dtype, label=name, scale="contrast",
                                       progress=lambda done: bar.update(1)))
    plot_angle_errors(curves, path, f"{label} on {'x'.join(map(str, shape))}: equivariance error by angle",
                      "error / change between two random inputs")
    return curves


@click.command("check")
@click.option("--model", "spec", required=True,
              help="package.module:factory: import package.module (this runs its code: name only modules you "
                   "trust) and call factory() for the model.")
@click.option("--input", "input_text", required=True, help="The input shape BxCxHxW, e.g. 1x3x65x65.")
@click.option("--elements", help=f"Comma-separated motions to check (default: every one the model's group has): "
                                 f"{', '.join(MOTION_NAMES)}.")
@click.option("--size-bound", default=64, show_default=True, type=click.IntRange(1, 4096),
              help="List the exact input sizes up to this.")
@click.option("--verify", is_flag=True, help="Also run the model at every size up to --size-bound and compare "
                                             "with the size rule (slow for big models).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, writable=True),
              help="Write a PNG of the error over all angles, for the model and a plain CNN of the same layout.")
@click.option("--angle-step", default=5.0, show_default=True, type=click.FloatRange(0.5, 90),
              help="Degrees between the angles of --plot.")
@click.option("--float32", "single", is_flag=True, help="Run in float32 instead of float64.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Seed of the random input.")
@click.option("--strict", is_flag=True, help="Exit with status 1 if the model is not exact at --input.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check_command(spec, input_text, elements, size_bound, verify, plot_path, angle_step, single, seed, strict,
                  as_json) -> None:
    """Where and why a model stops being exactly equivariant under the grid's quarter turns and flips.

    Runs the model (a float64 copy, in eval mode) on a random input and on each turned or flipped
    input, and reports per layer the relative error under each motion, the first layer that breaks
    exactness and why (an even size meeting a stride, asymmetric padding, a plain module, an
    upsampling mode, ...), then the input sizes at which the model is exact.

    \b
    Examples:
      basisgen check --model examples.e2wrn:build_model --input 1x3x65x65
      basisgen check --model mypackage.models:make_net --input 1x1x28x28 --json
      basisgen check --model examples.e2wrn:build_model --input 1x3x33x33 --plot angles.png
    """
    import torch

    from e2layers.nn import exactness_report

    shape = parse_shape(input_text)
    motions = parse_elements(elements)
    if plot_path and importlib.util.find_spec("matplotlib") is None:       # before the long sweep, not after
        from .check_plot import MISSING_MATPLOTLIB
        raise click.ClickException(MISSING_MATPLOTLIB)
    dtype = torch.float32 if single else torch.float64
    model = _build(spec)
    with _progress_bar("checking", 1 + (len(motions) if motions else len(MOTION_NAMES))) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        report = exactness_report(model, shape, motions, dtype=dtype, seed=seed, size_bound=size_bound,
                                  progress=progress)
    report.model = spec
    verified = _verify(report, model, shape[1], motions, dtype) if verify else None
    curves = _plot(model, shape, plot_path, angle_step, dtype, type(model).__name__) if plot_path else None
    if as_json:
        data = report.to_dict()
        if verified is not None:
            data["verify"] = verified
        if curves is not None:
            data["angles"] = {"plot": plot_path, "curves": [
                {"label": c.label, "angles": c.angles.tolist(),
                 "errors": [None if e != e else e for e in c.errors.tolist()]} for c in curves]}
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(str(report))
        if verified is not None:
            click.echo(f"verified by running every size up to {verified['bound']}: " + (
                "the rule agrees" if verified["agrees"] else
                f"the rule disagrees at {', '.join(map(str, verified['disagree']))}"))
        if curves is not None:
            for c in curves:
                off = [e for a, e in zip(c.angles, c.errors) if a % 90 and e == e]
                worst = max(off) if off else float("nan")
                click.echo(f"angles: {c.label}: largest error away from quarter turns {worst:.2g}")
            click.echo(f"plot: {plot_path}")
    if strict and not report.exact:
        sys.exit(1)
