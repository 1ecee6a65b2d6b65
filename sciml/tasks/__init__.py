"""Jobs that turn recipes into run folders, one subpackage per family, registered in
:data:`sciml.registry.JOBS` (a recipe's ``task:`` key names one).

- :mod:`sciml.tasks.forecasting`: forecasting on a graph of sensors.
- :mod:`sciml.tasks.operator`: PDE surrogates on grids (steady or rolled out in time).
- :mod:`sciml.tasks.physics_informed`: PINN / Lagrangian PINN, Adam → L-BFGS.
- :mod:`sciml.tasks.hard_constraint`: PI-HC-MoE / PI-SC on the PDE residual.
- :mod:`sciml.tasks.molecular`: energies and forces, molecular properties.
- :mod:`sciml.tasks.nbody`: charged N-body position forecasting.
- :mod:`sciml.tasks.graph`: node classification (GCN, GAT, GraphSAGE), link prediction,
  graph classification (and node classification over sets of graphs, e.g. Sudoku).
- :mod:`sciml.tasks.pointer`: point sets answered by sequences of their positions (pointer
  networks: convex hull, Delaunay triangulation, travelling salesman).

Every job shares :class:`AbstractJob`'s fit skeleton and trains through the one engine,
:class:`sciml.train.Trainer`. Importing this package registers every job, model and data set.
"""

import sciml.datasets  # noqa: F401  (registers data sets)
import sciml.models  # noqa: F401  (registers models)
from sciml.tasks._job import AbstractJob, build_data, n_parameters
from sciml.tasks.forecasting import (
    MAPE_EPS,
    ForecastingDataConfig,
    ForecastingEvalConfig,
    ForecastingJob,
    ForecastingTask,
    load_series,
    node_names,
    prepare_forecasting,
    with_rmse,
)
from sciml.tasks.graph import (
    GraphSplit,
    NodeClassificationJob,
    NodeClassificationTask,
    NodeDataConfig,
    NodeEvalConfig,
)
from sciml.tasks.hard_constraint import (
    HardConstraintFit,
    HardConstraintJob,
    HardConstraintProblem,
    HardConstraintTask,
    ProblemSource,
    fixed_initial_source,
    mean_relative_l2,
    problem_data,
    register_problem_source,
)
from sciml.tasks.molecular import (
    AtomTypeEncoder,
    EnergyForceTask,
    EnergyTask,
    MolecularDataConfig,
    MolecularEvalConfig,
    MolecularJob,
    MolecularObjectiveConfig,
    PropertyTask,
    collate_molecules,
    energy_force_statistics,
    energy_statistics,
)
from sciml.tasks.nbody import (
    NBodyDataConfig,
    NBodyEvalConfig,
    NBodyJob,
    NBodyObjectiveConfig,
    NBodySamples,
    NBodyTask,
)
from sciml.tasks.operator import (
    ObjectiveConfig,
    OperatorDataConfig,
    OperatorEvalConfig,
    OperatorJob,
    OperatorTask,
    PairDataset,
    RolloutTask,
    channel_stats,
)
from sciml.tasks.physics_informed import (
    FitConfig,
    LPINNObjective,
    PhysicsEvalConfig,
    PhysicsInformedJob,
    PhysicsInformedTask,
    PhysicsProblem,
    PINNObjective,
    build_physics_model,
    evaluate_on_grid,
    fit_physics_informed,
    hammersley_points,
    make_objective,
    reference_solution,
)
from sciml.tasks.pointer import PointerJob, PointerTask

__all__ = [
    "AbstractJob", "build_data", "n_parameters",
    # graphs
    "NodeClassificationTask", "NodeClassificationJob", "NodeDataConfig", "NodeEvalConfig",
    "GraphSplit",
    # forecasting
    "ForecastingTask", "ForecastingJob", "ForecastingDataConfig", "ForecastingEvalConfig",
    "prepare_forecasting", "load_series", "node_names", "with_rmse", "MAPE_EPS",
    # operator
    "OperatorTask", "RolloutTask", "PairDataset", "OperatorJob", "OperatorDataConfig",
    "ObjectiveConfig", "OperatorEvalConfig", "channel_stats",
    # physics-informed
    "PhysicsProblem", "FitConfig", "PINNObjective", "LPINNObjective", "PhysicsInformedTask",
    "fit_physics_informed", "make_objective", "reference_solution", "hammersley_points",
    "PhysicsInformedJob", "PhysicsEvalConfig", "build_physics_model", "evaluate_on_grid",
    # hard constraints
    "HardConstraintJob", "HardConstraintTask", "HardConstraintProblem", "HardConstraintFit",
    "problem_data", "mean_relative_l2", "ProblemSource", "register_problem_source",
    "fixed_initial_source",
    # molecules
    "AtomTypeEncoder", "EnergyForceTask", "EnergyTask", "PropertyTask",
    "energy_force_statistics", "energy_statistics", "MolecularJob", "MolecularDataConfig",
    "MolecularObjectiveConfig", "MolecularEvalConfig", "collate_molecules",
    # particles
    "NBodyTask", "NBodySamples", "NBodyJob", "NBodyDataConfig", "NBodyObjectiveConfig",
    "NBodyEvalConfig",
    # point sets
    "PointerJob", "PointerTask",
]
