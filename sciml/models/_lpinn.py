"""Lagrangian PINN: a position branch x_L(x0, t) and a state branch u(x0, t), registered "lpinn".

Mojgani, Balajewicz, Hassanzadeh, "Lagrangian PINNs: A causality-conforming solution to failure
modes of physics-informed neural networks", 2022 (CMAME 2023). For u_t + a(u) u_x = ν u_xx + f(u)
the solution is sought along characteristics: with x0 the label of a characteristic,

    ∂x_L/∂t = a(u),    ∂u/∂t = ν ∂²u/∂x² + f(u),    x_L(x0, 0) = x0,  u(x0, 0) = u0(x0),

where ∂/∂t is taken at fixed x0. Both branches see the periodic embedding (cos x0, sin x0, t).

Differences from the reference code (github.com/rmojgani/LPINNs), each on purpose:
- separate branches, as in the paper (the reference shares the first layers between them);
- the position branch predicts the displacement, x_L = x0 + s·D_θ(cos x0, sin x0, t), so that
  x_L − x0 is periodic in x0 as it must be for a periodic problem (a periodic embedding cannot
  represent x_L itself, which grows by L across the period); ``s`` (``displacement_scale``) is a
  fixed output scale, 1 by default and in the recipes and benchmarks (the displacement branch
  starts at zero, so training starts from x_L = x0);
- ∂²u/∂x² along the characteristic: by default ∂²u/∂x0² as in the reference code (exact when
  J = ∂x_L/∂x0 = 1, i.e. constant-speed convection; for Burgers an approximation that neglects
  the stretching of the characteristics); ``diffusion="chain_rule"`` uses the exact
  u_x = u_{x0} / J, u_xx = ∂_{x0}(u_x) / J instead. The exact form has poles where J = 0, and
  unconstrained training steps (L-BFGS line searches in particular) reach folded maps, so J is
  clamped below at ``min_jacobian``; measured on convection, the label form trains more
  reliably, hence the default.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
from jaxtyping import Float
from torch import Tensor

from sciml.models._base import AbstractModel
from sciml.models._pinn import _positive_int, tanh_mlp
from sciml.nn import make_activation
from sciml.physics import AbstractAdvectionPDE, check_residual, gradient
from sciml.registry import MODELS

__all__ = ["LPINN", "LPINNConfig", "lagrangian_residuals", "lagrangian_to_grid"]


@dataclasses.dataclass(frozen=True)
class LPINNConfig:
    """Configuration of :class:`LPINN`.

    Args: width: neurons per hidden layer of both branches; depth_u / depth_x: hidden layers of
    the state and position branches; activation: nonlinearity (``tanh``); period: L of the
    periodic embedding (cos 2πx0/L, sin 2πx0/L); diffusion: how u_xx along the characteristic is
    computed, ``"label"`` (∂²u/∂x0², as the reference code; exact when J = ∂x_L/∂x0 = 1, i.e.
    constant-speed convection) or ``"chain_rule"`` (u_xx = ∂_{x0}(u_{x0}/J)/J, exact for any
    J > 0, with J clamped below at ``min_jacobian`` so that a folded trial map (J <= 0) during
    training cannot blow the residual up); periodic: the periodic embedding (default); False
    embeds (x0 scaled to [−1, 1] over the model's ``x_range``, t), for bounded domains (the
    job allows it for PDEs without advection, a(u) = 0, whose characteristics stay put).
    """

    width: int = 50
    depth_u: int = 4
    depth_x: int = 4
    activation: str = "tanh"
    period: float = 2 * math.pi
    diffusion: str = "label"
    min_jacobian: float = 0.05
    periodic: bool = True

    def __post_init__(self) -> None:
        if self.diffusion not in ("label", "chain_rule"):
            raise ValueError(f"diffusion must be 'label' or 'chain_rule', got {self.diffusion!r}")
        if not 0 < self.min_jacobian < 1:
            raise ValueError(f"min_jacobian must be in (0, 1), got {self.min_jacobian!r}")
        _positive_int(self.width, "width")
        _positive_int(self.depth_u, "depth_u")
        _positive_int(self.depth_x, "depth_x")
        make_activation(self.activation)
        if not (math.isfinite(self.period) and self.period > 0):
            raise ValueError(f"period must be a finite number > 0, got {self.period!r}")


@MODELS.register("lpinn", LPINNConfig,
                 help="Lagrangian PINN: characteristic position + state branches (Mojgani 2022)")
class LPINN(AbstractModel):
    """Two-branch network (x0, t) ↦ (x_L, u) on characteristics (Mojgani et al. 2022).

    Args:
        config: :class:`LPINNConfig`.
        t0, t1: Time range (t is scaled to [−1, 1] inside).
        displacement_scale: s in x_L = x0 + s·D_θ (e.g. max |a| · (t1 − t0)); 1 keeps D_θ raw.

    Shapes:
        - coords: (n, 2) columns (x0, t) -> x_L: (n,), u: (n,)
    """

    def __init__(self, config: LPINNConfig, t0: float = 0.0, t1: float = 1.0,
                 displacement_scale: float = 1.0,
                 x_range: tuple[float, float] | list[float] = (0.0, 2 * math.pi)) -> None:
        super().__init__(config, t0=float(t0), t1=float(t1),
                         displacement_scale=float(displacement_scale),
                         x_range=[float(v) for v in x_range])
        self.x_range = (float(x_range[0]), float(x_range[1]))
        if not self.x_range[0] < self.x_range[1]:
            raise ValueError(f"inverted x_range: {self.x_range}")
        if not t0 < t1:
            raise ValueError(f"inverted time range: t0 {t0} >= t1 {t1}")
        if not (math.isfinite(displacement_scale) and displacement_scale > 0):
            raise ValueError(f"displacement_scale must be > 0, got {displacement_scale!r}")
        self.t0, self.t1, self.scale = float(t0), float(t1), float(displacement_scale)
        self.position = tanh_mlp(3, config.width, config.depth_x, 1, config.activation)
        self.state = tanh_mlp(3, config.width, config.depth_u, 1, config.activation)
        # Start from the identity map x_L = x0 (J = ∂x_L/∂x0 = 1): a random initial displacement
        # times a large scale can fold the map (J <= 0) and u_xx = ∂(u_x0 / J)/∂x0 / J explodes.
        torch.nn.init.zeros_(self.position[-1].weight)
        torch.nn.init.zeros_(self.position[-1].bias)

    def embed(self, coords: Float[Tensor, "n 2"]) -> Float[Tensor, "n 3"]:
        """(cos 2πx0/L, sin 2πx0/L, t scaled to [−1, 1]); without the periodic embedding
        (x0 scaled to [−1, 1], 0, t scaled), the same three inputs as the periodic one."""
        if coords.dim() != 2 or coords.shape[1] != 2:
            raise ValueError(f"coords must have shape (n, 2) with columns (x0, t), got "
                             f"{tuple(coords.shape)}")
        t = (2 * coords[:, 1:] - (self.t0 + self.t1)) / (self.t1 - self.t0)
        if not self.config.periodic:
            a, b = self.x_range
            x = (2 * coords[:, :1] - (a + b)) / (b - a)
            return torch.cat([x, torch.zeros_like(x), t], dim=1)
        phase = coords[:, :1] * (2 * math.pi / self.config.period)
        return torch.cat([torch.cos(phase), torch.sin(phase), t], dim=1)

    def forward(self, coords: Float[Tensor, "n 2"]) -> tuple[Tensor, Tensor]:
        """``(x_L, u)`` at labels x0 and times t, each (n,)."""
        e = self.embed(coords)
        x_l = coords[:, 0] + self.scale * self.position(e)[:, 0]
        return x_l, self.state(e)[:, 0]

    @property
    def supports_jet(self) -> bool:
        """Whether :meth:`forward_jet` can carry derivatives through both branches."""
        from sciml.physics import supports_jet

        return supports_jet(self.position) and supports_jet(self.state)

    def forward_jet(self, coords: Float[Tensor, "n 2"]):
        """The jets (:class:`sciml.physics.Jet`, streams ``(n,)``) of x_L and u over (x0, t):
        each with ∂/∂x0, ∂/∂t and ∂²/∂x0², carried forward through the embedding and both
        branches; equal to autograd's derivatives of :meth:`forward`."""
        from sciml.physics import Jet, mlp_jet

        if coords.dim() != 2 or coords.shape[1] != 2:
            raise ValueError(f"coords must have shape (n, 2) with columns (x0, t), got "
                             f"{tuple(coords.shape)}")
        c = Jet.coordinates(coords, axes=(0,))
        t = (c[:, 1:] * 2 - (self.t0 + self.t1)) * (1 / (self.t1 - self.t0))
        if self.config.periodic:
            phase = c[:, :1] * (2 * math.pi / self.config.period)
            e = Jet.cat([phase.cos(), phase.sin(), t], dim=1)
        else:
            a, b = self.x_range
            x = (c[:, :1] * 2 - (a + b)) * (1 / (b - a))
            e = Jet.cat([x, x * 0.0, t], dim=1)
        x_l = c[:, 0] + mlp_jet(self.position, e)[:, 0] * self.scale
        return x_l, mlp_jet(self.state, e)[:, 0]


