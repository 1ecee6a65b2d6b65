"""Scatter and segment reductions (sum / mean / max / min) and the segment-wise softmax."""

from __future__ import annotations

import torch
from jaxtyping import Float, Int
from torch import Tensor

from ._checks import check_dim, check_index, check_reduce, check_tensor, infer_size

__all__ = ["scatter", "scatter_softmax", "segment"]

_REDUCES = ("sum", "mean", "max", "min")


def _prepare(src: Tensor, index: Tensor, dim: int, dim_size: int | None) -> tuple[Tensor, int, int]:
    """Check ``src``/``index``/``dim``/``dim_size``; return (int64 index, dim, size)."""
    check_tensor(src, "src")
    dim = check_dim(dim, src.dim())
    if src.dim() == 0:
        raise ValueError("src must have at least one dimension, got a 0-d tensor")
    if isinstance(index, Tensor) and index.dim() == src.dim() and src.dim() > 1:
        # A full-shape index (torch.scatter style) is allowed if it broadcasts along `dim` only.
        if index.shape != src.shape:
            raise ValueError(f"index of shape {tuple(index.shape)} must be 1-D of length "
                             f"src.size(dim)={src.size(dim)} or have src's shape "
                             f"{tuple(src.shape)}")
        idx = check_index(index, "index", ndim=src.dim())
    else:
        idx = check_index(index, "index", size=src.size(dim))
    size = infer_size(idx, dim_size)
    if dim_size is not None and idx.numel() > 0 and int(idx.max()) >= size:
        raise ValueError(f"index has an entry {int(idx.max())} out of range for "
                         f"dim_size={size}")
    if idx.device != src.device:
        raise ValueError(f"index is on {idx.device} but src is on {src.device}")
    return idx, dim, size


def _expand(idx: Tensor, src: Tensor, dim: int) -> Tensor:
    """Broadcast a 1-D index along ``dim`` to ``src``'s shape (a view, no copy)."""
    if idx.dim() == src.dim():
        return idx
    shape = [1] * src.dim()
    shape[dim] = -1
    return idx.view(shape).expand_as(src)


def _count(idx: Tensor, dim: int, size: int, src: Tensor) -> Tensor:
    """Number of entries per output slot, shaped to broadcast against the output."""
    if idx.dim() == 1:
        cnt = torch.bincount(idx, minlength=size).to(src.dtype)
        shape = [1] * src.dim()
        shape[dim] = size
        return cnt.view(shape)
    out_shape = list(src.shape)
    out_shape[dim] = size
    ones = torch.ones_like(src)
    return src.new_zeros(out_shape).scatter_add_(dim, idx, ones)


def scatter(
    src: Float[Tensor, "..."],
    index: Int[Tensor, "..."],
    dim: int = 0,
    dim_size: int | None = None,
    reduce: str = "sum",
) -> Float[Tensor, "..."]:
    """Reduce the slices of ``src`` along ``dim`` that share an index.

    ``out[i] = R_{j: index[j] = i} src[j]`` for the reduction ``R``.

    Empty output slots are 0 for every reduction. ``max``/``min`` gradients go to the
    arg-extreme entries (ties share it), as ``torch.Tensor.scatter_reduce(include_self=False)``.

    Args:
        src: Values, any shape; reduced along ``dim``.
        index: Output slot of each slice, shape ``(src.size(dim),)``, or ``src``'s full shape.
        dim: The dimension to reduce along.
        dim_size: Size of ``dim`` in the output; default ``index.max() + 1``.
        reduce: One of ``"sum"``, ``"mean"``, ``"max"``, ``"min"``.

    Returns:
        ``src``'s shape with ``dim`` of size ``dim_size``.
    """
    reduce = check_reduce(reduce, _REDUCES)
    idx, dim, size = _prepare(src, index, dim, dim_size)
    out_shape = list(src.shape)
    out_shape[dim] = size
    if reduce == "mean" and not (src.is_floating_point() or src.is_complex()):
        raise TypeError(f"reduce='mean' needs a floating src, got {src.dtype}")
    if reduce in ("sum", "mean"):
        if idx.dim() == 1:
            out = src.new_zeros(out_shape).index_add(dim, idx, src)
        else:
            out = src.new_zeros(out_shape).scatter_add(dim, idx, src)
        if reduce == "mean":
            out = out / _count(idx, dim, size, src).clamp(min=1)
        return out
    red = "amax" if reduce == "max" else "amin"
    return src.new_zeros(out_shape).scatter_reduce(dim, _expand(idx, src, dim), src, red,
                                                   include_self=False)


