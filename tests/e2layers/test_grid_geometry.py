"""The sampling geometry of single layers against brute force: run the layer on a random image and on its
mirror, for every size up to 40, and compare with what the geometry says (output size and symmetry)."""
import pytest
import torch

from e2layers import gspaces, nn
from e2layers.nn._grid_geometry import LayerGeometry, Pad, Window, geometry_of

SIZES = range(1, 41)


def _sweep(cases, quick):
    """The case names, those outside ``quick`` in the full suite only (they repeat what ``quick`` covers)."""
    return [name if name in quick else pytest.param(name, marks=pytest.mark.slow) for name in sorted(cases)]


def _equivariant_kernel(conv, axis):
    """Weights that make a plain convolution equivariant under the mirror of ``axis`` for two channels that the
    mirror swaps (the regular representation of the flip): ``K(mirrored p) = P K(p) P``.  Such a kernel still
    tells its positions apart, so only where its sampling is symmetric is it exact, as an equivariant
    layer's."""
    with torch.no_grad():
        w = conv.weight.double()
        if isinstance(conv, torch.nn.ConvTranspose2d):      # (in, out, kh, kw)
            w = w.transpose(0, 1)
        w = (w + w.flip(0, 1).flip(2 + axis)) / 2
        if isinstance(conv, torch.nn.ConvTranspose2d):
            w = w.transpose(0, 1)
        conv.weight.copy_(w)
        if conv.bias is not None:
            conv.bias.copy_(conv.bias.mean().expand_as(conv.bias))
    return conv


PLAIN = {
    "conv3 s2 p1": lambda: torch.nn.Conv2d(2, 2, 3, stride=2, padding=1),
    "conv4 s1 p1": lambda: torch.nn.Conv2d(2, 2, 4, padding=1),
    "conv4 same": lambda: torch.nn.Conv2d(2, 2, 4, padding="same"),
    "conv3 same dil2": lambda: torch.nn.Conv2d(2, 2, 3, padding="same", dilation=2),
    "conv3 s3 p2": lambda: torch.nn.Conv2d(2, 2, 3, stride=3, padding=2),
    "conv (3,5) s2": lambda: torch.nn.Conv2d(2, 2, (3, 5), stride=2, padding=(1, 2)),
    "conv5 s2 dil2": lambda: torch.nn.Conv2d(2, 2, 5, stride=2, dilation=2, padding=3),
    "maxpool2": lambda: torch.nn.MaxPool2d(2),
    "maxpool3 s2 p1": lambda: torch.nn.MaxPool2d(3, 2, 1),
    "maxpool3 s2 ceil": lambda: torch.nn.MaxPool2d(3, 2, ceil_mode=True),
    "maxpool2 ceil": lambda: torch.nn.MaxPool2d(2, ceil_mode=True),
    "maxpool3 s2 p1 ceil": lambda: torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True),
    "avgpool3 s2 p1": lambda: torch.nn.AvgPool2d(3, 2, 1),
    "avgpool3 s2 p1 ceil": lambda: torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True),
    "avgpool3 s2 p1 ceil nopad": lambda: torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
    "avgpool2 ceil": lambda: torch.nn.AvgPool2d(2, ceil_mode=True),
    "adaptive avg 3": lambda: torch.nn.AdaptiveAvgPool2d(3),
    "adaptive max (2,3)": lambda: torch.nn.AdaptiveMaxPool2d((2, 3)),
    "convT3 s2 p1": lambda: torch.nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1),
    "convT3 s2 p1 op1": lambda: torch.nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1, output_padding=1),
    "convT4 s2 p1": lambda: torch.nn.ConvTranspose2d(2, 2, 4, stride=2, padding=1),
    "nearest x2": lambda: torch.nn.Upsample(scale_factor=2),
    "nearest x1.5": lambda: torch.nn.Upsample(scale_factor=1.5),
    "nearest size 7": lambda: torch.nn.Upsample(size=7),
    "nearest-exact size 7": lambda: torch.nn.Upsample(size=7, mode="nearest-exact"),
    "bilinear x2": lambda: torch.nn.Upsample(scale_factor=2, mode="bilinear"),
    "bilinear x2 corners": lambda: torch.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
    "bilinear x1.5": lambda: torch.nn.Upsample(scale_factor=1.5, mode="bilinear"),
    "bicubic size 9": lambda: torch.nn.Upsample(size=9, mode="bicubic"),
    "zero pad (0,1,0,1)": lambda: torch.nn.ZeroPad2d((0, 1, 0, 1)),
    "reflect pad 1": lambda: torch.nn.ReflectionPad2d(1),
}


