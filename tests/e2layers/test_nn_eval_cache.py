"""The eval-mode filter of R2Conv, R2ConvTransposed and Linear follows the parameters, however they change.

In eval mode without autograd these layers expand their filter once and reuse it.  Each test below fills
that cache with one forward, changes the parameters one way, and checks the next forward against the
layer's export (a plain torch module built from the current parameters, never from the cache), and that
the output did change (so a stale cache fails the test).
"""
import copy

import numpy as np
import pytest
import torch
from torch.nn.utils import parametrize

from e2layers import gspaces, nn

GS = gspaces.Rot2dOnR2(4)
REG = nn.FieldType(GS, 2 * [GS.regular_repr])
MIX = nn.FieldType(GS, [GS.trivial_repr, GS.irrep(1), GS.regular_repr])

LAYERS = {
    "R2Conv": lambda: nn.R2Conv(REG, MIX, 3, padding=1),
    "R2ConvTransposed": lambda: nn.R2ConvTransposed(REG, MIX, 3, stride=2, padding=1),
    "Linear": lambda: nn.Linear(REG, MIX),
}


pytestmark = pytest.mark.usefixtures("module_cache")


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)
    np.random.seed(0)


def _x(layer, dtype=torch.float32):
    return nn.GeometricTensor(torch.randn(2, layer.in_type.size, 6, 6, dtype=dtype), layer.in_type)


def _expected(layer, x):
    with torch.no_grad():
        return layer.export()(x.tensor)


def _eval_forward(layer, x):
    with torch.no_grad():
        return layer(x).tensor


def _check_follows(layer, x, change):
    """``change(layer)`` after a cached eval forward: the next eval forward (and ``filter``) use the new values."""
    layer.eval()
    before = _eval_forward(layer, x)
    assert torch.equal(_eval_forward(layer, x), before)            # the cached filter, reused
    change(layer)
    after = _eval_forward(layer, x)
    expected = _expected(layer, x)
    assert (expected - before).abs().max() > 1e-3, "the change must show in the output"
    tol = 1e-5 * expected.abs().max().item()
    torch.testing.assert_close(after, expected, rtol=0, atol=tol)
    if not isinstance(layer, nn.Linear):
        filt = layer.expand_parameters()[0].detach()
        assert torch.equal(layer.filter, filt.transpose(0, 1) if isinstance(layer, nn.R2ConvTransposed) else filt)
    return after


def _biased(layer):
    with torch.no_grad():
        layer.bias.normal_()
    return layer


def _ema_step(layer):
    """The usual EMA update of a copy: ``p_ema.data.mul_(.5).add_(.5 * p.data)`` (no version counter moves)."""
    other = copy.deepcopy(layer)
    with torch.no_grad():
        for p in other.parameters():
            p.normal_()
        for p_ema, p in zip(layer.parameters(), other.parameters()):
            p_ema.data.mul_(0.5).add_(0.5 * p.data)


def _assign_data(layer):
    layer.weights.data = torch.randn_like(layer.weights)
    layer.bias.data = torch.randn_like(layer.bias)


def _copy_under_no_grad(layer):
    with torch.no_grad():
        layer.weights.copy_(torch.randn_like(layer.weights))
        layer.bias.copy_(torch.randn_like(layer.bias))


def _load_state_dict(layer):
    other = LAYERS[type(layer).__name__]()
    _biased(other)
    layer.load_state_dict(other.state_dict())


def _swap_parameters(layer):
    layer.weights = torch.nn.Parameter(torch.randn_like(layer.weights))
    layer.bias = torch.nn.Parameter(torch.randn_like(layer.bias))


def _bias_only(layer):
    layer.bias.data.add_(1.0)


def _optimizer_step(layer):
    """A training step taken in eval mode (autograd on): the parameters change in place by the optimizer."""
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.5)
    x = _x(layer)
    layer(x).tensor.square().mean().backward()
    optimizer.step()


def _inference_mode_change(layer):
    with torch.inference_mode():
        layer(_x(layer))                              # a cache entry made in inference mode
    layer.weights.data.mul_(-1)


WAYS = {"ema_data_mul": _ema_step, "assign_data": _assign_data, "copy_under_no_grad": _copy_under_no_grad,
        "load_state_dict": _load_state_dict, "swap_parameters": _swap_parameters, "bias_only": _bias_only,
        "optimizer_step": _optimizer_step, "inference_mode": _inference_mode_change}


