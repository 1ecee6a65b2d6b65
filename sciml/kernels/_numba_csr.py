"""Numba CPU kernels for message passing: counting-sort CSR build, CSR gather-sum, edge dot and
edge product.

All loops are parallel over output rows (or edges), so no two threads write the same memory and
no atomics are needed; the E x C message tensor is never formed.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._numba_runtime import start_numba_threads

__all__ = ["csr_from_keys", "csr_gather_sum", "edge_dot", "edge_product"]

start_numba_threads()


@njit(cache=True)
def _counting_sort(key, n):  # pragma: no cover - compiled
    e = key.shape[0]
    ptr = np.zeros(n + 1, dtype=np.int64)
    for k in range(e):
        ptr[key[k] + 1] += 1
    for i in range(n):
        ptr[i + 1] += ptr[i]
    fill = ptr[:-1].copy()
    perm = np.empty(e, dtype=np.int64)
    for k in range(e):
        r = key[k]
        perm[fill[r]] = k
        fill[r] += 1
    return ptr, perm


def csr_from_keys(key: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable counting sort of ``key`` (values in ``[0, n)``): row pointer ``(n+1,)`` and order."""
    return _counting_sort(key, n)


@njit(parallel=True, cache=True, fastmath=True)
def _gs_plain(ptr, perm, col, x, out):  # pragma: no cover - compiled
    c_dim = x.shape[1]
    for r in prange(ptr.shape[0] - 1):
        for k in range(ptr[r], ptr[r + 1]):
            s = col[perm[k]]
            for c in range(c_dim):
                out[r, c] += x[s, c]


@njit(parallel=True, cache=True, fastmath=True)
def _gs_scalar(ptr, perm, col, w, x, out):  # pragma: no cover - compiled
    c_dim = x.shape[1]
    for r in prange(ptr.shape[0] - 1):
        for k in range(ptr[r], ptr[r + 1]):
            e = perm[k]
            s = col[e]
            ww = w[e]
            for c in range(c_dim):
                out[r, c] += ww * x[s, c]


@njit(parallel=True, cache=True, fastmath=True)
def _gs_channel(ptr, perm, col, w, x, out):  # pragma: no cover - compiled
    c_dim = x.shape[1]
    for r in prange(ptr.shape[0] - 1):
        for k in range(ptr[r], ptr[r + 1]):
            e = perm[k]
            s = col[e]
            for c in range(c_dim):
                out[r, c] += w[e, c] * x[s, c]


def csr_gather_sum(ptr: np.ndarray, perm: np.ndarray, col: np.ndarray, w: np.ndarray | None,
                   x: np.ndarray, out: np.ndarray) -> None:
    """``out[r] += sum_{k in row r} w[perm[k]] * x[col[perm[k]]]`` in place (w: None/(E,)/(E,C))."""
    if w is None:
        _gs_plain(ptr, perm, col, x, out)
    elif w.ndim == 1:
        _gs_scalar(ptr, perm, col, w, x, out)
    else:
        _gs_channel(ptr, perm, col, w, x, out)


@njit(parallel=True, cache=True, fastmath=True)
def _edge_dot(a, b, ia, ib, out):  # pragma: no cover - compiled
    c_dim = a.shape[1]
    for e in prange(ia.shape[0]):
        i = ia[e]
        j = ib[e]
        acc = 0.0
        for c in range(c_dim):
            acc += a[i, c] * b[j, c]
        out[e] = acc


def edge_dot(a: np.ndarray, b: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """``out[e] = <a[ia[e]], b[ib[e]]>`` for every edge ``e``."""
    out = np.empty(ia.shape[0], dtype=a.dtype)
    _edge_dot(a, b, ia, ib, out)
    return out


@njit(parallel=True, cache=True)
def _edge_product(a, b, ia, ib, out):  # pragma: no cover - compiled
    for e in prange(ia.shape[0]):
        i, j = ia[e], ib[e]
        for c in range(a.shape[1]):
            out[e, c] = a[i, c] * b[j, c]


def edge_product(a: np.ndarray, b: np.ndarray, ia: np.ndarray, ib: np.ndarray,
                 out: np.ndarray) -> None:
    """``out[e] = a[ia_e] * b[ib_e]`` per channel, in place (one pass, no gathered copies)."""
    _edge_product(a, b, ia, ib, out)
