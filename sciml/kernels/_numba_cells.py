"""Numba cell-list neighbour search (linked cells, half stencil), periodic images included.

Points are sorted by bin (``_cells.bin_points``), so the bins of one grid row along the last
axis are one contiguous range of memory. Each unordered pair is found once: a centre scans only
the "forward" half of its neighbourhood (rows with ``dx > 0``, or ``dx == 0`` and ``dy > 0``, and
in its own row the bins after its own and the points after itself in its own bin); every pair
found is then written in both directions. The bins scanned are clipped to the sphere of radius
``r`` around the centre (1-D bounds per axis; with orthogonal bin axes, each row is also clipped
to the remaining radius ``sqrt(r^2 - gap_x^2 - gap_y^2)``).

With periodic boundaries an unwrapped bin ``t`` maps to the stored bin ``t mod nb`` and the
lattice image ``t // nb``; every (bin, image) pair of the forward half is visited once, so all
images within ``r`` are found (as ASE does), even when ``r`` exceeds the cell. The mirror of the
pair ``(i, j, s)`` is ``(j, i, -s)``.
"""

from __future__ import annotations

import contextlib
import math

import numba
import numpy as np
from numba import njit, prange

__all__ = ["cell_neighbors", "one_thread"]

# Below this many points a parallel launch costs more than it saves (and it stalls when the
# cores are busy with other work).
_SERIAL_BELOW = 20_000
# Scanned bins are chosen for a radius this much larger than r (rounding safety margin); the
# distance test itself uses r exactly.
_SLACK = 1e-8


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
def _scan(q, c0, c1, c2, k_lo, k_hi, ps, r2, code, out_k, out_c, out_d, base,
          counting):  # pragma: no cover - compiled
    """Test sorted points ``k_lo <= k < k_hi`` against the centre; count or write hits."""
    cnt = 0
    for k in range(k_lo, k_hi):
        dx = ps[k, 0] - c0
        dy = ps[k, 1] - c1
        dz = ps[k, 2] - c2
        dd = dx * dx + dy * dy + dz * dz
        if dd <= r2:
            if not counting:
                out_k[base + cnt] = k
                if out_c.shape[0] > 0:
                    out_c[base + cnt] = code
                if out_d.shape[0] > 0:
                    out_d[base + cnt] = dd
            cnt += 1
    return cnt


