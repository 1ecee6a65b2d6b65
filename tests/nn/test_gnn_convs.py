"""GCN, GraphSAGE and GAT against PyG's layers of the same name on the same weights."""

from __future__ import annotations

import pytest
import torch

from sciml.nn import GATConv, GCNConv, SAGEConv

pyg = pytest.importorskip("torch_geometric.nn")


def _graph(n=30, e=120, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    ei = ei[:, ei[0] != ei[1]]  # no self loops (as Cora)
    ei = torch.unique(torch.cat([ei, ei.flip(0)], 1), dim=1)  # undirected, no duplicates
    x = torch.randn(n, 7, generator=g, dtype=torch.float64)
    return x, ei


def test_gcn_equals_pyg():
    x, ei = _graph()
    ours = GCNConv(7, 5).double()
    ref = pyg.GCNConv(7, 5).double()
    with torch.no_grad():
        ref.lin.weight.copy_(ours.lin.weight)
        ours.bias.normal_()
        ref.bias.copy_(ours.bias)
    w = torch.rand(ei.shape[1], dtype=torch.float64)
    torch.testing.assert_close(ours(x, ei), ref(x, ei), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ours(x, ei, w), ref(x, ei, w), rtol=1e-12, atol=1e-12)
    # leading batch dimensions: each slice as alone
    xb = torch.stack([x, 2 * x])
    torch.testing.assert_close(ours(xb, ei)[1], ours(2 * x, ei))


def test_gcn_cache_keeps_the_first_graph():
    x, ei = _graph()
    conv = GCNConv(7, 3, cached=True).double()
    first = conv(x, ei)
    _, other = _graph(seed=1)
    torch.testing.assert_close(conv(x, other), first)  # cached: the first graph's weights
    conv.reset_cache()
    assert not torch.allclose(conv(x, other), first)


@pytest.mark.parametrize("normalize", [False, True])
def test_sage_equals_pyg(normalize):
    x, ei = _graph()
    ours = SAGEConv(7, 4, normalize=normalize).double()
    ref = pyg.SAGEConv(7, 4, aggr="mean", normalize=normalize).double()
    with torch.no_grad():
        ref.lin_l.weight.copy_(ours.lin_neighbors.weight)
        ref.lin_l.bias.copy_(ours.lin_neighbors.bias)
        ref.lin_r.weight.copy_(ours.lin_root.weight)
    torch.testing.assert_close(ours(x, ei), ref(x, ei), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("concat", [True, False])
def test_gat_equals_pyg(concat):
    x, ei = _graph()
    ours = GATConv(7, 4, heads=3, concat=concat).double()
    ref = pyg.GATConv(7, 4, heads=3, concat=concat).double()
    with torch.no_grad():
        ref.lin.weight.copy_(ours.lin.weight)
        ref.att_src.copy_(ours.att_src)
        ref.att_dst.copy_(ours.att_dst)
        ours.bias.normal_()
        ref.bias.copy_(ours.bias)
    ours.eval(), ref.eval()
    out, edges, alpha = ours(x, ei, return_attention=True)
    ref_out, (ref_edges, ref_alpha) = ref(x, ei, return_attention_weights=True)
    torch.testing.assert_close(out, ref_out, rtol=1e-12, atol=1e-12)
    # the same coefficient on the same edge
    ours_map = {(int(s), int(d)): alpha[k] for k, (s, d) in enumerate(edges.T)}
    for k, (s, d) in enumerate(ref_edges.T):
        torch.testing.assert_close(ours_map[(int(s), int(d))], ref_alpha[k])


def test_gat_attention_sums_to_one_and_dropout_only_in_training():
    x, ei = _graph()
    conv = GATConv(7, 2, heads=2, dropout=0.5).double()
    conv.eval()
    _, edges, alpha = conv(x, ei, return_attention=True)
    sums = torch.zeros(x.shape[0], 2, dtype=torch.float64).index_add_(0, edges[1], alpha)
    torch.testing.assert_close(sums, torch.ones_like(sums))
    torch.testing.assert_close(conv(x, ei), conv(x, ei))
    conv.train()
    torch.manual_seed(0)
    assert not torch.allclose(conv(x, ei), conv(x, ei))


def test_gradients_flow_and_bad_shapes_are_named():
    x, ei = _graph()
    x.requires_grad_(True)
    for conv in (GCNConv(7, 3), SAGEConv(7, 3), GATConv(7, 3, heads=2)):
        conv = conv.double()
        conv(x, ei).square().sum().backward()
        assert all(p.grad is not None for p in conv.parameters())
        with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., N, 7\)"):
            conv(torch.zeros(30, 6, dtype=torch.float64), ei)
