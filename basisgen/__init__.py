"""basisgen: derive, verify, sample and typeset steerable kernel bases of the planar groups.

The layers, bottom up: groups and irreps (``groups``, ``irreps``), representations (``representation``,
``induced``, ``restriction``), the derivation engine (``derivation``, ``harmonics``), exact
verification (``laurent``, ``verify``), sampling on the pixel grid (``radial``, ``sampling``),
steerable PDOs (``pdo``, ``stencils``, ``pdo_sampling``; ``families`` serves kernels and PDOs alike) and
typesetting (``latex``, ``pdo_latex``).  No torch anywhere in this package.

Examples
--------
>>> import basisgen
>>> G = basisgen.dihedral_group(4)
>>> A = basisgen.derive_angular_basis(G, G.irrep(0, 0), G.irrep(1, 1), maximum_frequency=3)
>>> [(a.mu, a.gamma) for a in A], all(basisgen.verify(a) for a in A)
([(-3, 0), (1, 0)], True)
"""
from . import limits
from .derivation import clear_memo, derive_angular_basis, memo_info
from .errors import EmptyBasisError, InvalidTypeError, InvalidValueError
from .groups import (O2, SO2, CyclicGroup, DihedralGroup, FlipGroup, Group, cyclic_group, dihedral_group,
                     flip_group, group_from_name, o2_group, so2_group, trivial_group)
from .harmonics import HarmonicElement
from .induced import coset_representatives, induced_representation, quotient_representation, regular_representation
from .irreps import Irrep
from .limits import LimitExceededError
from .latex import element_latex, group_table_latex, pair_latex
from .layer_latex import kernel_latex
from .pdo import PDOElement, derive_pdo_basis, verify_pdo
from .pdo_sampling import DiffopParams, diffop_params, sample_diffop_basis
from .polar import PolarBasis
from .radial import BasisParams, basis_params
from .representation import Representation, change_basis, directsum
from .restriction import restrict_irrep, restrict_representation, subgroup
from .sampling import SampledBasis, sample_basis, sample_irreps_basis
from .verify import Verification, verify

__version__ = "0.1.0"

__all__ = [
    "EmptyBasisError", "InvalidValueError", "InvalidTypeError", "LimitExceededError", "limits", "Group", "CyclicGroup", "DihedralGroup", "SO2", "O2", "FlipGroup", "cyclic_group",
    "dihedral_group", "so2_group", "o2_group", "flip_group", "trivial_group", "group_from_name", "Irrep",
    "Representation", "directsum", "change_basis", "regular_representation", "quotient_representation",
    "coset_representatives", "induced_representation", "subgroup", "restrict_irrep", "restrict_representation", "HarmonicElement",
    "derive_angular_basis", "memo_info", "clear_memo", "verify", "Verification", "BasisParams", "basis_params",
    "SampledBasis", "sample_basis", "PolarBasis", "sample_irreps_basis", "element_latex", "kernel_latex", "pair_latex",
    "group_table_latex", "PDOElement", "derive_pdo_basis", "verify_pdo", "DiffopParams", "diffop_params",
    "sample_diffop_basis",
]
