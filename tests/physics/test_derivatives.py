"""Autograd derivatives against analytic functions (exact on polynomials and sines)."""

from __future__ import annotations

import pytest
import torch

from sciml.physics import AutogradDerivatives, gradient, laplacian, time_derivative


def _coords(n: int = 50, d: int = 3) -> torch.Tensor:
    return (torch.rand(n, d, dtype=torch.float64) * 2 - 1).requires_grad_(True)


def test_first_and_second_derivatives_of_a_polynomial_are_exact() -> None:
    c = _coords(d=3)  # (x, y, t)
    x, y, t = c.unbind(1)
    u = x**3 * y + 2 * y**2 * t + t**3
    d = AutogradDerivatives(c)
    assert d.spatial_dims == 2
    torch.testing.assert_close(d.dt(u), 2 * y**2 + 3 * t**2)
    torch.testing.assert_close(d.dx(u, 0), 3 * x**2 * y)
    torch.testing.assert_close(d.dx(u, 1), x**3 + 4 * y * t)
    torch.testing.assert_close(d.dxx(u, 0), 6 * x * y)
    torch.testing.assert_close(d.dxx(u, 1), 4 * t)
    torch.testing.assert_close(d.laplacian(u), 6 * x * y + 4 * t)
    torch.testing.assert_close(d.dxt(u, 1), 4 * y)


def test_sine_derivatives_and_multichannel_fields() -> None:
    c = _coords(d=2)
    x, t = c.unbind(1)
    u = torch.stack([torch.sin(3 * x) * torch.exp(-t), torch.cos(x - 2 * t)], 1)
    d = AutogradDerivatives(c)
    expected_dx = torch.stack([3 * torch.cos(3 * x) * torch.exp(-t), -torch.sin(x - 2 * t)], 1)
    expected_dxx = torch.stack([-9 * torch.sin(3 * x) * torch.exp(-t), -torch.cos(x - 2 * t)], 1)
    expected_dt = torch.stack([-torch.sin(3 * x) * torch.exp(-t), 2 * torch.sin(x - 2 * t)], 1)
    torch.testing.assert_close(d.dx(u), expected_dx)
    torch.testing.assert_close(d.dxx(u), expected_dxx)
    torch.testing.assert_close(d.dt(u), expected_dt)
    assert d.dx(u).shape == u.shape


def test_plain_functions_and_differentiability() -> None:
    c = _coords(d=3)
    u = (c[:, 0] ** 2 + c[:, 1] ** 2) * c[:, 2]
    torch.testing.assert_close(laplacian(u, c, dims=2), 4 * c[:, 2])
    torch.testing.assert_close(time_derivative(u, c), c[:, 0] ** 2 + c[:, 1] ** 2)
    g = gradient(u, c)
    assert g.shape == c.shape and g.requires_grad  # create_graph: usable in a loss
    # A derivative used in a loss backpropagates to parameters.
    w = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    v = torch.sin(w * c[:, 0])
    d = AutogradDerivatives(c)
    d.dxx(v).sum().backward()
    assert w.grad is not None and torch.isfinite(w.grad)


def test_first_derivatives_are_cached() -> None:
    c = _coords(d=2)
    u = torch.sin(c[:, 0]) * c[:, 1]
    d = AutogradDerivatives(c)
    d.dx(u)
    grads = d._first[id(u)][1]
    d.dt(u)
    d.dxx(u)
    assert d._first[id(u)][1] is grads


def test_bad_input_is_named() -> None:
    c = torch.rand(5, 2)
    with pytest.raises(ValueError, match="requires_grad"):
        AutogradDerivatives(c)
    c = c.requires_grad_(True)
    d = AutogradDerivatives(c)
    with pytest.raises(ValueError, match="axis"):
        d.dx(c[:, 0] ** 2, axis=1)
    with pytest.raises(ValueError, match="shape"):
        d.dx(torch.ones(3, requires_grad=True))
    with pytest.raises(ValueError, match="does not depend"):
        gradient(torch.ones(5), c)
