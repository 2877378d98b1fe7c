"""examples/equivariant_mlp.py: the quick runs train both models, and the equivariant MLP over no_base_space(O(2))
is invariant where it should be exactly (the grid's dihedral group for FourierELU, all of O(2) with norms) while
the plain MLP of the same widths is not."""
import math

import pytest
import torch

from examples import equivariant_mlp as example


@pytest.fixture(scope="module")
def runs(module_cache):
    """The quick runs, once per module: FourierELU and norms, float32 and float64."""
    return {(nonlinearity, precision): example.main(["--quick", "--nonlinearity", nonlinearity]
                                                    + (["--float64"] if precision == 64 else []))
            for nonlinearity in ("fourier", "norm") for precision in (32, 64)}


def test_the_quick_runs_report_finite_figures_for_both_models(runs):
    for report in runs.values():
        for figures in (report.test_error, report.invariance_error, report.grid_invariance_error,
                        report.parameters):
            assert sorted(figures) == ["equivariant", "plain"]
            assert all(math.isfinite(v) for v in figures.values())
        assert report.config["quick"] and report.config["epochs"] == 3


@pytest.mark.parametrize("precision,tolerance", [(32, 1e-5), (64, 1e-10)])
def test_the_equivariant_mlp_is_exactly_invariant_and_the_plain_one_is_not(runs, precision, tolerance):
    fourier, norm = runs[("fourier", precision)], runs[("norm", precision)]
    # FourierELU samples on 12 rotations x 2 reflections: exact under that dihedral group ...
    assert fourier.grid_invariance_error["equivariant"] < tolerance
    # ... nearly so under the other elements of O(2) (the aliasing of the sampled ELU), unlike the plain MLP
    assert fourier.invariance_error["equivariant"] < 0.1 * fourier.invariance_error["plain"]
    # norms of the fields: exact under every element of O(2)
    assert norm.invariance_error["equivariant"] < tolerance
    assert norm.grid_invariance_error["equivariant"] < tolerance
    for report in (fourier, norm):
        assert report.invariance_error["plain"] > 1e-2 and report.grid_invariance_error["plain"] > 1e-2


def test_the_models_have_the_same_widths_and_the_equivariant_one_takes_vector_fields(module_cache):
    torch.manual_seed(0)
    model = example.EquivariantMLP(points=3, channels=2, frequency=1, grid=8)
    plain = example.plain_mlp(model.widths)
    linears = [m for m in plain if isinstance(m, torch.nn.Linear)]
    assert [m.in_features for m in linears] + [linears[-1].out_features] == model.widths
    assert model.in_type.size == 6 and model.widths[0] == 6 and model.widths[-1] == 1
    x = example.point_sets(5, 3, torch.Generator().manual_seed(0), torch.float32)
    assert model(x).shape == plain(x).shape == (5, 1)
    assert torch.allclose(x.reshape(5, 3, 2).mean(dim=1), torch.zeros(5, 2), atol=1e-6)     # centred
    # the target is invariant: a quarter turn (x, y) -> (-y, x) of every point leaves it unchanged
    turned = torch.stack([-x[:, 1::2], x[:, 0::2]], dim=2).reshape(5, 6)
    assert torch.allclose(example.act(3, (0, math.pi / 2), x), turned, atol=1e-6)
    assert torch.allclose(example.mean_pairwise_distance(turned), example.mean_pairwise_distance(x), atol=1e-6)
