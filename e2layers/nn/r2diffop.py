"""``R2Diffop``: steerable partial differential operators with e2cnn's signature and weight layout.

A learnt combination of the equivariant PDO basis (docs/math.md, "Steerable PDOs"), discretised on the
``kernel_size`` grid and applied as a convolution: everything but the basis is R2Conv's (forward,
eval-mode filter cache, export, memory formats, ``check_equivariance``).
"""
from __future__ import annotations

from typing import Callable, Optional, Union

from basisgen.errors import InvalidValueError
from basisgen.pdo_sampling import discretization, resolve_sizes, resolved_diffop_params

from ._checks import one_of
from .field_type import FieldType
from .r2conv import _PADDING_MODES, R2Conv, _R2ConvBase

__all__ = ["R2Diffop"]

#: what e2cnn's ``cache`` argument accepts
_CACHE_VALUES = (False, True, "store", "load")


class R2Diffop(R2Conv):
    """A G-steerable PDO layer mapping fields of ``in_type`` to fields of ``out_type`` (e2cnn's R2Diffop).

    The operator is a learnt combination (``weights``, in e2cnn's layout) of the basis of equivariant
    partial differential operators up to ``maximum_order``, each a polynomial in d/dx and d/dy times a
    power of the Laplacian (at most ``maximum_power``), discretised on a ``kernel_size`` grid: finite
    differences (default), derivatives of a Gaussian of width ``smoothing``, or RBF-FD (``rbffd=True``
    with the radial basis function ``radial_basis_function``; needs ``pip install "e2layers[rbf]"``).
    At most two of ``kernel_size``, ``accuracy`` and ``maximum_order`` are given; the third follows
    (``kernel_size=5`` gives order 4, ``maximum_order=2`` gives a 3x3 grid).  ``angle_offset`` turns
    every operator.  ``cache`` is accepted for e2cnn compatibility: stencils and bases always come from
    the persistent basis cache.  Everything else is R2Conv's.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(N=8)
    >>> pdo = nn.R2Diffop(nn.FieldType(r2, [r2.trivial_repr]), nn.FieldType(r2, 4 * [r2.regular_repr]), 5)
    >>> pdo(nn.GeometricTensor(torch.randn(2, 1, 16, 16), pdo.in_type)).shape, pdo.weights.shape
    (torch.Size([2, 32, 12, 12]), torch.Size([60]))
    """

    _basis_noun = "PDO"

    def __init__(self, in_type: FieldType, out_type: FieldType, kernel_size: int = None, accuracy: int = None,
                 padding: int = 0, stride: int = 1, dilation: int = 1, padding_mode: str = 'zeros', groups: int = 1,
                 bias: bool = True, basisexpansion: str = 'blocks', maximum_order: int = None,
                 maximum_power: int = None, maximum_offset: int = None, recompute: bool = False,
                 angle_offset: float = None, basis_filter: Callable[[dict], bool] = None, initialize: bool = True,
                 cache: Union[bool, str] = False, rbffd: bool = False, radial_basis_function: str = "ga",
                 smoothing: float = None):
        one_of(padding_mode, "padding_mode", _PADDING_MODES)
        if not any(cache is v or (isinstance(v, str) and cache == v) for v in _CACHE_VALUES):
            raise InvalidValueError(f"cache must be one of {_CACHE_VALUES}, got {cache!r}")
        discretization(smoothing, rbffd, radial_basis_function)        # refused before any warning
        kernel_size, maximum_order = resolve_sizes(kernel_size, accuracy, maximum_order)
        self.maximum_order = maximum_order

        def params_for(dilation: int, axis: Optional[float]):
            return resolved_diffop_params(kernel_size, maximum_order, dilation, maximum_power, maximum_offset,
                                          smoothing, rbffd, radial_basis_function, angle_offset, basis_filter, axis)
        _R2ConvBase.__init__(self, in_type, out_type, kernel_size, padding, stride, dilation, groups, bias,
                             basisexpansion, params_for, recompute, initialize)
        self._set_padding_mode(padding_mode)
        self.cache = cache

    @property
    def maximum_power(self) -> int:
        """The largest power of the Laplacian in the basis (``maximum_power`` capped at ``maximum_order // 2``)."""
        return self._basis_params.maximum_power

    @property
    def discretization(self):
        """How the operators are discretised (:class:`basisgen.stencils.Discretization`)."""
        return self._basis_params.discretization
