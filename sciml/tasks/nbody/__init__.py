"""Particles: charged N-body position forecasting (EGNN / PONITA protocol): the task, the job
(recipe → run folder) and its configuration."""

from sciml.tasks.nbody._config import NBodyDataConfig, NBodyEvalConfig, NBodyObjectiveConfig
from sciml.tasks.nbody._job import NBodyJob, read_states
from sciml.tasks.nbody._task import NBodySamples, NBodyTask

__all__ = ["NBodyTask", "NBodySamples", "NBodyJob", "NBodyDataConfig", "NBodyObjectiveConfig",
           "NBodyEvalConfig", "read_states"]
