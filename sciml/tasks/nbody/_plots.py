"""Plot of predicted vs true N-body trajectories (x-y projection)."""

from __future__ import annotations

from pathlib import Path

import torch

from sciml.data import atomic_write
from sciml.datasets import NBodySplit

__all__ = ["plot_trajectories"]


def plot_trajectories(task, split: NBodySplit, frame_in: int, frame_out: int, path: Path,
                      n_samples: int = 3) -> Path | None:
    """Draw the true trajectory from ``frame_in`` to ``frame_out`` of the first ``n_samples``
    test simulations (x-y plane), the true end points and the predicted ones."""
    if n_samples <= 0:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = min(n_samples, len(split))
    batch = {"pos": split.pos[:k], "vel": split.vel[:k], "charges": split.charges[:k]}
    task.eval()
    with torch.no_grad():
        pred = task.predict(batch).double().numpy()
    loc = split.loc[:k, frame_in:frame_out + 1].double().numpy()  # (k, T, N, 3)
    fig, axes = plt.subplots(1, k, figsize=(4 * k, 4), squeeze=False)
    for s, ax in enumerate(axes[0]):
        for p in range(loc.shape[2]):
            color = "tab:red" if float(split.charges[s, p, 0]) > 0 else "tab:blue"
            ax.plot(loc[s, :, p, 0], loc[s, :, p, 1], color=color, lw=1)
            ax.plot(loc[s, 0, p, 0], loc[s, 0, p, 1], "o", color=color, ms=4)
            ax.plot(loc[s, -1, p, 0], loc[s, -1, p, 1], "s", color=color, ms=6, mfc="none")
            ax.plot(pred[s, p, 0], pred[s, p, 1], "x", color="black", ms=7)
        mse = float(((pred[s] - loc[s, -1]) ** 2).mean())
        ax.set_title(f"test {s}: MSE {mse:.4f}")
        ax.set_aspect("equal", adjustable="datalim")
    axes[0][0].legend(handles=[
        plt.Line2D([], [], color="gray",
                   label=f"true, frames {frame_in}-{frame_out} (red +1, blue -1)"),
        plt.Line2D([], [], color="gray", marker="s", mfc="none", ls="", label="true end"),
        plt.Line2D([], [], color="black", marker="x", ls="", label="predicted end")],
        loc="best", fontsize=7)
    fig.tight_layout()
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path
