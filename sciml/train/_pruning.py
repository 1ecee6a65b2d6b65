"""Pruning inside the one Trainer: lottery tickets and GraNet (``trainer.pruning.method``).

**Lottery tickets** (``method: lottery``): iterative magnitude pruning with weight rewinding.

Frankle and Carbin, *The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural Networks*,
ICLR 2019 (https://arxiv.org/abs/1803.03635), Algorithm "iterative pruning": train the dense
network; prune ``fraction`` of the weights that remain, those of smallest magnitude (over all
pruned tensors at once, ``scope: global``, as the paper does for its deep networks, or tensor by
tensor, ``scope: layer``, as for LeNet and Conv-2/4/6); reset the survivors to their values at
initialisation and train again with the mask fixed; repeat for ``rounds`` rounds. After n rounds
the network keeps (1 − fraction)ⁿ of its prunable weights. ``rewind_step: k`` resets them to
their values after k optimizer steps of the dense training instead (late rewinding, Frankle,
Dziugaite, Roy, Carbin, *Linear Mode Connectivity and the Lottery Ticket Hypothesis*, ICML 2020),
which the later papers need for larger networks.

The paper's control, ``control: true``: in each round a second network with the same mask
starts from a new random initialisation (the model's own initialisers, drawn from another seed)
and trains with the same budget. A winning ticket is a mask and initialisation that trains as
well as the dense network; the control shows that the mask alone is not enough.

Pruned: every parameter with two or more dimensions (linear and convolution weights, the
recurrent matrices) unless a name matches ``exclude``; biases, normalisation scales and other
vectors stay dense, as in the paper. Complex weights are pruned by modulus. A pruned weight is
zero from the start of its round to the end (the mask is applied again after every optimizer
step), so a fused kernel that reads the weights sees the sparse network.

**GraNet** (``method: granet``; Liu, Chen, Chen, Atashgahi, Yin, Kou, Shen, Pechenizkiy, Wang,
Mocanu, *Sparse Training via Boosting Pruning Plasticity with Neuroregeneration*, NeurIPS 2021,
https://arxiv.org/abs/2106.10404): one training in which the mask changes every ``every`` steps.
Gradual magnitude pruning takes the network from ``init_sparsity`` (0: dense; above: a random
Erdős–Rényi-kernel mask) to ``sparsity`` along Zhu and Gupta's cubic schedule between the
fractions ``start`` and ``end`` of the training, globally by magnitude; at every update, zero-cost
neuroregeneration then drops a fraction (``regrow``, decayed by a cosine to 0 over the training)
of each tensor's kept weights of smallest magnitude and regrows as many where the gradient of the
current batch is largest, from zero, without changing the count. The optimizer's state of pruned
weights is cleared, so a regrown weight starts afresh. The masks and the schedule's position are
in every checkpoint: a killed run resumes with the same masks and the same result.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field
from typing import Any

import torch

from sciml.errors import ConfigError

__all__ = ["PruningConfig", "GraNetConfig", "check_pruning_config", "prunable",
           "magnitude_masks", "apply_masks", "sparsity", "reinitialise", "lottery_phases",
           "erk_masks", "gradual_sparsity", "regrow_rate", "prune_to", "regenerate",
           "clear_optimizer_state"]

_SCOPES = ("global", "layer")


@dataclass(frozen=True)
class PruningConfig:
    """``trainer.pruning`` for ``method: lottery``: ``{rounds, fraction, scope, rewind_step,
    control, exclude}`` (see the module text)."""

    method: str = "lottery"
    rounds: int = 3
    fraction: float = 0.2
    scope: str = "global"
    rewind_step: int = 0
    control: bool = False
    exclude: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GraNetConfig:
    """``trainer.pruning`` for ``method: granet`` (see :func:`granet_update`).

    ``sparsity``: the final fraction of the prunable weights that are zero. ``init_sparsity``:
    0 starts dense (GraNet's dense-to-sparse); above 0 starts from a random Erdős–Rényi-kernel
    mask of that sparsity (sparse-to-sparse). ``every``: optimizer steps between mask updates
    (None: one epoch). ``start`` / ``end``: the fractions of the training's steps where the
    gradual pruning starts and reaches ``sparsity``. ``regrow``: the initial fraction of each
    tensor's weights that regeneration drops and regrows, decayed to 0 by a cosine over the
    training."""

    method: str = "granet"
    sparsity: float = 0.8
    init_sparsity: float = 0.0
    every: int | None = None
    start: float = 0.0
    end: float = 0.7
    regrow: float = 0.5
    exclude: list[str] = field(default_factory=list)


_CONFIGS = {"lottery": PruningConfig, "granet": GraNetConfig}


def _fraction(cfg: dict[str, Any], name: str, low: float, high: float, closed: str) -> None:
    v = cfg[name]
    ok = (not isinstance(v, bool) and isinstance(v, (int, float))
          and (low <= v if "[" in closed else low < v) and (v <= high if "]" in closed else
                                                            v < high))
    if not ok:
        raise ConfigError(f"trainer.pruning.{name} must be a number in {closed[0]}{low}, "
                          f"{high}{closed[1]}, got {v!r}")
    cfg[name] = float(v)


def check_pruning_config(value: Any) -> dict[str, Any]:
    """``trainer.pruning`` checked and completed with the defaults of its method (a plain
    dict, as the trainer's other sections)."""
    if not isinstance(value, dict):
        raise ConfigError(f"trainer.pruning must be a mapping such as {{method: lottery, "
                          f"rounds: 3}} or null, got {value!r}")
    method = value.get("method", "lottery")
    if method not in _CONFIGS:
        raise ConfigError(f"trainer.pruning.method must be one of {list(_CONFIGS)}, got "
                          f"{method!r}")
    defaults = _CONFIGS[method]()
    known = set(type(defaults).__dataclass_fields__)
    unknown = sorted(set(value) - known)
    if unknown:
        raise ConfigError(f"unknown key trainer.pruning.{unknown[0]} for method {method}; valid "
                          f"keys: {', '.join(sorted(known))}")
    cfg = {**defaults.__dict__, **value}
    ints = {"lottery": (("rounds", 1), ("rewind_step", 0)), "granet": (("every", 1),)}[method]
    for name, minimum in ints:
        v = cfg[name]
        if v is None and name == "every":
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            raise ConfigError(f"trainer.pruning.{name} must be an integer >= {minimum}"
                              + (" or null" if name == "every" else "") + f", got {v!r}")
    if method == "lottery":
        _fraction(cfg, "fraction", 0, 1, "()")
        if cfg["scope"] not in _SCOPES:
            raise ConfigError(f"trainer.pruning.scope must be one of {list(_SCOPES)}, got "
                              f"{cfg['scope']!r}")
        if not isinstance(cfg["control"], bool):
            raise ConfigError(f"trainer.pruning.control must be true or false, got "
                              f"{cfg['control']!r}")
    else:
        _fraction(cfg, "sparsity", 0, 1, "()")
        _fraction(cfg, "init_sparsity", 0, 1, "[)")
        _fraction(cfg, "start", 0, 1, "[)")
        _fraction(cfg, "end", 0, 1, "(]")
        _fraction(cfg, "regrow", 0, 1, "[)")
        if cfg["init_sparsity"] > cfg["sparsity"]:
            raise ConfigError(f"trainer.pruning.init_sparsity ({cfg['init_sparsity']}) exceeds "
                              f"the final sparsity ({cfg['sparsity']})")
        if cfg["start"] >= cfg["end"]:
            raise ConfigError(f"trainer.pruning.start ({cfg['start']}) must come before end "
                              f"({cfg['end']})")
    ex = cfg["exclude"]
    if isinstance(ex, str):
        ex = [ex]
    if not isinstance(ex, list) or not all(isinstance(p, str) for p in ex):
        raise ConfigError(f"trainer.pruning.exclude must be a list of parameter-name patterns, "
                          f"got {ex!r}")
    cfg["exclude"] = list(ex)
    return cfg


def lottery_phases(cfg: dict[str, Any]) -> list[tuple[int, str]]:
    """The trainings of a lottery run in order: ``(round, kind)`` with kind ``dense`` (round 0),
    then per round ``reinit`` (the control, if asked) and ``ticket``; the last is the result."""
    phases = [(0, "dense")]
    for r in range(1, cfg["rounds"] + 1):
        if cfg["control"]:
            phases.append((r, "reinit"))
        phases.append((r, "ticket"))
    return phases


def prunable(model: torch.nn.Module, exclude: list[str]) -> dict[str, torch.nn.Parameter]:
    """The parameters pruned: two or more dimensions, trainable, no name matching ``exclude``."""
    out = {n: p for n, p in model.named_parameters()
           if p.ndim >= 2 and p.requires_grad
           and not any(fnmatch.fnmatchcase(n, pat) for pat in exclude)}
    if not out:
        raise ConfigError(f"trainer.pruning: {type(model).__name__} has no weight matrix to "
                          f"prune (exclude: {exclude})")
    return out


def magnitude_masks(params: dict[str, torch.Tensor], masks: dict[str, torch.Tensor] | None,
                    fraction: float, scope: str) -> dict[str, torch.Tensor]:
    """Masks that drop ``fraction`` of the weights still kept by ``masks`` (all, if None), those
    of smallest magnitude, over all tensors (``global``) or per tensor (``layer``). Ties at the
    threshold are broken by position, so exactly round(fraction × kept) weights go."""
    masks = masks or {n: torch.ones_like(p, dtype=torch.bool) for n, p in params.items()}
    groups = [list(params)] if scope == "global" else [[n] for n in params]
    new = {}
    for names in groups:
        scores = torch.cat([params[n].detach().abs().flatten().double()
                            .masked_fill(~masks[n].flatten(), float("inf")) for n in names])
        kept = int(torch.cat([masks[n].flatten() for n in names]).sum())
        drop = int(round(fraction * kept))
        keep = torch.cat([masks[n].flatten() for n in names]).clone()
        if drop > 0:
            order = torch.argsort(scores, stable=True)[:drop]
            keep[order] = False
        i = 0
        for n in names:
            k = masks[n].numel()
            new[n] = keep[i:i + k].reshape(masks[n].shape)
            i += k
    return new


@torch.no_grad()
def apply_masks(params: dict[str, torch.Tensor], masks: dict[str, torch.Tensor] | None) -> None:
    """Zero the pruned weights in place."""
    if not masks:
        return
    for n, m in masks.items():
        params[n].mul_(m.to(params[n].device))


def sparsity(masks: dict[str, torch.Tensor] | None) -> float:
    """Fraction of the prunable weights pruned (0 without masks)."""
    if not masks:
        return 0.0
    total = sum(m.numel() for m in masks.values())
    return 1.0 - sum(int(m.sum()) for m in masks.values()) / total


@torch.no_grad()
def reinitialise(model: torch.nn.Module, seed: int, init_state: dict[str, torch.Tensor]) -> None:
    """A new random initialisation of ``model`` drawn from ``seed``: every module's own
    ``reset_parameters``; a parameter no such module owns gets its initial values (from
    ``init_state``) permuted at random, a new draw from their empirical distribution."""
    covered: set[int] = set()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in model.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()
                covered.update(id(p) for p in module.parameters(recurse=False))
        g = torch.Generator().manual_seed(seed)
        for name, p in model.named_parameters():
            if id(p) not in covered and name in init_state:
                flat = init_state[name].flatten()
                p.copy_(flat[torch.randperm(flat.numel(), generator=g)].reshape(p.shape))


# ---------------------------------------------------------------------------- GraNet
def erk_masks(params: dict[str, torch.Tensor], sparsity: float, seed: int
              ) -> dict[str, torch.Tensor]:
    """Random masks of overall ``sparsity`` with Erdős–Rényi-kernel densities (Evci et al.,
    *Rigging the Lottery*, ICML 2020, the sparse start GraNet uses): a tensor's density is
    proportional to (sum of its dimensions) / (its size), scaled so that the kept weights are
    ``1 − sparsity`` of all; a tensor whose density would exceed 1 is kept dense and the scale is
    solved again without it."""
    density = 1.0 - sparsity
    raw = {n: sum(p.shape) / p.numel() for n, p in params.items()}
    dense: set[str] = set()
    while True:
        rhs = sum(p.numel() * (density if n not in dense else density - 1.0)
                  for n, p in params.items())
        divisor = sum(raw[n] * p.numel() for n, p in params.items() if n not in dense)
        eps = rhs / divisor
        over = [n for n in params if n not in dense and eps * raw[n] > 1]
        if not over:
            break
        dense.add(max(over, key=lambda n: raw[n]))
    g = torch.Generator().manual_seed(seed)
    return {n: (torch.ones(p.shape, dtype=torch.bool) if n in dense
                else torch.rand(p.shape, generator=g) < eps * raw[n]).to(p.device)
            for n, p in params.items()}


def gradual_sparsity(step: int, total: int, cfg: dict[str, Any]) -> float | None:
    """The sparsity the gradual schedule asks at ``step`` of ``total`` (Zhu and Gupta, *To
    prune, or not to prune*, 2017, as GraNet uses it): s_f + (s_i − s_f)(1 − p)³ with p the
    progress from ``start`` to ``end``; None before ``start``."""
    t0, t1 = cfg["start"] * total, cfg["end"] * total
    if step < t0:
        return None
    p = min(1.0, (step - t0) / max(t1 - t0, 1e-12))
    return cfg["sparsity"] + (cfg["init_sparsity"] - cfg["sparsity"]) * (1.0 - p) ** 3


def regrow_rate(step: int, total: int, initial: float) -> float:
    """The regeneration rate at ``step``: ``initial`` decayed to 0 by a cosine over training."""
    return 0.5 * initial * (1.0 + math.cos(math.pi * min(step, total) / total))


def prune_to(params: dict[str, torch.Tensor], masks: dict[str, torch.Tensor],
             target: float) -> dict[str, torch.Tensor]:
    """Global magnitude pruning of the kept weights until ``target`` of all are pruned (never
    fewer than now: what is pruned stays pruned)."""
    total = sum(m.numel() for m in masks.values())
    keep_n = int(round((1.0 - target) * total))
    kept = sum(int(m.sum()) for m in masks.values())
    if keep_n >= kept:
        return masks
    names = list(params)
    scores = torch.cat([params[n].detach().abs().flatten().double()
                        .masked_fill(~masks[n].flatten(), -1.0) for n in names])
    keep = torch.zeros(scores.numel(), dtype=torch.bool, device=scores.device)
    keep[torch.argsort(scores, descending=True, stable=True)[:keep_n]] = True
    out, i = {}, 0
    for n in names:
        k = masks[n].numel()
        out[n] = keep[i:i + k].reshape(masks[n].shape)
        i += k
    return out


def regenerate(params: dict[str, torch.Tensor], masks: dict[str, torch.Tensor],
               rate: float) -> dict[str, torch.Tensor]:
    """GraNet's zero-cost neuroregeneration, tensor by tensor: drop ⌈rate × kept⌉ of the kept
    weights of smallest magnitude, then keep as many of the positions now pruned whose gradient
    (of the step just taken) is largest in magnitude; they restart from zero. The count of kept
    weights does not change; a tensor without a gradient is left as it is."""
    out = {}
    for n, p in params.items():
        m = masks[n]
        kept = int(m.sum())
        drop = math.ceil(rate * kept)
        if drop == 0 or p.grad is None or kept == 0:
            out[n] = m
            continue
        flat = m.flatten().clone()
        score = p.detach().abs().flatten().double().masked_fill(~flat, float("inf"))
        flat[torch.argsort(score, stable=True)[:drop]] = False
        grow = p.grad.detach().abs().flatten().double().masked_fill(flat, -1.0)
        flat[torch.argsort(grow, descending=True, stable=True)[:drop]] = True
        out[n] = flat.reshape(m.shape)
    return out


@torch.no_grad()
def clear_optimizer_state(optimizer: torch.optim.Optimizer, params: dict[str, torch.Tensor],
                          masks: dict[str, torch.Tensor]) -> None:
    """Zero the optimizer's per-weight state (momentum, Adam's moments) where a weight is
    pruned, so that a weight regrown later starts afresh."""
    for n, p in params.items():
        for value in optimizer.state.get(p, {}).values():
            if isinstance(value, torch.Tensor) and value.shape == p.shape:
                value.mul_(masks[n].to(value.device))
