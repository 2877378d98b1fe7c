"""Test-session set-up shared by the test suite and the doctests of the packages."""
import pytest

from basisgen import cache


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
