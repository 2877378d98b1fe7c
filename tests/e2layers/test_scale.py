"""Scale beyond one process: DistributedDataParallel, torch.compile, mixed precision and channels_last.

* DDP: two processes (``tests/helpers/ddp_worker.py``, gloo on CPU) train the small C8 network of
  :func:`ddp_worker.build_model` (an R2Conv and an R2Diffop) in float64 on a shared basis cache that starts empty.  Compared with a
  single process that trains on the same global batches (details in
  :func:`test_ddp_two_ranks_match_a_single_process`); afterwards every cache entry verifies and holds the
  bits an independent process computes.
* ``torch.compile`` (default backend): a training step and an eval forward give eager's outputs and gradients.
* ``torch.autocast``: forward and backward under bfloat16 on CPU (float16 and bfloat16 on CUDA when a GPU is
  present), and the equivariance error they leave under the grid rotations and flips.
* ``channels_last``: model and input in that memory format give the contiguous outputs and gradients, and
  every layer keeps the format.
"""
import contextlib
import copy
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from basisgen import cache
from basisgen.cache.entry import read_entry
from ddp_worker import HALF, LR, STEPS_FROZEN_BN, STEPS_TRAIN_BN, build_model, filters, global_batch, snapshot
from e2layers import nn
from paths import HELPERS, ROOT
from rounding import assert_close_up_to_rounding

pytestmark = pytest.mark.usefixtures("private_cache")

WORKER = HELPERS / "ddp_worker.py"
WORLD = 2


