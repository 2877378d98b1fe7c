"""e2cnn's basis classes: the abstract ``Basis``/``KernelBasis``, the Gaussian radial profile and the polar
(radial x angular) product basis."""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, Dict, Iterator, List, Tuple, Union

import numpy as np
import torch

from basisgen.errors import EmptyBasisError, InvalidTypeError, InvalidValueError
from basisgen.polar import ORIGIN_RADIUS
from basisgen.radial import gaussian_rings

from . import _torch

__all__ = ["EmptyBasisException", "Basis", "KernelBasis", "GaussianRadialProfile", "PolarBasis"]


class EmptyBasisException(EmptyBasisError):
    """Raised where a basis would have no element (as e2cnn's); also a ``basisgen.EmptyBasisError``.

    Examples
    --------
    >>> try:
    ...     GaussianRadialProfile([], 0.5)
    ... except EmptyBasisException as e:
    ...     print(isinstance(e, ValueError))
    True
    """

    def __init__(self):
        super().__init__("The basis is empty (dim = 0): no element satisfies the constraints; catch "
                         "EmptyBasisException where a pair of representations may admit no kernel.")


class Basis(ABC):
    """A basis of maps between feature spaces: ``dim`` elements, each a ``shape = (c_out, c_in)`` map.

    Iterating yields each element's attribute dict (``basis[i]``).
    """

    def __init__(self, dim: int, shape: Tuple[int, int]):
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 0:
            raise InvalidValueError(f"dim must be a non-negative int, got {dim!r}")
        if not isinstance(shape, tuple) or len(shape) != 2:
            raise InvalidValueError(f"shape must be a tuple (c_out, c_in), got {shape!r}")
        if dim == 0:
            raise EmptyBasisException()
        self.dim = int(dim)
        self.shape = shape

    def __len__(self) -> int:
        return self.dim

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        for i in range(self.dim):
            yield self[i]

    def _check_index(self, idx: int) -> int:
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)) or not 0 <= idx < self.dim:
            raise InvalidValueError(f"idx must be an int in [0, {self.dim}), got {idx!r}")
        return int(idx)

    @abstractmethod
    def __getitem__(self, idx: int) -> dict:
        ...

    @abstractmethod
    def __hash__(self):
        ...


