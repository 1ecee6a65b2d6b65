"""Neighbour lists: radius graphs (open or periodic cells) and k-nearest-neighbour graphs."""

from __future__ import annotations

import math

import numpy as np
import torch
from jaxtyping import Float, Int
from torch import Tensor

from ._checks import check_index, check_tensor
from ._neighbors_torch import knn_torch, radius_torch, wrap_torch

__all__ = ["radius_graph", "knn_graph"]


def _check_pos(pos: object) -> Tensor:
    check_tensor(pos, "pos", floating=True)
    if pos.dim() != 2 or pos.size(1) < 1:
        raise ValueError(f"pos must have shape (N, D) with D >= 1, got {tuple(pos.shape)}")
    if pos.numel() > 0 and not bool(torch.isfinite(pos).all()):
        raise ValueError("pos has NaN or infinite entries")
    return pos


def _check_batch(batch: object, n: int, device: torch.device) -> tuple[Tensor, int]:
    """Graph id per point (zeros when ``batch`` is None) and the number of graphs."""
    if batch is None:
        return torch.zeros(n, dtype=torch.long, device=device), 1
    b = check_index(batch, "batch", size=n)
    if b.device != device:
        raise ValueError(f"batch is on {b.device} but pos is on {device}")
    return b, (int(b.max()) + 1 if n > 0 else 1)


def _check_cell(cell: object, pos: Tensor, n_graphs: int) -> Tensor:
    """Cells as ``(G, 3, 3)`` lattice rows; a single ``(3, 3)`` cell is shared by all graphs."""
    check_tensor(cell, "cell", floating=True)
    if pos.size(1) != 3:
        raise ValueError(f"a periodic cell needs 3-D positions, got pos of shape "
                         f"{tuple(pos.shape)}")
    if cell.device != pos.device:
        raise ValueError(f"cell is on {cell.device} but pos is on {pos.device}")
    if cell.shape == (3, 3):
        cell = cell.unsqueeze(0).expand(n_graphs, 3, 3)
    elif cell.dim() != 3 or cell.shape[1:] != (3, 3) or cell.size(0) != n_graphs:
        raise ValueError(f"cell must have shape (3, 3) or (G, 3, 3) with G={n_graphs} graphs "
                         f"(from batch), got {tuple(cell.shape)}")
    det = torch.linalg.det(cell.detach().double())
    if not bool(torch.isfinite(cell).all()) or bool((det.abs() < 1e-12).any()):
        raise ValueError("cell must be finite and non-singular (lattice vectors as rows)")
    return cell


def _radius_numba(pos: Tensor, r: float, graph: Tensor, n_graphs: int, cell: Tensor | None,
                  max_nb: int | None, loop: bool, want_lattice: bool
                  ) -> tuple[Tensor, Tensor, Tensor]:
    """CPU cell list: (edge_index, lattice vector (E, 3) or (0, 3), shift (E, 3) or (0, 3))."""
    from ._numba_cells import cell_neighbors

    p = pos.detach().numpy()
    if p.dtype != np.float64 or p.shape[1] < 3 or not p.flags.c_contiguous:
        p = np.ascontiguousarray(p, dtype=np.float64)
        if p.shape[1] < 3:
            p = np.concatenate([p, np.zeros((p.shape[0], 3 - p.shape[1]))], axis=1)
    g = np.ascontiguousarray(graph.numpy())
    c = None if cell is None else np.ascontiguousarray(cell.detach().double().numpy())
    edges, lattice, shift = cell_neighbors(p, g, n_graphs, r, c, loop,
                                           -1 if max_nb is None else max_nb, want_lattice)
    return torch.from_numpy(edges), torch.from_numpy(lattice), torch.from_numpy(shift)


