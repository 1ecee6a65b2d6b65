"""Diffusion–sorption finite volumes: second-order convergence in space against a fine solution,
boundary behaviour, RK45 vs BDF agreement, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sciml.solvers.diffusion_sorption import (
    ds_initial_condition,
    ds_retardation,
    solve_diffusion_sorption,
)


def test_second_order_in_space_against_a_fine_solution():
    t_final, fine = 100.0, 1024
    reference = solve_diffusion_sorption(np.full(fine, 0.1), t_final=t_final, n_times=2,
                                         method="BDF", rtol=1e-10, atol=1e-12)[-1]
    cells, errors = [32, 64, 128], []
    for n in cells:
        coarse = solve_diffusion_sorption(np.full(n, 0.1), t_final=t_final, n_times=2,
                                          rtol=1e-10, atol=1e-12)[-1]
        averaged = reference.reshape(n, -1).mean(axis=1)    # fine cells → coarse cell averages
        errors.append(np.sqrt(np.mean((coarse - averaged) ** 2)))
    slope = np.polyfit(np.log(1.0 / np.array(cells)), np.log(errors), 1)[0]
    assert 1.8 < slope < 2.3, errors


def test_boundaries_and_monotone_profile():
    u = solve_diffusion_sorption(ds_initial_condition(2, 64, seed=1), n_times=11, method="BDF")
    assert u.shape == (2, 11, 64)
    np.testing.assert_allclose(u[:, 0], ds_initial_condition(2, 64, seed=1))
    last = u[:, -1]
    assert np.all(np.diff(last, axis=1) < 0)            # inflow at x=0 decays towards x=1
    assert np.all(last[:, 0] > 0.95) and np.all(last[:, -1] < 0.2)
    assert np.all(u[:, -1].mean(1) > u[:, 0].mean(1))   # mass enters from the left


def test_rk45_matches_bdf():
    u0 = ds_initial_condition(1, 32, seed=3)
    a = solve_diffusion_sorption(u0, t_final=50.0, n_times=3, method="RK45", rtol=1e-9,
                                 atol=1e-11)
    b = solve_diffusion_sorption(u0, t_final=50.0, n_times=3, method="BDF", rtol=1e-9,
                                 atol=1e-11)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_retardation_constants():
    r = ds_retardation(np.array([1.0, 0.0, -1.0]))
    factor = (1 - 0.29) / 0.29 * 2880 * 3.5e-4 * 0.874
    assert r[0] == pytest.approx(1 + factor * (1 + 1e-6) ** (0.874 - 1))
    assert r[1] == r[2] == pytest.approx(1 + factor * 1e-6 ** (0.874 - 1))


def test_bad_input():
    with pytest.raises(ValueError, match="n_cells"):
        solve_diffusion_sorption(np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        solve_diffusion_sorption(np.full(8, np.nan))
    with pytest.raises(ValueError, match="method"):
        solve_diffusion_sorption(np.zeros(8), method="euler")
    with pytest.raises(ValueError, match="porosity"):
        solve_diffusion_sorption(np.zeros(8), porosity=1.5)
    with pytest.raises(ValueError, match="t_final"):
        solve_diffusion_sorption(np.zeros(8), t_final=-1)
