"""e2cnn's ``gspaces``: the planar groups acting on the plane R^2 and on images.

Differences on purpose: equality includes the reflection axis (e2cnn compares fibre groups only);
``basespace_action_torch`` transforms tensors exactly, on their device, for the grid-preserving
elements (multiples of 90 degrees and flips whose mirror line is on the grid).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, Tuple

import numpy as np
import torch

from basisgen._lazy import lazy_import
from basisgen.errors import InvalidTypeError, InvalidValueError

from . import group as groups

if TYPE_CHECKING:
    from . import diffops, kernels

scipy = lazy_import("scipy.ndimage")

__all__ = ["GSpace", "GeneralOnR2", "Rot2dOnR2", "FlipRot2dOnR2", "Flip2dOnR2", "TrivialOnR2", "GSpace0D",
           "no_base_space"]

_QUARTER = math.pi / 2


def _quarter_turns(angle: float) -> Optional[int]:
    """``angle`` as a whole number of quarter turns (mod 4), or None."""
    k = angle / _QUARTER
    n = round(k)
    return n % 4 if abs(k - n) < 1e-9 else None


def _check_axis(axis: Any) -> float:
    """The reflection axis as a float angle in radians: a finite real number (not a str, not a bool)."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, float, np.integer, np.floating)):
        raise InvalidTypeError(f"axis must be a real number (an angle in radians), got {type(axis).__name__} "
                               f"{axis!r:.60}")
    if not math.isfinite(axis):
        raise InvalidValueError(f"axis must be a finite angle in radians, got {float(axis)!r}")
    return float(axis)


class GSpace:
    """A group acting on the plane; base class of the concrete gspaces."""

    def __init__(self, fibergroup: groups.Group, dimensionality: int, name: str):
        self.fibergroup = fibergroup
        self.dimensionality = dimensionality
        self.name = name
        self.basespace = f"R^{dimensionality}"

    # ---- delegating accessors ------------------------------------------------------------------------
    @property
    def irreps(self):
        return self.fibergroup.irreps

    @property
    def representations(self):
        return self.fibergroup.representations

    @property
    def trivial_repr(self):
        return self.fibergroup.trivial_representation

    def irrep(self, *id: int):
        return self.fibergroup.irrep(*id)

    @property
    def regular_repr(self):
        return self.fibergroup.regular_representation

    def quotient_repr(self, subgroup_id: Any):
        return self.fibergroup.quotient_representation(subgroup_id)

    def induced_repr(self, subgroup_id: Any, repr):
        return self.fibergroup.induced_representation(subgroup_id, repr)

    @property
    def testing_elements(self) -> Iterable[Any]:
        return self.fibergroup.testing_elements()

    # ---- the action and the kernels (the concrete gspaces implement these) ----------------------------
    def featurefield_action(self, input: np.ndarray, repr, element: Any) -> np.ndarray:
        """``rho(g)`` on the channels, then the action of ``element`` on the base space:
        ``f'(x) = rho(g) f(g^-1 x)`` for an array of shape (batch, repr.size, ...)."""
        if repr.group != self.fibergroup:
            raise InvalidValueError(f"repr must be a representation of {self.fibergroup.name}, got one of "
                                    f"{repr.group.name}")
        x = np.einsum("oi,bi...->bo...", repr(element), input)
        return self._basespace_action(x, element)

    def _basespace_action(self, input: np.ndarray, element: Any) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not act on a base space")

    def restrict(self, id: Any) -> Tuple["GSpace", Callable, Callable]:
        """``(subspace, parent, child)``: the gspace of the subgroup ``id`` and the maps of its elements
        into the group and back."""
        raise NotImplementedError(f"{type(self).__name__} does not implement restrict")

    def build_kernel_basis(self, in_repr, out_repr, **kwargs):
        """The basis of equivariant kernels from ``in_repr`` to ``out_repr`` fields."""
        raise NotImplementedError(f"{type(self).__name__} does not implement build_kernel_basis")


