"""Baselines without a graph: persistence, seasonal naive, and a GRU shared across nodes."""

from __future__ import annotations

import dataclasses

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

from sciml.errors import ConfigError
from sciml.models.stgnn._base import AbstractForecaster
from sciml.nn import MLP, gru_layers
from sciml.registry import MODELS

__all__ = [
    "Persistence", "PersistenceConfig", "SeasonalNaive", "SeasonalNaiveConfig", "NodeGRU",
    "NodeGRUConfig",
]


@dataclasses.dataclass(frozen=True)
class PersistenceConfig:
    """Persistence has nothing to configure."""


@MODELS.register("persistence", PersistenceConfig)
class Persistence(AbstractForecaster):
    """Repeat the last observed value over the whole horizon: ``y_{T+h} = x_T`` (no parameters)."""

    graph_optional = True

    def __init__(self, config: PersistenceConfig, *, n_nodes: int, input_size: int,
                 output_size: int, window: int, horizon: int, exog_size: int = 0) -> None:
        super().__init__(config, n_nodes=n_nodes, input_size=input_size, output_size=output_size,
                         window=window, horizon=horizon, exog_size=exog_size)

    def forward(
        self, x: Float[Tensor, "b t n f"], edge_index: Int[Tensor, "2 e"] | None = None,
        edge_weight: Float[Tensor, " e"] | None = None, u: Float[Tensor, "b t n c"] | None = None,
    ) -> Float[Tensor, "b h n f_out"]:
        """The last step's targets, repeated H times."""
        self._check_inputs(x, edge_index, edge_weight, u)
        last = x[:, -1:, :, : self.output_size]
        return last.expand(-1, self.horizon, -1, -1).clone()


@dataclasses.dataclass(frozen=True)
class SeasonalNaiveConfig:
    """Args: season: period in steps (e.g. 288 for a day of 5-minute steps)."""

    season: int = 24

    def __post_init__(self) -> None:
        if isinstance(self.season, bool) or not isinstance(self.season, int) or self.season < 1:
            raise ValueError(f"season must be a positive integer, got {self.season!r}")


@MODELS.register("seasonal_naive", SeasonalNaiveConfig)
class SeasonalNaive(AbstractForecaster):
    """Repeat the last observed season: ``y_{T+h} = x_{T+h-s*ceil(h/s)}`` (no parameters).

    Needs ``window >= season``.
    """

    graph_optional = True

    def __init__(self, config: SeasonalNaiveConfig, *, n_nodes: int, input_size: int,
                 output_size: int, window: int, horizon: int, exog_size: int = 0) -> None:
        super().__init__(config, n_nodes=n_nodes, input_size=input_size, output_size=output_size,
                         window=window, horizon=horizon, exog_size=exog_size)
        if window < config.season:
            raise ConfigError(
                f"seasonal_naive needs window >= season, got window={window} < "
                f"season={config.season}; use a longer window or a shorter season"
            )
        s = config.season
        h = torch.arange(1, horizon + 1)
        # Step T + h (1-based h) takes the same phase in the last observed season.
        index = window - 1 + h - s * torch.div(h + s - 1, s, rounding_mode="floor")
        self.register_buffer("_index", index, persistent=False)

    def forward(
        self, x: Float[Tensor, "b t n f"], edge_index: Int[Tensor, "2 e"] | None = None,
        edge_weight: Float[Tensor, " e"] | None = None, u: Float[Tensor, "b t n c"] | None = None,
    ) -> Float[Tensor, "b h n f_out"]:
        """The values one season before each future step."""
        self._check_inputs(x, edge_index, edge_weight, u)
        return x[:, self._index, :, : self.output_size]


@dataclasses.dataclass(frozen=True)
class NodeGRUConfig:
    """Args: hidden_size: GRU state size; n_layers: stacked GRU layers; decoder_layers: hidden
    layers of the MLP read-out; dropout: between GRU layers and in the read-out."""

    hidden_size: int = 64
    n_layers: int = 1
    decoder_layers: int = 1
    dropout: float = 0.0


@MODELS.register("node_gru", NodeGRUConfig)
class NodeGRU(AbstractForecaster):
    """One GRU shared by all nodes, no graph, then an MLP from the final state to the horizon.

    The "no spatial information" reference of Cini et al. (2023): each node is forecast from its
    own history only, with parameters shared across nodes.

    Shapes:
        - x: (B, T, N, F), u: (B, T, N, C) or None -> (B, H, N, output_size)
    """

    graph_optional = True

    def __init__(self, config: NodeGRUConfig, *, n_nodes: int, input_size: int,
                 output_size: int, window: int, horizon: int, exog_size: int = 0) -> None:
        super().__init__(config, n_nodes=n_nodes, input_size=input_size, output_size=output_size,
                         window=window, horizon=horizon, exog_size=exog_size)
        c = config
        self.gru = nn.GRU(input_size + exog_size, c.hidden_size, num_layers=c.n_layers,
                          batch_first=True, dropout=c.dropout if c.n_layers > 1 else 0.0)
        self.decoder = MLP(c.hidden_size, c.hidden_size, horizon * output_size,
                           n_layers=c.decoder_layers, dropout=c.dropout)

    def forward(
        self, x: Float[Tensor, "b t n f"], edge_index: Int[Tensor, "2 e"] | None = None,
        edge_weight: Float[Tensor, " e"] | None = None, u: Float[Tensor, "b t n c"] | None = None,
    ) -> Float[Tensor, "b h n f_out"]:
        """Encode each node's window with the GRU and decode its final state."""
        z = self._check_inputs(x, edge_index, edge_weight, u)
        b, t, n, f = z.shape
        seq = z.permute(1, 0, 2, 3).reshape(t, b * n, f)  # time-major
        h = gru_layers(seq, [list(w) for w in self.gru.all_weights], dropout=self.gru.dropout,
                       training=self.training)
        return self._to_output(self.decoder(h[-1].reshape(b, n, -1)))
