"""Graph WaveNet: gated dilated TCNs interleaved with diffusion convolutions over the given graph
and a learned adaptive adjacency."""

from __future__ import annotations

import dataclasses

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

from sciml.models.stgnn._base import AbstractForecaster
from sciml.nn import DenseGraphConv, DiffusionConv, GatedTemporalConv, adaptive_adjacency
from sciml.registry import MODELS

__all__ = ["GraphWaveNet", "GraphWaveNetConfig"]


@dataclasses.dataclass(frozen=True)
class GraphWaveNetConfig:
    """Args (defaults of the paper/reference code): residual_channels (32), dilation_channels (32),
    skip_channels (256), end_channels (512); kernel_size of the temporal convs (2); dilations, one
    per layer (4 blocks of (1, 2): receptive field 13 >= 12 steps); k: diffusion order (2);
    adaptive: learn the adjacency softmax(relu(E1 E2^T)); embedding_size of E1, E2 (10);
    dropout after each graph conv (0.3); batch_norm after each layer (True). The last layer has
    no graph convolution (it would feed nothing), so a single layer means no spatial part."""

    residual_channels: int = 32
    dilation_channels: int = 32
    skip_channels: int = 256
    end_channels: int = 512
    kernel_size: int = 2
    dilations: tuple[int, ...] = (1, 2, 1, 2, 1, 2, 1, 2)
    k: int = 2
    adaptive: bool = True
    embedding_size: int = 10
    dropout: float = 0.3
    batch_norm: bool = True

    def __post_init__(self) -> None:
        for key in ("residual_channels", "dilation_channels", "skip_channels", "end_channels",
                    "kernel_size", "k", "embedding_size"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)!r}")
        if not self.dilations or any(d < 1 for d in self.dilations):
            raise ValueError(f"dilations must be a non-empty list of positive integers, got "
                             f"{self.dilations!r}")
        object.__setattr__(self, "dilations", tuple(self.dilations))


class _GWNLayer(nn.Module):
    """Gated TCN -> graph conv (given supports + adaptive adjacency) -> residual; and a skip.

    The last layer has only the TCN and the skip: its graph conv would feed nothing (the
    reference code builds those parameters but they receive no gradient).
    """

    def __init__(self, c: GraphWaveNetConfig, dilation: int, last: bool) -> None:
        super().__init__()
        self.last = last
        self.tcn = GatedTemporalConv(c.residual_channels, c.dilation_channels, c.kernel_size,
                                     dilation)
        self.skip = nn.Linear(c.dilation_channels, c.skip_channels)
        if last:
            return
        # The identity term and bias live in whichever conv always runs.
        self.diffusion = DiffusionConv(c.dilation_channels, c.residual_channels, k=c.k,
                                       root_weight=not c.adaptive, bias=not c.adaptive)
        self.dense = (DenseGraphConv(c.dilation_channels, c.residual_channels, k=c.k)
                      if c.adaptive else None)
        self.dropout = nn.Dropout(c.dropout)
        self.norm = nn.BatchNorm2d(c.residual_channels) if c.batch_norm else None

    def forward(self, h: Tensor, edge_index: Tensor | None, edge_weight: Tensor | None,
                adj: Tensor | None) -> tuple[Tensor, Tensor]:
        f = self.tcn(h)  # (B, T, N, D)
        skip = self.skip(f[:, -1])
        if self.last:
            return h, skip
        if self.dense is not None:
            g = self.dense(f, adj)
            if edge_index is not None:
                g = g + self.diffusion(f, edge_index, edge_weight)
        else:
            g = self.diffusion(f, edge_index, edge_weight)
        h = h + self.dropout(g)
        if self.norm is not None:
            h = self.norm(h.permute(0, 3, 2, 1)).permute(0, 3, 2, 1)
        return h, skip


@MODELS.register("graph_wavenet", GraphWaveNetConfig)
class GraphWaveNet(AbstractForecaster):
    r"""Graph WaveNet (Wu, Pan, Long, Jiang, Zhang, *Graph WaveNet for Deep Spatial-Temporal Graph
    Modeling*, IJCAI 2019).

    Each layer: gated TCN :math:`f = \tanh(\Theta_1 \star h) \odot \sigma(\Theta_2 \star h)`, then
    the graph convolution of Eq. 7,
    :math:`Z = \sum_{k=0}^{K} P_f^k f W_{k1} + P_b^k f W_{k2} + \tilde A_{adp}^k f W_{k3}`, with
    :math:`\tilde A_{adp} = \mathrm{softmax}(\mathrm{relu}(E_1 E_2^T))`, a residual connection and
    a skip connection from the last time step; the head maps relu(sum of skips) through two
    linear layers to the H x F forecast. Without a given graph only the adaptive term is used.

    Differences from the reference code: temporal convolutions are causal with left zero padding
    (length kept, the last step is read), instead of shrinking the sequence; the node embeddings
    tie parameters to node identity, so the model is permutation-equivariant only together with
    a permutation of E1, E2.

    Shapes:
        - x: (B, T, N, F), edge_index: (2, E) or None, edge_weight: (E,) or None,
          u: (B, T, N, C) or None -> (B, H, N, output_size)
    """

    graph_optional = True

    def __init__(self, config: GraphWaveNetConfig, *, n_nodes: int, input_size: int,
                 output_size: int, window: int, horizon: int, exog_size: int = 0) -> None:
        super().__init__(config, n_nodes=n_nodes, input_size=input_size, output_size=output_size,
                         window=window, horizon=horizon, exog_size=exog_size)
        c = config
        self.start = nn.Linear(input_size + exog_size, c.residual_channels)
        self.layers = nn.ModuleList(
            _GWNLayer(c, d, last=i == len(c.dilations) - 1) for i, d in enumerate(c.dilations)
        )
        self.head = nn.Sequential(
            nn.ReLU(), nn.Linear(c.skip_channels, c.end_channels), nn.ReLU(),
            nn.Linear(c.end_channels, horizon * output_size),
        )
        if c.adaptive:
            self.source_embedding = nn.Parameter(torch.randn(n_nodes, c.embedding_size))
            self.target_embedding = nn.Parameter(torch.randn(n_nodes, c.embedding_size))
        else:
            self.source_embedding = self.target_embedding = None

    @property
    def requires_graph(self) -> bool:
        return not self.config.adaptive

    @property
    def fixed_nodes(self) -> bool:  # type: ignore[override]
        return self.config.adaptive

    def forward(
        self, x: Float[Tensor, "b t n f"], edge_index: Int[Tensor, "2 e"] | None = None,
        edge_weight: Float[Tensor, " e"] | None = None, u: Float[Tensor, "b t n c"] | None = None,
    ) -> Float[Tensor, "b h n f_out"]:
        """Stacked gated TCN + graph conv layers; the head reads the summed skips."""
        h = self.start(self._check_inputs(x, edge_index, edge_weight, u))
        adj = None
        if self.source_embedding is not None:
            adj = adaptive_adjacency(self.source_embedding, self.target_embedding)
        skip = 0
        for layer in self.layers:
            h, s = layer(h, edge_index, edge_weight, adj)
            skip = skip + s
        return self._to_output(self.head(skip))
