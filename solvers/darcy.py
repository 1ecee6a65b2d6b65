"""Steady Darcy flow −∇·(a ∇u) = f on the unit square with u = 0 on the boundary.

The problem of FNO's Darcy benchmark (Li et al., "Fourier Neural Operator for Parametric Partial
Differential Equations", ICLR 2021). Grid convention: an s × s vertex grid on [0,1]² including the
boundary nodes, x_i = i h with h = 1/(s−1); array index [i, j] is the node (x = i h, y = j h). The
(s−2)² interior values are the unknowns; the boundary values of u are 0.

Discretisation: the conservative 5-point finite-difference stencil

    (A u)_{ij} = [a_{i+½,j}(u_{ij} − u_{i+1,j}) + a_{i−½,j}(u_{ij} − u_{i−1,j})
                  + a_{i,j+½}(u_{ij} − u_{i,j+1}) + a_{i,j−½}(u_{ij} − u_{i,j−1})] / h²

with harmonic-mean face coefficients a_{i+½,j} = 2 a_{ij} a_{i+1,j} / (a_{ij} + a_{i+1,j}) (the
flux-continuous choice for piecewise-constant media). A is symmetric positive definite. The scheme
is second-order accurate, ‖u_h − u‖_∞ = O(h²), for smooth a and u (tests/solvers/test_darcy.py fits
the slope); for the discontinuous 12/4 coefficients the error is lower order near the interfaces.

Solvers: algebraic multigrid (pyamg smoothed aggregation as a preconditioner for conjugate
gradients, ``method="amg"``) or a sparse direct LU (scipy ``spsolve``, ``method="direct"``).
"""

from __future__ import annotations

import numpy as np
import pyamg
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from jaxtyping import Float
from sciml.solvers.grf import gaussian_random_field

__all__ = ["darcy_coefficients", "darcy_matrix", "solve_darcy"]

_KINDS = ("piecewise", "lognormal")
_METHODS = ("amg", "direct")


