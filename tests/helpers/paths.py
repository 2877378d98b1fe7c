"""Where the tests find the repository, the e2cnn reference data and the worker scripts."""
from pathlib import Path

HELPERS = Path(__file__).resolve().parent
#: the repository root
ROOT = HELPERS.parents[1]
#: e2cnn 0.2.3's reference values, written by the generate_*.py scripts next to them
E2CNN_FIXTURES = ROOT / "tests" / "fixtures" / "e2cnn"
