"""The operator job: recipe → PDE data, normaliser, grid operator, Trainer → run folder.

Steady problems (Darcy) learn ``x ↦ y`` with :class:`OperatorTask`; time-dependent ones
(Navier–Stokes, Burgers trajectories) learn a residual time stepper rolled out autoregressively with
:class:`RolloutTask` (MgNO's setting: one input frame → ``rollout_steps`` frames).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml.data import read_hdf5, write_hdf5
from sciml.datasets import PDEData, UnitGaussianNormalizer
from sciml.errors import ConfigError, DataError
from sciml.registry import MODELS, TASKS
from sciml.tasks._job import AbstractJob, build_data, write_json, write_yaml
from sciml.tasks._operator import OperatorTask, PairDataset, RolloutTask
from sciml.train import Trainer, TrainerConfig
from sciml.train._distributed import barrier, dist_env

__all__ = [
    "OperatorJob",
    "OperatorDataConfig",
    "ObjectiveConfig",
    "OperatorEvalConfig",
    "channel_stats",
]


@dataclass(frozen=True)
class OperatorDataConfig:
    """Which PDE data set (its options are checked against the data set's own config)."""

    name: str = "darcy"
    options: dict = field(default_factory=dict)
    coordinates: bool = True  # append resolution-independent coordinates as input channels
    # FNO's protocol has train and test only and reports the last epoch; a fraction > 0 holds out
    # the last training samples for validation (best checkpoint, early stopping).
    val_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction!r}")


@dataclass(frozen=True)
class ObjectiveConfig:
    """What is minimised: ``rel_l2`` or ``h1`` (steady), rollout settings (time-dependent)."""

    loss: str = "rel_l2"
    rollout_steps: int | None = None  # None: the whole trajectory of the data set
    teacher_forcing: bool = False

    def __post_init__(self) -> None:
        if self.loss not in ("rel_l2", "h1"):
            raise ValueError(f"loss must be 'rel_l2' or 'h1', got {self.loss!r}")


@dataclass(frozen=True)
class OperatorEvalConfig:
    plot_sample: int = 0  # which test sample is plotted


