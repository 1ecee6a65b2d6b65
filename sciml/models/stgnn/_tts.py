"""Time-then-space forecaster: a GRU over time per node, then graph convolutions on its state."""

from __future__ import annotations

import dataclasses

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

from sciml.models.stgnn._base import AbstractForecaster
from sciml.nn import (
    MLP,
    DiffusionConv,
    GraphConv,
    gru_layers,
    make_activation,
    normalize_adjacency,
)
from sciml.registry import MODELS

__all__ = ["TimeThenSpace", "TimeThenSpaceConfig", "TTS_GRAPH_CONVS"]

TTS_GRAPH_CONVS = ("diffusion", "mean")


@dataclasses.dataclass(frozen=True)
class TimeThenSpaceConfig:
    """Args: hidden_size: width of the encoder, GRU and graph layers; rnn_layers: stacked GRU
    layers; graph_layers: graph convolutions on the final state; k: diffusion steps per
    direction (``graph_conv="diffusion"`` only); decoder_layers: hidden layers of the MLP
    read-out; activation; dropout; graph_conv: ``"diffusion"`` (bidirectional
    :class:`~sciml.nn.DiffusionConv`) or ``"mean"`` (:class:`~sciml.nn.GraphConv` on the
    weighted mean of the in-neighbours, :math:`D_{in}^{-1} A^T`, plus a root weight and a bias:
    the decoder of tsl's ``RNNEncGCNDecModel``); residual: add each graph layer's output to its
    input (``h + phi(conv(h))``) instead of replacing it (``phi(conv(h))``);
    decoder_hidden_size: width of the read-out's hidden layers (default ``2 * hidden_size``)."""

    hidden_size: int = 32
    rnn_layers: int = 1
    graph_layers: int = 2
    k: int = 2
    decoder_layers: int = 1
    activation: str = "relu"
    dropout: float = 0.0
    graph_conv: str = "diffusion"
    residual: bool = True
    decoder_hidden_size: int | None = None

    def __post_init__(self) -> None:
        for key in ("hidden_size", "rnn_layers", "k"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)!r}")
        if self.graph_layers < 0:
            raise ValueError(f"graph_layers must be >= 0, got {self.graph_layers!r}")
        if self.graph_conv not in TTS_GRAPH_CONVS:
            raise ValueError(f"graph_conv must be one of {list(TTS_GRAPH_CONVS)}, "
                             f"got {self.graph_conv!r}")
        if not isinstance(self.residual, bool):
            raise ValueError(f"residual must be true or false, got {self.residual!r}")
        if self.decoder_hidden_size is not None and (
                isinstance(self.decoder_hidden_size, bool)
                or not isinstance(self.decoder_hidden_size, int) or self.decoder_hidden_size < 1):
            raise ValueError(f"decoder_hidden_size must be an integer >= 1 or null, "
                             f"got {self.decoder_hidden_size!r}")


@MODELS.register("time_then_space", TimeThenSpaceConfig)
class TimeThenSpace(AbstractForecaster):
    r"""Time-then-space (TTS) forecaster of Cini, Marisca, Zambon, Alippi, *Graph Deep Learning for
    Time Series Forecasting*, 2023 (Sec. 4, the TTS template):

    .. math::
        h_i = \mathrm{GRU}(x_{i, t-T+1:t}), \qquad
        h^{(l+1)} = h^{(l)} + \phi(\mathrm{DiffConv}(h^{(l)})), \qquad
        \hat x_{i, t+1:t+H} = \mathrm{MLP}(h_i^{(L)}).

    The temporal encoder sees each node alone; all spatial information enters through the
    graph convolutions on the final state: by default residual diffusion convolutions
    (:class:`~sciml.nn.DiffusionConv`). With ``graph_conv="mean"``, ``residual=False`` and
    ``decoder_hidden_size=hidden_size`` the model is the architecture of tsl's
    ``RNNEncGCNDecModel`` (linear encoder, GRU, last state, ``phi(GraphConv)`` layers with
    mean-normalised weights, MLP read-out), with the same parameter count.

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
        if c.graph_conv == "diffusion":
            convs = [DiffusionConv(c.hidden_size, c.hidden_size, k=c.k)
                     for _ in range(c.graph_layers)]
        else:
            convs = [GraphConv(c.hidden_size, c.hidden_size, reduce="sum")
                     for _ in range(c.graph_layers)]
        self.graph_convs = nn.ModuleList(convs)
        self.activation = make_activation(c.activation)
        self.dropout = nn.Dropout(c.dropout)
        dec_hidden = c.decoder_hidden_size or 2 * c.hidden_size
        self.decoder = MLP(c.hidden_size, dec_hidden, horizon * output_size,
                           n_layers=c.decoder_layers, activation=c.activation, dropout=c.dropout)

    def _encode(self, x: Float[Tensor, "b t n f"]) -> Float[Tensor, "b n c"]:
        """Final GRU state of each node's sequence ``GRU(encoder(x))``.

        The encoder is linear and feeds only the first GRU layer's input projection, so the two
        are applied as one map, ``W_ih (W_enc x + b_enc) + b_ih = (W_ih W_enc) x + (W_ih b_enc +
        b_ih)``: the same function of the same parameters (gradients reach both), but the
        input projection multiplies the F input channels instead of the hidden_size encoded
        ones, which removes one of the GRU's two large matrix products in the forward pass
        (and two in the backward pass) for a univariate series. The recurrence itself runs as
        :func:`sciml.nn.gru_layers` (one autograd node per layer on CPU).
        """
        b, t, n, f = x.shape
        seq = x.permute(1, 0, 2, 3).reshape(t, b * n, f)  # time-major: no copy of the states
        layers = [list(w) for w in self.rnn.all_weights]
        w_ih, w_hh, b_ih, b_hh = layers[0]
        layers[0] = [w_ih @ self.encoder.weight, w_hh,
                     torch.addmv(b_ih, w_ih, self.encoder.bias), b_hh]
        rnn = self.rnn
        h = gru_layers(seq, layers, dropout=rnn.dropout, training=self.training)
        return h[-1].reshape(b, n, rnn.hidden_size)

    def forward(
        self, x: Float[Tensor, "b t n f"], edge_index: Int[Tensor, "2 e"] | None = None,
        edge_weight: Float[Tensor, " e"] | None = None, u: Float[Tensor, "b t n c"] | None = None,
    ) -> Float[Tensor, "b h n f_out"]:
        """Encode time per node, propagate the final state over the graph, decode the horizon."""
        h = self._encode(self._check_inputs(x, edge_index, edge_weight, u))
        n = h.shape[1]
        if self.config.graph_conv == "mean" and self.graph_convs:
            # sum over in-edges of w / deg_in(dst): the weighted mean of the in-neighbours
            edge_weight = normalize_adjacency(edge_index, edge_weight, n, kind="rw").to(h.dtype)
        for conv in self.graph_convs:
            z = self.dropout(self.activation(conv(h, edge_index, edge_weight)))
            h = h + z if self.config.residual else z
        return self._to_output(self.decoder(h))
