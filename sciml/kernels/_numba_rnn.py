"""Numba CPU kernel of the GRU's backward step: every elementwise gradient in one pass.

The step's matrix products stay in torch (BLAS); this kernel replaces the dozen elementwise
torch operations between them, each of which would read and write the (M, H) arrays once.
"""

from __future__ import annotations

from numba import njit, prange

from ._numba_runtime import start_numba_threads

__all__ = ["gru_backward_step"]

start_numba_threads()


@njit(parallel=True, cache=True, fastmath=True)
def _gru_backward_step(dh, h_prev, rz, n, gh_n, dgi, dgh, dh_prev):  # pragma: no cover - compiled
    m_dim, h_dim = dh.shape
    for m in prange(m_dim):
        for j in range(h_dim):
            d = dh[m, j]
            r = rz[m, j]
            z = rz[m, h_dim + j]
            nn = n[m, j]
            dn = d * (1.0 - z) * (1.0 - nn * nn)
            dr = dn * gh_n[m, j] * r * (1.0 - r)
            dz = d * (h_prev[m, j] - nn) * z * (1.0 - z)
            dgi[m, j] = dr
            dgi[m, h_dim + j] = dz
            dgi[m, 2 * h_dim + j] = dn
            dgh[m, j] = dr
            dgh[m, h_dim + j] = dz
            dgh[m, 2 * h_dim + j] = dn * r
            dh_prev[m, j] = d * z


def gru_backward_step(dh, h_prev, rz, n, gh_n, dgi, dgh, dh_prev) -> None:
    """Gradients of one GRU step (gate order r, z, n as torch) from ``dh`` (M, H), the step's
    input state ``h_prev``, its saved gates ``rz`` (M, 2H), candidate ``n`` (M, H) and the
    candidate's hidden projection ``gh_n = W_hn h_prev + b_hn`` (M, H): writes the
    pre-activation gradients ``dgi`` (M, 3H, input side) and ``dgh`` (M, 3H, hidden side) and
    the direct part ``dh * z`` of the previous state's gradient into ``dh_prev``. All arrays
    are C-contiguous numpy arrays of one float dtype."""
    _gru_backward_step(dh, h_prev, rz, n, gh_n, dgi, dgh, dh_prev)
