"""e2cnn's ``group`` API (API.md §1.1) as thin facades over basisgen's groups and representations.

basisgen keeps irreps as objects and lists; e2cnn code expects ``group.irreps`` to be a dict by name,
``representation.irreps`` a list of names and a registry ``group.representations``.  The facades
give exactly that and keep the basisgen object at ``.basisgen`` for the kernel cache.  The factories
return one facade per group per process (as e2cnn's singletons), so representations registered on a
group are found again through ``gspace.fibergroup.representations``.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import numpy as np
import scipy.sparse.csgraph

import basisgen as bg

__all__ = ["Group", "Representation", "IrreducibleRepresentation", "trivial_group", "cyclic_group",
           "dihedral_group", "so2_group", "o2_group", "flip_group", "directsum", "disentangle", "change_basis",
           "psi", "chi", "psichi"]


class Group:
    """A planar symmetry group with e2cnn's interface.

    Examples
    --------
    >>> G = dihedral_group(4)
    >>> G.name, G.order(), list(G.irreps)[:3]
    ('D4', 8, ['irrep_0,0', 'irrep_1,0', 'irrep_1,1'])
    >>> G.regular_representation.irreps[:3]
    ['irrep_0,0', 'irrep_1,0', 'irrep_1,1']
    """

    def __init__(self, group: bg.Group, name: Optional[str] = None):
        self.basisgen = group
        self.name = name or group.name
        self.continuous = group.continuous
        self.abelian = not group.has_reflection or (group.rotation_order or 0) <= 2
        self._representations: Dict[str, "Representation"] = {}
        self._subgroups: Dict[Any, Tuple["Group", Callable, Callable]] = {}
        for psi_ in group.irreps:
            self._register(IrreducibleRepresentation(self, psi_))

    # ---- elements --------------------------------------------------------------------------------
    @property
    def elements(self) -> Optional[List[Any]]:
        return self.basisgen.elements

    @property
    def elements_names(self) -> Optional[List[str]]:
        return None if self.elements is None else [str(e) for e in self.elements]

    @property
    def identity(self) -> Any:
        return self.basisgen.identity

    def order(self) -> int:
        return self.basisgen.order()

    def combine(self, e1: Any, e2: Any) -> Any:
        return self.basisgen.combine(e1, e2)

    def inverse(self, e: Any) -> Any:
        return self.basisgen.inverse(e)

    def is_element(self, e: Any) -> bool:
        return self.basisgen.is_element(e)

    def equal(self, e1: Any, e2: Any) -> bool:
        return self.basisgen.equal(e1, e2)

    def testing_elements(self) -> Iterable[Any]:
        return self.basisgen.testing_elements()

    # ---- representations -------------------------------------------------------------------------
    def _register(self, rho: "Representation") -> "Representation":
        return self._representations.setdefault(rho.name, rho)

    @property
    def representations(self) -> Dict[str, "Representation"]:
        return self._representations

    @property
    def irreps(self) -> Dict[str, "IrreducibleRepresentation"]:
        return {k: v for k, v in self._representations.items() if isinstance(v, IrreducibleRepresentation)}

    def irrep(self, *id: int) -> "IrreducibleRepresentation":
        psi_ = self.basisgen.irrep(*id)
        rho = self._representations.get(psi_.name)
        return rho if isinstance(rho, IrreducibleRepresentation) else self._register(IrreducibleRepresentation(self, psi_))

    def _irrep_by_name(self, name: str) -> bg.Irrep:
        if not isinstance(name, str) or not name.startswith("irrep_"):
            raise ValueError(f"irreps are named like 'irrep_1' or 'irrep_1,1', got {name!r}")
        try:
            ids = [int(x) for x in name[len("irrep_"):].split(",")]
        except ValueError:
            raise ValueError(f"irreps are named like 'irrep_1' or 'irrep_1,1', got {name!r}") from None
        return self.basisgen.irrep(*ids)

    @property
    def trivial_representation(self) -> "Representation":
        return self.irrep(*self.basisgen.trivial_irrep.id)

    @property
    def regular_representation(self) -> "Representation":
        if "regular" not in self._representations:
            self._register(Representation._wrap(self, self.basisgen.regular_representation))
        return self._representations["regular"]

    def quotient_representation(self, subgroup_id: Any) -> "Representation":
        name = f"quotient[{subgroup_id}]"
        if name not in self._representations:
            self._register(Representation._wrap(self, self.basisgen.quotient_representation(subgroup_id)))
        return self._representations[name]

    def induced_representation(self, subgroup_id: Any, repr: "Representation") -> "Representation":
        """The representation induced from an irrep ``repr`` of the subgroup (e2cnn: irreps only)."""
        if not isinstance(repr, IrreducibleRepresentation):
            raise ValueError("induced_representation: repr must be an irrep of the subgroup (as in e2cnn), got "
                             f"{getattr(repr, 'name', repr)!r}")
        name = f"induced[{subgroup_id}][{repr.name}]"
        if name not in self._representations:
            rep = bg.induced_representation(self.basisgen, subgroup_id, repr.irrep)
            self._register(Representation._wrap(self, rep))
        return self._representations[name]

    def subgroup(self, id: Any) -> Tuple["Group", Callable, Callable]:
        if id not in self._subgroups:
            H, parent, child = self.basisgen.subgroup(id)
            self._subgroups[id] = (_facade(H), parent, child)
        return self._subgroups[id]

    def restrict_representation(self, id: Any, repr: "Representation") -> "Representation":
        H = self.subgroup(id)[0]
        restricted = repr.basisgen.restrict(id)
        existing = H._representations.get(restricted.name)
        if existing is not None and existing.basisgen == restricted:
            return existing
        # e2cnn names every restriction "{G}:{name}", so two subgroup ids of one subgroup (the flips
        # (0, 1) and (1, 1) of D4) share a name: only the first is registered, the other stays unnamed here
        wrapped = Representation._wrap(H, restricted)
        return H._register(wrapped) if existing is None else wrapped

    # ---- band-limited regular representations (escnn's API; used by nn.FourierPointwise) ---------------
    def bl_irreps(self, L: int) -> List[Tuple[int, ...]]:
        """The ids of the irreps of rotation frequency at most ``L`` (escnn's ``bl_irreps``)."""
        if isinstance(L, bool) or not isinstance(L, int) or L < 0:
            raise ValueError(f"L must be an int >= 0, got {L!r}")
        if self.continuous:
            flip = self.basisgen.has_reflection
            return ([(0, 0), (1, 0)] if flip else [(0,)]) + [(1, k) if flip else (k,) for k in range(1, L + 1)]
        return [psi.id for psi in self.basisgen.irreps if psi.frequency <= L]

    def bl_regular_representation(self, L: int) -> "Representation":
        """The functions on the group of rotation frequency at most ``L``, in the Fourier basis."""
        return self.spectral_regular_representation(*self.bl_irreps(L))

    def spectral_regular_representation(self, *irreps: Any, name: Optional[str] = None) -> "Representation":
        """The subspace of the regular representation spanned by ``irreps`` (ids, names or irreps), in the
        Fourier basis (escnn's method of this name).

        The functions on the group whose Fourier transform lives on ``irreps``: each irrep psi appears
        ``psi.size // psi.sum_of_squares_constituents`` times in a row (once for the complex-type 2-D irreps of
        C_N and SO(2), twice for the 2-D irreps of D_N and O(2)); the change of basis is the identity.  With all
        the irreps of a finite group it is the regular representation written in the Fourier basis.
        """
        ids = []
        for psi in irreps:
            if isinstance(psi, IrreducibleRepresentation):
                if psi.group != self:
                    raise ValueError(f"irreps must be irreps of {self.name}, got {psi.name} of {psi.group.name}")
                ids.append(psi.irrep.id)
            else:
                ids.append(self._irrep_by_name(psi).id if isinstance(psi, str)
                           else self.irrep(*(psi if isinstance(psi, (tuple, list)) else (psi,))).irrep.id)
        if not ids or len(set(ids)) != len(ids):
            raise ValueError(f"irreps must be a non-empty list of distinct irreps of {self.name}, got "
                             f"{list(irreps)!r}")
        psis = [self.irrep(*i) for i in ids]
        name = name or "regular_[{}]".format("|".join(str(i) for i in ids))
        rep = bg.Representation(self.basisgen, name,
                                [p.irrep for p in psis for _ in range(p.size // p.sum_of_squares_constituents)],
                                None, None, set.intersection(*[set(p.supported_nonlinearities) for p in psis]))
        existing = self._representations.get(name)
        if existing is not None and existing.basisgen != rep:
            raise ValueError(f"a different representation named {name!r} is already registered on {self.name}")
        return existing or self._register(Representation._wrap(self, rep))

    # ---- value semantics ----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Group) and self.basisgen == other.basisgen

    def __hash__(self) -> int:
        return hash(self.basisgen)

    def __repr__(self) -> str:
        return f"Group({self.name})"

    def __reduce__(self):
        return (_facade, (self.basisgen,))


class Representation:
    """A representation with e2cnn's interface: ``irreps`` are names, ``representation`` a callable.

    Built either from e2cnn's constructor arguments or around a basisgen representation
    (``.basisgen``).

    Examples
    --------
    >>> G = cyclic_group(4)
    >>> rho = G.regular_representation
    >>> rho.name, rho.size, rho.irreps
    ('regular', 4, ['irrep_0', 'irrep_1', 'irrep_2'])
    """

    def __init__(self, group: Group, name: str, irreps: List[str], change_of_basis: np.ndarray,
                 supported_nonlinearities: Iterable[str] = (), representation: Any = None, character: Any = None,
                 change_of_basis_inv: Optional[np.ndarray] = None, **kwargs: Any):
        if not isinstance(group, Group):
            raise TypeError(f"group must be an e2layers.group.Group, got {type(group).__name__}")
        existing = group.representations.get(name)
        if existing is not None and not isinstance(existing, IrreducibleRepresentation):
            raise ValueError(f"a representation named {name!r} is already registered on {group.name}")
        rep = bg.Representation(group.basisgen, name, [group._irrep_by_name(n) for n in irreps],
                                np.asarray(change_of_basis, dtype=float), None, supported_nonlinearities, **kwargs)
        self._init(group, rep)
        group._register(self)

    @classmethod
    def _wrap(cls, group: Group, rep: bg.Representation) -> "Representation":
        self = cls.__new__(cls)
        self._init(group, rep)
        return self

    def _init(self, group: Group, rep: bg.Representation) -> None:
        self.group = group
        self.basisgen = rep
        self.name = rep.name
        self.size = rep.size
        self.irreps = [p.name for p in rep.irreps]
        self.change_of_basis = rep.change_of_basis
        self.change_of_basis_inv = rep.change_of_basis_inv
        self.supported_nonlinearities = rep.supported_nonlinearities
        self.attributes = rep.attributes

    @property
    def irreducible(self) -> bool:
        return self.basisgen.irreducible

    @property
    def representation(self) -> Callable[[Any], np.ndarray]:
        return self.basisgen

    def __call__(self, element: Any) -> np.ndarray:
        if not self.group.is_element(element):
            raise ValueError(f"{element!r} is not an element of {self.group.name}")
        return self.basisgen(element)

    def character(self, e: Any) -> float:
        return self.basisgen.character(e)

    def is_trivial(self) -> bool:
        return self.basisgen.is_trivial()

    def contains_trivial(self) -> bool:
        return self.basisgen.contains_trivial()

    def restrict(self, id: Any) -> "Representation":
        return self.group.restrict_representation(id, self)

    def __add__(self, other: "Representation") -> "Representation":
        return directsum([self, other])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Representation) and self.basisgen == other.basisgen

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        return f"{self.group.name}|{self.name}:{self.size},{len(self.irreps)},{self.change_of_basis.sum()}"

    def __reduce__(self):
        return (_rewrap, (type(self), self.group, self.basisgen))


def _rewrap(cls, group: Group, rep: bg.Representation) -> Representation:
    existing = group.representations.get(rep.name)
    if existing is not None and existing.basisgen == rep:
        return existing
    return cls._wrap(group, rep)


class IrreducibleRepresentation(Representation):
    """An irrep (``change_of_basis`` is the identity) with e2cnn's attributes."""

    def __init__(self, group: Group, irrep: bg.Irrep):
        self._init(group, bg.Representation.from_irrep(irrep))
        self.irrep = irrep
        self.sum_of_squares_constituents = irrep.sum_of_squares_constituents
        self.attributes = {"frequency": irrep.frequency}
        if irrep.flip_frequency is not None:
            self.attributes["flip_frequency"] = irrep.flip_frequency

    def __reduce__(self):
        return (_irrep_of, (self.group, self.irrep.id))


def _irrep_of(group: Group, id: Tuple[int, ...]) -> IrreducibleRepresentation:
    return group.irrep(*id)


# ---- factories (one facade per group per process, as e2cnn) ----------------------------------------
_FACADES: Dict[Any, Group] = {}


def _facade(group: bg.Group) -> Group:
    key = (group.kind, group.rotation_order)
    facade = _FACADES.get(key)
    if facade is None:
        facade = _FACADES[key] = Group(group, "C2" if group.kind == "flip" else None)
    elif group.continuous and group.maximum_frequency > facade.basisgen.maximum_frequency:
        facade.basisgen = group                      # upgraded in place, as e2cnn's so2/o2 factories
        for psi_ in group.irreps:
            facade.irrep(*psi_.id)
    return facade


def trivial_group() -> Group:
    return _facade(bg.trivial_group())


def cyclic_group(N: int) -> Group:
    return _facade(bg.cyclic_group(N))


def dihedral_group(N: int) -> Group:
    return _facade(bg.dihedral_group(N))


def so2_group(maximum_frequency: int = 10) -> Group:
    return _facade(bg.so2_group(maximum_frequency))


def o2_group(maximum_frequency: int = 10) -> Group:
    return _facade(bg.o2_group(maximum_frequency))


def flip_group() -> Group:
    """The reflection group of ``Flip2dOnR2`` (named ``C2`` as in e2cnn, acting by a flip)."""
    return _facade(bg.flip_group())


# ---- functions ------------------------------------------------------------------------------------------
def directsum(reprs: List[Representation], change_of_basis: Optional[np.ndarray] = None,
              name: Optional[str] = None) -> Representation:
    """The direct sum, named ``[a]_[b]...`` unless ``name`` is given (e2cnn's ``directsum``)."""
    if not reprs:
        raise ValueError("reprs must be a non-empty list of representations")
    group = reprs[0].group
    rep = bg.directsum([r.basisgen for r in reprs], change_of_basis, name)
    existing = group.representations.get(rep.name)
    if existing is not None and existing.basisgen == rep:
        return existing
    return group._register(Representation._wrap(group, rep)) if existing is None else Representation._wrap(group, rep)


def change_basis(repr: Representation, change_of_basis: np.ndarray, name: str,
                 supported_nonlinearities: Optional[Iterable[str]] = None) -> Representation:
    rep = bg.change_basis(repr.basisgen, change_of_basis, name, supported_nonlinearities or ())
    return repr.group._register(Representation._wrap(repr.group, rep))


def disentangle(repr: Representation) -> Tuple[np.ndarray, List[Representation]]:
    """Split ``repr`` by a permutation into independent blocks (connected components of the pattern of Q)."""
    Q = repr.change_of_basis
    dims = [p.dim for p in repr.basisgen.irreps]
    starts = np.cumsum([0] + dims)
    n_irreps, size = len(dims), repr.size
    used = np.array([np.any(~np.isclose(Q[:, starts[i]:starts[i + 1]], 0), axis=1) for i in range(n_irreps)])
    graph = np.zeros((n_irreps + size, n_irreps + size), dtype=bool)
    graph[:n_irreps, n_irreps:] = used
    graph[n_irreps:, :n_irreps] = used.T
    n_blocks, labels = scipy.sparse.csgraph.connected_components(graph, directed=False)
    permutation = np.zeros((size, size))
    parts, position = [], 0
    for block in range(n_blocks):
        irreps = [i for i in range(n_irreps) if labels[i] == block]
        rows = [r for r in range(size) if labels[n_irreps + r] == block]
        cols = [c for i in irreps for c in range(starts[i], starts[i + 1])]
        rep = bg.Representation(repr.group.basisgen, f"{repr.name}_{block}",
                                [repr.basisgen.irreps[i] for i in irreps], Q[np.ix_(rows, cols)], None,
                                repr.supported_nonlinearities)
        parts.append(Representation._wrap(repr.group, rep))
        permutation[position:position + len(rows), rows] = np.eye(len(rows))
        position += len(rows)
    return permutation, parts


def psi(theta: float, k: int = 1, gamma: float = 0.0) -> np.ndarray:
    """The rotation matrix of angle ``k theta + gamma``."""
    x = k * theta + gamma
    return np.array([[math.cos(x), -math.sin(x)], [math.sin(x), math.cos(x)]])


def chi(s: int) -> np.ndarray:
    """``diag(1, -1)`` if ``s`` else the identity."""
    return np.array([[1.0, 0.0], [0.0, -1.0 if s else 1.0]])


def psichi(theta: float, s: int, k: int = 1, gamma: float = 0.0) -> np.ndarray:
    return psi(theta, k, gamma) @ chi(s)
