"""The full polar kernel basis at arbitrary points (e2cnn's ``PolarBasis.sample``), before any filtering.

:func:`sample_basis` serves layers: grid points, band limit per ring, normalisation, dropping.  This
module serves code that wants e2cnn's analytical basis itself: every (ring, angular element) pair,
ring-major, mapped through the changes of basis, sampled at the given points, unnormalised.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterator, Optional, Sequence, Union

import numpy as np

from .radial import gaussian_rings
from .representation import Representation
from .sampling import angular_order, pair_samples, resolve_axis


@dataclass
class PolarBasis:
    """The basis ``b_i(|x|) A_j(phi)`` of kernels ``in_repr -> out_repr`` (ring-major, MATH.md §3.2).

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
            raise ValueError(f"in_repr and out_repr must share one group, got {self.in_repr.group.name} and "
                             f"{self.out_repr.group.name}")
        self.rings = [float(r) for r in self.rings]
        sigmas = [float(self.sigma)] * len(self.rings) if np.isscalar(self.sigma) else [float(s) for s in self.sigma]
        if len(sigmas) != len(self.rings) or any(not s > 0 for s in sigmas):
            raise ValueError(f"sigma must be one positive float or one per ring ({len(self.rings)}), got {self.sigma!r}")
        self.sigmas = sigmas
        group = self.in_repr.group
        if not group.continuous and self.maximum_frequency is None and self.maximum_offset is None:
            raise ValueError(f"{group.name} is finite: give maximum_frequency or maximum_offset")
        self._beta = resolve_axis(group, self.axis)
        self._F = None if group.continuous else self.maximum_frequency
        probe = pair_samples(self.in_repr, self.out_repr, self._F, self.maximum_offset, self._beta,
                             np.zeros(1), np.zeros(1, dtype=bool))
        self._angular = angular_order(self.in_repr, self.out_repr, probe)

    @property
    def dim(self) -> int:
        return len(self.rings) * len(self._angular)

    @property
    def shape(self):
        return (self.out_repr.size, self.in_repr.size)

    def __len__(self) -> int:
        return self.dim

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        for i, (radius, sigma) in enumerate(zip(self.rings, self.sigmas)):
            for j, (ii, oo, e, inner) in enumerate(self._angular):
                attrs = e.attributes()
                attrs.update(radius=radius, sigma=sigma, ring=i, in_irrep_idx=ii, out_irrep_idx=oo,
                             inner_idx=inner, idx=i * len(self._angular) + j)
                yield attrs

    def sample(self, points: np.ndarray) -> np.ndarray:
        """The basis at ``points`` ((N, 2) or (2, N) coordinates x, y): (c_out, c_in, dim, N), e2cnn's layout."""
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or 2 not in points.shape:
            raise ValueError(f"points must have shape (N, 2) or (2, N), got {points.shape}")
        xy = points if points.shape[0] == 2 and points.shape[1] != 2 else points.T
        r = np.hypot(xy[0], xy[1])
        origin = r < 1e-9
        phi = np.where(origin, 0.0, np.arctan2(xy[1], xy[0]))
        pairs = pair_samples(self.in_repr, self.out_repr, self._F, self.maximum_offset, self._beta, phi, origin)
        radial = gaussian_rings(r, self.rings, self.sigmas)
        in_pos = np.cumsum([0] + [p.dim for p in self.in_repr.irreps])
        out_pos = np.cumsum([0] + [p.dim for p in self.out_repr.irreps])
        Q_out, Q_in_inv = self.out_repr.change_of_basis, self.in_repr.change_of_basis_inv
        out = np.zeros((self.out_repr.size, self.in_repr.size, self.dim, r.shape[0]))
        per_ring = len(self._angular)
        for j, (ii, oo, _, inner) in enumerate(self._angular):
            A = pairs[(self.in_repr.irreps[ii], self.out_repr.irreps[oo])][1][inner]      # (d_o, d_i, N)
            full = np.einsum("ca,abn,bd->cdn", Q_out[:, out_pos[oo]:out_pos[oo + 1]], A,
                             Q_in_inv[in_pos[ii]:in_pos[ii + 1], :])
            out[:, :, j::per_ring, :] = full[:, :, None, :] * radial[None, None, :, :]
        return out
