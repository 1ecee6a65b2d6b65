"""Representation similarity between two networks' activations on the same inputs.

Each function takes two activation matrices ``x`` (n, p) and ``y`` (n, q): row i holds one layer's
units (channels, or flattened features) on input i, the same n inputs in the same order for both
networks; p and q may differ. Everything is computed in float64.

- **Linear CKA** (Kornblith, Norouzi, Lee, Hinton, *Similarity of Neural Network
  Representations Revisited*, ICML 2019, https://arxiv.org/abs/1905.00414, Eq. 5 with the linear
  kernel): with column-centred X and Y,
  CKA = ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F). Invariant to orthogonal transforms and isotropic scaling of
  either side, not to arbitrary invertible linear maps (their Section 3).
- **Kernel CKA** (same paper, Eq. 3–4): HSIC(K, L) / √(HSIC(K, K) HSIC(L, L)) with centred Gram
  matrices; the RBF kernel k(a, b) = exp(−‖a − b‖² / (2σ²)) with σ a fraction (``sigma``, the
  paper uses 0.2–0.8) of the median pairwise distance of each side, as in the paper.
- **SVCCA** (Raghu, Gilmer, Yosinski, Sohl-Dickstein, *SVCCA: Singular Vector Canonical
  Correlation Analysis for Deep Learning Dynamics and Interpretability*, NeurIPS 2017,
  https://arxiv.org/abs/1706.05806): keep each side's leading singular directions explaining
  ``keep`` (0.99 in the paper) of its variance, then the canonical correlations ρ₁ ≥ ρ₂ ≥ … of
  the two reduced sets; the summary is their mean. Invariant to invertible linear maps within the
  kept subspaces.
- **Unit matching** (Li, Yosinski, Clune, Lipson, Hopcroft, *Convergent Learning: Do different
  neural networks learn the same representations?*, ICLR 2016, https://arxiv.org/abs/1511.07543,
  Section 3): the correlation matrix between the units of the two networks and the one-to-one
  assignment of units maximising the summed correlation (their bipartite semi-matching's
  one-to-one form, solved exactly by the Hungarian algorithm).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["linear_cka", "kernel_cka", "svcca", "SVCCAResult", "match_units", "UnitMatch",
           "unit_correlations"]


def _pair(x, y, name: str = "activations") -> tuple[np.ndarray, np.ndarray]:
    """Both sides as float64 (n, features) arrays with the same n; a one-line error otherwise."""
    out = []
    for label, a in (("x", x), ("y", y)):
        if hasattr(a, "detach"):  # a torch tensor
            a = a.detach().cpu().numpy()
        a = np.asarray(a, dtype=np.float64)
        if a.ndim == 0:
            raise ValueError(f"{name} {label} must be an array of inputs × units, got a scalar")
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2:
            a = a.reshape(a.shape[0], -1)  # (n, c, *spatial) -> (n, c·spatial)
        if not np.isfinite(a).all():
            raise ValueError(f"{name} {label} has {int((~np.isfinite(a)).sum())} non-finite "
                             "values")
        out.append(a)
    if out[0].shape[0] != out[1].shape[0]:
        raise ValueError(f"{name} must be of the same inputs: x has {out[0].shape[0]} rows, "
                         f"y has {out[1].shape[0]}")
    if out[0].shape[0] < 2:
        raise ValueError(f"{name} need at least 2 inputs (rows), got {out[0].shape[0]}")
    return out[0], out[1]


def _centred(a: np.ndarray) -> np.ndarray:
    return a - a.mean(axis=0, keepdims=True)


def linear_cka(x, y) -> float:
    """Linear CKA of activations ``x`` (n, p) and ``y`` (n, q), in [0, 1] (1: the same up to an
    orthogonal transform and a scale). Extra dimensions after the first are flattened."""
    x, y = _pair(x, y)
    x, y = _centred(x), _centred(y)
    if max(x.shape[1], y.shape[1]) > x.shape[0]:
        # wide activations (e.g. flattened fields): the same value from the n × n Gram matrices,
        # ‖YᵀX‖²_F = ⟨XXᵀ, YYᵀ⟩_F, cheaper when units outnumber inputs
        k, l = x @ x.T, y @ y.T  # noqa: E741
        cross, norm = float(np.sum(k * l)), np.linalg.norm(k) * np.linalg.norm(l)
    else:
        cross = np.linalg.norm(y.T @ x) ** 2
        norm = np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)
    if norm == 0:
        raise ValueError("linear CKA is undefined for a constant representation (all rows equal)")
    return float(cross / norm)


def _rbf_gram(a: np.ndarray, sigma: float) -> np.ndarray:
    return _rbf_from_gram(a @ a.T, sigma)


def _rbf_from_gram(g: np.ndarray, sigma: float) -> np.ndarray:
    """The RBF Gram matrix from the linear one, ``g = A Aᵀ`` (distances are the same for a
    column-centred A)."""
    sq = np.diag(g)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * g, 0.0)
    off = d2[~np.eye(len(g), dtype=bool)]
    median = np.sqrt(np.median(off))
    if median == 0:
        raise ValueError("kernel CKA is undefined when most inputs share one representation "
                         "(median pairwise distance 0)")
    return np.exp(-d2 / (2 * (sigma * median) ** 2))


def _hsic(k: np.ndarray, l: np.ndarray) -> float:  # noqa: E741 (the paper's L)
    n = len(k)
    h = np.eye(n) - 1.0 / n
    return float(np.sum((h @ k @ h) * (h @ l @ h)))


def kernel_cka(x, y, sigma: float = 0.8) -> float:
    """CKA with RBF kernels of bandwidth ``sigma`` × each side's median pairwise distance."""
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be > 0 (a fraction of the median distance), got {sigma!r}")
    x, y = _pair(x, y)
    k, l = _rbf_gram(x, sigma), _rbf_gram(y, sigma)  # noqa: E741
    return float(_hsic(k, l) / np.sqrt(_hsic(k, k) * _hsic(l, l)))


