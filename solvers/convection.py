"""Reference solutions of 1-D periodic problems: convection–diffusion (exact), logistic reaction
(exact), reaction–diffusion (Strang splitting), and Burgers on [0, L) through the spectral solver.

Convection–diffusion u_t + β u_x = ν u_xx on [0, L) periodic is diagonal in Fourier space,
û_k(t) = û_k(0) exp(−(i β κ + ν κ²) t) with κ = 2π k / L, so the solution is exact in time for
any initial condition sampled on the grid (and exact in space for band-limited ones such as
sin x). Reaction–diffusion u_t = ν u_xx + ρ u (1 − u) is split as in Krishnapriyan et al.,
"Characterizing possible failure modes in physics-informed neural networks", NeurIPS 2021:
half a step of the exact logistic reaction, a full exact diffusion step in Fourier space, half a
reaction step (Strang, second order in Δt).
"""

from __future__ import annotations

import math

import numpy as np
from jaxtyping import Float

__all__ = [
    "periodic_grid",
    "solve_convection",
    "solve_reaction",
    "solve_reaction_diffusion",
    "solve_burgers_periodic",
]


def _positive(value: object, name: str, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


def _real_field(u0: object, name: str = "u0") -> np.ndarray:
    u = np.asarray(u0, dtype=np.float64)
    if u.ndim != 1 or u.size < 2:
        raise ValueError(f"{name} must be a 1-D array of >= 2 grid values, got shape {u.shape}")
    if not np.all(np.isfinite(u)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return u


def _times(t: object) -> np.ndarray:
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError(f"times must be finite and >= 0, got {t}")
    return t


def periodic_grid(n: int, length: float = 2 * math.pi) -> Float[np.ndarray, " n"]:
    """The periodic grid x_i = i L / n, i = 0..n−1 (the end point L is the copy of 0)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    return np.arange(n) * (_positive(length, "length") / n)


def _wavenumbers(n: int, length: float) -> np.ndarray:
    return 2 * math.pi * np.fft.rfftfreq(n, d=length / n)


def solve_convection(u0: Float[np.ndarray, " n"], beta: float, nu: float,
                     t: Float[np.ndarray, " m"], length: float = 2 * math.pi
                     ) -> Float[np.ndarray, "m n"]:
    """Exact solution of u_t + β u_x = ν u_xx, periodic on [0, L), at the times ``t``.

    Args:
        u0: (n,) initial values on :func:`periodic_grid` (n, L).
        beta: Convection speed (any sign).
        nu: Diffusivity (>= 0).
        t: (m,) times >= 0.
        length: Period L.

    Returns:
        (m, n) solution, exact for the trigonometric interpolant of ``u0``. The Nyquist mode of an
        even n cannot represent a travelling wave; it is kept as its real part (standard).
    """
    u0 = _real_field(u0)
    if not (isinstance(beta, (int, float, np.integer, np.floating)) and math.isfinite(beta)):
        raise ValueError(f"beta must be a finite number, got {beta!r}")
    nu = _positive(nu, "nu", allow_zero=True)
    t = _times(t)
    length = _positive(length, "length")
    n = u0.size
    kappa = _wavenumbers(n, length)
    u_hat = np.fft.rfft(u0)
    factor = np.exp(-(1j * beta * kappa[None, :] + nu * kappa[None, :] ** 2) * t[:, None])
    return np.fft.irfft(u_hat[None, :] * factor, n=n, axis=1)


def solve_reaction(u0: Float[np.ndarray, "..."], rho: float, t: Float[np.ndarray, " m"]
                   ) -> Float[np.ndarray, "m ..."]:
    """Exact logistic reaction u_t = ρ u (1 − u): u = u0 e^{ρt} / (u0 e^{ρt} + 1 − u0).

    Args:
        u0: Initial values (any shape), usually in [0, 1].
        rho: Growth rate (any finite sign).
        t: (m,) times >= 0.

    Returns:
        (m, *u0.shape) solution.
    """
    u0 = np.asarray(u0, dtype=np.float64)
    if not np.all(np.isfinite(u0)):
        raise ValueError("u0 contains NaN or infinite values")
    if not (isinstance(rho, (int, float, np.integer, np.floating)) and math.isfinite(rho)):
        raise ValueError(f"rho must be a finite number, got {rho!r}")
    t = _times(t)
    growth = np.exp(rho * t).reshape((-1,) + (1,) * u0.ndim)
    num = u0 * growth
    den = num + 1 - u0  # monotone in t and 1 at t = 0: a zero before t means a blow-up
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = num / den
    if not np.all(np.isfinite(out)) or np.any(den <= 0):
        raise ValueError("the logistic solution blows up in finite time for these u0 (u0 < 0 or "
                         "u0 > 1 with this rho); pick u0 in [0, 1]")
    return out


def solve_reaction_diffusion(u0: Float[np.ndarray, " n"], nu: float, rho: float,
                             t: Float[np.ndarray, " m"], length: float = 2 * math.pi,
                             dt: float = 1e-3) -> Float[np.ndarray, "m n"]:
    """u_t = ν u_xx + ρ u (1 − u), periodic on [0, L), by Strang splitting.

    Each step: exact reaction for Δt/2, exact (Fourier) diffusion for Δt, exact reaction for Δt/2;
    second order in Δt. Steps between requested times are shortened to hit them exactly.

    Args:
        u0: (n,) initial values on :func:`periodic_grid`.
        nu: Diffusivity (>= 0).
        rho: Reaction rate.
        t: (m,) non-decreasing times >= 0.
        length: Period L.
        dt: Largest step.

    Returns:
        (m, n) solution at the times ``t``.
    """
    u = _real_field(u0).copy()
    nu = _positive(nu, "nu", allow_zero=True)
    dt = _positive(dt, "dt")
    t = _times(t)
    if np.any(np.diff(t) < 0):
        raise ValueError(f"times must be non-decreasing, got {t}")
    kappa = _wavenumbers(u.size, _positive(length, "length"))
    out = np.empty((t.size, u.size))
    now = 0.0
    for j, target in enumerate(t):
        span = target - now
        steps = max(1, math.ceil(span / dt - 1e-12)) if span > 0 else 0
        for _ in range(steps):
            h = span / steps
            u = solve_reaction(u, rho, [h / 2])[0]
            u = np.fft.irfft(np.fft.rfft(u) * np.exp(-nu * kappa**2 * h), n=u.size)
            u = solve_reaction(u, rho, [h / 2])[0]
        now = target
        out[j] = u
    return out


def solve_burgers_periodic(u0: Float[np.ndarray, " n"], nu: float, t: Float[np.ndarray, " m"],
                           length: float = 2 * math.pi) -> Float[np.ndarray, "m n"]:
    """Viscous Burgers u_t + u u_x = ν u_xx on [0, L) periodic, at the times ``t``.

    Rescales to the unit-period solver :func:`sciml.solvers.solve_burgers` (ETDRK4,
    pseudo-spectral): with ξ = x / L and v = u / L, v_t + v v_ξ = (ν / L²) v_ξξ.

    Args:
        u0: (n,) initial values on :func:`periodic_grid` (n, L).
        nu: Viscosity > 0.
        t: (m,) equally spaced times t_j = j Δt (j = 0..m−1) or a single time.
        length: Period L.

    Returns:
        (m, n) solution.
    """
    from sciml.solvers.burgers import solve_burgers

    u0 = _real_field(u0)
    nu = _positive(nu, "nu")
    length = _positive(length, "length")
    t = _times(t)
    steps = np.diff(np.concatenate([[0.0], t]))
    if t.size > 1 and not np.allclose(steps[1:], steps[1], rtol=1e-9, atol=1e-12):
        raise ValueError("times must be equally spaced (t_j = t_0 + j Δt) for the Burgers solver")
    out = np.empty((t.size, u0.size))
    start = 0
    if t[0] == 0.0:
        out[0] = u0
        start = 1
    if start == t.size:
        return out
    t_final = float(t[-1])
    n_rec = t.size - start
    if not np.allclose(t[start:], t_final * np.arange(1, n_rec + 1) / n_rec, rtol=1e-9,
                       atol=1e-12):
        raise ValueError("times after 0 must be t_final k / m, k = 1..m (equally spaced from 0)")
    v = solve_burgers(u0 / length, nu / length**2, t_final, n_rec)
    out[start:] = v * length
    return out
