"""Helmholtz with variable wave speed: second-order convergence, benchmark setting, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sciml.solvers import helmholtz_top_flux, helmholtz_wave_speed, solve_helmholtz

PI = np.pi


def manufactured(s: int, omega: float):
    """u = cos πx cos(πy/2): ∂u/∂n = 0 on x = 0, 1 and y = 0; ∂u/∂y = −(π/2) cos πx on y = 1."""
    x = np.linspace(0.0, 1.0, s)
    xx, yy = np.meshgrid(x, x, indexing="ij")
    c = 1.0 + 0.3 * np.sin(PI * xx) * np.cos(2 * PI * yy)
    u = np.cos(PI * xx) * np.cos(PI * yy / 2)
    f = (PI**2 + PI**2 / 4) * u - (omega / c) ** 2 * u
    return c, f, u, -(PI / 2) * np.cos(PI * x)


def test_second_order_convergence():
    sizes, omega = [9, 17, 33, 65], 4.0
    errors = []
    for s in sizes:
        c, f, u, g = manufactured(s, omega)
        errors.append(np.abs(solve_helmholtz(c, omega, top_flux=g, f=f) - u).max())
    slope = np.polyfit(np.log(1.0 / (np.array(sizes) - 1)), np.log(errors), 1)[0]
    assert abs(slope - 2.0) < 0.15, errors


def test_benchmark_setting_is_a_wave_driven_from_the_top():
    c = helmholtz_wave_speed(2, 101, seed=0)
    assert c.shape == (2, 101, 101) and np.all((c > 19) & (c < 21))
    u = solve_helmholtz(c)
    assert u.shape == (2, 101, 101) and np.all(np.isfinite(u))
    # the discrete equation holds at an interior node
    h = 0.01
    i, j = 40, 60
    v = u[0]
    lap = (4 * v[i, j] - v[i + 1, j] - v[i - 1, j] - v[i, j + 1] - v[i, j - 1]) / h**2
    assert abs(lap - (1000.0 / c[0, i, j]) ** 2 * u[0, i, j]) < 1e-8 * abs(lap) + 1e-8
    # different media give different fields; the same medium alone gives the same field
    assert not np.allclose(u[0], u[1])
    np.testing.assert_allclose(solve_helmholtz(c[1]), u[1])
    g = helmholtz_top_flux(101)
    assert g.sum() == 31 and g[35] == 1 and g[34] == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"c": np.full((9, 9), np.nan)}, "NaN"),
        ({"c": np.zeros((9, 9))}, "positive"),
        ({"c": np.ones((9, 8))}, "square"),
        ({"c": np.ones((2, 2))}, "too small"),
        ({"omega": -1.0}, "omega"),
        ({"top_flux": np.ones(4)}, "top_flux"),
        ({"top_flux": "dirichlet"}, "top_flux"),
        ({"f": np.ones((3, 3))}, "f must be"),
    ],
)
def test_bad_input(kwargs, match):
    args = {"c": np.ones((9, 9))} | kwargs
    with pytest.raises(ValueError, match=match):
        solve_helmholtz(**args)
