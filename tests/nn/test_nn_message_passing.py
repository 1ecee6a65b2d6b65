"""Message passing: leading dims in one kernel call, explicit vs fused paths, dense references."""

from __future__ import annotations

import pytest
import torch

from sciml.nn import AbstractMessagePassing, propagate, sparse_to_dense

N = 7


@pytest.fixture
def graph() -> tuple[torch.Tensor, torch.Tensor]:
    ei = torch.randint(0, N, (2, 20))
    return ei, torch.rand(20, dtype=torch.float64)


def test_propagate_leading_dims_match_dense(graph):
    ei, ew = graph
    x = torch.randn(2, 3, N, 4, dtype=torch.float64)
    op = sparse_to_dense(ei, N, ew).T
    torch.testing.assert_close(propagate(x, ei, ew), op @ x)
    torch.testing.assert_close(propagate(x[0, 0], ei, ew), op @ x[0, 0])
    torch.testing.assert_close(propagate(x, ei), sparse_to_dense(ei, N).T.double() @ x)


def test_propagate_per_channel_weight(graph):
    ei, _ = graph
    x = torch.randn(2, 3, N, 4, dtype=torch.float64)
    w = torch.rand(20, 4, dtype=torch.float64)
    expected = torch.stack(
        [sparse_to_dense(ei, N, w[:, c]).T @ x[..., c : c + 1] for c in range(4)], dim=-1
    )
    torch.testing.assert_close(propagate(x, ei, w), expected.squeeze(-2))
    with pytest.raises(ValueError, match="channels"):
        propagate(x, ei, w[:, :3])


def test_propagate_mean_and_max(graph):
    ei, _ = graph
    x = torch.randn(3, N, 2, dtype=torch.float64)
    mean = propagate(x, ei, reduce="mean")
    mx = propagate(x, ei, reduce="max")
    for i in range(N):
        src = ei[0, ei[1] == i]
        if len(src) == 0:
            assert mean[:, i].abs().sum() == 0 and mx[:, i].abs().sum() == 0
        else:
            torch.testing.assert_close(mean[:, i], x[:, src].mean(1))
            torch.testing.assert_close(mx[:, i], x[:, src].amax(1))
    with pytest.raises(ValueError, match="reduce must be one of"):
        propagate(x, ei, reduce="prod")


class _WeightedCopy(AbstractMessagePassing):
    """Same formula as the default message, but overridden: exercises the explicit path."""

    def message(self, x_src, x_dst, edge_attr):
        return x_src * edge_attr.unsqueeze(-1)


class _Difference(AbstractMessagePassing):
    """A message of source and target: sum_{j->i} (x_j - x_i), i.e. the negative Laplacian."""

    def message(self, x_src, x_dst, edge_attr):
        return x_src - x_dst

    def update(self, aggregated, x):
        return aggregated + x


def test_explicit_path_equals_fused(graph):
    ei, ew = graph
    x = torch.randn(2, N, 3, dtype=torch.float64, requires_grad=True)
    fused = AbstractMessagePassing().propagate(x, ei, ew)
    explicit = _WeightedCopy().propagate(x, ei, ew)
    torch.testing.assert_close(fused, explicit)
    g1, = torch.autograd.grad(fused.square().sum(), x)
    g2, = torch.autograd.grad(explicit.square().sum(), x)
    torch.testing.assert_close(g1, g2)
    torch.testing.assert_close(
        _WeightedCopy(reduce="max").propagate(x, ei, ew),
        AbstractMessagePassing(reduce="max").propagate(x, ei, ew),
    )


def test_custom_message_matches_dense_laplacian(graph):
    ei, _ = graph
    x = torch.randn(2, N, 3, dtype=torch.float64)
    adj = sparse_to_dense(ei, N).double()
    lap = adj.T - torch.diag(adj.sum(0))
    torch.testing.assert_close(_Difference().propagate(x, ei), lap @ x + x)


def test_bad_reduce_and_rank():
    with pytest.raises(ValueError, match="reduce must be one of"):
        AbstractMessagePassing(reduce="median")
    with pytest.raises(ValueError, match="at least 2 dims"):
        propagate(torch.randn(5), torch.zeros(2, 1, dtype=torch.long))
