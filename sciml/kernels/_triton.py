"""Triton GPU kernel for the fused gather-scatter sum (imported only when CUDA tensors arrive).

One program handles a block of edges x a block of channels: it gathers ``x[src]``, scales by
the weight and atomically adds into ``out[dst]``, so the ``E x C`` messages never reach memory.
Runs on the CPU under ``TRITON_INTERPRET=1`` (how the tests check it without a GPU).
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

try:  # Triton is an optional (dev) dependency
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - depends on the install
    triton = None

__all__ = ["triton_available", "triton_gather_scatter"]


def triton_available(x: Tensor) -> bool:
    """Whether the Triton kernel can run on ``x`` (CUDA, or any tensor in interpreter mode)."""
    if triton is None or x.dtype not in (torch.float16, torch.bfloat16, torch.float32,
                                         torch.float64):
        return False
    return x.is_cuda or os.environ.get("TRITON_INTERPRET") == "1"


if triton is not None:

    @triton.jit
    def _gs_kernel(x_ptr, w_ptr, src_ptr, dst_ptr, out_ptr, n_edges, n_chan,
                   W_MODE: tl.constexpr, BLOCK_E: tl.constexpr, BLOCK_C: tl.constexpr):
        e = tl.program_id(0) * BLOCK_E + tl.arange(0, BLOCK_E)
        c = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
        me = e < n_edges
        m = me[:, None] & (c < n_chan)[None, :]
        s = tl.load(src_ptr + e, mask=me, other=0)
        d = tl.load(dst_ptr + e, mask=me, other=0)
        v = tl.load(x_ptr + s[:, None] * n_chan + c[None, :], mask=m, other=0.0)
        if W_MODE == 1:
            v = v * tl.load(w_ptr + e, mask=me, other=0.0)[:, None]
        if W_MODE == 2:
            v = v * tl.load(w_ptr + e[:, None] * n_chan + c[None, :], mask=m, other=0.0)
        tl.atomic_add(out_ptr + d[:, None] * n_chan + c[None, :], v, mask=m)


def triton_gather_scatter(x: Tensor, w: Tensor | None, src: Tensor, dst: Tensor,
                          n_out: int) -> Tensor:
    """``out[d] = sum_{e: dst_e = d} w_e * x[src_e]`` with ``x`` ``(N, C)``, ``w`` None/(E,)/(E, C).

    Summation order follows the atomics, so float results may differ in the last bits run to run.
    """
    if triton is None:  # pragma: no cover
        raise ImportError("the Triton path needs `triton` (pip install 'sciml[dev]')")
    x = x.contiguous()
    n_edges, n_chan = src.numel(), x.size(1)
    out = torch.zeros((n_out, n_chan), dtype=x.dtype, device=x.device)
    if n_edges == 0 or n_chan == 0:
        return out
    mode = 0 if w is None else (1 if w.dim() == 1 else 2)
    w_arg = x if w is None else w.contiguous()
    block_c = min(128, triton.next_power_of_2(n_chan))
    block_e = max(1, 4096 // block_c)
    grid = (triton.cdiv(n_edges, block_e), triton.cdiv(n_chan, block_c))
    _gs_kernel[grid](x, w_arg, src.contiguous(), dst.contiguous(), out, n_edges, n_chan,
                     W_MODE=mode, BLOCK_E=block_e, BLOCK_C=block_c)
    return out
