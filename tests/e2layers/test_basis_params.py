"""The basis parameters as one object: built and validated once, immutable and hashable, the source of the
cache key, and passed unchanged from R2Conv through BasisExpansion and the cache to the sampler."""
from __future__ import annotations

import dataclasses
import math
from typing import ClassVar, Tuple

import numpy as np
import pytest

import basisgen
import basisgen.radial
from basisgen import cache
from basisgen.errors import InvalidTypeError, InvalidValueError
from basisgen.radial import BasisParams, KernelParams, as_params, basis_params
from basisgen.sampling import sample_basis


@pytest.fixture
def private(tmp_path):
    c = cache.BasisCache([tmp_path / "cache"])
    cache.set_default_cache(c)
    yield c
    cache.set_default_cache(None)


def test_params_are_immutable_hashable_and_equal_when_the_basis_is():
    p = basis_params(5, sigma=[0.005, 0.6, 0.4], rings=[0, 1, 2])
    assert p == basis_params(5) and hash(p) == hash(basis_params(5)) and len({p, basis_params(5)}) == 1
    assert p != basis_params(5, sigma=0.5) and p != basis_params(5, axis=0.3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.kernel_size = 7
    cutoff = basis_params(5, frequencies_cutoff=lambda r: 2.0 * r)      # a callable is resolved to its values
    assert cutoff == basis_params(5, frequencies_cutoff=2.0) and cutoff.cutoffs == (0.0, 2.0, 4.0)


def test_the_axis_is_resolved_for_the_group():
    p = basis_params(3)
    assert p.for_group(basisgen.cyclic_group(4)).axis == 0.0
    assert p.for_group(basisgen.dihedral_group(4)).axis == math.pi / 2
    assert basis_params(3, axis=0.3).for_group(basisgen.dihedral_group(4)).axis == 0.3
    assert basis_params(3, axis=0.3).for_group(basisgen.cyclic_group(4)).axis == 0.0
    resolved = p.for_group(basisgen.dihedral_group(4))
    assert resolved.for_group(basisgen.dihedral_group(4)) is resolved


def test_validation_names_the_argument():
    with pytest.raises(InvalidValueError, match="axis must be a finite float angle"):
        basis_params(3, axis=float("nan"))
    with pytest.raises(InvalidValueError, match="axis must be a finite float angle"):
        basis_params(3, axis="0.3")
    with pytest.raises(InvalidTypeError, match="basis_filter must be a callable"):
        basis_params(3, basis_filter=3)
    with pytest.raises(InvalidValueError, match="not both"):
        as_params(basis_params(3), sigma=0.5)
    assert as_params(basis_params(3), dilation=1, rings=None) == basis_params(3)


def test_the_keyword_and_object_forms_give_the_same_basis_and_key(private):
    rho = basisgen.dihedral_group(4).regular_representation
    p = basis_params(5, sigma=0.5)
    by_keywords = sample_basis(rho, rho, 5, sigma=0.5)
    by_object = sample_basis(rho, rho, p)
    np.testing.assert_array_equal(by_keywords.blocks, by_object.blocks)
    assert by_object.params == p.for_group(rho.group) and by_object.axis == math.pi / 2
    assert private.key(rho, rho, p) == private.key(rho, rho, 5, sigma=0.5) == cache.basis_key(rho, rho, p)
    first = private.get(rho, rho, p)
    again = cache.get_basis(rho, rho, 5, sigma=0.5)
    assert private.stats["computed"] == 1 and private.stats["memo_hits"] == 1
    np.testing.assert_array_equal(first.array, again.array)
    assert first.params == by_object.params


def test_r2conv_builds_the_parameters_once_on_a_miss(private, monkeypatch):
    """R2Conv -> BasisExpansion -> BasisCache.get/key -> sample_basis: the frequency cutoff is evaluated on the
    rings once (in basis_params), not again by the cache or the sampler."""
    from e2layers import gspaces, nn
    calls = []
    original = basisgen.radial._cutoff_at
    monkeypatch.setattr(basisgen.radial, "_cutoff_at", lambda f, r: calls.append(r) or original(f, r))
    r2 = gspaces.FlipRot2dOnR2(4)
    t = nn.FieldType(r2, [r2.regular_repr, r2.trivial_repr])
    conv = nn.R2Conv(t, t, 5, sigma=0.45)
    assert private.stats["computed"] == 4 and calls == [0.0, 1.0, 2.0]     # 4 pairs, three rings, once
    assert conv.basisexpansion.params.sigmas == (0.45,) * 3


def test_a_filtered_basis_keeps_its_filter_and_is_not_cached(private):
    rho = basisgen.cyclic_group(4).regular_representation

    def outer(attributes):
        return attributes["radius"] > 0

    p = basis_params(3, basis_filter=outer)
    basis = private.get(rho, rho, p)
    assert basis.params.basis_filter is outer and private.entries() == []
    assert len(basis) < len(private.get(rho, rho, 3))


def test_a_new_kind_of_basis_extends_the_object_and_its_key():
    """How a later family of bases (e.g. differential operators) plugs in: a subclass with its own ``kind``
    and fields; its key differs from every ring basis's even where the shared fields agree."""

    @dataclasses.dataclass(frozen=True)
    class Operators(KernelParams):
        kind: ClassVar[str] = "test_operators"
        orders: Tuple[int, ...]

        def key_description(self):
            return {**super().key_description(), "orders": list(self.orders)}

    rho = basisgen.cyclic_group(4).regular_representation
    rings = basis_params(3)
    other = Operators(3, 1, rings.maximum_frequency, None, (0, 1, 2))
    assert isinstance(rings, KernelParams) and BasisParams.kind == "gaussian_rings" and hash(other)
    assert as_params(other) is other
    key = cache.basis_key(rho, rho, other)
    assert key.description["kind"] == "test_operators" and key.digest != cache.basis_key(rho, rho, rings).digest
    with pytest.raises(InvalidValueError, match="BasisParams"):
        sample_basis(rho, rho, other)