class KernelBasis(Basis):
    """A basis of kernels ``X -> R^(c_out x c_in)``: ``sample`` gives (c_out, c_in, dim, N) at N points of X,
    ``sample_torch`` the same as a differentiable torch tensor on the points' device."""

    @abstractmethod
    def sample(self, points: np.ndarray, out: np.ndarray = None) -> np.ndarray:
        ...

    def sample_torch(self, points: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no torch sampling")

    def sample_masked(self, points: np.ndarray, mask: np.ndarray, out: np.ndarray = None) -> np.ndarray:
        """:meth:`sample` keeping only the elements where the boolean ``mask`` (dim,) is set."""
        mask = np.asarray(mask)
        if mask.shape != (self.dim,) or mask.dtype != bool:
            raise InvalidValueError(f"mask must be a bool array of shape ({self.dim},), got {mask.dtype} "
                                    f"{mask.shape}")
        basis = self.sample(points)[..., mask, :]
        if out is None:
            return basis
        out[...] = basis
        return out


def _write(result: np.ndarray, out: np.ndarray = None) -> np.ndarray:
    if out is None:
        return result
    if out.shape != result.shape:
        raise InvalidValueError(f"out must have shape {result.shape}, got {out.shape}")
    out[...] = result
    return out


def _rows(array: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(array, dtype=float)
    if array.ndim != 2 or array.shape[0] != 1:
        raise InvalidValueError(f"{name} must be an array of shape (1, N), got {array.shape}")
    return array


class GaussianRadialProfile(KernelBasis):
    """Gaussian rings ``b_i(r) = exp(-(r - r_i)^2 / (2 sigma_i^2))`` on radii ``r >= 0`` (e2cnn's class).

    Examples
    --------
    >>> import numpy as np
    >>> radial = GaussianRadialProfile([0.0, 1.0], 0.6)
    >>> radial[1], radial.sample(np.array([[0.0, 1.0, 2.0]])).shape
    ({'radius': 1.0, 'sigma': 0.6, 'idx': 1}, (1, 1, 2, 3))
    """

    def __init__(self, radii: List[float], sigma: Union[List[float], float]):
        if isinstance(radii, (str, bytes)) or not hasattr(radii, "__len__"):
            raise InvalidTypeError(f"radii must be a list of non-negative floats, got {radii!r}")
        if isinstance(sigma, (str, bytes)):
            raise InvalidTypeError(f"sigma must be a positive float or a list of them, got {sigma!r}")
        if any(isinstance(v, (str, bytes, bool)) for v in list(radii) + (list(sigma) if hasattr(sigma, "__len__")
                                                                         else [sigma])):
            raise InvalidTypeError(f"radii and sigma must hold numbers, got radii={radii!r}, sigma={sigma!r}")
        radii = [float(r) for r in radii]
        if isinstance(sigma, (int, float, np.integer, np.floating)):
            sigma = [float(sigma)] * len(radii)
        sigma = [float(s) for s in sigma]
        if len(sigma) != len(radii):
            raise InvalidValueError(f"sigma must be a float or one per radius ({len(radii)}), got {len(sigma)}")
        if any(not 0 <= r < math.inf for r in radii) or any(not 0 < s < math.inf for s in sigma):
            raise InvalidValueError(f"radii must be finite and >= 0 and sigma finite and > 0, got radii={radii}, "
                                    f"sigma={sigma}")
        super().__init__(len(radii), (1, 1))
        self.radii = np.array(radii).reshape(1, 1, -1, 1)
        self.sigma = np.array(sigma).reshape(1, 1, -1, 1)
        self._tensors = _torch.TensorCache(radii=self.radii.ravel(), sigma=self.sigma.ravel())

    def sample(self, radii: np.ndarray, out: np.ndarray = None) -> np.ndarray:
        """The rings at ``radii`` (1, N): (1, 1, dim, N)."""
        radii = _rows(radii, "radii")
        return _write(gaussian_rings(radii[0], self.radii.ravel(), self.sigma.ravel())[None, None], out)

    def sample_torch(self, radii: torch.Tensor) -> torch.Tensor:
        """:meth:`sample` in torch, differentiable in ``radii`` (1, N)."""
        _torch.check_points(radii, 1, "radii")
        t = self._tensors.get(radii)
        return _torch.gaussian_rings(radii[0], t["radii"], t["sigma"])[None, None]

    def __getitem__(self, r: int) -> Dict[str, Any]:
        r = self._check_index(r)
        return {"radius": float(self.radii[0, 0, r, 0]), "sigma": float(self.sigma[0, 0, r, 0]), "idx": r}

    def __eq__(self, other) -> bool:
        return isinstance(other, GaussianRadialProfile) and self.radii.shape == other.radii.shape \
            and np.allclose(self.radii, other.radii) and np.allclose(self.sigma, other.sigma)

    def __hash__(self):
        return hash((self.radii.tobytes(), self.sigma.tobytes()))


class PolarBasis(KernelBasis):
    """The products ``c_(i,j)(x, y) = a_i(r) b_j(phi)`` of a radial and an angular basis (ring-major).

    Element ``idx`` is ``(idx1, idx2) = divmod(idx, angular.dim)``; its attribute dict joins the radial and
    the angular element's and adds ``idx``, ``idx1`` and ``idx2``.  Points are (2, N) cartesian
    coordinates; at the origin (``|x| < 1e-9``) the angle is undefined and the angular basis gets NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from e2layers import gspaces
    >>> from e2layers.kernels import kernels_CN_act_R2
    >>> gs = gspaces.Rot2dOnR2(4)
    >>> basis = kernels_CN_act_R2(gs.regular_repr, gs.trivial_repr, [0.0, 1.0], 0.6, max_frequency=2)
    >>> isinstance(basis, PolarBasis), basis.dim, basis.shape, basis.sample(np.ones((2, 3))).shape
    (True, 10, (1, 4), (1, 4, 10, 3))
    """

    def __init__(self, radial: KernelBasis, angular: KernelBasis):
        for name, b in (("radial", radial), ("angular", angular)):
            if not isinstance(b, KernelBasis):
                raise InvalidTypeError(f"{name} must be a KernelBasis, got {type(b).__name__}")
        super().__init__(radial.dim * angular.dim,
                         (radial.shape[0] * angular.shape[0], radial.shape[1] * angular.shape[1]))
        self.radial = radial
        self.angular = angular

    @staticmethod
    def _product(radial: Any, angular: Any, backend) -> Any:
        """The (c_out, c_in, dim, N) product of radial (m, n, a, N) and angular (q, r, b, N) samples."""
        m, n, a, p = radial.shape
        q, r, b, _ = angular.shape
        out = backend.einsum("mnap,qrbp->mqnrabp", radial, angular)
        return out.reshape(m * q, n * r, a * b, p)

    def sample(self, points: np.ndarray, out: np.ndarray = None) -> np.ndarray:
        """The basis at ``points`` (2, N): (c_out, c_in, dim, N)."""
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[0] != 2:
            raise InvalidValueError(f"points must have shape (2, N), got {points.shape}")
        radii = np.sqrt((points ** 2).sum(0)).reshape(1, -1)
        angles = np.arctan2(points[1], points[0]).reshape(1, -1)
        angles[radii < ORIGIN_RADIUS] = np.nan
        return _write(self._product(self.radial.sample(radii), self.angular.sample(angles), np), out)

    def sample_torch(self, points: torch.Tensor) -> torch.Tensor:
        """:meth:`sample` for a torch tensor ``points`` (2, N), on its device and dtype and differentiable in it.

        Agrees with :meth:`sample`; at the origin the values are :meth:`sample`'s and the gradient is zero
        (the radius and the angle have none there).  Lower precisions are computed in float64 (where the device
        has it) and rounded once: ``mu * phi`` would otherwise lose digits at high frequencies.

        Examples
        --------
        >>> import torch
        >>> from e2layers import gspaces
        >>> from e2layers.kernels import kernels_SO2_act_R2
        >>> gs = gspaces.Rot2dOnR2(-1, maximum_frequency=3)
        >>> basis = kernels_SO2_act_R2(gs.irrep(1), gs.irrep(2), [1.0, 2.0], 0.6)
        >>> points = torch.randn(2, 5, dtype=torch.float64, requires_grad=True)
        >>> values = basis.sample_torch(points)
        >>> values.shape, torch.allclose(values, torch.as_tensor(basis.sample(points.detach().numpy())))
        (torch.Size([2, 2, 8, 5]), True)
        """
        _torch.check_points(points, 2, "points")
        work = _torch.working_dtype(points)
        r, phi, origin = _torch.polar_coordinates(points.to(work))
        radial = self.radial.sample_torch(r[None, :])
        angular = self.angular.sample_torch(phi[None, :], origin=origin)
        return self._product(radial, angular, torch).to(points.dtype)

    def __getitem__(self, idx: int) -> Dict[str, Any]:
        idx = self._check_index(idx)
        idx1, idx2 = divmod(idx, self.angular.dim)
        return self._join(self.radial[idx1], self.angular[idx2], idx, idx1, idx2)

    @staticmethod
    def _join(radial: Dict[str, Any], angular: Dict[str, Any], idx: int, idx1: int, idx2: int) -> Dict[str, Any]:
        attr = dict(radial)
        attr.update(angular)
        attr.update(idx=idx, idx1=idx1, idx2=idx2)
        return attr

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        angular = list(self.angular)
        idx = 0
        for idx1, a in enumerate(self.radial):
            for idx2, b in enumerate(angular):
                yield self._join(a, b, idx, idx1, idx2)
                idx += 1

    def __eq__(self, other) -> bool:
        return isinstance(other, PolarBasis) and self.radial == other.radial and self.angular == other.angular

    def __hash__(self):
        return hash(self.radial) + hash(self.angular)
