"""Grid: boundary parsing, coordinates, spacing, padding against torch's modes, subsampling."""

import pytest
import torch
import torch.nn.functional as F

from sciml.data import Boundary, Grid
from sciml.errors import DataError

P, D, N = Boundary("periodic"), Boundary("dirichlet"), Boundary("neumann")


def _u(*spatial, b=2, c=3):
    return torch.randn(b, c, *spatial, dtype=torch.float64)


def test_boundary_forms():
    g = Grid(_u(8, 6), bc=P)
    assert g.bc == ((P, P), (P, P))
    g = Grid(_u(8, 6), bc=("periodic", N))
    assert g.bc == ((P, P), (N, N))
    g = Grid(_u(8, 6), bc=((D, Boundary("dirichlet", 1.0)), (N, D)))
    assert g.bc[0][1].value == 1.0 and g.bc[1] == (N, D)
    with pytest.raises(ValueError, match="axis 1: periodic on one side only"):
        Grid(_u(8, 6), bc=(P, (P, D)))
    with pytest.raises(ValueError, match=r"one of \['periodic', 'dirichlet', 'neumann'\]"):
        Boundary("robin")
    with pytest.raises(ValueError, match="2 \\(left, right\\) pairs"):
        Grid(_u(8, 6), bc=(P, P, P))
    with pytest.raises(ValueError, match="periodic boundary takes no value"):
        Boundary("periodic", 1.0)


def test_default_coordinates_and_spacing():
    cell = Grid(_u(4, 5), centering="cell")
    assert cell.ndim == 2 and cell.shape == (4, 5)
    torch.testing.assert_close(cell.coords[0], torch.tensor([0.125, 0.375, 0.625, 0.875],
                                                            dtype=torch.float64))
    assert cell.spacing == pytest.approx((0.25, 0.2))
    vert = Grid(_u(5, 4), bc=(D, P), centering="vertex")
    torch.testing.assert_close(vert.coords[0], torch.linspace(0, 1, 5, dtype=torch.float64))
    assert vert.spacing == pytest.approx((0.25, 0.25))  # periodic axis: 0, 1/4, 2/4, 3/4
    xy = vert.coordinate_channels()
    assert xy.shape == (1, 2, 5, 4)
    assert float(xy[0, 0, 3, 1]) == pytest.approx(0.75) and float(xy[0, 1, 3, 1]) == 0.25
    wc = vert.with_coordinates()
    assert wc.u.shape == (2, 5, 5, 4) and torch.equal(wc.u[1, 3:], xy[0])


def test_bad_input():
    with pytest.raises(DataError, match=r"\(b, c, \*spatial\)"):
        Grid(torch.zeros(3, 4))
    with pytest.raises(DataError, match="coords\\[1\\] must be a 1-D tensor of length 6"):
        Grid(_u(8, 6), coords=(torch.linspace(0, 1, 8), torch.linspace(0, 1, 5)))
    with pytest.raises(DataError, match="uniformly spaced"):
        Grid(_u(3), coords=(torch.tensor([0.0, 0.1, 0.5]),))
    with pytest.raises(ValueError, match="centering"):
        Grid(_u(3), centering="edge")


@pytest.mark.parametrize("width", [1, 2])
def test_padding_matches_torch_modes(width):
    u = _u(7, 9)
    per = Grid(u, bc=P)
    assert per.padding_mode(0) == "circular"
    torch.testing.assert_close(per.pad(width), F.pad(u, [width] * 4, mode="circular"))
    dir0 = Grid(u, bc=D)
    assert dir0.padding_mode(1) == "zeros"
    torch.testing.assert_close(dir0.pad(width), F.pad(u, [width] * 4))
    vert = Grid(u, bc=N, centering="vertex")
    assert vert.padding_mode(0) == "reflect"
    torch.testing.assert_close(vert.pad(width), F.pad(u, [width] * 4, mode="reflect"))
    cell = Grid(u, bc=N, centering="cell")
    assert cell.padding_mode(0) == "replicate"
    if width == 1:
        torch.testing.assert_close(cell.pad(1), F.pad(u, [1] * 4, mode="replicate"))
    else:  # even extension about the face: u[-1-i] = u[i]
        p = cell.pad(2)
        torch.testing.assert_close(p[:, :, 0, 2:-2], u[:, :, 1])
        torch.testing.assert_close(p[:, :, -1, 2:-2], u[:, :, -2])


def test_mixed_sides_pad():
    u = _u(5, 4)
    g = Grid(u, bc=((Boundary("dirichlet", 2.0), N), P), centering="vertex")
    with pytest.raises(ValueError, match="no single padding mode"):
        g.padding_mode(0)
    p = g.pad((1, 0))
    assert p.shape == (2, 3, 7, 4)
    assert torch.all(p[:, :, 0] == 2.0)
    torch.testing.assert_close(p[:, :, -1], u[:, :, -2])
    p2 = g.pad((0, 1))
    torch.testing.assert_close(p2[..., 0], u[..., -1])  # periodic wrap on axis 1


def test_subsample():
    u = _u(8, 6)
    g = Grid(u, bc=(P, D)).subsample(2)
    assert g.shape == (4, 3) and torch.equal(g.u, u[:, :, ::2, ::2])
    assert g.spacing == pytest.approx((0.25, 2 / 6))
    assert Grid(u, bc=D).subsample((1, 3)).shape == (8, 2)
    with pytest.raises(ValueError, match="periodic with 6 points: factor 4"):
        Grid(u, bc=P).subsample((2, 4))