def _gather(t: Tensor, idx: Tensor, dim: int, like: Tensor) -> Tensor:
    """Pick, for every entry of ``like``, the slot of ``t`` that its index points to."""
    if idx.dim() == 1:
        return t.index_select(dim, idx)
    return t.gather(dim, idx)


def scatter_softmax(
    src: Float[Tensor, "..."],
    index: Int[Tensor, "..."],
    dim: int = 0,
    dim_size: int | None = None,
) -> Float[Tensor, "..."]:
    """Softmax over the entries of ``src`` that share an index (e.g. attention over in-edges).

    ``out_j = exp(src_j - m_i) / sum_{index[k]=i} exp(src_k - m_i)`` with ``i = index[j]`` and
    ``m_i`` the segment maximum (subtracted for numerical stability; it cancels exactly).

    Args:
        src: Scores, any shape; normalised along ``dim`` within each segment.
        index: Segment of each slice, shape ``(src.size(dim),)`` or ``src``'s shape.
        dim: The dimension holding the segments.
        dim_size: Number of segments; default ``index.max() + 1``.

    Returns:
        Same shape as ``src``.
    """
    check_tensor(src, "src", floating=True)
    idx, dim, size = _prepare(src, index, dim, dim_size)
    # The shift cancels in the ratio, so it needs no gradient.
    m = scatter(src.detach(), idx, dim, size, "max")
    ex = (src - _gather(m, idx, dim, src)).exp()
    den = scatter(ex, idx, dim, size, "sum")
    return ex / _gather(den, idx, dim, src)


def segment(
    src: Float[Tensor, "e ..."],
    ptr: Int[Tensor, "s_plus_1"],  # noqa: F821 (jaxtyping dims)
    reduce: str = "sum",
) -> Float[Tensor, "s ..."]:
    """Reduce consecutive row ranges of ``src``: ``out[s] = R_{ptr[s] <= j < ptr[s+1]} src[j]``.

    CSR-style segments along dim 0; an empty segment gives 0.

    Args:
        src: Values ``(E, ...)`` grouped in consecutive segments.
        ptr: Offsets ``(S + 1,)``, non-decreasing, ``ptr[0] == 0`` and ``ptr[-1] == E``.
        reduce: One of ``"sum"``, ``"mean"``, ``"max"``, ``"min"``.

    Returns:
        ``(S, ...)``.
    """
    reduce = check_reduce(reduce, _REDUCES)
    check_tensor(src, "src")
    if src.dim() == 0:
        raise ValueError("src must have at least one dimension, got a 0-d tensor")
    p = check_index(ptr, "ptr")
    if p.numel() == 0:
        raise ValueError("ptr must have at least one entry (ptr[0] == 0)")
    if int(p[0]) != 0 or int(p[-1]) != src.size(0):
        raise ValueError(f"ptr must start at 0 and end at src.size(0)={src.size(0)}, got "
                         f"ptr[0]={int(p[0])}, ptr[-1]={int(p[-1])}")
    counts = p[1:] - p[:-1]
    if counts.numel() > 0 and int(counts.min()) < 0:
        raise ValueError("ptr must be non-decreasing")
    nseg = counts.numel()
    idx = torch.repeat_interleave(torch.arange(nseg, device=p.device), counts,
                                  output_size=src.size(0))
    return scatter(src, idx, 0, nseg, reduce)
