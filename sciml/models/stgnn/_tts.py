"""Time-then-space forecaster: a GRU over time per node, then graph convolutions on its state."""

from __future__ import annotations

import dataclasses

from jaxtyping import Float, Int
from torch import Tensor, nn

from sciml.models.stgnn._base import AbstractForecaster
from sciml.nn import MLP, DiffusionConv, make_activation
from sciml.registry import MODELS

__all__ = ["TimeThenSpace", "TimeThenSpaceConfig"]


@dataclasses.dataclass(frozen=True)
class TimeThenSpaceConfig:
    """Args: hidden_size: width of the encoder, GRU and graph layers; rnn_layers: stacked GRU
    layers; graph_layers: diffusion convolutions on the final state; k: diffusion steps per
    direction; decoder_layers: hidden layers of the MLP read-out; activation; dropout."""

    hidden_size: int = 32
    rnn_layers: int = 1
    graph_layers: int = 2
    k: int = 2
    decoder_layers: int = 1
    activation: str = "relu"
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for key in ("hidden_size", "rnn_layers", "k"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)!r}")
        if self.graph_layers < 0:
            raise ValueError(f"graph_layers must be >= 0, got {self.graph_layers!r}")


@MODELS.register("time_then_space", TimeThenSpaceConfig)
class TimeThenSpace(AbstractForecaster):
    r"""Time-then-space (TTS) forecaster of Cini, Marisca, Zambon, Alippi, *Graph Deep Learning for
    Time Series Forecasting*, 2023 (Sec. 4, the TTS template):

    .. math::
        h_i = \mathrm{GRU}(x_{i, t-T+1:t}), \qquad
        h^{(l+1)} = h^{(l)} + \phi(\mathrm{DiffConv}(h^{(l)})), \qquad
        \hat x_{i, t+1:t+H} = \mathrm{MLP}(h_i^{(L)}).

    The temporal encoder sees each node alone; all spatial information enters through the
    diffusion convolutions (:class:`~sciml.nn.DiffusionConv`) on the final state.

    Shapes:
        - x: (B, T, N, F), edge_index: (2, E), edge_weight: (E,) or None,
          u: (B, T, N, C) or None -> (B, H, N, output_size)
    """

    def __init__(self, config: TimeThenSpaceConfig, *, n_nodes: int, input_size: int,
                 output_size: int, window: int, horizon: int, exog_size: int = 0) -> None:
        super().__init__(config, n_nodes=n_nodes, input_size=input_size, output_size=output_size,
                         window=window, horizon=horizon, exog_size=exog_size)
        c = config
        self.encoder = nn.Linear(input_size + exog_size, c.hidden_size)
        self.rnn = nn.GRU(c.hidden_size, c.hidden_size, num_layers=c.rnn_layers, batch_first=True,
                          dropout=c.dropout if c.rnn_layers > 1 else 0.0)
        self.graph_convs = nn.ModuleList(
            DiffusionConv(c.hidden_size, c.hidden_size, k=c.k) for _ in range(c.graph_layers)
        )
        self.activation = make_activation(c.activation)
        self.dropout = nn.Dropout(c.dropout)
        self.decoder = MLP(c.hidden_size, 2 * c.hidden_size, horizon * output_size,
                           n_layers=c.decoder_layers, activation=c.activation, dropout=c.dropout)

    def forward(
        self, x: Float[Tensor, "b t n f"], edge_index: Int[Tensor, "2 e"] | None = None,
        edge_weight: Float[Tensor, " e"] | None = None, u: Float[Tensor, "b t n c"] | None = None,
    ) -> Float[Tensor, "b h n f_out"]:
        """Encode time per node, propagate the final state over the graph, decode the horizon."""
        z = self.encoder(self._check_inputs(x, edge_index, edge_weight, u))
        b, t, n, c = z.shape
        _, h = self.rnn(z.transpose(1, 2).reshape(b * n, t, c))
        h = h[-1].reshape(b, n, c)
        for conv in self.graph_convs:
            h = h + self.dropout(self.activation(conv(h, edge_index, edge_weight)))
        return self._to_output(self.decoder(h))
