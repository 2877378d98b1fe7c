"""The doctests of the modules that install under ``basisgen`` from folders of their own (cache/ ->
``basisgen.cache``, commands/ -> ``basisgen.commands``, cli.py -> ``basisgen.cli``).

pytest's ``--doctest-modules`` would import those files by path as top-level ``cache``/``cli`` modules, a
second copy beside the installed one, so they are run here under their installed names instead.
"""
import doctest
import importlib
import pkgutil

import pytest

import basisgen.cache
import basisgen.commands

MODULES = (["basisgen.cli"]
           + [basisgen.cache.__name__] + [f"basisgen.cache.{m.name}" for m in pkgutil.iter_modules(basisgen.cache.__path__)]
           + [basisgen.commands.__name__]
           + [f"basisgen.commands.{m.name}" for m in pkgutil.iter_modules(basisgen.commands.__path__)])


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    if name == "basisgen.commands.plot":
        pytest.importorskip("matplotlib")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctests of {name} failed (output above)"


def test_the_doctests_exist():
    finder = doctest.DocTestFinder()
    counted = sum(len(t.examples) for name in MODULES if name != "basisgen.commands.plot"
                  for t in finder.find(importlib.import_module(name)))
    assert counted >= 5
