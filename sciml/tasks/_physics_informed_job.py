"""The physics-informed job: recipe → PDE problem, PINN or LPINN, Adam → L-BFGS fit → run folder.

A recipe has ``problem`` (:class:`PhysicsProblem`), ``model`` (``pinn`` or ``lpinn`` + config),
``train`` (:class:`FitConfig`) and ``eval`` (:class:`PhysicsEvalConfig`). The run folder gets
``recipe.yaml``, ``checkpoints/last.pt`` (resumable) and ``checkpoints/best.pt`` (the final model),
``metrics.csv`` (loss history), ``report.json`` and ``solution.png``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml.data import write_hdf5
from sciml.errors import ConfigError, DataError
from sciml.models import load_model
from sciml.models._lpinn import LPINN, lagrangian_to_grid
from sciml.registry import MODELS, TASKS
from sciml.tasks._job import AbstractJob, write_csv, write_json, write_yaml
from sciml.tasks._physics_fit import fit_physics_informed
from sciml.tasks._physics_informed import (
    FitConfig,
    LPINNObjective,
    PhysicsProblem,
    make_objective,
    reference_solution,
)

__all__ = ["PhysicsInformedJob", "PhysicsEvalConfig", "build_physics_model", "evaluate_on_grid"]


@dataclasses.dataclass(frozen=True)
class PhysicsEvalConfig:
    """Evaluation grid: ``n_x`` points in x (periodic: end excluded) × ``n_t`` times (ends in)."""

    n_x: int = 256
    n_t: int = 101

    def __post_init__(self) -> None:
        for name in ("n_x", "n_t"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 2:
                raise ValueError(f"{name} must be an integer >= 2, got {v!r}")


def build_physics_model(name: str, values: dict[str, Any], problem: PhysicsProblem
                        ) -> torch.nn.Module:
    """Build a ``pinn`` / ``lpinn`` for ``problem`` (coordinate ranges are run-time sizes)."""
    if name not in ("pinn", "lpinn"):
        raise ConfigError(f"model.name must be 'pinn' or 'lpinn' for a physics_informed recipe, "
                          f"got {name!r}")
    cfg = MODELS.config(name, values, where="model")
    if getattr(cfg, "periodic", name == "lpinn"):
        if problem.boundary != "periodic":
            raise ConfigError(f"model {name!r} with a periodic embedding needs "
                              f"problem.boundary = periodic, got {problem.boundary!r}")
        if not math.isclose(cfg.period, problem.length, rel_tol=1e-9):
            raise ConfigError(f"model.period = {cfg.period} differs from the problem's period "
                              f"x_range[1] - x_range[0] = {problem.length}")
    if name == "lpinn":
        return MODELS.build(name, values, where="model", t0=problem.t_range[0],
                            t1=problem.t_range[1])
    return MODELS.build(name, values, where="model", spatial_dims=1, n_fields=1,
                        lows=[problem.x_range[0], problem.t_range[0]],
                        highs=[problem.x_range[1], problem.t_range[1]])


def evaluate_on_grid(model: torch.nn.Module, objective, problem: PhysicsProblem,
                     n_x: int, n_t: int) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Relative L2 (and max error) of the model against the reference on the evaluation grid."""
    x, t = problem.grid(n_x, n_t)
    ref = reference_solution(problem, x, t)
    pred = objective.predict(model, x, t)
    err = pred - ref
    metrics = {"test/rel_l2": float(np.linalg.norm(err) / np.linalg.norm(ref)),
               "test/max_abs_error": float(np.abs(err).max())}
    return metrics, {"x": x, "t": t, "reference": ref, "prediction": pred}


@TASKS.register("physics_informed",
                help="PINN / Lagrangian PINN on a 1-D PDE, Adam then L-BFGS, vs a reference")
