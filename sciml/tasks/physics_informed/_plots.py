"""Plot of a physics-informed run: prediction, reference, error and (LPINN) characteristics."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sciml.data import atomic_write

__all__ = ["plot_solution"]


def plot_solution(path: Path, fields: dict[str, np.ndarray],
                  characteristics: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                  title: str = "", second: str = "t") -> Path:
    """Write a PNG with u(x, t) predicted, the reference, |error| and, if given, x_L(x0, t).

    Args:
        path: Output PNG.
        fields: ``x`` (n_x,), ``t`` (n_t,), ``prediction`` and ``reference`` (n_t, n_x); without
            a reference (None), ``residual`` (n_t, n_x) is drawn instead of the error.
        characteristics: ``(labels, t, x_L)`` with x_L of shape (n_t, n_labels), or None.
        title: Figure title.
        second: Name of the second coordinate (``t``, or ``y`` for a steady 2-D problem).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, t = fields["x"], fields["t"]
    pred, ref = fields["prediction"], fields.get("reference")
    if pred.ndim == 3:  # a system: the first field
        pred = pred[..., 0]
        ref = None if ref is None else ref[..., 0]
        fields = {**fields, "residual": None if fields.get("residual") is None
                  else fields["residual"][..., 0]}
        title = f"{title} (field 0)"
    if ref is None:  # no reference: the prediction and the PDE residual
        lo, hi = float(pred.min()), float(pred.max())
        panels = [("prediction", pred, dict(vmin=lo, vmax=hi, cmap="RdBu_r")),
                  ("|PDE residual|", np.abs(fields["residual"]), dict(cmap="magma"))]
    else:
        lo, hi = float(ref.min()), float(ref.max())
        panels = [("prediction", pred, dict(vmin=lo, vmax=hi, cmap="RdBu_r")),
                  ("reference", ref, dict(vmin=lo, vmax=hi, cmap="RdBu_r")),
                  ("|error|", np.abs(pred - ref), dict(cmap="magma"))]
    n = len(panels) + (1 if characteristics is not None else 0)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.4), constrained_layout=True)
    for ax, (name, data, kw) in zip(axes, panels, strict=False):
        if second == "t":
            im = ax.pcolormesh(t, x, data.T, shading="auto", **kw)
            ax.set_xlabel("t")
            ax.set_ylabel("x")
        else:  # a steady 2-D field: x across, y up
            im = ax.pcolormesh(x, t, data, shading="auto", **kw)
            ax.set_xlabel("x")
            ax.set_ylabel(second)
            ax.set_aspect("equal")
        ax.set_title(name)
        fig.colorbar(im, ax=ax)
    if characteristics is not None:
        labels, tc, x_l = characteristics
        ax = axes[len(panels)]
        ax.plot(tc, x_l, color="k", lw=0.8)
        ax.set_xlabel("t")
        ax.set_ylabel("x_L(x0, t)")
        ax.set_title(f"characteristics ({len(labels)} labels)")
    if title:
        fig.suptitle(title)
    path = Path(path)
    with atomic_write(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return path
