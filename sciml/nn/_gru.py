"""A GRU over a whole sequence as one autograd node: few passes over memory per step on CPU."""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor
from torch.autograd.function import once_differentiable

from sciml.kernels import gru_step_backward

__all__ = ["gru_sequence", "gru_layers"]

class _GRUSequence(torch.autograd.Function):
    """Forward: per step three ``addmm`` (input projection, hidden projection of r, z and of n)
    and four elementwise torch operations. Backward: per step one elementwise pass (numba on
    CPU) and ``addmm`` calls that accumulate the weight gradients.

    Memory is the cost that matters on CPU: a tensor freshly allocated at this size (MBs) is
    mapped from the system and paid for by a page fault per 4 kB on first write, which costs
    as much as the arithmetic. So the step's temporaries (the input projection, the r, z part
    of the hidden projection, the gate gradients) live in buffers reused from step to step, and
    only what the backward pass needs is kept per step: the input state, the gates r, z, the
    candidate n and the hidden projection of n (7 H numbers per row and step)."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, all_states):  # noqa: D102
        m_dim, h_dim = h0.shape
        w_ih_t, w_hh_t = w_ih.t(), w_hh.t()
        w_rz, w_n = w_hh_t[:, : 2 * h_dim], w_hh_t[:, 2 * h_dim:]
        b_rz, b_n = b_hh[: 2 * h_dim], b_hh[2 * h_dim:]
        gi = h0.new_empty(m_dim, 3 * h_dim)
        gh_rz = h0.new_empty(m_dim, 2 * h_dim)
        h = h0
        saved, states = [], []
        for t in range(x.shape[0]):
            torch.addmm(b_ih, x[t], w_ih_t, out=gi)
            torch.addmm(b_rz, h, w_rz, out=gh_rz)
            gh_n = torch.addmm(b_n, h, w_n)
            rz = torch.add(gi[:, : 2 * h_dim], gh_rz).sigmoid_()
            n = torch.addcmul(gi[:, 2 * h_dim:], rz[:, :h_dim], gh_n).tanh_()
            saved.append((h, rz, n, gh_n))
            h = torch.lerp(n, h, rz[:, h_dim:])  # (1 - z) n + z h
            states.append(h)
        ctx.saved = saved
        ctx.save_for_backward(x, w_ih, w_hh)
        ctx.all_states = all_states
        return torch.stack(states) if all_states else h

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):  # noqa: D102
        x, w_ih, w_hh = ctx.saved_tensors
        saved = ctx.saved
        t_dim = x.shape[0]
        h_dim = w_hh.shape[1]
        grad_w_ih, grad_w_hh = torch.zeros_like(w_ih), torch.zeros_like(w_hh)
        grad_b_ih = w_ih.new_zeros(3 * h_dim)
        grad_b_hh = w_hh.new_zeros(3 * h_dim)
        grad_x = [None] * t_dim
        dh = (grad_out[t_dim - 1] if ctx.all_states else grad_out).clone(
            memory_format=torch.contiguous_format)
        dgi = dh.new_empty(dh.shape[0], 3 * h_dim)
        dgh = torch.empty_like(dgi)
        dh_direct = torch.empty_like(dh)
        for t in range(t_dim - 1, -1, -1):
            h_prev, rz, n, gh_n = saved[t]
            gru_step_backward(dh, h_prev.contiguous(), rz, n, gh_n, dgi, dgh, dh_direct)
            grad_w_hh.addmm_(dgh.t(), h_prev)
            grad_w_ih.addmm_(dgi.t(), x[t])
            grad_b_hh += dgh.sum(0)
            grad_b_ih += dgi.sum(0)
            if ctx.needs_input_grad[0]:
                grad_x[t] = dgi @ w_ih
            torch.addmm(dh_direct, dgh, w_hh, out=dh)  # the kernel is done with dh
            if ctx.all_states and t > 0:
                dh += grad_out[t - 1]
        dx = torch.stack(grad_x) if ctx.needs_input_grad[0] else None
        return dx, dh, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh, None


def gru_sequence(
    x: Float[Tensor, "t m f"], h0: Float[Tensor, "m h"], w_ih: Float[Tensor, "three_h f"],
    w_hh: Float[Tensor, "three_h h"], b_ih: Float[Tensor, " three_h"],
    b_hh: Float[Tensor, " three_h"], *, all_states: bool = True,
) -> Float[Tensor, "t m h"] | Float[Tensor, "m h"]:
    r"""One GRU layer over a time-major sequence, as one autograd node.

    The GRU of Cho et al. (2014) with torch's gate order and conventions (``torch.nn.GRU``):

    .. math::
        r, z = \sigma(W_{i,rz} x + b_{i,rz} + W_{h,rz} h + b_{h,rz}), \quad
        n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})), \quad
        h' = (1 - z) \odot n + z \odot h.

    The recurrence is one autograd node: the backward pass runs each step's elementwise
    gradient as one pass (a numba kernel on CPU) and accumulates the weight gradients with
    ``addmm``, instead of replaying the dozen recorded operations of each step. Same values and
    gradients as ``torch.nn.GRU`` (tested to float64 rounding); not twice differentiable.

    Args:
        x: Inputs (T, M, F). h0: initial state (M, H).
        w_ih, w_hh, b_ih, b_hh: The layer's weights as ``nn.GRU`` holds them ((3H, F), (3H, H),
            (3H,), (3H,)), gates in the order r, z, n.
        all_states: Return every step's state (T, M, H); else only the last (M, H).
    """
    if x.dim() != 3 or w_ih.shape != (3 * w_hh.shape[1], x.shape[-1]) \
            or w_hh.shape[0] != w_ih.shape[0]:
        raise ValueError(f"x must be (T, M, F) with w_ih (3H, F) and w_hh (3H, H), got x "
                         f"{tuple(x.shape)}, w_ih {tuple(w_ih.shape)}, w_hh {tuple(w_hh.shape)}")
    if h0.shape != (x.shape[1], w_hh.shape[1]):
        raise ValueError(f"h0 must be (M, H) = {(x.shape[1], w_hh.shape[1])}, "
                         f"got {tuple(h0.shape)}")
    if x.shape[0] == 0:
        return x.new_empty(0, x.shape[1], w_hh.shape[1]) if all_states else h0
    return _GRUSequence.apply(x.contiguous(), h0.contiguous(), w_ih, w_hh, b_ih, b_hh,
                              all_states)


def gru_layers(
    seq: Float[Tensor, "t m f"], weights: list[list[Tensor]], *, dropout: float = 0.0,
    training: bool = False, h0: Float[Tensor, "l m h"] | None = None,
) -> Float[Tensor, "l m h"]:
    """Final state of each layer of a stacked GRU over a time-major sequence.

    ``weights`` holds ``[w_ih, w_hh, b_ih, b_hh]`` per layer, as ``torch.nn.GRU.all_weights``;
    dropout (in training) acts on each layer's outputs before the next layer, as ``nn.GRU``.
    On CPU each layer is :func:`gru_sequence`; elsewhere ``torch.gru`` (cuDNN on GPUs) with the
    same weights.

    Returns:
        ``h_n`` as ``nn.GRU`` returns it, (layers, M, H).
    """
    t_dim, m_dim, _ = seq.shape
    h_dim = weights[0][1].shape[1]
    if h0 is None:
        h0 = seq.new_zeros(len(weights), m_dim, h_dim)
    if seq.device.type != "cpu":
        _, h = torch.gru(seq, h0, [w for layer in weights for w in layer], True, len(weights),
                         dropout, training, False, False)
        return h
    finals = []
    x = seq
    for i, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
        if i > 0 and dropout > 0 and training:
            x = torch.nn.functional.dropout(x, dropout, training=True)
        last = i == len(weights) - 1
        x = gru_sequence(x, h0[i], w_ih, w_hh, b_ih, b_hh, all_states=not last)
        finals.append(x if last else x[-1])
    return torch.stack(finals)
