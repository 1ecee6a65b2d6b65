"""The Trainer: deterministic, exactly resumable, DistributedDataParallel-aware fitting."""

from __future__ import annotations

import contextlib
import math
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset, default_collate

from sciml.errors import ConfigError, DataError, NonFiniteError
from sciml.registry import config_from_dict, config_to_dict
from sciml.train import _checkpoint as ck
from sciml.train._allocator import tune_allocator
from sciml.train._batches import (
    epoch_order,
    epoch_seed,
    global_batches,
    make_loader,
    move_to,
    rank_slice,
)
from sciml.train._config import TrainerConfig
from sciml.train._distributed import (
    DistEnv,
    all_gather_objects,
    all_reduce_sum,
    dist_env,
    for_model,
    init_distributed,
    resolve_device,
)
from sciml.train._evaluate import check_dataset, evaluate_metrics
from sciml.train._full_batch import FullBatchSchedule
from sciml.train._logging import Progress, RunLogger
from sciml.train._optim import Schedule, build_optimizer, build_schedule
from sciml.train._state import RunState, check_task, determinism
from sciml.train._task import AbstractFullBatchTask, AbstractTask

__all__ = ["Trainer", "FitResult", "split_loss"]


def split_loss(out: Any, task: torch.nn.Module) -> tuple[torch.Tensor, dict[str, float]]:
    """The scalar loss of a task's ``forward`` output and the further terms it reports.

    ``out`` is a scalar tensor, or a dict with the loss under ``"loss"`` and other scalar
    (tensor or number) terms, which are returned as floats for logging.
    """
    terms: dict[str, float] = {}
    if isinstance(out, dict):
        if "loss" not in out:
            raise TypeError(f"{type(task).__name__}.forward returned a dict without 'loss' "
                            f"(keys: {sorted(out)})")
        terms = {k: float(v.detach()) if isinstance(v, torch.Tensor) else float(v)
                 for k, v in out.items() if k != "loss"}
        out = out["loss"]
    if not isinstance(out, torch.Tensor) or out.numel() != 1:
        raise TypeError(f"{type(task).__name__}.forward must return a scalar loss tensor (or a "
                        f"dict with one under 'loss'), got "
                        f"{getattr(out, 'shape', type(out).__name__)}")
    return out.reshape(()), terms


@dataclass
class FitResult:
    """Outcome of :meth:`Trainer.fit`.

    Attributes:
        metrics: Metrics of the last epoch (``train/loss``, ``val/...``, ``lr``).
        best_checkpoint: ``run_dir/checkpoints/best.pt`` if written, else ``None``.
        last_checkpoint: ``run_dir/checkpoints/last.pt`` if written, else ``None``.
        history: One dict per completed epoch (the rows of ``metrics.csv``).
        epochs_run: Epochs completed by the run (including those before a resume).
        steps: Optimizer steps taken by the run (including those before a resume).
        stopped_early: Whether early stopping ended the run.
        pruning: A pruned fit's trainings (``trainer.pruning``): per round and kind (``dense``,
            ``reinit``, ``ticket``) its sparsity, epochs, steps, best monitored value and the
            checkpoint of its weights; None otherwise. The other fields describe the last.
    """

    metrics: dict[str, float]
    best_checkpoint: Path | None
    last_checkpoint: Path | None
    history: list[dict]
    epochs_run: int
    steps: int
    stopped_early: bool
    pruning: list[dict[str, Any]] | None = None


