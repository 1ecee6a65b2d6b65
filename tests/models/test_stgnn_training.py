"""Tiny training runs on a signal that needs the graph: each node's next value is the mean of its
neighbours' current values. A model without the graph cannot predict it (the windows are i.i.d.
noise), so node_gru stays near the initial loss while the graph models drive it down."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numba
import pytest
import torch

import sciml.models  # noqa: F401  (registers the models)
from sciml.registry import MODELS

N, T, H, BATCH = 8, 4, 1, 32

# Given-graph models must cut the held-out MSE by this factor (measured: 50x to 900x).
GRAPH_FACTOR = 20.0
# AGCRN learns its graph from node embeddings, which is slower (measured: ~50x in 300 steps).
LEARNED_GRAPH_FACTOR = 10.0

CASES = {  # name: (config, steps, required reduction factor)
    "time_then_space": ({"hidden_size": 16}, 200, GRAPH_FACTOR),
    "dcrnn": ({"hidden_size": 16, "n_layers": 1}, 100, GRAPH_FACTOR),
    "graph_wavenet": ({"residual_channels": 16, "dilation_channels": 16, "skip_channels": 32,
                       "end_channels": 32, "dilations": [1, 2], "dropout": 0.0}, 200,
                      GRAPH_FACTOR),
    "stcn": ({"hidden_size": 16, "ff_size": 32, "n_layers": 1}, 200, GRAPH_FACTOR),
    "agcrn": ({"hidden_size": 16, "n_layers": 1, "embedding_size": 6}, 300,
              LEARNED_GRAPH_FACTOR),
}


def _ring() -> tuple[torch.Tensor, torch.Tensor]:
    """Undirected ring (both directions), and the operator 'mean of the two neighbours'."""
    i = torch.arange(N)
    edge_index = torch.stack([torch.cat([i, i]), torch.cat([(i + 1) % N, (i - 1) % N])])
    op = torch.zeros(N, N)
    op[edge_index[1], edge_index[0]] = 0.5
    return edge_index, op


def _batch(size: int, op: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(size, T, N, 1, generator=gen)
    return x, (op @ x[:, -1]).unsqueeze(1)  # (B, H=1, N, 1)


@contextlib.contextmanager
def _single_thread() -> Iterator[None]:
    """Tiny tensors: threads only add overhead (up to 10x on a busy 2-core machine)."""
    torch_threads, numba_threads = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(1)
    numba.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(torch_threads)
        numba.set_num_threads(numba_threads)


def _train(name: str, config: dict, steps: int) -> tuple[float, float]:
    """Adam on fresh batches; returns (initial, final) MSE on a fixed held-out set."""
    with _single_thread():
        return _train_steps(name, config, steps)


def _train_steps(name: str, config: dict, steps: int) -> tuple[float, float]:
    torch.manual_seed(0)
    edge_index, op = _ring()
    x_val, y_val = _batch(256, op, torch.Generator().manual_seed(123))
    gen = torch.Generator().manual_seed(1)
    model = MODELS.build(name, config, n_nodes=N, input_size=1, output_size=1, window=T,
                         horizon=H)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def evaluate() -> float:
        model.eval()
        with torch.no_grad():
            loss = torch.mean((model(x_val, edge_index) - y_val) ** 2).item()
        model.train()
        return loss

    initial = evaluate()
    for _ in range(steps):
        x, y = _batch(BATCH, op, gen)
        loss = torch.mean((model(x, edge_index) - y) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return initial, evaluate()


@pytest.fixture(scope="module")
def node_gru_loss() -> tuple[float, float]:
    return _train("node_gru", {"hidden_size": 16}, 200)


def test_node_gru_cannot_use_the_graph(node_gru_loss):
    initial, final = node_gru_loss
    assert final > 0.8 * initial, (initial, final)


@pytest.mark.parametrize("name", sorted(CASES))
def test_graph_model_learns_neighbour_mean(name, node_gru_loss):
    config, steps, factor = CASES[name]
    initial, final = _train(name, config, steps)
    assert final < initial / factor, f"{name}: MSE {initial:.4f} -> {final:.5f}"
    assert final < node_gru_loss[1] / factor, f"{name}: {final:.5f} vs node_gru {node_gru_loss[1]}"
