"""nn.exactness_report: the known ways a network stops being exact are found at the right layer with the right
cause, plain and equivariant modules mixed; the valid-size rule, derived from the layers' geometry alone,
agrees with brute force (running the network at every size) for small networks here and for the example
models (examples/e2wrn.py, examples/rotated_mnist.py) on every size up to 64."""
import json
import math
import types

import pytest
import torch

from e2layers import group, gspaces, nn
from e2layers.nn.exactness import sizes_by_brute_force
from basisgen.errors import InvalidTypeError, InvalidValueError
from e2cnn_style_models import build
from examples import e2wrn, rotated_mnist

pytestmark = pytest.mark.usefixtures("private_cache")


def _types(space, fields=2):
    return nn.FieldType(space, [space.trivial_repr]), nn.FieldType(space, fields * [space.regular_repr])


class Wrapped(torch.nn.Module):
    """Plain tensors in and out; an equivariant part, then ``plain`` (a plain module on the tensor), then an
    equivariant head: the mix the analyzer must follow."""

    def __init__(self, space, plain, fields=2):
        super().__init__()
        self.t, self.f = _types(space, fields)
        self.conv = nn.R2Conv(self.t, self.f, 3, padding=1)
        self.plain = plain
        self.conv2 = nn.R2Conv(self.f, self.f, 3, padding=1)
        self.pool = nn.GroupPooling(self.f)

    def forward(self, x):
        x = self.conv(nn.GeometricTensor(x, self.t))
        x = nn.GeometricTensor(self.plain(x.tensor), self.f)
        return self.pool(self.conv2(x)).tensor


@pytest.fixture(scope="module")
def d4():
    return gspaces.FlipRot2dOnR2(4)


def test_even_input_meeting_stride_two(d4):
    t, f = _types(d4)
    net = nn.SequentialModule(nn.R2Conv(t, f, 3, padding=1), nn.ReLU(f), nn.R2Conv(f, f, 3, padding=1, stride=2),
                              nn.GroupPooling(f))
    report = nn.exactness_report(net, (1, 1, 16, 16))
    assert not report.exact
    assert report.first_break.name == "2" and report.first_break.kind == "R2Conv"
    assert report.first_break.cause.startswith("even size 16 meets stride 2 in the 3x3 convolution")
    assert [r.verdict for r in report.rows] == ["exact", "exact", "breaks", "inherits"]
    assert report.rows[2].errors["rot90"] > 0.01
    assert report.rows[2].errors["transpose"] < 1e-12          # the diagonal mirror maps the lost edge onto itself
    assert report.sizes.describe() == "H, W = 2k + 1: 1, 3, 5, 7, 9, 11, ..."
    assert report.nearest_sizes() == [(15, "crop 1 after (the centre moves by half a pixel)"),
                                      (17, "pad 1 after (the centre moves by half a pixel)")]
    good = nn.exactness_report(net, (1, 1, 17, 17))
    assert good.exact and good.first_break is None
    assert max(good.output_errors.values()) < 1e-12
    assert "exact at 17x17" in good.summary()


def test_asymmetric_padding(d4):
    net = Wrapped(d4, torch.nn.ZeroPad2d((0, 1, 0, 1)))
    report = nn.exactness_report(net, (1, 1, 9, 9))
    assert report.first_break.name == "plain" and report.first_break.kind == "ZeroPad2d"
    assert report.first_break.cause == "asymmetric padding (0 before, 1 after) moves the centre by 0.5 pixels"
    assert [r.verdict for r in report.rows][:2] == ["exact", "breaks"]
    assert report.rows[2].verdict == "inherits"
    assert not report.exact
    # the padding breaks every size: the rule finds none
    assert report.sizes.height == () and report.sizes.derived


def test_plain_conv_inside(d4):
    _, f = _types(d4)
    net = Wrapped(d4, torch.nn.Conv2d(f.size, f.size, 3, padding=1))
    report = nn.exactness_report(net, (1, 1, 9, 9))
    row = report.first_break
    assert row.name == "plain" and row.kind == "Conv2d"
    assert row.cause == "a plain torch.nn.Conv2d is not equivariant: its weights are not constrained"
    assert set(row.always) == {m for m in report.motions}
    assert "no size is exact" in report.sizes.notes[0]


