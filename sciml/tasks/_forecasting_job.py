"""The forecasting job: recipe → data, scaler, model, Trainer → run folder with report and plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from sciml.data import SpatioTemporal, make_scaler, temporal_split
from sciml.errors import ConfigError
from sciml.registry import MODELS, TASKS
from sciml.tasks._forecasting import ForecastingTask, with_rmse
from sciml.tasks._job import AbstractJob, build_data, write_json, write_yaml
from sciml.train import Trainer, TrainerConfig
from sciml.train._distributed import barrier, dist_env

__all__ = [
    "node_names",
    "ForecastingJob",
    "ForecastingDataConfig",
    "ForecastingEvalConfig",
    "prepare_forecasting",
]


@dataclass(frozen=True)
class ForecastingDataConfig:
    """Which series, how it is windowed, split and scaled."""

    name: str = "gpvar"
    options: dict = field(default_factory=dict)  # keyword arguments of the data set's loader
    window: int = 12
    horizon: int = 12
    delay: int = 0
    stride: int = 1
    val: float = 0.1
    test: float = 0.2
    scaler: str = "standard"
    scaler_axis: str = "node"
    covariates: tuple[str, ...] = ()  # datetime encodings: time_of_day, day_of_week


@dataclass(frozen=True)
class ForecastingEvalConfig:
    """What is reported after training."""

    steps: tuple[int, ...] = (3, 6, 12)  # 15, 30, 60 minutes for 5-minute data
    plot_nodes: tuple[int, ...] = (0, 1, 2)
    baselines: tuple[str, ...] = ("persistence",)  # parameter-free baselines evaluated alongside


@dataclass
class PreparedForecasting:
    series: SpatioTemporal
    train: Any
    val: Any
    test: Any
    train_end: int
    scaler: Any
    exog_size: int


def load_series(cfg: ForecastingDataConfig) -> SpatioTemporal:
    """Load the registered data set ``cfg.name`` with its (key-checked) options."""
    series = build_data(cfg.name, cfg.options, SpatioTemporal, "a spatiotemporal series")
    if cfg.covariates:
        series = series.with_covariates(**series.datetime_covariates(kinds=tuple(cfg.covariates)))
    return series


def prepare_forecasting(
    cfg: ForecastingDataConfig, series: SpatioTemporal | None = None
) -> PreparedForecasting:
    """Window the series, split it in time and fit the scaler on the training steps only."""
    series = load_series(cfg) if series is None else series
    windows = series.windows(cfg.window, cfg.horizon, delay=cfg.delay, stride=cfg.stride)
    split = temporal_split(windows, val=cfg.val, test=cfg.test)
    scaler = make_scaler(cfg.scaler)
    scaler.fit(
        series.values[: split.train_end], series.mask[: split.train_end], axis=cfg.scaler_axis
    )
    exog = sum(v.shape[-1] for v in series.covariates.values())
    return PreparedForecasting(
        series,
        windows.subset(split.train),
        windows.subset(split.val),
        windows.subset(split.test),
        split.train_end,
        scaler,
        exog,
    )


def node_names(series: SpatioTemporal) -> list[str]:
    """The series' node ids, or ``"0" .. "n-1"`` where it has none (CSV column names)."""
    if series.node_ids is not None:
        return [str(v) for v in series.node_ids]
    return [str(i) for i in range(series.n_nodes)]


