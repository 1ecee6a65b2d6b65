"""The method of lines on the registered 1-D PDEs: F read from their residuals, agreement with the
exact / spectral / finite-volume references, the Allen–Cahn benchmark, DeepXDE's reference data."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from sciml.solvers import (
    PDERightHandSide,
    ds_retardation,
    pde_rhs,
    solve_burgers_periodic,
    solve_convection,
    solve_diffusion_sorption,
    solve_method_of_lines,
    solve_pde,
    solve_reaction,
    solve_reaction_diffusion,
)

from sciml.physics import PDES, AbstractPDE, get_pde

ONE_D = [name for name in PDES.names() if PDES.get(name)[0].spatial_dims == 1
         and PDES.get(name)[0].n_fields == 1]
SYSTEMS = [name for name in PDES.names() if PDES.get(name)[0].spatial_dims == 1
           and PDES.get(name)[0].n_fields > 1]


def slope(h, errors):
    return np.polyfit(np.log(h), np.log(errors), 1)[0]


def test_every_registered_1d_pde_is_covered():
    assert set(ONE_D) == {"allen_cahn", "burgers", "convection", "diffusion_sorption", "reaction",
                          "reaction_diffusion"}
    assert set(SYSTEMS) == {"brusselator"}


def test_brusselator_rhs_reads_both_fields():
    """The registered two-species system through the adapter, against F written out."""
    gen = np.random.default_rng(2)
    u, ux, uxx = gen.uniform(0.05, 1.0, (3, 40, 2))
    f = pde_rhs(get_pde("brusselator", a=1.0, b=3.0, d_u=0.02, d_v=0.05))
    assert f.n_fields == 2
    s, w = u[:, 0], u[:, 1]
    hand = np.stack([0.02 * uxx[:, 0] + 1.0 - 4.0 * s + s**2 * w,
                     0.05 * uxx[:, 1] + 3.0 * s - s**2 * w], 1)
    np.testing.assert_allclose(f(u, ux, uxx, np.linspace(0, 1, 40), 0.3), hand, rtol=1e-13,
                               atol=1e-15)


# F written out by hand, to check that the adapter reads each residual right
HAND_F = {
    "convection": (dict(beta=3.0, nu=0.2), lambda u, ux, uxx: -3.0 * ux + 0.2 * uxx),
    "burgers": (dict(nu=0.05), lambda u, ux, uxx: -u * ux + 0.05 * uxx),
    "reaction": (dict(rho=4.0), lambda u, ux, uxx: 4.0 * u * (1 - u)),
    "reaction_diffusion": (dict(nu=2.0, rho=4.0),
                           lambda u, ux, uxx: 2.0 * uxx + 4.0 * u * (1 - u)),
    "allen_cahn": (dict(eps=1e-3, gamma=5.0), lambda u, ux, uxx: 1e-3 * uxx - 5 * (u**3 - u)),
    "diffusion_sorption": ({}, lambda u, ux, uxx: 5e-4 / ds_retardation(u) * uxx),
}


@pytest.mark.parametrize("name", ONE_D)
def test_pde_rhs_is_minus_the_residual_without_u_t(name):
    params, hand = HAND_F[name]
    gen = np.random.default_rng(1)
    u, ux, uxx = gen.uniform(0.05, 1.0, (3, 40))
    x = np.linspace(0, 1, 40)
    f = pde_rhs(get_pde(name, **params))
    assert isinstance(f, PDERightHandSide) and f.n_fields == 1
    np.testing.assert_allclose(f(u, ux, uxx, x, 0.3), hand(u, ux, uxx), rtol=1e-13, atol=1e-15)


def test_convection_agrees_with_the_exact_solution_at_second_order():
    """β = 30 (the failure-mode setting), periodic [0, 2π), u0 = sin x: the PDE's own problem."""
    pde = get_pde("convection", beta=30.0)
    ns, errors = [64, 128, 256], []
    for n in ns:
        sol = solve_pde(pde, [0.5, 1.0], n)
        np.testing.assert_allclose(sol.x, np.arange(n) * 2 * np.pi / n)
        exact = solve_convection(np.sin(sol.x), 30.0, 0.0, sol.t)
        errors.append(np.abs(sol.u - exact).max())
    assert abs(slope(1 / np.array(ns), errors) - 2.0) < 0.05, errors


