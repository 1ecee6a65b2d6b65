"""Sparse (CSR) times dense matrix product, differentiable in the dense matrix and the values."""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

from ._checks import check_tensor
from ._gather_scatter import gather_scatter

__all__ = ["spmm"]


def spmm(csr: Tensor, x: Float[Tensor, "n ..."]) -> Float[Tensor, "m ..."]:
    """Product ``A @ x`` of a sparse CSR matrix ``A`` (M x N) and dense ``x`` (N, *C).

    ``out[i] = sum_{k in row i} A.values[k] * x[A.col[k]]``, computed by :func:`gather_scatter`
    (so the CPU path never forms the nnz x C products). Gradients flow to ``x`` and to the
    values of ``A`` (build ``A`` with ``torch.sparse_csr_tensor(crow, col, values)`` from a
    ``values`` that requires grad).

    Args:
        csr: A 2-D ``torch.sparse_csr_tensor`` of shape ``(M, N)``; values of ``x``'s dtype.
        x: Dense ``(N, *C)``.

    Returns:
        ``(M, *C)``.
    """
    if not isinstance(csr, Tensor) or csr.layout != torch.sparse_csr:
        layout = csr.layout if isinstance(csr, Tensor) else type(csr).__name__
        raise TypeError(f"csr must be a torch.sparse_csr_tensor, got {layout}")
    if csr.dim() != 2 or csr.values().dim() != 1:
        raise ValueError(f"csr must be a plain 2-D CSR matrix (no batch or dense dims), got "
                         f"shape {tuple(csr.shape)} with values of shape "
                         f"{tuple(csr.values().shape)}")
    check_tensor(x, "x", floating=True)
    m, n = csr.shape
    if x.dim() == 0 or x.size(0) != n:
        raise ValueError(f"x must have shape (N={n}, *C) to match csr of shape ({m}, {n}), "
                         f"got {tuple(x.shape)}")
    crow = csr.crow_indices().long()
    col = csr.col_indices().long()
    row = torch.repeat_interleave(torch.arange(m, device=crow.device), crow[1:] - crow[:-1],
                                  output_size=col.numel())
    values = csr.values()
    if values.dtype != x.dtype:
        raise TypeError(f"csr values have dtype {values.dtype} but x has {x.dtype}; they must "
                        f"match")
    return gather_scatter(x, torch.stack([col, row]), values, dim_size=m)
