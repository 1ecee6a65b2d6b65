"""Graph polynomial vector autoregression (GPVAR): synthetic spatiotemporal data on a graph.

The process of Zambon & Alippi ("AZ-whiteness test: a test for uncorrelated noise on spatio-temporal
graphs", NeurIPS 2022), used as a synthetic benchmark in Cini et al. ("Graph Deep Learning for Time
Series Forecasting", 2023):

    x_t = tanh( Σ_{l=1..L} Σ_{q=0..Q} Θ[q, l-1] Â^q x_{t-l} ) + η_t,    η_t ~ N(0, σ² I)

with x_t ∈ R^N one value per node, Â = D̃^{-1/2} (A + I) D̃^{-1/2} the symmetrically normalised
adjacency with self loops (Kipf & Welling, ICLR 2017; eigenvalues in (-1, 1]), and Θ the
(Q+1) × L filter coefficients shared by all nodes. The tanh keeps every x_t in [-1, 1] before the
noise is added, so the process cannot diverge whatever Θ is.

Numpy and scipy; seeded; vectorised over nodes (a Python loop over time). By default the graph
is the connected random geometric graph at the connectivity threshold and Â is dense (small
graphs); with ``mean_degree`` the graph has a fixed expected degree whatever N, is built with a
k-d tree and Â is a sparse matrix applied by Horner's rule, so that generating 10⁴ or more nodes
costs time and memory linear in the edges (benchmarks/forecast_vs_tsl.py, its scaling curve).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix, diags, issparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

__all__ = [
    "GPVAR_DEFAULT_THETA",
    "GPVAR_AZ_THETA",
    "GPVARSeries",
    "random_geometric_graph",
    "fixed_degree_geometric_graph",
    "normalized_adjacency",
    "sparse_normalized_adjacency",
    "gpvar_filters",
    "simulate_gpvar",
    "generate_gpvar",
]

#: Θ of the AZ-whiteness paper's experiments (rows q = 0, 1, 2; columns lag l = 1, 2).
#: With these large gains the tanh saturates: the series jumps between about ±1, the constant
#: (λ = 1) graph mode dominates, and a node-local linear AR fits it as well as a graph one.
GPVAR_AZ_THETA = np.array([[5.0, 2.0], [-4.0, 6.0], [-1.0, 0.0]])

#: Our default Θ (rows q = 0, 1, 2; columns lag l = 1, 2), chosen by a small seeded search for
#: dynamics that are not saturated (std of x ≈ 0.46 for σ = 0.2) and where the graph matters: on
#: 30–60 nodes a least-squares linear GPVAR reaches a one-step MSE within ~8% of σ², while a
#: node-local linear AR(2) has about twice σ² (tests/solvers/test_gpvar.py checks this).
GPVAR_DEFAULT_THETA = np.array([[1.0, -0.9], [-1.6, 0.9], [-0.7, -0.9]])


@dataclass(frozen=True)
class GPVARSeries:
    """A generated GPVAR series and its graph.

    Attributes:
        values: (T, N) the series x_t.
        noise: (T, N) the innovations η_t that were added (for checks against the noise level).
        edge_index: (2, E) int64 undirected edges in both directions, ``[src; dst]``, no self loops.
        pos: (N, 2) node positions of the random geometric graph in the unit square.
        adjacency: (N, N) the normalised adjacency Â the process was generated with (a scipy
            CSR matrix for a graph of fixed ``mean_degree``).
        theta: (Q+1, L) filter coefficients.
    """

    values: np.ndarray
    noise: np.ndarray
    edge_index: np.ndarray
    pos: np.ndarray
    adjacency: np.ndarray | csr_matrix
    theta: np.ndarray


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def random_geometric_graph(
    n_nodes: int, rng: np.random.Generator, radius: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A connected random geometric graph: nodes uniform in the unit square, edges within a radius.

    Without ``radius`` the connectivity threshold ``sqrt(2 log N / (π N))`` is used and grown by
    10% until the graph is connected, so the result is connected and sparse.

    Args:
        n_nodes: Number of nodes N (>= 2).
        rng: Numpy generator (the only source of randomness).
        radius: Fixed connection radius; with it the graph may be disconnected (an error).

    Returns:
        ``(edge_index (2, E) int64, pos (N, 2))`` with both directions of each edge, sorted.
    """
    n_nodes = _check_int("n_nodes", n_nodes, 2)
    pos = rng.random((n_nodes, 2))
    dist = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1)
    np.fill_diagonal(dist, np.inf)
    r = float(np.sqrt(2.0 * np.log(n_nodes) / (np.pi * n_nodes))) if radius is None else radius
    if r <= 0:
        raise ValueError(f"radius must be > 0, got {radius!r}")
    while True:
        adj = dist <= r
        n_comp, _ = connected_components(coo_matrix(adj), directed=False)
        if n_comp == 1:
            break
        if radius is not None:
            raise ValueError(
                f"the random geometric graph with radius={radius} on {n_nodes} nodes has "
                f"{n_comp} connected components; use a larger radius or radius=None"
            )
        r *= 1.1
    src, dst = np.nonzero(adj)
    return np.stack([src, dst]).astype(np.int64), pos


