"""Plot of one test sample: input, truth, prediction and error (last frame for rollouts)."""

from __future__ import annotations

from pathlib import Path

import torch

from sciml.data import atomic_write

__all__ = ["plot_operator_sample"]


def plot_operator_sample(task, test, path: Path, index: int = 0,
                         extent: list[list[float]] | None = None) -> Path:
    """Four panels for a 2-D field (images) or one panel with three curves for a 1-D field;
    axes span ``extent`` (``(lo, hi)`` per axis; default [0, 1])."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    item = test[index]
    batch = {k: v[None] for k, v in item.items()}
    task.eval()
    with torch.no_grad():
        pred = task.predict(batch)[0]
    x, y = item["x"], item["y"]
    title = ""
    if y.dim() == x.dim() + 1:  # trajectory (T, c, *s): show the last rolled-out frame
        title = f" (frame {pred.shape[0]} of the rollout)"
        y, pred = y[pred.shape[0] - 1], pred[-1]
    x0, y0, p0 = x[0].numpy(), y[0].numpy(), pred[0].numpy()
    rel = float((pred - y).norm() / y.norm().clamp_min(1e-12))
    if x0.ndim == 3:  # a 3-D field: the middle slice across the last axis
        mid = x0.shape[-1] // 2
        x0, y0, p0 = x0[..., mid], y0[..., mid], p0[..., mid]
        title += f", slice {mid} of the last axis"
    extent = [list(axis) for axis in extent] if extent is not None else [[0.0, 1.0]] * x0.ndim
    if x0.ndim == 2:
        fig, axes = plt.subplots(1, 4, figsize=(14, 3.3))
        vmin, vmax = float(y0.min()), float(y0.max())
        panels = [
            (x0, "input", None),
            (y0, "truth", (vmin, vmax)),
            (p0, "prediction", (vmin, vmax)),
            (p0 - y0, f"error (rel L2 {rel:.3g})", None),
        ]
        for ax, (img, name, lim) in zip(axes, panels, strict=True):
            im = ax.imshow(
                img.T,
                origin="lower",
                extent=(*extent[0], *extent[1]),
                cmap="viridis",
                vmin=None if lim is None else lim[0],
                vmax=None if lim is None else lim[1],
            )
            ax.set_title(name)
            fig.colorbar(im, ax=ax, fraction=0.046)
    else:
        fig, ax = plt.subplots(figsize=(8, 3.2))
        s = torch.linspace(extent[0][0], extent[0][1], x0.shape[-1])
        ax.plot(s, x0, color="grey", lw=1, label="input")
        ax.plot(s, y0, color="black", lw=1.5, label="truth")
        ax.plot(s, p0, color="tab:orange", lw=1.2, ls="--", label=f"prediction (rel L2 {rel:.3g})")
        ax.legend(fontsize=8)
    fig.suptitle(f"test sample {index}{title}")
    fig.tight_layout()
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path
