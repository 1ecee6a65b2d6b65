"""Random rotations and reflections of R2 and R3 (Haar-uniform, seedable)."""

from __future__ import annotations

import math

import torch
from jaxtyping import Float
from torch import Tensor

__all__ = ["random_rotation", "random_reflection", "rotation_2d", "axis_angle_rotation"]


def _check_dim(dim: object) -> int:
    if dim not in (2, 3) or isinstance(dim, bool):
        raise ValueError(f"dim must be 2 or 3, got {dim!r}")
    return int(dim)


def rotation_2d(angle: float | Tensor, dtype: torch.dtype = torch.float64
                ) -> Float[Tensor, "*b 2 2"]:
    """Counter-clockwise rotation matrix of the plane by ``angle`` (radians)."""
    a = torch.as_tensor(angle, dtype=dtype)
    c, s = torch.cos(a), torch.sin(a)
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)


def axis_angle_rotation(axis: Tensor | tuple[float, float, float], angle: float,
                        dtype: torch.dtype = torch.float64) -> Float[Tensor, "3 3"]:
    r"""Rotation of R3 about ``axis`` by ``angle`` (Rodrigues:
    :math:`R = I + \sin\theta K + (1 - \cos\theta) K^2`, :math:`K` the cross-product matrix)."""
    u = torch.as_tensor(axis, dtype=dtype).reshape(3)
    norm = float(u.norm())
    if not norm > 0:
        raise ValueError(f"axis must be a non-zero 3-vector, got {axis!r}")
    u = u / norm
    k = torch.zeros(3, 3, dtype=dtype)
    k[0, 1], k[0, 2], k[1, 2] = -u[2], u[1], -u[0]
    k = k - k.T
    return torch.eye(3, dtype=dtype) + math.sin(angle) * k + (1.0 - math.cos(angle)) * (k @ k)


def random_rotation(
    dim: int = 3, n: int | None = None, generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> Float[Tensor, "*n dim dim"]:
    """Haar-uniform random rotation(s) of R^dim (determinant +1).

    3-D: a normalised Gaussian quaternion (uniform on S3, hence Haar on SO(3)); 2-D: a uniform
    angle.

    Args:
        dim: 2 or 3.
        n: Number of rotations; ``None`` returns a single ``(dim, dim)`` matrix.
        generator: Random generator (for reproducible draws).
        dtype: Floating dtype.

    Returns:
        ``(dim, dim)`` or ``(n, dim, dim)`` orthogonal matrices with determinant 1.
    """
    dim = _check_dim(dim)
    m = 1 if n is None else int(n)
    if dim == 2:
        angle = torch.rand(m, generator=generator, dtype=torch.float64) * (2.0 * math.pi)
        out = rotation_2d(angle, torch.float64)
    else:
        q = torch.randn(m, 4, generator=generator, dtype=torch.float64)
        q = q / q.norm(dim=-1, keepdim=True)
        w, x, y, z = q.unbind(-1)
        out = torch.stack([
            1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
        ], -1).reshape(m, 3, 3)
    out = out.to(dtype)
    return out[0] if n is None else out


def random_reflection(
    dim: int = 3, n: int | None = None, generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> Float[Tensor, "*n dim dim"]:
    """Random improper orthogonal matrix (determinant -1): a random rotation times a mirror
    of the first axis.

    Args:
        dim: 2 or 3.
        n: Number of matrices; ``None`` returns one ``(dim, dim)`` matrix.
        generator: Random generator.
        dtype: Floating dtype.
    """
    rot = random_rotation(dim, n, generator, dtype)
    mirror = torch.ones(dim, dtype=dtype)
    mirror[0] = -1.0
    return rot * mirror  # scales the first column: R @ diag(-1, 1, ...)
