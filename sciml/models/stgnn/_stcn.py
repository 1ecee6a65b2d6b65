"""STCN: interleaved temporal (dilated, optionally gated) and spatial (diffusion) convolutions."""

from __future__ import annotations

import dataclasses

from jaxtyping import Float, Int
from torch import Tensor, nn

from sciml.models.stgnn._base import AbstractForecaster
from sciml.nn import MLP, DiffusionConv, GatedTemporalConv, TemporalConv, make_activation
from sciml.registry import MODELS

__all__ = ["STCN", "STCNConfig"]


@dataclasses.dataclass(frozen=True)
class STCNConfig:
    """Args: hidden_size of all convolutions (32); ff_size of the MLP read-out (64); n_layers of
    spatiotemporal blocks (2); temporal_kernel_size (2); temporal_convs per block (2, with
    dilations dilation**i); dilation (2); k: diffusion steps per direction (1); gated temporal
    convolutions (True); activation ("relu"); dropout (0)."""

    hidden_size: int = 32
    ff_size: int = 64
    n_layers: int = 2
    temporal_kernel_size: int = 2
    temporal_convs: int = 2
    dilation: int = 2
    k: int = 1
    gated: bool = True
    activation: str = "relu"
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for key in ("hidden_size", "ff_size", "n_layers", "temporal_kernel_size",
                    "temporal_convs", "dilation", "k"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)!r}")


class _STBlock(nn.Module):
    """Temporal convolutions (dilations d**i) then one diffusion convolution, with residuals."""

    def __init__(self, c: STCNConfig) -> None:
        super().__init__()
        conv = GatedTemporalConv if c.gated else TemporalConv
        self.temporal = nn.ModuleList(
            conv(c.hidden_size, c.hidden_size, c.temporal_kernel_size, c.dilation ** i)
            for i in range(c.temporal_convs)
        )
        self.spatial = DiffusionConv(c.hidden_size, c.hidden_size, k=c.k)
        self.activation = make_activation(c.activation)
        self.dropout = nn.Dropout(c.dropout)
        self.gated = c.gated

    def forward(self, h: Tensor, edge_index: Tensor, edge_weight: Tensor | None) -> Tensor:
        z = h
        for conv in self.temporal:
            z = conv(z) if self.gated else self.activation(conv(z))
            z = self.dropout(z)
        z = self.dropout(self.activation(self.spatial(z, edge_index, edge_weight)))
        return h + z


@MODELS.register("stcn", STCNConfig)
class STCN(AbstractForecaster):
    r"""Spatiotemporal convolutional network, as tsl's ``STCNModel`` (Cini et al., 2023):

    .. math::
        h^{(0)} = W x + b, \qquad
        h^{(l+1)} = h^{(l)} + \phi\big(\mathrm{DiffConv}(\mathrm{TCN}(h^{(l)}))\big), \qquad
        \hat x_{t+1:t+H} = \mathrm{MLP}(h^{(L)}_t),

    where TCN is a stack of causal dilated (optionally gated, WaveNet-style) temporal
    convolutions shared across nodes and DiffConv a bidirectional diffusion convolution applied
    at every time step. The read-out uses the representation of the last step.

    Shapes:
        - x: (B, T, N, F), edge_index: (2, E), edge_weight: (E,) or None,
          u: (B, T, N, C) or None -> (B, H, N, output_size)
    """

    def __init__(self, config: STCNConfig, *, n_nodes: int, input_size: int,
                 output_size: int, window: int, horizon: int, exog_size: int = 0) -> None:
        super().__init__(config, n_nodes=n_nodes, input_size=input_size, output_size=output_size,
                         window=window, horizon=horizon, exog_size=exog_size)
        c = config
        self.encoder = nn.Linear(input_size + exog_size, c.hidden_size)
        self.blocks = nn.ModuleList(_STBlock(c) for _ in range(c.n_layers))
        self.readout = MLP(c.hidden_size, c.ff_size, horizon * output_size, n_layers=1,
                           activation=c.activation, dropout=c.dropout)

    def forward(
        self, x: Float[Tensor, "b t n f"], edge_index: Int[Tensor, "2 e"] | None = None,
        edge_weight: Float[Tensor, " e"] | None = None, u: Float[Tensor, "b t n c"] | None = None,
    ) -> Float[Tensor, "b h n f_out"]:
        """Encode, run the spatiotemporal blocks, read the last step out."""
        h = self.encoder(self._check_inputs(x, edge_index, edge_weight, u))
        for block in self.blocks:
            h = block(h, edge_index, edge_weight)
        return self._to_output(self.readout(h[:, -1]))
