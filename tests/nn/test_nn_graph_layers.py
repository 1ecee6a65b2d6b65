"""Graph layers against dense reference computations (float64)."""

from __future__ import annotations

import pytest
import torch

from sciml.nn import (
    AdaptiveGraphConv,
    DenseGraphConv,
    DiffusionConv,
    GraphConv,
    adaptive_adjacency,
    diffusion_supports,
    sparse_to_dense,
)

N = 6


@pytest.fixture
def graph() -> tuple[torch.Tensor, torch.Tensor]:
    ei = torch.tensor([[0, 0, 1, 2, 3, 3, 5, 4, 1], [1, 2, 2, 3, 4, 0, 1, 5, 0]])
    return ei, torch.rand(ei.shape[1], dtype=torch.float64) + 0.1


def _rw(op: torch.Tensor) -> torch.Tensor:
    deg = op.sum(1, keepdim=True)
    return torch.where(deg > 0, op / deg, torch.zeros_like(op))


@pytest.mark.parametrize("k", [1, 3])
def test_diffusion_conv_matches_dense_matrix_powers(graph, k):
    ei, ew = graph
    conv = DiffusionConv(3, 4, k=k).double()
    x = torch.randn(2, 5, N, 3, dtype=torch.float64)
    adj = sparse_to_dense(ei, N, ew)
    p_f, p_b = _rw(adj.T), _rw(adj)  # D_in^-1 A^T and D_out^-1 A
    terms = [x]
    terms += [torch.linalg.matrix_power(p_f, i) @ x for i in range(1, k + 1)]
    terms += [torch.linalg.matrix_power(p_b, i) @ x for i in range(1, k + 1)]
    expected = torch.cat(terms, -1) @ conv.lin.weight.T + conv.lin.bias
    torch.testing.assert_close(conv(x, ei, ew), expected)


def test_diffusion_conv_input_parts_and_shared_supports(graph):
    """x as parts maps their concatenation (never formed); precomputed supports give the same
    result as supports computed in the layer; wrong parts or supports are clear errors."""
    ei, ew = graph
    conv = DiffusionConv(5, 4, k=2).double()
    a, b = torch.randn(3, N, 2, dtype=torch.float64), torch.randn(3, N, 3, dtype=torch.float64)
    whole = conv(torch.cat([a, b], -1), ei, ew)
    torch.testing.assert_close(conv((a, b), ei, ew), whole)
    torch.testing.assert_close(conv((a, b), ei, ew, supports=diffusion_supports(ei, ew, N)),
                               whole)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., N, 5\)"):
        conv((a, a), ei, ew)
    with pytest.raises(ValueError, match="supports must hold 2 operators"):
        conv((a, b), ei, ew, supports=diffusion_supports(ei, ew, N)[:1])


def test_diffusion_conv_forward_only_and_gradcheck(graph):
    ei, ew = graph
    conv = DiffusionConv(2, 3, k=2, bidirectional=False, root_weight=False).double()
    assert conv.lin.in_features == 4
    x = torch.randn(N, 2, dtype=torch.float64, requires_grad=True)
    w = ew.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: conv(a, ei, b), (x, w))


def test_diffusion_conv_permutation_equivariant(graph):
    ei, ew = graph
    conv = DiffusionConv(3, 2, k=2).double()
    x = torch.randn(2, N, 3, dtype=torch.float64)
    perm = torch.randperm(N)
    inv = torch.argsort(perm)  # new id of old node i is inv[i]
    out = conv(x, ei, ew)
    torch.testing.assert_close(conv(x[:, perm], inv[ei], ew), out[:, perm])


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_graph_conv_matches_dense(graph, reduce):
    ei, ew = graph
    conv = GraphConv(3, 4, reduce=reduce).double()
    x = torch.randn(2, N, 3, dtype=torch.float64)
    op = sparse_to_dense(ei, N, ew).T
    if reduce == "mean":
        counts = sparse_to_dense(ei, N).T.sum(1, keepdim=True).double()
        op = op / counts.clamp(min=1)
    expected = conv.lin_neighbors(op @ x) + x @ conv.lin_root.weight.T
    torch.testing.assert_close(conv(x, ei, ew), expected)


def test_adaptive_adjacency_and_dense_conv():
    e1 = torch.randn(N, 3, dtype=torch.float64)
    e2 = torch.randn(N, 3, dtype=torch.float64)
    adj = adaptive_adjacency(e1, e2)
    torch.testing.assert_close(adj.sum(0), torch.ones(N, dtype=torch.float64))
    logits = torch.relu(e1 @ e2.T)
    torch.testing.assert_close(adj[1, 2], logits[1, 2].exp() / logits[:, 2].exp().sum())
    conv = DenseGraphConv(3, 2, k=2).double()
    x = torch.randn(4, N, 3, dtype=torch.float64)
    terms = torch.cat([x, adj.T @ x, adj.T @ adj.T @ x], -1)
    torch.testing.assert_close(conv(x, adj), conv.lin(terms))
    with pytest.raises(ValueError, match="adj must have shape"):
        conv(x, adj[:3, :3])


def test_adaptive_graph_conv_matches_per_node_loop():
    d, k = 4, 3
    conv = AdaptiveGraphConv(3, 2, d, cheb_k=k).double()
    torch.nn.init.normal_(conv.bias_pool)
    emb = torch.randn(N, d, dtype=torch.float64)
    adj = adaptive_adjacency(emb, emb)
    x = torch.randn(2, N, 3, dtype=torch.float64)
    a = adj.T
    cheb = [torch.eye(N, dtype=torch.float64), a, 2 * a @ a - torch.eye(N, dtype=torch.float64)]
    out = conv(x, emb, adj)
    for n in range(N):
        expected = emb[n] @ conv.bias_pool
        for i in range(k):
            w_n = torch.einsum("d,dio->io", emb[n], conv.weight_pool[:, i])
            expected = expected + (cheb[i] @ x)[:, n] @ w_n
        torch.testing.assert_close(out[:, n], expected)


def test_layer_repr_reset_and_bad_sizes(graph):
    ei, ew = graph
    conv = DiffusionConv(3, 4, k=2)
    assert "DiffusionConv(3, 4, k=2" in repr(conv)
    assert "GraphConv(3, 4" in repr(GraphConv(3, 4))
    assert "cheb_k=2" in repr(AdaptiveGraphConv(3, 4, 5))
    before = conv.lin.weight.clone()
    conv.reset_parameters()
    assert not torch.equal(before, conv.lin.weight)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        DiffusionConv(3, 4, k=0)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., N, 3\)"):
        conv(torch.randn(N, 5), ei, ew)
    with pytest.raises(ValueError, match="outside"):
        conv(torch.randn(3, 3), ei, ew)  # 3 nodes but edges reach node 5
