"""Diffusion–sorption (PDEBench) and 2-D Navier–Stokes in vorticity form, as residuals on grids,
with the linear initial/boundary rows that the hard-constraint layer needs.

Both follow Chalapathi, Du, Krishnapriyan, "Scaling physics-informed hard constraints with
mixture-of-experts", ICLR 2024 (their two problems). Grid layouts: diffusion–sorption
``(..., x, t)`` on cell centres x_i = (i + ½)/n_x (the finite-volume solver's cells) and times
t_k = k Δt; Navier–Stokes ``(..., x, y, t)`` on the periodic points i/s.

``constraint_rows(basis, d, initial)`` returns the initial/boundary conditions of a field
u = basis · w as rows ``A w − c`` (they are linear in u), with the space–time location of each
row (used by the mixture of experts to route rows to the expert that owns them). The same rows
follow for any PDE from its ``domain()`` and ``boundary_conditions()``
(:class:`~sciml.physics.GridConstraints`, which the models use); these methods stay for direct
use.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch
from torch import Tensor

from sciml.physics._pdes import AbstractDerivatives, AbstractPDE, _finite, register_pde

__all__ = ["DiffusionSorption", "NavierStokesVorticity", "ns_forcing"]


@register_pde("diffusion_sorption")
@dataclasses.dataclass(frozen=True)
class DiffusionSorption(AbstractPDE):
    """Diffusion–sorption u_t = D / R(u) u_xx on x ∈ [0, 1], t ∈ [0, 500] (PDEBench constants).

    R(u) = 1 + (1 − φ)/φ ρ_s k n_f (max(u, 0) + 1e-6)^(n_f − 1) (Freundlich; the 1e-6 as in
    PDEBench's generator); u(0, t) = 1; at x = 1 the outflow condition u = −D u_x of PDEBench's
    generator (its paper writes +D u_x; see :mod:`sciml.solvers.diffusion_sorption`).
    """

    D: float = 5e-4
    porosity: float = 0.29
    rho_s: float = 2880.0
    k_f: float = 3.5e-4
    n_f: float = 0.874
    left_value: float = 1.0
    t_final: float = 500.0

    spatial_dims = 1

    def __post_init__(self) -> None:
        for name in ("D", "rho_s", "k_f", "n_f", "t_final"):
            _finite(getattr(self, name), name)
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        _finite(self.porosity, "porosity")
        if not 0 < self.porosity < 1:
            raise ValueError(f"porosity must be in (0, 1), got {self.porosity!r}")
        _finite(self.left_value, "left_value")

    def retardation(self, u: Tensor) -> Tensor:
        """R(u) (see the class docstring)."""
        factor = (1 - self.porosity) / self.porosity * self.rho_s * self.k_f * self.n_f
        return 1.0 + factor * (u.clamp_min(0.0) + 1e-6) ** (self.n_f - 1.0)

    def residual(self, u: Tensor, d: AbstractDerivatives, coords: Tensor) -> Tensor:
        return d.dt(u) - self.D / self.retardation(u) * d.dxx(u)

    def domain(self) -> tuple[tuple[float, float], ...]:
        return ((0.0, 1.0),)

    def boundary_conditions(self) -> tuple[Any, ...]:
        """u(0, t) = ``left_value``; u + D u_x = 0 at x = 1 (PDEBench's generator)."""
        return (({"kind": "dirichlet", "value": self.left_value},
                 {"kind": "robin", "a": 1.0, "b": self.D, "value": 0.0}),)

    def residual_mask(self, grid_shape: tuple[int, ...]) -> Tensor:
        """``(n_x, n_t)`` bool: where the implicit (BDF2) scheme imposes the PDE residual on the
        cell-centred grid, the inner cells (see
        :meth:`~sciml.physics.SpaceTimeGrid.residual_mask`; central time differences impose it
        everywhere, as the reference code). The boundary rows (:meth:`constraint_rows`)
        determine the first and last cell at every time, so with the initial rows the residual
        and constraint rows form a square system; the PDE at the end cells as well (one-sided
        u_xx) would be a second, conflicting equation there."""
        mask = torch.zeros(grid_shape, dtype=torch.bool)
        mask[1:-1] = True
        return mask

    def constraint_rows(self, basis: Tensor, d: AbstractDerivatives, initial: Tensor
                        ) -> tuple[Tensor, Tensor, Tensor]:
        """Initial and boundary rows of u = basis · w on the cell-centred grid.

        Boundary values come from the quadratic through the three cells next to the boundary:
        u(0) ≈ (15u₀ − 10u₁ + 3u₂)/8 and u_x(1) ≈ (2u_{n−1} − 3u_{n−2} + u_{n−3})/h.

        Args:
            basis: ``(b, N, n_x, n_t)`` basis functions.
            d: Unused (the rows use the stencils above); kept for the common signature.
            initial: ``(b, n_x)`` initial state.

        Returns:
            ``A`` ``(b, R, N)``, ``c`` ``(b, R)`` and the rows' grid locations ``(R, 2)``
            (x index, t index), R = n_x + 2 (n_t − 1).
        """
        b, n, nx, nt = basis.shape
        if initial.shape != (b, nx):
            raise ValueError(f"initial must have shape ({b}, {nx}) (batch, x), got "
                             f"{tuple(initial.shape)}")
        h = 1.0 / nx
        ic = basis[..., 0].transpose(1, 2)                                 # (b, nx, N)
        later = basis[..., 1:]                                             # (b, N, nx, nt-1)
        left = (15 * later[:, :, 0] - 10 * later[:, :, 1] + 3 * later[:, :, 2]) / 8
        right_u = (15 * later[:, :, -1] - 10 * later[:, :, -2] + 3 * later[:, :, -3]) / 8
        right_dx = (2 * later[:, :, -1] - 3 * later[:, :, -2] + later[:, :, -3]) / h
        right = right_u + self.D * right_dx
        a = torch.cat([ic, left.transpose(1, 2), right.transpose(1, 2)], dim=1)
        c = torch.cat([initial, initial.new_full((b, nt - 1), self.left_value),
                       initial.new_zeros(b, nt - 1)], dim=1)
        t_idx = torch.arange(1, nt, device=basis.device)
        where = torch.cat([
            torch.stack([torch.arange(nx, device=basis.device), torch.zeros_like(
                torch.arange(nx, device=basis.device))], dim=1),
            torch.stack([torch.zeros_like(t_idx), t_idx], dim=1),
            torch.stack([torch.full_like(t_idx, nx - 1), t_idx], dim=1),
        ])
        return a, c, where


def ns_forcing(coords: Tensor) -> Tensor:
    """FNO's forcing 0.1 (sin 2π(x+y) + cos 2π(x+y)) at ``coords`` (..., ≥2), columns x, y."""
    s = 2 * math.pi * (coords[..., 0] + coords[..., 1])
    return 0.1 * (torch.sin(s) + torch.cos(s))


@register_pde("navier_stokes_vorticity")
@dataclasses.dataclass(frozen=True)
class NavierStokesVorticity(AbstractPDE):
    """2-D incompressible Navier–Stokes in vorticity form on the periodic unit torus.

    ω_t + u·∇ω − ν Δω − f = 0 with u = (∂_y ψ, −∂_x ψ), −Δψ = ω and FNO's forcing f (see
    :mod:`sciml.solvers.navier_stokes`). The velocity needs the whole field, so ``d`` must offer
    ``velocity(u, axis)`` (:class:`~sciml.physics.GridDerivatives` on a periodic grid).
    """

    nu: float = 1e-4
    forcing: bool = True

    spatial_dims = 2

    def __post_init__(self) -> None:
        _finite(self.nu, "nu", 0.0)
        if not isinstance(self.forcing, bool):
            raise ValueError(f"forcing must be true or false, got {self.forcing!r}")

    def domain(self) -> tuple[tuple[float, float], ...]:
        return ((0.0, 1.0), (0.0, 1.0))

    def boundary_conditions(self) -> tuple[Any, ...]:
        return ("periodic", "periodic")

    def residual(self, u: Tensor, d: AbstractDerivatives, coords: Tensor) -> Tensor:
        velocity = getattr(d, "velocity", None)
        if velocity is None:
            raise TypeError(f"navier_stokes_vorticity needs derivatives with velocity() from the "
                            f"stream function (GridDerivatives on a periodic grid), got "
                            f"{type(d).__name__}")
        r = d.dt(u) + velocity(u, 0) * d.dx(u, 0) + velocity(u, 1) * d.dx(u, 1) \
            - self.nu * d.laplacian(u)
        if self.forcing:
            r = r - ns_forcing(coords)
        return r

    def constraint_rows(self, basis: Tensor, d: AbstractDerivatives, initial: Tensor
                        ) -> tuple[Tensor, Tensor, Tensor]:
        """Initial-condition rows ω(x, y, 0) = ω₀ (periodic: no boundary rows).

        Args:
            basis: ``(b, N, s_x, s_y, n_t)``.
            d: Unused.
            initial: ``(b, s_x, s_y)``.

        Returns:
            ``A`` ``(b, s_x s_y, N)``, ``c`` ``(b, s_x s_y)``, locations ``(s_x s_y, 3)``.
        """
        b, n, sx, sy, _ = basis.shape
        if initial.shape != (b, sx, sy):
            raise ValueError(f"initial must have shape ({b}, {sx}, {sy}), got "
                             f"{tuple(initial.shape)}")
        a = basis[..., 0].reshape(b, n, sx * sy).transpose(1, 2)
        ix, iy = torch.meshgrid(torch.arange(sx, device=basis.device),
                                torch.arange(sy, device=basis.device), indexing="ij")
        where = torch.stack([ix.flatten(), iy.flatten(), torch.zeros_like(ix.flatten())], dim=1)
        return a, initial.reshape(b, sx * sy), where