def channel_stats(x: torch.Tensor, channel_dim: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of the training fields, shaped to broadcast over (b, c, *s)."""
    norm = UnitGaussianNormalizer(channel_dim=channel_dim).fit(x)
    state = norm.state_dict()
    ndim_space = x.dim() - channel_dim - 1
    shape = (1, -1) + (1,) * ndim_space
    mean = state["mean"].float().reshape(shape)
    std = (state["std"] + state["eps"]).float().reshape(shape)
    return mean, std


@TASKS.register("operator", help="PDE surrogates: grid operators, steady or rolled out in time")
class OperatorJob(AbstractJob):
    """Operator recipes: ``data`` (OperatorDataConfig), ``model`` (name + config), ``objective``
    (ObjectiveConfig), ``train`` (TrainerConfig), ``eval`` (OperatorEvalConfig)."""

    sections = ("data", "model", "objective", "train", "eval")
    configs = {"data": ("data_cfg", OperatorDataConfig),
               "objective": ("objective", ObjectiveConfig),
               "eval": ("eval_cfg", OperatorEvalConfig), "train": ("train_cfg", TrainerConfig)}
    registered_data = True
    data_cfg: OperatorDataConfig
    objective: ObjectiveConfig
    eval_cfg: OperatorEvalConfig
    train_cfg: TrainerConfig

    # ---------------------------------------------------------------- building
    def load_data(self) -> PDEData:
        return build_data(self.data_cfg.name, self.data_cfg.options, PDEData, "a PDE data set")

    def build_task(self, data: PDEData) -> OperatorTask | RolloutTask:
        coords = data.ndim if self.data_cfg.coordinates else 0
        if data.time_dependent:
            c = data.x_train.shape[1]
            mean, std = channel_stats(data.x_train, channel_dim=1)
            model = MODELS.build(
                self.model_name,
                self.model_values,
                where="model",
                in_channels=c + coords,
                out_channels=c,
                ndim=data.ndim,
                resolution=list(data.x_train.shape[-data.ndim :]),
            )
            return RolloutTask(
                model,
                mean,
                std,
                boundary=data.boundary,
                coordinates=self.data_cfg.coordinates,
                steps=self.objective.rollout_steps,
                teacher_forcing=self.objective.teacher_forcing,
            )
        x_mean, x_std = channel_stats(data.x_train, channel_dim=1)
        y_mean, y_std = channel_stats(data.y_train, channel_dim=1)
        model = MODELS.build(
            self.model_name,
            self.model_values,
            where="model",
            in_channels=data.x_train.shape[1] + coords,
            out_channels=data.y_train.shape[1],
            ndim=data.ndim,
            resolution=list(data.x_train.shape[-data.ndim :]),
        )
        return OperatorTask(
            model,
            x_mean,
            x_std,
            y_mean,
            y_std,
            boundary=data.boundary,
            coordinates=self.data_cfg.coordinates,
            loss=self.objective.loss,
        )

    def datasets(self, data: PDEData) -> tuple[PairDataset, PairDataset | None, PairDataset]:
        """Train, validation (None unless ``val_fraction > 0``) and test splits."""
        n = len(data.x_train)
        n_val = int(round(self.data_cfg.val_fraction * n))
        if self.data_cfg.val_fraction > 0 and not 0 < n_val < n:
            raise ConfigError(
                f"data.val_fraction={self.data_cfg.val_fraction} leaves {n_val} of "
                f"{n} training samples for validation"
            )
        train = PairDataset(data.x_train[: n - n_val], data.y_train[: n - n_val])
        val = PairDataset(data.x_train[n - n_val :], data.y_train[n - n_val :]) if n_val else None
        return train, val, PairDataset(data.x_test, data.y_test)

    # ---------------------------------------------------------------- the three commands
    def fit(self, run_dir: Path, resume: bool = True, progress: bool = True) -> dict[str, Any]:
        run_dir = Path(run_dir)
        if dist_env().is_main:
            write_yaml(run_dir / "recipe.yaml", self.recipe)
        data = self.load_data()
        torch.manual_seed(self.train_cfg.seed)
        task = self.build_task(data)
        train, val, _ = self.datasets(data)
        trainer = self._trainer(run_dir, progress)
        result = trainer.fit(task, train, val, resume=resume)
        barrier(dist_env())
        return self._evaluate(
            run_dir,
            data,
            task,
            trainer,
            {"epochs": result.epochs_run, "parameters": _n_params(task)},
        )

    def _evaluate(
        self,
        run_dir: Path,
        data: PDEData,
        task,
        trainer: Trainer,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        self._load_best(run_dir, task)
        test = self.datasets(data)[2]
        metrics = trainer.evaluate(task, test, prefix="test")
        res = tuple(data.x_test.shape[-data.ndim :])
        report: dict[str, Any] = {
            "model": self.model_name,
            "data": data.name,
            "train_resolution": list(data.x_train.shape[-data.ndim :]),
            "test_resolution": list(res),
            "test": metrics,
        }
        report.update(extra or {})
        if dist_env().is_main:
            from sciml.tasks._operator_plots import plot_operator_sample

            plot_operator_sample(
                task,
                test,
                run_dir / "prediction.png",
                index=min(self.eval_cfg.plot_sample, len(test) - 1),
            )
            write_json(run_dir / "report.json", report)
        return report

    def evaluate(self, run_dir: Path) -> dict[str, Any]:
        data = self.load_data()
        task = self.build_task(data)
        trainer = self._trainer()
        return self._evaluate(Path(run_dir), data, task, trainer)

    def predict(self, run_dir: Path, input_path: Path, output: Path | None) -> list[Path]:
        """Input: ``.npy``, ``.pt`` or ``.h5`` (key ``x``) fields ``(n, c, *spatial)`` at any
        resolution; output: ``prediction.h5`` with ``x`` and ``y``."""
        run_dir, input_path = Path(run_dir), Path(input_path)
        data = self.load_data()
        task = self.build_task(data)
        self._load_best(run_dir, task)
        task.eval()
        x = _read_fields(input_path)
        c = data.x_train.shape[1]
        if x.dim() != data.x_train.dim() or x.shape[1] != c:
            raise DataError(
                f"{input_path}: expected fields of shape (n, {c}, "
                f"{', '.join('s' for _ in range(data.ndim))}), got {tuple(x.shape)}"
            )
        with torch.no_grad():
            if data.time_dependent:
                steps = self.objective.rollout_steps or data.y_train.shape[1]
                y = task.rollout(x, steps)
            else:
                y = task.predict({"x": x})
        out = (Path(output) if output is not None else run_dir / "predictions") / "prediction.h5"
        write_hdf5(
            out,
            {"x": x.numpy(), "y": y.numpy()},
            params={"run": str(run_dir), "input": str(input_path)},
        )
        return [out]


def _n_params(task: torch.nn.Module) -> int:
    return sum(p.numel() for p in task.model.parameters())


def _read_fields(path: Path) -> torch.Tensor:
    if not path.is_file():
        raise FileNotFoundError(f"no input file at {path}")
    try:
        if path.suffix == ".npy":
            x = torch.from_numpy(np.load(path, allow_pickle=False))
        elif path.suffix == ".pt":
            obj = torch.load(path, map_location="cpu", weights_only=True)
            x = obj["x"] if isinstance(obj, dict) else obj
        elif path.suffix in (".h5", ".hdf5"):
            x = torch.from_numpy(read_hdf5(path, keys=["x"], verify=False)[0]["x"])
        else:
            raise DataError(
                f"{path}: unsupported input format {path.suffix!r} "
                "(use .npy, .pt or .h5 with key 'x')"
            )
    except (ValueError, OSError, KeyError) as e:
        if isinstance(e, DataError):
            raise
        raise DataError(f"{path}: cannot read fields ({e})") from e
    if not torch.is_tensor(x) or not x.is_floating_point() and x.dtype != torch.bool:
        raise DataError(f"{path}: 'x' must be a floating-point array")
    x = x.float()
    if not torch.isfinite(x).all():
        raise DataError(f"{path}: 'x' contains NaN or infinite values")
    return x
