"""``restrict_network``: a trained G-equivariant network re-expressed, exactly, over a subgroup H of G.

A G-equivariant map is H-equivariant for every subgroup H, so nothing is approximated: the restricted
network computes the same function on the same channels.  What changes is the description:

* field types become their restrictions (``FieldType.restrict(id)``: the same channels, each field's
  representation seen as one of H);
* layers with a basis expansion (:class:`R2Conv`, :class:`R2ConvTransposed`, :class:`R2Diffop`,
  :class:`Linear`) are rebuilt on the restricted types, with H's (larger) basis, and their weights are
  *solved for*: the least-squares solution of ``H-basis(weights) = G-filter``, computed in float64,
  whose residual must be at rounding level or the restriction stops with an error;
* every other module is kept as it is, on the restricted types (parameters, running statistics and
  buffers copied): its computation does not change, so neither does its output.

docs/restricting.md explains the mathematics and the choices; the worked rules are in :func:`restrict_network`.
"""
from __future__ import annotations

import copy
import dataclasses
from collections import OrderedDict
from typing import Any, Optional, Tuple

import numpy as np
import torch

from basisgen.errors import InvalidTypeError, InvalidValueError

from ..expansion import BasisExpansion
from ..gspaces import GSpace
from .antialiased import PointwiseAvgPoolAntialiased, PointwiseMaxPoolAntialiased
from .branching import BranchingModule, MergeModule, MultipleModule
from .concatenated import ConcatenatedNonLinearity
from .containers import IdentityModule, ModuleList, SequentialModule
from .equivariant_module import EquivariantModule
from .field_dropout import FieldDropout
from .field_norm import FieldNorm
from .field_type import FieldType
from .fourier import FourierELU, FourierPointwise
from .gated import GatedNonLinearity1, GatedNonLinearity2, InducedGatedNonLinearity1
from .gnorm_batchnorm import GNormBatchNorm
from .group_pooling import GroupPooling
from .inner_batchnorm import IIDBatchNorm2d, InnerBatchNorm
from .linear import Linear
from .mask import MaskModule
from .norm_batchnorm import InducedNormBatchNorm, NormBatchNorm
from .norm_nonlinearity import InducedNormNonLinearity, NormNonLinearity
from .norm_pool import InducedNormPool, NormMaxPool, NormPool
from .pointwise import (ELU, LeakyReLU, PointwiseAdaptiveAvgPool, PointwiseAdaptiveMaxPool, PointwiseAvgPool,
                        PointwiseDropout, PointwiseMaxPool, PointwiseNonLinearity, ReLU)
from .r2conv import R2Conv, R2ConvTransposed, _bias_expansion, _R2ConvBase
from .r2diffop import R2Diffop
from .r2upsampling import R2Upsampling
from .reshuffle import DisentangleModule, ReshuffleModule, RestrictionModule
from .vectorfield import VectorFieldNonLinearity
from .subgroup_pooling import SubgroupPooling

__all__ = ["restrict_network", "RestrictionError"]

#: the largest residual ``max |H filter - G filter| / max |G filter|`` accepted (float64 solve)
RESIDUAL_TOLERANCE = 1e-9

#: layers whose weights are coefficients of a basis: rebuilt on H's basis, weights solved for
_BASIS_LAYERS = (R2Conv, R2Diffop, R2ConvTransposed, Linear)

#: modules whose computation depends on the fields' channels only (their sizes and positions, which a
#: restriction keeps), not on which group acts: kept as they are on the restricted types
_KEPT_MODULES = (IdentityModule, ReLU, ELU, LeakyReLU, PointwiseNonLinearity, PointwiseMaxPool, PointwiseAvgPool,
                 PointwiseAdaptiveAvgPool, PointwiseAdaptiveMaxPool, PointwiseDropout, PointwiseMaxPoolAntialiased,
                 PointwiseAvgPoolAntialiased, FieldDropout, R2Upsampling, MaskModule, ReshuffleModule,
                 DisentangleModule, GroupPooling, NormPool, InducedNormPool, NormMaxPool, SubgroupPooling,
                 ConcatenatedNonLinearity, NormNonLinearity, InducedNormNonLinearity, GatedNonLinearity1,
                 GatedNonLinearity2, InducedGatedNonLinearity1, FourierPointwise, FourierELU,
                 InnerBatchNorm, IIDBatchNorm2d, NormBatchNorm, InducedNormBatchNorm, GNormBatchNorm, FieldNorm,
                 VectorFieldNonLinearity)

