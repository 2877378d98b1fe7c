"""e2cnn's PDO basis classes: the discretisation arguments, the abstract ``DiffopBasis`` (matrices of
homogeneous PDOs sampled at points) and the Laplacian powers ``LaplaceProfile``."""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from basisgen.derivation import check_bound
from basisgen.errors import InvalidTypeError, InvalidValueError
from basisgen.groups import Group
from basisgen.pdo import laplacian_power
from basisgen.pdo_sampling import fd_turns_back, quarter_turn_back
from basisgen.stencils import Discretization

from ..kernels import Basis, EmptyBasisException
from ._polynomials import NOISE, format_matrix, rotate
from ._sampling import sample_polynomials

__all__ = ["DiscretizationArgs", "DiffopBasis", "LaplaceProfile"]


@dataclass(frozen=True)
class DiscretizationArgs:
    """How PDOs become stencils (e2cnn's class): ``method`` ``"fd"`` (finite differences), ``"gauss"``
    (derivatives of a Gaussian of width ``smoothing``, required there) or ``"rbffd"`` (RBF-FD with the
    radial basis function ``phi``); ``angle_offset`` turns every operator by that many radians.

    Validated on creation; :meth:`as_discretization` gives basisgen's
    :class:`~basisgen.stencils.Discretization` (everything but ``angle_offset``).

    Examples
    --------
    >>> args = DiscretizationArgs("gauss", smoothing=1.0)
    >>> args.as_discretization().method, args.angle_offset
    ('gauss', None)
    >>> DiscretizationArgs("gauss")
    Traceback (most recent call last):
    ...
    basisgen.errors.InvalidValueError: smoothing must be a positive finite number when method = "gauss", got None
    """

    method: str = "fd"
    smoothing: Optional[float] = None
    angle_offset: Optional[float] = None
    phi: str = "ga"

    def __post_init__(self) -> None:
        self.as_discretization()                 # validates method, smoothing and phi
        offset = self.angle_offset
        if offset is not None:
            if isinstance(offset, (bool, np.bool_)) or not isinstance(offset, (numbers.Real, np.floating,
                                                                                 np.integer)):
                raise InvalidTypeError(f"angle_offset must be a real number (radians) or None, got "
                                       f"{type(offset).__name__} {offset!r}")
            if not math.isfinite(offset):
                raise InvalidValueError(f"angle_offset must be finite, got {float(offset)!r}")

    def as_discretization(self) -> Discretization:
        """basisgen's discretisation for ``method``, ``smoothing`` and ``phi``."""
        return Discretization(self.method, self.smoothing, self.phi)


def _coefficient_arrays(coefficients: Any) -> List[np.ndarray]:
    if isinstance(coefficients, (str, bytes, np.ndarray)) or not isinstance(coefficients, Sequence):
        raise InvalidTypeError(f"coefficients must be a list of arrays (c_out, c_in, n + 1), got "
                               f"{type(coefficients).__name__}")
    if not coefficients:
        raise EmptyBasisException()
    out = []
    for i, element in enumerate(coefficients):
        array = np.array(element, dtype=np.float64)           # a copy: the caller's arrays stay as they are
        if array.ndim != 3 or array.shape[-1] < 1 or not np.isfinite(array).all():
            raise InvalidValueError(f"coefficients[{i}] must be a finite array (c_out, c_in, n + 1), got shape "
                                    f"{array.shape}")
        if out and array.shape[:2] != out[0].shape[:2]:
            raise InvalidValueError(f"every element must have the shape (c_out, c_in) = {out[0].shape[:2]}, "
                                    f"coefficients[{i}] has {array.shape[:2]}")
        array[np.abs(array) < NOISE] = 0.0                    # rounding noise, as in e2cnn: keeps the orders right
        out.append(array)
    return out


