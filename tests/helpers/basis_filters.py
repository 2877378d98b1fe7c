"""The ``basis_filter`` callables the e2cnn fixtures name (tests/fixtures/e2cnn/generate_basis_info.py).

Shared by the generator (run with e2cnn) and the tests (run with e2layers), so both apply the same
function to the attribute dicts they build.
"""

FILTERS = {
    # H-Net's filter: keep only the reflection-like 2x2 solutions where the attribute exists
    "hnet": lambda d: d["s"] == 1 if "s" in d else True,
    "gamma_zero": lambda d: d["gamma"] == 0,
    "first_two_rings": lambda d: d["idx1"] <= 1,
    "low_frequency": lambda d: abs(d["frequency"]) <= 1,
    "even_inner": lambda d: d["inner_idx"] % 2 == 0,
    "no_offset": lambda d: d.get("offset", 0) == 0,
    "outer_narrow": lambda d: d["radius"] > 0 and d["sigma"] < 1.0 and d["idx2"] % 3 != 1,
    # steerable PDOs (tests/fixtures/e2cnn/generate_diffops.py): derivatives of order at most 2
    "low_order": lambda d: d["order"] <= 2,
}
