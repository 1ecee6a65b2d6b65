"""Physics-informed networks (PINN, Lagrangian PINN): problems with reference solutions, the fit
configuration, objectives, the full-batch task, the job (recipe → run folder)."""

from sciml.tasks.physics_informed._job import (
    PhysicsEvalConfig,
    PhysicsInformedJob,
    build_physics_model,
    evaluate_on_grid,
    read_points,
)
from sciml.tasks.physics_informed._problem import (
    AbstractObjective,
    FitConfig,
    LPINNObjective,
    PhysicsProblem,
    PINNObjective,
    hammersley_points,
    make_objective,
    reference_solution,
)
from sciml.tasks.physics_informed._task import PhysicsInformedTask, fit_physics_informed

__all__ = ["PhysicsProblem", "FitConfig", "AbstractObjective", "PINNObjective",
           "LPINNObjective", "make_objective", "reference_solution", "hammersley_points",
           "PhysicsInformedTask", "fit_physics_informed", "PhysicsInformedJob",
           "PhysicsEvalConfig", "build_physics_model", "evaluate_on_grid", "read_points"]
