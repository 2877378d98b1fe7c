"""Test-session set-up shared by the test suite and the doctests of the packages."""
import pytest

import cache


@pytest.fixture(autouse=True, scope="session")
def _session_basis_cache(tmp_path_factory):
    """Never write the user's basis cache from tests: the whole session uses a temporary one."""
    mp = pytest.MonkeyPatch()
    mp.setenv("BASISGEN_CACHE", str(tmp_path_factory.mktemp("basisgen-cache")))
    cache.set_default_cache(None)
    yield
    cache.set_default_cache(None)
    mp.undo()
