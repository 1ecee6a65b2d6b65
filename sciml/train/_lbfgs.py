"""L-BFGS with the compact representation of the inverse Hessian: ``torch.optim.LBFGS``'s
iterates, without its per-iteration loop over the memory.

``torch.optim.LBFGS`` computes the direction d = −H g by the two-loop recursion (Nocedal 1980):
two Python loops over the stored pairs, three small tensor operations each. With the memory of
100 pairs that DeepXDE and our PINN benchmarks use, that is about 600 operations on vectors of a
few thousand parameters per iteration, as long as a loss evaluation of a small PINN (measured
here: 2-4 ms per iteration, against 5 ms per evaluation of DeepXDE's Burgers network). The same
H has a closed form in terms of S = [s_i], Y = [y_i] (Byrd, Nocedal, Schnabel, "Representations
of quasi-Newton matrices and their use in limited memory methods", Math. Prog. 1994, eq. 3.1),
with H_0 = γI, γ = s_kᵀy_k / y_kᵀy_k, R = the upper triangle of SᵀY, D its diagonal:

    H g = γ g + S a − γ Y p,   p = R⁻¹ Sᵀg,   a = R⁻ᵀ((D + γ YᵀY) p − γ Yᵀg),

a fixed dozen operations whatever the memory (SᵀY and YᵀY are kept up to date one row and
column per iteration). Everything else is ``torch.optim.LBFGS``'s: the first step size, the
strong-Wolfe line search (its own function), the curvature test that skips a pair
(yᵀs ≤ 1e-10), the iteration and evaluation limits, the tolerances and the ``n_iter`` /
``func_evals`` counters in the state, so both give the same iterates to rounding
(tests/train/test_lbfgs.py), with one exception: where ``torch.optim.LBFGS`` stops because its
line search ends at step 0 or its direction is not one of descent (the "stall" of DeepXDE's
Burgers example after a few iterations), this one forgets the stored pairs and restarts from
the steepest-descent step (Nocedal and Wright, *Numerical Optimization*, 2006, Sec. 7.2 and
9.1, on restarting limited-memory methods). Where the steepest-descent step fails as well (its
decrease is below the rounding of the loss, as for DeepXDE's Burgers example after Adam in
float32), the step is taken by the approximate Wolfe conditions of Hager and Zhang instead, a
test on the slope (:func:`approximate_wolfe`); it stops only when that fails too. Each such step
is counted in the state's ``approximate_wolfe``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["CompactLBFGS", "make_lbfgs", "approximate_wolfe"]

try:  # the line search of torch.optim.LBFGS (a private function of torch.optim.lbfgs)
    from torch.optim.lbfgs import _strong_wolfe
except ImportError:  # pragma: no cover - a future torch without it: torch's own optimizer
    _strong_wolfe = None


class CompactLBFGS(torch.optim.LBFGS):
    """``torch.optim.LBFGS`` (same arguments, strong-Wolfe line search or none) with the
    direction from the compact representation; see the module docstring.

    The state keeps the pairs as matrices ``S``, ``Y`` (oldest first) with ``SY = S Yᵀ`` and
    ``YY = Y Yᵀ``, so a checkpoint holds plain tensors (``weights_only`` loads it); a state
    saved by ``torch.optim.LBFGS`` (``old_dirs`` / ``old_stps``) is converted on the next step.
    """

    def _direction(self, g: Tensor, state: dict) -> Tensor:
        """−H g from the stored pairs."""
        S, Y = state["S"], state["Y"]
        if S.shape[0] == 0:
            return -g
        gamma = state["H_diag"]
        # the k × k algebra in float64 (cheap); the matrices are stored in the parameters'
        # dtype, so that a checkpoint (which casts optimizer state to it) resumes exactly
        SY, YY = state["SY"].double(), state["YY"].double()
        R = torch.triu(SY)
        sg, yg = (S @ g).double(), (Y @ g).double()
        p = torch.linalg.solve_triangular(R, sg[:, None], upper=True)[:, 0]
        rhs = (torch.diagonal(SY) * p + gamma * (YY @ p)) - gamma * yg
        a = torch.linalg.solve_triangular(R.T, rhs[:, None], upper=False)[:, 0]
        hg = gamma * g + S.T @ a.to(g.dtype) - gamma * (Y.T @ p.to(g.dtype))
        return -hg

    def _push(self, state: dict, s: Tensor, y: Tensor, history: int) -> None:
        """Append the pair (s, y), dropping the oldest beyond ``history``."""
        S, Y, SY, YY = state["S"], state["Y"], state["SY"], state["YY"]
        if S.shape[0] == history:
            S, Y, SY, YY = S[1:], Y[1:], SY[1:, 1:], YY[1:, 1:]
        sy_row = s @ Y.T  # s_newᵀ y_j
        sy_col = S @ y  # s_iᵀ y_new
        yy = Y @ y
        sy_new = s.dot(y)
        k = S.shape[0]
        SY2 = SY.new_empty((k + 1, k + 1))
        SY2[:k, :k], SY2[:k, k], SY2[k, :k], SY2[k, k] = SY, sy_col, sy_row, sy_new
        YY2 = YY.new_empty((k + 1, k + 1))
        YY2[:k, :k], YY2[:k, k], YY2[k, :k], YY2[k, k] = YY, yy, yy, y.dot(y)
        state["S"] = torch.cat([S, s[None]])
        state["Y"] = torch.cat([Y, y[None]])
        state["SY"], state["YY"] = SY2, YY2

    def _init_pairs(self, state: dict, like: Tensor) -> None:
        """Empty pair matrices, or those of a ``torch.optim.LBFGS`` state."""
        dirs, stps = state.pop("old_dirs", None), state.pop("old_stps", None)
        for key in ("ro", "al"):
            state.pop(key, None)
        empty = like.new_zeros((0, like.numel()))
        state["S"], state["Y"] = empty, empty.clone()
        state["SY"], state["YY"] = like.new_zeros((0, 0)), like.new_zeros((0, 0))
        if dirs and stps:
            S, Y = torch.stack(list(stps)), torch.stack(list(dirs))
            state["S"], state["Y"], state["SY"], state["YY"] = S, Y, S @ Y.T, Y @ Y.T

    @staticmethod
    def _restart(state: dict, restarted: bool) -> bool:
        """Forget the stored pairs when L-BFGS cannot move along its direction (the line search
        ends at step 0, or the direction is not one of descent), so the next iteration takes
        the steepest-descent step of a first iteration; False (stop, as torch.optim.LBFGS does)
        if the memory is empty already or that step failed too. Counted in ``restarts``."""
        if restarted or state["S"].shape[0] == 0:
            return False
        state["restarts"] = state.get("restarts", 0) + 1
        return True

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor]) -> Tensor:  # type: ignore[override]
        """One call: up to ``max_iter`` iterations (see ``torch.optim.LBFGS.step``)."""
        if len(self.param_groups) != 1:
            raise ValueError("CompactLBFGS takes one parameter group")
        closure = torch.enable_grad()(closure)
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if flat_grad.abs().max() <= tolerance_grad:
            return orig_loss

        if "S" not in state:
            self._init_pairs(state, flat_grad)
        d, t = state.get("d"), state.get("t")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter, restart = 0, False
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1 or restart:
                d = flat_grad.neg()
                self._init_pairs(state, flat_grad)
                state["H_diag"] = 1.0
            else:
                y = flat_grad.sub(prev_flat_grad)
                s = d.mul(t)
                ys = y.dot(s)
                if ys > 1e-10:
                    self._push(state, s, y, history_size)
                    state["H_diag"] = float(ys / y.dot(y))
                d = self._direction(flat_grad, state)

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.clone(memory_format=torch.contiguous_format)
            else:
                prev_flat_grad.copy_(flat_grad)
            prev_loss = loss

            if state["n_iter"] == 1 or restart:
                t = min(1.0, 1.0 / float(flat_grad.abs().sum())) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                if self._restart(state, restart):  # not a descent direction: forget the pairs
                    restart = True
                    continue
                break
            restart = False

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise ValueError("only 'strong_wolfe' is supported")
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                t_first = t
                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd)
                if float(d.mul(t).abs().max()) <= tolerance_change \
                        and state["S"].shape[0] == 0:
                    # no step along steepest descent: the decrease it can give is below the
                    # rounding of the loss; accept a step on the slope instead
                    found = approximate_wolfe(obj_func, x_init, t_first, d, prev_loss,
                                              prev_flat_grad, float(gtd))
                    ls_func_evals += found[3]
                    if found[2] > 0:
                        loss, flat_grad, t = found[0], found[1], found[2]
                        state["approximate_wolfe"] = state.get("approximate_wolfe", 0) + 1
                self._add_grad(t, d)
                opt_cond = flat_grad.abs().max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:
                    with torch.enable_grad():
                        loss = float(closure().detach())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = flat_grad.abs().max() <= tolerance_grad
                    ls_func_evals = 1
                else:
                    opt_cond = False
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if d.mul(t).abs().max() <= tolerance_change:
                if self._restart(state, restart):  # the line search found no step along d
                    restart = True
                    continue
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"], state["t"] = d, t
        state["prev_flat_grad"], state["prev_loss"] = prev_flat_grad, prev_loss
        return orig_loss


def approximate_wolfe(obj_func: Callable, x: list[Tensor], t: float, d: Tensor, f0: float,
                      g0: Tensor, gtd0: float, delta: float = 0.1, sigma: float = 0.9,
                      epsilon: float = 1e-6, max_evals: int = 20
                      ) -> tuple[float, Tensor, float, int]:
    """A step along ``d`` that meets the approximate Wolfe conditions (Hager and Zhang, "A new
    conjugate gradient method with guaranteed descent and an efficient line search", SIAM J.
    Optim. 16, 2005, eq. 4.1): with φ(t) = f(x + t d),

        σ φ'(0) ≤ φ'(t) ≤ (2δ − 1) φ'(0)   and   φ(t) ≤ φ(0) + ε |φ(0)|,

    a test on the slope, which stays accurate where the decrease of f along ``d`` is at the
    level of f's rounding error (there Armijo's test sees only noise, and a strong-Wolfe search
    ends at step 0: a float32 PINN loss of 6e-3 after Adam, measured on DeepXDE's Burgers
    example, decreases by at most 1.5e-8 along steepest descent, while its float32 evaluation
    is off by ~5e-9). The bracket [lo, hi] around the zero of φ' is narrowed by secant steps on
    φ' (bisection where the secant leaves it) and widened tenfold while φ' stays steeply
    negative.

    Args:
        obj_func: ``obj_func(x, t, d) -> (f, flat gradient)`` at x + t d (parameters restored).
        x, t, d: Parameters, first trial step, direction; f0, g0, gtd0: f, its gradient and
            φ'(0) = g0·d (< 0) at x.

    Returns:
        ``(f, g, t, evaluations)`` at the accepted step, or ``(f0, g0, 0.0, evaluations)``
        where none was found within ``max_evals``.
    """
    lo, d_lo, hi, d_hi = 0.0, gtd0, math.inf, math.nan
    limit = f0 + epsilon * abs(f0)
    t = t if t > 0 and math.isfinite(t) else 1.0
    for n in range(1, max_evals + 1):
        f, g = obj_func(x, t, d)
        f = float(f)
        slope = float(g.dot(d))
        if not (math.isfinite(f) and math.isfinite(slope)):
            hi, d_hi = t, math.nan
        elif f <= limit and sigma * gtd0 <= slope <= (2 * delta - 1) * gtd0:
            return f, g, t, n
        elif slope > 0 or f > limit:
            hi, d_hi = t, slope
        else:
            lo, d_lo = t, slope
        if math.isinf(hi):
            t = 10.0 * t
            continue
        secant = lo - d_lo * (hi - lo) / (d_hi - d_lo) if d_lo < 0 < d_hi else math.nan
        t = secant if lo < secant < hi else 0.5 * (lo + hi)
    return f0, g0, 0.0, max_evals


def make_lbfgs(params, **kwargs) -> torch.optim.LBFGS:
    """:class:`CompactLBFGS` where torch's line search can be imported, else
    ``torch.optim.LBFGS`` (same arguments and iterates)."""
    cls = CompactLBFGS if _strong_wolfe is not None else torch.optim.LBFGS
    return cls(params, **kwargs)
