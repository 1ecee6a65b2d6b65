"""The operator job: recipe → PDE data, normaliser, grid operator → run folder.

Steady problems (Darcy) learn ``x ↦ y`` with :class:`OperatorTask`; time-dependent ones
(Navier–Stokes, Burgers trajectories) learn a residual time stepper rolled out autoregressively with
:class:`RolloutTask` (MgNO's setting: one input frame → ``rollout_steps`` frames). The run folder's
data description holds the channel counts, the boundary condition, the training resolution and
the normalisers, so that ``eval`` and ``predict`` (at any resolution) build the model without the
training data; at another resolution than the training one the report gives, beside the model's
metrics, those of the restrict-predict-interpolate baseline. Data with a physical extent (the
``arrays`` data set) add it to the description (the H1 loss's spacing, the plots' axes, the
report); data read from a user's files add the layout of their inputs and targets, so that
``predict`` and ``eval --data`` read files laid out as the training files were.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml.data import read_hdf5, write_hdf5
from sciml.datasets import PDEData, UnitGaussianNormalizer
from sciml.errors import ConfigError, DataError
from sciml.registry import JOBS, MODELS
from sciml.tasks._job import AbstractJob, build_data, input_file
from sciml.tasks.operator._config import ObjectiveConfig, OperatorDataConfig, OperatorEvalConfig
from sciml.tasks.operator._task import (
    OperatorTask,
    PairDataset,
    RestrictPredictInterpolate,
    RolloutTask,
)
from sciml.train import TrainerConfig

__all__ = ["OperatorJob", "channel_stats", "read_fields"]


def channel_stats(x: torch.Tensor, channel_dim: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of the training fields, shaped to broadcast over (b, c, *s)."""
    norm = UnitGaussianNormalizer(channel_dim=channel_dim).fit(x)
    state = norm.state_dict()
    ndim_space = x.dim() - channel_dim - 1
    shape = (1, -1) + (1,) * ndim_space
    mean = state["mean"].float().reshape(shape)
    std = (state["std"] + state["eps"]).float().reshape(shape)
    return mean, std