#: containers: their children are restricted one by one, their field types replaced by the restrictions
_CONTAINERS = (SequentialModule, ModuleList, BranchingModule, MergeModule, MultipleModule, torch.nn.Sequential,
               torch.nn.ModuleList, torch.nn.ModuleDict)


class RestrictionError(InvalidValueError):
    """A module of the network cannot be re-expressed over the subgroup (the message names it and says why)."""


def restrict_network(model: torch.nn.Module, subgroup_id: Any) -> torch.nn.Module:
    """A new network over the subgroup ``subgroup_id`` of the model's group, with the same outputs.

    ``subgroup_id`` is a subgroup id of the model's gspace, as ``gspace.restrict`` takes it:
    ``Rot2dOnR2(N)``: ``M`` (C_M, M divides N); ``FlipRot2dOnR2(N)``: ``(None, M)`` (C_M), ``(a, 1)`` (the
    reflections ``{e, r^a f}``, ``0 <= a < N``) or ``(a, M)`` (D_M, ``0 <= a < N / M``); SO(2): ``M``;
    O(2): ``(None, -1)`` (SO(2)), ``(None, M)``, ``(theta, 1)``, ``(theta, M)`` (``theta`` a float angle);
    ``Flip2dOnR2``: ``1`` (trivial).  The original model is not changed.

    The result takes inputs of type ``model.in_type.restrict(subgroup_id)`` (the same tensors) and gives
    outputs of type ``model.out_type.restrict(subgroup_id)``, equal to the original's up to float rounding,
    in train and in eval mode:

    * ``R2Conv``, ``R2ConvTransposed``, ``R2Diffop``, ``Linear``: rebuilt on the restricted types with the
      same grid, rings, widths and frequency cutoffs (PDOs: the same orders, powers and discretisation);
      H's basis is not thinned by the layer's ``basis_filter`` and not bounded by its ``maximum_offset``
      (both are statements about G's basis).  Weights and bias are solved for in float64 (least squares
      against H's sampled basis); a residual above ``1e-9`` relative raises :class:`RestrictionError`.
      The new weights are ordinary parameters of the H-layer: fine-tuning moves them within H's basis.
    * Non-linearities, pools (``GroupPooling``/``NormPool`` included), dropout, upsampling, batch and field
      normalisations, gates, Fourier non-linearities, ``SubgroupPooling``: kept with their parameters,
      running statistics and buffers, on the restricted types.  They act on each original field as a whole
      (a D_N regular field restricted to C_N stays one field of size 2N: ``GroupPooling`` still takes the
      largest of its 2N channels), so their outputs are unchanged; their parameters keep G's structure
      (e.g. ``NormBatchNorm`` biases only the components trivial for G): see docs/restricting.md.
    * Containers (``SequentialModule``, ``ModuleList``, ``BranchingModule``, ``MergeModule``,
      ``MultipleModule``, torch's ``Sequential``/``ModuleList``/``ModuleDict``) and plain ``torch.nn.Module``
      s holding modules (no parameters of their own): their children are restricted, and every ``FieldType``
      they hold (attributes, lists, tuples, dicts) is replaced by its restriction.
    * Plain torch modules without children (a ``torch.nn.Linear`` head on invariant features): copied; they
      act on channels, which the restriction leaves where they were.

    Raises :class:`RestrictionError` (a ``ValueError``) naming the module for anything else: an
    ``EquivariantModule`` it does not know (including subclasses of the modules above, whose ``forward``
    it cannot vouch for), a ``RestrictionModule`` inside the network, a module on another gspace, a
    composite module with parameters of its own, or a filter H's basis cannot express.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> d4 = gspaces.FlipRot2dOnR2(4)
    >>> t_in, t_reg = nn.FieldType(d4, [d4.trivial_repr]), nn.FieldType(d4, 2 * [d4.regular_repr])
    >>> net = nn.SequentialModule(nn.R2Conv(t_in, t_reg, 3), nn.ReLU(t_reg), nn.GroupPooling(t_reg)).eval()
    >>> c4_net = nn.restrict_network(net, (None, 4))
    >>> c4_net.in_type.gspace.name, c4_net.out_type.size
    ('4-Rotations', 2)
    >>> x = torch.randn(1, 1, 9, 9)
    >>> y = net(nn.GeometricTensor(x, net.in_type)).tensor
    >>> y_c4 = c4_net(nn.GeometricTensor(x, c4_net.in_type)).tensor
    >>> bool((y - y_c4).abs().max() < 1e-5)
    True
    """
    if not isinstance(model, torch.nn.Module):
        raise InvalidTypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    gspace = _model_gspace(model)
    return _Restrictor(gspace, subgroup_id).module(model, type(model).__name__)


