"""The problems of the hard_constraint job: a recipe's ``problem`` section, its initial states
and its reference solutions, for any registered PDE.

Chalapathi, Du, Krishnapriyan, "Scaling physics-informed hard constraints with
mixture-of-experts", ICLR 2024 (https://arxiv.org/abs/2402.13412). A problem is a registered
PDE with its domain, boundary conditions and grid (:class:`HardConstraintProblem`, which the
job passes to the model as the config keys :data:`sciml.models.HC_PROBLEM_KEYS`), plus the
data: training initial states (no solutions: training is physics-informed) and test initial
states with reference solutions on the model's grid. The data of a PDE come from its
:class:`ProblemSource` (:func:`register_problem_source`):

- ``diffusion_sorption``: constant initial levels from U(0, 0.2) (PDEBench's range), drawn on a
  4× finer grid; reference by finite volumes on that grid, averaged to the model's cells;
- ``navier_stokes_vorticity``: Gaussian random field vorticity on a 4× finer grid (FNO's
  measure), subsampled; reference pseudo-spectral on the fine grid;
- ``burgers``, ``convection``, ``reaction``, ``reaction_diffusion``: the PDE's own initial
  condition (one state, repeated), reference from :mod:`sciml.solvers` (Burgers: ETDRK4
  pseudo-spectral on 4096 points; zero Dirichlet boundaries as the odd periodic extension).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from sciml.models import HardConstrainedOperator, hc_grid_problem
from sciml.physics import (
    PDES,
    BoundaryCondition,
    Burgers1D,
    ConstraintSolveWarning,
    Convection,
    DiffusionSorption,
    GridProblem,
    NavierStokesVorticity,
    Reaction,
    ReactionDiffusion,
)

__all__ = ["HardConstraintProblem", "HardConstraintFit", "ProblemSource",
           "register_problem_source", "fixed_initial_source", "problem_data", "mean_relative_l2",
           "PROBLEM_SOURCES"]


@dataclasses.dataclass(frozen=True)
class HardConstraintProblem:
    """The PDE, its grid and constraints, and its data (a recipe's ``problem`` section).

    - problem: a preset of the paper, ``diffusion_sorption`` or ``navier_stokes`` (None and no
      ``pde``: diffusion_sorption; see :data:`sciml.models.HC_PRESETS`);
    - n_x: points per spatial axis (cells for ``points: cell``);
    - n_t: times, t = 0 included;
    - t_final: T (None: 500 for diffusion_sorption, else 1);
    - nu: viscosity of the ``navier_stokes`` preset (None: 1e-4);
    - n_train / n_test: initial states (a PDE with a fixed initial condition repeats it);
    - seed: of the initial states (test: seed + 1000);
    - pde: a registered PDE (instead of ``problem``), ``params`` its parameters;
    - domain: ``[low, high]`` per spatial axis (None: the PDE's ``domain()``);
    - boundary: per spatial axis one condition or a ``[low, high]`` pair, each ``periodic`` or
      ``{kind: dirichlet|neumann|robin, value, a, b}`` (a u + b ∂u/∂x = value; None: the PDE's
      ``boundary_conditions()``);
    - points: ``vertex`` (the ends of a non-periodic axis are grid points) or ``cell`` (cell
      centres); None: vertex, cell for the diffusion_sorption preset;
    - scale_time: multiply the PDE residual by T (None: no; yes for diffusion_sorption).
    """

    problem: str | None = None
    n_x: int = 64
    n_t: int = 51
    t_final: float | None = None
    nu: float | None = None
    n_train: int = 8
    n_test: int = 4
    seed: int = 0
    pde: str | None = None
    params: dict = dataclasses.field(default_factory=dict)
    domain: tuple[tuple[float, float], ...] | None = None
    boundary: list | None = None
    points: str | None = None
    scale_time: bool | None = None

    def __post_init__(self) -> None:
        for name, low in (("n_x", 8), ("n_t", 4), ("n_train", 1), ("n_test", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
        t = self.t_final
        if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float))
                              or not math.isfinite(t) or t <= 0):
            raise ValueError(f"t_final must be a positive number or null, got {t!r}")
        gp = self.grid_problem()
        _source(gp.pde.name).check(gp)

    def model_values(self) -> dict[str, Any]:
        """The model config keys that describe this problem (plain values)."""
        if self.pde is None:
            out: dict[str, Any] = {"problem": self.problem or "diffusion_sorption",
                                   "nu": 1e-4 if self.nu is None else self.nu}
        else:                       # problem / nu with pde: an error in hc_grid_problem
            out = {"pde": self.pde, **{k: getattr(self, k) for k in ("problem", "nu")
                                       if getattr(self, k) is not None}}
        if self.params:
            out["params"] = dict(self.params)
        for key in ("domain", "boundary", "points", "scale_time"):
            if getattr(self, key) is not None:
                out[key] = _plain(getattr(self, key))
        return out

    def grid_problem(self) -> GridProblem:
        """The :class:`~sciml.physics.GridProblem` (PDE, domain, boundaries, points)."""
        return hc_grid_problem(**self.model_values())[0]

    @property
    def final_time(self) -> float:
        if self.t_final:
            return float(self.t_final)
        return float(hc_grid_problem(**self.model_values())[1]["t_final"])

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return (self.n_x,) * self.grid_problem().pde.spatial_dims + (self.n_t,)


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclasses.dataclass(frozen=True)
class ProblemSource:
    """Where one PDE's initial states and reference solutions come from.

    Args:
        check: Raises ValueError (naming the setting) where the data or the reference solver
            cannot serve the problem (e.g. other boundaries than the solver's); called when the
            recipe is read.
        data: ``(problem, grid_problem, n, seed, reference)`` → initial states ``(n, *space)``
            and, with ``reference``, solutions ``(n, *space, n_t)`` on the model's grid
            (float64 tensors; else None).
    """

    check: Callable[[GridProblem], None]
    data: Callable[[HardConstraintProblem, GridProblem, int, int, bool],
                   tuple[torch.Tensor, torch.Tensor | None]]


PROBLEM_SOURCES: dict[str, ProblemSource] = {}


def register_problem_source(pde: str, source: ProblemSource) -> None:
    """Give the registered PDE ``pde`` its initial states and reference solutions."""
    PDES.get(pde)                                          # ConfigError for an unknown PDE
    if pde in PROBLEM_SOURCES:
        raise ValueError(f"PDE {pde!r} already has a problem source")
    PROBLEM_SOURCES[pde] = source


def _source(pde: str) -> ProblemSource:
    if pde not in PROBLEM_SOURCES:
        raise ValueError(f"no initial states and reference solver for PDE {pde!r} in the "
                         f"hard_constraint job; PDEs with them: "
                         f"{', '.join(sorted(PROBLEM_SOURCES))} (add one with "
                         f"sciml.tasks.register_problem_source)")
    return PROBLEM_SOURCES[pde]


def problem_data(p: HardConstraintProblem, split: str
                 ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Initial states and (for ``split="test"``) reference solutions on the model's grid."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    gp = p.grid_problem()
    n = p.n_train if split == "train" else p.n_test
    seed = p.seed + (0 if split == "train" else 1000)
    return _source(gp.pde.name).data(p, gp, n, seed, split == "test")


def _require(cond: bool, msg: str) -> None:
    if not cond:
        raise ValueError(msg)


def _standard(gp: GridProblem, what: str, points: str | None = None) -> None:
    """The problem is the PDE's standard one (its domain and boundaries; ``points``)."""
    pde = gp.pde
    standard = GridProblem.from_spec(pde, points=gp.points)
    _require(gp.bounds == standard.bounds and gp.boundary == standard.boundary,
             f"the {what} reference solves {pde.name} on its domain {list(standard.bounds)} "
             f"with its boundaries {[[s.spec() for s in pair] for pair in standard.boundary]}; "
             f"got domain {list(gp.bounds)}, boundary "
             f"{[[s.spec() for s in pair] for pair in gp.boundary]}")
    if points is not None:
        _require(gp.points == points, f"the {what} reference needs points: {points} (its grid), "
                                      f"got {gp.points!r}")


# --- diffusion–sorption (PDEBench) and Navier–Stokes (FNO): random initial states -------------

def _ds_data(p: HardConstraintProblem, gp: GridProblem, n: int, seed: int, reference: bool
             ) -> tuple[torch.Tensor, torch.Tensor | None]:
    from sciml.solvers import ds_initial_condition, solve_diffusion_sorption

    pde: DiffusionSorption = gp.pde
    u0 = ds_initial_condition(n, 4 * p.n_x, seed=seed)
    if not reference:
        return torch.tensor(u0[:, ::4]), None
    ref = solve_diffusion_sorption(u0, t_final=p.final_time, n_times=p.n_t, method="BDF",
                                   rtol=1e-8, atol=1e-10, D=pde.D, porosity=pde.porosity,
                                   rho_s=pde.rho_s, k_f=pde.k_f, n_f=pde.n_f,
                                   left_value=pde.left_value)
    ref = ref.reshape(n, p.n_t, p.n_x, 4).mean(-1).transpose(0, 2, 1)
    return torch.tensor(u0[:, ::4]), torch.tensor(ref)


def _ns_data(p: HardConstraintProblem, gp: GridProblem, n: int, seed: int, reference: bool
             ) -> tuple[torch.Tensor, torch.Tensor | None]:
    from sciml.solvers import ns2d_initial_vorticity, solve_navier_stokes_2d

    pde: NavierStokesVorticity = gp.pde
    w0 = ns2d_initial_vorticity(n, 4 * p.n_x, seed=seed)
    if not reference:
        return torch.tensor(w0[:, ::4, ::4]), None
    traj = solve_navier_stokes_2d(w0, pde.nu, p.final_time, p.n_t - 1, dt=1e-3,
                                  forcing="fno" if pde.forcing else None)
    full = np.concatenate([w0[:, None], traj], axis=1)[:, :, ::4, ::4]
    return torch.tensor(w0[:, ::4, ::4]), torch.tensor(full.transpose(0, 2, 3, 1))


register_problem_source("diffusion_sorption", ProblemSource(
    lambda gp: _standard(gp, "finite-volume", points="cell"), _ds_data))
register_problem_source("navier_stokes_vorticity", ProblemSource(
    lambda gp: _standard(gp, "pseudo-spectral"), _ns_data))


# --- 1-D PDEs with a fixed initial condition ------------------------------------------------

def fixed_initial_source(solve: Callable[[GridProblem, np.ndarray, np.ndarray], np.ndarray],
                         check: Callable[[GridProblem], None]) -> ProblemSource:
    """A source for a 1-D PDE with its own initial condition: every state is u₀ on the grid;
    ``solve(grid_problem, x, t)`` gives the reference ``(n_t, n_x)`` at points x, times t."""

    def data(p: HardConstraintProblem, gp: GridProblem, n: int, seed: int, reference: bool
             ) -> tuple[torch.Tensor, torch.Tensor | None]:
        grid = gp.grid(p.grid_shape, p.final_time)
        x = grid.coordinates()[:, 0, :1]                               # (n_x, 1), float64
        u0 = gp.pde.initial_condition(x).to(torch.float64)
        states = u0[None].expand(n, -1).clone()
        if not reference:
            return states, None
        t = np.linspace(0.0, p.final_time, p.n_t)
        ref = torch.as_tensor(solve(gp, x[:, 0].numpy(), t).T, dtype=torch.float64)
        return states, ref[None].expand(n, -1, -1).clone()

    def checked(gp: GridProblem) -> None:
        _require(gp.pde.spatial_dims == 1,
                 f"fixed-initial-condition references are 1-D, PDE {gp.pde.name!r} is not")
        check(gp)

    return ProblemSource(checked, data)


def _periodic(gp: GridProblem, what: str) -> None:
    _require(gp.periodic == (True,), f"the {what} reference is periodic: give boundary "
                                     f"[periodic], got {gp.boundary[0][0].kind!r}")


def _period(gp: GridProblem) -> float:
    lo, hi = gp.bounds[0]
    return hi - lo


def _burgers_check(gp: GridProblem) -> None:
    if gp.periodic == (True,):
        return
    zero = BoundaryCondition("dirichlet", 0.0)
    _require(gp.boundary[0] == (zero, zero),
             "the burgers reference needs periodic or zero Dirichlet boundaries, got "
             f"{[s.spec() for s in gp.boundary[0]]}")
    lo, hi = gp.bounds[0]
    s = torch.linspace(0.0, hi - lo, 257, dtype=torch.float64)[:, None]
    u_lo, u_hi = gp.pde.initial_condition(lo + s), gp.pde.initial_condition(hi - s)
    _require(bool(torch.allclose(u_lo, -u_hi, atol=1e-12)),
             "the burgers reference with zero Dirichlet boundaries solves the odd periodic "
             "extension: u0(low + s) must equal -u0(high - s) (e.g. initial: -sin_pi on "
             "[-1, 1])")


def _burgers_solve(gp: GridProblem, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Periodic ETDRK4 on 4096 points of period high − low (zero Dirichlet: the odd
    extension, whose periodic solution vanishes at both ends), interpolated to ``x``."""
    from sciml.solvers import solve_burgers_periodic

    pde: Burgers1D = gp.pde
    lo, hi = gp.bounds[0]
    n_fine = 4096
    xf = lo + np.arange(n_fine) * (hi - lo) / n_fine
    u0 = pde.initial_condition(torch.as_tensor(xf)[:, None]).numpy()
    uf = solve_burgers_periodic(u0, pde.nu, t, length=hi - lo)
    xs = np.concatenate([xf, [hi]])
    return np.stack([np.interp(x, xs, np.concatenate([row, row[:1]])) for row in uf])


def _convection_solve(gp: GridProblem, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    from sciml.solvers import solve_convection

    pde: Convection = gp.pde
    u0 = pde.initial_condition(torch.as_tensor(x)[:, None]).numpy()
    return solve_convection(u0, pde.beta, pde.nu, t, length=_period(gp))


def _reaction_solve(gp: GridProblem, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    from sciml.solvers import solve_reaction

    pde: Reaction = gp.pde
    return solve_reaction(pde.initial_condition(torch.as_tensor(x)[:, None]).numpy(), pde.rho, t)


def _reaction_diffusion_solve(gp: GridProblem, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    from sciml.solvers import solve_reaction_diffusion

    pde: ReactionDiffusion = gp.pde
    u0 = pde.initial_condition(torch.as_tensor(x)[:, None]).numpy()
    return solve_reaction_diffusion(u0, pde.nu, pde.rho, t, length=_period(gp))


register_problem_source("burgers", fixed_initial_source(_burgers_solve, _burgers_check))
register_problem_source("convection", fixed_initial_source(
    _convection_solve, lambda gp: _periodic(gp, "convection")))
register_problem_source("reaction", fixed_initial_source(_reaction_solve, lambda gp: None))
register_problem_source("reaction_diffusion", fixed_initial_source(
    _reaction_diffusion_solve, lambda gp: _periodic(gp, "reaction_diffusion")))


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


