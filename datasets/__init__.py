"""Data sets, installed as ``sciml.datasets``."""

from sciml.datasets import (
    _forecasting_registry,  # noqa: F401  (registers the loaders by name)
    _pde_registry,  # noqa: F401  (registers the PDE data sets by name)
)
from sciml.datasets._forecasting_benchmarks import ETT_NAMES, LSTNET_NAMES, load_ett, load_lstnet
from sciml.datasets._forecasting_gpvar import load_gpvar
from sciml.datasets._forecasting_io import (
    adjacency_to_edges,
    gaussian_kernel_adjacency,
    read_pandas_hdf,
)
from sciml.datasets._forecasting_traffic import LOS_START, load_los, load_metr_la, load_pems_bay
from sciml.datasets._pde_cache import generate_cached, sample_seed
from sciml.datasets._pde_data import PDEData, UnitGaussianNormalizer, with_coordinates
from sciml.datasets._pde_download import (
    FNO_FILES,
    NEURALOPERATOR_FILES,
    PDEBENCH_FILES,
    fno_file,
    load_neuraloperator,
    pdebench_file,
)
from sciml.datasets._pde_formats import load_fno_mat, load_neuraloperator_pt, load_pdebench_hdf5
from sciml.datasets._pde_generated import (
    Burgers1D,
    Darcy2D,
    Helmholtz2D,
    NavierStokes2D,
    fine_resolution,
)

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
    "PDEData",
    "UnitGaussianNormalizer",
    "with_coordinates",
    "Darcy2D",
    "NavierStokes2D",
    "Burgers1D",
    "Helmholtz2D",
    "fine_resolution",
    "generate_cached",
    "sample_seed",
    "load_fno_mat",
    "load_neuraloperator_pt",
    "load_pdebench_hdf5",
    "load_neuraloperator",
    "pdebench_file",
    "fno_file",
    "PDEBENCH_FILES",
    "NEURALOPERATOR_FILES",
    "FNO_FILES",
]
