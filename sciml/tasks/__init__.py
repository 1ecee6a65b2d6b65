"""Jobs that turn recipes into run folders (registered in ``sciml.registry.TASKS``).

Importing this package registers every task, model and data set.
"""

import sciml.datasets  # noqa: F401  (registers data sets)
import sciml.models  # noqa: F401  (registers models)
from sciml.tasks._forecasting import ForecastingTask
from sciml.tasks._forecasting_job import (
    ForecastingDataConfig,
    ForecastingEvalConfig,
    ForecastingJob,
    prepare_forecasting,
)
from sciml.tasks._job import AbstractJob
from sciml.tasks._operator import OperatorTask, PairDataset, RolloutTask
from sciml.tasks._operator_job import OperatorJob, channel_stats

__all__ = [
    "AbstractJob",
    "ForecastingTask",
    "ForecastingJob",
    "ForecastingDataConfig",
    "ForecastingEvalConfig",
    "prepare_forecasting",
    "OperatorTask",
    "RolloutTask",
    "PairDataset",
    "OperatorJob",
    "channel_stats",
]

# Molecules: energies and forces (rMD17), properties (QM9).
from sciml.tasks._molecular import (  # noqa: E402
    AtomTypeEncoder,
    EnergyForceTask,
    PropertyTask,
    energy_force_statistics,
)
from sciml.tasks._molecular_job import (  # noqa: E402
    MolecularDataConfig,
    MolecularEvalConfig,
    MolecularJob,
    MolecularObjectiveConfig,
    collate_molecules,
)

__all__ += [
    "AtomTypeEncoder",
    "EnergyForceTask",
    "PropertyTask",
    "energy_force_statistics",
    "MolecularJob",
    "MolecularDataConfig",
    "MolecularObjectiveConfig",
    "MolecularEvalConfig",
    "collate_molecules",
]

# Physics-informed networks (PINN, Lagrangian PINN): full-batch Adam → L-BFGS on PDE residuals.
from sciml.tasks._physics_fit import fit_physics_informed  # noqa: E402
from sciml.tasks._physics_informed import (  # noqa: E402
    FitConfig,
    LPINNObjective,
    PhysicsProblem,
    PINNObjective,
    make_objective,
    reference_solution,
)
from sciml.tasks._physics_informed_job import (  # noqa: E402
    PhysicsEvalConfig,
    PhysicsInformedJob,
    build_physics_model,
    evaluate_on_grid,
)

__all__ += [
    "PhysicsProblem",
    "FitConfig",
    "PINNObjective",
    "LPINNObjective",
    "fit_physics_informed",
    "make_objective",
    "reference_solution",
    "PhysicsInformedJob",
    "PhysicsEvalConfig",
    "build_physics_model",
    "evaluate_on_grid",
]

# Particles: charged N-body position forecasting (EGNN / PONITA protocol).
from sciml.tasks._nbody import NBodySamples, NBodyTask  # noqa: E402
from sciml.tasks._nbody_job import (  # noqa: E402
    NBodyDataConfig,
    NBodyEvalConfig,
    NBodyJob,
    NBodyObjectiveConfig,
)

__all__ += ["NBodyTask", "NBodySamples", "NBodyJob", "NBodyDataConfig", "NBodyObjectiveConfig",
            "NBodyEvalConfig"]

# Hard constraints with a mixture of experts (PI-HC-MoE / PI-SC), physics-informed training.
from sciml.tasks._hard_constraint_job import (  # noqa: E402
    HardConstraintFit,
    HardConstraintJob,
    HardConstraintProblem,
    mean_relative_l2,
    problem_data,
)

__all__ += ["HardConstraintJob", "HardConstraintProblem", "HardConstraintFit", "problem_data",
            "mean_relative_l2"]
from sciml.tasks._hc_problems import ProblemSource, register_problem_source  # noqa: E402

__all__ += ["ProblemSource", "register_problem_source"]