@TASKS.register("forecasting", help="spatiotemporal forecasting on a graph of sensors")
class ForecastingJob(AbstractJob):
    """Forecasting recipes: ``data`` (ForecastingDataConfig), ``model`` (name + its config),
    ``train`` (TrainerConfig), ``eval`` (ForecastingEvalConfig)."""

    configs = {"data": ("data_cfg", ForecastingDataConfig),
               "eval": ("eval_cfg", ForecastingEvalConfig), "train": ("train_cfg", TrainerConfig)}
    data_cfg: ForecastingDataConfig
    eval_cfg: ForecastingEvalConfig
    train_cfg: TrainerConfig

    def build_task(
        self,
        prep: PreparedForecasting,
        model_name: str | None = None,
        model_values: dict | None = None,
    ) -> ForecastingTask:
        s = prep.series
        model = MODELS.build(
            model_name or self.model_name,
            self.model_values if model_values is None else model_values,
            n_nodes=s.n_nodes,
            input_size=s.n_channels,
            output_size=s.n_channels,
            window=self.data_cfg.window,
            horizon=self.data_cfg.horizon,
            exog_size=prep.exog_size,
        )
        return ForecastingTask(
            model,
            prep.scaler,
            s.n_nodes,
            s.n_channels,
            s.edge_index,
            s.edge_weight,
            target_channels=s.n_channels,
            steps=self.eval_cfg.steps,
        )

    def fit(self, run_dir: Path, resume: bool = True, progress: bool = True) -> dict[str, float]:
        run_dir = Path(run_dir)
        main = dist_env().is_main  # under torchrun only rank 0 writes files
        if main:
            write_yaml(run_dir / "recipe.yaml", self.recipe)
        prep = prepare_forecasting(self.data_cfg)
        torch.manual_seed(self.train_cfg.seed)
        task = self.build_task(prep)
        trainer = self._trainer(run_dir, progress)
        result = trainer.fit(task, prep.train, prep.val, resume=resume)
        barrier(dist_env())  # every rank reads the best checkpoint rank 0 has finished writing
        report = self._evaluate(
            run_dir,
            prep,
            task,
            trainer,
            extra={"epochs": result.epochs_run, "stopped_early": result.stopped_early},
        )
        return report

    def _evaluate(
        self,
        run_dir: Path,
        prep: PreparedForecasting,
        task: ForecastingTask,
        trainer: Trainer,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Test metrics of the best checkpoint (all ranks), plot and report (rank 0 only)."""
        self._load_best(run_dir, task)
        metrics = with_rmse(trainer.evaluate(task, prep.test, prefix="test"))
        report: dict[str, Any] = {
            "model": self.model_name,
            "data": self.data_cfg.name,
            "test": metrics,
        }
        for name in self.eval_cfg.baselines:
            base = self.build_task(prep, name, {})
            report[f"baseline_{name}"] = with_rmse(trainer.evaluate(base, prep.test, prefix="test"))
        report.update(extra or {})
        if not dist_env().is_main:
            return report
        from sciml.tasks._forecasting_plots import plot_forecasts

        plot_forecasts(
            task,
            prep.test,
            run_dir / "forecast.png",
            nodes=self.eval_cfg.plot_nodes,
            node_ids=prep.series.node_ids,
        )
        write_json(run_dir / "report.json", report)
        return report

    def evaluate(self, run_dir: Path) -> dict[str, Any]:
        prep = prepare_forecasting(self.data_cfg)
        task = self.build_task(prep)
        trainer = self._trainer()
        return self._evaluate(Path(run_dir), prep, task, trainer)

    def predict(self, run_dir: Path, input_path: Path, output: Path | None) -> list[Path]:
        from sciml.tasks._forecasting_io import read_input_csv, write_forecasts

        run_dir = Path(run_dir)
        prep = prepare_forecasting(self.data_cfg)
        task = self.build_task(prep)
        self._load_best(run_dir, task)
        task.eval()
        s = prep.series
        node_ids = node_names(s)
        x, index = read_input_csv(Path(input_path), node_ids, self.data_cfg.window, s.freq)
        if prep.exog_size:
            raise ConfigError(
                "predict from CSV does not support covariates yet; "
                "use a recipe without data.covariates"
            )
        with torch.no_grad():
            pred = task.forecast(x[None, :, :, None])[0, :, :, 0]  # (h, n)
        out = Path(output) if output is not None else run_dir / "predictions"
        return write_forecasts(out, pred.numpy(), node_ids, index, s.freq, self.data_cfg.horizon)
