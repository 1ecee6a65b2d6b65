"""Soft-constraint PINN: shapes, periodic embedding, losses, a tiny fit and NaN reporting."""

from __future__ import annotations

import math

import pytest
import torch

from sciml.errors import NonFiniteError
from sciml.models import PINN, PINNConfig
from sciml.registry import MODELS
from sciml.tasks import (
    FitConfig,
    PhysicsProblem,
    evaluate_on_grid,
    fit_physics_informed,
    make_objective,
)

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny full-batch fits


def test_shapes_periodicity_and_registry() -> None:
    model = MODELS.build("pinn", {"width": 8, "depth": 2, "periodic": True})
    assert isinstance(model, PINN)
    coords = torch.rand(7, 2)
    assert model(coords).shape == (7, 1)
    shifted = coords + torch.tensor([2 * math.pi, 0.0])
    torch.testing.assert_close(model(shifted), model(coords), atol=1e-5, rtol=1e-5)
    plain = PINN(PINNConfig(width=8, depth=2), spatial_dims=2, n_fields=3,
                 lows=[0, 0, 0], highs=[1, 1, 1])
    assert plain(torch.rand(4, 3)).shape == (4, 3)
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        plain(torch.rand(4, 2))
    with pytest.raises(ValueError, match="width"):
        PINNConfig(width=0)
    with pytest.raises(ValueError, match="periodic"):
        PINN(PINNConfig(periodic=True), spatial_dims=2, lows=[0, 0, 0], highs=[1, 1, 1])


def test_losses_include_boundary_terms_only_where_needed() -> None:
    cfg = FitConfig(n_x=8, n_t=4, n_boundary=4)
    periodic = PhysicsProblem("convection", {"beta": 1.0})
    assert set(make_objective(PINN(PINNConfig(width=4, depth=1, periodic=True)), periodic, cfg)
               .losses(PINN(PINNConfig(width=4, depth=1, periodic=True)))) == {"residual",
                                                                                 "initial"}
    m = PINN(PINNConfig(width=4, depth=1))
    assert "boundary" in make_objective(m, periodic, cfg).losses(m)
    dirichlet = PhysicsProblem("burgers", {"nu": 0.01 / math.pi, "initial": "-sin_pi"},
                               x_range=(-1.0, 1.0), boundary="dirichlet")
    m = PINN(PINNConfig(width=4, depth=1), lows=[-1, 0], highs=[1, 1])
    assert "boundary" in make_objective(m, dirichlet, cfg).losses(m)


def test_tiny_fit_on_a_slow_convection_reduces_the_error_fivefold() -> None:
    problem = PhysicsProblem("convection", {"beta": 1.0, "nu": 0.0})
    cfg = FitConfig(n_x=24, n_t=12, adam_steps=50, lbfgs_steps=100, lbfgs_chunk=50)
    model = PINN(PINNConfig(width=16, depth=2, periodic=True))
    objective = make_objective(model, problem, cfg)
    before, _ = evaluate_on_grid(model, objective, problem, 32, 11)
    fit_physics_informed(model, objective, cfg)
    after, _ = evaluate_on_grid(model, objective, problem, 32, 11)
    assert after["test/rel_l2"] < 0.2 * before["test/rel_l2"], (before, after)


def test_nan_loss_names_the_term_and_step() -> None:
    problem = PhysicsProblem("convection", {"beta": 1.0})
    cfg = FitConfig(n_x=8, n_t=4, adam_steps=3, lbfgs_steps=0)
    model = PINN(PINNConfig(width=4, depth=1, periodic=True))
    with torch.no_grad():
        model.net[0].bias.fill_(float("nan"))
    with pytest.raises(NonFiniteError, match="convection"):
        fit_physics_informed(model, make_objective(model, problem, cfg), cfg)


def test_residual_based_resampling_during_adam() -> None:
    problem = PhysicsProblem("convection", {"beta": 5.0})
    cfg = FitConfig(n_x=8, n_t=4, collocation="lhs", adam_steps=6, resample_every=3,
                    lbfgs_steps=0)
    model = PINN(PINNConfig(width=4, depth=1, periodic=True))
    objective = make_objective(model, problem, cfg)
    first = objective.points.clone()
    fit_physics_informed(model, objective, cfg)
    assert objective.points.shape == first.shape
    assert not torch.equal(objective.points, first)
    assert ((objective.points[:, 0] >= 0) & (objective.points[:, 0] <= 2 * math.pi)).all()


def test_hammersley_points_are_the_shifted_hammersley_set() -> None:
    from sciml.tasks import hammersley_points

    pts = hammersley_points(7, [-1.0, 0.0], [1.0, 0.99], torch.float64)
    assert pts.shape == (7, 2)
    # φ₂(1..4) = 1/2, 1/4, 3/4, 1/8 mapped to [-1, 1]; t_i = i/8 · 0.99
    torch.testing.assert_close(pts[:4, 0], torch.tensor([0.0, -0.5, 0.5, -0.75],
                                                        dtype=torch.float64))
    torch.testing.assert_close(pts[:, 1], torch.arange(1, 8, dtype=torch.float64) / 8 * 0.99)
    with pytest.raises(ValueError, match="Hammersley"):
        hammersley_points(0, [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="collocation"):
        FitConfig(collocation="halton")
    with pytest.raises(ValueError, match="lbfgs_eval_factor"):
        FitConfig(lbfgs_eval_factor=0.5)


def test_residual_is_also_enforced_at_initial_and_boundary_points() -> None:
    problem = PhysicsProblem("burgers", {"nu": 0.01 / math.pi, "initial": "-sin_pi"},
                             x_range=(-1.0, 1.0), boundary="dirichlet")
    model = PINN(PINNConfig(width=8, depth=2), lows=[-1, 0], highs=[1, 1])
    on = make_objective(model, problem, FitConfig(n_x=6, n_t=5, collocation="hammersley",
                                                  n_boundary=3, n_initial=4))
    off = make_objective(model, problem, FitConfig(n_x=6, n_t=5, collocation="hammersley",
                                                   n_boundary=3, n_initial=4,
                                                   residual_at_data=False))
    r_col = on.residual(model, on.points)
    x0 = torch.linspace(-1, 1, 4)
    tb = torch.linspace(0, 1, 3)
    data = torch.cat([torch.stack([x0, torch.zeros(4)], 1),
                      torch.stack([torch.full((3,), -1.0), tb], 1),
                      torch.stack([torch.full((3,), 1.0), tb], 1)])
    r_data = on.residual(model, data)
    expected = (torch.cat([r_col, r_data]) ** 2).mean()
    torch.testing.assert_close(on.losses(model)["residual"], expected)
    torch.testing.assert_close(off.losses(model)["residual"], (r_col**2).mean())


def test_lbfgs_stops_when_its_tolerance_is_met() -> None:
    problem = PhysicsProblem("convection", {"beta": 1.0})
    cfg = FitConfig(n_x=8, n_t=4, adam_steps=0, lbfgs_steps=10_000, lbfgs_chunk=10,
                    lbfgs_tolerance_grad=1e6)
    model = PINN(PINNConfig(width=4, depth=1, periodic=True))
    before = [p.detach().clone() for p in model.parameters()]
    history = fit_physics_informed(model, make_objective(model, problem, cfg), cfg)
    assert len(history) == 1 and history[0]["phase_step"] == cfg.lbfgs_steps
    for p, q in zip(model.parameters(), before, strict=True):
        assert torch.equal(p.detach(), q)
