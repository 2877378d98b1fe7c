"""Turn an image through a full circle: a steerable CNN's feature fields turn with it, a plain CNN's do not.

A randomly initialised steerable CNN (SO(2) by default: irrep fields with gated non-linearities) and a
randomly initialised plain CNN of the same depth, kernel sizes and widths both map a grayscale image to
one scalar field and one vector field.  The image is rotated by theta through a full turn; each frame
shows, for both networks, the response (scalar in colour, vector as arrows) and the same response seen
in the co-rotating frame, i.e. acted on by g^{-1} = rotation by -theta (the plane *and* the arrows turn
back).  Equivariance, f(g x) = g f(x), means the steerable network's picture stands still there; the
plain CNN's changes from frame to frame.

The numbers behind the picture: for each angle, the relative difference (L2, inside the disc)

    err(theta) = || g^{-1} f(g x) - f(x) || / || f(x) ||.

At multiples of 90 degrees the rotation maps the pixel grid onto itself and the steerable network's
error is float32 round-off (about 1e-6); in between, rotating the image interpolates (a spline of order
2, both ways: the 97-pixel photograph itself comes back 6% off), which costs the steerable network
about 2%.  The plain CNN's error grows to O(1) within a few tens of degrees and stays there.

Run from the repository root::

    python examples/equivariance_demo.py                     # 36 frames -> equivariance_demo/{.gif,.png}
    python examples/equivariance_demo.py --out docs          # the README's docs/equivariance_demo.{gif,png}
    python examples/equivariance_demo.py --quick             # 8 frames of a small image, a few seconds
    python examples/equivariance_demo.py --image photo.jpg --group C16 --frames 72

The input is matplotlib's bundled sample photograph (``grace_hopper.jpg``), nothing to download.

From Python::

    from examples.equivariance_demo import DemoConfig, run_demo
    result = run_demo(DemoConfig(frames=8, size=49), out="equivariance_demo")
    result.errors["steerable"]        # err(theta) for result.angles (degrees)
"""
from __future__ import annotations

import argparse
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from e2layers import gspaces, nn

log = logging.getLogger("equivariance_demo")

__all__ = ["DemoConfig", "DemoResult", "load_image", "disc_mask", "build_steerable", "build_plain",
           "rotate_fields", "respond", "relative_error", "run_demo", "main"]

#: the networks' output: channel 0 is read as a scalar field, channels 1-2 as a vector field (x right, y up)
OUT_CHANNELS = 3


