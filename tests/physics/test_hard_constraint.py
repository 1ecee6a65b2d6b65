"""Hard-constraint solver: implicit gradients (gradcheck, closed form), constraints met after the
solve (and not by a soft-constraint fit), batched experts = separate solves (each iteration on
the unfinished problems only), the layer's Jacobian and Hessian against autodiff, per-expert
non-convergence reports, the global warm start of the experts, and bad input."""

from __future__ import annotations

import dataclasses
import math
import warnings

import pytest
import torch

from sciml.errors import NonFiniteError
from sciml.physics import (
    AbstractPDE,
    ConstraintSolveError,
    ConstraintSolveWarning,
    HardConstraintLayer,
    LMSettings,
    SpaceTimeGrid,
    expert_partition,
    implicit_least_squares,
    levenberg_marquardt,
)


def _cubic_residual(w, a, c):
    u = (a @ w[..., None])[..., 0]
    return u + 0.1 * u**2 - c


@dataclasses.dataclass(frozen=True)
class _ReactionHeat(AbstractPDE):
    """u_t − κ u_xx + u²/2 = 0 with one initial row u(x_0, 0) = u0[0] (few rows: solvable)."""

    kappa: float = 0.1
    spatial_dims = 1

    def residual(self, u, d, coords):
        return d.dt(u) - self.kappa * d.dxx(u) + 0.5 * u * u

    def constraint_rows(self, basis, d, initial):
        a = basis[:, :, 0:1, 0].transpose(1, 2)
        where = torch.zeros(1, 2, dtype=torch.long)
        return a, initial[:, :1], where


def _smooth_basis(b: int, n: int, shape: tuple[int, int], seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.linspace(0, 1, shape[0], dtype=torch.float64)[:, None]
    t = torch.linspace(0, 1, shape[1], dtype=torch.float64)[None]
    coef = torch.randn(b, n, 3, 4, generator=g, dtype=torch.float64)
    out = torch.zeros(b, n, *shape, dtype=torch.float64)
    for i in range(3):
        for j in range(4):
            out += coef[:, :, i, j, None, None] * torch.cos(math.pi * (i * x + 0.5 * j * t) + j)
    return out


def _grid(nx: int = 12, nt: int = 8) -> SpaceTimeGrid:
    return SpaceTimeGrid((nx, nt), (1.0 / nx,), 1.0 / (nt - 1), (0.5 / nx,), (False,))


def test_implicit_gradient_gradcheck_float64():
    torch.manual_seed(0)
    a = torch.randn(2, 10, 3, dtype=torch.float64, requires_grad=True)
    c = (0.3 * torch.randn(2, 10, dtype=torch.float64)).requires_grad_()
    settings = LMSettings(tol=1e-9, ridge=1e-3)

    def solve(a, c):
        return implicit_least_squares(_cubic_residual, torch.zeros(2, 3, dtype=torch.float64),
                                      (a, c), settings)[0]

    assert torch.autograd.gradcheck(solve, (a, c), eps=1e-3, atol=1e-5, rtol=1e-3,
                                    fast_mode=True)


def test_implicit_gradient_matches_closed_form_ridge_regression():
    torch.manual_seed(1)
    a = torch.randn(2, 30, 5, dtype=torch.float64, requires_grad=True)
    c = torch.randn(2, 30, dtype=torch.float64, requires_grad=True)
    lam = 1e-2
    w, info = implicit_least_squares(lambda w, a, c: (a @ w[..., None])[..., 0] - c,
                                     torch.zeros(2, 5, dtype=torch.float64), (a, c),
                                     LMSettings(tol=1e-12, ridge=lam, on_fail="warn"))
    eye = torch.eye(5, dtype=torch.float64)
    exact = torch.linalg.solve(a.transpose(1, 2) @ a + lam * eye,
                               a.transpose(1, 2) @ c[..., None])[..., 0]
    torch.testing.assert_close(w, exact, atol=1e-9, rtol=1e-9)
    v = torch.randn_like(w)
    g_implicit = torch.autograd.grad((w * v).sum(), (a, c))
    g_exact = torch.autograd.grad((exact * v).sum(), (a, c))
    for gi, ge in zip(g_implicit, g_exact, strict=True):
        torch.testing.assert_close(gi, ge, atol=1e-8, rtol=1e-7)


def test_layer_gradcheck_through_the_basis():
    grid = _grid(6, 5)
    layer = HardConstraintLayer(_ReactionHeat(), grid, n_points=6, experts=(2, 1),
                                lm=LMSettings(tol=1e-9, ridge=1e-2))
    basis = (0.3 * _smooth_basis(1, 3, grid.shape)).requires_grad_()
    initial = torch.full((1, 6), 0.5, dtype=torch.float64)

    def run(basis):
        return layer(basis, initial, torch.Generator().manual_seed(3))[0]

    assert torch.autograd.gradcheck(run, (basis,), eps=1e-4, atol=1e-5, rtol=1e-3,
                                    fast_mode=True)


def test_constraints_hold_after_the_solve_but_not_after_a_soft_fit():
    grid = _grid()
    tol = 1e-8
    layer = HardConstraintLayer(_ReactionHeat(), grid, n_points=10, experts=(1, 1),
                                lm=LMSettings(tol=tol, ridge=1e-14))
    basis = _smooth_basis(2, 16, grid.shape)
    initial = torch.full((2, 12), 0.7, dtype=torch.float64)
    gen = torch.Generator().manual_seed(5)
    u, info = layer(basis, initial, gen)
    assert bool(info.converged.all()) and float(info.rms.max()) < tol
    # The residual at the sampled points, recomputed from the returned field.
    idx = layer.sample(torch.Generator().manual_seed(5))[0]
    r = layer.pde.residual(u, layer.d, layer.grid.coordinates().reshape(*grid.shape, 2)[..., 0])
    assert float(r.flatten(1)[:, idx].abs().max()) < 1e-6
    assert torch.allclose(u[:, 0, 0], initial[:, 0], atol=1e-7)
    # Soft constraint: the same weights fitted by Adam on the same squared residual.
    w = torch.zeros(2, 16, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w], lr=1e-2)
    for _ in range(300):
        u_soft = torch.einsum("bnxt,bn->bxt", basis, w)
        r_soft = layer.pde.residual(u_soft, layer.d, None).flatten(1)[:, idx]
        loss = r_soft.square().mean() + (u_soft[:, 0, 0] - initial[:, 0]).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    rms_soft = float(r_soft.detach().square().mean().sqrt())
    assert rms_soft > 100 * tol