class GeneralOnR2(GSpace):
    """A subgroup of O(2) acting on R^2; ``kernel_axis`` is the reflection axis its kernels use."""

    def __init__(self, fibergroup: groups.Group, name: str, axis: float = 0.0):
        super().__init__(fibergroup, 2, name)
        self.axis = _check_axis(axis)

    @property
    def kernel_axis(self) -> float:
        return self.axis if self.fibergroup.basisgen.has_reflection else 0.0

    # ---- action on images --------------------------------------------------------------------------
    def _flip_and_angle(self, element: Any) -> Tuple[int, float]:
        if not self.fibergroup.is_element(element):
            raise InvalidValueError(f"{element!r} is not an element of {self.fibergroup.name}")
        j, theta = self.fibergroup.basisgen.element_action(element)
        return j, theta + (2 * self.axis if j else 0.0)

    def _basespace_action(self, x: np.ndarray, element: Any) -> np.ndarray:
        """Flip the rows (y -> -y) if the element reflects, then rotate counter-clockwise.

        The conventions are those of docs/math.md, "Conventions: the plane, the grid and the rotation
        direction".
        """
        j, angle = self._flip_and_angle(element)
        if j:
            x = x[..., ::-1, :]
        k = _quarter_turns(angle)
        if k is not None:
            return np.rot90(x, k, axes=(-2, -1)).copy()
        return scipy.ndimage.rotate(x, math.degrees(angle), axes=(-2, -1), reshape=False, order=2)

    def is_grid_element(self, element: Any) -> bool:
        """Does ``element`` map the pixel grid onto itself (so its action on images is exact)?"""
        return _quarter_turns(self._flip_and_angle(element)[1]) is not None

    def grid_elements(self) -> list:
        """The testing elements whose action on images is exact."""
        return [g for g in self.testing_elements if self.is_grid_element(g)]

    def basespace_action_torch(self, x: torch.Tensor, element: Any) -> torch.Tensor:
        """The exact action on the last two dimensions of a tensor (grid-preserving elements only)."""
        j, angle = self._flip_and_angle(element)
        k = _quarter_turns(angle)
        if k is None:
            raise InvalidValueError(f"element {element!r} of {self.fibergroup.name} does not map the pixel grid onto "
                             f"itself; use featurefield_action (interpolating) instead")
        if j:
            x = x.flip(-2)
        return torch.rot90(x, k, dims=(-2, -1))

    def build_kernel_basis(self, in_repr, out_repr, sigma, rings, **kwargs) -> "kernels.KernelBasis":
        """e2cnn's analytical basis of equivariant kernels ``in_repr -> out_repr`` (an
        :class:`e2layers.kernels.PolarBasis` from the group's ``kernels_*_act_R2``, with this gspace's
        reflection axis); ``maximum_frequency``/``maximum_offset`` in kwargs bound the finite groups'
        frequencies.  ``.sample(points)`` gives (c_out, c_in, dim, N), every ring and harmonic, unnormalised.
        Layers do not use it: they get their sampled, filtered and normalised bases from the cache."""
        from basisgen.groups import DihedralGroup, FlipGroup

        from . import kernels
        unknown = set(kwargs) - {"maximum_frequency", "maximum_offset"}
        if unknown:
            raise InvalidValueError(f"build_kernel_basis accepts maximum_frequency and maximum_offset, got {sorted(unknown)}")
        G = in_repr.basisgen.group
        bounds = dict(max_frequency=kwargs.get("maximum_frequency"), max_offset=kwargs.get("maximum_offset"))
        rings = list(rings)
        if G.continuous:
            if G.has_reflection:
                return kernels.kernels_O2_act_R2(in_repr, out_repr, rings, sigma, axis=self.kernel_axis)
            return kernels.kernels_SO2_act_R2(in_repr, out_repr, rings, sigma)
        if isinstance(G, DihedralGroup):
            return kernels.kernels_DN_act_R2(in_repr, out_repr, rings, sigma, axis=self.kernel_axis, **bounds)
        if isinstance(G, FlipGroup):
            return kernels.kernels_Flip_act_R2(in_repr, out_repr, rings, sigma, axis=self.kernel_axis, **bounds)
        if G.rotation_order == 1:
            return kernels.kernels_Trivial_act_R2(in_repr, out_repr, rings, sigma, **bounds)
        return kernels.kernels_CN_act_R2(in_repr, out_repr, rings, sigma, **bounds)

    def build_diffop_basis(self, in_repr, out_repr, max_power: int, discretization: "diffops.DiscretizationArgs",
                           **kwargs) -> "diffops.DiffopBasis":
        """e2cnn's analytical basis of equivariant PDOs ``in_repr -> out_repr`` (a
        :class:`e2layers.diffops.TensorBasis` from the group's ``diffops_*_act_R2``, with this gspace's
        reflection axis), Laplacian powers up to ``max_power``; ``maximum_frequency``/``maximum_offset`` in
        kwargs bound the finite groups' angular orders.  Built afresh on every call (e2cnn memoised it under
        a key without ``max_power`` and ``discretization``).  Layers do not use it (see
        :meth:`build_kernel_basis`)."""
        from basisgen.groups import DihedralGroup, FlipGroup

        from . import diffops
        unknown = set(kwargs) - {"maximum_frequency", "maximum_offset"}
        if unknown:
            raise InvalidValueError(f"build_diffop_basis accepts maximum_frequency and maximum_offset, got "
                                    f"{sorted(unknown)}")
        G = in_repr.basisgen.group
        common = dict(max_power=max_power, discretization=discretization)
        bounds = dict(max_frequency=kwargs.get("maximum_frequency"), max_offset=kwargs.get("maximum_offset"))
        if G.continuous:
            if G.has_reflection:
                return diffops.diffops_O2_act_R2(in_repr, out_repr, axis=self.kernel_axis, **common)
            return diffops.diffops_SO2_act_R2(in_repr, out_repr, **common)
        if isinstance(G, DihedralGroup):
            return diffops.diffops_DN_act_R2(in_repr, out_repr, axis=self.kernel_axis, **common, **bounds)
        if isinstance(G, FlipGroup):
            return diffops.diffops_Flip_act_R2(in_repr, out_repr, axis=self.kernel_axis, **common, **bounds)
        if G.rotation_order == 1:
            return diffops.diffops_Trivial_act_R2(in_repr, out_repr, **common, **bounds)
        return diffops.diffops_CN_act_R2(in_repr, out_repr, **common, **bounds)

    # ---- value semantics -----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return (isinstance(other, GeneralOnR2) and self.fibergroup == other.fibergroup
                and math.isclose(self.kernel_axis, other.kernel_axis, abs_tol=1e-12))

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return self.name


