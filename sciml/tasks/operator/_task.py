"""Operator learning on grids as a training task: normalisation, coordinates, relative losses.

FNO's protocol (Li et al., ICLR 2021), which MgNO's experiments follow (He, Liu, Xu, ICLR
2024): inputs and outputs are normalised per channel with statistics of the training set, the model
works in normalised units, and the loss and every reported metric are relative errors of the
*decoded* output against the raw target, averaged over samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from jaxtyping import Float
from torch import Tensor, nn

from sciml.datasets import with_coordinates
from sciml.nn import resample_grid
from sciml.physics import h1_loss, rel_l2_loss
from sciml.train import AbstractTask

__all__ = ["OperatorTask", "RolloutTask", "PairDataset", "TrajectoryDataset",
           "RestrictPredictInterpolate", "restrict_predict_interpolate"]


def _rel_sum_count(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    return rel_l2_loss(pred, target, reduction="sum"), _count(pred)


def _h1(pred: Tensor, target: Tensor, boundary: str, lengths: tuple[float, ...] | None,
        reduction: str) -> Tensor:
    periodic = boundary == "periodic"
    spacing = None
    if lengths is not None:  # nodes span each length: n - 1 intervals (n on a periodic axis)
        shape = pred.shape[-len(lengths):]
        spacing = [L / (n if periodic else max(n - 1, 1)) for L, n in zip(lengths, shape,
                                                                          strict=True)]
    method = "spectral" if periodic else "fd"
    return h1_loss(pred, target, method=method, spacing=spacing, reduction=reduction)


def _h1_sum_count(pred: Tensor, target: Tensor, boundary: str,
                  lengths: tuple[float, ...] | None = None) -> tuple[Tensor, Tensor]:
    return _h1(pred, target, boundary, lengths, "sum"), _count(pred)


def _count(pred: Tensor) -> Tensor:
    return torch.tensor(float(pred.shape[0]), device=pred.device)


class PairDataset(torch.utils.data.Dataset):
    """Input/output fields ``x (n, c_in, *s)``, ``y (n, c_out, *s)`` as ``{"x", "y"}`` items."""

    def __init__(self, x: Tensor, y: Tensor) -> None:
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        return {"x": self.x[i], "y": self.y[i]}


TrajectoryDataset = PairDataset  # x: first frame(s) (n, c, *s); y: trajectory (n, T, c, *s)


class _Normalised(AbstractTask):
    def __init__(
        self,
        model: nn.Module,
        x_mean: Tensor,
        x_std: Tensor,
        y_mean: Tensor,
        y_std: Tensor,
        boundary: str,
        coordinates: bool,
    ) -> None:
        super().__init__()
        self.model = model
        self.boundary = boundary
        self.coordinates = coordinates
        for name, v in (("x_mean", x_mean), ("x_std", x_std), ("y_mean", y_mean), ("y_std", y_std)):
            self.register_buffer(name, v.float())

    def encode(self, x: Tensor) -> Tensor:
        z = (x - self.x_mean) / self.x_std
        return with_coordinates(z, self.boundary) if self.coordinates else z

    def decode(self, y: Tensor) -> Tensor:
        return y * self.y_std + self.y_mean


class OperatorTask(_Normalised):
    """Learn ``x ↦ y`` on grids; loss ``rel_l2`` or ``h1`` of the decoded output.

    Args:
        model: A grid operator ``(b, c_in (+ ndim coordinates), *s) -> (b, c_out, *s)``.
        x_mean, x_std, y_mean, y_std: Per-channel statistics ``(1, c, 1, ...)`` of the training set.
        boundary: "dirichlet" | "periodic" | "neumann" (coordinates and H1 differences follow it).
        coordinates: Append resolution-independent coordinates as input channels (the position
            scaled to [0, 1] per axis, whatever the extent).
        loss: "rel_l2" or "h1".
        extent: Physical ``(lo, hi)`` of each grid axis (None: [0, 1]); sets the grid spacing of
            the H1 loss, so that its gradient part weighs each axis in physical units.
    """

    def __init__(
        self,
        model: nn.Module,
        x_mean: Tensor,
        x_std: Tensor,
        y_mean: Tensor,
        y_std: Tensor,
        boundary: str = "dirichlet",
        coordinates: bool = True,
        loss: str = "rel_l2",
        extent: Sequence[Sequence[float]] | None = None,
    ) -> None:
        super().__init__(model, x_mean, x_std, y_mean, y_std, boundary, coordinates)
        if loss not in ("rel_l2", "h1"):
            raise ValueError(f"loss must be 'rel_l2' or 'h1', got {loss!r}")
        self.loss = loss
        self.lengths = None if extent is None else tuple(float(hi - lo) for lo, hi in extent)
        if self.lengths is not None and not all(L > 0 for L in self.lengths):
            raise ValueError(f"extent must be intervals (lo, hi) with lo < hi, got {extent!r}")

    def predict(self, batch: dict[str, Tensor]) -> Float[Tensor, "b c ..."]:
        return self.decode(self.model(self.encode(batch["x"])))

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        pred = self.predict(batch)
        if self.loss == "h1":
            s, n = _h1_sum_count(pred, batch["y"], self.boundary, self.lengths)
        else:
            s, n = _rel_sum_count(pred, batch["y"])
        return s / n

    def metrics(self, batch: dict[str, Tensor]) -> dict[str, tuple[Tensor, Tensor]]:
        return self.score(self.predict(batch), batch["y"])

    def example_losses(self, batch: dict[str, Tensor]) -> Tensor:
        """The training loss of each sample of ``batch``, shape (b,) (a curriculum's scores)."""
        pred = self.predict(batch)
        if self.loss == "h1":
            return _h1(pred, batch["y"], self.boundary, self.lengths, "none")
        return rel_l2_loss(pred, batch["y"], reduction="none")

    def score(self, pred: Tensor, y: Tensor) -> dict[str, tuple[Tensor, Tensor]]:
        """The metrics (sums and counts) of a prediction ``pred`` of the targets ``y``."""
        rel = _rel_sum_count(pred, y)
        h1 = _h1_sum_count(pred, y, self.boundary, self.lengths)
        return {"loss": h1 if self.loss == "h1" else rel, "rel_l2": rel, "rel_h1": h1}


class RolloutTask(_Normalised):
    """Autoregressive time stepping ``u_{k+1} = u_k + model(u_k)`` (residual output) over a
    trajectory; the loss is the relative L2 over the whole rollout (MgNO's Navier–Stokes setting:
    1 input frame → ``steps`` frames).

    Args:
        teacher_forcing: Feed the true frame (not the model's own prediction) at each step while
            training; evaluation always rolls out freely.
    """

    def __init__(
        self,
        model: nn.Module,
        x_mean: Tensor,
        x_std: Tensor,
        boundary: str = "periodic",
        coordinates: bool = False,
        steps: int | None = None,
        teacher_forcing: bool = False,
    ) -> None:
        # One normalisation for every frame: state in, increment out (same units).
        super().__init__(
            model, x_mean, x_std, torch.zeros_like(x_mean), x_std, boundary, coordinates
        )
        self.steps = steps
        self.teacher_forcing = teacher_forcing

    def step(self, u: Tensor) -> Tensor:
        return u + self.decode(self.model(self.encode(u)))

    def rollout(self, u0: Tensor, steps: int, truth: Tensor | None = None) -> Tensor:
        frames, u = [], u0
        for k in range(steps):
            u = self.step(u)
            frames.append(u)
            if truth is not None:
                u = truth[:, k]
        return torch.stack(frames, dim=1)

    def _steps(self, y: Tensor) -> int:
        return y.shape[1] if self.steps is None else min(self.steps, y.shape[1])

    def predict(self, batch: dict[str, Tensor]) -> Tensor:
        return self.rollout(batch["x"], self._steps(batch["y"]))

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        y = batch["y"][:, : self._steps(batch["y"])]
        truth = y if (self.teacher_forcing and self.training) else None
        pred = self.rollout(batch["x"], y.shape[1], truth)
        s, n = _rel_sum_count(pred, y)
        return s / n

    def metrics(self, batch: dict[str, Tensor]) -> dict[str, Any]:
        return self.score(self.predict(batch), batch["y"])

    def example_losses(self, batch: dict[str, Tensor]) -> Tensor:
        """The relative L2 error of each trajectory's rollout, shape (b,)."""
        y = batch["y"][:, : self._steps(batch["y"])]
        return rel_l2_loss(self.rollout(batch["x"], y.shape[1]), y, reduction="none")

    def score(self, pred: Tensor, y: Tensor) -> dict[str, tuple[Tensor, Tensor]]:
        """The metrics (sums and counts) of a rollout ``pred`` of the trajectories ``y``."""
        y = y[:, : pred.shape[1]]
        rel = _rel_sum_count(pred, y)
        return {"loss": rel, "rel_l2": rel, "rel_l2_last": _rel_sum_count(pred[:, -1], y[:, -1])}


def restrict_predict_interpolate(task: OperatorTask | RolloutTask, x: Tensor,
                                 resolution: Sequence[int], steps: int | None = None) -> Tensor:
    """The baseline of zero-shot evaluation: restrict the input to the training grid, predict
    there, interpolate the prediction back to the input's grid.

    Resampling is :func:`sciml.nn.resample_grid` in the task's boundary condition (linear
    interpolation; injection where the nodes coincide, as 127² -> 64²).

    Args:
        task: A trained operator or rollout task.
        x: Input fields ``(n, c, *spatial)`` on any grid, in the data's units.
        resolution: The training grid, one size per spatial axis.
        steps: Frames to roll out (rollout tasks only; required there).

    Returns:
        The prediction on the grid of ``x``: ``(n, c_out, *spatial)``, or the rollout
        ``(n, steps, c, *spatial)``.
    """
    size = tuple(x.shape[2:])
    resolution = tuple(int(r) for r in resolution)
    if len(resolution) != len(size):
        raise ValueError(f"resolution must give one size per spatial axis ({len(size)}), "
                         f"got {list(resolution)}")
    coarse = resample_grid(x, resolution, task.boundary)
    if isinstance(task, RolloutTask):
        if steps is None:
            raise ValueError("a rollout task needs the number of steps to roll out")
        pred = task.rollout(coarse, steps)
        frames = resample_grid(pred.flatten(0, 1), size, task.boundary)
        return frames.unflatten(0, pred.shape[:2])
    return resample_grid(task.predict({"x": coarse}), size, task.boundary)


class RestrictPredictInterpolate(AbstractTask):
    """A trained task evaluated by :func:`restrict_predict_interpolate`: the same metrics, the
    baseline's prediction (for :meth:`sciml.train.Trainer.evaluate`; not trained).

    Args:
        task: The trained :class:`OperatorTask` or :class:`RolloutTask`.
        resolution: Its training grid, one size per spatial axis.
    """

    def __init__(self, task: OperatorTask | RolloutTask, resolution: Sequence[int]) -> None:
        super().__init__(task.model)
        self.task = task
        self.resolution = tuple(int(r) for r in resolution)

    def predict(self, batch: dict[str, Tensor]) -> Tensor:
        steps = None
        if isinstance(self.task, RolloutTask):
            steps = self.task._steps(batch["y"])
        return restrict_predict_interpolate(self.task, batch["x"], self.resolution, steps)

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        total, count = self.metrics(batch)["loss"]
        return total / count

    def metrics(self, batch: dict[str, Tensor]) -> dict[str, tuple[Tensor, Tensor]]:
        return self.task.score(self.predict(batch), batch["y"])
