"""Helpers of the ``basisgen`` command (``cli.py``): group and representation specs, precompute tasks.

A *task* is one basis: a group, an input and an output representation, a kernel size and the radial
settings, all as plain strings and numbers so that worker processes can rebuild it.  Tasks run in this
process or in worker processes (the ``spawn`` context); every worker writes to the same cache, which
is safe under concurrent writers (docs/cache.md).  :class:`RecordingCache` notes, per key, whether a
basis was created or reused, which is what ``precompute`` reports.
"""
from __future__ import annotations

import concurrent.futures
import importlib
import multiprocessing
import os
import re
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

import basisgen
from basisgen import limits, notation
from basisgen.errors import EmptyBasisError, InvalidValueError
from basisgen.irreps import Irrep
from basisgen.pdo_sampling import diffop_params
from basisgen.radial import KernelParams
from basisgen.representation import Representation
from basisgen.cache import BasisCache

_RANGE = re.compile(r"([CD])(\d+)-([CD]?)(\d+)", re.IGNORECASE)
_IDS = re.compile(r"-?\d+(\s*,\s*-?\d+)*")


def parse_groups(text: str, irreps_up_to: int = 3) -> List[basisgen.Group]:
    """Groups from ``C4,C8,D4-D8,SO2,O2,flip,trivial`` (ranges stay in one family), in order, once each.

    ``irreps_up_to`` bounds the irreps listed for SO(2) and O(2) (their ``irreps`` spec).

    Examples
    --------
    >>> [G.name for G in parse_groups("C4,D2-D4,SO2")]
    ['C4', 'D2', 'D3', 'D4', 'SO(2)']
    """
    out: List[basisgen.Group] = []
    for token in text.split(","):
        token = token.strip()
        match = _RANGE.fullmatch(token)
        if match:
            family, lo, other, hi = match.groups()
            if other and other.upper() != family.upper():
                raise ValueError(f"a group range stays in one family (C4-C8 or D4-D8), got {token!r}")
            first, last = (int(n) if len(n.lstrip("0")) <= 18 else 10 ** 18 for n in (lo, hi))
            if not 1 <= first <= last:
                raise ValueError(f"a group range needs 1 <= first <= last, got {token[:60]!r}")
            basisgen.group_from_name(f"{family}{hi}")     # the largest group first: refused at once if too large
            limits.check(last - first + 1, "MAX_GROUP_RANGE", f"the range {token!r} names {last - first + 1} groups")
            names = [f"{family.upper()}{n}" for n in range(first, last + 1)]
        else:
            names = [token]
        for name in names:
            G = basisgen.group_from_name(name, maximum_frequency=irreps_up_to)
            if G not in out:
                out.append(G)
    return out


def notation_of(spec: str) -> str:
    """The representation notation (:mod:`basisgen.notation`) of a command-line spec.

    The notation passes through; two shorthands are rewritten: an irrep id (``1``, ``1,1``) is
    ``irrep(1)``/``irrep(1,1)``, and the older ``irrep:1,1`` and ``quotient:none,2`` (``quotient:2``)
    spellings are ``irrep(1,1)`` and ``quotient((None, 2))`` (``quotient(2)``).

    Examples
    --------
    >>> [notation_of(s) for s in ("1,1", "irrep:1", "quotient:none,2", "quotient((0, 2))")]
    ['irrep(1,1)', 'irrep(1)', 'quotient((None, 2))', 'quotient((0, 2))']
    """
    s = spec.strip()
    if _IDS.fullmatch(s):
        return f"irrep({s})"
    kind, colon, arg = s.partition(":")
    if colon and kind.strip().lower() == "irrep" and _IDS.fullmatch(arg.strip()):
        return f"irrep({arg.strip()})"
    if colon and kind.strip().lower() == "quotient":
        ids = ["None" if p.strip().lower() == "none" else p.strip() for p in arg.split(",")]
        return f"quotient({ids[0]})" if len(ids) == 1 else f"quotient(({', '.join(ids)}))"
    return s


