"""Cyclical curriculum learning inside the one Trainer (``trainer.curriculum``).

Kesgin and Amasyali, *Cyclical Curriculum Learning*, IEEE TNNLS 2023
(https://arxiv.org/abs/2202.05531): the share of the training set used in a pass goes round a
cycle, from ``start`` up to ``end`` by factors of 1 / ``multiplier`` and back down by factors of
``multiplier`` (0.25, 0.5, 1, 0.5, 0.25, 0.5, 1, ... at the paper's defaults), so that training
alternates between curriculum passes over the easy part of the data and vanilla passes over all
of it. Passes continue until they have seen as many examples as ``max_epochs`` full epochs: the
budget in examples is the plain training's.

Which examples a pass uses comes from the model's own loss (the paper's self-paced variant): at
the start of each pass every training example is scored by the current model, and the pass
draws its share without replacement with probability proportional to 1 / loss (``score:
inverse_loss``), so easy examples come first but hard ones are never excluded; ``score:
uniform`` draws at random (the paper's random-curriculum control). A task supplies its examples'
losses through ``example_losses(batch)``; the operator and forecasting tasks do. The draw of a
pass is kept in every checkpoint, so a run killed mid-pass resumes on the same examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sciml.errors import ConfigError, DataError

__all__ = ["CurriculumConfig", "check_curriculum_config", "cycle_fractions", "draw"]

_SCORES = ("inverse_loss", "uniform")


@dataclass(frozen=True)
class CurriculumConfig:
    """``trainer.curriculum``: ``{method: cyclical, start, end, multiplier, score}``."""

    method: str = "cyclical"
    start: float = 0.25
    end: float = 1.0
    multiplier: float = 0.5
    score: str = "inverse_loss"


def check_curriculum_config(value: Any) -> dict[str, Any]:
    """``trainer.curriculum`` checked and completed with the defaults."""
    if not isinstance(value, dict):
        raise ConfigError(f"trainer.curriculum must be a mapping such as {{method: cyclical}} "
                          f"or null, got {value!r}")
    known = set(CurriculumConfig.__dataclass_fields__)
    unknown = sorted(set(value) - known)
    if unknown:
        raise ConfigError(f"unknown key trainer.curriculum.{unknown[0]}; valid keys: "
                          f"{', '.join(sorted(known))}")
    cfg = {**CurriculumConfig().__dict__, **value}
    if cfg["method"] != "cyclical":
        raise ConfigError(f"trainer.curriculum.method must be 'cyclical', got {cfg['method']!r}")
    for name in ("start", "end", "multiplier"):
        v = cfg[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
            raise ConfigError(f"trainer.curriculum.{name} must be a number in (0, 1], got {v!r}")
        cfg[name] = float(v)
    if cfg["start"] > cfg["end"]:
        raise ConfigError(f"trainer.curriculum.start ({cfg['start']}) exceeds end "
                          f"({cfg['end']})")
    if cfg["multiplier"] == 1 and cfg["start"] != cfg["end"]:
        raise ConfigError("trainer.curriculum.multiplier must be below 1 to move between start "
                          "and end")
    if cfg["score"] not in _SCORES:
        raise ConfigError(f"trainer.curriculum.score must be one of {list(_SCORES)}, got "
                          f"{cfg['score']!r}")
    return cfg


def cycle_fractions(cfg: dict[str, Any], epochs: float) -> list[float]:
    """The share of the training set of each pass: up from ``start`` to ``end`` and back, until
    the shares add up to ``epochs`` full passes."""
    start, end, m = cfg["start"], cfg["end"], cfg["multiplier"]
    out, rising = [start], True
    while sum(out) < epochs - 1e-9:
        n = out[-1]
        if rising and n < end:
            n = min(n / m, end)
        else:
            rising = False
            n = max(n * m, start)
        if n >= end:
            rising = False
        if n <= start:
            rising = True
        out.append(n)
    return out


def draw(losses: np.ndarray, fraction: float, score: str, seed: int, epoch: int) -> list[int]:
    """The examples of a pass, in the order it visits them: ``round(fraction × n)`` drawn
    without replacement, with probability ∝ 1 / loss (``inverse_loss``) or uniform; the draw
    depends on ``seed`` and the pass only."""
    n = len(losses)
    bad = np.flatnonzero(~np.isfinite(losses))
    if len(bad):
        raise DataError(f"trainer.curriculum: training example {int(bad[0])} has a non-finite "
                        f"loss ({losses[bad[0]]}) under the model at pass {epoch}"
                        + (f" ({len(bad)} such examples)" if len(bad) > 1 else ""))
    m = min(n, max(1, int(round(fraction * n))))
    rng = np.random.default_rng([seed, epoch])
    if score == "uniform":
        p = None
    else:
        w = 1.0 / np.maximum(losses, 1e-12)
        p = w / w.sum()
        if np.count_nonzero(p) < m:  # too few examples with weight: fall back to uniform ones
            p = None
    return [int(i) for i in rng.choice(n, size=m, replace=False, p=p)]
