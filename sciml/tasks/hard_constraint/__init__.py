"""Physics-informed hard constraints with a mixture of experts (PI-HC-MoE) and the soft-constraint
baseline: problems, the task, the job (recipe → run folder)."""

from sciml.tasks.hard_constraint._job import HardConstraintJob, HardConstraintTask, InitialStates
from sciml.tasks.hard_constraint._problem import (
    PROBLEM_SOURCES,
    HardConstraintFit,
    HardConstraintProblem,
    ProblemSource,
    fixed_initial_source,
    mean_relative_l2,
    problem_data,
    register_problem_source,
)

__all__ = ["HardConstraintJob", "HardConstraintTask", "InitialStates", "HardConstraintProblem",
           "HardConstraintFit", "problem_data", "mean_relative_l2", "ProblemSource",
           "register_problem_source", "fixed_initial_source", "PROBLEM_SOURCES"]
