"""What the normalisation modules share (private): argument checks, field grouping, invariant subspaces,
e2cnn checkpoint keys, batch statistics pooled per field, and the base class ``FieldNormalization``.

A batch normalisation is equivariant when its statistics are invariant: each field's statistics pool its
channels (never one statistic per channel, which a rotation would shuffle), and a mean is only ever
subtracted inside the field's invariant subspace (the span of its trivial irreps; the mean of anything
else is zero by symmetry).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from basisgen.errors import InvalidValueError

from .._derived import DerivedTensors
from ._checks import check_shape, finite_float
from ._memory_format import keep_memory_format
from .equivariant_module import EquivariantModule
from .field_type import FieldType
from .geometric_tensor import GeometricTensor


# ---- argument checks --------------------------------------------------------------------------------------
def check_eps(eps: Any) -> float:
    """A positive finite ``eps``."""
    return finite_float(eps, "eps", above=0)


def check_momentum(momentum: Any) -> Optional[float]:
    """A momentum in [0, 1], or ``None`` for the cumulative average (as ``torch.nn.BatchNorm2d``)."""
    return None if momentum is None else finite_float(momentum, "momentum", minimum=0, maximum=1)


# ---- structure of a field type ----------------------------------------------------------------------------
def escape(name: str) -> str:
    """A representation name usable in a parameter name (``.`` is reserved by torch; escnn's escape)."""
    return str(name).replace(".", "^")


def e2cnn_indices(channels: Sequence[int]) -> torch.Tensor:
    """e2cnn's ``indices`` buffer of a group of channels: ``[first, last + 1]`` when contiguous, else all."""
    if list(channels) == list(range(channels[0], channels[-1] + 1)):
        return torch.tensor([channels[0], channels[-1] + 1])
    return torch.tensor(list(channels))


def trivial_positions(rep: Any) -> List[int]:
    """The offsets of the trivial irreps of ``rep`` in its irrep basis."""
    irreps = rep.group.irreps
    positions, p = [], 0
    for name in rep.irreps:
        if irreps[name].is_trivial():
            positions.append(p)
        p += irreps[name].size
    return positions


def invariant_basis(rep: Any) -> np.ndarray:
    """An orthonormal basis (columns) of the invariant subspace of ``rep``: the change of basis' columns of its
    trivial irreps, orthonormalised symmetrically (unchanged when already orthonormal, as for e2cnn's)."""
    q = np.asarray(rep.change_of_basis, dtype=float)[:, trivial_positions(rep)]
    if q.shape[1] == 0:
        return q
    u, _, vt = np.linalg.svd(q, full_matrices=False)
    return u @ vt


def invariant_subspace(in_type: FieldType, bases: Optional[Sequence[np.ndarray]] = None):
    """The invariant subspace of ``in_type`` in sparse form: ``(channels, directions, coefficients, T)`` with
    basis vector ``d`` equal to the sum of ``coefficients[k] e_{channels[k]}`` over ``directions[k] == d``
    (``coefficients`` in float64 numpy, for :meth:`ExactBuffers.register_exact_buffer`).

    ``bases`` (one ``(size, t)`` matrix per field) defaults to :func:`invariant_basis`.
    """
    channels, directions, coefficients = [], [], []
    start = dim = 0
    for i, rep in enumerate(in_type.representations):
        basis = invariant_basis(rep) if bases is None else bases[i]
        rows, cols = np.nonzero(np.abs(basis) > 1e-12)
        channels += (start + rows).tolist()
        directions += (dim + cols).tolist()
        coefficients += basis[rows, cols].tolist()
        start += rep.size
        dim += basis.shape[1]
    return (torch.tensor(channels, dtype=torch.long), torch.tensor(directions, dtype=torch.long),
            np.array(coefficients, dtype=float), dim)


def to_coordinates(v: torch.Tensor, channels: torch.Tensor, directions: torch.Tensor, coefficients: torch.Tensor,
                   n_directions: int) -> torch.Tensor:
    """The coordinates (T,) of the projection of the channel vector ``v`` (C,) on the invariant subspace."""
    out = torch.zeros(n_directions, dtype=v.dtype, device=v.device)
    return out.index_add(0, directions, v.index_select(0, channels) * coefficients)


def from_coordinates(c: torch.Tensor, channels: torch.Tensor, directions: torch.Tensor, coefficients: torch.Tensor,
                     n_channels: int) -> torch.Tensor:
    """The channel vector (C,) of the invariant vector with coordinates ``c`` (T,)."""
    out = torch.zeros(n_channels, dtype=c.dtype, device=c.device)
    return out.index_add(0, channels, c.index_select(0, directions) * coefficients)


def field_of_channel(in_type: FieldType) -> torch.Tensor:
    return torch.tensor([i for i, rep in enumerate(in_type.representations) for _ in range(rep.size)],
                        dtype=torch.long)


def _on_plane(in_type: FieldType) -> bool:
    """Is ``in_type`` over a gspace with a base space (inputs (batch, channels, H, W)), not ``no_base_space``?"""
    return getattr(in_type.gspace, "dimensionality", 2) != 0


# ---- the base class ---------------------------------------------------------------------------------------
class ExactBuffers(DerivedTensors):
    """Float buffers derived from float64 numbers (changes of basis, projections), re-derived at the new
    precision when ``.to()``/``.double()`` change it (:class:`~e2layers._derived.DerivedTensors`): a float32
    copy cast to float64 would keep float32's rounding and break float64 equivariance at 1e-8."""

    def register_exact_buffer(self, name: str, value: Any) -> None:
        exact = np.asarray(value, dtype=np.float64)
        self.register_derived(name, torch.tensor(exact, dtype=torch.get_default_dtype()), exact=exact, buffer=True)


class FieldNormalization(ExactBuffers, EquivariantModule):
    """What the normalisation modules share: 4-D input checks, fields grouped by a key (in order of first
    appearance, as e2cnn), one gather/scatter for groups that are not contiguous, the running-average factor,
    and loading e2cnn ``state_dict``\\ s (whose derived buffers are checked against ours, then dropped)."""

    check_atol = 1e-6

    def __init__(self, in_type: FieldType):
        super().__init__()
        self.in_type = self.out_type = in_type
        self.space = in_type.gspace

    def _init_groups(self, keys: Sequence[Any]) -> None:
        channels: Dict[Any, List[int]] = {}
        fields: Dict[Any, List[int]] = {}
        start = 0
        for i, (key, rep) in enumerate(zip(keys, self.in_type.representations)):
            channels.setdefault(key, []).extend(range(start, start + rep.size))
            fields.setdefault(key, []).append(i)
            start += rep.size
        self._keys = list(channels)
        self._group_channels = [channels[k] for k in self._keys]
        self._group_fields = [fields[k] for k in self._keys]
        order = [c for group in self._group_channels for c in group]
        self._permuted = order != list(range(len(order)))
        perm = torch.tensor(order, dtype=torch.long)
        self.register_buffer("_perm", perm, persistent=False)
        self.register_buffer("_inv_perm", torch.argsort(perm), persistent=False)

    def _split(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """The channels of each group (fields in order), as ``(batch, channels of the group, H, W)``."""
        if self._permuted:
            x = x.index_select(1, self._perm)
        return torch.split(x, [len(c) for c in self._group_channels], dim=1)

    def _merge(self, pieces: Sequence[torch.Tensor], like: torch.Tensor) -> torch.Tensor:
        """The groups' outputs in channel order, in the memory format of the input ``like``: the per-group views
        (``(batch, fields, size, H, W)``) come back contiguous, and a channels_last network should stay so."""
        y = torch.cat(list(pieces), dim=1) if len(pieces) > 1 else pieces[0]
        return keep_memory_format(y.index_select(1, self._inv_perm) if self._permuted else y, like)

    def _tensor(self, input: Any) -> torch.Tensor:
        """The input's tensor as ``(batch, channels, H, W)``.  Over ``no_base_space`` (dimensionality 0) a
        tensor of another rank (``(B, C)`` of an MLP, ``(B, C, L)``, ...) is viewed as ``(B, C, L, 1)`` with
        ``L`` the product of its trailing sizes, so its statistics pool the batch and every trailing position
        (:meth:`_result` undoes the view); on the plane the input must be 4-D."""
        self._check_input(input)
        x = input.tensor
        if x.ndim == 4:
            return x
        if _on_plane(self.in_type):
            raise InvalidValueError(f"{type(self).__name__} expects a (batch, channels, H, W) tensor, got shape "
                                    f"{tuple(x.shape)}")
        positions = 1
        for n in x.shape[2:]:
            positions *= int(n)
        return x.reshape(x.shape[0], x.shape[1], positions, 1)

    def _result(self, y: torch.Tensor, input: GeometricTensor) -> GeometricTensor:
        """The output tensor ``y`` (computed on the view of :meth:`_tensor`) in the input's shape (the same
        tensor, memory format kept, when the input was 4-D)."""
        return GeometricTensor(y.reshape(input.tensor.shape), self.out_type)

    def _average_factor(self) -> float:
        """Count a training batch; the weight of its statistics in the running averages."""
        self.num_batches_tracked += 1
        if self.momentum is None:
            return 1.0 / float(self.num_batches_tracked.item())
        return self.momentum

    def evaluate_output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        return check_shape(self, input_shape, _on_plane(self.in_type))

    def _e2cnn_derived(self) -> Dict[str, torch.Tensor]:
        """e2cnn's derived buffers (keys without prefix) and the values our field type implies."""
        return {}

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        # e2cnn checkpoints also hold index, change-of-basis and aggregation buffers that we derive instead:
        # they must agree with this module's field type, and are not loaded
        for key, expected in self._e2cnn_derived().items():
            value = state_dict.pop(prefix + key, None)
            if value is None:
                continue
            if tuple(value.shape) != tuple(expected.shape) or not torch.allclose(
                    value.detach().cpu().double(), expected.double(), atol=1e-5):
                error_msgs.append(f"{prefix + key}: this e2cnn buffer does not match {type(self).__name__}"
                                  f"({self.in_type!r}); the checkpoint was saved for another field type")
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def extra_repr(self) -> str:
        extra = "".join(f", {k}={getattr(self, k)}" for k in ("eps", "momentum", "affine", "track_running_stats")
                        if k in self.__dict__)
        return f"{self.in_type}{extra}"


def plain_batch_norm(module: torch.nn.Module, mean: torch.Tensor, var: torch.Tensor, weight: Optional[torch.Tensor],
                     bias: Optional[torch.Tensor], num_batches_tracked: torch.Tensor,
                     ndim: Optional[int] = None) -> torch.nn.modules.batchnorm._BatchNorm:
    """A ``torch.nn.BatchNorm2d`` in eval mode with the given per-channel statistics and affine parameters; a
    ``torch.nn.BatchNorm1d`` (for ``(B, C)`` and ``(B, C, L)`` inputs) when ``ndim`` is 1 or, by default, when
    the module's field type is over ``no_base_space`` (dimensionality 0)."""
    if ndim is None:
        ndim = 1 if getattr(module.in_type.gspace, "dimensionality", 2) == 0 else 2
    cls = torch.nn.BatchNorm1d if ndim == 1 else torch.nn.BatchNorm2d
    bn = cls(mean.numel(), module.eps, module.momentum, affine=weight is not None, device=mean.device,
             dtype=mean.dtype)
    with torch.no_grad():
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
        bn.num_batches_tracked.copy_(num_batches_tracked)
        if weight is not None:
            bn.weight.copy_(weight)
            bn.bias.copy_(torch.zeros_like(weight) if bias is None else bias)
    return bn.eval()


# ---- batch statistics shared by the channels of a field ---------------------------------------------------
def field_batch_statistics(x: torch.Tensor, field: torch.Tensor, field_size: torch.Tensor, channels: torch.Tensor,
                           directions: torch.Tensor, coefficients: torch.Tensor,
                           n_directions: int) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x - mean, mean coordinates (T,), biased variance per field)``: the mean is the projection of the
    channel means on the given directions, the variance the mean square of a field's centred channels."""
    dims = [0] + [d for d in range(2, x.dim())]          # any (batch, channels, ...) rank (scriptable)
    mean = to_coordinates(x.mean(dim=dims), channels, directions, coefficients, n_directions)
    centred = x - from_coordinates(mean, channels, directions, coefficients, x.shape[1]).view(_channel_shape(x))
    square = (centred * centred).mean(dim=dims)
    var = torch.zeros(field_size.shape[0], dtype=x.dtype, device=x.device).index_add(0, field, square) / field_size
    return centred, mean, var


def normalize(centred: torch.Tensor, var: torch.Tensor, field: torch.Tensor, eps: float,
              weight: Optional[torch.Tensor], bias: Optional[torch.Tensor]) -> torch.Tensor:
    """``centred / sqrt(var + eps) * weight + bias`` with ``var`` per field, ``weight``/``bias`` per channel."""
    scale = torch.rsqrt(var + eps).index_select(0, field)
    if weight is not None:
        scale = scale * weight
    y = centred * scale.view(_channel_shape(centred))
    if bias is not None:
        y = y + bias.view(_channel_shape(centred))
    return y


def _channel_shape(x: torch.Tensor) -> List[int]:
    """The shape broadcasting a per-channel vector over ``x`` (batch, channels, ...)."""
    return [1, -1] + [1] * (x.dim() - 2)
