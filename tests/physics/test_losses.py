"""Relative L2 and H1 losses against values computed by hand on analytic fields."""

from __future__ import annotations

import math

import pytest
import torch

from sciml.physics import H1Loss, RelativeL2, grid_gradient, h1_loss, rel_l2_loss

TWO_PI = 2 * math.pi


def periodic_grid(n: int) -> torch.Tensor:
    return torch.arange(n, dtype=torch.float64) / n


def vertex_grid(n: int) -> torch.Tensor:
    return torch.linspace(0.0, 1.0, n, dtype=torch.float64)


def test_rel_l2_by_hand():
    target = torch.tensor([[3.0, 4.0], [1.0, 0.0]], dtype=torch.float64)
    pred = torch.tensor([[3.0, 4.5], [0.0, 0.0]], dtype=torch.float64)
    # sample 0: |(0, .5)| / 5 = 0.1; sample 1: 1 / 1 = 1
    torch.testing.assert_close(rel_l2_loss(pred, target), torch.tensor(0.55, dtype=torch.float64))
    torch.testing.assert_close(rel_l2_loss(pred, target, "none"),
                               torch.tensor([0.1, 1.0], dtype=torch.float64))
    torch.testing.assert_close(RelativeL2("sum")(pred, target),
                               torch.tensor(1.1, dtype=torch.float64))


def test_spectral_gradient_of_sines_is_exact():
    x = periodic_grid(32)
    u = torch.sin(TWO_PI * 3 * x) + torch.cos(TWO_PI * 5 * x)
    (du,) = grid_gradient(u[None, None], 1, "spectral")
    expected = TWO_PI * 3 * torch.cos(TWO_PI * 3 * x) - TWO_PI * 5 * torch.sin(TWO_PI * 5 * x)
    torch.testing.assert_close(du[0, 0], expected, rtol=0, atol=1e-10)
    # a domain of length 2 (spacing 2/32) halves the derivative
    (du2,) = grid_gradient(u[None, None], 1, "spectral", spacing=2 / 32)
    torch.testing.assert_close(du2[0, 0], expected / 2, rtol=0, atol=1e-10)


def test_fd_gradient_exact_on_quadratics_2d():
    x = vertex_grid(9)
    X, Y = torch.meshgrid(x, x, indexing="ij")
    u = X**2 + 3 * X * Y - Y**2
    gx, gy = grid_gradient(u[None, None], 2, "fd")
    torch.testing.assert_close(gx[0, 0], 2 * X + 3 * Y, rtol=0, atol=1e-12)
    torch.testing.assert_close(gy[0, 0], 3 * X - 2 * Y, rtol=0, atol=1e-12)


def test_h1_spectral_matches_analytic_value_2d():
    n = 32
    x = periodic_grid(n)
    X, Y = torch.meshgrid(x, x, indexing="ij")
    target = torch.sin(TWO_PI * X) * torch.sin(TWO_PI * Y)
    a, k = 0.3, 3
    error = a * torch.sin(TWO_PI * k * X) * torch.cos(TWO_PI * Y)
    # ||t||^2 = 1/4, ||grad t||^2 = 2 (2 pi)^2 / 4; ||e||^2 = a^2/4, ||grad e||^2 = a^2 (2 pi)^2
    # (k^2 + 1) / 4
    expected = math.sqrt(a**2 * (1 + TWO_PI**2 * (k**2 + 1)) / (1 + 2 * TWO_PI**2))
    pred, tgt = (target + error)[None, None], target[None, None]
    torch.testing.assert_close(h1_loss(pred, tgt), torch.tensor(expected, dtype=torch.float64))
    # the L2 part alone: a, since ||e|| / ||t|| = a
    torch.testing.assert_close(rel_l2_loss(pred, tgt), torch.tensor(a, dtype=torch.float64))
    assert h1_loss(pred, tgt) > rel_l2_loss(pred, tgt)  # high-frequency error weighs more


def test_h1_fd_converges_to_analytic_value():
    # zero-Dirichlet fields on the vertex grid of [0, 1]^2
    a = 0.2
    expected = math.sqrt(a**2 * (1 + 5 * math.pi**2) / (1 + 2 * math.pi**2))
    errors = []
    for n in (33, 65, 129):
        x = vertex_grid(n)
        X, Y = torch.meshgrid(x, x, indexing="ij")
        target = torch.sin(math.pi * X) * torch.sin(math.pi * Y)
        pred = target + a * torch.sin(2 * math.pi * X) * torch.sin(math.pi * Y)
        value = h1_loss(pred[None, None], target[None, None], method="fd").item()
        errors.append(abs(value - expected))
    assert errors[-1] < 2e-3 * expected
    assert errors[0] > errors[1] > errors[2]


def test_h1_mean_over_samples_and_time_layout():
    torch.manual_seed(0)
    target = torch.randn(3, 4, 2, 16, 16, dtype=torch.float64)  # (b, T, c, x, y)
    pred = target + 0.1 * torch.randn_like(target)
    per = h1_loss(pred, target, ndim=2, reduction="none")
    assert per.shape == (3,)
    for i in range(3):
        torch.testing.assert_close(per[i], h1_loss(pred[i:i + 1], target[i:i + 1], ndim=2))
    torch.testing.assert_close(h1_loss(pred, target, ndim=2), per.mean())
    torch.testing.assert_close(H1Loss("fd", ndim=2)(pred, target),
                               h1_loss(pred, target, "fd", ndim=2))
    assert h1_loss(target, target) == 0


def test_h1_differentiable():
    target = torch.randn(2, 1, 6, 6, dtype=torch.float64)
    pred = torch.randn(2, 1, 6, 6, dtype=torch.float64, requires_grad=True)
    for method in ("spectral", "fd"):
        assert torch.autograd.gradcheck(lambda p, m=method: h1_loss(p, target, m), (pred,),
                                        fast_mode=True)


def test_loss_errors():
    a = torch.zeros(2, 1, 8, 8)
    with pytest.raises(ValueError, match=r"same shape.*\(2, 1, 8, 8\).*\(2, 1, 8, 7\)"):
        h1_loss(a, torch.zeros(2, 1, 8, 7))
    with pytest.raises(ValueError, match="method must be one of.*'sobolev'"):
        h1_loss(a, a, method="sobolev")
    with pytest.raises(ValueError, match="spacing must be .* 2 positive numbers.*0.1, 0.2, 0.3"):
        h1_loss(a, a, spacing=(0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="spacing.*-1"):
        h1_loss(a, a, spacing=-1.0)
    with pytest.raises(ValueError, match=r">= 3 points.*\(2, 8\)"):
        h1_loss(torch.zeros(1, 1, 2, 8), torch.ones(1, 1, 2, 8), method="fd")
    with pytest.raises(ValueError, match=r"expects \(batch, channels, \*spatial\)"):
        h1_loss(torch.zeros(4, 8), torch.zeros(4, 8))
    with pytest.raises(TypeError, match="torch tensors"):
        h1_loss(a.numpy(), a)
    with pytest.raises(ValueError, match="same shape"):
        rel_l2_loss(a, torch.zeros(2, 1, 8))
    with pytest.raises(ValueError, match="reduction must be one of"):
        RelativeL2("max")