def lagrangian_residuals(model: LPINN, pde: AbstractAdvectionPDE, coords: Float[Tensor, "n 2"],
                         jet: bool = False) -> tuple[Tensor, Tensor]:
    """Residuals (r_x, r_u) of the Lagrangian system at (x0, t) = ``coords``.

    r_x = ∂x_L/∂t − a(u) and r_u = ∂u/∂t − ν u_xx − f(u) (module docstring; u_xx as
    ``model.config.diffusion`` says). ``jet``: the derivatives carried forward
    (:meth:`LPINN.forward_jet`) instead of nested autograd; the same residuals to rounding.

    Raises:
        NonFiniteError: a residual is NaN or infinite (the message names the PDE and residual).
    """
    if not isinstance(pde, AbstractAdvectionPDE) or pde.spatial_dims != 1:
        raise ValueError(f"the Lagrangian PINN needs a 1-D advection-type PDE "
                         f"(u_t + a(u) u_x = ν u_xx + f(u)), got {pde!r}")
    nu = pde.diffusivity()
    if jet:  # x_L and u with ∂/∂x0, ∂/∂t and ∂²/∂x0², carried forward
        x_j, u_j = model.forward_jet(coords.detach())
        u, x_t, u_t = u_j.value, x_j.first[1], u_j.first[1]
    else:
        if not coords.requires_grad:
            coords = coords.clone().requires_grad_(True)
        x_l, u = model(coords)
        g_x, g_u = gradient(x_l, coords), gradient(u, coords)
        x_t, u_t = g_x[:, 1], g_u[:, 1]
    r_x = x_t - pde.speed(u)
    r_u = u_t - pde.source(u)
    if nu != 0.0:
        chain = model.config.diffusion != "label"
        if jet:
            u_x0, u_xx = u_j.first[0], u_j.second[0]
            if chain:  # ∂_x0(u_x0 / J) / J; J clamped below has no derivative where clamped
                j_raw = x_j.first[0]
                jac = j_raw.clamp(min=model.config.min_jacobian)
                j_x0 = x_j.second[0] * (j_raw >= model.config.min_jacobian)
                u_xx = (u_xx / jac - u_x0 * j_x0 / jac**2) / jac
        elif chain:
            jac = g_x[:, 0].clamp(min=model.config.min_jacobian)
            u_xx = gradient(g_u[:, 0] / jac, coords, strict=False)[:, 0] / jac
        else:
            u_xx = gradient(g_u[:, 0], coords, strict=False)[:, 0]
        r_u = r_u - nu * u_xx
    check_residual(pde, r_x, "r_x (characteristics)")
    check_residual(pde, r_u, "r_u (state along characteristics)")
    return r_x, r_u


