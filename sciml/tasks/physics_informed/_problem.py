"""Physics-informed training: problems with reference solutions, the fit configuration, and the
PINN / LPINN objectives (trained by the engine's full-batch mode,
:meth:`sciml.train.Trainer.fit_full_batch`)."""

from __future__ import annotations

import abc
import dataclasses
import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from sciml.errors import ConfigError, DataError
from sciml.models import LPINN, PINN, lagrangian_residuals, lagrangian_to_grid
from sciml.physics import (
    AbstractAdvectionPDE,
    AbstractPDE,
    AutogradDerivatives,
    Burgers1D,
    Convection,
    Expression,
    Reaction,
    ReactionDiffusion,
    get_pde,
    gradient,
    parse_expression,
    sample_box,
)
from sciml.solvers.convection import (
    solve_burgers_periodic,
    solve_convection,
    solve_reaction,
    solve_reaction_diffusion,
)
from sciml.train import FullBatchSchedule

__all__ = [
    "PhysicsProblem",
    "Side",
    "read_reference",
    "FitConfig",
    "PINNObjective",
    "LPINNObjective",
    "reference_solution",
    "make_objective",
    "hammersley_points",
]


_SIDE_KINDS = ("dirichlet", "neumann")


@dataclasses.dataclass(frozen=True)
class Side:
    """The condition at one end of the interval: ``kind`` (``dirichlet``: u = g(t), ``neumann``:
    u_x = g(t)) and g, a safe expression in t (a number is a constant)."""

    kind: str
    value: Expression

    def values(self, t: Tensor) -> Tensor:
        return self.value(t=t)


def _side(spec: Any, where: str) -> Side:
    if isinstance(spec, str):
        spec = {"kind": spec}
    if not isinstance(spec, dict):
        raise ValueError(f"{where} must be 'dirichlet', 'neumann' or a mapping {{kind, value}}, "
                         f"got {spec!r}")
    unknown = sorted(set(spec) - {"kind", "value"})
    if unknown:
        raise ValueError(f"{where} has unknown key {unknown[0]!r}; valid keys: kind, value")
    kind = spec.get("kind", "dirichlet")
    if kind not in _SIDE_KINDS:
        raise ValueError(f"{where}.kind must be one of {list(_SIDE_KINDS)} (or the whole boundary"
                         f" 'periodic'), got {kind!r}")
    return Side(kind, parse_expression(spec.get("value", 0.0), variables=("t",)))


