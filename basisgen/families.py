"""The families of sampled bases, one entry point for all: steerable kernels on Gaussian rings (R2Conv) and
steerable PDOs (R2Diffop).  A family is its parameter class (a :class:`~basisgen.radial.KernelParams`
subclass, named by its ``kind``) and its sampler; the cache stores and checks every family alike.
"""
from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from .errors import InvalidValueError
from .pdo_sampling import DiffopParams, e2cnn_diffop_attributes, sample_diffop_basis
from .radial import BasisParams, KernelParams
from .representation import Representation
from .sampling import SampledBasis, angular_count, sample_basis

#: the parameter class of every family, by its ``kind``
FAMILIES = {BasisParams.kind: BasisParams, DiffopParams.kind: DiffopParams}


def sample(in_repr: Representation, out_repr: Representation, params: KernelParams, dtype=np.float64) -> SampledBasis:
    """The sampled basis ``in_repr -> out_repr`` of the family ``params`` belongs to.

    Examples
    --------
    >>> from basisgen import cyclic_group, basis_params
    >>> from basisgen.pdo_sampling import diffop_params
    >>> rho = cyclic_group(4).regular_representation
    >>> len(sample(rho, rho, basis_params(3))), len(sample(rho, rho, diffop_params(kernel_size=3)))
    (24, 24)
    """
    if isinstance(params, DiffopParams):
        return sample_diffop_basis(in_repr, out_repr, params, dtype=dtype)
    if isinstance(params, BasisParams):
        return sample_basis(in_repr, out_repr, params, dtype=dtype)
    raise InvalidValueError(f"params must be one of {sorted(c.__name__ for c in FAMILIES.values())}, "
                            f"got {type(params).__name__}")


def params_from_description(description: Dict[str, Any], axis: float) -> KernelParams:
    """The parameters a cache key's description stands for (with the reflection ``axis``); ``ValueError``
    for a kind or a field our code never writes."""
    family = FAMILIES.get(description.get("kind"))
    if family is None:
        raise InvalidValueError(f"basis kind {description.get('kind')!r} is not one of {sorted(FAMILIES)}")
    try:
        return family.from_description(description, axis)
    except (KeyError, TypeError) as err:
        raise InvalidValueError(f"the description is malformed ({err})") from None


def e2cnn_attributes(basis: SampledBasis, in_repr: Representation, out_repr: Representation) -> List[Dict[str, Any]]:
    """Per element of ``basis`` (sampled from ``in_repr`` to ``out_repr``), its attribute dict as e2cnn's
    expansion holds it, plus its ``id`` (e2cnn's name: irreps and positions, radius or order, frequency and
    position in the pair's basis)."""
    finite = not in_repr.group.continuous
    if isinstance(basis.params, DiffopParams):
        attrs, radial = e2cnn_diffop_attributes(basis, finite), "order"
    else:
        attrs, radial = basis.e2cnn_attributes(angular_count(in_repr, out_repr, basis.params), finite), "radius"
    for a in attrs:
        a["id"] = (f"({a['in_irrep']}-{a['in_irrep_idx']},{a['out_irrep']}-{a['out_irrep_idx']})"
                   f"_({a[radial]}/{a['frequency']})_{a['inner_idx']}")
    return attrs
