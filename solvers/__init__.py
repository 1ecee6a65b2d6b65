"""Classical numerical solvers (numpy/scipy/numba), installed as ``sciml.solvers``."""

from sciml.solvers.burgers import burgers_initial, solve_burgers
from sciml.solvers.darcy import darcy_coefficients, darcy_matrix, solve_darcy
from sciml.solvers.gpvar import (
    GPVAR_AZ_THETA,
    GPVAR_DEFAULT_THETA,
    GPVARSeries,
    fixed_degree_geometric_graph,
    generate_gpvar,
    gpvar_filters,
    normalized_adjacency,
    random_geometric_graph,
    simulate_gpvar,
    sparse_normalized_adjacency,
)
from sciml.solvers.grf import gaussian_random_field, grf_spectrum
from sciml.solvers.helmholtz import helmholtz_top_flux, helmholtz_wave_speed, solve_helmholtz
from sciml.solvers.navier_stokes import ns2d_forcing, ns2d_initial_vorticity, solve_navier_stokes_2d
from sciml.solvers.sudoku import count_solutions, generate_puzzles, solve_sudoku

__all__ = [
    "GPVAR_AZ_THETA",
    "GPVAR_DEFAULT_THETA",
    "GPVARSeries",
    "burgers_initial",
    "darcy_coefficients",
    "darcy_matrix",
    "fixed_degree_geometric_graph",
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
    "sparse_normalized_adjacency",
    "solve_burgers",
    "solve_darcy",
    "solve_helmholtz",
    "solve_sudoku",
    "count_solutions",
    "generate_puzzles",
    "solve_navier_stokes_2d",
]

# Diffusion–sorption (PDEBench), finite volumes.
from sciml.solvers.diffusion_sorption import (  # noqa: E402
    DS_CONSTANTS,
    ds_initial_condition,
    ds_retardation,
    solve_diffusion_sorption,
)

__all__ += ["DS_CONSTANTS", "ds_initial_condition", "ds_retardation", "solve_diffusion_sorption"]

# Charged N-body system (EGNN / SEGNN / PONITA benchmark).
from sciml.solvers.nbody import (  # noqa: E402
    NBodySimulation,
    charged_nbody_energy,
    integrate_charged_nbody,
    simulate_charged_nbody,
)

__all__ += ["NBodySimulation", "charged_nbody_energy", "integrate_charged_nbody",
            "simulate_charged_nbody"]

# 1-D periodic references: exact convection(–diffusion) and logistic reaction, Strang-split
# reaction–diffusion, Burgers on [0, L) (physics-informed benchmarks).
from sciml.solvers.convection import (  # noqa: E402
    periodic_grid,
    solve_burgers_periodic,
    solve_convection,
    solve_reaction,
    solve_reaction_diffusion,
)

__all__ += ["periodic_grid", "solve_convection", "solve_reaction", "solve_reaction_diffusion",
            "solve_burgers_periodic"]

# 1-D time-dependent PDEs by the method of lines (second-order finite differences, stiff
# integrator), for any boundary condition; registered PDEs through their residuals.
from sciml.solvers.method_of_lines import (  # noqa: E402
    MOL_BOUNDARY_KINDS,
    MOL_METHODS,
    MOLBoundary,
    MOLSolution,
    solve_method_of_lines,
)
from sciml.solvers.method_of_lines_pde import PDERightHandSide, pde_rhs, solve_pde  # noqa: E402

__all__ += ["MOL_BOUNDARY_KINDS", "MOL_METHODS", "MOLBoundary", "MOLSolution",
            "solve_method_of_lines", "PDERightHandSide", "pde_rhs", "solve_pde"]

# Steady Poisson / Helmholtz on a rectangle with Dirichlet data (physics-informed references).
from sciml.solvers.poisson import GridSolution2D, poisson_matrix, solve_poisson_2d  # noqa: E402

__all__ += ["GridSolution2D", "poisson_matrix", "solve_poisson_2d"]

# Allen's interval algebra: relations and their composition table, derived by enumeration.
from sciml.solvers.relation_algebra import (  # noqa: E402
    INTERVAL_RELATIONS,
    interval_composition,
    interval_relation,
    path_mask,
)

__all__ += ["INTERVAL_RELATIONS", "interval_composition", "interval_relation", "path_mask"]
