"""examples/equivariance_demo.py: the picture is written (a GIF of one frame per angle, a non-blank PNG strip), and
its numbers say what the picture shows: in the co-rotating frame the steerable network's response is unchanged at
the exact (quarter-turn) rotations, the plain CNN's is not."""

import numpy as np
import pytest
import torch

# the demo draws with matplotlib and writes with Pillow (a matplotlib dependency): the `examples` extra
pytest.importorskip("matplotlib", reason="the `examples` extra is not installed")
Image = pytest.importorskip("PIL.Image")


from examples import equivariance_demo as demo  # noqa: E402

pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.mark.slow
def test_quick_run_draws_the_frames_and_measures_what_they_show(tmp_path):
    result = demo.main(["--quick", "--out", str(tmp_path)])

    assert result.files == {"gif": tmp_path / "equivariance_demo.gif", "png": tmp_path / "equivariance_demo.png"}
    with Image.open(result.files["gif"]) as gif:
        assert gif.n_frames == len(result.angles) == 8
    with Image.open(result.files["png"]) as png:
        assert np.asarray(png.convert("L")).std() > 10

    # in the co-rotating frame the steerable network's response is unchanged where the rotation is exact ...
    for angle in (90, 180, 270):
        assert result.error_at("steerable", angle) < 1e-4
        assert result.error_at("plain", angle) > 1e-2
    # ... and nearly so between the quarter turns, where the image is interpolated; the plain CNN's is not
    assert result.error_at("steerable", 45) < 0.1 < result.error_at("plain", 45)
    assert result.error_at("steerable", 0) == result.error_at("plain", 0) == 0


def test_co_rotation_is_the_inverse_of_rotation_on_vector_fields():
    # a constant vector field (1, 0) rotated by 90 degrees counter-clockwise points up: (0, 1), i.e. +y
    x = torch.zeros(1, 3, 5, 5)
    x[:, 1] = 1
    y = demo.rotate_fields(x, 90, vector=True)
    assert torch.allclose(y[0, :, 2, 2], torch.tensor([0.0, 0.0, 1.0]), atol=1e-6)
    assert torch.allclose(demo.rotate_fields(y, -90, vector=True), x, atol=1e-6)


def test_rejects_even_sizes_and_unknown_groups():
    with pytest.raises(ValueError, match="size"):
        demo.DemoConfig(size=48)
    with pytest.raises(ValueError, match="group"):
        demo.DemoConfig(group="D4")
