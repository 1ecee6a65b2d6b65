"""Helmholtz equation with a variable wave speed: the Helmholtz benchmark used by MgNO.

    −Δu − (ω² / c(x)²) u = f   in (0,1)²,   ∂u/∂n = 0 on the left, right and bottom sides,
    ∂u/∂n = g on the top side (y = 1),

the problem of de Hoop, Huang, Qian & Stuart ("The cost-accuracy trade-off in operator learning
with neural networks", 2022), which MgNO (He, Liu, Xu, ICLR 2024) reuses: f = 0, ω = 10³,
g = 1 on 0.35 ≤ x ≤ 0.65 (0 elsewhere), and c = 20 + tanh(ξ) with ξ a Gaussian random field with
covariance (−Δ + 3²)^(−2) on the Neumann cosine basis. Their data came from a finite-element
solver on a 101 × 101 grid; this module is our own finite-difference discretisation of the same
problem (we did not have their generator to compare against).

Grid: the s × s vertex grid x_i = i h, h = 1/(s−1), index [i, j] = (x_i, y_j) (as in Darcy).
Discretisation: the 5-point Laplacian at every node, the Neumann conditions through ghost nodes
and the centred normal difference (u_ghost = u_inner + 2h g), so the scheme is second order,
‖u_h − u‖_∞ = O(h²) (tests/solvers/test_helmholtz.py fits the slope). The matrix is real,
indefinite and solved by a sparse direct LU (scipy ``spsolve``). Below about 10 points per
wavelength (2π c / ω) the pollution error of any second-order scheme grows quickly.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from jaxtyping import Float
from sciml.solvers.grf import gaussian_random_field

__all__ = ["helmholtz_wave_speed", "helmholtz_top_flux", "solve_helmholtz"]


def helmholtz_wave_speed(n: int, s: int, alpha: float = 2.0, tau: float = 3.0,
                         seed: int | np.random.Generator | None = 0
                         ) -> Float[np.ndarray, "n s s"]:
    """Random wave speeds c = 20 + tanh(ξ), ξ a Neumann GRF with covariance (−Δ + τ²)^(−α).

    Args:
        n: Number of samples.
        s: Grid points per side (>= 3), vertex grid on [0,1]².
        alpha, tau: GRF parameters (de Hoop et al.: α = 2, τ = 3, amplitude σ = 1).
        seed: Seed or numpy Generator.

    Returns:
        (n, s, s) float64 wave speeds in (19, 21).
    """
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 3:
        raise ValueError(f"resolution s must be an integer >= 3, got {s!r}")
    xi = gaussian_random_field(n, (int(s), int(s)), alpha, tau, sigma=1.0, boundary="neumann",
                               rng=seed)
    return 20.0 + np.tanh(xi)


def helmholtz_top_flux(s: int) -> Float[np.ndarray, " s"]:
    """The benchmark's Neumann datum on y = 1: g(x) = 1 for 0.35 <= x <= 0.65, else 0."""
    x = np.linspace(0.0, 1.0, s)
    return ((x >= 0.35 - 1e-12) & (x <= 0.65 + 1e-12)).astype(np.float64)


def _neumann_1d(s: int, h: float) -> sp.csr_matrix:
    """−d²/dx² on s vertex nodes with ghost-node Neumann rows [2, −2] / h²."""
    main = np.full(s, 2.0)
    upper = np.full(s - 1, -1.0)
    lower = np.full(s - 1, -1.0)
    upper[0] = -2.0
    lower[-1] = -2.0
    return sp.diags([lower, main, upper], [-1, 0, 1], format="csr") / h**2


def solve_helmholtz(c: Float[np.ndarray, "*n s s"], omega: float = 1000.0,
                    top_flux: str | np.ndarray | None = "benchmark",
                    f: float | np.ndarray = 0.0) -> Float[np.ndarray, "*n s s"]:
    """Solve −Δu − (ω/c)² u = f with Neumann data (flux g on the top side, 0 elsewhere).

    Second order in h; see the module docstring for the scheme.

    Args:
        c: (s, s) or (n, s, s) positive wave speed on the vertex grid, s >= 3.
        omega: Angular frequency ω > 0.
        top_flux: "benchmark" (:func:`helmholtz_top_flux`), None (zero) or an (s,) array g(x_i)
            of the outward normal derivative ∂u/∂y on y = 1.
        f: Source: a number, (s, s) or (n, s, s).

    Returns:
        u with the shape of c (float64).
    """
    arr = np.asarray(c)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"wave speed c must be a real array, got dtype {arr.dtype}")
    if arr.ndim not in (2, 3) or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"wave speed c must have shape (s, s) or (n, s, s) (square grid), "
                         f"got {arr.shape}")
    s = arr.shape[-1]
    if s < 3:
        raise ValueError(f"resolution s = {s} is too small: need s >= 3")
    if not np.all(np.isfinite(arr)):
        raise ValueError("wave speed c contains NaN or infinite values")
    if np.any(arr <= 0):
        raise ValueError(f"wave speed c must be positive everywhere; min(c) = {arr.min():.4g}")
    if isinstance(omega, bool) or not isinstance(omega, (int, float, np.integer, np.floating)) \
            or not np.isfinite(omega) or omega <= 0:
        raise ValueError(f"omega must be a finite positive number, got {omega!r}")
    if isinstance(top_flux, str):
        if top_flux != "benchmark":
            raise ValueError(f"top_flux must be 'benchmark', None or an array, got {top_flux!r}")
        g = helmholtz_top_flux(s)
    else:
        g = np.zeros(s) if top_flux is None else np.asarray(top_flux, dtype=np.float64)
        if g.shape != (s,) or not np.all(np.isfinite(g)):
            raise ValueError(f"top_flux must be a finite array of shape ({s},), got shape "
                             f"{g.shape}")
    batch = arr.astype(np.float64)[None] if arr.ndim == 2 else arr.astype(np.float64)
    if np.shape(f) not in ((), (s, s), batch.shape):
        raise ValueError(f"f must be a number, ({s}, {s}) or {batch.shape}, got shape "
                         f"{np.shape(f)}")
    farr = np.broadcast_to(np.asarray(f, dtype=np.float64), batch.shape)
    if not np.all(np.isfinite(farr)):
        raise ValueError("source f contains NaN or infinite values")
    h = 1.0 / (s - 1)
    d1 = _neumann_1d(s, h)
    eye = sp.identity(s, format="csr")
    laplacian = (sp.kron(d1, eye) + sp.kron(eye, d1)).tocsr()   # row index i * s + j
    u = np.empty_like(batch)
    for b in range(batch.shape[0]):
        rhs = farr[b].copy()
        rhs[:, -1] += 2.0 * g / h      # ghost node above y = 1 carries the flux
        matrix = (laplacian - sp.diags((omega / batch[b]).ravel() ** 2)).tocsc()
        u[b] = spla.spsolve(matrix, rhs.ravel()).reshape(s, s)
    if not np.all(np.isfinite(u)):
        raise ValueError("the Helmholtz matrix is singular for this wave speed and omega "
                         "(a resonance); change omega")
    return u if arr.ndim == 3 else u[0]
