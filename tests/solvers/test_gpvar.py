"""GPVAR generator: reproducible, bounded, graph-dependent dynamics."""

from __future__ import annotations

import numpy as np
import pytest
from sciml.solvers import (
    GPVAR_AZ_THETA,
    GPVAR_DEFAULT_THETA,
    fixed_degree_geometric_graph,
    generate_gpvar,
    gpvar_filters,
    normalized_adjacency,
    random_geometric_graph,
    simulate_gpvar,
    sparse_normalized_adjacency,
)
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _lagged_features(x: np.ndarray, adjacency: np.ndarray, n_hops: int, n_lags: int = 2):
    """Regressors Â^q x_{t-l} (q < n_hops, l <= n_lags), shared by all nodes; targets x_t."""
    t = x.shape[0]
    cols = []
    for lag in range(1, n_lags + 1):
        z = x[n_lags - lag:t - lag]
        for _ in range(n_hops):
            cols.append(z.reshape(-1))
            z = z @ adjacency.T
    return np.stack(cols, axis=1), x[n_lags:].reshape(-1)


def _ls_mse(features: np.ndarray, target: np.ndarray) -> float:
    coef, *_ = np.linalg.lstsq(features, target, rcond=None)
    return float(np.mean((target - features @ coef) ** 2))


def test_graph_is_connected_symmetric_without_self_loops(rng):
    edge_index, pos = random_geometric_graph(50, rng)
    assert pos.shape == (50, 2)
    assert edge_index.dtype == np.int64 and edge_index.shape[0] == 2
    assert not np.any(edge_index[0] == edge_index[1])
    a = coo_matrix((np.ones(edge_index.shape[1]), tuple(edge_index)), shape=(50, 50)).toarray()
    np.testing.assert_array_equal(a, a.T)
    assert connected_components(a, directed=False)[0] == 1


def test_fixed_radius_disconnected_is_an_error(rng):
    with pytest.raises(ValueError, match=r"radius=0\.01.*connected components"):
        random_geometric_graph(20, rng, radius=0.01)


def test_normalized_adjacency_spectrum_and_filters():
    # path graph 0-1-2: degrees with self loops 2, 3, 2
    edge_index = np.array([[0, 1, 1, 2], [1, 0, 2, 1]])
    a = normalized_adjacency(edge_index, 3)
    assert a[0, 1] == pytest.approx(1 / np.sqrt(6))
    assert a[1, 1] == pytest.approx(1 / 3)
    eig = np.linalg.eigvalsh(a)
    assert eig.max() == pytest.approx(1.0) and eig.min() > -1.0
    theta = np.array([[1.0, 2.0], [3.0, 0.0], [0.5, -1.0]])
    p = gpvar_filters(a, theta)
    np.testing.assert_allclose(p[0], np.eye(3) + 3 * a + 0.5 * a @ a)
    np.testing.assert_allclose(p[1], 2 * np.eye(3) - a @ a)


def test_simulation_matches_recursion(rng):
    edge_index, _ = random_geometric_graph(6, rng)
    a = normalized_adjacency(edge_index, 6)
    theta = np.array([[0.5, -0.2], [0.3, 0.1]])
    x, eta = simulate_gpvar(a, theta, n_steps=20, noise_std=0.1, rng=rng, burn_in=5)
    p1, p2 = gpvar_filters(a, theta)
    for t in range(2, 20):
        expected = np.tanh(p1 @ x[t - 1] + p2 @ x[t - 2]) + eta[t]
        np.testing.assert_allclose(x[t], expected, rtol=1e-12, atol=1e-12)


def test_seeded_and_bounded():
    s1 = generate_gpvar(n_nodes=30, n_steps=500, seed=3)
    s2 = generate_gpvar(n_nodes=30, n_steps=500, seed=3)
    s3 = generate_gpvar(n_nodes=30, n_steps=500, seed=4)
    np.testing.assert_array_equal(s1.values, s2.values)
    np.testing.assert_array_equal(s1.edge_index, s2.edge_index)
    assert not np.allclose(s1.values, s3.values)
    assert s1.values.shape == (500, 30)
    assert np.all(np.isfinite(s1.values))
    # tanh bounds the signal part: |x_t - η_t| <= 1
    assert np.all(np.abs(s1.values - s1.noise) <= 1.0)
    # the even strongly saturating AZ coefficients stay bounded
    az = generate_gpvar(n_nodes=30, n_steps=300, theta=GPVAR_AZ_THETA, seed=0)
    assert np.all(np.abs(az.values - az.noise) <= 1.0)


@pytest.mark.parametrize("n_nodes,seed", [(30, 0), (60, 1)])
def test_graph_terms_matter(n_nodes, seed):
    sigma = 0.2
    s = generate_gpvar(n_nodes=n_nodes, n_steps=3000, noise_std=sigma, seed=seed)
    # the series is not mostly noise
    assert s.values.std() > 1.5 * sigma
    # the innovations are at the requested level
    assert s.noise.std() == pytest.approx(sigma, rel=0.05)
    local = _ls_mse(*_lagged_features(s.values, s.adjacency, n_hops=1))
    graph = _ls_mse(*_lagged_features(s.values, s.adjacency, n_hops=3))
    # a linear GPVAR fitted by least squares gets near the noise floor; a node-local AR does not
    assert graph < 1.2 * sigma**2
    assert local > 1.6 * graph


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_nodes must be an integer >= 2"):
        generate_gpvar(n_nodes=1)
    with pytest.raises(ValueError, match="n_steps must be an integer >= 1"):
        generate_gpvar(n_nodes=5, n_steps=0)
    with pytest.raises(ValueError, match="noise_std must be a finite number >= 0"):
        generate_gpvar(n_nodes=5, n_steps=5, noise_std=-1.0)
    with pytest.raises(ValueError, match=r"theta must be a finite \(Q\+1, L\) array"):
        generate_gpvar(n_nodes=5, n_steps=5, theta=np.ones(3))


def test_sparse_adjacency_gives_the_dense_series(rng):
    """The sparse Â (Horner's rule) and the dense filters simulate the same process."""
    edge_index, _ = random_geometric_graph(60, rng)
    dense = normalized_adjacency(edge_index, 60)
    sparse = sparse_normalized_adjacency(edge_index, 60)
    np.testing.assert_allclose(sparse.toarray(), dense, rtol=0, atol=1e-15)
    a, _ = simulate_gpvar(dense, GPVAR_DEFAULT_THETA, 200, 0.2, np.random.default_rng(1))
    b, _ = simulate_gpvar(sparse, GPVAR_DEFAULT_THETA, 200, 0.2, np.random.default_rng(1))
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)


def test_fixed_degree_graph_keeps_its_density(rng):
    for n in (500, 4000):
        edge_index, pos = fixed_degree_geometric_graph(n, 8.0, rng)
        assert pos.shape == (n, 2)
        assert (edge_index[0] != edge_index[1]).all()
        # symmetric: the reversed edges are the same set
        fwd = set(map(tuple, edge_index.T.tolist()))
        assert fwd == {(j, i) for i, j in fwd}
        # the border loses some neighbours: a bit under 8 on average, the same for every n
        assert 7.0 < edge_index.shape[1] / n < 8.2
    series = generate_gpvar(n_nodes=3000, n_steps=50, mean_degree=8.0, seed=2)
    assert series.values.shape == (50, 3000) and np.isfinite(series.values).all()
    assert series.adjacency.shape == (3000, 3000) and series.adjacency.nnz < 3000 * 12
    with pytest.raises(ValueError, match="mean_degree"):
        fixed_degree_geometric_graph(10, 0.0, rng)
