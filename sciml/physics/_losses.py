"""Operator-learning losses on grids: relative L2 and relative H1, averaged over samples.

Li et al., "Fourier Neural Operator for Parametric PDEs", ICLR 2021 (relative L2);
He, Liu, Xu, "MgNO", ICLR 2024 (training with the relative H1 loss on Darcy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from jaxtyping import Float
from torch import Tensor

from sciml.metrics import rel_l2

__all__ = ["rel_l2_loss", "h1_loss", "grid_gradient", "RelativeL2", "H1Loss", "H1_METHODS"]

H1_METHODS = ("spectral", "fd")
_REDUCTIONS = ("mean", "sum", "none")


def rel_l2_loss(
    pred: Float[Tensor, "b ..."], target: Float[Tensor, "b ..."], reduction: str = "mean"
) -> Tensor:
    r"""Relative L2 error per sample, :math:`\|\hat y_i - y_i\|_2 / \|y_i\|_2`, mean over samples.

    Args:
        pred: Predictions (batch, ...), any trailing shape.
        target: Targets, same shape.
        reduction: ``"mean"`` (0-d), ``"sum"`` (0-d) or ``"none"`` (shape (b,)).

    Returns:
        The reduced relative error (grid spacing cancels in the ratio).
    """
    return rel_l2(pred, target, reduction=reduction)


def _spacing(shape: Sequence[int], spacing: float | Sequence[float] | None, periodic: bool
             ) -> tuple[float, ...]:
    ndim = len(shape)
    if spacing is None:
        # Periodic grids: n points on [0, 1); vertex grids: n points on [0, 1], ends included.
        return tuple(1.0 / n if periodic else 1.0 / max(n - 1, 1) for n in shape)
    values = (spacing,) * ndim if isinstance(spacing, (int, float)) else tuple(spacing)
    if len(values) != ndim or any(not (isinstance(h, (int, float)) and h > 0 and math.isfinite(h))
                                  for h in values):
        raise ValueError(f"spacing must be a positive number or {ndim} positive numbers (one per "
                         f"spatial dimension), got {spacing!r}")
    return tuple(float(h) for h in values)


def grid_gradient(
    u: Float[Tensor, "..."], ndim: int, method: str = "fd",
    spacing: float | Sequence[float] | None = None,
) -> list[Tensor]:
    r"""Partial derivatives :math:`\partial u / \partial x_d` over the last ``ndim`` axes.

    ``"fd"``: second-order central differences inside, second-order one-sided differences at the
    two ends (non-periodic grids). ``"spectral"``: differentiation in Fourier space,
    :math:`\widehat{\partial_d u}(k) = 2\pi i k / L_d \, \hat u(k)` with :math:`L_d = n_d h_d`
    (periodic grids; the Nyquist mode of an even size has no real derivative and is dropped).

    Args:
        u: Field whose last ``ndim`` axes are spatial.
        ndim: Number of spatial axes.
        method: ``"fd"`` or ``"spectral"``.
        spacing: Grid spacing, one number or one per axis. None: ``1/n`` for ``"spectral"`` (n
            points on [0, 1)) and ``1/(n-1)`` for ``"fd"`` (n points on [0, 1]).

    Returns:
        ``ndim`` tensors shaped like ``u``.
    """
    if method not in H1_METHODS:
        raise ValueError(f"method must be one of {list(H1_METHODS)}, got {method!r}")
    if isinstance(ndim, bool) or not isinstance(ndim, int) or not 1 <= ndim <= u.ndim:
        raise ValueError(f"ndim must be an integer in [1, {u.ndim}] for a field of shape "
                         f"{tuple(u.shape)}, got {ndim!r}")
    shape = tuple(u.shape[-ndim:])
    h = _spacing(shape, spacing, periodic=method == "spectral")
    dims = list(range(u.ndim - ndim, u.ndim))
    if method == "fd":
        if min(shape) < 3:
            raise ValueError(f"finite-difference gradients need >= 3 points per spatial axis, "
                             f"got spatial shape {shape}")
        return list(torch.gradient(u, spacing=list(h), dim=dims, edge_order=2))
    u_hat = torch.fft.fftn(u, dim=dims)
    grads = []
    for axis, (n, hd) in enumerate(zip(shape, h, strict=True)):
        k = torch.fft.fftfreq(n, d=1.0 / n, device=u.device, dtype=u.real.dtype)
        if n % 2 == 0:
            k[n // 2] = 0.0
        view = [1] * u.ndim
        view[dims[axis]] = n
        factor = (2j * math.pi / (n * hd)) * k.reshape(view)
        grads.append(torch.fft.ifftn(u_hat * factor, dim=dims).real)
    return grads


def h1_loss(
    pred: Float[Tensor, "b ..."], target: Float[Tensor, "b ..."], method: str = "spectral",
    spacing: float | Sequence[float] | None = None, ndim: int | None = None,
    reduction: str = "mean",
) -> Tensor:
    r"""Relative H1 error per sample, mean over samples.

    .. math::
        \frac{\sqrt{\|e\|^2 + \|\nabla e\|^2}}{\sqrt{\|y\|^2 + \|\nabla y\|^2}},\ e = \hat y - y,

    with discrete L2 norms :math:`\|v\|^2 = \prod_d h_d \sum v^2` over all non-batch axes
    (channels and time summed) and the gradient from :func:`grid_gradient`.

    Args:
        pred: Predictions (b, ..., *spatial), e.g. (b, c, *spatial) or (b, T, c, *spatial).
        target: Targets, same shape.
        method: ``"spectral"`` (periodic fields) or ``"fd"`` (non-periodic).
        spacing: Grid spacing (see :func:`grid_gradient`).
        ndim: Number of trailing spatial axes (None: all axes after the first two).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (shape (b,)).

    Returns:
        The reduced relative H1 error.
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {list(_REDUCTIONS)}, got {reduction!r}")
    if not isinstance(pred, Tensor) or not isinstance(target, Tensor):
        raise TypeError(f"pred and target must be torch tensors, got {type(pred).__name__} and "
                        f"{type(target).__name__}")
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got pred "
                         f"{tuple(pred.shape)} and target {tuple(target.shape)}")
    if ndim is None:
        ndim = pred.ndim - 2
        if ndim < 1:
            raise ValueError(f"h1_loss expects (batch, channels, *spatial), got shape "
                             f"{tuple(pred.shape)}; pass ndim for other layouts")
    if pred.ndim < ndim + 1:
        raise ValueError(f"h1_loss needs a batch axis before the {ndim} spatial axes, got shape "
                         f"{tuple(pred.shape)}")
    h = _spacing(tuple(pred.shape[-ndim:]), spacing, periodic=method == "spectral")
    error = pred - target

    def sq_norm(v: Tensor) -> Tensor:
        total = v.square().reshape(v.shape[0], -1).sum(1)
        for g in grid_gradient(v, ndim, method, h):
            total = total + g.square().reshape(v.shape[0], -1).sum(1)
        return total * math.prod(h)

    tiny = torch.finfo(pred.dtype).tiny
    per_sample = (sq_norm(error) / sq_norm(target).clamp_min(tiny)).sqrt()
    if reduction == "mean":
        return per_sample.mean()
    if reduction == "sum":
        return per_sample.sum()
    return per_sample


