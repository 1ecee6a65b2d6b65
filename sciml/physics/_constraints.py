"""A PDE on a space–time grid with its initial and boundary conditions, for hard constraints.

Chalapathi, Du, Krishnapriyan, "Scaling physics-informed hard constraints with
mixture-of-experts", ICLR 2024 (https://arxiv.org/abs/2402.13412): the hard-constraint layer
solves, per expert, for weights w such that u = b·w meets the PDE at sampled points and the
initial and boundary conditions, which are linear in u and so rows ``A w − c`` of the solve.
This module builds those rows for any registered PDE from a description of its problem
(:class:`GridProblem`: the PDE, its spatial domain, a :class:`BoundaryCondition` per end of each
spatial axis, where the grid points lie), so that a new PDE needs no code in the layer or the
model.

Rows (:class:`GridConstraints`), for u on the grid ``(*space, n_t)``:

- initial condition u(x, 0) = u₀(x) at every spatial point (t = 0);
- on each end of each non-periodic axis, at every later time t_k (k ≥ 1) and every point of the
  other axes, ``a u + b ∂u/∂x = value`` at the boundary (x along the axis, so ∂u/∂x is the
  outward normal derivative at the high end and its negative at the low end). u and ∂u/∂x at
  the boundary come from the quadratic through the three points nearest to it: on a vertex grid
  (a point on the boundary) u₀ and (−3u₀ + 4u₁ − u₂)/(2h); on a cell-centred grid (points
  h/2 inside) (15u₀ − 10u₁ + 3u₂)/8 and (−2u₀ + 3u₁ − u₂)/h, both second order.

Periodic axes need no rows (the finite differences wrap around). Boundary values are constants
(not functions of time or position) for now.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import torch
from torch import Tensor

from sciml.physics._hc_moe import SpaceTimeGrid
from sciml.physics._pdes import AbstractPDE, get_pde

__all__ = ["BoundaryCondition", "GridConstraints", "GridProblem", "BOUNDARY_KINDS",
           "GRID_POINTS"]

BOUNDARY_KINDS = ("periodic", "dirichlet", "neumann", "robin")
GRID_POINTS = ("vertex", "cell")


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


@dataclasses.dataclass(frozen=True)
class BoundaryCondition:
    """One end of one spatial axis: ``a u + b ∂u/∂x = value`` there, or periodic.

    Args:
        kind: ``"periodic"``, ``"dirichlet"`` (u = value: a = 1, b = 0), ``"neumann"``
            (∂u/∂x = value: a = 0, b = 1) or ``"robin"`` (a and b given, not both zero).
        value: Right-hand side (a constant).
        a, b: Coefficients of u and of ∂u/∂x, x along the axis (not the outward normal);
            only for ``"robin"``.
    """

    kind: str = "dirichlet"
    value: float = 0.0
    a: float | None = None
    b: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in BOUNDARY_KINDS:
            raise ValueError(f"boundary kind must be one of {list(BOUNDARY_KINDS)}, got "
                             f"{self.kind!r}")
        object.__setattr__(self, "value", _number(self.value, "boundary value"))
        if self.kind != "robin":
            if self.a is not None or self.b is not None:
                raise ValueError(f"boundary coefficients a, b are for kind 'robin', got kind "
                                 f"{self.kind!r} with a={self.a!r}, b={self.b!r}")
            a, b = {"periodic": (0.0, 0.0), "dirichlet": (1.0, 0.0),
                    "neumann": (0.0, 1.0)}[self.kind]
        else:
            if self.a is None or self.b is None:
                raise ValueError(f"a robin boundary needs both a and b (a u + b du/dx = value), "
                                 f"got a={self.a!r}, b={self.b!r}")
            a, b = _number(self.a, "boundary a"), _number(self.b, "boundary b")
            if a == 0.0 and b == 0.0:
                raise ValueError("a robin boundary needs a or b nonzero, got a = b = 0")
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)

    @classmethod
    def parse(cls, spec: Any, where: str = "boundary") -> BoundaryCondition:
        """From a recipe value: a kind (``"periodic"``, ``"dirichlet"`` ...), a mapping
        ``{kind, value, a, b}`` or a :class:`BoundaryCondition`."""
        if isinstance(spec, BoundaryCondition):
            return spec
        if isinstance(spec, str):
            return cls(kind=spec)
        if isinstance(spec, Mapping):
            unknown = sorted(set(spec) - {"kind", "value", "a", "b"})
            if unknown:
                raise ValueError(f"unknown key {where}.{unknown[0]}; valid keys: a, b, kind, "
                                 f"value")
            return cls(**dict(spec))
        raise ValueError(f"{where} must be a kind ({', '.join(BOUNDARY_KINDS)}) or a mapping "
                         f"{{kind, value, a, b}}, got {spec!r}")

    def spec(self) -> str | dict[str, Any]:
        """Plain recipe form (a string for periodic, else a mapping), as :meth:`parse` reads."""
        if self.kind == "periodic":
            return "periodic"
        out: dict[str, Any] = {"kind": self.kind, "value": self.value}
        if self.kind == "robin":
            out.update(a=self.a, b=self.b)
        return out


def _boundary_pairs(boundary: Any, spatial_dims: int
                    ) -> tuple[tuple[BoundaryCondition, BoundaryCondition], ...]:
    """Per spatial axis ``(low, high)``; an axis given as one condition uses it at both ends."""
    if isinstance(boundary, (str, Mapping, BoundaryCondition)) or not isinstance(
            boundary, Sequence) or len(boundary) != spatial_dims:
        raise ValueError(f"boundary must give one entry per spatial axis ({spatial_dims}), each "
                         f"a condition or a [low, high] pair, got {boundary!r}")
    pairs = []
    for axis, entry in enumerate(boundary):
        if isinstance(entry, Sequence) and not isinstance(entry, str):
            if len(entry) != 2:
                raise ValueError(f"boundary[{axis}] must be one condition or a [low, high] pair, "
                                 f"got {entry!r}")
            low, high = (BoundaryCondition.parse(e, f"boundary[{axis}][{i}]")
                         for i, e in enumerate(entry))
        else:
            low = high = BoundaryCondition.parse(entry, f"boundary[{axis}]")
        if (low.kind == "periodic") != (high.kind == "periodic"):
            raise ValueError(f"boundary[{axis}]: periodic needs both ends periodic, got "
                             f"{low.kind!r} and {high.kind!r}")
        pairs.append((low, high))
    return tuple(pairs)


def _end_stencil(offset: Fraction) -> tuple[tuple[tuple[int, ...], int], tuple[tuple[int, ...],
                                                                               int]]:
    """Value and derivative at the boundary of the quadratic through the points at distances
    ``offset``, ``offset + 1``, ``offset + 2`` (grid steps, inward): integer weights over a common
    denominator each, the derivative along the inward direction per grid step."""
    s = [offset + k for k in range(3)]
    value, slope = [], []
    for k in range(3):
        others = [s[j] for j in range(3) if j != k]
        denom = math.prod(s[k] - o for o in others)
        value.append(math.prod(-o for o in others) / denom)
        slope.append(sum(-o for o in others) / denom)        # d/ds of (s − o₁)(s − o₂) at 0

    def integers(weights: list[Fraction]) -> tuple[tuple[int, ...], int]:
        den = math.lcm(*(w.denominator for w in weights))
        return tuple(int(w * den) for w in weights), den

    return integers(value), integers(slope)


def _combine(slices: list[Tensor], weights: tuple[int, ...], den: int) -> Tensor:
    """Σ_k weights[k] slices[k] / den, terms in order (zero weights skipped)."""
    out = None
    for w, x in zip(weights, slices, strict=True):
        if w != 0:
            term = x if w == 1 else w * x
            out = term if out is None else out + term
    return out if den == 1 else out / den


class GridConstraints:
    """Initial and boundary conditions of a field on a :class:`SpaceTimeGrid`, as linear rows.

    Args:
        grid: The space–time grid (its ``periodic`` flags must match ``boundary``).
        boundary: ``(low, high)`` :class:`BoundaryCondition` per spatial axis.
        points: ``"vertex"`` (the first and last point of a non-periodic axis lie on the
            boundary) or ``"cell"`` (cell centres, h/2 inside).

    Shapes:
        - basis: (b, N, *space, n_t), initial: (b, *space) -> A: (b, R, N), c: (b, R),
          where: (R, spatial_dims + 1) grid indices of each row (space, then time)
    """

    def __init__(self, grid: SpaceTimeGrid,
                 boundary: Sequence[tuple[BoundaryCondition, BoundaryCondition]],
                 points: str = "vertex") -> None:
        if points not in GRID_POINTS:
            raise ValueError(f"points must be one of {list(GRID_POINTS)}, got {points!r}")
        self.grid, self.points = grid, points
        self.boundary = _boundary_pairs(boundary, grid.spatial_dims)
        periodic = tuple(low.kind == "periodic" for low, _ in self.boundary)
        if periodic != tuple(grid.periodic):
            raise ValueError(f"boundary periodic per axis {periodic} differs from the grid's "
                             f"{tuple(grid.periodic)}")
        self._value, self._slope = _end_stencil(Fraction(0 if points == "vertex" else 1, 2))

    def __repr__(self) -> str:
        sides = [(low.spec(), high.spec()) for low, high in self.boundary]
        return f"GridConstraints(points={self.points!r}, boundary={sides})"

    def rows(self, basis: Tensor, initial: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Rows ``A w − c`` of u = basis · w: the initial state, then each non-periodic axis's
        low and high end at times t_1 … (see the module doc)."""
        space = tuple(self.grid.shape[:-1])
        b, n = basis.shape[:2]
        if initial.shape != (b, *space):
            raise ValueError(f"initial must have shape ({b}, {', '.join(map(str, space))}) "
                             f"(batch, *space), got {tuple(initial.shape)}")
        device, nt = basis.device, self.grid.shape[-1]
        a_parts = [basis[..., 0].flatten(2).transpose(1, 2)]
        c_parts = [initial.reshape(b, -1)]
        grids = torch.meshgrid(*[torch.arange(m, device=device) for m in space], indexing="ij")
        where = [torch.stack([*(g.flatten() for g in grids),
                              torch.zeros(math.prod(space), dtype=torch.long, device=device)],
                             dim=1)]
        later = basis[..., 1:]
        for axis, sides in enumerate(self.boundary):
            if sides[0].kind == "periodic":
                continue
            h, m, dim = self.grid.spacing[axis], space[axis], 2 + axis
            for side, bc in zip((0, 1), sides, strict=True):
                idx = [0, 1, 2] if side == 0 else [m - 1, m - 2, m - 3]
                slices = [later.select(dim, i) for i in idx]       # (b, N, *other, n_t - 1)
                row = None
                if bc.a != 0.0:
                    value = _combine(slices, *self._value)
                    row = value if bc.a == 1.0 else bc.a * value
                if bc.b != 0.0:
                    weights, den = self._slope
                    if side == 1:                                  # d/dx = −d/ds at the high end
                        weights = tuple(-w for w in weights)
                    slope = _combine(slices, weights, den) / h
                    row = bc.b * slope if row is None else row + bc.b * slope
                row = row.flatten(2).transpose(1, 2)                # (b, R_side, N)
                a_parts.append(row)
                c_parts.append(initial.new_full((b, row.shape[1]), bc.value))
                face = [torch.arange(k, device=device) for k in space]
                face[axis] = torch.tensor([idx[0]], device=device)
                face.append(torch.arange(1, nt, device=device))
                where.append(torch.stack([g.flatten() for g in torch.meshgrid(
                    *face, indexing="ij")], dim=1))
        return torch.cat(a_parts, dim=1), torch.cat(c_parts, dim=1), torch.cat(where)


