"""Fused gather-message-scatter: ``out[dst] (+)= w_e * x[src]`` without storing E x C messages."""

from __future__ import annotations

import torch
from jaxtyping import Float, Int
from torch import Tensor

from ._checks import check_index, check_reduce, check_tensor
from ._scatter import scatter

__all__ = ["gather_scatter"]

_REDUCES = ("sum", "mean", "max", "min")
_NUMBA_DTYPES = (torch.float32, torch.float64)
# Below this many multiply-adds a parallel launch costs more than it saves.
_SERIAL_BELOW = 1 << 18


def _use_numba(x: Tensor) -> bool:
    return x.device.type == "cpu" and x.dtype in _NUMBA_DTYPES


def _gs_sum_raw(x: Tensor, w: Tensor | None, src: Tensor, dst: Tensor, n_out: int) -> Tensor:
    """Forward kernel, no autograd: ``out[d] = sum_{e: dst_e = d} w_e * x[src_e]``."""
    out = x.new_zeros((n_out, x.size(1)))
    if src.numel() == 0 or x.size(1) == 0:
        return out
    if _use_numba(x):
        from ._numba_csr import csr_from_keys, csr_gather_sum
        from ._numba_runtime import numba_threads

        ptr, perm = csr_from_keys(dst.numpy(), n_out)
        wn = None if w is None else w.detach().contiguous().numpy()
        args = (ptr, perm, src.numpy(), wn, x.detach().contiguous().numpy(), out.numpy())
        with numba_threads(serial=src.numel() * x.size(1) < _SERIAL_BELOW):
            csr_gather_sum(*args)
        return out
    if x.is_cuda:
        from ._triton import triton_available, triton_gather_scatter

        if triton_available(x):
            return triton_gather_scatter(x, w, src, dst, n_out)
    msg = x.index_select(0, src)
    if w is not None:
        msg = msg * (w.unsqueeze(-1) if w.dim() == 1 else w)
    return out.index_add_(0, dst, msg)


def _edge_product_raw(a: Tensor, b: Tensor, ia: Tensor, ib: Tensor) -> Tensor:
    """``out[e] = a[ia_e] * b[ib_e]`` per channel, no autograd: one fused numba pass on CPU
    (``index_select`` twice and a product are several times slower there)."""
    if not (_use_numba(a) and a.dtype == b.dtype):
        return a.index_select(0, ia) * b.index_select(0, ib)
    from ._numba_csr import edge_product
    from ._numba_runtime import numba_threads

    out = a.new_empty((ia.numel(), a.size(1)))
    if ia.numel() == 0:
        return out
    with numba_threads(serial=ia.numel() * a.size(1) < _SERIAL_BELOW):
        edge_product(a.detach().contiguous().numpy(), b.detach().contiguous().numpy(),
                     ia.contiguous().numpy(), ib.contiguous().numpy(), out.numpy())
    return out


def _edge_dot_raw(a: Tensor, b: Tensor, ia: Tensor, ib: Tensor) -> Tensor:
    """``out[e] = <a[ia_e], b[ib_e]>``, no autograd."""
    if ia.numel() == 0:
        return a.new_zeros(0)
    if _use_numba(a):
        from ._numba_csr import edge_dot
        from ._numba_runtime import numba_threads

        with numba_threads():
            res = edge_dot(a.detach().contiguous().numpy(), b.detach().contiguous().numpy(),
                           ia.numpy(), ib.numpy())
        return torch.from_numpy(res)
    return (a.index_select(0, ia) * b.index_select(0, ib)).sum(-1)


class _GatherScatterSum(torch.autograd.Function):
    """Differentiable fused sum; backward for x is the same kernel on the reversed edges."""

    @staticmethod
    def forward(ctx, x, w, src, dst, n_out):  # noqa: D102
        ctx.save_for_backward(x, w, src, dst)
        ctx.n_in = x.size(0)
        return _gs_sum_raw(x, w, src, dst, n_out)

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        x, w, src, dst = ctx.saved_tensors
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = _GatherScatterSum.apply(grad, w, dst, src, ctx.n_in)
        if w is not None and ctx.needs_input_grad[1]:
            if w.dim() == 1:
                grad_w = _EdgeDot.apply(grad, x, dst, src)
            else:
                grad_w = _EdgeProduct.apply(grad, x, dst, src)
        return grad_x, grad_w, None, None, None


class _EdgeProduct(torch.autograd.Function):
    """``out[e] = a[ia_e] * b[ib_e]`` per channel (the gradient of a per-edge-per-channel
    weight); its backward is two fused gather-scatters, so the double backward never forms more
    ``E x C`` tensors than the output itself."""

    @staticmethod
    def forward(ctx, a, b, ia, ib):  # noqa: D102
        ctx.save_for_backward(a, b, ia, ib)
        return _edge_product_raw(a, b, ia, ib)

    @staticmethod
    def backward(ctx, grad):  # noqa: D102
        a, b, ia, ib = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = _GatherScatterSum.apply(b, grad, ib, ia, a.size(0))
        if ctx.needs_input_grad[1]:
            grad_b = _GatherScatterSum.apply(a, grad, ia, ib, b.size(0))
        return grad_a, grad_b, None, None


