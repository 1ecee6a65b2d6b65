"""Exact answers for the planar point-set problems of pointer networks (Vinyals, Fortunato,
Jaitly, NeurIPS 2015): convex hull, Delaunay triangulation and the travelling salesman.

Every answer is a sequence (or set) of indices into the input points, in the paper's canonical
form so that a model has one right output:

- :func:`convex_hull_sequence`: the hull's vertices counter-clockwise, starting from the hull
  vertex with the lowest index (scipy's Qhull);
- :func:`delaunay_triangles`: the triangles as index triples, each sorted, the list sorted
  (scipy's Qhull);
- :func:`tsp_exact`: the shortest closed tour by Held-Karp dynamic programming, O(n² 2ⁿ), for n
  up to :data:`TSP_EXACT_MAX`; :func:`tsp_two_opt`: nearest-neighbour tours from several starts
  improved by 2-opt until no exchange shortens them (the strong heuristic for larger n, as the
  paper compares with); both start at point 0 and go towards the smaller of its two neighbours.
"""

from __future__ import annotations

import numpy as np

__all__ = ["convex_hull_sequence", "delaunay_triangles", "tsp_exact", "tsp_two_opt",
           "tour_length", "canonical_tour", "polygon_area", "TSP_EXACT_MAX"]

#: the largest n solved exactly (2ⁿ n states)
TSP_EXACT_MAX = 13


def _points(points: np.ndarray) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or len(p) < 3:
        raise ValueError(f"points must be (n >= 3, 2), got {p.shape}")
    if not np.isfinite(p).all():
        raise ValueError("points must be finite")
    return p


def convex_hull_sequence(points: np.ndarray) -> list[int]:
    """The hull's vertex indices, counter-clockwise from the lowest index."""
    from scipy.spatial import ConvexHull

    v = [int(i) for i in ConvexHull(_points(points)).vertices]  # counter-clockwise in 2-D
    k = v.index(min(v))
    return v[k:] + v[:k]


def polygon_area(points: np.ndarray, seq: list[int]) -> float:
    """The area of the polygon through ``points[seq]`` (shoelace; 0 for fewer than 3 vertices
    or a self-intersecting order's signed sum's absolute value)."""
    if len(seq) < 3:
        return 0.0
    q = np.asarray(points, dtype=np.float64)[list(seq)]
    x, y = q[:, 0], q[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def delaunay_triangles(points: np.ndarray) -> np.ndarray:
    """The Delaunay triangles ``(m, 3)``: each row sorted, rows in lexicographic order."""
    from scipy.spatial import Delaunay

    t = np.sort(Delaunay(_points(points)).simplices, axis=1)
    return t[np.lexsort(t.T[::-1])].astype(np.int64)


def tour_length(points: np.ndarray, tour: list[int]) -> float:
    """The length of the closed tour through ``points[tour]``."""
    q = np.asarray(points, dtype=np.float64)[list(tour)]
    return float(np.linalg.norm(q - np.roll(q, -1, axis=0), axis=1).sum())


def canonical_tour(tour: list[int]) -> list[int]:
    """The tour from point 0, towards the smaller of its two neighbours."""
    t = [int(i) for i in tour]
    k = t.index(0)
    t = t[k:] + t[:k]
    return t if len(t) < 3 or t[1] < t[-1] else [t[0]] + t[1:][::-1]


def tsp_exact(points: np.ndarray) -> list[int]:
    """The shortest closed tour (Held-Karp), canonical (see :func:`canonical_tour`)."""
    p = _points(points)
    n = len(p)
    if n > TSP_EXACT_MAX:
        raise ValueError(f"tsp_exact: n = {n} > {TSP_EXACT_MAX} (2^n n states); use "
                         "tsp_two_opt")
    d = np.linalg.norm(p[:, None] - p[None], axis=-1)
    m = n - 1  # cities 1 … n-1 as bits 0 … m-1; the tour starts and ends at 0
    full = 1 << m
    cost = np.full((full, m), np.inf)
    parent = np.full((full, m), -1, dtype=np.int64)
    for j in range(m):
        cost[1 << j, j] = d[0, j + 1]
    sizes = np.array([bin(s).count("1") for s in range(full)])
    for size in range(2, m + 1):
        for s in np.nonzero(sizes == size)[0]:
            for j in range(m):
                if not s >> j & 1:
                    continue
                prev = s ^ (1 << j)
                ks = [k for k in range(m) if prev >> k & 1]
                c = cost[prev, ks] + d[np.array(ks) + 1, j + 1]
                b = int(np.argmin(c))
                cost[s, j], parent[s, j] = c[b], ks[b]
    last = int(np.argmin(cost[full - 1] + d[1:, 0]))
    tour, s, j = [], full - 1, last
    while j >= 0:
        tour.append(j + 1)
        s, j = s ^ (1 << j), int(parent[s, j])
    return canonical_tour([0] + tour[::-1])


def tsp_two_opt(points: np.ndarray, starts: int = 5, seed: int = 0) -> list[int]:
    """Nearest-neighbour tours from ``starts`` start points, each improved by 2-opt to a local
    optimum; the shortest, canonical."""
    p = _points(points)
    n = len(p)
    d = np.linalg.norm(p[:, None] - p[None], axis=-1)
    rng = np.random.default_rng(seed)
    best, best_len = None, np.inf
    for s in [0, *rng.choice(n, size=min(starts, n) - 1, replace=False).tolist()][:starts]:
        tour, left = [int(s)], set(range(n)) - {int(s)}
        while left:
            nxt = min(left, key=lambda j: d[tour[-1], j])
            tour.append(nxt)
            left.remove(nxt)
        t = np.array(tour)
        improved = True
        while improved:
            improved = False
            for i in range(n - 2):
                a, b = t[i], t[i + 1]
                c, e = t[i + 2:], np.roll(t, -1)[i + 2:]
                if i == 0:
                    c, e = c[:-1], e[:-1]  # the edge back to t[0] shares a vertex
                if not len(c):
                    continue
                gain = d[a, b] + d[c, e] - d[a, c] - d[b, e]
                k = int(np.argmax(gain))
                if gain[k] > 1e-12:
                    j = i + 2 + k
                    t[i + 1:j + 1] = t[i + 1:j + 1][::-1]
                    improved = True
        length = tour_length(p, t.tolist())
        if length < best_len:
            best, best_len = t.tolist(), length
    return canonical_tour(best)
