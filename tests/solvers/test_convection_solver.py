"""Reference solutions of the 1-D periodic problems: exactness and convergence order."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sciml.solvers.convection import (
    periodic_grid,
    solve_burgers_periodic,
    solve_convection,
    solve_reaction,
    solve_reaction_diffusion,
)


def test_convection_diffusion_is_exact_for_a_fourier_mode() -> None:
    x = periodic_grid(64)
    t = np.array([0.0, 0.3, 1.0])
    u = solve_convection(np.sin(3 * x), beta=50.0, nu=0.01, t=t)
    exact = np.exp(-0.01 * 9 * t)[:, None] * np.sin(3 * (x[None] - 50.0 * t[:, None]))
    np.testing.assert_allclose(u, exact, atol=1e-12)


def test_convection_shifts_any_initial_condition_by_whole_cells() -> None:
    rng = np.random.default_rng(0)
    n, length = 50, 2.0
    u0 = rng.standard_normal(n)
    dx = length / n
    u = solve_convection(u0, beta=1.0, nu=0.0, t=[7 * dx], length=length)[0]
    np.testing.assert_allclose(u, np.roll(u0, 7), atol=1e-12)  # pure transport: a shift


def test_reaction_matches_the_closed_form_and_the_ode() -> None:
    u0 = np.array([0.1, 0.5, 0.9])
    t = np.linspace(0, 1, 5)
    u = solve_reaction(u0, 5.0, t)
    # The logistic ODE u' = ρ u (1 − u): check by central differences in t.
    h = 1e-5
    up, um = solve_reaction(u0, 5.0, t[1:-1] + h), solve_reaction(u0, 5.0, t[1:-1] - h)
    np.testing.assert_allclose((up - um) / (2 * h), 5.0 * u[1:-1] * (1 - u[1:-1]), rtol=1e-6)
    np.testing.assert_allclose(u[0], u0)


def test_reaction_diffusion_strang_splitting_is_second_order() -> None:
    x = periodic_grid(64)
    u0 = 0.3 + 0.2 * np.sin(x)
    fine = solve_reaction_diffusion(u0, 0.5, 3.0, [0.5], dt=1e-4)[0]
    errors = [np.abs(solve_reaction_diffusion(u0, 0.5, 3.0, [0.5], dt=dt)[0] - fine).max()
              for dt in (0.04, 0.02, 0.01)]
    slope = np.polyfit(np.log([0.04, 0.02, 0.01]), np.log(errors), 1)[0]
    assert 1.8 < slope < 2.3, (errors, slope)
    # With ρ = 0 it is the exact heat equation solution.
    heat = solve_reaction_diffusion(np.sin(x), 0.5, 0.0, [1.0], dt=0.1)[0]
    np.testing.assert_allclose(heat, np.exp(-0.5) * np.sin(x), atol=1e-12)


def test_burgers_wrapper_matches_cole_hopf_on_a_2pi_period() -> None:
    nu, n = 0.1, 256
    x = periodic_grid(n)
    t = np.linspace(0, 1, 5)

    def cole_hopf(tt: float) -> np.ndarray:  # u = −2ν φ_x/φ, φ = 2 + e^{−νt} cos x
        phi = 2 + np.exp(-nu * tt) * np.cos(x)
        return 2 * nu * np.exp(-nu * tt) * np.sin(x) / phi

    u = solve_burgers_periodic(cole_hopf(0.0), nu, t)
    exact = np.stack([cole_hopf(tt) for tt in t])
    np.testing.assert_allclose(u, exact, atol=1e-8)


def test_bad_input_is_named() -> None:
    x = periodic_grid(16)
    with pytest.raises(ValueError, match="nu"):
        solve_convection(np.sin(x), 1.0, -1.0, [0.1])
    with pytest.raises(ValueError, match="NaN"):
        solve_convection(np.full(16, np.nan), 1.0, 0.0, [0.1])
    with pytest.raises(ValueError, match="times"):
        solve_convection(np.sin(x), 1.0, 0.0, [-1.0])
    with pytest.raises(ValueError, match="blows up"):
        solve_reaction(np.array([-0.5]), 5.0, [1.0])
    with pytest.raises(ValueError, match="equally spaced"):
        solve_burgers_periodic(np.sin(x), 0.1, [0.0, 0.1, 0.5])
    with pytest.raises(ValueError, match="n must be"):
        periodic_grid(1)
    assert math.isclose(periodic_grid(4)[1], math.pi / 2)
