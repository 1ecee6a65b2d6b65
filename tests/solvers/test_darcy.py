"""Darcy flow: second-order convergence on a manufactured solution, AMG = direct, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sciml.solvers import darcy_coefficients, darcy_matrix, solve_darcy

PI = np.pi


def manufactured(s: int):
    """u = sin(πx) sin(πy) eˣ with a = 1 + ½ sin 2πx cos 2πy; f = −∇·(a∇u) by hand."""
    x = np.linspace(0.0, 1.0, s)
    xx, yy = np.meshgrid(x, x, indexing="ij")
    a = 1 + 0.5 * np.sin(2 * PI * xx) * np.cos(2 * PI * yy)
    a_x = PI * np.cos(2 * PI * xx) * np.cos(2 * PI * yy)
    a_y = -PI * np.sin(2 * PI * xx) * np.sin(2 * PI * yy)
    ex, sx, cx = np.exp(xx), np.sin(PI * xx), np.cos(PI * xx)
    sy, cy = np.sin(PI * yy), np.cos(PI * yy)
    u = sx * sy * ex
    u_x = (PI * cx + sx) * ex * sy
    u_y = PI * sx * cy * ex
    u_xx = (-(PI**2) * sx + 2 * PI * cx + sx) * ex * sy
    u_yy = -(PI**2) * u
    f = -(a_x * u_x + a_y * u_y + a * (u_xx + u_yy))
    return a, f, u


@pytest.mark.parametrize("method", ["amg", "direct"])
def test_second_order_convergence(method):
    sizes = [9, 17, 33, 65]
    errors = []
    for s in sizes:
        a, f, u = manufactured(s)
        errors.append(np.abs(solve_darcy(a, f, method=method) - u).max())
    h = 1.0 / (np.array(sizes) - 1)
    slope = np.polyfit(np.log(h), np.log(errors), 1)[0]
    assert abs(slope - 2.0) < 0.1, (slope, errors)
    assert errors[-1] < 1e-3


def test_amg_matches_direct_on_piecewise_coefficients():
    a = darcy_coefficients(2, 33, seed=3)
    u_amg = solve_darcy(a, method="amg", tol=1e-12)
    u_dir = solve_darcy(a, method="direct")
    assert u_amg.shape == (2, 33, 33)
    np.testing.assert_allclose(u_amg, u_dir, rtol=0, atol=1e-10 * np.abs(u_dir).max())
    # zero Dirichlet boundary, positive interior for f = 1 (maximum principle)
    assert np.all(u_amg[:, 0, :] == 0) and np.all(u_amg[:, :, -1] == 0)
    assert np.all(u_dir[:, 1:-1, 1:-1] > 0)
    # one sample alone gives the same field; f as a field equals f as a number
    np.testing.assert_allclose(solve_darcy(a[1], np.ones((33, 33)), method="direct"), u_dir[1])


def test_matrix_is_symmetric_and_reduces_to_the_laplacian():
    rng = np.random.default_rng(0)
    a = rng.uniform(1.0, 5.0, (6, 6))
    m = darcy_matrix(a, 0.2)
    assert m.shape == (16, 16)
    dense = m.toarray()
    np.testing.assert_allclose(dense, dense.T)
    assert np.linalg.eigvalsh(dense).min() > 0
    # harmonic mean of the two nodes on the face between interior (1,1) and (2,1)
    assert dense[0, 4] == pytest.approx(-2 * a[1, 1] * a[2, 1] / (a[1, 1] + a[2, 1]) / 0.04)
    lap = darcy_matrix(np.ones((5, 5)), 0.25).toarray()
    assert np.all(np.diag(lap) == 4 / 0.0625)
    assert np.count_nonzero(lap) == 9 + 2 * 12


def test_coefficients_piecewise_and_lognormal():
    a = darcy_coefficients(4, 29, kind="piecewise", seed=1)
    assert a.shape == (4, 29, 29)
    assert set(np.unique(a)) == {4.0, 12.0}
    np.testing.assert_array_equal(a, darcy_coefficients(4, 29, seed=1))
    g = darcy_coefficients(4, 29, kind="lognormal", seed=1)
    assert np.all(g > 0)
    # both maps threshold / exponentiate the same field
    np.testing.assert_array_equal(a == 12.0, g >= 1.0)


@pytest.mark.parametrize(
    ("a", "exc", "match"),
    [
        (np.full((9, 9), np.nan), ValueError, "NaN"),
        (np.full((9, 9), -1.0), ValueError, "positive"),
        (np.zeros((9, 9)), ValueError, "positive"),
        (np.ones((9, 8)), ValueError, "square"),
        (np.ones((2, 3, 9, 9)), ValueError, "shape"),
        (np.ones((2, 2)), ValueError, "too small"),
        (np.ones((9, 9), dtype=complex), TypeError, "real"),
    ],
)
def test_bad_coefficients(a, exc, match):
    with pytest.raises(exc, match=match):
        solve_darcy(a)


def test_bad_arguments():
    with pytest.raises(ValueError, match="f must be"):
        solve_darcy(np.ones((9, 9)), f=np.ones((8, 8)))
    with pytest.raises(ValueError, match="NaN"):
        solve_darcy(np.ones((9, 9)), f=np.full((9, 9), np.nan))
    with pytest.raises(ValueError, match="method"):
        solve_darcy(np.ones((9, 9)), method="jacobi")
    with pytest.raises(ValueError, match="kind"):
        darcy_coefficients(1, 9, kind="binary")
    with pytest.raises(ValueError, match="resolution"):
        darcy_coefficients(1, 2)
    with pytest.raises(ValueError, match="spacing"):
        darcy_matrix(np.ones((5, 5)), 0.0)
