"""The method of lines for the registered 1-D PDEs of :mod:`sciml.physics`, from their residuals.

A registered PDE is written as a residual r(u, d, coords), zero for an exact solution, where the
derivatives object ``d`` gives ``d.dt(u)``, ``d.dx(u)``, ``d.dxx(u)``. Every 1-D PDE registered
today (convection, Burgers, reaction, reaction–diffusion, Allen–Cahn, diffusion–sorption) writes
it as

    r = u_t − F(u, u_x, u_xx, x, t),

so F = −r evaluated with u_t = 0. :class:`PDERightHandSide` does exactly that: it calls the PDE's
own ``residual`` with a derivatives object whose ``dt`` returns zeros and whose ``dx`` / ``dxx``
return the grid's finite differences (:mod:`sciml.solvers.method_of_lines`), so no PDE's formula
is written twice. What is assumed, and checked:

- the residual is u_t minus something free of u_t: on its first call the adapter evaluates the
  residual again with u_t = z (z a non-constant field) and requires r(z) − r(0) = z; a residual
  such as R(u) u_t − D u_xx fails that check with an error that says to give F explicitly;
- the residual differentiates only u itself (or, for a system, one of its columns ``u[:, k]``):
  ``d.dx(u**2)`` (a conservative form) is refused, since the grid knows differences of u only;
- only ``dt``, ``dx``, ``dxx`` and ``laplacian`` of ``d`` are used (1-D, no ``velocity``).

The PDE is evaluated with torch in float64 (the residuals are torch code); this module imports
torch at first use only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from jaxtyping import Float
from sciml.solvers.method_of_lines import MOLSolution, solve_method_of_lines

__all__ = ["PDERightHandSide", "pde_rhs", "solve_pde"]


class _GridDifferences:
    """The derivatives object handed to a PDE's residual: finite differences of u on the grid
    (computed beforehand, with the boundary conditions) and a given u_t."""

    spatial_dims = 1

    def __init__(self, u: Any, u_t: Any, u_x: Any, u_xx: Any, pde_name: str) -> None:
        self.u, self.u_t, self.u_x, self.u_xx = u, u_t, u_x, u_xx
        self.pde_name = pde_name

    def _pick(self, v: Any, values: Any, what: str) -> Any:
        import torch

        if v is self.u or (v.shape == self.u.shape and torch.equal(v, self.u)):
            return values
        if self.u.dim() == 2 and v.dim() == 1 and v.shape[0] == self.u.shape[0]:
            for k in range(self.u.shape[1]):
                if torch.equal(v, self.u[:, k]):
                    return values[:, k]
        raise ValueError(f"PDE {self.pde_name!r}: its residual takes {what} of an expression "
                         f"other than u (or a column of u); the method of lines has finite "
                         f"differences of u only: give F explicitly "
                         f"(solve_method_of_lines(rhs=...))")

    def dt(self, v: Any) -> Any:
        return self._pick(v, self.u_t, "d.dt")

    def _axis(self, axis: int) -> None:
        if axis != 0:
            raise ValueError(f"PDE {self.pde_name!r}: the method of lines is 1-D (axis 0), the "
                             f"residual asked for axis {axis}")

    def dx(self, v: Any, axis: int = 0) -> Any:
        self._axis(axis)
        return self._pick(v, self.u_x, "d.dx")

    def dxx(self, v: Any, axis: int = 0) -> Any:
        self._axis(axis)
        return self._pick(v, self.u_xx, "d.dxx")

    def laplacian(self, v: Any) -> Any:
        return self.dxx(v, 0)


class PDERightHandSide:
    """F(u, u_x, u_xx, x, t) = −residual(u, d, coords) with u_t = 0, for a registered 1-D PDE
    (the assumptions and their checks are in the module docstring).

    Args:
        pde: A PDE object of :mod:`sciml.physics` (``residual(u, d, coords)``,
            ``spatial_dims == 1``; ``n_fields`` fields, 1 if it does not say).

    Call it as F in :func:`sciml.solvers.solve_method_of_lines`: numpy arrays ``(n,)`` (or
    ``(n, c)``), returns u_t of u's shape.
    """

    def __init__(self, pde: Any) -> None:
        if not callable(getattr(pde, "residual", None)):
            raise TypeError(f"pde must have a residual(u, d, coords) method (a sciml.physics "
                            f"PDE), got {type(pde).__name__}")
        dims = getattr(pde, "spatial_dims", 1)
        if dims != 1:
            raise ValueError(f"the method of lines here is 1-D; PDE "
                             f"{getattr(pde, 'name', pde)!r} has spatial_dims = {dims}")
        self.pde = pde
        self.n_fields = int(getattr(pde, "n_fields", 1))
        self.name = str(getattr(pde, "name", "") or type(pde).__name__)
        self._checked = False

    def __repr__(self) -> str:
        return f"PDERightHandSide({self.pde!r})"

    def _residual(self, u: Any, u_t: Any, u_x: Any, u_xx: Any, coords: Any) -> Any:
        d = _GridDifferences(u, u_t, u_x, u_xx, self.name)
        try:
            return self.pde.residual(u, d, coords)
        except AttributeError as err:
            raise ValueError(f"PDE {self.name!r}: its residual needs {err.name or err!s} of the "
                             f"derivatives, which the 1-D method of lines does not offer (it "
                             f"has dt, dx, dxx, laplacian); give F explicitly") from None

    def __call__(self, u: np.ndarray, u_x: np.ndarray, u_xx: np.ndarray, x: np.ndarray,
                 t: float) -> np.ndarray:
        import torch

        with torch.no_grad():
            tu, tux, tuxx = (torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64))
                             for v in (u, u_x, u_xx))
            xs = torch.from_numpy(np.asarray(x, dtype=np.float64))
            coords = torch.stack([xs, torch.full_like(xs, float(t))], dim=1)
            zero = torch.zeros_like(tu)
            r0 = self._residual(tu, zero, tux, tuxx, coords)
            if r0.shape != tu.shape:
                raise ValueError(f"PDE {self.name!r}: residual of shape {tuple(r0.shape)} for u "
                                 f"of shape {tuple(tu.shape)}")
            if not self._checked:
                z = 1.0 + 0.5 * torch.sin(torch.arange(tu.numel(), dtype=tu.dtype)).reshape(
                    tu.shape)
                slope = self._residual(tu, z, tux, tuxx, coords) - r0
                if not torch.allclose(slope, z, rtol=1e-10, atol=1e-10):
                    raise ValueError(f"PDE {self.name!r}: its residual is not u_t − F(u, u_x, "
                                     f"u_xx, x, t) (the coefficient of u_t is not 1), so F "
                                     f"cannot be read from it; give F explicitly")
                self._checked = True
            return (-r0).numpy()


def pde_rhs(pde: Any) -> PDERightHandSide:
    """F for :func:`sciml.solvers.solve_method_of_lines` from a registered 1-D PDE's residual
    (see the module docstring)."""
    return PDERightHandSide(pde)


def _boundary_pair(spec: Any) -> tuple[Any, Any]:
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        return spec[0], spec[1]
    return spec, spec


def solve_pde(pde: Any, t: Float[np.ndarray, " m"], n: int,
              domain: tuple[float, float] | None = None, left: Any = None, right: Any = None,
              u0: np.ndarray | Callable[..., np.ndarray] | None = None,
              source: Callable[..., np.ndarray] | None = None,
              method: str = "BDF", rtol: float = 1e-8, atol: float = 1e-10) -> MOLSolution:
    """Solve a registered 1-D PDE by the method of lines, from t = 0.

    Whatever is not given comes from the PDE's standard problem: ``pde.domain()``,
    ``pde.boundary_conditions()`` (one entry for the axis, a condition for both ends or a
    ``(left, right)`` pair) and ``pde.initial_condition(x)``.

    Args:
        pde: A :mod:`sciml.physics` PDE with ``spatial_dims == 1``.
        t: ``(m,)`` output times >= 0.
        n: Grid nodes (see :func:`sciml.solvers.solve_method_of_lines`).
        domain: ``(a, b)``; default the PDE's.
        left, right: Boundary conditions (:class:`sciml.solvers.MOLBoundary` forms); default
            the PDE's. Give both or neither.
        u0: Initial values on the grid or a callable ``u0(x=x)``; default the PDE's.
        source: Optional s(x, t) added to the PDE's F, called as ``source(x=x, t=t)`` (e.g. a
            manufactured solution's source).
        method, rtol, atol: As :func:`sciml.solvers.solve_method_of_lines`.

    Returns:
        A :class:`sciml.solvers.MOLSolution`.
    """
    rhs = pde_rhs(pde)
    if domain is None:
        dom = pde.domain() if callable(getattr(pde, "domain", None)) else None
        if dom is None:
            raise ValueError(f"PDE {rhs.name!r} has no standard domain; give domain=(a, b)")
        domain = tuple(dom[0])
    if (left is None) != (right is None):
        raise ValueError("give both left and right boundary conditions, or neither (the PDE's)")
    if left is None:
        bcs = pde.boundary_conditions() if callable(
            getattr(pde, "boundary_conditions", None)) else None
        if bcs is None:
            raise ValueError(f"PDE {rhs.name!r} has no standard boundary conditions; give left "
                             f"and right")
        left, right = _boundary_pair(bcs[0])
    if u0 is None:
        def u0(x: np.ndarray) -> np.ndarray:  # called as u0(x=x)
            import torch

            value = pde.initial_condition(torch.from_numpy(x)[:, None])
            if value is None:
                raise ValueError(f"PDE {rhs.name!r} has no standard initial condition; give u0")
            return value.detach().numpy()
    return solve_method_of_lines(rhs, u0, domain, t, n, left, right, n_fields=rhs.n_fields,
                                 source=source, method=method, rtol=rtol, atol=atol)
