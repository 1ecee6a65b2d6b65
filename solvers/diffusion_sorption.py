"""1-D diffusion–sorption with a Freundlich isotherm, finite volumes in space, RK45 in time.

    ∂u/∂t = D / R(u) · ∂²u/∂x²,   R(u) = 1 + (1 − φ)/φ · ρ_s · k · n_f · u^(n_f − 1),
    x ∈ [0, 1], t ∈ [0, 500],  u(0, t) = 1,  u(1, t) = −D ∂u/∂x(1, t),

the PDEBench problem (Takamoto et al., NeurIPS 2022 datasets track, after Praditia et al.'s
FINN): D = 5e-4, φ = 0.29, ρ_s = 2880, k = 3.5e-4, n_f = 0.874, 1024 cells, 101 output times.

Sign of the right boundary: PDEBench's paper writes u(1, t) = D ∂_x u(1, t), but its generator
(FINN's ``rc_ode``) sets the ghost value to D (u[N−2] − u[N−1]) / Δx, i.e. u = −D ∂_x u: an
outflow whose diffusive flux −D ∂_x u equals u. That stable condition is the one used here (the
other sign makes the boundary value blow up as Δx → 2D). As in FINN, R uses (u + 1e-6) so that
R(0) is finite; negative u (undershoot) is clipped to 0 there.

Discretisation: N cells of width Δx = 1/N with centres (i + ½)Δx; fluxes D (u_{i+1} − u_i)/Δx
between cells; at x = 0 the Dirichlet value at half a cell, D (u_0 − 1)/(Δx/2); at x = 1 the
face value u_b = α u_{N−1} / (1 + α), α = 2D/Δx, from u_b = −D (u_b − u_{N−1})/(Δx/2). Second
order in space (tests/solvers/test_diffusion_sorption.py fits the slope). Time: scipy
``solve_ivp`` (RK45 as PDEBench by default; BDF with the tridiagonal sparsity for speed).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse
from jaxtyping import Float
from scipy.integrate import solve_ivp

from sciml.errors import NonFiniteError

__all__ = ["DS_CONSTANTS", "ds_retardation", "ds_initial_condition", "solve_diffusion_sorption"]

DS_CONSTANTS = {"D": 5e-4, "porosity": 0.29, "rho_s": 2880.0, "k_f": 3.5e-4, "n_f": 0.874}
_METHODS = ("RK45", "BDF", "LSODA", "Radau")


def ds_retardation(u: np.ndarray, porosity: float = 0.29, rho_s: float = 2880.0,
                   k_f: float = 3.5e-4, n_f: float = 0.874) -> np.ndarray:
    """Freundlich retardation R(u) = 1 + (1 − φ)/φ ρ_s k n_f (max(u, 0) + 1e-6)^(n_f − 1)."""
    u = np.maximum(np.asarray(u, dtype=np.float64), 0.0)
    return 1.0 + (1.0 - porosity) / porosity * rho_s * k_f * n_f * (u + 1e-6) ** (n_f - 1.0)


def ds_initial_condition(n: int, n_cells: int, low: float = 0.0, high: float = 0.2,
                         seed: int | np.random.Generator | None = 0) -> Float[np.ndarray, "n x"]:
    """Initial states: one constant level per sample, drawn from U(low, high) (PDEBench's range).

    A constant level keeps the field smooth (the left boundary value 1 makes the only front);
    per-cell noise in the same range would leave grid-scale roughness at t = 0.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    _check_cells(n_cells)
    if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low <= high):
        raise ValueError(f"need 0 <= low <= high (finite), got low={low!r}, high={high!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    levels = rng.uniform(low, high, size=n)
    return np.repeat(levels[:, None], n_cells, axis=1)


def _check_cells(n_cells: object) -> int:
    if isinstance(n_cells, bool) or not isinstance(n_cells, (int, np.integer)) or n_cells < 4:
        raise ValueError(f"n_cells must be an integer >= 4, got {n_cells!r}")
    return int(n_cells)


def _positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)) or float(value) <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def solve_diffusion_sorption(
    u0: Float[np.ndarray, "n x"], t_final: float = 500.0, n_times: int = 101,
    method: str = "RK45", rtol: float = 1e-6, atol: float = 1e-8, D: float = 5e-4,
    porosity: float = 0.29, rho_s: float = 2880.0, k_f: float = 3.5e-4, n_f: float = 0.874,
    left_value: float = 1.0,
) -> Float[np.ndarray, "n t x"]:
    """Integrate the diffusion–sorption equation from cell values ``u0`` (see module docstring).

    Args:
        u0: Initial cell values, ``(n, N)`` or ``(N,)``, on N >= 4 cells of [0, 1].
        t_final: Final time (PDEBench: 500).
        n_times: Output times ``linspace(0, t_final, n_times)``, t = 0 included (PDEBench: 101).
        method: ``solve_ivp`` method: ``"RK45"`` (PDEBench), ``"BDF"``, ``"LSODA"``, ``"Radau"``.
        rtol, atol: ``solve_ivp`` tolerances.
        D, porosity, rho_s, k_f, n_f: Physical constants (PDEBench defaults).
        left_value: Dirichlet value at x = 0.

    Returns:
        ``(n, n_times, N)`` float64 cell values (no leading n for a 1-D ``u0``).

    Raises:
        ValueError: bad shapes or parameters. NonFiniteError: the integration failed or blew up.
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {list(_METHODS)}, got {method!r}")
    u = np.asarray(u0, dtype=np.float64)
    single = u.ndim == 1
    u = u[None] if single else u
    if u.ndim != 2:
        raise ValueError(f"u0 must have shape (n, n_cells) or (n_cells,), got {u.shape}")
    n, nx = u.shape
    _check_cells(nx)
    if not np.all(np.isfinite(u)):
        raise ValueError("u0 contains NaN or infinite values")
    t_final = _positive("t_final", t_final)
    for name, v in (("rtol", rtol), ("atol", atol), ("D", D), ("porosity", porosity),
                    ("rho_s", rho_s), ("k_f", k_f), ("n_f", n_f)):
        _positive(name, v)
    if porosity >= 1:
        raise ValueError(f"porosity must be in (0, 1), got {porosity!r}")
    if isinstance(n_times, bool) or not isinstance(n_times, (int, np.integer)) or n_times < 2:
        raise ValueError(f"n_times must be an integer >= 2, got {n_times!r}")
    dx = 1.0 / nx
    alpha = 2.0 * D / dx
    right_factor = alpha / (1.0 + alpha)
    params = dict(porosity=porosity, rho_s=rho_s, k_f=k_f, n_f=n_f)

    def rhs(_t: float, y: np.ndarray) -> np.ndarray:
        c = y.reshape(n, nx)
        flux = np.empty((n, nx + 1))                     # D ∂u/∂x at the N + 1 faces
        flux[:, 1:-1] = D * (c[:, 1:] - c[:, :-1]) / dx
        flux[:, 0] = D * (c[:, 0] - left_value) / (0.5 * dx)
        flux[:, -1] = -right_factor * c[:, -1]           # D ∂u/∂x = −u_b at x = 1
        return ((flux[:, 1:] - flux[:, :-1]) / dx / ds_retardation(c, **params)).ravel()

    kwargs = {}
    if method != "RK45":
        block = scipy.sparse.diags([1.0, 1.0, 1.0], [-1, 0, 1], shape=(nx, nx))
        kwargs["jac_sparsity"] = scipy.sparse.block_diag([block] * n, format="csc")
        if method == "LSODA":
            kwargs.pop("jac_sparsity")
    t_eval = np.linspace(0.0, t_final, int(n_times))
    sol = solve_ivp(rhs, (0.0, t_final), u.ravel(), method=method, t_eval=t_eval, rtol=rtol,
                    atol=atol, **kwargs)
    if not sol.success or sol.y.shape[1] != len(t_eval) or not np.all(np.isfinite(sol.y)):
        raise NonFiniteError(f"diffusion–sorption integration failed ({method}, N={nx}): "
                             f"{sol.message}")
    out = sol.y.reshape(n, nx, len(t_eval)).transpose(0, 2, 1).copy()
    return out[0] if single else out
