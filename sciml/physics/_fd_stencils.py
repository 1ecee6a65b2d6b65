"""Finite-difference stencils along one axis of a tensor: second-order central differences
inside, second-order one-sided differences at the two ends, or a periodic wrap.

First derivative (h the spacing):
    inside        (u[i+1] − u[i−1]) / 2h
    left end      (−3u[0] + 4u[1] − u[2]) / 2h
    right end     (3u[n−1] − 4u[n−2] + u[n−3]) / 2h
Second derivative:
    inside        (u[i+1] − 2u[i] + u[i−1]) / h²
    left end      (2u[0] − 5u[1] + 4u[2] − u[3]) / h²
    right end     (2u[n−1] − 5u[n−2] + 4u[n−3] − u[n−4]) / h²
Periodic axes wrap around (``torch.roll``), with n points on a period of length n·h.
All stencils are second order, so the error of a smooth function falls as h².
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["fd_first", "fd_second"]


def _check(u: Tensor, dim: int, h: float, periodic: bool, order: int) -> int:
    if not isinstance(u, Tensor):
        raise TypeError(f"u must be a torch.Tensor, got {type(u).__name__}")
    if isinstance(dim, bool) or not isinstance(dim, int) or not -u.ndim <= dim < u.ndim:
        raise ValueError(f"dim must be an int in [{-u.ndim}, {u.ndim}) for a tensor of shape "
                         f"{tuple(u.shape)}, got {dim!r}")
    if isinstance(h, bool) or not isinstance(h, (int, float)) or not (
            math.isfinite(h) and h > 0):
        raise ValueError(f"spacing h must be a positive finite number, got {h!r}")
    dim = dim % u.ndim
    need = 3 if periodic else order + 2
    if u.shape[dim] < need:
        kind = "periodic" if periodic else "one-sided second-order"
        raise ValueError(f"{kind} finite differences of order {order} need >= {need} points "
                         f"along dim {dim}, got shape {tuple(u.shape)}")
    return dim


def fd_first(u: Tensor, dim: int, h: float, periodic: bool = False) -> Tensor:
    """First derivative of ``u`` along ``dim`` (second order; see the module docstring).

    Args:
        u: Samples on a uniform grid along ``dim`` (any other axes are batch axes).
        dim: The axis to differentiate.
        h: Grid spacing along ``dim``.
        periodic: Wrap around (n points per period) instead of one-sided ends.

    Returns:
        A tensor shaped like ``u``.
    """
    dim = _check(u, dim, h, periodic, 1)
    if periodic:
        return (u.roll(-1, dim) - u.roll(1, dim)) / (2.0 * h)
    n = u.shape[dim]
    inner = (u.narrow(dim, 2, n - 2) - u.narrow(dim, 0, n - 2)) / (2.0 * h)
    u0, u1, u2 = (u.narrow(dim, i, 1) for i in range(3))
    left = (-3.0 * u0 + 4.0 * u1 - u2) / (2.0 * h)
    v0, v1, v2 = (u.narrow(dim, n - 1 - i, 1) for i in range(3))
    right = (3.0 * v0 - 4.0 * v1 + v2) / (2.0 * h)
    return torch.cat([left, inner, right], dim=dim)


def fd_second(u: Tensor, dim: int, h: float, periodic: bool = False) -> Tensor:
    """Second derivative of ``u`` along ``dim`` (second order; see the module docstring).

    Args:
        u: Samples on a uniform grid along ``dim``.
        dim: The axis to differentiate.
        h: Grid spacing along ``dim``.
        periodic: Wrap around instead of one-sided ends.

    Returns:
        A tensor shaped like ``u``.
    """
    dim = _check(u, dim, h, periodic, 2)
    h2 = h * h
    if periodic:
        return (u.roll(-1, dim) - 2.0 * u + u.roll(1, dim)) / h2
    n = u.shape[dim]
    inner = (u.narrow(dim, 2, n - 2) - 2.0 * u.narrow(dim, 1, n - 2)
             + u.narrow(dim, 0, n - 2)) / h2
    u0, u1, u2, u3 = (u.narrow(dim, i, 1) for i in range(4))
    left = (2.0 * u0 - 5.0 * u1 + 4.0 * u2 - u3) / h2
    v0, v1, v2, v3 = (u.narrow(dim, n - 1 - i, 1) for i in range(4))
    right = (2.0 * v0 - 5.0 * v1 + 4.0 * v2 - v3) / h2
    return torch.cat([left, inner, right], dim=dim)
