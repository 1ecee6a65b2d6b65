"""Deterministic orientation grids on the sphere S2 and the circle S1."""

from __future__ import annotations

import math

import torch
from jaxtyping import Float
from torch import Tensor

__all__ = ["fibonacci_sphere", "circle_grid", "orientation_grid"]


def _check_count(n: object, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {n!r}")
    return n


def fibonacci_sphere(
    n: int, dtype: torch.dtype = torch.float32, device: torch.device | str | None = None
) -> Float[Tensor, "n 3"]:
    r"""Near-uniform grid of ``n`` unit vectors on S2: the Fibonacci (golden-spiral) lattice.

    Point ``i`` has height :math:`z_i = 1 - (2i + 1)/n` and azimuth :math:`\phi_i = i\,\pi(3 -
    \sqrt 5)` (the golden angle), so every point covers an equal-area band (González, Math.
    Geosci. 2010). Deterministic for every ``n``, unlike the seeded repulsion of the PONITA
    reference code; the grid has no rotational symmetry in general.

    Args:
        n: Number of orientations (>= 1).
        dtype: Floating dtype of the result.
        device: Device of the result.

    Returns:
        ``(n, 3)`` unit vectors.
    """
    n = _check_count(n)
    i = torch.arange(n, dtype=torch.float64)
    z = 1.0 - (2.0 * i + 1.0) / n
    rho = torch.sqrt((1.0 - z * z).clamp(min=0.0))
    phi = i * (math.pi * (3.0 - math.sqrt(5.0)))
    grid = torch.stack([rho * torch.cos(phi), rho * torch.sin(phi), z], dim=-1)
    return grid.to(dtype=dtype, device=device)


def circle_grid(
    n: int, dtype: torch.dtype = torch.float32, device: torch.device | str | None = None
) -> Float[Tensor, "n 2"]:
    r"""The uniform grid of ``n`` unit vectors on S1: :math:`(\cos\theta_k, \sin\theta_k)`,
    :math:`\theta_k = 2\pi k / n`. Rotations by multiples of :math:`2\pi/n` permute it.

    Args:
        n: Number of orientations (>= 1).
        dtype: Floating dtype of the result.
        device: Device of the result.

    Returns:
        ``(n, 2)`` unit vectors.
    """
    n = _check_count(n)
    theta = torch.arange(n, dtype=torch.float64) * (2.0 * math.pi / n)
    grid = torch.stack([torch.cos(theta), torch.sin(theta)], dim=-1)
    return grid.to(dtype=dtype, device=device)


def orientation_grid(
    dim: int, n: int, dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Float[Tensor, "n dim"]:
    """The orientation grid of R^dim: :func:`fibonacci_sphere` for 3, :func:`circle_grid` for 2."""
    if dim == 3:
        return fibonacci_sphere(n, dtype, device)
    if dim == 2:
        return circle_grid(n, dtype, device)
    raise ValueError(f"dim must be 2 or 3, got {dim!r}")
