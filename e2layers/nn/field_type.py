"""``FieldType``: the type of a feature space, a gspace and a list of field representations."""
from __future__ import annotations

import warnings
from collections import defaultdict
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from basisgen._lazy import lazy_import
from basisgen.checks import is_int
from basisgen.errors import InvalidTypeError, InvalidValueError

from ..gspaces import GSpace
from ._memory_format import keep_memory_format
from .field_notation import notation, parse_representations

scipy = lazy_import("scipy.linalg", "scipy.sparse")

__all__ = ["FieldType"]


def _check_gspace(gspace: Any) -> GSpace:
    if not isinstance(gspace, GSpace):
        raise InvalidTypeError(f"gspace must be a gspace (e.g. gspaces.Rot2dOnR2(8)), got {gspace!r} "
                               f"({type(gspace).__name__})")
    return gspace


class FieldType:
    """The type of a feature space: a gspace and the list of representations of its fields.

    Parameters
    ----------
    gspace:
        The gspace (e.g. ``gspaces.Rot2dOnR2(8)``).
    representations:
        The fields' representations, all of ``gspace.fibergroup``.

    Examples
    --------
    >>> from e2layers import gspaces
    >>> r2 = gspaces.Rot2dOnR2(N=8)
    >>> t = FieldType(r2, 3 * [r2.trivial_repr] + [r2.regular_repr])
    >>> t.size, len(t), t
    (11, 4, [8-Rotations: {irrep_0, irrep_0, irrep_0, regular}])

    The string notation (:meth:`parse`, :attr:`notation`):

    >>> u = FieldType.parse(r2, "3x trivial + regular + 2x irrep(1)")
    >>> u.notation
    '3x trivial + regular + 2x irrep(1)'
    >>> FieldType.parse(r2, repr(u)) == u == FieldType.parse(r2, u.notation)
    True
    """

    def __init__(self, gspace, representations: List[Any]):
        _check_gspace(gspace)
        if not isinstance(representations, list) and hasattr(representations, "__iter__"):
            representations = list(representations)
        if not isinstance(representations, list) or len(representations) == 0:
            raise InvalidValueError(f"representations must be a non-empty list of representations, got {representations!r}")
        for rho in representations:
            if not hasattr(rho, "basisgen") or not hasattr(rho, "group"):
                raise InvalidTypeError(f"representations must be e2layers representations, got {type(rho).__name__} "
                                f"({rho!r})")
            if rho.group != gspace.fibergroup:
                raise InvalidValueError(f"representation {rho.name!r} belongs to group {rho.group.name}, but the gspace "
                                 f"{gspace.name} has fibre group {gspace.fibergroup.name}")
        self.gspace = gspace
        self.representations = representations
        self.size = sum(rho.size for rho in representations)
        self._unique_representations = set(representations)
        self._representation = None
        self._restricted: Dict[Any, "FieldType"] = {}

    @classmethod
    def parse(cls, gspace, text: str) -> "FieldType":
        """The field type that ``text`` describes: ``"3x trivial + 10x regular + 2x irrep(1)"`` (tokens in
        :mod:`e2layers.nn.field_notation`), or e2cnn's ``repr`` of a field type of ``gspace``."""
        return cls(_check_gspace(gspace), parse_representations(gspace, text))

    @property
    def notation(self) -> str:
        """The compact string notation of this field type; ``FieldType.parse`` reads it back."""
        return notation(self.representations)

    def __call__(self, tensor: torch.Tensor, coords: Optional[torch.Tensor] = None) -> Any:
        """``tensor`` wrapped as a GeometricTensor of this type (escnn's ``FieldType.__call__``); ``coords``:
        the points of a point cloud (escnn's ``GeometricTensor(tensor, type, coords)``).

        Examples
        --------
        >>> import torch
        >>> from e2layers import gspaces
        >>> t = FieldType(gspaces.Rot2dOnR2(4), [gspaces.Rot2dOnR2(4).regular_repr])
        >>> x = t(torch.zeros(1, 4, 3, 3))
        >>> type(x).__name__, x.type == t
        ('GeometricTensor', True)
        """
        from .geometric_tensor import GeometricTensor
        if coords is None:
            return GeometricTensor(tensor, self)
        return GeometricTensor(tensor, self, coords=coords)

    # ---- group and representation -------------------------------------------------------------------
    @property
    def fibergroup(self):
        return self.gspace.fibergroup

    @property
    def representation(self):
        """The direct sum of the fields' representations (built on first use)."""
        if self._representation is None:
            from ..group import directsum
            names = sorted({rho.name for rho in self.representations})
            self._representation = directsum(self.representations,
                                             name=f"FiberRepresentation:[{self.size}], [{names}]")
        return self._representation

    @property
    def irreps(self) -> List[str]:
        """The names of the irreps of all fields, in order."""
        return [psi for rho in self.representations for psi in rho.irreps]

    @property
    def change_of_basis(self) -> scipy.sparse.coo_matrix:
        return scipy.sparse.block_diag([rho.change_of_basis for rho in self.representations])

    @property
    def change_of_basis_inv(self) -> scipy.sparse.coo_matrix:
        return scipy.sparse.block_diag([rho.change_of_basis_inv for rho in self.representations])

    def get_dense_change_of_basis(self) -> torch.Tensor:
        return torch.as_tensor(self.change_of_basis.toarray(), dtype=torch.float32)

    def get_dense_change_of_basis_inv(self) -> torch.Tensor:
        return torch.as_tensor(self.change_of_basis_inv.toarray(), dtype=torch.float32)

    def fiber_matrix(self, element: Any) -> np.ndarray:
        """The block-diagonal matrix of ``element`` on the channels (float64)."""
        return scipy.linalg.block_diag(*[rho(element) for rho in self.representations])

    # ---- action -----------------------------------------------------------------------------------
    def transform(self, input: torch.Tensor, element: Any) -> torch.Tensor:
        """The action of ``element`` on a tensor of this type: on the channels and on the plane.

        Elements that map the pixel grid onto itself (rotations by multiples of 90 degrees and flips)
        act exactly, on the input's device and dtype; others interpolate with numpy (as e2cnn).
        """
        if not isinstance(input, torch.Tensor):
            raise InvalidTypeError(f"input must be a torch.Tensor, got {type(input).__name__}")
        if input.ndim < 2 or input.shape[1] != self.size:
            raise InvalidValueError(f"input must have {self.size} channels (dim 1) for {self!r}, got shape "
                             f"{tuple(input.shape)}")
        if self.gspace.is_grid_element(element):
            rho = torch.as_tensor(self.fiber_matrix(element), dtype=input.dtype, device=input.device)
            x = torch.einsum("oi,bi...->bo...", rho, input)
            return keep_memory_format(self.gspace.basespace_action_torch(x, element), input)
        if input.device.type != "cpu":
            warnings.warn(f"element {element!r} does not map the pixel grid onto itself: the transform "
                          f"interpolates on the CPU with numpy", stacklevel=2)
        x = input.detach().cpu().numpy()
        out = self.gspace.featurefield_action(x, self.representation, element)
        return torch.as_tensor(np.ascontiguousarray(out), dtype=input.dtype, device=input.device)

    @property
    def testing_elements(self):
        return self.gspace.testing_elements

    def restrict(self, id: Any) -> "FieldType":
        """The same fields seen as fields of the subgroup ``id``."""
        if id not in self._restricted:
            subspace, _, _ = self.gspace.restrict(id)
            self._restricted[id] = FieldType(subspace, [rho.restrict(id) for rho in self.representations])
        return self._restricted[id]

    # ---- fields ----------------------------------------------------------------------------------
    def sorted(self) -> "FieldType":
        """The fields stably sorted by size."""
        order = sorted(range(len(self)), key=lambda i: (self.representations[i].size, i))
        return self.index_select(order)

    def __add__(self, other: "FieldType") -> "FieldType":
        if not isinstance(other, FieldType):
            raise InvalidTypeError(f"can only add a FieldType to a FieldType, got {type(other).__name__}")
        if self.gspace != other.gspace:
            raise InvalidValueError(f"cannot concatenate field types of different gspaces: {self.gspace.name} and "
                             f"{other.gspace.name}")
        return FieldType(self.gspace, self.representations + other.representations)

    def __len__(self) -> int:
        return len(self.representations)

    def fields_names(self) -> List[str]:
        return [rho.name for rho in self.representations]

    def index_select(self, index: List[int]) -> "FieldType":
        """The fields at ``index`` (field indices), in that order."""
        n = len(self)
        for i in index:
            if not is_int(i) or not -n <= i < n:
                raise InvalidValueError(f"index must hold field indices in [0, {n}), got {i!r}")
        return FieldType(self.gspace, [self.representations[i] for i in index])

    @property
    def fields_end(self) -> np.ndarray:
        return np.cumsum([rho.size for rho in self.representations], dtype=np.uint64)

    @property
    def fields_start(self) -> np.ndarray:
        return self.fields_end - np.array([rho.size for rho in self.representations], dtype=np.uint64)

    def group_by_labels(self, labels: List[str]) -> Dict[str, "FieldType"]:
        """One FieldType per label, holding the fields with that label (in order)."""
        if len(labels) != len(self):
            raise InvalidValueError(f"labels must have one label per field ({len(self)}), got {len(labels)}")
        fields = defaultdict(list)
        for label, rho in zip(labels, self.representations):
            fields[label].append(rho)
        return {label: FieldType(self.gspace, reprs) for label, reprs in fields.items()}

    def __iter__(self):
        return iter(self.representations)

    # ---- value semantics ---------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return (isinstance(other, FieldType) and self.gspace == other.gspace
                and self.representations == other.representations)

    def __hash__(self) -> int:
        return hash(f"{self.gspace.name}: {self.fields_names()}")

    def __repr__(self) -> str:
        return "[" + self.gspace.name + ": {" + ", ".join(self.fields_names()) + "}]"

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_representation"] = None
        state["_restricted"] = {}
        return state
