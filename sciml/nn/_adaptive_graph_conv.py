"""Node-adaptive graph convolution of AGCRN: per-node weights generated from node embeddings."""

from __future__ import annotations

import math

import torch
from jaxtyping import Float
from torch import Tensor, nn

from sciml.nn._dense_graph_conv import dense_propagate

__all__ = ["AdaptiveGraphConv"]


class AdaptiveGraphConv(nn.Module):
    r"""Graph convolution with node-adaptive parameters (NAPL) over Chebyshev supports.

    Bai, Yao, Li, Wang, Wang, *Adaptive Graph Convolutional Recurrent Network for Traffic
    Forecasting*, NeurIPS 2020, Eq. 4-6:

    .. math::
        x'_n = \sum_{k=0}^{K-1} \left(T_k(A^T) X\right)_n (E_n W_{pool,k}) + E_n b_{pool},

    with :math:`T_0 = I`, :math:`T_1 = A^T`, :math:`T_k = 2 A^T T_{k-1} - T_{k-2}` and ``E`` the
    (N, D) node embeddings: node n's weights are a combination of D shared weight pools.

    Args:
        in_channels: Input channels C_in.
        out_channels: Output channels C_out.
        embedding_size: Node embedding size D.
        cheb_k: Number of Chebyshev supports K (>= 1; 2 in the paper: I and A).

    Shapes:
        - x: (..., N, C_in); embedding: (N, D); adj: (N, N) as ``adj[src, dst]``
        - output: (..., N, C_out)
    """

    def __init__(
        self, in_channels: int, out_channels: int, embedding_size: int, cheb_k: int = 2
    ) -> None:
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("embedding_size", embedding_size), ("cheb_k", cheb_k)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.embedding_size, self.cheb_k = embedding_size, cheb_k
        self.weight_pool = nn.Parameter(torch.empty(embedding_size, cheb_k, in_channels,
                                                    out_channels))
        self.bias_pool = nn.Parameter(torch.empty(embedding_size, out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.cheb_k * self.in_channels)
        nn.init.uniform_(self.weight_pool, -bound, bound)
        nn.init.zeros_(self.bias_pool)

    def forward(
        self,
        x: Float[Tensor, "*batch n c_in"],
        embedding: Float[Tensor, "n d"],
        adj: Float[Tensor, "n n"],
    ) -> Float[Tensor, "*batch n c_out"]:
        """Chebyshev supports applied to ``x``, mixed with per-node weights ``E W_pool``."""
        if x.dim() < 2 or x.shape[-1] != self.in_channels:
            raise ValueError(
                f"x must have shape (..., N, {self.in_channels}), got {tuple(x.shape)}"
            )
        if embedding.shape != (x.shape[-2], self.embedding_size):
            raise ValueError(
                f"embedding must have shape (N, D) = ({x.shape[-2]}, {self.embedding_size}), "
                f"got {tuple(embedding.shape)}"
            )
        terms = [x]
        if self.cheb_k > 1:
            terms.append(dense_propagate(x, adj))
        for _ in range(2, self.cheb_k):
            terms.append(2 * dense_propagate(terms[-1], adj) - terms[-2])
        x_g = torch.stack(terms, dim=-2)  # (..., N, K, C_in)
        weights = torch.einsum("nd,dkio->nkio", embedding, self.weight_pool)
        bias = embedding @ self.bias_pool
        return torch.einsum("...nki,nkio->...no", x_g, weights) + bias

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
            f"embedding_size={self.embedding_size}, cheb_k={self.cheb_k})"
        )
