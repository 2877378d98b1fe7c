"""``basisgen latex``'s texts: the formulas of a pair, its layer kernel (``--kernel``), a group's table, the PDO
basis of a pair (``--diffop``), and the standalone documents around them
(:func:`basisgen.latex_document.latex_document`, with the legend of their symbols)."""
from __future__ import annotations

import shlex
from typing import Any, Dict, Optional

import click

import basisgen
from basisgen.latex import group_table_latex, pair_latex, table_lines
from basisgen.latex_document import latex_document, legend

from .diffop import flag, usage_error
from .tasks import parse_irrep


def parse_irrep_option(G: basisgen.Group, text: str, option: str) -> basisgen.Irrep:
    """The irrep ``text`` names, or a usage error naming ``option``."""
    try:
        return parse_irrep(text, G)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint=option) from None


def _option(name: str) -> str:
    """The option of a kernel keyword, as the user types it (``-k`` for the kernel size)."""
    return "-k" if name == "kernel_size" else flag(name)


def _pair(G: basisgen.Group, in_irrep: Optional[str], out_irrep: Optional[str], what: str):
    if in_irrep is None or out_irrep is None:
        raise click.UsageError(f"give --in and --out irreps{what}")
    return parse_irrep_option(G, in_irrep, "--in"), parse_irrep_option(G, out_irrep, "--out")


def _command_line(group: str, in_irrep: Optional[str], out_irrep: Optional[str], options: Dict[str, Any]) -> str:
    """The command that makes the document: the pair, then every option given, then ``--standalone``."""
    pair = [] if in_irrep is None else ["--in", shlex.quote(str(in_irrep)), "--out", shlex.quote(str(out_irrep))]
    given = []
    for name, value in options.items():
        if value is True:
            given.append(name)
        elif value not in (None, False):
            given += [name, shlex.quote(str(value))]
    return " ".join(["basisgen latex", group] + pair + given + ["--standalone"])


def layer_kernel_params(kernel_size: Optional[int], dilation: int, rings: Optional[str], sigma: Optional[float],
                        frequencies_cutoff: Optional[float]):
    """R2Conv's parameters (:func:`basisgen.basis_params`) of the options, or a usage error naming them."""
    from basisgen.radial import basis_params
    radii = None
    if rings is not None:
        try:
            radii = [float(x) for x in rings.split(",")]
        except ValueError:
            raise click.BadParameter(f"expected comma-separated radii in pixels, got {rings!r}",
                                     param_hint="--rings") from None
    try:
        return basis_params(5 if kernel_size is None else kernel_size, dilation, rings=radii, sigma=sigma,
                            frequencies_cutoff=frequencies_cutoff)
    except ValueError as err:
        raise click.UsageError(f"the kernel options (-k, --dilation, --rings, --sigma, --frequencies-cutoff) "
                               f"are invalid: {err}") from None


def kernel_basis_latex(G: basisgen.Group, group: str, in_irrep: Optional[str], out_irrep: Optional[str], *,
                       maximum_frequency: Optional[int], table: bool, array: bool, kernel: bool, concrete: bool,
                       symbolic: bool, standalone: bool, shape: Dict[str, Any]) -> str:
    """The text of ``basisgen latex`` for kernel bases (every mode but ``--diffop``), ending in a newline.

    A pair is concrete unless ``symbolic``; a table symbolic unless ``concrete``; ``--kernel`` states the layer's
    kernel for the ``shape`` options (keywords ``kernel_size``, ``dilation``, ``rings``, ``sigma``,
    ``frequencies_cutoff``, as the command takes them).
    """
    if symbolic and concrete:
        raise click.UsageError("--symbolic and --concrete exclude each other")
    if array and not table:
        raise click.UsageError("--array goes with --table")
    given = [_option(k) for k, v in shape.items() if v is not None and not (k == "dilation" and v == 1)]
    if given and not kernel:
        raise click.UsageError(f"{', '.join(given)} {'shapes' if len(given) == 1 else 'shape'} the layer's kernel: "
                               f"use {'it' if len(given) == 1 else 'them'} with --kernel")
    if kernel and (table or maximum_frequency is not None):
        raise click.UsageError("--kernel states one pair's kernel with the band limits of its rings: it takes "
                               "neither --table nor -F (use --frequencies-cutoff)")
    options = {"-F": maximum_frequency, "--table": table, "--array": array, "--kernel": kernel,
               "--symbolic": symbolic, "--concrete": concrete, **{_option(k): v for k, v in shape.items()}}
    if options["--dilation"] == 1:
        options["--dilation"] = None
    if G.continuous and G.maximum_frequency != 3:
        options["-L"] = G.maximum_frequency
    command = _command_line(group, None if table else in_irrep, None if table else out_irrep, options)
    if table:
        symbolic = not concrete
        if standalone or array:
            text = group_table_latex(G, maximum_frequency, standalone=standalone, symbolic=symbolic, command=command)
            return text.rstrip("\n") + "\n"
        return "\n".join(table_lines(G, maximum_frequency, symbolic=symbolic)) + "\n"
    psi_in, psi_out = _pair(G, in_irrep, out_irrep, ", or --table")
    if kernel:
        from basisgen.layer_latex import kernel_latex
        params = layer_kernel_params(**shape)
        lines = [kernel_latex(G, psi_in, psi_out, params, symbolic=symbolic)]
    else:
        lines = pair_latex(G, psi_in, psi_out, maximum_frequency, symbolic=symbolic) or [r"\kappa(r, \phi) = 0"]
    if standalone:
        return latex_document(f"Steerable kernel basis of {G.name}", command, lines,
                              legend(G, symbolic=symbolic, kernel=kernel))
    return "\n".join(lines) + "\n"


def diffop_latex(G: basisgen.Group, group: str, in_irrep: Optional[str], out_irrep: Optional[str], settings: dict,
                 standalone: bool) -> str:
    """``latex --diffop``: the PDO basis of one pair (``pdo_basis_latex``), exact, no grid; ends in a newline."""
    from basisgen.pdo_latex import pdo_basis_latex
    if settings["maximum_order"] is None:
        raise click.UsageError("--diffop needs --maximum-order, the largest derivative order of the basis")
    psi_in, psi_out = _pair(G, in_irrep, out_irrep, " with --diffop")
    try:
        text = pdo_basis_latex(G, psi_in, psi_out, **settings)
    except ValueError as err:
        raise usage_error(err) from None
    if standalone:
        options = {"--diffop": True, **{flag(k): v for k, v in settings.items()}}
        command = _command_line(group, in_irrep, out_irrep, options)
        return latex_document(f"Steerable PDO basis of {G.name}", command, [text], legend(G, diffop=True))
    return text + "\n"
