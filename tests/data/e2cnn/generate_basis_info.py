"""Generate e2cnn 0.2.3 reference descriptions of R2Conv's weights (``basisexpansion.get_basis_info()``).

Run with e2cnn 0.2.3 and numpy<2 (see generate.py for the recipe)::

    /work/e2cnn-venv/bin/python tests/data/e2cnn/generate_basis_info.py

Writes ``basis_info.json``: for each case the gspace token, the field tokens (tests/e2cnn_tokens.py), the
R2Conv keyword arguments and the basis filter's name (tests/basis_filters.py), and e2cnn's
``get_basis_info()`` list (``get_basis_names()`` are their ``id``), ``dimension()`` and the weights' shape; for filtered cases
also the distinct attribute dicts the filter received and those it kept, in first-seen order.
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np
from e2cnn import gspaces, nn
from e2cnn.nn.modules.r2_conv import basisexpansion_singleblock

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parents[2]), str(HERE.parents[1])]   # the repository root and tests/
from basis_filters import FILTERS  # noqa: E402
from benchmarks._cases import patch_e2cnn  # noqa: E402
from e2cnn_cases import fixture_gspaces  # noqa: E402
from e2cnn_tokens import representation  # noqa: E402

warnings.filterwarnings("ignore")
patch_e2cnn()

GSPACES = fixture_gspaces(gspaces)
# name: (gspace, in fields, out fields, kernel size, R2Conv kwargs, filter name or None)
CASES = {
    "C4_regular_k3": ("C4", ["regular"], ["regular"], 3, {}, None),
    "C4_mixed_k5": ("C4", ["trivial", "irrep:1", "regular"], ["irrep:2", "regular", "irrep:1"], 5, {}, None),
    "C8_quotient_k5_fco": ("C8", ["quotient:2", "trivial"], ["regular", "quotient:4"], 5,
                           {"frequencies_cutoff": 1.5}, None),
    "C8_regular_k7_offset": ("C8", ["regular"], ["irrep:3", "regular"], 7, {"maximum_offset": 1}, None),
    "C8_regular_k5_hnet": ("C8", ["regular"], ["regular"], 5, {}, "hnet"),
    "D4_mixed_k5": ("D4", ["regular", "irrep:1,1", "trivial"], ["irrep:1,0", "quotient:(0,1)", "irrep:1,1"], 5, {},
                    None),
    "D4_regular_k5_hnet": ("D4", ["regular"], ["regular"], 5, {}, "hnet"),
    "D3_rings_k5": ("D3", ["regular", "irrep:1,1"], ["irrep:1,1", "trivial"], 5,
                    {"rings": [0.0, 1.0, 2.0], "sigma": 0.7}, None),
    "D3_quotient_k3_gamma": ("D3", ["quotient:(0,1)"], ["regular"], 3, {}, "gamma_zero"),
    "SO2_irreps_k5": ("SO2_4", ["irrep:0", "irrep:1", "irrep:2"], ["irrep:1", "irrep:0", "irrep:3", "irrep:1"], 5,
                      {}, None),
    "SO2_irreps_k7_hnet": ("SO2_4", ["irrep:1", "irrep:2"], ["irrep:1", "irrep:3"], 7, {}, "hnet"),
    "SO2_irreps_k5_sigma": ("SO2_4", ["irrep:2"], ["irrep:2", "irrep:4"], 5, {"sigma": [0.4, 0.6, 0.8],
                                                                            "frequencies_cutoff": 3.0}, None),
    "O2_irreps_k5": ("O2_4", ["irrep:0,0", "irrep:1,1", "irrep:1,0"], ["irrep:1,1", "irrep:1,2", "irrep:1,0"], 5,
                     {}, None),
    "O2_irreps_k7_lowfreq": ("O2_4", ["irrep:1,1", "irrep:0,0"], ["irrep:1,2", "irrep:1,3"], 7, {}, "low_frequency"),
    "Flip_regular_k5": ("Flip", ["regular", "trivial"], ["irrep:1", "regular"], 5, {}, None),
    "Flip_regular_k7_offset_hnet": ("Flip", ["regular"], ["regular"], 7, {"maximum_offset": 2}, "hnet"),
    "Trivial_k5": ("Trivial", ["trivial", "trivial"], ["trivial"], 5, {}, None),
    "Trivial_k7_rings": ("Trivial", ["trivial"], ["trivial"], 7, {"rings": [0.0, 1.5, 3.0], "sigma": 0.8},
                         "outer_narrow"),
    "C4_regular_k7_even": ("C4", ["regular"], ["regular", "trivial"], 7, {}, "even_inner"),
    "D4_regular_k3_rings": ("D4", ["regular"], ["regular"], 3, {}, "first_two_rings"),
    "C8_trivial_k5_nooffset": ("C8", ["trivial"], ["regular"], 5, {}, "no_offset"),
}


def jsonable(value):
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value


def main():
    out = {}
    for name, (gspace, ins, outs, k, kwargs, filter_name) in CASES.items():
        basisexpansion_singleblock._stored_filters.clear()
        gs = GSPACES[gspace]()
        seen, kept = [], []
        basis_filter = None
        if filter_name is not None:
            def basis_filter(d, f=FILTERS[filter_name]):
                keep = bool(f(d))
                for store, wanted in ((seen, True), (kept, keep)):
                    d_json = jsonable(d)
                    if wanted and d_json not in store:
                        store.append(d_json)
                return keep
        conv = nn.R2Conv(nn.FieldType(gs, [representation(gs, s) for s in ins]),
                         nn.FieldType(gs, [representation(gs, s) for s in outs]), k, basis_filter=basis_filter,
                         **kwargs)
        be = conv.basisexpansion
        record = {"gspace": gspace, "in": ins, "out": outs, "kernel_size": k, "kwargs": kwargs,
                  "filter": filter_name, "dimension": int(be.dimension()),
                  "weights_shape": list(conv.weights.shape),
                  "basis_info": [jsonable(a) for a in be.get_basis_info()],
                  "names_are_ids": list(be.get_basis_names()) == [a["id"] for a in be.get_basis_info()],
                  "element_info": {str(i): jsonable(be.get_element_info(i))
                                   for i in sorted({0, be.dimension() // 2, be.dimension() - 1})}}
        if filter_name is not None:
            record["filter_seen"], record["filter_kept"] = seen, kept
        out[name] = record
    (HERE / "basis_info.json").write_text(json.dumps(out, indent=None, separators=(",", ":")))


if __name__ == "__main__":
    main()
