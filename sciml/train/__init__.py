"""Training: the Trainer, tasks, checkpoints, optimizers and schedules, torchrun support."""

from sciml.train._checkpoint import capture_rng, load_checkpoint, restore_rng, save_checkpoint
from sciml.train._config import TrainerConfig
from sciml.train._optim import OPTIMIZERS, SCHEDULERS, WarmupCosine, build_optimizer, build_schedule
from sciml.train._task import AbstractTask
from sciml.train._trainer import FitResult, Trainer

__all__ = [
    "AbstractTask",
    "Trainer",
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
]