class Trainer:
    """Fits an :class:`AbstractTask` on map-style datasets; see :class:`TrainerConfig`.

    ``Trainer(max_epochs=5, run_dir="runs/x")`` builds the config from keyword overrides (an
    unknown key is a :class:`~sciml.errors.ConfigError` listing the valid ones). With a
    ``run_dir`` the run writes ``checkpoints/{last,best}.pt``, ``metrics.csv``, ``config.yaml``
    and TensorBoard events in ``tb/``; without one it writes nothing.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) each rank trains on ``global_batch[rank::world_size]``
    of every global batch under DistributedDataParallel, with the loss scaled by
    ``local / global * world_size`` so that the averaged gradient equals that of one process on
    the whole global batch; only rank 0 writes files and shows the bar. A model that splits
    its own work over the ranks (``ranks_share_data``, e.g. the hard-constraint MoE with
    ``expert_parallel``) gets every batch whole on every rank, the same seed on every rank and
    no DistributedDataParallel wrapper: its gradients come out equal on every rank.
    """

    def __init__(self, config: TrainerConfig | None = None,
                 run_dir: str | os.PathLike | None = None, **overrides: Any) -> None:
        if config is None:
            config = config_from_dict(TrainerConfig, overrides, "trainer")
        elif not isinstance(config, TrainerConfig):
            raise TypeError(f"config must be a TrainerConfig or None, got {type(config).__name__}")
        elif overrides:
            config = config_from_dict(TrainerConfig, {**config_to_dict(config), **overrides},
                                      "trainer")
        self.config = config
        self.run_dir = Path(run_dir) if run_dir is not None else None
        # a pruned fit's state (sciml.train._pruning): its record, (params, masks), row fields
        self._lottery: dict[str, Any] | None = None
        self._masks: tuple[dict, dict] | None = None
        self._granet: dict[str, torch.nn.Parameter] | None = None  # GraNet's pruned weights
        self._best_after = 0  # the step from which an epoch can be the best one
        self._pass_order: tuple[int, list[int]] | None = None  # a curriculum pass's examples
        self._row_extra: dict[str, Any] = {}

    # ------------------------------------------------------------------ public
    def fit(self, task: AbstractTask, train: Dataset, val: Dataset | None = None,
            collate_fn: Callable | None = None, resume: bool = True,
            extend: bool = False) -> FitResult:
        """Train ``task`` on ``train``, validating on ``val`` after each epoch.

        Args:
            task: The model with its loss (``forward``) and metrics.
            train: Map-style training set; epoch ``e`` visits it in the order of
                ``randperm(n, generator=manual_seed(seed * 1000003 + e))``.
            val: Optional map-style validation set (metrics prefixed ``val/``).
            collate_fn: Makes a batch from a list of samples; default ``default_collate``.
            resume: Continue from ``run_dir/checkpoints/last.pt`` if it exists (model, optimizer,
                scheduler, RNG and position within the epoch are restored). ``False`` starts
                afresh: an earlier run's ``best.pt`` and ``metrics.csv`` there are replaced.
            extend: The run resumed is being trained further than it was planned (a larger
                ``max_epochs``): a run that stopped early goes on.

        The task's ``forward`` returns the scalar loss, or a dict with the loss under
        ``"loss"`` and further scalar terms that are averaged over each epoch like the loss
        and logged as ``train/<name>``.

        Returns:
            The :class:`FitResult`.
        """
        cfg = self.config
        check_task(task)
        n = check_dataset(train, "train")
        tune_allocator()
        if val is not None:
            check_dataset(val, "val")
        plateau = cfg.scheduler is not None and cfg.scheduler["name"] == "plateau"
        if (cfg.early_stopping_patience or plateau) and cfg.monitor is None:
            raise ConfigError("trainer.monitor is null, but early stopping / the plateau "
                              "scheduler need a metric to watch")
        if (cfg.early_stopping_patience or plateau) and val is None \
                and cfg.monitor.startswith("val/"):
            raise ConfigError(f"trainer.monitor={cfg.monitor!r} needs a validation set (for "
                              "early stopping / the plateau scheduler); pass val= or monitor "
                              "'train/loss'")
        collate = collate_fn or default_collate
        pruning = None
        if cfg.curriculum is not None and cfg.pruning is not None:
            raise ConfigError("trainer.curriculum and trainer.pruning cannot be combined")
        if cfg.curriculum is not None and n < 2:
            raise ConfigError(f"trainer.curriculum draws examples from the training set, which "
                              f"holds {n} (a whole graph trains as one example)")
        self._pass_order = None
        with self._session(task) as (env, device):
            if cfg.pruning is None:
                state = self._fit_once(task, train, val, collate, n, resume, extend, env, device)
            elif cfg.pruning["method"] == "granet":
                state, pruning = self._fit_granet(task, train, val, collate, n, resume, extend,
                                                  env, device)
            else:
                if extend:
                    raise ConfigError("a pruned run (trainer.pruning) cannot be extended: its "
                                      "rounds have one budget each; start a new run with more "
                                      "epochs")
                state, pruning = self._fit_lottery(task, train, val, collate, n, resume, env,
                                                   device)
        self._pass_order, self._row_extra = None, {}
        best, last = self._ckpt_path("best"), self._ckpt_path("last")
        metrics = {k: v for k, v in (state.history[-1] if state.history else {}).items()
                   if k not in ("epoch", "step", "seconds")
                   and not k.startswith(("prune/", "curriculum/"))}
        return FitResult(metrics=metrics,
                         best_checkpoint=best if best is not None and best.is_file() else None,
                         last_checkpoint=last if last is not None and last.is_file() else None,
                         history=list(state.history), epochs_run=state.epoch, steps=state.step,
                         stopped_early=state.stopped_early, pruning=pruning)

    def _fit_once(self, task: AbstractTask, train: Dataset, val: Dataset | None,
                  collate: Callable, n: int, resume: bool, extend: bool, env: DistEnv,
                  device: torch.device, history: list[dict] | None = None,
                  save_start: bool = False, tb_dir: str = "tb") -> RunState:
        """One training from a fresh optimizer (or from ``last.pt`` when resuming); returns
        where it ended. ``history``: rows of earlier trainings of the run (a pruned run's
        rounds) that ``metrics.csv`` keeps; ``save_start``: write ``last.pt`` before the first
        step (a round's start, so that a run killed there resumes in that round)."""
        cfg = self.config
        params = [p for p in task.parameters() if p.requires_grad]
        if not params:
            raise ValueError(f"{type(task).__name__} has no trainable parameters")
        optimizer = build_optimizer(params, cfg.optimizer)
        per_epoch = math.ceil(n / cfg.batch_size)
        sizes = self._pass_sizes(n)
        total_steps = self._steps_of(sizes)
        if cfg.max_steps is not None:
            total_steps = min(total_steps, cfg.max_steps)
        planned, planned_passes = total_steps, len(sizes)
        if cfg.schedule_epochs is not None:
            horizon = self._pass_sizes(n, cfg.schedule_epochs)
            planned = min(total_steps, self._steps_of(horizon))
            planned_passes = len(horizon)
        schedule = build_schedule(optimizer, cfg.scheduler, cfg.mode,
                                  min(planned_passes, math.ceil(planned / per_epoch))
                                  if cfg.curriculum is None else planned_passes, planned,
                                  limited=cfg.schedule_epochs is not None,
                                  steps_per_epoch=per_epoch)
        state, rng = RunState(history=[dict(r) for r in history or []]), None
        last = self._ckpt_path("last")
        resumed = resume and last is not None and last.is_file()
        if resumed:
            state, rng = self._restore(last, task, optimizer, schedule, env)
            if extend:
                state.stopped_early, state.bad_epochs = False, 0
        elif env.is_main and self.run_dir is not None:  # starting afresh in an old folder
            self._ckpt_path("best").unlink(missing_ok=True)
        if save_start and not resumed:
            self._save(["last"], task, optimizer, schedule, state, env)
        model = task
        if env.data_parallel:
            model = DistributedDataParallel(
                task, device_ids=[device.index] if device.type == "cuda" else None)
        logger = RunLogger(self.run_dir, env.is_main, cfg.tensorboard,
                           purge_step=state.step, tb_dir=tb_dir)
        bar = Progress(cfg.progress and env.is_main, total_steps, min(state.step, total_steps))
        try:
            logger.write_config(config_to_dict(cfg))
            logger.write_history(state.history)
            if rng is not None:  # last, so that nothing above consumes random numbers
                ck.restore_rng(rng)
            self._loop(task, model, optimizer, schedule, train, val, collate, state, env,
                       device, logger, bar)
        finally:
            bar.close()
            logger.close()
        return state

    def _fit_lottery(self, task: AbstractTask, train: Dataset, val: Dataset | None,
                     collate: Callable, n: int, resume: bool, env: DistEnv,
                     device: torch.device) -> tuple[RunState, list[dict[str, Any]]]:
        """Iterative magnitude pruning with rewinding (:mod:`sciml.train._pruning`): the dense
        training, then per round the control (if asked) and the ticket, each a full training
        through :meth:`_fit_once`. ``last.pt`` carries the round, the masks and the weights
        rounds rewind to, so a killed run resumes in its round with the same result; each
        round's best (else last) weights are kept as ``checkpoints/round-<r>-<kind>.pt`` and
        the final ticket's are ``best.pt`` / ``last.pt``."""
        from sciml.train import _pruning as pr

        cfg = self.config
        pc = cfg.pruning
        phases = pr.lottery_phases(pc)
        params = pr.prunable(task.model, pc["exclude"])
        last = self._ckpt_path("last")
        resumed = resume and last is not None and last.is_file()
        rec = None
        if resumed:
            rec = ck.load_checkpoint(last).get("pruning")
            if rec is None:
                raise DataError(f"{last} is not a checkpoint of a pruned run; pass resume=False "
                                "or another run_dir to start afresh")
            rec["masks"] = None if rec["masks"] is None else {
                k: m.to(device) for k, m in rec["masks"].items()}
        else:
            init = {k: v.detach().clone() for k, v in task.model.state_dict().items()}
            rec = {"phase": 0, "masks": None, "init": init,
                   "rewind": init if pc["rewind_step"] == 0 else None,
                   "summary": [], "history": []}
        self._lottery = rec
        try:
            while True:
                i = rec["phase"]
                r, kind = phases[i]
                here = resumed  # the round last.pt is in, resumed where it stopped
                if not here:  # the start of a round: its weights, then its mask
                    if kind == "ticket":
                        task.model.load_state_dict(rec["rewind"])
                    elif kind == "reinit":
                        pr.reinitialise(task.model, cfg.seed + 7919 * r, rec["init"])
                    pr.apply_masks(params, rec["masks"])
                    ck.seed_everything(cfg.seed + env.data_rank)
                self._masks = (params, rec["masks"]) if rec["masks"] else None
                self._row_extra = {"prune/round": r, "prune/control": int(kind == "reinit"),
                                   "prune/sparsity": round(pr.sparsity(rec["masks"]), 6)}
                state = self._fit_once(task, train, val, collate, n, here, False, env, device,
                                       history=rec["history"], save_start=not here,
                                       tb_dir=f"tb/round-{r}-{kind}")
                resumed = False
                if kind == "dense" and rec["rewind"] is None:
                    raise ConfigError(f"trainer.pruning.rewind_step={pc['rewind_step']} is "
                                      f"beyond the dense training's {state.step} steps")
                entry = {"round": r, "kind": kind,
                         "sparsity": round(pr.sparsity(rec["masks"]), 6),
                         "epochs": state.epoch, "steps": state.step,
                         "best_metric": state.best_metric,
                         "checkpoint": f"checkpoints/round-{r}-{kind}.pt"}
                self._keep_round(entry["checkpoint"], env)
                rec["summary"] = [e for e in rec["summary"] if (e["round"], e["kind"]) != (r, kind)]
                rec["summary"].append(entry)
                if i == len(phases) - 1:
                    return state, [dict(e) for e in rec["summary"]]
                if kind != "reinit":  # the next round's mask, from this training's last weights
                    rec["masks"] = pr.magnitude_masks(params, rec["masks"], pc["fraction"],
                                                      pc["scope"])
                    empty = [k for k, m in rec["masks"].items() if not bool(m.any())]
                    if empty and env.is_main:
                        warnings.warn(f"trainer.pruning: every weight of {', '.join(empty)} is "
                                      f"pruned for round {r + 1}; exclude it "
                                      "(pruning.exclude) or prune by layer (scope: layer)",
                                      stacklevel=4)
                rec["history"] = [dict(row) for row in state.history]
                rec["phase"] = i + 1
        finally:
            self._lottery = self._masks = None
            self._row_extra = {}

    def _fit_granet(self, task: AbstractTask, train: Dataset, val: Dataset | None,
                    collate: Callable, n: int, resume: bool, extend: bool, env: DistEnv,
                    device: torch.device) -> tuple[RunState, list[dict[str, Any]]]:
        """One training whose mask :meth:`_granet_update` changes every ``every`` steps
        (:mod:`sciml.train._pruning`); the masks travel in every checkpoint."""
        from sciml.train import _pruning as pr

        pc = self.config.pruning
        params = pr.prunable(task.model, pc["exclude"])
        last = self._ckpt_path("last")
        if resume and last is not None and last.is_file():
            rec = ck.load_checkpoint(last).get("pruning")
            if rec is None or rec.get("method") != "granet":
                raise DataError(f"{last} is not a checkpoint of a GraNet run; pass resume=False "
                                "or another run_dir to start afresh")
            if rec["masks"] is not None:
                rec["masks"] = {k: m.to(device) for k, m in rec["masks"].items()}
        else:
            masks = None
            if pc["init_sparsity"] > 0:  # sparse-to-sparse: a random ERK mask
                masks = pr.erk_masks(params, pc["init_sparsity"], self.config.seed)
                pr.apply_masks(params, masks)
            rec = {"method": "granet", "masks": masks, "updates": 0}
        self._lottery = rec
        self._granet = params
        self._masks = (params, rec["masks"]) if rec["masks"] else None
        self._row_extra = {"prune/sparsity": round(pr.sparsity(rec["masks"]), 6)}
        per_epoch = math.ceil(n / self.config.batch_size)
        total = self.config.max_epochs * per_epoch if self.config.max_steps is None else \
            min(self.config.max_epochs * per_epoch, self.config.max_steps)
        every = pc["every"] or per_epoch
        # the first update at or after the schedule's end, where the sparsity is reached
        self._best_after = min(math.ceil(pc["end"] * total / every) * every, total)
        try:
            state = self._fit_once(task, train, val, collate, n, resume, extend, env, device)
        finally:
            self._lottery = self._masks = self._granet = None
            self._row_extra, self._best_after = {}, 0
        best = self._ckpt_path("best")
        ckpt = "checkpoints/best.pt" if best is not None and best.is_file() else \
            "checkpoints/last.pt"
        return state, [{"round": 0, "kind": "granet",
                        "sparsity": round(pr.sparsity(rec["masks"]), 6),
                        "updates": rec["updates"], "epochs": state.epoch, "steps": state.step,
                        "best_metric": state.best_metric, "checkpoint": ckpt}]

    def _granet_update(self, task: AbstractTask, optimizer: torch.optim.Optimizer,
                       state: RunState, total: int, per_epoch: int) -> None:
        """GraNet's mask update after step ``state.step`` (every ``every`` steps, not after the
        last): gradual pruning towards the schedule's sparsity, then regeneration."""
        from sciml.train import _pruning as pr

        pc, params, rec = self.config.pruning, self._granet, self._lottery
        every = pc["every"] or per_epoch
        if state.step % every or state.step >= total:
            return
        masks = rec["masks"] or {k: torch.ones_like(p, dtype=torch.bool)
                                 for k, p in params.items()}
        target = pr.gradual_sparsity(state.step, total, pc)
        if target is not None:
            masks = pr.prune_to(params, masks, target)
        rate = pr.regrow_rate(state.step, total, pc["regrow"])
        if pr.sparsity(masks) > 0 and rate > 0:
            masks = pr.regenerate(params, masks, rate)
        pr.apply_masks(params, masks)
        pr.clear_optimizer_state(optimizer, params, masks)
        rec["masks"], rec["updates"] = masks, rec["updates"] + 1
        self._masks = (params, masks)
        self._row_extra = {"prune/sparsity": round(pr.sparsity(masks), 6)}

    def _pass_sizes(self, n: int, epochs: int | None = None) -> list[int]:
        """Examples per pass: ``n`` for each of ``epochs`` (default ``max_epochs``) epochs, or the
        cyclical curriculum's shares of ``n`` (:mod:`sciml.train._curriculum`)."""
        epochs = self.config.max_epochs if epochs is None else epochs
        if self.config.curriculum is None:
            return [n] * epochs
        from sciml.train._curriculum import cycle_fractions

        return [min(n, max(1, int(round(f * n))))
                for f in cycle_fractions(self.config.curriculum, epochs)]

    def _steps_of(self, sizes: list[int]) -> int:
        return sum(math.ceil(m / self.config.batch_size) for m in sizes)

    def _curriculum_draw(self, task: AbstractTask, train: Dataset, collate: Callable, e: int,
                         fraction: float, device: torch.device) -> list[int]:
        """Score every training example with the current model (``task.example_losses``) and
        draw pass ``e``'s examples."""
        from sciml.train._curriculum import draw

        cfg = self.config
        n = len(train)
        losses = np.ones(n)
        if cfg.curriculum["score"] != "uniform":
            scorer = getattr(task, "example_losses", None)
            if not callable(scorer):
                raise ConfigError(f"trainer.curriculum scores examples by their loss, but "
                                  f"{type(task).__name__} has no example_losses(batch); use "
                                  "score: uniform")
            bs = cfg.eval_batch_size or cfg.batch_size
            out = []
            was = task.training
            task.eval()
            try:
                with torch.no_grad():
                    for idx in global_batches(range(n), bs):
                        batch = move_to(collate([train[i] for i in idx]), device)
                        out.append(scorer(batch).detach().double().reshape(-1).cpu())
            finally:
                task.train(was)
            losses = torch.cat(out).numpy()
            if len(losses) != n:
                raise ValueError(f"{type(task).__name__}.example_losses gave {len(losses)} "
                                 f"losses for {n} examples")
        return draw(losses, fraction, cfg.curriculum["score"], cfg.seed, e)

    def _keep_round(self, name: str, env: DistEnv) -> None:
        """Copy this round's best checkpoint (else its last) to ``run_dir/name``, atomically."""
        if self.run_dir is None or not env.is_main:
            return
        from sciml.data import atomic_write

        best, last = self._ckpt_path("best"), self._ckpt_path("last")
        source = best if best.is_file() else last
        with atomic_write(self.run_dir / name) as tmp:
            tmp.write_bytes(source.read_bytes())

    def fit_full_batch(self, task: AbstractFullBatchTask, schedule: FullBatchSchedule,
                       resume: bool = True, extend: bool = False) -> FitResult:
        """Train ``task`` on its full batch: Adam, then L-BFGS in chunks (physics-informed fits).

        Same run folder, checkpoint format, resume path, logging and progress bar as
        :meth:`fit`; see :mod:`sciml.train._full_batch`. ``checkpoint_every_steps`` writes
        ``last.pt`` every so many Adam steps; L-BFGS writes one after each chunk. No best
        checkpoint is kept: the last state is the result.

        Args:
            task: An :class:`AbstractFullBatchTask` (its ``loss_terms`` sum to the loss).
            schedule: The :class:`FullBatchSchedule`.
            resume: Continue from ``run_dir/checkpoints/last.pt`` if it exists.
            extend: The run is being trained further than planned (more L-BFGS steps).
        """
        from sciml.train._full_batch import fit_full_batch

        tune_allocator()
        return fit_full_batch(self, task, schedule, resume=resume, extend=extend)

    def evaluate(self, task: AbstractTask, dataset: Dataset, collate_fn: Callable | None = None,
                 prefix: str = "test") -> dict[str, float]:
        """Exact means of ``task.metrics`` over ``dataset``, as ``{f"{prefix}/{name}": value}``.

        Batches of ``eval_batch_size`` (or ``batch_size``) in data set order; under torchrun the
        ranks share each batch and their sums and counts are added before dividing.
        """
        check_task(task)
        env = for_model(dist_env(), getattr(task, "model", None))
        device = resolve_device(self.config.device, env)
        init_distributed(env, device)
        task.to(device)
        with determinism(self.config.deterministic, device):
            return self._evaluate(task, dataset, collate_fn or default_collate, env, device,
                                  prefix)

    # ------------------------------------------------------------------ internals
    @contextlib.contextmanager
    def _session(self, task: AbstractTask) -> Iterator[tuple[DistEnv, torch.device]]:
        """What every fit runs under: the process group (under torchrun), the device, the
        deterministic settings, the task on the device and the generators seeded per rank."""
        env = for_model(dist_env(), getattr(task, "model", None))
        device = resolve_device(self.config.device, env)
        init_distributed(env, device)
        with determinism(self.config.deterministic, device):
            task.to(device)
            ck.seed_everything(self.config.seed + env.data_rank)
            yield env, device

    def _ckpt_path(self, which: str) -> Path | None:
        return None if self.run_dir is None else self.run_dir / "checkpoints" / f"{which}.pt"

    def _evaluate(self, task: AbstractTask, dataset: Dataset, collate: Callable, env: DistEnv,
                  device: torch.device, prefix: str) -> dict[str, float]:
        bs = self.config.eval_batch_size or self.config.batch_size
        return evaluate_metrics(task, dataset, collate, bs, env, device, self.config.num_workers,
                                prefix)

    def _loop(self, task: AbstractTask, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
              schedule: Schedule | None, train: Dataset, val: Dataset | None, collate: Callable,
              state: RunState, env: DistEnv, device: torch.device, logger: RunLogger,
              bar: Progress) -> None:
        cfg = self.config
        n = len(train)
        per_epoch = math.ceil(n / cfg.batch_size)
        sizes = self._pass_sizes(n)
        total_steps = self._steps_of(sizes)
        if cfg.max_steps is not None:
            total_steps = min(total_steps, cfg.max_steps)
        while state.epoch < len(sizes) and not state.stopped_early:
            steps_left = math.inf if cfg.max_steps is None else cfg.max_steps - state.step
            if state.batch_in_epoch == 0 and steps_left <= 0:
                break
            e = state.epoch
            if cfg.curriculum is None:
                order = epoch_order(n, cfg.seed, e)
            else:  # this pass's examples: drawn at its start, or kept from the checkpoint
                if self._pass_order is None or self._pass_order[0] != e:
                    self._pass_order = (e, self._curriculum_draw(task, train, collate, e,
                                                                 sizes[e] / n, device))
                order = self._pass_order[1]
                self._row_extra = {"curriculum/fraction": round(sizes[e] / n, 6)}
                task.train()
            todo = global_batches(order, cfg.batch_size)
            todo = todo[state.batch_in_epoch:]
            if steps_left < len(todo):
                todo = todo[:int(steps_left)]
            # a rank with no sample in a short last batch runs one with weight 0, so that it
            # still joins DistributedDataParallel's gradient all-reduce
            local = [rank_slice(gb, env.data_rank, env.data_world) or gb[:1] for gb in todo]
            loader = make_loader(train, local, collate, cfg.num_workers, device.type == "cuda",
                                 seed=epoch_seed(cfg.seed, e))
            bar.set_epoch(e, len(sizes))
            task.train()
            t0 = time.perf_counter()
            for gb, batch in zip(todo, loader, strict=True):
                n_local = len(rank_slice(gb, env.data_rank, env.data_world))
                loss_sum, count = self._step(task, model, optimizer, move_to(batch, device), gb,
                                             n_local, state, env)
                state.step += 1
                state.batch_in_epoch += 1
                lottery = self._lottery
                if self._granet is not None:
                    self._granet_update(task, optimizer, state, total_steps, per_epoch)
                elif lottery is not None and lottery["rewind"] is None \
                        and lottery["phase"] == 0 \
                        and state.step == self.config.pruning["rewind_step"]:
                    lottery["rewind"] = {k: v.detach().clone()
                                         for k, v in task.model.state_dict().items()}
                state.loss_sum += loss_sum
                state.loss_count += count
                lr = optimizer.param_groups[0]["lr"]
                if schedule is not None:
                    schedule.after_step()
                bar.update(loss_sum / count)
                logger.log_step(state.step, loss_sum / count, lr)
                every = cfg.checkpoint_every_steps
                if every is not None and state.step % every == 0:
                    now = time.perf_counter()
                    state.seconds += now - t0
                    t0 = now
                    self._save(["last"], task, optimizer, schedule, state, env)
            state.seconds += time.perf_counter() - t0
            self._end_epoch(task, optimizer, schedule, val, collate, state, env, device, logger,
                            bar)

    def _step(self, task: AbstractTask, model: torch.nn.Module,
              optimizer: torch.optim.Optimizer, batch: Any, gb: list[int], n_local: int,
              state: RunState, env: DistEnv) -> tuple[float, float]:
        """One optimizer step; returns the global batch's (loss sum, sample count)."""
        cfg = self.config
        optimizer.zero_grad(set_to_none=True)
        local = bool(getattr(task, "trains_locally", False))
        if local:  # block-wise training: each term back-propagated before the next is built
            if env.data_parallel:
                raise ConfigError(f"{type(task).__name__} trains block by block (local "
                                  "losses), which runs in one process, not under torchrun")
            parts: dict[str, torch.Tensor] = {}
            scale = n_local * env.data_world / len(gb)
            for name, part in task.local_losses(batch):
                if cfg.detect_nonfinite and not bool(torch.isfinite(part.detach())):
                    raise NonFiniteError(
                        f"non-finite local loss {name} ({float(part)}) at epoch {state.epoch} "
                        f"(0-based), step {state.step}; dataset indices of the batch: {gb}")
                (part if scale == 1.0 else part * scale).backward()
                parts[name] = part.detach()
            loss = torch.stack(list(parts.values())).sum()
            terms = {k: float(v) for k, v in parts.items()}
        else:
            loss, terms = split_loss(model(batch), task)
        with torch.no_grad():
            stats = torch.zeros(3 + len(terms), dtype=torch.float64, device=loss.device)
            if n_local > 0:
                value = loss.detach().to(torch.float64)
                stats[0] = value * n_local
                stats[1] = n_local
                stats[2] = (~torch.isfinite(value)).to(torch.float64)
                for i, term in enumerate(terms.values()):
                    stats[3 + i] = term * n_local
            all_reduce_sum(stats, env)
        loss_sum, count, bad, *term_sums = stats.tolist()
        for name, total in zip(terms, term_sums, strict=True):
            state.term_sums[name] = state.term_sums.get(name, 0.0) + total
        if cfg.detect_nonfinite and bad > 0:
            raise NonFiniteError(
                f"non-finite training loss ({loss_sum / count}) at epoch {state.epoch} "
                f"(0-based), step {state.step} (batch {state.batch_in_epoch} of the epoch); "
                f"dataset indices of the batch: {gb}. No optimizer step was taken; the last "
                "checkpoint is the last good state")
        # DDP averages gradients over ranks: scale each rank's mean loss so that the average
        # is the gradient of the mean over the whole global batch, however it was split.
        scale = n_local * env.data_world / len(gb)
        if not local:
            (loss if scale == 1.0 else loss * scale).backward()
        grads = [p.grad for p in task.parameters() if p.grad is not None]
        norm = None
        if cfg.grad_clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(
                [p for p in task.parameters() if p.grad is not None], cfg.grad_clip)
        elif cfg.detect_nonfinite and grads:
            norm = torch.nn.utils.get_total_norm(grads)
        if cfg.detect_nonfinite and norm is not None and not bool(torch.isfinite(norm)):
            raise NonFiniteError(
                f"non-finite gradient norm ({float(norm)}) at epoch {state.epoch} (0-based), "
                f"step {state.step} (batch {state.batch_in_epoch} of the epoch); dataset "
                f"indices of the batch: {gb}. No optimizer step was taken")
        optimizer.step()
        if self._masks is not None:  # pruned weights stay zero
            from sciml.train._pruning import apply_masks

            apply_masks(*self._masks)
        return loss_sum, count

    def _end_epoch(self, task: AbstractTask, optimizer: torch.optim.Optimizer,
                   schedule: Schedule | None, val: Dataset | None, collate: Callable,
                   state: RunState, env: DistEnv, device: torch.device, logger: RunLogger,
                   bar: Progress) -> None:
        cfg = self.config
        metrics = {"train/loss": state.loss_sum / state.loss_count if state.loss_count
                   else math.nan}
        for name, total in state.term_sums.items():
            metrics[f"train/{name}"] = total / state.loss_count if state.loss_count else math.nan
        if val is not None:
            metrics.update(self._evaluate(task, val, collate, env, device, "val"))
        value = metrics.get(cfg.monitor) if cfg.monitor is not None else None
        plateau = schedule is not None and schedule.name == "plateau"
        if value is None and (cfg.early_stopping_patience or plateau):
            raise ConfigError(f"trainer.monitor={cfg.monitor!r} is not a metric of this run; "
                              f"available: {', '.join(sorted(metrics))}")
        improved = False
        # GraNet: the best checkpoint and early stopping wait until the network is as sparse as
        # asked (an earlier, denser epoch is not the sparse result)
        if value is not None and state.step >= self._best_after:
            best = state.best_metric
            improved = math.isfinite(value) and (
                best is None or (value < best if cfg.mode == "min" else value > best))
            if improved:
                state.best_metric, state.bad_epochs = value, 0
            else:
                state.bad_epochs += 1
        lr = optimizer.param_groups[0]["lr"]  # before an epoch-interval schedule steps
        if schedule is not None:
            schedule.after_epoch(value)
        row = {"epoch": state.epoch + 1, "step": state.step, **metrics, "lr": lr,
               "seconds": state.seconds, **self._row_extra}
        state.history.append(row)
        state.epoch += 1
        state.batch_in_epoch = 0
        state.loss_sum = state.loss_count = state.seconds = 0.0
        state.term_sums = {}
        if cfg.early_stopping_patience is not None and \
                state.bad_epochs >= cfg.early_stopping_patience:
            state.stopped_early = True
        self._save(["last", "best"] if improved else ["last"], task, optimizer, schedule,
                   state, env)
        logger.write_history(state.history)
        logger.log_epoch(row)
        bar.end_epoch(cfg.monitor or "", value)

    def _save(self, which: list[str], task: AbstractTask, optimizer: torch.optim.Optimizer,
              schedule: Schedule | None, state: RunState, env: DistEnv) -> None:
        if self.run_dir is None:
            return
        rng_ranks = all_gather_objects(ck.capture_rng(), env)  # every rank joins
        if not env.is_main:
            return
        payload = {
            "model": ck.model_checkpoint(task.model),
            "task_state": task.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": schedule.state_dict() if schedule is not None else None,
            "rng": rng_ranks[0],
            "rng_ranks": rng_ranks if env.distributed else [],
            "epoch": state.epoch,
            "step": state.step,
            "batch_in_epoch": state.batch_in_epoch,
            "best_metric": state.best_metric,
            "bad_epochs": state.bad_epochs,
            "stopped_early": state.stopped_early,
            "history": [dict(r) for r in state.history],
            "epoch_progress": {"loss_sum": state.loss_sum, "loss_count": state.loss_count,
                               "seconds": state.seconds, "term_sums": dict(state.term_sums)},
            "trainer_config": config_to_dict(self.config),
        }
        if self._lottery is not None:
            payload["pruning"] = self._lottery
        if self._pass_order is not None:
            payload["curriculum"] = {"epoch": self._pass_order[0],
                                     "order": list(self._pass_order[1])}
        for name in which:
            ck.save_checkpoint(payload, self._ckpt_path(name))

    def _restore(self, path: Path, task: AbstractTask, optimizer: torch.optim.Optimizer,
                 schedule: Schedule | None, env: DistEnv) -> tuple[RunState, dict]:
        ckpt = ck.load_checkpoint(path)
        old = ckpt["trainer_config"]
        for key in ("batch_size", "seed"):
            if old.get(key) != getattr(self.config, key) and ckpt["batch_in_epoch"] > 0:
                warnings.warn(f"resuming {path} mid-epoch with trainer.{key}="
                              f"{getattr(self.config, key)!r} (checkpoint: {old.get(key)!r}): the "
                              "rest of the epoch visits a different data order", stacklevel=3)
        try:
            task.load_state_dict(ckpt["task_state"])
            optimizer.load_state_dict(ckpt["optimizer"])
            if schedule is not None and ckpt["scheduler"] is not None:
                schedule.load_state_dict(ckpt["scheduler"])
        except (RuntimeError, ValueError, KeyError) as e:
            raise DataError(f"{path} does not fit this task / optimizer / scheduler "
                            f"({e.__class__.__name__}: {e}); pass resume=False or another "
                            "run_dir to start afresh") from e
        progress = ckpt.get("epoch_progress", {})
        state = RunState(epoch=ckpt["epoch"], step=ckpt["step"],
                       batch_in_epoch=ckpt["batch_in_epoch"], best_metric=ckpt["best_metric"],
                       bad_epochs=ckpt["bad_epochs"],
                       stopped_early=bool(ckpt.get("stopped_early", False)),
                       history=[dict(r) for r in ckpt["history"]],
                       loss_sum=float(progress.get("loss_sum", 0.0)),
                       loss_count=float(progress.get("loss_count", 0.0)),
                       seconds=float(progress.get("seconds", 0.0)),
                       term_sums={k: float(v) for k, v in
                                  progress.get("term_sums", {}).items()})
        kept = ckpt.get("curriculum")
        self._pass_order = None if kept is None else (int(kept["epoch"]),
                                                      [int(i) for i in kept["order"]])
        ranks = ckpt.get("rng_ranks") or []
        rng = ranks[env.rank] if len(ranks) == env.world_size else ckpt["rng"]
        return state, rng
