"""PDEs as residual functions with their parameters, registered by name (``get_pde``).

A PDE is a frozen dataclass of its parameters; :meth:`AbstractPDE.residual` maps a field ``u``,
a derivatives object ``d`` (autograd at points, or finite differences on a grid) and the
coordinates ``coords`` (last column time) to the residual, which is zero for an exact solution.

The 1-D problems (convection, reaction, reaction–diffusion) follow Krishnapriyan et al.,
"Characterizing possible failure modes in physics-informed neural networks", NeurIPS 2021, and
Mojgani, Balajewicz, Hassanzadeh, "Lagrangian PINNs", 2022 (x ∈ [0, 2π], t ∈ [0, 1]).
"""

from __future__ import annotations

import abc
import dataclasses
import math
from typing import Any, ClassVar

import torch
from torch import Tensor

from sciml.errors import NonFiniteError
from sciml.registry import Registry, config_from_dict

__all__ = [
    "AbstractDerivatives",
    "AbstractPDE",
    "AbstractAdvectionPDE",
    "PDES",
    "register_pde",
    "get_pde",
    "check_residual",
    "Convection",
    "Burgers1D",
    "Reaction",
    "ReactionDiffusion",
    "AllenCahn",
    "Poisson",
    "Helmholtz",
    "Brusselator",
]


class AbstractDerivatives(abc.ABC):
    """Derivatives of a field ``u`` at the points (or on the grid) it was computed on.

    Every method returns a tensor of ``u``'s shape. Spatial axis 0 is x, 1 is y, 2 is z; time is
    separate (:meth:`dt`). Subclasses set ``spatial_dims`` (class or instance attribute).
    """

    spatial_dims: int = 1

    @abc.abstractmethod
    def dt(self, u: Tensor) -> Tensor:
        """∂u/∂t."""

    @abc.abstractmethod
    def dx(self, u: Tensor, axis: int = 0) -> Tensor:
        """∂u/∂x_axis."""

    @abc.abstractmethod
    def dxx(self, u: Tensor, axis: int = 0) -> Tensor:
        """∂²u/∂x_axis²."""

    def _axis(self, axis: int) -> int:
        """``axis`` checked against the spatial axes."""
        if not 0 <= axis < self.spatial_dims:
            raise ValueError(f"axis must be in 0..{self.spatial_dims - 1} (spatial axes), "
                             f"got {axis}")
        return axis

    def _require_time(self) -> None:
        """A ValueError for a steady problem (no time column) asked for u_t."""
        if getattr(self, "steady", False):
            raise ValueError("a steady problem has no time derivative (the PDE's residual asks "
                             "for u_t)")

    def laplacian(self, u: Tensor) -> Tensor:
        """Σ_axis ∂²u/∂x_axis² over the ``spatial_dims`` spatial axes."""
        out = self.dxx(u, 0)
        for axis in range(1, self.spatial_dims):
            out = out + self.dxx(u, axis)
        return out


@dataclasses.dataclass(frozen=True)
class AbstractPDE(abc.ABC):
    """A PDE given by its residual; the dataclass fields are its parameters.

    Subclasses set ``name`` (registry name), ``spatial_dims`` and ``n_fields``, validate their
    parameters in ``__post_init__`` (ValueError naming the parameter) and register with
    :func:`register_pde`.
    """

    name: ClassVar[str] = ""
    spatial_dims: ClassVar[int] = 1
    n_fields: ClassVar[int] = 1
    #: Whether the PDE is steady (no time: its coordinates have no time column).
    steady: ClassVar[bool] = False

    @abc.abstractmethod
    def residual(self, u: Tensor, d: AbstractDerivatives, coords: Tensor) -> Tensor:
        """The PDE residual at the points of ``u``.

        Args:
            u: The field, shaped as ``d`` expects (points: ``(n,)`` or ``(n, n_fields)``).
            d: Derivatives of ``u`` (e.g. :class:`AutogradDerivatives` on ``coords``).
            coords: Coordinates ``(..., spatial_dims + 1)``, last column t.

        Returns:
            The residual, shaped like ``u``.
        """

    def initial_condition(self, x: Tensor) -> Tensor | None:
        """u(x, 0) at spatial points ``x`` (n, spatial_dims), shape (n,); None if not fixed."""
        return None

    def domain(self) -> tuple[tuple[float, float], ...] | None:
        """Spatial domain of the PDE's standard problem, ``(low, high)`` per axis; None if the
        PDE has none (a problem then gives it, e.g. a hard-constraint recipe's ``domain``)."""
        return None

    def boundary_conditions(self) -> tuple[Any, ...] | None:
        """Boundary conditions of the standard problem, one entry per spatial axis: a condition
        for both ends or a ``(low, high)`` pair, each ``"periodic"`` or a mapping ``{kind,
        value, a, b}`` (``a u + b ∂u/∂x = value``, see :class:`~sciml.physics.BoundaryCondition`);
        None if the PDE has none (a problem then gives them)."""
        return None

    def checked_residual(self, u: Tensor, d: AbstractDerivatives, coords: Tensor) -> Tensor:
        """:meth:`residual`, raising :class:`NonFiniteError` naming the PDE if it is not finite."""
        return check_residual(self, self.residual(u, d, coords))