class DiffopBasis(Basis):
    """A basis of ``c_out x c_in`` matrices of partial differential operators (e2cnn's abstract class).

    Element ``i`` is ``coefficients[i]``, an array (c_out, c_in, n + 1) of homogeneous PDOs of order ``n``,
    each given by its coefficients of d^n/dx^n, d^n/dx^(n-1)dy, ..., d^n/dy^n (entries below 1e-8 in
    absolute value become 0, as in e2cnn).  ``sample(points)`` discretises them as ``disc`` says:
    (c_out, c_in, dim, N).  ``"fd"`` and ``"rbffd"`` need ``points`` to be a sampling grid
    (e2cnn's ``get_grid_coords``); ``"gauss"`` takes any points.  Subclasses give the attribute dicts.

    Examples
    --------
    >>> basis = LaplaceProfile(1)
    >>> basis.dim, basis.shape, basis.maximum_order, [c.tolist() for c in basis.coefficients]
    (2, (1, 1), 2, [[[[1.0]]], [[[1.0, 0.0, 1.0]]]])
    """

    def __init__(self, coefficients: List[np.ndarray], discretization: DiscretizationArgs = DiscretizationArgs()):
        arrays = _coefficient_arrays(coefficients)
        if not isinstance(discretization, DiscretizationArgs):
            raise InvalidTypeError(f"discretization must be a DiscretizationArgs, got {type(discretization).__name__}")
        shape = arrays[0].shape[:2]
        super().__init__(len(arrays), (int(shape[0]), int(shape[1])))
        self.disc = discretization
        self.coefficients = arrays
        self.maximum_order = max(a.shape[-1] - 1 for a in arrays)

    def _reflection_group(self) -> Optional[Group]:
        """The basisgen group whose reflections the operators respect (None: unknown), for the ``"fd"`` fix."""
        return None

    def sample(self, points: np.ndarray) -> np.ndarray:
        """The basis discretised at ``points`` (2, N): (c_out, c_in, dim, N)."""
        return self.sample_masked(points)

    def sample_masked(self, points: np.ndarray, mask: np.ndarray = None) -> np.ndarray:
        """:meth:`sample` keeping only the elements where the boolean ``mask`` (dim,) is set.

        The operators are turned by ``disc.angle_offset`` first.  For groups with reflections and
        ``"fd"``, each operator is then turned back a quarter turn, so that the stencil is the ordinary
        one of the operator (:func:`basisgen.pdo_sampling.fd_turns_back`; e2cnn's is not equivariant
        under the group's flips there).
        """
        if mask is None:
            mask = np.ones(self.dim, dtype=bool)
        mask = np.asarray(mask)
        if mask.shape != (self.dim,) or mask.dtype != bool:
            raise InvalidValueError(f"mask must be a bool array of shape ({self.dim},), got {mask.dtype} {mask.shape}")
        if not isinstance(self.disc, DiscretizationArgs):
            raise InvalidTypeError(f"disc must be a DiscretizationArgs, got {type(self.disc).__name__}")
        disc = self.disc.as_discretization()
        selected = [c for c, keep in zip(self.coefficients, mask) if keep]
        if self.disc.angle_offset is not None:
            selected = [rotate(c, float(self.disc.angle_offset)) for c in selected]
        group = self._reflection_group()
        if group is not None and fd_turns_back(group, disc):
            selected = [quarter_turn_back(c) for c in selected]
        if not selected:
            return np.zeros(self.shape + (0, np.shape(points)[-1]))
        return sample_polynomials(selected, points, disc)

    def pretty_print(self) -> str:
        """Every element as text: one matrix of polynomials in x (d/dx) and y (d/dy) per block."""
        return "".join(format_matrix(c) + "\n" + "-" * 34 + "\n" for c in self.coefficients)


class LaplaceProfile(DiffopBasis):
    """The powers ``0 .. max_power`` of the Laplacian, the rotation- and reflection-invariant PDOs (e2cnn's
    class): element ``r`` is ``(d^2/dx^2 + d^2/dy^2)^r`` with the attributes ``{"power": r, "order": 2r,
    "idx": r}``.  :class:`TensorBasis` combines it with an angular basis.

    Examples
    --------
    >>> from basisgen.radial import grid_coordinates
    >>> basis = LaplaceProfile(2)
    >>> basis[2], basis.coefficients[2].ravel().tolist()
    ({'power': 2, 'order': 4, 'idx': 2}, [1.0, 0.0, 2.0, 0.0, 1.0])
    >>> LaplaceProfile(1).sample(np.stack(grid_coordinates(3)))[0, 0, 1].reshape(3, 3)
    array([[ 0.,  1.,  0.],
           [ 1., -4.,  1.],
           [ 0.,  1.,  0.]])
    """

    def __init__(self, max_power: int, discretization: DiscretizationArgs = DiscretizationArgs()):
        power = check_bound(max_power, "max_power")
        if power is None:
            raise InvalidValueError("max_power must be a non-negative int, got None")
        super().__init__([np.array(laplacian_power(r), dtype=float).reshape(1, 1, -1) for r in range(power + 1)],
                         discretization)
        self.max_power = power

    def __getitem__(self, r: int) -> Dict[str, Any]:
        r = self._check_index(r)
        return {"power": r, "order": 2 * r, "idx": r}

    def __eq__(self, other) -> bool:
        return isinstance(other, LaplaceProfile) and self.max_power == other.max_power

    def __hash__(self):
        return hash(self.max_power)
