"""Load an e2cnn model's ``state_dict`` into the matching e2layers model.

e2cnn checkpoints hold, besides the parameters, derived buffers (sampled bases, expanded filters
and biases, index tensors: docs/migrating.md, "The weight layout") that e2layers never stores.
They are dropped; everything else must match key for key.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from typing import Dict, Mapping

import torch

__all__ = ["load_e2cnn_state_dict", "convert_e2cnn_state_dict"]

# e2cnn's derived buffers: bases, cached filters (convolutions, blur pools), bias
# expansions, the index buffers of the non-linearities, pools, batch norms, dropout, reshuffling and
# branching modules, changes of basis, GNormBatchNorm's variance aggregators and NormNonLinearity's
# constant `eps` Parameter
_DERIVED = re.compile(r"(^|\.)(filter|expanded_bias|bias_expansion|sampled_basis|eps|gates_indices|"
                      r"((input|output|in|out|fiber)_)?indices(_[^.]*)?|[^.]*_indices|"
                      r"[^.]*_?change_of_basis(_[^.]*)?|vars_(aggregator|propagator)_[^.]*)$"
                      r"|(^|\.)_basisexpansion\.|(^|\.)block_expansion_")


def convert_e2cnn_state_dict(state_dict: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """``state_dict`` without e2cnn's derived buffers.

    Examples
    --------
    >>> import torch
    >>> sorted(convert_e2cnn_state_dict({"conv.weights": torch.zeros(3), "conv.filter": torch.zeros(1),
    ...     "conv._basisexpansion.block_expansion_('irrep_0', 'regular').sampled_basis": torch.zeros(1)}))
    ['conv.weights']
    """
    return OrderedDict((k, v) for k, v in state_dict.items() if not _DERIVED.search(k))


def load_e2cnn_state_dict(module: torch.nn.Module, state_dict: Mapping[str, torch.Tensor]):
    """Load an e2cnn ``state_dict`` (weights, biases, batch-norm statistics) into ``module``.

    Keys are checked strictly after dropping e2cnn's derived buffers; a mismatch raises
    ``KeyError`` listing the missing and unexpected keys, a shape mismatch ``ValueError``.

    Examples
    --------
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.regular_repr])
    >>> a, b = nn.R2Conv(t, t, 3), nn.R2Conv(t, t, 3)
    >>> sd = dict(a.state_dict(), filter=torch.zeros(4, 4, 3, 3))   # as e2cnn saves it in eval mode
    >>> load_e2cnn_state_dict(b, sd)
    >>> bool((a.weights == b.weights).all())
    True
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    incoming = convert_e2cnn_state_dict(state_dict)
    expected = module.state_dict()
    missing = [k for k in expected if k not in incoming]
    unexpected = [k for k in incoming if k not in expected]
    if missing or unexpected:
        raise KeyError(f"the e2cnn state_dict does not match {type(module).__name__}: missing keys {missing}, "
                       f"unexpected keys {unexpected}")
    wrong = [f"{k}: checkpoint {tuple(v.shape)}, model {tuple(expected[k].shape)}"
             for k, v in incoming.items() if tuple(v.shape) != tuple(expected[k].shape)]
    if wrong:
        raise ValueError("shape mismatch between the e2cnn state_dict and the model: " + "; ".join(wrong))
    module.load_state_dict(incoming, strict=True)