@njit(cache=True)
def _visit(q, sg, ps, su, sb, start, off, nb, w, ortho, cell, periodic, r, span, half,
           out_k, out_c, out_d, base, counting):  # pragma: no cover - compiled
    """Forward-half neighbours of sorted centre ``q``: their count, written from ``base``."""
    g = sg[q]
    n0, n1, n2 = nb[g, 0], nb[g, 1], nb[g, 2]
    w0, w1, w2 = w[g, 0], w[g, 1], w[g, 2]
    u0, u1, u2 = su[q, 0], su[q, 1], su[q, 2]
    b0, b1, b2 = sb[q, 0], sb[q, 1], sb[q, 2]
    p0, p1, p2 = ps[q, 0], ps[q, 1], ps[q, 2]
    orth = ortho[g]
    r2 = r * r
    rs = r * (1.0 + _SLACK) + 1e-300
    rs2 = rs * rs
    cnt = 0
    t0_hi = int(math.floor(u0 + rs / w0))
    if not periodic:
        t0_hi = min(t0_hi, n0 - 1)
    for t0 in range(b0, t0_hi + 1):
        s0 = t0 // n0
        x0 = t0 - s0 * n0
        gap0 = max(0.0, t0 - u0) * w0
        ry2 = rs2 - gap0 * gap0 if orth else rs2
        if ry2 < 0.0:
            continue
        ry = math.sqrt(ry2)
        t1_lo = b1 if t0 == b0 else int(math.floor(u1 - ry / w1))
        t1_hi = int(math.floor(u1 + ry / w1))
        if not periodic:
            t1_lo = max(t1_lo, 0)
            t1_hi = min(t1_hi, n1 - 1)
        for t1 in range(t1_lo, t1_hi + 1):
            s1 = t1 // n1
            x1 = t1 - s1 * n1
            gap1 = max(0.0, t1 - u1, u1 - (t1 + 1)) * w1
            rz2 = ry2 - gap1 * gap1 if orth else rs2
            if rz2 < 0.0:
                continue
            rz = math.sqrt(rz2)
            own = t0 == b0 and t1 == b1
            t2_lo = b2 if own else int(math.floor(u2 - rz / w2))
            t2_hi = int(math.floor(u2 + rz / w2))
            row = off[g] + (x0 * n1 + x1) * n2
            if not periodic:
                t2_lo = max(t2_lo, 0)
                t2_hi = min(t2_hi, n2 - 1)
                k_lo = q + 1 if own else start[row + t2_lo]
                if t2_hi >= t2_lo:
                    cnt += _scan(q, p0, p1, p2, k_lo, start[row + t2_hi + 1], ps, r2, 0,
                                 out_k, out_c, out_d, base + cnt, counting)
                continue
            t2 = t2_lo
            while t2 <= t2_hi:  # one contiguous run per lattice image along the last axis
                s2 = t2 // n2
                x2 = t2 - s2 * n2
                seg = min(t2_hi, (s2 + 1) * n2 - 1) - t2
                k_lo = q + 1 if (own and t2 == b2) else start[row + x2]
                # |p_j + shift - p_i| = |p_j - (p_i - shift)|: shift the centre once per run.
                c0 = p0 - (s0 * cell[g, 0, 0] + s1 * cell[g, 1, 0] + s2 * cell[g, 2, 0])
                c1 = p1 - (s0 * cell[g, 0, 1] + s1 * cell[g, 1, 1] + s2 * cell[g, 2, 1])
                c2 = p2 - (s0 * cell[g, 0, 2] + s1 * cell[g, 1, 2] + s2 * cell[g, 2, 2])
                code = ((s0 + half) * span + s1 + half) * span + s2 + half
                cnt += _scan(q, c0, c1, c2, k_lo, start[row + x2 + seg + 1], ps, r2, code,
                             out_k, out_c, out_d, base + cnt, counting)
                t2 += seg + 1
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
def _half_pairs(sg, ps, su, sb, start, off, nb, w, ortho, cell, periodic, r, span, half,
                with_d2):  # pragma: no cover - compiled
    """Every unordered pair once: ``(hptr, hk, hc, hd)`` CSR over sorted centres."""
    n = ps.shape[0]
    none_i = np.empty(0, dtype=np.int64)
    none_d = np.empty(0, dtype=np.float64)
    hcount = np.empty(n, dtype=np.int64)
    for q in prange(n):
        hcount[q] = _visit(q, sg, ps, su, sb, start, off, nb, w, ortho, cell, periodic, r,
                           span, half, none_i, none_i, none_d, 0, True)
    hptr = np.zeros(n + 1, dtype=np.int64)
    for q in range(n):
        hptr[q + 1] = hptr[q] + hcount[q]
    tot = hptr[n]
    hk = np.empty(tot, dtype=np.int64)
    hc = np.empty(tot if periodic else 0, dtype=np.int64)
    hd = np.empty(tot if with_d2 else 0, dtype=np.float64)
    for q in prange(n):
        _visit(q, sg, ps, su, sb, start, off, nb, w, ortho, cell, periodic, r, span, half,
               hk, hc, hd, hptr[q], False)
    return hptr, hk, hc, hd


