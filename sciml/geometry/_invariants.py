r"""Pair invariants of position-orientation space (Bekkers et al., ICLR 2024, PONITA).

For points :math:`x, x'` with orientations :math:`o, o'` the invariants of the pair under the
roto-translation group are, with :math:`r = x_{src} - x_{dst}`:

- R3×S2: :math:`\langle r, o\rangle`, :math:`\|r - \langle r, o\rangle o\|` and
  :math:`\langle o, o'\rangle` (invariant also under reflections);
- R2×S1: :math:`\langle r, o\rangle`, :math:`\langle r, o^\perp\rangle` with :math:`o^\perp`
  the 90° rotation of :math:`o` (SE(2)-invariant, changes sign under reflections) and
  :math:`\langle o, o'\rangle`;
- R3 (or R2) alone: :math:`\|r\|`.

Norms use :func:`safe_norm`, whose gradient is 0 (not NaN) at 0, since self-loops and vectors
parallel to an orientation are common and forces differentiate through these invariants.
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

__all__ = ["safe_norm", "pair_distance", "r3s2_invariants", "r2s1_invariants",
           "fibre_invariants", "spatial_invariants"]

_TINY = 1e-30


def safe_norm(v: Float[Tensor, "... d"], dim: int = -1, keepdim: bool = False) -> Tensor:
    """Euclidean norm with a finite (zero) gradient at the origin: ``sqrt(max(|v|^2, 1e-30))``."""
    return torch.sqrt((v * v).sum(dim=dim, keepdim=keepdim).clamp(min=_TINY))


def _check(rel: Tensor, grid: Tensor, dim: int) -> None:
    if rel.dim() != 2 or rel.size(-1) != dim:
        raise ValueError(f"rel must have shape (E, {dim}), got {tuple(rel.shape)}")
    if grid.dim() != 2 or grid.size(-1) != dim:
        raise ValueError(f"grid must have shape (O, {dim}), got {tuple(grid.shape)}")


def pair_distance(rel: Float[Tensor, "e d"]) -> Float[Tensor, "e 1"]:
    """Distance ``|rel|`` of each pair, the only invariant of a pair of points."""
    if rel.dim() != 2:
        raise ValueError(f"rel must have shape (E, D), got {tuple(rel.shape)}")
    return safe_norm(rel, keepdim=True)


def r3s2_invariants(rel: Float[Tensor, "e 3"], grid: Float[Tensor, "o 3"]
                     ) -> Float[Tensor, "e o 2"]:
    """``[<rel, o>, |rel - <rel, o> o|]`` for every edge and grid orientation ``o`` (R3×S2).

    Args:
        rel: Relative positions ``x_src - x_dst`` ``(E, 3)``.
        grid: Unit orientations ``(O, 3)``.
    """
    _check(rel, grid, 3)
    along = rel @ grid.T  # (E, O)
    across = safe_norm(rel.unsqueeze(1) - along.unsqueeze(-1) * grid.unsqueeze(0))
    return torch.stack([along, across], dim=-1)


def r2s1_invariants(rel: Float[Tensor, "e 2"], grid: Float[Tensor, "o 2"]
                     ) -> Float[Tensor, "e o 2"]:
    """``[<rel, o>, <rel, o_perp>]`` with ``o_perp = (-o_y, o_x)`` (R2×S1, SE(2)-invariant).

    Args:
        rel: Relative positions ``x_src - x_dst`` ``(E, 2)``.
        grid: Unit orientations ``(O, 2)``.
    """
    _check(rel, grid, 2)
    perp = torch.stack([-grid[:, 1], grid[:, 0]], dim=-1)
    return torch.stack([rel @ grid.T, rel @ perp.T], dim=-1)


def spatial_invariants(rel: Float[Tensor, "e d"], grid: Float[Tensor, "o d"]
                       ) -> Float[Tensor, "e o 2"]:
    """:func:`r3s2_invariants` or :func:`r2s1_invariants` by the dimension of ``rel``."""
    if rel.dim() == 2 and rel.size(-1) == 2:
        return r2s1_invariants(rel, grid)
    return r3s2_invariants(rel, grid)


def fibre_invariants(grid: Float[Tensor, "o d"]) -> Float[Tensor, "o o 1"]:
    """``<o, o'>`` for every pair of grid orientations (S2 or S1)."""
    if grid.dim() != 2:
        raise ValueError(f"grid must have shape (O, D), got {tuple(grid.shape)}")
    return (grid @ grid.T).unsqueeze(-1)
