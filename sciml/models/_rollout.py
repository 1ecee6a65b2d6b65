"""Autoregressive rollout of a one-step grid operator, and its training loss (teacher forcing or
free rollout), for time-dependent PDE surrogates (MgNO / FNO on Navier–Stokes: 1 frame -> T)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from jaxtyping import Float
from torch import Tensor, nn

from sciml.physics import rel_l2_loss

__all__ = ["rollout", "rollout_loss"]


def _check_residual(model: nn.Module, residual: bool) -> None:
    if not isinstance(residual, bool):
        raise TypeError(f"residual must be True or False, got {residual!r}")
    config = getattr(model, "config", None)
    if residual and getattr(config, "residual_output", False):
        raise ValueError("the model already adds its input to its output (config.residual_output"
                         "=True); call with residual=False, or the increment is added twice")


def _step(model: nn.Module, u: Tensor, extra: Tensor | None, residual: bool) -> Tensor:
    x = u if extra is None else torch.cat([u, extra], dim=1)
    out = model(x)
    if out.shape != u.shape:
        raise ValueError(f"the model maps a state of shape {tuple(u.shape)} (plus extra channels) "
                         f"to shape {tuple(out.shape)}; a rollout needs the same shape")
    return u + out if residual else out


def _check_extra(u: Tensor, extra: Tensor | None) -> None:
    if extra is None:
        return
    if extra.ndim != u.ndim or extra.shape[0] != u.shape[0] or extra.shape[2:] != u.shape[2:]:
        raise ValueError(f"extra must have shape (batch, c_extra, *spatial) matching the state "
                         f"{tuple(u.shape)}, got {tuple(extra.shape)}")


def rollout(
    model: nn.Module, u0: Float[Tensor, "b c *spatial"], steps: int, residual: bool = True,
    extra: Float[Tensor, "b e *spatial"] | None = None,
) -> Float[Tensor, "b steps c *spatial"]:
    r"""Apply a one-step model ``steps`` times, feeding each prediction back in.

    :math:`u_{k+1} = u_k + \mathcal G(u_k)` with ``residual=True`` (the model predicts the
    increment), :math:`u_{k+1} = \mathcal G(u_k)` otherwise (also for models whose config has
    ``residual_output=True``: they add the input themselves).

    Args:
        model: Maps (b, c [+ e], *spatial) to (b, c, *spatial).
        u0: Initial state.
        steps: Number of steps (>= 1).
        residual: Add the model's output to the current state.
        extra: Constant channels appended to the state at every step (coordinates, parameters).

    Returns:
        The predicted states after 1..steps steps.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if not isinstance(u0, Tensor) or u0.ndim < 3:
        raise ValueError(f"u0 must be a tensor (batch, channels, *spatial), got "
                         f"{getattr(u0, 'shape', type(u0).__name__)}")
    _check_residual(model, residual)
    _check_extra(u0, extra)
    states = []
    u = u0
    for _ in range(steps):
        u = _step(model, u, extra, residual)
        states.append(u)
    return torch.stack(states, dim=1)


def rollout_loss(
    model: nn.Module, traj: Float[Tensor, "b t c *spatial"], teacher_forcing: bool,
    *, u0: Float[Tensor, "b c *spatial"] | None = None, residual: bool = True,
    extra: Float[Tensor, "b e *spatial"] | None = None,
    loss: Callable[[Tensor, Tensor], Tensor] = rel_l2_loss,
) -> Tensor:
    """Mean over time steps of ``loss(prediction_k, traj_k)`` for a one-step model.

    Teacher forcing feeds the true state ``traj[:, k-1]`` into step ``k`` (all steps run as one
    batch; trains the one-step map); free rollout feeds the model's own prediction back in
    (trains for the accumulated error at test time, as in MgNO's Navier–Stokes runs).

    Args:
        model: One-step model (see :func:`rollout`).
        traj: True states. With ``u0`` None, ``traj[:, 0]`` is the initial state and
            ``traj[:, 1:]`` the targets; otherwise every frame of ``traj`` is a target.
        teacher_forcing: True: one-step predictions from true states; False: free rollout.
        u0: Initial state (b, c, *spatial), when ``traj`` holds only the targets.
        residual: The model predicts the increment (see :func:`rollout`).
        extra: Constant extra input channels (see :func:`rollout`).
        loss: Per-batch loss ``loss(pred, target)`` on (b, c, *spatial) tensors.

    Returns:
        The loss averaged over the time steps (0-d).
    """
    if not isinstance(teacher_forcing, bool):
        raise TypeError(f"teacher_forcing must be True or False, got {teacher_forcing!r}")
    if not isinstance(traj, Tensor) or traj.ndim < 4:
        raise ValueError(f"traj must be a tensor (batch, time, channels, *spatial), got "
                         f"{getattr(traj, 'shape', type(traj).__name__)}")
    if u0 is None:
        if traj.shape[1] < 2:
            raise ValueError(f"traj needs >= 2 frames (initial state + targets) when u0 is not "
                             f"given, got shape {tuple(traj.shape)}")
        u0, targets = traj[:, 0], traj[:, 1:]
    else:
        if u0.shape != traj[:, 0].shape:
            raise ValueError(f"u0 of shape {tuple(u0.shape)} does not match a frame of traj "
                             f"{tuple(traj[:, 0].shape)}")
        targets = traj
    _check_residual(model, residual)
    _check_extra(u0, extra)
    b, t = targets.shape[:2]
    if teacher_forcing:
        inputs = torch.cat([u0[:, None], targets[:, :-1]], dim=1).flatten(0, 1)
        ext = None if extra is None else extra[:, None].expand(b, t, *extra.shape[1:]).flatten(0, 1)
        pred = _step(model, inputs, ext, residual).unflatten(0, (b, t))
    else:
        pred = rollout(model, u0, t, residual, extra)
    return torch.stack([loss(pred[:, k], targets[:, k]) for k in range(t)]).mean()
