"""Poisson / Helmholtz with Dirichlet data on a rectangle: second order, the Darcy matrix for
a ≡ 1, expressions as data, resonance and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sciml.solvers import GridSolution2D, darcy_matrix, poisson_matrix, solve_poisson_2d

from sciml.physics import parse_expression


def exact(x, y):
    """Nonzero on every side of [0, 2] × [−1, 1]."""
    return np.exp(x) * np.sin(2 * y) + x**2 * y


def minus_laplacian(x, y):
    return 3 * np.exp(x) * np.sin(2 * y) - 2 * y


@pytest.mark.parametrize("k", [0.0, 5.0])
def test_second_order_convergence_on_a_rectangle_with_unequal_spacings(k):
    ns, errors = [9, 17, 33, 65, 129], []
    for n in ns:
        sol = solve_poisson_2d(lambda x, y: minus_laplacian(x, y) - k * k * exact(x, y), exact,
                               (0.0, 2.0), (-1.0, 1.0), (2 * n - 1, n), wavenumber=k)
        assert sol.u.shape == (2 * n - 1, n)
        xx, yy = np.meshgrid(sol.x, sol.y, indexing="ij")
        np.testing.assert_array_equal(sol.u[0], exact(xx[0], yy[0]))   # boundary holds g
        errors.append(np.abs(sol.u - exact(xx, yy)).max())
    slope = np.polyfit(np.log(2.0 / (np.array(ns) - 1)), np.log(errors), 1)[0]
    assert abs(slope - 2.0) < 0.05, errors


def test_matrix_is_the_darcy_matrix_with_unit_coefficient_on_a_square():
    s = 9
    difference = poisson_matrix((s, s), (1 / (s - 1), 1 / (s - 1))) - darcy_matrix(
        np.ones((s, s)), 1 / (s - 1))
    assert abs(difference).max() < 1e-9


def test_expressions_as_source_and_boundary_data_and_interpolation():
    """u = sin(πx) sinh(πy) / sinh(π) is harmonic; data as text."""
    sol = solve_poisson_2d(parse_expression("0", variables=("x", "y")),
                           parse_expression("sin(pi*x) * sinh(pi*y) / sinh(pi)",
                                            variables=("x", "y")), shape=(81, 81))
    assert isinstance(sol, GridSolution2D)
    points = np.random.default_rng(0).uniform(0, 1, (50, 2))
    want = np.sin(np.pi * points[:, 0]) * np.sinh(np.pi * points[:, 1]) / np.sinh(np.pi)
    np.testing.assert_allclose(sol.interpolate(points), want, atol=2e-4)


def test_helmholtz_at_a_discrete_eigenvalue_is_a_resonance_error():
    h = 1 / 8
    k = np.sqrt(2 * 4 / h**2 * np.sin(np.pi * h / 2) ** 2)    # the (1, 1) eigenvalue on 9 × 9
    with pytest.raises(ValueError, match="singular for wavenumber"):
        solve_poisson_2d(0.0, 1.0, shape=(9, 9), wavenumber=k)
    assert np.all(np.isfinite(solve_poisson_2d(0.0, 1.0, shape=(9, 9), wavenumber=k + 0.1).u))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"shape": (2, 9)}, "shape must be"),
    ({"shape": (9,)}, "shape must be"),
    ({"x_range": (1.0, 0.0)}, "x_range must be"),
    ({"y_range": (0.0, float("inf"))}, "y_range must be"),
    ({"wavenumber": -1.0}, "wavenumber must be"),
    ({"f": np.ones((3, 3))}, r"f must be a number, an array of shape \(9, 9\)"),
    ({"g": lambda x, y: x / 0.0 * 0.0}, "g has 81 NaN"),
    ({"f": float("nan")}, "f has 81 NaN"),
])
def test_bad_input(kwargs, match):
    args = {"f": 1.0, "g": 0.0, "shape": (9, 9)} | kwargs
    with pytest.raises(ValueError, match=match) as info:
        with np.errstate(all="ignore"):
            solve_poisson_2d(**args)
    assert "\n" not in str(info.value)
