"""Batched Levenberg–Marquardt least squares with implicit gradients (hard-constraint solver).

Chalapathi, Du, Krishnapriyan, "Scaling physics-informed hard constraints with
mixture-of-experts", ICLR 2024: a network outputs basis functions b; the hard-constraint layer
finds the weights

    w* = argmin_w  L(w, θ) = ½ ‖r(w, θ)‖² + ½ λ ‖w‖²

(r: PDE residuals at sampled points and initial/boundary residuals of b·w) with at most 50
Levenberg–Marquardt iterations, and differentiates w* with respect to the network parameters θ
by the implicit function theorem on the optimality condition ∇_w L(w*, θ) = 0:

    dw*/dθ = −H⁻¹ ∂²L/∂w∂θ,   H = ∂²L/∂w²   (the exact Hessian, not Gauss–Newton),

so the backward pass never goes through the solver iterations. A batch of independent problems
(samples × experts) is solved at once: ``w`` is ``(P, N)`` and ``residual_fn`` maps it to
``(P, M)`` where row p depends only on ``w[p]``; each iteration works on the problems not yet
converged only. Jacobians come from the caller (the hard-constraint layer builds them from the
PDE's pointwise derivatives) or from forward-mode autodiff (one vmapped JVP per basis
function).

Everything inside runs in float64; results are cast back to the input dtype.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable

import torch
from torch import Tensor
from torch.func import jvp, vmap

from sciml.errors import NonFiniteError, SciMLError

__all__ = ["LMSettings", "LMInfo", "ConstraintSolveError", "ConstraintSolveWarning",
           "levenberg_marquardt", "implicit_least_squares", "check_convergence", "ON_FAIL"]

ON_FAIL = ("warn", "raise")
ResidualFn = Callable[..., Tensor]
JacobianFn = Callable[..., tuple[Tensor, Tensor]]
HessianFn = Callable[..., Tensor]


class ConstraintSolveError(SciMLError, RuntimeError):
    """A hard-constraint solve did not converge (the message names the experts and residuals)."""


class ConstraintSolveWarning(UserWarning):
    """A hard-constraint solve did not converge and training continues (``on_fail="warn"``)."""


@dataclasses.dataclass(frozen=True)
class LMSettings:
    """Levenberg–Marquardt settings.

    Args:
        max_iter: Iteration limit (paper: 50).
        tol: Convergence tolerance: a problem has converged when the RMS of its residual is
            <= tol (the constraints hold), or when the largest cosine between the residual and a
            column of the Jacobian is <= tol (a stationary point: MINPACK's ``gtol`` test).
            Paper: 1e-7 for Navier–Stokes.
        ridge: λ of the ridge term ½ λ ‖w‖².
        damping: Initial Marquardt damping μ (the step solves (JᵀJ + λI + μ diag(JᵀJ + λI)) δ =
            −g); multiplied by 1/3 after an accepted step and by 2 after a rejected one.
        on_fail: ``"warn"`` (warn per problem with its residual and continue) or ``"raise"``.
    """

    max_iter: int = 50
    tol: float = 1e-7
    ridge: float = 1e-8
    damping: float = 1e-3
    on_fail: str = "raise"

    def __post_init__(self) -> None:
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int) \
                or self.max_iter < 1:
            raise ValueError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")
        for name in ("tol", "damping"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (
                    math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive finite number, got {v!r}")
        if isinstance(self.ridge, bool) or not isinstance(self.ridge, (int, float)) or not (
                math.isfinite(self.ridge) and self.ridge >= 0):
            raise ValueError(f"ridge must be a finite number >= 0, got {self.ridge!r}")
        if self.on_fail not in ON_FAIL:
            raise ValueError(f"on_fail must be one of {list(ON_FAIL)}, got {self.on_fail!r}")


@dataclasses.dataclass
class LMInfo:
    """Per-problem outcome of a solve: ``iterations`` (P,), ``rms`` residual (P,) (ridge
    excluded), ``gradient_cosine`` (P,), ``converged`` (P,) bool."""

    iterations: Tensor
    rms: Tensor
    gradient_cosine: Tensor
    converged: Tensor


def _jacobian(residual_fn: ResidualFn, w: Tensor, args: tuple) -> tuple[Tensor, Tensor]:
    """r(w) (P, M) and its per-problem Jacobian (P, M, N) by N vmapped forward-mode JVPs."""
    n = w.shape[1]
    # Tangent j moves basis weight j of every problem at once (rows are independent problems).
    tangents = torch.eye(n, dtype=w.dtype, device=w.device)[:, None, :].expand(n, *w.shape)

    def one(t: Tensor) -> tuple[Tensor, Tensor]:
        return jvp(lambda v: residual_fn(v, *args), (w,), (t,))

    r, cols = vmap(one, out_dims=(None, 0))(tangents.contiguous())
    return r, cols.permute(1, 2, 0)


def _gradient(r: Tensor, jac: Tensor, w: Tensor, ridge: float) -> Tensor:
    return (jac.transpose(1, 2) @ r[..., None])[..., 0] + ridge * w


def _diagnostics(r: Tensor, jac: Tensor, w: Tensor, ridge: float, g: Tensor | None = None
                 ) -> tuple[Tensor, Tensor]:
    """RMS residual and the largest residual–Jacobian-column cosine (``g``: the gradient
    Jᵀr + λw where already known)."""
    rms = r.square().mean(1).sqrt()
    g = _gradient(r, jac, w, ridge) if g is None else g
    col_norm = jac.square().sum(1).add(ridge).sqrt()
    r_norm = (r.square().sum(1) + ridge * w.square().sum(1)).sqrt()
    cosine = (g.abs() / (col_norm * r_norm[:, None]).clamp_min(1e-300)).amax(1)
    return rms, cosine


@torch.no_grad()
def levenberg_marquardt(residual_fn: ResidualFn, w0: Tensor, args: tuple = (),
                        settings: LMSettings | None = None,
                        jacobian_fn: JacobianFn | None = None) -> tuple[Tensor, LMInfo]:
    """Minimise ½‖r(w)‖² + ½λ‖w‖² for a batch of independent problems (no gradients).

    Each iteration works on the problems not yet converged only (their rows of ``w`` and of
    every tensor in ``args``), so a batch costs what its unfinished problems cost: experts
    that converge early stop costing (the results are those of separate solves).

    Args:
        residual_fn: ``residual_fn(w, *args) -> (P, M)``; row p depends only on ``w[p]`` and
            row p of each tensor in ``args``.
        w0: Starting weights ``(P, N)``.
        args: Extra inputs of ``residual_fn``; tensors must have the problems as their first
            dimension (``(P, ...)``; detached here), other values are passed as they are.
        settings: :class:`LMSettings` (None: defaults).
        jacobian_fn: ``jacobian_fn(w, *args) -> (r (P, M), J (P, M, N))``, the residual and its
            Jacobian (None: N vmapped forward-mode JVPs of ``residual_fn``).

    Returns:
        The weights ``(P, N)`` (float64) and :class:`LMInfo`.
    """
    settings = settings if settings is not None else LMSettings()
    if w0.ndim != 2:
        raise ValueError(f"w0 must have shape (problems, basis), got {tuple(w0.shape)}")
    p_all = w0.shape[0]
    for i, a in enumerate(args):
        if isinstance(a, Tensor) and (a.ndim == 0 or a.shape[0] != p_all):
            raise ValueError(f"args[{i}] must have the {p_all} problems as its first dimension, "
                             f"got shape {tuple(a.shape)}")
    if jacobian_fn is None:
        def jacobian_fn(w: Tensor, *a: Tensor) -> tuple[Tensor, Tensor]:
            return _jacobian(residual_fn, w, a)
    lam = float(settings.ridge)
    w = w0.detach().to(torch.float64).clone()
    args = tuple(a.detach() if isinstance(a, Tensor) else a for a in args)
    r, jac = jacobian_fn(w, *args)
    if not torch.isfinite(r).all():
        raise NonFiniteError("hard-constraint residual is not finite at the initial weights "
                             "(NaN/inf in the basis functions or the data)")
    loss = r.square().sum(1) + lam * w.square().sum(1)
    mu = torch.full_like(loss, float(settings.damping))
    iterations = torch.zeros(p_all, dtype=torch.long, device=w.device)
    eye = torch.eye(w.shape[1], dtype=w.dtype, device=w.device)
    rms, cosine = _diagnostics(r, jac, w, lam)
    done = (rms <= settings.tol) | (cosine <= settings.tol)
    active, sub_args = None, args
    for _ in range(settings.max_iter):
        if bool(done.all()):
            break
        now = (~done).nonzero().flatten()
        if active is None or len(now) != len(active):
            active = now
            sub_args = tuple(x.index_select(0, active) if isinstance(x, Tensor) else x
                             for x in args)
        wa, ra, ja, la, ma = (x.index_select(0, active) for x in (w, r, jac, loss, mu))
        a = ja.transpose(1, 2) @ ja + lam * eye
        g = _gradient(ra, ja, wa, lam)
        damped = a + ma[:, None, None] * torch.diag_embed(a.diagonal(dim1=1, dim2=2))
        w_new = wa + torch.linalg.solve(damped, -g[..., None])[..., 0]
        r_new, jac_new = jacobian_fn(w_new, *sub_args)
        loss_new = r_new.square().sum(1) + lam * w_new.square().sum(1)
        # Near the minimum the loss changes only at rounding level; there a step is judged by
        # the gradient instead, so that the gradient test can reach tolerances below √ε.
        flat = (loss_new - la).abs() <= 1e-13 * la.clamp_min(1e-300)
        g_new = _gradient(r_new, jac_new, w_new, lam)
        smaller = g_new.square().sum(1) < g.square().sum(1)
        accept = torch.isfinite(loss_new) & ((loss_new < la) | (flat & smaller))
        stalled = ~accept & flat            # no progress possible at machine precision
        wa = torch.where(accept[:, None], w_new, wa)
        ra = torch.where(accept[:, None], r_new, ra)
        ja = torch.where(accept[:, None, None], jac_new, ja)
        w[active], r[active], jac[active] = wa, ra, ja
        loss[active] = torch.where(accept, loss_new, la)
        mu[active] = torch.where(accept, ma / 3.0, ma * 2.0).clamp(1e-12, 1e12)
        iterations[active] += 1
        rms_a, cos_a = _diagnostics(ra, ja, wa, lam, torch.where(accept[:, None], g_new, g))
        rms[active], cosine[active] = rms_a, cos_a
        done[active] = stalled | (rms_a <= settings.tol) | (cos_a <= settings.tol)
    converged = (rms <= settings.tol) | (cosine <= settings.tol)
    return w, LMInfo(iterations, rms, cosine, converged)


def check_convergence(info: LMInfo, on_fail: str, names: list[str] | None = None) -> None:
    """Warn or raise, per problem (expert), for every solve that did not converge."""
    if on_fail not in ON_FAIL:
        raise ValueError(f"on_fail must be one of {list(ON_FAIL)}, got {on_fail!r}")
    bad = (~info.converged).nonzero().flatten().tolist()
    if not bad:
        return
    names = names or [f"problem {p}" for p in range(len(info.converged))]
    lines = [f"{names[p]}: RMS residual {float(info.rms[p]):.3g}, gradient cosine "
             f"{float(info.gradient_cosine[p]):.3g} after {int(info.iterations[p])} iterations"
             for p in bad]
    msg = (f"hard-constraint solve did not converge for {len(bad)} of {len(names)} "
           f"expert problems: " + "; ".join(lines[:8]) + ("; ..." if len(lines) > 8 else ""))
    if on_fail == "raise":
        raise ConstraintSolveError(msg + " (set on_fail='warn' to keep training)")
    warnings.warn(msg, ConstraintSolveWarning, stacklevel=3)


class _ImplicitSolve(torch.autograd.Function):
    """Identity on the solved weights in the forward; the implicit-function-theorem VJP back."""

    @staticmethod
    def forward(ctx, residual_fn: ResidualFn, hessian_fn: HessianFn | None,  # type: ignore[override]
                ridge: float, w_star: Tensor, *args: Tensor) -> Tensor:
        ctx.residual_fn, ctx.hessian_fn, ctx.ridge = residual_fn, hessian_fn, ridge
        ctx.save_for_backward(w_star, *args)
        return w_star.clone()

    @staticmethod
    def backward(ctx, grad_w: Tensor):  # type: ignore[override]
        w_star, *args = ctx.saved_tensors
        skip = 4                              # residual_fn, hessian_fn, ridge, w_star
        needs = [isinstance(a, Tensor) and ctx.needs_input_grad[skip + i]
                 for i, a in enumerate(args)]
        if not any(needs):
            return (None,) * (skip + len(args))
        with torch.enable_grad():
            inputs = [a.detach().requires_grad_(n) if isinstance(a, Tensor) else a
                      for a, n in zip(args, needs, strict=True)]
            w = w_star.detach().requires_grad_(True)
            r = ctx.residual_fn(w, *inputs)
            loss = 0.5 * r.square().sum() + 0.5 * ctx.ridge * w.square().sum()
            (g,) = torch.autograd.grad(loss, w, create_graph=True)
            if ctx.hessian_fn is not None:
                with torch.no_grad():
                    detached = [a.detach() if isinstance(a, Tensor) else a for a in args]
                    eye = torch.eye(w.shape[1], dtype=w.dtype, device=w.device)
                    hess = ctx.hessian_fn(w_star.detach(), *detached) + ctx.ridge * eye
            else:
                # Rows of the block-diagonal Hessian: problems are independent, so one backward
                # pass per basis function gives row j of every problem's H.
                rows = [torch.autograd.grad(g[:, j].sum(), w, retain_graph=True)[0]
                        for j in range(w.shape[1])]
                hess = torch.stack(rows, dim=1)
            z = _solve_symmetric(hess, grad_w.to(hess.dtype))
            wanted = [x for x, n in zip(inputs, needs, strict=True) if n]
            grads = torch.autograd.grad(g, wanted, grad_outputs=-z, allow_unused=True)
        out, it = [], iter(grads)
        for a, n in zip(args, needs, strict=True):
            if not n:
                out.append(None)
                continue
            gr = next(it)
            out.append(torch.zeros_like(a) if gr is None else gr.to(a.dtype))
        return (None,) * skip + tuple(out)


def _solve_symmetric(hess: Tensor, rhs: Tensor) -> Tensor:
    """H⁻¹ v per problem; a singular H falls back to the least-squares (pseudo-inverse) solve."""
    sol, info = torch.linalg.solve_ex(hess, rhs[..., None])
    if bool((info != 0).any()) or not torch.isfinite(sol).all():
        sol = torch.linalg.lstsq(hess, rhs[..., None]).solution
    return sol[..., 0]


def implicit_least_squares(residual_fn: ResidualFn, w0: Tensor, args: tuple,
                           settings: LMSettings | None = None,
                           names: list[str] | None = None,
                           jacobian_fn: JacobianFn | None = None,
                           hessian_fn: HessianFn | None = None) -> tuple[Tensor, LMInfo]:
    """Solve the batched least-squares problem and attach implicit gradients to ``args``.

    Args:
        residual_fn: ``residual_fn(w, *args) -> (P, M)`` in float64, row p depending only on
            ``w[p]``; differentiable in ``args`` (the basis functions at the sampled points).
        w0: Starting weights ``(P, N)``.
        args: Tensors the residual depends on; gradients flow to those that require them.
        settings: :class:`LMSettings` (its ``on_fail`` decides warn or raise).
        names: A name per problem for the non-convergence report (e.g. ``"sample 0 expert 3"``).
        jacobian_fn: The residual and its Jacobian for the solver (see
            :func:`levenberg_marquardt`).
        hessian_fn: ``hessian_fn(w, *args) -> (P, N, N)``, the exact Hessian of ½‖r‖² in w
            (ridge excluded) for the implicit gradient (None: N backward passes through
            ``residual_fn``).

    Returns:
        ``w*`` ``(P, N)`` float64 (differentiable in ``args`` by the implicit function theorem)
        and the :class:`LMInfo` of the solve.
    """
    settings = settings if settings is not None else LMSettings()
    args64 = tuple(a.to(torch.float64) if isinstance(a, Tensor) and a.is_floating_point() else a
                   for a in args)
    w_star, info = levenberg_marquardt(residual_fn, w0, args64, settings, jacobian_fn)
    check_convergence(info, settings.on_fail, names)
    w = _ImplicitSolve.apply(residual_fn, hessian_fn, float(settings.ridge), w_star, *args64)
    return w, info
