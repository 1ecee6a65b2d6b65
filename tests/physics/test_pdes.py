"""PDE residuals vanish on exact solutions; registry and bad-input errors name the problem."""

from __future__ import annotations

import math

import pytest
import torch

from sciml.errors import ConfigError, NonFiniteError
from sciml.physics import PDES, AutogradDerivatives, get_pde


def _points(n: int = 64, lo: float = 0.0, hi: float = 2 * math.pi) -> torch.Tensor:
    x = torch.rand(n, dtype=torch.float64) * (hi - lo) + lo
    t = torch.rand(n, dtype=torch.float64)
    return torch.stack([x, t], 1).requires_grad_(True)


def test_registry_lists_the_pdes() -> None:
    for name in ("convection", "burgers", "reaction", "reaction_diffusion", "allen_cahn"):
        assert name in PDES


def test_convection_diffusion_residual_is_zero_on_the_exact_solution() -> None:
    pde = get_pde("convection", beta=30.0, nu=0.01)
    c = _points()
    x, t = c.unbind(1)
    u = torch.exp(-0.01 * t) * torch.sin(x - 30.0 * t)
    r = pde.residual(u, AutogradDerivatives(c), c)
    assert r.abs().max() < 1e-12
    # ... and not on a wrong speed.
    u_wrong = torch.exp(-0.01 * t) * torch.sin(x - 20.0 * t)
    assert pde.residual(u_wrong, AutogradDerivatives(c), c).abs().max() > 1.0
    torch.testing.assert_close(pde.initial_condition(x[:, None]), torch.sin(x))


def test_burgers_residual_on_a_cole_hopf_solution() -> None:
    nu = 0.05
    pde = get_pde("burgers", nu=nu)
    c = _points()
    x, t = c.unbind(1)
    # Cole–Hopf: u = −2ν φ_x / φ with φ = 2 + exp(−ν t) cos x (heat equation solution).
    phi = 2 + torch.exp(-nu * t) * torch.cos(x)
    phi_x = -torch.exp(-nu * t) * torch.sin(x)
    u = -2 * nu * phi_x / phi
    assert pde.residual(u, AutogradDerivatives(c), c).abs().max() < 1e-12


def test_reaction_and_reaction_diffusion_residuals() -> None:
    rho = 5.0
    c = _points()
    x, t = c.unbind(1)
    u0 = 0.2 + 0.1 * torch.sin(x)
    u = u0 * torch.exp(rho * t) / (u0 * torch.exp(rho * t) + 1 - u0)
    r = get_pde("reaction", rho=rho).residual(u, AutogradDerivatives(c), c)
    assert r.abs().max() < 1e-10
    # Reaction–diffusion: u ≡ 1 is a steady state; u = 0.5 is not.
    rd = get_pde("reaction_diffusion", nu=3.0, rho=rho)
    one = torch.ones_like(x) + 0 * x
    assert rd.residual(one, AutogradDerivatives(c), c).abs().max() < 1e-12
    half = 0.5 + 0 * x
    torch.testing.assert_close(rd.residual(half, AutogradDerivatives(c), c),
                               torch.full_like(x, -rho * 0.25))


def test_allen_cahn_residual_matches_the_formula() -> None:
    pde = get_pde("allen_cahn")
    c = _points(lo=-1.0, hi=1.0)
    x, t = c.unbind(1)
    u = x**2 * t
    r = pde.residual(u, AutogradDerivatives(c), c)
    torch.testing.assert_close(r, x**2 - 1e-4 * 2 * t + 5 * (u**3 - u))
    torch.testing.assert_close(pde.initial_condition(x[:, None]), x**2 * torch.cos(math.pi * x))


def test_unknown_names_and_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown pde 'advection'.*convection"):
        get_pde("advection")
    with pytest.raises(ConfigError, match="speed.*valid keys: beta, nu"):
        get_pde("convection", speed=3.0)
    with pytest.raises(ConfigError, match="nu must be >= 0"):
        get_pde("burgers", nu=-0.1)
    with pytest.raises(ConfigError, match="rho"):
        get_pde("reaction", rho="fast")


def test_nan_residual_names_the_pde() -> None:
    pde = get_pde("convection", beta=10.0)
    c = _points(8)
    u = c[:, 0] * torch.tensor(float("nan"), dtype=torch.float64)
    with pytest.raises(NonFiniteError, match="convection"):
        pde.checked_residual(u, AutogradDerivatives(c), c)
