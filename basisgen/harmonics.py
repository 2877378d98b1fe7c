"""One angular basis element: ``A(phi) = C cos(mu (phi - beta)) + S sin(mu (phi - beta))``.

This is the compiled form of a derived solution of the kernel constraint: a signed frequency ``mu``
and two exact coefficient matrices.  It evaluates vectorised in numpy (the float copies of C and S
are made once) and renders exactly in sympy, for verification and typesetting.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

import numpy as np

from ._lazy import lazy_import
from .irreps import Irrep

sp = lazy_import("sympy")

ExactMatrix = Tuple[Tuple[Any, ...], ...]     # of sympy expressions


def _symbol(name: str) -> Any:
    """The real sympy symbol ``name`` (sympy hands out one object per name and assumptions)."""
    return sp.Symbol(name, real=True)


def __getattr__(name: str) -> Any:
    """``PHI`` and ``BETA``, the symbols of the angle and of the reflection axis: made on first use, so that
    importing this module does not load sympy."""
    if name in ("PHI", "BETA"):
        value = globals()[name] = _symbol(name.lower())
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class HarmonicElement:
    """A solution of the angular kernel constraint for one pair of irreps (docs/math.md, "The angular elements").

    Attributes
    ----------
    mu:
        The signed angular frequency (e2cnn's ``frequency``).
    s:
        1 for the reflection-like 2x2 matrices ``R(.) X``, else 0.
    gamma:
        The phase (exact; 0 or pi/2 for every element the engine derives).
    t:
        The aliasing offset: ``mu = mu_0 + t N`` (0 for SO(2) and O(2)).
    cos_coefficients, sin_coefficients:
        The exact matrices C and S.
    axis:
        The reflection axis beta (0 for groups without reflections).

    Examples
    --------
    >>> from basisgen import cyclic_group
    >>> from basisgen.derivation import derive_angular_basis
    >>> G = cyclic_group(4)
    >>> A = derive_angular_basis(G, G.irrep(1), G.irrep(1), maximum_frequency=2)[2]
    >>> (A.mu, A.s, A.gamma, A.t)
    (2, 1, 0, 0)
    >>> A.matrix()
    Matrix([
    [cos(2*phi),  sin(2*phi)],
    [sin(2*phi), -cos(2*phi)]])
    """

    mu: int
    s: int
    gamma: sp.Expr
    t: int
    cos_coefficients: ExactMatrix
    sin_coefficients: ExactMatrix
    in_irrep: Irrep
    out_irrep: Irrep
    axis: Any = 0
    _numeric: Tuple[np.ndarray, np.ndarray] = field(default=None, compare=False, repr=False, hash=False)

    def __post_init__(self):
        C = np.array(self.cos_coefficients, dtype=float)
        S = np.array(self.sin_coefficients, dtype=float)
        object.__setattr__(self, "_numeric", (C, S))

    @property
    def shape(self) -> Tuple[int, int]:
        return (self.out_irrep.dim, self.in_irrep.dim)

    @property
    def gamma_float(self) -> float:
        return float(self.gamma)

    @property
    def axis_float(self) -> float:
        return float(self.axis)

    def with_axis(self, axis: Any) -> "HarmonicElement":
        return HarmonicElement(self.mu, self.s, self.gamma, self.t, self.cos_coefficients, self.sin_coefficients,
                               self.in_irrep, self.out_irrep, axis)

    def matrix(self, phi: Optional[sp.Symbol] = None, axis: Optional[Any] = None) -> sp.Matrix:
        """The exact matrix ``A(phi)`` (default: the symbol ``PHI``); ``axis`` overrides the element's beta
        (e.g. a symbol)."""
        phi = _symbol("phi") if phi is None else phi
        beta = self.axis if axis is None else axis
        arg = self.mu * (phi - beta)
        C, S = sp.Matrix(self.cos_coefficients), sp.Matrix(self.sin_coefficients)
        return C * sp.cos(arg) + S * sp.sin(arg)

    def evaluate(self, phi: np.ndarray) -> np.ndarray:
        """``A`` at the angles ``phi`` (shape (P,)), as an array (d_out, d_in, P)."""
        C, S = self._numeric
        arg = self.mu * (np.asarray(phi, dtype=float) - self.axis_float)
        return C[:, :, None] * np.cos(arg) + S[:, :, None] * np.sin(arg)

    def attributes(self) -> Dict[str, Any]:
        """The element's attributes under e2cnn's keys, and only those that e2cnn sets for it.

        ``frequency`` and ``gamma`` always; ``s`` only for 2x2 blocks (the only solutions where the
        reflection-like matrix is a choice); ``offset`` only for finite groups (SO(2) and O(2) have no
        aliasing); then ``shape``, ``in_irrep`` and ``out_irrep``.  The values are Python ints and floats.

        Examples
        --------
        >>> from basisgen import so2_group
        >>> from basisgen.derivation import derive_angular_basis
        >>> G = so2_group(3)
        >>> derive_angular_basis(G, G.irrep(0), G.irrep(1))[0].attributes()
        {'frequency': 1, 'gamma': 0.0, 'shape': (2, 1), 'in_irrep': 'irrep_0', 'out_irrep': 'irrep_1'}
        """
        return angular_attributes(self.mu, self.gamma_float, self.s, self.t, self.shape, self.in_irrep.name,
                                  self.out_irrep.name, finite=not self.in_irrep.group.continuous)


def angular_attributes(mu: int, gamma: float, s: int, t: int, shape: Tuple[int, int], in_irrep: str, out_irrep: str,
                       finite: bool) -> Dict[str, Any]:
    """The attribute dict of one angular element (see :meth:`HarmonicElement.attributes`), from its numbers."""
    attrs: Dict[str, Any] = {"frequency": int(mu), "gamma": float(gamma)}
    if tuple(shape) == (2, 2):
        attrs["s"] = int(s)
    if finite:
        attrs["offset"] = int(t)
    attrs.update(shape=(int(shape[0]), int(shape[1])), in_irrep=in_irrep, out_irrep=out_irrep)
    return attrs
