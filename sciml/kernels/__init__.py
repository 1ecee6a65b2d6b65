"""Sparse kernels: scatter/segment reductions, fused message passing, CSR SpMM, neighbour lists.

One public function per operation; each picks its implementation by device: torch or numba on
CPU, torch (and Triton where it helps) on GPU. Plain reference implementations used by the tests
live in ``sciml.kernels._reference``.
"""

from ._gather_scatter import gather_scatter
from ._neighbors import knn_graph, radius_graph
from ._rnn import gru_step_backward
from ._scatter import scatter, scatter_softmax, segment
from ._spmm import spmm

__all__ = [
    "scatter",
    "scatter_softmax",
    "segment",
    "gather_scatter",
    "spmm",
    "radius_graph",
    "knn_graph",
    "gru_step_backward",
]
