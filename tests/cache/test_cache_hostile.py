"""The basis cache against hostile or careless input: crafted entries and exports, links, FIFOs, a full
disk, junk names, races, unreadable files.  Every outcome is a correct basis or a clean refusal, and no
file the cache did not create is ever deleted or moved.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import basisgen
from basisgen import cache
from basisgen.cache import BasisCache
from basisgen.cache.entry import checksum, read_entry
from paths import HELPERS, ROOT
from test_cache import assert_same_basis, entry_path, get, key_of, populate, reference, snapshot, spec

#: ``$PYTHONPATH`` of a child that imports this folder's test_cache (and its helpers) by name
CHILD_PATH = os.pathsep.join(str(p) for p in (ROOT, Path(__file__).resolve().parent, HELPERS))
C4 = spec("C4", 3)
C8 = spec("C8", 5)


@pytest.fixture(autouse=True)
def _fresh_default_cache():
    cache.set_default_cache(None)
    yield
    cache.set_default_cache(None)


def rewrite(path: Path, **datasets):
    """Replace datasets of an entry and recompute its checksum: what someone with write access can do."""
    with h5py.File(path, "r+") as f:
        for name, value in datasets.items():
            del f[name]
            f[name] = value
        data = {name: f[name][()] for name in cache.entry.DATASETS}
        f.attrs["sha256"] = checksum(f.attrs["description"] + f.attrs["layout"], data)


def quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args)


# ---- 1. a checksum is not proof -------------------------------------------------------------------------
def test_a_crafted_export_with_a_valid_checksum_is_refused_on_import(tmp_path):
    source, target = tmp_path / "source", tmp_path / "target"
    good = populate(target, [C4])[0]
    path = populate(source, [C4])[0]
    blocks = np.random.default_rng(0).standard_normal(h5py.File(path)["blocks"].shape)
    rewrite(path, blocks=blocks)
    read_entry(path, key_of(C4).digest)            # the checksum and the structure are fine
    bundle = tmp_path / "poison.h5"
    assert BasisCache([source]).export(bundle) == 1
    before = good.read_bytes()
    with pytest.warns(RuntimeWarning, match="content check"):
        assert BasisCache([target]).import_(bundle) == 0
    assert good.read_bytes() == before            # the good entry was not replaced
    assert_same_basis(get(BasisCache([target]), C4), C4)


def test_content_mode_refuses_a_poisoned_entry_that_default_mode_cannot_tell(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    path = populate(root, [C4])[0]
    blocks = np.random.default_rng(1).standard_normal(h5py.File(path)["blocks"].shape)
    rewrite(path, blocks=blocks)
    monkeypatch.setenv("BASISGEN_CACHE_VERIFY", "content")
    c = BasisCache([root])
    with pytest.warns(RuntimeWarning, match="content check"):
        assert_same_basis(get(c, C4), C4)
    assert c.stats["corrupt"] == 1 and c.stats["computed"] == 1
    # what this process wrote itself is trusted: reading it back is not recomputed
    c.clear_memo()
    assert_same_basis(get(c, C4), C4)
    assert c.stats["computed"] == 1 and c.stats["disk_hits"] == 1
    with pytest.raises(ValueError, match="verify must be one of"):
        BasisCache([root], verify="bogus")


def test_verify_checks_content_and_quick_only_checksums(tmp_path):
    root = tmp_path / "cache"
    path = populate(root, [C4, C8])[0]
    rewrite(path, blocks=np.asarray(h5py.File(path)["blocks"][()]) * 2)
    assert BasisCache([root]).verify(content=False) == []
    with pytest.warns(RuntimeWarning):
        report = BasisCache([root]).verify()
    assert [(f.path, f.action) for f in report] == [(path, "quarantined")] and "content" in report[0].problem


# ---- 2. clear and verify never destroy user files ---------------------------------------------------------
def test_clear_and_verify_never_touch_a_users_folder_in_the_layout(tmp_path):
    root = tmp_path / "proj"
    populate(root, [C4])
    user = root / cache.store.ENTRIES / "notes"
    user.mkdir()
    for i in range(30):
        (user / f"file{i % 12}.txt" if i < 12 else user / f"sub{i}").mkdir() if i >= 12 else \
            (user / f"file{i}.txt").write_text(str(i))
    before = snapshot(root)
    for action in (lambda c: c.clear(), lambda c: c.verify()):
        with pytest.raises(cache.ForeignFiles, match="not created by the cache"):
            action(BasisCache([root]))
    assert snapshot(root) == before


def test_a_symlinked_entry_tree_is_foreign_and_its_target_untouched(tmp_path):
    root, elsewhere = tmp_path / "cache", tmp_path / "elsewhere"
    populate(elsewhere, [C4])
    root.mkdir()
    (root / cache.store.ENTRIES).symlink_to(elsewhere / cache.store.ENTRIES)
    before = snapshot(elsewhere)
    for action in (lambda c: c.clear(), lambda c: c.verify()):
        with pytest.raises(cache.ForeignFiles):
            action(BasisCache([root]))
    assert snapshot(elsewhere) == before


def test_quarantine_never_overwrites(tmp_path):
    root = tmp_path / "cache"
    paths = populate(root, [C4, C8])
    for _ in range(3):
        for p in paths:
            p.write_bytes(b"junk")
        quiet(BasisCache([root]).verify)
    assert len(list((root / "quarantine").iterdir())) == 6


# ---- 4. temporary and lock files never follow links ------------------------------------------------------
def test_planted_symlinks_are_never_followed_by_writers(tmp_path):
    root, victim = tmp_path / "cache", tmp_path / "victim.txt"
    victim.write_text("precious")
    digest = key_of(C4).digest
    locks = root / "locks"
    locks.mkdir(parents=True)
    (locks / f"{digest}.lock").symlink_to(tmp_path / "created-outside")      # dangling
    shard = entry_path(root, C4).parent
    shard.mkdir(parents=True)
    for pid in range(os.getpid() - 2, os.getpid() + 3):                       # predictable old-style names
        (shard / f".tmp-{digest}-{pid}-import.h5").symlink_to(victim)
    c = BasisCache([root])
    assert_same_basis(get(c, C4), C4)
    assert c.stats["written"] == 1
    assert victim.read_text() == "precious" and not (tmp_path / "created-outside").exists()
    export = tmp_path / "out.h5"
    export.with_name("out.h5.tmp-%d" % os.getpid()).symlink_to(victim)
    c.export(export)
    assert victim.read_text() == "precious"


# ---- 5. the memo hands out read-only arrays ---------------------------------------------------------------
def test_the_memo_cannot_be_changed_through_a_returned_basis(tmp_path):
    cache.set_default_cache(BasisCache([tmp_path]))
    rho = basisgen.cyclic_group(4).regular_representation
    basis = cache.get_basis(rho, rho, 3)
    with pytest.raises(ValueError, match="read-only"):
        basis.blocks *= 0
    with pytest.raises(ValueError, match="read-only"):
        basis.array[...] = 0
    basis.change_of_basis_out[...] = 0          # the caller's own copy
    again = cache.get_basis(rho, rho, 3)
    np.testing.assert_allclose(again.array, basisgen.sample_basis(rho, rho, 3).array, atol=1e-6)
    assert np.abs(again.change_of_basis_out).sum() > 0


def test_layers_after_an_attempted_memo_write_are_unaffected(tmp_path):
    torch = pytest.importorskip("torch")
    from e2layers import gspaces, nn
    cache.set_default_cache(BasisCache([tmp_path]))
    r2 = gspaces.Rot2dOnR2(N=4)
    ft = nn.FieldType(r2, [r2.regular_repr])
    torch.manual_seed(0)
    first = nn.R2Conv(ft, ft, 3)
    rho = basisgen.cyclic_group(4).regular_representation
    for basis in list(cache.default_cache()._memo.values()) + [cache.get_basis(rho, rho, 3)]:
        with pytest.raises(ValueError):
            basis.blocks *= 0
    torch.manual_seed(0)
    second = nn.R2Conv(ft, ft, 3)
    first.eval(), second.eval()
    assert torch.equal(first.filter, second.filter) and first.filter.abs().sum() > 0


# ---- 7. FIFOs and other special files ------------------------------------------------------------------
def _run_with_timeout(fn, seconds=20):
    result = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as err:       # reported below
            result["error"] = err
    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "blocked"
    if "error" in result:
        raise result["error"]
    return result["value"]


@pytest.mark.parametrize("kind", ["fifo", "link-to-fifo", "directory"])
def test_special_files_at_entry_paths_never_block_and_verify_reports_them(tmp_path, kind):
    root = tmp_path / "cache"
    path = entry_path(root, C4)
    path.parent.mkdir(parents=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link-to-fifo":
        os.mkfifo(tmp_path / "fifo")
        path.symlink_to(tmp_path / "fifo")
    else:
        path.mkdir()
        (path / "inside").write_text("x")
    if kind == "directory":
        with pytest.raises(cache.ForeignFiles):
            BasisCache([root]).verify()
        return
    report = _run_with_timeout(lambda: quiet(BasisCache([root]).verify))
    assert [f.path for f in report] == [path] and report[0].action == "quarantined"
    assert "FIFO" in report[0].problem or "link" in report[0].problem
    if kind == "link-to-fifo":
        assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)      # the target is untouched
    os.mkfifo(path)
    c = BasisCache([root])
    with pytest.warns(RuntimeWarning, match="FIFO"):
        basis = _run_with_timeout(lambda: get(c, C4))
    assert_same_basis(basis, C4)


# ---- 8. memory bombs --------------------------------------------------------------------------------------
def _bomb(path: Path):
    """A small file declaring a 3 GiB blocks dataset (no data written), with a matching checksum."""
    with h5py.File(path, "r+") as f:
        del f["blocks"]
        f.create_dataset("blocks", shape=(200_000_000, 2, 2, 1), dtype="<f4")   # allocation deferred: tiny file


def test_declared_sizes_are_checked_before_anything_is_read(tmp_path):
    root = tmp_path / "cache"
    path = populate(root, [C4])[0]
    _bomb(path)
    assert path.stat().st_size < 100_000
    code = (f"import resource, warnings; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
            f"from basisgen import cache\n"
            f"from test_cache import get, spec, assert_same_basis\n"
            f"c = cache.BasisCache([{str(root)!r}])\n"
            f"with warnings.catch_warnings(record=True) as w:\n"
            f"    warnings.simplefilter('always'); b = get(c, spec('C4', 3))\n"
            f"assert_same_basis(b, spec('C4', 3)); assert c.stats['corrupt'] == 1, c.stats\n"
            f"print([str(x.message) for x in w])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=CHILD_PATH))
    assert out.returncode == 0, out.stderr
    assert "inconsistent with its key" in out.stdout


# ---- 9. a full disk -----------------------------------------------------------------------------------
def _small_filesystem(directory: Path, kib: int) -> bool:
    directory.mkdir(parents=True, exist_ok=True)
    if not shutil.which("mount"):
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(directory)],
                          capture_output=True)
    return done.returncode == 0


FULL_DISK_CHILD = r"""
import sys, warnings, json
from test_cache import get, spec, assert_same_basis
from basisgen import cache
c = cache.BasisCache([sys.argv[1]])
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    for config in (spec("C8", 5), spec("C4", 3), spec("D4", 3)):
        assert_same_basis(get(c, config), config)
