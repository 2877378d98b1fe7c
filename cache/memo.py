"""The in-process memo's bases: held read-only, handed out so that no caller can change another's.

The memo keeps one *master* :class:`~basisgen.SampledBasis` per key, every array of it read-only.
Each :meth:`BasisCache.get` returns a new :class:`SharedBasis`: the large ``blocks`` (float64, as
stored) and the expanded float64 ``array`` (computed once per key) are the master's read-only arrays;
the small tables and changes of basis are the caller's own copies.  A caller that asks for another
dtype gets its own ``array`` in that dtype, expanded from the same float64 blocks.  So ``basis.blocks *= 0`` raises ``ValueError``, and
nothing a caller does to its basis reaches the next caller.
"""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from basisgen.sampling import SampledBasis

_SMALL = ("element_index", "element_values", "change_of_basis_out", "change_of_basis_in_inv")
_lock = threading.Lock()


def _read_only(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.flags.writeable:
        a = a.copy() if not a.flags.owndata else a
        a.flags.writeable = False
    return a


@dataclass
class SharedBasis(SampledBasis):
    """A basis handed out by the cache: read-only ``blocks`` and ``array`` shared with the memo.

    Examples
    --------
    >>> import tempfile, basisgen
    >>> from basisgen import cache
    >>> rho = basisgen.cyclic_group(4).regular_representation
    >>> basis = cache.BasisCache([tempfile.mkdtemp()]).get(rho, rho, 3)
    >>> basis.blocks.flags.writeable, basis.array.flags.writeable
    (False, False)
    """

    _master: Optional[SampledBasis] = field(default=None, repr=False, compare=False)

    @property
    def array(self) -> np.ndarray:
        """The filters (B, c_out, c_in, k, k) in :attr:`dtype`, read-only; in the master's float64, expanded
        once per key in this process."""
        if self._array is None:
            master = self._master if self._master is not None else self
            if np.dtype(self.dtype) != np.dtype(master.dtype):
                self._array = _read_only(self.expand(self.dtype))
                return self._array
            with _lock:
                if master._array is None:
                    master._array = _read_only(master.expand(master.dtype))
            self._array = master._array
        return self._array


def freeze(basis: SampledBasis) -> SampledBasis:
    """Make every array of ``basis`` read-only (in place); returns it, to be kept as the memo's master."""
    for name in ("blocks",) + _SMALL:
        setattr(basis, name, _read_only(getattr(basis, name)))
    if basis._array is not None:
        basis._array = _read_only(basis._array)
    return basis


def hand_out(master: SampledBasis, dtype: Optional[np.dtype] = None) -> SharedBasis:
    """A caller's own view of ``master``: shared read-only blocks, private copies of the small arrays;
    ``dtype`` (default the master's) is that of its ``array``."""
    values = {f.name: getattr(master, f.name) for f in dataclasses.fields(SampledBasis)}
    values.update({name: np.array(values[name]) for name in _SMALL})
    values["_attributes"] = None
    if dtype is not None and np.dtype(dtype) != np.dtype(master.dtype):
        values.update(dtype=np.dtype(dtype), _array=None)
    return SharedBasis(**values, _master=master)
