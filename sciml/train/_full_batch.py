"""The Trainer's full-batch mode: Adam, then L-BFGS in chunks, on a loss over all points at once.

Physics-informed fits (PINN, Lagrangian PINN) minimise one loss over every collocation point;
L-BFGS re-evaluates that loss several times per step inside its line search, which does not fit
an epoch of mini-batches. This mode runs the schedule they use (Raissi et al. 2019; DeepXDE):
``adam_steps`` Adam steps, then L-BFGS with the strong-Wolfe line search in chunks of
``lbfgs_chunk`` iterations (``torch.optim.LBFGS``'s iterates, the direction computed in the
compact form: :class:`sciml.train._lbfgs.CompactLBFGS`). It shares everything else with the
mini-batch mode: the checkpoint format (plus a ``full_batch`` record of the phase and its
position), the resume path (a run killed at any point and started again gives the same result),
``metrics.csv`` / TensorBoard, the progress bar and the non-finite checks. Under ``torchrun``
every rank computes the same full batch and only rank 0 writes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from sciml.errors import ConfigError, DataError, NonFiniteError
from sciml.registry import config_to_dict
from sciml.train import _checkpoint as ck
from sciml.train._lbfgs import make_lbfgs
from sciml.train._logging import Progress, RunLogger
from sciml.train._state import check_task
from sciml.train._task import AbstractFullBatchTask

if TYPE_CHECKING:
    from sciml.train._trainer import FitResult, Trainer

__all__ = ["FullBatchSchedule", "fit_full_batch"]


@dataclass(frozen=True)
class FullBatchSchedule:
    """Adam, then L-BFGS (strong Wolfe), on the full batch.

    Args:
        adam_steps: Adam steps (learning rate ``lr``).
        lr: Adam's learning rate.
        lbfgs_steps: L-BFGS iterations after Adam (learning rate 1).
        lbfgs_chunk: Iterations per chunk; a checkpoint and a log row after each (the L-BFGS
            memory is kept across chunks; one extra evaluation per chunk).
        lbfgs_history: L-BFGS memory.
        lbfgs_eval_factor: At most this many loss evaluations per iteration in a chunk
            (DeepXDE and scipy: 1.25).
        lbfgs_tolerance_grad: Stop when max|g| falls below this.
        lbfgs_tolerance_change: Stop when the loss or the step changes by less than this.
        resample_every: Call the task's ``resample`` every this many Adam steps (0: never).
        lbfgs_resample_every: Call it every this many L-BFGS iterations too (0: never), as the
            residual-based adaptive sampling of Wu et al. (CMAME 2023) alternates new points and
            L-BFGS. The L-BFGS memory is cleared there (its pairs belong to the old loss), and a
            phase that converges on its points goes on at the next resampling, not to the end.
        log_every: A log row every this many Adam steps (``None``: a tenth of them).
    """

    adam_steps: int = 1000
    lr: float = 1e-3
    lbfgs_steps: int = 500
    lbfgs_chunk: int = 50
    lbfgs_history: int = 50
    lbfgs_eval_factor: float = 3.0
    lbfgs_tolerance_grad: float = 1e-12
    lbfgs_tolerance_change: float = 1e-14
    resample_every: int = 0
    lbfgs_resample_every: int = 0
    log_every: int | None = None

    def __post_init__(self) -> None:
        for name in ("adam_steps", "lbfgs_steps", "resample_every", "lbfgs_resample_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ConfigError(f"{name} must be an integer >= 0, got {v!r}")
        for name in ("lbfgs_chunk", "lbfgs_history"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {v!r}")
        if not self.lr > 0:
            raise ConfigError(f"lr must be > 0, got {self.lr!r}")
        if not (math.isfinite(self.lbfgs_eval_factor) and self.lbfgs_eval_factor >= 1):
            raise ConfigError(f"lbfgs_eval_factor must be >= 1, got {self.lbfgs_eval_factor!r}")

    @property
    def total_steps(self) -> int:
        return self.adam_steps + self.lbfgs_steps


def _loss(task: AbstractFullBatchTask, phase: str, step: int
          ) -> tuple[Tensor, dict[str, float]]:
    """The summed loss and each term's value; NonFiniteError naming the term, phase and step."""
    terms = task.loss_terms()
    values = {k: float(v.detach()) for k, v in terms.items()}
    bad = [k for k, v in values.items() if not math.isfinite(v)]
    if bad:
        raise NonFiniteError(f"loss term {bad[0]!r} is {values[bad[0]]} at {phase} step {step}"
                             f"{task.nonfinite_hint}")
    return sum(terms.values()), values


