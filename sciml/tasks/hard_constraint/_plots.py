"""Plot of a hard-constraint run: one test solution against the reference solver's."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch

from sciml.data import atomic_write
from sciml.models import HardConstrainedOperator
from sciml.physics import ConstraintSolveWarning

__all__ = ["plot_solution"]


def plot_solution(model: Any, u0: torch.Tensor, reference: torch.Tensor, path: Path) -> Path:
    """Prediction, reference and error for the first test initial state: the space–time field
    for a 1-D problem ``(n_x, n_t)``, the last frame for a 2-D one ``(s, s, n_t)``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstraintSolveWarning)
        x = u0[:1].float()
        pred = (model(x, torch.Generator().manual_seed(0))
                if isinstance(model, HardConstrainedOperator) else model(x))[0].double()
    ref = reference[0].double()
    rel = float((pred - ref).norm() / ref.norm().clamp_min(1e-12))
    if pred.dim() == 3:  # (s, s, n_t): the last frame
        pred, ref, what = pred[..., -1].T, ref[..., -1].T, "last time"
    else:  # (n_x, n_t): x along the vertical axis, t along the horizontal one
        what = "x (vertical) × t (horizontal)"
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.3))
    lo, hi = float(ref.min()), float(ref.max())
    for ax, img, title, lim in ((axes[0], pred, "prediction", (lo, hi)),
                                (axes[1], ref, "reference solver", (lo, hi)),
                                (axes[2], pred - ref, f"error (rel L2 {rel:.3g})", None)):
        im = ax.imshow(img.numpy(), origin="lower", aspect="auto",
                       vmin=None if lim is None else lim[0], vmax=None if lim is None else lim[1])
        ax.set_title(title, fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(f"test sample 0, {what}", fontsize=9)
    fig.tight_layout()
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path
