"""Continual learning: one model trained on a sequence of tasks, one after the other.

``trainer.continual`` switches it on (the loop over the tasks is
:func:`sciml.tasks.fit_continual`, which every Trainer job runs):

- ``method: hypernetwork``: the model's weights are generated per task by a task-conditioned
  hypernetwork (:class:`sciml.nn.HyperModel`); ``hypernetwork.kind: rnn`` is the dependency-
  preserving RNN hypernetwork of Chandra, Varshney, Srijith and Gupta (WACV 2023), ``mlp`` the
  chunked hypernetwork of von Oswald et al. (ICLR 2020). While task ``t`` is learned, the output
  regulariser of von Oswald et al. keeps what the hypernetwork emits for the earlier tasks:
  ``β/(t) Σ_{j<t} ‖h(e_j, Θ) − h(e_j, Θ*)‖²``, with ``Θ*`` the hypernetwork after task ``t − 1``
  (its outputs stored as targets) and the earlier task embeddings ``e_j`` held fixed (the
  variant without look-ahead: the targets are compared with the current outputs).
- ``method: finetune``: the plain model trained on each task in turn (the baseline that
  forgets).
- ``method: ewc``: the plain model with online elastic weight consolidation (Kirkpatrick et al.,
  PNAS 2017; Schwarz et al. 2018): ``λ/2 Σ_i F_i (θ_i − θ*_i)²``, with ``F`` the diagonal
  empirical Fisher (mean over the task's training batches of the squared gradient of the batch
  loss), summed over the tasks learned so far, and ``θ*`` the weights after the last one.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import Tensor, nn

from sciml.errors import ConfigError
from sciml.train._task import AbstractTask

__all__ = ["ContinualConfig", "check_continual_config", "PenalisedTask", "OutputRegulariser",
           "EWCPenalty", "forgetting_summary"]

METHODS = ("hypernetwork", "finetune", "ewc")


@dataclasses.dataclass
class ContinualConfig:
    """``trainer.continual``: see the module docstring.

    Args:
        method: ``hypernetwork``, ``finetune`` or ``ewc``.
        tasks: The task sequence: per task a mapping merged over the recipe's ``data`` section
            (e.g. ``{options: {seed: 1}}``), at least two.
        beta: Strength of the hypernetwork's output regulariser (von Oswald et al.: 0.01).
        ewc_lambda: Strength of the EWC penalty. The Fisher here is that of batch-mean losses,
            about ``1/batch_size`` of the per-example Fisher of the paper, so λ is larger than
            the paper's: 1e6 was the best of 1e2, 1e4, 1e6 on the ``gpvar-continual`` recipe.
        hypernetwork: ``{kind: rnn | mlp, chunk_size, task_dim, chunk_dim, hidden}``
            (:class:`sciml.nn.ChunkedHypernetwork`).
    """

    method: str = "hypernetwork"
    tasks: list = dataclasses.field(default_factory=list)
    beta: float = 0.01
    ewc_lambda: float = 1.0e6
    hypernetwork: dict = dataclasses.field(default_factory=dict)


_HNET_KEYS = {"kind": str, "chunk_size": int, "task_dim": int, "chunk_dim": int, "hidden": None}


def check_continual_config(value: Any) -> dict[str, Any]:
    """``trainer.continual`` checked and completed with the defaults."""
    if not isinstance(value, dict):
        raise ConfigError(f"trainer.continual must be a mapping such as {{method: hypernetwork, "
                          f"tasks: [...]}} or null, got {value!r}")
    known = set(ContinualConfig.__dataclass_fields__)
    unknown = sorted(set(value) - known)
    if unknown:
        raise ConfigError(f"unknown key trainer.continual.{unknown[0]}; valid keys: "
                          f"{', '.join(sorted(known))}")
    cfg = {**dataclasses.asdict(ContinualConfig()), **value}
    if cfg["method"] not in METHODS:
        raise ConfigError(f"trainer.continual.method must be one of {list(METHODS)}, got "
                          f"{cfg['method']!r}")
    tasks = cfg["tasks"]
    if not isinstance(tasks, list) or len(tasks) < 2 or not all(isinstance(t, dict)
                                                                for t in tasks):
        raise ConfigError(f"trainer.continual.tasks must be a list of at least two mappings "
                          f"(each merged over the data section), got {tasks!r}")
    cfg["tasks"] = [dict(t) for t in tasks]
    for name in ("beta", "ewc_lambda"):
        v = cfg[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
            raise ConfigError(f"trainer.continual.{name} must be a number >= 0, got {v!r}")
        cfg[name] = float(v)
    hn = cfg["hypernetwork"]
    if not isinstance(hn, dict):
        raise ConfigError(f"trainer.continual.hypernetwork must be a mapping, got {hn!r}")
    bad = sorted(set(hn) - set(_HNET_KEYS))
    if bad:
        raise ConfigError(f"unknown key trainer.continual.hypernetwork.{bad[0]}; valid keys: "
                          f"{', '.join(sorted(_HNET_KEYS))}")
    hn = {"kind": "rnn", **hn}
    if hn["kind"] not in ("rnn", "mlp"):
        raise ConfigError(f"trainer.continual.hypernetwork.kind must be 'rnn' or 'mlp', got "
                          f"{hn['kind']!r}")
    for name in ("chunk_size", "task_dim", "chunk_dim"):
        if name in hn and (isinstance(hn[name], bool) or not isinstance(hn[name], int)
                           or hn[name] < 1):
            raise ConfigError(f"trainer.continual.hypernetwork.{name} must be a positive "
                              f"integer, got {hn[name]!r}")
    if "hidden" in hn:
        h = hn["hidden"]
        widths = [h] if not isinstance(h, (list, tuple)) else list(h)
        if not widths or any(isinstance(w, bool) or not isinstance(w, int) or w < 1
                             for w in widths):
            raise ConfigError(f"trainer.continual.hypernetwork.hidden must be a positive integer "
                              f"(or a list of them for kind mlp), got {h!r}")
        hn["hidden"] = h if isinstance(h, int) else tuple(widths)
    cfg["hypernetwork"] = hn
    return cfg


class OutputRegulariser(nn.Module):
    """von Oswald et al.'s output regulariser over the tasks learned before the current one:
    ``β/(t) Σ_{j<t} ‖w_j(Θ) − w*_j‖²`` on the generated weights, the earlier task embeddings
    held fixed (no gradient reaches them).

    Args:
        model: The :class:`sciml.nn.HyperModel`.
        beta: Strength β.
        targets: ``(t, n)`` the weights generated for tasks ``0..t-1`` after task ``t − 1``.
    """

    def __init__(self, model: nn.Module, beta: float, targets: Tensor) -> None:
        super().__init__()
        self.__dict__["model"] = model  # not a submodule: the task holds it
        self.beta = beta
        self.register_buffer("targets", targets.detach().clone())

    def forward(self) -> Tensor:
        m = self.model
        total = 0.0
        for j, target in enumerate(self.targets):
            e = m.hnet.task_embeddings[j].detach()
            total = total + (m.weights(e) - target).pow(2).sum()
        return self.beta / len(self.targets) * total


class EWCPenalty(nn.Module):
    """Online EWC: ``λ/2 Σ_i F_i (θ_i − θ*_i)²`` over the model's trainable parameters.

    Args:
        model: The plain model.
        lam: Strength λ.
        fisher, anchor: Per parameter name, the summed diagonal Fisher and the weights after the
            last task.
    """

    def __init__(self, model: nn.Module, lam: float, fisher: dict[str, Tensor],
                 anchor: dict[str, Tensor]) -> None:
        super().__init__()
        self.__dict__["model"] = model
        self.lam = lam
        self.names = list(fisher)
        for i, n in enumerate(self.names):
            self.register_buffer(f"fisher_{i}", fisher[n].detach().clone())
            self.register_buffer(f"anchor_{i}", anchor[n].detach().clone())

    def forward(self) -> Tensor:
        params = dict(self.model.named_parameters())
        total = 0.0
        for i, n in enumerate(self.names):
            f, a = getattr(self, f"fisher_{i}"), getattr(self, f"anchor_{i}")
            total = total + (f * (params[n] - a).pow(2)).sum()
        return 0.5 * self.lam * total


class PenalisedTask(AbstractTask):
    """A task whose training loss gains a penalty (``penalty()`` a scalar, or None for none);
    metrics and predictions are the task's own. The loss is logged as ``train/loss``, its parts
    as ``train/task_loss`` and ``train/penalty``."""

    def __init__(self, task: AbstractTask, penalty: nn.Module | None) -> None:
        super().__init__(task.model)
        self.task = task
        self.penalty = penalty

    def forward(self, batch: Any) -> Any:
        out = self.task(batch)
        loss = out["loss"] if isinstance(out, dict) else out
        if self.penalty is None:
            return out
        pen = self.penalty()
        extra = {k: v for k, v in out.items() if k != "loss"} if isinstance(out, dict) else {}
        return {"loss": loss + pen, "task_loss": loss.detach(), "penalty": pen.detach(), **extra}

    def metrics(self, batch: Any) -> dict[str, tuple[Tensor, Tensor]]:
        return self.task.metrics(batch)

    def predict(self, batch: Any) -> Any:
        return self.task.predict(batch)


def empirical_fisher(task: AbstractTask, batches: Any) -> dict[str, Tensor]:
    """Mean over ``batches`` of the squared gradient of each batch's loss, per trainable
    parameter of ``task.model``."""
    params = {n: p for n, p in task.model.named_parameters() if p.requires_grad}
    fisher = {n: torch.zeros_like(p) for n, p in params.items()}
    count = 0
    was = task.training
    task.eval()
    try:
        for batch in batches:
            task.zero_grad(set_to_none=True)
            out = task(batch)
            loss = out["loss"] if isinstance(out, dict) else out
            loss.backward()
            for n, p in params.items():
                if p.grad is not None:
                    fisher[n] += p.grad.detach().pow(2)
            count += 1
    finally:
        task.zero_grad(set_to_none=True)
        task.train(was)
    if count == 0:
        raise ValueError("the Fisher needs at least one training batch")
    return {n: f / count for n, f in fisher.items()}


def forgetting_summary(matrix: list[list[float | None]], lower_is_better: bool = True
                       ) -> dict[str, float]:
    """Average error and forgetting from ``matrix[t][j]`` (the metric on task ``j`` after
    learning task ``t``, ``j ≤ t``).

    ``final``: mean over tasks after the last one; ``just_learned``: mean of the diagonal
    (each task right after it was learned); ``forgetting``: mean over all but the last task of
    how much worse each became from just after it was learned to the end (for an error metric
    ``R[T-1][j] − R[j][j]``; positive = forgotten).
    """
    last = len(matrix) - 1
    final = [matrix[last][j] for j in range(last + 1)]
    diag = [matrix[j][j] for j in range(last + 1)]
    sign = 1.0 if lower_is_better else -1.0
    forget = [sign * (matrix[last][j] - matrix[j][j]) for j in range(last)]
    return {"final": float(sum(final) / len(final)),
            "just_learned": float(sum(diag) / len(diag)),
            "forgetting": float(sum(forget) / len(forget)) if forget else 0.0}