@JOBS.register("operator", help="PDE surrogates: grid operators, steady or rolled out in time")
class OperatorJob(AbstractJob):
    """Operator recipes: ``data`` (OperatorDataConfig), ``model`` (name + config), ``objective``
    (ObjectiveConfig), ``train`` (TrainerConfig), ``eval`` (OperatorEvalConfig).

    A model with a ``boundary`` option (MgNO's padding) that the recipe leaves unset takes the
    data's boundary condition."""

    sections = ("data", "model", "objective", "train", "eval")
    configs = {"data": ("data_cfg", OperatorDataConfig),
               "objective": ("objective", ObjectiveConfig),
               "eval": ("eval_cfg", OperatorEvalConfig), "train": ("train_cfg", TrainerConfig)}
    data_kind = "a PDEData (sciml.datasets.PDEData)"
    data_cfg: OperatorDataConfig
    objective: ObjectiveConfig
    eval_cfg: OperatorEvalConfig
    train_cfg: TrainerConfig
    #: the metric a continual run's accuracy matrix holds (trainer.continual)
    continual_metric = "test/rel_l2"

    # ---------------------------------------------------------------- data
    def load_data(self) -> PDEData:
        return build_data(self.data_cfg.name, self.data_cfg.options, PDEData, "a PDE data set")

    def check_data(self, data: Any) -> PDEData:
        if not isinstance(data, PDEData):
            raise TypeError(f"an operator recipe takes {self.data_kind} as data, got "
                            f"{type(data).__name__}")
        return data

    def describe(self, data: PDEData) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "name": data.name, "ndim": data.ndim, "boundary": data.boundary,
            "time_dependent": bool(data.time_dependent),
            "train_resolution": list(data.x_train.shape[-data.ndim:]),
        }
        if data.time_dependent:
            spec["channels"] = int(data.x_train.shape[1])
            spec["trajectory_steps"] = int(data.y_train.shape[1])
            spec["x_mean"], spec["x_std"] = channel_stats(data.x_train, channel_dim=1)
        else:
            spec["channels"] = int(data.x_train.shape[1])
            spec["out_channels"] = int(data.y_train.shape[1])
            spec["x_mean"], spec["x_std"] = channel_stats(data.x_train, channel_dim=1)
            spec["y_mean"], spec["y_std"] = channel_stats(data.y_train, channel_dim=1)
        if data.extent is not None:
            spec["extent"] = [list(axis) for axis in data.extent]
        if data.params.get("source") == "arrays":  # how the user's input files are laid out
            spec["input_key"] = str(data.params["x_key"])
            spec["input_layout"] = str(data.params["x_layout"])
            spec["target_key"] = str(data.params["y_key"])
            spec["target_layout"] = str(data.params["y_layout"])
        return spec

    def splits(self, data: PDEData) -> tuple[PairDataset, PairDataset | None]:
        """Train and validation (None unless ``val_fraction > 0``) splits."""
        n = len(data.x_train)
        n_val = int(round(self.data_cfg.val_fraction * n))
        if self.data_cfg.val_fraction > 0 and not 0 < n_val < n:
            raise ConfigError(
                f"data.val_fraction={self.data_cfg.val_fraction} leaves {n_val} of "
                f"{n} training samples for validation"
            )
        train = PairDataset(data.x_train[: n - n_val], data.y_train[: n - n_val])
        val = PairDataset(data.x_train[n - n_val:], data.y_train[n - n_val:]) if n_val else None
        return train, val

    def datasets(self, data: PDEData) -> tuple[PairDataset, PairDataset | None, PairDataset]:
        """Train, validation and test splits."""
        return (*self.splits(data), PairDataset(data.x_test, data.y_test))

    def eval_data(self, data: PDEData) -> dict[str, Any]:
        return {"x": data.x_test, "y": data.y_test, "name": data.name}

    # ---------------------------------------------------------------- task
    def build_task(self, spec: dict[str, Any]) -> OperatorTask | RolloutTask:
        ndim = spec["ndim"]
        coords = ndim if self.data_cfg.coordinates else 0
        c = spec["channels"]
        out = c if spec["time_dependent"] else spec["out_channels"]
        values = dict(self.model_values)
        _, config = MODELS.get(self.model_name)
        if "boundary" not in values and config is not None and "boundary" in {
                f.name for f in dataclasses.fields(config)}:
            values["boundary"] = spec["boundary"]  # pad as the data's boundary condition says
        model = MODELS.build(self.model_name, values, where="model",
                             in_channels=c + coords, out_channels=out, ndim=ndim,
                             resolution=list(spec["train_resolution"]))
        if spec["time_dependent"]:
            return RolloutTask(model, spec["x_mean"], spec["x_std"], boundary=spec["boundary"],
                               coordinates=self.data_cfg.coordinates,
                               steps=self.objective.rollout_steps,
                               teacher_forcing=self.objective.teacher_forcing)
        return OperatorTask(model, spec["x_mean"], spec["x_std"], spec["y_mean"], spec["y_std"],
                            boundary=spec["boundary"], coordinates=self.data_cfg.coordinates,
                            loss=self.objective.loss, extent=spec.get("extent"))

    # ---------------------------------------------------------------- reports
    def head(self, spec: dict[str, Any]) -> dict[str, Any]:
        head = {"model": self.model_name, "data": spec["name"],
                "train_resolution": list(spec["train_resolution"])}
        if "extent" in spec:
            head.update(boundary=spec["boundary"], extent=spec["extent"])
        return head

    channel_axis = 1  # fields (n, c, *spatial)

    def test_samples(self, eval_data: dict[str, Any], spec: dict[str, Any]
                     ) -> tuple[PairDataset, None]:
        return PairDataset(eval_data["x"], eval_data["y"]), None

    def test_report(self, task: Any, eval_data: dict[str, Any], spec: dict[str, Any],
                    trainer: Any) -> dict[str, Any]:
        """The test metrics and the test resolution; on another grid than the training one also
        the metrics of :func:`~sciml.tasks.operator.restrict_predict_interpolate`."""
        test, _ = self.test_samples(eval_data, spec)
        resolution = list(eval_data["x"].shape[-spec["ndim"]:])
        report = {"test_resolution": resolution,
                  "test": trainer.evaluate(task, test, prefix="test")}
        if resolution != list(spec["train_resolution"]):
            baseline = RestrictPredictInterpolate(task, spec["train_resolution"])
            report["test_restrict_predict_interpolate"] = trainer.evaluate(baseline, test,
                                                                           prefix="test")
        return report

    def plots(self, run_dir: Path, task: Any, eval_data: dict[str, Any],
              spec: dict[str, Any]) -> None:
        from sciml.tasks.operator._plots import plot_operator_sample

        test = PairDataset(eval_data["x"], eval_data["y"])
        plot_operator_sample(task, test, run_dir / "prediction.png",
                             index=min(self.eval_cfg.plot_sample, len(test) - 1),
                             extent=spec.get("extent"))

    # ---------------------------------------------------------------- predict
    def read_input(self, path: Path, spec: dict[str, Any]) -> torch.Tensor:
        """Fields ``(n, c, *spatial)`` (key ``x`` of .npy / .pt / .h5); a run trained on the
        ``arrays`` data set also reads every format that data set reads, under its ``x_key``,
        laid out as the training inputs were or channel-first."""
        if "input_layout" not in spec:
            return read_fields(Path(path))
        from sciml.datasets import read_grid_fields

        input_file(path, "a file of fields")
        return read_grid_fields(path, key=spec["input_key"], layout=spec["input_layout"],
                                ndim=spec["ndim"])

    def read_eval_file(self, path: Path, spec: dict[str, Any]) -> dict[str, Any]:
        """Inputs ``x`` and targets ``y`` from one file, at any resolution: ``.npz``, ``.h5``,
        ``.pt`` or ``.mat`` with arrays ``x`` ``(n, c, *spatial)`` and ``y`` (steady:
        ``(n, c_out, *spatial)``; time-dependent: trajectories ``(n, T, c, *spatial)``); one
        channel may leave its axis out. A run trained on the ``arrays`` data set reads the keys
        and layouts of its training files."""
        from sciml.datasets import read_array, read_grid_fields

        path = Path(path)
        input_file(path, "a file of input and target fields")
        ndim = spec["ndim"]
        x = read_grid_fields(path, key=spec.get("input_key", "x"),
                             layout=spec.get("input_layout", "channel_first"), ndim=ndim)
        y_key = spec.get("target_key", "y")
        if spec["time_dependent"]:
            y = torch.from_numpy(np.asarray(read_array(path, y_key), dtype=np.float32))
            if y.dim() == ndim + 2:  # one channel without its axis
                y = y.unsqueeze(2)
        else:
            y = read_grid_fields(path, key=y_key, layout=spec.get("target_layout",
                                                                  "channel_first"), ndim=ndim)
        c = spec["channels"]
        if x.shape[1] != c:
            raise DataError(f"{path}: {spec.get('input_key', 'x')!r} has {x.shape[1]} channels, "
                            f"the run was trained on {c}")
        want = (x.shape[0], c) if spec["time_dependent"] else (x.shape[0], spec["out_channels"])
        got = (y.shape[0], y.shape[2] if spec["time_dependent"] else y.shape[1])
        if y.dim() != x.dim() + int(spec["time_dependent"]) or got != want or \
                y.shape[-ndim:] != x.shape[-ndim:]:
            layout = "(n, T, c, *spatial)" if spec["time_dependent"] else "(n, c_out, *spatial)"
            raise DataError(f"{path}: {y_key!r} has shape {tuple(y.shape)}; expected {layout} "
                            f"with n = {x.shape[0]}, c = {want[1]} and the grid of the inputs "
                            f"{tuple(x.shape[2:])}")
        return {"x": x, "y": y, "name": path.stem}

    def predict(self, task: Any, spec: dict[str, Any], inputs: Any) -> torch.Tensor:
        """Fields ``(n, c, *spatial)`` at any resolution → the prediction (steady:
        ``(n, c_out, *spatial)``; time-dependent: the rollout ``(n, T, c, *spatial)``)."""
        x = torch.as_tensor(inputs)
        if not x.is_floating_point():
            x = x.float()
        x = x.float()
        c, ndim = spec["channels"], spec["ndim"]
        if x.dim() != ndim + 2 or x.shape[1] != c:
            raise DataError(f"expected fields of shape (n, {c}, "
                            f"{', '.join('s' for _ in range(ndim))}), got {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise DataError("the input fields contain NaN or infinite values")
        task.eval()
        with torch.no_grad():
            if spec["time_dependent"]:
                return task.rollout(x, self.objective.rollout_steps or spec["trajectory_steps"])
            return task.predict({"x": x})

    def write_prediction(self, out_dir: Path, inputs: torch.Tensor, outputs: torch.Tensor,
                         spec: dict[str, Any], source: str) -> list[Path]:
        out = Path(out_dir) / "prediction.h5"
        write_hdf5(out, {"x": inputs.numpy(), "y": outputs.numpy()}, params={"input": source})
        return [out]


def read_fields(path: Path) -> torch.Tensor:
    """Fields ``(n, c, *spatial)`` from ``.npy``, ``.pt`` or ``.h5`` (key ``x``)."""
    input_file(path, "a file of fields")
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
    except (ValueError, OSError, KeyError, RuntimeError) as e:
        if isinstance(e, DataError):
            raise
        raise DataError(f"{path}: cannot read fields ({e})") from e
    if not torch.is_tensor(x) or not x.is_floating_point() and x.dtype != torch.bool:
        raise DataError(f"{path}: 'x' must be a floating-point array")
    x = x.float()
    if not torch.isfinite(x).all():
        raise DataError(f"{path}: 'x' contains NaN or infinite values")
    return x
