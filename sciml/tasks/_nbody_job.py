"""The N-body job: recipe → charged N-body data, equivariant model, Trainer → run folder with the
test position MSE at the target frame and a plot of predicted vs true trajectories."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml.data import read_hdf5, write_hdf5
from sciml.datasets import ChargedNBody
from sciml.errors import ConfigError, DataError
from sciml.registry import MODELS, TASKS
from sciml.tasks._job import AbstractJob, build_data, write_json, write_yaml
from sciml.tasks._nbody import NBodySamples, NBodyTask
from sciml.train import Trainer, TrainerConfig
from sciml.train._distributed import barrier, dist_env

__all__ = ["NBodyJob", "NBodyDataConfig", "NBodyObjectiveConfig", "NBodyEvalConfig"]


@dataclass(frozen=True)
class NBodyDataConfig:
    """Which particle data set (its options are checked against the data set's own config)."""

    name: str = "nbody"
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class NBodyObjectiveConfig:
    """``augment``: random rotation of each training batch."""

    augment: bool = True


@dataclass(frozen=True)
class NBodyEvalConfig:
    """``plot_samples``: test simulations drawn in ``trajectories.png``."""

    plot_samples: int = 3

    def __post_init__(self) -> None:
        if isinstance(self.plot_samples, bool) or not isinstance(self.plot_samples, int) or (
                self.plot_samples < 0):
            raise ValueError(f"plot_samples must be an integer >= 0, got {self.plot_samples!r}")


@TASKS.register("nbody", help="particles: forecast charged N-body positions (EGNN / PONITA)")
class NBodyJob(AbstractJob):
    """N-body recipes: ``data`` (NBodyDataConfig), ``model`` (name + config), ``objective``
    (NBodyObjectiveConfig), ``train`` (TrainerConfig), ``eval`` (NBodyEvalConfig)."""

    sections = ("data", "model", "objective", "train", "eval")
    configs = {"data": ("data_cfg", NBodyDataConfig),
               "objective": ("objective", NBodyObjectiveConfig),
               "eval": ("eval_cfg", NBodyEvalConfig), "train": ("train_cfg", TrainerConfig)}
    registered_data = True
    data_cfg: NBodyDataConfig
    objective: NBodyObjectiveConfig
    eval_cfg: NBodyEvalConfig
    train_cfg: TrainerConfig

    def __init__(self, recipe: dict[str, Any]) -> None:
        super().__init__(recipe)
        task_level = self.model_values.get("task_level", "node")
        if task_level != "node":
            raise ConfigError(f"model.task_level must be 'node' for N-body forecasting, got "
                              f"{task_level!r}")

    def load_data(self) -> ChargedNBody:
        return build_data(self.data_cfg.name, self.data_cfg.options, ChargedNBody,
                          "a particle data set")

    def build_task(self) -> NBodyTask:
        values = {"task_level": "node", **self.model_values}
        model = MODELS.build(self.model_name, values, where="model", in_channels=1,
                             out_channels=0, in_vector_channels=1, out_vector_channels=1)
        return NBodyTask(model, augment=self.objective.augment)

    def fit(self, run_dir: Path, resume: bool = True, progress: bool = True) -> dict[str, Any]:
        run_dir = Path(run_dir)
        if dist_env().is_main:
            write_yaml(run_dir / "recipe.yaml", self.recipe)
        data = self.load_data()
        torch.manual_seed(self.train_cfg.seed)
        task = self.build_task()
        trainer = self._trainer(run_dir, progress)
        result = trainer.fit(task, NBodySamples(data.split("train")),
                             NBodySamples(data.split("val")), resume=resume)
        barrier(dist_env())
        n_params = sum(p.numel() for p in task.model.parameters())
        return self._evaluate(run_dir, data, task, trainer,
                              {"epochs": result.epochs_run, "parameters": n_params})

    def _evaluate(self, run_dir: Path, data: ChargedNBody, task: NBodyTask, trainer: Trainer,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
        self._load_best(run_dir, task)
        test = data.split("test")
        metrics = trainer.evaluate(task, NBodySamples(test), prefix="test")
        # Anchors in the same run: no motion, and constant velocity over the forecast horizon.
        horizon = (data.frame_out - data.frame_in) * data.generator["sample_every"] * \
            data.generator["dt"]
        static = float(((test.pos - test.target) ** 2).mean())
        linear = float(((test.pos + horizon * test.vel - test.target) ** 2).mean())
        report: dict[str, Any] = {
            "model": self.model_name, "data": repr(data), "test": metrics,
            "anchor_static": {"test/position_mse": static},
            "anchor_constant_velocity": {"test/position_mse": linear},
        }
        report.update(extra or {})
        if dist_env().is_main:
            from sciml.tasks._nbody_plots import plot_trajectories

            plot_trajectories(task, test, data.frame_in, data.frame_out,
                              run_dir / "trajectories.png", self.eval_cfg.plot_samples)
            write_json(run_dir / "report.json", report)
        return report

    def evaluate(self, run_dir: Path) -> dict[str, Any]:
        data = self.load_data()
        task = self.build_task()
        trainer = self._trainer()
        return self._evaluate(Path(run_dir), data, task, trainer)

    def predict(self, run_dir: Path, input_path: Path, output: Path | None) -> list[Path]:
        """Input: ``.h5`` or ``.npz`` with ``pos`` and ``vel`` ``(S, N, 3)`` and ``charges``
        ``(S, N)`` or ``(S, N, 1)``; output: ``prediction.h5`` with the predicted positions."""
        run_dir, input_path = Path(run_dir), Path(input_path)
        task = self.build_task()
        self._load_best(run_dir, task)
        task.eval()
        arrays = _read_states(input_path)
        batch = {k: torch.as_tensor(v, dtype=torch.float32) for k, v in arrays.items()}
        with torch.no_grad():
            pred = task.predict(batch)
        out = (Path(output) if output is not None else run_dir / "predictions") / "prediction.h5"
        write_hdf5(out, {**{k: v for k, v in arrays.items()}, "pred": pred.numpy()},
                   params={"run": str(run_dir), "input": str(input_path)})
        return [out]


def _read_states(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise FileNotFoundError(f"no input file at {path}")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in ("pos", "vel", "charges") if k in f}
        elif path.suffix in (".h5", ".hdf5"):
            arrays = read_hdf5(path, verify=False)[0]
        else:
            raise DataError(f"{path}: unsupported input format {path.suffix!r} (use .npz or .h5 "
                            f"with pos, vel, charges)")
    except (ValueError, OSError) as e:
        raise DataError(f"{path}: cannot read ({e})") from e
    for key in ("pos", "vel", "charges"):
        if key not in arrays:
            raise DataError(f"{path}: missing array {key!r} (need pos, vel, charges)")
    pos, vel = np.asarray(arrays["pos"], float), np.asarray(arrays["vel"], float)
    q = np.asarray(arrays["charges"], float)
    if pos.ndim != 3 or pos.shape[-1] != 3 or vel.shape != pos.shape:
        raise DataError(f"{path}: pos and vel must have shape (S, N, 3), got {pos.shape} and "
                        f"{vel.shape}")
    q = q.reshape(pos.shape[0], pos.shape[1], 1) if q.size == pos.shape[0] * pos.shape[1] else q
    if q.shape != (*pos.shape[:2], 1):
        raise DataError(f"{path}: charges must have shape (S, N) or (S, N, 1) matching pos "
                        f"{pos.shape}, got {np.shape(arrays['charges'])}")
    for key, a in (("pos", pos), ("vel", vel), ("charges", q)):
        if not np.isfinite(a).all():
            raise DataError(f"{path}: {key} contains NaN or infinite values")
    return {"pos": pos, "vel": vel, "charges": q}