class RelativeL2:
    """Callable relative L2 loss, ``RelativeL2()(pred, target)`` (see :func:`rel_l2_loss`)."""

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {list(_REDUCTIONS)}, got {reduction!r}")
        self.reduction = reduction

    def __call__(self, pred: Tensor, target: Tensor) -> Tensor:
        return rel_l2_loss(pred, target, self.reduction)

    def __repr__(self) -> str:
        return f"RelativeL2(reduction={self.reduction!r})"


class H1Loss:
    """Callable relative H1 loss, ``H1Loss("fd")(pred, target)`` (see :func:`h1_loss`)."""

    def __init__(self, method: str = "spectral", spacing: float | Sequence[float] | None = None,
                 ndim: int | None = None, reduction: str = "mean") -> None:
        if method not in H1_METHODS:
            raise ValueError(f"method must be one of {list(H1_METHODS)}, got {method!r}")
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {list(_REDUCTIONS)}, got {reduction!r}")
        self.method, self.spacing, self.ndim, self.reduction = method, spacing, ndim, reduction

    def __call__(self, pred: Tensor, target: Tensor) -> Tensor:
        return h1_loss(pred, target, self.method, self.spacing, self.ndim, self.reduction)

    def __repr__(self) -> str:
        return f"H1Loss(method={self.method!r}, spacing={self.spacing!r}, ndim={self.ndim!r})"
