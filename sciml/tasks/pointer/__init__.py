"""Point sets answered by sequences of their positions: the pointer job (convex hull, Delaunay
triangulation, travelling salesman) with its task, data configuration and measures."""

from sciml.tasks.pointer._job import (
    PointerDataConfig,
    PointerEvalConfig,
    PointerJob,
    PointerTask,
    PointSets,
    collate_point_sets,
    score_answer,
)

__all__ = ["PointerJob", "PointerTask", "PointSets", "collate_point_sets", "score_answer",
           "PointerDataConfig", "PointerEvalConfig"]
