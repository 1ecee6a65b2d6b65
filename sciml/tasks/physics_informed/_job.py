"""The physics-informed job: recipe → PDE problem, PINN or LPINN, Adam → L-BFGS → run folder.

A recipe has ``problem`` (:class:`PhysicsProblem`), ``model`` (``pinn`` or ``lpinn`` + config),
``train`` (:class:`FitConfig`) and ``eval`` (:class:`PhysicsEvalConfig`). Training runs in the
engine's full-batch mode (:meth:`sciml.train.Trainer.fit_full_batch`): the run folder gets
``recipe.yaml``, ``checkpoints/last.pt`` (resumable; the final model), ``metrics.csv`` (loss
history), TensorBoard events, ``report.json`` and ``solution.png``. ``--extend N`` adds ``N``
L-BFGS iterations.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml.data import write_hdf5
from sciml.errors import ConfigError, DataError
from sciml.models import LPINN, lagrangian_to_grid
from sciml.registry import JOBS, MODELS
from sciml.tasks._job import AbstractJob, input_file
from sciml.tasks.physics_informed._problem import (
    FitConfig,
    LPINNObjective,
    PhysicsProblem,
    make_objective,
    read_reference,
    reference_solution,
)
from sciml.tasks.physics_informed._task import PhysicsInformedTask
from sciml.train import TrainerConfig

__all__ = ["PhysicsInformedJob", "PhysicsEvalConfig", "build_physics_model", "evaluate_on_grid",
           "read_points"]


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
    if cfg.periodic:
        if not problem.periodic:
            raise ConfigError(f"model {name!r} with a periodic embedding needs "
                              f"problem.boundary = periodic, got {problem.boundary!r} (set "
                              f"model.periodic: false)")
        if not math.isclose(cfg.period, problem.length, rel_tol=1e-9):
            raise ConfigError(f"model.period = {cfg.period} differs from the problem's period "
                              f"x_range[1] - x_range[0] = {problem.length}")
    if name == "lpinn":
        return MODELS.build(name, values, where="model", t0=problem.t_range[0],
                            t1=problem.t_range[1], x_range=list(problem.x_range))
    lows, highs = problem.box()  # (x, t), or (x, y) of a steady problem
    return MODELS.build(name, values, where="model", spatial_dims=1, n_fields=problem.n_fields,
                        lows=lows, highs=highs)


def _abs_residual(model: torch.nn.Module, objective, x: np.ndarray, t: np.ndarray
                  ) -> np.ndarray:
    """|PDE residual| on the grid x × t → (n_t, n_x) (for an LPINN the Lagrangian residuals at
    labels x, |r_x| + |r_u|)."""
    xx, tt = np.meshgrid(x, t, indexing="xy")
    pts = torch.as_tensor(np.stack([xx.ravel(), tt.ravel()], 1),
                          dtype=objective.cfg.torch_dtype)
    r = objective.residual(model, pts).detach().abs()
    r = r.double().numpy()
    return r.reshape(len(t), len(x), *r.shape[1:])


def evaluate_on_grid(model: torch.nn.Module, objective, problem: PhysicsProblem,
                     n_x: int, n_t: int) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Relative L2 (and max error) of the model against the reference on the evaluation grid
    (the reference file's grid where the problem names one); with ``problem.reference: none``,
    the mean absolute PDE residual on the grid instead."""
    if isinstance(problem.reference, dict):
        x, t, ref = read_reference(problem)
    else:
        x, t = problem.grid(n_x, n_t)
        ref = None if problem.reference == "none" else reference_solution(problem, x, t)
    pred = objective.predict(model, x, t)
    if ref is None:
        residual = _abs_residual(model, objective, x, t)
        return ({"test/mean_abs_residual": float(residual.mean())},
                {"x": x, "t": t, "reference": None, "prediction": pred, "residual": residual})
    err = pred - ref
    metrics = {"test/rel_l2": float(np.linalg.norm(err) / np.linalg.norm(ref)),
               "test/max_abs_error": float(np.abs(err).max())}
    return metrics, {"x": x, "t": t, "reference": ref, "prediction": pred}


