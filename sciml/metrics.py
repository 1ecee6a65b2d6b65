"""Evaluation metrics: masked MAE / RMSE / MAPE for forecasting, per-horizon metrics, relative L2.

Masked metrics follow the convention of the spatiotemporal forecasting literature (Li et al.,
"Diffusion Convolutional Recurrent Neural Network", ICLR 2018; Cini et al., "Graph Deep Learning for
Time Series Forecasting", 2023): entries whose mask is False (missing observations) contribute
neither to the error sum nor to the count. Each metric has a ``*_sum_count`` form returning
``(sum, count)`` so that results over many batches aggregate exactly (sum the sums and the counts,
then divide once; RMSE aggregates the squared error and takes the root at the end).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from jaxtyping import Bool, Float
from torch import Tensor

__all__ = [
    "mae",
    "rmse",
    "mape",
    "mae_sum_count",
    "mse_sum_count",
    "rmse_sum_count",
    "mape_sum_count",
    "horizon_sum_count",
    "horizon_metrics",
    "rel_l2",
    "energy_mae_sum_count",
    "force_mae_sum_count",
    "energy_force_mae",
]

_REDUCTIONS = ("mean", "sum", "none")


def _prepare(
    pred: Tensor, target: Tensor, mask: Tensor | None
) -> tuple[Tensor, Tensor, Tensor]:
    """Check shapes and dtypes; return (pred, target, mask) with the mask broadcast to target."""
    if not isinstance(pred, Tensor) or not isinstance(target, Tensor):
        raise TypeError(
            f"pred and target must be torch tensors, got {type(pred).__name__} and "
            f"{type(target).__name__}"
        )
    if pred.shape != target.shape:
        raise ValueError(
            f"pred and target must have the same shape, got pred {tuple(pred.shape)} and "
            f"target {tuple(target.shape)}"
        )
    if mask is None:
        mask = torch.ones(target.shape, dtype=torch.bool, device=target.device)
    else:
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
            raise TypeError(
                f"mask must be a bool tensor (True = observed), got "
                f"{getattr(mask, 'dtype', type(mask).__name__)}"
            )
        try:
            mask = mask.expand(target.shape)
        except RuntimeError as e:
            raise ValueError(
                f"mask of shape {tuple(mask.shape)} does not broadcast to the target shape "
                f"{tuple(target.shape)}"
            ) from e
    return pred, target, mask


def _masked_sum_count(values: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    # torch.where, not multiplication: a NaN at a masked entry must not leak into the sum.
    total = torch.where(mask, values, torch.zeros((), dtype=values.dtype, device=values.device))
    return total.sum(), mask.sum()


def mae_sum_count(
    pred: Float[Tensor, "..."],
    target: Float[Tensor, "..."],
    mask: Bool[Tensor, "..."] | None = None,
) -> tuple[Float[Tensor, ""], Tensor]:
    """Sum of absolute errors over observed entries, and the number of observed entries.

    Args:
        pred: Predictions, any shape.
        target: Targets, same shape as ``pred``.
        mask: True where the target is observed; broadcast to ``target``. None = all observed.

    Returns:
        ``(sum |pred - target|, count)`` as 0-d tensors (the count is an integer tensor).
    """
    pred, target, mask = _prepare(pred, target, mask)
    return _masked_sum_count((pred - target).abs(), mask)


def mse_sum_count(
    pred: Float[Tensor, "..."],
    target: Float[Tensor, "..."],
    mask: Bool[Tensor, "..."] | None = None,
) -> tuple[Float[Tensor, ""], Tensor]:
    """Sum of squared errors over observed entries, and their number (see :func:`mae_sum_count`)."""
    pred, target, mask = _prepare(pred, target, mask)
    return _masked_sum_count((pred - target).square(), mask)


def rmse_sum_count(
    pred: Float[Tensor, "..."],
    target: Float[Tensor, "..."],
    mask: Bool[Tensor, "..."] | None = None,
) -> tuple[Float[Tensor, ""], Tensor]:
    """``(sum of squared errors, count)``: RMSE over many batches is ``sqrt(Σ sums / Σ counts)``."""
    return mse_sum_count(pred, target, mask)


def mape_sum_count(
    pred: Float[Tensor, "..."],
    target: Float[Tensor, "..."],
    mask: Bool[Tensor, "..."] | None = None,
    eps: float = 1e-5,
) -> tuple[Float[Tensor, ""], Tensor]:
    """Sum of absolute percentage errors ``|pred - target| / |target|`` and their number.

    Entries with ``mask`` False or ``|target| < eps`` are left out (a zero speed in traffic data
    is a missing reading, and would make the ratio infinite).

    Args:
        pred: Predictions, any shape.
        target: Targets, same shape as ``pred``.
        mask: True where the target is observed; None = all observed.
        eps: Targets with absolute value below this are ignored.

    Returns:
        ``(sum, count)``; the ratio is a fraction (multiply by 100 for percent).
    """
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    pred, target, mask = _prepare(pred, target, mask)
    valid = mask & (target.abs() >= eps)
    safe_target = torch.where(valid, target, torch.ones((), dtype=target.dtype,
                                                        device=target.device))
    return _masked_sum_count((pred - target).abs() / safe_target.abs(), valid)


def _ratio(total: Tensor, count: Tensor) -> Tensor:
    """``total / count`` in the dtype of ``total``; NaN when nothing was observed."""
    return total / count.to(total.dtype)


def mae(
    pred: Float[Tensor, "..."],
    target: Float[Tensor, "..."],
    mask: Bool[Tensor, "..."] | None = None,
) -> Float[Tensor, ""]:
    """Masked mean absolute error ``Σ m |ŷ - y| / Σ m`` (NaN if no entry is observed).

    Args:
        pred: Predictions, any shape.
        target: Targets, same shape as ``pred``.
        mask: True where the target is observed; broadcast to ``target``. None = all observed.

    Returns:
        A 0-d tensor (differentiable with respect to ``pred``).
    """
    return _ratio(*mae_sum_count(pred, target, mask))


def rmse(
    pred: Float[Tensor, "..."],
    target: Float[Tensor, "..."],
    mask: Bool[Tensor, "..."] | None = None,
) -> Float[Tensor, ""]:
    """Masked root mean squared error ``sqrt(Σ m (ŷ - y)² / Σ m)`` (NaN if nothing observed).

    Args:
        pred: Predictions, any shape.
        target: Targets, same shape as ``pred``.
        mask: True where the target is observed; None = all observed.

    Returns:
        A 0-d tensor.
    """
    return _ratio(*mse_sum_count(pred, target, mask)).sqrt()


def mape(
    pred: Float[Tensor, "..."],
    target: Float[Tensor, "..."],
    mask: Bool[Tensor, "..."] | None = None,
    eps: float = 1e-5,
) -> Float[Tensor, ""]:
    """Masked mean absolute percentage error, as a fraction (see :func:`mape_sum_count`).

    Args:
        pred: Predictions, any shape.
        target: Targets, same shape as ``pred``.
        mask: True where the target is observed; None = all observed.
        eps: Targets with ``|y| < eps`` are ignored.

    Returns:
        A 0-d tensor, ``mean |ŷ - y| / |y|`` over the valid entries (NaN if there are none).
    """
    return _ratio(*mape_sum_count(pred, target, mask, eps=eps))


def _check_horizon(pred: Tensor, steps: Sequence[int]) -> None:
    if pred.ndim != 4:
        raise ValueError(
            f"horizon metrics expect pred/target of shape (batch, horizon, nodes, channels), "
            f"got shape {tuple(pred.shape)}"
        )
    horizon = pred.shape[1]
    for k in steps:
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= horizon:
            raise ValueError(
                f"steps must be integers in 1..{horizon} (the horizon, 1-based), got {k!r} "
                f"in steps={tuple(steps)}"
            )


def horizon_sum_count(
    pred: Float[Tensor, "b h n f"],
    target: Float[Tensor, "b h n f"],
    mask: Bool[Tensor, "b h n f"] | None = None,
    steps: Sequence[int] = (3, 6, 12),
    eps: float = 1e-5,
) -> dict[str, tuple[Tensor, Tensor]]:
    """Per-step ``(sum, count)`` pairs for MAE, MSE and MAPE, to aggregate over batches.

    Keys are ``"mae@k"``, ``"mse@k"``, ``"mape@k"`` for each k in ``steps`` plus ``"mae"``,
    ``"mse"``, ``"mape"`` over all horizon steps. Finish with :func:`horizon_metrics`-style
    division (``rmse = sqrt(mse_sum / mse_count)``).

    Args:
        pred: Forecasts, (batch, horizon, nodes, channels).
        target: Targets, same shape.
        mask: True where observed; broadcast to ``target``.
        steps: 1-based prediction steps (for 5-minute data 3/6/12 = 15/30/60 minutes).
        eps: MAPE ignores targets with ``|y| < eps``.
    """
    pred, target, mask = _prepare(pred, target, mask)
    _check_horizon(pred, steps)
    out: dict[str, tuple[Tensor, Tensor]] = {}
    for suffix, idx in [(f"@{k}", k - 1) for k in steps] + [("", None)]:
        p, t, m = (pred, target, mask) if idx is None else (pred[:, idx], target[:, idx],
                                                             mask[:, idx])
        out[f"mae{suffix}"] = mae_sum_count(p, t, m)
        out[f"mse{suffix}"] = mse_sum_count(p, t, m)
        out[f"mape{suffix}"] = mape_sum_count(p, t, m, eps=eps)
    return out


def horizon_metrics(
    pred: Float[Tensor, "b h n f"],
    target: Float[Tensor, "b h n f"],
    mask: Bool[Tensor, "b h n f"] | None = None,
    steps: Sequence[int] = (3, 6, 12),
    eps: float = 1e-5,
) -> dict[str, float]:
    """Masked MAE, RMSE and MAPE at selected forecasting steps and over the whole horizon.

    Step k is the k-th predicted step, 1-based: ``pred[:, k - 1]``.

    Args:
        pred: Forecasts, (batch, horizon, nodes, channels).
        target: Targets, same shape.
        mask: True where observed; broadcast to ``target``. None = all observed.
        steps: 1-based steps to report.
        eps: MAPE ignores targets with ``|y| < eps``.

    Returns:
        ``{"mae@3": ..., "rmse@3": ..., "mape@3": ..., ..., "mae": ..., "rmse": ..., "mape": ...}``
        as Python floats (MAPE as a fraction).
    """
    sums = horizon_sum_count(pred, target, mask, steps=steps, eps=eps)
    out: dict[str, float] = {}
    for key, (total, count) in sums.items():
        value = _ratio(total.detach(), count)
        if key.startswith("mse"):
            key, value = "r" + key, value.sqrt()
        out[key] = float(value)
    return out


def rel_l2(
    pred: Float[Tensor, "b ..."],
    target: Float[Tensor, "b ..."],
    reduction: str = "mean",
    eps: float = 1e-12,
) -> Tensor:
    """Relative L2 error per sample, ``||ŷ_i - y_i||₂ / ||y_i||₂``, over all non-batch dims.

    The usual neural-operator metric (Li et al., "Fourier Neural Operator", ICLR 2021).

    Args:
        pred: Predictions, (batch, ...).
        target: Targets, same shape.
        reduction: ``"mean"`` (over the batch, 0-d), ``"sum"`` (0-d) or ``"none"`` (shape (b,)).
        eps: Lower bound on the target norm, so an all-zero target gives a large finite value.

    Returns:
        The reduced error.
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    pred, target, _ = _prepare(pred, target, None)
    if pred.ndim < 1:
        raise ValueError("rel_l2 needs a leading batch dimension, got a 0-d tensor")
    diff = (pred - target).reshape(pred.shape[0], -1).norm(dim=1)
    ref = target.reshape(target.shape[0], -1).norm(dim=1).clamp_min(eps)
    per_sample = diff / ref
    if reduction == "mean":
        return per_sample.mean()
    if reduction == "sum":
        return per_sample.sum()
    return per_sample


