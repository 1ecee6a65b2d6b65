"""Collocation sampling in boxes: uniform, Latin hypercube, Sobol, and residual-based resampling.

Residual-based adaptive distribution (RAD) and refinement (RAR): Wu, Zhu, Tan, Kartha, Lu,
"A comprehensive study of non-adaptive and residual-based adaptive sampling for physics-informed
neural networks", CMAME 2023. RAD draws points with probability
p(x) ∝ |r(x)|^k / mean(|r|^k) + c.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from jaxtyping import Float
from torch import Tensor

__all__ = ["SAMPLING_METHODS", "sample_box", "residual_resample", "check_count"]

SAMPLING_METHODS = ("uniform", "lhs", "sobol", "grid")


def check_count(n: object, name: str = "n") -> int:
    """``n`` as an int >= 1; a ValueError naming ``name`` otherwise (zero points is an error)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive number of points, got {n!r}")
    return int(n)


def _bounds(lows: Sequence[float], highs: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    lo = np.asarray(lows, dtype=np.float64).reshape(-1)
    hi = np.asarray(highs, dtype=np.float64).reshape(-1)
    if lo.shape != hi.shape or lo.size == 0:
        raise ValueError(f"lows and highs must have the same positive length, got {list(lo)} "
                         f"and {list(hi)}")
    bad = [i for i in range(lo.size) if not (np.isfinite(lo[i]) and np.isfinite(hi[i])
                                              and lo[i] < hi[i])]
    if bad:
        i = bad[0]
        raise ValueError(f"inverted or empty bounds in dimension {i}: low {lo[i]} >= high {hi[i]}")
    return lo, hi


def sample_box(n: int, lows: Sequence[float], highs: Sequence[float], method: str = "uniform",
               seed: int | np.random.Generator | None = 0,
               dtype: torch.dtype = torch.float32) -> Float[Tensor, "n d"]:
    """``n`` points in the box ``[lows, highs]``.

    Args:
        n: Number of points (>= 1).
        lows, highs: Box bounds per dimension (low < high).
        method: ``"uniform"`` (i.i.d.), ``"lhs"`` (Latin hypercube, scipy.stats.qmc),
            ``"sobol"`` (scrambled Sobol; n need not be a power of two, but the balance
            properties hold for powers of two), or ``"grid"`` (a tensor grid of
            ⌈n^(1/d)⌉ points per side, ends included, first n of them row-major).
        seed: Seed or numpy Generator.
        dtype: Tensor dtype of the result.

    Returns:
        (n, d) tensor.
    """
    n = check_count(n)
    lo, hi = _bounds(lows, highs)
    d = lo.size
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if method == "uniform":
        unit = rng.random((n, d))
    elif method in ("lhs", "sobol"):
        from scipy.stats import qmc

        if method == "lhs":
            unit = qmc.LatinHypercube(d=d, seed=rng).random(n)
        else:
            engine = qmc.Sobol(d=d, scramble=True, seed=rng)
            with warnings.catch_warnings():  # n not a power of two: still a valid sequence
                warnings.simplefilter("ignore", UserWarning)
                unit = engine.random(n)
    elif method == "grid":
        side = max(2, math.ceil(n ** (1.0 / d) - 1e-9))
        axes = [np.linspace(0.0, 1.0, side)] * d
        unit = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)[:n]
    else:
        raise ValueError(f"unknown sampling method {method!r}; valid methods: "
                         + ", ".join(SAMPLING_METHODS))
    return torch.as_tensor(lo + unit * (hi - lo), dtype=dtype)


def residual_resample(candidates: Float[Tensor, "m d"], residual: Float[Tensor, " m"], n: int,
                      k: float = 1.0, c: float = 1.0,
                      seed: int | np.random.Generator | None = 0) -> Float[Tensor, "n d"]:
    """Draw ``n`` of ``candidates`` without replacement with p ∝ |r|^k / mean(|r|^k) + c (RAD).

    ``k`` sharpens the focus on large residuals; ``c`` mixes in uniform sampling (c → ∞ is
    uniform; c = 0 with large k approaches RAR's greedy choice of the largest residuals).

    Args:
        candidates: (m, d) candidate points, m >= n.
        residual: (m,) or (m, 1) PDE residual at the candidates (detached or not).
        n: Number of points to keep.
        k, c: RAD exponent (>= 0) and uniform weight (>= 0).
        seed: Seed or numpy Generator.

    Returns:
        (n, d) selected points (a subset of ``candidates``, same dtype).
    """
    n = check_count(n)
    r = residual.detach().reshape(-1).double().abs().cpu().numpy()
    m = candidates.shape[0]
    if r.size != m:
        raise ValueError(f"residual has {r.size} values but there are {m} candidates")
    if n > m:
        raise ValueError(f"cannot draw n={n} points from {m} candidates (need n <= m)")
    if not np.isfinite(r).all():
        raise ValueError(f"residual has {int((~np.isfinite(r)).sum())} non-finite values; "
                         "cannot resample on it")
    if k < 0 or c < 0 or not (math.isfinite(k) and math.isfinite(c)):
        raise ValueError(f"k and c must be finite and >= 0, got k={k!r}, c={c!r}")
    w = r**k
    mean = w.mean()
    p = (w / mean if mean > 0 else np.zeros_like(w)) + c
    if p.sum() <= 0:  # all residuals zero and c = 0: fall back to uniform
        p = np.ones_like(p)
    p = p / p.sum()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    nonzero = int((p > 0).sum())
    if nonzero < n:  # fewer positive weights than points: take them all, then the rest uniformly
        first = np.flatnonzero(p > 0)
        rest = rng.choice(np.flatnonzero(p == 0), size=n - nonzero, replace=False)
        idx = np.concatenate([first, rest])
    else:
        idx = rng.choice(m, size=n, replace=False, p=p)
    return candidates[torch.as_tensor(np.sort(idx), device=candidates.device)]
