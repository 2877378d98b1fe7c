"""Snapshot e2cnn 0.2.3's public surface: every name in ``__all__`` of ``e2cnn.group``, ``gspaces``,
``kernels``, ``nn`` and ``nn.init``, with signatures, and the public methods and properties of its classes.

Run only in an environment with e2cnn 0.2.3 and numpy<2 (see generate.py for the recipe)::

    /work/e2cnn-venv/bin/python tests/data/e2cnn/generate_api.py

Writes ``api.json``: ``{module: {name: entry}}`` where an entry is ``{"kind": "class"|"function"|"module",
"signature": [parameters] or null, "members": {member: {"kind", "signature"}}}`` and a parameter is
``[name, kind, default]`` (kind as in ``inspect.Parameter``; default the ``repr`` of a number, string,
bool or None, ``"<empty>"`` if there is none, ``"<other>"`` for anything else).  Members are the names
without a leading underscore that the class gets from e2cnn itself (not from ``torch.nn.Module`` or
``object``).  ``tests/test_api_surface.py`` compares e2layers with it.
"""
import inspect
import json
from pathlib import Path

import torch

import e2cnn.group
import e2cnn.gspaces
import e2cnn.kernels
import e2cnn.nn
import e2cnn.nn.init

HERE = Path(__file__).parent
MODULES = [e2cnn.group, e2cnn.gspaces, e2cnn.kernels, e2cnn.nn, e2cnn.nn.init]
INHERITED = set(dir(torch.nn.Module)) | set(dir(object))


def _default(value):
    if value is inspect.Parameter.empty:
        return "<empty>"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    return "<other>"


def signature(obj):
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [[p.name, p.kind.name, _default(p.default)] for p in sig.parameters.values()]


def member(cls, name):
    raw = inspect.getattr_static(cls, name)
    if isinstance(raw, property):
        return {"kind": "property", "signature": None}
    if isinstance(raw, staticmethod):
        return {"kind": "staticmethod", "signature": signature(raw.__func__)}
    if isinstance(raw, classmethod):
        return {"kind": "classmethod", "signature": signature(raw.__func__)[1:]}
    if inspect.isfunction(raw):
        return {"kind": "method", "signature": signature(raw)[1:]}
    return {"kind": "attribute", "signature": None}


def entry(obj):
    if inspect.ismodule(obj):
        return {"kind": "module", "signature": None, "members": {}}
    if inspect.isclass(obj):
        names = sorted(n for n in dir(obj) if not n.startswith("_") and n not in INHERITED)
        return {"kind": "class", "signature": signature(obj), "members": {n: member(obj, n) for n in names}}
    return {"kind": "function", "signature": signature(obj), "members": {}}


def main():
    snapshot = {m.__name__.replace("e2cnn.", "", 1): {n: entry(getattr(m, n)) for n in sorted(m.__all__)}
                for m in MODULES}
    (HERE / "api.json").write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