def radius_graph(
    pos: Float[Tensor, "n d"],
    r: float,
    batch: Int[Tensor, "n"] | None = None,  # noqa: F821 (jaxtyping dims)
    cell: Float[Tensor, "*g 3 3"] | None = None,
    max_num_neighbors: int | None = None,
    loop: bool = False,
) -> Int[Tensor, "2 e"] | tuple[Int[Tensor, "2 e"], Float[Tensor, "e 3"]]:
    """All pairs of points of the same graph closer than ``r``: edges neighbour -> centre.

    Linked cells (bins at least ``r`` wide) make the CPU search linear in the number of points
    at fixed density. With ``cell``, boundaries are periodic and *every* lattice image within
    ``r`` is an edge (as ASE's neighbour list), so ``r`` may exceed the cell size; the same
    pair can then appear with several shifts.

    Convention: the displacement of edge ``e`` is ``pos[src] - pos[dst] + shift[e]`` with
    ``shift = n_e @ cell`` for an integer lattice vector ``n_e`` (lattice vectors are the rows
    of ``cell``, ASE's convention), and ``|displacement| <= r``. ``shift`` is differentiable
    with respect to ``cell`` (for stress).

    Args:
        pos: ``(N, D)`` positions; ``D <= 3`` uses the cell list, larger ``D`` brute force.
        r: Cutoff radius (> 0); pairs at distance ``<= r`` are kept.
        batch: Graph id of each point ``(N,)``; pairs never cross graphs.
        cell: ``(3, 3)`` (shared) or ``(G, 3, 3)`` (per graph) lattice rows: periodic in 3-D.
        max_num_neighbors: Keep only this many nearest neighbours per centre.
        loop: Also return each point as its own neighbour (zero shift).

    Returns:
        ``edge_index`` ``(2, E)`` int64 rows ``[src; dst]`` sorted by dst, then src (then
        lattice vector); with ``cell``, the tuple ``(edge_index, shift (E, 3))``.
    """
    pos = _check_pos(pos)
    if isinstance(r, bool) or not isinstance(r, (int, float)) or not (0 < r < math.inf):
        raise ValueError(f"r must be a positive finite number, got {r!r}")
    if max_num_neighbors is not None and (isinstance(max_num_neighbors, bool) or not isinstance(
            max_num_neighbors, int) or max_num_neighbors < 0):
        raise ValueError(f"max_num_neighbors must be None or an int >= 0, got "
                         f"{max_num_neighbors!r}")
    n = pos.size(0)
    graph, n_graphs = _check_batch(batch, n, pos.device)
    cells = None if cell is None else _check_cell(cell, pos, n_graphs)
    r = float(r)
    if pos.device.type == "cpu" and pos.size(1) <= 3:
        grad = cells is not None and cells.requires_grad
        edge_index, lattice, shift = _radius_numba(pos, r, graph, n_graphs, cells,
                                                   max_num_neighbors, bool(loop), grad)
        if cells is None:
            return edge_index
        if not grad:
            return edge_index, shift.to(pos.dtype)
        src, dst = edge_index
    else:
        src, dst, img = radius_torch(pos.detach(), r, graph, cells, max_num_neighbors,
                                     bool(loop))
        if cells is not None:
            wrap = wrap_torch(pos.detach().double(), graph, cells.detach().double())[1]
            lattice = img - wrap[src] + wrap[dst]
    edge_index = torch.stack([src, dst])
    if cells is None:
        return edge_index
    # Through torch, so that the shift is differentiable in the cell (stress).
    lattice = lattice.to(dtype=cells.dtype)
    if n_graphs == 1:
        shift = lattice @ cells[0]
    else:
        shift = torch.einsum("ei,eij->ej", lattice, cells[graph[edge_index[1]]])
    return edge_index, shift.to(pos.dtype)


def knn_graph(
    pos: Float[Tensor, "n d"],
    k: int,
    batch: Int[Tensor, "n"] | None = None,  # noqa: F821 (jaxtyping dims)
    loop: bool = False,
) -> Int[Tensor, "2 e"]:
    """The ``k`` nearest points of the same graph as neighbours of each point.

    CPU: a k-d tree (``scipy.spatial.cKDTree``, graphs kept apart by an extra coordinate);
    GPU: chunked brute force. A graph with fewer than ``k + 1`` points gives fewer edges.

    Args:
        pos: ``(N, D)`` positions.
        k: Neighbours per point (>= 1).
        batch: Graph id of each point ``(N,)``.
        loop: Count each point as its own (nearest) neighbour.

    Returns:
        ``edge_index`` ``(2, E)`` int64 rows ``[src; dst]``, sorted by dst then src.
    """
    pos = _check_pos(pos)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    n = pos.size(0)
    graph, _ = _check_batch(batch, n, pos.device)
    if n == 0:
        return torch.zeros((2, 0), dtype=torch.long, device=pos.device)
    if pos.device.type != "cpu":
        src, dst = knn_torch(pos.detach(), k, graph, bool(loop))
        return torch.stack([src, dst])
    from scipy.spatial import cKDTree

    p = pos.detach().double().numpy()
    g = graph.numpy()
    span = float(np.sqrt(((p.max(axis=0) - p.min(axis=0)) ** 2).sum()))
    gap = 2.0 * span + 1.0  # farther than any pair inside one graph
    q = np.concatenate([p, (g * gap)[:, None]], axis=1)
    kk = min(k + (0 if loop else 1), n)
    dist, idx = cKDTree(q).query(q, k=kk, distance_upper_bound=1.5 * span + 0.5)
    dist, idx = dist.reshape(n, kk), idx.reshape(n, kk)
    centre = np.broadcast_to(np.arange(n)[:, None], idx.shape)
    ok = idx < n
    if not loop:
        ok &= idx != centre
    # Keep the k nearest of what is left in each row (the self hit may or may not be first).
    rank = np.cumsum(ok, axis=1)
    ok &= rank <= k
    src, dst = idx[ok], centre[ok]
    order = np.lexsort((src, dst))
    out = np.stack([src[order], dst[order]]).astype(np.int64)
    return torch.from_numpy(out)