def test_plain_pool_on_fields_that_mix_channels():
    space = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(space, [space.trivial_repr])
    vectors = nn.FieldType(space, 2 * [space.irrep(1)])

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.R2Conv(t, vectors, 3, padding=1)
            self.pool = torch.nn.MaxPool2d(3, 1, 1)

        def forward(self, x):
            return self.pool(self.conv(nn.GeometricTensor(x, t)).tensor)

    report = nn.exactness_report(Net(), (1, 1, 9, 9))
    row = report.first_break
    assert row.name == "pool" and row.kind == "MaxPool2d"
    assert row.cause.startswith("a plain torch.nn.MaxPool2d treats each channel on its own, but its input's fields "
                                "(2 irrep_1) mix channels under rot90")
    assert report.rows[0].verdict == "exact"


def test_equivariant_pool_on_an_odd_size(d4):
    t, f = _types(d4)
    net = nn.SequentialModule(nn.R2Conv(t, f, 3, padding=1), nn.PointwiseMaxPool(f, 2), nn.GroupPooling(f))
    report = nn.exactness_report(net, (1, 1, 9, 9))
    assert report.first_break.name == "1"
    assert report.first_break.cause.startswith("odd size 9 meets stride 2 in the 2x2 max pool")
    assert report.sizes.describe().startswith("H, W = 2k: 2, 4, 6")
    assert nn.exactness_report(net, (1, 1, 10, 10)).exact


def test_upsampling_mode(d4):
    t, f = _types(d4)
    net = nn.SequentialModule(nn.R2Conv(t, f, 3, padding=1), nn.R2Upsampling(f, 1.5, mode="nearest"))
    report = nn.exactness_report(net, (1, 1, 6, 6))
    assert report.first_break.kind == "R2Upsampling"
    assert "the upsampling (mode 'nearest', scale_factor 1.5) maps 6 pixels to 9" in report.first_break.cause
    bilinear = nn.SequentialModule(nn.R2Conv(t, f, 3, padding=1), nn.R2Upsampling(f, 2, mode="bilinear"))
    assert nn.exactness_report(bilinear, (1, 1, 6, 6)).exact


def test_non_square_plain_kernel_never_turns(d4):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.t = nn.FieldType(d4, [d4.trivial_repr])
            self.pool = torch.nn.AvgPool2d((1, 3), 1, (0, 1))

        def forward(self, x):
            return self.pool(x)

    report = nn.exactness_report(Net(), (1, 1, 7, 7), in_type=nn.FieldType(d4, [d4.trivial_repr]))
    row = report.first_break
    assert row.kind == "AvgPool2d" and "never exact" in row.cause
    assert row.errors["flip-ud"] < 1e-12 and row.errors["rot90"] > 0.01
    assert report.sizes.notes[0].startswith("no size is exact under rot90, rot270, anti-transpose, transpose: pool")


def test_functional_code_between_layers_is_named(d4):
    t, f = _types(d4)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.R2Conv(t, f, 3, padding=1)
            self.conv2 = nn.R2Conv(f, f, 3)

        def forward(self, x):
            y = self.conv(nn.GeometricTensor(x, t)).tensor
            y = torch.nn.functional.pad(y, (0, 1, 0, 1))[..., 1:, 1:]      # a shift, by hand
            return self.conv2(nn.GeometricTensor(y, f)).tensor

    report = nn.exactness_report(Net(), (1, 1, 9, 9))
    assert report.first_break.name == "conv2"
    assert report.first_break.cause.startswith("the model's forward code before this layer")
    assert not report.sizes.derived


def test_subgroup_after_restriction_checks_what_is_left():
    space = gspaces.FlipRot2dOnR2(4)
    t, f = _types(space)
    restrict = nn.RestrictionModule(f, (0, 1))         # to the flips: only one mirror is left
    g = restrict.out_type
    net = nn.SequentialModule(nn.R2Conv(t, f, 3, padding=1), restrict, nn.R2Conv(g, g, 3, padding=1, stride=2))
    report = nn.exactness_report(net, (1, 1, 9, 9))
    assert report.exact
    left = [m for m, e in report.output_errors.items() if e is not None]
    assert len(left) == 1 and left[0] in ("flip-ud", "flip-lr")
    assert report.summary().startswith(f"exact at 9x9: the output commutes with {left[0]} to float64 rounding")
    axis = 1 if left[0] == "flip-lr" else 0
    sizes = report.sizes.width if axis == 1 else report.sizes.height
    assert sizes[:3] == (1, 3, 5)


