"""Initial/boundary rows of any PDE on a space–time grid (GridConstraints, GridProblem): exact
for quadratic fields on vertex and cell grids, the same rows as the two PDEs that build their
own, the grids of the paper's problems, the BDF2 residual mask, and bad descriptions."""

from __future__ import annotations

import math

import pytest
import torch

from sciml.physics import (
    BoundaryCondition,
    DiffusionSorption,
    GridConstraints,
    GridProblem,
    NavierStokesVorticity,
    SpaceTimeGrid,
    get_pde,
)


def _quadratic(grid: SpaceTimeGrid, axis: int) -> tuple[torch.Tensor, callable, callable]:
    """u = (1 + t)(0.3 + 0.7 x − 1.1 x²) along ``axis``, and its value and slope functions."""
    coords = grid.coordinates()
    x, t = coords[..., axis], coords[..., -1]

    def value(x):
        return 0.3 + 0.7 * x - 1.1 * x**2

    def slope(x):
        return 0.7 - 2.2 * x

    return (1 + t) * value(x), value, slope


@pytest.mark.parametrize("points", ["vertex", "cell"])
@pytest.mark.parametrize("axis", [0, 1])
def test_boundary_rows_are_exact_for_quadratic_fields(points, axis):
    low = BoundaryCondition("robin", value=0.5, a=2.0, b=-0.25)
    high = BoundaryCondition("neumann", value=-1.0)
    boundary = [("periodic", "periodic"), ("periodic", "periodic")]
    boundary[axis] = (low, high)
    periodic = [True, True]
    periodic[axis] = False
    bounds = ((-1.0, 2.0), (0.5, 1.5))
    pde = NavierStokesVorticity()                    # any 2-D PDE: only the rows are used here
    gp = GridProblem(pde, bounds, tuple(boundary), points)
    grid = gp.grid((7, 6, 4), 3.0)
    assert grid.periodic == tuple(periodic)
    u, value, slope = _quadratic(grid, axis)
    u = u.unsqueeze(0)
    initial = u[..., 0]
    a, c, where = gp.constraints(grid).rows(u[:, None], initial)
    n_other = grid.shape[1 - axis]
    per_side = n_other * (grid.shape[-1] - 1)
    assert a.shape == (1, 42 + 2 * per_side, 1) and where.shape == (42 + 2 * per_side, 3)
    rows = a[0, :, 0]
    torch.testing.assert_close(rows[:42], initial.flatten())              # u(x, 0) = u0
    assert torch.equal(c[0, :42], initial.flatten())
    lo, hi = bounds[axis]
    t = torch.arange(1, 4, dtype=torch.float64) * 1.0                      # dt = 3 / 3
    scale = (1 + t).repeat(n_other)
    want_low = scale * (2.0 * value(lo) - 0.25 * slope(lo))
    want_high = scale * slope(hi)
    torch.testing.assert_close(rows[42:42 + per_side], want_low, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(rows[42 + per_side:], want_high, rtol=1e-12, atol=1e-12)
    assert torch.all(c[0, 42:42 + per_side] == 0.5) and torch.all(c[0, 42 + per_side:] == -1.0)
    assert set(where[42:42 + per_side, axis].tolist()) == {0}
    assert set(where[42 + per_side:, axis].tolist()) == {grid.shape[axis] - 1}
    assert where[42:, 2].min() == 1                                       # later times only


def test_rows_equal_those_the_paper_pdes_build_themselves():
    for scheme in ("central", "bdf2"):
        gp = GridProblem.from_spec("diffusion_sorption", points="cell", scale_time=True)
        grid = gp.grid((16, 11), 500.0, scheme)
        # The grid the model built by hand for diffusion–sorption before.
        assert grid == SpaceTimeGrid((16, 11), (1 / 16,), 50.0, (1 / 32,), (False,), scheme)
        assert gp.pde_weight(500.0) == 500.0
        assert torch.equal(grid.residual_mask(gp.pde), grid.residual_mask(None))
        g = torch.Generator().manual_seed(0)
        basis = torch.randn(2, 5, 16, 11, generator=g, dtype=torch.float64)
        initial = torch.rand(2, 16, generator=g, dtype=torch.float64)
        ours = gp.constraints(grid).rows(basis, initial)
        theirs = DiffusionSorption().constraint_rows(basis, grid.derivatives(), initial)
        for x, y in zip(ours, theirs, strict=True):
            assert torch.equal(x, y)                                       # bit for bit
    gp = GridProblem.from_spec("navier_stokes_vorticity")
    grid = gp.grid((8, 8, 5), 1.0)
    assert grid == SpaceTimeGrid((8, 8, 5), (1 / 8, 1 / 8), 0.25, (0.0, 0.0), (True, True))
    basis = torch.randn(2, 3, 8, 8, 5, dtype=torch.float64)
    initial = torch.randn(2, 8, 8, dtype=torch.float64)
    for x, y in zip(gp.constraints(grid).rows(basis, initial),
                    NavierStokesVorticity().constraint_rows(basis, None, initial), strict=True):
        assert torch.equal(x, y)


def test_burgers_dirichlet_problem_from_the_pde_and_bdf2_mask():
    gp = GridProblem.from_spec("burgers", {"nu": 0.01 / math.pi, "initial": "-sin_pi"})
    assert gp.bounds == ((-1.0, 1.0),) and gp.points == "vertex" and gp.periodic == (False,)
    zero = BoundaryCondition("dirichlet")
    assert gp.boundary == ((zero, zero),)
    grid = gp.grid((9, 5), 1.0, "bdf2")
    assert grid.spacing == (0.25,) and grid.origin == (-1.0,)
    mask = grid.residual_mask(gp.pde)
    assert not mask[:, 0].any() and not mask[0].any() and not mask[-1].any()
    assert mask[1:-1, 1:].all()
    # Periodic Burgers (the LPINN setup): points i 2π / n, no boundary rows.
    periodic = GridProblem.from_spec("burgers", {"initial": "sin"})
    grid = periodic.grid((8, 5), 1.0)
    assert grid.origin == (0.0,) and grid.spacing == (2 * math.pi / 8,)
    a, _, _ = periodic.constraints(grid).rows(torch.zeros(1, 2, 8, 5), torch.zeros(1, 8))
    assert a.shape == (1, 8, 2)


def test_bad_descriptions_name_the_problem():
    with pytest.raises(ValueError, match="boundary kind must be one of"):
        BoundaryCondition("outflow")
    with pytest.raises(ValueError, match="robin boundary needs both a and b"):
        BoundaryCondition("robin", a=1.0)
    with pytest.raises(ValueError, match="coefficients a, b are for kind 'robin'"):
        BoundaryCondition("dirichlet", a=2.0)
    with pytest.raises(ValueError, match="unknown key boundary.val"):
        BoundaryCondition.parse({"kind": "dirichlet", "val": 1})
    with pytest.raises(ValueError, match="no standard domain"):
        GridProblem.from_spec(_NoDomain())
    pde = get_pde("allen_cahn")
    with pytest.raises(ValueError, match="periodic needs both ends periodic"):
        GridProblem.from_spec(pde, boundary=[["periodic", "dirichlet"]])
    with pytest.raises(ValueError, match=r"one entry per spatial axis \(1\)"):
        GridProblem.from_spec(pde, boundary=["periodic", "periodic"])
    with pytest.raises(ValueError, match="low < high"):
        GridProblem.from_spec(pde, domain=[[1.0, -1.0]])
    with pytest.raises(ValueError, match="points must be one of"):
        GridProblem.from_spec(pde, points="faces")
    with pytest.raises(ValueError, match="grid_shape must be"):
        GridProblem.from_spec(pde).grid((8, 8, 5), 1.0)
    grid = GridProblem.from_spec(pde).grid((8, 5), 1.0)
    with pytest.raises(ValueError, match="differs from the grid"):
        GridConstraints(grid, [[{"kind": "dirichlet"}, {"kind": "dirichlet"}]])
    gp = GridProblem.from_spec("burgers", {"initial": "-sin_pi"})
    with pytest.raises(ValueError, match=r"initial must have shape \(1, 9\)"):
        gp.constraints(gp.grid((9, 5), 1.0)).rows(torch.zeros(1, 2, 9, 5), torch.zeros(1, 8))


class _NoDomain(DiffusionSorption):
    def domain(self):
        return None
