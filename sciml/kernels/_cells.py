"""Per-graph grids for the cell-list search: bin sizes, periodic wrapping and image reach."""

from __future__ import annotations

import numpy as np

__all__ = ["cell_heights", "build_grid"]

# Bins are r / _SPLIT wide (a hair wider, so that r spans strictly fewer than _SPLIT bins):
# half-width bins scan (5/2)^3 r^3 instead of 3^3 r^3 around each point, fewer misses.
_WIDEN = 1.0 + 1e-9
_SPLIT = 2


def cell_heights(cell: np.ndarray) -> np.ndarray:
    """Distances between opposite faces of each cell ``(G, 3, 3)`` -> ``(G, 3)``.

    ``h_k = |det(cell)| / |a_i x a_j|`` for the two lattice rows ``a_i, a_j`` other than ``a_k``.
    """
    vol = np.abs(np.linalg.det(cell))
    h = np.empty(cell.shape[:2])
    for k in range(3):
        i, j = (k + 1) % 3, (k + 2) % 3
        h[:, k] = vol / np.linalg.norm(np.cross(cell[:, i], cell[:, j]), axis=-1)
    return h


def _cap_bins(nb: np.ndarray, n_per_graph: np.ndarray) -> np.ndarray:
    """Halve bin counts of graphs whose grid has far more bins than points (memory bound)."""
    cap = 2 * n_per_graph + 8
    while True:
        over = nb.prod(axis=1) > cap
        if not over.any():
            return nb
        nb[over] = np.maximum(1, nb[over] // 2)


def build_grid(pos: np.ndarray, graph: np.ndarray, n_graphs: int, r: float,
               cell: np.ndarray | None):
    """Bin every point of every graph; wrap into the cell when periodic.

    Args:
        pos: ``(N, 3)`` float64.
        graph: ``(N,)`` int64 graph ids in ``[0, n_graphs)``.
        n_graphs: number of graphs ``G``.
        r: cutoff radius.
        cell: ``(G, 3, 3)`` lattice rows, or None for open boundaries.

    Returns:
        ``(pos_wrapped, wrap, binof, nb, off, mreach, gbin)``: wrapped positions, the integer
        lattice vector subtracted from each point (``pos_wrapped = pos - wrap @ cell``; zeros
        when open), bin per point ``(N, 3)``, bins per graph ``(G, 3)``, first global bin per
        graph ``(G + 1,)``, bins to scan per side ``(G, 3)``, global bin per point ``(N,)``.
    """
    n_per = np.bincount(graph, minlength=n_graphs)
    if cell is None:
        lo = np.full((n_graphs, 3), np.inf)
        hi = np.full((n_graphs, 3), -np.inf)
        if n_graphs == 1 and pos.shape[0] > 0:
            lo[0], hi[0] = pos.min(axis=0), pos.max(axis=0)
        elif pos.shape[0] > 0:
            _segment_minmax(pos, graph, lo, hi)
        lo[n_per == 0] = 0.0
        hi[n_per == 0] = 0.0
        extent = hi - lo
        size = np.full(n_graphs, r * _WIDEN / _SPLIT)
        nb = (np.floor(extent / size[:, None]) + 1).astype(np.int64)
        capped = _cap_bins(nb.copy(), n_per)
        # A capped grid keeps bins >= r wide: stretch them to cover the extent.
        size3 = np.where(capped < nb, np.maximum(extent / capped, r * _WIDEN / _SPLIT),
                         size[:, None])
        nb = capped
        u = (pos - lo[graph]) / size3[graph]
        mreach = np.ceil(r / size3).astype(np.int64)
        wrap = np.zeros((pos.shape[0], 3), dtype=np.int64)
        pos_w = pos
    else:
        inv = np.linalg.inv(cell)
        frac = np.einsum("ni,nij->nj", pos, inv[graph])
        wrap_f = np.floor(frac)
        frac = frac - wrap_f
        wrap = wrap_f.astype(np.int64)
        pos_w = pos - np.einsum("ni,nij->nj", wrap_f, cell[graph])
        h = cell_heights(cell)
        nb = np.maximum(1, np.floor(h * _SPLIT / (r * _WIDEN))).astype(np.int64)
        nb = _cap_bins(nb, n_per)
        u = frac * nb[graph]
        mreach = np.ceil(r * nb / h).astype(np.int64)
    binof = np.clip(np.floor(u).astype(np.int64), 0, nb[graph] - 1)
    nbins = nb.prod(axis=1)
    off = np.zeros(n_graphs + 1, dtype=np.int64)
    np.cumsum(nbins, out=off[1:])
    nbg = nb[graph]
    gbin = off[graph] + (binof[:, 0] * nbg[:, 1] + binof[:, 1]) * nbg[:, 2] + binof[:, 2]
    return np.ascontiguousarray(pos_w), wrap, binof, nb, off, mreach, gbin


def _segment_minmax(pos: np.ndarray, graph: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """Per-graph min and max of ``pos`` in place (sort-based, fast for many points)."""
    order = np.argsort(graph, kind="stable")
    g_sorted = graph[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    ids = g_sorted[starts]
    lo[ids] = np.minimum.reduceat(pos[order], starts, axis=0)
    hi[ids] = np.maximum.reduceat(pos[order], starts, axis=0)
