"""The full-batch Adam → L-BFGS fit loop of physics-informed training, with atomic, resumable
checkpoints.

The Trainer's epoch/mini-batch model does not fit full-batch L-BFGS (one closure re-evaluates the
whole loss several times per step), so this module has its own small loop: Adam for
``adam_steps`` steps, then ``torch.optim.LBFGS`` with the strong-Wolfe line search in chunks of
``lbfgs_chunk`` iterations, a checkpoint after each chunk and every ``checkpoint_every`` Adam
steps, and a :class:`NonFiniteError` naming the loss term, phase and step on NaN.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from sciml.data import atomic_torch_save
from sciml.errors import NonFiniteError
from sciml.tasks._physics_informed import AbstractObjective, FitConfig

__all__ = ["fit_physics_informed"]


def _total(objective: AbstractObjective, model: torch.nn.Module, phase: str, step: int
           ) -> tuple[Tensor, dict[str, float]]:
    terms = objective.losses(model)
    values = {k: float(v.detach()) for k, v in terms.items()}
    bad = [k for k, v in values.items() if not math.isfinite(v)]
    if bad:
        raise NonFiniteError(f"physics-informed loss term {bad[0]!r} is {values[bad[0]]} at "
                             f"{phase} step {step} (PDE {objective.pde.name!r}); lower the "
                             f"learning rate or check the PDE parameters")
    total = sum(terms.values())
    return total, values


def fit_physics_informed(model: torch.nn.Module, objective: AbstractObjective, cfg: FitConfig,
                         checkpoint: Path | None = None, resume: bool = True,
                         progress: bool = False) -> list[dict[str, Any]]:
    """Adam then L-BFGS (strong Wolfe) on the full batch; returns the loss history.

    Args:
        model: A :class:`PINN` or :class:`LPINN` (moved to ``cfg.dtype``).
        objective: Its :class:`PINNObjective` / :class:`LPINNObjective`.
        cfg: The budget and schedule.
        checkpoint: Path of the resumable checkpoint (written atomically), or None.
        resume: Continue from ``checkpoint`` if it exists.
        progress: Print a line every 10% of each phase to stderr.

    Returns:
        One dict per logged step: phase, step, loss and each loss term.
    """
    model.to(cfg.torch_dtype)
    history: list[dict[str, Any]] = []
    phase, done = "adam", 0
    adam = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    lbfgs = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=cfg.lbfgs_chunk,
                              history_size=cfg.lbfgs_history, line_search_fn="strong_wolfe",
                              tolerance_grad=cfg.lbfgs_tolerance_grad,
                              tolerance_change=cfg.lbfgs_tolerance_change)
    if checkpoint is not None and resume and Path(checkpoint).is_file():
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"]["state_dict"])
        (adam if state["phase"] == "adam" else lbfgs).load_state_dict(state["optimizer"])
        phase, done, history = state["phase"], state["step"], list(state["history"])
        objective.points = state["points"].to(cfg.torch_dtype)
        torch.set_rng_state(state["rng"])

    def save(opt: torch.optim.Optimizer) -> None:
        if checkpoint is not None:
            atomic_torch_save({"model": model.checkpoint(), "phase": phase, "step": done,
                               "optimizer": opt.state_dict(), "history": history,
                               "points": objective.points, "rng": torch.get_rng_state()},
                              checkpoint)

    def log(values: dict[str, float], step: int) -> None:
        loss = sum(v for k, v in values.items() if k != "rejected_trials")
        row = {"phase": phase, "step": step, "loss": loss, **values}
        history.append(row)
        if progress:
            print(f"  {phase} {step:>6d}  loss {row['loss']:.3e}  " + "  ".join(
                f"{k} {v:.2e}" for k, v in values.items()), file=sys.stderr)

    every_adam = max(1, cfg.adam_steps // 10)
    if phase == "adam":
        while done < cfg.adam_steps:
            if cfg.resample_every and done and done % cfg.resample_every == 0:
                objective.resample(model, done)
            adam.zero_grad(set_to_none=True)
            total, values = _total(objective, model, "adam", done)
            total.backward()
            adam.step()
            done += 1
            if done % every_adam == 0 or done == cfg.adam_steps:
                log(values, done)
            if cfg.checkpoint_every and done % cfg.checkpoint_every == 0:
                save(adam)
        phase, done = "lbfgs", 0
        save(lbfgs)
    while done < cfg.lbfgs_steps:
        chunk = min(cfg.lbfgs_chunk, cfg.lbfgs_steps - done)
        lbfgs.param_groups[0]["max_iter"] = chunk
        # line searches take a few evaluations each
        max_eval = max(chunk + 1, int(cfg.lbfgs_eval_factor * chunk))
        lbfgs.param_groups[0]["max_eval"] = max_eval
        rejected = [0]
        state = lbfgs.state[lbfgs.param_groups[0]["params"][0]]
        iters0, evals0 = state.get("n_iter", 0), state.get("func_evals", 0)

        def closure(done: int = done, rejected: list[int] = rejected) -> Tensor:
            lbfgs.zero_grad(set_to_none=False)
            try:
                total, _ = _total(objective, model, "lbfgs", done)
            except NonFiniteError:
                # A line-search trial step that overflows: report +inf with zero gradient, so
                # the strong-Wolfe search rejects the step and bisects back (PyTorch's
                # interpolation would otherwise turn a NaN loss into a NaN step).
                rejected[0] += 1
                return torch.tensor(math.inf, dtype=cfg.torch_dtype)
            total.backward()
            return total

        lbfgs.step(closure)
        # count the iterations L-BFGS really made (the evaluation budget or its tolerances may
        # end a chunk early), like DeepXDE; stop when its tolerances end a chunk at once
        made = state.get("n_iter", 0) - iters0
        evals = state.get("func_evals", 0) - evals0
        converged = made == 0 or (made == 1 < chunk and evals < max_eval)
        done = cfg.lbfgs_steps if converged else done + made
        _, values = _total(objective, model, "lbfgs", done)  # raises if the iterate is not finite
        if rejected[0]:
            values = {**values, "rejected_trials": float(rejected[0])}
        log(values, done)
        save(lbfgs)
    return history
