"""The forecasting job: recipe → series, windows, scaler, forecaster → run folder with report and
plots (Cini, Marisca, Zambon, Alippi, 2023: scalers fitted on the training split only, masked
metrics in original units)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from sciml.data import SpatioTemporal, make_scaler, temporal_split
from sciml.errors import ConfigError, DataError
from sciml.registry import JOBS, MODELS
from sciml.tasks._job import AbstractJob, build_data
from sciml.tasks.forecasting._config import (
    ForecastingDataConfig,
    ForecastingEvalConfig,
    ForecastingObjectiveConfig,
)
from sciml.tasks.forecasting._task import MAPE_EPS, ForecastingTask, with_rmse
from sciml.train import TrainerConfig

__all__ = ["ForecastingJob", "PreparedForecasting", "prepare_forecasting", "load_series",
           "node_names", "series_to_dict", "series_from_dict"]


class PreparedForecasting:
    """A series with its windows split in time and the scaler fitted on the training steps."""

    def __init__(self, series: SpatioTemporal, train: Any, val: Any, test: Any, train_end: int,
                 scaler: Any, exog_size: int) -> None:
        self.series, self.train, self.val, self.test = series, train, val, test
        self.train_end, self.scaler, self.exog_size = train_end, scaler, exog_size


def load_series(cfg: ForecastingDataConfig) -> SpatioTemporal:
    """Load the registered data set ``cfg.name`` with its (key-checked) options."""
    return build_data(cfg.name, cfg.options, SpatioTemporal, "a spatiotemporal series")


def _with_covariates(series: SpatioTemporal, cfg: ForecastingDataConfig) -> SpatioTemporal:
    if cfg.covariates:
        series = series.with_covariates(**series.datetime_covariates(kinds=tuple(cfg.covariates)))
    return series


def prepare_forecasting(
    cfg: ForecastingDataConfig, series: SpatioTemporal | None = None
) -> PreparedForecasting:
    """Window the series, split it in time and fit the scaler on the training steps only."""
    series = _with_covariates(load_series(cfg) if series is None else series, cfg)
    windows = series.windows(cfg.window, cfg.horizon, delay=cfg.delay, stride=cfg.stride)
    split = temporal_split(windows, val=cfg.val, test=cfg.test)
    scaler = make_scaler(cfg.scaler)
    scaler.fit(
        series.values[: split.train_end], series.mask[: split.train_end], axis=cfg.scaler_axis
    )
    exog = sum(v.shape[-1] for v in series.covariates.values())
    return PreparedForecasting(series, windows.subset(split.train), windows.subset(split.val),
                               windows.subset(split.test), split.train_end, scaler, exog)


def node_names(series: SpatioTemporal) -> list[str]:
    """The series' node ids, or ``"0" .. "n-1"`` where it has none (CSV column names)."""
    if series.node_ids is not None:
        return [str(v) for v in series.node_ids]
    return [str(i) for i in range(series.n_nodes)]


def series_to_dict(series: SpatioTemporal) -> dict[str, Any]:
    """A series as tensors and plain values (``torch.save`` with ``weights_only`` loading)."""
    index = series.time_index
    return {"values": series.values, "mask": series.mask, "edge_index": series.edge_index,
            "edge_weight": series.edge_weight,
            "time_ns": None if index is None else torch.as_tensor(index.as_unit("ns").asi8),
            "tz": None if index is None or index.tz is None else str(index.tz),
            "covariates": dict(series.covariates), "node_ids": series.node_ids,
            "name": series.name, "freq": series.freq}


def series_from_dict(d: dict[str, Any]) -> SpatioTemporal:
    """The inverse of :func:`series_to_dict`."""
    index = None
    if d.get("time_ns") is not None:
        index = pd.DatetimeIndex(d["time_ns"].numpy().astype("datetime64[ns]"))
        if d.get("tz"):
            index = index.tz_localize("UTC").tz_convert(d["tz"])
    return SpatioTemporal(d["values"], d["mask"], d["edge_index"], d["edge_weight"],
                          time_index=index, covariates=d.get("covariates") or None,
                          node_ids=d.get("node_ids"), name=d.get("name", ""), freq=d.get("freq"))


