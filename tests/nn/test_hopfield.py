"""Modern Hopfield layers: retrieval, the fixed-point regimes in β, and the layers' algebra."""

from __future__ import annotations

import pytest
import torch

from sciml.nn import Hopfield, HopfieldLayer, HopfieldPooling, hopfield_update


def _energy(xi: torch.Tensor, x: torch.Tensor, beta: float) -> torch.Tensor:
    return -torch.logsumexp(beta * x @ xi, 0) / beta + 0.5 * xi @ xi


def test_one_update_retrieves_a_well_separated_pattern():
    torch.manual_seed(0)
    x = torch.randn(20, 64, dtype=torch.float64)  # rows: patterns, |x|² ≈ 64
    noisy = x + 0.3 * torch.randn_like(x)
    out = hopfield_update(noisy, x, beta=1.0, steps=1)
    assert torch.allclose(out, x, atol=1e-6)
    # and the energy went down
    for i in range(20):
        assert _energy(out[i], x, 1.0) <= _energy(noisy[i], x, 1.0)


def test_the_three_fixed_point_regimes_as_beta_varies():
    """Small β: the global fixed point (mean of all patterns); intermediate β: a metastable
    state averaging the cluster of similar patterns the query is near; large β: one pattern."""
    torch.manual_seed(1)
    d = 64
    centre = torch.randn(d, dtype=torch.float64)
    cluster = centre + 0.05 * torch.randn(3, d, dtype=torch.float64)
    others = torch.randn(7, d, dtype=torch.float64)
    x = torch.cat([cluster, others])
    query = (cluster[1] + 1e-3 * torch.randn(d, dtype=torch.float64))[None]

    def dist(a, b):
        return float((a - b).norm() / b.norm())

    glob = hopfield_update(query, x, beta=1e-4, steps=1)[0]
    assert dist(glob, x.mean(0)) < 0.02
    meta = hopfield_update(query, x, beta=0.5, steps=3)[0]
    assert dist(meta, cluster.mean(0)) < 0.01
    assert min(dist(meta, c) for c in cluster) > 2 * dist(meta, cluster.mean(0))
    single = hopfield_update(query, x, beta=200.0, steps=3)[0]
    assert min(dist(single, p) for p in cluster) < 1e-6  # one stored pattern, not an average


def test_the_layer_with_identity_maps_is_the_update_rule():
    torch.manual_seed(2)
    d = 8
    layer = Hopfield(d, hidden_size=d, beta=0.7, update_steps=2, normalize=False).double()
    with torch.no_grad():
        for lin in (layer.q, layer.k, layer.v, layer.out):
            lin.weight.copy_(torch.eye(d))
            lin.bias.zero_()
    r, y = torch.randn(3, 5, d, dtype=torch.float64), torch.randn(3, 11, d, dtype=torch.float64)
    torch.testing.assert_close(layer(r, y), hopfield_update(r, y, 0.7, steps=3))


def test_pooling_ignores_padding_and_order():
    torch.manual_seed(3)
    pool = HopfieldPooling(6, queries=2, hidden_size=8, heads=2, output_size=5).eval()
    bag = torch.randn(1, 7, 6)
    padded = torch.cat([bag, 100 * torch.randn(1, 3, 6)], dim=1)
    mask = torch.tensor([[False] * 7 + [True] * 3])
    out = pool(bag)
    assert out.shape == (1, 10)
    torch.testing.assert_close(pool(padded, mask), out)
    torch.testing.assert_close(pool(bag[:, torch.randperm(7)]), out)


def test_hopfield_layer_learns_its_memory():
    torch.manual_seed(4)
    layer = HopfieldLayer(4, quantity=6, hidden_size=8, output_size=3)
    out = layer(torch.randn(2, 5, 4))
    assert out.shape == (2, 5, 3)
    out.sum().backward()
    assert layer.memory.grad.abs().sum() > 0


@pytest.mark.parametrize("kwargs, message", [
    ({"heads": 0}, "heads must be a positive integer"),
    ({"beta": -1.0}, "beta must be > 0"),
    ({"update_steps": -1}, "update_steps must be an integer >= 0"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Hopfield(4, **kwargs)
