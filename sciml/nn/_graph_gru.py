"""GRU cells whose gates are graph convolutions (GCGRU, DCGRU, AGCRN cell)."""

from __future__ import annotations

from typing import Any

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

from sciml.nn._adaptive_graph_conv import AdaptiveGraphConv
from sciml.nn._diffusion_conv import DiffusionConv
from sciml.nn._graph_conv import GraphConv

__all__ = ["AbstractGraphGRUCell", "GCGRUCell", "DCGRUCell", "AGCRNCell"]


class AbstractGraphGRUCell(nn.Module):
    r"""GRU cell whose gates are graph convolutions :math:`\star_G`:

    .. math::
        r, u = \sigma([X, H] \star_G \Theta_{ru}), \quad
        C = \tanh([X, r \odot H] \star_G \Theta_C), \quad H' = u \odot H + (1 - u) \odot C.

    Subclasses build ``self.gates`` (C_in + H -> 2H) and ``self.candidate`` (C_in + H -> H) and
    say how a convolution is called with their graph arguments (:meth:`_conv`).

    Shapes:
        - x: (..., N, C_in); h: (..., N, H) or None (zeros)
        - output: the new state (..., N, H)
    """

    gates: nn.Module
    candidate: nn.Module

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.input_size, self.hidden_size = input_size, hidden_size

    def reset_parameters(self) -> None:
        self.gates.reset_parameters()
        self.candidate.reset_parameters()
        # Gates start biased towards keeping the state, as in the DCRNN reference code.
        bias = getattr(getattr(self.gates, "lin", None), "bias", None)
        if bias is not None:
            nn.init.constant_(bias, 1.0)

    def _conv(self, conv: nn.Module, z: Tensor, *graph: Any) -> Tensor:
        raise NotImplementedError

    def _step(self, x: Tensor, h: Tensor | None, *graph: Any) -> Tensor:
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"x must have shape (..., N, {self.input_size}), got {tuple(x.shape)}"
            )
        if h is None:
            h = x.new_zeros(*x.shape[:-1], self.hidden_size)
        r, u = torch.sigmoid(self._conv(self.gates, self._join(x, h), *graph)).chunk(2, -1)
        c = torch.tanh(self._conv(self.candidate, self._join(x, r * h), *graph))
        return torch.lerp(c, h, u)  # u h + (1 - u) c

    @staticmethod
    def _join(x: Tensor, h: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """The gates' input ``[x, h]`` (a subclass whose convolutions take input parts returns
        the pair and never forms the concatenation)."""
        return torch.cat([x, h], -1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"


class _EdgeGraphGRUCell(AbstractGraphGRUCell):
    def _conv(self, conv: nn.Module, z: Tensor, *graph: Tensor | None) -> Tensor:
        return conv(z, *graph)

    def forward(
        self,
        x: Float[Tensor, "*batch n c_in"],
        h: Float[Tensor, "*batch n h"] | None,
        edge_index: Int[Tensor, "2 e"],
        edge_weight: Float[Tensor, " e"] | None = None,
    ) -> Float[Tensor, "*batch n h"]:
        """One step: the new hidden state from input ``x`` and state ``h`` (zeros when None)."""
        return self._step(x, h, edge_index, edge_weight)


class GCGRUCell(_EdgeGraphGRUCell):
    """Graph-convolutional GRU: the gates are :class:`GraphConv` layers (weighted-sum aggregation
    plus a root weight), as in Seo et al., *Structured Sequence Modeling with Graph Convolutional
    Recurrent Networks*, ICONIP 2018 (GConvGRU) with a one-hop convolution.

    Args:
        input_size: Input channels C_in.
        hidden_size: State channels H.
        reduce: Neighbour aggregation of the :class:`GraphConv` gates.
    """

    def __init__(self, input_size: int, hidden_size: int, reduce: str = "mean") -> None:
        super().__init__(input_size, hidden_size)
        self.gates = GraphConv(input_size + hidden_size, 2 * hidden_size, reduce=reduce)
        self.candidate = GraphConv(input_size + hidden_size, hidden_size, reduce=reduce)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        nn.init.constant_(self.gates.lin_neighbors.bias, 1.0)


class DCGRUCell(_EdgeGraphGRUCell):
    """Diffusion-convolutional GRU of DCRNN (Li et al., ICLR 2018, Eq. 3): the gates are
    :class:`DiffusionConv` layers with K bidirectional random-walk steps.

    Args:
        input_size: Input channels C_in.
        hidden_size: State channels H.
        k: Diffusion steps per direction.
    """

    def __init__(self, input_size: int, hidden_size: int, k: int = 2) -> None:
        super().__init__(input_size, hidden_size)
        self.k = k
        self.gates = DiffusionConv(input_size + hidden_size, 2 * hidden_size, k=k)
        self.candidate = DiffusionConv(input_size + hidden_size, hidden_size, k=k)
        self.reset_parameters()

    def _conv(self, conv: nn.Module, z: Tensor | tuple[Tensor, Tensor], *graph: Any) -> Tensor:
        edge_index, edge_weight, supports = graph
        return conv(z, edge_index, edge_weight, supports=supports)

    @staticmethod
    def _join(x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        return x, h  # DiffusionConv maps the concatenation without forming it

    def forward(
        self,
        x: Float[Tensor, "*batch n c_in"],
        h: Float[Tensor, "*batch n h"] | None,
        edge_index: Int[Tensor, "2 e"],
        edge_weight: Float[Tensor, " e"] | None = None,
        supports: list[tuple[Tensor, Tensor]] | None = None,
    ) -> Float[Tensor, "*batch n h"]:
        """One step; ``supports`` (:func:`~sciml.nn.diffusion_supports` of the graph) may be
        passed by a caller that steps many times on one graph, else each gate computes them."""
        return self._step(x, h, edge_index, edge_weight, supports)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size}, k={self.k})"


class AGCRNCell(AbstractGraphGRUCell):
    """GRU cell of AGCRN (Bai et al., NeurIPS 2020, Eq. 7): the gates are
    :class:`AdaptiveGraphConv` layers (node-adaptive weights over a learned adjacency).

    Args:
        input_size: Input channels C_in.
        hidden_size: State channels H.
        embedding_size: Node embedding size D.
        cheb_k: Number of Chebyshev supports.
    """

    def __init__(
        self, input_size: int, hidden_size: int, embedding_size: int, cheb_k: int = 2
    ) -> None:
        super().__init__(input_size, hidden_size)
        self.gates = AdaptiveGraphConv(input_size + hidden_size, 2 * hidden_size,
                                       embedding_size, cheb_k)
        self.candidate = AdaptiveGraphConv(input_size + hidden_size, hidden_size,
                                           embedding_size, cheb_k)
        self.reset_parameters()

    def _conv(self, conv: nn.Module, z: Tensor, *graph: Tensor | None) -> Tensor:
        return conv(z, *graph)

    def forward(
        self,
        x: Float[Tensor, "*batch n c_in"],
        h: Float[Tensor, "*batch n h"] | None,
        embedding: Float[Tensor, "n d"],
        adj: Float[Tensor, "n n"],
    ) -> Float[Tensor, "*batch n h"]:
        """One step with node embeddings (N, D) and adjacency ``adj[src, dst]`` (N, N)."""
        return self._step(x, h, embedding, adj)
