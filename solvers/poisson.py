"""Steady Poisson and Helmholtz problems on a rectangle with Dirichlet data, finite differences.

    −Δu − k² u = f  in (a, b) × (c, d),    u = g on the boundary,

Poisson for k = 0, Helmholtz otherwise (the steady 2-D reference problems of the physics-informed
jobs). Grid: the n_x × n_y vertex grid x_i = a + i h_x, y_j = c + j h_y including the boundary
nodes, h_x = (b − a)/(n_x − 1), h_y = (d − c)/(n_y − 1); array index [i, j] is the node (x_i, y_j)
(as :mod:`sciml.solvers.darcy`). The interior values are the unknowns; the boundary nodes hold g.

Discretisation: the 5-point Laplacian with the two spacings,

    (−Δ_h u)_{ij} = (2u_{ij} − u_{i+1,j} − u_{i−1,j}) / h_x²
                  + (2u_{ij} − u_{i,j+1} − u_{i,j−1}) / h_y²,

whose boundary neighbours move to the right-hand side. Second order, max |u_h − u| = O(h²) for
smooth u (tests/solvers/test_poisson.py fits the slope). With k = 0 and h_x = h_y the matrix is
:func:`sciml.solvers.darcy_matrix` with a ≡ 1 (tested). The sparse system is solved by a direct
LU (scipy ``spsolve``); for Helmholtz it is indefinite once k² passes the smallest eigenvalue of
−Δ_h and singular at its eigenvalues, which are known in closed form (a resonance is reported as
an error). Below about 10 points per wavelength 2π/k the pollution error of a second-order scheme
grows quickly.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from jaxtyping import Float
from scipy.interpolate import RegularGridInterpolator

__all__ = ["GridSolution2D", "poisson_matrix", "solve_poisson_2d"]

Field2D = float | np.ndarray | Callable[..., Any]


@dataclasses.dataclass(frozen=True)
class GridSolution2D:
    """A field on the vertex grid of a rectangle.

    Attributes:
        x: ``(n_x,)`` nodes along x.
        y: ``(n_y,)`` nodes along y.
        u: ``(n_x, n_y)`` values, ``u[i, j]`` at ``(x[i], y[j])``.
    """

    x: np.ndarray
    y: np.ndarray
    u: np.ndarray

    def interpolate(self, points: Float[np.ndarray, "k 2"]) -> Float[np.ndarray, " k"]:
        """u at points ``(k, 2)`` (columns x, y) inside the rectangle, by cubic interpolation
        of the grid values (linear where the grid has fewer than 4 nodes along an axis)."""
        p = np.asarray(points, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != 2 or not np.all(np.isfinite(p)):
            raise ValueError(f"points must be a finite (k, 2) array, got shape {p.shape}")
        method = "cubic" if min(self.x.size, self.y.size) >= 4 else "linear"
        return RegularGridInterpolator((self.x, self.y), self.u, method=method)(p)


def _extent(value: object, name: str) -> tuple[float, float]:
    ok = isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        and math.isfinite(v) for v in value)
    if not ok or not value[0] < value[1]:
        raise ValueError(f"{name} must be (low, high) with finite low < high, got {value!r}")
    return float(value[0]), float(value[1])


def _shape(shape: object) -> tuple[int, int]:
    ok = isinstance(shape, (tuple, list)) and len(shape) == 2 and all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 3 for s in shape)
    if not ok:
        raise ValueError(f"shape must be (n_x, n_y) with integers >= 3 (one interior node), got "
                         f"{shape!r}")
    return int(shape[0]), int(shape[1])


def _second_difference(m: int, h: float) -> sp.csr_matrix:
    """−d²/dx² on m interior nodes with the boundary neighbours removed: [−1, 2, −1] / h²."""
    return sp.diags([-np.ones(m - 1), 2 * np.ones(m), -np.ones(m - 1)], [-1, 0, 1],
                    format="csr") / (h * h)


def poisson_matrix(shape: tuple[int, int], spacing: tuple[float, float],
                   wavenumber: float = 0.0) -> sp.csr_matrix:
    """The matrix of −Δ_h − k² on the interior nodes (module docstring).

    Args:
        shape: ``(n_x, n_y)`` grid nodes including the boundary, each >= 3.
        spacing: ``(h_x, h_y)``.
        wavenumber: k.

    Returns:
        ``((n_x−2)(n_y−2),) * 2`` CSR matrix; interior node (i, j) (indices from 1) is row
        (i−1)(n_y−2) + (j−1).
    """
    nx, ny = _shape(shape)
    if not (isinstance(spacing, (tuple, list)) and len(spacing) == 2
            and all(isinstance(h, (int, float)) and math.isfinite(h) and h > 0 for h in spacing)):
        raise ValueError(f"spacing must be (h_x, h_y) with finite h > 0, got {spacing!r}")
    k = _wavenumber(wavenumber)
    mx, my = nx - 2, ny - 2
    lap = (sp.kron(_second_difference(mx, spacing[0]), sp.identity(my))
           + sp.kron(sp.identity(mx), _second_difference(my, spacing[1])))
    return (lap - k * k * sp.identity(mx * my)).tocsr()


def _wavenumber(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(f"wavenumber must be a finite number >= 0, got {value!r}")
    return float(value)


def _on_grid(field: Field2D, xx: np.ndarray, yy: np.ndarray, name: str) -> np.ndarray:
    value = field(x=xx, y=yy) if callable(field) else field
    arr = np.asarray(value, dtype=np.float64)
    try:
        arr = np.broadcast_to(arr, xx.shape)
    except ValueError:
        raise ValueError(f"{name} must be a number, an array of shape {xx.shape} or a callable "
                         f"of x, y giving one, got shape {arr.shape}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has {np.count_nonzero(~np.isfinite(arr))} NaN or infinite "
                         f"values on the grid")
    return arr


def solve_poisson_2d(f: Field2D, g: Field2D, x_range: tuple[float, float] = (0.0, 1.0),
                     y_range: tuple[float, float] = (0.0, 1.0),
                     shape: tuple[int, int] = (65, 65), wavenumber: float = 0.0
                     ) -> GridSolution2D:
    """Solve −Δu − k² u = f on a rectangle with u = g on its boundary (module docstring).

    Args:
        f: Source: a number, an ``(n_x, n_y)`` array on the grid, or a callable called as
            ``f(x=X, y=Y)`` with the ``(n_x, n_y)`` node coordinates (a
            :func:`sciml.physics.parse_expression` expression in x, y works as is).
        g: Dirichlet data, the same forms as f; only its boundary values are used.
        x_range, y_range: The rectangle (a, b) × (c, d).
        shape: ``(n_x, n_y)`` nodes including the boundary, each >= 3.
        wavenumber: k >= 0 (0: Poisson).

    Returns:
        A :class:`GridSolution2D` with ``u`` ``(n_x, n_y)``, equal to g on the boundary.

    Raises:
        ValueError: a bad argument (named), or a singular Helmholtz matrix (k² an eigenvalue
            of −Δ_h).
    """
    (a, b), (c, d) = _extent(x_range, "x_range"), _extent(y_range, "y_range")
    nx, ny = _shape(shape)
    k = _wavenumber(wavenumber)
    x, y = np.linspace(a, b, nx), np.linspace(c, d, ny)
    hx, hy = (b - a) / (nx - 1), (d - c) / (ny - 1)
    xx, yy = np.meshgrid(x, y, indexing="ij")
    source = _on_grid(f, xx, yy, "f")
    data = _on_grid(g, xx, yy, "g")
    u = np.zeros((nx, ny))
    u[0, :], u[-1, :], u[:, 0], u[:, -1] = data[0, :], data[-1, :], data[:, 0], data[:, -1]
    rhs = source[1:-1, 1:-1].copy()
    rhs[0, :] += u[0, 1:-1] / hx**2
    rhs[-1, :] += u[-1, 1:-1] / hx**2
    rhs[:, 0] += u[1:-1, 0] / hy**2
    rhs[:, -1] += u[1:-1, -1] / hy**2
    if k > 0:
        # eigenvalues of −Δ_h with Dirichlet ends: Σ (4/h²) sin²(p π / (2 (n − 1))), p = 1..n−2
        lam_x = 4 / hx**2 * np.sin(np.arange(1, nx - 1) * np.pi / (2 * (nx - 1))) ** 2
        lam_y = 4 / hy**2 * np.sin(np.arange(1, ny - 1) * np.pi / (2 * (ny - 1))) ** 2
        gap = np.abs(lam_x[:, None] + lam_y[None, :] - k * k).min()
        if gap <= 1e-9 * k * k:
            raise ValueError(f"the Helmholtz matrix is singular for wavenumber {k:g} on this "
                             f"grid (k² is an eigenvalue of the discrete Laplacian); change k "
                             f"or the grid")
    matrix = poisson_matrix((nx, ny), (hx, hy), k).tocsc()
    inner = spla.spsolve(matrix, rhs.ravel())
    if not np.all(np.isfinite(inner)):
        raise ValueError(f"the finite-difference solve gave non-finite values (wavenumber "
                         f"{k:g}, grid {nx} x {ny})")
    u[1:-1, 1:-1] = inner.reshape(nx - 2, ny - 2)
    return GridSolution2D(x=x, y=y, u=u)
