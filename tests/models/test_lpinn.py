"""Lagrangian PINN: branches, residuals on a known solution, interpolation, and a tiny fit."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sciml.errors import ConfigError, NonFiniteError
from sciml.models import LPINN, LPINNConfig, lagrangian_residuals, lagrangian_to_grid, load_model
from sciml.physics import get_pde
from sciml.tasks import (
    FitConfig,
    PhysicsProblem,
    evaluate_on_grid,
    fit_physics_informed,
    make_objective,
)

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny full-batch fits


class _Exact(torch.nn.Module):
    """Stands in for the LPINN with the exact characteristics of convection–diffusion."""

    def __init__(self, beta: float, nu: float, config: LPINNConfig) -> None:
        super().__init__()
        self.beta, self.nu, self.config = beta, nu, config

    def forward(self, coords: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x0, t = coords.unbind(1)
        return x0 + self.beta * t, torch.sin(x0) * torch.exp(-self.nu * t)


def test_residuals_vanish_on_the_exact_characteristics() -> None:
    pde = get_pde("convection", beta=30.0, nu=0.01)
    coords = torch.rand(40, 2, dtype=torch.float64) * torch.tensor([2 * math.pi, 1.0])
    for diffusion in ("label", "chain_rule"):
        model = _Exact(30.0, 0.01, LPINNConfig(diffusion=diffusion))
        r_x, r_u = lagrangian_residuals(model, pde, coords)
        assert r_x.abs().max() < 1e-12 and r_u.abs().max() < 1e-12
    wrong = _Exact(20.0, 0.01, LPINNConfig())
    assert lagrangian_residuals(wrong, pde, coords)[0].abs().min() > 9.9


def test_branches_are_separate_and_start_at_the_identity_map() -> None:
    model = LPINN(LPINNConfig(width=8, depth_u=2, depth_x=3)).double()
    position = {id(p) for p in model.position.parameters()}
    assert not position & {id(p) for p in model.state.parameters()}
    coords = torch.rand(10, 2, dtype=torch.float64)
    x_l, u = model(coords)
    torch.testing.assert_close(x_l, coords[:, 0])  # zero-initialised displacement
    # u is 2π-periodic in x0 (periodic embedding).
    shifted = coords + torch.tensor([2 * math.pi, 0.0], dtype=torch.float64)
    torch.testing.assert_close(model(shifted)[1], u)


def test_periodic_interpolation_back_to_the_grid() -> None:
    x = np.arange(200) * 2 * np.pi / 200
    labels = np.arange(400) * 2 * np.pi / 400
    t = np.array([0.0, 0.37])
    x_l = labels[None] + 30.0 * t[:, None]
    u = np.sin(labels)[None].repeat(2, 0)
    grid = lagrangian_to_grid(x_l, u, x, 2 * np.pi)
    exact = np.sin(x[None] - 30.0 * t[:, None])
    assert np.abs(grid - exact).max() < 1e-3  # linear interpolation, h = 2π/400


def test_tiny_training_run_reduces_the_error_tenfold(tmp_path) -> None:
    problem = PhysicsProblem("convection", {"beta": 10.0, "nu": 0.01})
    cfg = FitConfig(n_x=32, n_t=16, adam_steps=50, lbfgs_steps=100, lbfgs_chunk=50,
                    checkpoint_every=25)
    model = LPINN(LPINNConfig(width=16, depth_u=2, depth_x=2))
    objective = make_objective(model, problem, cfg)
    before, _ = evaluate_on_grid(model, objective, problem, 64, 21)
    history = fit_physics_informed(model, objective, cfg, run_dir=tmp_path)
    after, _ = evaluate_on_grid(model, objective, problem, 64, 21)
    assert history[-1]["train/loss"] < 1e-2 * history[0]["train/loss"]
    assert (tmp_path / "checkpoints" / "last.pt").is_file()
    assert after["test/rel_l2"] < 0.1 * before["test/rel_l2"], (before, after)
    assert after["test/rel_l2"] < 0.05
    # The checkpoint holds the final state; the model reloads from it.
    model.save(tmp_path / "model.pt")
    again = load_model(tmp_path / "model.pt")
    coords = torch.rand(5, 2)
    torch.testing.assert_close(again(coords)[1], model(coords)[1])


def test_nan_parameters_are_reported_with_the_pde() -> None:
    model = LPINN(LPINNConfig(width=4, depth_u=1, depth_x=1))
    with torch.no_grad():
        model.state[0].weight.fill_(float("nan"))
    coords = torch.rand(6, 2)
    with pytest.raises(NonFiniteError, match="convection.*r_u"):
        lagrangian_residuals(model, get_pde("convection", beta=5.0), coords)


def test_config_and_problem_errors() -> None:
    with pytest.raises(ValueError, match="depth_u"):
        LPINNConfig(depth_u=0)
    with pytest.raises(ValueError, match="diffusion"):
        LPINNConfig(diffusion="eulerian")
    with pytest.raises(ValueError, match="inverted time range"):
        LPINN(LPINNConfig(), t0=1.0, t1=0.0)
    model = LPINN(LPINNConfig(width=4, depth_u=1, depth_x=1))
    with pytest.raises(ConfigError, match="periodic"):
        make_objective(model, PhysicsProblem("burgers", {"initial": "-sin_pi"},
                                             x_range=(-1.0, 1.0), boundary="dirichlet"),
                       FitConfig())
    with pytest.raises(ValueError, match="not of the form|advection-type"):
        lagrangian_residuals(model, object(), torch.rand(3, 2))  # type: ignore[arg-type]


def test_reaction_and_burgers_residuals_on_known_lagrangian_solutions() -> None:
    coords = torch.rand(30, 2, dtype=torch.float64) * torch.tensor([2 * math.pi, 1.0])

    class Reaction(torch.nn.Module):  # characteristics at rest, logistic growth along them
        config = LPINNConfig()

        def forward(self, c):
            x0, t = c.unbind(1)
            u0 = torch.exp(-((x0 - math.pi) ** 2) / (2 * (math.pi / 4) ** 2))
            return x0 + 0 * t, u0 * torch.exp(5 * t) / (u0 * torch.exp(5 * t) + 1 - u0)

    r_x, r_u = lagrangian_residuals(Reaction(), get_pde("reaction", rho=5.0), coords)
    assert r_x.abs().max() < 1e-12 and r_u.abs().max() < 1e-10

    class Inviscid(torch.nn.Module):  # Burgers with ν = 0 before breaking: x_L = x0 + t u0(x0)
        config = LPINNConfig()

        def forward(self, c):
            x0, t = c.unbind(1)
            return x0 + 0.5 * t * torch.sin(x0), 0.5 * torch.sin(x0) + 0 * t

    r_x, r_u = lagrangian_residuals(Inviscid(), get_pde("burgers", nu=0.0), coords)
    assert r_x.abs().max() < 1e-12 and r_u.abs().max() < 1e-12
