"""Plain, obviously correct reference implementations (loops) that the kernel tests compare with.

Slow by design: use them on small inputs only.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "scatter_ref",
    "scatter_softmax_ref",
    "segment_ref",
    "gather_scatter_ref",
    "spmm_ref",
    "radius_ref",
    "knn_ref",
]

_OPS = {
    "sum": lambda rows: rows.sum(0),
    "mean": lambda rows: rows.mean(0),
    "max": lambda rows: rows.max(0).values,
    "min": lambda rows: rows.min(0).values,
}


def scatter_ref(src: Tensor, index: Tensor, dim: int, dim_size: int, reduce: str) -> Tensor:
    """Slot by slot: reduce the slices of ``src`` whose 1-D ``index`` equals the slot; else 0."""
    moved = src.movedim(dim, 0)
    outs = []
    for i in range(dim_size):
        rows = moved[index == i]
        outs.append(_OPS[reduce](rows) if rows.size(0) > 0 else moved.new_zeros(moved.shape[1:]))
    out = torch.stack(outs) if outs else moved.new_zeros((0, *moved.shape[1:]))
    return out.movedim(0, dim)


def scatter_softmax_ref(src: Tensor, index: Tensor, dim: int, dim_size: int) -> Tensor:
    """Softmax of each segment's slices (``torch.softmax`` over the gathered rows)."""
    moved = src.movedim(dim, 0)
    out = torch.zeros_like(moved)
    for i in range(dim_size):
        sel = (index == i).nonzero().flatten()
        if sel.numel() > 0:
            out[sel] = torch.softmax(moved[sel], dim=0)
    return out.movedim(0, dim)


def segment_ref(src: Tensor, ptr: Tensor, reduce: str) -> Tensor:
    """Segment by segment over ``src[ptr[s]:ptr[s+1]]``; empty segments give 0."""
    outs = []
    for s in range(ptr.numel() - 1):
        rows = src[int(ptr[s]):int(ptr[s + 1])]
        outs.append(_OPS[reduce](rows) if rows.size(0) > 0 else src.new_zeros(src.shape[1:]))
    return torch.stack(outs) if outs else src.new_zeros((0, *src.shape[1:]))


def gather_scatter_ref(x: Tensor, edge_index: Tensor, weight: Tensor | None, dim_size: int,
                       reduce: str) -> Tensor:
    """Edge by edge: collect ``w_e * x[src_e]`` per target, then reduce (0 when none)."""
    msgs: list[list[Tensor]] = [[] for _ in range(dim_size)]
    for e in range(edge_index.size(1)):
        s, d = int(edge_index[0, e]), int(edge_index[1, e])
        m = x[s]
        if weight is not None:
            w = weight[e]
            m = m * (w.reshape(x.shape[1:]) if w.dim() > 0 and w.numel() > 1 else w)
        msgs[d].append(m)
    outs = [_OPS[reduce](torch.stack(m)) if m else x.new_zeros(x.shape[1:]) for m in msgs]
    return torch.stack(outs) if outs else x.new_zeros((0, *x.shape[1:]))


def spmm_ref(csr: Tensor, x: Tensor) -> Tensor:
    """Dense product ``csr.to_dense() @ x``."""
    return csr.to_dense() @ x.reshape(x.size(0), -1)


def radius_ref(pos: np.ndarray, r: float, batch: np.ndarray | None = None,
               cell: np.ndarray | None = None, loop: bool = False) -> set[tuple]:
    """Every ``(src, dst, n0, n1, n2)`` with ``|pos[src] - pos[dst] + n @ cell| <= r``, O(N^2).

    Images ``n`` range over a box large enough for any position (unwrapped) and any cell.
    ``cell`` is ``(3, 3)`` (shared) or ``(G, 3, 3)``; without it ``n`` is always ``(0, 0, 0)``.
    """
    n = pos.shape[0]
    b = np.zeros(n, dtype=np.int64) if batch is None else np.asarray(batch)
    edges = set()
    for i in range(n):
        for j in range(n):
            if b[i] != b[j]:
                continue
            if cell is None:
                imgs = [(0, 0, 0)]
            else:
                c = cell if cell.ndim == 2 else cell[b[i]]
                h = abs(np.linalg.det(c)) / np.linalg.norm(
                    np.cross(c[[1, 2, 0]], c[[2, 0, 1]]), axis=1)
                frac = np.linalg.solve(c.T, pos[j] - pos[i])
                reach = np.ceil(r / h + np.abs(frac)).astype(int) + 1
                imgs = itertools.product(*(range(-m, m + 1) for m in reach))
            for img in imgs:
                if i == j and not any(img) and not loop:
                    continue
                disp = pos[j] - pos[i]
                if cell is not None:
                    disp = disp + np.asarray(img, dtype=float) @ c
                if np.sqrt((disp ** 2).sum()) <= r:
                    edges.add((j, i, *img))
    return edges


def knn_ref(pos: np.ndarray, k: int, batch: np.ndarray | None = None,
            loop: bool = False) -> list[tuple[int, int, float]]:
    """For each centre, the distances of its ``k`` nearest same-graph points (self if loop)."""
    n = pos.shape[0]
    b = np.zeros(n, dtype=np.int64) if batch is None else np.asarray(batch)
    out = []
    for i in range(n):
        cand = [j for j in range(n) if b[j] == b[i] and (loop or j != i)]
        d = sorted((float(np.linalg.norm(pos[j] - pos[i])), j) for j in cand)
        out.extend((j, i, dist) for dist, j in d[:k])
    return out
