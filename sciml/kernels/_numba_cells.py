"""Numba cell-list neighbour search (linked cells), periodic images included.

Points are binned on a per-graph grid in "bin coordinates" ``u = (x - origin) @ A`` (one bin
per unit). A neighbour within ``r`` differs by at most ``m_k = ceil(r * |A[:, k]|)`` bins along
axis ``k``, so scanning ``[-m_k, m_k]`` bins finds every pair. With periodic boundaries, an
unwrapped bin ``t`` maps to the stored bin ``t mod nb`` and the lattice image ``t // nb``; every
(bin, image) pair is visited once, so all images within ``r`` are found (as ASE does), even when
``r`` exceeds the cell. Two passes (count, then fill at prefix-sum offsets) run in parallel
over centre points; each centre's neighbours are then sorted by (src, image) for determinism.
"""

from __future__ import annotations

import contextlib

import numba
import numpy as np
from numba import njit, prange

__all__ = ["cell_neighbors", "one_thread"]

# Below this many points a parallel launch costs more than it saves (and it stalls when the
# cores are busy with other work).
_SERIAL_BELOW = 20_000


@contextlib.contextmanager
def _one_thread():
    """Run the numba kernels of this block on the calling thread only."""
    prev = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(prev)


one_thread = _one_thread


@njit(cache=True, inline="always")
def _visit_open(i, pi0, pi1, pi2, graph, binof, nb, off, mreach, cell, start, order, ps,
                r2, loop, span, half, out_key, out_d2, base, counting):  # pragma: no cover
    g = graph[i]
    n0_, n1_, n2_ = nb[g, 0], nb[g, 1], nb[g, 2]
    lo0, hi0 = max(0, binof[i, 0] - mreach[g, 0]), min(n0_, binof[i, 0] + mreach[g, 0] + 1)
    lo1, hi1 = max(0, binof[i, 1] - mreach[g, 1]), min(n1_, binof[i, 1] + mreach[g, 1] + 1)
    lo2, hi2 = max(0, binof[i, 2] - mreach[g, 2]), min(n2_, binof[i, 2] + mreach[g, 2] + 1)
    img = (half * span + half) * span + half
    span3 = span * span * span
    cnt = 0
    for w0 in range(lo0, hi0):
        for w1 in range(lo1, hi1):
            # Bins along the last axis are adjacent in memory: one contiguous range.
            b = off[g] + (w0 * n1_ + w1) * n2_
            for k in range(start[b + lo2], start[b + hi2]):
                dx = ps[k, 0] - pi0
                dy = ps[k, 1] - pi1
                dz = ps[k, 2] - pi2
                dd = dx * dx + dy * dy + dz * dz
                if dd <= r2:
                    j = order[k]
                    if j == i and not loop:
                        continue
                    if not counting:
                        out_key[base + cnt] = j * span3 + img
                        if out_d2.shape[0] > 0:
                            out_d2[base + cnt] = dd
                    cnt += 1
    return cnt