@JOBS.register("physics_informed",
               help="PINN / Lagrangian PINN on a 1-D PDE, Adam then L-BFGS, vs a reference")
class PhysicsInformedJob(AbstractJob):
    """Physics-informed recipes: ``problem``, ``model``, ``train`` (FitConfig), ``eval``."""

    sections = ("problem", "model", "train", "eval")
    configs = {"problem": ("problem", PhysicsProblem), "train": ("fit_cfg", FitConfig),
               "eval": ("eval_cfg", PhysicsEvalConfig)}
    data_section = None
    models = ("pinn", "lpinn")
    budget = ("train", "lbfgs_steps")
    problem: PhysicsProblem
    fit_cfg: FitConfig
    eval_cfg: PhysicsEvalConfig

    def __init__(self, recipe: dict[str, Any]) -> None:
        super().__init__(recipe)
        self.problem.build_pde()  # unknown PDE or parameter: fail before training

    @property
    def seed(self) -> int:
        return self.fit_cfg.seed

    def trainer_config(self) -> TrainerConfig:
        # The objective's points and reference live on the CPU; no best checkpoint (the
        # final state of the Adam → L-BFGS schedule is the result).
        return TrainerConfig(seed=self.fit_cfg.seed, monitor=None, device="cpu",
                             checkpoint_every_steps=self.fit_cfg.checkpoint_every or None)

    # ---------------------------------------------------------------- the problem
    def load_data(self) -> None:
        return None

    def describe(self, data: None) -> dict[str, Any]:
        p = self.problem
        return {"name": p.pde, "params": dict(p.params), "x_range": list(p.x_range),
                "second_range": list(p.second_range), "steady": p.steady,
                "boundary": p.boundary}

    def eval_data(self, data: None) -> None:
        return None

    def build_task(self, spec: dict[str, Any]) -> PhysicsInformedTask:
        model = build_physics_model(self.model_name, self.model_values, self.problem)
        model.to(self.fit_cfg.torch_dtype)
        return PhysicsInformedTask(model, make_objective(model, self.problem, self.fit_cfg))

    def train(self, trainer: Any, task: PhysicsInformedTask, data: None, resume: bool,
              extend: bool) -> Any:
        return trainer.fit_full_batch(task, self.fit_cfg.schedule(), resume=resume,
                                      extend=extend)

    # ---------------------------------------------------------------- reports
    def head(self, spec: dict[str, Any]) -> dict[str, Any]:
        return {"model": self.model_name, "pde": self.problem.pde,
                "params": dict(self.problem.params)}

    def test_report(self, task: PhysicsInformedTask, eval_data: None, spec: dict[str, Any],
                    trainer: Any) -> dict[str, Any]:
        problem = self.problem
        identified = task.identified()
        if identified:  # the reference solves the PDE with the identified coefficients
            problem = dataclasses.replace(problem, params={**problem.params, **identified},
                                          unknown=None, observations=None)
        metrics, fields = evaluate_on_grid(task.model, task.objective, problem,
                                           self.eval_cfg.n_x, self.eval_cfg.n_t)
        self._evaluated = (task, metrics, fields)  # the plot draws the same fields
        report: dict[str, Any] = {"test": metrics}
        notes = []
        if identified:
            report["identified"] = identified
            notes.append("inverse problem: the test error is against the reference solution "
                         "with the identified coefficients; metrics.csv holds their history "
                         "(param/<name>)")
        if self.problem.reference == "none":
            notes.append("no reference (problem.reference: none): the mean absolute PDE "
                         "residual on the evaluation grid stands in for an error")
        if notes:
            report["notes"] = notes
        return report

    def fit_report(self, result: Any, task: Any, data: None) -> dict[str, Any]:
        last = result.history[-1] if result.history else {}
        return {"parameters": sum(p.numel() for p in task.model.parameters()),
                "steps": result.steps, "fit_seconds": last.get("seconds", 0.0),
                "final_loss": last.get("train/loss", float("nan"))}

    def plots(self, run_dir: Path, task: PhysicsInformedTask, eval_data: None,
              spec: dict[str, Any]) -> None:
        from sciml.tasks.physics_informed._plots import plot_solution

        model, objective = task.model, task.objective
        cached = getattr(self, "_evaluated", None)
        if cached is not None and cached[0] is task:
            metrics, fields = cached[1], cached[2]
        else:
            metrics, fields = evaluate_on_grid(model, objective, self.problem, self.eval_cfg.n_x,
                                               self.eval_cfg.n_t)
        chars = None
        if isinstance(objective, LPINNObjective):
            labels, _ = self.problem.grid(24, 2)
            chars = (labels, fields["t"], objective.characteristics(model, labels, fields["t"])[0])
        score = (f"rel L2 {metrics['test/rel_l2']:.2e}" if "test/rel_l2" in metrics else
                 f"mean |residual| {metrics['test/mean_abs_residual']:.2e}")
        plot_solution(run_dir / "solution.png", fields, chars,
                      second="y" if self.problem.steady else "t",
                      title=f"{self.model_name} on {self.problem.pde} {dict(self.problem.params)}"
                            f": {score}")

    # ---------------------------------------------------------------- predict
    def read_input(self, path: Path, spec: dict[str, Any]) -> np.ndarray:
        return read_points(Path(path))

    def predict(self, task: PhysicsInformedTask, spec: dict[str, Any], inputs: Any
                ) -> np.ndarray:
        """Points ``(n, 2)`` with columns (x, t) → u ``(n,)`` (for an LPINN, u interpolated from
        the characteristics at each t)."""
        pts = np.asarray(inputs, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all():
            raise DataError(f"expected finite points of shape (n, 2) (x, t), got {pts.shape}")
        (x0, t0), (x1, t1) = self.problem.box()
        second = "y" if self.problem.steady else "t"
        outside = (pts[:, 0] < x0) | (pts[:, 0] > x1) | (pts[:, 1] < t0) | (pts[:, 1] > t1)
        if outside.any():
            i = int(np.flatnonzero(outside)[0])
            warnings.warn(f"{int(outside.sum())} of {len(pts)} points lie outside the trained "
                          f"domain x in [{x0:g}, {x1:g}], {second} in [{t0:g}, {t1:g}] (first: "
                          f"row {i}, {tuple(pts[i])}); the prediction there is an extrapolation",
                          stacklevel=2)
        model, objective = task.model, task.objective
        u = np.empty(len(pts))
        if isinstance(model, LPINN):
            p = self.problem
            labels, _ = p.grid(2 * self.eval_cfg.n_x, 2)
            for t in np.unique(pts[:, 1]):
                rows = pts[:, 1] == t
                x_l, u_l = objective.characteristics(model, labels, np.array([t]))
                u[rows] = lagrangian_to_grid(x_l - p.x_range[0], u_l, pts[rows, 0] - p.x_range[0],
                                             p.length)[0]
        else:
            with torch.no_grad():
                coords = torch.as_tensor(pts, dtype=self.fit_cfg.torch_dtype)
                u = objective.field(model, coords).numpy()
        return np.asarray(u, np.float64)

    def write_prediction(self, out_dir: Path, inputs: np.ndarray, outputs: np.ndarray,
                         spec: dict[str, Any], source: str) -> list[Path]:
        out = Path(out_dir) / "prediction.h5"
        write_hdf5(out, {"points": np.asarray(inputs, np.float64), "u": outputs},
                   params={"input": source})
        return [out]


def read_points(path: Path) -> np.ndarray:
    """Points ``(n, 2)`` (x, t) from a ``.npy`` file."""
    input_file(path, "a .npy file of points")
    try:
        pts = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise DataError(f"{path}: cannot read points ({e})") from e
    if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all():
        raise DataError(f"{path}: expected finite points of shape (n, 2) (x, t), got "
                        f"{pts.shape}")
    return pts
