"""Bidirectional K-step diffusion convolution (DCRNN)."""

from __future__ import annotations

from collections.abc import Sequence

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
    node averages its neighbours. The ``1 + 2K`` terms are mixed by one linear map (``lin``, on
    their concatenation, as in the reference code), applied before the walks (see
    :meth:`forward`).

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
        x: Float[Tensor, "*batch n c_in"] | Sequence[Tensor],
        edge_index: Int[Tensor, "2 e"],
        edge_weight: Float[Tensor, " e"] | None = None,
        supports: list[tuple[Tensor, Tensor]] | None = None,
    ) -> Float[Tensor, "*batch n c_out"]:
        """Diffuse ``x`` K steps each way and mix the terms.

        Computed in the order that needs no (..., N, (1 + 2K) C_in) tensor of stacked terms:
        the input is first projected by all the term weights at once, ``Y_k = X Theta_k`` (one
        matrix product), and the walks then act on the projections, by Horner's rule
        ``P Y_1 + P^2 Y_2 = P (Y_1 + P Y_2)``. Since P acts on nodes and Theta on channels,
        this is the same map as diffusing first (equal to rounding).

        Args:
            x: Node features, node axis -2; or a sequence of such tensors whose channels add up
                to ``in_channels``: the map of their concatenation, without forming it (a
                recurrent cell's ``[x, h]``).
            edge_index: Source and target node of each edge.
            edge_weight: Non-negative weight per edge (ones when None).
            supports: ``diffusion_supports(edge_index, edge_weight, N, bidirectional)`` when the
                caller has them already (a recurrent model calls the layer every step on the
                same graph); computed here when None.
        """
        parts = [x] if isinstance(x, Tensor) else list(x)
        if not parts or any(not isinstance(p, Tensor) or p.dim() < 2 for p in parts):
            raise ValueError("x must be a tensor (..., N, C_in) or a sequence of them")
        widths = [p.shape[-1] for p in parts]
        if sum(widths) != self.in_channels or len({p.shape[:-1] for p in parts}) != 1:
            shapes = ", ".join(str(tuple(p.shape)) for p in parts)
            raise ValueError(f"x must have shape (..., N, {self.in_channels}), got {shapes}")
        n = parts[0].shape[-2]
        if supports is None:
            check_edge_index(edge_index, n, edge_weight)
            supports = diffusion_supports(edge_index, edge_weight, n, self.bidirectional)
        elif len(supports) != 1 + int(self.bidirectional):
            raise ValueError(f"supports must hold {1 + int(self.bidirectional)} operators "
                             f"(bidirectional={self.bidirectional}), got {len(supports)}")
        c_out, n_terms = self.out_channels, self.lin.in_features // self.in_channels
        # (C_in, n_terms * C_out): column block t is term t's weight, transposed
        w = self.lin.weight.view(c_out, n_terms, self.in_channels).permute(2, 1, 0)
        w = w.reshape(self.in_channels, n_terms * c_out)
        lead = parts[0].shape[:-1]
        y, start = None, 0
        for p, width in zip(parts, widths, strict=True):
            p2, w_p = p.reshape(-1, width), w[start:start + width]
            y = p2 @ w_p if y is None else torch.addmm(y, p2, w_p)  # accumulate in the GEMM
            start += width
        blocks = y.view(*lead, n_terms * c_out).split(c_out, dim=-1)
        out = blocks[0] if self.root_weight else None
        t = int(self.root_weight)
        for ei, ew in supports:
            ew = ew.to(y.dtype)
            acc = blocks[t + self.k - 1]
            for j in range(self.k - 2, -1, -1):
                acc = blocks[t + j] + propagate(acc, ei, ew)
            acc = propagate(acc, ei, ew)
            out = acc if out is None else out + acc
            t += self.k
        return out if self.lin.bias is None else out + self.lin.bias

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, k={self.k}, "
            f"bidirectional={self.bidirectional}, root_weight={self.root_weight})"
        )
