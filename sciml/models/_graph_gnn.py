"""A GNN that classifies whole graphs: message passing, then a read-out per graph.

``n_layers`` convolutions (``conv``: GCN, GraphSAGE or GAT from :mod:`sciml.nn`, ReLU after
each) turn node features into node states ``h_v``; the read-out pools the states of each graph
into one vector, and a two-layer MLP gives the class logits. Read-outs:

- ``mean``, ``sum``, ``max``: per-feature reductions over the graph's nodes
  (:func:`sciml.kernels.segment`);
- ``attention``: gated attention pooling (Ilse, Tomczak, Welling, ICML 2018),
  ``a_v = softmax_v(w^T (tanh(V h_v) ⊙ σ(U h_v)))``, ``Σ_v a_v h_v``;
- ``hopfield``: :class:`sciml.nn.HopfieldPooling` (Ramsauer et al., ICLR 2021): learned state
  patterns retrieve from the graph's node states as stored patterns,
  ``softmax(β Q K^T) V`` with ``K``, ``V`` projections of the nodes, masked to the graph;
- ``none``: no pooling, the MLP classifies every node (node-level sets such as ``sudoku``;
  ``forward`` returns ``(N, classes)``).

Every read-out is invariant to the order of a graph's nodes, and a graph's logits do not
depend on the other graphs of its batch (tests check both).

``forward(x, edge_index, graph_index)``: ``x`` ``(N, F)`` of all graphs of a batch,
``edge_index`` ``(2, E)`` with global node ids, ``graph_index`` ``(N,)`` non-decreasing graph
ids ``0 … B − 1`` → logits ``(B, classes)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sciml.kernels import scatter, scatter_softmax, segment
from sciml.models._base import AbstractModel
from sciml.nn import GATConv, GCNConv, HopfieldPooling, SAGEConv
from sciml.registry import MODELS

__all__ = ["GraphGNN", "GraphGNNConfig", "READOUTS"]

READOUTS = ("mean", "sum", "max", "attention", "hopfield", "none")
CONVS = ("gcn", "sage", "gat")


@dataclass(frozen=True)
class GraphGNNConfig:
    """``conv``: gcn | sage | gat; ``hidden``: units of every layer; ``n_layers``:
    convolutions; ``readout``: mean | sum | max | attention | hopfield | none (a class per
    node); ``dropout``: before the
    classifier; ``heads``: GAT heads (concatenated) and Hopfield heads; ``queries``: Hopfield
    state patterns; ``beta``: Hopfield inverse temperature (null: 1/√hidden)."""

    conv: str = "gcn"
    hidden: int = 32
    n_layers: int = 2
    readout: str = "mean"
    dropout: float = 0.0
    heads: int = 1
    queries: int = 1
    beta: float | None = None

    def __post_init__(self) -> None:
        if self.conv not in CONVS:
            raise ValueError(f"graph_gnn: conv must be one of {', '.join(CONVS)}, got "
                             f"{self.conv!r}")
        if self.readout not in READOUTS:
            raise ValueError(f"graph_gnn: readout must be one of {', '.join(READOUTS)}, got "
                             f"{self.readout!r}")
        for name in ("hidden", "n_layers", "heads", "queries"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"graph_gnn: {name} must be an integer >= 1, got {v!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"graph_gnn: dropout must be in [0, 1), got {self.dropout!r}")
        if self.beta is not None and not self.beta > 0:
            raise ValueError(f"graph_gnn: beta must be > 0 or null, got {self.beta!r}")
        if self.conv == "gat" and self.hidden % self.heads:
            raise ValueError(f"graph_gnn: with conv gat, hidden ({self.hidden}) must be a "
                             f"multiple of heads ({self.heads})")


class _GatedAttention(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.v, self.u, self.w = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, 1)

    def forward(self, h: Tensor, graph_index: Tensor, n_graphs: int) -> Tensor:
        score = self.w(torch.tanh(self.v(h)) * torch.sigmoid(self.u(h)))[:, 0]
        a = scatter_softmax(score, graph_index, dim_size=n_graphs)
        return scatter(a[:, None] * h, graph_index, dim_size=n_graphs)


@MODELS.register("graph_gnn", GraphGNNConfig, help="graph classification: GCN / GraphSAGE / GAT "
                 "layers and a read-out (mean, sum, max, attention, Hopfield pooling)")
class GraphGNN(AbstractModel):
    """Message passing and a per-graph read-out (see the module text)."""

    def __init__(self, config: GraphGNNConfig, in_channels: int, out_channels: int) -> None:
        super().__init__(config, in_channels=in_channels, out_channels=out_channels)
        d = config.hidden
        convs, c = [], in_channels
        for _ in range(config.n_layers):
            if config.conv == "gcn":
                convs.append(GCNConv(c, d))
            elif config.conv == "sage":
                convs.append(SAGEConv(c, d))
            else:
                convs.append(GATConv(c, d // config.heads, heads=config.heads))
            c = d
        self.convs = nn.ModuleList(convs)
        pooled = d
        if config.readout == "attention":
            self.pool: nn.Module | None = _GatedAttention(d)
        elif config.readout == "hopfield":
            self.pool = HopfieldPooling(d, queries=config.queries, heads=config.heads,
                                        beta=config.beta)
            pooled = d * config.queries
        else:
            self.pool = None
        self.classifier = nn.Sequential(nn.Linear(pooled, d), nn.ReLU(),
                                        nn.Dropout(config.dropout), nn.Linear(d, out_channels))

    def node_states(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """``h_v`` after the convolutions ``(N, hidden)``."""
        for conv in self.convs:
            x = F.relu(conv(x, edge_index))
        return x

    def readout(self, h: Tensor, graph_index: Tensor) -> Tensor:
        """One vector per graph ``(B, pooled)`` from node states and their graph ids."""
        n_graphs = int(graph_index[-1]) + 1 if graph_index.numel() else 0
        sizes = torch.bincount(graph_index, minlength=n_graphs)
        kind = self.config.readout
        if kind in ("mean", "sum", "max"):
            ptr = torch.cat([sizes.new_zeros(1), sizes.cumsum(0)])
            return segment(h, ptr, reduce=kind)
        if kind == "attention":
            return self.pool(h, graph_index, n_graphs)
        # hopfield: the nodes of each graph as a padded set, the padding masked
        nmax = int(sizes.max())
        start = torch.cat([sizes.new_zeros(1), sizes.cumsum(0)[:-1]])
        pos = torch.arange(h.shape[0], device=h.device) - start[graph_index]
        padded = h.new_zeros(n_graphs, nmax, h.shape[1])
        padded[graph_index, pos] = h
        mask = torch.arange(nmax, device=h.device)[None] >= sizes[:, None]
        return self.pool(padded, mask)

    @property
    def node_level(self) -> bool:
        """Whether the model classifies nodes (``readout: none``) rather than graphs."""
        return self.config.readout == "none"

    def forward(self, x: Tensor, edge_index: Tensor, graph_index: Tensor) -> Tensor:
        h = self.node_states(x, edge_index)
        if self.node_level:
            return self.classifier(h)
        return self.classifier(self.readout(h, graph_index))
