"""Whole networks: for C8, D4, SO(2) and O(2), a multi-layer network that uses every module the group
supports at least once is equivariant end to end, its pooled output is invariant under the grid-preserving
elements (in eval mode after a few training steps, and in train mode with batch statistics), the C8 and D4
networks export to plain PyTorch with identical outputs (and run under torch.export), and torch.compile
of the unexported network gives the same outputs.
"""
import copy
from functools import partial
import pickle

import pytest
import torch

from e2layers import group, nn
from paths import ROOT
from rounding import assert_close_up_to_rounding
from spaces import gspace_table

pytestmark = pytest.mark.usefixtures("private_cache")

EPS32 = torch.finfo(torch.float32).eps
SIZE = 16          # input size; the stride-2 pools and the 2x upsampling keep the grid symmetric


class Chain:
    """Modules appended in order; an R2Conv (3x3, padding 1) is put in front of a module whose input type
    differs from the current type, so any sequence of modules chains."""

    def __init__(self, in_type):
        self.type = in_type
        self.modules = []
        self.used = set()

    def to(self, representations):
        t = nn.FieldType(self.type.gspace, representations)
        if t != self.type:
            self.add(nn.R2Conv(self.type, t, 3, padding=1))
        return t

    def add(self, module):
        if module.in_type != self.type:
            raise AssertionError(f"{type(module).__name__} expects {module.in_type}, the chain is at {self.type}")
        self.modules.append(module)
        self.used.add(type(module).__name__)
        self.type = module.out_type
        return module

    def on(self, representations, factory):
        """Convolve to ``representations`` (unless there already) and append ``factory(type)``."""
        return self.add(factory(self.to(representations)))

    def sequential(self):
        module = nn.SequentialModule(*self.modules)
        self.modules = []
        return module


