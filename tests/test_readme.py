"""The README's Python blocks run as written, and what their comments promise holds (so it cannot go stale)."""
import re
from pathlib import Path

import pytest
import torch
from rounding import assert_close_up_to_rounding

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)

pytestmark = pytest.mark.usefixtures("private_cache")


def _run(block: str) -> dict:
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)     # the README's own text, not user input
    return namespace


def test_the_readme_has_its_python_blocks():
    assert len(BLOCKS) >= 2


def test_getting_started_snippet():
    (block,) = [b for b in BLOCKS if "from e2layers import gspaces, nn" in b]
    ns = _run(block)
    conv, x = ns["conv"], ns["x"]
    y = conv(x)
    assert y.shape == torch.Size([16, 80, 28, 28])                         # the comment's shape
    conv.eval()
    plain = conv.export()
    assert isinstance(plain, torch.nn.Conv2d)
    assert_close_up_to_rounding(plain(x.tensor), conv(x).tensor)   # "with the same output"


def test_engine_snippet():
    (block,) = [b for b in BLOCKS if "from basisgen import cache" in b]
    ns = _run(block)
    assert ns["A"] and all(ns["basisgen"].verify(a) for a in ns["A"])
    assert ns["basis"].shape[1:] == (16, 16, 7, 7)                          # "(B, 16, 16, 7, 7) filters"


def test_pdo_snippet_and_latex_block():
    """The PDO block runs after the getting-started one (it reuses its field types) and builds the layers it
    says; the LaTeX block is what the command prints."""
    from basisgen import cyclic_group
    from basisgen.pdo_latex import pdo_basis_latex
    (start,) = [b for b in BLOCKS if "from e2layers import gspaces, nn" in b]
    (block,) = [b for b in BLOCKS if "nn.R2Diffop(" in b]
    ns = _run(start + block)
    assert ns["pdo"].maximum_order == 4 and ns["pdo"].discretization.method == "fd"
    assert ns["smooth"].discretization.method == "gauss"
    text = re.search(r"\$ basisgen latex C4 --in 0 --out 0 --diffop --maximum-order 4\n(.*?)```", README, re.S).group(1)
    G = cyclic_group(4)
    assert text.strip() == pdo_basis_latex(G, G.irrep(0), G.irrep(0), maximum_order=4).strip()


def test_every_latex_command_shown_prints_what_the_readme_says():
    """Each ``$ basisgen latex ...`` in a text block of the README, run through the command line, prints exactly
    the lines that follow it (up to the next ``$`` line or the end of the block)."""
    import shlex

    from click.testing import CliRunner

    from basisgen import cli
    shown = []
    for block in re.findall(r"```text\n(.*?)```", README, flags=re.S):
        for command, output in re.findall(r"^\$ basisgen (latex .*?)\n(.*?)(?=^\$ |\Z)", block, flags=re.S | re.M):
            shown.append((command, output))
    assert len(shown) >= 4
    for command, output in shown:
        result = CliRunner().invoke(cli.main, shlex.split(command))
        assert result.exit_code == 0, (command, result.output)
        assert result.stdout.strip() == output.strip(), f"README is stale: basisgen {command}"


def test_beyond_e2cnn_snippet():
    """The escnn-extras block runs, and what its comments say holds."""
    from e2layers import nn as e2nn
    (block,) = [b for b in BLOCKS if "nn.R2PointConv(" in b]
    ns = _run(block)
    y = ns["y"]
    assert y.shape == torch.Size([500, 28]) and y.coords is not None and torch.equal(y.coords, ns["coords"])
    x = e2nn.GeometricTensor(torch.randn(7, ns["vectors"].size), ns["vectors"])
    ns["mlp"].eval()
    e2nn.assert_equivariant(ns["mlp"], x, action=e2nn.act_on_fibres)                 # invariant output
    net, c4_net = ns["net"], ns["c4_net"]
    image = torch.randn(2, 1, 13, 13)
    assert_close_up_to_rounding(c4_net(e2nn.GeometricTensor(image, c4_net.in_type)).tensor,
                                net(e2nn.GeometricTensor(image, net.in_type)).tensor)     # "the same outputs"
    assert c4_net.in_type.gspace.fibergroup.order() == 4
    assert ns["rotation_only"].out_type.size == 4 * 4          # N = 4 channels per D4 regular field
