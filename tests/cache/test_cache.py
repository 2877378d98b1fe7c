"""The basis cache under real processes, crashes, damaged files and read-only directories.

Each guarantee of ``cache/`` is shown the way it is meant to hold in use: several interpreters started
with ``sys.executable`` (``tests/helpers/cache_worker.py``) share one ``$BASISGEN_CACHE`` directory, writers are
killed with SIGKILL, entry files are truncated, bit-flipped or replaced by foreign files.  Expected
bases always come from an independent in-process :func:`basisgen.sample_basis` call, never from the
cache under test.
"""
from __future__ import annotations

import ast
import fcntl
import functools
import json
import logging
import os
import random
import re
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import time
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

import basisgen
from basisgen import cache
import basisgen.cache.store
import basisgen.cache.layout
from basisgen.radial import basis_params
from basisgen.sampling import sample_basis
from basisgen.cache import BasisCache, basis_key, cache_roots
from basisgen.cache.entry import read_entry
from cache_worker import make_config
from paths import HELPERS, ROOT

WORKER = HELPERS / "cache_worker.py"


# ---- helpers ---------------------------------------------------------------------------------------
def spec(group, k, name=None, **kwargs):
    """A JSON configuration understood by :func:`cache_worker.make_config` (dtype defaults to float64)."""
    return {"name": name or f"{group}-k{k}", "group": group, "k": k, **kwargs}


def spawn(mode, settings, cache_env, **env):
    """Start ``cache_worker.py MODE`` with ``$BASISGEN_CACHE=cache_env`` importing this working tree."""
    child_env = dict(os.environ)
    child_env["BASISGEN_CACHE"] = str(cache_env)
    child_env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    child_env.update(env)
    return subprocess.Popen([sys.executable, str(WORKER), mode, json.dumps(settings)], env=child_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc, timeout=60):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"child failed ({proc.returncode}):\n{err}"
    return out