def _model_gspace(model: torch.nn.Module) -> GSpace:
    for module in model.modules():
        if isinstance(module, EquivariantModule):
            in_type = module.in_type
            if isinstance(in_type, FieldType):
                return in_type.gspace
            for t in (in_type.values() if isinstance(in_type, dict) else in_type or ()):
                if isinstance(t, FieldType):
                    return t.gspace
    raise InvalidValueError(f"model must hold at least one EquivariantModule with a FieldType in_type; "
                            f"{type(model).__name__} holds none")


class _Restrictor:
    """Restricts modules of one gspace to its subgroup ``id``."""

    def __init__(self, gspace: GSpace, id: Any):
        try:
            self.subspace, self.parent, self.child = gspace.restrict(id)
        except (ValueError, TypeError, KeyError, NotImplementedError) as err:
            raise InvalidValueError(f"subgroup_id={id!r} is not a subgroup id of {gspace.name} ({err})") from err
        self.gspace, self.id = gspace, id

    # ---- field types -------------------------------------------------------------------------------------
    def field_type(self, t: FieldType, where: str) -> FieldType:
        if t.gspace != self.gspace:
            raise RestrictionError(f"{where}: holds a field type of {t.gspace.name}, but the network's first "
                                   f"equivariant module is over {self.gspace.name}; restrict_network needs one "
                                   f"gspace throughout")
        return t.restrict(self.id)

    def value(self, value: Any, where: str) -> Any:
        """``value`` with every FieldType (alone or in a list, tuple or dict) restricted and the gspace replaced
        by the subgroup's; anything else is returned as it is."""
        if isinstance(value, FieldType):
            return self.field_type(value, where)
        if isinstance(value, GSpace) and value == self.gspace:
            return self.subspace
        if type(value) in (list, tuple) and any(isinstance(v, FieldType) for v in value):
            return type(value)(self.value(v, where) for v in value)
        if type(value) in (dict, OrderedDict) and any(isinstance(v, FieldType) for v in value.values()):
            return type(value)((k, self.value(v, where)) for k, v in value.items())
        return value

    def retype(self, module: torch.nn.Module, where: str) -> None:
        """Replace, in place, every field type and the gspace ``module`` holds in its attributes."""
        for name, value in list(vars(module).items()):
            if name in ("_parameters", "_buffers", "_modules"):
                continue
            mapped = self.value(value, f"{where} (attribute {name!r})")
            if mapped is not value:
                module.__dict__[name] = mapped

    # ---- modules -----------------------------------------------------------------------------------------
    def module(self, module: torch.nn.Module, where: str) -> torch.nn.Module:
        cls = type(module)
        if cls in _BASIS_LAYERS:
            return self.basis_layer(module, where)
        if cls in _KEPT_MODULES:
            new = copy.deepcopy(module)
            self.retype(new, where)
            return new
        if cls in _CONTAINERS or (not isinstance(module, EquivariantModule) and len(module._modules) > 0):
            return self.container(module, where)
        if isinstance(module, RestrictionModule):
            raise RestrictionError(f"{where}: a RestrictionModule already changes the group inside the network; "
                                   f"restrict the part of the network before it instead")
        if isinstance(module, EquivariantModule):
            raise RestrictionError(f"{where}: restrict_network does not know {cls.__name__}, so it cannot vouch that "
                                   f"the module computes the same function on the subgroup's field types "
                                   f"(its forward may read the group); supported: "
                                   f"{', '.join(sorted({c.__name__ for c in _BASIS_LAYERS + _KEPT_MODULES}))} "
                                   f"and containers of them")
        return copy.deepcopy(module)            # a plain torch leaf: acts on channels, which do not move

    def container(self, module: torch.nn.Module, where: str) -> torch.nn.Module:
        own = [name for name, p in module._parameters.items() if p is not None]
        if own:
            raise RestrictionError(f"{where}: {type(module).__name__} has parameters of its own ({', '.join(own)}) "
                                   f"used by its own forward; restrict_network cannot tell how they act on the "
                                   f"fields (move them into a module it knows)")
        new = copy.copy(module)
        new.__dict__ = dict(module.__dict__)
        for name, value in list(vars(new).items()):
            if "hooks" in name and isinstance(value, dict):
                new.__dict__[name] = type(value)(value)
        new._parameters = OrderedDict((k, None) for k in module._parameters)
        new._buffers = OrderedDict((k, None if b is None else b.detach().clone()) for k, b in module._buffers.items())
        new._modules = OrderedDict((name, None if child is None else self.module(child, f"{where}.{name}"))
                                   for name, child in module._modules.items())
        self.retype(new, where)
        if isinstance(new, SequentialModule):
            _check_chain(new, where)
        return new

    def basis_layer(self, layer: _R2ConvBase, where: str) -> _R2ConvBase:
        in_h = self.field_type(layer.in_type, where)
        out_h = self.field_type(layer.out_type, where)
        new = _rebuild(layer, in_h, out_h)
        weights, bias = _solved_parameters(layer, new, where)
        new.to(device=layer.weights.device, dtype=layer.weights.dtype)
        with torch.no_grad():
            new.weights.copy_(weights)
            if new.bias is not None:
                new.bias.copy_(bias)
        new.weights.requires_grad_(layer.weights.requires_grad)
        if new.bias is not None and layer.bias is not None:
            new.bias.requires_grad_(layer.bias.requires_grad)
        new.train(layer.training)
        return new


