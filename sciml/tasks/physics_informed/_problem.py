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
    AbstractDerivatives,
    AbstractPDE,
    AutogradDerivatives,
    Burgers1D,
    Convection,
    Expression,
    Jet,
    JetDerivatives,
    JetNeedsAutograd,
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
    "SteadyPINNObjective",
    "reference_solution",
    "read_observations",
    "make_objective",
    "hammersley_points",
]


_SIDE_KINDS = ("dirichlet", "neumann")


def field_expressions(value: Any, variables: tuple[str, ...], n_fields: int, where: str
                      ) -> tuple[Expression, ...]:
    """One safe expression per field: a number or an expression (every field, or the one
    field), or a list of them, one per field of a system."""
    items = list(value) if isinstance(value, (list, tuple)) else None
    if items is None:
        if n_fields > 1 and not isinstance(value, (int, float)):
            raise ValueError(f"{where}: the PDE has {n_fields} fields; give a list of "
                             f"{n_fields} expressions")
        items = [value] * n_fields
    if len(items) != n_fields:
        raise ValueError(f"{where}: {len(items)} expressions for {n_fields} field(s)")
    try:
        return tuple(parse_expression(v, variables=variables) for v in items)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None


def evaluate_fields(exprs: tuple[Expression, ...], **values: Tensor) -> Tensor:
    """The expressions at the points: ``(n,)`` for one field, ``(n, c)`` for a system."""
    out = [e(**values) for e in exprs]
    if len(out) == 1:
        return out[0]
    return torch.stack(out, dim=-1) if isinstance(out[0], Tensor) else np.stack(out, axis=-1)


@dataclasses.dataclass(frozen=True)
class Side:
    """The condition at one end of the interval: ``kind`` (``dirichlet``: u = g(t), ``neumann``:
    u_x = g(t)) and g per field, safe expressions in t (a number is a constant)."""

    kind: str
    value: tuple[Expression, ...]

    def values(self, t: Tensor) -> Tensor:
        return evaluate_fields(self.value, t=t)