def fixed_degree_geometric_graph(n_nodes: int, mean_degree: float, rng: np.random.Generator
                                 ) -> tuple[np.ndarray, np.ndarray]:
    """A random geometric graph of a given expected degree: nodes uniform in the unit square,
    edges within the radius ``sqrt(mean_degree / (π N))`` (so about ``mean_degree`` neighbours
    away from the border, the same density for every N), found with a k-d tree. It may be
    disconnected (below the connectivity threshold ``2 log N`` of the mean degree).

    Args:
        n_nodes: Number of nodes N (>= 2).
        mean_degree: Expected number of neighbours (> 0).
        rng: Numpy generator (the only source of randomness).

    Returns:
        ``(edge_index (2, E) int64, pos (N, 2))`` with both directions of each edge, sorted.
    """
    n_nodes = _check_int("n_nodes", n_nodes, 2)
    if isinstance(mean_degree, bool) or not (isinstance(mean_degree, (int, float))
            and math.isfinite(mean_degree)
            and 0 < mean_degree < n_nodes):
        raise ValueError(f"mean_degree must be a number in (0, n_nodes), got {mean_degree!r}")
    pos = rng.random((n_nodes, 2))
    pairs = cKDTree(pos).query_pairs(math.sqrt(mean_degree / (math.pi * n_nodes)),
                                     output_type="ndarray")
    src = np.concatenate([pairs[:, 0], pairs[:, 1]])
    dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.lexsort((dst, src))
    return np.stack([src[order], dst[order]]).astype(np.int64), pos


def sparse_normalized_adjacency(edge_index: np.ndarray, n_nodes: int) -> csr_matrix:
    """:func:`normalized_adjacency` as a scipy CSR matrix (same entries)."""
    edge_index = np.asarray(edge_index)
    loops = np.arange(n_nodes)
    rows = np.concatenate([edge_index[0], loops])
    cols = np.concatenate([edge_index[1], loops])
    a = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_nodes, n_nodes))
    a.data[:] = 1.0  # duplicate edges count once, as in the dense version
    d = diags(1.0 / np.sqrt(np.asarray(a.sum(axis=1)).ravel()))
    return (d @ a @ d).tocsr()


def normalized_adjacency(edge_index: np.ndarray, n_nodes: int) -> np.ndarray:
    """Dense GCN-normalised adjacency ``D̃^{-1/2} (A + I) D̃^{-1/2}`` of an unweighted graph.

    Args:
        edge_index: (2, E) edges ``[src; dst]`` (both directions for an undirected graph).
        n_nodes: Number of nodes N.

    Returns:
        (N, N) float64 matrix.
    """
    edge_index = np.asarray(edge_index)
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, E), got {edge_index.shape}")
    a = np.zeros((n_nodes, n_nodes))
    a[edge_index[0], edge_index[1]] = 1.0
    np.fill_diagonal(a, 1.0)
    d = 1.0 / np.sqrt(a.sum(axis=1))
    return d[:, None] * a * d[None, :]