def _check_chain(module: SequentialModule, where: str) -> None:
    previous = None
    for name, child in module._modules.items():
        if previous is not None and child.in_type != previous:
            raise RestrictionError(f"{where}.{name}: its restricted in_type {child.in_type!r} differs from the "
                                   f"previous module's restricted out_type {previous!r}")
        previous = child.out_type


# ---- layers with a basis expansion ------------------------------------------------------------------------
def _rebuild(layer: _R2ConvBase, in_type: FieldType, out_type: FieldType) -> _R2ConvBase:
    """A layer of ``layer``'s class on the subgroup's types, with its grid, rings, cutoffs and hyper-parameters;
    H's basis neither filtered by ``basis_filter`` nor bounded by ``maximum_offset`` (G's settings)."""
    if isinstance(layer, Linear):       # over no_base_space too: Linear builds its own planar basis types
        return Linear(in_type, out_type, bias=layer.bias is not None, initialize=False)
    params = layer._basis_params

    def params_for(dilation: int, axis: Optional[float]):
        return dataclasses.replace(params, axis=axis, basis_filter=None, maximum_offset=None)

    cls = type(layer)
    new = cls.__new__(cls)
    _R2ConvBase.__init__(new, in_type, out_type, layer.kernel_size, layer.padding, layer.stride, layer.dilation,
                         layer.groups, layer.bias is not None, "blocks", params_for, layer.recompute, False)
    if isinstance(layer, R2Conv):
        new._set_padding_mode(layer.padding_mode)
    if isinstance(layer, R2Diffop):
        new.maximum_order, new.cache = layer.maximum_order, layer.cache
    if isinstance(layer, R2ConvTransposed):
        new.output_padding = layer.output_padding
    return new