def test_burgers_agrees_with_the_spectral_solver_at_second_order():
    pde = get_pde("burgers", nu=0.1)
    t = np.linspace(0, 1, 6)
    ns, errors = [64, 128, 256, 512], []
    for n in ns:
        sol = solve_pde(pde, t, n)
        errors.append(np.abs(sol.u - solve_burgers_periodic(np.sin(sol.x), 0.1, t)).max())
    assert abs(slope(1 / np.array(ns), errors) - 2.0) < 0.05, errors
    assert errors[-1] < 1e-4


def test_reaction_diffusion_agrees_with_strang_splitting_at_second_order():
    pde = get_pde("reaction_diffusion", nu=3.0, rho=5.0)
    ns, errors = [64, 128, 256], []
    for n in ns:
        sol = solve_pde(pde, [0.5, 1.0], n)
        u0 = np.exp(-((sol.x - np.pi) ** 2) / (2 * (np.pi / 4) ** 2))
        ref = solve_reaction_diffusion(u0, 3.0, 5.0, sol.t, dt=5e-4)
        errors.append(np.abs(sol.u - ref).max())
    assert abs(slope(1 / np.array(ns), errors) - 2.0) < 0.05, errors


def test_reaction_agrees_with_the_exact_logistic_solution():
    sol = solve_pde(get_pde("reaction", rho=5.0), np.linspace(0, 1, 5), 32, rtol=1e-10,
                    atol=1e-12)
    exact = solve_reaction(sol.u[0], 5.0, sol.t)
    np.testing.assert_allclose(sol.u, exact, rtol=0, atol=1e-8)


def test_diffusion_sorption_with_its_robin_outflow_agrees_with_the_finite_volume_solver():
    """The PDE's own boundary conditions (u = 1 at 0; u + D u_x = 0 at 1, a Robin condition) and
    R(u) u_t-free residual; the finite-volume solver on the cell centres is an independent
    second-order discretisation."""
    pde = get_pde("diffusion_sorption")
    t = np.linspace(0, 500, 6)
    diffs = []
    for n in (129, 513):
        sol = solve_pde(pde, t, n, u0=np.full(n, 0.1))
        assert np.all(sol.u[1:, 0] == 1.0)
        centres = (np.arange(n - 1) + 0.5) / (n - 1)
        fv = solve_diffusion_sorption(np.full(n - 1, 0.1), 500.0, 6, method="BDF", rtol=1e-8,
                                      atol=1e-10)
        diffs.append(np.abs(sol.interpolate(centres)[1:] - fv[1:]).max())
    assert diffs[1] < 3e-5 and diffs[1] < diffs[0] / 8, diffs


def allen_cahn_benchmark(n: int) -> object:
    """u_t = 0.001 u_xx − 5 (u³ − u) on [−1, 1] × [0, 1], u0 = x² cos πx, u(±1, t) = −1."""
    pde = get_pde("allen_cahn", eps=0.001, gamma=5.0)
    end = {"kind": "dirichlet", "value": -1.0}
    return solve_pde(pde, np.linspace(0, 1, 101), n, domain=(-1.0, 1.0), left=end, right=end,
                     u0=lambda x: x**2 * np.cos(np.pi * x))


def test_allen_cahn_benchmark_converges_at_second_order():
    x = np.linspace(-1, 1, 201)
    fields = {n: allen_cahn_benchmark(n).interpolate(x) for n in (201, 401, 801, 1601)}
    finest = fields[1601]
    diffs = [np.linalg.norm(fields[n] - finest) / np.linalg.norm(finest) for n in (201, 401, 801)]
    # differences to the finest grid: 1 : 1/4 : 1/16 up to the finest grid's own (1/64) error
    assert 3.0 < diffs[0] / diffs[1] < 5.0 and 4.0 < diffs[1] / diffs[2] < 6.0, diffs
    assert diffs[2] < 5e-5
    np.testing.assert_allclose(finest[:, [0, -1]], -1.0, rtol=0, atol=1e-12)
    assert np.abs(finest).max() < 1.0 + 1e-6
    # the metastable state at t = 1: plateaus near ±1 with interfaces between them
    assert finest[-1].max() > 0.95 and finest[-1].min() < -0.99


