"""The ``basisgen`` command line (click): demo, precompute, inspect, latex, plot, gallery, cache, derive.

``basisgen demo`` is the main job on a built-in default.  This file installs as ``basisgen.cli``; the
subcommand bodies and helpers live in the folder ``commands/`` next to it (``basisgen.commands``, whose
docstring lists them).  Errors print one line and exit with 2 (usage) or 1 (runtime); ``basisgen --debug ...``
shows the traceback instead.  docs/cli.md is the reference.
"""
from __future__ import annotations

import importlib
import json
import math
import os
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, List, Optional

import click

import basisgen
from basisgen import cache
from basisgen.derivation import derive_angular_basis
from basisgen.errors import EmptyBasisError
from basisgen.latex import pair_latex
from basisgen.sampling import sample_basis
from basisgen.verify import verify
from basisgen.commands.cache import cache_command
from basisgen.commands.check import check_command
from basisgen.commands.gallery import gallery_command
from basisgen.commands.latex import diffop_latex, kernel_basis_latex
from basisgen.commands.diffop import (diffop_options, diffop_params_of, diffop_settings, flag, grid_kernel_size,
                                      usage_error)
from basisgen.commands.tasks import (RecordingCache, Task, format_size, format_table, load_factory, parse_groups,
                       parse_representations, run_tasks, summarise)

CONTEXT = dict(help_option_names=["-h", "--help"], max_content_width=100)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    click.echo(f"basisgen: warning: {_one_line(message)}", err=True)


