"""Orientation grids, rotations, pair invariants and sphere <-> vector / SH maps."""

from __future__ import annotations

import math

import pytest
import torch

from sciml.geometry import (
    axis_angle_rotation,
    circle_grid,
    fibonacci_sphere,
    fibre_invariants,
    pair_distance,
    r2s1_invariants,
    r3s2_invariants,
    random_reflection,
    random_rotation,
    rotation_2d,
    safe_norm,
    sh_to_sphere,
    sphere_to_sh,
    sphere_to_vec,
    vec_to_sphere,
)

F64 = torch.float64


@pytest.mark.parametrize("n", [1, 2, 7, 20, 64])
def test_fibonacci_sphere_is_unit_deterministic_and_near_uniform(n):
    g = fibonacci_sphere(n, F64)
    assert g.shape == (n, 3)
    torch.testing.assert_close(g.norm(dim=1), torch.ones(n, dtype=F64))
    assert torch.equal(g, fibonacci_sphere(n, F64))
    if n >= 20:
        # Equal-area points: the second moment approaches I/3 and the mean approaches 0.
        assert (g.T @ g / n - torch.eye(3, dtype=F64) / 3).abs().max() < 2.0 / n
        assert g.mean(0).norm() < 1.0 / n
        dots = g @ g.T - 2 * torch.eye(n, dtype=F64)
        nearest = torch.arccos(dots.max(1).values.clamp(-1, 1))
        assert nearest.max() / nearest.min() < 2.0  # no clumps, no holes


def test_grids_reject_bad_counts():
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="n must be an integer"):
            fibonacci_sphere(bad)
        with pytest.raises(ValueError, match="n must be an integer"):
            circle_grid(bad)


def test_circle_grid_is_permuted_by_rotations_of_its_step():
    g = circle_grid(8, F64)
    rotated = g @ rotation_2d(2 * math.pi / 8 * 3).T
    torch.testing.assert_close(rotated, torch.roll(g, -3, dims=0), atol=1e-14, rtol=0)