def test_batched_experts_equal_separate_solves():
    torch.manual_seed(2)
    a = torch.randn(4, 15, 3, dtype=torch.float64)
    c = 0.2 * torch.randn(4, 15, dtype=torch.float64)
    settings = LMSettings(tol=1e-12, ridge=1e-6, on_fail="warn")
    w_all, _ = levenberg_marquardt(_cubic_residual, torch.zeros(4, 3, dtype=torch.float64),
                                   (a, c), settings)
    for p in range(4):
        w_p, _ = levenberg_marquardt(_cubic_residual, torch.zeros(1, 3, dtype=torch.float64),
                                     (a[p:p + 1], c[p:p + 1]), settings)
        torch.testing.assert_close(w_all[p:p + 1], w_p, atol=1e-9, rtol=1e-9)


def test_solver_works_only_on_the_problems_not_yet_converged():
    torch.manual_seed(3)
    a = torch.randn(3, 15, 3, dtype=torch.float64)
    c = torch.stack([torch.zeros(15), 0.01 * torch.randn(15), 0.5 * torch.randn(15)]).double()
    batch_sizes = []

    def recording(w, a, c):
        batch_sizes.append(w.shape[0])
        return _cubic_residual(w, a, c)

    settings = LMSettings(tol=1e-10, ridge=1e-6, on_fail="warn")
    w, info = levenberg_marquardt(recording, torch.zeros(3, 3, dtype=torch.float64), (a, c),
                                  settings)
    # Problem 0 starts at its solution; problem 1 (small data) finishes before problem 2.
    assert int(info.iterations[0]) == 0 and bool(info.converged.all())
    assert int(info.iterations[1]) < int(info.iterations[2])
    assert batch_sizes[0] == 3 and max(batch_sizes[1:]) == 2 and min(batch_sizes[1:]) == 1
    # Each iteration evaluates the unfinished problems only.
    assert sum(batch_sizes[1:]) == int(info.iterations.sum())
    for p in range(3):
        w_p, _ = levenberg_marquardt(_cubic_residual, torch.zeros(1, 3, dtype=torch.float64),
                                     (a[p:p + 1], c[p:p + 1]), settings)
        torch.testing.assert_close(w[p:p + 1], w_p, atol=1e-12, rtol=1e-12)
    with pytest.raises(ValueError, match=r"args\[1\] must have the 3 problems"):
        levenberg_marquardt(_cubic_residual, torch.zeros(3, 3, dtype=torch.float64),
                            (a, c[:2]), settings)


@pytest.mark.parametrize("case", ["diffusion_sorption central", "diffusion_sorption bdf2",
                                  "navier_stokes central"])