@dataclasses.dataclass(frozen=True)
class PhysicsProblem:
    """A 1-D time-dependent problem: the PDE (registered name + parameters) on [x0, x1] × [t0, t1]
    with its boundary and initial conditions, an optional source and a reference.

    Args:
        pde, params: The registered PDE and its parameters (``sciml.physics``).
        x_range, t_range: The domain.
        boundary: ``"periodic"`` (x1 − x0 is the period); ``"dirichlet"`` (u = 0 at both ends);
            or per side ``{left: SIDE, right: SIDE}`` (or a list ``[SIDE, SIDE]``) with SIDE
            ``{kind: dirichlet | neumann, value: g}``: u = g(t) or u_x = g(t), g a number or a
            safe expression in t (``"-1"``, ``"sin(pi*t)"``).
        initial: u(x, t0) as a number or a safe expression in x (``"x**2 * cos(pi*x)"``); None:
            the PDE's own initial condition.
        source: s(x, t) added to the PDE, u_t = F(u, u_x, u_xx) + s, as a number or an
            expression in x and t; None: none.
        reference: What the error is measured against. None: the exact / spectral solutions of
            :mod:`sciml.solvers` where the problem is their standard one, else the method of
            lines (:func:`sciml.solvers.solve_pde`, stiff BDF, second-order finite differences on
            a fine grid). ``"none"``: no reference; the report gives the mean absolute PDE
            residual on the evaluation grid instead. Or a file ``{path, x, t, u}`` (npz, .mat or
            HDF5; the names of its arrays, default ``x``, ``t``, ``u``; u shaped (x, t) or
            (t, x), as DeepXDE's and Raissi's data): the error is measured on the file's grid.

    Expressions are parsed safely (:func:`sciml.physics.parse_expression`: arithmetic and a fixed
    set of functions; nothing is evaluated as Python).
    """

    pde: str = "convection"
    params: dict = dataclasses.field(default_factory=dict)
    x_range: tuple[float, float] = (0.0, 2 * math.pi)
    t_range: tuple[float, float] = (0.0, 1.0)
    boundary: Any = "periodic"
    initial: Any = None
    source: Any = None
    reference: Any = None

    def __post_init__(self) -> None:
        for name in ("x_range", "t_range"):
            lo, hi = getattr(self, name)
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"inverted or empty {name}: low {lo} >= high {hi}")
        self.sides  # noqa: B018  (parses the boundary: errors at once)
        for name, variables in (("initial", ("x",)), ("source", ("x", "t"))):
            value = getattr(self, name)
            if value is not None:
                try:
                    parse_expression(value, variables=variables)
                except ValueError as e:
                    raise ValueError(f"{name}: {e}") from None
        ref = self.reference
        if ref is not None and ref != "none":
            if not isinstance(ref, dict) or "path" not in ref:
                raise ValueError(f"reference must be null, 'none' or a mapping {{path, x, t, u}},"
                                 f" got {ref!r}")
            unknown = sorted(set(ref) - {"path", "x", "t", "u"})
            if unknown:
                raise ValueError(f"reference has unknown key {unknown[0]!r}; valid keys: path, "
                                 "x, t, u")

    def build_pde(self) -> AbstractPDE:
        return get_pde(self.pde, **dict(self.params))

    @property
    def periodic(self) -> bool:
        return self.boundary == "periodic"

    @property
    def sides(self) -> tuple[Side, Side] | None:
        """The (left, right) conditions; None when periodic."""
        b = self.boundary
        if b == "periodic":
            return None
        if b == "dirichlet":  # u = 0 at both ends
            return _side("dirichlet", "boundary.left"), _side("dirichlet", "boundary.right")
        if isinstance(b, dict):
            unknown = sorted(set(b) - {"left", "right"})
            if unknown or set(b) != {"left", "right"}:
                raise ValueError(f"boundary needs both 'left' and 'right' (got keys "
                                 f"{sorted(b)})")
            return _side(b["left"], "boundary.left"), _side(b["right"], "boundary.right")
        if isinstance(b, (list, tuple)) and len(b) == 2:
            return _side(b[0], "boundary[0]"), _side(b[1], "boundary[1]")
        raise ValueError(f"boundary must be 'periodic', 'dirichlet', {{left, right}} or [left, "
                         f"right], got {b!r}")

    @property
    def standard(self) -> bool:
        """Whether this is the PDE's standard problem of the built-in references: periodic or
        zero Dirichlet ends, the PDE's own initial condition, no source."""
        return (self.boundary in ("periodic", "dirichlet") and self.initial is None
                and self.source is None)

    def initial_values(self, x: Tensor, pde: AbstractPDE | None = None) -> Tensor:
        """u(x, t0) at points ``x`` (n,)."""
        if self.initial is not None:
            return parse_expression(self.initial, variables=("x",))(x=x)
        pde = pde or self.build_pde()
        u0 = pde.initial_condition(x[:, None])
        if u0 is None:
            raise ConfigError(f"PDE {pde.name!r} has no initial condition of its own; give "
                              "problem.initial (an expression in x)")
        return u0

    def source_values(self, x: Tensor, t: Tensor) -> Tensor | None:
        if self.source is None:
            return None
        return parse_expression(self.source, variables=("x", "t"))(x=x, t=t)

    @property
    def length(self) -> float:
        return self.x_range[1] - self.x_range[0]

    def grid(self, n_x: int, n_t: int) -> tuple[np.ndarray, np.ndarray]:
        """Evaluation grid: n_x points in x (end excluded when periodic) and n_t times (ends in)."""
        x0, x1 = self.x_range
        x = x0 + np.arange(n_x) * self.length / n_x if self.periodic \
            else np.linspace(x0, x1, n_x)
        return x, np.linspace(*self.t_range, n_t)