def test_json_and_text(d4):
    t, f = _types(d4)
    net = nn.SequentialModule(nn.R2Conv(t, f, 3, padding=1, stride=2), nn.GroupPooling(f))
    report = nn.exactness_report(net, (2, 1, 8, 8))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["exact"] is False and data["first_break"] == "0"
    assert data["layers"][0]["verdict"] == "breaks" and data["layers"][0]["output_size"] == [4, 4]
    assert data["valid_sizes"]["rule"].startswith("H, W = 2k + 1")
    assert data["nearest_sizes"][0] == {"size": 7, "how": "crop 1 after (the centre moves by half a pixel)"}
    edge = nn.exactness_report(net, (1, 1, 64, 64))           # the exact size above lies beyond the bound
    assert [n for n, _ in edge.nearest_sizes()] == [63, 65] and edge.sizes.bound == 64
    wide = nn.exactness_report(net, (1, 1, 8, 9))
    assert "nearest exact heights: 7 (crop 1 after" in str(wide) and "nearest exact widths" not in str(wide)
    text = str(report)
    assert "cause: even size 8 meets stride 2" in text
    assert "exact input sizes (up to 64): H, W = 2k + 1" in text
    assert text.splitlines()[-1] == report.summary()


def test_arguments_are_checked(d4):
    t, f = _types(d4)
    net = nn.R2Conv(t, f, 3, padding=1)
    with pytest.raises(InvalidValueError, match="input_shape"):
        nn.exactness_report(net, (1, 1, 9))
    with pytest.raises(InvalidValueError, match="channels"):
        nn.exactness_report(net, (1, 2, 9, 9))
    with pytest.raises(InvalidTypeError, match="model"):
        nn.exactness_report("net", (1, 1, 9, 9))
    with pytest.raises(InvalidValueError, match="elements: unknown motion"):
        nn.exactness_report(net, (1, 1, 9, 9), elements=["rot45"])
    with pytest.raises(InvalidValueError, match="does not map the pixel grid"):
        nn.exactness_report(nn.R2Conv(*_types(gspaces.Rot2dOnR2(8)), 3), (1, 1, 9, 9), elements=[1])
    with pytest.raises(InvalidValueError, match="is not an element of"):
        nn.exactness_report(nn.R2Conv(*_types(gspaces.Rot2dOnR2(4)), 3), (1, 1, 9, 9), elements=["flip-lr"])
    with pytest.raises(InvalidValueError, match="MAX_INPUT_NUMBERS"):
        nn.exactness_report(net, (4096, 1, 4096, 4096))
    with pytest.raises(InvalidValueError, match="size_bound"):
        nn.exactness_report(net, (1, 1, 9, 9), size_bound=10 ** 6)


def test_elements_select_the_motions_and_progress_is_reported(d4):
    t, f = _types(d4)
    net = nn.R2Conv(t, f, 3, padding=1)
    calls = []
    report = nn.exactness_report(net, (1, 1, 9, 9), elements=["rot90", (1, 0)],
                                 progress=lambda done, total: calls.append((done, total)))
    assert report.motions == ["rot90", "flip-ud"] or report.motions == ["rot90", "flip-lr"]
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_model_is_left_untouched(d4):
    t, f = _types(d4)
    net = nn.SequentialModule(nn.R2Conv(t, f, 3, padding=1), nn.InnerBatchNorm(f))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.train()
    nn.exactness_report(net, (2, 1, 9, 9))
    assert net.training and all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert next(net.parameters()).dtype == torch.float32


# ---- the size rule against brute force --------------------------------------------------------------------
def _agree(model, channels, bound, elements=None, smallest=1):
    size = _first_size(model, channels, bound)
    report = nn.exactness_report(model, (1, channels, size, size), elements, size_bound=bound)
    assert report.sizes.derived, report.sizes.reason
    brute = sizes_by_brute_force(model, channels, range(smallest, bound + 1), elements)
    rule = {n: bool(report.sizes.exact(n, n)) for n in range(smallest, bound + 1)}
    assert rule == brute, (report.sizes.describe(), sorted(n for n in brute if brute[n]))
    return report


def _first_size(model, channels, bound):
    """The first size the model runs at (a mask takes one only)."""
    for n in range(bound, 0, -1):
        x = torch.zeros(1, channels, n, n)
        try:
            with torch.no_grad():
                model.eval()(nn.GeometricTensor(x, model.in_type) if isinstance(model, nn.EquivariantModule) else x)
            return n
        except (RuntimeError, ValueError):
            continue
    raise AssertionError("the model runs at no size")


