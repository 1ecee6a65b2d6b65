"""Collocation sampling: space-filling designs and residual-based resampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sciml.physics import residual_resample, sample_box


def test_latin_hypercube_puts_one_point_in_each_stratum() -> None:
    pts = sample_box(50, [0, 0], [1, 1], method="lhs", seed=3).numpy()
    for d in range(2):
        strata = np.floor(pts[:, d] * 50).astype(int)
        assert sorted(strata.tolist()) == list(range(50))


def test_sobol_is_more_uniform_than_iid() -> None:
    def discrepancy(p: np.ndarray) -> float:  # worst deviation of the empirical CDF, 1-D marginals
        return max(np.abs(np.sort(p[:, d]) - (np.arange(len(p)) + 0.5) / len(p)).max()
                   for d in range(p.shape[1]))

    sob = sample_box(256, [0, 0], [1, 1], method="sobol", seed=0).numpy()
    iid = sample_box(256, [0, 0], [1, 1], method="uniform", seed=0).numpy()
    assert discrepancy(sob) < 0.5 * discrepancy(iid)


def test_bounds_and_methods_are_checked() -> None:
    pts = sample_box(10, [-1, 2], [1, 3], method="uniform")
    assert (pts[:, 0] >= -1).all() and (pts[:, 1] <= 3).all()
    with pytest.raises(ValueError, match="positive number of points"):
        sample_box(0, [0], [1])
    with pytest.raises(ValueError, match="low 1.0 >= high 0.0"):
        sample_box(4, [1], [0])
    with pytest.raises(ValueError, match="unknown sampling method 'halton'"):
        sample_box(4, [0], [1], method="halton")


def test_residual_resampling_concentrates_on_large_residuals() -> None:
    cand = torch.linspace(0, 1, 1000)[:, None]
    r = torch.where(cand[:, 0] > 0.9, 100.0, 0.01)
    pts = residual_resample(cand, r, 200, k=1.0, c=0.0, seed=0)
    assert pts.shape == (200, 1)
    assert (pts[:, 0] > 0.9).float().mean() > 0.45  # 100 of 1000 candidates, half the draw
    uniform = residual_resample(cand, r, 200, k=0.0, c=1.0, seed=0)  # k = 0: uniform
    assert (uniform[:, 0] > 0.9).float().mean() < 0.2
    with pytest.raises(ValueError, match="positive number of points"):
        residual_resample(cand, r, 0)
    with pytest.raises(ValueError, match="non-finite"):
        residual_resample(cand, r * float("nan"), 5)
    with pytest.raises(ValueError, match="n=2000"):
        residual_resample(cand, r, 2000)