def _deepxde_allen_cahn() -> Path | None:
    """DeepXDE's examples/dataset/Allen_Cahn.mat, if this machine has it ($SCIML_ALLEN_CAHN_MAT,
    or the shared data folder); it is not part of the repository."""
    for path in (os.environ.get("SCIML_ALLEN_CAHN_MAT"),
                 Path(__file__).resolve().parents[2].parent / "shared/data/pde/Allen_Cahn.mat"):
        if path and Path(path).is_file():
            return Path(path)
    return None


@pytest.mark.skipif(_deepxde_allen_cahn() is None,
                    reason="DeepXDE's Allen_Cahn.mat is not on this machine "
                           "(set SCIML_ALLEN_CAHN_MAT)")
def test_allen_cahn_agrees_with_deepxde_reference_data():
    from scipy.io import loadmat

    data = loadmat(_deepxde_allen_cahn())
    x, t, ref = data["x"].ravel(), data["t"].ravel(), data["u"]      # u: (t 101, x 201)
    sol = allen_cahn_benchmark(801)
    np.testing.assert_allclose(sol.t, t)
    ours = sol.interpolate(x)
    rel = np.linalg.norm(ours - ref) / np.linalg.norm(ref)
    assert rel < 3e-4 and np.abs(ours - ref).max() < 1e-3, rel


def test_raissi_burgers_agrees_with_deepxde_reference_data(shared_data):
    """The PDE's own Dirichlet problem (u0 = −sin πx on [−1, 1], ν = 0.01/π) against DeepXDE's
    Burgers.npz (x 256 × t 100): the difference falls 4x per refinement down to 1e-4."""
    path = shared_data / "pde" / "Burgers.npz"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    data = np.load(path)
    x, t, ref = data["x"].ravel(), data["t"].ravel(), data["usol"].T    # (t, x)
    pde = get_pde("burgers", nu=0.01 / np.pi, initial="-sin_pi")
    rel = []
    for n in (2049, 4097):
        ours = solve_pde(pde, t, n).interpolate(x)
        rel.append(np.linalg.norm(ours - ref) / np.linalg.norm(ref))
    assert rel[1] < 1.5e-4 and 3.0 < rel[0] / rel[1] < 5.0, rel


@dataclasses.dataclass(frozen=True)
class _Retarded(AbstractPDE):
    """R u_t − u_xx with R = 2: not of the form u_t − F."""

    def residual(self, u, d, coords):
        return 2.0 * d.dt(u) - d.dxx(u)


@dataclasses.dataclass(frozen=True)
class _Conservative(AbstractPDE):
    """u_t + (u²/2)_x: differentiates an expression of u."""

    def residual(self, u, d, coords):
        return d.dt(u) + d.dx(0.5 * u**2)


@dataclasses.dataclass(frozen=True)
class _Mixed(AbstractPDE):
    def residual(self, u, d, coords):
        return d.dt(u) - d.dxt(u)


def _run(pde, **kwargs):
    args = dict(t=[0.1], n=9, domain=(0.0, 1.0), left="dirichlet", right="dirichlet",
                u0=lambda x: np.sin(np.pi * x))
    return solve_pde(pde, **(args | kwargs))


@pytest.mark.parametrize(("pde", "error", "match"), [
    (_Retarded(), ValueError, "coefficient of u_t is not 1"),
    (_Conservative(), ValueError, "d.dx of an expression other than u"),
    (_Mixed(), ValueError, "needs dxt of the derivatives"),
    (get_pde("navier_stokes_vorticity"), ValueError, "spatial_dims = 2"),
    ("burgers", TypeError, "must have a residual"),
])
def test_pdes_the_adapter_cannot_read_are_refused_with_the_reason(pde, error, match):
    with pytest.raises(error, match=match) as info:
        _run(pde)
    assert "\n" not in str(info.value)