class AbstractAdvectionPDE(AbstractPDE):
    """A 1-D PDE u_t + a(u) u_x = ν u_xx + f(u): what a Lagrangian PINN needs.

    Along the characteristics dx_L/dt = a(u), the PDE becomes du/dt = ν u_xx + f(u)
    (Mojgani, Balajewicz, Hassanzadeh 2022).
    """

    @abc.abstractmethod
    def speed(self, u: Tensor) -> Tensor:
        """Characteristic speed a(u)."""

    def diffusivity(self) -> float:
        """ν in front of u_xx (0 for pure transport)."""
        return 0.0

    def source(self, u: Tensor) -> Tensor:
        """Reaction term f(u) (zero unless overridden)."""
        return torch.zeros_like(u)

    def residual(self, u: Tensor, d: AbstractDerivatives, coords: Tensor) -> Tensor:
        r = d.dt(u) + self.speed(u) * d.dx(u) - self.source(u)
        if self.diffusivity() != 0.0:
            r = r - self.diffusivity() * d.dxx(u)
        return r


def check_residual(pde: AbstractPDE, r: Tensor, where: str = "") -> Tensor:
    """Return ``r``; raise :class:`NonFiniteError` naming ``pde`` if it holds NaN or inf."""
    if not torch.isfinite(r).all():
        n_bad = int((~torch.isfinite(r)).sum())
        raise NonFiniteError(
            f"PDE {pde.name!r} ({pde!r}): residual{' ' + where if where else ''} has {n_bad} "
            f"non-finite values of {r.numel()} (NaN/inf in the network output or parameters)"
        )
    return r


PDES: Registry = Registry("pde")


def register_pde(name: str) -> Any:
    """Class decorator: register a PDE dataclass under ``name`` (its parameters are its fields)."""

    def deco(cls: type[AbstractPDE]) -> type[AbstractPDE]:
        cls.name = name
        PDES.register(name, cls)(cls)
        return cls

    return deco


def get_pde(name: str, **params: Any) -> AbstractPDE:
    """Build the registered PDE ``name`` with ``params``.

    Raises:
        ConfigError: unknown PDE (the valid names are listed), unknown parameter (the valid
            ones are listed) or an invalid value.
    """
    cls, _ = PDES.get(name)
    return config_from_dict(cls, params, where=f"pde {name}")


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ValueError(msg)


def _finite(value: float, name: str, minimum: float | None = None) -> None:
    _check(isinstance(value, (int, float)) and math.isfinite(value),
           f"{name} must be a finite number, got {value!r}")
    if minimum is not None:
        _check(value >= minimum, f"{name} must be >= {minimum}, got {value!r}")


_TWO_PI = ((0.0, 2 * math.pi),)
_PERIODIC = ("periodic",)


def _ic_sin(x: Tensor) -> Tensor:
    return torch.sin(x[..., 0])


def _ic_gauss(x: Tensor) -> Tensor:
    # Krishnapriyan et al. 2021, reaction problems: h(x) = exp(-(x - π)² / (2 (π/4)²)).
    return torch.exp(-((x[..., 0] - math.pi) ** 2) / (2 * (math.pi / 4) ** 2))


