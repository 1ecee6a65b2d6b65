"""Recurrent relational network (Palm, Paquet, Winther, *Recurrent Relational Networks*, NeurIPS
2018, https://arxiv.org/abs/1711.08028): message passing for many steps, an output and a loss at
every step.

Each node ``j`` has an input vector ``x_j = MLP_in(features_j)`` (for Sudoku: the given digit,
row and column). The hidden state starts at ``h_j^0 = x_j`` and each step ``t = 1 … T`` does
(the paper's eqs. 1-3 with its Sudoku choices, section 3):

- messages ``m_ij^t = f(h_i^{t-1}, h_j^{t-1})`` along every edge ``i → j`` and their sum
  ``m_j^t = Σ_i m_ij^t``; ``f`` an MLP of ``mlp_layers`` hidden layers on ``[h_i, h_j]``;
- the node update ``h_j^t, s_j^t = LSTM(MLP_post([m_j^t, x_j]), (h_j^{t-1}, s_j^{t-1}))``
  (``g`` of eq. 2: an MLP then an LSTM cell, ``s`` its cell state, zero at the start);
- the output ``o_j^t = r(h_j^t)``, a linear map to the classes.

Training minimises the cross entropy of every step's output, averaged over the steps (eq. 4 with
the reference code's mean), so the network learns to be right as early as it can and to stay
right; at test time more steps than in training can be run (``steps=`` of :meth:`step_logits`).

The first layer of ``f`` is linear in ``[h_i, h_j]``, so it is computed per node and gathered
per edge (``W [h_i; h_j] = (W_a h)_i + (W_b h)_j``): the same function, E / N times fewer
multiplications in that layer. Messages are summed with :func:`sciml.kernels.scatter`.

Departures: the paper's L2 penalty (1e-4) is the optimizer's weight decay in the recipe; the
reference code (tasks/sudoku/rrn.py) multiplies the row and column embeddings by 0, the paper
uses them, as we do (one-hot row and column features, which a linear first layer turns into
embeddings).

``forward(x, edge_index, graph_index=None)``: ``x`` ``(N, F)``, ``edge_index`` ``(2, E)`` →
the last step's logits ``(N, classes)``. A node-level model: the graph job trains it on sets of
graphs whose nodes carry the labels (``sudoku``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sciml.kernels import scatter
from sciml.models._base import AbstractModel
from sciml.nn import MLP
from sciml.registry import MODELS

__all__ = ["RRN", "RRNConfig"]


@dataclass(frozen=True)
class RRNConfig:
    """``hidden``: width of the states, messages and MLPs (paper: 96); ``steps``: message
    passing steps T in training and by default at test (paper: 32); ``mlp_layers``: hidden layers
    of each MLP (input, message, node; paper: 3)."""

    hidden: int = 96
    steps: int = 32
    mlp_layers: int = 3

    def __post_init__(self) -> None:
        for name in ("hidden", "steps"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"rrn: {name} must be an integer >= 1, got {v!r}")
        v = self.mlp_layers
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"rrn: mlp_layers must be an integer >= 1, got {v!r}")


class _MessageMLP(nn.Module):
    """``f([h_i, h_j])`` with its first (linear) layer split into a sender and a receiver part
    computed per node."""

    def __init__(self, d: int, layers: int) -> None:
        super().__init__()
        self.send = nn.Linear(d, d)
        self.receive = nn.Linear(d, d, bias=False)
        self.rest = MLP(d, d, d, n_layers=layers - 1)

    def forward(self, h: Tensor, src: Tensor, dst: Tensor) -> Tensor:
        first = F.relu(self.send(h)[src] + self.receive(h)[dst])
        return self.rest(first)


@MODELS.register("rrn", RRNConfig, help="recurrent relational network (Palm et al. 2018): "
                 "message passing for T steps with an LSTM node update and a loss per step; "
                 "node-level (Sudoku)")
class RRN(AbstractModel):
    """The recurrent relational network (see the module text)."""

    node_level = True

    def __init__(self, config: RRNConfig, in_channels: int, out_channels: int) -> None:
        super().__init__(config, in_channels=in_channels, out_channels=out_channels)
        d, k = config.hidden, config.mlp_layers
        self.inp = MLP(in_channels, d, d, n_layers=k)
        self.message = _MessageMLP(d, k)
        self.post = MLP(2 * d, d, d, n_layers=k)
        self.lstm = nn.LSTMCell(d, d)
        self.out = nn.Linear(d, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The reference code's initialisation (TensorFlow's ``fully_connected`` and
        ``LSTMCell``): Glorot-uniform weights, zero biases, forget-gate bias 1. PyTorch's default
        (uniform ±1/√fan_in) shrinks the signal through the ~10 layers between a given digit and
        an output, and training then sits at chance for hundreds of steps."""
        for mod in self.modules():
            if isinstance(mod, nn.Linear):
                nn.init.xavier_uniform_(mod.weight)
                if mod.bias is not None:
                    nn.init.zeros_(mod.bias)
        d = self.config.hidden
        for w in (self.lstm.weight_ih, self.lstm.weight_hh):
            for k in range(4):  # gates i, f, g, o, each its own Glorot block
                nn.init.xavier_uniform_(w.data[k * d:(k + 1) * d])
        nn.init.zeros_(self.lstm.bias_ih)
        nn.init.zeros_(self.lstm.bias_hh)
        self.lstm.bias_ih.data[d:2 * d] = 1.0

    def step_logits(self, x: Tensor, edge_index: Tensor, steps: int | None = None
                    ) -> list[Tensor]:
        """The outputs ``o^t`` of steps ``t = 1 … steps`` (default ``config.steps``), each
        ``(N, classes)``."""
        steps = self.config.steps if steps is None else int(steps)
        if steps < 1:
            raise ValueError(f"rrn: steps must be >= 1, got {steps}")
        x0 = self.inp(x)
        h, s = x0, torch.zeros_like(x0)
        src, dst = edge_index[0], edge_index[1]
        outs = []
        for _ in range(steps):
            m = scatter(self.message(h, src, dst), dst, dim_size=x.shape[0])
            h, s = self.lstm(self.post(torch.cat([m, x0], -1)), (h, s))
            outs.append(self.out(h))
        return outs

    def step_loss(self, x: Tensor, edge_index: Tensor, y: Tensor) -> Tensor:
        """The mean over steps of the cross entropy of the labelled nodes (``y`` ≥ 0)."""
        outs = self.step_logits(x, edge_index)
        return torch.stack([F.cross_entropy(o, y, ignore_index=-1) for o in outs]).mean()

    def forward(self, x: Tensor, edge_index: Tensor, graph_index: Tensor | None = None
                ) -> Tensor:
        return self.step_logits(x, edge_index)[-1]
