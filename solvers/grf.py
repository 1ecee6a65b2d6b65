"""Gaussian random fields on regular grids: the input distributions of FNO's PDE data sets.

A sample u has mean zero and covariance operator

    C = σ² (−Δ + τ² I)^(−α)

on the unit cube [0,1]^d, expanded in the L²-orthonormal eigenfunctions φ_k of the Laplacian
(Karhunen–Loève): u = Σ_{k≠0} σ (λ_k + τ²)^(−α/2) ξ_k φ_k with ξ_k ~ N(0, 1) independent, truncated
to the modes the grid resolves. The constant mode (k = 0) is dropped, as in FNO's generators, so
every sample has zero mean.

- ``boundary="periodic"``: λ_k = 4π²|k|², φ_k Fourier modes; samples at x_i = i/m, i = 0..m−1
  (endpoint excluded), |k_j| ≤ m/2. Drawn as the FFT of white noise filtered by the square root of
  the spectrum, so the grid covariance is exactly the truncated operator.
- ``boundary="neumann"``: λ_k = π²|k|², φ_k = Π_j c_{k_j} cos(π k_j x_j) with c_0 = 1, c_{k>0} = √2;
  samples at the vertex grid x_i = i/(m−1), i = 0..m−1 (both ends included, the Darcy grid
  convention), 0 ≤ k_j ≤ m−1; evaluated by a type-I DCT.

Normalisation. ``sigma=None`` uses σ = τ^(α − d/2), the default of FNO's ``GaussianRF``; for d = 2
this is τ^(α−1), i.e. the covariance τ^(2α−2)(−Δ+τ²)^(−α) of FNO's Darcy generator (``GRF.m``:
``coef = tau^(alpha-1)*(pi^2*(K1.^2+K2.^2) + tau^2).^(-alpha/2)`` on the cosine basis). Note that
FNO's Python periodic ``GaussianRF`` draws independent complex coefficients for k and −k and takes
the real part, which gives covariance 2σ²(−Δ+τ²)^(−α); here the covariance is exactly σ²(...), so
matching FNO's Navier–Stokes initial amplitude needs σ = √2 · τ^(α − d/2) (see
:func:`sciml.solvers.ns2d_initial_vorticity`).
"""

from __future__ import annotations

import numpy as np
import scipy.fft

__all__ = ["gaussian_random_field", "grf_spectrum"]

_BOUNDARIES = ("periodic", "neumann")


def _check_positive_int(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_positive_float(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    return v


def _wavenumbers(m: int, boundary: str) -> np.ndarray:
    """Integer wavenumbers along one axis of m points, in the order of the transform's output."""
    if boundary == "periodic":
        return np.fft.fftfreq(m, d=1.0 / m)  # 0, 1, .., -1 (integers as floats)
    return np.arange(m, dtype=np.float64)


def grf_spectrum(shape: tuple[int, ...], alpha: float, tau: float, sigma: float | None = None,
                 boundary: str = "periodic") -> np.ndarray:
    """Standard deviation of each resolved KL coefficient, σ (λ_k + τ²)^(−α/2), zero at k = 0.

    Args:
        shape: Grid points per axis (m_1, ..., m_d).
        alpha, tau, sigma, boundary: As in :func:`gaussian_random_field`.

    Returns:
        (m_1, ..., m_d) array laid out like the FFT (periodic) or DCT (neumann) coefficients.
    """
    if boundary not in _BOUNDARIES:
        raise ValueError(f"boundary must be one of {_BOUNDARIES}, got {boundary!r}")
    alpha = _check_positive_float("alpha", alpha)
    tau = _check_positive_float("tau", tau)
    d = len(shape)
    sigma = tau ** (alpha - 0.5 * d) if sigma is None else _check_positive_float("sigma", sigma)
    scale = 2.0 * np.pi if boundary == "periodic" else np.pi
    k2 = np.zeros(shape)
    for axis, m in enumerate(shape):
        k = _wavenumbers(m, boundary)
        k2 = k2 + (scale * k).reshape([-1 if j == axis else 1 for j in range(d)]) ** 2
    std = sigma * (k2 + tau**2) ** (-0.5 * alpha)
    std[(0,) * d] = 0.0
    return std


def gaussian_random_field(n: int, shape: tuple[int, ...] | int, alpha: float, tau: float,
                          sigma: float | None = None, boundary: str = "periodic",
                          rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Draw n mean-zero Gaussian random fields with covariance σ²(−Δ + τ²)^(−α) on [0,1]^d.

    See the module docstring for the basis, the grid points and the normalisation.

    Args:
        n: Number of samples.
        shape: Grid points per axis, (m_1, ..., m_d) with d = 1, 2 or 3 (an int means d = 1);
            each m_j >= 2.
        alpha: Smoothness exponent α > 0 (samples are in H^s for s < α − d/2).
        tau: Inverse length scale τ > 0.
        sigma: Amplitude σ > 0; None for τ^(α − d/2) (FNO's default).
        boundary: "periodic" (points i/m) or "neumann" (cosine basis on the vertex grid i/(m−1)).
        rng: A numpy Generator or a seed.

    Returns:
        (n, m_1, ..., m_d) float64 samples.
    """
    n = _check_positive_int("n", n)
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    shape = tuple(shape)
    if not 1 <= len(shape) <= 3:
        raise ValueError(f"shape must have 1, 2 or 3 axes, got {shape!r}")
    for m in shape:
        _check_positive_int("each grid size in shape", m, 2)
    std = grf_spectrum(shape, alpha, tau, sigma, boundary)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    axes = tuple(range(1, len(shape) + 1))
    if boundary == "periodic":
        # FFT of unit white noise has E|ŵ_k|² = N, so ifft(√N std ŵ) has covariance Σ std_k² e_k.
        noise = rng.standard_normal((n, *shape))
        coef = scipy.fft.fftn(noise, axes=axes) * (np.sqrt(np.prod(shape)) * std)
        return np.ascontiguousarray(scipy.fft.ifftn(coef, axes=axes).real)
    coef = rng.standard_normal((n, *shape)) * std
    # φ_k = Π c_k cos(π k x): with c_k = √2 for k > 0. DCT-I computes
    # y_i = a_0 + (−1)^i a_{m−1} + 2 Σ_{0<k<m−1} a_k cos(π k i/(m−1)): scale the inner terms by ½.
    for axis, m in zip(axes, shape, strict=True):
        w = np.full(m, np.sqrt(2.0) / 2.0)
        w[0] = 1.0
        w[-1] = np.sqrt(2.0)
        coef = coef * w.reshape([-1 if j == axis else 1 for j in range(coef.ndim)])
        coef = scipy.fft.dct(coef, type=1, axis=axis)
    return np.ascontiguousarray(coef)
