"""A child process for tests/cache/test_cache.py: drives the basis cache from a separate interpreter.

Run as ``python tests/helpers/cache_worker.py MODE JSON`` with ``$BASISGEN_CACHE`` naming the cache and the
repository root on ``$PYTHONPATH``.  Modes (the JSON argument holds the mode's settings):

``hammer``
    Write ``ready``, wait for ``go-<round>`` before each round, get every configuration (in an order of
    its own), clear the memo, get them all again (now from disk), save the arrays to
    ``<out>/<name>-<round>.npz`` and the stats and warnings to ``<out>/<name>-<round>.json``.  With
    ``flock_unsupported``, ``fcntl.flock`` fails as on a filesystem without locks.
``pause-in-publish``
    Get one configuration with this process's ``os.replace`` wrapped so that publishing a cache entry
    first writes the temporary path to a marker file and then sleeps, so that the parent can SIGKILL it
    between write and publish (the library has no test hook: the worker patches its own process).
``get``
    Get the configurations once from a fresh cache; save arrays and stats like ``hammer``.
``churn``
    Derive the configuration once in memory (so that the lazily loaded derivation machinery is in), write
    ``ready``, then get a long sequence of distinct keys (one sigma each) until killed.
``keys``
    Print the digests of ``cache.basis_key`` for the configurations, as JSON.

Configurations are plain JSON so that parent and children build exactly the same arguments
(:func:`make_config`).
"""
from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np


def make_config(spec):
    """``(in_repr, out_repr, kernel_size, kwargs)`` for ``BasisCache.get`` / ``sample_basis`` from a spec dict.

    Keys: ``group`` (a name for :func:`basisgen.group_from_name`), ``k``, ``in``/``out`` (``regular``,
    ``trivial`` or ``permuted`` -- the regular representation in a permuted basis, same irreps and name),
    and any keyword of ``get`` (``dilation``, ``rings``, ``sigma``, ``frequencies_cutoff``,
    ``maximum_offset``, ``axis``, ``dtype``: only that of the returned ``array``, default float64).
    """
    import basisgen

    group = basisgen.group_from_name(spec["group"])

    def representation(name):
        if name == "regular":
            return group.regular_representation
        if name == "trivial":
            return group.trivial_representation
        if name == "permuted":
            rho = group.regular_representation
            permutation = np.roll(np.eye(rho.size), 1, axis=0)
            return basisgen.change_basis(rho, permutation, rho.name)
        raise ValueError(f"unknown representation {name!r}")

    kwargs = {k: v for k, v in spec.items() if k not in ("group", "k", "in", "out", "name")}
    return representation(spec.get("in", "regular")), representation(spec.get("out", "regular")), spec["k"], kwargs


def _wait_for(path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.002)


def _write_json(path: Path, value) -> None:
    """Publish ``value`` atomically: the parent polls for the file and must never read half of it."""
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(value))
    os.replace(part, path)


def hammer(settings) -> None:
    from basisgen import cache

    out = Path(settings["out"])
    name = settings["name"]
    configs = settings["configs"]
    if settings.get("flock_unsupported"):
        # as on a network filesystem without locks: flock fails with ENOLCK and writers race freely
        import errno
        import fcntl

        def flock(fd, operation):
            raise OSError(errno.ENOLCK, "No locks available")

        fcntl.flock = flock
    c = cache.BasisCache()
    rng = np.random.default_rng(settings["seed"])
    (out / f"ready-{name}").touch()
    for r in range(settings["rounds"]):
        _wait_for(out / f"go-{r}")
        c.clear_memo()
        c.stats = dict.fromkeys(c.stats, 0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            arrays = {}
            for i in rng.permutation(len(configs)):
                in_repr, out_repr, k, kwargs = make_config(configs[i])
                arrays[configs[i]["name"]] = c.get(in_repr, out_repr, k, **kwargs).array
            c.clear_memo()
            again = {}
            for spec in configs:
                in_repr, out_repr, k, kwargs = make_config(spec)
                again[spec["name"]] = c.get(in_repr, out_repr, k, **kwargs).array
        np.savez(out / f"{name}-{r}.npz", **arrays)
        _write_json(out / f"{name}-{r}.json", {
            "stats": c.stats, "warnings": [str(w.message) for w in caught],
            "same_on_reread": [s for s in arrays if np.array_equal(arrays[s], again[s])]})


def pause_in_publish(settings) -> None:
    from basisgen import cache
    from basisgen.cache.safe_io import TMP_PREFIX

    marker = Path(settings["marker"])
    replace = os.replace

    def paused_replace(src, dst, **kwargs):
        if Path(src).name.startswith(TMP_PREFIX) and str(dst).endswith(".h5"):   # the cache publishing an entry
            marker.with_suffix(".part").write_text(str(src))
            replace(marker.with_suffix(".part"), marker)
            time.sleep(600)
        return replace(src, dst, **kwargs)

    os.replace = paused_replace
    in_repr, out_repr, k, kwargs = make_config(settings["config"])
    cache.BasisCache().get(in_repr, out_repr, k, **kwargs)


def get(settings) -> None:
    """Get the configurations from a fresh cache; save the arrays and the stats."""
    from basisgen import cache

    c = cache.BasisCache()
    out = Path(settings["out"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        arrays = {}
        for spec in settings["configs"]:
            in_repr, out_repr, k, kwargs = make_config(spec)
            arrays[spec["name"]] = c.get(in_repr, out_repr, k, **kwargs).array
    np.savez(out / "arrays.npz", **arrays)
    _write_json(out / "result.json", {"stats": c.stats, "warnings": [str(w.message) for w in caught]})


def churn(settings) -> None:
    from basisgen import cache

    import basisgen

    c = cache.BasisCache()
    in_repr, out_repr, k, kwargs = make_config(settings["config"])
    basisgen.sample_basis(in_repr, out_repr, k, **kwargs)    # in memory: loads what deriving needs before "ready"
    Path(settings["ready"]).touch()
    for sigma in settings["sigmas"]:
        c.get(in_repr, out_repr, k, sigma=sigma, **kwargs)


def keys(settings) -> None:
    from basisgen import cache
    from basisgen.radial import basis_params

    digests = []
    for spec in settings["configs"]:
        in_repr, out_repr, k, kw = make_config(spec)
        kw.pop("dtype", None)                    # not part of the key: one float64 entry serves every dtype
        digests.append(cache.basis_key(in_repr, out_repr, basis_params(k, **kw)).digest)
    print(json.dumps(digests))


if __name__ == "__main__":
    mode, settings = sys.argv[1], json.loads(sys.argv[2])
    {"hammer": hammer, "get": get, "pause-in-publish": pause_in_publish, "churn": churn, "keys": keys}[mode](settings)