class Rot2dOnR2(GeneralOnR2):
    """The rotations C_N (``N > 1``) or SO(2) (``N = -1``) acting on the plane.

    Examples
    --------
    >>> gs = Rot2dOnR2(8)
    >>> gs.name, gs.regular_repr.size
    ('8-Rotations', 8)
    """

    def __init__(self, N: int = None, maximum_frequency: int = None, fibergroup: groups.Group = None):
        if fibergroup is None:
            if N is None:
                raise InvalidValueError("Rot2dOnR2 needs N (> 1, or -1 for SO(2)) or a fibergroup")
            if N == -1:
                fibergroup = groups.so2_group(10 if maximum_frequency is None else maximum_frequency)
            elif isinstance(N, int) and N > 1:
                if maximum_frequency is not None:
                    raise InvalidValueError("maximum_frequency is only for N = -1 (SO(2))")
                fibergroup = groups.cyclic_group(N)
            else:
                raise InvalidValueError(f"N must be an int > 1 or -1 (use TrivialOnR2 for N = 1), got {N!r}")
        name = "Continuous-Rotations" if fibergroup.continuous else f"{fibergroup.basisgen.rotation_order}-Rotations"
        super().__init__(fibergroup, name)

    def restrict(self, id: int):
        H, parent, child = self.fibergroup.subgroup(id)
        space = TrivialOnR2(fibergroup=H) if id == 1 else Rot2dOnR2(fibergroup=H)
        return space, parent, child


class FlipRot2dOnR2(GeneralOnR2):
    """The rotations and reflections D_N (``N >= 1``) or O(2) (``N = -1``); reflection axis ``axis``.

    Examples
    --------
    >>> gs = FlipRot2dOnR2(4)
    >>> gs.name, gs.regular_repr.size
    ('Flip_4-Rotations(f=1.57080)', 8)
    """

    def __init__(self, N: int = None, maximum_frequency: int = None, axis: float = np.pi / 2,
                 fibergroup: groups.Group = None):
        if fibergroup is None:
            if N is None:
                raise InvalidValueError("FlipRot2dOnR2 needs N (>= 1, or -1 for O(2)) or a fibergroup")
            if N == -1:
                fibergroup = groups.o2_group(10 if maximum_frequency is None else maximum_frequency)
            elif isinstance(N, int) and N >= 1:
                if maximum_frequency is not None:
                    raise InvalidValueError("maximum_frequency is only for N = -1 (O(2))")
                fibergroup = groups.dihedral_group(N)
            else:
                raise InvalidValueError(f"N must be an int >= 1 or -1, got {N!r}")
        axis = _check_axis(axis)
        rot = "Continuous" if fibergroup.continuous else str(fibergroup.basisgen.rotation_order)
        super().__init__(fibergroup, f"Flip_{rot}-Rotations(f={axis:.5f})", axis)

    def restrict(self, id: Tuple[Any, int]):
        H, parent, child = self.fibergroup.subgroup(id)
        k, M = id
        if k is None:
            space = TrivialOnR2(fibergroup=H) if M == 1 else Rot2dOnR2(fibergroup=H)
            return space, parent, child
        rot = k * 2 * np.pi / self.fibergroup.basisgen.rotation_order if not self.fibergroup.continuous else k
        axis = self.axis + rot / 2
        space = Flip2dOnR2(axis=axis, fibergroup=H) if M == 1 else FlipRot2dOnR2(axis=axis, fibergroup=H)
        return space, parent, child


