"""``basisgen cache path|ls|info|verify|clear|export|import`` (a helper of ``cli.py``).

Every command builds a :class:`cache.BasisCache` from the environment, so it sees the directories
``$BASISGEN_CACHE`` names at that moment (docs/cache.md).
"""
from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Optional

import click

import basisgen
from basisgen import cache
from basisgen.commands.tasks import format_size, format_table


@click.group(name="cache", short_help="Manage the basis cache: path, ls, info, verify, clear, export, import.")
def cache_command() -> None:
    """Manage the basis cache ($BASISGEN_CACHE, else $XDG_CACHE_HOME/basisgen, else ~/.cache/basisgen).

    \b
    Example:
      basisgen cache info
    """


def _group_name(name: Optional[str]) -> Optional[str]:
    if name is None:
        return None
    try:
        return basisgen.group_from_name(name).name
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--group") from None


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


@cache_command.command(name="path", short_help='The directory new entries go to (--all: every directory).')
@click.option("--all", "all_roots", is_flag=True, help="Every directory searched, in order, with its state.")
def cache_path(all_roots) -> None:
    """The directory new entries go to (or, with --all, every cache directory in search order).

    \b
    Example:
      du -sh "$(basisgen cache path)"
    """
    store = cache.BasisCache()
    if not all_roots:
        click.echo(str(store.write_root or store.roots[0]))
        return
    write_root = store.write_root
    for root in store.roots:
        state = ("writable, new entries go here" if root == write_root
                 else "writable" if root.is_dir() and os.access(root, os.W_OK) else "read-only or missing")
        click.echo(f"{root}  ({state})")


@cache_command.command(name="ls", short_help='List the entries.')
@click.option("--group", help="Only the entries of this group (e.g. D4, SO2).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead.")
def cache_ls(group, as_json) -> None:
    """List the entries: key, group, representations, kernel size, elements, size, creation time.

    \b
    Example:
      basisgen cache ls --group D4
    """
    entries = cache.BasisCache().entries(_group_name(group))
    rows = [{"key": e.digest, "group": e.group, "in": e.description["in"]["name"], "out": e.description["out"]["name"],
             "kernel_size": e.description["kernel_size"], "dilation": e.description["dilation"],
             "dtype": e.description.get("dtype", "float64"), "elements": e.elements, "bytes": e.size_bytes, "created": e.created,
             "path": str(e.path)} for e in entries]
    rows.sort(key=lambda r: (r["group"], r["in"], r["out"], r["kernel_size"], r["dilation"], r["dtype"]))
    if as_json:
        _emit_json(rows)
        return
    click.echo(format_table(["key", "group", "in -> out", "k", "dil", "dtype", "elements", "size", "created"],
                      [[r["key"][:12], r["group"], f"{r['in']} -> {r['out']}", r["kernel_size"], r["dilation"],
                        r["dtype"], r["elements"], format_size(r["bytes"]), r["created"]] for r in rows], "lllrrlrrl"))
    click.echo(f"{len(rows)} entries, {format_size(sum(r['bytes'] for r in rows))}")


@cache_command.command(name="info", short_help='Where the cache is, its entries per group, its size.')
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead.")
def cache_info(as_json) -> None:
    """Where the cache is, how many entries it holds per group, and its size.

    \b
    Example:
      basisgen cache info --json
    """
    store = cache.BasisCache()
    entries = store.entries()
    write_root = store.write_root
    quarantined = sum(1 for r in store.roots if (r / "quarantine").is_dir() for _ in (r / "quarantine").iterdir())
    info = {"roots": [{"path": str(r), "writable": r == write_root} for r in store.roots],
            "write_root": None if write_root is None else str(write_root), "entries": len(entries),
            "bytes": store.total_size(), "per_group": dict(sorted(Counter(e.group for e in entries).items())),
            "quarantined": quarantined}
    if as_json:
        _emit_json(info)
        return
    for r in info["roots"]:
        click.echo(f"root: {r['path']} ({'new entries go here' if r['writable'] else 'read only'})")
    click.echo(f"entries: {info['entries']} ({format_size(info['bytes'])})")
    click.echo("per group: " + (", ".join(f"{g} {n}" for g, n in info["per_group"].items()) or "-"))
    click.echo(f"quarantined files: {quarantined}")