class _Main(click.Group):
    """The command group: one-line errors (exit 2 for usage, 1 at run time) unless ``--debug``."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise
        except Exception as err:
            if ctx.params.get("debug") or os.environ.get("BASISGEN_DEBUG"):
                raise
            failure = (click.UsageError if isinstance(err, ValueError)     # an argument the library rejected
                       else click.ClickException)(_one_line(err) or type(err).__name__)
            failure.command_path = " ".join(["basisgen"] + [ctx.invoked_subcommand] * bool(ctx.invoked_subcommand))
            raise failure from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            try:
                rv = super().main(args, prog_name or "basisgen", complete_var, standalone_mode=False, **extra)
            except click.UsageError as err:
                where = getattr(err, "command_path", None) or (err.ctx.command_path if err.ctx else "basisgen")
                click.echo(f"{where}: error: {_one_line(err.format_message())} (see {where} --help)", err=True)
                sys.exit(2)
            except click.ClickException as err:
                where = getattr(err, "command_path", None) or "basisgen"
                click.echo(f"{where}: error: {_one_line(err.format_message())}", err=True)
                sys.exit(err.exit_code)
            except click.Abort:
                click.echo("basisgen: aborted", err=True)
                sys.exit(1)
            except BrokenPipeError:     # e.g. basisgen latex C8 --table | head: stop quietly
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(name="basisgen", cls=_Main, context_settings=CONTEXT)
@click.option("--debug", is_flag=True, help="Show the full traceback on errors (or set BASISGEN_DEBUG=1).")
def main(debug: bool) -> None:
    """Derive, inspect, typeset, plot and cache steerable kernel bases of the planar groups.

    \b
    Start here:  basisgen demo
    Example:     basisgen precompute C8,D4 --repr regular -k 3,5,7 --jobs 2
    """


main.add_command(cache_command)     # commands/cache.py: path, ls, info, verify, clear, export, import
main.add_command(gallery_command)   # commands/gallery.py: one HTML page of formulas and pictures
main.add_command(check_command)     # commands/check.py: where and why a model stops being exactly equivariant


# ---- shared argument parsing ---------------------------------------------------------------------------
def _group(name: str, hint: str = "GROUP", irreps_up_to: int = 3) -> basisgen.Group:
    try:
        return basisgen.group_from_name(name, maximum_frequency=irreps_up_to)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint=hint) from None


def _representation(G: basisgen.Group, spec: str, hint: str) -> basisgen.Representation:
    try:
        found = parse_representations(spec, G)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint=hint) from None
    if len(found) != 1:
        raise click.BadParameter(f"{spec!r} names {len(found)} representations; give one", param_hint=hint)
    return found[0][1]


def _numbers(text: Optional[str], hint: str, kind=int, minimum=1) -> Optional[List]:
    if text is None:
        return None
    try:
        values = [kind(x) for x in text.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected a comma-separated list of {kind.__name__}s, got {text!r}",
                                 param_hint=hint) from None
    if minimum is not None and any(v < minimum for v in values):
        raise click.BadParameter(f"every value must be >= {minimum}, got {text!r}", param_hint=hint)
    return values


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


_BASIS_OPTIONS = [
    ("--dilation", click.option("--dilation", default=1, show_default=True, type=click.IntRange(1),
                                help="Filter dilation.")),
    ("--sigma", click.option("--sigma", type=float, help="Ring width for every ring (default: R2Conv's widths).")),
    ("--frequencies-cutoff", click.option("--frequencies-cutoff", type=float,
                                          help="-1 (default), -2, -3 or a positive factor c (|mu| <= c r).")),
    ("--maximum-offset", click.option("--maximum-offset", type=click.IntRange(0),
                                      help="Bound on the aliasing offset |t| (finite groups).")),
    ("--dtype", click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32",
                             show_default=True, help="Precision of the basis read back (inspect's norms); the cache "
                                                     "stores every basis once, in float64, for layers of any dtype.")),
]


def _basis_options(f=None, names=None):
    """Add the radial basis options (all, or those of ``names``, e.g. ``("--sigma",)``) to a command."""
    def decorate(f):
        for name, option in reversed(_BASIS_OPTIONS):
            if names is None or name in names:
                f = option(f)
        return f
    return decorate if f is None else decorate(f)


# ---- precompute ----------------------------------------------------------------------------------------
@main.command(short_help="Compute and cache the bases of groups, or of a model's layers.")
@click.argument("groups", nargs=-1)
@click.option("-r", "--repr", "reprs", multiple=True, default=("regular",), show_default=True,
              help="A representation in the notation: regular, trivial, irrep(K) or irrep(J,K) (or just K, J,K), "
                   "quotient(M), quotient((None,M)), induced(M, irrep(K)); or irreps (each irrep). Repeat the "
                   "option for several: every (in, out) combination is computed.")
@click.option("-k", "--kernel-size", "kernel_sizes", default="3,5,7", show_default=True, help="Kernel sizes, e.g. 3,5,7.")
@_basis_options
@click.option("--rings", help="Ring radii in pixels, e.g. 0,1,2 (default: R2Conv's rings for each kernel size).")
@click.option("--axis", type=float, help="Reflection axis in radians (default pi/2, FlipRot2dOnR2's).")
@click.option("--irreps-up-to", default=3, show_default=True, type=click.IntRange(0),
              help="SO2/O2: the irreps (frequencies 0..L) that 'irreps' means and irrep:K may name.")
@click.option("--model", help="package.module:factory: import package.module (this runs its code: name only "
              "modules you trust), call factory() and cache every basis its layers need. The current directory "
              "is searched after the installed packages, so a file there never replaces one of them.")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1), help="Worker processes.")
@diffop_options()
@click.option("--json", "as_json", is_flag=True, help="Print the entries and the summary as JSON.")
def precompute(groups, reprs, kernel_sizes, dilation, sigma, frequencies_cutoff, maximum_offset, dtype, rings, axis,
               irreps_up_to, model, jobs, as_json, **diffop) -> None:
    """Compute and cache the bases of GROUPS (C8, D4, SO2, O2, flip, trivial; lists and ranges: C4,C8,D4-D8).

    Run it once where the cache is shared (e.g. a cluster's login node); later layer constructions
    read the bases from the cache.

    \b
    Examples:
      basisgen precompute C4,C8,D4-D8 -r regular -r trivial -k 3,5,7 --jobs 4
      basisgen precompute SO2 -r irreps --irreps-up-to 2 -k 5 --json
      basisgen precompute C8 -r regular --diffop -k 5 --smoothing 1.0
      basisgen precompute --model basisgen.commands.demo:demo_network
    """
    settings = diffop_settings(diffop, {"--sigma": sigma, "--frequencies-cutoff": frequencies_cutoff,
                                        "--rings": rings})
    store = RecordingCache()
    if store.write_root is None:
        raise click.ClickException(f"no writable cache directory among {[str(r) for r in store.roots]}; "
                                   "set BASISGEN_CACHE to a directory you can write")
    t0 = time.perf_counter()
    if model:
        if groups:
            raise click.UsageError("give GROUPS or --model, not both")
        if jobs > 1:
            raise click.UsageError("--model builds the model once in this process; drop --jobs")
        if settings is not None:
            raise click.UsageError("--model caches the bases its layers ask for; drop --diffop")
        factory = load_factory(model)
        previous = cache.default_cache()
        cache.set_default_cache(store)
        try:
            click.echo(f"building {model} ...", err=True)
            factory()
        finally:
            cache.set_default_cache(previous)
        records = list(store.records.values())
    else:
        if not groups:
            raise click.UsageError("give at least one GROUP (e.g. C8 or C4,D4-D8) or --model")
        tasks = _tasks(groups, reprs, kernel_sizes, dilation, sigma, frequencies_cutoff, maximum_offset, dtype,
                       rings, axis, irreps_up_to, settings)
        records = []
        with click.progressbar(length=len(tasks), label=f"{len(tasks)} bases, {jobs} worker(s)", file=sys.stderr,
                               show_pos=True) as bar:
            for record in run_tasks(store.roots, tasks, jobs):
                records.append(record)
                bar.update(1)
    wall = time.perf_counter() - t0
    rows = summarise(records)
    if as_json:
        _emit_json({"cache": str(store.write_root), "roots": [str(r) for r in store.roots], "jobs": jobs,
                    "seconds": wall, "entries": records, "summary": rows})
        return
    show_computed = any(r["computed"] for r in rows.values())
    header = ["group", "entries", "created", "reused"] + (["computed"] if show_computed else []) + ["empty",
                                                                                                    "time (s)", "size"]
    click.echo(format_table(header, [[g, r["entries"], r["created"], r["reused"]] + ([r["computed"]] if show_computed else [])
                               + [r["empty"], f"{r['seconds']:.2f}", format_size(r["bytes"])] for g, r in rows.items()]))
    click.echo(f"cache: {store.write_root}; {len(records)} bases in {wall:.2f} s")


def _tasks(groups, reprs, kernel_sizes, dilation, sigma, frequencies_cutoff, maximum_offset, dtype, rings, axis,
           irreps_up_to, settings=None) -> List[Task]:
    try:
        parsed = [G for text in groups for G in parse_groups(text, irreps_up_to)]
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="GROUPS") from None
    sizes = _numbers(kernel_sizes, "--kernel-size")
    if settings is not None and grid_kernel_size(settings, sizes, "kernel_sizes") is None:
        sizes = [None]      # the kernel size follows from --maximum-order (and --accuracy)
    radii = _numbers(rings, "--rings", float, 0)
    if axis is not None and not math.isfinite(axis):
        raise click.BadParameter(f"must be a finite angle in radians, got {axis!r}", param_hint="--axis")
    diffop = None if settings is None else tuple(sorted(settings.items()))

    def task(name, s_in, s_out, k):
        return Task(name, irreps_up_to, s_in, s_out, k, dilation, sigma, frequencies_cutoff, maximum_offset,
                    None if radii is None else tuple(radii), axis, dtype, diffop)

    for k in sizes:     # reject bad radial or PDO settings here, with the option named, not in a worker
        try:
            task("", "", "", k).params()
        except ValueError as err:
            if diffop is not None:
                raise usage_error(err) from None
            raise click.BadParameter(str(err), param_hint="radial settings") from None
    tasks, seen = [], set()
    for G in parsed:
        specs = []
        for spec in reprs:
            try:
                specs += [s for s, _ in parse_representations(spec, G)]
            except ValueError as err:
                raise click.BadParameter(f"{G.name}: {err}", param_hint="--repr") from None
        name = G.name.replace("(", "").replace(")", "")
        for s_in in specs:
            for s_out in specs:
                for k in sizes:
                    t = task(name, s_in, s_out, k)
                    if t not in seen:
                        seen.add(t)
                        tasks.append(t)
    return tasks


# ---- inspect -------------------------------------------------------------------------------------------
@main.command(short_help='The elements of one sampled basis, and where it is cached.')
@click.argument("group")
@click.option("--in", "in_spec", default="regular", show_default=True, help="Input representation in the notation "
              "(regular, trivial, irrep(1,1), quotient((None,2)), induced(4, irrep(1))) or an irrep id (1 or 1,1).")
@click.option("--out", "out_spec", default="regular", show_default=True, help="Output, as --in.")
@click.option("-k", "--kernel-size", default=5, show_default=True, type=click.IntRange(1), help="Kernel size.")
@_basis_options
@diffop_options()
@click.option("--json", "as_json", is_flag=True, help="Print everything as JSON.")
def inspect(group, in_spec, out_spec, kernel_size, dilation, sigma, frequencies_cutoff, maximum_offset, dtype,
            as_json, **diffop) -> None:
    """The sampled basis of one pair: every element (ring, radius, mu, s, gamma, t, norm; with --diffop its
    order and Laplacian power instead of ring and radius), counts per ring (per order and per power) and per
    harmonic, and the cache entry that holds it.

    \b
    Examples:
      basisgen inspect C8 --in 1 --out 2 -k 5
      basisgen inspect D4 --in trivial --out regular -k 7 --json
      basisgen inspect D4 --in "quotient((None,2))" --out "irrep(1,1)"
      basisgen inspect C8 --in 1 --out 1 --diffop --maximum-order 4
    """
    from basisgen.commands.plot import element_filter
    settings = diffop_settings(diffop, {"--sigma": sigma, "--frequencies-cutoff": frequencies_cutoff})
    G = _group(group, irreps_up_to=10)
    rho_in, rho_out = _representation(G, in_spec, "--in"), _representation(G, out_spec, "--out")
    store = RecordingCache()
    if settings is None:
        basis = store.get(rho_in, rho_out, kernel_size, dilation=dilation, sigma=sigma,
                          frequencies_cutoff=frequencies_cutoff, maximum_offset=maximum_offset, dtype=dtype)
        counted, family = ("ring",), ""
    else:
        params = diffop_params_of(settings, grid_kernel_size(settings, kernel_size), dilation=dilation,
                                  maximum_offset=maximum_offset)
        basis = store.get(rho_in, rho_out, params, dtype=dtype)
        kernel_size = params.kernel_size
        counted = ("order", "power")
        family = (f"PDOs of order <= {params.maximum_order} (Laplacian power <= {params.maximum_power}, "
                  f"{params.discretization.method} stencils), ")
    record, = store.records.values()
    elements = []
    for b, a in enumerate(basis.attributes):
        norm = float(math.sqrt((element_filter(basis, b) ** 2).sum()))
        # a PDO basis's rings are its Laplacian powers
        radial = ({"ring": a["ring"], "radius": a["radius"]} if settings is None
                  else {"order": abs(a["mu"]) + 2 * a["ring"], "power": a["ring"]})
        elements.append({"index": b, "in_irrep": a["in_irrep"], "out_irrep": a["out_irrep"], **radial,
                         "mu": a["mu"], "s": a["s"], "gamma": a["gamma"], "t": a["t"], "norm": norm})
    counts = {name: Counter(e[name] for e in elements) for name in counted + ("mu",)}
    where = {k: record[k] for k in ("status", "path", "bytes", "key")}
    if as_json:
        extra = {} if settings is None else {"kind": params.kind, "maximum_order": params.maximum_order,
                                             "maximum_power": params.maximum_power,
                                             "method": params.discretization.method}
        _emit_json({"group": G.name, "in": rho_in.name, "out": rho_out.name, "kernel_size": kernel_size,
                    "dilation": dilation, "dtype": dtype, "shape": list(basis.shape), "elements": elements,
                    **{f"per_{'harmonic' if name == 'mu' else name}": {str(k): v for k, v in sorted(c.items())}
                       for name, c in counts.items()}, **extra, "cache": where})
        return
    click.echo(f"{G.name}: {rho_in.name} -> {rho_out.name}, {family}kernel size {kernel_size}, dilation {dilation}, "
               f"{dtype}: {len(basis)} elements, filters of shape {basis.shape[1:]}")
    columns = ["ring", "radius"] if settings is None else ["order", "power"]
    click.echo(format_table(["#", "in", "out"] + columns + ["mu", "s", "gamma", "t", "norm"],
                      [[e["index"], e["in_irrep"], e["out_irrep"]]
                       + ([e["ring"], f"{e['radius']:.2f}"] if settings is None else [e["order"], e["power"]])
                       + [e["mu"], e["s"], f"{e['gamma']:.4f}", e["t"], f"{e['norm']:.4f}"] for e in elements],
                      "rllrrrrrrr"))
    for name in counted:
        click.echo(f"per {name}:".ljust(14) + ", ".join(f"{k}: {v}" for k, v in sorted(counts[name].items())))
    click.echo("per harmonic: " + ", ".join(f"mu={k}: {v}" for k, v in sorted(counts["mu"].items())))
    state = {"created": "created now", "reused": "already cached", "computed": "not stored: cache read-only"}
    click.echo(f"cache entry: {where['path'] or '(none)'} ({state[where['status']]}, {format_size(where['bytes'])})")


# ---- latex ---------------------------------------------------------------------------------------------
@main.command(short_help="The closed-form basis as LaTeX: a pair, a layer's kernel or a table.")
@click.argument("group")
@click.option("--in", "in_irrep", help="Input irrep: an id (1 or 1,1) or irrep(1,1), irrep_1,1, trivial.")
@click.option("--out", "out_irrep", help="Output irrep, as --in (e.g. 2 or 1,0).")
@click.option("-F", "--maximum-frequency", type=click.IntRange(0), help="Band limit (finite groups; default N).")
@click.option("--table", is_flag=True, help="Every kind of irrep pair of the group, in m, n, N, t.")
@click.option("--array", is_flag=True, help="With --table: one LaTeX array instead (for KaTeX or Markdown).")
@click.option("--kernel", is_flag=True, help="The pair's kernel as a layer samples it: rings, widths, per-ring "
                                             "cutoffs and normalisation (shaped by -k and the options below).")
@click.option("--symbolic", is_flag=True, help="A pair in closed form in m, n, N, t instead of its values.")
@click.option("--concrete", is_flag=True, help="With --table: every pair with its values instead of m, n, N, t.")
@click.option("-k", "--kernel-size", type=click.IntRange(1), help="With --kernel: the kernel size [default: 5].")
@_basis_options(names=("--dilation", "--sigma", "--frequencies-cutoff"))
@click.option("--rings", help="With --kernel: ring radii in pixels, e.g. 0,1,2 (default: R2Conv's).")
@click.option("--standalone", is_flag=True, help="A compilable LaTeX document (amsmath) with a legend instead.")
@click.option("-L", "--irreps-up-to", default=3, show_default=True, type=click.IntRange(0),
              help="SO2/O2: the irreps (frequencies 0..L) that --table lists and --in/--out may name.")
@diffop_options("diffop", "maximum_order", "maximum_power")
@click.option("-o", "--output", type=click.File("w"), default="-", help="Write to a file instead of stdout.")
def latex(group, in_irrep, out_irrep, maximum_frequency, table, array, kernel, symbolic, concrete, kernel_size,
          dilation, sigma, frequencies_cutoff, rings, standalone, irreps_up_to, output, **diffop) -> None:
    """The closed-form kernel basis of GROUP as LaTeX: math mode, one formula per line, no $ delimiters.

    A pair's formulas carry its values (--symbolic: in m, n, N, t); --kernel states the kernel a layer
    samples; --table lists every kind of irrep pair in m, n, N, t (--concrete: every pair with its values).
    With --diffop, the steerable PDO basis of the pair up to --maximum-order, as one aligned environment.

    \b
    Examples:
      basisgen latex SO2 --in 1 --out 2
      basisgen latex C8 --in 1 --out 3 --kernel -k 5
      basisgen latex C4 --table --array
      basisgen latex SO2 --table -L 2 --standalone -o so2.tex
      basisgen latex C8 --in 1 --out 1 --diffop --maximum-order 4
    """
    shape = {"kernel_size": kernel_size, "dilation": dilation, "rings": rings, "sigma": sigma,
             "frequencies_cutoff": frequencies_cutoff}
    settings = diffop_settings(diffop, {"-F": maximum_frequency, "--table": table or None,
                                        "--array": array or None, "--kernel": kernel or None,
                                        "--symbolic": symbolic or None, "--concrete": concrete or None,
                                        **{flag(k): v for k, v in shape.items() if v not in (None, 1)}})
    G = _group(group, irreps_up_to=irreps_up_to)
    if settings is not None:
        text = diffop_latex(G, group, in_irrep, out_irrep, settings, standalone)
    else:
        text = kernel_basis_latex(G, group, in_irrep, out_irrep, maximum_frequency=maximum_frequency, table=table,
                                  array=array, kernel=kernel, concrete=concrete, symbolic=symbolic,
                                  standalone=standalone, shape=shape)
    click.echo(text, file=output, nl=False)


# ---- plot ----------------------------------------------------------------------------------------------
@main.command(short_help='A PNG of sampled basis filters (needs the plot extra).')
@click.argument("group")
@click.option("--in", "in_spec", default="trivial", show_default=True,
              help="Input representation in the notation (as inspect's --in) or an irrep id.")
@click.option("--out", "out_spec", help="Output representation, as --in (default: the first 2-dimensional irrep).")
@click.option("-k", "--kernel-size", default=9, show_default=True, type=click.IntRange(1), help="Kernel size.")
@click.option("-n", "--max-elements", default=12, show_default=True, type=click.IntRange(1),
              help="Show at most this many elements, spread over the basis.")
@click.option("-o", "--output", default="basis_filters.png", show_default=True, type=click.Path(dir_okay=False),
              help="The PNG file to write.")
@click.option("--dpi", default=90, show_default=True, type=click.IntRange(20, 600), help="Resolution of the PNG.")
@diffop_options()
def plot(group, in_spec, out_spec, kernel_size, max_elements, output, dpi, **diffop) -> None:
    """A PNG of sampled basis filters: one row per element (labelled with its number, ring, mu, gamma and, for
    finite groups, t), one column per matrix entry [o, i], one colour scale centred on 0; identically zero
    entries show as a grey "0" (needs the plot extra).  With --diffop, the stencils of the PDO basis
    (labelled with their order n and Laplacian power p).

    \b
    Examples:
      basisgen plot C8 --in 1 --out 1 -k 9 -n 8 -o docs/basis_filters.png
      basisgen plot C8 --in 1 --out 1 --diffop -k 5 -n 10 -o stencils.png
    """
    import numpy as np
    settings = diffop_settings(diffop, {})
    G = _group(group, irreps_up_to=10)
    rho_in = _representation(G, in_spec, "--in")
    if out_spec is None:
        psi = next((p for p in G.irreps if p.dim == 2), G.irreps[-1])
        rho_out = basisgen.Representation.from_irrep(psi)
    else:
        rho_out = _representation(G, out_spec, "--out")
    if rho_in.size * rho_out.size > 64:
        raise click.BadParameter(f"{rho_out.size} x {rho_in.size} images per element are too many to show; "
                                 "plot irreps or smaller representations", param_hint="--in/--out")
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        from basisgen.commands.plot import MISSING_MATPLOTLIB
        raise click.ClickException(MISSING_MATPLOTLIB) from None
    from basisgen.commands.plot import plot_basis
    if settings is None:
        basis, family = cache.BasisCache().get(rho_in, rho_out, kernel_size), ""
    else:
        params = diffop_params_of(settings, grid_kernel_size(settings, kernel_size))
        basis, kernel_size = cache.BasisCache().get(rho_in, rho_out, params), params.kernel_size
        family = f"PDOs of order <= {params.maximum_order} ({params.discretization.method}), "
    chosen = sorted(set(np.linspace(0, len(basis) - 1, min(max_elements, len(basis))).round().astype(int).tolist()))
    title = (f"{G.name}: {rho_in.name} -> {rho_out.name}, {family}kernel size {kernel_size} ({len(chosen)} of "
             f"{len(basis)} elements, #: the number in basisgen inspect)")
    plot_basis(basis, chosen, Path(output), title, dpi, finite=not G.continuous)
    click.echo(f"wrote {output}: {len(chosen)} of {len(basis)} elements, {rho_out.size * rho_in.size} image(s) each, "
               f"{format_size(Path(output).stat().st_size)}")


# ---- demo ----------------------------------------------------------------------------------------------
@main.command(short_help='The main job: a small C8 CNN, its equivariance, the cache at work.')
@click.option("--group", default="C8", show_default=True, help="C_N or D_N with N divisible by 4.")
@click.option("--size", default=33, show_default=True, type=click.IntRange(9), help="Side of the random test image.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the image and of the weights.")
def demo(group, size, seed) -> None:
    """The main job on a built-in default: derive and cache the bases of a small equivariant CNN, build
    it, and compare its equivariance error under 90-degree rotations with a plain CNN's.

    Nothing is downloaded.  Run it twice: the second run reads the bases from the cache.

    \b
    Example:
      basisgen demo --group D4
    """
    total = time.perf_counter()
    t = time.perf_counter()
    import torch
    from basisgen.commands import demo as cli_demo
    from e2layers import nn
    t_import = time.perf_counter() - t
    try:
        pairs, axis = cli_demo.demo_bases(group)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--group") from None
    G = basisgen.group_from_name(group)
    store = RecordingCache()
    click.echo(f"basisgen demo: a {G.name}-equivariant CNN next to a plain CNN, on a random 3x{size}x{size} image")
    click.echo(f"cache: {store.write_root or store.roots[0]}")
    _step("0. import torch and e2layers", t_import)

    t = time.perf_counter()
    for rho_in, rho_out in pairs:
        store.get(rho_in, rho_out, cli_demo.KERNEL_SIZE, axis=axis)
    said = {"created": "derived and cached", "reused": "read from the cache", "computed": "derived, not stored"}
    status = Counter(r["status"] for r in store.records.values())
    _step("1. bases: " + ", ".join(f"{n} {said[k]}" for k, n in status.items()), time.perf_counter() - t)

    t = time.perf_counter()
    torch.manual_seed(seed)
    previous = cache.default_cache()
    cache.set_default_cache(store)
    try:
        net = cli_demo.demo_network(group).eval()
    finally:
        cache.set_default_cache(previous)
    plain = cli_demo.plain_network(group).eval()
    _step("2. build the networks", time.perf_counter() - t)
    click.echo(f"   equivariant: R2Conv(3 trivial -> {cli_demo.FIELDS} regular) -> ReLU -> R2Conv -> GroupPooling, "
               f"{cli_demo.weight_count(net)} weights")
    click.echo(f"   plain:       Conv2d(3 -> {plain[0].out_channels}) -> ReLU -> Conv2d -> max over each field, "
               f"{cli_demo.weight_count(plain)} weights")

    t = time.perf_counter()
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(seed))
    err_eq = cli_demo.rotation_error(lambda v: net(nn.GeometricTensor(v, net.in_type)).tensor, x)
    err_plain = cli_demo.rotation_error(plain, x)
    _step("3. equivariance error under 90, 180, 270 degree rotations", time.perf_counter() - t)
    click.echo("   max |f(rot x) - rot f(x)| / max |f(x)|")
    click.echo(f"   equivariant CNN: {err_eq:.1e}")
    click.echo(f"   plain CNN:       {err_plain:.1e}")

    t = time.perf_counter()
    psi = next(p for p in G.irreps if p.dim == 2)
    elements = derive_angular_basis(G, psi, psi, G.rotation_order)     # latex's default band limit F = N
    lowest = min(range(len(elements)), key=lambda i: (elements[i].mu == 0, abs(elements[i].mu)))
    formula = pair_latex(G, psi, psi)[lowest]      # the element of the lowest non-zero frequency
    ids = ",".join(map(str, psi.id))
    _step(f"4. a kernel formula: basisgen latex {G.name} --in {ids} --out {ids}", time.perf_counter() - t)
    click.echo(f"   {formula}")
    stats = store.stats
    click.echo(f"cache: {stats['computed']} bases computed, {stats['written']} written, {stats['disk_hits']} read from "
               f"disk, {stats['memo_hits']} from memory; it holds {len(store.entries())} entries, "
               f"{format_size(store.total_size())}")
    click.echo(f"total {time.perf_counter() - total:.2f} s" + ("; run it again: the bases now come from the cache"
                                                                if stats["written"] else ""))


def _step(label: str, seconds: float) -> None:
    click.echo(f"{label.ljust(64)} {seconds:7.3f} s")


# ---- derive --------------------------------------------------------------------------------------------
@main.command(short_help='Derive and exactly verify every irrep pair of a group.')
@click.argument("group", default="D4")
@click.option("-F", "--maximum-frequency", default=3, show_default=True, type=click.IntRange(0),
              help="Band limit |mu| <= F for the finite groups.")
@click.option("-k", "--kernel-size", default=5, show_default=True, type=click.IntRange(1),
              help="Kernel size for sampling the regular -> regular basis (finite groups).")
def derive(group: str, maximum_frequency: int, kernel_size: int) -> None:
    """Derive and exactly verify the basis of every irrep pair of GROUP (C8, D4, SO2, O2, flip, trivial).

    \b
    Example:
      basisgen derive D8 -F 4 -k 7
    """
    G = _group(group)
    irreps = G.irreps
    pairs = [(i, o) for i in irreps for o in irreps]
    t0 = time.perf_counter()
    counts, elements = {}, []
    for psi_in, psi_out in pairs:
        try:
            basis = derive_angular_basis(G, psi_in, psi_out, maximum_frequency)
        except EmptyBasisError:
            basis = ()
        counts[(psi_in, psi_out)] = len(basis)
        elements += basis
    t_derive = time.perf_counter() - t0
    failures = 0
    with click.progressbar(elements, label=f"verifying {len(elements)} elements exactly",
                           file=sys.stderr) as bar:
        for e in bar:
            failures += not verify(e)
    t_verify = time.perf_counter() - t0 - t_derive
    band = "" if G.continuous else f", F={maximum_frequency}"
    click.echo(f"{G.name}{band}: {len(elements)} angular elements over {len(pairs)} irrep pairs "
               f"(derived in {t_derive:.2f} s, verified in {t_verify:.2f} s, {failures} failed)")
    click.echo("count matrix (rows: out irrep, columns: in irrep):")
    names = [p.name for p in irreps]
    width = max(len(n) for n in names)
    click.echo(" " * (width + 2) + " ".join(f"{n:>{width}}" for n in names))
    for psi_out in irreps:
        row = " ".join(f"{counts[(psi_in, psi_out)]:>{width}}" for psi_in in irreps)
        click.echo(f"{psi_out.name:>{width}}  {row}")
    if not G.continuous:
        rho = G.regular_representation
        t1 = time.perf_counter()
        sampled = sample_basis(rho, rho, kernel_size)
        click.echo(f"regular -> regular, kernel size {kernel_size}: {len(sampled)} filters of shape "
                   f"{sampled.array.shape[1:]} sampled in {time.perf_counter() - t1:.3f} s")
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
