"""The graph jobs' plots: the test nodes' confusion matrix, the test pairs' ROC curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sciml.data import atomic_write

__all__ = ["plot_confusion", "plot_roc"]


def plot_confusion(truth: np.ndarray, pred: np.ndarray, n_classes: int, path: Path,
                   title: str) -> None:
    """Counts of (true class, predicted class) over the test nodes, with each row's recall."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(counts, (truth, pred), 1)
    fig, ax = plt.subplots(figsize=(1.2 + 0.5 * n_classes, 1.0 + 0.5 * n_classes))
    try:
        ax.imshow(counts, cmap="Blues")
        for i, j in np.ndindex(counts.shape):
            if counts[i, j]:
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if counts[i, j] > counts.max() / 2 else "black")
        recall = counts.diagonal() / np.maximum(counts.sum(1), 1)
        ax.set_yticks(range(n_classes), [f"{c} ({r:.0%})" for c, r in enumerate(recall)],
                      fontsize=7)
        ax.set_xticks(range(n_classes), [str(c) for c in range(n_classes)], fontsize=7)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class (recall)")
        ax.set_title(title, fontsize=9)
        fig.tight_layout()
        with atomic_write(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
    finally:
        plt.close(fig)


def plot_roc(probs: np.ndarray, labels: np.ndarray, path: Path, title: str) -> None:
    """The ROC curve of scored pairs (edges labelled 1, non-edges 0), with its area."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = np.argsort(-probs, kind="stable")
    y = labels[order].astype(bool)
    tpr = np.r_[0.0, np.cumsum(y) / max(y.sum(), 1)]
    fpr = np.r_[0.0, np.cumsum(~y) / max((~y).sum(), 1)]
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    fig, ax = plt.subplots(figsize=(4.0, 4.0))
    try:
        ax.plot(fpr, tpr, lw=1.5, label=f"AUC {auc:.3f}")
        ax.plot([0, 1], [0, 1], ls=":", c="grey", lw=1)
        ax.set_xlabel("false positive rate (non-edges)")
        ax.set_ylabel("true positive rate (edges)")
        ax.set_title(title, fontsize=9)
        ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        with atomic_write(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
    finally:
        plt.close(fig)
