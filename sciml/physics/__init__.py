"""Physics: grid losses (relative L2 / H1), PDE residuals (autograd and finite differences),
domains and collocation sampling, and the hard-constraint solver."""

from sciml.physics._losses import (
    H1_METHODS,
    H1Loss,
    RelativeL2,
    grid_gradient,
    h1_loss,
    rel_l2_loss,
)

__all__ = ["rel_l2_loss", "h1_loss", "grid_gradient", "RelativeL2", "H1Loss", "H1_METHODS"]

# PDE residuals: the PDE interface, registered PDEs and autograd derivatives.
from sciml.physics._derivatives import (  # noqa: E402
    AutogradDerivatives,
    gradient,
    laplacian,
    time_derivative,
)
from sciml.physics._pdes import (  # noqa: E402
    PDES,
    AbstractAdvectionPDE,
    AbstractDerivatives,
    AbstractPDE,
    AllenCahn,
    Burgers1D,
    Convection,
    Helmholtz,
    Poisson,
    Reaction,
    ReactionDiffusion,
    check_residual,
    get_pde,
    register_pde,
)

__all__ += [
    "AbstractDerivatives",
    "AbstractPDE",
    "AbstractAdvectionPDE",
    "AutogradDerivatives",
    "PDES",
    "register_pde",
    "get_pde",
    "check_residual",
    "gradient",
    "laplacian",
    "time_derivative",
    "Convection",
    "Burgers1D",
    "Reaction",
    "ReactionDiffusion",
    "AllenCahn",
    "Poisson",
    "Helmholtz",
    "Brusselator",
]

# Finite differences on grids (hard-constraint helper A2).
from sciml.physics._finite_difference import (  # noqa: E402
    TIME_SCHEMES,
    GridDerivatives,
    fd_first,
    fd_second,
)

__all__ += ["GridDerivatives", "fd_first", "fd_second", "TIME_SCHEMES"]

# Forward (Taylor-mode) derivatives of pointwise networks.
from sciml.physics._jet import (  # noqa: E402
    Jet,
    JetDerivatives,
    JetNeedsAutograd,
    mlp_jet,
    supports_jet,
)

__all__ += ["Jet", "JetDerivatives", "JetNeedsAutograd", "mlp_jet", "supports_jet"]

# Domains and collocation sampling.
from sciml.physics._domains import Box, Interval, Rectangle, TimeDomain  # noqa: E402
from sciml.physics._sampling import (  # noqa: E402
    SAMPLING_METHODS,
    residual_resample,
    sample_box,
)

__all__ += [
    "Box",
    "Interval",
    "Rectangle",
    "TimeDomain",
    "SAMPLING_METHODS",
    "sample_box",
    "residual_resample",
]

# Hard constraints with a mixture of experts (Chalapathi, Du, Krishnapriyan, ICLR 2024).
from sciml.physics._constraints import (  # noqa: E402
    BOUNDARY_KINDS,
    GRID_POINTS,
    BoundaryCondition,
    GridConstraints,
    GridProblem,
)
from sciml.physics._expert_parallel import (  # noqa: E402
    ExpertRanks,
    experts_on_this_rank,
)
from sciml.physics._hard_constraint import (  # noqa: E402
    ConstraintSolveError,
    ConstraintSolveWarning,
    LMInfo,
    LMSettings,
    implicit_least_squares,
    levenberg_marquardt,
)
from sciml.physics._hc_moe import (  # noqa: E402
    WARM_STARTS,
    AbstractConstraints,
    HardConstraintLayer,
    HCInfo,
    PDEConstraintRows,
    SpaceTimeGrid,
    expert_partition,
    grid_physics_loss,
)
from sciml.physics._pdes_transport import (  # noqa: E402
    DiffusionSorption,
    NavierStokesVorticity,
    ns_forcing,
)

__all__ += [
    "ConstraintSolveError",
    "ConstraintSolveWarning",
    "LMInfo",
    "LMSettings",
    "implicit_least_squares",
    "levenberg_marquardt",
    "HardConstraintLayer",
    "HCInfo",
    "ExpertRanks",
    "experts_on_this_rank",
    "WARM_STARTS",
    "expert_partition",
    "SpaceTimeGrid",
    "grid_physics_loss",
    "AbstractConstraints",
    "PDEConstraintRows",
    "BoundaryCondition",
    "GridConstraints",
    "GridProblem",
    "BOUNDARY_KINDS",
    "GRID_POINTS",
    "DiffusionSorption",
    "NavierStokesVorticity",
    "ns_forcing",
]

# Safe expressions in x, y, t and parameters (boundary values, initial conditions, sources).
from sciml.physics._expressions import (  # noqa: E402
    EXPRESSION_CONSTANTS,
    EXPRESSION_FUNCTIONS,
    Expression,
    parse_expression,
)

__all__ += ["Expression", "parse_expression", "EXPRESSION_FUNCTIONS", "EXPRESSION_CONSTANTS"]
