"""Bidirectional K-step diffusion convolution (DCRNN)."""

from __future__ import annotations

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

from sciml.nn._graph import check_edge_index, normalize_adjacency, transpose
from sciml.nn._message_passing import propagate

__all__ = ["DiffusionConv", "diffusion_supports"]


def diffusion_supports(
    edge_index: Int[Tensor, "2 e"],
    edge_weight: Float[Tensor, " e"] | None,
    n_nodes: int,
    bidirectional: bool = True,
) -> list[tuple[Tensor, Tensor]]:
    """Random-walk transition operators of a graph as ``(edge_index, weight)`` pairs.

    Forward: every node takes the weighted mean of its in-neighbours (``D_in^-1 A^T``). Backward:
    the same on the reversed edges, the weighted mean of its out-neighbours (``D_out^-1 A``).
    Together they are the two random walks of Li et al. (ICLR 2018), Eq. 2.

    Returns:
        ``[(edge_index, w_forward)]`` plus ``(reversed edge_index, w_backward)`` if bidirectional.
    """
    fwd = normalize_adjacency(edge_index, edge_weight, n_nodes, kind="rw", degree_of="in")
    supports = [(edge_index, fwd)]
    if bidirectional:
        rev = transpose(edge_index)
        supports.append((rev, normalize_adjacency(rev, edge_weight, n_nodes, kind="rw")))
    return supports


class DiffusionConv(nn.Module):
    r"""Diffusion convolution: K random-walk steps along and against the edges.

    Li, Yu, Shahabi, Liu, *Diffusion Convolutional Recurrent Neural Network: Data-Driven Traffic
    Forecasting*, ICLR 2018, Eq. 2:

    .. math::
        X' = X \Theta_0 + \sum_{k=1}^{K} \left( P_f^k X \Theta_{k,f} + P_b^k X \Theta_{k,b} \right)
             + b,

    with the forward and backward random-walk transitions :math:`P_f = D_{in}^{-1} A^T`,
    :math:`P_b = D_{out}^{-1} A` (see :func:`diffusion_supports`). The DCRNN reference code
    multiplies with the transposed (column-normalised) matrices; we follow the paper, where each
    node averages its neighbours. The ``1 + 2K`` terms are concatenated and mixed by one linear
    map, as in the reference code.

    Args:
        in_channels: Input channels C_in.
        out_channels: Output channels C_out.
        k: Diffusion steps K per direction (>= 1).
        bidirectional: Use the backward walk too (set False for the forward walk only).
        root_weight: Include the k = 0 (identity) term.
        bias: Add a learned bias.

    Shapes:
        - x: (..., N, C_in), any leading batch/time dims
        - edge_index: (2, E); edge_weight: (E,) or None
        - output: (..., N, C_out)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        k: int = 2,
        bidirectional: bool = True,
        root_weight: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels), ("k", k)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.in_channels, self.out_channels, self.k = in_channels, out_channels, k
        self.bidirectional, self.root_weight = bidirectional, root_weight
        n_terms = int(root_weight) + k * (2 if bidirectional else 1)
        self.lin = nn.Linear(n_terms * in_channels, out_channels, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()

    def forward(
        self,
        x: Float[Tensor, "*batch n c_in"],
        edge_index: Int[Tensor, "2 e"],
        edge_weight: Float[Tensor, " e"] | None = None,
    ) -> Float[Tensor, "*batch n c_out"]:
        """Diffuse ``x`` K steps each way and mix the terms.

        Args:
            x: Node features, node axis -2.
            edge_index: Source and target node of each edge.
            edge_weight: Non-negative weight per edge (ones when None).
        """
        if x.dim() < 2 or x.shape[-1] != self.in_channels:
            raise ValueError(
                f"x must have shape (..., N, {self.in_channels}), got {tuple(x.shape)}"
            )
        n = x.shape[-2]
        check_edge_index(edge_index, n, edge_weight)
        terms = [x] if self.root_weight else []
        for ei, w in diffusion_supports(edge_index, edge_weight, n, self.bidirectional):
            h = x
            for _ in range(self.k):
                h = propagate(h, ei, w.to(x.dtype))
                terms.append(h)
        return self.lin(torch.cat(terms, dim=-1))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, k={self.k}, "
            f"bidirectional={self.bidirectional}, root_weight={self.root_weight})"
        )
