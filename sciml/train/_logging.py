"""What a run writes besides checkpoints (config.yaml, metrics.csv, TensorBoard), and its bar."""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path
from typing import Any

import yaml

from sciml.data import atomic_write
from sciml.progress import progress_bar

__all__ = ["RunLogger", "Progress", "metrics_columns"]

_FIRST = ("epoch", "step", "train/loss")
_LAST = ("lr", "seconds")


def metrics_columns(history: list[dict[str, Any]]) -> list[str]:
    """CSV columns: epoch, step, train/loss, the other metrics sorted, lr, seconds."""
    keys: set[str] = set()
    for row in history:
        keys.update(row)
    middle = sorted(keys - set(_FIRST) - set(_LAST))
    return [k for k in _FIRST if k in keys] + middle + [k for k in _LAST if k in keys]


class RunLogger:
    """Writes ``config.yaml``, ``metrics.csv`` and TensorBoard events into ``run_dir``.

    Does nothing when ``run_dir`` is ``None`` or this is not rank 0.

    Args:
        run_dir: The run folder, or ``None``.
        enabled: Whether this process writes (rank 0 only).
        tensorboard: Whether to write TensorBoard events to ``run_dir/tb``.
        purge_step: The optimizer steps the run starts from (0 when fresh): TensorBoard events
            an earlier run wrote after them (the steps being trained again) are discarded, so
            that no step is shown twice after a resume.
        tb_dir: The events' folder in ``run_dir`` (a pruned run writes one per round).
    """

    def __init__(self, run_dir: Path | None, enabled: bool, tensorboard: bool,
                 purge_step: int | None = None, tb_dir: str = "tb") -> None:
        self.run_dir = run_dir if enabled else None
        self._tb = None
        if self.run_dir is not None and tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as e:
                warnings.warn(f"TensorBoard logging skipped: {e} (pip install tensorboard)",
                              stacklevel=3)
            else:
                self._tb = SummaryWriter(log_dir=str(self.run_dir / tb_dir),
                                         purge_step=None if purge_step is None else purge_step + 1)

    def write_config(self, config: dict[str, Any]) -> None:
        if self.run_dir is None:
            return
        with atomic_write(self.run_dir / "config.yaml") as tmp:
            tmp.write_text(yaml.safe_dump(config, sort_keys=False))

    def write_history(self, history: list[dict[str, Any]]) -> None:
        """Rewrite ``metrics.csv`` (one row per epoch) from the full history, atomically."""
        if self.run_dir is None:
            return
        if not history:  # a fresh start: no rows from an earlier run in this folder may remain
            (self.run_dir / "metrics.csv").unlink(missing_ok=True)
            return
        columns = metrics_columns(history)
        with atomic_write(self.run_dir / "metrics.csv") as tmp, open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for row in history:
                writer.writerow({k: row.get(k, "") for k in columns})

    def log_step(self, step: int, loss: float, lr: float) -> None:
        if self._tb is not None:
            self._tb.add_scalar("train/loss_step", loss, step)
            self._tb.add_scalar("lr", lr, step)

    def log_epoch(self, row: dict[str, Any]) -> None:
        if self._tb is not None:
            for key, value in row.items():
                if key not in ("step", "lr") and isinstance(value, (int, float)):
                    self._tb.add_scalar(key, value, row["step"])
            self._tb.flush()

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None


class Progress:
    """A tqdm bar over all optimizer steps of the run, with the live loss as postfix.

    Shown only where :func:`sciml.progress.bars_enabled` allows (not quiet, a terminal)."""

    def __init__(self, enabled: bool, total: int, initial: int) -> None:
        self._bar = progress_bar(enabled, total=total, initial=initial, unit="step")
        self._last: dict[str, str] = {}

    def set_epoch(self, epoch: int, max_epochs: int) -> None:
        if self._bar is not None:
            self._bar.set_description(f"epoch {epoch + 1}/{max_epochs}")

    def set_description(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_description(text)

    def update(self, loss: float, n: int = 1) -> None:
        if self._bar is not None:
            self._last["loss"] = _fmt(loss)
            self._bar.set_postfix(self._last, refresh=False)
            self._bar.update(n)

    def end_epoch(self, monitor: str, value: float | None) -> None:
        if self._bar is not None and value is not None:
            self._last[monitor] = _fmt(value)
            self._bar.set_postfix(self._last)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _fmt(x: float) -> str:
    return f"{x:.4g}" if math.isfinite(x) else str(x)
