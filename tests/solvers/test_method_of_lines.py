"""Method of lines: second-order convergence for each boundary condition, systems, interpolation,
bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sciml.solvers import MOLBoundary, solve_method_of_lines

from sciml.physics import parse_expression

NU, K, PHI = 0.5, 2.0, 0.5


def heat_exact(x, t):
    """u = exp(−ν k² t) sin(k x + φ) solves u_t = ν u_xx; nonzero, time-dependent end values."""
    return np.exp(-NU * K * K * t) * np.sin(K * x + PHI)


def heat_exact_x(x, t):
    return K * np.exp(-NU * K * K * t) * np.cos(K * x + PHI)


def heat(u, u_x, u_xx, x, t):
    return NU * u_xx


def slope(h, errors):
    return np.polyfit(np.log(h), np.log(errors), 1)[0]


def max_error(sol, exact):
    return np.abs(sol.u - exact(sol.x[None, :], sol.t[:, None])).max()


BOUNDARIES = {
    "dirichlet": ({"kind": "dirichlet", "value": lambda t: heat_exact(0.0, t)},
                  {"kind": "dirichlet", "value": lambda t: heat_exact(1.0, t)}),
    "neumann": ({"kind": "neumann", "value": lambda t: heat_exact_x(0.0, t)},
                {"kind": "neumann", "value": lambda t: heat_exact_x(1.0, t)}),
    "dirichlet-robin": (MOLBoundary("dirichlet", lambda t: heat_exact(0.0, t)),
                        MOLBoundary("robin", lambda t: 2 * heat_exact(1.0, t)
                                    + 0.5 * heat_exact_x(1.0, t), a=2.0, b=0.5)),
    "neumann-dirichlet": ({"kind": "neumann", "value": lambda t: heat_exact_x(0.0, t)},
                          {"kind": "dirichlet", "value": lambda t: heat_exact(1.0, t)}),
}


@pytest.mark.parametrize("which", list(BOUNDARIES))
def test_heat_equation_is_second_order_for_each_boundary_condition(which):
    left, right = BOUNDARIES[which]
    ns = [11, 21, 41, 81, 161]
    errors = []
    for n in ns:
        sol = solve_method_of_lines(heat, lambda x: heat_exact(x, 0.0), (0.0, 1.0), [0.5, 1.0],
                                    n, left, right, rtol=1e-11, atol=1e-13)
        assert sol.u.shape == (2, n) and sol.x[0] == 0.0 and sol.x[-1] == 1.0
        errors.append(max_error(sol, heat_exact))
    assert abs(slope(1.0 / (np.array(ns) - 1), errors) - 2.0) < 0.05, errors
    assert errors[-1] < 2e-5


def test_dirichlet_end_nodes_hold_the_boundary_values_at_every_time():
    left, right = BOUNDARIES["dirichlet"]
    t = np.linspace(0.0, 1.0, 5)
    sol = solve_method_of_lines(heat, np.zeros(21), (0.0, 1.0), t, 21, left, right)
    np.testing.assert_allclose(sol.u[:, 0], heat_exact(0.0, t), rtol=0, atol=1e-15)
    np.testing.assert_allclose(sol.u[:, -1], heat_exact(1.0, t), rtol=0, atol=1e-15)


def test_periodic_convection_diffusion_is_second_order():
    beta, nu = 1.0, 0.1

    def exact(x, t):
        return np.exp(-nu * t) * np.sin(x - beta * t)

    ns = [16, 32, 64, 128, 256]
    errors = []
    for n in ns:
        sol = solve_method_of_lines(lambda u, u_x, u_xx, x, t: -beta * u_x + nu * u_xx,
                                    lambda x: exact(x, 0.0), (0.0, 2 * np.pi), [1.0], n,
                                    "periodic", "periodic", rtol=1e-11, atol=1e-13)
        assert sol.periodic and sol.x[-1] < 2 * np.pi
        errors.append(max_error(sol, exact))
    assert abs(slope(2 * np.pi / np.array(ns), errors) - 2.0) < 0.05, errors


def test_two_field_system_with_per_field_boundaries_and_a_source():
    """u_t = u_xx + u v + s_u, v_t = 0.3 v_xx − u v + s_v with s from the exact fields
    u = e^{−t} sin(x + 0.3) (Dirichlet both ends), v = e^{−2t} cos x (Neumann left, Robin
    right)."""

    def exact(x, t):
        return np.stack([np.exp(-t) * np.sin(x + 0.3), np.exp(-2 * t) * np.cos(x)], axis=-1)

    def rhs(u, u_x, u_xx, x, t):
        return np.stack([u_xx[:, 0] + u[:, 0] * u[:, 1],
                         0.3 * u_xx[:, 1] - u[:, 0] * u[:, 1]], axis=1)

    def source(x, t):
        e = exact(x, t)
        e_t = np.stack([-e[:, 0], -2 * e[:, 1]], axis=1)
        e_xx = -e
        return e_t - np.stack([e_xx[:, 0] + e[:, 0] * e[:, 1],
                               0.3 * e_xx[:, 1] - e[:, 0] * e[:, 1]], axis=1)

    left = [{"kind": "dirichlet", "value": lambda t: np.exp(-t) * np.sin(0.3)},
            {"kind": "neumann", "value": 0.0}]                     # v_x(0) = −e^{−2t} sin 0 = 0
    right = [{"kind": "dirichlet", "value": lambda t: np.exp(-t) * np.sin(1.3)},
             {"kind": "robin", "a": 1.0, "b": 1.0,
              "value": lambda t: np.exp(-2 * t) * (np.cos(1.0) - np.sin(1.0))}]
    ns = [11, 21, 41, 81]
    errors = []
    for n in ns:
        sol = solve_method_of_lines(rhs, lambda x: exact(x, 0.0), (0.0, 1.0), [0.25, 1.0], n,
                                    left, right, n_fields=2, source=source, rtol=1e-11,
                                    atol=1e-13)
        assert sol.u.shape == (2, n, 2)
        errors.append(np.abs(sol.u - exact(sol.x[None, :], sol.t[:, None])).max())
    assert abs(slope(1.0 / (np.array(ns) - 1), errors) - 2.0) < 0.1, errors


def test_expressions_serve_as_boundary_values_initial_condition_and_source():
    """u = sin(πx) + t x: u_t − u_xx = x + π² sin(πx); data given as parsed text."""
    sol = solve_method_of_lines(
        lambda u, u_x, u_xx, x, t: u_xx, parse_expression("sin(pi*x)"), (0.0, 1.0),
        [0.5], 81, {"kind": "dirichlet", "value": parse_expression("0")},
        {"kind": "dirichlet", "value": parse_expression("t")},
        source=parse_expression("x + pi**2 * sin(pi*x)"), rtol=1e-10, atol=1e-12)
    exact = np.sin(np.pi * sol.x) + 0.5 * sol.x
    assert np.abs(sol.u[0] - exact).max() < 3e-4


@pytest.mark.parametrize("periodic", [False, True])
def test_interpolation_to_other_points_keeps_second_order_accuracy(periodic):
    domain = (0.0, 2 * np.pi)
    if periodic:
        args = ("periodic", "periodic")
        exact = lambda x, t: np.exp(-0.1 * t) * np.sin(x - t)  # noqa: E731
        rhs = lambda u, u_x, u_xx, x, t: -u_x + 0.1 * u_xx  # noqa: E731
    else:
        exact = lambda x, t: np.exp(-NU * t) * np.sin(x + PHI)  # noqa: E731
        rhs = heat
        args = ({"kind": "dirichlet", "value": lambda t: exact(domain[0], t)},
                {"kind": "dirichlet", "value": lambda t: exact(domain[1], t)})
    xq = np.random.default_rng(0).uniform(*domain, 200)
    xq[:2] = domain
    errors = []
    for n in (64, 128, 256):
        sol = solve_method_of_lines(rhs, lambda x: exact(x, 0.0), domain, [0.0, 1.0], n, *args,
                                    rtol=1e-11, atol=1e-13)
        values = sol.interpolate(xq)
        assert values.shape == (2, 200)
        np.testing.assert_allclose(values[0], exact(xq, 0.0), atol=1e-5)   # t = 0: spline only
        errors.append(np.abs(values[1] - exact(xq, 1.0)).max())
    assert abs(slope([1, 0.5, 0.25], errors) - 2.0) < 0.1, errors


def test_jacobian_sparsity_keeps_a_fine_grid_cheap():
    """With the tridiagonal sparsity a Jacobian costs 3 right-hand sides, not n."""
    sol = solve_method_of_lines(heat, lambda x: np.sin(np.pi * x), (0.0, 1.0), [0.1], 2001,
                                "dirichlet", "dirichlet")
    assert sol.n_rhs < 1000, sol.n_rhs
    np.testing.assert_allclose(sol.u[0], np.exp(-NU * np.pi**2 * 0.1) * np.sin(np.pi * sol.x),
                               atol=1e-6)


def test_output_at_the_initial_time_only_is_the_initial_condition():
    sol = solve_method_of_lines(heat, lambda x: x * (1 - x), (0.0, 1.0), [0.0], 5,
                                "neumann", "neumann")
    np.testing.assert_array_equal(sol.u[0], sol.x * (1 - sol.x))


def _solve(**kwargs):
    args = dict(rhs=heat, u0=np.zeros(9), domain=(0.0, 1.0), t=[0.5], n=9, left="dirichlet",
                right="dirichlet")
    return solve_method_of_lines(**(args | kwargs))


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"left": "periodic"}, ValueError, "periodic must be on both ends"),
    ({"left": "outflow"}, ValueError, "boundary kind must be one of"),
    ({"left": {"kind": "neumann", "value": 0, "slope": 1}}, ValueError, "unknown key left.slope"),
    ({"left": {"kind": "robin", "a": 0.0, "b": 0.0}}, ValueError, "a or b nonzero"),
    ({"left": {"kind": "neumann", "value": float("nan")}}, ValueError, "boundary value"),
    ({"left": {"kind": "dirichlet", "value": lambda t: np.nan}}, ValueError,
     "boundary value at t = 0"),
    ({"left": 3}, ValueError, "left must be a kind"),
    ({"u0": np.zeros(8)}, ValueError, r"u0 must have shape \(9,\)"),
    ({"u0": np.full(9, np.nan)}, ValueError, "u0 contains 9 NaN"),
    ({"n": 2, "u0": np.zeros(2)}, ValueError, "n must be an integer >= 3"),
    ({"domain": (1.0, 0.0)}, ValueError, "a < b"),
    ({"t": [0.5, 0.1]}, ValueError, "non-decreasing"),
    ({"t": [-1.0]}, ValueError, "t0 = 0"),
    ({"method": "RK45"}, ValueError, r"method must be one of \['BDF', 'Radau'\]"),
    ({"rtol": 0.0}, ValueError, "rtol must be > 0"),
    ({"rhs": "u_xx"}, TypeError, "rhs must be a callable"),
    ({"rhs": lambda u, u_x, u_xx, x, t: u[:3]}, ValueError, r"rhs returned shape \(3,\)"),
    ({"rhs": lambda u, u_x, u_xx, x, t: u + np.inf, "u0": np.ones(9)}, ValueError,
     "not finite at the initial condition"),
    ({"source": lambda x, t: np.ones(3)}, ValueError, r"source returned shape \(3,\)"),
    ({"n_fields": 2, "left": ["dirichlet"] * 3}, ValueError, "one per field"),
])
def test_bad_input_is_a_one_line_error_naming_it(kwargs, error, match):
    with pytest.raises(error, match=match) as info:
        _solve(**kwargs)
    assert "\n" not in str(info.value)


def test_blow_up_is_reported_with_the_time_reached():
    with pytest.raises(RuntimeError, match="failed before t = 2"):
        solve_method_of_lines(lambda u, u_x, u_xx, x, t: u**2, np.ones(9), (0.0, 1.0), [2.0],
                              9, "neumann", "neumann")


def test_interpolation_outside_the_domain_is_refused():
    sol = _solve()
    with pytest.raises(ValueError, match=r"x must lie in the domain \[0, 1\]"):
        sol.interpolate(np.array([0.5, 1.5]))
