"""numba's thread pool: started without disturbing torch's thread count, sized like torch's.

numba's OpenMP threading layer shares the OpenMP runtime with torch, and the first parallel
region numba runs sets the OpenMP thread count to numba's (the core count), overriding a user's
``torch.set_num_threads(1)``; later regions leave it alone (checked with numba 0.68 and torch
2.13). The numba kernel modules call :func:`start_numba_threads` on import, so that first region
runs here with torch's count saved and restored. Kernels then run inside :func:`numba_threads`,
which uses no more threads than torch is allowed (``torch.set_num_threads``, or ``sciml
--threads``), so one setting governs both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numba
import numpy as np
from numba import njit, prange

__all__ = ["start_numba_threads", "numba_threads"]

_started = False


@njit(parallel=True, cache=True)
def _touch(a):  # pragma: no cover - compiled
    for i in prange(a.shape[0]):
        a[i] = 0.0


def start_numba_threads() -> None:
    """Run one tiny parallel region (once per process), restoring torch's thread count after."""
    global _started
    if _started:
        return
    import torch

    threads = torch.get_num_threads()
    _touch(np.zeros(2))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    _started = True


@contextlib.contextmanager
def numba_threads(serial: bool = False) -> Iterator[None]:
    """Run the numba kernels of this block on 1 thread (``serial``) or on as many as torch uses
    (at most numba's pool size); numba's previous count is restored afterwards."""
    import torch

    start_numba_threads()
    prev = numba.get_num_threads()
    want = 1 if serial else min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(max(1, want))
    try:
        yield
    finally:
        numba.set_num_threads(prev)
