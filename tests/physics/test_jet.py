"""Forward (Taylor-mode) derivatives: the jet of a network equals nested autograd, and a PINN's
residual, loss terms and parameter gradients are the same with ``train.derivatives: jet`` as
with ``autograd`` (float64, to 1e-10), on every kind of problem the physics-informed job has."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import sciml
from sciml.errors import ConfigError
from sciml.models import PINN
from sciml.models._pinn import PINNConfig
from sciml.physics import (
    AutogradDerivatives,
    Jet,
    JetDerivatives,
    JetNeedsAutograd,
    gradient,
    mlp_jet,
)
from sciml.recipes import Recipe
from sciml.tasks.physics_informed import FitConfig
from sciml.tasks.physics_informed._job import PhysicsInformedJob

pytestmark = pytest.mark.usefixtures("one_thread")


def _close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-10) -> None:
    a, b = a.detach(), b.detach()
    scale = max(1.0, float(b.abs().max()))
    assert float((a - b).abs().max()) <= tol * scale, float((a - b).abs().max())


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "silu", "gelu"])
@pytest.mark.parametrize("periodic", [False, True])
def test_a_pinn_jet_equals_nested_autograd(activation, periodic):
    model = PINN(PINNConfig(width=12, depth=3, activation=activation, periodic=periodic),
                 n_fields=2).double()
    pts = (torch.rand(40, 2, dtype=torch.float64) * torch.tensor([6.0, 1.0])).requires_grad_()
    u = model(pts)
    d = AutogradDerivatives(pts)
    jet = model.forward_jet(pts, axes=(0, 1))
    _close(jet.value, u)
    _close(jet.first[0], d.dx(u))
    _close(jet.first[1], d.dt(u))
    _close(jet.second[0], d.dxx(u))
    u_tt = torch.stack([gradient(d.dt(u)[:, k], pts)[:, 1] for k in range(2)], 1)
    _close(jet.second[1], u_tt)


def test_jet_arithmetic_is_the_product_and_chain_rule():
    c = torch.rand(30, 2, dtype=torch.float64).requires_grad_()
    x = Jet.coordinates(c, axes=(0,))
    f = (x[:, 0] * x[:, 1]).apply(lambda z: (torch.sin(z), torch.cos(z), -torch.sin(z)))
    g = 3.0 - f * x[:, 0] + x[:, 1]
    expected = 3.0 - torch.sin(c[:, 0] * c[:, 1]) * c[:, 0] + c[:, 1]
    _close(g.value, expected)
    grad = gradient(expected, c)
    _close(g.first.T, grad)
    _close(g.second[0], gradient(grad[:, 0], c)[:, 0])
    lifted = Jet.lift(expected, c, axes=(0,))
    _close(lifted.first, g.first)
    _close(lifted.second, g.second)
    assert not lifted.value.requires_grad  # parameter-free parts are detached


def test_jet_derivatives_fall_back_to_autograd_for_other_fields():
    model = PINN(PINNConfig(width=8, depth=2)).double()
    pts = torch.rand(20, 2, dtype=torch.float64).requires_grad_()
    jet = model.forward_jet(pts, axes=(0,))
    u = jet.value[:, 0]
    jd = JetDerivatives(jet[:, 0], pts)
    d = AutogradDerivatives(pts)
    _close(jd.dx(u * u), d.dx(u * u))  # not the jet's own field: autograd
    _close(jd.dxt(jd.u), d.dxt(u))
    plain = pts.detach()
    no_graph = JetDerivatives(model.forward_jet(plain, axes=(0,))[:, 0], plain)
    with pytest.raises(ValueError, match="not in the field's jet and the coordinates carry"):
        no_graph.dx(no_graph.u ** 2)
    with pytest.raises(JetNeedsAutograd):  # u_xt is not carried either
        no_graph.dxt(no_graph.u)
    with pytest.raises(ValueError, match="a jet cannot pass through"):
        mlp_jet(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)),
                Jet.coordinates(plain, ()))


def _objectives(recipe: dict):
    """The same model (weights) under autograd and under jet derivatives, in float64."""
    out = []
    for mode in ("autograd", "jet"):
        r = Recipe(recipe).with_overrides({"train.derivatives": mode, "train.dtype": "float64"})
        torch.manual_seed(3)
        out.append(PhysicsInformedJob(r).build_task({}))
    for p in out[0].model.parameters():
        p.data.normal_(0, 0.5)
    out[1].model.load_state_dict(out[0].model.state_dict())
    assert out[1].objective.uses_jet(out[1].model) and not out[0].objective.uses_jet(
        out[0].model)
    return out


def _reaction_diffusion(**problem) -> dict:
    base = {"pde": "reaction_diffusion", "params": {"nu": 0.05, "rho": 1.0},
            "x_range": [0.0, 1.0], "t_range": [0.0, 0.5],
            "boundary": {"left": {"kind": "dirichlet", "value": "0.5 + 0.5*sin(pi*t)"},
                         "right": {"kind": "neumann", "value": "0.1*t"}},
            "initial": "0.5 * cos(pi*x/2)", "source": "x*t**2"}
    base.update(problem)
    return {"task": "physics_informed", "problem": base,
            "model": {"name": "pinn", "width": 10, "depth": 2, "periodic": False},
            "train": {"n_x": 12, "n_t": 6, "n_boundary": 8}}


SMALL = {"train.n_x": 12, "train.n_t": 6, "train.n_boundary": 8, "model.width": 10}
PROBLEMS = {
    "allen-cahn, exact conditions": sciml.load_recipe("allen-cahn-pinn", SMALL),
    "convection, periodic embedding": sciml.load_recipe("convection-pinn", SMALL),
    "poisson, steady": sciml.load_recipe("poisson-pinn", SMALL),
    "poisson, steady, exact edges": sciml.load_recipe(
        "poisson-pinn", {**SMALL, "train.hard_constraints": True}),
    "brusselator, two fields, exact": sciml.load_recipe("brusselator-pinn", SMALL),
    "brusselator, two fields, soft": sciml.load_recipe(
        "brusselator-pinn", {**SMALL, "train.hard_constraints": False}),
    "reaction-diffusion, neumann end and source": _reaction_diffusion(),
}


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_jet_and_autograd_give_the_same_residual_losses_and_gradients(name):
    plain, jet = _objectives(PROBLEMS[name])
    pts = plain.objective.points[:25]
    _close(jet.objective.residual(jet.model, pts), plain.objective.residual(plain.model, pts))
    grads = []
    for task in (plain, jet):
        losses = task.objective.losses(task.model)
        total = sum(losses.values())
        task.model.zero_grad()
        total.backward()
        grads.append((losses, [p.grad.clone() for p in task.model.parameters()]))
    (l_a, g_a), (l_j, g_j) = grads
    assert l_a.keys() == l_j.keys()
    for key in l_a:
        _close(l_j[key].detach(), l_a[key].detach())
    for a, j in zip(g_a, g_j, strict=True):
        _close(j, a, 1e-9)


def test_derivatives_setting_is_checked():
    with pytest.raises(ValueError, match="derivatives must be autograd or jet, got 'fwd'"):
        FitConfig(derivatives="fwd")
    assert FitConfig().derivatives == "autograd"
    task = PhysicsInformedJob(sciml.load_recipe(
        "allen-cahn-pinn", {**SMALL, "model.activation": "relu", "train.derivatives": "jet"})
    ).build_task({})
    with pytest.raises(ConfigError, match="derivatives: jet needs a PINN with a smooth"):
        task.objective.losses(task.model)


def test_a_users_pde_that_differentiates_a_function_of_u_needs_autograd(monkeypatch):
    """u_t + (u²/2)_x = ν u_xx written in conservation form: d.dx(u²/2) is not in u's jet.
    With ``derivatives: jet`` that is an error naming the PDE; autograd computes it."""
    import dataclasses

    from sciml.physics import PDES, AbstractPDE

    @dataclasses.dataclass(frozen=True)
    class ConservativeBurgers(AbstractPDE):
        nu: float = 0.01

        def residual(self, u, d, coords):
            return d.dt(u) + d.dx(u * u / 2) - self.nu * d.dxx(u)

    ConservativeBurgers.name = "conservative_burgers_test"
    monkeypatch.setitem(PDES._entries, ConservativeBurgers.name,
                        (ConservativeBurgers, ConservativeBurgers, ""))
    recipe = {"task": "physics_informed",
              "problem": {"pde": ConservativeBurgers.name, "x_range": [-1.0, 1.0],
                          "t_range": [0.0, 1.0], "boundary": "dirichlet",
                          "initial": "-sin(pi*x)", "reference": "none"},
              "model": {"name": "pinn", "width": 8, "depth": 2, "periodic": False},
              "train": {"n_x": 10, "n_t": 5, "n_boundary": 4, "dtype": "float64"}}
    tasks = {mode: PhysicsInformedJob(Recipe(recipe).with_overrides(
        {"train.derivatives": mode})).build_task({}) for mode in ("autograd", "jet")}
    plain = tasks["autograd"]
    r = plain.objective.residual(plain.model, plain.objective.points)
    assert bool(torch.isfinite(r).all())
    with pytest.raises(ConfigError, match="conservative_burgers_test' needs a derivative the "
                                          "jet does not carry"):
        tasks["jet"].objective.losses(tasks["jet"].model)


def test_loss_points_follow_an_in_place_change_of_the_collocation_points():
    """A resumed checkpoint loads the points into the same buffer: the cached concatenation of
    the loss points (and the transform's jets) must not go stale."""
    recipe = sciml.load_recipe("allen-cahn-pinn", {**SMALL, "train.dtype": "float64"})
    torch.manual_seed(0)
    task = PhysicsInformedJob(recipe).build_task({})
    before = float(task.loss_terms()["residual"].detach())
    with torch.no_grad():
        task.points[:, 1].mul_(0.5)  # in place, as load_state_dict does
    torch.manual_seed(0)
    fresh = PhysicsInformedJob(recipe).build_task({})
    fresh.load_state_dict(task.state_dict())
    after = float(task.loss_terms()["residual"].detach())
    assert after != before
    assert after == pytest.approx(float(fresh.loss_terms()["residual"].detach()), rel=1e-12)


@pytest.mark.parametrize("diffusion", ["label", "chain_rule"])
@pytest.mark.parametrize("recipe_name", ["burgers-lpinn", "allen-cahn-lpinn"])
def test_lagrangian_pinn_jet_equals_autograd(diffusion, recipe_name):
    """Both branches' jets give the Lagrangian residuals of nested autograd (periodic Burgers,
    bounded Allen–Cahn), their loss terms and gradients."""
    recipe = sciml.load_recipe(recipe_name, {"train.n_x": 12, "train.n_t": 6,
                                             "train.n_boundary": 8, "model.width": 10,
                                             "model.diffusion": diffusion})
    plain, jet = _objectives(recipe)
    pts = plain.objective.points[:25]
    _close(jet.objective.residual(jet.model, pts), plain.objective.residual(plain.model, pts))
    grads = []
    for task in (plain, jet):
        losses = task.objective.losses(task.model)
        task.model.zero_grad()
        sum(losses.values()).backward()
        grads.append((losses, [p.grad.clone() for p in task.model.parameters()]))
    for key in grads[0][0]:
        _close(grads[1][0][key], grads[0][0][key])
    for a, j in zip(grads[0][1], grads[1][1], strict=True):
        _close(j, a, 1e-9)
