"""``GeometricTensor``: a torch tensor together with its :class:`FieldType`."""
from __future__ import annotations

import math
from typing import Any, List, Optional

import numpy as np
import torch

from basisgen.checks import is_int, is_real
from basisgen.errors import InvalidTypeError, InvalidValueError

from ..gspaces import _quarter_turns
from ._memory_format import keep_memory_format
from .field_type import FieldType

__all__ = ["GeometricTensor", "tensor_directsum"]


class _IndexingError(IndexError, TypeError, AssertionError):
    """An index a GeometricTensor cannot take: an ``IndexError`` as torch's, also the ``TypeError`` or
    ``AssertionError`` e2cnn raised for it (too many indices, a field slice selecting no field)."""


class GeometricTensor:
    """A feature map: a tensor of shape (batch, type.size, ...) and its field type.

    Indexing follows e2cnn: dimension 1 indexes *fields*, not channels, and an int index keeps
    its dimension.

    A point cloud (escnn's convention) is a tensor (N, type.size), one row per point, with ``coords``
    (N, d): the points' coordinates in the gspace's base space R^d (floating point, on the tensor's device).
    :meth:`transform` then acts on the fibres by rho(g) and moves the points, ``coords @ M(g)^T`` with
    M(g) the 2x2 matrix of g on the plane (docs/math.md, "Conventions: the plane, the grid and the rotation
    direction"); indexing the first dimension indexes the points and their coords alike.  Without ``coords``
    nothing changes.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> t = nn.FieldType(r2, [r2.trivial_repr, r2.regular_repr])
    >>> x = nn.GeometricTensor(torch.randn(2, 5, 7, 7), t)
    >>> x[:, 1].shape, x[:, 1].type
    (torch.Size([2, 4, 7, 7]), [4-Rotations: {regular}])
    >>> cloud = nn.GeometricTensor(torch.randn(10, 5), t, coords=torch.randn(10, 2))
    >>> moved = cloud.transform(1)                      # a quarter turn: (x, y) -> (-y, x)
    >>> torch.allclose(moved.coords, torch.stack([-cloud.coords[:, 1], cloud.coords[:, 0]], 1))
    True
    """

    def __init__(self, tensor: torch.Tensor, type: FieldType, coords: Optional[torch.Tensor] = None):
        if not isinstance(tensor, torch.Tensor):
            raise InvalidTypeError(f"tensor must be a torch.Tensor, got {tensor.__class__.__name__}")
        if not isinstance(type, FieldType):
            raise InvalidTypeError(f"type must be a FieldType, got {type.__class__.__name__}")
        if tensor.ndim < 2:
            raise InvalidValueError(f"tensor must have at least 2 dimensions (batch, channels, ...), got shape "
                             f"{tuple(tensor.shape)}")
        if tensor.shape[1] != type.size:
            raise InvalidValueError(f"tensor has {tensor.shape[1]} channels but its type {type!r} has size {type.size}")
        self.tensor = tensor
        self.type = type
        self.coords = None if coords is None else _checked_coords(coords, tensor, type)

    # ---- type-level operations -----------------------------------------------------------------------
    def _like(self, tensor: torch.Tensor, type: FieldType) -> "GeometricTensor":
        """A GeometricTensor of ``tensor`` and ``type`` at this one's points (its coords, if any)."""
        return GeometricTensor(tensor, type, self.coords)

    def restrict(self, id: Any) -> "GeometricTensor":
        return self._like(self.tensor, self.type.restrict(id))

    def split(self, breaks: Optional[List[int]]) -> List["GeometricTensor"]:
        """Split at the given *field* indices (views of the tensor).

        ``breaks`` lists the fields that start a new piece, increasing; ``None`` splits every field
        off (e2cnn), ``[]`` gives one piece.  The ends ``0`` and ``len(type)`` may be included (``None``
        entries stand for them).  Unlike e2cnn's, ``breaks`` is not modified.
        """
        n = len(self.type)
        if breaks is None:
            breaks = list(range(1, n))
        breaks = [0 if b is None and i == 0 else n if b is None else b for i, b in enumerate(breaks)]
        if not breaks or breaks[0] != 0:
            breaks = [0] + breaks
        if breaks[-1] != n:
            breaks = breaks + [n]
        if any(not 0 <= b <= n for b in breaks) or any(a >= b for a, b in zip(breaks, breaks[1:])):
            raise InvalidValueError(f"breaks must be increasing field indices in [0, {n}], got {breaks}")
        starts = [int(s) for s in self.type.fields_start] + [self.type.size]
        return [self._like(self.tensor[:, starts[a]:starts[b]], self.type.index_select(list(range(a, b))))
                for a, b in zip(breaks, breaks[1:])]

    def transform(self, element: Any) -> "GeometricTensor":
        """The action of ``element`` on the fibres and the plane.

        A point cloud (``coords`` set) keeps its rows: rho(g) acts on every point's fibre and the points
        move, ``coords @ M(g)^T`` (:func:`basespace_matrix`), exactly for every element (any angle).
        """
        if self.coords is None:
            return GeometricTensor(self.type.transform(self.tensor, element), self.type)
        moved = self.coords @ basespace_matrix(self.type.gspace, element, self.coords).T
        return GeometricTensor(self.transform_fibers(element).tensor, self.type, moved)

    def transform_fibers(self, element: Any) -> "GeometricTensor":
        """The action of ``element`` on the fibres only."""
        rho = torch.as_tensor(self.type.fiber_matrix(element), dtype=self.tensor.dtype, device=self.tensor.device)
        y = torch.einsum("oi,bi...->bo...", rho, self.tensor)
        return self._like(keep_memory_format(y, self.tensor), self.type)

    # ---- tensor-like --------------------------------------------------------------------------------
    @property
    def shape(self) -> torch.Size:
        return self.tensor.shape

    def size(self, *args) -> Any:
        return self.tensor.size(*args)

    def to(self, *args, **kwargs) -> "GeometricTensor":
        """``tensor.to(...)``; ``coords`` follow to the new device, and to the new dtype when it is floating."""
        tensor = self.tensor.to(*args, **kwargs)
        if self.coords is None:
            return GeometricTensor(tensor, self.type)
        dtype = tensor.dtype if tensor.is_floating_point() else self.coords.dtype
        return GeometricTensor(tensor, self.type, self.coords.to(device=tensor.device, dtype=dtype))

    def __getitem__(self, slices: Any) -> "GeometricTensor":
        """Basic indexing, as e2cnn's: ints, slices and Ellipsis, one entry per dimension.

        Dimension 1 indexes *fields*: a slice of fields keeps whole fields and gives the sub-type (a
        view for step 1, a copy otherwise); an int index keeps its dimension with size 1.  Only the
        first Ellipsis is expanded, further ones are ignored (e2cnn).  Negative steps work on every
        dimension (copies).  For a point cloud the index of dimension 0 selects the same rows of ``coords``.
        """
        entries = list(slices) if isinstance(slices, tuple) else [slices]
        for s in entries:
            if not (s is Ellipsis or isinstance(s, slice) or is_int(s)):
                raise InvalidTypeError(f"GeometricTensor indices must be ints or slices (or Ellipsis: basic indexing), got "
                                       f"{type(s).__name__}")
        explicit = [s for s in entries if s is not Ellipsis]
        if len(explicit) > self.tensor.ndim:
            raise _IndexingError(f"too many indices ({len(explicit)}) for a tensor of {self.tensor.ndim} dimensions")
        if any(s is Ellipsis for s in entries):
            first = next(i for i, s in enumerate(entries) if s is Ellipsis)
            fill = [slice(None)] * (self.tensor.ndim - len(explicit))
            entries = [s for s in entries[:first] if s is not Ellipsis] + fill + \
                      [s for s in entries[first + 1:] if s is not Ellipsis]
        index = []
        for d, s in enumerate(entries):
            if not isinstance(s, slice):
                size = len(self.type) if d == 1 else self.tensor.shape[d]
                if not -size <= s < size:
                    raise IndexError(f"index {s} is out of range for dimension {d} of size {size}")
                s = int(s) % size
                s = slice(s, s + 1)        # an int keeps its dimension (e2cnn)
            index.append(s)
        ftype = self.type
        t = self.tensor
        coords = self.coords
        if coords is not None and index and index[0] != slice(None):
            s = index[0]
            coords = coords[s] if (s.step or 1) > 0 else coords.index_select(
                0, torch.as_tensor(list(range(coords.shape[0]))[s], dtype=torch.long, device=coords.device))
        for d, s in enumerate(index):
            if d == 1:
                fields = list(range(len(self.type)))[s]
                if not fields:
                    raise _IndexingError(f"the field index {s} selects no field of the {len(self.type)}")
                ftype = self.type.index_select(fields)
                starts, ends = self.type.fields_start.astype(int), self.type.fields_end.astype(int)
                if (s.step or 1) == 1:
                    s = slice(starts[fields[0]], ends[fields[-1]])
                else:   # non-contiguous fields: a copy
                    channels = np.concatenate([np.arange(starts[f], ends[f]) for f in fields])
                    t = keep_memory_format(t.index_select(1, torch.as_tensor(channels, device=t.device)), t)
                    continue
            if (s.step or 1) > 0:
                t = t[(slice(None),) * d + (s,)]
            else:       # torch has no negative steps: a copy
                t = t.index_select(d, torch.as_tensor(list(range(t.shape[d]))[s], dtype=torch.long,
                                                      device=t.device))
        return GeometricTensor(t, ftype, coords)

    # ---- arithmetic -----------------------------------------------------------------------------------
    def _check_same_type(self, other: Any, op: str) -> None:
        if not isinstance(other, GeometricTensor):
            raise InvalidTypeError(f"{op} needs two GeometricTensors, got {type(other).__name__}")
        if self.type != other.type:
            raise InvalidValueError(f"{op} needs tensors of the same type, got {self.type!r} and {other.type!r}")
        if not _same_points(self.coords, other.coords):
            raise InvalidValueError(f"{op} needs tensors on the same points: both without coords or both with equal "
                                    f"coords")

    def __add__(self, other: "GeometricTensor") -> "GeometricTensor":
        self._check_same_type(other, "+")
        return self._like(self.tensor + other.tensor, self.type)

    def __sub__(self, other: "GeometricTensor") -> "GeometricTensor":
        self._check_same_type(other, "-")
        return self._like(self.tensor - other.tensor, self.type)

    def __iadd__(self, other: "GeometricTensor") -> "GeometricTensor":
        self._check_same_type(other, "+=")
        self.tensor += other.tensor
        return self

    def __isub__(self, other: "GeometricTensor") -> "GeometricTensor":
        self._check_same_type(other, "-=")
        self.tensor -= other.tensor
        return self

    @staticmethod
    def _check_scalar(other: Any) -> None:
        # ints work too (e2cnn raised AttributeError on them; a difference on purpose)
        if isinstance(other, torch.Tensor) and other.numel() == 1:
            return
        if is_real(other):
            return
        raise InvalidTypeError(f"a GeometricTensor can only be multiplied by a real scalar or a 1-element tensor, got "
                        f"{other!r}")

    def __mul__(self, other: Any) -> "GeometricTensor":
        self._check_scalar(other)
        return self._like(self.tensor * other, self.type)

    def __rmul__(self, other: Any) -> "GeometricTensor":
        return self.__mul__(other)

    def __imul__(self, other: Any) -> "GeometricTensor":
        self._check_scalar(other)
        self.tensor *= other
        return self

    def __repr__(self) -> str:
        # e2cnn's form: the tensor's repr prefixed with "g_", its lines indented, the type before ")"
        body = repr(self.tensor)[:-1].replace("\n", "\n  ")
        if self.coords is not None:
            body += ", coords=" + repr(self.coords).replace("\n", "\n  ")
        return f"g_{body}, {self.type!r})"


