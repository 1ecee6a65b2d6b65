"""Lottery tickets: iterative magnitude pruning with weight rewinding, inside the one Trainer.

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
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

import torch

from sciml.errors import ConfigError

__all__ = ["PruningConfig", "check_pruning_config", "prunable", "magnitude_masks",
           "apply_masks", "sparsity", "reinitialise", "lottery_phases"]

_METHODS = ("lottery",)
_SCOPES = ("global", "layer")


@dataclass(frozen=True)
class PruningConfig:
    """``trainer.pruning``: ``{method: lottery, rounds, fraction, scope, rewind_step, control,
    exclude}`` (see the module text)."""

    method: str = "lottery"
    rounds: int = 3
    fraction: float = 0.2
    scope: str = "global"
    rewind_step: int = 0
    control: bool = False
    exclude: list[str] = field(default_factory=list)


def check_pruning_config(value: Any) -> dict[str, Any]:
    """``trainer.pruning`` checked and completed with the defaults (a plain dict, as the
    trainer's other sections)."""
    if not isinstance(value, dict):
        raise ConfigError(f"trainer.pruning must be a mapping such as {{method: lottery, "
                          f"rounds: 3}} or null, got {value!r}")
    known = set(PruningConfig.__dataclass_fields__)
    unknown = sorted(set(value) - known)
    if unknown:
        raise ConfigError(f"unknown key trainer.pruning.{unknown[0]}; valid keys: "
                          f"{', '.join(sorted(known))}")
    cfg = {**PruningConfig().__dict__, **value}
    if cfg["method"] not in _METHODS:
        raise ConfigError(f"trainer.pruning.method must be one of {list(_METHODS)}, got "
                          f"{cfg['method']!r}")
    for name, minimum in (("rounds", 1), ("rewind_step", 0)):
        v = cfg[name]
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            raise ConfigError(f"trainer.pruning.{name} must be an integer >= {minimum}, got "
                              f"{v!r}")
    f = cfg["fraction"]
    if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f < 1:
        raise ConfigError(f"trainer.pruning.fraction must be a number in (0, 1) (of the "
                          f"remaining weights pruned per round), got {f!r}")
    cfg["fraction"] = float(f)
    if cfg["scope"] not in _SCOPES:
        raise ConfigError(f"trainer.pruning.scope must be one of {list(_SCOPES)}, got "
                          f"{cfg['scope']!r}")
    if not isinstance(cfg["control"], bool):
        raise ConfigError(f"trainer.pruning.control must be true or false, got "
                          f"{cfg['control']!r}")
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
