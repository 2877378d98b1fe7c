"""Initialisers of steerable-convolution weights (e2cnn's ``nn.init``, vectorised)."""
from __future__ import annotations

import numpy as np
import torch

from basisgen._lazy import lazy_import
from basisgen.errors import InvalidTypeError, InvalidValueError

scipy = lazy_import("scipy.stats")

__all__ = ["generalized_he_init", "deltaorthonormal_init"]


def _attributes(basisexpansion) -> dict:
    if not hasattr(basisexpansion, "weight_attributes"):
        raise InvalidTypeError(f"basisexpansion must be a convolution's basis expansion (conv.basisexpansion), got "
                               f"{type(basisexpansion).__name__}")
    return basisexpansion.weight_attributes()


def _check_tensor(tensor: torch.Tensor, basisexpansion) -> None:
    # the initialisers write under torch.no_grad, so ``tensor`` may be the Parameter itself, its
    # ``.data``, or a view of it
    if not hasattr(basisexpansion, "pair_attributes") or not hasattr(basisexpansion, "dimension"):
        raise InvalidTypeError(f"basisexpansion must be a convolution's basis expansion (conv.basisexpansion), got "
                               f"{type(basisexpansion).__name__}")
    if not isinstance(tensor, torch.Tensor) or tensor.shape != (basisexpansion.dimension(),):
        raise InvalidValueError(f"tensor must have shape ({basisexpansion.dimension()},) to match the basis "
                                f"expansion, got {getattr(tensor, 'shape', type(tensor).__name__)}")


def he_init_std(basisexpansion) -> np.ndarray:
    """Per-weight std ``1 / sqrt(n_in_irrep_types(o) * n_basis(in_irrep, o))`` (e2cnn's variances).

    ``n_basis(in_irrep, o)`` counts the weights from input irreps of that type into the output irrep at
    position ``o``; every output field of one representation sees the same inputs, so the counts are
    taken per (output representation, irrep position) from the compact :meth:`pair_attributes` and
    broadcast to the pair's fields.
    """
    if not hasattr(basisexpansion, "pair_attributes"):
        raise InvalidTypeError(f"basisexpansion must be a convolution's basis expansion (conv.basisexpansion), got "
                               f"{type(basisexpansion).__name__}")
    pairs = basisexpansion.pair_attributes()
    if not pairs:
        return np.zeros(0)
    n_codes = 1 + max(int(max(p.in_irrep_code.max(), p.out_irrep_code.max())) for p in pairs)
    counts = {}
    for p in pairs:   # counts[out representation][o, in irrep]: weights into o from that irrep type
        c = counts.setdefault(p.out_name, np.zeros((p.out_irreps, n_codes), dtype=np.int64))
        np.add.at(c, (p.out_index, p.in_irrep_code), p.n_in)
    std = np.empty(basisexpansion.dimension())
    for p in pairs:
        c = counts[p.out_name]
        inputs = (c > 0).sum(axis=1)    # distinct input irrep types reaching o
        element_std = 1.0 / np.sqrt(inputs[p.out_index] * c[p.out_index, p.in_irrep_code])
        std[p.start:p.start + p.n_out * p.n_in * p.size] = np.tile(element_std, p.n_out * p.n_in)
    return std


def generalized_he_init(tensor: torch.Tensor, basisexpansion, cache: bool = False) -> None:
    """Fill ``tensor`` with e2cnn's generalized He initialisation for ``basisexpansion``, in place.

    ``cache`` is accepted for e2cnn compatibility; the variances are computed vectorised and need no
    cache.

    Examples
    --------
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> conv = nn.R2Conv(nn.FieldType(r2, [r2.regular_repr]), nn.FieldType(r2, [r2.regular_repr]), 3)
    >>> nn.init.generalized_he_init(conv.weights.data, conv.basisexpansion)
    >>> conv.weights.abs().sum().item() > 0
    True
    """
    _check_tensor(tensor, basisexpansion)
    std = torch.as_tensor(he_init_std(basisexpansion), dtype=tensor.dtype, device=tensor.device)
    with torch.no_grad():
        tensor.copy_(std * torch.randn_like(tensor))


def deltaorthonormal_init(tensor: torch.Tensor, basisexpansion) -> None:
    """Delta-orthogonal initialisation: only radius-0 elements between equal irreps, orthogonal across
    irrep positions (e2cnn's ``deltaorthonormal_init``), in place.

    Examples
    --------
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, 2 * [r2.regular_repr])
    >>> conv = nn.R2Conv(t, t, 3)
    >>> nn.init.deltaorthonormal_init(conv.weights.data, conv.basisexpansion)
    >>> (conv.weights != 0).sum().item() < conv.weights.numel()
    True
    """
    _check_tensor(tensor, basisexpansion)
    attrs = _attributes(basisexpansion)
    values = np.zeros(len(tensor))
    central = np.flatnonzero((attrs["in_irrep"] == attrs["out_irrep"]) & (np.abs(attrs["radius"]) < 1e-12))
    for irrep in sorted(set(attrs["in_irrep"][central])):
        members = central[attrs["in_irrep"][central] == irrep]
        ip, op = attrs["in_irreps_position"][members], attrs["out_irreps_position"][members]
        in_ids = {p: n for n, p in enumerate(dict.fromkeys(ip.tolist()))}
        out_ids = {p: n for n, p in enumerate(dict.fromkeys(op.tolist()))}
        pairs: dict = {}
        for m, i, o in zip(members.tolist(), ip.tolist(), op.tolist()):
            pairs.setdefault((in_ids[i], out_ids[o]), []).append(m)
        s = max(len(v) for v in pairs.values())
        n = max(len(in_ids), len(out_ids))
        W = scipy.stats.ortho_group.rvs(n) if n > 1 else np.ones((1, 1))
        W = W[:len(out_ids), :len(in_ids)]
        w = np.random.randn(len(out_ids), s)
        w /= np.linalg.norm(w, axis=1, keepdims=True)
        for (i, o), ms in pairs.items():
            values[ms] = W[o, i] * w[o, :len(ms)]
    with torch.no_grad():
        tensor.copy_(torch.as_tensor(values, dtype=tensor.dtype, device=tensor.device))
