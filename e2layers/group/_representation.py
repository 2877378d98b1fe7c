"""e2cnn's ``Representation`` and ``IrreducibleRepresentation`` as facades over basisgen's representations,
and the functions that combine them (``directsum``, ``change_basis``, ``disentangle``).

Like e2cnn, a representation built by the user (the constructor, ``directsum``, ``change_basis``,
``disentangle``, a restriction) is not registered on its group: ``group.representations`` holds the
irreps and the representations the group builds itself (regular, quotient, induced).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

import basisgen as bg
from basisgen._lazy import lazy_import
from basisgen.errors import InvalidTypeError, InvalidValueError

scipy = lazy_import("scipy.sparse.csgraph")


def _check_group(group: Any) -> None:
    from ._base import Group
    if not isinstance(group, Group):
        raise InvalidTypeError(f"group must be an e2layers.group.Group, got {type(group).__name__}")


def _check_new_name(group: Any, name: Any) -> None:
    if not isinstance(name, str):
        raise InvalidTypeError(f"name must be a str, got {type(name).__name__}")
    if name in group.representations:
        raise InvalidValueError(f"a representation named {name!r} is already registered on {group.name}; "
                                f"choose another name")


def _lookup(table: Union[Dict[Any, Any], Callable, None], what: str, group: Any) -> Optional[Callable]:
    """A user's ``representation``/``character`` argument (a dict over the elements or a callable) as a callable."""
    if table is None or callable(table):
        return table
    if isinstance(table, dict):
        if group.elements is None or set(table) != set(group.elements):
            raise InvalidValueError(f"the keys of {what} must be the elements of {group.name}")
        return table.__getitem__
    raise InvalidTypeError(f"{what} must be a dict over the group's elements, a callable or None, "
                           f"got {type(table).__name__}")


class Representation:
    """A representation ``Q (psi_1 + ... + psi_n) Q^-1`` with e2cnn's interface.

    ``irreps`` are irrep names, ``representation`` is a callable, ``attributes`` the extra keyword
    arguments; the basisgen representation (used by the kernel cache) is at ``.basisgen``.  As in
    e2cnn, ``representation``/``character`` may give the matrices explicitly (a dict over the elements
    or a callable); the kernel basis always uses ``irreps`` and ``change_of_basis``.

    Examples
    --------
    >>> from e2layers.group import cyclic_group
    >>> G = cyclic_group(4)
    >>> rho = G.regular_representation
    >>> rho.name, rho.size, rho.irreps
    ('regular', 4, ['irrep_0', 'irrep_1', 'irrep_2'])
    >>> swapped = Representation(G, "swapped", ["irrep_1"], np.array([[0., 1.], [1., 0.]]), ["norm"])
    >>> swapped(1).round(6).tolist(), "swapped" in G.representations
    ([[0.0, 1.0], [-1.0, 0.0]], False)
    """

    def __init__(self, group: Any, name: str, irreps: List[str], change_of_basis: np.ndarray,
                 supported_nonlinearities: Union[List[str], set], representation: Any = None,
                 character: Any = None, change_of_basis_inv: Optional[np.ndarray] = None, **kwargs: Any):
        _check_group(group)
        _check_new_name(group, name)
        Q = np.asarray(change_of_basis.toarray() if hasattr(change_of_basis, "toarray") else change_of_basis,
                       dtype=float)
        if Q.ndim != 2 or Q.shape[0] != Q.shape[1]:
            raise InvalidValueError(f"change_of_basis must be a square matrix, got shape {Q.shape}")
        if isinstance(irreps, str) or not all(isinstance(n, str) for n in irreps):
            raise InvalidTypeError(f"irreps must be a list of irrep names, got {irreps!r}")
        try:
            rep = bg.Representation(group.basisgen, name, [group._irrep_by_name(n) for n in irreps], Q, None,
                                    supported_nonlinearities, **kwargs)
        except InvalidValueError:
            raise
        except ValueError as e:
            raise InvalidValueError(str(e)) from None
        self._init(group, rep)
        if change_of_basis_inv is not None:
            inv = np.asarray(change_of_basis_inv, dtype=float)
            if inv.shape != Q.shape or not np.allclose(Q @ inv, np.eye(len(Q))):
                raise InvalidValueError("change_of_basis_inv must be the inverse of change_of_basis")
        self._custom = _lookup(representation, "representation", group)
        self._characters = _lookup(character, "character", group)
        if self._custom is not None:
            self.representation = self._custom

    @classmethod
    def _wrap(cls, group: Any, rep: bg.Representation) -> "Representation":
        self = cls.__new__(cls)
        self._init(group, rep)
        return self

    def _init(self, group: Any, rep: bg.Representation) -> None:
        self.group = group
        self.basisgen = rep
        self.name = rep.name
        self.size = rep.size
        self.irreps = [p.name for p in rep.irreps]
        self.change_of_basis = rep.change_of_basis
        self.change_of_basis_inv = rep.change_of_basis_inv
        self.supported_nonlinearities = rep.supported_nonlinearities
        self.attributes = rep.attributes
        self.irreducible = rep.irreducible
        self.representation = rep
        self._custom = None
        self._characters = None

    def __call__(self, element: Any) -> np.ndarray:
        if not self.group.is_element(element):
            raise InvalidValueError(f"{element!r} is not an element of {self.group.name}")
        return self._custom(element) if self._custom is not None else self.basisgen(element)

    def character(self, e: Any) -> float:
        if self._characters is not None:
            return self._characters(e)
        return float(np.trace(self(e))) if self._custom is not None else self.basisgen.character(e)

    def is_trivial(self) -> bool:
        return self.irreducible and self.irreps[0] == self.group.trivial_representation.name

    def contains_trivial(self) -> bool:
        return self.basisgen.contains_trivial()

    def restrict(self, id: Any) -> "Representation":
        return self.group.restrict_representation(id, self)

    def __add__(self, other: "Representation") -> "Representation":
        return directsum([self, other])

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Representation) and self.basisgen == other.basisgen
                and self.supported_nonlinearities == other.supported_nonlinearities)

    def __hash__(self) -> int:
        return hash(repr(self))

    def __repr__(self) -> str:
        return f"{self.group.name}|{self.name}:{self.size},{len(self.irreps)},{self.change_of_basis.sum()}"

    def __reduce__(self):
        return (_rewrap, (type(self), self.group, self.basisgen))


