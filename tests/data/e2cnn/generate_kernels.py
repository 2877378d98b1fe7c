"""Generate e2cnn 0.2.3 references for ``e2cnn.kernels``: analytical bases sampled at arbitrary points.

Run with e2cnn 0.2.3 and numpy<2 (see generate.py for the recipe)::

    /work/e2cnn-venv/bin/python tests/data/e2cnn/generate_kernels.py

Writes ``kernels.json``: per case the builder (``kernels_*_act_R2``), the gspace and field tokens
(tests/e2cnn_tokens.py), the builder's keyword arguments, ``dim``, ``shape`` and the attribute dicts of
the basis (iteration) and of its angular basis; the points; the outputs of ``psi``/``chi``/``psichi`` for
a few inputs; and the signature (parameter names, kinds, defaults) of every public name.  Writes
``kernels.npz``: ``<case>`` (c_out, c_in, dim, N), the basis at the points (the first one the origin),
``<case>__masked`` (``sample_masked`` with every other element), ``points`` and the ``psi``/``chi``/``psichi``
arrays.
"""
import inspect
import json
import sys
import warnings
from pathlib import Path

import numpy as np
from e2cnn import gspaces, kernels

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parents[1])]   # tests/
from e2cnn_cases import fixture_gspaces  # noqa: E402
from e2cnn_tokens import representation  # noqa: E402

warnings.filterwarnings("ignore")

GSPACES = fixture_gspaces(gspaces)
# name: (builder, gspace, in token, out token, keyword arguments)
CASES = {
    "CN_C4_regular": ("kernels_CN_act_R2", "C4", "regular", "regular",
                      {"radii": [0.0, 1.0, 2.0], "sigma": 0.6, "max_frequency": 3}),
    "CN_C8_quotient_offset": ("kernels_CN_act_R2", "C8", "quotient:2", "irrep:3",
                              {"radii": [1.0, 2.5], "sigma": [0.5, 0.8], "max_offset": 1}),
    "CN_C3_both": ("kernels_CN_act_R2", "C3", "irrep:1", "regular",
                   {"radii": [0.0, 1.5], "sigma": 0.7, "max_frequency": 4, "max_offset": 1}),
    "DN_D4_regular_irrep": ("kernels_DN_act_R2", "D4", "regular", "irrep:1,1",
                            {"radii": [0.0, 1.0, 2.0], "sigma": 0.6, "max_frequency": 3}),
    "DN_D3_quotient_axis": ("kernels_DN_act_R2", "D3", "quotient:(0,1)", "regular",
                            {"radii": [1.0, 2.0], "sigma": 0.4, "axis": 0.0, "max_offset": 1}),
    "DN_D4_sign_irreps": ("kernels_DN_act_R2", "D4", "irrep:1,0", "irrep:1,2",
                          {"radii": [0.5, 1.5], "sigma": 0.6, "axis": 0.7, "max_frequency": 5}),
    "SO2_irreps": ("kernels_SO2_act_R2", "SO2_4", "irrep:1", "irrep:2", {"radii": [0.0, 1.0, 2.0], "sigma": 0.6}),
    "SO2_trivial_to_3": ("kernels_SO2_act_R2", "SO2_4", "irrep:0", "irrep:3", {"radii": [1.0], "sigma": [0.9]}),
    "O2_irreps": ("kernels_O2_act_R2", "O2_4", "irrep:1,1", "irrep:1,2", {"radii": [0.0, 1.0, 2.0], "sigma": 0.6}),
    "O2_trivial_axis": ("kernels_O2_act_R2", "O2_4", "irrep:0,0", "irrep:1,3",
                        {"radii": [1.0, 2.0], "sigma": 0.5, "axis": 0.3}),
    "O2_sign": ("kernels_O2_act_R2", "O2_4", "irrep:1,0", "irrep:1,0", {"radii": [0.0, 1.0], "sigma": 0.6}),
    "Flip_regular": ("kernels_Flip_act_R2", "Flip", "regular", "regular",
                     {"radii": [0.0, 1.0, 2.0], "sigma": 0.6, "max_frequency": 3}),
    "Flip_trivial_axis_offset": ("kernels_Flip_act_R2", "Flip", "trivial", "irrep:1",
                                 {"radii": [1.0, 2.0], "sigma": 0.6, "axis": 0.0, "max_offset": 2}),
    "Trivial": ("kernels_Trivial_act_R2", "Trivial", "trivial", "trivial",
                {"radii": [0.0, 1.0, 2.0], "sigma": 0.6, "max_frequency": 3}),
}
SIGNATURES = list(kernels.__all__) + ["KernelBasis.sample", "KernelBasis.sample_masked", "PolarBasis.sample",
                                      "GaussianRadialProfile.sample", "SteerableKernelBasis.sample"]


def jsonable(value):
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value


def signature(name):
    obj = kernels
    for part in name.split("."):
        obj = getattr(obj, part)
    return [[p.name, p.kind.name, None if p.default is inspect.Parameter.empty else repr(p.default)]
            for p in inspect.signature(obj).parameters.values()]


def main():
    rng = np.random.default_rng(0)
    points = rng.normal(scale=1.5, size=(2, 40))
    points[:, 0] = 0.0
    arrays, meta = {"points": points}, {"cases": {}}
    for name, (builder, gspace, rin, rout, kwargs) in CASES.items():
        gs = GSPACES[gspace]()
        basis = getattr(kernels, builder)(representation(gs, rin), representation(gs, rout), **kwargs)
        arrays[name] = basis.sample(points)
        mask = np.arange(basis.dim) % 2 == 0
        arrays[f"{name}__masked"] = basis.sample_masked(points, mask)
        meta["cases"][name] = {"builder": builder, "gspace": gspace, "in": rin, "out": rout, "kwargs": kwargs,
                               "dim": basis.dim, "shape": list(basis.shape),
                               "attributes": [jsonable(a) for a in basis],
                               "getitem": {str(i): jsonable(basis[i]) for i in {0, basis.dim // 2, basis.dim - 1}},
                               "angular_dim": basis.angular.dim,
                               "angular_attributes": [jsonable(a) for a in basis.angular]}
    theta = np.linspace(-3.0, 3.0, 7)
    arrays["psi"] = kernels.psi(theta, k=np.array([1, 2, -3]), gamma=np.array([0.0, 0.5, np.pi / 2]))
    arrays["psi_scalar"] = kernels.psi(0.3)
    arrays["chi"] = kernels.chi(np.array([0, 1, 2]))
    arrays["psichi"] = kernels.psichi(theta, s=np.array([1, 0, 1]), k=np.array([2, 0, -1]),
                                      gamma=np.array([0.0, 0.0, 0.3]))
    meta["signatures"] = {n: signature(n) for n in SIGNATURES}
    meta["all"] = list(kernels.__all__)
    np.savez_compressed(HERE / "kernels.npz", **arrays)
    (HERE / "kernels.json").write_text(json.dumps(meta, separators=(",", ":")))


if __name__ == "__main__":
    main()
