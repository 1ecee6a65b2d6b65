"""PDE surrogates on grids: operator and rollout tasks (normalisation, coordinates, relative
losses), the job (recipe → run folder) and its configuration."""

from sciml.tasks.operator._config import ObjectiveConfig, OperatorDataConfig, OperatorEvalConfig
from sciml.tasks.operator._job import OperatorJob, channel_stats, read_fields
from sciml.tasks.operator._task import (
    OperatorTask,
    PairDataset,
    RestrictPredictInterpolate,
    RolloutTask,
    TrajectoryDataset,
    restrict_predict_interpolate,
)

__all__ = ["OperatorTask", "RolloutTask", "PairDataset", "TrajectoryDataset", "OperatorJob",
           "OperatorDataConfig", "ObjectiveConfig", "OperatorEvalConfig", "channel_stats",
           "read_fields", "restrict_predict_interpolate", "RestrictPredictInterpolate"]