@register_pde("convection")
@dataclasses.dataclass(frozen=True)
class Convection(AbstractAdvectionPDE):
    """Convection(–diffusion) u_t + β u_x − ν u_xx = 0; u(x, 0) = sin x on periodic [0, 2π].

    Krishnapriyan et al., NeurIPS 2021 (failure modes at β ≥ 30 for a soft-constraint PINN).
    """

    beta: float = 30.0
    nu: float = 0.0

    def __post_init__(self) -> None:
        _finite(self.beta, "beta")
        _finite(self.nu, "nu", 0.0)

    def speed(self, u: Tensor) -> Tensor:
        return torch.full_like(u, float(self.beta))

    def diffusivity(self) -> float:
        return float(self.nu)

    def initial_condition(self, x: Tensor) -> Tensor:
        return _ic_sin(x)

    def domain(self) -> tuple[tuple[float, float], ...]:
        return _TWO_PI

    def boundary_conditions(self) -> tuple[Any, ...]:
        return _PERIODIC


@register_pde("burgers")
@dataclasses.dataclass(frozen=True)
class Burgers1D(AbstractAdvectionPDE):
    """Viscous Burgers u_t + u u_x − ν u_xx = 0.

    ``initial``: ``"sin"`` (u0 = sin x, periodic [0, 2π], the LPINN setup) or ``"-sin_pi"``
    (u0 = −sin πx on [−1, 1], Dirichlet zero, the Raissi/DeepXDE example with ν = 0.01/π).
    """

    nu: float = 0.01
    initial: str = "sin"

    def __post_init__(self) -> None:
        _finite(self.nu, "nu", 0.0)
        _check(self.initial in ("sin", "-sin_pi"),
               f"initial must be 'sin' or '-sin_pi', got {self.initial!r}")

    def speed(self, u: Tensor) -> Tensor:
        return u

    def diffusivity(self) -> float:
        return float(self.nu)

    def initial_condition(self, x: Tensor) -> Tensor:
        if self.initial == "sin":
            return _ic_sin(x)
        return -torch.sin(math.pi * x[..., 0])

    def domain(self) -> tuple[tuple[float, float], ...]:
        return _TWO_PI if self.initial == "sin" else ((-1.0, 1.0),)

    def boundary_conditions(self) -> tuple[Any, ...]:
        return _PERIODIC if self.initial == "sin" else ({"kind": "dirichlet", "value": 0.0},)


@register_pde("reaction")
@dataclasses.dataclass(frozen=True)
class Reaction(AbstractAdvectionPDE):
    """Logistic reaction u_t − ρ u (1 − u) = 0; u0 a Gaussian at π (Krishnapriyan et al. 2021)."""

    rho: float = 5.0

    def __post_init__(self) -> None:
        _finite(self.rho, "rho")

    def speed(self, u: Tensor) -> Tensor:
        return torch.zeros_like(u)

    def source(self, u: Tensor) -> Tensor:
        return self.rho * u * (1 - u)

    def residual(self, u: Tensor, d: AbstractDerivatives, coords: Tensor) -> Tensor:
        return d.dt(u) - self.source(u)

    def initial_condition(self, x: Tensor) -> Tensor:
        return _ic_gauss(x)

    def domain(self) -> tuple[tuple[float, float], ...]:
        return _TWO_PI

    def boundary_conditions(self) -> tuple[Any, ...]:
        return _PERIODIC


@register_pde("reaction_diffusion")
@dataclasses.dataclass(frozen=True)
class ReactionDiffusion(AbstractAdvectionPDE):
    """Reaction–diffusion u_t − ν u_xx − ρ u (1 − u) = 0; u0 a Gaussian at π."""

    nu: float = 3.0
    rho: float = 5.0

    def __post_init__(self) -> None:
        _finite(self.nu, "nu", 0.0)
        _finite(self.rho, "rho")

    def speed(self, u: Tensor) -> Tensor:
        return torch.zeros_like(u)

    def diffusivity(self) -> float:
        return float(self.nu)

    def source(self, u: Tensor) -> Tensor:
        return self.rho * u * (1 - u)

    def residual(self, u: Tensor, d: AbstractDerivatives, coords: Tensor) -> Tensor:
        return d.dt(u) - self.nu * d.dxx(u) - self.source(u)

    def initial_condition(self, x: Tensor) -> Tensor:
        return _ic_gauss(x)

    def domain(self) -> tuple[tuple[float, float], ...]:
        return _TWO_PI

    def boundary_conditions(self) -> tuple[Any, ...]:
        return _PERIODIC