def test_missing_standard_problem_parts_are_named():
    with pytest.raises(ValueError, match="has no standard domain"):
        solve_pde(_Retarded(), [0.1], 9)
    with pytest.raises(ValueError, match="give both left and right"):
        _run(get_pde("burgers"), left="periodic", right=None)
    with pytest.raises(ValueError, match="no standard initial condition"):
        solve_pde(get_pde("diffusion_sorption"), [1.0], 9)


@dataclasses.dataclass(frozen=True)
class _TwoSpecies(AbstractPDE):
    """u_t = D_u u_xx − u v, v_t = D_v v_xx + u v − 0.5 v on fields (n, 2); ``by_column``
    differentiates the columns u[:, k] instead of the whole field."""

    n_fields = 2
    by_column: bool = False

    def residual(self, u, d, coords):
        a, b = u[:, 0], u[:, 1]
        if self.by_column:
            u_t = torch.stack([d.dt(a), d.dt(b)], dim=1)
            u_xx = torch.stack([d.dxx(a), d.dxx(b)], dim=1)
        else:
            u_t, u_xx = d.dt(u), d.dxx(u)
        react = torch.stack([-a * b, a * b - 0.5 * b], dim=1)
        return u_t - torch.tensor([0.02, 0.05], dtype=u.dtype) * u_xx - react


@pytest.mark.parametrize("by_column", [False, True])
def test_a_two_field_pde_gives_the_same_solution_as_its_explicit_right_hand_side(by_column):
    def rhs(u, u_x, u_xx, x, t):
        a, b = u[:, 0], u[:, 1]
        return np.stack([0.02 * u_xx[:, 0] - a * b, 0.05 * u_xx[:, 1] + a * b - 0.5 * b], axis=1)

    def u0(x):
        return np.stack([1 + 0.5 * np.cos(np.pi * x), np.exp(-20 * (x - 0.3) ** 2)], axis=1)

    left = [{"kind": "dirichlet", "value": 1.5}, {"kind": "neumann", "value": 0.0}]
    right = [{"kind": "neumann", "value": 0.0}, {"kind": "dirichlet", "value": 0.0}]
    t = np.linspace(0, 2, 5)
    pde = _TwoSpecies(by_column=by_column)
    ours = solve_pde(pde, t, 65, domain=(0.0, 1.0), left=left, right=right, u0=u0,
                     rtol=1e-10, atol=1e-12)
    explicit = solve_method_of_lines(rhs, u0, (0.0, 1.0), t, 65, left, right, n_fields=2,
                                     rtol=1e-10, atol=1e-12)
    assert ours.u.shape == (5, 65, 2)
    np.testing.assert_allclose(ours.u, explicit.u, rtol=0, atol=1e-9)
    assert np.abs(ours.u[-1] - ours.u[0]).max() > 0.1          # it did evolve


def test_a_physics_boundary_condition_object_is_accepted():
    from sciml.physics import BoundaryCondition

    pde = get_pde("reaction_diffusion", nu=0.1, rho=1.0)
    robin = BoundaryCondition(kind="robin", value=0.2, a=1.0, b=0.5)
    sol = solve_pde(pde, [0.5], 41, domain=(0.0, 1.0), left=BoundaryCondition(kind="neumann"),
                    right=robin, u0=lambda x: 0.2 + 0.0 * x, rtol=1e-10, atol=1e-12)
    # the conditions hold at t = 0.5 (one-sided second-order differences at the ends)
    u, h = sol.u[0], sol.x[1] - sol.x[0]
    u_x = (3 * u[-1] - 4 * u[-2] + u[-3]) / (2 * h)
    assert abs(u[-1] + 0.5 * u_x - 0.2) < 1e-3
    assert abs((-3 * u[0] + 4 * u[1] - u[2]) / (2 * h)) < 1e-3