@njit(cache=True, inline="always")
def _visit_periodic(i, pi0, pi1, pi2, graph, binof, nb, off, mreach, cell, start, order, ps,
                    r2, loop, span, half, out_key, out_d2, base, counting):  # pragma: no cover
    g = graph[i]
    b0, b1, b2 = binof[i, 0], binof[i, 1], binof[i, 2]
    n0_, n1_, n2_ = nb[g, 0], nb[g, 1], nb[g, 2]
    m0, m1, m2 = mreach[g, 0], mreach[g, 1], mreach[g, 2]
    span3 = span * span * span
    # Along the last axis, a centre away from the faces scans one contiguous run of bins.
    inner = b2 - m2 >= 0 and b2 + m2 < n2_
    cnt = 0
    s0 = (b0 - m0) // n0_  # lattice image of the unwrapped bin, updated incrementally
    w0 = b0 - m0 - s0 * n0_
    for _ in range(2 * m0 + 1):
        s1 = (b1 - m1) // n1_
        w1 = b1 - m1 - s1 * n1_
        for _ in range(2 * m1 + 1):
            row = off[g] + (w0 * n1_ + w1) * n2_
            if inner:
                s2 = 0
                w2 = b2 - m2
                reps = 1
            else:
                s2 = (b2 - m2) // n2_
                w2 = b2 - m2 - s2 * n2_
                reps = 2 * m2 + 1
            for _ in range(reps):
                # |p_j + shift - p_i| = |p_j - (p_i - shift)|: shift the centre once per run.
                c0 = pi0 - (s0 * cell[g, 0, 0] + s1 * cell[g, 1, 0] + s2 * cell[g, 2, 0])
                c1 = pi1 - (s0 * cell[g, 0, 1] + s1 * cell[g, 1, 1] + s2 * cell[g, 2, 1])
                c2 = pi2 - (s0 * cell[g, 0, 2] + s1 * cell[g, 1, 2] + s2 * cell[g, 2, 2])
                same_image = s0 == 0 and s1 == 0 and s2 == 0
                img = ((s0 + half) * span + s1 + half) * span + s2 + half
                k_hi = start[row + w2 + 2 * m2 + 1] if inner else start[row + w2 + 1]
                for k in range(start[row + w2], k_hi):
                    dx = ps[k, 0] - c0
                    dy = ps[k, 1] - c1
                    dz = ps[k, 2] - c2
                    dd = dx * dx + dy * dy + dz * dz
                    if dd <= r2:
                        j = order[k]
                        if j == i and same_image and not loop:
                            continue
                        if not counting:
                            out_key[base + cnt] = j * span3 + img
                            if out_d2.shape[0] > 0:
                                out_d2[base + cnt] = dd
                        cnt += 1
                w2 += 1
                if w2 == n2_:
                    w2 = 0
                    s2 += 1
            w1 += 1
            if w1 == n1_:
                w1 = 0
                s1 += 1
        w0 += 1
        if w0 == n0_:
            w0 = 0
            s0 += 1
    return cnt


@njit(cache=True, inline="always")
def _sort_keys(key, lo, hi):  # pragma: no cover - compiled
    """Insertion sort of key[lo:hi] (neighbour lists are short)."""
    for q in range(lo + 1, hi):
        v = key[q]
        p = q
        while p > lo and key[p - 1] > v:
            key[p] = key[p - 1]
            p -= 1
        key[p] = v


@njit(cache=True, inline="always")
def _sort_by_dist(key, d, lo, hi):  # pragma: no cover - compiled
    """Insertion sort of (d, key)[lo:hi] by distance, ties by key."""
    for q in range(lo + 1, hi):
        v = key[q]
        dv = d[q]
        p = q
        while p > lo and (d[p - 1] > dv or (d[p - 1] == dv and key[p - 1] > v)):
            key[p] = key[p - 1]
            d[p] = d[p - 1]
            p -= 1
        key[p] = v
        d[p] = dv