@dataclass(frozen=True)
class SVCCAResult:
    """SVCCA of two representations: ``mean`` of the canonical ``correlations`` (descending),
    and how many singular directions each side kept (``kept_x``, ``kept_y``)."""

    mean: float
    correlations: np.ndarray
    kept_x: int
    kept_y: int


def _reduce(a: np.ndarray, keep: float) -> np.ndarray:
    u, s, _ = np.linalg.svd(a, full_matrices=False)
    var = s**2
    if var.sum() == 0:
        raise ValueError("SVCCA is undefined for a constant representation (all rows equal)")
    k = int(np.searchsorted(np.cumsum(var) / var.sum(), keep - 1e-12) + 1)
    return u[:, :k] * s[:k]


def svcca(x, y, keep: float = 0.99) -> SVCCAResult:
    """SVCCA of ``x`` (n, p) and ``y`` (n, q): SVD to ``keep`` of the variance, then CCA."""
    if not (0 < keep <= 1):
        raise ValueError(f"keep must be a fraction of the variance in (0, 1], got {keep!r}")
    x, y = _pair(x, y)
    x, y = _reduce(_centred(x), keep), _reduce(_centred(y), keep)
    # canonical correlations: singular values of Qxᵀ Qy for orthonormal bases of the two spans
    qx, _ = np.linalg.qr(x)
    qy, _ = np.linalg.qr(y)
    rho = np.clip(np.linalg.svd(qx.T @ qy, compute_uv=False), 0.0, 1.0)
    return SVCCAResult(float(rho.mean()), rho, x.shape[1], y.shape[1])


def unit_correlations(x, y) -> np.ndarray:
    """Pearson correlation of every unit of ``x`` (columns) with every unit of ``y`` → (p, q);
    a unit that is constant over the inputs correlates 0 with everything."""
    x, y = _pair(x, y)
    x, y = _centred(x), _centred(y)
    nx, ny = np.linalg.norm(x, axis=0), np.linalg.norm(y, axis=0)
    x = np.divide(x, nx, out=np.zeros_like(x), where=nx > 0)
    y = np.divide(y, ny, out=np.zeros_like(y), where=ny > 0)
    return x.T @ y


@dataclass(frozen=True)
class UnitMatch:
    """One-to-one matching of units: ``y`` unit ``pairs[i, 1]`` to ``x`` unit ``pairs[i, 0]``,
    with their ``correlation``s; ``mean`` of them; the full ``matrix`` (p, q)."""

    pairs: np.ndarray
    correlation: np.ndarray
    mean: float
    matrix: np.ndarray


def match_units(x, y) -> UnitMatch:
    """The one-to-one assignment of units of ``x`` to units of ``y`` with the largest summed
    correlation (Hungarian algorithm); min(p, q) pairs."""
    from scipy.optimize import linear_sum_assignment

    corr = unit_correlations(x, y)
    rows, cols = linear_sum_assignment(corr, maximize=True)
    picked = corr[rows, cols]
    return UnitMatch(np.stack([rows, cols], 1), picked, float(picked.mean()), corr)
