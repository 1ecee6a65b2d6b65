"""A physics-informed model with its objective as a full-batch task of the one engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from sciml.tasks.physics_informed._problem import AbstractObjective, FitConfig
from sciml.train import AbstractFullBatchTask, Trainer, TrainerConfig

__all__ = ["PhysicsInformedTask", "fit_physics_informed"]


class PhysicsInformedTask(AbstractFullBatchTask):
    """A PINN / LPINN and its objective; the collocation points are a buffer, so checkpoints
    carry them (residual-based resampling changes them during training).

    Args:
        model: A :class:`~sciml.models.PINN` or :class:`~sciml.models.LPINN`.
        objective: Its :class:`PINNObjective` / :class:`LPINNObjective`.
    """

    def __init__(self, model: torch.nn.Module, objective: AbstractObjective) -> None:
        super().__init__(model)
        self.objective = objective
        self.register_buffer("points", objective.points.clone())
        dtype = objective.points.dtype
        # the unknown coefficients of an inverse problem: trained with the network, saved in
        # every checkpoint, read by the objective's residual
        self.unknown = torch.nn.ParameterDict({
            name: torch.nn.Parameter(torch.tensor(float(start), dtype=dtype))
            for name, start in (objective.problem.unknown or {}).items()})
        objective.unknown = dict(self.unknown.items())
        self.nonfinite_hint = (f" (PDE {objective.pde.name!r}); lower the learning rate or check "
                               "the PDE parameters")

    def identified(self) -> dict[str, float]:
        """The current values of the unknown coefficients."""
        return {name: float(p.detach()) for name, p in self.unknown.items()}

    def monitored(self) -> dict[str, float]:
        return {f"param/{name}": value for name, value in self.identified().items()}

    def loss_terms(self) -> dict[str, Tensor]:
        self.objective.points = self.points
        return self.objective.losses(self.model)

    def resample(self, step: int) -> None:
        self.objective.points = self.points
        self.objective.resample(self.model, step)
        self.points = self.objective.points

    def predict(self, batch: Any) -> Tensor:
        """u at points ``(n, 2)`` (x, t) for a PINN."""
        return self.model(torch.as_tensor(batch, dtype=self.points.dtype))[:, 0]


def fit_physics_informed(model: torch.nn.Module, objective: AbstractObjective, cfg: FitConfig,
                         run_dir: str | Path | None = None, resume: bool = True,
                         progress: bool = False) -> list[dict[str, Any]]:
    """Fit ``model`` to ``objective`` with ``cfg``'s Adam → L-BFGS schedule through the engine
    (:meth:`sciml.train.Trainer.fit_full_batch`); returns the history rows.

    Args:
        model: A :class:`PINN` or :class:`LPINN` (moved to ``cfg.dtype``).
        objective: Its objective.
        cfg: The budget and schedule.
        run_dir: A folder for checkpoints and metrics (resumable), or None.
        resume: Continue from ``run_dir``'s last checkpoint if it exists.
        progress: Show a progress bar (on a terminal).

    Returns:
        One dict per logged step: ``phase``, ``phase_step``, ``step``, ``train/loss`` and each
        ``train/<term>``; L-BFGS rows add ``lbfgs_iterations`` (the iterations made in all:
        ``phase_step`` jumps to the budget when L-BFGS converges) and, where the optimizer
        restarted instead of stalling, ``lbfgs_restarts``.
    """
    model.to(cfg.torch_dtype)
    task = PhysicsInformedTask(model, objective)
    trainer = Trainer(TrainerConfig(seed=cfg.seed, monitor=None, device="cpu",
                                    checkpoint_every_steps=cfg.checkpoint_every or None,
                                    progress=progress, tensorboard=False), run_dir=run_dir)
    result = trainer.fit_full_batch(task, cfg.schedule(), resume=resume)
    objective.points = task.points
    return result.history