# ---- DDP ---------------------------------------------------------------------------------------------------
def _run_ranks(shared: Path, out: Path) -> list:
    env = dict(os.environ, BASISGEN_CACHE=str(shared), OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    if sys.platform.startswith("linux"):
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")     # loopback: no dependence on the host name resolving
    ranks = [subprocess.Popen([sys.executable, str(WORKER), str(r), str(WORLD), str(out)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(WORLD)]
    try:
        logs = [p.communicate(timeout=120) for p in ranks]
    finally:
        for p in ranks:
            if p.poll() is None:
                p.kill()
                p.communicate()
    for r, (p, (_, err)) in enumerate(zip(ranks, logs)):
        assert p.returncode == 0, f"rank {r} failed:\n{err[-3000:]}"
    return [torch.load(out / f"rank{r}.pt") for r in range(WORLD)]


def _single_process_reference():
    """What DDP computes, in one process: each step's global batch is split into the ranks' halves.

    Phase 1 (batch norm in train mode): one forward per half (each normalised with its own statistics, as on
    its rank), the loss is the mean of the halves' losses (DDP averages the gradients).  DDP broadcasts rank
    0's buffers before every forward, so rank 0's running statistics only ever see half 0: they are restored
    after the forward on half 1.  Phase 2 (batch norm in eval mode): one forward on the whole global batch.
    """
    torch.manual_seed(0)
    model = build_model().double()
    optimiser = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    initial, losses, states = snapshot(model), [], []
    parameters = dict(model.named_parameters())
    for phase, steps in (("train-bn", STEPS_TRAIN_BN), ("frozen-bn", STEPS_FROZEN_BN)):
        model.train(phase == "train-bn")
        for _ in range(steps):
            x, y = global_batch(len(losses), WORLD)
            if phase == "train-bn":
                halves = []
                for r in range(WORLD):
                    if r == 1:
                        rank0_buffers = {k: v for k, v in snapshot(model).items() if k not in parameters}
                    halves.append(torch.nn.functional.cross_entropy(model(x[r * HALF:(r + 1) * HALF]),
                                                                    y[r * HALF:(r + 1) * HALF]))
                loss = sum(halves) / WORLD
                losses.append([h.item() for h in halves])
            else:
                loss = torch.nn.functional.cross_entropy(model(x), y)
                losses.append([loss.item()])
            optimiser.zero_grad()
            loss.backward()
            if phase == "train-bn":      # after backward: batch norm's backward reads the running statistics
                model.load_state_dict(rank0_buffers, strict=False)
            optimiser.step()
        states.append(snapshot(model))
    return initial, states, losses, filters(model)


def _assert_states_close(actual, expected, what):
    assert actual.keys() == expected.keys()
    for key in expected:
        if expected[key].is_floating_point():
            torch.testing.assert_close(actual[key], expected[key], rtol=1e-9, atol=1e-12, msg=f"{what}: {key}")
        else:
            assert torch.equal(actual[key], expected[key]), f"{what}: {key}"


@pytest.mark.slow
def test_ddp_two_ranks_match_a_single_process(tmp_path):
    """Two gloo ranks, half a global batch each, float64, a shared cache directory that starts empty.

    Compared: (a) after DDP's initial broadcast and after each phase, every parameter is bit-identical on
    the two ranks; (b) every parameter, and rank 0's running statistics, equal the single-process reference
    (:func:`_single_process_reference`) to 1e-9; after phase 2 (eval-mode batch norm, whose forward starts
    with rank 0's buffers on both ranks) the whole state dict is identical on the ranks; (c) each rank's
    losses are the reference's per-half losses (phase 1) and average to its whole-batch loss (phase 2);
    (d) the expanded filters are bit-identical on the ranks and equal the reference's, which derived its
    bases in a separate cache.
    """
    shared, out = tmp_path / "shared-cache", tmp_path / "run"
    shared.mkdir()
    out.mkdir()
    ranks = _run_ranks(shared, out)
    initial, states, losses, reference_filters = _single_process_reference()

    for rank in ranks:
        _assert_states_close(rank["initial"], initial, "initial state")
    param_names = [k for k, _ in build_model().named_parameters()]
    for phase, expected in enumerate(states):
        for name in param_names:
            assert torch.equal(ranks[0]["states"][phase][name], ranks[1]["states"][phase][name]), (phase, name)
        _assert_states_close(ranks[0]["states"][phase], expected, f"rank 0 after phase {phase + 1}")
    for name in param_names:     # (a convolution's bias before a batch norm only trains in phase 2)
        assert (states[-1][name] - initial[name]).abs().max() > 1e-4, f"{name} did not train"
    for key, value in ranks[0]["states"][-1].items():
        assert torch.equal(ranks[1]["states"][-1][key], value), key

    for step, expected in enumerate(losses):
        got = [rank["losses"][step] for rank in ranks]
        if len(expected) == WORLD:
            np.testing.assert_allclose(got, expected, rtol=1e-10)
        else:
            np.testing.assert_allclose(np.mean(got), expected[0], rtol=1e-10)
    for a, b, ref in zip(ranks[0]["filters"], ranks[1]["filters"], reference_filters):
        assert torch.equal(a, b)
        torch.testing.assert_close(a, ref, rtol=1e-9, atol=1e-12)

    # the shared cache: clean, one entry per key the network needs, each key fetched once per rank
    reference_cache = cache.default_cache()
    keys = {info.digest for info in reference_cache.entries()}
    assert len(keys) == 2              # 2 convolutions: one float64 entry each (.double() reads no cache)
    shared_cache = cache.BasisCache([shared])
    assert shared_cache.verify() == []
    entries = shared_cache.entries()
    assert sorted(info.digest for info in entries) == sorted(keys)
    assert not list(shared.rglob(".tmp-*")) and not list(shared.glob("quarantine/*"))
    for info in entries:               # the same bits as an independent computation
        mine, _ = read_entry(info.path, info.digest)
        theirs, _ = read_entry(reference_cache.locate(info.digest), info.digest)
        assert np.array_equal(mine.blocks, theirs.blocks)
    stats = [rank["cache_stats"] for rank in ranks]
    for s in stats:
        assert s["computed"] + s["disk_hits"] == len(keys) and s["corrupt"] == 0 and s["written"] == s["computed"]
    # both ranks may compute a key at the same time (allowed); together they computed every key at least once
    assert len(keys) <= sum(s["computed"] for s in stats) <= WORLD * len(keys)


# ---- torch.compile -----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_torch_compile_training_step_and_eval_match_eager():
    """Default backend: the outputs and every gradient of two training steps equal eager's (float32, 1e-5
    relative); in eval mode, after the weights changed in place, the compiled forward follows them (no stale
    filter)."""
    torch._dynamo.reset()
    eager = build_model()                     # an R2Conv and an R2Diffop
    compiled_model = copy.deepcopy(eager)
    compiled = torch.compile(compiled_model)
    optimisers = [torch.optim.SGD(m.parameters(), lr=0.1) for m in (eager, compiled_model)]
    for step in range(2):
        x, y = global_batch(step, WORLD, torch.float32)
        results = []
        for model, optimiser in zip((eager, compiled), optimisers):
            optimiser.zero_grad()
            out = model(x)
            loss = torch.nn.functional.cross_entropy(out, y)
            loss.backward()
            results.append((out.detach(), [p.grad.clone() for p in optimiser.param_groups[0]["params"]]))
            optimiser.step()
        (out_e, grads_e), (out_c, grads_c) = results
        torch.testing.assert_close(out_c, out_e, rtol=1e-5, atol=1e-5 * out_e.abs().max().item())
        for g_c, g_e in zip(grads_c, grads_e):
            # (the first convolution's bias has a zero gradient, the batch norm cancels it: rounding noise)
            torch.testing.assert_close(g_c, g_e, rtol=1e-4, atol=1e-6 + 1e-5 * g_e.abs().max().item())
    eager.eval()
    compiled_model.eval()
    x, _ = global_batch(5, WORLD, torch.float32)
    with torch.no_grad():
        for _ in range(2):
            expected = eager(x)
            torch.testing.assert_close(compiled(x), expected, rtol=1e-5, atol=1e-5 * expected.abs().max().item())
            for model in (eager, compiled_model):
                for p in model.parameters():
                    p.mul_(1.5)        # in place: a cached filter must be recomputed


# ---- mixed precision ---------------------------------------------------------------------------------------
def _trained(group, device="cpu"):
    torch.manual_seed(0)
    model = build_model(group).to(device)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.05)
    for step in range(3):                   # weights and running statistics away from their initial values
        x, y = global_batch(step, WORLD, torch.float32)
        loss = torch.nn.functional.cross_entropy(model(x.to(device)), y.to(device))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return model.eval()


def _equivariance_errors(model, x, context):
    """``(feature error, logit error, logits)``: max over the grid elements g of ``|f(g x) - g f(x)| / max |f(x)|``
    for the regular-field feature map before the group pooling, and ``|y(g x) - y(x)| / max |y(x)|`` for the
    invariant logits; the network runs under ``context()``, the group acts outside it (exactly)."""
    t_in = model[0].out_type
    features = nn.SequentialModule(*list(model[1].children())[:7])
    gs = t_in.gspace
    elements = [g for g in gs.testing_elements if gs.is_grid_element(g)]
    assert len(elements) == (4 if gs.fibergroup.name.startswith("C") else 8)
    with torch.no_grad():
        rotated = [nn.GeometricTensor(x, t_in).transform(g).tensor for g in elements]
        with context():
            f, y = features(nn.GeometricTensor(x, t_in)).tensor, model(x)
            f_g = [features(nn.GeometricTensor(gx, t_in)).tensor.float() for gx in rotated]
            y_g = [model(gx).float() for gx in rotated]
        assert f.shape[1] == 32
        g_f = [nn.GeometricTensor(f.float(), features.out_type).transform(g).tensor for g in elements]
        err_f = max((a - b).abs().max().item() for a, b in zip(f_g, g_f)) / f.float().abs().max().item()
        err_y = max((a - y.float()).abs().max().item() for a in y_g) / y.float().abs().max().item()
    return err_f, err_y, y


@pytest.mark.parametrize("group", ["C8", "D4", "C8-pdo", "D4-pdo"])
def test_autocast_bfloat16_on_cpu_runs_and_stays_equivariant(group):
    """bfloat16 keeps 8 significant bits (rounding changes a value by up to 2^-8 = 3.9e-3 of it): the
    equivariance error it leaves is a rounding or two, below 1e-2 relative; float32 (the control) stays below
    1e-5.  Backward under autocast gives finite float32 gradients."""
    model = _trained(group)
    x = torch.randn(4, 3, 16, 16)
    err_f32, inv_f32, y32 = _equivariance_errors(model, x, contextlib.nullcontext)
    err_bf16, inv_bf16, ybf = _equivariance_errors(model, x, lambda: torch.autocast("cpu", dtype=torch.bfloat16))
    assert err_f32 < 1e-5 and inv_f32 < 1e-5
    assert ybf.dtype == torch.bfloat16
    assert 0 < (ybf.float() - y32).abs().max() < 5e-2 * y32.abs().max()     # it did run in bfloat16
    assert err_bf16 < 1e-2 and inv_bf16 < 1e-2, (err_bf16, inv_bf16)

    model.train()                           # backward under autocast: float32 gradients for every parameter
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = torch.nn.functional.cross_entropy(model(x), torch.arange(4))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.dtype == torch.float32 and torch.isfinite(p.grad).all(), name
        if not name.endswith("bias"):     # (a convolution's bias before a batch norm has a zero gradient)
            assert p.grad.abs().max() > 0, name


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_autocast_on_cuda_runs_and_stays_equivariant(dtype):
    if dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16")
    model = _trained("C8", "cuda")
    x = torch.randn(4, 3, 16, 16, device="cuda")
    err, inv, y = _equivariance_errors(model, x, lambda: torch.autocast("cuda", dtype=dtype))
    assert y.dtype == dtype
    assert err < 1e-2 and inv < 1e-2, (err, inv)
    model.train()
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    with torch.autocast("cuda", dtype=dtype):
        loss = torch.nn.functional.cross_entropy(model(x), torch.arange(4, device="cuda"))
    scaler.scale(loss).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


# ---- channels_last -----------------------------------------------------------------------------------------
def _is_channels_last(t):
    return t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous()


@pytest.mark.parametrize("group", ["C8", "D4", "C8-pdo", "D4-pdo"])
def test_channels_last_gives_the_contiguous_results_and_keeps_the_format(group):
    torch.manual_seed(0)
    model = build_model(group)
    model_cl = copy.deepcopy(model).to(memory_format=torch.channels_last)
    x, y = global_batch(0, WORLD, torch.float32)
    x_cl = x.to(memory_format=torch.channels_last).requires_grad_()
    x = x.clone().requires_grad_()
    layouts = []
    for m in model_cl[1].children():
        m.register_forward_hook(lambda m, args, out: layouts.append(
            (type(m).__name__, _is_channels_last(args[0].tensor), _is_channels_last(out.tensor)
             or out.tensor.shape[-2:] == (1, 1))))
    for mode in ("train", "eval"):
        model.train(mode == "train")
        model_cl.train(mode == "train")
        out, out_cl = model(x), model_cl(x_cl)
        torch.testing.assert_close(out_cl, out, rtol=1e-5, atol=1e-5 * out.abs().max().item())
        dropped = [name for name, before, after in layouts if before and not after]
        assert dropped == [], f"{mode}: these layers return contiguous tensors for channels_last input: {dropped}"
        assert len(layouts) == 9 and all(before for _, before, _ in layouts), layouts
        layouts.clear()
    for m in (model, model_cl):
        m.zero_grad()
    x.grad = x_cl.grad = None
    torch.nn.functional.cross_entropy(model(x), y).backward()
    torch.nn.functional.cross_entropy(model_cl(x_cl), y).backward()
    assert _is_channels_last(x_cl.grad)
    torch.testing.assert_close(x_cl.grad, x.grad, rtol=1e-4, atol=1e-6 * x.grad.abs().max().item())
    for (name, p), p_cl in zip(model.named_parameters(), model_cl.parameters()):
        torch.testing.assert_close(p_cl.grad, p.grad, rtol=1e-4, atol=1e-6 * p.grad.abs().max().item(), msg=name)


@pytest.mark.parametrize("name", ["C8", "D4", "SO2", "O2"])
def test_channels_last_through_every_module(name):
    """The networks of test_nn_networks (every module of e2layers.nn): each layer that receives channels_last
    input returns it (no silent switch back), the output equals the contiguous run's, and gradients flow."""
    from test_nn_networks import GSPACES, SIZE, Net

    torch.manual_seed(0)
    net = Net(GSPACES[name]()).double().eval()
    switched = []

    def hook(module, args, out):
        outs = out.values() if isinstance(out, dict) else [out]
        for o in outs:
            t = o.tensor
            spatial = t.dim() == 4 and t.shape[1] > 1 and t.shape[-1] * t.shape[-2] > 1
            if _channels_innermost(args[0].tensor) and spatial and t.is_contiguous():
                switched.append(type(module).__name__)

    for m in net.modules():
        if isinstance(m, nn.EquivariantModule) and isinstance(getattr(m, "in_type", None), nn.FieldType):
            m.register_forward_hook(hook)
    x = torch.randn(2, 3, SIZE, SIZE, dtype=torch.float64)
    x_cl = x.to(memory_format=torch.channels_last).requires_grad_()
    expected = net(x)
    out = net(x_cl)
    assert switched == []
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12 * expected.abs().max().item())
    out.square().sum().backward()
    assert torch.isfinite(x_cl.grad).all() and x_cl.grad.abs().max() > 0


def _channels_innermost(t):
    return t.dim() == 4 and t.stride(1) == 1 and not t.is_contiguous()


@pytest.mark.parametrize("fields", ["regular", "sorted", "interleaved"])
def test_inner_batch_norm_on_channels_last_input(fields):
    """InnerBatchNorm normalises channels_last input on a view, without copies: the same outputs, running
    statistics and gradients as on contiguous input, also with fields of two sizes (one group of channels per
    size: views of the input when sorted, gathered copies when interleaved)."""
    from e2layers import gspaces

    gs = gspaces.Rot2dOnR2(4)
    reps = {"regular": [gs.regular_repr] * 3, "sorted": [gs.regular_repr] * 2 + [gs.trivial_repr] * 2,
            "interleaved": [gs.regular_repr, gs.trivial_repr] * 2}[fields]
    t = nn.FieldType(gs, reps)
    bn = nn.InnerBatchNorm(t).double()
    bn_cl = copy.deepcopy(bn)
    x = torch.randn(3, t.size, 5, 6, dtype=torch.float64) * 2 + 1
    x_cl = x.to(memory_format=torch.channels_last).requires_grad_()
    x = x.clone().requires_grad_()
    for mode in (True, False):
        bn.train(mode)
        bn_cl.train(mode)
        y, y_cl = bn(nn.GeometricTensor(x, t)).tensor, bn_cl(nn.GeometricTensor(x_cl, t)).tensor
        assert _is_channels_last(y_cl)
        torch.testing.assert_close(y_cl, y, rtol=0, atol=1e-12)
        for key, value in bn.state_dict().items():
            torch.testing.assert_close(bn_cl.state_dict()[key], value, rtol=0, atol=1e-12)
        (y * torch.arange(y.numel(), dtype=y.dtype).view(y.shape)).sum().backward()
        (y_cl * torch.arange(y.numel(), dtype=y.dtype).view(y.shape)).sum().backward()
        torch.testing.assert_close(x_cl.grad, x.grad, rtol=0, atol=1e-9)


def test_geometric_tensor_operations_keep_channels_last():
    """The group action (fibres and plane), field selection and direct sums of a channels_last GeometricTensor
    give the values of the contiguous one, still channels_last."""
    from e2layers import gspaces

    gs = gspaces.FlipRot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.irrep(1, 1)])
    x = torch.randn(2, t.size, 6, 6)
    a, b = nn.GeometricTensor(x, t), nn.GeometricTensor(x.to(memory_format=torch.channels_last), t)
    for g in gs.testing_elements:
        for op in (lambda u: u.transform(g), lambda u: u.transform_fibers(g)):
            assert _is_channels_last(op(b).tensor) and torch.equal(op(b).tensor, op(a).tensor)
    for op in (lambda u: u[:, ::2], lambda u: u[:, 1:], lambda u: nn.tensor_directsum([u, u[:, 2:]])):
        assert _channels_innermost(op(b).tensor) and torch.equal(op(b).tensor, op(a).tensor)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
def test_r2conv_keeps_channels_last_with_every_padding_mode(padding_mode):
    """F.pad (every padding mode but zeros) returns a contiguous tensor: R2Conv still answers channels_last."""
    from e2layers import gspaces

    gs = gspaces.Rot2dOnR2(4)
    conv = nn.R2Conv(nn.FieldType(gs, [gs.regular_repr] * 2), nn.FieldType(gs, [gs.regular_repr] * 3), 3,
                     padding=1, padding_mode=padding_mode)
    x = torch.randn(2, 8, 9, 9)
    for training in (True, False):
        conv.train(training)
        y = conv(nn.GeometricTensor(x, conv.in_type)).tensor
        y_cl = conv(nn.GeometricTensor(x.to(memory_format=torch.channels_last), conv.in_type)).tensor
        assert _is_channels_last(y_cl), (padding_mode, training)
        assert_close_up_to_rounding(y_cl, y)
