"""Bookkeeping of a run (position, best metric, history) and the settings fitting runs under."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["RunState", "determinism", "check_task"]


@dataclass
class RunState:
    """Where a run stands; saved in (and restored from) each Trainer checkpoint."""

    epoch: int = 0  # epoch in progress (= epochs completed)
    step: int = 0  # optimizer steps taken
    batch_in_epoch: int = 0  # batches of `epoch` already trained on
    best_metric: float | None = None
    bad_epochs: int = 0
    stopped_early: bool = False
    history: list[dict] = field(default_factory=list)
    loss_sum: float = 0.0  # training loss summed over this epoch's samples so far
    loss_count: float = 0.0
    seconds: float = 0.0
    # further training terms a task's forward reports (``{"loss": ..., "pde": ...}``), summed
    # like the loss; they become ``train/<name>`` columns
    term_sums: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def determinism(on: bool, device: torch.device) -> Iterator[None]:
    """Deterministic algorithms while fitting; the previous global settings come back after."""
    if not on:
        yield
        return
    cudnn = torch.backends.cudnn
    prev = (torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled(), cudnn.deterministic,
            cudnn.benchmark)
    if device.type == "cuda":  # cuBLAS needs this for reproducible matmuls
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    cudnn.deterministic, cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(prev[0], warn_only=prev[1])
        cudnn.deterministic, cudnn.benchmark = prev[2], prev[3]


def check_task(task: Any) -> None:
    """TypeError unless ``task`` looks like an :class:`AbstractTask` with a ``model``."""
    if not isinstance(task, torch.nn.Module) or not callable(getattr(task, "metrics", None)):
        raise TypeError(f"task must be an AbstractTask (a torch.nn.Module with forward and "
                        f"metrics), got {type(task).__name__}")
    if not isinstance(getattr(task, "model", None), torch.nn.Module):
        raise TypeError(f"{type(task).__name__}.model must be a torch.nn.Module; pass the model "
                        "to AbstractTask.__init__ or assign self.model")