def _optimizers(task: AbstractFullBatchTask, s: FullBatchSchedule
                ) -> tuple[torch.optim.Adam, torch.optim.LBFGS]:
    params = [p for p in task.parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"{type(task).__name__} has no trainable parameters")
    adam = torch.optim.Adam(params, lr=s.lr)
    lbfgs = make_lbfgs(params, lr=1.0, max_iter=s.lbfgs_chunk,
                       history_size=s.lbfgs_history, line_search_fn="strong_wolfe",
                       tolerance_grad=s.lbfgs_tolerance_grad,
                       tolerance_change=s.lbfgs_tolerance_change)
    return adam, lbfgs


def fit_full_batch(trainer: Trainer, task: AbstractFullBatchTask, schedule: FullBatchSchedule,
                   resume: bool = True, extend: bool = False) -> FitResult:
    """See :meth:`sciml.train.Trainer.fit_full_batch`."""
    from sciml.train._trainer import FitResult

    if not isinstance(task, AbstractFullBatchTask):
        raise TypeError(f"fit_full_batch needs an AbstractFullBatchTask (with loss_terms), got "
                        f"{type(task).__name__}")
    check_task(task)
    cfg = trainer.config
    with trainer._session(task) as (env, _):
        adam, lbfgs = _optimizers(task, schedule)
        run = _FullBatchRun(trainer, task, schedule, adam, lbfgs, env)
        last = trainer._ckpt_path("last")
        rng = None
        if resume and last is not None and last.is_file():
            rng = run.restore(last)
        elif env.is_main and trainer.run_dir is not None:
            trainer._ckpt_path("best").unlink(missing_ok=True)
        run.logger = RunLogger(trainer.run_dir, env.is_main, cfg.tensorboard,
                               purge_step=run.step)
        run.bar = Progress(cfg.progress and env.is_main, schedule.total_steps,
                           min(run.step, schedule.total_steps))
        try:
            run.logger.write_config(config_to_dict(cfg))
            run.logger.write_history(run.history)
            if rng is not None:
                ck.restore_rng(rng)
            run.loop()
        finally:
            run.bar.close()
            run.logger.close()
    history = run.history
    metrics = {k: v for k, v in (history[-1] if history else {}).items()
               if k not in ("phase", "phase_step", "step", "seconds")}
    return FitResult(metrics=metrics, best_checkpoint=None,
                     last_checkpoint=last if last is not None and last.is_file() else None,
                     history=list(history), epochs_run=0, steps=run.step, stopped_early=False)