def darcy_coefficients(n: int, s: int, kind: str = "piecewise", alpha: float = 2.0,
                       tau: float = 3.0, seed: int | np.random.Generator | None = 0
                       ) -> Float[np.ndarray, "n s s"]:
    """Random Darcy coefficients a(x) on the s × s vertex grid, as in FNO's data generator.

    A Gaussian random field g with covariance τ^(2α−2)(−Δ + τ²)^(−α) on the Neumann cosine basis
    (:func:`sciml.solvers.gaussian_random_field`, ``boundary="neumann"``) is mapped to
    ``piecewise``: a = 12 where g ≥ 0 and 4 elsewhere (FNO's threshold map), or
    ``lognormal``: a = exp(g).

    The field is evaluated at the vertex nodes i/(s−1), so the coefficients of a fine grid
    s_f = k(s−1)+1 taken at every k-th node are a sample of the same field at the coarse nodes.

    Args:
        n: Number of samples.
        s: Grid points per side (>= 3).
        kind: "piecewise" or "lognormal".
        alpha, tau: GRF parameters (FNO: α = 2, τ = 3).
        seed: Seed or numpy Generator.

    Returns:
        (n, s, s) float64 coefficients, all positive.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 3:
        raise ValueError(f"resolution s must be an integer >= 3 (one interior node), got {s!r}")
    g = gaussian_random_field(n, (int(s), int(s)), alpha, tau, boundary="neumann", rng=seed)
    if kind == "piecewise":
        return np.where(g >= 0.0, 12.0, 4.0)
    return np.exp(g)


def _check_coefficient(a: object, batched_ok: bool) -> np.ndarray:
    arr = np.asarray(a)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"coefficient a must be a real array, got dtype {arr.dtype}")
    allowed = "(s, s) or (n, s, s)" if batched_ok else "(s, s)"
    if arr.ndim not in ((2, 3) if batched_ok else (2,)) or arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"coefficient a must have shape {allowed} (square grid), got {arr.shape}")
    if arr.shape[-1] < 3:
        raise ValueError(f"resolution s = {arr.shape[-1]} is too small: need s >= 3 so that the "
                         "grid has an interior node")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"coefficient a contains {np.count_nonzero(~np.isfinite(arr))} NaN or "
                         "infinite values")
    if np.any(arr <= 0):
        raise ValueError(f"coefficient a must be positive everywhere; min(a) = {arr.min():.4g} "
                         f"at {np.count_nonzero(arr <= 0)} nodes")
    return arr


def _assemble(a: np.ndarray, h: float) -> sp.csr_matrix:
    s = a.shape[0]
    m = s - 2
    ax = 2.0 * a[:-1, :] * a[1:, :] / (a[:-1, :] + a[1:, :])   # faces (i+½, j): (s−1, s)
    ay = 2.0 * a[:, :-1] * a[:, 1:] / (a[:, :-1] + a[:, 1:])   # faces (i, j+½): (s, s−1)
    idx = np.arange(m * m).reshape(m, m)
    diag = ax[:-1, 1:-1] + ax[1:, 1:-1] + ay[1:-1, :-1] + ay[1:-1, 1:]
    cx = ax[1:-1, 1:-1]      # between interior (i, j) and (i+1, j): (m−1, m)
    cy = ay[1:-1, 1:-1]      # between interior (i, j) and (i, j+1): (m, m−1)
    rows = np.concatenate([idx.ravel(), idx[:-1, :].ravel(), idx[1:, :].ravel(),
                           idx[:, :-1].ravel(), idx[:, 1:].ravel()])
    cols = np.concatenate([idx.ravel(), idx[1:, :].ravel(), idx[:-1, :].ravel(),
                           idx[:, 1:].ravel(), idx[:, :-1].ravel()])
    vals = np.concatenate([diag.ravel(), -cx.ravel(), -cx.ravel(), -cy.ravel(), -cy.ravel()])
    return sp.coo_matrix((vals / h**2, (rows, cols)), shape=(m * m, m * m)).tocsr()


def darcy_matrix(a: Float[np.ndarray, "s s"], h: float) -> sp.csr_matrix:
    """The SPD finite-difference matrix of −∇·(a∇·) on the interior nodes (see module docstring).

    Args:
        a: (s, s) positive coefficient on the vertex grid, s >= 3.
        h: Grid spacing (1/(s−1) on the unit square).

    Returns:
        ((s−2)², (s−2)²) CSR matrix; unknown (i, j) (interior indices 1..s−2) is row
        (i−1)(s−2) + (j−1).
    """
    a = _check_coefficient(a, batched_ok=False)
    if not np.isfinite(h) or h <= 0:
        raise ValueError(f"grid spacing h must be finite and positive, got {h!r}")
    return _assemble(a, float(h))


def _solve_one(matrix: sp.csr_matrix, rhs: np.ndarray, method: str, tol: float) -> np.ndarray:
    if method == "direct":
        return spla.spsolve(matrix.tocsc(), rhs)
    ml = pyamg.smoothed_aggregation_solver(matrix, symmetry="symmetric")
    residuals: list[float] = []
    x = ml.solve(rhs, tol=tol, accel="cg", maxiter=500, residuals=residuals)
    rel = np.linalg.norm(rhs - matrix @ x) / max(np.linalg.norm(rhs), np.finfo(float).tiny)
    if not rel <= max(100 * tol, 1e-14):
        raise RuntimeError(f"AMG-CG did not converge: relative residual {rel:.3g} > tol {tol:.3g} "
                           f"after {len(residuals)} iterations; try method='direct'")
    return x


def solve_darcy(a: Float[np.ndarray, "*n s s"], f: float | np.ndarray = 1.0, method: str = "amg",
                tol: float = 1e-10) -> Float[np.ndarray, "*n s s"]:
    """Solve −∇·(a∇u) = f on [0,1]² with u = 0 on the boundary, one linear solve per sample.

    Second order in h for smooth a (see the module docstring for the scheme).

    Args:
        a: (s, s) or (n, s, s) positive coefficients on the vertex grid, s >= 3.
        f: Right-hand side: a number, an (s, s) field shared by all samples, or (n, s, s).
            Only its interior values are used.
        method: "amg" (pyamg smoothed aggregation + CG) or "direct" (scipy spsolve).
        tol: Relative residual tolerance of the AMG iteration.

    Returns:
        u with the shape of a (float64), zero on the boundary nodes.
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise ValueError(f"tol must be a number in (0, 1), got {tol!r}")
    arr = _check_coefficient(a, batched_ok=True)
    batch = arr if arr.ndim == 3 else arr[None]
    n, s = batch.shape[0], batch.shape[-1]
    farr = np.asarray(f, dtype=np.float64)
    if farr.ndim == 0:
        farr = np.full((1, s, s), float(farr))
    elif farr.shape == (s, s):
        farr = farr[None]
    elif farr.shape != (n, s, s):
        raise ValueError(f"f must be a number, ({s}, {s}) or ({n}, {s}, {s}) to match a of shape "
                         f"{arr.shape}, got shape {farr.shape}")
    if not np.all(np.isfinite(farr)):
        raise ValueError("right-hand side f contains NaN or infinite values")
    h = 1.0 / (s - 1)
    u = np.zeros_like(batch)
    for b in range(n):
        rhs = farr[b if farr.shape[0] > 1 else 0, 1:-1, 1:-1].ravel()
        x = _solve_one(_assemble(batch[b], h), rhs, method, tol)
        u[b, 1:-1, 1:-1] = x.reshape(s - 2, s - 2)
    return u if arr.ndim == 3 else u[0]