class PhysicsInformedJob(AbstractJob):
    """Physics-informed recipes: ``problem``, ``model``, ``train`` (FitConfig), ``eval``."""

    sections = ("problem", "model", "train", "eval")
    configs = {"problem": ("problem", PhysicsProblem), "train": ("fit_cfg", FitConfig),
               "eval": ("eval_cfg", PhysicsEvalConfig)}
    problem: PhysicsProblem
    fit_cfg: FitConfig
    eval_cfg: PhysicsEvalConfig

    def __init__(self, recipe: dict[str, Any]) -> None:
        super().__init__(recipe)
        self.problem.build_pde()  # unknown PDE or parameter: fail before training

    def _build(self) -> tuple[torch.nn.Module, Any]:
        torch.manual_seed(self.fit_cfg.seed)
        model = build_physics_model(self.model_name, self.model_values, self.problem)
        return model, make_objective(model, self.problem, self.fit_cfg)

    def fit(self, run_dir: Path, resume: bool = True, progress: bool = True) -> dict[str, Any]:
        run_dir = Path(run_dir)
        write_yaml(run_dir / "recipe.yaml", self.recipe)
        model, objective = self._build()
        t0 = time.perf_counter()
        history = fit_physics_informed(model, objective, self.fit_cfg,
                                       checkpoint=run_dir / "checkpoints" / "last.pt",
                                       resume=resume, progress=progress)
        seconds = time.perf_counter() - t0
        model.save(run_dir / "checkpoints" / "best.pt")
        write_csv(run_dir / "metrics.csv", history)
        extra = {"fit_seconds": seconds,
                 "final_loss": history[-1]["loss"] if history else float("nan")}
        return self._report(run_dir, model, objective, extra)

    def _report(self, run_dir: Path, model, objective, extra: dict[str, Any]) -> dict[str, Any]:
        metrics, fields = evaluate_on_grid(model, objective, self.problem, self.eval_cfg.n_x,
                                           self.eval_cfg.n_t)
        report: dict[str, Any] = {
            "model": self.model_name,
            "pde": self.problem.pde,
            "params": dict(self.problem.params),
            "parameters": sum(p.numel() for p in model.parameters()),
            "test": metrics,
            **extra,
        }
        from sciml.tasks._physics_informed_plots import plot_solution

        chars = None
        if isinstance(objective, LPINNObjective):
            labels, _ = self.problem.grid(24, 2)
            chars = (labels, fields["t"], objective.characteristics(model, labels, fields["t"])[0])
        plot_solution(run_dir / "solution.png", fields, chars,
                      title=f"{self.model_name} on {self.problem.pde} {dict(self.problem.params)}"
                            f": rel L2 {metrics['test/rel_l2']:.2e}")
        write_json(run_dir / "report.json", report)
        return report

    def _load(self, run_dir: Path) -> tuple[torch.nn.Module, Any]:
        path = Path(run_dir) / "checkpoints" / "best.pt"
        if not path.is_file():
            raise DataError(f"{run_dir}: no trained model at {path} (run `sciml fit` first)")
        model = load_model(path).to(self.fit_cfg.torch_dtype)
        return model, make_objective(model, self.problem, self.fit_cfg)

    def evaluate(self, run_dir: Path) -> dict[str, Any]:
        model, objective = self._load(run_dir)
        return self._report(Path(run_dir), model, objective, {})

    def predict(self, run_dir: Path, input_path: Path, output: Path | None) -> list[Path]:
        """Input: ``.npy`` points (n, 2) with columns (x, t); output ``prediction.h5`` with the
        points and u (for an LPINN, u interpolated from the characteristics at each t)."""
        model, objective = self._load(run_dir)
        input_path = Path(input_path)
        if not input_path.is_file():
            raise FileNotFoundError(f"no input file at {input_path}")
        try:
            pts = np.load(input_path, allow_pickle=False)
        except (ValueError, OSError) as e:
            raise DataError(f"{input_path}: cannot read points ({e})") from e
        if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all():
            raise DataError(f"{input_path}: expected finite points of shape (n, 2) (x, t), got "
                            f"{pts.shape}")
        u = np.empty(len(pts))
        if isinstance(model, LPINN):
            labels, _ = self.problem.grid(2 * self.eval_cfg.n_x, 2)
            for t in np.unique(pts[:, 1]):
                rows = pts[:, 1] == t
                x_l, u_l = objective.characteristics(model, labels, np.array([t]))
                u[rows] = lagrangian_to_grid(x_l - self.problem.x_range[0], u_l,
                                             pts[rows, 0] - self.problem.x_range[0],
                                             self.problem.length)[0]
        else:
            with torch.no_grad():
                u = model(torch.as_tensor(pts, dtype=self.fit_cfg.torch_dtype))[:, 0].numpy()
        out = (Path(output) if output is not None else Path(run_dir) / "predictions")
        out = out / "prediction.h5"
        write_hdf5(out, {"points": pts.astype(np.float64), "u": np.asarray(u, np.float64)},
                   params={"run": str(run_dir), "input": str(input_path)})
        return [out]