def _rewrap(cls, group: Any, rep: bg.Representation) -> Representation:
    existing = group.representations.get(rep.name)
    if existing is not None and existing.basisgen == rep:
        return existing
    return cls._wrap(group, rep)


class IrreducibleRepresentation(Representation):
    """An irrep of a planar group with e2cnn's attributes (``frequency``, and ``flip_frequency`` for D_N, O(2)).

    Obtained from the group (``group.irrep(...)``, ``group.irreps[name]``).  e2cnn's constructor
    signature is accepted only for an irrep the group has but has not listed yet (an SO(2) or O(2) irrep
    above ``maximum_frequency``): e2layers knows the irreps of the planar groups, not user-defined ones.

    Examples
    --------
    >>> from e2layers.group import dihedral_group
    >>> psi = dihedral_group(4).irrep(1, 2)
    >>> psi.name, psi.size, psi.attributes, psi.sum_of_squares_constituents
    ('irrep_1,2', 1, {'frequency': 2, 'flip_frequency': 1}, 1)
    """

    def __init__(self, group: Any, name: str, representation: Any, size: int, sum_of_squares_constituents: int,
                 supported_nonlinearities: List[str], character: Any = None, **kwargs: Any):
        _check_group(group)
        _check_new_name(group, name)
        if name in group.irreps:
            raise InvalidValueError(f"{group.name} already has the irrep {name!r}; use group.irreps[{name!r}]")
        try:
            psi = group._irrep_by_name(name)
        except ValueError:
            raise InvalidValueError(f"{name!r} is not an irrep of {group.name}: e2layers builds the irreps of the "
                                    f"planar groups only, user-defined irreps are not supported") from None
        self._attach(group, psi)
        if (self.size, self.sum_of_squares_constituents) != (size, sum_of_squares_constituents):
            raise InvalidValueError(f"{name} of {group.name} has size {self.size} and sum_of_squares_constituents "
                                    f"{self.sum_of_squares_constituents}, got {size} and {sum_of_squares_constituents}")
        group._irreps[name] = self

    @classmethod
    def _of(cls, group: Any, psi: bg.Irrep) -> "IrreducibleRepresentation":
        self = cls.__new__(cls)
        self._attach(group, psi)
        return self

    def _attach(self, group: Any, psi: bg.Irrep) -> None:
        self._init(group, bg.Representation.from_irrep(psi))
        self.irrep = psi
        self.sum_of_squares_constituents = psi.sum_of_squares_constituents
        self.attributes = group._irrep_attributes(psi)

    def __reduce__(self):
        return (_irrep_of, (self.group, self.irrep.id))


def _irrep_of(group: Any, id: Tuple[int, ...]) -> IrreducibleRepresentation:
    return group.irrep(*id)


# ---- functions ------------------------------------------------------------------------------------------
def directsum(reprs: List[Representation], change_of_basis: Optional[np.ndarray] = None,
              name: Optional[str] = None) -> Representation:
    """The direct sum, named ``[a]_[b]...`` unless ``name`` is given (e2cnn's ``directsum``).

    Examples
    --------
    >>> from e2layers.group import cyclic_group
    >>> G = cyclic_group(4)
    >>> directsum([G.irrep(0), G.irrep(1)]).name
    '[irrep_0]_[irrep_1]'
    """
    if not reprs:
        raise InvalidValueError("reprs must be a non-empty list of representations")
    group = reprs[0].group
    for rho in reprs:
        if not isinstance(rho, Representation) or rho.group != group:
            raise InvalidValueError(f"reprs must be representations of one group ({group.name}), got {rho!r}")
    if name is not None:
        _check_new_name(group, name)
    rep = bg.directsum([r.basisgen for r in reprs], change_of_basis, name)
    if name is None:
        _check_new_name(group, rep.name)
    return Representation._wrap(group, rep)


def change_basis(repr: Representation, change_of_basis: np.ndarray, name: str,
                 supported_nonlinearities: Optional[List[str]] = None) -> Representation:
    """``change_of_basis @ repr``: the same irreps in another basis (e2cnn's ``change_basis``)."""
    _check_new_name(repr.group, name)
    try:
        rep = bg.change_basis(repr.basisgen, change_of_basis, name, supported_nonlinearities or ())
    except ValueError as e:
        raise InvalidValueError(str(e)) from None
    return Representation._wrap(repr.group, rep)


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