def tensor_directsum(tensors: List[GeometricTensor]) -> GeometricTensor:
    """Concatenate geometric tensors of one gspace along the channels.

    Point clouds are concatenated when they share their points (equal ``coords``), which the result keeps.

    Examples
    --------
    >>> import torch
    >>> from e2layers import gspaces, nn
    >>> r2 = gspaces.Rot2dOnR2(4)
    >>> a = nn.GeometricTensor(torch.zeros(1, 1, 3, 3), nn.FieldType(r2, [r2.trivial_repr]))
    >>> b = nn.GeometricTensor(torch.zeros(1, 4, 3, 3), nn.FieldType(r2, [r2.regular_repr]))
    >>> nn.tensor_directsum([a, b]).type.size
    5
    """
    tensors = list(tensors)
    if not tensors:
        raise InvalidValueError("tensors must be a non-empty list of GeometricTensors")
    for t in tensors:
        if not isinstance(t, GeometricTensor):
            raise InvalidTypeError(f"tensor_directsum takes GeometricTensors, got {type(t).__name__}")
        if t.type.gspace != tensors[0].type.gspace:
            raise InvalidValueError(f"tensor_directsum needs one gspace, got {tensors[0].type.gspace.name} and "
                                    f"{t.type.gspace.name}")
        first = tensors[0].tensor.shape
        if t.tensor.ndim != len(first) or t.tensor.shape[:1] != first[:1] or t.tensor.shape[2:] != first[2:]:
            raise InvalidValueError(f"tensor_directsum needs tensors of one batch size and spatial shape, got "
                                    f"{tuple(first)} and {tuple(t.tensor.shape)}")
        if not _same_points(tensors[0].coords, t.coords):
            raise InvalidValueError("tensor_directsum needs tensors on the same points: all without coords or all "
                                    "with equal coords")
    ftype = FieldType(tensors[0].type.gspace, [rho for t in tensors for rho in t.type.representations])
    return GeometricTensor(torch.cat([t.tensor for t in tensors], dim=1), ftype, tensors[0].coords)


