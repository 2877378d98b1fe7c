"""Networks written the way e2cnn's users write them, for e2cnn and e2layers alike.

``build(lib)`` takes the library's modules (``lib.gspaces``, ``lib.nn``, ``lib.group``) and returns the
models, so one source builds the e2cnn reference (``tests/fixtures/e2cnn/generate_idioms.py``) and the
e2layers network under test (``tests/e2layers/test_e2cnn_idioms.py``).  Each model uses an idiom e2cnn code
relies on: ``fibergroup.rotation_order``, ``isinstance(..., DihedralGroup/CyclicGroup)``, ``representations['regular']``
before ``regular_repr`` was touched, irreps chosen by their ``frequency`` attribute (also on the flip
group, N = 1), an H-Net ``basis_filter`` on the attribute dicts, a ``try``/``except AssertionError``
fall-back, and a ``forward`` that wraps its plain input in a ``GeometricTensor`` and returns ``.tensor``.
"""
import torch


def _regular_block(nn, in_type, out_type):
    return nn.SequentialModule(nn.R2Conv(in_type, out_type, 3, padding=1, bias=False),
                               nn.InnerBatchNorm(out_type), nn.ReLU(out_type, inplace=True))


def make_rotation_net(lib):
    gspaces, nn, group = lib.gspaces, lib.nn, lib.group

    class RotationNet(torch.nn.Module):
        """A small Wide-ResNet-like D_N net: widths from the rotation order, restriction to a subgroup."""

        def __init__(self, N=4):
            super().__init__()
            self.gspace = gspaces.FlipRot2dOnR2(N)
            G = self.gspace.fibergroup
            assert isinstance(G, group.DihedralGroup) and not isinstance(G, group.CyclicGroup)
            width = max(1, 8 // G.rotation_order)
            regular = self.gspace.representations["regular"]          # registered with the group
            self.input_type = nn.FieldType(self.gspace, 3 * [self.gspace.trivial_repr])
            hidden = nn.FieldType(self.gspace, 2 * width * [regular])
            self.block1 = _regular_block(nn, self.input_type, hidden)
            self.block2 = _regular_block(nn, hidden, hidden)
            sub_id = (0, G.rotation_order // 2)
            self.restrict = nn.RestrictionModule(hidden, sub_id)
            sub_gspace, _, _ = self.gspace.restrict(sub_id)
            sub_hidden = nn.FieldType(sub_gspace, self.restrict.out_type.representations)
            self.block3 = _regular_block(nn, sub_hidden, sub_hidden)
            self.pool = nn.GroupPooling(sub_hidden)
            self.head = torch.nn.Linear(len(sub_hidden), 10)

        def forward(self, x):
            x = nn.GeometricTensor(x, self.input_type)
            x = self.block2(self.block1(x))
            x = self.block3(self.restrict(x))
            x = self.pool(x).tensor
            return self.head(x.mean(dim=(2, 3)))

    return RotationNet()


def make_hnet(lib):
    gspaces, nn = lib.gspaces, lib.nn

    class HNet(torch.nn.Module):
        """An SO(2) harmonic network: irreps up to frequency 2, the H-Net filter on the basis elements."""

        def __init__(self, max_frequency=2):
            super().__init__()
            self.gspace = gspaces.Rot2dOnR2(-1, maximum_frequency=max_frequency)
            irreps = [irr for irr in self.gspace.irreps.values()
                      if irr.attributes["frequency"] <= max_frequency]
            self.input_type = nn.FieldType(self.gspace, [self.gspace.trivial_repr])
            gates = nn.FieldType(self.gspace, len(irreps) * [self.gspace.trivial_repr])
            gated = nn.FieldType(self.gspace, irreps)
            hnet = lambda attrs: attrs["s"] == 1 if "s" in attrs else True   # noqa: E731
            self.conv1 = nn.R2Conv(self.input_type, gates + gated, 5, padding=2, basis_filter=hnet)
            self.gate1 = nn.GatedNonLinearity1(gates + gated)
            self.conv2 = nn.R2Conv(gated, gated, 5, padding=2, basis_filter=hnet)
            self.norm2 = nn.NormNonLinearity(gated, "n_relu")
            self.invariant = nn.NormPool(gated)

        def forward(self, x):
            x = nn.GeometricTensor(x, self.input_type)
            x = self.norm2(self.conv2(self.gate1(self.conv1(x))))
            return self.invariant(x).tensor.mean(dim=(2, 3))

    return HNet()


def make_flip_net(lib):
    gspaces, nn, group = lib.gspaces, lib.nn, lib.group

    class FlipNet(torch.nn.Module):
        """N = 1 with reflections: the irreps of frequency <= 1 (trivial and sign), a point-wise ReLU where
        the representation allows it, with e2cnn's ``except AssertionError`` fall-back to a norm ReLU."""

        def __init__(self, max_frequency=1, fields=3):
            super().__init__()
            self.gspace = gspaces.Flip2dOnR2()
            G = self.gspace.fibergroup
            assert isinstance(G, group.CyclicGroup) and G.order() == 2
            irreps = [irr for irr in self.gspace.fibergroup.irreps.values()
                      if irr.attributes["frequency"] <= max_frequency]
            self.input_type = nn.FieldType(self.gspace, [self.gspace.trivial_repr])
            hidden = nn.FieldType(self.gspace, fields * irreps)
            self.conv1 = nn.R2Conv(self.input_type, hidden, 5, padding=2)
            try:
                self.act1 = nn.ReLU(hidden)
            except AssertionError:
                self.act1 = nn.NormNonLinearity(hidden, "n_relu")
            self.conv2 = nn.R2Conv(hidden, nn.FieldType(self.gspace, 4 * [self.gspace.trivial_repr]), 3, padding=1)

        def forward(self, x):
            x = nn.GeometricTensor(x, self.input_type)
            return self.conv2(self.act1(self.conv1(x))).tensor

    return FlipNet()


def build(lib):
    """The models by name, with the input shape each takes."""
    return {"rotation": (make_rotation_net(lib), (2, 3, 17, 17)),
            "hnet": (make_hnet(lib), (2, 1, 15, 15)),
            "flip": (make_flip_net(lib), (2, 1, 13, 13))}
