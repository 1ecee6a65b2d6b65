"""Fields on regular grids, with coordinates, spacing and a boundary condition per side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from jaxtyping import Float
from torch import Tensor

from sciml.errors import DataError

__all__ = ["Boundary", "Grid", "BOUNDARY_KINDS", "CENTERINGS"]

BOUNDARY_KINDS = ("periodic", "dirichlet", "neumann")
CENTERINGS = ("cell", "vertex")


@dataclass(frozen=True)
class Boundary:
    """Boundary condition on one side of a grid axis.

    Args:
        kind: ``"periodic"``, ``"dirichlet"`` (``u = value``) or ``"neumann"``
            (``∂u/∂n = value``; padding supports only ``value = 0``).
        value: The prescribed value.
    """

    kind: str
    value: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in BOUNDARY_KINDS:
            raise ValueError(
                f"boundary kind must be one of {list(BOUNDARY_KINDS)}, got {self.kind!r}"
            )
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise TypeError(f"boundary value must be a number, got {self.value!r}")
        if self.kind == "periodic" and self.value != 0.0:
            raise ValueError(f"a periodic boundary takes no value, got value={self.value}")


BcSpec = Any  # Boundary | str | per-axis sequence | per-side pairs


def _as_boundary(b: Any) -> Boundary:
    if isinstance(b, Boundary):
        return b
    if isinstance(b, str):
        return Boundary(b)
    raise TypeError(f"expected a Boundary or a kind name {list(BOUNDARY_KINDS)}, got {b!r}")


def _normalise_bc(bc: BcSpec, ndim: int) -> tuple[tuple[Boundary, Boundary], ...]:
    """One Boundary for all sides, one per axis, or ``(left, right)`` pairs per axis."""
    if isinstance(bc, (Boundary, str)):
        b = _as_boundary(bc)
        return tuple((b, b) for _ in range(ndim))
    if not isinstance(bc, Sequence) or len(bc) != ndim:
        raise ValueError(
            f"bc must be one Boundary, {ndim} per-axis Boundaries, or {ndim} (left, right) pairs; "
            f"got {bc!r}"
        )
    sides = []
    for axis, entry in enumerate(bc):
        if isinstance(entry, (Boundary, str)):
            b = _as_boundary(entry)
            sides.append((b, b))
        elif isinstance(entry, Sequence) and len(entry) == 2:
            sides.append((_as_boundary(entry[0]), _as_boundary(entry[1])))
        else:
            raise ValueError(
                f"bc for axis {axis} must be a Boundary or a (left, right) pair, got {entry!r}"
            )
    for axis, (lo, hi) in enumerate(sides):
        if (lo.kind == "periodic") != (hi.kind == "periodic"):
            raise ValueError(
                f"axis {axis}: periodic on one side only ({lo.kind} / {hi.kind}); an axis is "
                "periodic on both sides or on neither"
            )
    return tuple(sides)


class Grid:
    """A field ``u`` of shape ``(b, c, *spatial)`` on a regular grid, with boundary conditions.

    Default coordinates are on ``[0, 1]`` per axis with ``n`` points: ``centering="cell"``
    puts them at cell centres ``(i + 1/2) / n`` (spacing ``1/n``); ``centering="vertex"`` at
    ``i / (n - 1)`` (spacing ``1/(n-1)``), or ``i / n`` on periodic axes (the point 1 is the point
    0). The centering also decides the zero-flux (Neumann) padding: ``"replicate"`` for cell
    centres (ghost cell mirrors about the face), ``"reflect"`` for vertices (mirror about the
    boundary node).

    Args:
        u: Field values ``(b, c, *spatial)`` with at least one spatial axis.
        coords: One increasing, uniformly spaced 1-D tensor per spatial axis (default above).
        bc: One :class:`Boundary` (or kind name) for all sides, one per axis, or
            ``((left, right), (bottom, top), ...)`` per side. Default: Dirichlet 0.
        centering: ``"cell"`` or ``"vertex"`` (see above).
    """

    def __init__(
        self,
        u: Float[Tensor, "b c *spatial"],
        coords: Sequence[Tensor] | None = None,
        bc: BcSpec = Boundary("dirichlet"),
        centering: str = "cell",
    ) -> None:
        if not isinstance(u, Tensor):
            raise TypeError(f"u must be a torch.Tensor, got {type(u).__name__}")
        if u.dim() < 3:
            raise DataError(f"u must have shape (b, c, *spatial), got {tuple(u.shape)}")
        if centering not in CENTERINGS:
            raise ValueError(f"centering must be one of {list(CENTERINGS)}, got {centering!r}")
        self.u = u
        self.centering = centering
        self.bc = _normalise_bc(bc, u.dim() - 2)
        if coords is None:
            coords = tuple(self._default_coords(n, axis) for axis, n in enumerate(self.shape))
        else:
            coords = tuple(coords)
            if len(coords) != self.ndim:
                raise DataError(f"{len(coords)} coordinate arrays for a {self.ndim}-D grid")
            for axis, (c, n) in enumerate(zip(coords, self.shape, strict=True)):
                if not isinstance(c, Tensor) or c.dim() != 1 or c.numel() != n:
                    raise DataError(
                        f"coords[{axis}] must be a 1-D tensor of length {n}, got "
                        f"{tuple(c.shape) if isinstance(c, Tensor) else type(c).__name__}"
                    )
                if n > 1:
                    d = torch.diff(c.double())
                    if not bool((d > 0).all()) or not torch.allclose(d, d.mean().expand_as(d),
                                                                      rtol=1e-5, atol=1e-12):
                        raise DataError(f"coords[{axis}] must be increasing and uniformly spaced")
        self.coords: tuple[Tensor, ...] = coords

    def _default_coords(self, n: int, axis: int) -> Tensor:
        dtype = self.u.dtype if self.u.is_floating_point() else torch.float32
        i = torch.arange(n, dtype=dtype, device=self.u.device)
        if self.centering == "cell":
            return (i + 0.5) / n
        if self.bc[axis][0].kind == "periodic" or n == 1:
            return i / n
        return i / (n - 1)

    def __repr__(self) -> str:
        kinds = [f"{lo.kind}/{hi.kind}" if lo != hi else lo.kind for lo, hi in self.bc]
        return f"Grid(u={tuple(self.u.shape)}, centering={self.centering!r}, bc={kinds})"

    @property
    def ndim(self) -> int:
        """Number of spatial axes."""
        return self.u.dim() - 2

    @property
    def shape(self) -> tuple[int, ...]:
        """Spatial shape."""
        return tuple(int(s) for s in self.u.shape[2:])

    @property
    def spacing(self) -> tuple[float, ...]:
        """Grid step per axis (``1/n`` for a one-point axis with default coordinates)."""
        out = []
        for c, n in zip(self.coords, self.shape, strict=True):
            out.append(float(c[1] - c[0]) if n > 1 else 1.0 / max(n, 1))
        return tuple(out)

    def _axis(self, axis: int) -> int:
        if isinstance(axis, bool) or not isinstance(axis, int) or not (
            -self.ndim <= axis < self.ndim
        ):
            raise ValueError(f"axis must be an int in [0, {self.ndim}), got {axis!r}")
        return axis % self.ndim

    def padding_mode(self, axis: int) -> str:
        """Padding mode of ``axis`` for ``nn.Conv*d(padding_mode=...)``.

        periodic → ``"circular"``; Dirichlet 0 → ``"zeros"``; Neumann 0 → ``"replicate"``
        (cell centring; the even extension about the face, exact for padding width 1) or
        ``"reflect"`` (vertex centring; exact for any width). Raises ValueError when the two
        sides differ or a value is nonzero (use :meth:`pad` then).
        """
        lo, hi = self.bc[self._axis(axis)]
        if lo != hi or lo.value != 0.0:
            raise ValueError(
                f"axis {axis} has boundaries {lo} / {hi}: no single padding mode; use Grid.pad"
            )
        if lo.kind == "periodic":
            return "circular"
        if lo.kind == "dirichlet":
            return "zeros"
        return "replicate" if self.centering == "cell" else "reflect"

    def pad(self, width: int | Sequence[int]) -> Float[Tensor, "b c *padded"]:
        """``u`` padded by ``width`` ghost points per side (per axis if a sequence).

        Ghost values: periodic wraps around, Dirichlet holds the boundary ``value``, Neumann 0
        is the even extension: about the boundary face for cell centring
        (``u[-1-i] = u[i]``), about the boundary node for vertex centring (``u[-i] = u[i]``).
        Nonzero Neumann values are not supported.
        """
        widths = [width] * self.ndim if isinstance(width, int) else list(width)
        if len(widths) != self.ndim or any(w < 0 for w in widths):
            raise ValueError(f"width must be >= 0, one or {self.ndim} ints, got {width!r}")
        out = self.u
        for axis, w in enumerate(widths):
            if w == 0:
                continue
            dim = 2 + axis
            ghosts = [self._ghost(out, dim, w, side, b) for side, b in enumerate(self.bc[axis])]
            out = torch.cat([ghosts[0], out, ghosts[1]], dim=dim)
        return out

    def _ghost(self, x: Tensor, dim: int, w: int, side: int, b: Boundary) -> Tensor:
        """The ``w`` ghost layers of ``x`` beyond side ``side`` (0 low, 1 high) of ``dim``."""
        n = x.shape[dim]
        if b.kind == "periodic":
            if w > n:
                raise ValueError(f"pad width {w} larger than the {n} points along dim {dim}")
            return x.narrow(dim, n - w, w) if side == 0 else x.narrow(dim, 0, w)
        if b.kind == "dirichlet":
            shape = list(x.shape)
            shape[dim] = w
            return x.new_full(shape, b.value)
        if b.value != 0.0:
            raise ValueError(f"pad supports Neumann value 0 only, got {b}")
        return self._mirror(x, dim, w, side)

    def _mirror(self, x: Tensor, dim: int, w: int, side: int) -> Tensor:
        n = x.shape[dim]
        skip = 0 if self.centering == "cell" else 1  # reflect skips the boundary node itself
        if w + skip > n:
            raise ValueError(f"pad width {w} too large for {n} points along dim {dim}")
        if side == 0:
            return x.narrow(dim, skip, w).flip(dim)
        return x.narrow(dim, n - skip - w, w).flip(dim)

    def coordinate_channels(self) -> Float[Tensor, "1 d *spatial"]:
        """The coordinates as channels: ``(1, ndim, *spatial)``, channel ``i`` = axis ``i``."""
        mesh = torch.meshgrid(*self.coords, indexing="ij")
        return torch.stack(mesh, dim=0).unsqueeze(0).to(self.u.dtype)

    def with_coordinates(self) -> Grid:
        """A grid whose ``u`` has the coordinate channels appended: ``(b, c + ndim, *spatial)``."""
        xy = self.coordinate_channels().to(self.u.device).expand(self.u.shape[0], -1, *self.shape)
        return Grid(torch.cat([self.u, xy], dim=1), self.coords, self.bc, self.centering)

    def subsample(self, factor: int | Sequence[int]) -> Grid:
        """Every ``factor``-th point per axis (one factor for all axes, or one per axis).

        On periodic axes ``factor`` must divide the number of points, so the coarse grid stays
        uniform across the wrap-around.
        """
        factors = [factor] * self.ndim if isinstance(factor, int) else list(factor)
        if len(factors) != self.ndim or any(
            isinstance(f, bool) or not isinstance(f, int) or f < 1 for f in factors
        ):
            raise ValueError(
                f"factor must be a positive int or {self.ndim} of them, got {factor!r}"
            )
        for axis, (f, n) in enumerate(zip(factors, self.shape, strict=True)):
            if self.bc[axis][0].kind == "periodic" and n % f:
                raise ValueError(
                    f"axis {axis} is periodic with {n} points: factor {f} must divide it"
                )
        index = (slice(None), slice(None)) + tuple(slice(None, None, f) for f in factors)
        coords = tuple(c[::f] for c, f in zip(self.coords, factors, strict=True))
        return Grid(self.u[index], coords, self.bc, self.centering)