def lagrangian_to_grid(x_l: Float[np.ndarray, "m n"], u: Float[np.ndarray, "m n"],
                       x_grid: Float[np.ndarray, " k"], period: float) -> Float[np.ndarray, "m k"]:
    """Interpolate the scattered (x_L mod L, u) of each time row onto the Eulerian grid.

    Linear interpolation with periodic wrap-around (the points are sorted by x_L mod L and
    extended by one point on each side).

    Args:
        x_l: (m, n) characteristic positions at m times for n labels.
        u: (m, n) states on them.
        x_grid: (k,) Eulerian grid in [0, L).
        period: L.
    """
    x_l = np.asarray(x_l, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    if x_l.shape != u.shape or x_l.ndim != 2:
        raise ValueError(f"x_l and u must have the same (m, n) shape, got {x_l.shape}, {u.shape}")
    out = np.empty((x_l.shape[0], len(x_grid)))
    for j in range(x_l.shape[0]):
        xs = np.mod(x_l[j], period)
        order = np.argsort(xs, kind="stable")
        xs, us = xs[order], u[j][order]
        xs = np.concatenate([[xs[-1] - period], xs, [xs[0] + period]])
        us = np.concatenate([[us[-1]], us, [us[0]]])
        out[j] = np.interp(np.mod(x_grid, period), xs, us)
    return out