def read_reference(problem: PhysicsProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, t, u (n_t, n_x))`` from ``problem.reference``'s file (npz, .mat or HDF5).

    u may be stored (x, t) or (t, x) (DeepXDE's Allen_Cahn.mat is (t, x), Raissi's data (x, t));
    the shape decides, and a square u is taken as (t, x) unless its file says otherwise."""
    from pathlib import Path

    ref = problem.reference
    path = Path(ref["path"]).expanduser()
    names = {k: ref.get(k, k) for k in ("x", "t", "u")}
    if not path.is_file():
        raise FileNotFoundError(f"no reference file at {path} (problem.reference.path)")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: np.asarray(f[v]) for k, v in names.items() if v in f.files}
        elif path.suffix == ".mat":
            from scipy.io import loadmat

            mat = loadmat(path)
            arrays = {k: np.asarray(mat[v]) for k, v in names.items() if v in mat}
        elif path.suffix in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as f:
                arrays = {k: np.asarray(f[v]) for k, v in names.items() if v in f}
        else:
            raise DataError(f"{path}: unsupported reference format {path.suffix!r} (use .npz, "
                            ".mat or .h5)")
    except (OSError, ValueError, KeyError) as e:
        if isinstance(e, DataError):
            raise
        raise DataError(f"{path}: cannot read the reference ({e})") from e
    missing = [names[k] for k in ("x", "t", "u") if k not in arrays]
    if missing:
        raise DataError(f"{path}: no array {missing[0]!r} (problem.reference names x, t, u)")
    x, t = arrays["x"].astype(np.float64).ravel(), arrays["t"].astype(np.float64).ravel()
    u = np.real(arrays["u"]).astype(np.float64)
    if u.shape == (len(t), len(x)):
        pass
    elif u.shape == (len(x), len(t)):
        u = u.T
    else:
        raise DataError(f"{path}: u has shape {u.shape}, but x has {len(x)} and t {len(t)} "
                        "values")
    if not np.isfinite(u).all():
        raise DataError(f"{path}: u holds NaN or infinite values")
    (x0, x1), (t0, t1) = problem.x_range, problem.t_range
    tol = 1e-9 * max(1.0, abs(x1 - x0))
    if x.min() < x0 - tol or x.max() > x1 + tol or t.min() < t0 - 1e-9 or t.max() > t1 + 1e-9:
        raise DataError(f"{path}: the reference covers x in [{x.min():g}, {x.max():g}], t in "
                        f"[{t.min():g}, {t.max():g}], outside the problem's domain")
    return x, t, u


def _mol_reference(problem: PhysicsProblem, pde: AbstractPDE, x: np.ndarray, t: np.ndarray
                   ) -> np.ndarray:
    """The method of lines on a fine grid (≥ 2049 nodes), interpolated to ``x``."""
    from sciml.solvers import MOLBoundary, solve_pde

    if problem.sides is None:
        left = right = MOLBoundary.parse("periodic")
    else:
        left, right = (MOLBoundary(kind=s.kind, value=s.value) for s in problem.sides)
    n = max(2049, 8 * len(x) + 1)
    initial = None
    if problem.initial is not None:
        initial = parse_expression(problem.initial, variables=("x",))
    else:
        def initial(x: np.ndarray) -> np.ndarray:
            return problem.initial_values(torch.as_tensor(x), pde).numpy()
    source = parse_expression(problem.source, variables=("x", "t")) \
        if problem.source is not None else None
    sol = solve_pde(pde, t - problem.t_range[0], n, domain=problem.x_range, left=left,
                    right=right, u0=initial, source=source)
    return sol.interpolate(x)


def reference_solution(problem: PhysicsProblem, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Reference u on the grid (x, t) → (n_t, n_x), from :mod:`sciml.solvers`.

    The PDE's standard problem (periodic or zero Dirichlet ends, its own initial condition, no
    source): convection(–diffusion) exact Fourier solution; reaction exact logistic;
    reaction–diffusion Strang splitting (Δt = 1e-3); Burgers pseudo-spectral ETDRK4 on a
    4096-point grid (the Dirichlet −sin πx case as the odd, 2-periodic solution), sampled at
    ``x``. Anything else, and a PDE without such a solver: the method of lines
    (:func:`sciml.solvers.solve_pde`) with the problem's conditions and source.
    """
    pde = problem.build_pde()
    if problem.t_range[0] != 0.0:
        raise ConfigError("reference solutions start at t = 0; set problem.t_range = [0, T]")
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    builtin = problem.standard and isinstance(pde, (Burgers1D, Convection, ReactionDiffusion,
                                                     Reaction))
    if not builtin:
        return _mol_reference(problem, pde, x, t)
    if isinstance(pde, Burgers1D):
        n_fine = 4096
        xf = problem.x_range[0] + np.arange(n_fine) * problem.length / n_fine
        u0 = pde.initial_condition(torch.as_tensor(xf)[:, None]).numpy()
        dt = t[1] - t[0] if t.size > 1 else t[0]
        if t.size > 1 and not np.allclose(np.diff(t), dt):
            raise ValueError("the Burgers reference needs equally spaced times")
        uf = solve_burgers_periodic(u0, pde.nu, t, length=problem.length)
        xs = np.concatenate([xf, [problem.x_range[1]]])
        return np.stack([np.interp(x, xs, np.concatenate([r, r[:1]])) for r in uf])
    if not problem.periodic:
        return _mol_reference(problem, pde, x, t)
    x_ref = problem.x_range[0] + np.arange(x.size) * problem.length / x.size
    if not np.allclose(x, x_ref):
        return _mol_reference(problem, pde, x, t)
    u0 = pde.initial_condition(torch.as_tensor(x)[:, None]).numpy()
    if isinstance(pde, Convection):
        return solve_convection(u0, pde.beta, pde.nu, t, length=problem.length)
    if isinstance(pde, ReactionDiffusion):
        return solve_reaction_diffusion(u0, pde.nu, pde.rho, t, length=problem.length)
    return solve_reaction(u0, pde.rho, t)