@register_pde("allen_cahn")
@dataclasses.dataclass(frozen=True)
class AllenCahn(AbstractAdvectionPDE):
    """Allen–Cahn u_t − ε u_xx + γ (u³ − u) = 0 (standard 1-D: ε = 1e-4, γ = 5), on [−1, 1],
    periodic, u0 = x² cos(πx) (Raissi, Perdikaris, Karniadakis, JCP 2019)."""

    eps: float = 1e-4
    gamma: float = 5.0

    def __post_init__(self) -> None:
        _finite(self.eps, "eps", 0.0)
        _finite(self.gamma, "gamma")

    def speed(self, u: Tensor) -> Tensor:
        return torch.zeros_like(u)

    def diffusivity(self) -> float:
        return float(self.eps)

    def source(self, u: Tensor) -> Tensor:
        return -self.gamma * (u**3 - u)

    def residual(self, u: Tensor, d: AbstractDerivatives, coords: Tensor) -> Tensor:
        return d.dt(u) - self.eps * d.dxx(u) + self.gamma * (u**3 - u)

    def initial_condition(self, x: Tensor) -> Tensor:
        x0 = x[..., 0]
        return x0**2 * torch.cos(math.pi * x0)

    def domain(self) -> tuple[tuple[float, float], ...]:
        return ((-1.0, 1.0),)

    def boundary_conditions(self) -> tuple[Any, ...]:
        return _PERIODIC


@register_pde("poisson")
@dataclasses.dataclass(frozen=True)
class Poisson(AbstractPDE):
    """Poisson −Δu = f on a 2-D domain, steady (f is the problem's source; Dirichlet data from
    the problem's boundary). Residual −(u_xx + u_yy); the problem subtracts f."""

    spatial_dims: ClassVar[int] = 2
    steady: ClassVar[bool] = True

    def residual(self, u: Tensor, d: AbstractDerivatives, coords: Tensor) -> Tensor:
        return -(d.dxx(u, 0) + d.dxx(u, 1))


@register_pde("helmholtz")
@dataclasses.dataclass(frozen=True)
class Helmholtz(AbstractPDE):
    """Helmholtz −Δu − k² u = f on a 2-D domain, steady (wavenumber ``k``). Residual
    −(u_xx + u_yy) − k² u; the problem subtracts f."""

    k: float = 1.0
    spatial_dims: ClassVar[int] = 2
    steady: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _finite(self.k, "k", 0.0)

    def residual(self, u: Tensor, d: AbstractDerivatives, coords: Tensor) -> Tensor:
        return -(d.dxx(u, 0) + d.dxx(u, 1)) - self.k**2 * u


@register_pde("brusselator")
@dataclasses.dataclass(frozen=True)
class Brusselator(AbstractPDE):
    """The Brusselator, a two-species reaction–diffusion system (Prigogine and Lefever 1968):

        u_t = d_u u_xx + a − (b + 1) u + u² v,    v_t = d_v v_xx + b u − u² v.

    Fields ``(u, v)``: ``u`` is ``(n, 2)`` and so is the residual. No initial condition of its
    own (a problem gives one per field)."""

    a: float = 1.0
    b: float = 3.0
    d_u: float = 0.01
    d_v: float = 0.01
    n_fields: ClassVar[int] = 2

    def __post_init__(self) -> None:
        _finite(self.a, "a")
        _finite(self.b, "b")
        _finite(self.d_u, "d_u", 0.0)
        _finite(self.d_v, "d_v", 0.0)

    def residual(self, u: Tensor, d: AbstractDerivatives, coords: Tensor) -> Tensor:
        ut, uxx = d.dt(u), d.dxx(u)
        s, w = u[:, 0], u[:, 1]
        r_u = ut[:, 0] - self.d_u * uxx[:, 0] - (self.a - (self.b + 1) * s + s**2 * w)
        r_v = ut[:, 1] - self.d_v * uxx[:, 1] - (self.b * s - s**2 * w)
        return torch.stack([r_u, r_v], dim=1)
