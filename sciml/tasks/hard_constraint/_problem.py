"""The problems of the hard-constraint job: the PDE, its grid and initial states, the training
budget, and the reference solutions the test error is measured against (finite volumes for
diffusion–sorption on a 4× finer grid averaged to the model's cells, pseudo-spectral for
Navier–Stokes)."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import torch

from sciml.models import HardConstrainedOperator
from sciml.physics import ConstraintSolveWarning

__all__ = ["HardConstraintProblem", "HardConstraintFit", "problem_data", "mean_relative_l2"]


@dataclasses.dataclass(frozen=True)
class HardConstraintProblem:
    """The PDE and its data: ``problem`` (``diffusion_sorption`` / ``navier_stokes``), ``n_x``
    (cells, or points per side), ``n_t`` (times, t = 0 included), ``t_final`` (None: 500 / 1),
    ``nu`` (NS), ``n_train`` / ``n_test`` initial states, ``seed``."""

    problem: str = "diffusion_sorption"
    n_x: int = 64
    n_t: int = 51
    t_final: float | None = None
    nu: float = 1e-4
    n_train: int = 8
    n_test: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        if self.problem not in ("diffusion_sorption", "navier_stokes"):
            raise ValueError(f"problem must be 'diffusion_sorption' or 'navier_stokes', got "
                             f"{self.problem!r}")
        for name, low in (("n_x", 8), ("n_t", 4), ("n_train", 1), ("n_test", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")

    @property
    def final_time(self) -> float:
        return self.t_final or (500.0 if self.problem == "diffusion_sorption" else 1.0)

    @property
    def grid_shape(self) -> tuple[int, ...]:
        if self.problem == "diffusion_sorption":
            return (self.n_x, self.n_t)
        return (self.n_x, self.n_x, self.n_t)


@dataclasses.dataclass(frozen=True)
class HardConstraintFit:
    """Adam on the physics loss: ``steps``, ``batch``, ``lr`` (paper: 1e-3), ``seed``;
    ``clip_grad_norm``: clip the gradient's global norm (None: no clipping; default 1, as the
    reference code: on diffusion–sorption, 3 seeds, the single hard constraint reached rel L2
    0.066-0.088 with it and 0.64-1.78 without, benchmarks/RESULTS.md); ``checkpoint_every``:
    steps between resumable checkpoints (0: none)."""

    steps: int = 200
    batch: int = 2
    lr: float = 1e-3
    seed: int = 0
    clip_grad_norm: float | None = 1.0
    checkpoint_every: int = 50

    def __post_init__(self) -> None:
        for name in ("steps", "batch"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        v = self.checkpoint_every
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"checkpoint_every must be an integer >= 0, got {v!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        c = self.clip_grad_norm
        if c is not None and (isinstance(c, bool) or not isinstance(c, (int, float))
                              or not math.isfinite(c) or c <= 0):
            raise ValueError(f"clip_grad_norm must be a positive number or null, got {c!r}")


def problem_data(p: HardConstraintProblem, split: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Initial states and (for ``split="test"``) reference solutions on the model's grid."""
    from sciml.solvers import (
        ds_initial_condition,
        ns2d_initial_vorticity,
        solve_diffusion_sorption,
        solve_navier_stokes_2d,
    )

    n = p.n_train if split == "train" else p.n_test
    seed = p.seed + (0 if split == "train" else 1000)
    fine = 4 * p.n_x
    if p.problem == "diffusion_sorption":
        u0 = ds_initial_condition(n, fine, seed=seed)
        if split == "train":
            return torch.tensor(u0[:, ::4]), None
        ref = solve_diffusion_sorption(u0, t_final=p.final_time, n_times=p.n_t, method="BDF",
                                       rtol=1e-8, atol=1e-10)
        ref = ref.reshape(n, p.n_t, p.n_x, 4).mean(-1).transpose(0, 2, 1)
        return torch.tensor(u0[:, ::4]), torch.tensor(ref)
    w0 = ns2d_initial_vorticity(n, fine, seed=seed)
    if split == "train":
        return torch.tensor(w0[:, ::4, ::4]), None
    traj = solve_navier_stokes_2d(w0, p.nu, p.final_time, p.n_t - 1, dt=1e-3)
    full = np.concatenate([w0[:, None], traj], axis=1)[:, :, ::4, ::4]
    return torch.tensor(w0[:, ::4, ::4]), torch.tensor(full.transpose(0, 2, 3, 1))


def mean_relative_l2(model: torch.nn.Module, u0: torch.Tensor, ref: torch.Tensor) -> float:
    """Mean over samples of the relative L2 error ‖u − u_ref‖ / ‖u_ref‖ of ``model(u0)``.

    Samples go one at a time in eval mode; a :class:`HardConstrainedOperator`'s point sampling
    is seeded by the sample index, so the number is reproducible.

    Shapes:
        u0: ``(n, *space)`` initial states; ref: ``(n, *space, n_t)`` reference solutions.
    """
    model.eval()
    errors = []
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstraintSolveWarning)
        for i in range(len(u0)):
            x = u0[i:i + 1].float()
            if isinstance(model, HardConstrainedOperator):
                u = model(x, torch.Generator().manual_seed(i))
            else:
                u = model(x)
            errors.append(float((u - ref[i:i + 1]).norm() / ref[i:i + 1].norm()))
    return float(np.mean(errors))


