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

import math

import numpy as np
from numba import njit, prange

from ._numba_runtime import numba_threads, start_numba_threads

__all__ = ["cell_neighbors"]

start_numba_threads()

# Only the search runs in parallel (over chunks of centres), and only from this many points: on a
# busy machine every parallel region waits for its slowest thread to be scheduled, which cost
# more than the second thread saved at 1e5 points (2 cores shared with other jobs).
_SERIAL_BELOW = 500_000
# Scanned bins are chosen for a radius this much larger than r (rounding safety margin); the
# distance test itself uses r exactly.
_SLACK = 1e-8
# Centres per chunk of the single search pass, and centres sampled to size the chunk buffers.
_CHUNK = 2048
_SAMPLE = 2048




@njit(cache=True, inline="always")
def _scan(c0, c1, c2, k_lo, k_hi, ps, r2, code, out_k, out_c, out_d, base, limit,
          counting):  # pragma: no cover - compiled
    """Test sorted points ``k_lo <= k < k_hi`` against the centre; count hits, write those
    that fit below ``limit``."""
    cnt = 0
    for k in range(k_lo, k_hi):
        dx = ps[k, 0] - c0
        dy = ps[k, 1] - c1
        dz = ps[k, 2] - c2
        dd = dx * dx + dy * dy + dz * dz
        if dd <= r2:
            if not counting and base + cnt < limit:
                out_k[base + cnt] = k
                if out_c.shape[0] > 0:
                    out_c[base + cnt] = code
                if out_d.shape[0] > 0:
                    out_d[base + cnt] = dd
            cnt += 1
    return cnt


@njit(cache=True, inline="always")
def _split(t, n):  # pragma: no cover - compiled
    """Unwrapped bin ``t`` -> (lattice image ``t // n``, stored bin ``t mod n``)."""
    if 0 <= t < n:  # the common case, without an integer division
        return 0, t
    s = t // n
    return s, t - s * n


@njit(cache=True)
def _visit(q, sg, ps, su, sb, start, off, nb, w, ortho, cell, periodic, r, bits, half,
           out_k, out_c, out_d, base, limit, counting):  # pragma: no cover - compiled
    """Forward-half neighbours of sorted centre ``q``: their count; unless ``counting``, those
    that fit are written from ``base`` up to ``limit``."""
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
        s0, x0 = _split(t0, n0)
        gap0 = max(0.0, t0 - u0) * w0
        ry2 = rs2 - gap0 * gap0 if orth else rs2
        if ry2 < 0.0:
            continue
        ry = math.sqrt(ry2) / w1
        t1_lo = b1 if t0 == b0 else int(math.floor(u1 - ry))
        t1_hi = int(math.floor(u1 + ry))
        if not periodic:
            t1_lo = max(t1_lo, 0)
            t1_hi = min(t1_hi, n1 - 1)
        for t1 in range(t1_lo, t1_hi + 1):
            s1, x1 = _split(t1, n1)
            gap1 = max(0.0, t1 - u1, u1 - (t1 + 1)) * w1
            rz2 = ry2 - gap1 * gap1 if orth else rs2
            if rz2 < 0.0:
                continue
            rz = math.sqrt(rz2) / w2
            own = t0 == b0 and t1 == b1
            t2_lo = b2 if own else int(math.floor(u2 - rz))
            t2_hi = int(math.floor(u2 + rz))
            row = off[g] + (x0 * n1 + x1) * n2
            if not periodic:
                t2_lo = max(t2_lo, 0)
                t2_hi = min(t2_hi, n2 - 1)
                k_lo = q + 1 if own else start[row + t2_lo]
                if t2_hi >= t2_lo:
                    cnt += _scan(p0, p1, p2, k_lo, start[row + t2_hi + 1], ps, r2, 0,
                                 out_k, out_c, out_d, base + cnt, limit, counting)
                continue
            t2 = t2_lo
            while t2 <= t2_hi:  # one contiguous run per lattice image along the last axis
                s2, x2 = _split(t2, n2)
                seg = min(t2_hi, (s2 + 1) * n2 - 1) - t2
                k_lo = q + 1 if (own and t2 == b2) else start[row + x2]
                # |p_j + shift - p_i| = |p_j - (p_i - shift)|: shift the centre once per run.
                c0 = p0 - (s0 * cell[g, 0, 0] + s1 * cell[g, 1, 0] + s2 * cell[g, 2, 0])
                c1 = p1 - (s0 * cell[g, 0, 1] + s1 * cell[g, 1, 1] + s2 * cell[g, 2, 1])
                c2 = p2 - (s0 * cell[g, 0, 2] + s1 * cell[g, 1, 2] + s2 * cell[g, 2, 2])
                code = ((((s0 + half) << bits) | (s1 + half)) << bits) | (s2 + half)
                cnt += _scan(c0, c1, c2, k_lo, start[row + x2 + seg + 1], ps, r2, code,
                             out_k, out_c, out_d, base + cnt, limit, counting)
                t2 += seg + 1
    return cnt