def test_layer_jacobian_and_hessian_from_pointwise_derivatives_equal_autodiff(case):
    from sciml.physics import DiffusionSorption, NavierStokesVorticity
    from sciml.physics._hard_constraint import _jacobian

    name, scheme = case.split()
    if name == "diffusion_sorption":
        pde = DiffusionSorption()
        grid = SpaceTimeGrid((16, 9), (1 / 16,), 500 / 8, (1 / 32,), (False,), scheme)
        experts, initial, pde_weight = (2, 1), torch.rand(2, 16, dtype=torch.float64), 500.0
    else:
        pde = NavierStokesVorticity(nu=1e-3)
        grid = SpaceTimeGrid((8, 8, 5), (1 / 8, 1 / 8), 0.25, (0.0, 0.0), (True, True), scheme)
        experts, initial, pde_weight = (2, 2, 1), torch.randn(2, 8, 8, dtype=torch.float64), 1.0
    layer = HardConstraintLayer(pde, grid, n_points=40, experts=experts, row_scale=3.0,
                                pde_weight=pde_weight)
    g = torch.Generator().manual_seed(0)
    basis = torch.rand(2, 5, *grid.shape, generator=g, dtype=torch.float64) + 0.1
    ops, coords = layer._gather(layer.operators(basis), layer.sample(g))
    a, c = layer._rows(basis, initial)
    args = (*ops, coords, a, c)
    w = torch.rand(a.shape[0], 5, generator=g, dtype=torch.float64)      # u > 0: R(u) smooth
    r, jac = layer._residual_and_jacobian(w, *args)
    r_ad, jac_ad = _jacobian(layer._residual, w, args)
    torch.testing.assert_close(r, r_ad, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(jac, jac_ad, atol=1e-10, rtol=1e-10)
    assert float(jac[:, : ops[0].shape[1]].abs().max()) > 1e-3     # the PDE rows are not empty
    # The exact Hessian of ½‖r‖² (curvature of the nonlinear PDE included), per problem.
    hess = layer._hessian(w, *args)
    for p in range(w.shape[0]):
        one = tuple(x[p:p + 1] for x in args)

        def half_square(v, one=one):
            return 0.5 * layer._residual(v[None], *one).square().sum()

        exact = torch.autograd.functional.hessian(half_square, w[p])
        torch.testing.assert_close(hess[p], exact, atol=1e-9, rtol=1e-9)
        curvature = exact - jac[p].T @ jac[p]
        assert float(curvature.abs().max()) > 1e-6 * float(exact.abs().max())


def test_moe_field_is_each_experts_combination_on_its_block():
    grid = _grid(16, 8)
    layer = HardConstraintLayer(_ReactionHeat(), grid, n_points=160, experts=(4, 1),
                                lm=LMSettings(tol=1e-8, ridge=1e-6))
    basis = _smooth_basis(1, 10, grid.shape, seed=4)
    u, info = layer(basis, torch.full((1, 16), 0.3, dtype=torch.float64),
                    torch.Generator().manual_seed(0))
    assert info.iterations.shape == (1, 4)
    ids = expert_partition(grid.shape, (4, 1)).reshape(grid.shape)
    for k in range(4):
        block = ids == k
        assert int(block.sum()) == 4 * 8
        # On its block, u is one fixed combination of the basis: solve for it and check.
        bk = basis[0][:, block].T
        w_k = torch.linalg.lstsq(bk, u[0][block][:, None]).solution
        torch.testing.assert_close(bk @ w_k, u[0][block][:, None], atol=1e-8, rtol=1e-8)


def test_nonconvergence_is_reported_per_expert():
    grid = _grid(16, 8)
    basis = _smooth_basis(1, 12, grid.shape, seed=6)
    initial = torch.full((1, 16), 0.3, dtype=torch.float64)
    strict = LMSettings(max_iter=1, tol=1e-14, ridge=1e-12, on_fail="warn")
    layer = HardConstraintLayer(_ReactionHeat(), grid, n_points=200, experts=(2, 1), lm=strict)
    with pytest.warns(ConstraintSolveWarning, match=r"sample 0 expert 1: RMS residual"):
        _, info = layer(basis, initial)
    assert not bool(info.converged.any())
    layer.lm = dataclasses.replace(strict, on_fail="raise")
    with pytest.raises(ConstraintSolveError, match="expert 0.*on_fail='warn'"):
        layer(basis, initial)


def test_bad_input():
    with pytest.raises(ValueError, match="max_iter"):
        LMSettings(max_iter=0)
    with pytest.raises(ValueError, match="on_fail"):
        LMSettings(on_fail="ignore")
    with pytest.raises(ValueError, match="expert count"):
        expert_partition((8, 4), (9, 1))
    grid = _grid()
    with pytest.raises(ValueError, match="n_points"):
        HardConstraintLayer(_ReactionHeat(), grid, n_points=1, experts=(2, 1))
    layer = HardConstraintLayer(_ReactionHeat(), grid, n_points=8, experts=(1, 1))
    with pytest.raises(ValueError, match="basis must have shape"):
        layer(torch.zeros(1, 4, 12, 9), torch.zeros(1, 12))
    basis = _smooth_basis(1, 4, grid.shape)
    basis[0, 0] = float("nan")
    with pytest.raises(NonFiniteError, match="not finite"):
        layer(basis, torch.zeros(1, 12, dtype=torch.float64))


def _ds_bdf2_solutions(levels: tuple[float, ...], nx: int, nt: int) -> torch.Tensor:
    """The zero set of the BDF2 residual and rows (the discrete solution), marched in time for
    constant initial states at ``levels`` (Newton per time level, all levels at once)."""
    from sciml.physics import DiffusionSorption

    pde = DiffusionSorption()
    grid = SpaceTimeGrid((nx, nt), (1 / nx,), pde.t_final / (nt - 1), (0.5 / nx,), (False,),
                         "bdf2")
    d, coords, mask = grid.derivatives(), grid.coordinates(), grid.residual_mask(pde)
    initial = torch.tensor(levels, dtype=torch.float64)[:, None].expand(-1, nx)
    u = initial[:, :, None].expand(-1, nx, nt).clone()

    def equations(level: torch.Tensor, n: int) -> torch.Tensor:           # (L nx,) -> (L nx,)
        full = torch.cat([u[..., :n], level.reshape(-1, nx, 1), u[..., n + 1:]], dim=-1)
        r = pde.residual(full, d, coords)[:, :, n][:, mask[:, n]] * pde.t_final
        a, c, _ = pde.constraint_rows(full[:, None], d, initial)
        rows = a[..., 0] - c
        left, right = rows[:, nx + n - 1: nx + n], rows[:, nx + nt - 2 + n: nx + nt - 1 + n]
        return torch.cat([r, left, right], dim=1).flatten()

    for n in range(1, nt):
        level = u[:, :, n - 1].flatten()
        for _ in range(30):
            f = equations(level, n)
            if float(f.abs().max()) < 1e-12:
                break
            level = level - torch.linalg.solve(torch.func.jacfwd(equations)(level, n), f)
        u[:, :, n] = level.reshape(-1, nx)
    return u


def test_global_warm_start_finds_the_solution_where_expert_solves_from_the_rows_stall():
    # Basis: the leading modes of discrete diffusion–sorption solutions, so the discrete
    # solution of every test level lies in its span and is the global minimiser (zero
    # residual) of every expert's problem. From the rows fit, the LM of the expert holding the
    # front falls into local minima; from the domain-wide solve every expert reaches it.
    from sciml.physics import DiffusionSorption

    pde, nx, nt = DiffusionSorption(), 32, 26
    sols = _ds_bdf2_solutions((0.02, 0.06, 0.1, 0.14, 0.18, 0.2, 0.04, 0.11, 0.17), nx, nt)
    train, target = sols[:6], sols[6:]
    modes = torch.linalg.svd(train.flatten(1), full_matrices=False)[2]
    grid = SpaceTimeGrid((nx, nt), (1 / nx,), pde.t_final / (nt - 1), (0.5 / nx,), (False,),
                         "bdf2")
    initial = target[:, :, 0]
    errors = {}
    for warm_start in ("rows", "global"):
        for n_basis in (4, 5):
            basis = modes[:n_basis].reshape(1, n_basis, nx, nt).expand(3, -1, -1, -1)
            for seed in (0, 1):
                layer = HardConstraintLayer(pde, grid, 400, (4, 1),
                                            LMSettings(50, 1e-6, 1e-10, on_fail="warn"),
                                            pde.t_final, row_scale=500.0,
                                            warm_start=warm_start)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConstraintSolveWarning)
                    u, _ = layer(basis, initial, torch.Generator().manual_seed(seed))
                err = (u - target).flatten(1).norm(dim=1) / target.flatten(1).norm(dim=1)
                errors[warm_start, n_basis, seed] = float(err.max())
    assert max(e for k, e in errors.items() if k[0] == "global") < 1e-3, errors
    assert max(e for k, e in errors.items() if k[0] == "rows") > 0.05, errors
    with pytest.raises(ValueError, match="warm_start must be one of"):
        HardConstraintLayer(pde, grid, 400, (4, 1), warm_start="zeros")
