"""Finite-difference derivatives of fields on regular space–time grids (:class:`GridDerivatives`).

Central second-order differences inside, second-order one-sided differences at non-periodic
ends, a periodic wrap on periodic axes (stencils in :mod:`sciml.physics._fd_stencils`); in time
optionally backward (BDF2) differences instead. Used for
PDE residuals on grids, e.g. the hard-constraint layer of Chalapathi, Du, Krishnapriyan,
"Scaling physics-informed hard constraints with mixture-of-experts", ICLR 2024, which evaluates
the residual of the network's basis functions with finite differences.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from sciml.data import Grid
from sciml.physics._fd_stencils import fd_first, fd_second
from sciml.physics._pdes import AbstractDerivatives

__all__ = ["GridDerivatives", "TIME_SCHEMES", "bdf2_time", "fd_first", "fd_second"]

TIME_SCHEMES = ("central", "bdf2")


def bdf2_time(u: Tensor, dt: float) -> Tensor:
    """Backward time differences along the last axis: 0 at the first time, backward Euler
    ``(u₁ − u₀)/Δt`` at the second, BDF2 ``(3uₙ − 4uₙ₋₁ + uₙ₋₂)/(2Δt)`` after it.

    Args:
        u: ``(..., n_t)`` with ``n_t >= 3``.
        dt: Time step.
    """
    if u.shape[-1] < 3:
        raise ValueError(f"bdf2 time differences need >= 3 times, got {u.shape[-1]}")
    first = torch.zeros_like(u[..., :1])
    euler = (u[..., 1:2] - u[..., :1]) / dt
    rest = (3.0 * u[..., 2:] - 4.0 * u[..., 1:-1] + u[..., :-2]) / (2.0 * dt)
    return torch.cat([first, euler, rest], dim=-1)


def _positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


class GridDerivatives(AbstractDerivatives):
    """Derivatives of fields on a uniform grid, layout ``(..., *space, t)``.

    The trailing ``spatial_dims + 1`` axes are the spatial axes (x, y, ...) followed by time;
    with ``dt=None`` there is no time axis and the layout is ``(..., *space)`` (a
    :class:`~sciml.data.Grid` field ``(b, c, *space)``). Leading axes (batch, channels, basis
    functions) are untouched. Time is never periodic.

    Args:
        spacing: Grid spacing per spatial axis (one number for all).
        dt: Time step of the last axis, or None for fields without a time axis.
        periodic: Per spatial axis (or one bool for all): wrap around instead of one-sided ends.
        spatial_dims: Number of spatial axes (default: the length of ``spacing``, else 1).
        time_scheme: ``"central"`` (second-order central differences, one-sided at the first
            and last time) or ``"bdf2"`` (backward differences: backward Euler at the second
            time, BDF2 after it; zero at the first time, which has no backward neighbour). A
            residual ``u_t − F(u)`` with ``"bdf2"`` is the implicit BDF2 scheme, whose zero set
            given the initial and boundary values is a stable discretisation of the PDE;
            with ``"central"`` it is leapfrog-like, unstable for diffusion.
    """

    def __init__(self, spacing: float | Sequence[float], dt: float | None = None,
                 periodic: bool | Sequence[bool] = False, spatial_dims: int | None = None,
                 time_scheme: str = "central") -> None:
        if isinstance(spacing, (int, float)) and not isinstance(spacing, bool):
            n = spatial_dims if spatial_dims is not None else 1
            spacing = (spacing,) * n
        spacing = tuple(spacing)
        if spatial_dims is None:
            spatial_dims = len(spacing)
        if isinstance(spatial_dims, bool) or not isinstance(spatial_dims, int) or spatial_dims < 1:
            raise ValueError(f"spatial_dims must be an integer >= 1, got {spatial_dims!r}")
        if len(spacing) != spatial_dims:
            raise ValueError(f"spacing must give one value per spatial axis ({spatial_dims}), "
                             f"got {spacing!r}")
        self.spatial_dims = spatial_dims
        self.spacing = tuple(_positive(h, f"spacing[{i}]") for i, h in enumerate(spacing))
        self.time_step = None if dt is None else _positive(dt, "dt")
        if isinstance(periodic, bool):
            periodic = (periodic,) * spatial_dims
        periodic = tuple(periodic)
        if len(periodic) != spatial_dims or not all(isinstance(p, bool) for p in periodic):
            raise ValueError(f"periodic must be a bool or {spatial_dims} bools, got {periodic!r}")
        self.periodic = periodic
        if time_scheme not in TIME_SCHEMES:
            raise ValueError(f"time_scheme must be one of {list(TIME_SCHEMES)}, got "
                             f"{time_scheme!r}")
        self.time_scheme = time_scheme

    @classmethod
    def from_grid(cls, grid: Grid, dt: float | None = None) -> GridDerivatives:
        """Spacing and periodicity of a :class:`~sciml.data.Grid` (its boundary per axis)."""
        if not isinstance(grid, Grid):
            raise TypeError(f"grid must be a sciml.data.Grid, got {type(grid).__name__}")
        periodic = tuple(lo.kind == "periodic" for lo, _ in grid.bc)
        return cls(grid.spacing, dt=dt, periodic=periodic, spatial_dims=grid.ndim)

    def __repr__(self) -> str:
        return (f"GridDerivatives(spacing={self.spacing}, dt={self.time_step}, "
                f"periodic={self.periodic}, time_scheme={self.time_scheme!r})")

    def _trailing(self) -> int:
        return self.spatial_dims + (0 if self.time_step is None else 1)

    def _dim(self, u: Tensor, axis: int) -> int:
        if isinstance(axis, bool) or not isinstance(axis, int) or not (
                0 <= axis < self.spatial_dims):
            raise ValueError(f"axis must be an int in [0, {self.spatial_dims}), got {axis!r}")
        if not isinstance(u, Tensor) or u.ndim < self._trailing():
            shape = tuple(u.shape) if isinstance(u, Tensor) else type(u).__name__
            raise ValueError(f"u must have at least {self._trailing()} trailing grid axes "
                             f"(*space{', t' if self.time_step else ''}), got {shape}")
        return u.ndim - self._trailing() + axis

    def dt(self, u: Tensor) -> Tensor:
        """∂u/∂t along the last axis (see ``time_scheme``)."""
        if self.time_step is None:
            raise ValueError("these GridDerivatives have no time axis (dt=None)")
        self._dim(u, 0)
        if self.time_scheme == "central":
            return fd_first(u, u.ndim - 1, self.time_step, periodic=False)
        return bdf2_time(u, self.time_step)

    def dx(self, u: Tensor, axis: int = 0) -> Tensor:
        """∂u/∂x_axis."""
        dim = self._dim(u, axis)
        return fd_first(u, dim, self.spacing[axis], self.periodic[axis])

    def dxx(self, u: Tensor, axis: int = 0) -> Tensor:
        """∂²u/∂x_axis²."""
        dim = self._dim(u, axis)
        return fd_second(u, dim, self.spacing[axis], self.periodic[axis])

    def velocity(self, u: Tensor, axis: int = 0) -> Tensor:
        r"""Velocity component ``axis`` of a 2-D vorticity field on a periodic grid.

        Stream function :math:`-\Delta\psi = \omega` solved spectrally (zero-mean ψ), then
        :math:`(u, v) = (\partial_y \psi, -\partial_x \psi)`, also spectrally; the period of
        each axis is ``n * spacing``.
        """
        if self.spatial_dims != 2 or not all(self.periodic):
            raise ValueError(f"velocity needs a 2-D grid periodic on both axes, got "
                             f"spatial_dims={self.spatial_dims}, periodic={self.periodic}")
        self._dim(u, axis)
        dims = [u.ndim - self._trailing(), u.ndim - self._trailing() + 1]
        w_hat = torch.fft.fftn(u, dim=dims)
        ks = []
        for j, d_ in enumerate(dims):
            n = u.shape[d_]
            k = torch.fft.fftfreq(n, d=self.spacing[j], device=u.device,
                                  dtype=u.real.dtype) * (2 * math.pi)
            view = [1] * u.ndim
            view[d_] = n
            ks.append(k.reshape(view))
        k2 = ks[0] ** 2 + ks[1] ** 2
        psi_hat = w_hat / torch.where(k2 > 0, k2, torch.ones_like(k2))
        psi_hat = torch.where(k2 > 0, psi_hat, torch.zeros_like(psi_hat))
        if axis == 0:
            return torch.fft.ifftn(1j * ks[1] * psi_hat, dim=dims).real
        return torch.fft.ifftn(-1j * ks[0] * psi_hat, dim=dims).real
