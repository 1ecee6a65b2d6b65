"""Optimizers and learning-rate schedules built from plain configuration dictionaries.

Lengths of a schedule (``warmup`` and ``total`` of ``warmup_cosine``, ``step_size`` of ``step``,
``milestones`` of ``multistep``, ``T_max`` of ``cosine``) are counted in the schedule's interval
(optimizer steps or epochs) when given as integers, and as a *fraction of training* when given
as a number with a decimal point in [0, 1] (``warmup: 0.02``: the first 2 % of the planned steps,
whatever the data set's size and the batch size); ``warmup_cosine`` also takes
``warmup_epochs`` (epochs, converted with the Trainer's steps per epoch). A recipe written this
way means the same on a 15-frame file and on the full data set.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch.optim import lr_scheduler as lrs

from sciml.errors import ConfigError

__all__ = ["OPTIMIZERS", "SCHEDULERS", "LENGTH_KEYS", "Schedule", "WarmupCosine",
           "build_optimizer", "build_schedule", "check_optimizer_config",
           "check_scheduler_config"]

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


class WarmupCosine:
    """Learning-rate factor: linear warm-up, then cosine decay to ``min_factor``.

    ``f(i) = (i + 1) / warmup`` for ``i < warmup``; afterwards, with
    ``p = clip((i - warmup) / (total - warmup), 0, 1)``,
    ``f(i) = min_factor + (1 - min_factor) (1 + cos(pi p)) / 2``
    (Loshchilov & Hutter, SGDR, ICLR 2017, with the warm-up of Goyal et al., 2017).
    Its attributes are plain numbers, so the scheduler's state saves with ``weights_only``.
    """

    def __init__(self, warmup: int, total: int, min_factor: float = 0.0) -> None:
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            raise ConfigError(f"scheduler.warmup must be an integer >= 0, got {warmup!r}")
        if isinstance(total, bool) or not isinstance(total, int) or total < 1:
            raise ConfigError(f"scheduler.total must be an integer >= 1, got {total!r}")
        if not 0.0 <= float(min_factor) <= 1.0:
            raise ConfigError(f"scheduler.min_factor must lie in [0, 1], got {min_factor!r}")
        self.warmup = warmup
        self.total = total
        self.min_factor = float(min_factor)

    def __call__(self, i: int) -> float:
        if i < self.warmup:
            return (i + 1) / self.warmup
        p = min(max((i - self.warmup) / max(1, self.total - self.warmup), 0.0), 1.0)
        return self.min_factor + (1.0 - self.min_factor) * 0.5 * (1.0 + math.cos(math.pi * p))


# name -> (constructor, required kwargs, kwargs the Trainer fills in / forbids, default interval)
SCHEDULERS: dict[str, tuple[Any, tuple[str, ...], tuple[str, ...], str]] = {
    "step": (lrs.StepLR, ("step_size",), (), "epoch"),
    "multistep": (lrs.MultiStepLR, ("milestones",), (), "epoch"),
    "cosine": (lrs.CosineAnnealingLR, (), (), "epoch"),
    "exponential": (lrs.ExponentialLR, ("gamma",), (), "epoch"),
    "plateau": (lrs.ReduceLROnPlateau, (), (), "epoch"),
    "onecycle": (lrs.OneCycleLR, (), ("epochs", "steps_per_epoch"), "step"),
    "warmup_cosine": (WarmupCosine, (), (), "step"),
}
_INTERVALS = ("epoch", "step")
#: Keys of each schedule that are lengths in its interval: an integer, or a fraction of training.
LENGTH_KEYS: dict[str, tuple[str, ...]] = {
    "warmup_cosine": ("warmup", "total"),
    "step": ("step_size",),
    "multistep": ("milestones",),
    "cosine": ("T_max",),
}
#: Keys that the schedule builder converts (not passed to the scheduler's constructor).
_CONVERTED: dict[str, tuple[str, ...]] = {"warmup_cosine": ("warmup_epochs",)}
_NEVER = {"optimizer", "params", "verbose", "last_epoch", "self", "lr_lambda"}


def _kwargs_of(ctor: Any, forbidden: tuple[str, ...] = ()) -> list[str]:
    params = inspect.signature(ctor).parameters
    return sorted(n for n, p in params.items()
                  if n not in _NEVER and n not in forbidden
                  and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def check_optimizer_config(cfg: Any) -> dict:
    """Validate ``{"name": ..., **kwargs}`` of an optimizer; return a copy.

    Raises:
        ConfigError: unknown name or keyword, listing the valid ones.
    """
    if not isinstance(cfg, Mapping) or "name" not in cfg:
        raise ConfigError(f"trainer.optimizer must be a mapping with a 'name' (one of "
                          f"{sorted(OPTIMIZERS)}), got {cfg!r}")
    cfg = dict(cfg)
    name = cfg["name"]
    if name not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {name!r}; valid optimizers: "
                          + ", ".join(sorted(OPTIMIZERS)))
    valid = _kwargs_of(OPTIMIZERS[name])
    unknown = sorted(set(cfg) - {"name"} - set(valid))
    if unknown:
        raise ConfigError(f"unknown key trainer.optimizer.{unknown[0]} for optimizer {name!r}; "
                          "valid keys: name, " + ", ".join(valid))
    return cfg


def check_scheduler_config(cfg: Any) -> dict:
    """Validate ``{"name": ..., "interval": epoch|step, **kwargs}`` of a schedule; return a copy.

    Raises:
        ConfigError: unknown name, interval or keyword (listing the valid ones), or a
            missing required keyword.
    """
    if not isinstance(cfg, Mapping) or "name" not in cfg:
        raise ConfigError(f"trainer.scheduler must be null or a mapping with a 'name' (one of "
                          f"{sorted(SCHEDULERS)}), got {cfg!r}")
    cfg = dict(cfg)
    name = cfg["name"]
    if name not in SCHEDULERS:
        raise ConfigError(f"unknown scheduler {name!r}; valid schedulers: "
                          + ", ".join(sorted(SCHEDULERS)))
    ctor, required, forbidden, default_interval = SCHEDULERS[name]
    valid = _kwargs_of(ctor, forbidden) + list(_CONVERTED.get(name, ()))
    unknown = sorted(set(cfg) - {"name", "interval"} - set(valid))
    if unknown:
        raise ConfigError(f"unknown key trainer.scheduler.{unknown[0]} for scheduler {name!r}; "
                          "valid keys: name, interval, " + ", ".join(valid))
    missing = [k for k in required if k not in cfg]
    if missing:
        raise ConfigError(f"scheduler {name!r} needs trainer.scheduler.{missing[0]}")
    cfg.setdefault("interval", default_interval)
    if cfg["interval"] not in _INTERVALS:
        raise ConfigError(f"trainer.scheduler.interval must be one of {list(_INTERVALS)}, "
                          f"got {cfg['interval']!r}")
    if name == "plateau" and cfg["interval"] != "epoch":
        raise ConfigError("scheduler 'plateau' steps on the monitored metric once per epoch: "
                          "trainer.scheduler.interval must be 'epoch'")
    for key in LENGTH_KEYS.get(name, ()):
        if key in cfg:
            for value in (cfg[key] if isinstance(cfg[key], (list, tuple)) else [cfg[key]]):
                _check_length(value, key, cfg["interval"])
    if "warmup_epochs" in cfg:
        value = cfg["warmup_epochs"]
        if "warmup" in cfg:
            raise ConfigError("trainer.scheduler takes warmup (steps or a fraction of training) "
                              "or warmup_epochs, not both")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ConfigError(f"trainer.scheduler.warmup_epochs must be a number >= 0, got "
                              f"{value!r}")
    return cfg


def _check_length(value: Any, key: str, interval: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (isinstance(value, float) and not 0.0 <= value <= 1.0):
        raise ConfigError(f"trainer.scheduler.{key}={value!r}: give a whole number of "
                          f"{interval}s (an integer) or a fraction of training in [0, 1] "
                          "(e.g. 0.05)")


def _resolve_length(value: Any, horizon: int) -> Any:
    """An integer length as is; a fraction of training as that share of ``horizon`` intervals
    (rounded; at least one where the fraction is not 0)."""
    if isinstance(value, (list, tuple)):
        return [_resolve_length(v, horizon) for v in value]
    if isinstance(value, float):
        return max(int(round(value * horizon)), 1) if value > 0 else 0
    return value


def build_optimizer(params: Iterable[torch.nn.Parameter], cfg: Mapping) -> torch.optim.Optimizer:
    """The torch optimizer named by ``cfg["name"]`` with the other keys as keyword arguments."""
    cfg = check_optimizer_config(cfg)
    kwargs = {k: v for k, v in cfg.items() if k != "name"}
    if "betas" in kwargs:  # YAML gives a list
        kwargs["betas"] = tuple(kwargs["betas"])
    try:
        return OPTIMIZERS[cfg["name"]](params, **kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"trainer.optimizer {cfg!r}: {e}") from e


class Schedule:
    """A torch LR scheduler and when to step it: after each optimizer step or each epoch.

    ``plateau`` steps once per epoch with the monitored metric.
    """

    def __init__(self, scheduler: Any, interval: str, name: str, limit: int | None = None
                 ) -> None:
        self.scheduler = scheduler
        self.interval = interval
        self.name = name
        self.limit = limit  # scheduler steps after which the learning rate stays where it is

    def _done(self) -> bool:
        return self.limit is not None and self.scheduler.last_epoch >= self.limit

    def after_step(self) -> None:
        if self.interval == "step" and not self._done():
            self.scheduler.step()

    def after_epoch(self, metric: float | None) -> None:
        if self._done():
            return
        if self.name == "plateau":
            if metric is not None and math.isfinite(metric):
                self.scheduler.step(metric)
        elif self.interval == "epoch":
            self.scheduler.step()

    def state_dict(self) -> dict:
        return self.scheduler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.scheduler.load_state_dict(state)


def build_schedule(optimizer: torch.optim.Optimizer, cfg: Mapping | None, mode: str,
                   total_epochs: int, total_steps: int, limited: bool = False,
                   steps_per_epoch: int | None = None) -> Schedule | None:
    """Build the schedule of ``cfg`` (see :func:`check_scheduler_config`) or ``None``.

    Lengths given as fractions of training (floats in [0, 1], see the module docstring) become
    that share of the horizon, rounded, and at least one interval where the fraction is not 0.

    Args:
        optimizer: The optimizer whose learning rate is scheduled.
        cfg: Scheduler configuration or ``None``.
        mode: The Trainer's ``"min"``/``"max"``, default mode of ``plateau``.
        total_epochs: Epochs the run will take, default horizon of epoch-interval schedules.
        total_steps: Optimizer steps the run will take, default horizon of step-interval ones.
        limited: Stop stepping the scheduler at the horizon (the learning rate then stays at
            its last value): for runs extended past the schedule they were planned with.
        steps_per_epoch: Optimizer steps per epoch, for ``warmup_epochs`` (default
            ``total_steps / total_epochs``, rounded up).
    """
    if cfg is None:
        return None
    cfg = check_scheduler_config(cfg)
    name, interval = cfg["name"], cfg["interval"]
    kwargs = {k: v for k, v in cfg.items() if k not in ("name", "interval")}
    horizon = total_steps if interval == "step" else total_epochs
    for key in LENGTH_KEYS.get(name, ()):
        if key in kwargs:
            kwargs[key] = _resolve_length(kwargs[key], horizon)
    if "warmup_epochs" in kwargs:
        epochs = kwargs.pop("warmup_epochs")
        per_epoch = 1 if interval == "epoch" else (
            steps_per_epoch or math.ceil(total_steps / max(1, total_epochs)))
        kwargs["warmup"] = int(round(epochs * per_epoch))
    ctor = SCHEDULERS[name][0]
    try:
        if name == "cosine":
            kwargs.setdefault("T_max", horizon)
        elif name == "plateau":
            kwargs.setdefault("mode", mode)
        elif name == "onecycle":
            kwargs.setdefault("total_steps", horizon)
            kwargs.setdefault("max_lr", [g["lr"] for g in optimizer.param_groups])
        if name == "warmup_cosine":
            kwargs.setdefault("warmup", 0)
            kwargs.setdefault("total", horizon)
            scheduler = lrs.LambdaLR(optimizer, WarmupCosine(**kwargs))
        else:
            scheduler = ctor(optimizer, **kwargs)
    except (TypeError, ValueError) as e:
        if isinstance(e, ConfigError):
            raise
        raise ConfigError(f"trainer.scheduler {dict(cfg)!r}: {e}") from e
    return Schedule(scheduler, interval, name, limit=horizon if limited else None)
