"""Graph convolution with a dense (possibly learned) adjacency, and the adaptive adjacency of
Graph WaveNet / AGCRN."""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor, nn

__all__ = ["dense_propagate", "adaptive_adjacency", "DenseGraphConv"]


def dense_propagate(
    x: Float[Tensor, "*batch n c"], adj: Float[Tensor, "n n"]
) -> Float[Tensor, "*batch n c"]:
    """``out[..., dst, :] = sum_src adj[src, dst] x[..., src, :]`` (i.e. ``adj^T x``) by einsum.

    Args:
        x: Node features, node axis -2.
        adj: Dense adjacency ``adj[src, dst]`` (the orientation of ``edge_index``).
    """
    if adj.dim() != 2 or adj.shape[0] != adj.shape[1] or adj.shape[0] != x.shape[-2]:
        raise ValueError(
            f"adj must have shape (N, N) with N = {x.shape[-2]} nodes of x, got {tuple(adj.shape)}"
        )
    return torch.einsum("mn,...mc->...nc", adj, x)


def adaptive_adjacency(
    source_embedding: Float[Tensor, "n d"], target_embedding: Float[Tensor, "n d"]
) -> Float[Tensor, "n n"]:
    r"""Learned adjacency from node embeddings: ``softmax(relu(E_1 E_2^T))``.

    Wu et al., *Graph WaveNet for Deep Spatial-Temporal Graph Modeling*, IJCAI 2019, Eq. 5 (with
    ``E_1 = E_2`` it is the graph of Bai et al., AGCRN, NeurIPS 2020, Eq. 5). In our orientation
    ``adj[src, dst] = softmax_src(relu(<E_1[src], E_2[dst]>))``: the weights into each target sum
    to one, so :func:`dense_propagate` takes a convex combination of sources. (The paper writes
    the transposed matrix, rows = targets; it is the same family with the embeddings renamed.)

    Args:
        source_embedding: Embedding of each node as a source, (N, D).
        target_embedding: Embedding of each node as a target, (N, D).

    Returns:
        Adjacency (N, N), columns summing to one.
    """
    logits = torch.relu(source_embedding @ target_embedding.T)
    return torch.softmax(logits, dim=0)


class DenseGraphConv(nn.Module):
    r"""K-hop graph convolution with a dense adjacency given at call time.

    .. math::
        X' = \sum_{k=0}^{K} (A^T)^k X \Theta_k + b

    (the adaptive-adjacency term of Graph WaveNet, Wu et al., IJCAI 2019, Eq. 7, when ``A`` is
    :func:`adaptive_adjacency`). The k = 0 term is dropped when ``root_weight`` is False.

    Args:
        in_channels: Input channels C_in.
        out_channels: Output channels C_out.
        k: Number of hops K (>= 1).
        root_weight: Include the k = 0 (identity) term.
        bias: Add a learned bias.

    Shapes:
        - x: (..., N, C_in); adj: (N, N) as ``adj[src, dst]``
        - output: (..., N, C_out)
    """

    def __init__(
        self, in_channels: int, out_channels: int, k: int = 1, root_weight: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels), ("k", k)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.in_channels, self.out_channels, self.k, self.root_weight = (
            in_channels, out_channels, k, root_weight)
        self.lin = nn.Linear((k + int(root_weight)) * in_channels, out_channels, bias=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin.reset_parameters()

    def forward(
        self, x: Float[Tensor, "*batch n c_in"], adj: Float[Tensor, "n n"]
    ) -> Float[Tensor, "*batch n c_out"]:
        """Propagate ``x`` K hops over ``adj`` and mix the terms."""
        if x.dim() < 2 or x.shape[-1] != self.in_channels:
            raise ValueError(
                f"x must have shape (..., N, {self.in_channels}), got {tuple(x.shape)}"
            )
        terms = [x] if self.root_weight else []
        h = x
        for _ in range(self.k):
            h = dense_propagate(h, adj)
            terms.append(h)
        return self.lin(torch.cat(terms, dim=-1))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, k={self.k}, "
            f"root_weight={self.root_weight})"
        )