def test_rule_matches_brute_force_small_network(d4):
    t, f = _types(d4, 1)
    net = nn.SequentialModule(nn.R2Conv(t, f, 3, padding=1, stride=2), nn.ReLU(f), nn.PointwiseMaxPool(f, 3, 2, 1),
                              nn.R2Conv(f, f, 4, padding=1), nn.PointwiseAvgPoolAntialiased(f, 0.66, 2),
                              nn.GroupPooling(f))
    report = _agree(net, 1, 40)
    assert report.sizes.height          # some sizes are exact


@pytest.mark.slow
@pytest.mark.parametrize("group,restrict,initial_stride", [("D4", 0, 1), ("D8", 3, 1), ("C8", 3, 1),
                                                            ("D8", 2, 2), ("D1", 0, 1)])
def test_rule_matches_brute_force_wide_resnet(group, restrict, initial_stride):
    model = e2wrn.wrn(10, 1, group, restrict, initial_stride=initial_stride)
    report = _agree(model, 3, 64)
    rule = "4k + 1" if initial_stride == 1 else "8k + 1"
    if group == "D1":                  # one mirror (flip-lr): only the width must be sampled symmetrically
        assert report.sizes.describe().startswith(f"H >= 1: 1, 2, 3, 4, 5, 6, ...; W = {rule}")
    elif restrict < 2:
        assert report.sizes.describe().startswith(f"H, W = {rule}")
    elif group == "C8":                # C8 -> C4 -> C1: nothing acts on the output, every size is exact
        assert report.sizes.height == tuple(range(1, 65))


@pytest.mark.slow
def test_rule_wide_resnet_at_chosen_sizes():
    model = e2wrn.wrn(10, 1, "D4", 0)
    report = nn.exactness_report(model, (1, 3, 33, 33), size_bound=64)
    assert report.exact
    assert report.sizes.describe() == "H, W = 4k + 1: 1, 5, 9, 13, 17, 21, ..."
    brute = sizes_by_brute_force(model, 3, [15, 16, 17, 19, 21], elements=["rot90"])
    assert brute == {15: False, 16: False, 17: True, 19: False, 21: True}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["C8", "D8", "C8 pdo", "plain"])
def test_rule_matches_brute_force_rotated_mnist(name):
    if name == "plain":
        model = rotated_mnist.plain_cnn([4, 4, 4, 4], 8)
    else:
        pdo = ("fd", 5) if name.endswith("pdo") else None
        model = rotated_mnist.steerable_cnn(name.split()[0], [1, 1, 1, 1], 8, pdo=pdo)
    # a 1x1 input is fixed by every motion, so a model with invariant logits is trivially exact there; the rule
    # does not claim that size for a network with a layer that is not equivariant, so the plain CNN starts at 2
    report = _agree(model, 1, 64, smallest=2 if name == "plain" else 1)
    if name == "plain":
        assert report.sizes.height == () and "Conv2d" in report.sizes.notes[0]
    else:
        assert report.sizes.describe().startswith("H, W = 29")


def test_rule_rotated_mnist_quick():
    model = rotated_mnist.steerable_cnn("C4", [1, 1, 1, 1], 8)
    report = nn.exactness_report(model, (1, 1, 29, 29))
    assert report.exact and report.sizes.height == (29,)
    assert [r.kind for r in report.rows if r.verdict == "n/a"] == []
    assert math.isfinite(report.rows[-1].worst)



@pytest.mark.parametrize("name", [pytest.param("rotation", marks=pytest.mark.slow), "hnet", "flip"])
def test_rule_matches_brute_force_on_networks_written_for_e2cnn(name):
    """The idiom models of the e2cnn compatibility tests (a forward that wraps plain tensors, a restriction
    to a subgroup, an H-Net basis filter, the flip group): the analyzer follows them, and the rule agrees."""
    model, shape = build(types.SimpleNamespace(gspaces=gspaces, nn=nn, group=group))[name]
    report = nn.exactness_report(model, shape, size_bound=24)
    assert report.exact and report.sizes.derived
    brute = sizes_by_brute_force(model, shape[1], range(1, 25))
    assert {n: bool(report.sizes.exact(n, n)) for n in range(1, 25)} == brute
