"""Equivariance of a layer under the elements that map the pixel grid onto itself, at rounding level."""
import torch

from e2layers import nn

#: the relative error allowed (max |f(g.x) - g.f(x)| / max |f(g.x)|): rounding of the layer's sums
TOL = {torch.float32: 1e-5, torch.float64: 1e-10}


def assert_grid_equivariant(module, dtype, size=None):
    """``module`` in ``dtype`` on a random batch of 2 (spatial ``size``, default the module's test size) is
    equivariant under every grid element to :data:`TOL`; returns the (element, error) pairs."""
    module = module.to(dtype)
    size = size or module._test_input_size()
    x = nn.GeometricTensor(torch.randn(2, module.in_type.size, size, size, dtype=dtype), module.in_type)
    return nn.assert_equivariant(module, x, tolerance=TOL[dtype])
