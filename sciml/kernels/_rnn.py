"""The GRU's elementwise backward step: one numba pass on CPU, torch operations elsewhere."""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

__all__ = ["gru_step_backward"]

_NUMBA_DTYPES = (torch.float32, torch.float64)


def gru_step_backward(
    dh: Float[Tensor, "m h"], h_prev: Float[Tensor, "m h"], rz: Float[Tensor, "m two_h"],
    n: Float[Tensor, "m h"], gh_n: Float[Tensor, "m h"], dgi: Float[Tensor, "m three_h"],
    dgh: Float[Tensor, "m three_h"], dh_direct: Float[Tensor, "m h"],
) -> None:
    """Gradients of one GRU step (gate order r, z, n, as ``torch.nn.GRU``), in place.

    From the gradient ``dh`` of the step's output state, its input state ``h_prev``, its gates
    ``rz = [r, z]``, candidate ``n`` and the candidate's hidden projection ``gh_n = W_hn h_prev
    + b_hn``, writes the gradients of the gate pre-activations on the input side (``dgi``) and
    on the hidden side (``dgh``; they differ in the n block by the factor r) and the part
    ``dh * z`` of ``h_prev``'s gradient that does not pass through the weights (``dh_direct``).
    On CPU (float32 / float64, contiguous) this is one numba pass over the (M, H) arrays.
    """
    if dh.device.type == "cpu" and dh.dtype in _NUMBA_DTYPES and all(
            t.is_contiguous() for t in (dh, h_prev, rz, n, gh_n, dgi, dgh, dh_direct)):
        from ._numba_rnn import gru_backward_step
        from ._numba_runtime import numba_threads

        with numba_threads(serial=dh.numel() < 1 << 16):
            gru_backward_step(dh.numpy(), h_prev.numpy(), rz.numpy(), n.numpy(), gh_n.numpy(),
                              dgi.numpy(), dgh.numpy(), dh_direct.numpy())
        return
    h_dim = dh.shape[1]
    r, z = rz[:, :h_dim], rz[:, h_dim:]
    dn = dh * (1 - z) * (1 - n * n)
    dr = dn * gh_n * r * (1 - r)
    dz = dh * (h_prev - n) * z * (1 - z)
    dgi.copy_(torch.cat([dr, dz, dn], 1))
    dgh.copy_(torch.cat([dr, dz, dn * r], 1))
    dh_direct.copy_(dh * z)