@njit(parallel=True, cache=True)
def _half_pairs(sg, ps, su, sb, start, off, nb, w, ortho, cell, periodic, r, bits, half,
                with_d2):  # pragma: no cover - compiled
    """Every unordered pair once: ``(hptr, hk, hc, hd, n_over)``, CSR over sorted centres.

    One pass: each chunk of centres writes into its own slice of a buffer sized from a sample
    of centres; a chunk that overflows its slice only counts, and is searched again at the end
    (``n_over`` such chunks).
    """
    n = ps.shape[0]
    none_i = np.empty(0, dtype=np.int32)
    none_d = np.empty(0, dtype=np.float64)
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    stride = max(1, n // _SAMPLE)
    sampled = 0
    for q in range(0, n, stride):
        sampled += _visit(q, sg, ps, su, sb, start, off, nb, w, ortho, cell, periodic, r, bits,
                          half, none_i, none_i, none_d, 0, 0, True)
    per_centre = sampled / ((n + stride - 1) // stride) if n > 0 else 0.0
    cap = int(1.25 * per_centre * _CHUNK) + 64
    bk = np.empty(n_chunks * cap, dtype=np.int32)
    bc = np.empty(bk.shape[0] if periodic else 0, dtype=np.int32)
    bd = np.empty(bk.shape[0] if with_d2 else 0, dtype=np.float64)
    hcount = np.empty(n, dtype=np.int64)
    over = np.zeros(n_chunks, dtype=np.bool_)
    for c in prange(n_chunks):
        used = c * cap
        limit = used + cap
        for q in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            k = _visit(q, sg, ps, su, sb, start, off, nb, w, ortho, cell, periodic, r, bits,
                       half, bk, bc, bd, used, limit, over[c])
            hcount[q] = k
            used += k
            if used > limit:
                over[c] = True
    hptr = np.empty(n + 1, dtype=np.int64)
    hptr[0] = 0
    for q in range(n):
        hptr[q + 1] = hptr[q] + hcount[q]
    tot = hptr[n]
    hk = np.empty(tot, dtype=np.int32)
    hc = np.empty(tot if periodic else 0, dtype=np.int32)
    hd = np.empty(tot if with_d2 else 0, dtype=np.float64)
    for c in prange(n_chunks):
        q0 = c * _CHUNK
        q1 = min(n, q0 + _CHUNK)
        if over[c]:
            for q in range(q0, q1):
                _visit(q, sg, ps, su, sb, start, off, nb, w, ortho, cell, periodic, r, bits,
                       half, hk, hc, hd, hptr[q], tot, False)
        else:
            b = c * cap - hptr[q0]
            for e in range(hptr[q0], hptr[q1]):
                hk[e] = bk[b + e]
                if periodic:
                    hc[e] = bc[b + e]
                if with_d2:
                    hd[e] = bd[b + e]
    return hptr, hk, hc, hd, over.sum()


def _search(pos, graph, n_graphs, r, cell, loop, max_nb, want_lattice):
    from ._cells import bin_points, grid_params
    from ._numba_edges import assemble

    periodic = cell is not None
    nb, w, lo, inv, ortho, off = grid_params(pos, graph, n_graphs, r, cell)
    cz = cell if periodic else np.zeros((n_graphs, 3, 3))
    order, start, ps, su, sb, wrap = bin_points(pos, graph, periodic, lo, w, inv, cz, nb, off)
    # Lattice images within reach satisfy |s| <= r / h + 2: pack s + half in `bits` bits.
    half = int(np.ceil(r * (1.0 + _SLACK) / (w * nb).min())) + 2 if periodic else 0
    bits = int(2 * half).bit_length()
    if pos.shape[0] >= 2**31 - 1:
        raise ValueError(f"radius_graph on CPU supports fewer than 2**31 - 1 points, got "
                         f"{pos.shape[0]}")
    if periodic and 3 * bits > 30:
        raise ValueError(f"r={r} is too large for the periodic cell: it reaches up to {half} "
                         f"lattice images along an axis (at most 511 supported)")
    sg = graph[order]
    hptr, hk, hc, hd, _ = _half_pairs(sg, ps, su, sb, start, off, nb, w, ortho, cz, periodic,
                                      r, bits, half, max_nb >= 0)
    return assemble(order, hptr, hk, hc, hd, periodic, loop, max_nb, bits, half, wrap, graph,
                    cz, want_lattice)


def cell_neighbors(pos: np.ndarray, graph: np.ndarray, n_graphs: int, r: float,
                   cell: np.ndarray | None, loop: bool, max_nb: int, want_lattice: bool):
    """Run the cell-list search; return ``(edge_index, lattice, shift)``.

    ``edge_index`` is ``(2, E)`` ``[src; dst]`` sorted by dst, src, lattice vector. When
    periodic, either the lattice vector ``n_e`` (``(E, 3)`` int64, with ``want_lattice``) or
    ``shift = n_e @ cell`` (``(E, 3)`` float64) gives the displacement
    ``pos[src] - pos[dst] + shift``; the other one (and both when open) is ``(0, 3)``.

    Args:
        pos: ``(N, 3)`` float64 positions (any, unwrapped).
        graph: ``(N,)`` int64 graph id per point, in ``[0, n_graphs)``.
        n_graphs: number of graphs ``G``.
        r: cutoff radius (pairs with distance <= r).
        cell: ``(G, 3, 3)`` float64 lattice rows, or None for open boundaries.
        loop: keep the self pair (same point, same image).
        max_nb: keep only the nearest ``max_nb`` per centre (-1 for all).
        want_lattice: return the integer lattice vectors instead of the shifts.
    """
    r = float(r)
    with numba_threads(serial=pos.shape[0] < _SERIAL_BELOW):
        return _search(pos, graph, n_graphs, r, cell, loop, max_nb, want_lattice)
