"""Generate e2cnn 0.2.3 reference outputs of the pooling modules and invariant maps.

Run only in an environment with e2cnn 0.2.3 and numpy<2 (see generate.py for the recipe)::

    /work/e2cnn-venv/bin/python tests/data/e2cnn/generate_pooling.py

Writes ``pooling.npz``: for each case of ``CASES``, e2cnn's float32 output on the input
``case_input(key, channels)`` (deterministic: numpy's legacy RNG seeded by the key).  The cases are written
against the e2cnn API (``gspaces`` and ``nn`` are passed in), so tests/test_nn_pooling_invariant.py imports
this file (which imports only numpy at module level) and builds the same modules from e2layers.
"""
from pathlib import Path
from zlib import crc32

import numpy as np

HERE = Path(__file__).parent


def _dihedral(gs):
    return gs.fibergroup.name.startswith("D")


def _pointwise(gs, nn):
    """Permutation fields, with sizes that are not adjacent (so modules must regroup the channels)."""
    if _dihedral(gs):
        return nn.FieldType(gs, [gs.regular_repr, gs.trivial_repr, gs.quotient_repr((0, 2)), gs.regular_repr])
    return nn.FieldType(gs, [gs.trivial_repr, gs.regular_repr, gs.quotient_repr(2), gs.regular_repr])


def _irreps(gs, nn):
    ids = [(1, 1), (0, 0), (1, 2), (1, 1), (1, 0)] if _dihedral(gs) else [(1,), (0,), (2,), (1,), (4,)]
    return nn.FieldType(gs, [gs.irrep(*i) for i in ids])


def _induced(gs, nn):
    """Induced fields with sub-fields of size 2 and 1."""
    G = gs.fibergroup
    if _dihedral(gs):
        sids = [((None, 4), (1,)), ((0, 2), (1, 1)), ((None, 4), (1,)), ((None, 2), (1,))]
    else:
        sids = [(4, (1,)), (2, (1,)), (4, (1,)), (4, (0,))]
    return nn.FieldType(gs, [G.induced_representation(sid, G.subgroup(sid)[0].irrep(*i)) for sid, i in sids])


C8 = lambda gspaces: gspaces.Rot2dOnR2(8)             # noqa: E731
D4 = lambda gspaces: gspaces.FlipRot2dOnR2(4)         # noqa: E731

# key: (gspace, module builder on (gspace, nn), spatial size of the input)
CASES = {
    "C8_max_aa_k2": (C8, lambda gs, nn: nn.PointwiseMaxPoolAntialiased(_pointwise(gs, nn), 2), 8),
    "C8_max_aa_k3_s2_p1": (C8, lambda gs, nn: nn.PointwiseMaxPoolAntialiased(_pointwise(gs, nn), 3, stride=2,
                                                                              padding=1, sigma=0.5), 9),
    "D4_max_aa_k2_s1": (D4, lambda gs, nn: nn.PointwiseMaxPoolAntialiased(_pointwise(gs, nn), 2, stride=1,
                                                                          sigma=0.3), 7),
    "C8_avg_aa_s2": (C8, lambda gs, nn: nn.PointwiseAvgPoolAntialiased(_irreps(gs, nn), 0.6, 2), 9),
    "D4_avg_aa_s1_p0": (D4, lambda gs, nn: nn.PointwiseAvgPoolAntialiased(_pointwise(gs, nn), 0.4, 1,
                                                                          padding=0), 7),
    "C8_normmax_k2": (C8, lambda gs, nn: nn.NormMaxPool(_irreps(gs, nn), 2), 8),
    "D4_normmax_k3_s2_p1": (D4, lambda gs, nn: nn.NormMaxPool(_irreps(gs, nn) + _pointwise(gs, nn), 3, 2, 1), 9),
    "C8_normpool": (C8, lambda gs, nn: nn.NormPool(_irreps(gs, nn)), 5),
    "D4_normpool": (D4, lambda gs, nn: nn.NormPool(_pointwise(gs, nn) + _irreps(gs, nn)), 5),
    "C8_gpool": (C8, lambda gs, nn: nn.GroupPooling(_pointwise(gs, nn)), 5),
    "D4_gpool": (D4, lambda gs, nn: nn.GroupPooling(_pointwise(gs, nn)), 5),
    "C8_induced_normpool": (C8, lambda gs, nn: nn.InducedNormPool(_induced(gs, nn)), 5),
    "D4_induced_normpool": (D4, lambda gs, nn: nn.InducedNormPool(_induced(gs, nn)), 5),
}


def build(key, gspaces, nn):
    """The module of case ``key``, built with the given ``gspaces`` and ``nn`` packages."""
    make_gspace, make_module, _ = CASES[key]
    return make_module(make_gspace(gspaces), nn)


def case_input(key, channels):
    """The float32 input of case ``key``: shape (2, channels, size, size), from numpy's legacy (stable) RNG."""
    size = CASES[key][2]
    return np.random.RandomState(crc32(key.encode())).standard_normal((2, channels, size, size)).astype(np.float32)


def main():
    import torch
    from e2cnn import gspaces, nn

    outputs = {}
    for key in CASES:
        module = build(key, gspaces, nn).eval()
        x = torch.from_numpy(case_input(key, module.in_type.size))
        with torch.no_grad():
            outputs[key] = module(nn.GeometricTensor(x, module.in_type)).tensor.numpy()
    np.savez_compressed(HERE / "pooling.npz", **outputs)


if __name__ == "__main__":
    main()
