"""Physics-informed hard constraints with a mixture of experts (PI-HC-MoE) and the soft-constraint
baseline: problems, the task, the job (recipe → run folder)."""

from sciml.tasks.hard_constraint._job import HardConstraintJob, HardConstraintTask, InitialStates
from sciml.tasks.hard_constraint._problem import (
    HardConstraintFit,
    HardConstraintProblem,
    mean_relative_l2,
    problem_data,
)

__all__ = ["HardConstraintJob", "HardConstraintTask", "InitialStates", "HardConstraintProblem",
           "HardConstraintFit", "problem_data", "mean_relative_l2"]
