"""DCRNN: a sequence-to-sequence model of diffusion-convolutional GRUs."""

from __future__ import annotations

import dataclasses

import torch
from jaxtyping import Float, Int
from torch import Tensor, nn

from sciml.models.stgnn._base import AbstractForecaster
from sciml.nn import MLP, DCGRUCell, diffusion_supports
from sciml.registry import MODELS

__all__ = ["DCRNN", "DCRNNConfig", "DCRNN_DECODERS"]


DCRNN_DECODERS = ("seq2seq", "mlp")


@dataclasses.dataclass(frozen=True)
class DCRNNConfig:
    """Args (defaults of the paper for METR-LA): hidden_size: DCGRU state size (64); n_layers:
    stacked DCGRU layers in encoder and decoder (2); k: diffusion steps per direction (2);
    decoder: ``"seq2seq"`` (the paper's recurrent decoder) or ``"mlp"`` (tsl's ``DCRNNModel``:
    a linear encoder to ``hidden_size``, the DCGRU stack over the window, and an MLP read-out
    of the last state with ``ff_size`` hidden units); ff_size: hidden units of that read-out."""

    hidden_size: int = 64
    n_layers: int = 2
    k: int = 2
    decoder: str = "seq2seq"
    ff_size: int = 256

    def __post_init__(self) -> None:
        for key in ("hidden_size", "n_layers", "k", "ff_size"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)!r}")
        if self.decoder not in DCRNN_DECODERS:
            raise ValueError(f"decoder must be one of {list(DCRNN_DECODERS)}, "
                             f"got {self.decoder!r}")


@MODELS.register("dcrnn", DCRNNConfig)
class DCRNN(AbstractForecaster):
    r"""Diffusion Convolutional Recurrent Neural Network.

    Li, Yu, Shahabi, Liu, *Diffusion Convolutional Recurrent Neural Network: Data-Driven Traffic
    Forecasting*, ICLR 2018. A stack of :class:`~sciml.nn.DCGRUCell` encodes the window; a second
    stack, started from the encoder's states and a zero "GO" input, decodes one step at a time,
    feeding back its own previous prediction :math:`\hat x_{t+h-1}` (the inference-time mode of
    the paper; no scheduled sampling, so training needs no ground truth in ``forward``).
    The covariates ``u`` enter the encoder only (they are known over the window, not the
    horizon).

    With ``decoder="mlp"`` the model is tsl's ``DCRNNModel`` instead (the same function and
    parameter count): the inputs are first mapped to ``hidden_size`` by a linear encoder, and the
    horizon is read out from the top layer's last state by an MLP (``ff_size`` hidden units,
    ReLU), with no recurrent decoder.

    The random-walk supports of the graph are computed once per call and shared by every
    gate of every step.

    Shapes:
        - x: (B, T, N, F), edge_index: (2, E), edge_weight: (E,) or None,
          u: (B, T, N, C) or None -> (B, H, N, output_size)
    """

    def __init__(self, config: DCRNNConfig, *, n_nodes: int, input_size: int,
                 output_size: int, window: int, horizon: int, exog_size: int = 0) -> None:
        super().__init__(config, n_nodes=n_nodes, input_size=input_size, output_size=output_size,
                         window=window, horizon=horizon, exog_size=exog_size)
        c = config
        first = input_size + exog_size
        if c.decoder == "mlp":
            self.input_encoder = nn.Linear(first, c.hidden_size)
            first = c.hidden_size
        self.encoder = nn.ModuleList(
            DCGRUCell(first if i == 0 else c.hidden_size, c.hidden_size, k=c.k)
            for i in range(c.n_layers)
        )
        if c.decoder == "mlp":
            self.readout = MLP(c.hidden_size, c.ff_size, horizon * output_size, n_layers=1,
                               activation="relu")
        else:
            self.decoder = nn.ModuleList(
                DCGRUCell(output_size if i == 0 else c.hidden_size, c.hidden_size, k=c.k)
                for i in range(c.n_layers)
            )
            self.readout = nn.Linear(c.hidden_size, output_size)

    def forward(
        self, x: Float[Tensor, "b t n f"], edge_index: Int[Tensor, "2 e"] | None = None,
        edge_weight: Float[Tensor, " e"] | None = None, u: Float[Tensor, "b t n c"] | None = None,
    ) -> Float[Tensor, "b h n f_out"]:
        """Encode the window, then decode the horizon (autoregressively, or by the MLP)."""
        z = self._check_inputs(x, edge_index, edge_weight, u)
        supports = diffusion_supports(edge_index, edge_weight, z.shape[2])
        graph = (edge_index, edge_weight, supports)
        if self.config.decoder == "mlp":
            z = self.input_encoder(z)
        states: list[Tensor | None] = [None] * len(self.encoder)
        for inp in z.unbind(1):  # one view per step: its gradient is one stack, not T zero-fills
            for i, cell in enumerate(self.encoder):
                states[i] = inp = cell(inp, states[i], *graph)
        if self.config.decoder == "mlp":
            return self._to_output(self.readout(inp))
        y = z.new_zeros(z.shape[0], z.shape[2], self.output_size)  # GO symbol
        outputs = []
        for _ in range(self.horizon):
            inp = y
            for i, cell in enumerate(self.decoder):
                states[i] = inp = cell(inp, states[i], *graph)
            y = self.readout(inp)
            outputs.append(y)
        return torch.stack(outputs, dim=1)