def _same_points(a: Optional[torch.Tensor], b: Optional[torch.Tensor]) -> bool:
    """Whether two ``coords`` (or None) describe the same points."""
    if a is None or b is None:
        return a is None and b is None
    return a is b or (a.shape == b.shape and a.device == b.device and bool(torch.equal(a, b.to(a.dtype))))


def _checked_coords(coords: Any, tensor: torch.Tensor, type: FieldType) -> torch.Tensor:
    """``coords`` validated against the point cloud ``tensor`` (N, type.size)."""
    if not isinstance(coords, torch.Tensor):
        raise InvalidTypeError(f"coords must be a torch.Tensor (N, d) or None, got {coords.__class__.__name__}")
    d = getattr(type.gspace, "dimensionality", 0)
    if not d:
        raise InvalidValueError(f"coords need a gspace with a base space R^d, got {type.gspace!r}")
    if tensor.ndim != 2:
        raise InvalidValueError(f"with coords, tensor must be a point cloud (N, {type.size}), got shape "
                                f"{tuple(tensor.shape)}")
    if coords.ndim != 2 or tuple(coords.shape) != (tensor.shape[0], d):
        raise InvalidValueError(f"coords must have shape (N, {d}) = ({tensor.shape[0]}, {d}) for a tensor of "
                                f"{tensor.shape[0]} points, got {tuple(coords.shape)}")
    if not coords.is_floating_point():
        raise InvalidValueError(f"coords must be floating point, got {coords.dtype}")
    if coords.device != tensor.device:
        raise InvalidValueError(f"coords must be on the tensor's device {tensor.device}, got {coords.device}")
    return coords


