"""Why a layer is not exact under a grid motion, in words.

The geometry comes first: a layer that samples its input asymmetrically about the centre (an even size
meeting a stride, asymmetric padding, a window centre between pixels, an upsampling mode, a non-square
kernel under a quarter turn) breaks every module, equivariant or not, and the words name the numbers
(``_grid_geometry``).  Where the geometry is symmetric, the module itself is not equivariant for the fields
it receives: a plain convolution's weights are unconstrained; a plain pool or norm treats channels one by
one while the fields mix them.  :func:`intrinsic_words` says which.
"""
from __future__ import annotations

from collections import Counter
from typing import Optional

import torch

from .field_type import FieldType

__all__ = ["field_words", "intrinsic_words"]

_UNCONSTRAINED = (torch.nn.modules.conv._ConvNd, torch.nn.Linear, torch.nn.Bilinear)
_CHANNEL_BY_CHANNEL = (torch.nn.modules.batchnorm._NormBase, torch.nn.modules.pooling._MaxPoolNd,
                       torch.nn.modules.pooling._AvgPoolNd, torch.nn.modules.pooling._AdaptiveAvgPoolNd,
                       torch.nn.modules.pooling._AdaptiveMaxPoolNd, torch.nn.modules.pooling._LPPoolNd,
                       torch.nn.Upsample)


def field_words(field_type: Optional[FieldType]) -> str:
    """``"8 regular + 2 irrep_1"``: a field type by its representations' names and counts."""
    if field_type is None:
        return "trivial fields"
    counts = Counter(r.name for r in field_type.representations)
    return " + ".join(f"{n} {name}" for name, n in counts.items())


def intrinsic_words(module: torch.nn.Module, in_type: Optional[FieldType], motion_name: str) -> str:
    """Why ``module``, whose geometry is symmetric, is still not exact under the motion: the words for a
    plain module of a known family, or a general sentence."""
    kind = type(module).__name__
    if isinstance(module, _UNCONSTRAINED):
        return f"a plain torch.nn.{kind} is not equivariant: its weights are not constrained"
    if isinstance(module, _CHANNEL_BY_CHANNEL) and in_type is not None:
        return (f"a plain torch.nn.{kind} treats each channel on its own, but its input's fields "
                f"({field_words(in_type)}) mix channels under {motion_name}")
    if hasattr(module, "in_type"):
        return f"{kind} does not commute with {motion_name} although its sampling is symmetric"
    where = f" for its input's fields ({field_words(in_type)})" if in_type is not None else ""
    return f"the plain module {kind} is not equivariant{where}"
