"""Graph utilities against dense reference computations."""

from __future__ import annotations

import pytest
import torch

from sciml.nn import (
    add_self_loops,
    check_edge_index,
    degree,
    dense_to_sparse,
    normalize_adjacency,
    remove_self_loops,
    sparse_to_dense,
    transpose,
)

N = 6


@pytest.fixture
def graph() -> tuple[torch.Tensor, torch.Tensor]:
    """A directed graph with a self loop, a node without in-edges (5) and one without out-edges."""
    ei = torch.tensor([[0, 0, 1, 2, 3, 3, 5, 2], [1, 2, 2, 3, 4, 0, 1, 2]])
    ew = torch.rand(ei.shape[1], dtype=torch.float64) + 0.1
    return ei, ew


def test_degree_matches_dense(graph):
    ei, ew = graph
    adj = sparse_to_dense(ei, N, ew)
    torch.testing.assert_close(degree(ei, N, ew, "in"), adj.sum(0))
    torch.testing.assert_close(degree(ei, N, ew, "out"), adj.sum(1))
    counts = degree(ei, N, direction="in", dtype=torch.float64)
    torch.testing.assert_close(counts, (sparse_to_dense(ei, N) != 0).sum(0).double())


def test_normalize_rw_in_is_row_stochastic_dense(graph):
    ei, ew = graph
    adj = sparse_to_dense(ei, N, ew)  # adj[src, dst]
    op = adj.T  # out = op @ x
    deg = op.sum(1, keepdim=True)
    expected = torch.where(deg > 0, op / deg, torch.zeros_like(op))
    got = sparse_to_dense(ei, N, normalize_adjacency(ei, ew, N, kind="rw")).T
    torch.testing.assert_close(got, expected)
    # D_in^-1 A^T: rows of the operator of nodes with in-edges sum to one, node 5 has none.
    torch.testing.assert_close(got.sum(1)[:5], torch.ones(5, dtype=torch.float64))
    assert got[5].abs().sum() == 0


def test_normalize_rw_out_and_sym_dense(graph):
    ei, ew = graph
    adj = sparse_to_dense(ei, N, ew)
    d_out, d_in = adj.sum(1), adj.sum(0)
    inv = lambda d, p: torch.where(d > 0, d ** p, torch.zeros_like(d))  # noqa: E731
    got_out = sparse_to_dense(ei, N, normalize_adjacency(ei, ew, N, "rw", degree_of="out"))
    torch.testing.assert_close(got_out, inv(d_out, -1.0)[:, None] * adj)
    got_sym = sparse_to_dense(ei, N, normalize_adjacency(ei, ew, N, "sym"))
    torch.testing.assert_close(got_sym, inv(d_out, -0.5)[:, None] * adj * inv(d_in, -0.5)[None])
    torch.testing.assert_close(normalize_adjacency(ei, ew, N, "none"), ew)


def test_self_loops_and_transpose(graph):
    ei, ew = graph
    ei2, ew2 = remove_self_loops(ei, ew)
    assert (ei2[0] != ei2[1]).all() and ei2.shape[1] == ei.shape[1] - 1
    ei3, ew3 = add_self_loops(ei, N, ew, fill_value=2.0)
    dense = sparse_to_dense(ei3, N, ew3)
    expected = sparse_to_dense(ei2, N, ew2) + 2.0 * torch.eye(N, dtype=torch.float64)
    torch.testing.assert_close(dense, expected)
    assert add_self_loops(ei, N)[1] is None
    torch.testing.assert_close(sparse_to_dense(transpose(ei), N, ew), sparse_to_dense(ei, N, ew).T)


def test_dense_sparse_round_trip():
    adj = torch.rand(5, 5, dtype=torch.float64) * (torch.rand(5, 5) > 0.5)
    adj.requires_grad_(True)
    ei, ew = dense_to_sparse(adj)
    assert ei.shape[1] == int((adj != 0).sum())
    torch.testing.assert_close(sparse_to_dense(ei, 5, ew), adj)
    ew.sum().backward()  # differentiable for a learned adjacency
    torch.testing.assert_close(adj.grad, (adj != 0).double())


def test_bad_inputs_name_the_problem(graph):
    ei, ew = graph
    with pytest.raises(TypeError, match="edge_index must have dtype"):
        check_edge_index(ei.float())
    with pytest.raises(ValueError, match=r"shape \(2, E\)"):
        check_edge_index(ei[:1])
    with pytest.raises(ValueError, match="outside"):
        check_edge_index(ei, n_nodes=3)
    with pytest.raises(ValueError, match="edge_weight must have shape"):
        check_edge_index(ei, N, ew[:-1])
    with pytest.raises(ValueError, match="kind must be one of"):
        normalize_adjacency(ei, ew, N, kind="laplacian")
    with pytest.raises(ValueError, match="square"):
        dense_to_sparse(torch.zeros(3, 4))
