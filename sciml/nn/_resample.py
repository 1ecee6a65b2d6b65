"""Resampling a field between two grids that cover the same domain (another resolution).

The grids are those of the PDE data sets and of :func:`sciml.datasets.with_coordinates`: on a
Dirichlet or Neumann axis a *vertex* grid of ``n`` points at ``i / (n - 1)`` (both boundary nodes
included), on a periodic axis ``n`` points at ``i / n`` (the point 1 is the point 0). A field is
read as the piecewise-linear function through its samples and sampled on the other grid.

Linear interpolation, not averaging, on purpose: the data sets make coarse grids by taking every
other node of a fine solve (Darcy 64² from 127², Navier–Stokes 64² from 128²), so where the
target grid's nodes are nodes of the source grid (127 -> 64, 128 -> 64 periodic) resampling is
exactly that injection, and a model sees the values it was trained on; between nodes (64 -> 127)
it is linear interpolation, second-order accurate for smooth fields.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor

__all__ = ["resample_grid"]

_MODES = {1: "linear", 2: "bilinear", 3: "trilinear"}
_BOUNDARIES = ("dirichlet", "periodic", "neumann")


def resample_grid(u: Float[Tensor, "b c *spatial"], size: int | Sequence[int],
                  boundary: str = "dirichlet") -> Float[Tensor, "b c *size"]:
    """Sample the field ``u`` on a grid of ``size`` points per axis over the same domain.

    Args:
        u: Field, channel first, 1-D to 3-D.
        size: Target points per spatial axis (one int for all axes, or one per axis).
        boundary: ``"dirichlet"`` or ``"neumann"`` (vertex grids, end points on the boundary) or
            ``"periodic"`` (the last point's right neighbour is the first point).

    Returns:
        The resampled field; ``u`` itself when it already has ``size``.
    """
    if u.dim() not in (3, 4, 5):
        raise ValueError(f"u must be a field (batch, channels, *spatial) with 1 to 3 spatial "
                         f"dimensions, got shape {tuple(u.shape)}")
    ndim = u.dim() - 2
    sizes = (size,) * ndim if isinstance(size, int) else tuple(size)
    if len(sizes) != ndim or any(isinstance(s, bool) or not isinstance(s, int) or s < 1
                                 for s in sizes):
        raise ValueError(f"size must be a positive integer or {ndim} of them, got {size!r}")
    if boundary not in _BOUNDARIES:
        raise ValueError(f"boundary must be one of {list(_BOUNDARIES)}, got {boundary!r}")
    if tuple(u.shape[2:]) == sizes:
        return u
    if not u.is_floating_point():
        raise TypeError(f"u must be floating point, got {u.dtype}")
    if boundary != "periodic":
        return F.interpolate(u, size=sizes, mode=_MODES[ndim], align_corners=True)
    # periodic: append the wrap-around point (position 1), so that the n + 1 points span [0, 1]
    # as a vertex grid; sample n_out + 1 points and drop the last (position 1 again)
    closed = F.pad(u, (0, 1) * ndim, mode="circular")
    out = F.interpolate(closed, size=[s + 1 for s in sizes], mode=_MODES[ndim],
                        align_corners=True)
    return out[(Ellipsis, *(slice(0, s) for s in sizes))]
