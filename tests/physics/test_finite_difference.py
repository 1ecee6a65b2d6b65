"""Finite-difference derivatives on grids: exactness on quadratics, convergence order 2 on
analytic functions (log-log slope), periodic wrap, Grid boundaries, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sciml.data import Grid
from sciml.physics import GridDerivatives, fd_first, fd_second


def _slope(hs: list[float], errors: list[float]) -> float:
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])


def test_quadratics_are_exact_including_the_ends() -> None:
    x = torch.linspace(0.0, 1.0, 9, dtype=torch.float64)
    h = float(x[1] - x[0])
    u = 3 * x**2 - 2 * x + 1
    torch.testing.assert_close(fd_first(u, 0, h), 6 * x - 2)
    torch.testing.assert_close(fd_second(u, 0, h), torch.full_like(x, 6.0))


@pytest.mark.parametrize("periodic", [False, True])
def test_second_order_convergence(periodic: bool) -> None:
    hs, e1, e2 = [], [], []
    for n in (16, 32, 64, 128):
        if periodic:
            x = torch.arange(n, dtype=torch.float64) / n * 2 * math.pi
            h = 2 * math.pi / n
            u, du, d2u = torch.sin(x), torch.cos(x), -torch.sin(x)
        else:
            x = torch.linspace(0.0, 1.0, n + 1, dtype=torch.float64)
            h = 1.0 / n
            u, du, d2u = torch.exp(2 * x), 2 * torch.exp(2 * x), 4 * torch.exp(2 * x)
        hs.append(h)
        e1.append(float((fd_first(u, 0, h, periodic) - du).abs().max()))
        e2.append(float((fd_second(u, 0, h, periodic) - d2u).abs().max()))
    assert 1.8 < _slope(hs, e1) < 2.3
    assert 1.8 < _slope(hs, e2) < 2.3


def test_grid_derivatives_space_time_layout_and_convergence() -> None:
    """u(x, y, t) = sin(2πx) exp(y) cos t on (b, c, x, y, t); x periodic, y not."""
    hs, errors = [], []
    for n in (16, 32, 64):
        x = torch.arange(n, dtype=torch.float64) / n
        y = torch.linspace(0, 1, n + 1, dtype=torch.float64)
        t = torch.linspace(0, 1, n + 1, dtype=torch.float64)
        X, Y, T = torch.meshgrid(x, y, t, indexing="ij")
        u = (torch.sin(2 * math.pi * X) * torch.exp(Y) * torch.cos(T)).expand(2, 3, -1, -1, -1)
        d = GridDerivatives((1.0 / n, 1.0 / n), dt=1.0 / n, periodic=(True, False))
        exact = {
            "dt": -torch.sin(2 * math.pi * X) * torch.exp(Y) * torch.sin(T),
            "dx": 2 * math.pi * torch.cos(2 * math.pi * X) * torch.exp(Y) * torch.cos(T),
            "dyy": torch.sin(2 * math.pi * X) * torch.exp(Y) * torch.cos(T),
            "lap": (1 - 4 * math.pi**2) * torch.sin(2 * math.pi * X) * torch.exp(Y)
            * torch.cos(T),
        }
        got = {"dt": d.dt(u), "dx": d.dx(u, 0), "dyy": d.dxx(u, 1), "lap": d.laplacian(u)}
        for v in got.values():
            assert v.shape == u.shape
        hs.append(1.0 / n)
        errors.append([float((got[k] - exact[k]).abs().max()) for k in exact])
    errors_arr = np.array(errors)
    for j in range(errors_arr.shape[1]):
        assert 1.8 < _slope(hs, list(errors_arr[:, j])) < 2.4


def test_from_grid_reads_periodic_boundaries() -> None:
    g = Grid(torch.zeros(1, 1, 8, 10), bc=("periodic", "dirichlet"), centering="vertex")
    d = GridDerivatives.from_grid(g)
    assert d.periodic == (True, False)
    assert d.spacing == pytest.approx((1 / 8, 1 / 9))
    with pytest.raises(ValueError, match="no time axis"):
        d.dt(g.u)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="spacing"):
        GridDerivatives(0.0)
    with pytest.raises(ValueError, match="periodic"):
        GridDerivatives((0.1, 0.1), periodic=(True,))
    with pytest.raises(ValueError, match="need >= 4 points"):
        fd_second(torch.zeros(3), 0, 0.1)
    d = GridDerivatives(0.1, dt=0.1)
    with pytest.raises(ValueError, match="axis"):
        d.dx(torch.zeros(5, 5), axis=1)
    with pytest.raises(ValueError, match="trailing grid axes"):
        d.dx(torch.zeros(5))


def test_bdf2_time_differences() -> None:
    # Backward Euler (second time) is exact for linear t, BDF2 (after it) for quadratic t;
    # the first time has no backward neighbour and is zero.
    dt = 0.25
    t = torch.arange(7, dtype=torch.float64) * dt
    d = GridDerivatives(0.1, dt=dt, time_scheme="bdf2")
    u = (2.0 + 3.0 * t + 1.5 * t**2).expand(4, 7)                # (x, t)
    got = d.dt(u)
    torch.testing.assert_close(got[:, 2:], (3.0 + 3.0 * t[2:]).expand(4, 5))
    assert float(got[:, 0].abs().max()) == 0.0
    lin = (1.0 - 2.0 * t).expand(4, 7)
    torch.testing.assert_close(d.dt(lin)[:, 1:], torch.full((4, 6), -2.0, dtype=torch.float64))
    assert "bdf2" in repr(d)
    with pytest.raises(ValueError, match="time_scheme must be one of"):
        GridDerivatives(0.1, dt=dt, time_scheme="leapfrog")
    with pytest.raises(ValueError, match=">= 3 times"):
        d.dt(u[:, :2])
