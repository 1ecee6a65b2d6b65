"""Batched autograd derivatives of network outputs with respect to their input coordinates.

Every point's output depends only on that point's input (a pointwise network), so the gradient
of ``u.sum()`` with respect to ``coords`` is the per-point gradient: one backward pass gives all
first derivatives of all points. ``create_graph=True`` keeps them differentiable (second
derivatives, and training on residuals).
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor, autograd

from sciml.physics._pdes import AbstractDerivatives

__all__ = ["AutogradDerivatives", "gradient", "laplacian", "time_derivative"]


def _check_graph(u: Tensor, x: Tensor) -> None:
    if not x.requires_grad:
        raise ValueError("coordinates must have requires_grad=True before computing the field "
                         "from them (coords.requires_grad_())")
    if not u.requires_grad:
        raise ValueError("the field does not depend on the coordinates through autograd "
                         "(u was computed without a graph, or from detached coordinates)")


def gradient(u: Float[Tensor, " n"], x: Float[Tensor, "n d"], strict: bool = True
             ) -> Float[Tensor, "n d"]:
    """∇u with respect to each column of ``x``, per point (u computed pointwise from x).

    Args:
        u: Field values, ``(n,)`` or ``(n, 1)``.
        x: The coordinates u was computed from (requires_grad), ``(n, d)``.
        strict: Raise if ``u`` has no autograd graph (a field computed from detached
            coordinates); False treats such a ``u`` as constant (zero gradient), as happens for
            the derivative of a field that is linear in ``x``.

    Returns:
        ``(n, d)``; differentiable (``create_graph=True``). A u that does not depend on a column
        gives zeros there.
    """
    if strict or u.requires_grad:
        _check_graph(u, x)
    if u.dim() == 2 and u.shape[1] == 1:
        u = u[:, 0]
    if u.shape != x.shape[:1]:
        raise ValueError(f"gradient: u must have shape (n,) or (n, 1) with n = {x.shape[0]} "
                         f"(rows of x), got {tuple(u.shape)}")
    if not u.requires_grad:
        return x.new_zeros(x.shape)
    (g,) = autograd.grad(u.sum(), x, create_graph=True, allow_unused=True)
    if g is None:
        return x.new_zeros(x.shape)
    return g


def laplacian(u: Float[Tensor, " n"], x: Float[Tensor, "n d"],
              dims: int | None = None) -> Float[Tensor, " n"]:
    """Σ_i ∂²u/∂x_i² over the first ``dims`` columns of ``x`` (default all).

    Args:
        u: Field values ``(n,)`` or ``(n, 1)`` computed pointwise from ``x``.
        x: Coordinates ``(n, d)`` with requires_grad.
        dims: Number of leading (spatial) columns to sum over; e.g. ``d - 1`` when the last
            column is time.
    """
    g = gradient(u, x)
    dims = x.shape[1] if dims is None else dims
    if not 1 <= dims <= x.shape[1]:
        raise ValueError(f"dims must be in 1..{x.shape[1]}, got {dims}")
    out = gradient(g[:, 0], x, strict=False)[:, 0]
    for i in range(1, dims):
        out = out + gradient(g[:, i], x, strict=False)[:, i]
    return out


def time_derivative(u: Float[Tensor, " n"], coords: Float[Tensor, "n d"]) -> Float[Tensor, " n"]:
    """∂u/∂t where t is the last column of ``coords``."""
    return gradient(u, coords)[:, -1]


class AutogradDerivatives(AbstractDerivatives):
    """Derivatives of fields computed pointwise from ``coords`` (last column t), by autograd.

    First derivatives of each field are computed once (one backward pass for all columns) and
    cached; second derivatives reuse them. ``u`` may be ``(n,)`` or ``(n, c)``; every method
    returns ``u``'s shape.

    Args:
        coords: ``(n, spatial_dims + 1)`` with requires_grad, the input the fields came from;
            ``(n, spatial_dims)`` with ``steady``.
        steady: No time column (steady problems): every column is a spatial axis, and
            :meth:`dt` is an error.
    """

    def __init__(self, coords: Float[Tensor, "n d"], steady: bool = False) -> None:
        if coords.dim() != 2 or coords.shape[1] < (1 if steady else 2):
            raise ValueError(f"coords must have shape (n, spatial_dims{'' if steady else ' + 1'})"
                             f"{'' if steady else ' with the last column time'}, got "
                             f"{tuple(coords.shape)}")
        if not coords.requires_grad:
            raise ValueError("coords must have requires_grad=True (call coords.requires_grad_() "
                             "before evaluating the network)")
        self.coords = coords
        self.steady = steady
        self.spatial_dims = coords.shape[1] - (0 if steady else 1)
        # id(u) -> (u, [grad per channel]); u is held so that its id is not reused.
        self._first: dict[int, tuple[Tensor, list[Tensor]]] = {}
        self._second: dict[tuple[int, int, int], Tensor] = {}

    def _grads(self, u: Tensor) -> list[Tensor]:
        key = id(u)
        if key in self._first and self._first[key][0] is u:
            return self._first[key][1]
        if u.shape[0] != self.coords.shape[0] or u.dim() > 2:
            raise ValueError(f"u must have shape (n,) or (n, c) with n = {self.coords.shape[0]}, "
                             f"got {tuple(u.shape)}")
        if u.dim() == 1:
            grads = [gradient(u, self.coords)]
        else:
            grads = [gradient(u[:, k], self.coords) for k in range(u.shape[1])]
        self._first[key] = (u, grads)
        return grads

    def _assemble(self, u: Tensor, cols: list[Tensor]) -> Tensor:
        if u.dim() == 1:
            return cols[0]
        return torch.stack(cols, dim=1)

    def dt(self, u: Tensor) -> Tensor:
        self._require_time()
        return self._assemble(u, [g[:, -1] for g in self._grads(u)])

    def dx(self, u: Tensor, axis: int = 0) -> Tensor:
        a = self._axis(axis)
        return self._assemble(u, [g[:, a] for g in self._grads(u)])

    def dxx(self, u: Tensor, axis: int = 0) -> Tensor:
        a = self._axis(axis)
        cols = []
        for k, g in enumerate(self._grads(u)):
            key = (id(u), k, a)
            if key not in self._second:
                self._second[key] = gradient(g[:, a], self.coords, strict=False)[:, a]
            cols.append(self._second[key])
        return self._assemble(u, cols)

    def dxt(self, u: Tensor, axis: int = 0) -> Tensor:
        """∂²u/∂x_axis∂t."""
        a = self._axis(axis)
        return self._assemble(u, [gradient(g[:, -1], self.coords, strict=False)[:, a]
                                  for g in self._grads(u)])
