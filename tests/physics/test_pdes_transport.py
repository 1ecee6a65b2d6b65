"""Diffusion–sorption and Navier–Stokes vorticity residuals on grids: the reference solvers'
solutions nearly satisfy them, constraint rows, spectral velocity, registry and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sciml.solvers import (
    ds_retardation,
    ns2d_initial_vorticity,
    solve_diffusion_sorption,
    solve_navier_stokes_2d,
)

from sciml.errors import ConfigError
from sciml.physics import (
    DiffusionSorption,
    GridDerivatives,
    NavierStokesVorticity,
    SpaceTimeGrid,
    get_pde,
)


def _ds_solution(nx: int, nt: int) -> torch.Tensor:
    u = solve_diffusion_sorption(np.full((1, nx), 0.1), n_times=nt, method="BDF", rtol=1e-9,
                                 atol=1e-11)
    return torch.tensor(u).permute(0, 2, 1)                     # (1, x, t)


def test_diffusion_sorption_residual_of_the_solver_solution_is_small():
    pde = DiffusionSorption()
    nx, nt = 64, 101
    u = _ds_solution(nx, nt)
    grid = SpaceTimeGrid((nx, nt), (1 / nx,), 500 / (nt - 1), (0.5 / nx,), (False,))
    d = grid.derivatives()
    r = pde.residual(u, d, grid.coordinates())
    late = slice(20, None)                                      # t >= 100: front resolved
    ratio = float(r[..., late].square().mean().sqrt() / d.dt(u)[..., late].square().mean()
                  .sqrt())
    assert ratio < 0.05
    torch.testing.assert_close(pde.retardation(u), torch.tensor(ds_retardation(u.numpy())))


def test_diffusion_sorption_constraint_rows_of_the_solver_solution():
    pde = DiffusionSorption()
    u = _ds_solution(128, 51)
    a, c, where = pde.constraint_rows(u[:, None], None, u[:, :, 0])
    rows = a[..., 0] - c
    nx, nt = 128, 51
    assert rows.shape == (1, nx + 2 * (nt - 1)) and where.shape == (nx + 2 * (nt - 1), 2)
    assert float(rows[:, :nx].abs().max()) == 0.0               # initial rows exact
    assert float(rows[:, nx:].abs().max()) < 2e-2               # boundary rows, 2nd-order fit
    with pytest.raises(ValueError, match="initial must have shape"):
        pde.constraint_rows(u[:, None], None, u[:, :10, 0])


def test_spectral_velocity_of_a_shear_vorticity():
    s = 32
    x = torch.arange(s, dtype=torch.float64) / s
    w = torch.sin(2 * math.pi * x)[:, None, None].expand(s, s, 3)[None]   # (1, x, y, t)
    d = GridDerivatives((1 / s, 1 / s), dt=0.1, periodic=(True, True))
    torch.testing.assert_close(d.velocity(w, 0), torch.zeros_like(w), atol=1e-12, rtol=0)
    expected = -torch.cos(2 * math.pi * x)[:, None, None].expand_as(w[0]) / (2 * math.pi)
    torch.testing.assert_close(d.velocity(w, 1)[0], expected, atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="periodic on both axes"):
        GridDerivatives((0.1, 0.1), dt=0.1, periodic=(True, False)).velocity(w, 0)


def test_navier_stokes_residual_of_the_spectral_solution_converges():
    # FD in space is the dominant error (time steps matter little here): halving h
    # must cut the residual relative to ω_t by more than 2 (second order, rough GRF field).
    fine, nt, t_final, nu = 64, 11, 0.2, 1e-3
    w0 = ns2d_initial_vorticity(1, fine, seed=0)
    traj = solve_navier_stokes_2d(w0, nu, t_final, nt - 1, dt=1e-3)
    full = torch.tensor(np.concatenate([w0[:, None], traj], 1)).permute(0, 2, 3, 1)
    ratios = []
    for s in (32, 64):
        w = full[:, :: fine // s, :: fine // s]
        grid = SpaceTimeGrid((s, s, nt), (1 / s, 1 / s), t_final / (nt - 1), (0.0, 0.0),
                             (True, True))
        d = grid.derivatives()
        r = NavierStokesVorticity(nu=nu).residual(w, d, grid.coordinates())
        scale = d.dt(w)[..., 1:-1].square().mean().sqrt()
        ratios.append(float(r[..., 1:-1].square().mean().sqrt() / scale))
    assert ratios[1] < 0.1 and ratios[1] < ratios[0] / 2, ratios


def test_registry_and_bad_input():
    pde = get_pde("diffusion_sorption", D=1e-3)
    assert isinstance(pde, DiffusionSorption) and pde.D == 1e-3
    assert isinstance(get_pde("navier_stokes_vorticity", nu=1e-4), NavierStokesVorticity)
    with pytest.raises(ConfigError, match="porosity"):
        get_pde("diffusion_sorption", porosity=1.5)
    with pytest.raises(ConfigError, match="unknown key"):
        get_pde("diffusion_sorption", phi=0.3)

    class NoVelocity(GridDerivatives):
        velocity = None

    d = NoVelocity((0.1, 0.1), dt=0.1, periodic=True)
    with pytest.raises(TypeError, match="velocity"):
        NavierStokesVorticity().residual(torch.zeros(1, 8, 8, 4), d, torch.zeros(8, 8, 4, 3))


def test_diffusion_sorption_bdf2_residual_zero_set_is_the_solution():
    # The BDF2 residual on the inner cells (t > 0) with the initial and boundary rows is a
    # square system; marching it one time at a time (Newton) must land near the solver's
    # solution, with every residual and row solved.
    pde = DiffusionSorption()
    nx, nt = 32, 26
    ref = _ds_solution(nx, nt)
    grid = SpaceTimeGrid((nx, nt), (1 / nx,), 500 / (nt - 1), (0.5 / nx,), (False,), "bdf2")
    d, coords, mask = grid.derivatives(), grid.coordinates(), grid.residual_mask(pde)
    assert not mask[:, 0].any() and not mask[[0, -1]].any() and mask[1:-1, 1:].all()
    u = ref[:, :, :1].expand(1, nx, nt).clone()                 # initial state, held
    initial = ref[:, :, 0]

    def equations(level: torch.Tensor, n: int) -> torch.Tensor:
        full = torch.cat([u[..., :n], level[None, :, None], u[..., n + 1:]], dim=-1)
        r = pde.residual(full, d, coords)[0, :, n][mask[:, n]] * pde.t_final
        a, c, _ = pde.constraint_rows(full[:, None], d, initial)
        rows = (a[..., 0] - c)[0]
        return torch.cat([r, rows[nx + n - 1: nx + n], rows[nx + nt - 2 + n: nx + nt - 1 + n]])

    for n in range(1, nt):
        level = u[0, :, n - 1].clone()
        for _ in range(20):
            f = equations(level, n)
            if float(f.abs().max()) < 1e-11:
                break
            level = level - torch.linalg.solve(torch.func.jacfwd(equations)(level, n), f)
        u[0, :, n] = level
        assert float(equations(level, n).abs().max()) < 1e-9
    err = float((u - ref).norm() / ref.norm())
    assert err < 0.02
    central = SpaceTimeGrid((nx, nt), (1 / nx,), 500 / (nt - 1), (0.5 / nx,), (False,))
    assert bool(central.residual_mask(pde).all())
    with pytest.raises(ValueError, match="time_scheme must be one of"):
        SpaceTimeGrid((nx, nt), (1 / nx,), 1.0, (0.5 / nx,), (False,), "euler")
