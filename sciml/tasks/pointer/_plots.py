"""The pointer job's plot: a few test sets with the network's answer and the reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sciml.data import atomic_write

__all__ = ["plot_examples"]


def _draw(ax, problem: str, pts: np.ndarray, seq: list[int], style: str, color: str) -> None:
    if problem == "delaunay":
        for i in range(0, len(seq) - 2, 3):
            tri = list(seq[i:i + 3]) + [seq[i]]
            ax.plot(pts[tri, 0], pts[tri, 1], style, color=color, lw=1)
    elif seq:
        loop = list(seq) + [seq[0]]
        ax.plot(pts[loop, 0], pts[loop, 1], style, color=color, lw=1.2)


def plot_examples(problem: str, sets: list[tuple[np.ndarray, list[int], list[int]]], path: Path,
                  title: str) -> None:
    """One panel per set: its points, the answer (solid) and the reference (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sets), figsize=(3 * len(sets), 3.2), squeeze=False)
    try:
        for ax, (pts, answer, reference) in zip(axes[0], sets, strict=True):
            _draw(ax, problem, pts, reference, "--", "tab:gray")
            _draw(ax, problem, pts, answer, "-", "tab:blue")
            ax.scatter(pts[:, 0], pts[:, 1], s=8, color="black", zorder=3)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_aspect("equal")
            ax.set_title(f"{len(pts)} points", fontsize=8)
        fig.suptitle(title, fontsize=9)
        fig.tight_layout()
        with atomic_write(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
    finally:
        plt.close(fig)
