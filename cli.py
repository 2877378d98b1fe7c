"""The ``basisgen`` command line.

``basisgen derive`` is the main job on a built-in default: it derives the kernel basis of every irrep
pair of a group by solving the kernel constraint, proves each element exactly, and samples the
regular -> regular basis on the pixel grid.
"""
from __future__ import annotations

import sys
import time

import click

import basisgen
from basisgen.derivation import derive_angular_basis
from basisgen.errors import EmptyBasisError
from basisgen.latex import group_table_latex, kernel_latex, pair_latex
from basisgen.sampling import sample_basis
from basisgen.verify import verify


def _parse_group(name: str) -> basisgen.Group:
    try:
        return basisgen.group_from_name(name, maximum_frequency=3)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="GROUP") from None


@click.group()
def main() -> None:
    """Derive, verify, sample and typeset steerable kernel bases of the planar groups."""


@main.command()
@click.argument("group", default="D4")
@click.option("-F", "--maximum-frequency", default=3, show_default=True, type=click.IntRange(0),
              help="Band limit |mu| <= F for the finite groups.")
@click.option("-k", "--kernel-size", default=5, show_default=True, type=click.IntRange(1),
              help="Kernel size for sampling the regular -> regular basis (finite groups).")
def derive(group: str, maximum_frequency: int, kernel_size: int) -> None:
    """Derive and exactly verify the basis of every irrep pair of GROUP (C8, D4, SO2, O2, flip, trivial).

    Example: basisgen derive D8 -F 4 -k 7
    """
    G = _parse_group(group)
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


def _parse_irrep(G: basisgen.Group, text: str, option: str) -> basisgen.Irrep:
    try:
        return G.irrep(*[int(x) for x in text.split(",")])
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint=option) from None


@main.command()
@click.argument("group")
@click.option("--in", "in_irrep", help="Input irrep id, e.g. 1 or 1,1.")
@click.option("--out", "out_irrep", help="Output irrep id, e.g. 2 or 1,0.")
@click.option("-F", "--maximum-frequency", type=click.IntRange(0), help="Band limit (finite groups; default N).")
@click.option("--table", is_flag=True, help="Every irrep pair of the group.")
@click.option("--kernel", is_flag=True, help="The full kernel kappa(r, phi) of the pair instead of one line per element.")
@click.option("--concrete", is_flag=True, help="Substitute the integers instead of writing m, n, N, t.")
@click.option("--standalone", is_flag=True, help="With --table: a compilable LaTeX document (amsmath).")
@click.option("-o", "--output", type=click.File("w"), default="-", help="Write to a file instead of stdout.")
def latex(group, in_irrep, out_irrep, maximum_frequency, table, kernel, concrete, standalone, output) -> None:
    """The closed-form kernel basis of GROUP as LaTeX (math mode, no $ delimiters).

    Example: basisgen latex D4 --in 1,1 --out 1,0 -F 5
    """
    G = _parse_group(group)
    symbolic = not concrete
    if table:
        click.echo(group_table_latex(G, maximum_frequency, standalone=standalone, symbolic=symbolic), file=output)
        return
    if in_irrep is None or out_irrep is None:
        raise click.UsageError("give --in and --out irreps, or --table")
    psi_in, psi_out = _parse_irrep(G, in_irrep, "--in"), _parse_irrep(G, out_irrep, "--out")
    if kernel:
        click.echo(kernel_latex(G, psi_in, psi_out, maximum_frequency, symbolic=symbolic), file=output)
        return
    for line in pair_latex(G, psi_in, psi_out, maximum_frequency, symbolic=symbolic):
        click.echo(line, file=output)


if __name__ == "__main__":
    main()
