"""1-D Burgers: exact Cole–Hopf solution, ETDRK4 fourth order, spectral space, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sciml.solvers import burgers_initial, solve_burgers


def cole_hopf(x: np.ndarray, t: float, visc: float, c: float = 1.5) -> np.ndarray:
    """u = −2ν ∂x log φ with φ = c + e^(−4π²νt) cos 2πx solving the heat equation (c > 1)."""
    e = np.exp(-4 * np.pi**2 * visc * t)
    return 4 * np.pi * visc * e * np.sin(2 * np.pi * x) / (c + e * np.cos(2 * np.pi * x))


def test_etdrk4_is_fourth_order_against_cole_hopf():
    visc, t_final, s = 0.05, 0.5, 64
    x = np.arange(s) / s
    exact = cole_hopf(x, t_final, visc)
    dts = [0.05, 0.025, 0.0125, 0.00625]
    errors = [np.abs(solve_burgers(cole_hopf(x, 0, visc), visc, t_final, 1, dt=dt)[0] - exact)
              .max() for dt in dts]
    slope = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert abs(slope - 4.0) < 0.3, errors


def test_spectral_convergence_in_space_against_cole_hopf():
    visc, t_final = 0.05, 0.5
    errors = []
    for s in (8, 16, 32):
        x = np.arange(s) / s
        u = solve_burgers(cole_hopf(x, 0, visc)[None], visc, t_final, 2, dt=1e-3)
        assert u.shape == (1, 2, s)
        errors.append(np.abs(u[0, -1] - cole_hopf(x, t_final, visc)).max())
    # geometric decay: each doubling gains far more than any fixed algebraic order would
    assert errors[1] < 1e-2 * errors[0] and errors[2] < 1e-4 * errors[1] and errors[2] < 1e-9


def test_random_initial_conditions_keep_mean_and_decay():
    u0 = burgers_initial(3, 128, seed=0)
    assert u0.shape == (3, 128)
    np.testing.assert_allclose(u0.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_array_equal(u0, burgers_initial(3, 128, seed=0))
    u = solve_burgers(u0 + 0.3, 0.02, 0.5, 5)
    # the mean is conserved (conservation form); energy decays monotonically (viscous)
    np.testing.assert_allclose(u.mean(axis=2), 0.3, atol=1e-12)
    energy = np.concatenate([np.sum((u0 - 0) ** 2, axis=1, keepdims=True),
                             np.sum((u - 0.3) ** 2, axis=2)], axis=1)
    assert np.all(np.diff(energy, axis=1) < 0)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"u0": np.zeros((2, 2, 8))}, ValueError, "shape"),
        ({"u0": np.zeros((1, 3))}, ValueError, "too small"),
        ({"u0": np.full((1, 8), np.nan)}, ValueError, "NaN"),
        ({"u0": np.zeros((1, 8), dtype=complex)}, TypeError, "real"),
        ({"visc": 0.0}, ValueError, "visc"),
        ({"t_final": -1.0}, ValueError, "t_final"),
        ({"n_records": 1.5}, ValueError, "n_records"),
        ({"dt": 0.0}, ValueError, "dt"),
        ({"method": "rk4"}, ValueError, "method"),
    ],
)
def test_bad_input(kwargs, exc, match):
    args = {"u0": np.zeros((1, 8)), "visc": 0.1, "t_final": 0.1, "n_records": 1} | kwargs
    with pytest.raises(exc, match=match):
        solve_burgers(**args)
    with pytest.raises(ValueError, match="resolution"):
        burgers_initial(1, 2)


def test_blow_up_is_reported():
    from sciml.errors import NonFiniteError

    u0 = burgers_initial(1, 64, seed=0) * 1e3
    with pytest.raises(NonFiniteError, match="smaller dt"):
        solve_burgers(u0, 1e-3, 1.0, 1, dt=0.5)