@njit(parallel=True, cache=True)
def _cell_neighbors(pos, graph, binof, nb, off, mreach, cell, periodic, start, order, r,
                    loop, max_nb, wrap):  # pragma: no cover - compiled
    n = pos.shape[0]
    r2 = r * r
    # Lattice images satisfy |s| <= reach + 1: encode (src, image) in one sortable int64.
    half = 1
    if periodic:
        for g in range(mreach.shape[0]):
            for a in range(3):
                half = max(half, mreach[g, a] + 1)
    span = 2 * half + 1
    ps = np.empty((n, 3), dtype=np.float64)  # positions in bin order: contiguous bin scans
    for k in prange(n):
        for a in range(3):
            ps[k, a] = pos[order[k], a]
    counts = np.zeros(n, dtype=np.int64)
    no_key = np.empty(0, dtype=np.int64)
    no_d = np.empty(0, dtype=np.float64)
    # Centres are visited in bin order, so each thread scans a compact region.
    for q in prange(n):
        i = order[q]
        if periodic:
            counts[i] = _visit_periodic(i, ps[q, 0], ps[q, 1], ps[q, 2], graph, binof, nb, off,
                                        mreach, cell, start, order, ps, r2, loop, span, half,
                                        no_key, no_d, 0, True)
        else:
            counts[i] = _visit_open(i, ps[q, 0], ps[q, 1], ps[q, 2], graph, binof, nb, off,
                                    mreach, cell, start, order, ps, r2, loop, span, half,
                                    no_key, no_d, 0, True)
    truncate = False
    ptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        ptr[i + 1] = ptr[i] + counts[i]
        if max_nb >= 0 and counts[i] > max_nb:
            truncate = True
    tot = ptr[n]
    key = np.empty(tot, dtype=np.int64)
    d2 = np.empty(tot if truncate else 0, dtype=np.float64)
    for q in prange(n):
        i = order[q]
        lo = ptr[i]
        if periodic:
            _visit_periodic(i, ps[q, 0], ps[q, 1], ps[q, 2], graph, binof, nb, off, mreach,
                            cell, start, order, ps, r2, loop, span, half, key, d2, lo, False)
        else:
            _visit_open(i, ps[q, 0], ps[q, 1], ps[q, 2], graph, binof, nb, off, mreach, cell,
                        start, order, ps, r2, loop, span, half, key, d2, lo, False)
        c = counts[i]
        if truncate and c > max_nb:
            _sort_by_dist(key, d2, lo, lo + c)
            _sort_keys(key, lo, lo + max_nb)
        else:
            _sort_keys(key, lo, lo + c)
    optr = ptr
    if truncate:  # keep the max_nb nearest of each centre (first in its row)
        optr = np.zeros(n + 1, dtype=np.int64)
        for i in range(n):
            optr[i + 1] = optr[i] + min(counts[i], max_nb)
    span3 = span * span * span
    edges = np.empty((2, optr[n]), dtype=np.int64)
    lattice = np.zeros((optr[n] if periodic else 0, 3), dtype=np.int64)
    shift = np.zeros((optr[n] if periodic else 0, 3), dtype=np.float64)
    for i in prange(n):
        g = graph[i]
        for q in range(optr[i + 1] - optr[i]):
            e = optr[i] + q
            kq = key[ptr[i] + q]
            j = kq // span3
            edges[0, e] = j
            edges[1, e] = i
            if periodic:
                # Image of the wrapped positions -> lattice vector of the original positions.
                code = kq % span3
                lattice[e, 0] = code // (span * span) - half - wrap[j, 0] + wrap[i, 0]
                lattice[e, 1] = (code // span) % span - half - wrap[j, 1] + wrap[i, 1]
                lattice[e, 2] = code % span - half - wrap[j, 2] + wrap[i, 2]
                for a in range(3):
                    shift[e, a] = (lattice[e, 0] * cell[g, 0, a] + lattice[e, 1] * cell[g, 1, a]
                                   + lattice[e, 2] * cell[g, 2, a])
    return edges, lattice, shift


def cell_neighbors(pos, graph, binof, nb, off, mreach, cell, periodic, start, order, r, loop,
                   max_nb, wrap):
    """Run the cell-list search; return ``(edge_index, lattice, shift)``.

    ``edge_index`` is ``(2, E)`` ``[src; dst]`` sorted by dst, src, lattice vector; when
    periodic, ``lattice`` ``(E, 3)`` int64 and ``shift = lattice @ cell`` ``(E, 3)`` float64 give
    the displacement ``pos[src] - pos[dst] + shift`` of the *original* positions (else both are
    ``(0, 3)``).

    Args:
        pos: ``(N, 3)`` float64 positions (wrapped into the cell when periodic).
        graph: ``(N,)`` int64 graph id per point.
        binof: ``(N, 3)`` int64 bin of each point within its graph's grid.
        nb: ``(G, 3)`` int64 bins per axis per graph.
        off: ``(G + 1,)`` int64 first global bin of each graph.
        mreach: ``(G, 3)`` int64 bins to scan on each side.
        cell: ``(G, 3, 3)`` float64 lattice rows (ignored unless periodic).
        periodic: whether to wrap bins into images.
        start: ``(sum bins + 1,)`` int64 first entry of each bin in ``order``.
        order: ``(N,)`` int64 point indices sorted by global bin.
        r: cutoff radius (pairs with distance <= r).
        loop: keep the self pair (same point, same image).
        max_nb: keep only the nearest ``max_nb`` per centre (-1 for all).
        wrap: ``(N, 3)`` int64 lattice vector subtracted from each point when wrapping.
    """
    if pos.shape[0] < _SERIAL_BELOW:
        with _one_thread():
            return _cell_neighbors(pos, graph, binof, nb, off, mreach, cell, periodic, start,
                                   order, float(r), loop, max_nb, wrap)
    return _cell_neighbors(pos, graph, binof, nb, off, mreach, cell, periodic, start, order,
                           float(r), loop, max_nb, wrap)