@dataclasses.dataclass(frozen=True)
class GridProblem:
    """A PDE with its spatial domain, boundary conditions and grid placement.

    What the hard-constraint layer and its data need beyond the residual; every registered PDE
    can be one (:meth:`from_spec` takes the domain and boundaries from the recipe or, where the
    recipe leaves them out, from the PDE's :meth:`~sciml.physics.AbstractPDE.domain` and
    :meth:`~sciml.physics.AbstractPDE.boundary_conditions`).

    Args:
        pde: The PDE.
        bounds: ``(low, high)`` per spatial axis.
        boundary: ``(low, high)`` :class:`BoundaryCondition` per spatial axis.
        points: ``"vertex"`` or ``"cell"`` (non-periodic axes; a periodic axis of period L has
            the points low + i L / n).
        scale_time: Multiply the PDE residual by the final time T (the residual in
            nondimensional time t / T; the paper's diffusion–sorption setup).
    """

    pde: AbstractPDE
    bounds: tuple[tuple[float, float], ...]
    boundary: tuple[tuple[BoundaryCondition, BoundaryCondition], ...]
    points: str = "vertex"
    scale_time: bool = False

    def __post_init__(self) -> None:
        nd = self.pde.spatial_dims
        if len(self.bounds) != nd:
            raise ValueError(f"domain must give [low, high] per spatial axis of PDE "
                             f"{self.pde.name!r} ({nd}), got {list(self.bounds)!r}")
        bounds = []
        for axis, pair in enumerate(self.bounds):
            if len(pair) != 2:
                raise ValueError(f"domain[{axis}] must be [low, high], got {pair!r}")
            lo, hi = (_number(v, f"domain[{axis}]") for v in pair)
            if not lo < hi:
                raise ValueError(f"domain[{axis}] must have low < high, got {[lo, hi]}")
            bounds.append((lo, hi))
        object.__setattr__(self, "bounds", tuple(bounds))
        object.__setattr__(self, "boundary", _boundary_pairs(self.boundary, nd))
        if self.points not in GRID_POINTS:
            raise ValueError(f"points must be one of {list(GRID_POINTS)}, got {self.points!r}")
        if not isinstance(self.scale_time, bool):
            raise ValueError(f"scale_time must be true or false, got {self.scale_time!r}")

    @classmethod
    def from_spec(cls, pde: str | AbstractPDE, params: Mapping[str, Any] | None = None,
                  domain: Sequence[Sequence[float]] | None = None, boundary: Any = None,
                  points: str | None = None, scale_time: bool | None = None) -> GridProblem:
        """From recipe values: a registered PDE name and its parameters (or a PDE), the domain
        and boundaries (None: the PDE's own), points (None: ``"vertex"``)."""
        if isinstance(pde, str):
            pde = get_pde(pde, **dict(params or {}))
        elif params:
            raise ValueError("params are for a PDE given by name")
        if domain is None:
            domain = pde.domain()
            if domain is None:
                raise ValueError(f"PDE {pde.name!r} has no standard domain: give domain, "
                                 f"[low, high] per spatial axis ({pde.spatial_dims})")
        if boundary is None:
            boundary = pde.boundary_conditions()
            if boundary is None:
                raise ValueError(f"PDE {pde.name!r} has no standard boundary conditions: give "
                                 f"boundary per spatial axis ({pde.spatial_dims}), e.g. "
                                 f"[periodic] or [[{{kind: dirichlet, value: 0}}, "
                                 f"{{kind: neumann, value: 0}}]]")
        return cls(pde, tuple(tuple(p) for p in domain), boundary, points or "vertex",
                   bool(scale_time) if scale_time is not None else False)

    @property
    def periodic(self) -> tuple[bool, ...]:
        return tuple(low.kind == "periodic" for low, _ in self.boundary)

    def grid(self, shape: Sequence[int], t_final: float, time_scheme: str = "central"
             ) -> SpaceTimeGrid:
        """The :class:`SpaceTimeGrid` of ``shape`` = ``(*space, n_t)`` on [0, T]."""
        shape = tuple(int(n) for n in shape)
        if len(shape) != self.pde.spatial_dims + 1:
            raise ValueError(f"PDE {self.pde.name!r} has {self.pde.spatial_dims} spatial axes: "
                             f"grid_shape must be (*space, n_t) with "
                             f"{self.pde.spatial_dims + 1} entries, got {shape}")
        spacing, origin = [], []
        for n, (lo, hi), periodic in zip(shape, self.bounds, self.periodic, strict=False):
            length = hi - lo
            if periodic or self.points == "cell":
                spacing.append(length / n)
                origin.append(lo if periodic else lo + 0.5 * length / n)
            else:
                spacing.append(length / (n - 1))
                origin.append(lo)
        return SpaceTimeGrid(shape, tuple(spacing), t_final / (shape[-1] - 1), tuple(origin),
                             self.periodic, time_scheme)

    def constraints(self, grid: SpaceTimeGrid) -> GridConstraints:
        """The initial and boundary rows on ``grid`` (see :class:`GridConstraints`)."""
        return GridConstraints(grid, self.boundary, self.points)

    def pde_weight(self, t_final: float) -> float:
        """Scale of the PDE residual: T with ``scale_time``, else 1."""
        return float(t_final) if self.scale_time else 1.0

    def spec(self) -> dict[str, Any]:
        """Plain recipe values (without the PDE's name and parameters)."""
        return {"domain": [list(p) for p in self.bounds],
                "boundary": [[low.spec(), high.spec()] for low, high in self.boundary],
                "points": self.points, "scale_time": self.scale_time}
