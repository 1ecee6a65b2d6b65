"""Data sets, installed as ``sciml.datasets``."""

from sciml.datasets import _forecasting_registry  # noqa: F401  (registers the loaders by name)
from sciml.datasets._forecasting_benchmarks import ETT_NAMES, LSTNET_NAMES, load_ett, load_lstnet
from sciml.datasets._forecasting_gpvar import load_gpvar
from sciml.datasets._forecasting_io import (
    adjacency_to_edges,
    gaussian_kernel_adjacency,
    read_pandas_hdf,
)
from sciml.datasets._forecasting_traffic import LOS_START, load_los, load_metr_la, load_pems_bay

__all__ = [
    "load_gpvar",
    "load_los",
    "load_metr_la",
    "load_pems_bay",
    "load_ett",
    "load_lstnet",
    "gaussian_kernel_adjacency",
    "adjacency_to_edges",
    "read_pandas_hdf",
    "LOS_START",
    "ETT_NAMES",
    "LSTNET_NAMES",
]
