"""Node-classification GNNs of the literature, as their papers set them up on Cora and CiteSeer.

- ``gcn`` (Kipf and Welling, ICLR 2017, Sec. 5): ``n_layers`` GCN convolutions (16 hidden units),
  ReLU, dropout 0.5 before each convolution.
- ``gat`` (Veličković et al., ICLR 2018, Sec. 3.3): 8 heads × 8 features concatenated with ELU,
  then one output head (averaged), dropout 0.6 on the inputs of each layer and on the attention
  coefficients.
- ``graphsage`` (Hamilton, Ying, Leskovec, NeurIPS 2017; the mean aggregator as a full-batch
  layer, as in PyG's examples): 2 SAGE layers, ReLU, dropout 0.5.

Each maps node features ``(N, F)`` (leading batch dimensions allowed) and a graph to class logits
``(N, classes)``; the node-classification job applies the softmax and the cross entropy.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn

from sciml.models._base import AbstractModel
from sciml.nn import GATConv, GCNConv, SAGEConv
from sciml.registry import MODELS

__all__ = ["GCN", "GCNConfig", "GAT", "GATConfig", "GraphSAGE", "GraphSAGEConfig"]


def _check(n_layers: int, dropout: float, name: str) -> None:
    if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 1:
        raise ValueError(f"{name}: n_layers must be an integer >= 1, got {n_layers!r}")
    if not 0 <= dropout < 1:
        raise ValueError(f"{name}: dropout must be in [0, 1), got {dropout!r}")


class _ConvStack(AbstractModel):
    """Dropout → convolution → activation, layer after layer (none after the last)."""

    convs: nn.ModuleList
    activation = staticmethod(F.relu)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        for i, conv in enumerate(self.convs):
            x = F.dropout(x, self.config.dropout, self.training)
            x = conv(x, edge_index)
            if i < len(self.convs) - 1:
                x = self.activation(x)
        return x


@dataclass(frozen=True)
class GCNConfig:
    """``hidden``: units of the hidden layers; ``n_layers``: convolutions; ``dropout``: before
    each convolution; ``cached``: keep the normalised graph (one fixed graph, transductive)."""

    hidden: int = 16
    n_layers: int = 2
    dropout: float = 0.5
    cached: bool = True

    def __post_init__(self) -> None:
        _check(self.n_layers, self.dropout, "gcn")


@MODELS.register("gcn", GCNConfig, help="node classification: graph convolutional network "
                 "(Kipf & Welling 2017)")
class GCN(_ConvStack):
    """Kipf and Welling's GCN (see the module text)."""

    def __init__(self, config: GCNConfig, in_channels: int, out_channels: int) -> None:
        super().__init__(config, in_channels=in_channels, out_channels=out_channels)
        sizes = [in_channels] + [config.hidden] * (config.n_layers - 1) + [out_channels]
        self.convs = nn.ModuleList(GCNConv(a, b, cached=config.cached)
                                   for a, b in zip(sizes[:-1], sizes[1:], strict=True))


@dataclass(frozen=True)
class GATConfig:
    """``hidden``: features per head; ``heads``: heads of the hidden layers; ``out_heads``: heads
    of the output layer (averaged); ``dropout``: on each layer's input and on the attention."""

    hidden: int = 8
    heads: int = 8
    out_heads: int = 1
    n_layers: int = 2
    dropout: float = 0.6

    def __post_init__(self) -> None:
        _check(self.n_layers, self.dropout, "gat")


@MODELS.register("gat", GATConfig, help="node classification: graph attention network "
                 "(Veličković et al. 2018)")
class GAT(_ConvStack):
    """Veličković et al.'s GAT (see the module text)."""

    activation = staticmethod(F.elu)

    def __init__(self, config: GATConfig, in_channels: int, out_channels: int) -> None:
        super().__init__(config, in_channels=in_channels, out_channels=out_channels)
        layers, c = [], in_channels
        for _ in range(config.n_layers - 1):
            layers.append(GATConv(c, config.hidden, heads=config.heads,
                                  dropout=config.dropout))
            c = config.hidden * config.heads
        layers.append(GATConv(c, out_channels, heads=config.out_heads, concat=False,
                              dropout=config.dropout))
        self.convs = nn.ModuleList(layers)


@dataclass(frozen=True)
class GraphSAGEConfig:
    """``hidden``: units; ``n_layers``: SAGE layers; ``dropout``: before each layer;
    ``normalize``: L2-normalise the hidden layers' outputs."""

    hidden: int = 16
    n_layers: int = 2
    dropout: float = 0.5
    normalize: bool = False

    def __post_init__(self) -> None:
        _check(self.n_layers, self.dropout, "graphsage")


@MODELS.register("graphsage", GraphSAGEConfig, help="node classification: GraphSAGE, mean "
                 "aggregator (Hamilton et al. 2017)")
class GraphSAGE(_ConvStack):
    """GraphSAGE with the mean aggregator (see the module text)."""

    def __init__(self, config: GraphSAGEConfig, in_channels: int, out_channels: int) -> None:
        super().__init__(config, in_channels=in_channels, out_channels=out_channels)
        sizes = [in_channels] + [config.hidden] * (config.n_layers - 1) + [out_channels]
        self.convs = nn.ModuleList(
            SAGEConv(a, b, normalize=config.normalize and i < config.n_layers - 1)
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)))
