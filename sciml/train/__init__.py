"""Training: the Trainer, tasks, checkpoints, optimizers and schedules, torchrun support."""

from sciml.runs import RunFolder  # the run folder the Trainer writes into
from sciml.train._allocator import allocator_tuned, tune_allocator
from sciml.train._batches import move_to
from sciml.train._checkpoint import capture_rng, load_checkpoint, restore_rng, save_checkpoint
from sciml.train._config import TrainerConfig
from sciml.train._continual import (
    EWCPenalty,
    OutputRegulariser,
    PenalisedTask,
    empirical_fisher,
    forgetting_summary,
)
from sciml.train._distributed import DistEnv, barrier, dist_env
from sciml.train._full_batch import FullBatchSchedule
from sciml.train._optim import OPTIMIZERS, SCHEDULERS, WarmupCosine, build_optimizer, build_schedule
from sciml.train._task import AbstractFullBatchTask, AbstractTask
from sciml.train._trainer import FitResult, Trainer

__all__ = [
    "AbstractTask",
    "AbstractFullBatchTask",
    "Trainer",
    "FullBatchSchedule",
    "RunFolder",
    "TrainerConfig",
    "FitResult",
    "build_optimizer",
    "build_schedule",
    "OPTIMIZERS",
    "SCHEDULERS",
    "WarmupCosine",
    "save_checkpoint",
    "load_checkpoint",
    "capture_rng",
    "restore_rng",
    "DistEnv",
    "dist_env",
    "barrier",
    "tune_allocator",
    "allocator_tuned",
    "move_to",
    "PenalisedTask",
    "OutputRegulariser",
    "EWCPenalty",
    "empirical_fisher",
    "forgetting_summary",
]
