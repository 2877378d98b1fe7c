"""Shared pytest configuration and fixtures."""
import numpy as np
import pytest
import torch

from basisgen import cache

# the e2cnn fixture generator runs only in an e2cnn environment; never collect it
collect_ignore_glob = ["data/*"]


@pytest.fixture
def private_cache(tmp_path):
    """A basis cache of the test's own (nothing shared between tests) and fixed torch/numpy seeds.

    Module tests use it with ``pytestmark = pytest.mark.usefixtures("private_cache")``.
    """
    cache.set_default_cache(cache.BasisCache([tmp_path]))
    torch.manual_seed(0)
    np.random.seed(0)
    yield
    cache.set_default_cache(None)
