"""Forecasting on a graph of sensors: the task (scaling, masked loss, metrics in original units),
the job (recipe → run folder) and its configuration."""

from sciml.tasks.forecasting._config import ForecastingDataConfig, ForecastingEvalConfig
from sciml.tasks.forecasting._job import (
    ForecastingJob,
    PreparedForecasting,
    load_series,
    node_names,
    prepare_forecasting,
    series_from_dict,
    series_to_dict,
)
from sciml.tasks.forecasting._task import MAPE_EPS, ForecastingTask, with_rmse

__all__ = ["ForecastingTask", "ForecastingJob", "ForecastingDataConfig", "ForecastingEvalConfig",
           "PreparedForecasting", "prepare_forecasting", "load_series", "node_names",
           "series_to_dict", "series_from_dict", "with_rmse", "MAPE_EPS"]