def parse_representations(spec: str, G: basisgen.Group) -> List[Tuple[str, Representation]]:
    """``(notation, representation)`` pairs for one representation spec of ``G``.

    A spec is one representation in the notation of :mod:`basisgen.notation` (``regular``, ``trivial``,
    ``irrep(1)``, ``irrep(1, 1)``, ``quotient((None, 2))``, ``induced((None, 4), irrep(1))``, an irrep's
    name ``irrep_1,1``), a shorthand of :func:`notation_of` (``1,1``), or ``irreps``: every irrep of
    ``G``, each its own representation.

    Examples
    --------
    >>> [s for s, _ in parse_representations("irreps", basisgen.dihedral_group(2))]
    ['irrep(0, 0)', 'irrep(1, 0)', 'irrep(1, 1)', 'irrep(0, 1)']
    >>> parse_representations("quotient(2)", basisgen.cyclic_group(8))[0][1].size
    4
    """
    if spec.strip() == "irreps":
        return [(notation.format_term(notation.Term(1, "irrep", psi.id)), Representation.from_irrep(psi))
                for psi in G.irreps]
    text = notation_of(spec)
    terms = notation.parse(text).terms
    if len(terms) != 1 or terms[0].count != 1:
        count = sum(term.count for term in terms)
        raise InvalidValueError(f"{spec!r} names {count} fields; give one representation (e.g. regular or "
                                "irrep(1)), or irreps for every irrep")
    term = terms[0]
    if term.kind == "regular" and G.continuous:
        raise InvalidValueError(f"{G.name} has no regular representation (a continuous group); use irreps or "
                                "irrep(K)")
    return [(notation.format_term(term), notation.representation(G, term, text))]


def parse_irrep(spec: str, G: basisgen.Group) -> Irrep:
    """The irrep of ``G`` that ``spec`` names: an id (``1``, ``1,1``), ``irrep(1, 1)``, ``irrep_1,1`` or
    ``trivial``.

    Examples
    --------
    >>> parse_irrep("irrep(1, 1)", basisgen.dihedral_group(4)) == parse_irrep("1,1", basisgen.dihedral_group(4))
    True
    """
    if spec.strip() != "irreps":
        (_, rho), = parse_representations(spec, G)
        if rho.irreducible:
            return rho.irreps[0]
    raise InvalidValueError(f"{spec!r} is not an irrep of {G.name}; give an id (1 or 1,1) or irrep(...)")


@dataclass(frozen=True)
class Task:
    """One basis to precompute, as plain values (so that a worker process can rebuild it)."""

    group: str
    irreps_up_to: int
    in_spec: str
    out_spec: str
    kernel_size: Optional[int]
    dilation: int = 1
    sigma: Optional[float] = None
    frequencies_cutoff: Optional[float] = None
    maximum_offset: Optional[int] = None
    rings: Optional[Tuple[float, ...]] = None
    axis: Optional[float] = None
    dtype: str = "float32"
    #: a PDO basis: the keyword arguments of ``diffop_params`` besides the grid, as sorted pairs (None: a kernel)
    diffop: Optional[Tuple[Tuple[str, Any], ...]] = None

    def params(self) -> KernelParams:
        """The basis parameters: R2Conv's, or R2Diffop's for a PDO task (``kernel_size`` None: from the order)."""
        if self.diffop is None:
            return basisgen.basis_params(self.kernel_size, self.dilation, self.rings, self.sigma,
                                         self.frequencies_cutoff, self.maximum_offset, axis=self.axis)
        return diffop_params(kernel_size=self.kernel_size, dilation=self.dilation, maximum_offset=self.maximum_offset,
                             axis=self.axis, **dict(self.diffop))


class RecordingCache(BasisCache):
    """A :class:`cache.BasisCache` that records, per distinct key, whether :meth:`get` created or reused it.

    It hooks the one place every :meth:`get` passes through once the basis parameters are built, so it
    shares ``get``'s signature rather than copying it.  ``records`` maps digests to dicts: group, in, out,
    kernel_size, dilation, dtype (of the returned basis's ``array``), status (``created``,
    ``reused``, ``computed`` when no cache directory was writable, ``empty`` when no kernel exists),
    seconds, elements, bytes, key and path.
    """

    def __init__(self, roots=None):
        super().__init__(roots)
        self.records: Dict[str, Dict[str, Any]] = {}

    def _get(self, in_repr, out_repr, params, dtype):
        if params.basis_filter is not None:    # not cacheable: nothing to record
            return super()._get(in_repr, out_repr, params, dtype)
        key = self.key(in_repr, out_repr, params)
        before = dict(self.stats)
        t0 = time.perf_counter()
        try:
            basis = super()._get(in_repr, out_repr, params, dtype)
        except EmptyBasisError:
            self._record(key, in_repr, out_repr, params, dtype, None, before, t0)
            raise
        self._record(key, in_repr, out_repr, params, dtype, basis, before, t0)
        return basis

    def _record(self, key, in_repr, out_repr, params, dtype, basis, before, t0) -> None:
        if key.digest in self.records:      # a second get of the same key is a memo hit: keep the first
            return
        delta = {k: self.stats[k] - before[k] for k in before}
        status = ("empty" if basis is None else "created" if delta["written"]
                  else "computed" if delta["computed"] else "reused")
        path = self.locate(key)
        self.records[key.digest] = {
            "group": in_repr.group.name, "in": in_repr.name, "out": out_repr.name,
            "kind": params.kind, "kernel_size": int(params.kernel_size), "dilation": int(params.dilation),
            "dtype": np.dtype(dtype).name,
            "status": status, "seconds": time.perf_counter() - t0, "elements": 0 if basis is None else len(basis),
            "bytes": path.stat().st_size if path is not None else 0, "key": key.digest,
            "path": None if path is None else str(path)}


