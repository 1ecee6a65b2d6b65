"""Graph GRU cells against a dense reference step; temporal convolutions; MLP."""

from __future__ import annotations

import pytest
import torch

from sciml.nn import (
    MLP,
    AGCRNCell,
    DCGRUCell,
    GatedTemporalConv,
    GCGRUCell,
    TemporalConv,
    adaptive_adjacency,
    sparse_to_dense,
)

N = 5


@pytest.fixture
def graph() -> tuple[torch.Tensor, torch.Tensor]:
    ei = torch.tensor([[0, 1, 2, 3, 4, 0, 2], [1, 2, 3, 4, 0, 3, 0]])
    return ei, torch.rand(ei.shape[1], dtype=torch.float64) + 0.1


def _dense_diffusion(lin, x, p_f, p_b, k):
    terms = [x]
    for p in (p_f, p_b):
        h = x
        for _ in range(k):
            h = p @ h
            terms.append(h)
    return lin(torch.cat(terms, -1))


def test_dcgru_cell_matches_dense_gru_step(graph):
    ei, ew = graph
    cell = DCGRUCell(2, 3, k=2).double()
    adj = sparse_to_dense(ei, N, ew)
    p_f = adj.T / adj.T.sum(1, keepdim=True)
    p_b = adj / adj.sum(1, keepdim=True)
    x = torch.randn(4, N, 2, dtype=torch.float64)
    h = torch.randn(4, N, 3, dtype=torch.float64)
    ru = torch.sigmoid(_dense_diffusion(cell.gates.lin, torch.cat([x, h], -1), p_f, p_b, 2))
    r, u = ru[..., :3], ru[..., 3:]
    c = torch.tanh(_dense_diffusion(cell.candidate.lin, torch.cat([x, r * h], -1), p_f, p_b, 2))
    torch.testing.assert_close(cell(x, h, ei, ew), u * h + (1 - u) * c)
    # No state means a zero state.
    torch.testing.assert_close(cell(x, None, ei, ew), cell(x, torch.zeros_like(h), ei, ew))


def test_gcgru_and_agcrn_cells_shapes_and_equivariance(graph):
    ei, ew = graph
    cell = GCGRUCell(2, 3).double()
    x = torch.randn(2, 4, N, 2, dtype=torch.float64)  # leading dims (B, T) allowed
    perm = torch.randperm(N)
    inv = torch.argsort(perm)
    out = cell(x, None, ei, ew)
    assert out.shape == (2, 4, N, 3)
    torch.testing.assert_close(cell(x[:, :, perm], None, inv[ei], ew), out[:, :, perm])
    acell = AGCRNCell(2, 3, embedding_size=4).double()
    emb = torch.randn(N, 4, dtype=torch.float64)
    out = acell(x, None, emb, adaptive_adjacency(emb, emb))
    # Node-adaptive: equivariant only when the embeddings are permuted with the nodes.
    emb_p = emb[perm]
    torch.testing.assert_close(acell(x[:, :, perm], None, emb_p, adaptive_adjacency(emb_p, emb_p)),
                               out[:, :, perm])
    assert "DCGRUCell(2, 3, k=2)" == repr(DCGRUCell(2, 3, k=2))


def test_temporal_conv_is_causal_dilated_conv():
    conv = TemporalConv(2, 3, kernel_size=3, dilation=2).double()
    assert conv.receptive_field == 5
    x = torch.randn(2, 9, N, 2, dtype=torch.float64)
    out = conv(x)
    assert out.shape == (2, 9, N, 3)
    w, b = conv.conv.weight, conv.conv.bias  # (out, in, k): tap j multiplies x_{t - (k-1-j) d}
    expected = torch.zeros_like(out) + b
    for t in range(9):
        for j in range(3):
            s = t - (2 - j) * 2
            if s >= 0:
                expected[:, t] += x[:, s] @ w[:, :, j].T
    torch.testing.assert_close(out, expected)
    x2 = x.clone()
    x2[:, 6] += 1.0
    diff = (conv(x2) - out).abs().sum(dim=(0, 2, 3))
    assert diff[:6].sum() == 0 and diff[6] > 0  # no step sees the future


def test_gated_temporal_conv_range_and_causality():
    conv = GatedTemporalConv(2, 4, kernel_size=2, dilation=1).double()
    x = torch.randn(2, 6, N, 2, dtype=torch.float64)
    out = conv(x)
    assert out.shape == (2, 6, N, 4) and out.abs().max() < 1
    x2 = x.clone()
    x2[:, 3] += 1.0
    diff = (conv(x2) - out).abs().sum(dim=(0, 2, 3))
    assert diff[:3].sum() == 0 and diff[3] > 0 and diff[4] > 0 and diff[5] == 0
    with pytest.raises(ValueError, match=r"shape \(B, T, N, 2\)"):
        conv(torch.randn(6, N, 2))


def test_mlp():
    mlp = MLP(3, 8, 2, n_layers=2, activation="tanh")
    assert mlp(torch.randn(4, 5, 3)).shape == (4, 5, 2)
    assert sum(isinstance(m, torch.nn.Linear) for m in mlp.net) == 3
    assert "MLP(3, 8, 2, n_layers=2" in repr(mlp)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        MLP(3, 8, 2, activation="swish")
    with pytest.raises(ValueError, match="3 channels"):
        mlp(torch.randn(4, 2))