@dataclasses.dataclass(frozen=True)
class FitConfig:
    """Collocation, loss weights and the Adam → L-BFGS budget of a physics-informed fit.

    n_x × n_t collocation points (``collocation="grid"``: a tensor grid, periodic in x; else
    n_x·n_t points drawn by ``uniform`` / ``lhs`` / ``sobol`` / ``hammersley``, the last the
    deterministic Hammersley set x_i = φ₂(i), t_i = i/(N+1), i = 1..N, φ₂ the base-2 radical
    inverse, DeepXDE's default); ``n_initial`` initial points on a grid (default n_x);
    ``n_boundary`` boundary times (Dirichlet or, for a PINN without periodic embedding,
    periodicity of u); ``resample_every`` > 0 redraws the residual points every so many Adam steps
    by RAD (p ∝ |r| / mean|r| + 1) from 4× as many candidates.

    ``residual_at_data`` (PINN only): the PDE residual is also enforced at the initial and
    boundary points, as in Raissi et al. 2019 (X_f ← [X_f; X_u]) and DeepXDE's ``TimePDE``; the
    residual term is the mean over all of them. Loss = Σ_term w_term · mean(term²).

    ``hard_constraints`` (PINN only): the initial condition and Dirichlet ends hold exactly,
    u = A(x, t) + D(x, t)·N(x, t) with N the network, D = (t − t0)·(x − a)(b − x)/((b − a)/2)²
    vanishing on them and A = u0(x) + Σ_ends (g(t) − g(t0))·(linear in x) taking their values
    (Lagaris, Likas, Fotiadis 1998; DeepXDE's output transform, e.g. its Allen–Cahn example);
    periodic problems: D = t − t0 (periodicity from the embedding). Neumann ends cannot be
    enforced this way (an error); the loss then has the residual term only.

    L-BFGS (``torch.optim.LBFGS``, lr 1, strong-Wolfe line search): ``lbfgs_history`` memory,
    at most ``lbfgs_eval_factor`` × iterations loss evaluations per chunk of ``lbfgs_chunk``
    iterations (DeepXDE and scipy: 1.25), stopping early when max|g| ≤ ``lbfgs_tolerance_grad``
    or the loss/step changes by less than ``lbfgs_tolerance_change`` (DeepXDE: 1e-8 and 0).
    Chunking keeps the L-BFGS memory between chunks (one extra evaluation per chunk).
    """

    n_x: int = 128
    n_t: int = 64
    collocation: str = "grid"
    n_boundary: int = 64
    n_initial: int | None = None
    adam_steps: int = 1000
    lr: float = 1e-3
    lbfgs_steps: int = 500
    lbfgs_chunk: int = 50
    lbfgs_history: int = 50
    weight_residual: float = 1.0
    weight_initial: float = 1.0
    weight_boundary: float = 1.0
    residual_at_data: bool = True
    hard_constraints: bool = False
    lbfgs_eval_factor: float = 3.0
    lbfgs_tolerance_grad: float = 1e-12
    lbfgs_tolerance_change: float = 1e-14
    resample_every: int = 0
    checkpoint_every: int = 250
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        for name in ("n_x", "n_t", "n_boundary", "lbfgs_chunk", "lbfgs_history", "n_initial"):
            v = getattr(self, name)
            if name == "n_initial" and v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive number of points/iterations, "
                                 f"got {v!r}")
        for name in ("adam_steps", "lbfgs_steps", "resample_every", "checkpoint_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {v!r}")
        if self.collocation not in ("grid", "uniform", "lhs", "sobol", "hammersley"):
            raise ValueError(f"collocation must be grid, uniform, lhs, sobol or hammersley, got "
                             f"{self.collocation!r}")
        if not (math.isfinite(self.lbfgs_eval_factor) and self.lbfgs_eval_factor >= 1):
            raise ValueError(f"lbfgs_eval_factor must be >= 1 (loss evaluations per L-BFGS "
                             f"iteration), got {self.lbfgs_eval_factor!r}")
        for name in ("lbfgs_tolerance_grad", "lbfgs_tolerance_change"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        if not isinstance(self.residual_at_data, bool):
            raise ValueError(f"residual_at_data must be true or false, got "
                             f"{self.residual_at_data!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")

    @property
    def torch_dtype(self) -> torch.dtype:
        return torch.float64 if self.dtype == "float64" else torch.float32

    def schedule(self) -> FullBatchSchedule:
        """The engine's full-batch schedule of this fit (Adam, then L-BFGS)."""
        return FullBatchSchedule(
            adam_steps=self.adam_steps, lr=self.lr, lbfgs_steps=self.lbfgs_steps,
            lbfgs_chunk=self.lbfgs_chunk, lbfgs_history=self.lbfgs_history,
            lbfgs_eval_factor=self.lbfgs_eval_factor,
            lbfgs_tolerance_grad=self.lbfgs_tolerance_grad,
            lbfgs_tolerance_change=self.lbfgs_tolerance_change,
            resample_every=self.resample_every)


def _radical_inverse_base2(i: np.ndarray) -> np.ndarray:
    """φ₂(i): the binary digits of the integers ``i`` mirrored about the point (van der Corput)."""
    i = np.asarray(i, dtype=np.int64).copy()
    out, scale = np.zeros(i.shape), 0.5
    while i.any():
        out += (i & 1) * scale
        i >>= 1
        scale /= 2
    return out


def hammersley_points(n: int, lows: list[float], highs: list[float],
                      dtype: torch.dtype = torch.float32) -> Tensor:
    """The 2-D Hammersley set (φ₂(i), i/(n+1)), i = 1..n, mapped to [lows, highs] → (n, 2).

    Hammersley, "Monte Carlo methods for solving multivariable problems", 1960; the origin
    (i = 0) is skipped as in DeepXDE, so no point lies on the initial line t = t0.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of Hammersley points must be an integer >= 1, got {n!r}")
    i = np.arange(1, n + 1)
    unit = np.stack([_radical_inverse_base2(i), i / (n + 1)], 1)
    lo, hi = np.asarray(lows, dtype=np.float64), np.asarray(highs, dtype=np.float64)
    return torch.as_tensor(lo + unit * (hi - lo), dtype=dtype)


def _collocation(problem: PhysicsProblem, cfg: FitConfig, seed: int, n_mult: int = 1) -> Tensor:
    lo = [problem.x_range[0], problem.t_range[0]]
    hi = [problem.x_range[1], problem.t_range[1]]
    if cfg.collocation == "grid" and n_mult == 1:
        x, t = problem.grid(cfg.n_x, cfg.n_t)
        xx, tt = np.meshgrid(x, t, indexing="xy")
        pts = np.stack([xx.ravel(), tt.ravel()], 1)
        return torch.as_tensor(pts, dtype=cfg.torch_dtype)
    if cfg.collocation == "hammersley" and n_mult == 1:
        return hammersley_points(cfg.n_x * cfg.n_t, lo, hi, cfg.torch_dtype)
    # RAD candidates for the deterministic sets are drawn uniformly (seeded by the step)
    method = "uniform" if cfg.collocation in ("grid", "hammersley") else cfg.collocation
    return sample_box(cfg.n_x * cfg.n_t * n_mult, lo, hi, method, seed, cfg.torch_dtype)


class AbstractObjective(abc.ABC):
    """Losses of one model on one problem; subclasses define the residual and predictions."""

    def __init__(self, problem: PhysicsProblem, cfg: FitConfig) -> None:
        self.problem, self.cfg = problem, cfg
        self.pde = problem.build_pde()
        x, _ = problem.grid(cfg.n_initial or cfg.n_x, 2)
        self.x_init = torch.as_tensor(x, dtype=cfg.torch_dtype)
        self.u0 = problem.initial_values(self.x_init, self.pde)
        self.points = _collocation(problem, cfg, cfg.seed)
        self.t_boundary = torch.linspace(*problem.t_range, cfg.n_boundary, dtype=cfg.torch_dtype)
        self.sides = problem.sides
        # boundary values g(t) at the boundary times (constant over training)
        self.g = None if self.sides is None else [
            s.values(self.t_boundary).to(cfg.torch_dtype) for s in self.sides]

    @abc.abstractmethod
    def residual(self, model: torch.nn.Module, points: Tensor) -> Tensor:
        """PDE residual of ``model`` at collocation ``points``."""

    @abc.abstractmethod
    def losses(self, model: torch.nn.Module) -> dict[str, Tensor]:
        """Each loss term (residual, initial, boundary) of ``model``."""

    def resample(self, model: torch.nn.Module, step: int) -> None:
        """RAD: redraw the residual points from 4× candidates with p ∝ |r|/mean|r| + 1."""
        from sciml.physics import residual_resample

        cand = _collocation(self.problem, self.cfg, self.cfg.seed + step, n_mult=4)
        r = self.residual(model, cand).detach()
        self.points = residual_resample(cand, r, self.cfg.n_x * self.cfg.n_t, k=1.0, c=1.0,
                                        seed=self.cfg.seed + step)

    @abc.abstractmethod
    def predict(self, model: torch.nn.Module, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """u on the Eulerian grid ``x`` × ``t``."""


def _mse(r: Tensor) -> Tensor:
    return (r**2).mean()


class PINNObjective(AbstractObjective):
    """Soft-constraint PINN: w_r·mean r² + w_0·mean (u(x,0) − u0)² + w_b·boundary misfit.

    The residual mean runs over the collocation points and, with ``cfg.residual_at_data``, the
    initial and boundary points too (Raissi et al. 2019; DeepXDE)."""

    def __init__(self, problem: PhysicsProblem, cfg: FitConfig) -> None:
        super().__init__(problem, cfg)
        if cfg.hard_constraints and self.sides is not None and any(
                s.kind != "dirichlet" for s in self.sides):
            raise ConfigError("train.hard_constraints enforces the initial condition and "
                              "Dirichlet ends; a Neumann end cannot be enforced this way")

    def field(self, model: PINN, pts: Tensor) -> Tensor:
        """u at ``pts`` (n, 2): the network, through the hard-constraint transform when asked."""
        n = model(pts)[:, 0]
        if not self.cfg.hard_constraints:
            return n
        p = self.problem
        x, t = pts[:, 0], pts[:, 1]
        (a, b), t0 = p.x_range, p.t_range[0]
        known = p.initial_values(x, self.pde)
        dist = t - t0
        if self.sides is not None:
            left, right = self.sides
            start = torch.full_like(t, t0)
            known = known + (left.values(t) - left.values(start)) * (b - x) / (b - a) \
                + (right.values(t) - right.values(start)) * (x - a) / (b - a)
            dist = dist * (x - a) * (b - x) / ((b - a) / 2) ** 2
        return known + dist * n

    def _residual(self, u: Tensor, pts: Tensor) -> Tensor:
        r = self.pde.checked_residual(u, AutogradDerivatives(pts), pts)
        s = self.problem.source_values(pts[:, 0], pts[:, 1])
        return r if s is None else r - s

    def residual(self, model: PINN, points: Tensor) -> Tensor:
        pts = points.clone().requires_grad_(True)
        return self._residual(self.field(model, pts), pts)

    def losses(self, model: PINN) -> dict[str, Tensor]:
        cfg, p = self.cfg, self.problem
        init = torch.stack([self.x_init, torch.full_like(self.x_init, p.t_range[0])], 1)
        tb = self.t_boundary
        left = torch.stack([torch.full_like(tb, p.x_range[0]), tb], 1)
        right = torch.stack([torch.full_like(tb, p.x_range[1]), tb], 1)
        # One forward pass for every point (as DeepXDE): the initial and boundary values are
        # slices of the same output, not separate evaluations of the network.
        pts = torch.cat([self.points, init, left, right]).requires_grad_(True)
        u = self.field(model, pts)
        r = self._residual(u, pts)
        n_col, n_init, n_b = len(self.points), len(init), len(tb)
        u_init = u[n_col:n_col + n_init]
        ends = slice(n_col + n_init, None)
        out = {"residual": cfg.weight_residual * _mse(r if cfg.residual_at_data else r[:n_col])}
        if not cfg.hard_constraints:
            out["initial"] = cfg.weight_initial * _mse(u_init - self.u0)
        if self.sides is not None:
            if not cfg.hard_constraints:
                neumann = any(s.kind == "neumann" for s in self.sides)
                u_x = AutogradDerivatives(pts).dx(u)[ends] if neumann else None
                misfit = []
                for k, (side, g) in enumerate(zip(self.sides, self.g, strict=True)):
                    rows = slice(k * n_b, (k + 1) * n_b)
                    value = u[ends][rows] if side.kind == "dirichlet" else u_x[rows]
                    misfit.append(value - g)
                out["boundary"] = cfg.weight_boundary * _mse(torch.cat(misfit))
        elif not model.config.periodic:
            u_left, u_right = u[ends][:n_b], u[ends][n_b:]
            out["boundary"] = cfg.weight_boundary * _mse(u_left - u_right)
        return out

    def predict(self, model: PINN, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        xx, tt = np.meshgrid(x, t, indexing="xy")
        pts = torch.as_tensor(np.stack([xx.ravel(), tt.ravel()], 1), dtype=self.cfg.torch_dtype)
        with torch.no_grad():
            return self.field(model, pts).double().numpy().reshape(len(t), len(x))


class LPINNObjective(AbstractObjective):
    """Lagrangian PINN: w_r·(mean r_x² + mean r_u²) + w_0·(mean (x_L − x0)² + mean (u − u0)²)
    at t = t0 (Mojgani et al. 2022); the labels x0 are the collocation x-coordinates."""

    def __init__(self, problem: PhysicsProblem, cfg: FitConfig) -> None:
        super().__init__(problem, cfg)
        if not isinstance(self.pde, AbstractAdvectionPDE):
            raise ConfigError(f"PDE {self.pde.name!r} is not of the form u_t + a(u) u_x = "
                              "ν u_xx + f(u); the Lagrangian PINN cannot solve it")
        if problem.source is not None:
            raise ConfigError("problem.source is not supported by the Lagrangian PINN here")
        if cfg.hard_constraints:
            raise ConfigError("train.hard_constraints is for the PINN; the Lagrangian PINN "
                              "takes its conditions as loss terms")
        if not problem.periodic:
            probe = torch.linspace(-10, 10, 41, dtype=torch.float64)
            if bool(self.pde.speed(probe).abs().max() > 0):
                raise ConfigError(f"the Lagrangian PINN on a bounded domain needs a PDE without "
                                  f"advection (a(u) = 0), whose characteristics stay inside; "
                                  f"{self.pde.name!r} moves them (use problem.boundary: "
                                  "periodic, or the PINN)")

    def residual(self, model: LPINN, points: Tensor) -> Tensor:
        r_x, r_u = lagrangian_residuals(model, self.pde, points)
        return r_x.abs() + r_u.abs()

    def losses(self, model: LPINN) -> dict[str, Tensor]:
        cfg, p = self.cfg, self.problem
        r_x, r_u = lagrangian_residuals(model, self.pde, self.points)
        init = torch.stack([self.x_init, torch.full_like(self.x_init, p.t_range[0])], 1)
        x_l, u = model(init)
        out = {
            "residual_x": cfg.weight_residual * _mse(r_x),
            "residual_u": cfg.weight_residual * _mse(r_u),
            "initial_x": cfg.weight_initial * _mse(x_l - self.x_init),
            "initial_u": cfg.weight_initial * _mse(u - self.u0),
        }
        if self.sides is not None:  # characteristics stay put (a = 0): the end labels are ends
            tb = self.t_boundary
            misfit = []
            for side, g, end in zip(self.sides, self.g, p.x_range, strict=True):
                pts = torch.stack([torch.full_like(tb, end), tb], 1).requires_grad_(True)
                _, u_end = model(pts)
                if side.kind == "neumann":
                    u_end = gradient(u_end, pts)[:, 0]
                misfit.append(u_end - g)
            out["boundary"] = cfg.weight_boundary * _mse(torch.cat(misfit))
        return out

    def characteristics(self, model: LPINN, x0: np.ndarray, t: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
        """x_L and u at labels ``x0`` and times ``t``, each (n_t, n_x0)."""
        xx, tt = np.meshgrid(x0, t, indexing="xy")
        pts = torch.as_tensor(np.stack([xx.ravel(), tt.ravel()], 1), dtype=self.cfg.torch_dtype)
        with torch.no_grad():
            x_l, u = model(pts)
        shape = (len(t), len(x0))
        return x_l.double().numpy().reshape(shape), u.double().numpy().reshape(shape)

    def predict(self, model: LPINN, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """u on the Eulerian grid: characteristics from labels on a 2× finer grid, interpolated
        periodically back to ``x`` at each time."""
        labels, _ = self.problem.grid(2 * len(x), 2)
        x_l, u = self.characteristics(model, labels, t)
        if not self.problem.periodic:  # bounded: characteristics in order, no wrap-around
            out = np.empty((len(t), len(x)))
            for k in range(len(t)):
                order = np.argsort(x_l[k])
                out[k] = np.interp(x, x_l[k][order], u[k][order])
            return out
        shifted = lagrangian_to_grid(x_l - self.problem.x_range[0], u,
                                     x - self.problem.x_range[0], self.problem.length)
        return shifted


def make_objective(model: torch.nn.Module, problem: PhysicsProblem,
                   cfg: FitConfig) -> AbstractObjective:
    """The objective matching ``model``: :class:`LPINNObjective` or :class:`PINNObjective`."""
    if isinstance(model, LPINN):
        return LPINNObjective(problem, cfg)
    if isinstance(model, PINN):
        return PINNObjective(problem, cfg)
    raise ConfigError(f"physics-informed training needs a 'pinn' or 'lpinn' model, "
                      f"got {type(model).__name__}")