def run_task(roots: Sequence[str], task: Task) -> Dict[str, Any]:
    """Get one task's basis through a cache on ``roots``; its record (see :class:`RecordingCache`)."""
    G = basisgen.group_from_name(task.group, maximum_frequency=task.irreps_up_to)
    (_, rho_in), = parse_representations(task.in_spec, G)
    (_, rho_out), = parse_representations(task.out_spec, G)
    recorder = RecordingCache(roots)
    try:
        recorder.get(rho_in, rho_out, task.params(), dtype=np.dtype(task.dtype))
    except EmptyBasisError:
        pass
    record, = recorder.records.values()
    record["task"] = asdict(task)
    return record


def run_tasks(roots: Sequence[str], tasks: Sequence[Task], jobs: int) -> Iterator[Dict[str, Any]]:
    """Yield the record of every task as it finishes: in this process (``jobs == 1``) or in ``jobs``
    worker processes started with ``spawn`` (no fork of a process holding threads or HDF5 handles)."""
    roots = [str(r) for r in roots]
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield run_task(roots, task)
        return
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context) as pool:
        futures = [pool.submit(run_task, roots, task) for task in tasks]
        try:
            for future in concurrent.futures.as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def load_factory(spec: str) -> Callable[[], Any]:
    """The callable named by ``package.module:factory`` (dotted attributes allowed after the colon).

    Importing the module runs its code.  torch and e2layers are imported first and the current directory
    is searched last, after the installed packages, so that a file in the current directory (a stray
    ``torch.py``) never stands in for an installed module; a project's own modules are still found.
    """
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"--model must read package.module:factory, got {spec!r}")
    importlib.import_module("torch")
    importlib.import_module("e2layers")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.append(os.getcwd())
    try:
        obj = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            raise ValueError(f"cannot import module {module_name!r} (from --model {spec!r}): {err}") from None
        raise
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"module {module_name!r} has no attribute {attribute!r} (from --model {spec!r})") from None
    if not callable(obj):
        raise ValueError(f"{spec!r} is not callable; --model names a function that builds the model")
    return obj


def summarise(records: Sequence[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """Per group (and ``total``): entries, created, reused, computed, empty, seconds, bytes."""
    rows: Dict[str, Dict[str, Any]] = {}
    for r in records:
        for name in (r["group"], "total"):
            row = rows.setdefault(name, {"entries": 0, "created": 0, "reused": 0, "computed": 0, "empty": 0,
                                         "seconds": 0.0, "bytes": 0})
            row["entries"] += 1
            row[r["status"]] += 1
            row["seconds"] += r["seconds"]
            row["bytes"] += r["bytes"]
    if "total" in rows:
        rows["total"] = rows.pop("total")    # last
    return rows


def format_size(n: float) -> str:
    """``1536`` -> ``'1.5 KB'``.

    Examples
    --------
    >>> format_size(512), format_size(1536), format_size(3 * 1024 ** 2)
    ('512 B', '1.5 KB', '3.0 MB')
    """
    for unit in ("B", "KB", "MB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def format_table(header: Sequence[Any], rows: Sequence[Sequence[Any]], align: Optional[str] = None) -> str:
    """A plain-text table; ``align`` has one ``l`` or ``r`` per column (default: first left, others right).

    Examples
    --------
    >>> print(format_table(["group", "n"], [["C8", 4], ["D16", 12]]))
    group   n
    C8      4
    D16    12
    """
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    align = align or "l" + "r" * (len(header) - 1)
    return "\n".join("  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align)).rstrip()
                     for r in cells)
