"""Jobs that turn recipes into run folders (registered in ``sciml.registry.TASKS``).

Importing this package registers every task, model and data set.
"""

import sciml.datasets  # noqa: F401  (registers data sets)
import sciml.models  # noqa: F401  (registers models)
from sciml.tasks._forecasting import ForecastingTask
from sciml.tasks._forecasting_job import (
    ForecastingDataConfig,
    ForecastingEvalConfig,
    ForecastingJob,
    prepare_forecasting,
)
from sciml.tasks._job import AbstractJob
from sciml.tasks._operator import OperatorTask, PairDataset, RolloutTask
from sciml.tasks._operator_job import OperatorJob, channel_stats

__all__ = [
    "AbstractJob",
    "ForecastingTask",
    "ForecastingJob",
    "ForecastingDataConfig",
    "ForecastingEvalConfig",
    "prepare_forecasting",
    "OperatorTask",
    "RolloutTask",
    "PairDataset",
    "OperatorJob",
    "channel_stats",
]