@cache_command.command(name="verify", short_help="Check every entry's content; quarantine damaged ones (exit 1 if any).")
@click.option("--quick", is_flag=True, help="Check checksums and structure only; do not recompute.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead.")
def cache_verify(quick, as_json) -> None:
    """Check every entry of every cache directory; quarantine what is damaged.

    \b
    What is checked:
      default  each entry's SHA-256, its structure against its key (shapes, layout, irrep and ring
               indices, changes of basis), and its content: the basis is recomputed with basisgen
               and compared (catches deliberate edits with a recomputed checksum; about as slow as
               computing every basis once)
      --quick  checksum and structure only (catches every accident: truncation, flipped bits,
               partial writes, files of another key; not a deliberate edit)

    Damaged entries are moved to quarantine/, partial writes of dead processes removed. Entries this
    user may not read are reported as skipped; damage in a directory this user cannot write is
    reported as left in place; neither is moved. A cache directory holding files the cache did not
    create is refused (exit 1) and nothing in it is touched.

    Exits 1 if any damage was found, 0 otherwise.

    \b
    Example:
      basisgen cache verify || echo "damaged entries were found"
    """
    store = cache.BasisCache()
    try:
        findings = store.verify(content=not quick)
    except cache.ForeignFiles as err:
        raise click.ClickException(str(err)) from None
    remaining = len(store.entries())
    damaged = [f for f in findings if f.damaged]
    if as_json:
        _emit_json({"findings": [{"path": str(f.path), "problem": f.problem, "action": f.action} for f in findings],
                    "removed": [str(f) for f in findings if f.action in ("quarantined", "removed")],
                    "entries": remaining, "clean": not damaged})
    else:
        words = {"quarantined": "removed", "removed": "removed", "left": "left in place (read-only)",
                 "skipped": "skipped (not readable by this user)"}
        for f in findings:
            click.echo(f"{words[f.action]} {f}")
        moved = sum(f.action in ("quarantined", "removed") for f in findings)
        click.echo(f"{remaining} entries verified; " + (
            f"{moved} damaged or partial files removed" + (f", {len(findings) - moved} not removed"
                                                           if len(findings) > moved else "")
            if findings else "all clean"))
    if damaged:
        sys.exit(1)


@cache_command.command(name="clear", short_help="Delete entries (all, or one group's).")
@click.option("--group", help="Only the entries of this group.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def cache_clear(group, yes) -> None:
    """Delete the entries of the writable cache directories (all, or one group's).

    Only files the cache recognises as its entries are deleted; a cache directory holding files the
    cache did not create is refused and nothing in it is touched.

    \b
    Example:
      basisgen cache clear --group C8 --yes
    """
    store = cache.BasisCache()
    name = _group_name(group)
    if not yes:
        click.confirm(f"delete {len(store.entries(name))} entries{'' if name is None else ' of ' + name} from "
                      f"{store.write_root}?", abort=True, err=True)
    try:
        click.echo(f"removed {store.clear(name)} entries")
    except cache.ForeignFiles as err:
        raise click.ClickException(str(err)) from None


@cache_command.command(name="export", short_help='Write entries to one HDF5 file.')
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--group", help="Only the entries of this group.")
def cache_export(file, group) -> None:
    """Write the entries (all, or one group's) to one HDF5 FILE, e.g. to ship with a model.

    \b
    Example:
      basisgen cache export d8-bases.h5 --group D8
    """
    try:
        count = cache.BasisCache().export(file, _group_name(group))
    except OSError as err:
        raise click.ClickException(f"cannot write {file}: {err}") from None
    click.echo(f"exported {count} entries to {file} ({format_size(Path(file).stat().st_size)})")


@cache_command.command(name="import", short_help='Add the entries of an exported file.')
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def cache_import(file) -> None:
    """Add the entries of FILE (made by cache export) to the writable cache.

    Each entry is checked and recomputed with basisgen before it is published (a checksum in a file
    from elsewhere proves nothing); entries that fail are skipped with a warning. A file that is not
    an export, or a cache with no writable directory, is an error (exit 1).

    \b
    Example:
      basisgen cache import d8-bases.h5
    """
    store = cache.BasisCache()
    try:
        count = store.import_(file)
    except cache.CacheError as err:
        raise click.ClickException(str(err)) from None
    except OSError as err:
        raise click.ClickException(f"cannot import {file}: {err.strerror or err}") from None
    click.echo(f"imported {count} entries into {store.write_root}")