print(json.dumps([str(x.message) for x in w if issubclass(x.category, RuntimeWarning)]))
"""


@pytest.mark.slow
def test_a_full_disk_warns_once_and_carries_on_at_every_fill_level(tmp_path):
    mount = tmp_path / "small"
    if not _small_filesystem(mount, 256):
        pytest.skip("cannot mount a small tmpfs here (needs root and mount); the full-disk test did not run")
    try:
        total = shutil.disk_usage(mount).total
        for free_kib in (0, 4, 8, 16, 24, 32, 40, 100):
            for p in list(mount.iterdir()):
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
            filler = total - free_kib * 1024
            if filler > 0:
                with open(mount / "filler", "wb") as fh:
                    try:
                        fh.write(b"\0" * filler)
                    except OSError:
                        pass
            out = subprocess.run([sys.executable, "-c", FULL_DISK_CHILD, str(mount / "cache")],
                                 capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONPATH=CHILD_PATH))
            assert out.returncode == 0, (free_kib, out.stderr)
            assert "Traceback" not in out.stderr and "HDF5" not in out.stderr, (free_kib, out.stderr)
            warned = json.loads(out.stdout.strip().splitlines()[-1])
            assert len(warned) <= 1 and all("could not write" in m or "no writable" in m for m in warned), warned
            assert not list((mount / "cache").rglob(".tmp-*")), free_kib
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


# ---- 10. junk temporary names ----------------------------------------------------------------------------
def test_junk_temporary_names_with_huge_numbers_do_not_overflow(tmp_path):
    root = tmp_path / "cache"
    path = populate(root, [C4])[0]
    junk = path.parent / ".tmp-x-99999999999999999999999-y.h5"
    junk.write_bytes(b"junk")
    huge = path.parent / f".tmp-{path.stem[:16]}-99999999999999999999999-y.h5"
    huge.write_bytes(b"junk")
    assert BasisCache([root]).verify() == []            # young: their writer may be alive
    c = BasisCache([root])
    path.unlink()
    assert_same_basis(get(c, C4), C4)                    # a write into the same shard
    old = time.time() - 2 * cache.store.STALE_TMP_S
    for p in (junk, huge):
        os.utime(p, (old, old))
    report = BasisCache([root]).verify()
    assert sorted(f.path for f in report) == sorted([junk, huge]) and {f.action for f in report} == {"removed"}


# ---- 11. entries that pass the checksum but do not fit their key -----------------------------------------
def _edit_attribute(name, value):
    def edit(path):
        with h5py.File(path, "r+") as f:
            f.attrs[name] = value if not callable(value) else value(f.attrs[name])
            data = {n: f[n][()] for n in cache.entry.DATASETS}
            f.attrs["sha256"] = checksum(f.attrs["description"] + f.attrs["layout"], data)
    return edit


def _edit_index(path):
    with h5py.File(path) as f:
        index = f["element_index"][()]
    index[0, 0] = 99
    rewrite(path, element_index=index)


def _other_grid(path):
    with h5py.File(path) as f:
        blocks = f["blocks"][()]
    rewrite(path, blocks=np.concatenate([blocks, blocks[..., :7]], axis=-1))


def _edit_layout(path):
    _edit_attribute("layout", lambda s: s.replace('"kernel_size": 3', '"kernel_size": 5'))(path)


def _hello_description(path, root):
    description = json.dumps({"hello": "world"})
    import hashlib
    digest = hashlib.sha256(description.encode()).hexdigest()
    _edit_attribute("description", description)(path)
    target = root / cache.store.ENTRIES / digest[:2] / f"{digest}.h5"
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(path, target)
    return target


INCONSISTENT = [_edit_index, _other_grid, _edit_layout, _edit_attribute("layout", "{}")]


@pytest.mark.parametrize("edit", INCONSISTENT, ids=["irrep-99", "other-grid", "layout-k", "empty-layout"])
def test_entries_inconsistent_with_their_key_are_quarantined_and_recomputed(tmp_path, edit):
    root = tmp_path / "cache"
    path = populate(root, [C4])[0]
    edit(path)
    listed = BasisCache([root]).entries()                   # listing keeps working
    assert len(listed) <= 1
    c = BasisCache([root])
    with pytest.warns(RuntimeWarning, match="inconsistent with its key"):
        assert_same_basis(get(c, C4), C4)
    assert c.stats["corrupt"] == 1 and len(list((root / "quarantine").iterdir())) == 1


def test_a_description_that_is_not_ours_is_listed_never_and_verified_as_damaged(tmp_path):
    root = tmp_path / "cache"
    path = populate(root, [C4])[0]
    planted = _hello_description(Path(shutil.copyfile(path, tmp_path / "copy.h5")), root)
    assert [e.path for e in BasisCache([root]).entries()] == [path]
    with pytest.warns(RuntimeWarning):
        report = BasisCache([root]).verify(content=False)
    assert [f.path for f in report] == [planted] and "inconsistent" in report[0].problem


# ---- 12. verify racing clear --------------------------------------------------------------------------
def test_verify_racing_clear_reports_nothing_that_was_just_cleared(tmp_path):
    root = tmp_path / "cache"
    configs = [spec("C4", 3), spec("C4", 5), spec("C8", 3), spec("D4", 3), spec("C2", 3), spec("D2", 3)]
    populate(root, configs)
    for _ in range(3):
        errors, reports = [], []

        def verify():
            try:
                reports.append(BasisCache([root]).verify(content=False))
            except Exception as err:
                errors.append(err)
        t = threading.Thread(target=verify)
        t.start()
        BasisCache([root]).clear()
        t.join()
        assert errors == [] and reports == [[]]
        populate(root, configs)


# ---- 17. import errors --------------------------------------------------------------------------------
def _export_with(tmp_path, member):
    bundle = tmp_path / "bundle.h5"
    source = tmp_path / "source"
    populate(source, [C4])
    BasisCache([source]).export(bundle)
    with h5py.File(bundle, "r+") as f:
        member(f)
    return bundle


@pytest.mark.parametrize("member, fragment", [
    (lambda f: f.create_dataset("a" * 64, data=np.arange(3)), "is a dataset"),
    (lambda f: f.__setitem__("b" * 64, h5py.ExternalLink("/etc/passwd", "/")), "external link"),
    (lambda f: f.__setitem__("c" * 64, h5py.SoftLink("/" + next(iter(f)))), "soft link"),
])
def test_import_refuses_members_that_are_not_entries_cleanly(tmp_path, member, fragment):
    bundle = _export_with(tmp_path, member)
    target = tmp_path / "target"
    with pytest.raises(cache.CacheError, match=fragment):
        BasisCache([target]).import_(bundle)
    assert not list(target.rglob(".tmp-*")) and BasisCache([target]).entries() == []


# ---- 18. what this user cannot repair is reported, not moved ---------------------------------------------
def test_verify_without_a_writable_root_leaves_damage_in_place_and_says_so(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    path = populate(root, [C4, C8])[0]
    path.write_bytes(b"junk")
    monkeypatch.setattr(cache.store, "_writable", lambda d: False)
    monkeypatch.setattr(cache.store.os, "access", lambda *a, **k: False)
    for _ in range(2):
        report = quiet(BasisCache([root]).verify)
        assert [(f.path, f.action) for f in report] == [(path, "left")]
    assert path.read_bytes() == b"junk" and not (root / "quarantine").exists()


def test_entries_this_user_cannot_read_are_skipped_not_moved(tmp_path):
    import tempfile
    base = Path(tempfile.mkdtemp(prefix="basisgen-shared-"))     # reachable by another user, unlike tmp_path
    base.chmod(0o755)
    root = base / "cache"
    path = populate(root, [C4])[0]
    for d in [root, *root.rglob("*")]:
        if d.is_dir():
            d.chmod(0o777)
    code = (f"import os, json, warnings\n"
            f"from basisgen import cache\n"
            f"cache.BasisCache([{str(root)!r}]).verify(content=False)   # imports everything it needs\n"
            f"os.setgid(65534); os.setuid(65534)\n"
            f"r = cache.BasisCache([{str(root)!r}]).verify(content=False)\n"
            f"print(json.dumps([[str(f.path), f.action] for f in r]))\n")
    if os.geteuid() != 0:
        os.chmod(path, 0)
        if os.access(path, os.R_OK):
            pytest.skip("cannot make a file unreadable here")
        code = code.replace("os.setgid(65534); os.setuid(65534)", "pass")
    else:
        os.chmod(path, 0o600)
        os.chmod(root, 0o777)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd="/")
    os.chmod(path, 0o644)
    untouched = path.exists() and not (root / "quarantine").exists()
    shutil.rmtree(base)
    if "Permission denied" in out.stderr and "Traceback" in out.stderr and "cache" not in out.stderr:
        pytest.skip("the unprivileged user cannot run this interpreter here")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [[str(path), "skipped"]]
    assert untouched


# ---- fuzz: random mutations of a valid entry file ----------------------------------------------------------
_FUZZ = {}


def _fuzz_base(tmp_path_factory):
    if "bytes" not in _FUZZ:
        root = tmp_path_factory.mktemp("fuzz-base")
        _FUZZ["bytes"] = populate(root, [C4])[0].read_bytes()
        _FUZZ["digest"] = key_of(C4).digest
    return _FUZZ["bytes"]


MUTATIONS = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10 ** 9), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10 ** 9), st.just(0)),
    st.tuples(st.just("attribute"), st.sampled_from(["description", "layout", "sha256", "key", "schema"]),
              st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)),
    st.tuples(st.just("dataset"), st.sampled_from(list(cache.entry.DATASETS)),
              st.sampled_from(["zero", "shape", "dtype", "scale"])),
)


def _mutate(data: bytes, mutation, fix_checksum: bool) -> bytes:
    kind, a, b = mutation
    if kind == "flip":
        raw = bytearray(data)
        raw[a % len(raw)] ^= b
        return bytes(raw)
    if kind == "truncate":
        return data[:a % len(data)]
    buffer = io.BytesIO(data)
    with h5py.File(buffer, "r+") as f:
        if kind == "attribute":
            f.attrs[a] = b if a != "schema" else len(b)
        else:
            value = f[a][()]
            value = {"zero": np.zeros_like(value), "shape": value.reshape(-1)[:max(1, value.size // 2)],
                     "dtype": value.astype(np.float16 if value.dtype.kind == "f" else np.int32),
                     "scale": value * 3 if value.dtype.kind == "f" else value + 1}[b]
            del f[a]
            f[a] = value
        if fix_checksum:      # a deliberate edit: only the content check can tell
            try:
                data_sets = {n: f[n][()] for n in cache.entry.DATASETS}
                f.attrs["sha256"] = checksum(str(f.attrs["description"]) + str(f.attrs["layout"]), data_sets)
            except Exception:
                pass
    return buffer.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=MUTATIONS, deliberate=st.booleans())
def test_fuzz_a_mutated_entry_gives_the_right_basis_or_a_clean_refusal(tmp_path_factory, mutation, deliberate):
    """Accidents (no checksum fix) in both modes; deliberate edits (checksum recomputed) in content mode."""
    base = _fuzz_base(tmp_path_factory)
    mutated = _mutate(base, mutation, deliberate)
    for mode in ("content",) if deliberate else ("checksum", "content"):
        root = tmp_path_factory.mktemp("fuzz")
        path = root / cache.store.ENTRIES / _FUZZ["digest"][:2] / f"{_FUZZ['digest']}.h5"
        path.parent.mkdir(parents=True)
        path.write_bytes(mutated)
        c = BasisCache([root], verify=mode)
        basis = quiet(get, c, C4)          # never raises: a refusal recomputes
        expected = reference(C4)
        np.testing.assert_allclose(basis.array, expected.array, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(basis.element_index, expected.element_index)
        assert c.stats["disk_hits"] + c.stats["computed"] == 1
