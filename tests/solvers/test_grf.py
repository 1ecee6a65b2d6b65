"""Gaussian random fields: covariance against the spectrum, reproducibility, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sciml.solvers import gaussian_random_field, grf_spectrum


def test_shapes_dtype_and_seed_reproducibility():
    a = gaussian_random_field(3, (8, 10), alpha=2.0, tau=3.0, rng=5)
    b = gaussian_random_field(3, (8, 10), alpha=2.0, tau=3.0, rng=np.random.default_rng(5))
    assert a.shape == (3, 8, 10) and a.dtype == np.float64
    np.testing.assert_array_equal(a, b)
    c = gaussian_random_field(2, 16, alpha=2.0, tau=3.0, boundary="neumann", rng=1)
    assert c.shape == (2, 16)
    assert not np.allclose(a, gaussian_random_field(3, (8, 10), 2.0, 3.0, rng=6))


def test_periodic_samples_have_zero_mean_and_the_spectral_variance():
    n, shape, alpha, tau, sigma = 4000, (12, 12), 2.0, 3.0, 5.0
    u = gaussian_random_field(n, shape, alpha, tau, sigma=sigma, rng=0)
    np.testing.assert_allclose(u.mean(axis=(1, 2)), 0.0, atol=1e-12)
    # stationary: Var u(x) = Σ_k σ² (4π²|k|² + τ²)^(−α), the same at every point
    expected = np.sum(grf_spectrum(shape, alpha, tau, sigma, "periodic") ** 2)
    var = u.var(axis=0)
    assert abs(var.mean() / expected - 1) < 0.03
    assert np.max(np.abs(var / expected - 1)) < 0.15
    # covariance of two points one step apart matches Σ_k std_k² cos(2π k_x / m)
    k = np.fft.fftfreq(12, d=1 / 12)[:, None] * np.ones((1, 12))
    cov_expected = np.sum(grf_spectrum(shape, alpha, tau, sigma) ** 2 * np.cos(2 * np.pi * k / 12))
    cov = np.mean(u[:, 0, 0] * u[:, 1, 0])
    assert abs(cov / cov_expected - 1) < 0.1


def test_neumann_pointwise_variance_matches_explicit_cosine_expansion():
    m, alpha, tau = 7, 2.0, 3.0
    u = gaussian_random_field(6000, (m, m), alpha, tau, boundary="neumann", rng=2)
    std = grf_spectrum((m, m), alpha, tau, None, "neumann")
    assert std[0, 0] == 0.0 and np.isclose(std[1, 0], tau ** (alpha - 1) * (np.pi**2 + tau**2)
                                           ** (-alpha / 2))
    x = np.arange(m) / (m - 1)
    k = np.arange(m)
    phi = np.where(k[None, :] == 0, 1.0, np.sqrt(2.0)) * np.cos(np.pi * x[:, None] * k[None, :])
    # Var u(x_i, y_j) = Σ_{k,l} std_kl² φ_k(x_i)² φ_l(y_j)²
    expected = (phi**2) @ (std**2) @ (phi**2).T
    ratio = u.var(axis=0) / expected
    assert abs(ratio.mean() - 1) < 0.03
    assert np.max(np.abs(ratio - 1)) < 0.15
    # the boundary nodes carry more variance than the centre (cosine modes peak there)
    assert expected[0, 0] > expected[m // 2, m // 2]


def test_default_sigma_is_fno_normalisation():
    s2 = grf_spectrum((4, 4), 2.0, 3.0, None, "neumann")
    s1 = grf_spectrum((4, 4), 2.0, 3.0, 3.0 ** (2.0 - 1.0), "neumann")
    np.testing.assert_allclose(s1, s2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"shape": (1, 8)}, "grid size"),
        ({"shape": (2, 2, 2, 2)}, "1, 2 or 3 axes"),
        ({"alpha": -1.0}, "alpha"),
        ({"tau": float("nan")}, "tau"),
        ({"sigma": 0.0}, "sigma"),
        ({"boundary": "dirichlet"}, "boundary"),
        ({"n": 0}, "n must be"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {"n": 2, "shape": (8, 8), "alpha": 2.0, "tau": 3.0} | kwargs
    with pytest.raises(ValueError, match=match):
        gaussian_random_field(**args)


def test_neumann_samples_equal_the_explicit_cosine_sum_of_their_coefficients():
    # same seed → same KL coefficients ξ (drawn first, in grid order); evaluate Σ std ξ φ_k φ_l
    m, alpha, tau = 6, 2.0, 3.0
    u = gaussian_random_field(2, (m, m), alpha, tau, boundary="neumann", rng=11)
    xi = np.random.default_rng(11).standard_normal((2, m, m))
    std = grf_spectrum((m, m), alpha, tau, None, "neumann")
    x = np.arange(m) / (m - 1)
    k = np.arange(m)
    phi = np.where(k[None, :] == 0, 1.0, np.sqrt(2.0)) * np.cos(np.pi * x[:, None] * k[None, :])
    explicit = np.einsum("ik,nkl,jl->nij", phi, std * xi, phi)
    np.testing.assert_allclose(u, explicit, atol=1e-12)