class _FullBatchRun:
    """The state of one full-batch fit: phase, position, history, the two optimizers."""

    def __init__(self, trainer: Trainer, task: AbstractFullBatchTask, s: FullBatchSchedule,
                 adam: torch.optim.Adam, lbfgs: torch.optim.LBFGS, env: Any) -> None:
        self.trainer, self.task, self.s, self.env = trainer, task, s, env
        self.adam, self.lbfgs = adam, lbfgs
        self.phase, self.done = "adam", 0  # phase and steps done within it
        self.adam_done = 0  # Adam steps of the run (for the global step count)
        # L-BFGS counters (iterations, evaluations, ...) of memories cleared by a resampling
        self.lbfgs_carried: dict[str, int] = {}
        self.history: list[dict[str, Any]] = []
        self.seconds = 0.0
        self.logger: RunLogger | None = None
        self.bar: Progress | None = None

    @property
    def step(self) -> int:
        return self.done if self.phase == "adam" else self.adam_done + self.done

    # ------------------------------------------------------------------ checkpoints
    def save(self) -> None:
        trainer = self.trainer
        if trainer.run_dir is None:
            return
        rng = ck.capture_rng()
        if not self.env.is_main:
            return
        opt = self.adam if self.phase == "adam" else self.lbfgs
        payload = {
            "model": ck.model_checkpoint(self.task.model),
            "task_state": self.task.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": None,
            "rng": rng,
            "rng_ranks": [],
            "epoch": 0,
            "step": self.step,
            "batch_in_epoch": 0,
            "best_metric": None,
            "bad_epochs": 0,
            "stopped_early": False,
            "history": [dict(r) for r in self.history],
            "epoch_progress": {"seconds": self.seconds},
            "trainer_config": config_to_dict(trainer.config),
            "full_batch": {"phase": self.phase, "done": self.done, "adam_done": self.adam_done,
                           "lbfgs_carried": dict(self.lbfgs_carried)},
        }
        ck.save_checkpoint(payload, trainer._ckpt_path("last"))

    def restore(self, path: Any) -> dict[str, Any]:
        ckpt = ck.load_checkpoint(path)
        record = ckpt.get("full_batch")
        if not isinstance(record, dict):
            raise DataError(f"{path} was written by a mini-batch fit, not a full-batch one; "
                            "pass resume=False (sciml fit --fresh) to start afresh")
        self.phase, self.done = record["phase"], int(record["done"])
        self.adam_done = int(record.get("adam_done", self.s.adam_steps))
        self.lbfgs_carried = {k: int(v) for k, v in record.get("lbfgs_carried", {}).items()}
        try:
            self.task.load_state_dict(ckpt["task_state"])
            (self.adam if self.phase == "adam" else self.lbfgs).load_state_dict(ckpt["optimizer"])
        except (RuntimeError, ValueError, KeyError) as e:
            raise DataError(f"{path} does not fit this task / optimizer ({e.__class__.__name__}: "
                            f"{e}); pass resume=False or another run_dir to start afresh") from e
        self.history = [dict(r) for r in ckpt["history"]]
        self.seconds = float(ckpt.get("epoch_progress", {}).get("seconds", 0.0))
        return ckpt["rng"]

    # ------------------------------------------------------------------ the schedule
    def log(self, values: dict[str, float], extra: dict[str, float] | None = None) -> None:
        row: dict[str, Any] = {"phase": self.phase, "phase_step": self.done, "step": self.step,
                               "train/loss": sum(values.values())}
        row.update({f"train/{k}": v for k, v in values.items()})
        row.update(self.task.monitored())
        row.update(extra or {})
        row["seconds"] = self.seconds
        self.history.append(row)
        self.logger.write_history(self.history)
        self.logger.log_epoch(row)

    def loop(self) -> None:
        s, every = self.s, self.trainer.config.checkpoint_every_steps
        log_every = s.log_every or max(1, s.adam_steps // 10)
        if self.phase == "adam":
            self.bar.set_description("adam")
            t0 = time.perf_counter()
            while self.done < s.adam_steps:
                if s.resample_every and self.done and self.done % s.resample_every == 0:
                    self.task.resample(self.done)
                self.adam.zero_grad(set_to_none=True)
                total, values = _loss(self.task, "adam", self.done)
                total.backward()
                self.adam.step()
                self.done += 1
                self.bar.update(float(total.detach()))
                if self.done % log_every == 0 or self.done == s.adam_steps:
                    self.seconds += time.perf_counter() - t0
                    t0 = time.perf_counter()
                    self.log(values)
                if every and self.done % every == 0:
                    self.save()
            self.seconds += time.perf_counter() - t0
            self.phase, self.adam_done, self.done = "lbfgs", self.done, 0
            self.save()
        self.bar.set_description("l-bfgs")
        every = s.lbfgs_resample_every
        while self.done < s.lbfgs_steps:
            if every and self.done and self.done % every == 0:
                # a checkpoint is written before this (at the chunk's end), so a resumed run
                # draws the same points again: the draw is seeded by the step
                self.task.resample(self.step)
                self._forget_lbfgs()
            self._chunk()

    def _next_stop(self, done: int) -> int:
        """Where L-BFGS goes on after converging at ``done``: the next resampling, or the end."""
        s = self.s
        if not s.lbfgs_resample_every:
            return s.lbfgs_steps
        return min(s.lbfgs_steps, (done // s.lbfgs_resample_every + 1) * s.lbfgs_resample_every)

    def _lbfgs_state(self) -> dict[str, Any]:
        return self.lbfgs.state[self.lbfgs.param_groups[0]["params"][0]]

    def _counter(self, key: str) -> int:
        """An L-BFGS counter over the whole phase (cleared memories included)."""
        return int(self.lbfgs_carried.get(key, 0) + self._lbfgs_state().get(key, 0))

    def _forget_lbfgs(self) -> None:
        """Clear the L-BFGS memory (its next iteration is a first one), keeping the counts."""
        state = self._lbfgs_state()
        for key in ("n_iter", "func_evals", "restarts", "approximate_wolfe"):
            self.lbfgs_carried[key] = self._counter(key)
        state.clear()

    def _chunk(self) -> None:
        s, lbfgs, task = self.s, self.lbfgs, self.task
        t0 = time.perf_counter()
        chunk = min(s.lbfgs_chunk, self._next_stop(self.done) - self.done)
        lbfgs.param_groups[0]["max_iter"] = chunk
        max_eval = max(chunk + 1, int(s.lbfgs_eval_factor * chunk))  # line searches: a few each
        lbfgs.param_groups[0]["max_eval"] = max_eval
        rejected = [0]
        state = lbfgs.state[lbfgs.param_groups[0]["params"][0]]
        iters0, evals0 = state.get("n_iter", 0), state.get("func_evals", 0)
        done = self.done

        def closure() -> Tensor:
            lbfgs.zero_grad(set_to_none=False)
            try:
                total, _ = _loss(task, "lbfgs", done)
            except NonFiniteError:
                # A line-search trial step that overflows: report +inf with zero gradient, so
                # the strong-Wolfe search rejects the step and bisects back (PyTorch's
                # interpolation would otherwise turn a NaN loss into a NaN step).
                rejected[0] += 1
                p = lbfgs.param_groups[0]["params"][0]
                return torch.tensor(math.inf, dtype=p.dtype, device=p.device)
            total.backward()
            return total

        lbfgs.step(closure)
        # count the iterations L-BFGS really made (the evaluation budget or its tolerances may
        # end a chunk early), like DeepXDE; stop when its tolerances end a chunk at once
        made = state.get("n_iter", 0) - iters0
        evals = state.get("func_evals", 0) - evals0
        converged = made == 0 or (made == 1 < chunk and evals < max_eval)
        before = self.done
        self.done = self._next_stop(before) if converged else self.done + made
        total, values = _loss(task, "lbfgs", self.done)  # raises if the iterate is not finite
        self.seconds += time.perf_counter() - t0
        self.bar.update(float(total.detach()), n=self.done - before)
        # the iterations L-BFGS has made in all (``phase_step`` jumps to the budget when it
        # converges): a fit that stalls after a few iterations shows here
        extra = {"lbfgs_iterations": float(self._counter("n_iter"))}
        if self._counter("restarts"):  # CompactLBFGS restarted where torch's would stall
            extra["lbfgs_restarts"] = float(self._counter("restarts"))
        if self._counter("approximate_wolfe"):  # steps taken on the slope (see CompactLBFGS)
            extra["lbfgs_approximate_wolfe"] = float(self._counter("approximate_wolfe"))
        if rejected[0]:
            extra["rejected_trials"] = float(rejected[0])
        self.log(values, extra)
        self.save()
