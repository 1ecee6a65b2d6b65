"""The hard-constraint job: recipe → PI-HC-MoE (or PI-SC) trained on the PDE residual → run folder.

Chalapathi, Du, Krishnapriyan, ICLR 2024. A recipe has ``problem``
(:class:`HardConstraintProblem`: any registered PDE with its grid, constraints and initial
states; passed to the model as its problem keys), ``model`` (``hc_moe`` or ``pi_sc`` + config),
``train`` (:class:`HardConstraintFit`). Training is physics-informed (PDE
residual + initial/boundary rows, no solution data) through the one engine: mini-batches of
``train.batch`` initial states, Adam, the gradient clipped, ``train.steps`` optimizer steps in
all; each epoch visits the training states in a seeded random order. The run folder gets
``recipe.yaml``, ``checkpoints/last.pt`` (every ``train.checkpoint_every`` steps and at each
epoch's end; the final model), ``metrics.csv`` (loss, PDE and row terms, unconverged expert
solves per epoch), ``report.json``, ``solution.png``. ``--extend N`` adds ``N`` steps.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from sciml.data import write_hdf5
from sciml.errors import ConfigError, DataError
from sciml.models import HC_PROBLEM_KEYS
from sciml.physics import ConstraintSolveWarning
from sciml.registry import JOBS, MODELS
from sciml.tasks._job import AbstractJob, input_file
from sciml.tasks.hard_constraint._problem import (
    HardConstraintFit,
    HardConstraintProblem,
    _plain,
    mean_relative_l2,
    problem_data,
)
from sciml.train import AbstractTask, TrainerConfig

__all__ = ["HardConstraintJob", "HardConstraintTask", "InitialStates"]


class InitialStates(torch.utils.data.Dataset):
    """Initial states ``(n, *space)`` as items ``(*space,)`` (float32)."""

    def __init__(self, u0: Tensor) -> None:
        self.u0 = u0.float()

    def __len__(self) -> int:
        return len(self.u0)

    def __getitem__(self, i: int) -> Tensor:
        return self.u0[i]


class HardConstraintTask(AbstractTask):
    """A hard- (or soft-) constrained operator trained on its physics loss: the PDE residual of
    the assembled field plus the initial/boundary rows; the number of expert solves that did not
    converge is logged beside them."""

    def _terms(self, u0: Tensor) -> dict[str, Tensor | float]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConstraintSolveWarning)  # counted below
            u = self.model(u0)
        pde, rows = self.model.physics_loss(u, u0)
        info = getattr(self.model, "last_info", None)
        unconverged = 0 if info is None else int((~info.converged).sum())
        return {"loss": pde + rows, "pde": pde.detach(), "rows": rows.detach(),
                "unconverged_expert_solves": float(unconverged)}

    def forward(self, u0: Tensor) -> dict[str, Tensor | float]:
        return self._terms(u0)

    def metrics(self, u0: Tensor) -> dict[str, tuple[Tensor, Tensor]]:
        n = torch.tensor(float(len(u0)))
        terms = self._terms(u0)
        return {k: (torch.as_tensor(v).detach() * n, n) for k, v in terms.items()}

    def predict(self, u0: Tensor) -> Tensor:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConstraintSolveWarning)
            return self.model(u0)


@JOBS.register("hard_constraint",
               help="PI-HC-MoE / PI-SC trained on the PDE residual (any registered PDE)")
class HardConstraintJob(AbstractJob):
    """Hard-constraint recipes: ``problem``, ``model`` (hc_moe / pi_sc), ``train``."""

    sections = ("problem", "model", "train")
    configs = {"problem": ("problem", HardConstraintProblem),
               "train": ("fit_cfg", HardConstraintFit)}
    data_section = None
    models = ("hc_moe", "pi_sc")
    budget = ("train", "steps")
    problem: HardConstraintProblem
    fit_cfg: HardConstraintFit

    def __init__(self, recipe: dict[str, Any]) -> None:
        super().__init__(recipe)
        described = self.problem.model_values()  # the PDE, grid and constraints
        for key in HC_PROBLEM_KEYS:
            if key in self.model_values and key != "nu" \
                    and _plain(self.model_values[key]) != described.get(key):
                raise ConfigError(f"model.{key} {self.model_values[key]!r} differs from "
                                  f"problem.{key} {described.get(key)!r} (the problem section "
                                  f"describes the PDE)")
        self.model_values = {**self.model_values, **described}

    @property
    def seed(self) -> int:
        return self.fit_cfg.seed

    def trainer_config(self) -> TrainerConfig:
        cfg = self.fit_cfg
        batch = min(cfg.batch, self.problem.n_train)
        per_epoch = math.ceil(self.problem.n_train / batch)
        return TrainerConfig(max_epochs=math.ceil(cfg.steps / per_epoch), max_steps=cfg.steps,
                             batch_size=batch, optimizer={"name": "adam", "lr": cfg.lr},
                             grad_clip=cfg.clip_grad_norm, monitor=None, seed=cfg.seed,
                             checkpoint_every_steps=cfg.checkpoint_every or None, device="cpu")

    # ---------------------------------------------------------------- the problem
    def load_data(self) -> Tensor:
        return problem_data(self.problem, "train")[0]

    def describe(self, data: Tensor) -> dict[str, Any]:
        p = self.problem
        return {"name": p.pde or p.problem or "diffusion_sorption",
                "grid_shape": list(p.grid_shape), "t_final": p.final_time}

    def splits(self, data: Tensor) -> tuple[Any, None]:
        return InitialStates(data), None

    def eval_data(self, data: Tensor) -> dict[str, Tensor]:
        u0, ref = problem_data(self.problem, "test")
        return {"u0": u0, "reference": ref}

    def build_task(self, spec: dict[str, Any]) -> HardConstraintTask:
        model = MODELS.build(self.model_name, self.model_values, where="model",
                             grid_shape=list(spec["grid_shape"]), t_final=spec["t_final"])
        return HardConstraintTask(model)

    # ---------------------------------------------------------------- reports
    def head(self, spec: dict[str, Any]) -> dict[str, Any]:
        import dataclasses

        return {"model": self.model_name, "problem": dataclasses.asdict(self.problem)}

    def test_report(self, task: HardConstraintTask, eval_data: dict[str, Tensor],
                    spec: dict[str, Any], trainer: Any) -> dict[str, Any]:
        error = mean_relative_l2(task.model, eval_data["u0"], eval_data["reference"])
        return {"test": {"test/rel_l2": error}}

    def plots(self, run_dir: Path, task: HardConstraintTask, eval_data: dict[str, Tensor],
              spec: dict[str, Any]) -> None:
        from sciml.physics import experts_on_this_rank
        from sciml.tasks.hard_constraint._plots import plot_solution

        with experts_on_this_rank():  # rank 0 alone draws (expert parallelism: no peers)
            plot_solution(task.model, eval_data["u0"], eval_data["reference"],
                          run_dir / "solution.png")

    def fit_report(self, result: Any, task: Any, data: Any) -> dict[str, Any]:
        last = result.history[-1] if result.history else {}
        return {"parameters": sum(p.numel() for p in task.model.parameters()),
                "steps": result.steps,
                "fit_seconds": sum(r.get("seconds", 0.0) for r in result.history),
                "final_loss": last.get("train/loss", float("nan"))}

    # ---------------------------------------------------------------- predict
    def read_input(self, path: Path, spec: dict[str, Any]) -> np.ndarray:
        path = input_file(path, "a .npy file of initial states")
        try:
            return np.load(path, allow_pickle=False)
        except (ValueError, OSError) as e:
            raise DataError(f"{path}: cannot read initial states ({e})") from e

    def predict(self, task: HardConstraintTask, spec: dict[str, Any], inputs: Any) -> Tensor:
        """Initial states ``(n, *space)`` → the solution ``(n, *space, n_t)``."""
        u0 = np.asarray(inputs)
        space = tuple(spec["grid_shape"][:-1])
        if u0.shape[1:] != space or not np.isfinite(u0).all():
            raise DataError(f"expected finite initial states of shape "
                            f"(n, {', '.join(map(str, space))}), got {u0.shape}")
        task.eval()
        with torch.no_grad():
            return task.predict(torch.as_tensor(u0, dtype=torch.float32))

    def write_prediction(self, out_dir: Path, inputs: np.ndarray, outputs: Tensor,
                         spec: dict[str, Any], source: str) -> list[Path]:
        out = Path(out_dir) / "prediction.h5"
        write_hdf5(out, {"initial": np.asarray(inputs, np.float64),
                         "u": outputs.numpy().astype(np.float64)}, params={"input": source})
        return [out]
