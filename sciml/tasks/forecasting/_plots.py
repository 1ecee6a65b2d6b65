"""Plot of forecasts against the truth for a few sensors of the test split."""

from __future__ import annotations

from pathlib import Path

import torch

from sciml.data import atomic_write

__all__ = ["plot_forecasts"]


def plot_forecasts(
    task, test, path: Path, nodes=(0, 1, 2), node_ids=None, n_windows: int = 96
) -> Path:
    """One panel per sensor: observed series, and the 1-step and last-step forecasts over the
    first ``n_windows`` test windows (original units)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = min(len(test), n_windows)
    if n == 0:
        raise ValueError("the test split has no windows to plot")
    batch = torch.utils.data.default_collate([test[i] for i in range(n)])
    task.eval()
    with torch.no_grad():
        pred = task.predict(batch)  # (n, h, N, c)
    truth = batch["y"][..., : pred.shape[-1]]
    mask = batch["mask_y"][..., : pred.shape[-1]]
    nodes = [v for v in nodes if v < pred.shape[2]] or [0]
    h = pred.shape[1]
    fig, axes = plt.subplots(
        len(nodes), 1, figsize=(9, 2.4 * len(nodes)), sharex=True, squeeze=False
    )
    for ax, v in zip(axes[:, 0], nodes, strict=True):
        t = torch.arange(n)
        obs = truth[:, 0, v, 0].clone()
        obs[~mask[:, 0, v, 0]] = float("nan")
        ax.plot(t, obs, color="black", lw=1.2, label="observed")
        ax.plot(t, pred[:, 0, v, 0], color="tab:blue", lw=1, label="forecast, 1 step")
        ax.plot(
            t + h - 1, pred[:, -1, v, 0], color="tab:orange", lw=1, label=f"forecast, {h} steps"
        )
        name = node_ids[v] if node_ids is not None else str(v)
        ax.set_ylabel(f"sensor {name}")
    axes[0, 0].legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("test time step")
    fig.tight_layout()
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path