@njit(parallel=True, cache=True)
def _assemble(order, hptr, hk, hc, hd, periodic, loop, max_nb, span, half, wrap, graph,
              cell):  # pragma: no cover - compiled
    """Both directions of every pair, rows by centre (original order), sorted by (src, image)."""
    n = order.shape[0]
    span3 = span * span * span if periodic else 1
    centre_code = ((half * span + half) * span + half) if periodic else 0
    deg = np.empty(n, dtype=np.int64)  # per sorted point
    for q in range(n):
        deg[q] = hptr[q + 1] - hptr[q] + (1 if loop else 0)
    for e in range(hk.shape[0]):
        deg[hk[e]] += 1
    ptr = np.zeros(n + 1, dtype=np.int64)  # rows in original point order
    rowlen = np.empty(n, dtype=np.int64)
    for q in range(n):
        rowlen[order[q]] = deg[q]
    for i in range(n):
        ptr[i + 1] = ptr[i] + rowlen[i]
    tot = ptr[n]
    with_d2 = hd.shape[0] > 0
    key = np.empty(tot, dtype=np.int64)
    d2 = np.empty(tot if with_d2 else 0, dtype=np.float64)
    fill = np.empty(n, dtype=np.int64)  # next free slot of each sorted point's row
    for q in prange(n):
        i = order[q]
        p = ptr[i]
        if loop:
            key[p] = i * span3 + centre_code
            if with_d2:
                d2[p] = 0.0
            p += 1
        for e in range(hptr[q], hptr[q + 1]):
            key[p] = order[hk[e]] * span3 + (hc[e] if periodic else 0)
            if with_d2:
                d2[p] = hd[e]
            p += 1
        fill[q] = p
    for q in range(n):  # mirrors: (j, i, -s) lands in row j
        src = order[q] * span3
        for e in range(hptr[q], hptr[q + 1]):
            k = hk[e]
            p = fill[k]
            key[p] = src + (span3 - 1 - hc[e] if periodic else 0)
            if with_d2:
                d2[p] = hd[e]
            fill[k] = p + 1
    truncate = False
    if max_nb >= 0:
        for i in range(n):
            if rowlen[i] > max_nb:
                truncate = True
                break
    optr = ptr
    if truncate:  # keep the max_nb nearest of each centre
        optr = np.zeros(n + 1, dtype=np.int64)
        for i in range(n):
            optr[i + 1] = optr[i] + min(rowlen[i], max_nb)
    m = optr[n]
    edges = np.empty((2, m), dtype=np.int64)
    lattice = np.zeros((m if periodic else 0, 3), dtype=np.int64)
    shift = np.zeros((m if periodic else 0, 3), dtype=np.float64)
    for i in prange(n):
        lo = ptr[i]
        c = rowlen[i]
        if truncate and c > max_nb:
            _sort_by_dist(key, d2, lo, lo + c)
            c = max_nb
        _sort_keys(key, lo, lo + c)
        g = graph[i]
        for t in range(c):
            e = optr[i] + t
            kq = key[lo + t]
            j = kq // span3
            edges[0, e] = j
            edges[1, e] = i
            if periodic:
                # Image of the wrapped positions -> lattice vector of the original positions.
                code = kq - j * span3
                lattice[e, 0] = code // (span * span) - half - wrap[j, 0] + wrap[i, 0]
                lattice[e, 1] = (code // span) % span - half - wrap[j, 1] + wrap[i, 1]
                lattice[e, 2] = code % span - half - wrap[j, 2] + wrap[i, 2]
                for a in range(3):
                    shift[e, a] = (lattice[e, 0] * cell[g, 0, a] + lattice[e, 1] * cell[g, 1, a]
                                   + lattice[e, 2] * cell[g, 2, a])
    return edges, lattice, shift


def _search(pos, graph, n_graphs, r, cell, loop, max_nb):
    from ._cells import bin_points, grid_params

    periodic = cell is not None
    nb, w, lo, inv, ortho, off = grid_params(pos, graph, n_graphs, r, cell)
    cz = cell if periodic else np.zeros((n_graphs, 3, 3))
    order, start, ps, su, sb, wrap = bin_points(pos, graph, periodic, lo, w, inv, cz, nb, off)
    # Lattice images within reach satisfy |s| <= r / h + 2: encode (src, image) in one int64.
    half = int(np.ceil(r * (1.0 + _SLACK) / (w * nb).min())) + 2 if periodic else 0
    span = 2 * half + 1
    sg = graph[order]
    hptr, hk, hc, hd = _half_pairs(sg, ps, su, sb, start, off, nb, w, ortho, cz, periodic, r,
                                   span, half, max_nb >= 0)
    return _assemble(order, hptr, hk, hc, hd, periodic, loop, max_nb, span, half, wrap, graph,
                     cz)


def cell_neighbors(pos: np.ndarray, graph: np.ndarray, n_graphs: int, r: float,
                   cell: np.ndarray | None, loop: bool, max_nb: int):
    """Run the cell-list search; return ``(edge_index, lattice, shift)``.

    ``edge_index`` is ``(2, E)`` ``[src; dst]`` sorted by dst, src, lattice vector; when
    periodic, ``lattice`` ``(E, 3)`` int64 and ``shift = lattice @ cell`` ``(E, 3)`` float64 give
    the displacement ``pos[src] - pos[dst] + shift`` (else both are ``(0, 3)``).

    Args:
        pos: ``(N, 3)`` float64 positions (any, unwrapped).
        graph: ``(N,)`` int64 graph id per point, in ``[0, n_graphs)``.
        n_graphs: number of graphs ``G``.
        r: cutoff radius (pairs with distance <= r).
        cell: ``(G, 3, 3)`` float64 lattice rows, or None for open boundaries.
        loop: keep the self pair (same point, same image).
        max_nb: keep only the nearest ``max_nb`` per centre (-1 for all).
    """
    r = float(r)
    if pos.shape[0] < _SERIAL_BELOW:
        with _one_thread():
            return _search(pos, graph, n_graphs, r, cell, loop, max_nb)
    return _search(pos, graph, n_graphs, r, cell, loop, max_nb)
