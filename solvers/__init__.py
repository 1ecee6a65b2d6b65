"""Classical numerical solvers (numpy/scipy/numba), installed as ``sciml.solvers``."""

from sciml.solvers.burgers import burgers_initial, solve_burgers
from sciml.solvers.darcy import darcy_coefficients, darcy_matrix, solve_darcy
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
from sciml.solvers.grf import gaussian_random_field, grf_spectrum
from sciml.solvers.helmholtz import helmholtz_top_flux, helmholtz_wave_speed, solve_helmholtz
from sciml.solvers.navier_stokes import ns2d_forcing, ns2d_initial_vorticity, solve_navier_stokes_2d

__all__ = [
    "GPVAR_AZ_THETA",
    "GPVAR_DEFAULT_THETA",
    "GPVARSeries",
    "burgers_initial",
    "darcy_coefficients",
    "darcy_matrix",
    "gaussian_random_field",
    "generate_gpvar",
    "gpvar_filters",
    "grf_spectrum",
    "helmholtz_top_flux",
    "helmholtz_wave_speed",
    "normalized_adjacency",
    "ns2d_forcing",
    "ns2d_initial_vorticity",
    "random_geometric_graph",
    "simulate_gpvar",
    "solve_burgers",
    "solve_darcy",
    "solve_helmholtz",
    "solve_navier_stokes_2d",
]
