"""What the benchmarks build and time, written once for e2layers and e2cnn (the same API).

Runs in the e2cnn interpreter too (numpy < 2, no e2layers): only torch, numpy and the standard
library at import; the library under test comes from :func:`library`.
"""
from __future__ import annotations

import importlib
import io
from typing import Any, Callable, Dict, Tuple

import numpy as np
import torch

LIBRARIES = ("e2layers", "e2cnn")


def library(name: str):
    """``(gspaces, nn, group)`` of ``name``; for e2cnn, with the mask patch of :func:`patch_e2cnn`."""
    if name not in LIBRARIES:
        raise ValueError(f"library must be one of {LIBRARIES}, got {name!r}")
    if name == "e2cnn":
        shim_rbf()
        patch_e2cnn()
    return tuple(importlib.import_module(f"{name}.{part}") for part in ("gspaces", "nn", "group"))


class _TorchWithBoolMasks:
    """e2cnn 0.2.3 indexes with uint8 masks, which current torch rejects when a pair keeps a single basis
    element (1x1 filters): its module gets a ``torch`` whose ``tensor`` makes uint8 arrays bool.  Only a
    mask's dtype changes, no value (as ``tests/fixtures/e2cnn/generate_filters.py``)."""

    uint8 = torch.bool

    def __getattr__(self, name):
        return getattr(torch, name)

    @staticmethod
    def tensor(data, *args, **kwargs):
        if isinstance(data, np.ndarray) and data.dtype == np.uint8:
            data = data.astype(bool)
        return torch.tensor(data, *args, **kwargs)


def patch_e2cnn() -> None:
    from e2cnn.nn.modules.r2_conv import basisexpansion_singleblock
    if not isinstance(basisexpansion_singleblock.torch, _TorchWithBoolMasks):
        basisexpansion_singleblock.torch = _TorchWithBoolMasks()


def shim_rbf() -> None:
    """Give treverhines-rbf back ``rbf.basis.set_symbolic_to_numeric_method``, which e2cnn 0.2.3 calls when it
    imports ``e2cnn.diffops``; releases from 2024 dropped it, and without it e2cnn's ``import rbf`` fails
    silently, so its Gaussian (``smoothing``) and RBF-FD discretisations raise RuntimeError.  The switch only
    chose how rbf turns sympy expressions into numpy functions: a no-op changes no number (as
    ``tests/fixtures/e2cnn/generate_diffops.py``).  fd needs no rbf.  Runs before e2cnn is imported."""
    try:
        import rbf.basis
    except ImportError:   # e2cnn then runs without rbf: fd only
        return
    if not hasattr(rbf.basis, "set_symbolic_to_numeric_method"):
        rbf.basis.set_symbolic_to_numeric_method = lambda *args: None


def field_space(gspaces, group, name: str):
    """``(gspace, representation)`` of one field: the regular representation of C_N/D_N; for SO2/O2 (no
    regular representation) the sum of the irreps up to frequency 3."""
    if name in ("SO2", "O2"):
        gs = (gspaces.Rot2dOnR2 if name == "SO2" else gspaces.FlipRot2dOnR2)(-1, maximum_frequency=3)
        ids = [(k,) for k in range(4)] if name == "SO2" else [(0, 0)] + [(1, k) for k in range(1, 4)]
        return gs, group.directsum([gs.irrep(*i) for i in ids], name="band3")
    if len(name) < 2 or name[0] not in "CD" or not name[1:].isdigit():
        raise ValueError(f"group must be C<N>, D<N>, SO2 or O2, got {name!r}")
    gs = (gspaces.Rot2dOnR2 if name[0] == "C" else gspaces.FlipRot2dOnR2)(int(name[1:]))
    return gs, gs.regular_repr


def conv_layer(lib: str, group: str, fields: int, k: int, device: str = "cpu", diffop: dict = None):
    """``R2Conv`` between ``fields`` fields of ``group`` (:func:`field_space`), padding k // 2; with
    ``diffop`` (keyword arguments of ``R2Diffop``, ``{}`` for its defaults) an ``R2Diffop`` instead."""
    gspaces, nn, grp = library(lib)
    gs, rep = field_space(gspaces, grp, group)
    t = nn.FieldType(gs, fields * [rep])
    if diffop is None:
        return nn.R2Conv(t, t, k, padding=k // 2).to(device), nn
    return nn.R2Diffop(t, t, k, padding=k // 2, **diffop).to(device), nn


def basis_bytes(lib: str, conv) -> int:
    """Bytes of the basis a layer holds: e2layers' :meth:`basis_nbytes`; e2cnn's expansion buffers (its
    sampled bases and their masks and indices)."""
    expansion = conv.basisexpansion
    if lib == "e2layers":
        return expansion.basis_nbytes()
    return sum(b.numel() * b.element_size() for b in expansion.buffers())


def checkpoint_bytes(module: torch.nn.Module) -> Tuple[int, int]:
    """``(file bytes, tensor bytes)`` of ``torch.save(module.state_dict())``."""
    state = module.state_dict()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return len(buffer.getvalue()), sum(t.numel() * t.element_size() for t in state.values())


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def step_function(case: Dict[str, Any], device: str) -> Tuple[Callable[[], None], Callable[[], None], dict]:
    """``(step, reset, info)`` for one benchmark case; ``step`` is timed, ``reset`` runs between steps.

    Cases (``case["kind"]``): ``train`` (forward + backward of one layer on a batch, the input requiring
    a gradient as in a network), ``eval`` (forward without autograd, eval mode), ``expansion`` (weights ->
    filter, forward + backward with a fixed gradient); ``case["impl"]`` is ``"r2conv"`` (the worker's
    library) or ``"conv2d"`` (``torch.nn.Conv2d`` with the same channels).
    """
    kind, impl, lib = case["kind"], case["impl"], case["library"]
    torch.manual_seed(0)
    conv, nn = conv_layer(lib, case["group"], case["fields"], case["k"], device, case.get("diffop"))
    c, k, size = conv.in_type.size, case["k"], case.get("size", 32)
    info = {"channels": c, "weights": conv.weights.numel()}
    if impl == "conv2d":
        layer = torch.nn.Conv2d(c, c, k, padding=k // 2).to(device)
        run = layer
    elif impl == "r2conv":
        layer = conv
        run = lambda x: conv(nn.GeometricTensor(x, conv.in_type)).tensor   # noqa: E731
    else:
        raise ValueError(f"impl must be 'r2conv' or 'conv2d', got {impl!r}")
    params = list(layer.parameters())

    def reset():
        for p in params:
            p.grad = None

    if kind == "expansion":
        if impl != "r2conv":
            raise ValueError("the expansion case has no conv2d implementation")
        grad = torch.randn_like(conv.basisexpansion(conv.weights))

        def step():
            conv.basisexpansion(conv.weights).backward(grad)
        return step, reset, info
    x = torch.randn(case["batch"], c, size, size, device=device)
    if kind == "train":
        layer.train()
        x.requires_grad_(True)
        grad = torch.randn_like(run(x))

        def step():
            run(x).backward(grad)

        def reset_all():
            reset()
            x.grad = None
        return step, reset_all, info
    if kind == "eval":
        layer.eval()

        def step():
            with torch.no_grad():
                run(x)
        return step, reset, info
    raise ValueError(f"kind must be train, eval or expansion, got {kind!r}")