@dataclass(frozen=True)
class DemoConfig:
    """What to draw: ``frames`` angles 360 k / frames of an image ``size`` pixels wide (odd: the centre is a pixel).

    ``group`` is ``"SO2"`` (irrep fields of frequency 1 and 2, gated non-linearities) or ``"C<N>"``
    (regular fields, ReLU).  Both networks have ``len(widths) + 1`` convolutions of size
    ``kernel_size``; ``widths`` counts the fields of each hidden layer (the plain CNN gets the same
    number of channels as the steerable layer's output).
    """
    frames: int = 36
    size: int = 97
    group: str = "SO2"
    widths: Tuple[int, ...] = (4, 8, 8)
    kernel_size: int = 7
    image: Optional[str] = None
    seed: int = 0
    strip: int = 6
    arrow_step: int = 6
    dpi: int = 80

    def __post_init__(self):
        if not isinstance(self.frames, int) or self.frames < 1:
            raise ValueError(f"frames must be a positive int, got {self.frames!r}")
        if not isinstance(self.size, int) or self.size < 9 or self.size % 2 == 0:
            raise ValueError(f"size must be an odd int >= 9 (the rotation centre is a pixel), got {self.size!r}")
        if not isinstance(self.kernel_size, int) or self.kernel_size < 3 or self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be an odd int >= 3, got {self.kernel_size!r}")
        if not self.widths or any(not isinstance(w, int) or w < 1 for w in self.widths):
            raise ValueError(f"widths must be a non-empty tuple of positive ints, got {self.widths!r}")
        _parse_group(self.group)
        if self.disc_radius < 4:
            raise ValueError(f"size {self.size} leaves no room for a disc inside the border the "
                             f"{len(self.widths) + 1} convolutions of size {self.kernel_size} disturb")

    @property
    def disc_radius(self) -> float:
        """The radius of the disc the input lives on and the errors are measured in.

        Zero padding makes the image border visible to every layer after the first (their inputs are
        a non-zero constant outside the image, the padding is zero), so the outermost
        ``len(widths) * kernel_size // 2`` pixels see a square, not a disc; the disc stays inside.
        """
        return (self.size - 1) / 2 - len(self.widths) * (self.kernel_size // 2) - 1

    @property
    def angles(self) -> List[float]:
        return [360 * k / self.frames for k in range(self.frames)]


def _parse_group(name: str) -> int:
    """``"SO2"`` -> -1, ``"C<N>"`` -> N."""
    if name == "SO2":
        return -1
    if isinstance(name, str) and name[:1] == "C" and name[1:].isdigit() and int(name[1:]) >= 2:
        return int(name[1:])
    raise ValueError(f"group must be 'SO2' or 'C<N>' with N >= 2 (e.g. 'C16'), got {name!r}")


# ---- the input -------------------------------------------------------------------------------------------
def disc_mask(size: int, radius: float, edge: float = 2.0) -> np.ndarray:
    """1 inside the disc of ``radius`` around the centre pixel, 0 outside, a linear ramp ``edge`` px wide.

    The soft edge keeps the rotated image free of the staircase a hard disc has on the pixel grid.
    """
    r = np.hypot(*np.mgrid[:size, :size] - (size - 1) / 2)
    return np.clip((radius - r) / edge + 0.5, 0.0, 1.0).astype(np.float32)


def load_image(path: Optional[str], size: int, radius: float) -> np.ndarray:
    """A grayscale, centre-cropped, ``size`` x ``size`` image with zero mean and unit variance on the disc,
    zero outside it.  ``path=None`` takes matplotlib's bundled ``grace_hopper.jpg``."""
    from matplotlib import cbook
    from PIL import Image

    if path is None:
        with cbook.get_sample_data("grace_hopper.jpg") as f:
            image = Image.open(f).convert("L")
    else:
        if not Path(path).is_file():
            raise FileNotFoundError(f"image {path!r} does not exist")
        image = Image.open(path).convert("L")
    w, h = image.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((size, size), Image.LANCZOS)
    x = np.asarray(image, dtype=np.float32) / 255
    mask = disc_mask(size, radius)
    inside = mask > 0.5
    x = (x - x[inside].mean()) / max(float(x[inside].std()), 1e-6)
    return (x * mask).astype(np.float32)


# ---- the networks ----------------------------------------------------------------------------------------
def build_steerable(config: DemoConfig) -> torch.nn.Module:
    """Conv-nonlinearity blocks, then a convolution to one trivial and one irrep(1) field.

    SO(2): each hidden layer has ``w`` scalar fields (ReLU) and ``w`` fields each of frequency 1 and 2,
    gated by ``2 w`` scalar gates.  C_N: ``w`` regular fields with ReLU.
    """
    N = _parse_group(config.group)
    k, pad = config.kernel_size, config.kernel_size // 2
    gs = gspaces.Rot2dOnR2(N=-1, maximum_frequency=2) if N == -1 else gspaces.Rot2dOnR2(N=N)
    field_type = nn.FieldType(gs, [gs.trivial_repr])
    layers = []
    for w in config.widths:
        if N == -1:
            scalars = nn.FieldType(gs, w * [gs.trivial_repr])
            gated = nn.FieldType(gs, w * [gs.irrep(1)] + w * [gs.irrep(2)])
            gates = nn.FieldType(gs, len(gated) * [gs.trivial_repr])
            hidden = scalars + gates + gated
            labels = len(scalars) * ["scalar"] + (len(gates) + len(gated)) * ["gated"]
            nonlinearity = nn.MultipleModule(hidden, labels, [(nn.ReLU(scalars), "scalar"),
                                                              (nn.GatedNonLinearity1(gates + gated), "gated")])
        else:
            hidden = nn.FieldType(gs, w * [gs.regular_repr])
            nonlinearity = nn.ReLU(hidden)
        layers += [nn.R2Conv(field_type, hidden, k, padding=pad), nonlinearity]
        field_type = nonlinearity.out_type
    out_type = nn.FieldType(gs, [gs.trivial_repr, gs.irrep(1)])
    layers.append(nn.R2Conv(field_type, out_type, k, padding=pad))
    return torch.nn.Sequential(nn.TensorToGeometric(layers[0].in_type), nn.SequentialModule(*layers),
                               nn.GeometricToTensor())


def build_plain(config: DemoConfig, steerable: torch.nn.Module) -> torch.nn.Sequential:
    """Conv2d-ReLU blocks with the steerable network's kernel size and hidden widths (in channels), then
    a Conv2d to 3 channels; PyTorch's default (random) initialisation."""
    convs = [m for m in steerable.modules() if isinstance(m, nn.R2Conv)]
    k, pad = config.kernel_size, config.kernel_size // 2
    layers, c_in = [], 1
    for conv in convs[1:]:
        layers += [torch.nn.Conv2d(c_in, conv.in_type.size, k, padding=pad), torch.nn.ReLU()]
        c_in = conv.in_type.size
    layers.append(torch.nn.Conv2d(c_in, OUT_CHANNELS, k, padding=pad))
    return torch.nn.Sequential(*layers)


# ---- rotations and errors --------------------------------------------------------------------------------
def rotate_fields(x: torch.Tensor, degrees: float, vector: bool) -> torch.Tensor:
    """The action of the rotation by ``degrees`` (counter-clockwise on screen) on a batch of fields.

    ``vector=False``: ``x`` is (B, 1, H, W) scalars; ``True``: (B, 3, H, W), a scalar and a vector.
    This is e2layers' own action (``FieldType.transform`` of SO(2)): exact ``rot90`` at multiples of
    90 degrees, a spline of order 2 otherwise; the vector's components turn by the same angle.
    """
    so2 = gspaces.Rot2dOnR2(N=-1, maximum_frequency=1)
    field_type = nn.FieldType(so2, [so2.trivial_repr, so2.irrep(1)] if vector else [so2.trivial_repr])
    return field_type.transform(x, math.radians(degrees) % (2 * math.pi))


@torch.no_grad()
def respond(network: torch.nn.Module, images: torch.Tensor, batch_size: int = 12) -> torch.Tensor:
    network.eval()
    return torch.cat([network(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])


def relative_error(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    """|| a - b || / || b || over the pixels where ``mask`` is true (all channels)."""
    return ((a - b)[..., mask].norm() / b[..., mask].norm()).item()


# ---- the run ---------------------------------------------------------------------------------------------
@dataclass
class DemoResult:
    """The angles (degrees), each network's responses and co-rotated responses (frames, 3, H, W), the
    errors err(theta) per network, and the files written."""
    config: DemoConfig
    angles: List[float]
    inputs: np.ndarray
    mask: np.ndarray
    responses: Dict[str, np.ndarray]
    co_rotated: Dict[str, np.ndarray]
    errors: Dict[str, np.ndarray]
    files: Dict[str, Path] = field(default_factory=dict)

    def error_at(self, network: str, degrees: float) -> float:
        """err(``degrees``) of ``network`` ("steerable" or "plain"); the angle must be one of the frames."""
        for angle, err in zip(self.angles, self.errors[network]):
            if math.isclose(angle, degrees, abs_tol=1e-9):
                return float(err)
        raise ValueError(f"degrees must be one of the frames' angles {self.angles}, got {degrees!r}")


NETWORKS = {"steerable": "steerable CNN", "plain": "plain CNN"}


def run_demo(config: DemoConfig = DemoConfig(), out: Optional[str] = "equivariance_demo") -> DemoResult:
    """Rotate, respond, co-rotate, measure; with ``out``, also write ``equivariance_demo.gif`` and ``.png`` there."""
    torch.manual_seed(config.seed)
    image = load_image(config.image, config.size, config.disc_radius)
    steerable = build_steerable(config)
    networks = {"steerable": steerable, "plain": build_plain(config, steerable)}
    x = torch.from_numpy(image)[None, None]
    rotated = torch.cat([rotate_fields(x, a, vector=False) for a in config.angles])
    mask = torch.from_numpy(disc_mask(config.size, config.disc_radius) > 0.5)
    result = DemoResult(config, config.angles, rotated[:, 0].numpy(), mask.numpy(), {}, {}, {})
    for name, network in networks.items():
        y = respond(network, rotated)
        back = torch.cat([rotate_fields(y[i:i + 1], -a, vector=True) for i, a in enumerate(config.angles)])
        result.responses[name], result.co_rotated[name] = y.numpy(), back.numpy()
        result.errors[name] = np.array([relative_error(back[i], y[0], mask) for i in range(config.frames)])
    _log_table(result)
    if out is not None:
        directory = Path(out)
        directory.mkdir(parents=True, exist_ok=True)
        result.files["gif"] = save_gif(result, directory / "equivariance_demo.gif")
        result.files["png"] = save_strip(result, directory / "equivariance_demo.png")
        for kind, path in result.files.items():
            log.info("wrote %s (%.0f kB)", path, path.stat().st_size / 1024)
    return result


# ---- drawing ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _FieldStyle:
    """One network's colour limit and arrow scale, taken from its response to the unrotated image and
    kept for every frame, so that what changes between frames is the field, not the scale."""
    vmax: float
    arrow_norm: float

    @staticmethod
    def of(response: np.ndarray, mask: np.ndarray) -> "_FieldStyle":
        scalar, vector = response[0][mask], np.hypot(response[1], response[2])[mask]
        return _FieldStyle(float(np.quantile(np.abs(scalar), 0.99)) or 1.0, float(np.quantile(vector, 0.9)) or 1.0)


def _draw_image(ax, image: np.ndarray, mask: np.ndarray) -> None:
    ax.imshow(np.where(mask, image, np.nan), cmap="gray", interpolation="nearest")
    _bare(ax)


def _draw_field(ax, fields: np.ndarray, mask: np.ndarray, style: _FieldStyle, step: int) -> None:
    """The scalar field (channel 0) in colour, the vector field (channels 1, 2: x right, y up) as arrows."""
    ax.imshow(np.where(mask, fields[0], np.nan), cmap="RdBu_r", vmin=-style.vmax, vmax=style.vmax,
              interpolation="nearest")
    size = fields.shape[-1]
    centre = (size - 1) // 2
    # arrows on a lattice through the centre pixel, so a quarter turn maps the lattice onto itself
    idx = np.arange(centre % step, size, step)
    rows, cols = np.meshgrid(idx, idx, indexing="ij")
    keep = mask[rows, cols]
    u, v = fields[1][rows, cols][keep], fields[2][rows, cols][keep]
    # length proportional to the norm, capped (the same cap in every frame) so a few strong arrows do not
    # shrink all the others to dots
    cap = np.minimum(1.0, 1.5 * style.arrow_norm / np.maximum(np.hypot(u, v), 1e-30))
    u, v = u * cap, v * cap
    # angles="uv": v points up on the screen (y runs along the rows upwards; docs/math.md, "Conventions:
    # the plane, the grid and the rotation direction")
    ax.quiver(cols[keep], rows[keep], u, v, angles="uv", scale_units="xy", scale=style.arrow_norm / (0.6 * step),
              width=0.006, headwidth=3.5, headlength=4, headaxislength=3.5, color="black")
    _bare(ax)


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _error_label(ax, err: float) -> None:
    text = "err 0" if err == 0 else f"err {err:.0e}" if err < 1e-3 else f"err {err:.3f}"
    ax.text(0.02, 0.02, text, transform=ax.transAxes,
            fontsize=8, va="bottom", ha="left", bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8))


def save_gif(result: DemoResult, path: Path, fps: int = 8) -> Path:
    """One frame per angle: the rotated input, each network's response in the image frame and in the
    co-rotating frame, and err(theta) so far.

    Frames are drawn with matplotlib and quantised to one shared palette without dithering (matplotlib's
    ``PillowWriter`` dithers every frame, which compresses badly).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    cfg, mask = result.config, result.mask
    styles = {n: _FieldStyle.of(result.responses[n][0], mask) for n in NETWORKS}
    fig = Figure(figsize=(8.4, 6.0), dpi=cfg.dpi)
    canvas = FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 3, left=0.01, right=0.99, top=0.86, bottom=0.02, wspace=0.06, hspace=0.16)
    ax_input = fig.add_subplot(grid[0, 0])
    ax_error = fig.add_axes((0.085, 0.09, 0.22, 0.3))
    ax_fields = {n: (fig.add_subplot(grid[i, 1]), fig.add_subplot(grid[i, 2])) for i, n in enumerate(NETWORKS)}
    group = "SO(2)" if cfg.group == "SO2" else cfg.group
    frames = []
    for frame, angle in enumerate(result.angles):
        for ax in [ax_input, ax_error, *sum(ax_fields.values(), ())]:
            ax.clear()
        _draw_image(ax_input, result.inputs[frame], mask)
        ax_input.set_title("input  g·x", fontsize=11)
        for name, (ax_lab, ax_co) in ax_fields.items():
            label = f"{NETWORKS[name]} ({group})" if name == "steerable" else NETWORKS[name]
            _draw_field(ax_lab, result.responses[name][frame], mask, styles[name], cfg.arrow_step)
            ax_lab.set_title(f"{label}:  f(g·x)", fontsize=11)
            _draw_field(ax_co, result.co_rotated[name][frame], mask, styles[name], cfg.arrow_step)
            ax_co.set_title("co-rotating frame:  g⁻¹·f(g·x)", fontsize=11)
            _error_label(ax_co, result.errors[name][frame])
        for name, colour in zip(NETWORKS, ("tab:red", "tab:blue")):
            ax_error.semilogy(result.angles[:frame + 1], np.maximum(result.errors[name][:frame + 1], 1e-8),
                              "o-", ms=2.5, lw=1, color=colour, label=NETWORKS[name])
        ax_error.set_xlim(-5, 365)
        ax_error.set_ylim(1e-8, 10)
        ax_error.set_xticks([0, 90, 180, 270, 360])
        ax_error.set_yticks([1e-8, 1e-6, 1e-4, 1e-2, 1])
        ax_error.tick_params(labelsize=8)
        ax_error.set_xlabel("θ (degrees)", fontsize=9, labelpad=1)
        ax_error.set_title("‖g⁻¹·f(g·x) − f(x)‖ / ‖f(x)‖", fontsize=10)
        ax_error.legend(fontsize=8, loc="lower right", frameon=False)
        fig.suptitle(f"input rotated by θ = {angle:.0f}°: the steerable CNN's fields turn with it (they stand\n"
                     "still in the co-rotating frame), the plain CNN's change", fontsize=12)
        canvas.draw()
        frames.append(Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3]))
    palette = _shared_palette(frames)
    quantised = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    quantised[0].save(path, save_all=True, append_images=quantised[1:], duration=round(1000 / fps), loop=0,
                      optimize=True)
    return path


def _shared_palette(frames: list):
    """A 128-colour palette for all frames (fitted to a mosaic of a few of them)."""
    from PIL import Image

    sample = frames[::max(1, len(frames) // 6)]
    w, h = sample[0].size
    mosaic = Image.new("RGB", (w, h * len(sample)))
    for i, f in enumerate(sample):
        mosaic.paste(f, (0, i * h))
    return mosaic.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def save_strip(result: DemoResult, path: Path) -> Path:
    """A few angles side by side: the rotated input, then each network's response in the co-rotating frame."""
    from matplotlib.figure import Figure

    cfg, mask = result.config, result.mask
    # evenly spaced frames: the largest divisor of the frame count that is at most cfg.strip
    count = max(c for c in range(1, min(cfg.strip, cfg.frames) + 1) if cfg.frames % c == 0)
    frames = [i * cfg.frames // count for i in range(count)]
    styles = {n: _FieldStyle.of(result.responses[n][0], mask) for n in NETWORKS}
    group = "SO(2)" if cfg.group == "SO2" else cfg.group
    fig = Figure(figsize=(1.6 * count + 0.5, 5.3), dpi=cfg.dpi * 1.5)
    axes = fig.subplots(3, count, squeeze=False)
    for j, frame in enumerate(frames):
        _draw_image(axes[0, j], result.inputs[frame], mask)
        axes[0, j].set_title(f"θ = {result.angles[frame]:.0f}°", fontsize=10)
        for i, name in enumerate(NETWORKS, start=1):
            _draw_field(axes[i, j], result.co_rotated[name][frame], mask, styles[name], cfg.arrow_step)
            _error_label(axes[i, j], result.errors[name][frame])
    axes[0, 0].set_ylabel("input  g·x", fontsize=10)
    axes[1, 0].set_ylabel(f"steerable CNN ({group})\ng⁻¹·f(g·x)", fontsize=10)
    axes[2, 0].set_ylabel("plain CNN\ng⁻¹·f(g·x)", fontsize=10)
    fig.suptitle("Random networks' scalar (colour) and vector (arrows) fields, seen in the co-rotating frame",
                 fontsize=11)
    fig.subplots_adjust(left=0.09, right=0.99, top=0.9, bottom=0.01, wspace=0.04, hspace=0.08)
    fig.savefig(path)
    return path


def _log_table(result: DemoResult) -> None:
    log.info("relative error of the co-rotated response, || g^-1 f(g x) - f(x) || / || f(x) || inside the disc:")
    log.info("%8s  %14s  %10s", "angle", NETWORKS["steerable"], NETWORKS["plain"])
    for angle, e_s, e_p in zip(result.angles, result.errors["steerable"], result.errors["plain"]):
        grid = "  (exact rotation)" if angle % 90 == 0 else ""
        log.info("%7.1f°  %14.2e  %10.2e%s", angle, e_s, e_p, grid)


def main(argv: Optional[Sequence[str]] = None) -> DemoResult:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="equivariance_demo", help="output directory (default: %(default)s)")
    parser.add_argument("--image", help="your own image (any format Pillow reads); default: grace_hopper.jpg")
    parser.add_argument("--frames", type=int, help="angles through the full turn (default: 36, --quick: 8)")
    parser.add_argument("--size", type=int, help="image side in pixels, odd (default: 97, --quick: 49)")
    parser.add_argument("--group", default="SO2", help="the steerable network's group: SO2 or C<N> (default: SO2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dpi", type=int, default=80, help="resolution of the GIF and PNG (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="8 frames of a 49-pixel image (a few seconds)")
    args = parser.parse_args(argv)
    if args.image is not None and not Path(args.image).is_file():
        parser.error(f"--image {args.image!r} is not a file")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    defaults = dict(frames=8, size=49, arrow_step=4) if args.quick else {}
    options = {k: v for k, v in dict(frames=args.frames, size=args.size).items() if v is not None}
    try:
        config = DemoConfig(**{**defaults, **options, "group": args.group, "image": args.image, "seed": args.seed,
                               "dpi": args.dpi})
    except ValueError as err:
        parser.error(str(err))
    return run_demo(config, args.out)


if __name__ == "__main__":
    main()
