"""2-D Navier–Stokes: exact solutions, temporal order of both schemes, spectral space, backends."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sciml.solvers import ns2d_forcing, ns2d_initial_vorticity, solve_navier_stokes_2d

from sciml.errors import NonFiniteError

TWO_PI = 2 * np.pi


def grid(s: int):
    x = np.arange(s) / s
    return np.meshgrid(x, x, indexing="ij")


def slope(dts, errors) -> float:
    return float(np.polyfit(np.log(dts), np.log(errors), 1)[0])


def test_taylor_green_decays_exactly_and_cn_is_second_order():
    # w = sin 2πx sin 2πy is an eigenfunction of Δ with u·∇w ≡ 0: w(t) = w0 e^(−8π²νt)
    # (amplitude 1: the cellular flow is unstable, a strong one would amplify round-off)
    xx, yy = grid(16)
    w0 = np.sin(TWO_PI * xx) * np.sin(TWO_PI * yy)
    visc, t_final = 0.01, 1.0
    exact = w0 * np.exp(-8 * np.pi**2 * visc * t_final)
    dts = [0.1, 0.05, 0.025, 0.0125]
    errors = [np.abs(solve_navier_stokes_2d(w0, visc, t_final, 1, dt=dt, forcing=None)[0]
                     - exact).max() for dt in dts]
    assert abs(slope(dts, errors) - 2.0) < 0.1, errors
    assert errors[-1] < 1e-3 * np.abs(exact).max()


def test_forcing_balanced_steady_state_is_kept():
    # f = 0.1 (sin + cos) 2π(x+y) lives on the |k|² = 2 shell: w = f / (8π²ν) has u·∇w ≡ 0
    visc = 1e-2
    w_s = ns2d_forcing(16) / (8 * np.pi**2 * visc)
    w = solve_navier_stokes_2d(w_s[None], visc, 0.5, 2, dt=1e-2)
    assert w.shape == (1, 2, 16, 16)
    np.testing.assert_allclose(w[0, -1], w_s, atol=1e-12)


@pytest.mark.parametrize(("scheme", "order"), [("cn-ab2", 2.0), ("cn-euler", 1.0)])
def test_temporal_order_with_nonlinearity(scheme, order):
    w0 = ns2d_initial_vorticity(1, 16, seed=1) * 10   # strong advection: the nonlinear term matters
    visc, t_final = 1e-2, 0.2
    ref = solve_navier_stokes_2d(w0, visc, t_final, 1, dt=0.02 / 64, scheme=scheme)
    dts = [0.02, 0.01, 0.005, 0.0025]
    errors = [np.abs(solve_navier_stokes_2d(w0, visc, t_final, 1, dt=dt, scheme=scheme) - ref)
              .max() for dt in dts]
    assert abs(slope(dts, errors) - order) < 0.15, errors


def test_spectral_convergence_in_space():
    def w_init(s):
        xx, yy = grid(s)
        return (np.sin(TWO_PI * xx) * np.cos(2 * TWO_PI * yy) + 0.5 * np.cos(TWO_PI * (xx - yy))
                + 0.3 * np.sin(3 * TWO_PI * yy))[None]

    ref = solve_navier_stokes_2d(w_init(64), 1e-2, 0.3, 1, dt=5e-3)[0, 0]
    errors = []
    for s in (8, 16, 32):
        w = solve_navier_stokes_2d(w_init(s), 1e-2, 0.3, 1, dt=5e-3)[0, 0]
        errors.append(np.abs(w - ref[:: 64 // s, :: 64 // s]).max())
    # the error ratio per halving of h grows (geometric convergence): far beyond any fixed
    # algebraic order (2^-10 ≈ 1e-3)
    assert errors[1] < 2e-2 * errors[0] and errors[2] < 1e-3 * errors[1], errors
    assert errors[2] < 1e-7


def test_records_equal_separate_solves_and_backends_agree():
    w0 = ns2d_initial_vorticity(2, 16, seed=4)
    both = solve_navier_stokes_2d(w0, 1e-3, 0.02, 2, dt=1e-3)
    half = solve_navier_stokes_2d(w0, 1e-3, 0.01, 1, dt=1e-3)
    np.testing.assert_allclose(both[:, 0], half[:, 0], atol=1e-13)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # tiny FFTs: a thread pool only adds contention on a shared machine
    try:
        torch_out = solve_navier_stokes_2d(w0, 1e-3, 0.02, 2, dt=1e-3, backend="torch")
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_allclose(torch_out, both, atol=1e-12)
    single = solve_navier_stokes_2d(w0[0], 1e-3, 0.02, 2, dt=1e-3)
    assert single.shape == (2, 16, 16)
    np.testing.assert_allclose(single, both[0], atol=1e-13)


def test_inviscid_unforced_conserves_energy_and_enstrophy():
    # with 2/3 de-aliasing the semi-discrete Galerkin system conserves both exactly, once the
    # initial field itself is truncated to the kept modes |k_x|, |k_y| <= (2/3)(s/2)
    k = np.fft.fftfreq(32, d=1 / 32)
    keep = (np.abs(k)[:, None] <= 32 / 3) & (np.abs(k)[None, :] <= 32 / 3)
    w0 = np.fft.ifft2(np.fft.fft2(ns2d_initial_vorticity(1, 32, seed=2) * 10) * keep).real
    w = solve_navier_stokes_2d(w0, 0.0, 0.2, 1, dt=2e-3, forcing=None)[0, 0]
    w0_hat, w_hat = np.fft.fft2(w0[0]), np.fft.fft2(w)
    lap = (TWO_PI**2) * (k[:, None] ** 2 + k[None, :] ** 2)
    lap[0, 0] = np.inf

    def energy(wh):
        return np.sum(np.abs(wh) ** 2 / lap)

    assert not np.allclose(w, w0[0], atol=1e-2)   # the field did move
    assert abs(np.sum(w**2) / np.sum(w0**2) - 1) < 1e-4
    assert abs(energy(w_hat) / energy(w0_hat) - 1) < 1e-4


def test_initial_vorticity_and_forcing():
    w0 = ns2d_initial_vorticity(3, 16, seed=0)
    assert w0.shape == (3, 16, 16)
    np.testing.assert_allclose(w0.mean(axis=(1, 2)), 0.0, atol=1e-12)
    np.testing.assert_array_equal(w0, ns2d_initial_vorticity(3, 16, seed=0))
    f = ns2d_forcing(8)
    assert f[0, 0] == pytest.approx(0.1) and f.shape == (8, 8)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"w0": np.zeros((2, 8, 9))}, ValueError, "square"),
        ({"w0": np.zeros((2, 3, 8, 8))}, ValueError, "shape"),
        ({"w0": np.zeros((1, 3, 3))}, ValueError, "resolution"),
        ({"w0": np.full((1, 8, 8), np.nan)}, ValueError, "NaN"),
        ({"visc": -1.0}, ValueError, "visc"),
        ({"t_final": 0.0}, ValueError, "t_final"),
        ({"n_records": 0}, ValueError, "n_records"),
        ({"dt": float("inf")}, ValueError, "dt"),
        ({"forcing": "kolmogorov"}, ValueError, "forcing"),
        ({"forcing": np.zeros((4, 4))}, ValueError, "forcing array"),
        ({"forcing": np.full((8, 8), np.nan)}, ValueError, "forcing contains NaN"),
        ({"backend": "jax"}, ValueError, "backend"),
        ({"scheme": "rk4"}, ValueError, "scheme"),
        ({"device": "cpu"}, ValueError, "backend='torch'"),
        ({"visc": "0.1"}, TypeError, "visc"),
    ],
)
def test_bad_input(kwargs, exc, match):
    args = {"w0": np.zeros((1, 8, 8)), "visc": 1e-3, "t_final": 0.1, "n_records": 1} | kwargs
    with pytest.raises(exc, match=match):
        solve_navier_stokes_2d(**args)


def test_blow_up_is_reported():
    w0 = ns2d_initial_vorticity(1, 16, seed=0) * 1e4
    with pytest.raises(NonFiniteError, match="reduce dt"):
        solve_navier_stokes_2d(w0, 0.0, 1.0, 1, dt=0.1, forcing=None)
