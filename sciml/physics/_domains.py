"""Space(-time) domains for collocation: Interval, Rectangle, Box, each optionally × a time range.

Points are rows ``(x, [y, [z]], [t])``: spatial coordinates first, time last (the layout of
:class:`sciml.physics.AutogradDerivatives`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import torch
from jaxtyping import Float
from torch import Tensor

from sciml.physics._sampling import check_count, sample_box

__all__ = ["TimeDomain", "Box", "Interval", "Rectangle"]


def _check_bounds(low: float, high: float, what: str) -> tuple[float, float]:
    try:
        low, high = float(low), float(high)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} bounds must be numbers, got ({low!r}, {high!r})") from e
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"{what} bounds must be finite, got ({low}, {high})")
    if not low < high:
        raise ValueError(f"inverted or empty {what} bounds: low {low} >= high {high}")
    return low, high


@dataclasses.dataclass(frozen=True)
class TimeDomain:
    """The time interval [t0, t1] (t0 < t1)."""

    t0: float = 0.0
    t1: float = 1.0

    def __post_init__(self) -> None:
        t0, t1 = _check_bounds(self.t0, self.t1, "time")
        object.__setattr__(self, "t0", t0)
        object.__setattr__(self, "t1", t1)


class Box:
    """The box Π_i [lows_i, highs_i] in ``d`` spatial dimensions, optionally × [t0, t1].

    Args:
        lows, highs: Spatial bounds, one per dimension (low < high, else ValueError naming them).
        time: None (steady), a :class:`TimeDomain` or a pair ``(t0, t1)``.
    """

    def __init__(self, lows: Sequence[float], highs: Sequence[float],
                 time: TimeDomain | tuple[float, float] | None = None) -> None:
        lows, highs = list(lows), list(highs)
        if len(lows) != len(highs) or not lows:
            raise ValueError(f"lows and highs must have the same positive length, got {lows} "
                             f"and {highs}")
        bounds = [_check_bounds(lo, hi, f"dimension {i}")
                  for i, (lo, hi) in enumerate(zip(lows, highs, strict=True))]
        self.lows = tuple(b[0] for b in bounds)
        self.highs = tuple(b[1] for b in bounds)
        if time is not None and not isinstance(time, TimeDomain):
            if not isinstance(time, (tuple, list)) or len(time) != 2:
                raise ValueError(f"time must be a TimeDomain or a pair (t0, t1), got {time!r}")
            time = TimeDomain(*time)
        self.time: TimeDomain | None = time

    @property
    def spatial_dims(self) -> int:
        return len(self.lows)

    @property
    def dims(self) -> int:
        """Columns of a point: spatial dimensions, plus one for time if there is one."""
        return self.spatial_dims + (self.time is not None)

    def _all_bounds(self) -> tuple[list[float], list[float]]:
        lo, hi = list(self.lows), list(self.highs)
        if self.time is not None:
            lo.append(self.time.t0)
            hi.append(self.time.t1)
        return lo, hi

    def sample_interior(self, n: int, method: str = "uniform", seed: int | None = 0,
                        dtype: torch.dtype = torch.float32) -> Float[Tensor, "n dims"]:
        """``n`` points in the space(-time) box (see :func:`sample_box` for ``method``)."""
        lo, hi = self._all_bounds()
        return sample_box(n, lo, hi, method, seed, dtype)

    def sample_boundary(self, n: int, seed: int | None = 0,
                        dtype: torch.dtype = torch.float32) -> Float[Tensor, "n dims"]:
        """``n`` points on the spatial boundary (× uniform time), faces drawn by their measure.

        In 1-D the boundary is the two end points, drawn with equal probability.
        """
        n = check_count(n)
        rng = np.random.default_rng(seed)
        lo, hi = self._all_bounds()
        lo_a, hi_a = np.asarray(lo), np.asarray(hi)
        pts = lo_a + rng.random((n, len(lo))) * (hi_a - lo_a)
        d = self.spatial_dims
        extent = np.asarray(self.highs) - np.asarray(self.lows)
        # Face 2i / 2i+1 is x_i = low_i / high_i; its measure is the product of the other sides.
        measure = np.array([np.prod(np.delete(extent, i)) for i in range(d)]).repeat(2)
        face = rng.choice(2 * d, size=n, p=measure / measure.sum())
        axis, side = face // 2, face % 2
        pts[np.arange(n), axis] = np.where(side == 0, np.asarray(self.lows)[axis],
                                           np.asarray(self.highs)[axis])
        return torch.as_tensor(pts, dtype=dtype)

    def sample_initial(self, n: int, method: str = "uniform", seed: int | None = 0,
                       dtype: torch.dtype = torch.float32) -> Float[Tensor, "n dims"]:
        """``n`` points at t = t0 (spatial part sampled with ``method``)."""
        if self.time is None:
            raise ValueError("sample_initial needs a time-dependent domain (pass time=(t0, t1))")
        x = sample_box(n, self.lows, self.highs, method, seed, dtype)
        return torch.cat([x, torch.full((x.shape[0], 1), self.time.t0, dtype=dtype)], dim=1)

    def contains(self, points: Float[Tensor, "n dims"], tol: float = 1e-12) -> Tensor:
        """Boolean (n,): which points lie in the closed domain."""
        if points.dim() != 2 or points.shape[1] != self.dims:
            raise ValueError(f"points must have shape (n, {self.dims}), got "
                             f"{tuple(points.shape)}")
        lo, hi = self._all_bounds()
        lo_t = torch.as_tensor(lo, dtype=points.dtype, device=points.device)
        hi_t = torch.as_tensor(hi, dtype=points.dtype, device=points.device)
        return ((points >= lo_t - tol) & (points <= hi_t + tol)).all(dim=1)

    def __repr__(self) -> str:
        time = f", time=({self.time.t0}, {self.time.t1})" if self.time is not None else ""
        return f"{type(self).__name__}(lows={self.lows}, highs={self.highs}{time})"


class Interval(Box):
    """The interval [low, high], optionally × time."""

    def __init__(self, low: float, high: float,
                 time: TimeDomain | tuple[float, float] | None = None) -> None:
        super().__init__([low], [high], time)


class Rectangle(Box):
    """The rectangle [x0, x1] × [y0, y1], optionally × time."""

    def __init__(self, x: tuple[float, float], y: tuple[float, float],
                 time: TimeDomain | tuple[float, float] | None = None) -> None:
        if len(x) != 2 or len(y) != 2:
            raise ValueError(f"x and y must be pairs (low, high), got {x!r} and {y!r}")
        super().__init__([x[0], y[0]], [x[1], y[1]], time)
