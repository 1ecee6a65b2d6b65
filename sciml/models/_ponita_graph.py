"""Edges for PONITA: fully connected per graph or radius graphs (open or periodic cells)."""

from __future__ import annotations

import warnings

import torch
from jaxtyping import Int
from torch import Tensor

from sciml.kernels import radius_graph

__all__ = ["fully_connected_edges", "build_edges"]


def fully_connected_edges(batch: Int[Tensor, " n"], loop: bool = True) -> Int[Tensor, "2 e"]:
    """All ordered pairs of nodes of the same graph (with self-loops when ``loop``), ``[src; dst]``.

    Args:
        batch: Graph id of each node ``(N,)`` (need not be sorted).
        loop: Include ``(i, i)``.
    """
    n = batch.numel()
    if n == 0:
        return torch.zeros(2, 0, dtype=torch.long, device=batch.device)
    order = torch.argsort(batch, stable=True)
    b_sorted = batch[order]
    counts = torch.bincount(b_sorted)
    ptr = torch.cumsum(counts, 0) - counts
    sizes = counts[b_sorted]  # size of the graph of each (sorted) node
    dst_sorted = torch.repeat_interleave(torch.arange(n, device=batch.device), sizes)
    first = torch.repeat_interleave(ptr[b_sorted], sizes)
    offset = torch.arange(dst_sorted.numel(), device=batch.device) - torch.repeat_interleave(
        torch.cumsum(sizes, 0) - sizes, sizes)
    src_sorted = first + offset
    src, dst = order[src_sorted], order[dst_sorted]
    if not loop:
        keep = src != dst
        src, dst = src[keep], dst[keep]
    return torch.stack([src, dst])


def build_edges(pos: Tensor, batch: Tensor, radius: float | None, cell: Tensor | None
                ) -> tuple[Tensor, Tensor]:
    """Edges with self-loops and their relative positions ``x_src - x_dst (+ periodic shift)``.

    A cutoff that leaves a node without any other neighbour gives a warning (its features then
    only see itself).
    """
    if radius is None:
        edge_index = fully_connected_edges(batch)
        src, dst = edge_index
        return edge_index, pos[src] - pos[dst]
    if cell is None:
        edge_index = radius_graph(pos, radius, batch, loop=True)
        shift = None
    else:
        edge_index, shift = radius_graph(pos, radius, batch, cell=cell, loop=True)
    src, dst = edge_index
    rel = pos[src] - pos[dst]
    if shift is not None:
        rel = rel + shift
    others = torch.bincount(dst[(src != dst) | (rel.detach().abs().sum(-1) > 0)],
                            minlength=pos.size(0))
    if pos.size(0) > 1 and bool((others == 0).any()):
        lonely = int((others == 0).sum())
        warnings.warn(f"radius {radius} leaves {lonely} of {pos.size(0)} nodes without "
                      f"neighbours; increase the radius", stacklevel=3)
    return edge_index, rel