def basespace_matrix(gspace: Any, element: Any, like: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The 2x2 matrix ``M(g) = R(theta) X^j`` by which ``element`` acts on the plane (docs/math.md,
    "Conventions: the plane, the grid and the rotation direction"): rotation by its angle, after the reflection across the gspace's axis when it has one.

    Computed in float64 (exact entries for multiples of 90 degrees), returned on ``like``'s device and in its dtype (float64 without ``like``).

    Examples
    --------
    >>> from e2layers import gspaces
    >>> basespace_matrix(gspaces.FlipRot2dOnR2(4), (1, 0)).tolist()      # the mirror x -> -x (axis pi/2)
    [[-1.0, 0.0], [0.0, 1.0]]
    """
    if not hasattr(gspace, "_flip_and_angle"):
        raise InvalidValueError(f"{gspace!r} does not act on the plane")
    j, angle = gspace._flip_and_angle(element)
    quarter = _quarter_turns(angle)      # exact entries for multiples of 90 degrees
    c, s = ((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0))[quarter] if quarter is not None else \
        (math.cos(angle), math.sin(angle))
    m = np.array([[c, -s], [s, c]]) @ np.diag([1.0, -1.0 if j else 1.0])
    return torch.as_tensor(m, dtype=torch.float64 if like is None else like.dtype,
                           device=None if like is None else like.device)
