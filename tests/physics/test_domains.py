"""Domains: sampling stays inside, boundary and initial points lie where they should."""

from __future__ import annotations

import pytest
import torch

from sciml.physics import Box, Interval, Rectangle, TimeDomain


def test_interval_with_time_samples_inside_and_on_the_boundary() -> None:
    dom = Interval(0.0, 2.0, time=(0.0, 1.0))
    assert dom.dims == 2 and dom.spatial_dims == 1
    for method in ("uniform", "lhs", "sobol", "grid"):
        pts = dom.sample_interior(64, method=method)
        assert pts.shape == (64, 2) and dom.contains(pts).all()
    b = dom.sample_boundary(100)
    assert set(b[:, 0].tolist()) == {0.0, 2.0}
    assert ((b[:, 1] >= 0) & (b[:, 1] <= 1)).all()
    init = dom.sample_initial(10)
    assert (init[:, 1] == 0).all() and dom.contains(init).all()


def test_rectangle_boundary_faces_are_drawn_by_length() -> None:
    dom = Rectangle((0.0, 4.0), (0.0, 1.0))
    b = dom.sample_boundary(4000, seed=1)
    on_x = ((b[:, 0] == 0) | (b[:, 0] == 4)).float().mean()  # the two short sides: 2 of 10
    assert abs(float(on_x) - 0.2) < 0.03
    on_edge = (b[:, 0] == 0) | (b[:, 0] == 4) | (b[:, 1] == 0) | (b[:, 1] == 1)
    assert on_edge.all()


def test_box_3d_with_time_domain() -> None:
    dom = Box([0, 0, 0], [1, 2, 3], time=TimeDomain(0.5, 1.0))
    pts = dom.sample_interior(100, method="sobol", dtype=torch.float64)
    assert pts.shape == (100, 4) and pts.dtype == torch.float64
    assert dom.contains(pts).all()
    assert not dom.contains(torch.tensor([[0.5, 0.5, 0.5, 2.0]])).any()


def test_inverted_bounds_and_zero_counts_are_errors() -> None:
    with pytest.raises(ValueError, match="low 2.0 >= high 1.0"):
        Interval(2.0, 1.0)
    with pytest.raises(ValueError, match="time bounds: low 1.0 >= high 0.0"):
        Interval(0.0, 1.0, time=(1.0, 0.0))
    with pytest.raises(ValueError, match="dimension 1"):
        Rectangle((0, 1), (3, 3))
    dom = Interval(0.0, 1.0, time=(0.0, 1.0))
    with pytest.raises(ValueError, match="positive number of points"):
        dom.sample_interior(0)
    with pytest.raises(ValueError, match="positive number of points"):
        dom.sample_boundary(0)
    with pytest.raises(ValueError, match="time-dependent"):
        Interval(0.0, 1.0).sample_initial(5)