def _side(spec: Any, where: str, n_fields: int = 1) -> Side:
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
    return Side(kind, field_expressions(spec.get("value", 0.0), ("t",), n_fields,
                                        f"{where}.value"))


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

    Steady 2-D problems (a steady PDE such as ``poisson`` −Δu = f or ``helmholtz``
    −Δu − k²u = f): give ``y_range``; the domain is [x0, x1] × [y0, y1] (``t_range`` unused),
    ``boundary`` is ``"dirichlet"`` (u = 0) or ``{kind: dirichlet, value: g}`` with g an
    expression in x and y on every edge, ``source`` f an expression in x and y, and the
    reference by default a second-order finite-difference solve
    (:func:`sciml.solvers.solve_poisson_2d`); the evaluation grid's ``n_t`` counts y points.

    Inverse problems: ``unknown`` names PDE parameters to identify, with their starting values
    (``{nu: 0.2}``), trained with the network from ``observations``, a file of observed values
    of the solution ``{path, x, t, u}`` (CSV with those columns, or npz / HDF5 arrays; names
    configurable): the loss gains w_data · mean (u(x_i, t_i) − u_i)², the report names the
    identified values and ``metrics.csv`` their history (``param/<name>`` columns).

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
    y_range: tuple[float, float] | None = None
    unknown: dict | None = None
    observations: dict | None = None

    def __post_init__(self) -> None:
        self._check_inverse()
        if self.y_range is not None:
            self._check_steady()
            return
        for name in ("x_range", "t_range"):
            lo, hi = getattr(self, name)
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"inverted or empty {name}: low {lo} >= high {hi}")
        self.sides  # noqa: B018  (parses the boundary: errors at once)
        for name, variables in (("initial", ("x",)), ("source", ("x", "t"))):
            value = getattr(self, name)
            if value is not None:
                field_expressions(value, variables, self.n_fields, name)
        ref = self.reference
        if ref is not None and ref != "none":
            if not isinstance(ref, dict) or "path" not in ref:
                raise ValueError(f"reference must be null, 'none' or a mapping {{path, x, t, u}},"
                                 f" got {ref!r}")
            unknown = sorted(set(ref) - {"path", "x", "t", "y", "u"})
            if unknown:
                raise ValueError(f"reference has unknown key {unknown[0]!r}; valid keys: path, "
                                 "x, t, u")

    def _check_inverse(self) -> None:
        if self.unknown is None and self.observations is None:
            return
        if self.observations is not None:
            obs = self.observations
            if not isinstance(obs, dict) or "path" not in obs:
                raise ValueError(f"observations must be a mapping {{path, x, t, u}}, got {obs!r}")
            unknown = sorted(set(obs) - {"path", "x", "t", "y", "u"})
            if unknown:
                raise ValueError(f"observations has unknown key {unknown[0]!r}; valid keys: "
                                 "path, x, t, u")
        if self.unknown is None:
            return
        if self.observations is None:
            raise ValueError("unknown coefficients are identified from data: give "
                             "problem.observations {path, x, t, u}")
        if not isinstance(self.unknown, dict) or not self.unknown:
            raise ValueError(f"unknown must map PDE parameters to starting values, got "
                             f"{self.unknown!r}")
        fields = {f.name for f in dataclasses.fields(get_pde(self.pde, **dict(self.params)))}
        for name, start in self.unknown.items():
            if name not in fields:
                raise ValueError(f"unknown parameter {name!r} is not a parameter of PDE "
                                 f"{self.pde!r}; its parameters: {sorted(fields)}")
            if isinstance(start, bool) or not isinstance(start, (int, float)) or \
                    not math.isfinite(start):
                raise ValueError(f"unknown.{name} must be a finite starting value, got "
                                 f"{start!r}")

    def build_pde(self) -> AbstractPDE:
        pde = get_pde(self.pde, **dict(self.params))
        if pde.steady != self.steady:
            raise ConfigError(f"PDE {self.pde!r} is {'steady' if pde.steady else 'time-dependent'}"
                              f": {'give' if pde.steady else 'leave out'} problem.y_range "
                              f"({'steady 2-D' if pde.steady else '1-D in x and t'} problems)")
        return pde

    @property
    def n_fields(self) -> int:
        """Fields of the PDE (2 for a two-species system)."""
        from sciml.physics import PDES

        cls, _ = PDES.get(self.pde)
        return int(cls.n_fields)

    @property
    def steady(self) -> bool:
        """A steady 2-D problem on [x0, x1] × [y0, y1]."""
        return self.y_range is not None

    @property
    def second_range(self) -> tuple[float, float]:
        """The range of the second coordinate: y (steady) or t."""
        return self.y_range if self.steady else self.t_range

    def box(self) -> tuple[list[float], list[float]]:
        """Lower and upper bounds of the coordinates (x, t) or (x, y)."""
        lo, hi = self.second_range
        return [self.x_range[0], lo], [self.x_range[1], hi]

    def _check_steady(self) -> None:
        for name in ("x_range", "y_range"):
            lo, hi = getattr(self, name)
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"inverted or empty {name}: low {lo} >= high {hi}")
        if self.initial is not None:
            raise ValueError("a steady problem (y_range) has no initial condition; leave out "
                             "initial")
        self.edge_values  # noqa: B018  (parses the boundary)
        if self.source is not None:
            try:
                parse_expression(self.source, variables=("x", "y"))
            except ValueError as e:
                raise ValueError(f"source: {e}") from None
        ref = self.reference
        if ref is not None and ref != "none":
            if not isinstance(ref, dict) or "path" not in ref:
                raise ValueError(f"reference must be null, 'none' or a mapping {{path, x, y, u}},"
                                 f" got {ref!r}")

    @property
    def edge_values(self) -> Expression:
        """g(x, y) of a steady problem's Dirichlet boundary (every edge)."""
        b = self.boundary
        if b == "dirichlet":
            return parse_expression(0.0, variables=("x", "y"))
        if isinstance(b, dict) and set(b) <= {"kind", "value"} and \
                b.get("kind", "dirichlet") == "dirichlet":
            return parse_expression(b.get("value", 0.0), variables=("x", "y"))
        raise ValueError(f"a steady problem's boundary must be 'dirichlet' (u = 0) or {{kind: "
                         f"dirichlet, value: g(x, y)}}, got {b!r}")

    @property
    def periodic(self) -> bool:
        return self.boundary == "periodic" and not self.steady

    @property
    def sides(self) -> tuple[Side, Side] | None:
        """The (left, right) conditions; None when periodic (or steady: see ``edge_values``)."""
        b = self.boundary
        if b == "periodic" or self.steady:
            return None
        c = self.n_fields
        if b == "dirichlet":  # u = 0 at both ends
            return _side("dirichlet", "boundary.left", c), _side("dirichlet", "boundary.right", c)
        if isinstance(b, dict):
            unknown = sorted(set(b) - {"left", "right"})
            if unknown or set(b) != {"left", "right"}:
                raise ValueError(f"boundary needs both 'left' and 'right' (got keys "
                                 f"{sorted(b)})")
            return _side(b["left"], "boundary.left", c), _side(b["right"], "boundary.right", c)
        if isinstance(b, (list, tuple)) and len(b) == 2:
            return _side(b[0], "boundary[0]", c), _side(b[1], "boundary[1]", c)
        raise ValueError(f"boundary must be 'periodic', 'dirichlet', {{left, right}} or [left, "
                         f"right], got {b!r}")

    @property
    def standard(self) -> bool:
        """Whether this is the PDE's standard problem of the built-in references: periodic or
        zero Dirichlet ends, the PDE's own initial condition, no source."""
        return (self.boundary in ("periodic", "dirichlet") and self.initial is None
                and self.source is None)

    def initial_values(self, x: Tensor, pde: AbstractPDE | None = None) -> Tensor:
        """u(x, t0) at points ``x`` (n,): ``(n,)``, or ``(n, c)`` for a system."""
        if self.initial is not None:
            return evaluate_fields(field_expressions(self.initial, ("x",), self.n_fields,
                                                     "initial"), x=x)
        pde = pde or self.build_pde()
        u0 = pde.initial_condition(x[:, None])
        if u0 is None:
            raise ConfigError(f"PDE {pde.name!r} has no initial condition of its own; give "
                              "problem.initial (an expression in x)")
        return u0

    def source_values(self, x: Tensor, t: Tensor) -> Tensor | None:
        """s(x, t), or f(x, y) of a steady problem (``t`` then holds y)."""
        if self.source is None:
            return None
        if self.steady:
            return parse_expression(self.source, variables=("x", "y"))(x=x, y=t)
        return evaluate_fields(field_expressions(self.source, ("x", "t"), self.n_fields,
                                                 "source"), x=x, t=t)

    @property
    def length(self) -> float:
        return self.x_range[1] - self.x_range[0]

    def grid(self, n_x: int, n_t: int) -> tuple[np.ndarray, np.ndarray]:
        """Evaluation grid: n_x points in x (end excluded when periodic) and n_t times (ends in);
        for a steady problem n_t points in y."""
        x0, x1 = self.x_range
        x = x0 + np.arange(n_x) * self.length / n_x if self.periodic \
            else np.linspace(x0, x1, n_x)
        return x, np.linspace(*self.second_range, n_t)


