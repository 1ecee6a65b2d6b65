"""The Trainer's configuration: a frozen dataclass that a recipe's ``trainer:`` section builds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from sciml.errors import ConfigError
from sciml.train._optim import check_optimizer_config, check_scheduler_config

__all__ = ["TrainerConfig"]

_MODES = ("min", "max")


def _default_optimizer() -> dict:
    return {"name": "adam", "lr": 1e-3}


@dataclass(frozen=True)
class TrainerConfig:
    """Settings of :class:`sciml.train.Trainer`; every field has a default.

    Args:
        max_epochs: Number of passes over the training set.
        max_steps: Stop after this many optimizer steps in total (the epoch in progress is
            finished with validation and a checkpoint); ``None`` for no limit.
        batch_size: Global batch size (split across ranks under DistributedDataParallel).
        eval_batch_size: Batch size of validation and evaluation; ``None`` uses ``batch_size``.
        optimizer: ``{"name": adam | adamw | sgd, **kwargs of the torch optimizer}``.
        scheduler: ``{"name": step | multistep | cosine | exponential | plateau | onecycle |
            warmup_cosine, "interval": epoch | step, **kwargs}`` or ``None``. Lengths
            (``warmup``/``total`` of warmup_cosine, ``step_size``, ``milestones``, ``T_max``)
            are integers in the interval (steps or epochs) or fractions of training in [0, 1]
            written with a decimal point: ``{name: warmup_cosine, warmup: 0.02}`` warms up over
            the first 2 % of the planned steps and decays to the end, at any data set size;
            ``warmup_epochs: 2`` (warmup_cosine) warms up over two epochs' steps.
        grad_clip: Maximum gradient 2-norm (``clip_grad_norm_``); ``None`` for no clipping.
        early_stopping_patience: Stop after this many epochs without improvement of
            ``monitor``; ``None`` never stops early.
        monitor: Metric that decides the best checkpoint, early stopping and ``plateau``;
            ``None``: no best checkpoint is kept (the last one is the result).
        mode: ``"min"`` or ``"max"``: whether a smaller or larger ``monitor`` is better.
        checkpoint_every_steps: Also write ``last.pt`` every this many optimizer steps.
        schedule_epochs: Horizon of the learning-rate schedule in epochs (``None``:
            ``max_epochs``). Set when a finished run is extended (``sciml fit --extend``): the
            schedule keeps its horizon and the extra epochs run at its last learning rate.
        seed: Seed of torch / numpy / random and of the data order.
        deterministic: Use deterministic algorithms while fitting (restored afterwards).
        progress: Show a tqdm bar with the live loss.
        tensorboard: Write TensorBoard events to ``run_dir/tb``.
        device: ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        num_workers: DataLoader worker processes.
        detect_nonfinite: Raise :class:`sciml.errors.NonFiniteError` on a NaN/inf loss or
            gradient, before the optimizer step.
        pruning: ``None``, or lottery-ticket training (iterative magnitude pruning with
            rewinding, Frankle and Carbin 2019): ``{method: lottery, rounds: 3, fraction: 0.2,
            scope: global | layer, rewind_step: 0, control: false, exclude: []}``; each round
            trains ``max_epochs`` again (see :mod:`sciml.train._pruning`).
        curriculum: ``None``, or cyclical curriculum learning (Kesgin and Amasyali 2023):
            ``{method: cyclical, start: 0.25, end: 1.0, multiplier: 0.5, score: inverse_loss |
            uniform}``; passes over a share of the training set (drawn by the model's own
            per-example loss) until they have seen ``max_epochs`` epochs' worth of examples
            (see :mod:`sciml.train._curriculum`).
        continual: ``None``, or continual learning over a sequence of tasks:
            ``{method: hypernetwork | finetune | ewc, tasks: [{...data overrides}, ...],
            beta: 0.01, ewc_lambda: 1e6, hypernetwork: {kind: rnn | mlp, chunk_size, task_dim,
            chunk_dim, hidden}}``; each task trains ``max_epochs`` (see
            :mod:`sciml.train._continual`).
    """

    max_epochs: int = 10
    max_steps: int | None = None
    batch_size: int = 32
    eval_batch_size: int | None = None
    optimizer: dict = field(default_factory=_default_optimizer)
    scheduler: dict | None = None
    grad_clip: float | None = None
    early_stopping_patience: int | None = None
    monitor: str | None = "val/loss"
    mode: str = "min"
    checkpoint_every_steps: int | None = None
    schedule_epochs: int | None = None
    seed: int = 0
    deterministic: bool = True
    progress: bool = True
    tensorboard: bool = True
    device: str = "auto"
    num_workers: int = 0
    detect_nonfinite: bool = True
    pruning: dict | None = None
    curriculum: dict | None = None
    continual: dict | None = None

    def __post_init__(self) -> None:
        _check_int(self.max_epochs, "max_epochs", minimum=1)
        _check_int(self.max_steps, "max_steps", minimum=1, optional=True)
        _check_int(self.batch_size, "batch_size", minimum=1)
        _check_int(self.eval_batch_size, "eval_batch_size", minimum=1, optional=True)
        _check_int(self.early_stopping_patience, "early_stopping_patience", minimum=1,
                   optional=True)
        _check_int(self.checkpoint_every_steps, "checkpoint_every_steps", minimum=1,
                   optional=True)
        _check_int(self.schedule_epochs, "schedule_epochs", minimum=1, optional=True)
        _check_int(self.seed, "seed", minimum=0)
        _check_int(self.num_workers, "num_workers", minimum=0)
        for name in ("deterministic", "progress", "tensorboard", "detect_nonfinite"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"trainer.{name} must be true or false, got "
                                  f"{getattr(self, name)!r}")
        if self.grad_clip is not None:
            if isinstance(self.grad_clip, bool) or not isinstance(self.grad_clip, (int, float)) \
                    or not self.grad_clip > 0:
                raise ConfigError(f"trainer.grad_clip must be a positive number or null, "
                                  f"got {self.grad_clip!r}")
        if self.mode not in _MODES:
            raise ConfigError(f"trainer.mode must be one of {list(_MODES)}, got {self.mode!r}")
        if self.monitor is not None and (not isinstance(self.monitor, str) or not self.monitor):
            raise ConfigError(f"trainer.monitor must be a metric name such as 'val/loss' or "
                              f"null, got {self.monitor!r}")
        _check_device(self.device)
        # private copies, so that a caller mutating its dict cannot change a frozen config
        object.__setattr__(self, "optimizer", check_optimizer_config(self.optimizer))
        if self.scheduler is not None:
            object.__setattr__(self, "scheduler", check_scheduler_config(self.scheduler))
        if self.pruning is not None:
            from sciml.train._pruning import check_pruning_config

            object.__setattr__(self, "pruning", check_pruning_config(self.pruning))
        if self.curriculum is not None:
            from sciml.train._curriculum import check_curriculum_config

            object.__setattr__(self, "curriculum", check_curriculum_config(self.curriculum))
        if self.continual is not None:
            from sciml.train._continual import check_continual_config

            object.__setattr__(self, "continual", check_continual_config(self.continual))
            if self.pruning is not None or self.curriculum is not None:
                raise ConfigError("trainer.continual cannot be combined with trainer.pruning "
                                  "or trainer.curriculum")


def _check_int(value: Any, name: str, minimum: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        allowed = f"an integer >= {minimum}" + (" or null" if optional else "")
        raise ConfigError(f"trainer.{name} must be {allowed}, got {value!r}")


def _check_device(device: Any) -> None:
    if not isinstance(device, str):
        raise ConfigError(f"trainer.device must be a string ('auto', 'cpu', 'cuda', 'cuda:0'), "
                          f"got {device!r}")
    if device == "auto":
        return
    try:
        torch.device(device)
    except (RuntimeError, ValueError) as e:
        raise ConfigError(f"trainer.device {device!r} is not a device; use 'auto', 'cpu', "
                          f"'cuda' or 'cuda:N'") from e