class _EdgeDot(_EdgeProduct):
    """``out[e] = <a[ia_e], b[ib_e]>`` (the gradient of a scalar edge weight); the backward is
    :class:`_EdgeProduct`'s, the same two fused gather-scatters with a scalar weight."""

    @staticmethod
    def forward(ctx, a, b, ia, ib):  # noqa: D102
        ctx.save_for_backward(a, b, ia, ib)
        return _edge_dot_raw(a, b, ia, ib)


def _check_weight(weight: object, x: Tensor, n_edges: int) -> Tensor | None:
    """Flatten ``weight`` to ``(E,)`` or ``(E, C)`` matching ``x`` flattened to ``(N, C)``."""
    if weight is None:
        return None
    check_tensor(weight, "weight", floating=True)
    if weight.dtype != x.dtype:
        raise TypeError(f"weight has dtype {weight.dtype} but x has {x.dtype}; they must match")
    if weight.device != x.device:
        raise ValueError(f"weight is on {weight.device} but x is on {x.device}")
    feat = tuple(x.shape[1:])
    shape = tuple(weight.shape)
    if shape[:1] != (n_edges,):
        raise ValueError(f"weight must have one row per edge (E={n_edges}), got shape {shape}")
    if weight.dim() == 1:
        return weight
    if shape[1:] == (1,):
        return weight.reshape(n_edges)
    c = 1
    for f in feat:
        c *= f
    if shape[1:] == feat or shape[1:] == (c,):
        return weight.reshape(n_edges, c)
    raise ValueError(f"weight must have shape (E,), (E, 1) or (E, *x.shape[1:])=(E, "
                     f"{', '.join(map(str, feat))}), got {shape}")


def gather_scatter(
    x: Float[Tensor, "n ..."],
    edge_index: Int[Tensor, "2 e"],
    weight: Float[Tensor, "e ..."] | None = None,
    dim_size: int | None = None,
    reduce: str = "sum",
) -> Float[Tensor, "m ..."]:
    """Message passing in one kernel: ``out[i] = R_{e=(j->i)} w_e * x[j]``.

    The fused gather-message-scatter of graph networks (Gilmer et al., ICML 2017), with the
    message a per-edge (or per-edge-per-channel) scaling of the source features. On CPU the sum
    and mean run as a CSR kernel (counting sort by destination, rows in parallel) that never
    forms the ``E x C`` message tensor; the gradient for ``x`` is the same kernel on the
    reversed edges and the gradient of a weight is ``<grad_out[dst_e], x[src_e]>`` (scalar) or
    ``grad_out[dst_e] * x[src_e]`` (per channel, one fused pass). Their own gradients are again
    these kernels, so every order of derivative (forces from energies, then their training
    gradient) runs on them.

    Args:
        x: Source node features ``(N, *C)``.
        edge_index: ``(2, E)`` rows ``[src; dst]``.
        weight: ``None``, ``(E,)`` (scalar per edge) or ``(E, *C)`` (per edge per channel).
        dim_size: Number of output nodes; default ``N``.
        reduce: ``"sum"``, ``"mean"``, ``"max"`` or ``"min"``; nodes without in-edges get 0.

    Returns:
        ``(dim_size, *C)``.
    """
    reduce = check_reduce(reduce, _REDUCES)
    check_tensor(x, "x", floating=True)
    if x.dim() == 0:
        raise ValueError("x must have shape (N, *C), got a 0-d tensor")
    n_in = x.size(0)
    if dim_size is None:
        n_out = n_in
    elif isinstance(dim_size, bool) or not isinstance(dim_size, int) or dim_size < 0:
        raise ValueError(f"dim_size must be a non-negative int or None, got {dim_size!r}")
    else:
        n_out = dim_size
    if isinstance(edge_index, Tensor) and (edge_index.dim() != 2 or edge_index.size(0) != 2):
        raise ValueError(f"edge_index must have shape (2, E), got {tuple(edge_index.shape)}")
    ei = check_index(edge_index, "edge_index", ndim=2)
    if ei.device != x.device:
        raise ValueError(f"edge_index is on {ei.device} but x is on {x.device}")
    src, dst = ei[0].contiguous(), ei[1].contiguous()
    if src.numel() > 0:
        if int(src.max()) >= n_in:
            raise ValueError(f"edge_index source entry {int(src.max())} out of range for "
                             f"x with {n_in} nodes")
        if int(dst.max()) >= n_out:
            raise ValueError(f"edge_index target entry {int(dst.max())} out of range for "
                             f"dim_size={n_out}")
    feat = tuple(x.shape[1:])
    n_chan = 1
    for f in feat:
        n_chan *= f
    x2 = x.reshape(n_in, n_chan)
    w = _check_weight(weight, x, src.numel())
    if reduce in ("sum", "mean"):
        out = _GatherScatterSum.apply(x2, w, src, dst, n_out)
        if reduce == "mean":
            deg = torch.bincount(dst, minlength=n_out).clamp(min=1).to(x.dtype)
            out = out / deg.unsqueeze(-1)
    else:
        msg = x2.index_select(0, src)
        if w is not None:
            msg = msg * (w.unsqueeze(-1) if w.dim() == 1 else w)
        out = scatter(msg, dst, 0, n_out, reduce)
    return out.reshape((n_out, *feat))