def energy_mae_sum_count(
    pred: Float[Tensor, " g"], target: Float[Tensor, " g"], to_mev: float = 1.0
) -> tuple[Float[Tensor, ""], Tensor]:
    """Sum of absolute energy errors over molecules, times ``to_mev``, and the molecule count.

    Energy MAE as reported for MD17 / rMD17 (e.g. Batzner et al., NequIP, 2022; Bekkers et al.,
    PONITA, ICLR 2024): ``mean_g |Ê_g - E_g|``; ``to_mev`` converts the file's unit to meV
    (43.364 for kcal/mol, 1000 for eV). Computed in float64 (energies of -4e5 kcal/mol).
    """
    pred, target, _ = _prepare(pred.reshape(-1), target.reshape(-1), None)
    err = (pred.double() - target.double()).abs().sum() * to_mev
    return err, torch.tensor(float(target.numel()), device=target.device)


def force_mae_sum_count(
    pred: Float[Tensor, "n 3"], target: Float[Tensor, "n 3"], to_mev: float = 1.0
) -> tuple[Float[Tensor, ""], Tensor]:
    """Sum of absolute force-component errors, times ``to_mev``, and the component count.

    Force MAE as the MD17 literature reports it: the mean over atoms *and* Cartesian components,
    ``mean_{i,k} |F̂_ik - F_ik|`` (meV/Å with ``to_mev``).
    """
    pred, target, _ = _prepare(pred, target, None)
    if target.ndim != 2 or target.shape[1] != 3:
        raise ValueError(f"forces must have shape (n, 3), got {tuple(target.shape)}")
    err = (pred.double() - target.double()).abs().sum() * to_mev
    return err, torch.tensor(float(target.numel()), device=target.device)


def energy_force_mae(
    pred_energy: Tensor, energy: Tensor, pred_forces: Tensor, forces: Tensor, to_mev: float = 1.0
) -> dict[str, float]:
    """``{"energy_mae": ..., "force_mae": ...}`` in meV and meV/Å (with ``to_mev``)."""
    e_sum, e_n = energy_mae_sum_count(pred_energy, energy, to_mev)
    f_sum, f_n = force_mae_sum_count(pred_forces, forces, to_mev)
    return {"energy_mae": float(e_sum / e_n), "force_mae": float(f_sum / f_n)}
