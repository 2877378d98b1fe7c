"""nn.export: whole networks mixing equivariant and plain torch modules export to plain PyTorch."""
import pickle

import pytest
import torch

from e2layers import gspaces, nn


pytestmark = pytest.mark.usefixtures("private_cache")


class MixedNet(torch.nn.Module):
    """A user network in e2cnn style: its own forward, equivariant blocks and plain torch layers."""

    def __init__(self, gs):
        super().__init__()
        t_in = nn.FieldType(gs, 3 * [gs.trivial_repr])
        t_hid = nn.FieldType(gs, 4 * [gs.regular_repr])
        self.wrap = nn.TensorToGeometric(t_in)
        self.block = nn.SequentialModule(nn.R2Conv(t_in, t_hid, 3, padding=1), nn.ReLU(t_hid),
                                         nn.PointwiseMaxPool(t_hid, 2))
        self.unwrap = nn.GeometricToTensor()
        self.head = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(t_hid.size * 16, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.unwrap(self.block(self.wrap(x))))


@pytest.mark.parametrize("gs", [gspaces.Rot2dOnR2(8), gspaces.FlipRot2dOnR2(4)], ids=["C8", "D4"])
def test_mixed_network_exports_and_matches(gs):
    net = MixedNet(gs).double().eval()
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    expected = net(x)
    plain = nn.export(net)
    assert not any(isinstance(m, (nn.EquivariantModule, nn.TensorToGeometric, nn.GeometricToTensor))
                   for m in plain.modules())
    assert isinstance(net.block, nn.SequentialModule), "export must not modify the original network"
    torch.testing.assert_close(plain(x), expected, rtol=0, atol=1e-12)
    exported_program = torch.export.export(plain, (x,))
    torch.testing.assert_close(exported_program.module()(x), expected, rtol=0, atol=1e-12)
    restored = pickle.loads(pickle.dumps(plain))
    torch.testing.assert_close(restored(x), expected, rtol=0, atol=1e-12)


def test_export_keeps_the_training_mode():
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])
    net = torch.nn.Sequential(nn.TensorToGeometric(t), nn.PointwiseDropout(t, 0.5), nn.GeometricToTensor())
    assert nn.export(net.train())[1].training
    assert not nn.export(net.eval())[1].training


def test_export_names_the_module_that_cannot_export():
    gs = gspaces.Rot2dOnR2(4)
    t = nn.FieldType(gs, [gs.regular_repr])

    class NoExport(nn.IdentityModule):
        def export(self):
            raise NotImplementedError("no plain equivalent")

    net = torch.nn.Sequential(nn.TensorToGeometric(t), torch.nn.Sequential(NoExport(t)))
    with pytest.raises(NotImplementedError, match=r"1\.0 \(NoExport\): no plain equivalent"):
        nn.export(net)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        nn.export("net")


def test_boundaries_check_their_input():
    gs = gspaces.Rot2dOnR2(4)
    with pytest.raises(TypeError, match="field_type must be a FieldType"):
        nn.TensorToGeometric([gs.regular_repr])
    with pytest.raises(TypeError, match="expects a GeometricTensor"):
        nn.GeometricToTensor()(torch.zeros(1, 4))