def wait_for(path, proc=None, timeout=60):
    """Wait until ``path`` exists; fail at once (with the child's stderr) if ``proc`` died first."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"child exited with {proc.returncode} before {path.name} appeared:\n"
                        f"{proc.stderr.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"{path} did not appear within {timeout} s")
        time.sleep(0.005)


def kill_all(procs):
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.communicate()


def key_of(config):
    in_repr, out_repr, k, kw = make_config(config)
    kw.pop("dtype", None)
    return basis_key(in_repr, out_repr, basis_params(k, **kw))


def entry_path(root, config):
    digest = key_of(config).digest
    return root / cache.store.ENTRIES / digest[:2] / f"{digest}.h5"


@functools.lru_cache(maxsize=None)
def _reference(config_json):
    in_repr, out_repr, k, kw = make_config(json.loads(config_json))
    return sample_basis(in_repr, out_repr, k, **kw)


def reference(config):
    """The basis computed in this process by basisgen alone."""
    return _reference(json.dumps(config, sort_keys=True))


def assert_same_array(got, config):
    """``got`` equals sample_basis's ``.array`` (the cache stores float64 blocks and expands them in the dtype
    asked for, as sample_basis does): bit for bit in float64, to rounding in float32."""
    expected = reference(config).array
    assert got.dtype == expected.dtype and got.shape == expected.shape
    if got.dtype == np.float64:
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def assert_same_basis(got, config):
    expected = reference(config)
    assert_same_array(got.array, config)
    np.testing.assert_array_equal(got.element_index, expected.element_index)
    np.testing.assert_array_equal(got.element_values, expected.element_values)
    assert got.params == expected.params and got.axis == expected.axis


def get(c, config, **extra):
    in_repr, out_repr, k, kw = make_config(config)
    return c.get(in_repr, out_repr, k, **kw, **extra)


def populate(root, configs):
    c = BasisCache([root])
    for config in configs:
        get(c, config)
    assert c.stats["written"] == len(configs)
    return [entry_path(root, config) for config in configs]


def tmp_files(root):
    return sorted(root.rglob(".tmp-*"))


def runtime_warnings(record):
    return [w for w in record if issubclass(w.category, RuntimeWarning)]


@pytest.fixture(autouse=True)
def _fresh_default_cache():
    cache.set_default_cache(None)
    yield
    cache.set_default_cache(None)


# ---- 1. many processes, one directory --------------------------------------------------------------
HAMMER = [spec(g, k) for g in ("C4", "C8", "D4") for k in (3, 5)] + \
         [spec("C8", 5, name="C8-k5-float32", sigma=0.5, dtype="float32"),
          spec("D4", 3, name="D4-k3-float32", dilation=2, dtype="float32")]
N_PROCESSES = 8
ROUNDS = 4      # 3 from an empty directory, then 1 in which every entry has been damaged


@pytest.mark.slow
@pytest.mark.parametrize("locks", ["flock", "no-flock"])
def test_processes_hammering_overlapping_keys_agree_and_leave_a_clean_cache(tmp_path, locks):
    """8 processes released at once get the same 8 keys (each in its own order): 3 rounds from an empty
    directory (emptied between rounds, its lock files kept), then a round in which every entry file has
    flipped bytes, so that all processes meet the damage at once.

    ``no-flock``: flock fails (ENOLCK, as on some network filesystems), so several processes compute and
    publish the same key at the same time; correctness must not depend on the lock."""
    root, out = tmp_path / "cache", tmp_path / "out"
    out.mkdir()
    digests = {key_of(config).digest for config in HAMMER}
    assert len(digests) == len(HAMMER)
    names = sorted(c["name"] for c in HAMMER)
    procs = [spawn("hammer", {"out": str(out), "name": f"p{i}", "configs": HAMMER, "rounds": ROUNDS, "seed": i,
                              "flock_unsupported": locks == "no-flock"}, root) for i in range(N_PROCESSES)]
    try:
        for i, p in enumerate(procs):
            wait_for(out / f"ready-p{i}", p)
        inspector = BasisCache([root])
        for r in range(ROUNDS):
            damaged_round = r == ROUNDS - 1
            if damaged_round:
                damaged = [e.path for e in inspector.entries()]
                assert len(damaged) == len(HAMMER)
                for path in damaged:
                    _flip_bytes_in_blocks(path, None)
            else:
                assert not any((root / cache.store.ENTRIES).rglob("*.h5"))
            (out / f"go-{r}").touch()
            results = []
            for i, p in enumerate(procs):
                wait_for(out / f"p{i}-{r}.json", p)
                results.append(json.loads((out / f"p{i}-{r}.json").read_text()))
                with np.load(out / f"p{i}-{r}.npz", allow_pickle=False) as arrays:
                    assert sorted(arrays.files) == names
                    for config in HAMMER:
                        assert_same_array(arrays[config["name"]], config)
            for result in results:
                assert sorted(result["same_on_reread"]) == names
                # the second pass of every process reads from disk
                assert result["stats"]["disk_hits"] >= len(HAMMER)
                if not damaged_round:
                    assert result["warnings"] == [] and result["stats"]["corrupt"] == 0
                else:
                    # at most one report per damaged file and process, and only about damaged files
                    for message in result["warnings"]:
                        assert "damaged cache entry" in message
                    mentioned = [next(str(p) for p in damaged if str(p) in m) for m in result["warnings"]]
                    assert len(mentioned) == len(set(mentioned))
            computed = sum(res["stats"]["computed"] for res in results)
            assert computed >= len(HAMMER)      # from an empty directory, or every entry damaged
            if damaged_round:
                assert sum(res["stats"]["corrupt"] for res in results) >= len(HAMMER)
            elif locks == "flock":
                # the per-key lock: each key computed and written once in all, however the processes raced
                assert computed == len(HAMMER)
                assert sum(res["stats"]["written"] for res in results) == len(HAMMER)
            assert inspector.verify() == []
            assert tmp_files(root) == []
            assert {e.digest for e in inspector.entries()} == digests
            if r < ROUNDS - 2:
                assert inspector.clear() == len(HAMMER)
                assert any((root / "locks").iterdir())
        for p in procs:
            finish(p)
    finally:
        kill_all(procs)


# ---- 2. SIGKILL ----------------------------------------------------------------------------------
def test_writer_killed_between_write_and_publish_leaves_only_an_invisible_temporary(tmp_path):
    root, out = tmp_path / "cache", tmp_path / "out"
    out.mkdir()
    config = spec("C8", 5)
    final = entry_path(root, config)
    marker = tmp_path / "paused"
    writer = spawn("pause-in-publish", {"marker": str(marker), "config": config}, root)
    try:
        wait_for(marker, writer)
        tmp = Path(marker.read_text())
        # the complete temporary file sits next to the entry, unpublished
        assert tmp.exists() and tmp.parent == final.parent and tmp.name.startswith(".tmp-")
        assert not final.exists()
        observer = BasisCache([root])
        assert observer.entries() == []
        assert observer.verify() == [] and tmp.exists()     # its writer is alive: not touched
        writer.send_signal(signal.SIGKILL)
        writer.communicate(timeout=30)
        assert writer.returncode == -signal.SIGKILL
    finally:
        kill_all([writer])
    assert not final.exists()
    assert tmp_files(root) == [tmp]

    # a new process gets the key: it recomputes (the lock died with the writer) and publishes
    reader = spawn("get", {"out": str(out), "configs": [config]}, root)
    finish(reader)
    result = json.loads((out / "result.json").read_text())
    assert result["warnings"] == []
    assert result["stats"]["computed"] == 1 and result["stats"]["written"] == 1
    with np.load(out / "arrays.npz", allow_pickle=False) as arrays:
        assert_same_array(arrays[config["name"]], config)
    assert final.exists()
    read_entry(final, key_of(config).digest)

    # the dead writer's temporary file: removed by verify(), which says so (cache/store.py also allows
    # a later writer to have removed it already)
    leftover = tmp_files(root)
    assert leftover in ([tmp], [])
    report = BasisCache([root]).verify()
    assert len(report) == len(leftover)
    assert all(Path(f.path) == Path(tmp) and "partial write" in f.problem and f.action == "removed" for f in report)
    assert tmp_files(root) == []
    assert BasisCache([root]).verify() == []


@pytest.mark.slow
def test_writers_killed_at_random_moments_leave_a_readable_cache(tmp_path):
    """Processes churning through distinct keys are SIGKILLed at random moments, twice over."""
    root = tmp_path / "cache"
    rng = random.Random(20240601)
    base = spec("C4", 3)
    sigmas = [round(0.3 + 0.002 * i, 6) for i in range(500)]   # far more than a process gets through
    for attempt in range(2):
        procs = []
        try:
            for i in range(4):
                order = sigmas[i * 7:] + sigmas[:i * 7]    # overlapping sequences: shared keys and lock waits
                procs.append(spawn("churn", {"config": base, "sigmas": order,
                                             "ready": str(tmp_path / f"ready-{attempt}-{i}")}, root))
            for i, p in enumerate(procs):
                wait_for(tmp_path / f"ready-{attempt}-{i}", p)
            start = time.monotonic()
            for moment, p in sorted(zip((rng.uniform(0.05, 0.8) for _ in procs), procs), key=lambda x: x[0]):
                time.sleep(max(0.0, start + moment - time.monotonic()))
                p.send_signal(signal.SIGKILL)
                _, err = p.communicate(timeout=30)
                assert p.returncode == -signal.SIGKILL, err     # still working when killed
        finally:
            kill_all(procs)

    c = BasisCache([root])
    leftovers = tmp_files(root)
    report = c.verify()
    # the only thing to clean up: temporary files of the dead writers; never a damaged entry
    assert len(report) == len(leftovers)
    assert all("partial write" in f.problem and f.action == "removed" for f in report)
    assert c.verify() == [] and tmp_files(root) == []
    by_digest = {key_of({**base, "sigma": s}).digest: s for s in sigmas}
    stored = [e.digest for e in c.entries()]
    assert stored and set(stored) <= set(by_digest)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for digest in stored[:3] + stored[-3:]:
            assert_same_basis(get(c, {**base, "sigma": by_digest[digest]}), {**base, "sigma": by_digest[digest]})
    assert c.stats["computed"] == 0 and c.stats["corrupt"] == 0


# ---- 3. damaged and foreign files ----------------------------------------------------------------
def _flip_bytes_in_blocks(path, other):
    with h5py.File(path, "r") as f:
        offset, size = f["blocks"].id.get_offset(), f["blocks"].id.get_storage_size()
    assert offset is not None and size > 64        # contiguous storage: the offset points at the data
    with open(path, "r+b") as fh:
        fh.seek(offset + size // 2)
        chunk = fh.read(8)
        fh.seek(offset + size // 2)
        fh.write(bytes(b ^ 0xFF for b in chunk))


def _flip_byte_in_description(path, other):
    raw = bytearray(path.read_bytes())
    where = raw.find(b'"kernel_size":5')
    assert where > 0
    raw[where + len(b'"kernel_size":')] = ord("7")
    path.write_bytes(bytes(raw))


def _truncate(path, other):
    os.truncate(path, path.stat().st_size // 2)


def _empty(path, other):
    path.write_bytes(b"")


def _random_bytes(path, other):
    path.write_bytes(np.random.default_rng(0).bytes(path.stat().st_size))


def _foreign_hdf5(path, other):
    path.unlink()
    with h5py.File(path, "w") as f:
        f["blocks"] = np.zeros((3, 2, 2, 25))
        f.attrs["note"] = "some other program's file"


def _another_entry(path, other):
    shutil.copyfile(other, path)      # a valid entry, but of another key


DAMAGES = [_truncate, _flip_bytes_in_blocks, _flip_byte_in_description, _empty, _random_bytes, _foreign_hdf5,
           _another_entry]


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda d: d.__name__.strip("_"))
def test_a_damaged_entry_is_reported_once_quarantined_and_recomputed(tmp_path, damage):
    root = tmp_path / "cache"
    config, other = spec("C8", 5), spec("C4", 3)
    path, other_path = populate(root, [config, other])
    damage(path, other_path)

    c = BasisCache([root])
    with pytest.warns(RuntimeWarning) as record:
        basis = get(c, config)
        c.clear_memo()
        again = get(c, config)        # the recomputed entry is read back: nothing more to report
        untouched = get(c, other)
    warned = runtime_warnings(record)
    assert len(warned) == 1 and str(path) in str(warned[0].message)
    assert_same_basis(basis, config)
    assert_same_basis(again, config)
    assert_same_basis(untouched, other)
    assert c.stats["corrupt"] == 1 and c.stats["computed"] == 1 and c.stats["disk_hits"] == 2
    quarantined = list((root / "quarantine").iterdir())
    assert len(quarantined) == 1 and quarantined[0].name.startswith(path.name)
    read_entry(path, key_of(config).digest)       # republished, valid
    assert BasisCache([root]).verify() == []


def test_several_damaged_files_give_one_warning_each(tmp_path):
    root = tmp_path / "cache"
    configs = [spec("C4", 3), spec("C4", 5), spec("C8", 3), spec("D4", 3)]
    paths = populate(root, configs)
    _truncate(paths[0], None)
    _flip_bytes_in_blocks(paths[1], None)
    _random_bytes(paths[2], None)
    c = BasisCache([root])
    with pytest.warns(RuntimeWarning) as record:
        for _ in range(3):
            for config in configs:
                assert_same_basis(get(c, config), config)
            c.clear_memo()
    warned = runtime_warnings(record)
    assert len(warned) == 3
    assert sorted(next(str(p) for p in paths if str(p) in str(w.message)) for w in warned) == \
        sorted(str(p) for p in paths[:3])
    assert len(list((root / "quarantine").iterdir())) == 3


def test_verify_quarantines_damaged_entries_and_refuses_a_root_with_foreign_files(tmp_path):
    root = tmp_path / "cache"
    configs = [spec("C4", 3), spec("C8", 3)]
    good, damaged = populate(root, configs)
    _flip_bytes_in_blocks(damaged, None)
    misnamed = good.parent / f"{good.name[:2]}{'0' * 62}.h5"      # a valid entry under another key's name
    shutil.copyfile(good, misnamed)
    junk = root / cache.store.ENTRIES / "zz" / "junk.bin"
    junk.parent.mkdir()
    junk.write_bytes(os.urandom(1000))
    foreign = good.parent / "notes.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)

    c = BasisCache([root])
    # reads are not disturbed by files that are not theirs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_same_basis(get(c, configs[0]), configs[0])
    before = snapshot(root)
    with pytest.raises(cache.ForeignFiles, match="refusing to verify") as refused:
        BasisCache([root]).verify()
    assert str(junk.parent) in str(refused.value) and snapshot(root) == before     # nothing touched
    with pytest.raises(cache.ForeignFiles, match="refusing to clear"):
        BasisCache([root]).clear()
    assert snapshot(root) == before
    junk.unlink(), junk.parent.rmdir(), foreign.unlink()

    with pytest.warns(RuntimeWarning) as record:
        report = BasisCache([root]).verify()
    bad = [damaged, misnamed]
    assert sorted(f.path for f in report) == sorted(bad) and len(runtime_warnings(record)) == len(bad)
    assert all(f.action == "quarantined" and f.damaged for f in report)
    assert not any(p.exists() for p in bad)
    assert good.exists() and len(list((root / "quarantine").iterdir())) == len(bad)
    assert BasisCache([root]).verify() == []
    c = BasisCache([root])
    assert_same_basis(get(c, configs[1]), configs[1])
    assert c.stats["computed"] == 1


def test_verify_finds_foreign_files_anywhere_in_the_entry_tree(tmp_path):
    """Files of the entry tree that are not where entries live are foreign too: named in the refusal."""
    root = tmp_path / "cache"
    populate(root, [spec("C4", 3)])
    stray = root / cache.store.ENTRIES / "stray.bin"
    deep = root / cache.store.ENTRIES / "ab" / "cd" / "deep.h5"
    deep.parent.mkdir(parents=True)
    for path in (stray, deep):
        path.write_bytes(os.urandom(100))
    layout = cache.layout.scan(root)
    assert sorted(layout.foreign) == sorted([stray, deep.parent])
    with pytest.raises(cache.ForeignFiles, match="2 files"):
        BasisCache([root]).verify()
    assert stray.exists() and deep.exists()


# ---- 4. read-only caches -------------------------------------------------------------------------
@pytest.fixture
def read_only(monkeypatch):
    """Make a directory read-only for the cache.

    chmod first.  Tests here may run as root, for whom chmod does not stop writes (and
    ``os.access(W_OK)`` is true): a probe tells, and then ``cache.store._writable`` -- the one place the
    store decides whether a root may receive entries -- is patched to answer False for the directory.
    The tests then also check that the store never writes into it (it could, as root).
    """
    made = []

    def make(directory):
        paths = [directory, *directory.rglob("*")]
        for p in paths:
            p.chmod(0o555 if p.is_dir() else 0o444)
        made.extend(paths)
        probe = directory / ".write-probe"
        try:
            probe.touch()
        except PermissionError:
            return
        probe.unlink()
        original = cache.store._writable
        monkeypatch.setattr(cache.store, "_writable", lambda d: False if Path(d) == directory or directory in
                            Path(d).parents else original(d))

    yield make
    for p in made:
        if p.exists():
            p.chmod(0o755 if p.is_dir() else 0o644)


def snapshot(directory):
    return sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in directory.rglob("*"))


def test_read_only_cache_serves_hits_and_computes_misses_in_memory_with_one_warning(tmp_path, monkeypatch,
                                                                                       read_only):
    ro = tmp_path / "site-cache"
    hits = [spec("C4", 3), spec("C8", 3)]
    misses = [spec("C4", 5), spec("C8", 5), spec("D4", 3), spec("D4", 5),
              spec("C4", 3, name="f32", sigma=0.5, dtype="float32")]
    populate(ro, hits)
    read_only(ro)
    before = snapshot(ro)
    monkeypatch.setenv("BASISGEN_CACHE", str(ro))
    with pytest.warns(RuntimeWarning) as record:
        for config in hits + misses + hits + misses:      # as many layers would ask
            in_repr, out_repr, k, kw = make_config(config)
            assert_same_basis(cache.get_basis(in_repr, out_repr, k, **kw), config)
    warned = runtime_warnings(record)
    assert len(warned) == 1 and str(ro) in str(warned[0].message)
    stats = cache.default_cache().stats
    assert stats["disk_hits"] == len(hits) and stats["computed"] == len(misses) and stats["written"] == 0
    assert snapshot(ro) == before            # no entry, lock, temporary or quarantine written there


def test_read_only_cache_first_writable_second_receives_the_misses(tmp_path, monkeypatch, read_only):
    ro, rw = tmp_path / "site-cache", tmp_path / "mine"
    hit, miss = spec("C4", 3), spec("C8", 3)
    populate(ro, [hit])
    read_only(ro)
    before = snapshot(ro)
    monkeypatch.setenv("BASISGEN_CACHE", f"{ro}{os.pathsep}{rw}")
    c = BasisCache()
    assert c.roots == [ro, rw] and c.write_root == rw
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_same_basis(get(c, hit), hit)
        assert_same_basis(get(c, miss), miss)
    assert c.stats["disk_hits"] == 1 and c.stats["computed"] == 1 and c.stats["written"] == 1
    assert snapshot(ro) == before
    assert [e.digest for e in BasisCache([rw]).entries()] == [key_of(miss).digest]
    again = BasisCache()
    assert_same_basis(get(again, miss), miss)
    assert again.stats["computed"] == 0 and again.stats["disk_hits"] == 1


def test_damaged_entry_in_a_read_only_cache_is_never_returned(tmp_path, monkeypatch, read_only):
    ro = tmp_path / "site-cache"
    config = spec("C8", 5)
    (path,) = populate(ro, [config])
    _flip_bytes_in_blocks(path, None)
    read_only(ro)
    c = BasisCache([ro])
    with pytest.warns(RuntimeWarning) as record:
        assert_same_basis(get(c, config), config)
    # one warning for the damaged file, one for computing in memory
    assert len(runtime_warnings(record)) == 2
    assert c.stats["corrupt"] == 1 and c.stats["computed"] == 1


# ---- locks ---------------------------------------------------------------------------------------
def test_a_lock_held_by_a_hung_process_delays_but_never_blocks(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    config = spec("C4", 5)
    monkeypatch.setattr(cache.store, "LOCK_TIMEOUT_S", 0.3)
    lock = root / "locks" / f"{key_of(config).digest}.lock"
    lock.parent.mkdir(parents=True)
    (root / "locks" / f"{'f' * 64}.lock").write_bytes(os.urandom(64))    # junk lock files are harmless
    fd = os.open(lock, os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)    # another open file description: conflicts like another process
        c = BasisCache([root])
        start = time.monotonic()
        assert_same_basis(get(c, config), config)
        assert time.monotonic() - start >= 0.3
        assert c.stats["written"] == 1
    finally:
        os.close(fd)
    assert BasisCache([root]).verify() == []


# ---- 5. keys -------------------------------------------------------------------------------------
BASE = spec("C8", 5)
#: every entry changes one thing of BASE (or of the pair above it), so every digest differs
KEY_VARIANTS = [
    BASE,
    {**BASE, "k": 3},
    {**BASE, "dilation": 2},
    {**BASE, "rings": [0.0, 1.0, 1.5]},
    {**BASE, "sigma": 0.5},
    {**BASE, "frequencies_cutoff": 3.0},
    {**BASE, "frequencies_cutoff": -2},
    {**BASE, "maximum_offset": 0},
    {**BASE, "maximum_offset": 1},
    {**BASE, "group": "C4"},
    {**BASE, "group": "D8"},
    {**BASE, "group": "D8", "axis": 0.0},
    {**BASE, "in": "permuted"},                 # same irreps and name, another change of basis
    {**BASE, "in": "trivial"},
    {**BASE, "out": "trivial"},                 # ... and the same pair the other way round
]
#: equal arguments written differently, or arguments that do not enter the basis: same digest as BASE
KEY_SYNONYMS = [
    {**BASE, "rings": [0, 1, 2]},
    {**BASE, "sigma": [0.005, 0.6, 0.4]},
    {**BASE, "frequencies_cutoff": -1},
    {**BASE, "axis": 0.3},                      # C8 has no reflection
    {**BASE, "dilation": 1, "maximum_offset": None},
    {**BASE, "dtype": "float32"},               # one float64 entry serves every dtype
]
#: pinned: a change here invalidates every user's cache, so it must come with a SCHEMA_VERSION bump
BASE_DIGEST = "498c1464c82ae55d9137a67d4bb8cd3e202130cdef17dcf1921fa8d9dad7eb78"


def test_keys_are_the_same_in_separate_processes_and_differ_for_any_changed_parameter():
    configs = KEY_VARIANTS + KEY_SYNONYMS
    procs = [spawn("keys", {"configs": configs}, "/nonexistent", PYTHONHASHSEED=seed) for seed in ("1", "4242")]
    try:
        answers = [json.loads(finish(p)) for p in procs]
    finally:
        kill_all(procs)
    here = [key_of(config).digest for config in configs]
    assert answers[0] == answers[1] == here
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in here)
    variants = here[:len(KEY_VARIANTS)]
    assert len(set(variants)) == len(variants), [
        (KEY_VARIANTS[i], KEY_VARIANTS[j]) for i in range(len(variants)) for j in range(i)
        if variants[i] == variants[j]]
    assert here[len(KEY_VARIANTS):] == [here[0]] * len(KEY_SYNONYMS)
    assert here[0] == BASE_DIGEST


def test_key_of_a_callable_cutoff_is_that_of_its_values(tmp_path):
    """Design choice (cache/keys.py): only the cutoff's values on the rings enter the basis, so a callable
    with the same values as a float cutoff has the same key -- and the same basis."""
    c = BasisCache([tmp_path / "cache"])
    numeric = get(c, {**BASE, "frequencies_cutoff": 2.0})
    in_repr, out_repr, k, kw = make_config(BASE)
    params = basis_params(k, frequencies_cutoff=lambda r: 2.0 * r)
    assert basis_key(in_repr, out_repr, params) == key_of({**BASE, "frequencies_cutoff": 2.0})
    c.clear_memo()
    np.testing.assert_array_equal(get(c, BASE, frequencies_cutoff=lambda r: 2.0 * r).array, numeric.array)
    assert c.stats["computed"] == 1 and c.stats["disk_hits"] == 1
    different = basis_params(k, frequencies_cutoff=lambda r: 2.5 * r)
    assert basis_key(in_repr, out_repr, different) != key_of({**BASE, "frequencies_cutoff": 2.0})


def test_entries_of_an_older_schema_are_ignored_with_one_log_line(tmp_path, caplog):
    """Schema 2 kept a float32 and a float64 entry per basis under ``v2/``: this version neither reads nor
    touches them (one log line per root), and an entry carrying an older schema number where this version's
    entries live is refused as damaged, never misread."""
    root = tmp_path / "cache"
    old = root / "v2" / "ab"
    old.mkdir(parents=True)
    (old / f"ab{'0' * 62}.h5").write_bytes(b"an entry of schema 2")
    basisgen.cache.layout._logged_old.discard(str(root))
    c = BasisCache([root])
    with caplog.at_level(logging.INFO, logger="basisgen.cache.layout"):
        assert_same_basis(get(c, BASE), BASE)
        c.clear_memo()
        assert_same_basis(get(c, BASE), BASE)
        assert c.verify() == [] and [e.digest for e in c.entries()] == [key_of(BASE).digest]
    logged = [r.getMessage() for r in caplog.records if "another schema version" in r.getMessage()]
    assert len(logged) == 1 and str(root / "v2") in logged[0]
    assert (old / f"ab{'0' * 62}.h5").read_bytes() == b"an entry of schema 2"
    assert c.stats["computed"] == 1 and c.stats["disk_hits"] == 1

    path = entry_path(root, BASE)
    with h5py.File(path, "r+") as f:
        f.attrs["schema"] = cache.SCHEMA_VERSION - 1
    c = BasisCache([root])
    with pytest.warns(RuntimeWarning, match="schema"):
        assert_same_basis(get(c, BASE), BASE)
    assert c.stats["corrupt"] == 1 and c.stats["computed"] == 1


def test_change_of_basis_round_off_does_not_split_keys():
    in_repr, out_repr, k, kw = make_config(BASE)
    noisy = basisgen.change_basis(in_repr, np.eye(in_repr.size) + 1e-14, in_repr.name)
    params = basis_params(k)
    assert basis_key(noisy, out_repr, params) == basis_key(in_repr, out_repr, params)


def test_basis_filter_is_computed_in_memory_and_the_log_says_why(tmp_path, caplog):
    c = BasisCache([tmp_path / "cache"])
    in_repr, out_repr, k, kw = make_config(BASE)

    def outer_rings(attributes):
        return attributes["idx1"] > 0         # the ring (e2cnn's key)

    with caplog.at_level(logging.INFO, logger="basisgen.cache.store"):
        basis = c.get(in_repr, out_repr, k, basis_filter=outer_rings, **kw)
    assert any(r.levelno == logging.INFO and "basis_filter" in r.getMessage() and "not cached" in r.getMessage()
               for r in caplog.records)
    expected = sample_basis(in_repr, out_repr, k, basis_filter=outer_rings, **kw)
    assert len(basis) == len(expected) < len(reference(BASE))
    np.testing.assert_array_equal(basis.array, expected.array)
    assert c.entries() == [] and c.memo_info()["entries"] == 0
    assert not (tmp_path / "cache" / cache.store.ENTRIES).exists()


# ---- 6. location ---------------------------------------------------------------------------------
@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv("BASISGEN_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def test_location_default_is_home_cache(clean_env, tmp_path):
    assert cache_roots() == [tmp_path / "home" / ".cache" / "basisgen"]
    assert BasisCache().roots == [tmp_path / "home" / ".cache" / "basisgen"]


def test_location_xdg_cache_home(clean_env, tmp_path):
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_roots() == [tmp_path / "xdg" / "basisgen"]
    clean_env.setenv("BASISGEN_CACHE", "")          # empty: as if unset
    assert cache_roots() == [tmp_path / "xdg" / "basisgen"]


def test_location_basisgen_cache_wins_and_may_list_several(clean_env, tmp_path):
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    clean_env.setenv("BASISGEN_CACHE", str(tmp_path / "mine"))
    assert cache_roots() == [tmp_path / "mine"]
    clean_env.setenv("BASISGEN_CACHE", f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    assert cache_roots() == [tmp_path / "a", tmp_path / "b"]
    assert cache.cache_root() == tmp_path / "a"


def test_location_inside_site_packages_is_refused(clean_env, tmp_path):
    site = Path(sysconfig.get_paths()["purelib"])
    inside = site / "basisgen-cache-test"
    link = tmp_path / "link"
    link.symlink_to(site, target_is_directory=True)
    for configured, expected in [(str(inside), [tmp_path / "home" / ".cache" / "basisgen"]),
                                 (f"{inside}{os.pathsep}{tmp_path / 'ok'}", [tmp_path / "ok"]),
                                 (str(link / "basisgen"), [tmp_path / "home" / ".cache" / "basisgen"])]:
        clean_env.setenv("BASISGEN_CACHE", configured)
        with pytest.warns(RuntimeWarning, match="site-packages") as record:
            assert cache_roots() == expected
        assert len(runtime_warnings(record)) == 1
    clean_env.delenv("BASISGEN_CACHE")
    clean_env.setenv("XDG_CACHE_HOME", str(site))
    with pytest.warns(RuntimeWarning, match="site-packages"):
        assert cache_roots() == [tmp_path / "home" / ".cache" / "basisgen"]
    # and nothing is ever written there
    clean_env.setenv("BASISGEN_CACHE", str(inside))
    with pytest.warns(RuntimeWarning, match="site-packages"):
        in_repr, out_repr, k, kw = make_config(spec("C4", 3))
        cache.get_basis(in_repr, out_repr, k, **kw)
    assert not inside.exists()
    assert len(BasisCache([tmp_path / "home" / ".cache" / "basisgen"]).entries()) == 1


def test_location_inside_the_user_site_packages_is_refused(clean_env, tmp_path):
    """``pip install --user`` puts packages in ``site.getusersitepackages()``: a site-packages directory
    like any other, wiped and rewritten by package managers."""
    inside = Path(site.getusersitepackages()) / "basisgen-cache-test"
    clean_env.setenv("BASISGEN_CACHE", f"{inside}{os.pathsep}{tmp_path / 'ok'}")
    with pytest.warns(RuntimeWarning, match="site-packages"):
        assert cache_roots() == [tmp_path / "ok"]


# ---- 7. management -------------------------------------------------------------------------------
MANAGED = [spec("C4", 3), spec("C4", 5), spec("C8", 3), spec("D4", 3)]


def test_entries_list_group_parameters_and_size(tmp_path):
    root = tmp_path / "cache"
    paths = populate(root, MANAGED)
    entries = BasisCache([root]).entries()
    assert sorted(e.path for e in entries) == sorted(paths)
    for e in entries:
        config = next(c for c in MANAGED if key_of(c).digest == e.digest)
        assert e.group == config["group"]
        assert e.description == key_of(config).description
        assert e.description["kernel_size"] == config["k"]
        assert e.size_bytes == e.path.stat().st_size > 0
        assert e.elements == len(reference(config))
    assert [e.group for e in BasisCache([root]).entries(group="C4")] == ["C4", "C4"]
    assert BasisCache([root]).total_size() == sum(p.stat().st_size for p in paths)


def test_clear_by_group_and_all(tmp_path):
    root = tmp_path / "cache"
    populate(root, MANAGED)
    c = BasisCache([root])
    assert c.clear(group="C4") == 2
    assert sorted(e.group for e in c.entries()) == ["C8", "D4"]
    fresh = BasisCache([root])
    get(fresh, MANAGED[2])
    get(fresh, MANAGED[0])
    assert fresh.stats["disk_hits"] == 1 and fresh.stats["computed"] == 1
    assert c.clear() == 3
    assert c.entries() == [] and c.total_size() == 0
    assert BasisCache([root]).verify() == []


def test_export_then_import_into_an_empty_cache_needs_no_computation(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    populate(source, MANAGED)
    bundle = tmp_path / "bases.h5"
    assert BasisCache([source]).export(bundle) == len(MANAGED)
    assert BasisCache([source]).export(tmp_path / "d4.h5", group="D4") == 1
    assert list(tmp_path.glob("*.tmp-*")) == []
    shutil.rmtree(source)
    assert BasisCache([target]).import_(bundle) == len(MANAGED)
    c = BasisCache([target])
    for config in MANAGED:
        assert_same_basis(get(c, config), config)
    assert c.stats["computed"] == 0 and c.stats["disk_hits"] == len(MANAGED)
    assert c.verify() == [] and tmp_files(target) == []
    assert BasisCache([tmp_path / "other"]).import_(tmp_path / "d4.h5") == 1


def test_export_of_a_key_held_by_two_roots_exports_it_once(tmp_path):
    """BASISGEN_CACHE="site:mine" where both hold one key (mine was filled before the site cache was
    built, or an import went to both): the export holds it once, and nothing is left behind."""
    site, mine = tmp_path / "site", tmp_path / "mine"
    populate(site, [spec("C4", 3), spec("C8", 3)])
    populate(mine, [spec("C4", 3)])
    bundle = tmp_path / "bases.h5"
    assert BasisCache([site, mine]).export(bundle) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bases.h5", "mine", "site"]
    assert BasisCache([tmp_path / "target"]).import_(bundle) == 2


def test_import_rejects_files_that_are_not_exports(tmp_path):
    target = tmp_path / "target"
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(cache.CacheError, match="not a basisgen cache export"):
        BasisCache([target]).import_(plain)
    noise = tmp_path / "noise.h5"
    noise.write_bytes(os.urandom(4096))
    with pytest.raises(cache.CacheError, match="not an HDF5 file"):
        BasisCache([target]).import_(noise)
    entry = populate(tmp_path / "other", [spec("C4", 3)])[0]
    with pytest.raises(cache.CacheError, match="not a basisgen cache export"):
        BasisCache([target]).import_(entry)       # a single entry file is not an export
    assert BasisCache([target]).entries() == []


def test_export_skips_damaged_entries_and_import_skips_tampered_ones(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    paths = populate(source, MANAGED)
    _flip_bytes_in_blocks(paths[1], None)
    bundle = tmp_path / "bases.h5"
    with pytest.warns(RuntimeWarning) as record:
        assert BasisCache([source]).export(bundle) == len(MANAGED) - 1
    assert len(runtime_warnings(record)) == 1 and not paths[1].exists()
    # tamper with one entry inside the export
    digest = key_of(MANAGED[2]).digest
    with h5py.File(bundle, "r") as f:
        offset = f[digest]["blocks"].id.get_offset()
        size = f[digest]["blocks"].id.get_storage_size()
    with open(bundle, "r+b") as fh:
        fh.seek(offset + size // 2)
        fh.write(b"\xff" * 8)
    with pytest.warns(RuntimeWarning, match=digest[:12]) as record:
        assert BasisCache([target]).import_(bundle) == len(MANAGED) - 2
    assert len(runtime_warnings(record)) == 1
    assert tmp_files(target) == [] and BasisCache([target]).verify() == []
    assert key_of(MANAGED[2]).digest not in {e.digest for e in BasisCache([target]).entries()}


# ---- 8. nothing read is executed -----------------------------------------------------------------
def test_the_cache_package_never_unpickles_or_evaluates():
    """Statically: no module of cache/ imports a deserialiser that can run code, calls eval/exec, or asks
    numpy for pickles."""
    unsafe_modules = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "marshal", "shelve",
                      "yaml", "importlib", "runpy"}
    found = []
    for path in sorted((ROOT / "cache").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found += [(path.name, a.name) for a in node.names if a.name.split(".")[0] in unsafe_modules]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in unsafe_modules:
                found.append((path.name, node.module))
            elif isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                receiver = getattr(getattr(node.func, "value", None), "id", None)
                if name in ("eval", "exec", "compile", "__import__") and receiver != "re":     # re.compile is fine
                    found.append((path.name, name))
                elif name in ("load", "loads") and receiver != "json":     # np.load, pickle.loads, ...
                    found.append((path.name, f"{receiver}.{name}"))
                found += [(path.name, "allow_pickle") for kw in node.keywords if kw.arg == "allow_pickle"]
    assert found == []