def _brute(module, n, axis):
    """``(output length or None, is the layer exact at n under the mirror of axis, which also swaps the two
    channels?)``"""
    x = torch.randn(16, 2, n, n, dtype=torch.float64, generator=torch.Generator().manual_seed(n))
    dim = 2 + axis

    def move(v):
        return v.flip(dim).flip(1)

    try:
        with torch.no_grad():
            y, y_moved = module(x), module(move(x))
    except (RuntimeError, ValueError):
        return None, False
    return y.shape[dim], torch.allclose(move(y), y_moved, rtol=0, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("name", _sweep(PLAIN, {"conv3 s2 p1", "conv4 same", "maxpool3 s2 p1 ceil", "avgpool3 s2 p1",
                                                "convT3 s2 p1 op1", "nearest x1.5", "zero pad (0,1,0,1)"}))
def test_plain_layer_geometry_matches_brute_force(name):
    for axis in (0, 1):
        module = PLAIN[name]()
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            _equivariant_kernel(module, axis)
        module = module.double()
        geometry = geometry_of(module)
        assert geometry is not None
        for n in SIZES:
            length, exact = _brute(module, n, axis)
            assert geometry.out_size(n, axis) == length, (name, axis, n)
            assert geometry.exact(n, axis) == exact, (name, axis, n, geometry.cause(n, axis))


def _regular(space, k=1):
    return nn.FieldType(space, k * [space.regular_repr])


EQUIVARIANT = {
    "R2Conv 3 s2 p1": lambda t: nn.R2Conv(t, t, 3, padding=1, stride=2),
    "R2Conv 4 s1 p2": lambda t: nn.R2Conv(t, t, 4, padding=2),
    "R2Conv 3 dil2 s2 p2": lambda t: nn.R2Conv(t, t, 3, padding=2, stride=2, dilation=2),
    "R2ConvTransposed 3 s2 p1 op1": lambda t: nn.R2ConvTransposed(t, t, 3, padding=1, stride=2, output_padding=1),
    "R2ConvTransposed 4 s2 p1": lambda t: nn.R2ConvTransposed(t, t, 4, padding=1, stride=2),
    "PointwiseMaxPool 2": lambda t: nn.PointwiseMaxPool(t, 2),
    "PointwiseMaxPool 3 s2 p1 ceil": lambda t: nn.PointwiseMaxPool(t, 3, 2, 1, ceil_mode=True),
    "PointwiseAvgPool 3 s2": lambda t: nn.PointwiseAvgPool(t, 3, 2),
    "PointwiseMaxPoolAntialiased 2": lambda t: nn.PointwiseMaxPoolAntialiased(t, 2),
    "PointwiseMaxPoolAntialiased 3 s2 p1": lambda t: nn.PointwiseMaxPoolAntialiased(t, 3, 2, 1),
    "PointwiseAvgPoolAntialiased s2": lambda t: nn.PointwiseAvgPoolAntialiased(t, 0.66, 2),
    "PointwiseAvgPoolAntialiased s2 p1": lambda t: nn.PointwiseAvgPoolAntialiased(t, 0.66, 2, 1),
    "NormMaxPool 2": lambda t: nn.NormMaxPool(t, 2),
    "PointwiseAdaptiveAvgPool 2": lambda t: nn.PointwiseAdaptiveAvgPool(t, 2),
    "R2Upsampling x2 bilinear": lambda t: nn.R2Upsampling(t, 2, mode="bilinear"),
    "R2Upsampling x1.5 nearest": lambda t: nn.R2Upsampling(t, 1.5, mode="nearest"),
    "MaskModule 9": lambda t: nn.MaskModule(t, 9),
}


@pytest.mark.parametrize("name", _sweep(EQUIVARIANT, {"R2Conv 3 s2 p1", "PointwiseMaxPoolAntialiased 3 s2 p1",
                                                      "R2Upsampling x1.5 nearest"}))
def test_equivariant_layer_geometry_matches_brute_force(name):
    """Equivariant layers are exact under the flips exactly where their sampling is symmetric."""
    space = gspaces.FlipRot2dOnR2(2)
    t = _regular(space)
    module = EQUIVARIANT[name](t).double().eval()
    geometry = geometry_of(module)
    for axis, element in ((0, (1, 0)), (1, (1, 1))):       # flip-ud, flip-lr
        for n in range(1, 26):
            x = nn.GeometricTensor(torch.randn(8, t.size, n, n, dtype=torch.float64), t)
            try:
                with torch.no_grad():
                    y, y_moved = module(x), module(x.transform(element))
            except (RuntimeError, ValueError):
                assert geometry.out_size(n, axis) is None or not geometry.exact(n, axis), (name, n)
                continue
            assert geometry.out_size(n, axis) == y.shape[2 + axis], (name, axis, n)
            exact = torch.allclose(y.transform(element).tensor, y_moved.tensor, rtol=0, atol=1e-10)
            assert geometry.exact(n, axis) == exact, (name, axis, n, geometry.cause(n, axis))


def test_causes_name_the_numbers():
    g = geometry_of(torch.nn.Conv2d(1, 1, 3, stride=2, padding=1))
    assert g.cause(8, 0).startswith("even size 8 meets stride 2 in the 3x3 convolution")
    assert "1 pixel at the far edge is never read" in g.cause(8, 0)
    same = geometry_of(torch.nn.Conv2d(2, 2, 4, padding="same"))
    assert "an even span 4 (its centre between pixels) padded asymmetrically" in same.cause(8, 0)
    assert "(1 before, 2 after)" in same.cause(8, 0)
    pad = geometry_of(torch.nn.ZeroPad2d((0, 1, 0, 1)))
    assert pad.cause(8, 1) == "asymmetric padding (0 before, 1 after) moves the centre by 0.5 pixels"
    assert "never exact" in geometry_of(torch.nn.Conv2d(2, 2, (3, 5))).square_cause()
    up = geometry_of(torch.nn.Upsample(scale_factor=1.5))
    assert "mode 'nearest', scale_factor 1.5" in up.cause(4, 0)
    t = geometry_of(torch.nn.ConvTranspose2d(2, 2, 3, 2, 1, output_padding=1))
    assert t.cause(5, 0).startswith("output_padding 1 in the transposed convolution")


def test_size_keeping_and_declared_modules():
    assert geometry_of(torch.nn.ReLU()) is None
    space = gspaces.Rot2dOnR2(4)
    assert geometry_of(nn.ReLU(_regular(space))) is None

    class Blur(torch.nn.Module):
        kernel_size, stride, padding = 5, 2, 2

    g = geometry_of(Blur())
    assert g == LayerGeometry("Blur", (Window(5, 2, 2, 2, what="5x5 window"),),
                              (Window(5, 2, 2, 2, what="5x5 window"),))
    assert geometry_of(torch.nn.ZeroPad2d((1, 1, 0, 2))).height == (Pad(0, 2),)
    flatten = geometry_of(torch.nn.Flatten())
    assert [flatten.exact(n, 0) for n in (1, 2, 3)] == [True, False, False]
    assert flatten.out_size(5, 1) == 1
