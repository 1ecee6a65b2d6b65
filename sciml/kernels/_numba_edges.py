"""Numba edge-list assembly for the cell-list search: both directions of each found pair.

The search (``_numba_cells``) finds every unordered pair once, as forward lists over centres in
bin order. This module mirrors them and writes the ``[src; dst]`` edge list sorted by
(dst, src, image), with the lattice vector or shift of each edge when periodic.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["assemble"]


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


@njit(cache=True)
def assemble(order, hptr, hk, hc, hd, periodic, loop, max_nb, bits, half, wrap, graph,
              cell, want_lattice):  # pragma: no cover - compiled
    """Both directions of every pair, rows by centre (point order), sorted by (src, image).

    An image code packs ``s + half`` of the three lattice components in ``bits`` bits each; the
    mirrored image ``-s`` has code ``mirror - code``. The backward lists (the transpose of the
    forward half) are built in bin order, where the writes stay close in memory; then every
    point's forward and backward neighbours are transposed into the output rows, visiting sources
    in point order, which leaves every row sorted by source without a sort.

    Args:
        order: ``(N,)`` point index of each sorted (bin-order) position.
        hptr, hk: forward lists: CSR ``(N + 1,)`` over sorted centres, sorted neighbour ``(P,)``.
        hc: ``(P,)`` image code of each forward pair (periodic; else empty).
        hd: ``(P,)`` squared distances (only with ``max_nb >= 0``; else empty).
        periodic, loop, max_nb, bits, half: as in the search; ``max_nb = -1`` keeps all.
        wrap: ``(N, 3)`` lattice vector subtracted from each point when wrapping it.
        graph: ``(N,)`` graph id per point; cell: ``(G, 3, 3)`` lattice rows.
        want_lattice: return lattice vectors instead of shifts.

    Returns:
        ``(edges (2, E), lattice (E, 3) or (0, 3), shift (E, 3) or (0, 3))``.
    """
    n = order.shape[0]
    with_d2 = hd.shape[0] > 0
    sh = 3 * bits if periodic else 0
    mask = (1 << bits) - 1
    mirror = (((2 * half) << bits | 2 * half) << bits) | 2 * half
    centre_code = mirror // 2  # half in every field: the zero image
    # 1. Backward lists in bin order: centre q is a backward neighbour of each forward one.
    deg = np.zeros(n, dtype=np.int64)
    for e in range(hk.shape[0]):
        deg[hk[e]] += 1
    bptr = np.empty(n + 1, dtype=np.int64)
    bptr[0] = 0
    for q in range(n):
        bptr[q + 1] = bptr[q] + deg[q]
    back = np.empty(bptr[n], dtype=np.int32)
    bcode = np.empty(bptr[n] if periodic else 0, dtype=np.int32)
    bd2 = np.empty(bptr[n] if with_d2 else 0, dtype=np.float64)
    fill = bptr[:-1].copy()
    for q in range(n):
        for e in range(hptr[q], hptr[q + 1]):
            k = hk[e]
            p = fill[k]
            back[p] = q
            if periodic:
                bcode[p] = hc[e]
            if with_d2:
                bd2[p] = hd[e]
            fill[k] = p + 1
    for q in range(n):
        deg[q] += hptr[q + 1] - hptr[q]
    # 2. Transpose, visiting sources in point order: every row comes out sorted by source.
    # Rows are in point order (output layout); the packed keys go straight to the output when
    # there is nothing to decode or truncate.
    inv = np.empty(n, dtype=np.int64)
    for q in range(n):
        inv[order[q]] = q
    ptr = np.empty(n + 1, dtype=np.int64)
    ptr[0] = 0
    for i in range(n):
        ptr[i + 1] = ptr[i] + deg[inv[i]] + (1 if loop else 0)
    tot = ptr[n]
    direct = not periodic and max_nb < 0
    edges = np.empty((2, tot if direct else 0), dtype=np.int64)
    key = edges[0] if direct else np.empty(tot, dtype=np.int64)
    d2 = np.empty(tot if with_d2 else 0, dtype=np.float64)
    for q in range(n):
        fill[q] = ptr[order[q]]
    for j in range(n):
        a = inv[j]
        src = j << sh
        if loop:
            p = fill[a]
            key[p] = src | (centre_code if periodic else 0)
            if with_d2:
                d2[p] = 0.0
            fill[a] = p + 1
        # Edge d -> a with image s becomes a -> d with -s (forward: s from hc, backward: -s).
        for e in range(hptr[a], hptr[a + 1]):
            d = hk[e]
            p = fill[d]
            key[p] = src | (mirror - hc[e] if periodic else 0)
            if with_d2:
                d2[p] = hd[e]
            fill[d] = p + 1
        for t in range(bptr[a], bptr[a + 1]):
            d = back[t]
            p = fill[d]
            key[p] = src | (bcode[t] if periodic else 0)
            if with_d2:
                d2[p] = bd2[t]
            fill[d] = p + 1
    if direct:
        for i in range(n):
            for e in range(ptr[i], ptr[i + 1]):
                edges[1, e] = i
        return edges, np.empty((0, 3), dtype=np.int64), np.empty((0, 3), dtype=np.float64)
    # 3. Images of one pair in order (rows are sorted but for them); the max_nb nearest.
    optr = ptr
    if max_nb >= 0:
        optr = np.empty(n + 1, dtype=np.int64)
        optr[0] = 0
        for i in range(n):
            optr[i + 1] = optr[i] + min(ptr[i + 1] - ptr[i], max_nb)
    m = optr[n]
    edges = np.empty((2, m), dtype=np.int64)
    lattice = np.empty((m if periodic and want_lattice else 0, 3), dtype=np.int64)
    shift = np.empty((m if periodic and not want_lattice else 0, 3), dtype=np.float64)
    any_wrap = False
    if periodic:
        for i in range(n):
            if wrap[i, 0] != 0 or wrap[i, 1] != 0 or wrap[i, 2] != 0:
                any_wrap = True
                break
    for i in range(n):
        lo = ptr[i]
        c = ptr[i + 1] - lo
        if max_nb >= 0 and c > max_nb:
            _sort_by_dist(key, d2, lo, lo + c)
            c = max_nb
            _sort_keys(key, lo, lo + c)
        elif periodic:
            _sort_keys(key, lo, lo + c)  # nearly sorted: linear time
        g = graph[i]
        for t in range(c):
            e = optr[i] + t
            kq = key[lo + t]
            j = kq >> sh
            edges[0, e] = j
            edges[1, e] = i
            if periodic:
                l0 = ((kq >> (2 * bits)) & mask) - half
                l1 = ((kq >> bits) & mask) - half
                l2 = (kq & mask) - half
                if any_wrap:  # image of the wrapped positions -> of the original positions
                    l0 += wrap[i, 0] - wrap[j, 0]
                    l1 += wrap[i, 1] - wrap[j, 1]
                    l2 += wrap[i, 2] - wrap[j, 2]
                if want_lattice:
                    lattice[e, 0], lattice[e, 1], lattice[e, 2] = l0, l1, l2
                else:
                    for a in range(3):
                        shift[e, a] = l0 * cell[g, 0, a] + l1 * cell[g, 1, a] + l2 * cell[g, 2, a]
    return edges, lattice, shift
