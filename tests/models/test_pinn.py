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


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny full-batch fits: one thread (two threads on a loaded 2-core machine is ~20× slower)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


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
