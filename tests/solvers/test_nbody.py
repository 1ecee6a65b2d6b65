"""Charged N-body generator: conservation laws, first-order convergence, the reference's setup."""

from __future__ import annotations

import numpy as np
import pytest
from sciml.solvers import charged_nbody_energy, integrate_charged_nbody, simulate_charged_nbody


def _two_body(sep=2.0):
    loc0 = np.array([[[-sep / 2, 0.0, 0.0], [sep / 2, 0.0, 0.0]]])
    vel0 = np.array([[[0.0, 0.3, 0.0], [0.1, -0.3, 0.05]]])
    return loc0, vel0, np.array([[1.0, -1.0]])


def test_momentum_is_conserved_and_energy_nearly():
    sim = simulate_charged_nbody(20, seed=3, n_steps=1000, sample_every=100)
    # Pairwise forces are antisymmetric: total momentum stays at its initial value unless a
    # force component is clipped (close encounters); most systems never clip.
    p = sim.vel.sum(axis=2)  # (S, F, d)
    drift = np.abs(p - p[:, :1]).max(axis=(1, 2))
    assert np.median(drift) < 1e-12
    e = charged_nbody_energy(sim.loc, sim.vel, sim.charges[:, None, :])
    assert np.median(np.abs(e[:, -1] - e[:, 0])) < 5e-3


def test_first_order_convergence_in_dt():
    loc0, vel0, q = _two_body()
    final = {}
    for steps in (100, 200, 400, 800, 12800):  # T = 1
        loc, _ = integrate_charged_nbody(loc0, vel0, q, n_steps=steps, sample_every=steps // 2,
                                         dt=1.0 / steps, max_force=np.inf)
        final[steps] = loc[0, 0]  # state at t = 1/2
    errs = [np.abs(final[s] - final[12800]).max() for s in (100, 200, 400, 800)]
    slope = np.polyfit(np.log([100, 200, 400, 800]), np.log(errs), 1)[0]
    assert -1.2 < slope < -0.8, (errs, slope)  # symplectic Euler: order 1


def test_centre_of_mass_moves_uniformly_and_opposite_charges_attract():
    loc0, vel0, q = _two_body()
    loc, vel = integrate_charged_nbody(loc0, vel0, q, n_steps=1000, sample_every=100, dt=1e-3)
    com = loc[0].mean(axis=1)
    steps = 100 * np.arange(1, 10)
    expect = loc0[0].mean(0) + vel0[0].mean(0) * steps[:, None] * 1e-3
    np.testing.assert_allclose(com, expect, atol=1e-12)
    gap = np.linalg.norm(loc[0, :, 0] - loc[0, :, 1], axis=-1)
    assert gap[-1] < 2.0  # attracted from the initial separation 2
    _, vel_like = integrate_charged_nbody(loc0, vel0, -np.abs(q), n_steps=1000,
                                          sample_every=100)
    assert np.linalg.norm(vel_like[0, -1, 0] - vel_like[0, -1, 1]) > 0  # runs with like charges


def test_reference_setup_is_seeded():
    a = simulate_charged_nbody(4, seed=7)
    b = simulate_charged_nbody(4, seed=7)
    c = simulate_charged_nbody(4, seed=8)
    assert a.loc.shape == (4, 49, 5, 3) and a.charges.shape == (4, 5)
    assert np.array_equal(a.loc, b.loc) and not np.array_equal(a.loc, c.loc)
    assert set(np.unique(a.charges)) <= {-1.0, 1.0}
    # Continuing one generator gives the next simulations of the same stream.
    rng = np.random.RandomState(7)
    first = simulate_charged_nbody(2, rng=rng)
    second = simulate_charged_nbody(2, rng=rng)
    np.testing.assert_array_equal(np.concatenate([first.loc, second.loc]), a.loc)


def test_bad_arguments():
    loc0, vel0, q = _two_body()
    with pytest.raises(ValueError, match="multiple of sample_every"):
        integrate_charged_nbody(loc0, vel0, q, n_steps=1001, sample_every=100)
    with pytest.raises(ValueError, match="NaN"):
        integrate_charged_nbody(loc0 * np.nan, vel0, q)
    with pytest.raises(ValueError, match="n_sims"):
        simulate_charged_nbody(0)
    with pytest.raises(ValueError, match="shape"):
        integrate_charged_nbody(loc0, vel0[:, :, :2], q)
