"""Data sets, installed as ``sciml.datasets``."""

from sciml.datasets import (
    _forecasting_registry,  # noqa: F401  (registers the loaders by name)
    _pde_registry,  # noqa: F401  (registers the PDE data sets by name)
)
from sciml.datasets._forecasting_benchmarks import ETT_NAMES, LSTNET_NAMES, load_ett, load_lstnet
from sciml.datasets._forecasting_csv import load_csv
from sciml.datasets._forecasting_gpvar import load_gpvar
from sciml.datasets._forecasting_io import (
    adjacency_to_edges,
    gaussian_kernel_adjacency,
    read_pandas_hdf,
)
from sciml.datasets._forecasting_traffic import LOS_START, load_los, load_metr_la, load_pems_bay
from sciml.datasets._pde_arrays import load_arrays, read_grid_fields
from sciml.datasets._pde_arrays_io import ARRAY_SUFFIXES, read_array
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
    "load_csv",
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
    "load_arrays",
    "read_array",
    "read_grid_fields",
    "ARRAY_SUFFIXES",
    "pdebench_file",
    "fno_file",
    "PDEBENCH_FILES",
    "NEURALOPERATOR_FILES",
    "FNO_FILES",
]

# Molecular data sets (rMD17, MD17/sGDML, QM9, XYZ / ASE db files).
from sciml.datasets import _molecular_registry  # noqa: E402, F401  (registers them by name)
from sciml.datasets._molecular import (  # noqa: E402
    RMD17_MOLECULES,
    MolecularData,
    MoleculeDataset,
    MoleculeGraph,
    load_md17,
    load_rmd17,
    random_split,
    rmd17_archive,
)
from sciml.datasets._molecular_ase import read_ase_db, read_xyz  # noqa: E402
from sciml.datasets._molecular_files import (  # noqa: E402
    MOLECULE_FILE_SUFFIXES,
    load_molecule_file,
    read_molecule_file,
)
from sciml.datasets._molecular_io import (  # noqa: E402
    ENERGY_UNITS_IN_MEV,
    KCAL_PER_MOL_IN_MEV,
    Molecules,
    energy_in_mev,
    read_npz,
    read_rmd17_npz,
    read_sgdml_npz,
)
from sciml.datasets._molecular_qm9 import QM9_TARGETS, load_qm9, qm9_release  # noqa: E402

__all__ += [
    "MoleculeGraph",
    "MoleculeDataset",
    "MolecularData",
    "Molecules",
    "RMD17_MOLECULES",
    "QM9_TARGETS",
    "KCAL_PER_MOL_IN_MEV",
    "ENERGY_UNITS_IN_MEV",
    "energy_in_mev",
    "load_rmd17",
    "load_md17",
    "load_molecule_file",
    "load_qm9",
    "rmd17_archive",
    "qm9_release",
    "random_split",
    "read_rmd17_npz",
    "read_sgdml_npz",
    "read_xyz",
    "read_ase_db",
    "read_npz",
    "read_molecule_file",
    "MOLECULE_FILE_SUFFIXES",
]

# Charged N-body trajectories (EGNN / SEGNN / PONITA benchmark), registered as "nbody".
from sciml.datasets._nbody import NBODY_SPLITS, ChargedNBody, NBodySplit  # noqa: E402

__all__ += ["ChargedNBody", "NBodySplit", "NBODY_SPLITS"]

# Diffusion–sorption (PDEBench constants), generated and cached; registered "diffusion_sorption".
from sciml.datasets._pde_sorption import DiffusionSorption1D  # noqa: E402

__all__ += ["DiffusionSorption1D"]

# Citation graphs for node classification (Planetoid public splits), registered as "planetoid".
from sciml.datasets._planetoid import (  # noqa: E402
    FEATURE_TRANSFORMS,
    PLANETOID_NAMES,
    PLANETOID_URL,
    NodeClassificationData,
    load_planetoid,
    row_sum_normalize,
)

__all__ += ["NodeClassificationData", "load_planetoid", "PLANETOID_NAMES", "PLANETOID_URL",
            "FEATURE_TRANSFORMS", "row_sum_normalize"]

# Sets of small graphs for graph classification, registered as "planted_clique", "tu",
# "graph_file".
from sciml.datasets._graph_sets import (  # noqa: E402
    TU_URL,
    GraphClassificationData,
    check_graph_set,
    load_graph_file,
    load_tu,
    planted_clique,
    read_graph_set,
)

__all__ += ["GraphClassificationData", "planted_clique", "load_tu", "load_graph_file", "TU_URL",
            "read_graph_set", "check_graph_set"]

# Sudoku puzzles as node-level graph sets (recurrent relational networks).
from sciml.datasets._sudoku import puzzle_givens, read_sudoku_file, sudoku, sudoku_graphs  # noqa: E402

__all__ += ["sudoku", "sudoku_graphs", "read_sudoku_file", "puzzle_givens"]

# Point sets with exact answers (convex hull, Delaunay, TSP) for pointer networks.
from sciml.datasets._point_sets import (  # noqa: E402
    POINT_PROBLEMS,
    PointSetData,
    point_sets,
    read_point_sets,
)

__all__ += ["PointSetData", "point_sets", "read_point_sets", "POINT_PROBLEMS"]

# Relation-composition graphs (Allen's interval algebra) for systematic relational reasoning.
from sciml.datasets._relation_paths import relation_paths  # noqa: E402

__all__ += ["relation_paths"]