def gpvar_filters(adjacency: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """The per-lag graph filters ``P_l = Σ_q Θ[q, l-1] Â^q``.

    Args:
        adjacency: (N, N) graph shift operator Â.
        theta: (Q+1, L) coefficients.

    Returns:
        (L, N, N) array; ``P[l-1]`` multiplies ``x_{t-l}``.
    """
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim != 2:
        raise ValueError(f"theta must have shape (Q+1, L), got {theta.shape}")
    n = adjacency.shape[0]
    powers = [np.eye(n)]
    for _ in range(1, theta.shape[0]):
        powers.append(powers[-1] @ adjacency)
    return np.einsum("ql,qij->lij", theta, np.stack(powers))


def simulate_gpvar(
    adjacency: np.ndarray,
    theta: np.ndarray,
    n_steps: int,
    noise_std: float,
    rng: np.random.Generator,
    burn_in: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """Run the GPVAR recursion ``x_t = tanh(Σ_l P_l x_{t-l}) + η_t``.

    The first L states are pure noise; the first ``burn_in`` steps are then dropped so the returned
    series starts (close to) the stationary regime.

    Args:
        adjacency: (N, N) graph shift operator Â, dense or scipy sparse (then applied by
            Horner's rule; the same values up to rounding).
        theta: (Q+1, L) coefficients.
        n_steps: Length T of the returned series.
        noise_std: σ of the Gaussian innovations (>= 0).
        rng: Numpy generator.
        burn_in: Initial steps simulated and discarded.

    Returns:
        ``(values (T, N), noise (T, N))``.
    """
    n_steps = _check_int("n_steps", n_steps, 1)
    burn_in = _check_int("burn_in", burn_in, 0)
    if not np.isfinite(noise_std) or noise_std < 0:
        raise ValueError(f"noise_std must be a finite number >= 0, got {noise_std!r}")
    theta = np.asarray(theta, dtype=np.float64)
    sparse = issparse(adjacency)
    filters = None if sparse else gpvar_filters(adjacency, theta)
    n_lags, n = theta.shape[1], adjacency.shape[0]
    total = n_lags + burn_in + n_steps
    noise = noise_std * rng.standard_normal((total, n))
    x = np.empty((total, n))
    x[:n_lags] = noise[:n_lags]
    for t in range(n_lags, total):
        # x[t-1], ..., x[t-L] stacked as (L, N) to match filters[0], ..., filters[L-1]
        past = x[t - n_lags:t][::-1]
        if sparse:  # Σ_q Â^q (Σ_l Θ[q, l] x_{t-l}) by Horner's rule: sparse products only
            mixed = theta @ past                                           # (Q+1, N)
            z = mixed[-1]
            for q in range(theta.shape[0] - 2, -1, -1):
                z = adjacency @ z + mixed[q]
        else:
            z = np.einsum("lij,lj->i", filters, past)
        x[t] = np.tanh(z) + noise[t]
    start = n_lags + burn_in
    return x[start:], noise[start:]


def generate_gpvar(
    n_nodes: int = 40,
    n_steps: int = 5000,
    theta: np.ndarray | None = None,
    noise_std: float = 0.2,
    seed: int = 0,
    burn_in: int = 100,
    mean_degree: float | None = None,
) -> GPVARSeries:
    """A seeded GPVAR series on a connected random geometric graph (or, with ``mean_degree``,
    one of that expected degree: :func:`fixed_degree_geometric_graph`, sparse Â).

    Defaults: N = 40 nodes, T = 5000 steps, Θ = :data:`GPVAR_DEFAULT_THETA` (Q = 2, L = 2 like
    Zambon & Alippi 2022, but smaller gains than their :data:`GPVAR_AZ_THETA`, see there),
    σ = 0.2 (their noise level), 100 burn-in steps. The series is bounded (|x_t| <= 1 + |η_t|);
    with the default Θ the graph terms explain most of its predictable part.

    Args:
        n_nodes: Number of nodes N.
        n_steps: Number of time steps T.
        theta: (Q+1, L) filter coefficients; None = the default.
        noise_std: Innovation standard deviation σ.
        seed: Seeds both the graph and the noise.
        burn_in: Discarded initial steps.
        mean_degree: Expected node degree of the graph, the same density for every N (None:
            the connectivity threshold, a degree of about 2 log N, and a dense Â).

    Returns:
        A :class:`GPVARSeries`.
    """
    theta = GPVAR_DEFAULT_THETA if theta is None else np.asarray(theta, dtype=np.float64)
    if theta.ndim != 2 or theta.shape[1] < 1 or not np.all(np.isfinite(theta)):
        raise ValueError(f"theta must be a finite (Q+1, L) array with L >= 1, got {theta!r}")
    graph_rng, noise_rng = (np.random.default_rng(s)
                            for s in np.random.SeedSequence(seed).spawn(2))
    if mean_degree is None:
        edge_index, pos = random_geometric_graph(n_nodes, graph_rng)
        adjacency = normalized_adjacency(edge_index, n_nodes)
    else:
        edge_index, pos = fixed_degree_geometric_graph(n_nodes, mean_degree, graph_rng)
        adjacency = sparse_normalized_adjacency(edge_index, n_nodes)
    values, noise = simulate_gpvar(adjacency, theta, n_steps, noise_std, noise_rng, burn_in)
    return GPVARSeries(values=values, noise=noise, edge_index=edge_index, pos=pos,
                       adjacency=adjacency, theta=theta.copy())