class Flip2dOnR2(GeneralOnR2):
    """Reflections across the line at angle ``axis`` (default pi/2: x -> -x).

    Examples
    --------
    >>> Flip2dOnR2().regular_repr.irreps
    ['irrep_0', 'irrep_1']
    """

    def __init__(self, axis: float = np.pi / 2, fibergroup: groups.Group = None):
        super().__init__(fibergroup or groups.flip_group(), "Flips", axis)

    def restrict(self, id: int):
        H, parent, child = self.fibergroup.subgroup(id)
        space = TrivialOnR2(fibergroup=H) if id == 1 else Flip2dOnR2(axis=self.axis, fibergroup=H)
        return space, parent, child


class TrivialOnR2(GeneralOnR2):
    """The trivial group acting on the plane (a conventional CNN)."""

    def __init__(self, fibergroup: groups.Group = None):
        super().__init__(fibergroup or groups.trivial_group(), "Trivial")

    def restrict(self, id: int):
        H, parent, child = self.fibergroup.subgroup(id)
        return TrivialOnR2(fibergroup=H), parent, child


class GSpace0D(GSpace):
    """A group acting on a single point (escnn's ``GSpace0D``): the gspace of equivariant MLPs.

    There is no base space (``dimensionality`` 0): a feature of a field type over this gspace is a tensor of
    shape ``(batch, channels)`` (trailing dimensions, if any, are carried along untouched, like a batch), and an
    element acts on the channels only, ``x -> rho(g) x``, exactly for every element (continuous groups
    included).  Build it with :func:`no_base_space`.  Layers that need a plane (``R2Conv``, pooling, ...)
    refuse it; ``nn.Linear``, the non-linearities and the normalisations accept it.

    Examples
    --------
    >>> from e2layers import group
    >>> gs = GSpace0D(group.dihedral_group(4))
    >>> gs.name, gs.dimensionality, gs.regular_repr.size
    ('D4', 0, 8)
    """

    def __init__(self, fibergroup: groups.Group):
        if not isinstance(fibergroup, groups.Group):
            raise InvalidTypeError(f"fibergroup must be an e2layers group (e.g. group.o2_group(4)), got "
                                   f"{type(fibergroup).__name__}")
        super().__init__(fibergroup, 0, fibergroup.name)

    def _check_element(self, element: Any) -> None:
        if not self.fibergroup.is_element(element):
            raise InvalidValueError(f"{element!r} is not an element of {self.fibergroup.name}")

    def _basespace_action(self, input: np.ndarray, element: Any) -> np.ndarray:
        self._check_element(element)
        return input

    def is_grid_element(self, element: Any) -> bool:
        """Always True (after checking ``element``): with no base space, every element acts exactly."""
        self._check_element(element)
        return True

    def grid_elements(self) -> list:
        """All the testing elements (every element acts exactly)."""
        return list(self.testing_elements)

    def basespace_action_torch(self, x: torch.Tensor, element: Any) -> torch.Tensor:
        """The identity: a point is fixed by every element."""
        self._check_element(element)
        return x

    def restrict(self, id: Any) -> Tuple["GSpace0D", Callable, Callable]:
        """``(no_base_space(H), parent, child)`` for the subgroup ``H`` of id ``id`` (the fibre group's
        subgroup ids, e.g. ``(0.0, 2)`` or ``(None, 4)`` for O(2))."""
        H, parent, child = self.fibergroup.subgroup(id)
        return GSpace0D(H), parent, child

    def build_kernel_basis(self, in_repr, out_repr, **kwargs):
        raise NotImplementedError(f"{self.name} acts on a single point: it has no kernels; the equivariant maps "
                                  f"between its fields are nn.Linear's intertwiners")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GSpace0D) and self.fibergroup == other.fibergroup

    def __hash__(self) -> int:
        return hash(("GSpace0D", self.name))

    def __repr__(self) -> str:
        return f"no_base_space({self.fibergroup.name})"


def no_base_space(G: groups.Group) -> GSpace0D:
    """The group ``G`` acting on a single point (escnn's ``no_base_space``): features are ``(batch,
    channels)`` tensors on which ``G`` acts by the fields' representations, as in an equivariant MLP.

    ``G`` is any group of :mod:`e2layers.group`: ``so2_group(L)``, ``o2_group(L)``, ``cyclic_group(N)``,
    ``dihedral_group(N)``, ``flip_group()``, ``trivial_group()``.

    Examples
    --------
    >>> import torch
    >>> from e2layers import group, nn
    >>> gs = no_base_space(group.o2_group(3))
    >>> t = nn.FieldType(gs, [gs.irrep(1, 1), gs.trivial_repr])
    >>> x = nn.GeometricTensor(torch.tensor([[1., 0., 5.]]), t)
    >>> [round(v, 6) for v in x.transform((0, 3.14159265358979 / 2)).tensor[0].tolist()]   # a quarter turn
    [0.0, 1.0, 5.0]
    """
    return GSpace0D(G)
