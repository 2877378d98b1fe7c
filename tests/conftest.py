"""Shared pytest configuration and fixtures."""
import os

import numpy as np
import pytest
import torch

from basisgen import cache

# the e2cnn fixture generators run only in an e2cnn environment; never collect them (nor the helpers: no tests)
collect_ignore_glob = ["fixtures/*", "helpers/*"]


def _private_cache(directory):
    cache.set_default_cache(cache.BasisCache([directory]))
    seed = int(os.environ.get("E2LAYERS_TEST_SEED", "0"))
    torch.manual_seed(seed)
    np.random.seed(seed)
    yield directory
    cache.set_default_cache(None)


@pytest.fixture
def private_cache(tmp_path):
    """A basis cache of the test's own (nothing shared between tests) and fixed torch/numpy seeds; the value is
    the cache's directory.

    Module tests use it with ``pytestmark = pytest.mark.usefixtures("private_cache")``.
    """
    yield from _private_cache(tmp_path)


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory):
    """:func:`private_cache` shared by the tests of one module (``usefixtures("module_cache")``): for modules whose
    many tests build the same layers, so that each basis is derived once per module, not once per test."""
    yield from _private_cache(tmp_path_factory.mktemp("basis-cache"))


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """An empty cache directory named by BASISGEN_CACHE (the one every cache that a command or the test opens
    uses), and no process-wide cache object left over: for the command-line tests."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("BASISGEN_CACHE", str(directory))
    cache.set_default_cache(None)
    yield directory
    cache.set_default_cache(None)
