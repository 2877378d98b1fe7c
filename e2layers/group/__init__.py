"""e2cnn's ``group`` API as facades over basisgen's groups and representations.

Every name of e2cnn's ``e2cnn.group.__all__`` is here with e2cnn's signature, plus ``flip_group`` (the
reflection group of ``Flip2dOnR2``).  Modules: ``_base`` (``Group``), ``_groups`` (the four group classes and
their factories), ``_representation`` (representations and the functions combining them), ``_utils``
(``psi``, ``chi``, ``psichi``).

Examples
--------
>>> from e2layers.group import cyclic_group, CyclicGroup
>>> G = cyclic_group(8)
>>> isinstance(G, CyclicGroup), G is cyclic_group(8), G.representations["regular"].size
(True, True, 8)
"""
from ._base import Group
from ._groups import (O2, SO2, CyclicGroup, DihedralGroup, cyclic_group, dihedral_group, flip_group, o2_group,
                      so2_group, trivial_group)
from ._representation import IrreducibleRepresentation, Representation, change_basis, directsum, disentangle
from ._utils import chi, psi, psichi

__all__ = ["Group", "CyclicGroup", "DihedralGroup", "SO2", "O2", "trivial_group", "cyclic_group", "dihedral_group",
           "so2_group", "o2_group", "flip_group", "Representation", "IrreducibleRepresentation", "directsum",
           "disentangle", "change_basis", "psi", "chi", "psichi"]
