"""e2cnn's ``Group``: the interface shared by the planar groups, a facade over a basisgen group.

basisgen keeps irreps as objects in lists; e2cnn code expects ``group.irreps`` to be a dict by name,
``representation.irreps`` a list of names and a registry ``group.representations``.  The facade gives
exactly that and keeps the basisgen group at ``.basisgen`` for the kernel cache.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import basisgen as bg
from basisgen.errors import InvalidTypeError, InvalidValueError

from ._representation import IrreducibleRepresentation, Representation


def _reraise(e: ValueError) -> InvalidValueError:
    """basisgen's ValueError as the InvalidValueError e2cnn code can also catch as an AssertionError."""
    return e if isinstance(e, InvalidValueError) else InvalidValueError(str(e))


class Group:
    """A planar symmetry group with e2cnn's interface; the concrete groups are :class:`CyclicGroup`,
    :class:`DihedralGroup`, :class:`SO2` and :class:`O2`.

    Registries as in e2cnn: ``irreps`` (dict by name) holds the irreps built so far; ``representations``
    holds the irreps listed at construction, ``regular`` (finite groups, built eagerly) and the quotient and
    induced representations built since.

    Examples
    --------
    >>> from e2layers.group import DihedralGroup
    >>> G = DihedralGroup(4)
    >>> G.name, G.order(), list(G.representations)
    ('D4', 8, ['irrep_0,0', 'irrep_1,0', 'irrep_1,1', 'irrep_1,2', 'irrep_0,2', 'regular'])
    >>> G.regular_representation.irreps[:3]
    ['irrep_0,0', 'irrep_1,0', 'irrep_1,1']
    """

    def __init__(self, name: str, continuous: bool, abelian: bool):
        if type(self) is Group:
            raise InvalidTypeError("Group is the interface of the planar groups; build one with cyclic_group(N), "
                                   "dihedral_group(N), so2_group() or o2_group()")
        self.name = name
        self.continuous = continuous
        self.abelian = abelian
        self._irreps: Dict[str, IrreducibleRepresentation] = {}
        self._representations: Dict[str, Representation] = {}
        self.elements: Optional[List[Any]] = None if continuous else []
        self.elements_names: Optional[List[str]] = None if continuous else []
        self.identity: Any = None
        self._subgroups: Dict[Any, Tuple["Group", Callable, Callable]] = {}

    def _attach(self, group: bg.Group, name: str, abelian: bool) -> None:
        """Set up the facade over ``group`` and build its representations as e2cnn's constructor does."""
        Group.__init__(self, name, group.continuous, abelian)
        self.basisgen = group
        if not self.continuous:
            self.elements = list(group.elements)
            self.elements_names = self._element_names()
        self.identity = group.identity
        self._build_representations()

    def _build_representations(self) -> None:
        for psi_ in self.basisgen.irreps:
            self._irrep(psi_)
        self._representations.update(self._irreps)
        if not self.continuous:
            self.regular_representation

    def _element_names(self) -> List[str]:
        raise NotImplementedError

    def _irrep_attributes(self, psi_: bg.Irrep) -> Dict[str, int]:
        raise NotImplementedError

    # ---- elements --------------------------------------------------------------------------------
    def order(self) -> int:
        return -1 if self.elements is None else len(self.elements)

    def combine(self, e1: Any, e2: Any) -> Any:
        try:
            return self.basisgen.combine(e1, e2)
        except ValueError as e:
            raise _reraise(e) from None

    def inverse(self, element: Any) -> Any:
        try:
            return self.basisgen.inverse(element)
        except ValueError as e:
            raise _reraise(e) from None

    def is_element(self, element: Any) -> bool:
        return self.basisgen.is_element(element)

    def equal(self, e1: Any, e2: Any) -> bool:
        return self.basisgen.equal(e1, e2)

    def testing_elements(self) -> Iterable[Any]:
        return self.basisgen.testing_elements()

    # ---- irreps and registries -----------------------------------------------------------------------
    @property
    def irreps(self) -> Dict[str, IrreducibleRepresentation]:
        return self._irreps

    @property
    def representations(self) -> Dict[str, Representation]:
        return self._representations

    def _register(self, rho: Representation) -> Representation:
        return self._representations.setdefault(rho.name, rho)

    def _irrep(self, psi_: bg.Irrep) -> IrreducibleRepresentation:
        rho = self._irreps.get(psi_.name)
        if rho is None:
            rho = self._irreps[psi_.name] = IrreducibleRepresentation._of(self, psi_)
        return rho

    def irrep(self, *id: int) -> IrreducibleRepresentation:
        try:
            return self._irrep(self.basisgen.irrep(*id))
        except ValueError as e:
            raise _reraise(e) from None

    def _irrep_by_name(self, name: str) -> bg.Irrep:
        if not isinstance(name, str) or not name.startswith("irrep_"):
            raise InvalidValueError(f"irreps are named like 'irrep_1' or 'irrep_1,1', got {name!r}")
        try:
            ids = [int(x) for x in name[len("irrep_"):].split(",")]
            return self.basisgen.irrep(*ids)
        except ValueError:
            raise InvalidValueError(f"{name!r} is not an irrep of {self.name}; its irreps: "
                                    f"{list(self._irreps)}") from None

    @property
    def trivial_representation(self) -> IrreducibleRepresentation:
        return self._irrep(self.basisgen.trivial_irrep)

    # ---- regular, quotient, induced ---------------------------------------------------------------------
    @property
    def regular_representation(self) -> Representation:
        if "regular" not in self._representations:
            if self.continuous:
                raise InvalidValueError(f"the regular representation needs a finite group; {self.name} is "
                                        f"continuous")
            self._representations["regular"] = Representation._wrap(self, self.basisgen.regular_representation)
        return self._representations["regular"]

    def quotient_representation(self, subgroup_id: Any) -> Representation:
        name = f"quotient[{subgroup_id}]"
        if name not in self._representations:
            try:
                rep = bg.quotient_representation(self.basisgen, subgroup_id)
            except ValueError as e:
                raise _reraise(e) from None
            self._representations[name] = Representation._wrap(self, rep)
        return self._representations[name]

    def induced_representation(self, subgroup_id: Any, repr: Representation) -> Representation:
        """The representation induced from the irreducible representation ``repr`` of the subgroup
        ``subgroup_id`` (finite groups; for O(2) only from SO(2), ``subgroup_id = (None, -1)``, as e2cnn)."""
        if not isinstance(repr, Representation):
            raise InvalidTypeError(f"repr must be a Representation of the subgroup, got {type(repr).__name__}")
        if not repr.irreducible:
            raise InvalidValueError(f"induction is from irreducible representations only (as in e2cnn), got "
                                    f"{repr.name!r} with irreps {repr.irreps}")
        name = f"induced[{subgroup_id}][{repr.name}]"
        if name not in self._representations:
            try:
                H = self.basisgen.subgroup(subgroup_id)[0]
                if repr.group.basisgen != H:
                    raise InvalidValueError(f"repr must be a representation of the subgroup {H.name} "
                                            f"({subgroup_id!r}) of {self.name}, got one of {repr.group.name}")
                rep = bg.induced_representation(self.basisgen, subgroup_id, repr.basisgen.irreps[0])
            except ValueError as e:
                raise _reraise(e) from None
            self._representations[name] = Representation._wrap(self, rep)
        return self._representations[name]

    # ---- subgroups and restriction ------------------------------------------------------------------------
    def subgroup(self, id: Any) -> Tuple["Group", Callable, Callable]:
        """``(H, parent_map, child_map)``: the subgroup ``id``, the inclusion of H in this group and its
        partial inverse (``None`` outside H).  Cached in ``_subgroups`` as in e2cnn."""
        if id not in self._subgroups:
            from ._groups import _facade
            try:
                H, parent, child = self.basisgen.subgroup(id)
            except ValueError as e:
                raise _reraise(e) from None
            self._subgroups[id] = (_facade(H), parent, child)
        return self._subgroups[id]

    def restrict_representation(self, id: Any, repr: Representation) -> Representation:
        """``repr`` restricted to the subgroup ``id``, named ``"{G}:{repr}"`` (not registered, as in e2cnn)."""
        if not isinstance(repr, Representation) or repr.group != self:
            raise InvalidValueError(f"repr must be a representation of {self.name}, got {repr!r}")
        H = self.subgroup(id)[0]
        try:
            restricted = repr.basisgen.restrict(id)
        except ValueError as e:
            raise _reraise(e) from None
        # e2cnn adds 'pointwise' only when the restriction is the trivial irrep itself
        tags = set(repr.supported_nonlinearities)
        if restricted.irreducible and restricted.irreps[0].is_trivial():
            tags.add("pointwise")
        restricted.supported_nonlinearities = tags
        return Representation._wrap(H, restricted)

    # ---- band-limited regular representations (escnn's API; used by nn.FourierPointwise) ---------------
    def bl_irreps(self, L: int) -> List[Tuple[int, ...]]:
        """The ids of the irreps of rotation frequency at most ``L`` (escnn's ``bl_irreps``)."""
        if isinstance(L, bool) or not isinstance(L, int) or L < 0:
            raise InvalidValueError(f"L must be an int >= 0, got {L!r}")
        if self.continuous:
            flip = self.basisgen.has_reflection
            return ([(0, 0), (1, 0)] if flip else [(0,)]) + [(1, k) if flip else (k,) for k in range(1, L + 1)]
        return [psi_.id for psi_ in self.basisgen.irreps if psi_.frequency <= L]

    def bl_regular_representation(self, L: int) -> Representation:
        """The functions on the group of rotation frequency at most ``L``, in the Fourier basis."""
        return self.spectral_regular_representation(*self.bl_irreps(L))

    def spectral_regular_representation(self, *irreps: Any, name: Optional[str] = None) -> Representation:
        """The subspace of the regular representation spanned by ``irreps`` (ids, names or irreps), in the
        Fourier basis (escnn's method of this name), registered under ``name``.

        The functions on the group whose Fourier transform lives on ``irreps``: each irrep psi appears
        ``psi.size // psi.sum_of_squares_constituents`` times in a row (once for the complex-type 2-D irreps of
        C_N and SO(2), twice for the 2-D irreps of D_N and O(2)); the change of basis is the identity.  With all
        the irreps of a finite group it is the regular representation written in the Fourier basis.
        """
        ids = []
        for psi_ in irreps:
            if isinstance(psi_, IrreducibleRepresentation):
                if psi_.group != self:
                    raise InvalidValueError(f"irreps must be irreps of {self.name}, got {psi_.name} of "
                                            f"{psi_.group.name}")
                ids.append(psi_.irrep.id)
            else:
                ids.append(self._irrep_by_name(psi_).id if isinstance(psi_, str)
                           else self.irrep(*(psi_ if isinstance(psi_, (tuple, list)) else (psi_,))).irrep.id)
        if not ids or len(set(ids)) != len(ids):
            raise InvalidValueError(f"irreps must be a non-empty list of distinct irreps of {self.name}, got "
                                    f"{list(irreps)!r}")
        psis = [self.irrep(*i) for i in ids]
        name = name or "regular_[{}]".format("|".join(str(i) for i in ids))
        rep = bg.Representation(self.basisgen, name,
                                [p.irrep for p in psis for _ in range(p.size // p.sum_of_squares_constituents)],
                                None, None, set.intersection(*[set(p.supported_nonlinearities) for p in psis]))
        existing = self._representations.get(name)
        if existing is not None and existing.basisgen != rep:
            raise InvalidValueError(f"a different representation named {name!r} is already registered on "
                                    f"{self.name}")
        return existing or self._register(Representation._wrap(self, rep))

    # ---- value semantics ----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Group) and self.basisgen == other.basisgen

    def __hash__(self) -> int:
        return hash(self.basisgen)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"

    def __reduce__(self):
        from ._groups import _facade
        return (_facade, (self.basisgen,))
