"""Graph convolution with a root weight: a weighted aggregate of neighbours plus the node itself."""

from __future__ import annotations

from jaxtyping import Float, Int
from torch import Tensor, nn

from sciml.nn._graph import check_edge_index
from sciml.nn._message_passing import AbstractMessagePassing

__all__ = ["GraphConv"]


class GraphConv(AbstractMessagePassing):
    r"""Weighted neighbour aggregation plus a separate root (self) weight.

    Morris et al., *Weisfeiler and Leman Go Neural: Higher-order Graph Neural Networks*, AAAI 2019:

    .. math::
        x'_i = W_1 x_i + W_2 \bigoplus_{j \to i} e_{ji} x_j + b,

    with :math:`\bigoplus` the sum, mean or max over the in-neighbours.

    Args:
        in_channels: Input channels C_in.
        out_channels: Output channels C_out.
        reduce: ``"sum"`` (default), ``"mean"`` or ``"max"``.
        root_weight: Include the :math:`W_1 x_i` term.
        bias: Add a learned bias.

    Shapes:
        - x: (..., N, C_in); edge_index: (2, E); edge_weight: (E,) or None
        - output: (..., N, C_out)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        reduce: str = "sum",
        root_weight: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__(reduce=reduce)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.root_weight = root_weight
        self.lin_neighbors = nn.Linear(in_channels, out_channels, bias=bias)
        self.lin_root = nn.Linear(in_channels, out_channels, bias=False) if root_weight else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin_neighbors.reset_parameters()
        if self.lin_root is not None:
            self.lin_root.reset_parameters()

    def forward(
        self,
        x: Float[Tensor, "*batch n c_in"],
        edge_index: Int[Tensor, "2 e"],
        edge_weight: Float[Tensor, " e"] | None = None,
    ) -> Float[Tensor, "*batch n c_out"]:
        """Aggregate the neighbours and add the root term."""
        if x.dim() < 2 or x.shape[-1] != self.in_channels:
            raise ValueError(
                f"x must have shape (..., N, {self.in_channels}), got {tuple(x.shape)}"
            )
        check_edge_index(edge_index, x.shape[-2], edge_weight)
        w = None if edge_weight is None else edge_weight.to(x.dtype)
        out = self.lin_neighbors(self.propagate(x, edge_index, w))
        if self.lin_root is not None:
            out = out + self.lin_root(x)
        return out

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
            f"reduce={self.reduce!r}, root_weight={self.root_weight})"
        )