class _Affine:
    """A fitted affine scaler given by its offset and scale (``x = z * scale + offset``)."""

    def __init__(self, offset: torch.Tensor, scale: torch.Tensor) -> None:
        self.offset, self.scale = offset, scale

    def inverse_transform(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.scale + self.offset


@JOBS.register("forecasting", help="spatiotemporal forecasting on a graph of sensors")
class ForecastingJob(AbstractJob):
    """Forecasting recipes: ``data`` (ForecastingDataConfig), ``model`` (name + its config),
    ``objective`` (ForecastingObjectiveConfig: the loss), ``train`` (TrainerConfig), ``eval``
    (ForecastingEvalConfig).

    The run folder's data description holds the graph, the node ids, the frequency, the last
    time stamp of the training series and the scaler, so that ``eval`` and ``predict`` build the
    model without the series.
    """

    sections = ("data", "model", "objective", "train", "eval")
    configs = {"data": ("data_cfg", ForecastingDataConfig),
               "objective": ("objective", ForecastingObjectiveConfig),
               "eval": ("eval_cfg", ForecastingEvalConfig), "train": ("train_cfg", TrainerConfig)}
    data_kind = "a SpatioTemporal series"
    data_cfg: ForecastingDataConfig
    objective: ForecastingObjectiveConfig
    eval_cfg: ForecastingEvalConfig
    train_cfg: TrainerConfig
    #: the metric a continual run's accuracy matrix holds (trainer.continual)
    continual_metric = "test/mae"

    # ---------------------------------------------------------------- data
    def load_data(self) -> SpatioTemporal:
        return load_series(self.data_cfg)

    def check_data(self, data: Any) -> SpatioTemporal:
        if not isinstance(data, SpatioTemporal):
            raise TypeError(f"a forecasting recipe takes {self.data_kind} as data, got "
                            f"{type(data).__name__}")
        return data

    def prepare(self, series: SpatioTemporal | dict[str, Any]) -> PreparedForecasting:
        """Windows, splits and scaler of ``series`` (or of a saved one, as a dict), computed once
        per series object: the description, the splits, the test report and the plot share
        them."""
        cached = getattr(self, "_prepared", None)
        if cached is not None and cached[0] is series:
            return cached[1]
        s = series_from_dict(series) if isinstance(series, dict) else series
        prep = prepare_forecasting(self.data_cfg, s)
        self._prepared = (series, prep)
        return prep

    def describe(self, series: SpatioTemporal) -> dict[str, Any]:
        prep = self.prepare(series)
        s = prep.series
        zeros = torch.zeros(1, s.n_nodes, s.n_channels)
        offset = prep.scaler.inverse_transform(zeros).float()
        scale = (prep.scaler.inverse_transform(torch.ones_like(zeros)) - offset).float()
        last = None if s.time_index is None else str(s.time_index[-1])
        return {"name": s.name or self.data_cfg.name, "n_nodes": s.n_nodes,
                "n_channels": s.n_channels, "node_ids": node_names(s), "freq": s.freq,
                "last_time": last, "edge_index": s.edge_index, "edge_weight": s.edge_weight,
                "offset": offset, "scale": scale, "exog_size": prep.exog_size,
                "window": self.data_cfg.window, "horizon": self.data_cfg.horizon}

    def splits(self, series: SpatioTemporal) -> tuple[Any, Any]:
        prep = self.prepare(series)
        return prep.train, (prep.val if len(prep.val) else None)

    def trainer_config(self) -> TrainerConfig:
        """The recipe's ``train`` section; with ``data.val: 0`` (no validation split) nothing
        is monitored: no early stopping, and the last checkpoint is the result."""
        cfg = self.train_cfg
        if self.data_cfg.val == 0:
            if cfg.scheduler is not None and cfg.scheduler["name"] == "plateau":
                raise ConfigError("train.scheduler plateau watches the validation loss, but "
                                  "data.val is 0 (no validation split)")
            cfg = dataclasses.replace(cfg, monitor=None, early_stopping_patience=None)
        return cfg

    def eval_data(self, series: SpatioTemporal) -> dict[str, Any]:
        return series_to_dict(series)

    # ---------------------------------------------------------------- task
    def build_task(self, spec: dict[str, Any], model_name: str | None = None,
                   model_values: dict | None = None) -> ForecastingTask:
        n, c = spec["n_nodes"], spec["n_channels"]
        model = MODELS.build(
            model_name or self.model_name,
            self.model_values if model_values is None else model_values,
            n_nodes=n, input_size=c, output_size=c, window=self.data_cfg.window,
            horizon=self.data_cfg.horizon, exog_size=spec["exog_size"],
        )
        return ForecastingTask(model, _Affine(spec["offset"], spec["scale"]), n, c,
                               spec["edge_index"], spec["edge_weight"], target_channels=c,
                               steps=self.eval_cfg.steps, loss=self.objective.loss,
                               huber_delta=self.objective.huber_delta)

    # ---------------------------------------------------------------- reports
    def head(self, spec: dict[str, Any]) -> dict[str, Any]:
        return {"model": self.model_name, "data": self.data_cfg.name, "series": spec["name"],
                "nodes": spec["n_nodes"], "freq": spec["freq"], "node_ids": spec["node_ids"]}

    def test_samples(self, eval_data: dict[str, Any], spec: dict[str, Any]) -> tuple[Any, None]:
        return self.prepare(eval_data).test, None

    def test_report(self, task: ForecastingTask, eval_data: dict[str, Any],
                    spec: dict[str, Any], trainer: Any) -> dict[str, Any]:
        test, _ = self.test_samples(eval_data, spec)
        keep = _mape_note(test, spec["n_channels"])
        report: dict[str, Any] = {
            "test": _without_mape(with_rmse(trainer.evaluate(task, test, prefix="test")), keep),
            "units": "test/mae, mse, rmse, mape: the data's units (mape in %); *_scaled: "
                     "divided by the scaler's scale per node"}
        for name in self.eval_cfg.baselines:
            base = self.build_task(spec, name, {})
            report[f"baseline_{name}"] = _without_mape(
                with_rmse(trainer.evaluate(base, test, prefix="test")), keep)
        if keep is not None:
            report["notes"] = [keep]
        return report

    def fit_report(self, result: Any, task: Any, data: Any) -> dict[str, Any]:
        out = {**super().fit_report(result, task, data), "stopped_early": result.stopped_early,
               "loss": self.objective.loss}
        if self.data_cfg.val == 0:
            out["validation"] = ("none (data.val: 0): no early stopping; the last checkpoint "
                                 "is the result")
        return out

    def plots(self, run_dir: Path, task: ForecastingTask, eval_data: dict[str, Any],
              spec: dict[str, Any]) -> None:
        from sciml.tasks.forecasting._plots import plot_forecasts

        test = self.prepare(eval_data).test
        plot_forecasts(task, test, run_dir / "forecast.png", nodes=self.eval_cfg.plot_nodes,
                       node_ids=spec["node_ids"])

    # ---------------------------------------------------------------- predict
    def read_input(self, path: Path, spec: dict[str, Any]) -> pd.DataFrame:
        from sciml.tasks.forecasting._io import read_csv_frame

        return read_csv_frame(Path(path))

    def predict(self, task: ForecastingTask, spec: dict[str, Any], inputs: Any) -> Any:
        """Forecast from the last ``window`` steps.

        ``inputs``: a DataFrame with one column per node (by node id, any order; an optional
        first column ``date``/``time``), giving a DataFrame of ``horizon`` rows (``time``
        stamped at the series' frequency after the last input time, where both are known;
        ``step``; one column per node); or an array ``(window, n)``, ``(window, n, c)`` or
        ``(b, window, n, c)`` in original units, giving a tensor ``(…, horizon, n, c)``.
        """
        from sciml.tasks.forecasting._io import forecast_frame, frame_to_input, input_freq

        if spec["exog_size"]:
            raise ConfigError("predicting from a table does not support covariates yet; use a "
                              "recipe without data.covariates")
        window = self.data_cfg.window
        task.eval()
        if isinstance(inputs, pd.DataFrame):
            if spec["n_channels"] != 1:
                raise ConfigError(f"a table holds one channel per node; this model forecasts "
                                  f"{spec['n_channels']}: pass an array (window, n, c)")
            where = inputs.attrs.get("source", "input")
            x, index = frame_to_input(inputs, spec["node_ids"], window, where,
                                      spec["offset"][0, :, 0].numpy(),
                                      spec["scale"][0, :, 0].numpy())
            freq = input_freq(index, spec["freq"], where)
            with torch.no_grad():
                pred = task.forecast(x[None, :, :, None])[0, :, :, 0]
            frame = forecast_frame(pred.numpy(), spec["node_ids"], index, freq)
            frame.attrs["freq"] = freq
            return frame
        x = torch.as_tensor(np.array(inputs, dtype=np.float32))
        if x.dim() == 2:
            x = x[..., None]
        squeeze = x.dim() == 3
        x = x[None] if squeeze else x
        if x.dim() != 4 or tuple(x.shape[1:3]) != (window, spec["n_nodes"]):
            raise ValueError(f"inputs must be (window={window}, n={spec['n_nodes']}[, c]) or "
                             f"(b, {window}, {spec['n_nodes']}, c), got {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise DataError(f"input entry {tuple(torch.nonzero(~torch.isfinite(x))[0].tolist())}"
                            " is NaN or infinite")
        scale = torch.where(spec["scale"] == 0, torch.ones_like(spec["scale"]), spec["scale"])
        far = ((x - spec["offset"]) / scale).abs() > 1e4
        if far.any():
            entry = tuple(torch.nonzero(far)[0].tolist())
            raise DataError(f"input entry {entry} (batch, step, node, channel) = "
                            f"{float(x[entry]):g} is more than 1e4 scales from the training data "
                            "(wrong units?)")
        with torch.no_grad():
            pred = task.forecast(x)
        return pred[0] if squeeze else pred

    def write_prediction(self, out_dir: Path, inputs: Any, outputs: pd.DataFrame,
                         spec: dict[str, Any], source: str) -> list[Path]:
        from sciml.tasks.forecasting._io import write_forecast_frame

        return write_forecast_frame(Path(out_dir), outputs, outputs.attrs.get("freq"), source)


def _mape_note(test: Any, channels: int) -> str | None:
    """Why MAPE is left out of the report, or None to keep it: a percentage error is
    meaningless where the targets touch or cross zero (651 % on a series around zero)."""
    if len(test) == 0:
        return None
    t0 = int(test[0]["t"])
    s = test.series
    y = s.values[t0:, :, :channels][s.mask[t0:, :, :channels]]
    if y.numel() == 0:
        return None
    lo, hi = float(y.min()), float(y.max())
    if lo < 0 < hi or float(y.abs().min()) < MAPE_EPS:
        return (f"mape left out: the test targets touch or cross zero (min {lo:.4g}, max "
                f"{hi:.4g}), where a percentage error is meaningless")
    return None


def _without_mape(metrics: dict[str, float], note: str | None) -> dict[str, float]:
    if note is None:
        return metrics
    return {k: v for k, v in metrics.items() if not k.split("/")[-1].startswith("mape")}
