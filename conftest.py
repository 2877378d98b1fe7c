"""Test-session set-up shared by the test suite and the doctests of the packages.

Two environment variables vary what the suite runs under, to show it does not depend on one random stream
or one thread count: ``E2LAYERS_TEST_SEED`` (default 0) seeds torch and numpy before every test, and
``E2LAYERS_TEST_THREADS`` (default: torch's) sets torch's intra-op threads.
"""
import os

import numpy as np
import pytest
import torch

from basisgen import cache

SEED = int(os.environ.get("E2LAYERS_TEST_SEED", "0"))
if os.environ.get("E2LAYERS_TEST_THREADS"):
    torch.set_num_threads(int(os.environ["E2LAYERS_TEST_THREADS"]))


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state (``E2LAYERS_TEST_SEED``), whatever ran before it."""
    torch.manual_seed(SEED)
    np.random.seed(SEED)


@pytest.fixture(autouse=True, scope="session")
def _session_basis_cache(tmp_path_factory):
    """Never write the user's basis cache from tests: the whole session uses a temporary one."""
    mp = pytest.MonkeyPatch()
    mp.setenv("BASISGEN_CACHE", str(tmp_path_factory.mktemp("basisgen-cache")))
    cache.set_default_cache(None)
    yield
    cache.set_default_cache(None)
    mp.undo()


def pytest_sessionstart(session):
    """The folders cache/ and commands/ and the file cli.py are imported as basisgen.cache,
    basisgen.commands and basisgen.cli through the editable install: refuse to test another checkout's."""
    from pathlib import Path

    here = Path(__file__).resolve().parent
    if Path(cache.__file__).resolve().parent != here / "cache":
        raise pytest.UsageError(f"basisgen.cache is imported from {Path(cache.__file__).parent}, not from this "
                                f"checkout ({here}): run `pip install -e .` here first")
