"""AGCRN: GRUs with node-adaptive graph convolutions over a learned graph."""

from __future__ import annotations

import dataclasses

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

from sciml.models.stgnn._base import AbstractForecaster
from sciml.nn import AGCRNCell, adaptive_adjacency
from sciml.registry import MODELS

__all__ = ["AGCRN", "AGCRNConfig"]


@dataclasses.dataclass(frozen=True)
class AGCRNConfig:
    """Args (paper defaults for PEMS04): hidden_size (64), n_layers (2), embedding_size of the
    node embeddings (10), cheb_k: Chebyshev supports (2)."""

    hidden_size: int = 64
    n_layers: int = 2
    embedding_size: int = 10
    cheb_k: int = 2

    def __post_init__(self) -> None:
        for key in ("hidden_size", "n_layers", "embedding_size", "cheb_k"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)!r}")


@MODELS.register("agcrn", AGCRNConfig)
class AGCRN(AbstractForecaster):
    r"""Adaptive Graph Convolutional Recurrent Network (Bai, Yao, Li, Wang, Wang, NeurIPS 2020).

    Node embeddings :math:`E \in \mathbb{R}^{N \times D}` give both the graph,
    :math:`A = \mathrm{softmax}(\mathrm{relu}(E E^T))` (Eq. 5), and every node's weights,
    :math:`W_n = E_n W_{pool}` (Eq. 4), inside stacked :class:`~sciml.nn.AGCRNCell` layers run
    over the window. The final state of the top layer is mapped to the H x F forecast per node (the
    paper's end convolution with a kernel spanning the state is this linear map). A given graph
    is ignored: the model learns its own. Because parameters belong to node identities, the model
    is permutation-equivariant only together with a permutation of E.

    Shapes:
        - x: (B, T, N, F), u: (B, T, N, C) or None -> (B, H, N, output_size)
    """

    graph_optional = True
    fixed_nodes = True

    def __init__(self, config: AGCRNConfig, *, n_nodes: int, input_size: int,
                 output_size: int, window: int, horizon: int, exog_size: int = 0) -> None:
        super().__init__(config, n_nodes=n_nodes, input_size=input_size, output_size=output_size,
                         window=window, horizon=horizon, exog_size=exog_size)
        c = config
        self.node_embedding = nn.Parameter(torch.empty(n_nodes, c.embedding_size))
        self.cells = nn.ModuleList(
            AGCRNCell(input_size + exog_size if i == 0 else c.hidden_size, c.hidden_size,
                      c.embedding_size, c.cheb_k)
            for i in range(c.n_layers)
        )
        self.readout = nn.Linear(c.hidden_size, horizon * output_size)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Xavier-uniform embeddings as the reference training script re-initialises them: small
        # enough that softmax(relu(E E^T)) starts far from saturation (plain randn, as in the
        # model's constructor there, trains several times slower).
        nn.init.xavier_uniform_(self.node_embedding)
        for cell in self.cells:
            cell.reset_parameters()
        self.readout.reset_parameters()

    def forward(
        self, x: Float[Tensor, "b t n f"], edge_index: Int[Tensor, "2 e"] | None = None,
        edge_weight: Float[Tensor, " e"] | None = None, u: Float[Tensor, "b t n c"] | None = None,
    ) -> Float[Tensor, "b h n f_out"]:
        """Run the AGCRN layers over the window and read the final state out."""
        z = self._check_inputs(x, edge_index, edge_weight, u)
        emb = self.node_embedding
        adj = adaptive_adjacency(emb, emb)
        seq = z
        for cell in self.cells:
            h = None
            states = []
            for t in range(seq.shape[1]):
                h = cell(seq[:, t], h, emb, adj)
                states.append(h)
            seq = torch.stack(states, dim=1)
        return self._to_output(self.readout(seq[:, -1]))