def read_reference(problem: PhysicsProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, t, u (n_t, n_x))`` from ``problem.reference``'s file (npz, .mat or HDF5).

    u may be stored (x, t) or (t, x) (DeepXDE's Allen_Cahn.mat is (t, x), Raissi's data (x, t));
    the shape decides, and a square u is taken as (t, x) unless its file says otherwise."""
    from pathlib import Path

    ref = problem.reference
    path = Path(ref["path"]).expanduser()
    second = "y" if problem.steady else "t"
    names = {"x": ref.get("x", "x"), "t": ref.get(second, second), "u": ref.get("u", "u")}
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
    (x0, x1), (t0, t1) = problem.x_range, problem.second_range
    tol = 1e-9 * max(1.0, abs(x1 - x0))
    if x.min() < x0 - tol or x.max() > x1 + tol or t.min() < t0 - 1e-9 or t.max() > t1 + 1e-9:
        raise DataError(f"{path}: the reference covers x in [{x.min():g}, {x.max():g}], t in "
                        f"[{t.min():g}, {t.max():g}], outside the problem's domain")
    return x, t, u


def read_observations(problem: PhysicsProblem) -> tuple[np.ndarray, np.ndarray]:
    """Points ``(n, 2)`` (x, t) and observed values ``(n,)`` from ``problem.observations``: a CSV
    with columns x, t, u (names configurable), or npz / HDF5 arrays of those names."""
    from pathlib import Path

    obs = problem.observations
    path = Path(obs["path"]).expanduser()
    second = "y" if problem.steady else "t"
    fields = obs.get("u", "u")
    fields = list(fields) if isinstance(fields, (list, tuple)) else [fields]
    if len(fields) != problem.n_fields:
        raise ValueError(f"observations.u names {len(fields)} column(s) for the PDE's "
                         f"{problem.n_fields} field(s)")
    names = [obs.get("x", "x"), obs.get(second, second), *fields]
    if not path.is_file():
        raise FileNotFoundError(f"no observations file at {path} (problem.observations.path)")
    try:
        if path.suffix in (".csv", ".txt"):
            import pandas as pd

            frame = pd.read_csv(path)
            missing = [n for n in names if n not in frame.columns]
            if missing:
                raise DataError(f"{path}: no column {missing[0]!r}; columns: "
                                f"{list(frame.columns)}")
            cols = [pd.to_numeric(frame[n], errors="coerce").to_numpy(np.float64) for n in names]
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as f:
                missing = [n for n in names if n not in f.files]
                if missing:
                    raise DataError(f"{path}: no array {missing[0]!r}; arrays: {f.files}")
                cols = [np.asarray(f[n], np.float64).ravel() for n in names]
        elif path.suffix in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as f:
                missing = [n for n in names if n not in f]
                if missing:
                    raise DataError(f"{path}: no dataset {missing[0]!r}")
                cols = [np.asarray(f[n], np.float64).ravel() for n in names]
        else:
            raise DataError(f"{path}: unsupported observations format {path.suffix!r} (use "
                            ".csv, .npz or .h5)")
    except (OSError, ValueError) as e:
        if isinstance(e, DataError):
            raise
        raise DataError(f"{path}: cannot read the observations ({e})") from e
    if len({len(c) for c in cols}) != 1 or len(cols[0]) == 0:
        raise DataError(f"{path}: the columns {names} have lengths {[len(c) for c in cols]}")
    bad = ~np.isfinite(np.stack(cols))
    if bad.any():
        col, row = np.argwhere(bad)[0]
        raise DataError(f"{path}: row {row + 1}, {names[col]!r} is empty or not a number")
    values = cols[2] if len(cols) == 3 else np.stack(cols[2:], 1)
    return np.stack(cols[:2], 1), values


def _mol_reference(problem: PhysicsProblem, pde: AbstractPDE, x: np.ndarray, t: np.ndarray
                   ) -> np.ndarray:
    """The method of lines on a fine grid (≥ 2049 nodes), interpolated to ``x``."""
    from sciml.solvers import MOLBoundary, solve_pde

    if problem.sides is None:
        left = right = MOLBoundary.parse("periodic")
    else:
        left, right = (MOLBoundary(kind=s.kind, value=s.value) for s in problem.sides)
    n = max(2049, 8 * len(x) + 1)

    def initial(x: np.ndarray) -> np.ndarray:
        return np.asarray(problem.initial_values(torch.as_tensor(x), pde))

    source = None
    if problem.source is not None:
        exprs = field_expressions(problem.source, ("x", "t"), problem.n_fields, "source")

        def source(x: np.ndarray, t: float) -> np.ndarray:
            return np.asarray(evaluate_fields(exprs, x=x, t=np.asarray(t)))

    sol = solve_pde(pde, t - problem.t_range[0], n, domain=problem.x_range, left=left,
                    right=right, u0=initial, source=source)
    return sol.interpolate(x)


def _steady_reference(problem: PhysicsProblem, pde: AbstractPDE, x: np.ndarray, y: np.ndarray
                      ) -> np.ndarray:
    """−Δu − k² u = f with Dirichlet data g by second-order finite differences on a fine grid
    (:func:`sciml.solvers.solve_poisson_2d`), interpolated to x × y → (n_y, n_x)."""
    from sciml.solvers import solve_poisson_2d

    k = float(getattr(pde, "k", 0.0))
    f = parse_expression(problem.source if problem.source is not None else 0.0,
                         variables=("x", "y"))
    g = problem.edge_values
    n = max(257, 2 * max(len(x), len(y)) + 1)
    sol = solve_poisson_2d(f, g, x_range=problem.x_range, y_range=problem.y_range,
                           shape=(n, n), wavenumber=k)
    xx, yy = np.meshgrid(x, y, indexing="xy")
    return sol.interpolate(np.stack([xx.ravel(), yy.ravel()], 1)).reshape(len(y), len(x))


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
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if problem.steady:
        return _steady_reference(problem, pde, x, t)
    if problem.t_range[0] != 0.0:
        raise ConfigError("reference solutions start at t = 0; set problem.t_range = [0, T]")
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
    by RAD (p ∝ |r| / mean|r| + 1) from 4× as many candidates, and ``lbfgs_resample_every`` > 0
    every so many L-BFGS iterations (clearing its memory), as Wu et al. (CMAME 2023) alternate
    new points and L-BFGS.

    ``residual_at_data`` (PINN only): the PDE residual is also enforced at the initial and
    boundary points, as in Raissi et al. 2019 (X_f ← [X_f; X_u]) and DeepXDE's ``TimePDE``; the
    residual term is the mean over all of them. Loss = Σ_term w_term · mean(term²).

    ``hard_constraints`` (PINN only): the initial condition and Dirichlet ends hold exactly,
    u = A(x, t) + D(x, t)·N(x, t) with N the network, D = (t − t0)·(x − a)(b − x)/((b − a)/2)²
    vanishing on them and A = u0(x) + Σ_ends (g(t) − g(t0))·(linear in x) taking their values
    (Lagaris, Likas, Fotiadis 1998; DeepXDE's output transform, e.g. its Allen–Cahn example);
    periodic problems: D = t − t0 (periodicity from the embedding). Neumann ends cannot be
    enforced this way (an error); the loss then has the residual term only.

    L-BFGS (``torch.optim.LBFGS``'s algorithm, lr 1, strong-Wolfe line search):
    ``lbfgs_history`` memory, at most ``lbfgs_eval_factor`` × iterations loss evaluations per
    chunk of ``lbfgs_chunk`` iterations (DeepXDE and scipy: 1.25), stopping early when
    max|g| ≤ ``lbfgs_tolerance_grad`` or the loss/step changes by less than
    ``lbfgs_tolerance_change`` (DeepXDE: 1e-8 and 0). Chunking keeps the L-BFGS memory between
    chunks (one extra evaluation per chunk).

    ``derivatives``: how the residual's derivatives are computed. ``autograd`` (default)
    differentiates the network's backward pass again (nested reverse mode, as DeepXDE);
    ``jet`` carries u, ∇u and the spatial ∂²u/∂x_a² forward through the network
    (:class:`sciml.physics.Jet`, Taylor mode; PINN and Lagrangian PINN with smooth
    activations), so the parameter gradient is one backward pass. Both give the same residual
    to rounding (tests/physics/test_jet.py); on a CPU the jet measured no faster (see
    :mod:`sciml.physics._jet`).
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
    weight_data: float = 1.0
    lbfgs_eval_factor: float = 3.0
    lbfgs_tolerance_grad: float = 1e-12
    lbfgs_tolerance_change: float = 1e-14
    resample_every: int = 0
    lbfgs_resample_every: int = 0
    checkpoint_every: int = 250
    seed: int = 0
    dtype: str = "float32"
    derivatives: str = "autograd"

    def __post_init__(self) -> None:
        if self.derivatives not in ("autograd", "jet"):
            raise ValueError(f"derivatives must be autograd or jet, got {self.derivatives!r}")
        for name in ("n_x", "n_t", "n_boundary", "lbfgs_chunk", "lbfgs_history", "n_initial"):
            v = getattr(self, name)
            if name == "n_initial" and v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive number of points/iterations, "
                                 f"got {v!r}")
        for name in ("adam_steps", "lbfgs_steps", "resample_every", "lbfgs_resample_every",
                     "checkpoint_every"):
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
            resample_every=self.resample_every,
            lbfgs_resample_every=self.lbfgs_resample_every)


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
    lo, hi = problem.box()
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
        self.u0 = None if problem.steady else problem.initial_values(self.x_init, self.pde)
        self.points = _collocation(problem, cfg, cfg.seed)
        self.t_boundary = torch.linspace(*problem.t_range, cfg.n_boundary, dtype=cfg.torch_dtype)
        self.unknown: dict[str, Tensor] = {}  # the task's trainable coefficients (inverse)
        self.observed = None
        if problem.observations is not None:
            pts, values = read_observations(problem)
            self.observed = (torch.tensor(pts, dtype=cfg.torch_dtype),
                             torch.tensor(values, dtype=cfg.torch_dtype))
        self.sides = problem.sides
        # boundary values g(t) at the boundary times (constant over training)
        self.g = None if self.sides is None else [
            s.values(self.t_boundary).to(cfg.torch_dtype) for s in self.sides]

    def uses_jet(self, model: torch.nn.Module) -> bool:
        """Whether the residual's derivatives are carried forward (``train.derivatives: jet``);
        a ConfigError if the model cannot carry them."""
        if self.cfg.derivatives != "jet":
            return False
        if not getattr(model, "supports_jet", False):
            what = ("a PINN with a smooth activation" if isinstance(model, PINN)
                    else "a model with smooth activations")
            raise ConfigError(f"train.derivatives: jet needs {what} (tanh, sigmoid, silu, "
                              f"gelu); this model has "
                              f"{getattr(getattr(model, 'config', None), 'activation', '?')!r}")
        return True

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

    def residual_pde(self) -> AbstractPDE:
        """The PDE with the unknown coefficients set to their current (trainable) values."""
        if not self.unknown:
            return self.pde
        import copy

        pde = copy.copy(self.pde)
        for name, value in self.unknown.items():
            object.__setattr__(pde, name, value)  # a tensor: the residual is differentiable in it
        return pde

    def __init__(self, problem: PhysicsProblem, cfg: FitConfig) -> None:
        super().__init__(problem, cfg)
        if cfg.hard_constraints and self.sides is not None and any(
                s.kind != "dirichlet" for s in self.sides):
            raise ConfigError("train.hard_constraints enforces the initial condition and "
                              "Dirichlet ends; a Neumann end cannot be enforced this way")

    def _transform(self, pts: Tensor, vector: bool) -> tuple[Tensor, Tensor] | None:
        """(A, D) of the hard-constraint transform u = A + D·N at ``pts``; None without."""
        if not self.cfg.hard_constraints:
            return None
        p = self.problem
        x, t = pts[:, 0], pts[:, 1]
        (a, b), t0 = p.x_range, p.t_range[0]
        known = p.initial_values(x, self.pde)
        dist = t - t0
        if self.sides is not None:
            left, right = self.sides
            start = torch.full_like(t, t0)
            xs = x[:, None] if vector else x
            known = known + (left.values(t) - left.values(start)) * (b - xs) / (b - a) \
                + (right.values(t) - right.values(start)) * (xs - a) / (b - a)
            dist = dist * (x - a) * (b - x) / ((b - a) / 2) ** 2
        return known, (dist[:, None] if vector else dist)

    def field(self, model: PINN, pts: Tensor) -> Tensor:
        """u at ``pts`` (n, 2): ``(n,)``, or ``(n, c)`` for a system; the network, through the
        hard-constraint transform when asked."""
        n = model(pts)
        n = n[:, 0] if n.shape[1] == 1 else n
        parts = self._transform(pts, n.dim() == 2)
        return n if parts is None else parts[0] + parts[1] * n

    def field_jet(self, model: PINN, pts: Tensor) -> Jet:
        """The jet of :meth:`field` at ``pts``: u with ∇u and the pure second derivatives along
        the spatial axes, carried forward through the network (the transform's parameter-free
        A and D by autograd, then the product rule)."""
        axes = tuple(range(self.pde.spatial_dims))
        jet = model.forward_jet(pts, axes)
        if jet.value.shape[1] == 1:
            jet = jet[:, 0]
        if not self.cfg.hard_constraints:
            return jet
        cached = getattr(self, "_transform_jets", None)
        if cached is None or cached[0] is not pts:  # the same loss points: A and D are fixed
            aux = pts.detach().requires_grad_(True)
            parts = self._transform(aux, jet.value.dim() == 2)
            cached = (pts, *(Jet.lift(v, aux, axes) for v in parts))
            self._transform_jets = cached
        return cached[1] + cached[2] * jet

    def _loss_points(self, *extra: Tensor) -> Tensor:
        """The collocation points followed by ``extra`` (built once while the collocation
        points stay the same, unmodified tensor; RAD resampling replaces them)."""
        cached = getattr(self, "_loss_points_cache", None)
        # the same tensor, not written in place since (a resumed checkpoint loads into it)
        if cached is None or cached[0] is not self.points or cached[1] != self.points._version:
            cached = (self.points, self.points._version, torch.cat([self.points, *extra]))
            self._loss_points_cache = cached
        return cached[2]

    def derivatives(self, model: PINN, pts: Tensor) -> tuple[Tensor, AbstractDerivatives]:
        """u at ``pts`` and the derivatives object of its residual: forward (a jet) or by
        autograd (on a copy of ``pts`` that requires grad, ``d.coords``), as
        :meth:`uses_jet` says."""
        steady = self.pde.steady
        if self.uses_jet(model):
            jet = self.field_jet(model, pts)
            return jet.value, JetDerivatives(jet, pts, steady=steady)
        if not pts.requires_grad:
            pts = pts.detach().requires_grad_(True)
        return self.field(model, pts), AutogradDerivatives(pts, steady=steady)

    def field_and_residual(self, model: PINN, pts: Tensor
                           ) -> tuple[Tensor, AbstractDerivatives, Tensor]:
        """u, its derivatives object and the residual at ``pts``; with ``derivatives: jet``, a
        residual that needs a derivative outside the jet (a user's PDE differentiating a
        function of u) is a ConfigError naming the PDE."""
        u, d = self.derivatives(model, pts)
        try:
            return u, d, self._residual(u, pts, d)
        except JetNeedsAutograd as err:
            raise ConfigError(f"train.derivatives: jet: the residual of {self.pde.name!r} "
                              f"needs a derivative the jet does not carry ({err}); use "
                              "derivatives: autograd") from None

    def _residual(self, u: Tensor, pts: Tensor, d: AbstractDerivatives) -> Tensor:
        r = self.residual_pde().checked_residual(u, d, pts)
        s = self.problem.source_values(pts[:, 0], pts[:, 1])
        return r if s is None else r - s

    def residual(self, model: PINN, points: Tensor) -> Tensor:
        return self.field_and_residual(model, points.detach())[2]

    def losses(self, model: PINN) -> dict[str, Tensor]:
        cfg, p = self.cfg, self.problem
        init = torch.stack([self.x_init, torch.full_like(self.x_init, p.t_range[0])], 1)
        tb = self.t_boundary
        left = torch.stack([torch.full_like(tb, p.x_range[0]), tb], 1)
        right = torch.stack([torch.full_like(tb, p.x_range[1]), tb], 1)
        # One forward pass for every point (as DeepXDE): the initial and boundary values are
        # slices of the same output, not separate evaluations of the network.
        pts = self._loss_points(init, left, right)
        u, d, r = self.field_and_residual(model, pts)
        n_col, n_init, n_b = len(self.points), len(init), len(tb)
        u_init = u[n_col:n_col + n_init]
        ends = slice(n_col + n_init, None)
        out = {"residual": cfg.weight_residual * _mse(r if cfg.residual_at_data else r[:n_col])}
        if not cfg.hard_constraints:
            out["initial"] = cfg.weight_initial * _mse(u_init - self.u0)
        if self.sides is not None:
            if not cfg.hard_constraints:
                neumann = any(s.kind == "neumann" for s in self.sides)
                u_x = d.dx(u)[ends] if neumann else None
                misfit = []
                for k, (side, g) in enumerate(zip(self.sides, self.g, strict=True)):
                    rows = slice(k * n_b, (k + 1) * n_b)
                    value = u[ends][rows] if side.kind == "dirichlet" else u_x[rows]
                    misfit.append(value - g)
                out["boundary"] = cfg.weight_boundary * _mse(torch.cat(misfit))
        elif not model.config.periodic:
            u_left, u_right = u[ends][:n_b], u[ends][n_b:]
            out["boundary"] = cfg.weight_boundary * _mse(u_left - u_right)
        self._add_data(model, out)
        return out

    def _add_data(self, model: PINN, out: dict[str, Tensor]) -> None:
        if self.observed is not None:
            pts, values = self.observed
            out["data"] = self.cfg.weight_data * _mse(self.field(model, pts) - values)

    def predict(self, model: PINN, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        xx, tt = np.meshgrid(x, t, indexing="xy")
        pts = torch.as_tensor(np.stack([xx.ravel(), tt.ravel()], 1), dtype=self.cfg.torch_dtype)
        with torch.no_grad():
            u = self.field(model, pts).double().numpy()
        return u.reshape(len(t), len(x), *u.shape[1:])


class SteadyPINNObjective(PINNObjective):
    """PINN on a steady 2-D problem: w_r·mean r² + w_b·mean (u − g)² on the edges, r = the PDE's
    residual minus the source f(x, y) (Raissi et al. 2019; DeepXDE's ``PDE`` data); with
    ``hard_constraints`` u = g(x, y) + D(x, y)·N, D = (x − a)(b − x)(y − c)(d − y) normalised, so
    u = g on every edge (g, an expression, extends itself inside)."""

    def __init__(self, problem: PhysicsProblem, cfg: FitConfig) -> None:
        AbstractObjective.__init__(self, problem, cfg)
        self.g = problem.edge_values
        (a, b), (c, d) = problem.x_range, problem.y_range
        m = cfg.n_boundary
        sx = torch.linspace(a, b, m + 1, dtype=cfg.torch_dtype)[:-1]
        sy = torch.linspace(c, d, m + 1, dtype=cfg.torch_dtype)[:-1]
        edges = [torch.stack([sx, torch.full_like(sx, c)], 1),            # bottom, left to right
                 torch.stack([torch.full_like(sy, b), sy], 1),            # right, upwards
                 torch.stack([sx.flip(0) + (b - a) / m, torch.full_like(sx, d)], 1),  # top
                 torch.stack([torch.full_like(sy, a), sy.flip(0) + (d - c) / m], 1)]  # left
        self.edge_points = torch.cat(edges)
        self.edge_targets = self.g(x=self.edge_points[:, 0], y=self.edge_points[:, 1])

    def _transform(self, pts: Tensor, vector: bool) -> tuple[Tensor, Tensor] | None:
        if not self.cfg.hard_constraints:
            return None
        (a, b), (c, d) = self.problem.x_range, self.problem.y_range
        x, y = pts[:, 0], pts[:, 1]
        dist = (x - a) * (b - x) * (y - c) * (d - y) / (((b - a) / 2) ** 2 * ((d - c) / 2) ** 2)
        return self.g(x=x, y=y), dist

    def field(self, model: PINN, pts: Tensor) -> Tensor:
        n = model(pts)[:, 0]
        parts = self._transform(pts, False)
        return n if parts is None else parts[0] + parts[1] * n

    def losses(self, model: PINN) -> dict[str, Tensor]:
        cfg = self.cfg
        n_col = len(self.points)
        pts = self._loss_points(self.edge_points)
        u, d, r = self.field_and_residual(model, pts)
        out = {"residual": cfg.weight_residual * _mse(r if cfg.residual_at_data else r[:n_col])}
        if not cfg.hard_constraints:
            out["boundary"] = cfg.weight_boundary * _mse(u[n_col:] - self.edge_targets)
        self._add_data(model, out)
        return out


class LPINNObjective(AbstractObjective):
    """Lagrangian PINN: w_r·(mean r_x² + mean r_u²) + w_0·(mean (x_L − x0)² + mean (u − u0)²)
    at t = t0 (Mojgani et al. 2022); the labels x0 are the collocation x-coordinates."""

    def __init__(self, problem: PhysicsProblem, cfg: FitConfig) -> None:
        super().__init__(problem, cfg)
        if not isinstance(self.pde, AbstractAdvectionPDE):
            raise ConfigError(f"PDE {self.pde.name!r} is not of the form u_t + a(u) u_x = "
                              "ν u_xx + f(u); the Lagrangian PINN cannot solve it")
        if problem.n_fields != 1:
            raise ConfigError("the Lagrangian PINN here solves one field; use the PINN for a "
                              "system")
        if problem.source is not None or problem.unknown is not None:
            raise ConfigError("problem.source and inverse problems (problem.unknown) are for the "
                              "PINN; the Lagrangian PINN here does not take them")
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
        r_x, r_u = lagrangian_residuals(model, self.pde, points, jet=self.uses_jet(model))
        return r_x.abs() + r_u.abs()

    def losses(self, model: LPINN) -> dict[str, Tensor]:
        cfg, p = self.cfg, self.problem
        r_x, r_u = lagrangian_residuals(model, self.pde, self.points, jet=self.uses_jet(model))
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
    """The objective matching ``model`` and the problem: :class:`LPINNObjective`,
    :class:`PINNObjective` or (steady 2-D problems) :class:`SteadyPINNObjective`."""
    if isinstance(model, LPINN):
        if problem.steady:
            raise ConfigError("the Lagrangian PINN is for time-dependent problems; use the PINN "
                              "for a steady problem (y_range)")
        return LPINNObjective(problem, cfg)
    if isinstance(model, PINN):
        return SteadyPINNObjective(problem, cfg) if problem.steady else \
            PINNObjective(problem, cfg)
    raise ConfigError(f"physics-informed training needs a 'pinn' or 'lpinn' model, "
                      f"got {type(model).__name__}")
