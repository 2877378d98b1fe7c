"""The picture of ``basisgen plot`` (a helper of ``cli.py``): sampled basis filters as a grid of images.

One row per basis element, one small image per matrix entry (output channel, input channel), a
diverging colour map centred on 0 (each element on its own symmetric scale).  Needs matplotlib (the
``plot`` extra); it is imported here only, with the non-interactive Agg backend.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from basisgen.pdo_sampling import DiffopParams
from basisgen.sampling import SampledBasis

MISSING_MATPLOTLIB = ("basisgen plot needs matplotlib, which is not installed: pip install 'e2layers[plot]' "
                      "(or pip install matplotlib)")


def element_filter(basis: SampledBasis, b: int) -> np.ndarray:
    """Element ``b`` as a (c_out, c_in, k, k) float64 filter, without expanding the whole basis."""
    oo, ii = int(basis.out_index[b]), int(basis.in_index[b])
    out_pos = int(np.sum(basis.out_irrep_dims[:oo]))
    in_pos = int(np.sum(basis.in_irrep_dims[:ii]))
    do, di = basis.out_irrep_dims[oo], basis.in_irrep_dims[ii]
    q_out = np.asarray(basis.change_of_basis_out, dtype=np.float64)[:, out_pos:out_pos + do]
    q_in_inv = np.asarray(basis.change_of_basis_in_inv, dtype=np.float64)[in_pos:in_pos + di, :]
    block = np.asarray(basis.blocks[b, :do, :di], dtype=np.float64)
    k = basis.params.kernel_size
    return np.einsum("ca,abp,bd->cdp", q_out, block, q_in_inv).reshape(q_out.shape[0], q_in_inv.shape[1], k, k)


def _radial_label(basis: SampledBasis, attrs: dict) -> str:
    """``ring 2`` for a kernel element; ``n=3 p=1`` (order, Laplacian power) for a PDO, whose rings are its
    Laplacian powers."""
    if isinstance(basis.params, DiffopParams):
        return f"n={abs(attrs['mu']) + 2 * attrs['ring']} p={attrs['ring']}"
    return f"ring {attrs['ring']}"


def plot_basis(basis: SampledBasis, elements: Sequence[int], path: Path, title: str, dpi: int = 90) -> None:
    """Write a PNG of the given elements of ``basis`` to ``path``.  Raises ImportError without matplotlib.

    Elements are laid out side by side, as many per row as fit in about 16 images.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c_out, c_in = basis.shape[1], basis.shape[2]
    entries = c_out * c_in
    per_row = max(1, min(len(elements), 16 // entries))
    rows = -(-len(elements) // per_row)
    columns = per_row * entries
    fig, axes = plt.subplots(rows, columns, figsize=(1.1 * columns + 0.2, 1.25 * rows + 0.45), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for n, b in enumerate(elements):
        attrs = basis.attributes[b]
        filt = element_filter(basis, b)
        scale = float(np.abs(filt).max()) or 1.0
        for e in range(entries):
            o, i = divmod(e, c_in)
            ax = axes[n // per_row, (n % per_row) * entries + e]
            ax.axis("on")
            ax.imshow(filt[o, i], cmap="RdBu_r", vmin=-scale, vmax=scale, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            entry = f" [{o},{i}]" if entries > 1 else ""
            ax.set_title(f"{_radial_label(basis, attrs)}, \u03bc={attrs['mu']}{entry}", fontsize=6)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
