"""A warm cache builds layers without the derivation engine: every field kind, PDO layers, empty irrep pairs.

Regular fields were always read from the cache alone; quotient and induced fields used to build their
change of basis with sympy, and an irrep pair with no kernel (not stored) was derived again on every
start.  Here a fresh process builds and runs such layers twice on one private cache: the second run
derives nothing and imports neither sympy nor scipy (scipy.stats included).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BUILD = """
import json, sys
import torch
from basisgen import cache, EmptyBasisError
from e2layers import gspaces, nn

def run(gs, fields_in, fields_out, kernel_size, layer=nn.R2Conv, **kwargs):
    t_in, t_out = nn.FieldType(gs, fields_in), nn.FieldType(gs, fields_out)
    conv = layer(t_in, t_out, kernel_size, **kwargs)
    conv(nn.GeometricTensor(torch.randn(1, t_in.size, 7, 7), t_in))

d4 = gspaces.FlipRot2dOnR2(4)
quotient, regular = d4.quotient_repr((None, 2)), d4.regular_repr
induced = d4.induced_repr((0, 2), d4.fibergroup.subgroup((0, 2))[0].irrep(1, 1))
run(d4, [regular, quotient, induced], [quotient, induced, regular], 3)
# steerable PDOs: finite differences and Gaussian derivatives
run(d4, [regular, quotient], [regular, induced], 3, nn.R2Diffop)
run(d4, [regular], [regular], 5, nn.R2Diffop, smoothing=1.0)
# D4's sign irrep -> trivial has no kernel of size 1 (only |mu| = 4 harmonics); sign -> sign has one
run(d4, [d4.irrep(1, 0)], [d4.irrep(0, 0), d4.irrep(1, 0)], 1)
c8 = gspaces.Rot2dOnR2(8)
run(c8, [c8.quotient_repr(2), c8.induced_repr(4, c8.fibergroup.subgroup(4)[0].irrep(1))], [c8.regular_repr], 3)
# SO(2): irrep 0 -> irrep 3 is empty at kernel size 3 (|mu| = 3 exceeds the rings' cutoffs)
so2 = gspaces.Rot2dOnR2(-1, maximum_frequency=3)
run(so2, [so2.irrep(0)], [so2.irrep(3), so2.irrep(0)], 3)
o2 = gspaces.FlipRot2dOnR2(-1, maximum_frequency=3)
run(o2, [o2.induced_repr((None, -1), o2.fibergroup.subgroup((None, -1))[0].irrep(2)), o2.quotient_repr((None, -1))],
    [o2.irrep(1, 1)], 3)
try:
    cache.default_cache().get(d4.irrep(1, 0).basisgen, d4.irrep(0, 0).basisgen, 1)
    empty = False
except EmptyBasisError:
    empty = True
print(json.dumps(dict(stats=cache.default_cache().stats, empty=empty,
                      **{m: m in sys.modules for m in ("sympy", "scipy.stats", "scipy")})))
"""


def _fresh(cache_dir) -> dict:
    out = subprocess.run([sys.executable, "-c", BUILD], capture_output=True, text=True, cwd=ROOT, timeout=600,
                         env=dict(os.environ, BASISGEN_CACHE=str(cache_dir)))
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_warm_cache_builds_quotient_induced_and_empty_pairs_without_sympy(tmp_path):
    cold = _fresh(tmp_path)
    assert cold["sympy"] and cold["stats"]["computed"] > 0 and cold["empty"]
    # the empty pairs are stored too: every basis asked for has an entry
    assert cold["stats"]["written"] == cold["stats"]["computed"], cold["stats"]
    warm = _fresh(tmp_path)
    assert warm["stats"]["computed"] == 0 and warm["stats"]["disk_hits"] > 0, warm["stats"]
    assert warm["empty"]
    assert {m: warm[m] for m in ("sympy", "scipy.stats", "scipy")} == dict.fromkeys(("sympy", "scipy.stats", "scipy"),
                                                                                 False)
