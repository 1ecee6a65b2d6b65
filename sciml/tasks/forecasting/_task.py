"""Spatiotemporal forecasting as a training task: scaling, masked loss, metrics in original units.

Follows the protocol of Cini, Marisca, Zambon & Alippi, *Graph Deep Learning for Time Series
Forecasting* (2023): inputs are scaled with statistics fitted on the training split only; the model
predicts in scaled units, predictions are mapped back, and both the loss (masked MAE) and every
reported metric are computed in the data's original units on observed entries only.
"""

from __future__ import annotations

from typing import Any

import torch
from jaxtyping import Bool, Float
from torch import Tensor, nn

from sciml import metrics as M
from sciml.train import AbstractTask

__all__ = ["ForecastingTask", "MAPE_EPS", "LOSSES", "with_rmse"]

MAPE_EPS = 1e-4  # targets with |y| below this are left out of MAPE (zero speeds, zero load)
LOSSES = ("mae", "mse", "huber")


def _mape_percent(pred: Tensor, y: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    total, count = M.mape_sum_count(pred, y, mask, eps=MAPE_EPS)
    return 100.0 * total, count


class ForecastingTask(AbstractTask):
    """A forecaster with its affine scaler, its graph and a masked MAE loss in original units.

    Args:
        model: A forecaster ``(x, edge_index, edge_weight, u) -> (b, h, n, c)`` in scaled units.
        scaler: A fitted scaler of ``sciml.data`` (standard, min-max, robust or none); all of them
            are affine, ``transform(x) = (x - offset) / scale``, which is what the task stores.
        n_nodes: Number of nodes; n_channels: number of input channels (to probe the scaler).
        edge_index: Connectivity ``[src; dst]``, or None for models that learn their graph.
        edge_weight: One weight per edge, or None.
        target_channels: How many leading channels are forecast (the model's ``output_size``).
        steps: Prediction steps (1-based) at which metrics are also reported.
        loss: The training loss on observed entries, in the data's units: ``mae`` (tsl's and
            DCRNN's default), ``mse``, or ``huber`` (quadratic below ``huber_delta``, linear
            above; ``huber_delta`` in the data's units).

    Metrics are (sum, count) pairs: ``mae``, ``mse`` (RMSE is its square root after aggregation),
    ``mape`` (in %), overall and per step as ``mae@k`` etc., in the data's units; ``mae_scaled``
    and ``mse_scaled`` are the same errors on the scaled values (per node and channel, divided by
    the scaler's scale), comparable across series of different units.
    """

    def __init__(
        self,
        model: nn.Module,
        scaler: Any,
        n_nodes: int,
        n_channels: int,
        edge_index: Tensor | None = None,
        edge_weight: Tensor | None = None,
        target_channels: int = 1,
        steps: tuple[int, ...] = (3, 6, 12),
        loss: str = "mae",
        huber_delta: float = 1.0,
    ) -> None:
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {list(LOSSES)}, got {loss!r}")
        if not huber_delta > 0:
            raise ValueError(f"huber_delta must be > 0, got {huber_delta!r}")
        self.loss, self.huber_delta = loss, float(huber_delta)
        self.model = model
        self.target_channels = int(target_channels)
        self.steps = tuple(int(s) for s in steps)
        zeros = torch.zeros(1, n_nodes, n_channels)
        offset = scaler.inverse_transform(zeros)
        scale = scaler.inverse_transform(torch.ones_like(zeros)) - offset
        self.register_buffer("offset", offset.float())
        self.register_buffer("scale", scale.float())
        self.register_buffer("edge_index", edge_index, persistent=False)
        self.register_buffer("edge_weight", edge_weight, persistent=False)

    def forecast(
        self, x: Float[Tensor, "b t n f"], u: Tensor | None = None
    ) -> Float[Tensor, "b h n c"]:
        """Forecast in original units from inputs in original units."""
        c = self.target_channels
        y = self.model((x - self.offset) / self.scale, self.edge_index, self.edge_weight, u)
        return y * self.scale[..., :c] + self.offset[..., :c]

    def _target(self, batch: dict[str, Tensor]) -> tuple[Tensor, Bool[Tensor, "b h n c"]]:
        c = self.target_channels
        return batch["y"][..., :c], batch["mask_y"][..., :c]

    def _loss_sum_count(self, pred: Tensor, y: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        if self.loss == "mae":
            return M.mae_sum_count(pred, y, mask)
        if self.loss == "mse":
            return M.mse_sum_count(pred, y, mask)
        err = (pred - y).abs()
        d = self.huber_delta
        huber = torch.where(err <= d, 0.5 * err**2, d * (err - 0.5 * d))
        m = mask.to(huber.dtype)
        return (huber * m).sum(), m.sum()

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        pred = self.forecast(batch["x"], batch.get("u_x"))
        y, mask = self._target(batch)
        total, count = self._loss_sum_count(pred, y, mask)
        return total / count.clamp_min(1)

    def predict(self, batch: dict[str, Tensor]) -> Tensor:
        return self.forecast(batch["x"], batch.get("u_x"))

    def example_losses(self, batch: dict[str, Tensor]) -> Tensor:
        """The training loss of each window of ``batch`` over its observed targets, shape (b,)
        (a curriculum's scores)."""
        pred = self.forecast(batch["x"], batch.get("u_x"))
        y, mask = self._target(batch)
        err = (pred - y).abs()
        if self.loss == "mse":
            err = err**2
        elif self.loss == "huber":
            d = self.huber_delta
            err = torch.where(err <= d, 0.5 * err**2, d * (err - 0.5 * d))
        m = mask.to(err.dtype)
        return (err * m).flatten(1).sum(1) / m.flatten(1).sum(1).clamp_min(1)

    def metrics(self, batch: dict[str, Tensor]) -> dict[str, tuple[Tensor, Tensor]]:
        pred = self.forecast(batch["x"], batch.get("u_x"))
        y, mask = self._target(batch)
        scale = self.scale[..., : self.target_channels]
        out = {
            "loss": self._loss_sum_count(pred, y, mask),
            "mae": M.mae_sum_count(pred, y, mask),
            "mse": M.mse_sum_count(pred, y, mask),
            "mape": _mape_percent(pred, y, mask),
            "mae_scaled": M.mae_sum_count(pred / scale, y / scale, mask),
            "mse_scaled": M.mse_sum_count(pred / scale, y / scale, mask),
        }
        for k in self.steps:
            if k > pred.shape[1]:
                continue
            p, t, m = pred[:, k - 1], y[:, k - 1], mask[:, k - 1]
            out[f"mae@{k}"] = M.mae_sum_count(p, t, m)
            out[f"mse@{k}"] = M.mse_sum_count(p, t, m)
            out[f"mape@{k}"] = _mape_percent(p, t, m)
        return out


def with_rmse(metrics: dict[str, float]) -> dict[str, float]:
    """Add ``rmse`` entries (square roots of the aggregated ``mse`` ones)."""
    out = dict(metrics)
    for key, value in metrics.items():
        name = key.rsplit("/", 1)[-1]
        if name.startswith("mse"):
            out[key.replace("mse", "rmse")] = float(value) ** 0.5
    return out
