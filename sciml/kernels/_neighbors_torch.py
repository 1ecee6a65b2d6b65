"""Torch neighbour search (GPU path, and any dimension): brute force in chunks of centres."""

from __future__ import annotations

import itertools

import torch
from torch import Tensor

__all__ = ["radius_torch", "knn_torch", "wrap_torch", "heights_torch"]

_CHUNK_ELEMS = 1 << 22


def heights_torch(cell: Tensor) -> Tensor:
    """Face-to-face heights ``(G, 3)`` of cells ``(G, 3, 3)``."""
    vol = torch.linalg.det(cell).abs()
    hs = []
    for k in range(3):
        i, j = (k + 1) % 3, (k + 2) % 3
        hs.append(vol / torch.linalg.cross(cell[:, i], cell[:, j]).norm(dim=-1))
    return torch.stack(hs, dim=-1)


def wrap_torch(pos: Tensor, graph: Tensor, cell: Tensor) -> tuple[Tensor, Tensor]:
    """Wrap positions into their cells: ``(pos - wrap @ cell, wrap)`` with integer ``wrap``."""
    frac = torch.einsum("ni,nij->nj", pos, torch.linalg.inv(cell)[graph])
    wrap = torch.floor(frac)
    return pos - torch.einsum("ni,nij->nj", wrap, cell[graph]), wrap.long()


def _keep_nearest(dst: Tensor, d2: Tensor, n: int, k: int) -> Tensor:
    """Mask keeping the ``k`` smallest ``d2`` per ``dst`` (``dst`` sorted; ties: first wins)."""
    perm = torch.sort(d2, stable=True).indices
    perm = perm[torch.sort(dst[perm], stable=True).indices]
    ptr = torch.zeros(n + 1, dtype=torch.long, device=dst.device)
    ptr[1:] = torch.cumsum(torch.bincount(dst, minlength=n), 0)
    rank = torch.arange(dst.numel(), device=dst.device) - ptr[dst[perm]]
    keep = torch.zeros(dst.numel(), dtype=torch.bool, device=dst.device)
    keep[perm[rank < k]] = True
    return keep


def radius_torch(pos: Tensor, r: float, graph: Tensor, cell: Tensor | None, max_nb: int | None,
                 loop: bool) -> tuple[Tensor, Tensor, Tensor | None]:
    """All pairs within ``r`` (same graph), by brute force over centres in chunks.

    Args:
        pos: ``(N, D)`` positions (``D == 3`` when ``cell`` is given).
        r: cutoff (pairs with distance <= r).
        graph: ``(N,)`` graph id per point.
        cell: ``(G, 3, 3)`` lattice rows, or None.
        max_nb: keep at most this many nearest per centre.
        loop: keep self pairs (same point, same image).

    Returns:
        ``(src, dst, image)``, sorted by dst, src, image; ``image`` ``(E, 3)`` int64 lattice
        vector for periodic cells (relative to the *wrapped* positions), else None.
    """
    n = pos.size(0)
    dev = pos.device
    p = pos.double()
    if cell is not None:
        c = cell.double()
        p, _ = wrap_torch(p, graph, c)
        reach = torch.ceil(r / heights_torch(c)).long().max().item() + 1
        rng = range(-reach, reach + 1)
        images = torch.tensor(list(itertools.product(rng, rng, rng)), dtype=torch.long, device=dev)
        shifts = torch.einsum("ki,gij->gkj", images.double(), c)  # (G, K, 3)
    else:
        images = torch.zeros((1, 3), dtype=torch.long, device=dev)
        shifts = torch.zeros((1, 1, p.size(1)), dtype=p.dtype, device=dev)
    n_img = images.size(0)
    zero_img = int((images == 0).all(dim=1).nonzero()[0])
    chunk = max(1, _CHUNK_ELEMS // max(1, n * n_img))
    out_i, out_j, out_k, out_d = [], [], [], []
    for s in range(0, n, chunk):
        rows = torch.arange(s, min(n, s + chunk), device=dev)
        sh = shifts[graph[rows]] if cell is not None else shifts.expand(rows.numel(), 1, -1)
        disp = p[None, :, None, :] - p[rows, None, None, :] + sh[:, None, :, :]
        d2 = (disp * disp).sum(-1)  # (rows, N, K)
        mask = (d2 <= r * r) & (graph[rows, None, None] == graph[None, :, None])
        if not loop:
            mask[torch.arange(rows.numel(), device=dev), rows, zero_img] = False
        i, j, k = mask.nonzero(as_tuple=True)
        out_i.append(rows[i])
        out_j.append(j)
        out_k.append(k)
        out_d.append(d2[i, j, k])
    empty = torch.zeros(0, dtype=torch.long, device=dev)
    dst = torch.cat(out_i) if out_i else empty
    src = torch.cat(out_j) if out_j else empty
    kk = torch.cat(out_k) if out_k else empty
    if max_nb is not None and dst.numel() > 0:
        d2 = torch.cat(out_d)
        keep = _keep_nearest(dst, d2, n, max_nb)
        dst, src, kk = dst[keep], src[keep], kk[keep]
    return src, dst, (images[kk] if cell is not None else None)


def knn_torch(pos: Tensor, k: int, graph: Tensor, loop: bool) -> tuple[Tensor, Tensor]:
    """The ``k`` nearest points of the same graph for every centre; ``(src, dst)`` sorted."""
    n = pos.size(0)
    dev = pos.device
    p = pos.double()
    kk = min(k, n)
    chunk = max(1, _CHUNK_ELEMS // max(1, n))
    out_i, out_j = [], []
    for s in range(0, n, chunk):
        rows = torch.arange(s, min(n, s + chunk), device=dev)
        d2 = torch.cdist(p[rows], p, compute_mode="donot_use_mm_for_euclid_dist").pow(2)
        d2 = d2.masked_fill(graph[rows, None] != graph[None, :], float("inf"))
        if not loop:
            d2[torch.arange(rows.numel(), device=dev), rows] = float("inf")
        val, idx = torch.topk(d2, kk, dim=1, largest=False, sorted=True)
        ok = torch.isfinite(val)
        out_i.append(rows[:, None].expand_as(idx)[ok])
        out_j.append(idx[ok])
    empty = torch.zeros(0, dtype=torch.long, device=dev)
    dst = torch.cat(out_i) if out_i else empty
    src = torch.cat(out_j) if out_j else empty
    order = torch.sort(src, stable=True).indices
    order = order[torch.sort(dst[order], stable=True).indices]
    return src[order], dst[order]
