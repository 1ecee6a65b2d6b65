"""Start numba's thread pool without disturbing torch's thread count.

numba's OpenMP threading layer shares the OpenMP runtime with torch, and the first parallel
region numba runs sets the OpenMP thread count to numba's (the core count), overriding a user's
``torch.set_num_threads(1)``; later regions leave it alone (checked with numba 0.68 and torch
2.13). The numba kernel modules call :func:`start_numba_threads` on import, so that first region
runs here with torch's count saved and restored.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["start_numba_threads"]

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
