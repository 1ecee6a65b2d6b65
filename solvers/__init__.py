"""Classical numerical solvers (numpy/scipy/numba), installed as ``sciml.solvers``."""

from sciml.solvers.gpvar import (
    GPVAR_AZ_THETA,
    GPVAR_DEFAULT_THETA,
    GPVARSeries,
    generate_gpvar,
    gpvar_filters,
    normalized_adjacency,
    random_geometric_graph,
    simulate_gpvar,
)

__all__ = [
    "GPVAR_AZ_THETA",
    "GPVAR_DEFAULT_THETA",
    "GPVARSeries",
    "generate_gpvar",
    "gpvar_filters",
    "normalized_adjacency",
    "random_geometric_graph",
    "simulate_gpvar",
]
