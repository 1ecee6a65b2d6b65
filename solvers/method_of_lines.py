"""Reference solutions of 1-D time-dependent PDEs by the method of lines.

Solves u_t = F(u, u_x, u_xx, x, t) (+ a source s(x, t)) on [a, b] for t ≥ t₀, for one field or a
system of c fields, with a boundary condition at each end and an initial condition u₀(x).

Space: the uniform grid x_i = a + i h. Non-periodic: n nodes including both ends,
h = (b − a)/(n − 1). Periodic: n nodes, h = (b − a)/n, x = b is the copy of x = a (as
:func:`sciml.solvers.periodic_grid`). Derivatives are second-order central differences at every
node,

    u_x ≈ (u_{i+1} − u_{i−1}) / 2h,    u_xx ≈ (u_{i+1} − 2u_i + u_{i−1}) / h²,

so F may depend on u, u_x and u_xx at the same node only (no wider stencils). The values u_{−1}
and u_n beyond the ends come from the boundary condition a u + b u_x = g(t) at that end (x along
the axis, not the outward normal; :class:`MOLBoundary`):

- periodic: the wrapped values u_{n−1} and u_0;
- Dirichlet (b = 0): the end node holds g(t)/a and is not an unknown; the equations of the inner
  nodes use it directly;
- Neumann / Robin (b ≠ 0): the end node is an unknown; a ghost node from the centred difference of
  the condition, u_{−1} = u_1 − 2h (g − a u_0)/b at x = a and u_n = u_{n−2} + 2h (g − a u_{n−1})/b
  at x = b, so u_x at the end node is exactly (g − a u)/b.

Every choice is second order, so for smooth solutions max_i |u_i(t) − u(x_i, t)| = O(h²)
(tests/solvers/test_method_of_lines.py fits the slope).

Time: :func:`scipy.integrate.solve_ivp` with a stiff method (BDF or Radau) on the unknown nodal
values, given the sparsity of the Jacobian (each node couples to its two neighbours and, for
systems, to every field there), so the finite-difference Jacobian costs 3c right-hand sides and
its LU decomposition is sparse. The time error is set by ``rtol`` / ``atol``; the defaults make it
small against the spatial error of practical grids.

Registered PDEs of :mod:`sciml.physics` give F through :func:`sciml.solvers.pde_rhs` (it reads the
PDE's residual, see there); :func:`sciml.solvers.solve_pde` also takes their standard domain,
boundary conditions and initial condition.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from jaxtyping import Float
from scipy.integrate import solve_ivp
from scipy.interpolate import CubicSpline

__all__ = ["MOL_BOUNDARY_KINDS", "MOL_METHODS", "MOLBoundary", "MOLSolution",
           "solve_method_of_lines"]

MOL_BOUNDARY_KINDS = ("periodic", "dirichlet", "neumann", "robin")
MOL_METHODS = ("BDF", "Radau")

Rhs = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float], np.ndarray]


def _number(value: object, name: str) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


@dataclasses.dataclass(frozen=True)
class MOLBoundary:
    """The condition at one end of the interval: ``a u + b u_x = value(t)``, or periodic.

    Args:
        kind: ``"periodic"`` (both ends must be), ``"dirichlet"`` (u = value: a = 1, b = 0),
            ``"neumann"`` (u_x = value: a = 0, b = 1) or ``"robin"`` (a and b given, not both 0).
        value: g(t): a number, a callable called as ``value(t=t)`` returning a number (or, for
            a system, one value per field), or for a system a sequence of those, one per field.
            A :func:`sciml.physics.parse_expression` expression in t works as is.
        a, b: Coefficients of u and of u_x (x along the axis, not the outward normal); only for
            ``"robin"``.
    """

    kind: str = "dirichlet"
    value: float | Callable[..., Any] | Sequence[Any] = 0.0
    a: float | None = None
    b: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in MOL_BOUNDARY_KINDS:
            raise ValueError(f"boundary kind must be one of {list(MOL_BOUNDARY_KINDS)}, got "
                             f"{self.kind!r}")
        if self.kind != "robin":
            if self.a is not None or self.b is not None:
                raise ValueError(f"boundary coefficients a, b are for kind 'robin', got kind "
                                 f"{self.kind!r} with a={self.a!r}, b={self.b!r}")
            a, b = {"periodic": (0.0, 0.0), "dirichlet": (1.0, 0.0),
                    "neumann": (0.0, 1.0)}[self.kind]
        else:
            a, b = _number(self.a, "robin boundary a"), _number(self.b, "robin boundary b")
            if a == 0.0 and b == 0.0:
                raise ValueError("a robin boundary needs a or b nonzero, got a = b = 0")
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)
        values = self.value if isinstance(self.value, (list, tuple)) else [self.value]
        for v in values:
            if not callable(v):
                _number(v, "boundary value")

    @classmethod
    def parse(cls, spec: Any, where: str = "boundary") -> MOLBoundary:
        """From a kind (``"periodic"``, ``"dirichlet"`` ... with value 0), a mapping ``{kind,
        value, a, b}``, a :class:`MOLBoundary`, or any object with those attributes (e.g. a
        :class:`sciml.physics.BoundaryCondition`)."""
        if isinstance(spec, MOLBoundary):
            return spec
        if isinstance(spec, str):
            return cls(kind=spec)
        if isinstance(spec, Mapping):
            unknown = sorted(set(spec) - {"kind", "value", "a", "b"})
            if unknown:
                raise ValueError(f"unknown key {where}.{unknown[0]}; valid keys: a, b, kind, "
                                 f"value")
            return cls(**dict(spec))
        if all(hasattr(spec, k) for k in ("kind", "value", "a", "b")):
            if spec.kind == "robin":
                return cls(kind="robin", value=spec.value, a=spec.a, b=spec.b)
            return cls(kind=spec.kind, value=spec.value)
        raise ValueError(f"{where} must be a kind ({', '.join(MOL_BOUNDARY_KINDS)}), a mapping "
                         f"{{kind, value, a, b}} or a MOLBoundary, got {spec!r}")

    def values(self, t: float, n_fields: int) -> np.ndarray:
        """g(t) for each field, shape ``(n_fields,)``."""
        items = self.value if isinstance(self.value, (list, tuple)) else None
        if items is not None and len(items) != n_fields:
            raise ValueError(f"boundary value has {len(items)} entries for {n_fields} fields")
        entries = items if items is not None else [self.value]
        raw = [v(t=t) if callable(v) else v for v in entries]
        out = np.concatenate([np.atleast_1d(np.asarray(r, dtype=np.float64)) for r in raw])
        if out.size == 1:
            out = np.repeat(out, n_fields)
        if out.shape != (n_fields,) or not np.all(np.isfinite(out)):
            raise ValueError(f"boundary value at t = {t:g} must be {n_fields} finite number(s), "
                             f"got {out}")
        return out


@dataclasses.dataclass(frozen=True)
class MOLSolution:
    """The solution on the grid at the requested times.

    Attributes:
        x: ``(n,)`` grid nodes (periodic: without the copy of the first node at ``b``).
        t: ``(m,)`` times.
        u: ``(m, n)`` for one field, ``(m, n, c)`` for c fields.
        domain: ``(a, b)``.
        periodic: Whether the grid is periodic.
        n_rhs: Right-hand-side evaluations the integrator used (cost).
    """

    x: np.ndarray
    t: np.ndarray
    u: np.ndarray
    domain: tuple[float, float]
    periodic: bool
    n_rhs: int

    def interpolate(self, x: Float[np.ndarray, " k"]) -> np.ndarray:
        """u at other points ``x`` (``(k,)``, inside the domain) at every time, by cubic splines
        through the grid values (periodic splines on a periodic grid): ``(m, k)`` or
        ``(m, k, c)``. The spline error is O(h⁴), below the O(h²) of the grid values."""
        xq = np.asarray(x, dtype=np.float64)
        lo, hi = self.domain
        if xq.ndim != 1 or not np.all(np.isfinite(xq)):
            raise ValueError(f"x must be a finite 1-D array, got shape {xq.shape}")
        if np.any(xq < lo - 1e-12 * (hi - lo)) or np.any(xq > hi + 1e-12 * (hi - lo)):
            raise ValueError(f"x must lie in the domain [{lo:g}, {hi:g}], got values in "
                             f"[{xq.min():g}, {xq.max():g}]")
        nodes, values = self.x, self.u
        if self.periodic:
            nodes = np.append(nodes, hi)
            values = np.concatenate([values, values[:, :1]], axis=1)
        spline = CubicSpline(nodes, values, axis=1,
                             bc_type="periodic" if self.periodic else "not-a-knot")
        return spline(np.clip(xq, lo, hi))


def _check_times(t: object, t0: float) -> np.ndarray:
    times = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if times.ndim != 1 or times.size == 0 or not np.all(np.isfinite(times)):
        raise ValueError(f"times must be a non-empty finite 1-D array, got {times!r}")
    if np.any(np.diff(times) < 0) or times[0] < t0:
        raise ValueError(f"times must be non-decreasing and >= t0 = {t0:g}, got {times}")
    return times


def _stencil_pattern(n: int, n_fields: int, periodic: bool, unknown: np.ndarray) -> sp.csr_matrix:
    """Which unknowns each equation depends on: the node, its two neighbours, every field."""
    nodes = sp.diags([1.0, 1.0, 1.0], [-1, 0, 1], shape=(n, n), format="lil")
    if periodic:
        nodes[0, n - 1] = nodes[n - 1, 0] = 1
    full = sp.kron(nodes.tocsr(), np.ones((n_fields, n_fields)), format="csr")
    return full[unknown][:, unknown]


def solve_method_of_lines(rhs: Rhs, u0: np.ndarray | Callable[..., np.ndarray],
                          domain: tuple[float, float], t: Float[np.ndarray, " m"], n: int,
                          left: Any, right: Any, n_fields: int = 1,
                          source: Callable[..., np.ndarray] | None = None,
                          t0: float = 0.0, method: str = "BDF", rtol: float = 1e-8,
                          atol: float = 1e-10) -> MOLSolution:
    """Solve u_t = F(u, u_x, u_xx, x, t) + s(x, t) on ``domain`` (module docstring for the
    scheme).

    Args:
        rhs: F. Called as ``rhs(u, u_x, u_xx, x, t)`` with float64 arrays at all n nodes,
            ``(n,)`` for one field or ``(n, c)`` for c fields, ``x`` ``(n,)`` and the time t; it
            returns u_t of u's shape. It must act pointwise (node i from the values at node i).
            A registered PDE gives it through :func:`sciml.solvers.pde_rhs`.
        u0: Initial values on the grid (``(n,)`` / ``(n, c)``) or a callable called as
            ``u0(x=x)`` with the ``(n,)`` nodes. At Dirichlet ends the boundary value replaces
            u0.
        domain: ``(a, b)``, a < b.
        t: ``(m,)`` non-decreasing output times >= t0.
        n: Grid nodes (>= 3; non-periodic: including both ends).
        left, right: Boundary condition at a and at b (:meth:`MOLBoundary.parse` forms; for a
            system also a sequence with one per field). Periodic must be on both ends.
        n_fields: c, the number of fields.
        source: Optional s(x, t) added to F: a callable called as ``source(x=x, t=t)`` with the
            ``(n,)`` nodes, returning ``(n,)`` or ``(n, c)``. Callables of keyword arguments
            ``x`` / ``t`` let :func:`sciml.physics.parse_expression` expressions be used as
            they are.
        t0: Initial time.
        method: ``"BDF"`` or ``"Radau"`` (stiff, implicit).
        rtol, atol: Tolerances of the time integrator.

    Returns:
        A :class:`MOLSolution` with ``u`` ``(m, n)`` or ``(m, n, c)``.

    Raises:
        ValueError: a bad argument (named); RuntimeError: the integrator failed or the solution
            became non-finite (the time reached is named).
    """
    if not callable(rhs):
        raise TypeError(f"rhs must be a callable F(u, u_x, u_xx, x, t), got {type(rhs).__name__}")
    if isinstance(n_fields, bool) or not isinstance(n_fields, (int, np.integer)) or n_fields < 1:
        raise ValueError(f"n_fields must be an integer >= 1, got {n_fields!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 3:
        raise ValueError(f"n must be an integer >= 3 grid nodes, got {n!r}")
    if method not in MOL_METHODS:
        raise ValueError(f"method must be one of {list(MOL_METHODS)} (stiff), got {method!r}")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if not (_number(tol, name) > 0):
            raise ValueError(f"{name} must be > 0, got {tol!r}")
    if not (isinstance(domain, (tuple, list)) and len(domain) == 2):
        raise ValueError(f"domain must be (a, b), got {domain!r}")
    lo, hi = _number(domain[0], "domain a"), _number(domain[1], "domain b")
    if not lo < hi:
        raise ValueError(f"domain must have a < b, got {domain!r}")
    t0 = _number(t0, "t0")
    times = _check_times(t, t0)
    c, n = int(n_fields), int(n)
    sides = []
    for name, spec in (("left", left), ("right", right)):
        specs = list(spec) if isinstance(spec, (list, tuple)) else [spec] * c
        if len(specs) != c:
            raise ValueError(f"{name} must be one boundary or {c} (one per field), got "
                             f"{len(specs)}")
        sides.append([MOLBoundary.parse(s, where=name) for s in specs])
    kinds = {b.kind == "periodic" for side in sides for b in side}
    if len(kinds) > 1:
        raise ValueError("periodic must be on both ends (and every field) or on none, got "
                         f"left={[b.kind for b in sides[0]]}, right={[b.kind for b in sides[1]]}")
    periodic = kinds == {True}
    h = (hi - lo) / (n if periodic else n - 1)
    x = lo + h * np.arange(n)

    def boundary_values(s: float) -> tuple[np.ndarray, np.ndarray]:
        return (np.stack([b.values(s, c)[k] for k, b in enumerate(sides[0])]),
                np.stack([b.values(s, c)[k] for k, b in enumerate(sides[1])]))

    a_l = np.array([b.a for b in sides[0]])
    b_l = np.array([b.b for b in sides[0]])
    a_r = np.array([b.a for b in sides[1]])
    b_r = np.array([b.b for b in sides[1]])
    fixed = np.zeros((n, c), dtype=bool)         # Dirichlet end nodes: not unknowns
    if not periodic:
        fixed[0] = b_l == 0.0
        fixed[-1] = b_r == 0.0
    unknown = np.flatnonzero(~fixed.ravel())     # node-major order
    robin_l, robin_r = ~fixed[0], ~fixed[-1]

    def full_field(y: np.ndarray, s: float) -> np.ndarray:
        u = np.empty(n * c)
        u[unknown] = y
        u = u.reshape(n, c)
        if not periodic:
            g_l, g_r = boundary_values(s)
            u[0, fixed[0]] = g_l[fixed[0]] / a_l[fixed[0]]
            u[-1, fixed[-1]] = g_r[fixed[-1]] / a_r[fixed[-1]]
        return u

    def derivatives(u: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
        ext = np.empty((n + 2, c))
        ext[1:-1] = u
        if periodic:
            ext[0], ext[-1] = u[-1], u[0]
        else:
            g_l, g_r = boundary_values(s)
            ext[0] = 2 * u[0] - u[1]              # unused where Dirichlet (fixed node)
            ext[-1] = 2 * u[-1] - u[-2]
            ext[0, robin_l] = (u[1] - 2 * h * (g_l - a_l * u[0]) / np.where(
                robin_l, b_l, 1.0))[robin_l]
            ext[-1, robin_r] = (u[-2] + 2 * h * (g_r - a_r * u[-1]) / np.where(
                robin_r, b_r, 1.0))[robin_r]
        u_x = (ext[2:] - ext[:-2]) / (2 * h)
        u_xx = (ext[2:] - 2 * ext[1:-1] + ext[:-2]) / (h * h)
        return u_x, u_xx

    def shaped(v: np.ndarray) -> np.ndarray:
        return v[:, 0] if c == 1 else v

    def evaluate(y: np.ndarray, s: float) -> np.ndarray:
        u = full_field(y, s)
        u_x, u_xx = derivatives(u, s)
        out = np.asarray(rhs(shaped(u), shaped(u_x), shaped(u_xx), x, s), dtype=np.float64)
        if out.shape != shaped(u).shape:
            raise ValueError(f"rhs returned shape {out.shape}, expected u's shape "
                             f"{shaped(u).shape}")
        if source is not None:
            extra = np.asarray(source(x=x, t=s), dtype=np.float64)
            if extra.shape not in ((n,), out.shape):
                raise ValueError(f"source returned shape {extra.shape}, expected ({n},) or "
                                 f"{out.shape}")
            out = out + (extra[:, None] if out.ndim == 2 and extra.ndim == 1 else extra)
        return out.reshape(n * c)[unknown]

    init = np.asarray(u0(x=x) if callable(u0) else u0, dtype=np.float64)
    if init.shape not in ((n, c), (n,) if c == 1 else (n, c)):
        raise ValueError(f"u0 must have shape {(n,) if c == 1 else (n, c)} (grid nodes"
                         f"{'' if c == 1 else ', fields'}), got {init.shape}")
    if not np.all(np.isfinite(init)):
        raise ValueError(f"u0 contains {np.count_nonzero(~np.isfinite(init))} NaN or infinite "
                         f"values")
    y0 = init.reshape(n, c).ravel()[unknown]
    calls = [0, t0]            # right-hand sides, latest time the integrator reached

    def fun(s: float, y: np.ndarray) -> np.ndarray:
        calls[0] += 1
        calls[1] = max(calls[1], s)
        return evaluate(y, s)

    first = fun(t0, y0)
    if not np.all(np.isfinite(first)):
        raise ValueError(f"rhs is not finite at the initial condition (t = {t0:g})")
    if times[-1] == t0:
        states = np.repeat(y0[:, None], times.size, axis=1)
    else:
        result = solve_ivp(fun, (t0, float(times[-1])), y0, method=method, t_eval=times,
                           rtol=rtol, atol=atol,
                           jac_sparsity=_stencil_pattern(n, c, periodic, unknown))
        if result.status != 0:
            reached = calls[1]
            raise RuntimeError(f"method of lines ({method}) failed before t = {times[-1]:g} "
                               f"(reached t = {reached:g}): {result.message}")
        states = result.y
    fields = np.stack([full_field(states[:, j], times[j]) for j in range(times.size)])
    if not np.all(np.isfinite(fields)):
        raise RuntimeError("the method-of-lines solution became non-finite")
    return MOLSolution(x=x, t=times, u=fields[..., 0] if c == 1 else fields,
                       domain=(lo, hi), periodic=periodic, n_rhs=calls[0])
