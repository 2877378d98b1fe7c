"""The full polar kernel basis at arbitrary points (e2cnn's ``PolarBasis.sample``), before any filtering.

:func:`sample_basis` serves layers: grid points, band limit per ring, normalisation, dropping.  This
module serves code that wants e2cnn's analytical basis itself: every (ring, angular element) pair,
ring-major, mapped through the changes of basis, sampled at the given points, unnormalised.

:class:`AngularTable` is the angular part in closed form: element ``a`` is
``cos_a cos(mu_a (phi - beta)) + sin_a sin(mu_a (phi - beta))`` with ``cos_a``, ``sin_a`` the element's
coefficient matrices already mapped through the representations' changes of basis, so that any array
library (numpy here, torch in ``e2layers.kernels``) samples it with two products.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import InvalidValueError
from .derivation import _derive
from .harmonics import HarmonicElement
from .radial import gaussian_rings
from .representation import Representation
from .sampling import angular_order, polar_attributes, resolve_axis

ORIGIN_RADIUS = 1e-9     # points closer to the origin than this have no angle (e2cnn's threshold)


class AngularTable:
    """The angular basis of kernels ``in_repr -> out_repr`` in closed form, in e2cnn's element order.

    ``F``/``T`` bound the frequency and the aliasing offset (finite groups need one of them; both are
    ignored for SO(2) and O(2)); ``beta`` is the reflection axis.  ``mu`` (A,), ``cos``/``sin``
    (A, c_out, c_in) are the frequencies and the coefficient matrices in the representations' basis;
    ``elements`` holds ``(in position, out position, HarmonicElement, inner index)`` per element.
    ``negative_cosines`` adds e2cnn's duplicate elements of 1x1 pairs bounded by ``T`` alone (see
    :func:`_negative_cosines`).

    Examples
    --------
    >>> import numpy as np, basisgen
    >>> G = basisgen.cyclic_group(4)
    >>> table = AngularTable(G.regular_representation, G.trivial_representation, F=2)
    >>> table.mu.tolist(), table.sample(np.array([0.0, np.pi / 2]), np.array([True, False])).shape
    ([0, 1, 1, 2, 2], (1, 4, 5, 2))
    """

    def __init__(self, in_repr: Representation, out_repr: Representation, F: Optional[int] = None,
                 T: Optional[int] = None, beta: float = 0.0, negative_cosines: bool = False):
        if in_repr.group != out_repr.group:
            raise InvalidValueError(f"in_repr and out_repr must share one group, got {in_repr.group.name} and "
                             f"{out_repr.group.name}")
        group = in_repr.group
        F = None if group.continuous else F
        T = None if group.continuous else T
        if not group.continuous and F is None and T is None:
            raise InvalidValueError(f"{group.name} is finite: give a maximum frequency or a maximum offset")
        self.in_repr, self.out_repr, self.beta = in_repr, out_repr, float(beta)
        pairs = {}
        for pi in set(in_repr.irreps):
            for po in set(out_repr.irreps):
                elements = _derive(group, pi, po, F, T)
                if negative_cosines and F is None and T is not None:
                    elements = _negative_cosines(group, elements, T) + tuple(elements)
                pairs[(pi, po)] = (tuple(e.with_axis(self.beta) for e in elements), None)
        self.elements = angular_order(in_repr, out_repr, pairs)
        in_pos = np.cumsum([0] + [p.dim for p in in_repr.irreps])
        out_pos = np.cumsum([0] + [p.dim for p in out_repr.irreps])
        Q_out = np.asarray(out_repr.change_of_basis, dtype=float)
        Q_in_inv = np.asarray(in_repr.change_of_basis_inv, dtype=float)
        A = len(self.elements)
        self.mu = np.array([e.mu for _, _, e, _ in self.elements], dtype=np.int64)
        self.cos = np.zeros((A, out_repr.size, in_repr.size))
        self.sin = np.zeros((A, out_repr.size, in_repr.size))
        for a, (ii, oo, e, _) in enumerate(self.elements):
            C, S = e._numeric
            q_out, q_in = Q_out[:, out_pos[oo]:out_pos[oo + 1]], Q_in_inv[in_pos[ii]:in_pos[ii + 1], :]
            self.cos[a], self.sin[a] = q_out @ C @ q_in, q_out @ S @ q_in

    def __len__(self) -> int:
        return len(self.elements)

    def attributes(self) -> List[Tuple[Dict[str, Any], int, int, int]]:
        """Per element: its angular attributes, in position, out position and inner index."""
        return [(e.attributes(), ii, oo, inner) for ii, oo, e, inner in self.elements]

    def sample(self, phi: np.ndarray, origin: np.ndarray) -> np.ndarray:
        """The elements at the angles ``phi`` (N,): (c_out, c_in, A, N); where ``origin`` is set the angle is
        taken 0 and every element of non-zero frequency vanishes (a kernel is single-valued there)."""
        origin = np.asarray(origin, dtype=bool)
        phi = np.where(origin, 0.0, np.asarray(phi, dtype=float))
        arg = self.mu[:, None] * (phi[None, :] - self.beta)                         # (A, N)
        cos, sin = np.cos(arg), np.sin(arg)
        moving = (self.mu != 0)[:, None] & origin[None, :]
        cos[moving], sin[moving] = 0.0, 0.0
        return np.einsum("aoi,an->oian", self.cos, cos) + np.einsum("aoi,an->oian", self.sin, sin)


def _negative_cosines(group, elements, T: int) -> tuple:
    """e2cnn's extra elements of a 1x1 pair bounded by an offset alone: ``cos(mu (phi - beta))`` also at the
    negative frequencies ``mu = k + t N``, ``-T <= t``, in ascending ``t`` (copies of the positive ones: the
    resulting basis is linearly dependent, but e2cnn's bases have them and ``kernels`` reproduces them)."""
    cosines = [e for e in elements if e.shape == (1, 1) and e.gamma == 0]
    if not cosines:
        return ()
    N, e = max(group.rotation_order, 1), cosines[0]
    k = e.mu - e.t * N
    return tuple(HarmonicElement(k + t * N, 0, e.gamma, t, e.cos_coefficients, e.sin_coefficients, e.in_irrep,
                                 e.out_irrep) for t in range(-T, T + 1) if k + t * N < 0)


def polar_coordinates(points: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(r, phi, origin)`` of ``points`` ((2, N) or (N, 2) coordinates x, y); ``phi`` is 0 at the origin."""
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or 2 not in points.shape:
        raise InvalidValueError(f"points must have shape (N, 2) or (2, N), got {points.shape}")
    xy = points if points.shape[0] == 2 and points.shape[1] != 2 else points.T
    r = np.hypot(xy[0], xy[1])
    origin = r < ORIGIN_RADIUS
    return r, np.where(origin, 0.0, np.arctan2(xy[1], xy[0])), origin


@dataclass
class PolarBasis:
    """The basis ``b_i(|x|) A_j(phi)`` of kernels ``in_repr -> out_repr`` (ring-major).

    The order is e2cnn's: docs/math.md, "The radial part and the pixel grid".

    Examples
    --------
    >>> import numpy as np, basisgen
    >>> G = basisgen.cyclic_group(4)
    >>> basis = PolarBasis(G.regular_representation, G.regular_representation, [0.0, 1.0], [0.005, 0.4], 2)
    >>> basis.dim, basis.shape, basis.sample(np.array([[1.0, 0.0], [0.0, 1.0]])).shape
    (40, (4, 4), (4, 4, 40, 2))
    """

    in_repr: Representation
    out_repr: Representation
    rings: Sequence[float]
    sigma: Union[float, Sequence[float]]
    maximum_frequency: Optional[int] = None
    maximum_offset: Optional[int] = None
    axis: Optional[float] = None

    def __post_init__(self):
        if self.in_repr.group != self.out_repr.group:
            raise InvalidValueError(f"in_repr and out_repr must share one group, got {self.in_repr.group.name} and "
                             f"{self.out_repr.group.name}")
        self.rings = [float(r) for r in self.rings]
        sigmas = [float(self.sigma)] * len(self.rings) if np.isscalar(self.sigma) else [float(s) for s in self.sigma]
        if len(sigmas) != len(self.rings) or any(not s > 0 for s in sigmas):
            raise InvalidValueError(f"sigma must be one positive float or one per ring ({len(self.rings)}), got {self.sigma!r}")
        self.sigmas = sigmas
        group = self.in_repr.group
        if not group.continuous and self.maximum_frequency is None and self.maximum_offset is None:
            raise InvalidValueError(f"{group.name} is finite: give maximum_frequency or maximum_offset")
        self._table = AngularTable(self.in_repr, self.out_repr, self.maximum_frequency, self.maximum_offset,
                                   resolve_axis(group, self.axis))

    @property
    def dim(self) -> int:
        return len(self.rings) * len(self._table)

    @property
    def shape(self):
        return (self.out_repr.size, self.in_repr.size)

    def __len__(self) -> int:
        return self.dim

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        angular = self._table.attributes()
        for i, (radius, sigma) in enumerate(zip(self.rings, self.sigmas)):
            for j, (attrs, ii, oo, inner) in enumerate(angular):
                yield polar_attributes(attrs, i, radius, sigma, ii, oo, inner, j, len(angular))

    def sample(self, points: np.ndarray) -> np.ndarray:
        """The basis at ``points`` ((N, 2) or (2, N) coordinates x, y): (c_out, c_in, dim, N), e2cnn's layout."""
        r, phi, origin = polar_coordinates(points)
        angular = self._table.sample(phi, origin)                                      # (c_out, c_in, A, N)
        radial = gaussian_rings(r, self.rings, self.sigmas)                            # (R, N)
        out = angular[:, :, None, :, :] * radial[None, None, :, None, :]
        return out.reshape(self.out_repr.size, self.in_repr.size, self.dim, r.shape[0])
