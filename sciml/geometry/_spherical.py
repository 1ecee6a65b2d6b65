"""Maps between signals on an orientation grid and vectors / spherical-harmonic coefficients.

A signal on the grid is ``f(o_i)``, ``i = 1..O``. Vectors ``v`` lift to ``f(o) = <v, o>`` and are
read back by least squares, ``v = (G^T G)^{-1} G^T f`` with ``G`` the ``(O, d)`` grid, which
inverts the lift exactly and commutes with any rotation applied to both the grid and the
vectors. Band-limited signals on S2 use real spherical harmonics (e3nn's ``o3``, ``component``
normalisation) with least-squares coefficients.
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

__all__ = ["vec_to_sphere", "sphere_to_vec", "sh_basis", "sphere_to_sh", "sh_to_sphere"]


def _check_grid(grid: Tensor, dim: int | None = None) -> None:
    if not isinstance(grid, Tensor) or grid.dim() != 2 or grid.size(1) not in (2, 3):
        shape = tuple(grid.shape) if isinstance(grid, Tensor) else type(grid).__name__
        raise ValueError(f"grid must have shape (O, 2) or (O, 3), got {shape}")
    if dim is not None and grid.size(1) != dim:
        raise ValueError(f"grid has dimension {grid.size(1)} but the vectors have {dim}")


def vec_to_sphere(vec: Float[Tensor, "*b c d"], grid: Float[Tensor, "o d"]
                  ) -> Float[Tensor, "*b o c"]:
    """Lift vectors to grid signals ``f_c(o) = <v_c, o>`` (PONITA's lift of vector features).

    Args:
        vec: ``(..., C, d)`` vectors.
        grid: ``(O, d)`` unit orientations.
    """
    _check_grid(grid, vec.size(-1) if vec.dim() >= 2 else None)
    return torch.einsum("...cd,od->...oc", vec, grid)


def sphere_to_vec(signal: Float[Tensor, "*b o c"], grid: Float[Tensor, "o d"]
                  ) -> Float[Tensor, "*b c d"]:
    """Least-squares vector of a grid signal: ``v_c = (G^T G)^{-1} G^T f_c``.

    Inverts :func:`vec_to_sphere` exactly (the grid must span R^d); for a near-uniform grid this
    is ``(d / O) sum_o f(o) o``, the fibre-weighted sum of orientations.

    Args:
        signal: ``(..., O, C)`` values on the grid.
        grid: ``(O, d)`` unit orientations.
    """
    _check_grid(grid)
    if signal.dim() < 2 or signal.size(-2) != grid.size(0):
        raise ValueError(f"signal must have shape (..., O={grid.size(0)}, C), got "
                         f"{tuple(signal.shape)}")
    gram = grid.T @ grid
    if torch.linalg.matrix_rank(gram.detach().double()) < grid.size(1):
        raise ValueError(f"a grid of {grid.size(0)} orientations does not span R^{grid.size(1)}")
    proj = torch.linalg.solve(gram, grid.T)  # (d, O)
    return torch.einsum("...oc,do->...cd", signal, proj)


def sh_basis(grid: Float[Tensor, "o 3"], lmax: int) -> Float[Tensor, "o k"]:
    """Real spherical harmonics ``Y_lm(o)`` for ``l = 0..lmax`` at the grid, ``k = (lmax+1)^2``
    (e3nn ``o3.spherical_harmonics``, ``component`` normalisation, e3nn's ordering)."""
    from e3nn import o3

    _check_grid(grid, 3)
    if isinstance(lmax, bool) or not isinstance(lmax, int) or lmax < 0:
        raise ValueError(f"lmax must be an integer >= 0, got {lmax!r}")
    return o3.spherical_harmonics(list(range(lmax + 1)), grid, normalize=True,
                                  normalization="component")


def sphere_to_sh(signal: Float[Tensor, "*b o c"], grid: Float[Tensor, "o 3"], lmax: int
                 ) -> Float[Tensor, "*b k c"]:
    """Least-squares spherical-harmonic coefficients of a grid signal up to degree ``lmax``.

    Exact for signals band-limited to ``lmax`` when the grid has at least ``(lmax+1)^2``
    orientations in general position.

    Args:
        signal: ``(..., O, C)`` values on the grid.
        grid: ``(O, 3)`` unit orientations.
        lmax: Highest degree.

    Returns:
        ``(..., (lmax+1)^2, C)`` coefficients.
    """
    basis = sh_basis(grid, lmax).to(signal.dtype)
    if basis.size(0) < basis.size(1):
        raise ValueError(f"{basis.size(0)} orientations cannot determine {basis.size(1)} "
                         f"coefficients (lmax={lmax}); use at least {(lmax + 1) ** 2}")
    if signal.dim() < 2 or signal.size(-2) != grid.size(0):
        raise ValueError(f"signal must have shape (..., O={grid.size(0)}, C), got "
                         f"{tuple(signal.shape)}")
    pinv = torch.linalg.pinv(basis)  # (k, O)
    return torch.einsum("ko,...oc->...kc", pinv, signal)


def sh_to_sphere(coeffs: Float[Tensor, "*b k c"], grid: Float[Tensor, "o 3"]
                 ) -> Float[Tensor, "*b o c"]:
    """Evaluate spherical-harmonic coefficients ``(..., (lmax+1)^2, C)`` on the grid."""
    k = coeffs.size(-2) if coeffs.dim() >= 2 else -1
    lmax = int(round(k ** 0.5)) - 1 if k > 0 else -1
    if lmax < 0 or (lmax + 1) ** 2 != k:
        raise ValueError(f"coeffs must have shape (..., (lmax+1)^2, C), got "
                         f"{tuple(coeffs.shape)}")
    basis = sh_basis(grid, lmax).to(coeffs.dtype)
    return torch.einsum("ok,...kc->...oc", basis, coeffs)
