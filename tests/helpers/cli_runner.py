"""``run``: one ``basisgen`` command through click's test runner, its exit code checked."""
from click.testing import CliRunner, Result

from basisgen import cli


def run(*args, code: int = 0, input: str = None) -> Result:
    """``basisgen ARGS`` in this process; asserts the exit code is ``code`` and returns click's result."""
    result = CliRunner().invoke(cli.main, [str(a) for a in args], input=input)
    assert result.exit_code == code, (args, result.output, result.exception)
    return result
