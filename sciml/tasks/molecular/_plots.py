"""Parity plots of a molecular run: predicted against reference energies and forces (or the
property) on the test molecules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sciml.data import atomic_write

__all__ = ["plot_parity"]


def plot_parity(pairs: dict[str, tuple[np.ndarray, np.ndarray, str]], path: Path) -> Path:
    """One panel per quantity: ``{title: (reference, prediction, unit)}``, with the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(pairs), figsize=(3.6 * len(pairs), 3.4), squeeze=False)
    for ax, (title, (ref, pred, unit)) in zip(axes[0], pairs.items(), strict=True):
        ref, pred = np.ravel(ref), np.ravel(pred)
        lo, hi = float(min(ref.min(), pred.min())), float(max(ref.max(), pred.max()))
        ax.plot([lo, hi], [lo, hi], color="gray", lw=0.8)
        ax.scatter(ref, pred, s=4, alpha=0.6)
        mae = float(np.abs(pred - ref).mean())
        ax.set_title(f"{title}: MAE {mae:.3g} {unit}", fontsize=9)
        ax.set_xlabel(f"reference ({unit})")
        ax.set_ylabel(f"predicted ({unit})")
    fig.tight_layout()
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path


def parity_pairs(job: Any, task: Any, test: Any, spec: dict[str, Any]
                 ) -> dict[str, tuple[np.ndarray, np.ndarray, str]]:
    """Reference and predicted values of the test set, in the training data's units."""
    m, idx = test.molecules, [int(i) for i in test.indices]
    pred = job.predict(task, spec, test)
    if "y" in pred:
        return {spec.get("target", "property"): (test.y[idx, 0], pred["y"][:, 0],
                                                 spec.get("target_unit", ""))}
    unit = spec["energy_unit"]
    out = {"energy": (np.asarray(m.energy)[idx], pred["energy"], unit)}
    if m.forces is not None:
        out["force components"] = (np.concatenate([m.forces[i] for i in idx]), pred["forces"],
                                   f"{unit}/Å")
    return out
