"""Fixtures of the command-line tests."""
import pytest

from basisgen import cache


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """An empty cache directory named by BASISGEN_CACHE (the one every cache of the commands and of the test
    opens), and no process-wide cache object left over."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("BASISGEN_CACHE", str(directory))
    cache.set_default_cache(None)
    yield directory
    cache.set_default_cache(None)