@pytest.mark.parametrize("dim", [2, 3])
def test_random_rotations_and_reflections(dim):
    gen = torch.Generator().manual_seed(0)
    r = random_rotation(dim, 50, generator=gen)
    eye = torch.eye(dim, dtype=F64).expand(50, dim, dim)
    torch.testing.assert_close(r @ r.transpose(1, 2), eye)
    torch.testing.assert_close(torch.linalg.det(r), torch.ones(50, dtype=F64))
    m = random_reflection(dim, 50, generator=gen)
    torch.testing.assert_close(m @ m.transpose(1, 2), eye)
    torch.testing.assert_close(torch.linalg.det(m), -torch.ones(50, dtype=F64))
    # Reproducible with a seed, different between draws.
    a = random_rotation(dim, generator=torch.Generator().manual_seed(3))
    b = random_rotation(dim, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.allclose(r[0], r[1])
    with pytest.raises(ValueError, match="dim must be 2 or 3"):
        random_rotation(4)


def test_rotations_are_haar_uniform_on_average():
    # The mean of a Haar-random rotation is the zero matrix.
    r = random_rotation(3, 4000, generator=torch.Generator().manual_seed(1))
    assert r.mean(0).abs().max() < 0.05


def test_axis_angle_rotation():
    r = axis_angle_rotation((0, 0, 1), math.pi / 2)
    torch.testing.assert_close(r @ torch.tensor([1.0, 0, 0], dtype=F64),
                               torch.tensor([0.0, 1, 0], dtype=F64))
    with pytest.raises(ValueError, match="axis"):
        axis_angle_rotation((0, 0, 0), 1.0)


def test_r3s2_invariants_values_and_invariance():
    gen = torch.Generator().manual_seed(0)
    rel = torch.randn(30, 3, generator=gen, dtype=F64)
    grid = fibonacci_sphere(10, F64)
    inv = r3s2_invariants(rel, grid)
    assert inv.shape == (30, 10, 2)
    # <rel, o>^2 + |rel_perp|^2 = |rel|^2
    torch.testing.assert_close(inv[..., 0] ** 2 + inv[..., 1] ** 2,
                               (rel ** 2).sum(-1, keepdim=True).expand(30, 10))
    for mat in (random_rotation(3, generator=gen), random_reflection(3, generator=gen)):
        torch.testing.assert_close(r3s2_invariants(rel @ mat.T, grid @ mat.T), inv)
        torch.testing.assert_close(fibre_invariants(grid @ mat.T), fibre_invariants(grid))
    torch.testing.assert_close(pair_distance(rel @ mat.T), rel.norm(dim=1, keepdim=True))


def test_r2s1_invariants_se2_but_not_reflection():
    gen = torch.Generator().manual_seed(0)
    rel = torch.randn(20, 2, generator=gen, dtype=F64)
    grid = circle_grid(6, F64)
    inv = r2s1_invariants(rel, grid)
    rot = random_rotation(2, generator=gen)
    torch.testing.assert_close(r2s1_invariants(rel @ rot.T, grid @ rot.T), inv)
    flip = random_reflection(2, generator=gen)
    flipped = r2s1_invariants(rel @ flip.T, grid @ flip.T)
    torch.testing.assert_close(flipped[..., 0], inv[..., 0])
    torch.testing.assert_close(flipped[..., 1], -inv[..., 1])  # the perpendicular flips side
    with pytest.raises(ValueError, match=r"rel must have shape \(E, 2\)"):
        r2s1_invariants(torch.randn(3, 3), grid)


def test_safe_norm_gradient_is_finite_at_zero():
    v = torch.zeros(4, 3, dtype=F64, requires_grad=True)
    safe_norm(v).sum().backward()
    assert torch.isfinite(v.grad).all()
    w = torch.randn(5, 3, dtype=F64)
    torch.testing.assert_close(safe_norm(w), w.norm(dim=-1))


@pytest.mark.parametrize("dim,grid", [(3, fibonacci_sphere(20, F64)), (2, circle_grid(5, F64))])
def test_vectors_round_trip_and_commute_with_rotations(dim, grid):
    gen = torch.Generator().manual_seed(0)
    vec = torch.randn(7, 2, dim, generator=gen, dtype=F64)
    sig = vec_to_sphere(vec, grid)
    assert sig.shape == (7, grid.size(0), 2)
    torch.testing.assert_close(sphere_to_vec(sig, grid), vec)
    rot = random_rotation(dim, generator=gen)
    torch.testing.assert_close(sphere_to_vec(sig, grid @ rot.T), vec @ rot.T)
    with pytest.raises(ValueError, match="does not span"):
        sphere_to_vec(sig[:, :1], grid[:1])


def test_spherical_harmonics_round_trip_and_degree_one_is_the_vector():
    grid = fibonacci_sphere(40, F64)
    gen = torch.Generator().manual_seed(0)
    coeffs = torch.randn(3, 16, 2, generator=gen, dtype=F64)  # lmax = 3
    sig = sh_to_sphere(coeffs, grid)
    torch.testing.assert_close(sphere_to_sh(sig, grid, 3), coeffs)
    # A lifted vector is a pure l=1 signal with coefficients proportional to (x, y, z).
    vec = torch.randn(3, 1, 3, generator=gen, dtype=F64)
    c = sphere_to_sh(vec_to_sphere(vec, grid), grid, 2)
    assert c[:, [0, 4, 5, 6, 7, 8]].abs().max() < 1e-12
    torch.testing.assert_close(c[:, 1:4, 0] * math.sqrt(3.0), vec[:, 0])
    with pytest.raises(ValueError, match="cannot determine"):
        sphere_to_sh(sig[:, :10], grid[:10], 3)
    with pytest.raises(ValueError, match=r"\(lmax\+1\)\^2"):
        sh_to_sphere(torch.zeros(2, 5, 1), grid)