class Net(torch.nn.Module):
    """stem (SequentialModule) -> Branching -> Merge(GatedNonLinearity2, ...) -> tail (ModuleList) -> invariant
    head (a MultipleModule of invariant pools, then global average pooling): ``forward`` gives invariant
    features, ``features`` the equivariant map before the invariant head."""

    def __init__(self, gs):
        super().__init__()
        G = gs.fibergroup
        finite = G.order() > 0
        flips = "Flip" in gs.name
        irrep1 = gs.irrep(1, 1) if flips else gs.irrep(1)
        irrep2 = gs.irrep(1, 2) if flips else gs.irrep(2)
        trivial = gs.trivial_repr
        t_in = nn.FieldType(gs, 3 * [trivial])
        self.wrap, self.unwrap = nn.TensorToGeometric(t_in), nn.GeometricToTensor()
        c = Chain(t_in)
        c.add(nn.MaskModule(t_in, SIZE, margin=1))
        pointwise = [gs.regular_repr] * 2 if finite else [trivial] * 4   # SO(2)/O(2): trivial fields only
        c.on(pointwise, lambda t: nn.InnerBatchNorm(t))
        c.add(nn.ReLU(c.type))
        c.add(nn.PointwiseMaxPool(c.type, 2))                             # 16 -> 8
        c.add(nn.ELU(c.type))
        c.add(nn.LeakyReLU(c.type, 0.1))
        c.add(nn.PointwiseNonLinearity(c.type, "p_tanh"))
        c.add(nn.PointwiseDropout(c.type, 0.1))
        c.add(nn.PointwiseAvgPool(c.type, 3, stride=1, padding=1))
        c.add(nn.PointwiseMaxPoolAntialiased(c.type, 3, stride=1, padding=1))   # 8 -> 10
        c.add(nn.PointwiseAdaptiveMaxPool(c.type, 8))                            # 10 -> 8, symmetric windows
        if finite:
            c.add(nn.ConcatenatedNonLinearity(c.type))
        mixed = [trivial, irrep1, irrep2, irrep1]
        c.on(mixed, lambda t: nn.GNormBatchNorm(t))
        c.add(nn.IIDBatchNorm2d(c.type))
        c.add(nn.FieldNorm(c.type))
        c.add(nn.FieldDropout(c.type, 0.1))
        c.add(nn.PointwiseAvgPoolAntialiased(c.type, sigma=0.6, stride=1))
        c.add(nn.ReshuffleModule(c.type, [3, 1, 0, 2]))
        c.add(nn.NormMaxPool(c.type, 3, stride=1, padding=1))
        c.add(nn.Linear(c.type, nn.FieldType(gs, [irrep1, irrep2, irrep1])))
        c.add(nn.NormBatchNorm(c.type))
        c.add(nn.NormNonLinearity(c.type, "n_relu"))
        c.on([trivial, trivial, irrep1, irrep2], lambda t: nn.GatedNonLinearity1(t))
        c.add(nn.IdentityModule(c.type))
        c.add(nn.DisentangleModule(c.to([group.directsum([irrep1, trivial]), irrep2])))
        c.add(nn.R2Upsampling(c.type, 2))                                  # 8 -> 16
        c.add(nn.R2ConvTransposed(c.type, c.type, 3, padding=1))
        c.add(nn.R2Diffop(c.type, c.type, 3, padding=1))
        c.add(nn.PointwiseAdaptiveAvgPool(c.to([trivial] * 2), 8))         # 16 -> 8
        fourier = (nn.FourierELU(gs, 2, G.bl_irreps(2)) if finite else nn.FourierELU(gs, 2, G.bl_irreps(2), N=8))
        c.on(fourier.in_type.representations, lambda t: fourier)
        fourier = nn.FourierPointwise(gs, 2, G.bl_irreps(1), **({} if finite else {"N": 8}), function="p_relu")
        c.on(fourier.in_type.representations, lambda t: fourier)
        quotient_id = {"C8": 2, "D4": (0, 1), "SO2": 2, "O2": (0., 1)}[_group_name(gs)]     # C8/C2, D4/flip, ...
        for quotient in (nn.QuotientFourierELU, partial(nn.QuotientFourierPointwise, function="p_relu")):
            fourier = quotient(gs, quotient_id, 2, G.bl_irreps(2), **({} if finite else {"N": 8}))
            c.on(fourier.in_type.representations, lambda t: fourier)
        c.on([group.directsum([trivial, trivial, irrep1, irrep2])] * 2, lambda t: nn.GatedNonLinearityUniform(t))
        c.on([irrep1] * 2, lambda t: nn.TensorProductModule(t, nn.FieldType(gs, [irrep2] * 2)))
        if finite:
            flip_or_half = (0, 1) if flips else 2          # pool each regular field over the flip (D4) or C2 (C8)
            c.on([gs.regular_repr] * 2, lambda t: nn.SubgroupPooling(t, flip_or_half))

        # Branching -> Merge: GatedNonLinearity2 takes the gates and the gated fields as two inputs
        t = c.to([trivial, irrep1, trivial, irrep2, irrep1])
        self.stem = c.sequential()
        self.branch = nn.BranchingModule(t, ["g", "v", "g", "v", "n"])
        tg, tv, tn = nn.FieldType(gs, [trivial] * 2), nn.FieldType(gs, [irrep1, irrep2]), nn.FieldType(gs, [irrep1])
        self.merge = nn.MergeModule([(nn.GatedNonLinearity2((tg, tv)), ["g", "v"]),
                                     (nn.NormNonLinearity(tn, "n_sigmoid"), "n")])
        c.type = self.merge.out_type
        c.used |= {"BranchingModule", "MergeModule", "GatedNonLinearity2", "SequentialModule"}

        if finite:
            sub_id = 4 if not flips else (None, 4)
            H = G.subgroup(sub_id)[0]
            induced, quotient = gs.induced_repr(sub_id, H.irrep(1)), gs.quotient_repr(sub_id)
            c.on([quotient, quotient, induced, induced], lambda t: nn.InducedGatedNonLinearity1(t))
            c.add(nn.InducedNormBatchNorm(c.type))
            c.add(nn.InducedNormNonLinearity(c.type, "n_sigmoid"))
            if not flips:
                c.on([gs.regular_repr] * 2, lambda t: nn.VectorFieldNonLinearity(t))
            head_types = {"reg": [gs.regular_repr] * 2, "ind": [induced], "irr": [irrep1, irrep2]}
            head = [(nn.GroupPooling, "reg"), (nn.InducedNormPool, "ind"), (nn.NormPool, "irr")]
        else:
            head_types = {"irr": [irrep1, irrep2, trivial]}
            head = [(nn.NormPool, "irr")]
        labels = [label for label, reprs in head_types.items() for _ in reprs]
        c.to([rho for reprs in head_types.values() for rho in reprs])
        restrict_id = {"C8": 4, "D4": (0, 4), "SO2": 4, "O2": (0.0, 4)}[_group_name(gs)]
        c.add(nn.RestrictionModule(c.type, restrict_id))
        sub = c.type.gspace
        head_in = {label: nn.FieldType(sub, [rho.restrict(restrict_id) for rho in reprs])
                   for label, reprs in head_types.items()}
        self.tail = nn.ModuleList(c.modules)
        self.features_type = c.type
        self.head = nn.SequentialModule(
            nn.MultipleModule(c.type, labels, [(pool(head_in[label]), label) for pool, label in head]))
        self.head.add_module("global", nn.PointwiseAdaptiveAvgPool(self.head.out_type, 1))
        c.used |= {"ModuleList", "MultipleModule", "PointwiseAdaptiveAvgPool"} | {p.__name__ for p, _ in head}
        self.used = c.used

    def features(self, x):
        x = self.merge(self.branch(self.stem(x)))
        for module in self.tail:
            x = module(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.unwrap(self.head(self.features(self.wrap(x)))).flatten(1)


def _group_name(gs):
    return {"8-Rotations": "C8", "Continuous-Rotations": "SO2"}.get(gs.name) or (
        "D4" if gs.name.startswith("Flip_4") else "O2")


# test_scale builds the same networks from this table
GSPACES = gspace_table("C8", "D4", "SO2", "O2")

# every module of e2layers.nn and where it is supported (the plain-tensor helpers are not modules)
ALL_MODULES = {name for name in nn.__all__ if isinstance(getattr(nn, name), type)
               and issubclass(getattr(nn, name), nn.EquivariantModule) and name != "EquivariantModule"
               and getattr(nn, name).__name__ == name}          # escnn's "...2D" aliases are the same classes
#: modules that do not take images: tested on their own inputs in test_r2pointconv.py and test_no_base_space.py
NOT_ON_IMAGES = {"R2PointConv", "IIDBatchNorm1d"}
ONLY_FINITE = {"ConcatenatedNonLinearity", "InducedGatedNonLinearity1", "InducedNormBatchNorm",
               "InducedNormNonLinearity", "InducedNormPool", "GroupPooling", "VectorFieldNonLinearity",
               "SubgroupPooling"}
ONLY_CYCLIC = {"VectorFieldNonLinearity"}


def _trained(name, dtype=torch.float64):
    torch.manual_seed(0)
    net = Net(GSPACES[name]()).to(dtype)
    optimiser = torch.optim.SGD(net.parameters(), lr=1e-2)
    for _ in range(2):                      # batch-norm statistics and weights move away from their init
        loss = net(torch.randn(4, 3, SIZE, SIZE, dtype=dtype)).square().mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return net.eval()


@pytest.fixture(scope="module")
def networks():
    return {}


def _net(networks, name):
    if name not in networks:
        networks[name] = _trained(name)
    return networks[name]


def _grid_elements(gs):
    return [g for g in gs.testing_elements if gs.is_grid_element(g)]


@pytest.mark.parametrize("name", list(GSPACES))
def test_network_uses_every_supported_module(networks, name):
    net = _net(networks, name)
    expected = set(ALL_MODULES) - NOT_ON_IMAGES
    if name in ("SO2", "O2"):
        expected -= ONLY_FINITE
    if name != "C8":
        expected -= ONLY_CYCLIC
    assert expected - net.used == set()
    assert {type(m).__name__ for m in net.modules()} >= expected


@pytest.mark.parametrize("name", list(GSPACES))
def test_network_equivariance_and_invariance(networks, name):
    """Eval mode (after two training steps), float64: features equivariant, pooled output invariant."""
    net = _net(networks, name)
    gs = GSPACES[name]()
    t_in = net.wrap.out_type
    x = nn.GeometricTensor(torch.randn(3, 3, SIZE, SIZE, dtype=torch.float64), t_in)
    with torch.no_grad():
        y = net(x.tensor)
        f = net.features(x)
        assert y.shape == (3, net.head.out_type.size) and y.abs().max() > 1e-3
        sub = net.features_type.gspace
        for g in _grid_elements(gs):
            gx = x.transform(g)
            torch.testing.assert_close(net(gx.tensor), y, rtol=0, atol=1e-9 * y.abs().max().item())
            h = g if sub.fibergroup == gs.fibergroup else _to_subgroup(gs, sub, g)
            expected = f.transform(h).tensor
            torch.testing.assert_close(net.features(gx).tensor, expected, rtol=0,
                                       atol=1e-9 * expected.abs().max().item())
        noise = net(torch.randn_like(x.tensor))
        assert (noise - y).abs().max() > 1e-3       # the output does depend on the input


def _to_subgroup(gs, sub, g):
    """The element of the restricted gspace that acts on the grid as ``g`` does."""
    matches = [h for h in sub.grid_elements()
               if torch.equal(sub.basespace_action_torch(_probe_grid(), h), gs.basespace_action_torch(_probe_grid(), g))]
    assert len(matches) == 1
    return matches[0]


def _probe_grid():
    return torch.arange(25.0).reshape(1, 1, 5, 5)


@pytest.mark.parametrize("name", ["C8", "D4", "SO2", "O2"])
def test_network_invariance_in_train_mode(name):
    """Train mode, float32: batch statistics are invariant, so the output is (dropout switched off).  Each
    forward starts from the same running statistics (NormBatchNorm normalises by the updated ones, as e2cnn)."""
    torch.manual_seed(1)
    net = Net(GSPACES[name]()).train()
    for m in net.modules():
        if isinstance(m, (nn.PointwiseDropout, nn.FieldDropout)):
            m.eval()
    gs = GSPACES[name]()
    x = nn.GeometricTensor(torch.randn(4, 3, SIZE, SIZE), net.wrap.out_type)
    start = copy.deepcopy(net.state_dict())
    with torch.no_grad():
        y = net(x.tensor)
        after = copy.deepcopy(net.state_dict())
        # float32 rounding only: measured over 20 seeds (torch threads 1 and 2), the output differs by at most
        # 180 ulps of max |y| (C8; D4 73, SO2 7, O2 8) and the running statistics by at most 9 ulps of the
        # largest one (~1, a running variance); the tolerances leave a margin of ~3
        stats_scale = max(v.abs().max().item() for v in after.values() if v.is_floating_point() and v.numel())
        for g in _grid_elements(gs):
            net.load_state_dict(start)
            assert_close_up_to_rounding(net(x.transform(g).tensor), y, ulps=512)
            for key, value in net.state_dict().items():       # running statistics are invariant too
                torch.testing.assert_close(value, after[key], rtol=0, atol=32 * EPS32 * stats_scale, msg=key)


@pytest.mark.parametrize("name", ["C8", "D4"])
def test_network_exports(networks, name):
    net = _net(networks, name)
    x = torch.randn(2, 3, SIZE, SIZE, dtype=torch.float64)
    with torch.no_grad():
        expected = net(x)
        plain = nn.export(net)
        assert not any(isinstance(m, nn.EquivariantModule) for m in plain.modules())
        torch.testing.assert_close(plain(x), expected, rtol=0, atol=1e-12)
        program = torch.export.export(plain, (x,))
        torch.testing.assert_close(program.module()(x), expected, rtol=0, atol=1e-12)
    restored = pickle.loads(pickle.dumps(net))
    with torch.no_grad():
        torch.testing.assert_close(restored(x), expected, rtol=0, atol=0)
    assert set(net.state_dict()) == set(copy.deepcopy(net).train().state_dict())


@pytest.mark.slow
def test_torch_compile_of_the_network_and_its_export(networks):
    net = _net(networks, "C8")
    x = torch.randn(2, 3, SIZE, SIZE, dtype=torch.float64)
    with torch.no_grad():
        expected = net(x)
        for model in (net, nn.export(net)):
            compiled = torch.compile(model)
            torch.testing.assert_close(compiled(x), expected, rtol=1e-9, atol=1e-9 * expected.abs().max().item())


def test_docs_list_every_module():
    """docs/modules.md has a row for every equivariant module and export helper of e2layers.nn."""
    text = (ROOT / "docs" / "modules.md").read_text()
    documented = {name for name in nn.__all__ if f"`{name}(" in text}
    wanted = ALL_MODULES | {"MaxPoolChannels", "TensorToGeometric", "GeometricToTensor", "FieldType", "GeometricTensor"}
    assert wanted - documented == set()
