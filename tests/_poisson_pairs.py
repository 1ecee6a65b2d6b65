"""Operator test data with a known continuous answer: the inverse Laplacian on the unit square.

Imported by the resolution tests of the model (tests/models) and of the operator job
(tests/tasks); pytest puts this folder on ``sys.path`` through the root conftest.
"""

from __future__ import annotations

import math

import torch


def poisson_pairs(n_samples: int, n: int, seed: int, modes: int
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """``f`` and the exact ``u = (-Δ)^{-1} f`` (zero Dirichlet data) on a vertex grid of ``n``
    points per axis: sums of ``modes`` × ``modes`` sine modes with coefficients ~ N(0, 1/λ), so
    the same functions are sampled at every ``n``. Shapes ``(n_samples, 1, n, n)``, float32."""
    gen = torch.Generator().manual_seed(seed)
    k = torch.arange(1, modes + 1, dtype=torch.float64)
    lam = math.pi ** 2 * (k[:, None] ** 2 + k[None, :] ** 2)
    c = torch.randn(n_samples, modes, modes, generator=gen, dtype=torch.float64) / lam.sqrt()
    s = torch.sin(math.pi * k[:, None] * torch.linspace(0, 1, n, dtype=torch.float64)[None])
    f = torch.einsum("bkl,ki,lj->bij", c, s, s)
    u = torch.einsum("bkl,ki,lj->bij", c / lam, s, s)
    return f[:, None].float(), u[:, None].float()


def rel_l2(pred: torch.Tensor, true: torch.Tensor) -> float:
    """Mean relative L2 error over the samples."""
    pred, true = torch.as_tensor(pred), torch.as_tensor(true)
    return float(((pred - true).flatten(1).norm(dim=1) / true.flatten(1).norm(dim=1)).mean())
