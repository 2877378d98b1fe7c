"""basisgen: derive, verify, sample and typeset steerable kernel bases of the planar groups."""
from .errors import EmptyBasisError
from .groups import (O2, SO2, CyclicGroup, DihedralGroup, FlipGroup, Group, cyclic_group, dihedral_group,
                     flip_group, group_from_name, o2_group, so2_group, trivial_group)
from .induced import coset_representatives, quotient_representation, regular_representation
from .irreps import Irrep
from .latex import element_latex, group_table_latex, kernel_latex, pair_latex
from .representation import Representation, change_basis, directsum
from .restriction import restrict_irrep, restrict_representation, subgroup

__version__ = "0.1.0"