def _expansion64(layer: _R2ConvBase) -> BasisExpansion:
    return BasisExpansion([r.basisgen for r in layer._basis_in.representations],
                          [r.basisgen for r in layer._basis_out.representations], layer._basis_params,
                          dtype=torch.float64)


def _pair_basis(rho_in: Any, rho_out: Any, params: Any) -> torch.Tensor:
    """``(S_out * S_in * k * k, B)``: the sampled filters of the basis of one pair of fields, as columns."""
    single = BasisExpansion([rho_in.basisgen], [rho_out.basisgen], params, dtype=torch.float64)
    eye = torch.eye(single.dimension(), dtype=torch.float64)
    return torch.stack([single(e).reshape(-1) for e in eye], dim=1)


def _field_channels(t: FieldType, fields: np.ndarray, size: int) -> np.ndarray:
    starts = np.asarray(t.fields_start, dtype=np.int64)[fields]
    return (starts[:, None] + np.arange(size)[None, :]).reshape(-1)


def _solved_parameters(layer: _R2ConvBase, new: _R2ConvBase, where: str) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """The H-layer's weights and bias that give ``layer``'s filter and bias (float64 least squares, checked)."""
    with torch.no_grad():
        target = _expansion64(layer)(layer.weights.detach().to("cpu", torch.float64))
        expansion = _expansion64(new)
        weights = torch.zeros(expansion.dimension(), dtype=torch.float64)
        k2 = layer.kernel_size ** 2
        for p in expansion.pair_attributes():
            rho_in = new._basis_in.representations[int(p.in_fields[0])]
            rho_out = new._basis_out.representations[int(p.out_fields[0])]
            A = _pair_basis(rho_in, rho_out, new._basis_params)
            oc = _field_channels(new._basis_out, p.out_fields, rho_out.size)
            ic = _field_channels(new._basis_in, p.in_fields, rho_in.size)
            blocks = target[oc][:, ic].reshape(p.n_out, rho_out.size, p.n_in, rho_in.size, k2)
            rhs = blocks.permute(1, 3, 4, 0, 2).reshape(-1, p.n_out * p.n_in)     # rows as A's, columns (o, i)
            solution = np.linalg.lstsq(A.numpy(), rhs.numpy(), rcond=None)[0]     # (B, n_out * n_in)
            weights[p.start:p.start + p.n_out * p.n_in * p.size] = torch.as_tensor(solution.T.reshape(-1))
        achieved = expansion(weights)
        _check_residual(achieved, target, where, "filter", layer, new)
        bias = None
        if new.bias is not None:
            b = _bias_expansion(layer.out_type) @ layer.bias.detach().cpu().double().numpy()
            E = _bias_expansion(new.out_type)
            bias = torch.as_tensor(np.linalg.lstsq(E, b, rcond=None)[0])
            _check_residual(torch.as_tensor(E) @ bias, torch.as_tensor(b), where, "bias", layer, new)
    return weights, bias


def _check_residual(achieved: torch.Tensor, target: torch.Tensor, where: str, what: str, layer: Any,
                    new: Any) -> None:
    scale = float(target.abs().max()) if target.numel() else 0.0
    residual = float((achieved - target).abs().max()) if target.numel() else 0.0
    if residual > RESIDUAL_TOLERANCE * max(scale, 1e-300):
        raise RestrictionError(f"{where}: the {what} of this {type(layer).__name__} is not in the span of the "
                               f"subgroup's basis on {new.in_type.gspace.name} (relative residual "
                               f"{residual / max(scale, 1e-300):.3g} > {RESIDUAL_TOLERANCE:g}); the subgroup's "
                               f"basis with the same rings and cutoffs cannot express it, so no weights are "
                               f"guessed")


#: modules restrict_network keeps (for docs and tests): their names
KEPT_MODULE_NAMES = tuple(sorted(c.__name__ for c in _KEPT_MODULES))

