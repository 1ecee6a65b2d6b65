"""The N-body job: recipe → charged N-body data, equivariant model → run folder with the test
position MSE at the target frame, two anchors (no motion, constant velocity) and a plot of
predicted against true trajectories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml.data import read_hdf5, write_hdf5
from sciml.datasets import ChargedNBody, NBodySplit
from sciml.errors import ConfigError, DataError
from sciml.registry import JOBS, MODELS
from sciml.tasks._job import AbstractJob, build_data, input_file
from sciml.tasks.nbody._config import NBodyDataConfig, NBodyEvalConfig, NBodyObjectiveConfig
from sciml.tasks.nbody._task import NBodySamples, NBodyTask
from sciml.train import TrainerConfig

__all__ = ["NBodyJob", "read_states"]

_FIELDS = ("pos", "vel", "charges", "target", "loc")


@JOBS.register("nbody", help="particles: forecast charged N-body positions (EGNN / PONITA)")
class NBodyJob(AbstractJob):
    """N-body recipes: ``data`` (NBodyDataConfig), ``model`` (name + config), ``objective``
    (NBodyObjectiveConfig), ``train`` (TrainerConfig), ``eval`` (NBodyEvalConfig)."""

    sections = ("data", "model", "objective", "train", "eval")
    configs = {"data": ("data_cfg", NBodyDataConfig),
               "objective": ("objective", NBodyObjectiveConfig),
               "eval": ("eval_cfg", NBodyEvalConfig), "train": ("train_cfg", TrainerConfig)}
    data_kind = "a ChargedNBody (sciml.datasets.ChargedNBody)"
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

    # ---------------------------------------------------------------- data
    def load_data(self) -> ChargedNBody:
        return build_data(self.data_cfg.name, self.data_cfg.options, ChargedNBody,
                          "a particle data set")

    def check_data(self, data: Any) -> ChargedNBody:
        if not isinstance(data, ChargedNBody):
            raise TypeError(f"an nbody recipe takes {self.data_kind} as data, got "
                            f"{type(data).__name__}")
        return data

    def describe(self, data: ChargedNBody) -> dict[str, Any]:
        horizon = (data.frame_out - data.frame_in) * data.generator["sample_every"] * \
            data.generator["dt"]
        return {"name": repr(data), "frame_in": data.frame_in, "frame_out": data.frame_out,
                "horizon": float(horizon), "n_particles": int(data.n_particles)}

    def splits(self, data: ChargedNBody) -> tuple[Any, Any]:
        return NBodySamples(data.split("train")), NBodySamples(data.split("val"))

    def eval_data(self, data: ChargedNBody) -> dict[str, Any]:
        split = data.split("test")
        return {k: getattr(split, k) for k in _FIELDS}

    # ---------------------------------------------------------------- task
    def build_task(self, spec: dict[str, Any] | None = None) -> NBodyTask:
        values = {"task_level": "node", **self.model_values}
        model = MODELS.build(self.model_name, values, where="model", in_channels=1,
                             out_channels=0, in_vector_channels=1, out_vector_channels=1)
        return NBodyTask(model, augment=self.objective.augment)

    # ---------------------------------------------------------------- reports
    def head(self, spec: dict[str, Any]) -> dict[str, Any]:
        return {"model": self.model_name, "data": spec["name"]}

    def test_samples(self, eval_data: dict[str, Any], spec: dict[str, Any]
                     ) -> tuple[NBodySamples, None]:
        return NBodySamples(NBodySplit(**eval_data)), None

    def test_report(self, task: NBodyTask, eval_data: dict[str, Any], spec: dict[str, Any],
                    trainer: Any) -> dict[str, Any]:
        test = NBodySplit(**eval_data)
        metrics = trainer.evaluate(task, NBodySamples(test), prefix="test")
        # Anchors in the same run: no motion, and constant velocity over the forecast horizon.
        static = float(((test.pos - test.target) ** 2).mean())
        linear = float(((test.pos + spec["horizon"] * test.vel - test.target) ** 2).mean())
        return {"test": metrics, "anchor_static": {"test/position_mse": static},
                "anchor_constant_velocity": {"test/position_mse": linear}}

    def plots(self, run_dir: Path, task: NBodyTask, eval_data: dict[str, Any],
              spec: dict[str, Any]) -> None:
        from sciml.tasks.nbody._plots import plot_trajectories

        plot_trajectories(task, NBodySplit(**eval_data), spec["frame_in"], spec["frame_out"],
                          run_dir / "trajectories.png", self.eval_cfg.plot_samples)

    # ---------------------------------------------------------------- predict
    def read_input(self, path: Path, spec: dict[str, Any]) -> dict[str, np.ndarray]:
        return read_states(Path(path))

    def predict(self, task: NBodyTask, spec: dict[str, Any], inputs: Any) -> torch.Tensor:
        """``{"pos", "vel": (S, N, 3), "charges": (S, N) or (S, N, 1)}`` → the positions at
        the target frame ``(S, N, 3)``."""
        arrays = check_states(dict(inputs), "input")
        batch = {k: torch.as_tensor(v, dtype=torch.float32) for k, v in arrays.items()}
        task.eval()
        with torch.no_grad():
            return task.predict(batch)

    def write_prediction(self, out_dir: Path, inputs: dict[str, np.ndarray],
                         outputs: torch.Tensor, spec: dict[str, Any], source: str) -> list[Path]:
        out = Path(out_dir) / "prediction.h5"
        arrays = {k: np.asarray(v) for k, v in check_states(dict(inputs), source).items()}
        write_hdf5(out, {**arrays, "pred": outputs.numpy()}, params={"input": source})
        return [out]


def read_states(path: Path) -> dict[str, np.ndarray]:
    """``pos``, ``vel`` and ``charges`` from ``.npz`` or ``.h5``."""
    input_file(path, "a file of particle states")
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
        if isinstance(e, DataError):
            raise
        raise DataError(f"{path}: cannot read ({e})") from e
    return check_states(arrays, str(path))


def check_states(arrays: dict[str, Any], where: str) -> dict[str, np.ndarray]:
    """Shapes and values of particle states; errors name ``where`` and the array."""
    for key in ("pos", "vel", "charges"):
        if key not in arrays:
            raise DataError(f"{where}: missing array {key!r} (need pos, vel, charges)")
    pos, vel = np.asarray(arrays["pos"], float), np.asarray(arrays["vel"], float)
    q = np.asarray(arrays["charges"], float)
    if pos.ndim != 3 or pos.shape[-1] != 3 or vel.shape != pos.shape:
        raise DataError(f"{where}: pos and vel must have shape (S, N, 3), got {pos.shape} and "
                        f"{vel.shape}")
    q = q.reshape(pos.shape[0], pos.shape[1], 1) if q.size == pos.shape[0] * pos.shape[1] else q
    if q.shape != (*pos.shape[:2], 1):
        raise DataError(f"{where}: charges must have shape (S, N) or (S, N, 1) matching pos "
                        f"{pos.shape}, got {np.shape(arrays['charges'])}")
    for key, a in (("pos", pos), ("vel", vel), ("charges", q)):
        if not np.isfinite(a).all():
            raise DataError(f"{where}: {key} contains NaN or infinite values")
    return {"pos": pos, "vel": vel, "charges": q}