@pytest.mark.parametrize("way", sorted(WAYS))
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_eval_filter_follows_parameters(name, way):
    layer = _biased(LAYERS[name]())
    _check_follows(layer, _x(layer), WAYS[way])


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_eval_filter_follows_a_parametrization(name):
    class Scale(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.factor = torch.nn.Parameter(torch.tensor(1.0))

        def forward(self, w):
            return w * self.factor

    layer = _biased(LAYERS[name]()).eval()
    x = _x(layer)
    parametrize.register_parametrization(layer, "weights", Scale())

    def change(layer):
        layer.parametrizations.weights[0].factor.data.fill_(-2.0)   # the parametrization's own parameter

    _check_follows(layer, x, change)
    layer.parametrizations.weights.original.data.mul_(0.5)           # the underlying weights
    torch.testing.assert_close(_eval_forward(layer, x), _expected(layer, x), rtol=0,
                               atol=1e-5 * _expected(layer, x).abs().max().item())


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_eval_filter_under_functional_call(name):
    layer = _biased(LAYERS[name]()).eval()
    x = _x(layer)
    own = _eval_forward(layer, x)
    other = _biased(LAYERS[name]())
    with torch.no_grad():
        swapped = torch.func.functional_call(layer, dict(other.named_parameters()), (x,)).tensor
    torch.testing.assert_close(swapped, _expected(other, x), rtol=0, atol=1e-5 * swapped.abs().max().item())
    assert torch.equal(_eval_forward(layer, x), own)                   # and back to the layer's own parameters


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_eval_filter_follows_dtype_changes(name):
    layer = _biased(LAYERS[name]()).eval()
    x = _x(layer)
    _eval_forward(layer, x)
    layer.double()
    x64 = nn.GeometricTensor(x.tensor.double(), x.type)
    assert _eval_forward(layer, x64).dtype == torch.float64
    layer.weights.data = layer.weights.data.float()                   # behind the module's back
    layer.bias.data = layer.bias.data.float()
    assert layer.filter.dtype == torch.float32
    _check_follows(layer, x, _ema_step)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_ema_with_averaged_model(name):
    """torch.optim.swa_utils.AveragedModel (an EMA of a layer trained in place): the averaged model's eval
    forward follows every update."""
    layer = _biased(LAYERS[name]())
    ema = torch.optim.swa_utils.AveragedModel(layer, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(0.5))
    ema.eval()
    x = _x(layer)
    outputs = []
    for _ in range(3):
        with torch.no_grad():
            for p in layer.parameters():
                p.add_(torch.randn_like(p))
        ema.update_parameters(layer)
        with torch.no_grad():
            y = ema(x).tensor
        torch.testing.assert_close(y, _expected(ema.module, x), rtol=0, atol=1e-5 * y.abs().max().item())
        outputs.append(y)
    assert (outputs[1] - outputs[0]).abs().max() > 1e-3


def test_nan_weights_are_expanded_once():
    """The comparison is bitwise: NaN weights (a diverged model) reuse their filter instead of re-expanding it on
    every forward, and a sign change of a zero is seen."""
    layer = LAYERS["R2Conv"]().eval()
    x = _x(layer)
    with torch.no_grad():
        layer.weights[0] = float("nan")
    _eval_forward(layer, x)
    cached = layer._eval_cache
    _eval_forward(layer, x)
    assert layer._eval_cache is cached
    with torch.no_grad():
        layer.weights.zero_()
    _eval_forward(layer, x)
    cached = layer._eval_cache
    layer.weights.data.neg_()                                          # -0.0: other bits, same filter values
    _eval_forward(layer, x)
    assert layer._eval_cache is not cached


def test_the_check_benchmark_runs():
    """benchmarks/bench_eval_check.py measures the shipped forward with its cache hit on every call (it asserts
    so), next to the forward without the check."""
    from benchmarks.bench_eval_check import measure
    r = measure("C4", 2, 3, 8, 1, rounds=1, reps=2)
    assert r["weights"] > 0
    assert all(r[k] > 0 for k in ("conv2d", "r2conv", "r2conv, no check", "r2conv, version key", "check alone"))
