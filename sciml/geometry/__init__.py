"""Geometry of position-orientation space: orientation grids, rotations, pair invariants, and
maps between grid signals and vectors / spherical harmonics (used by PONITA)."""

from sciml.geometry._invariants import (
    fibre_invariants,
    pair_distance,
    r2s1_invariants,
    r3s2_invariants,
    safe_norm,
    spatial_invariants,
)
from sciml.geometry._rotations import (
    axis_angle_rotation,
    random_reflection,
    random_rotation,
    rotation_2d,
)
from sciml.geometry._sphere import circle_grid, fibonacci_sphere, orientation_grid
from sciml.geometry._spherical import (
    sh_basis,
    sh_to_sphere,
    sphere_to_sh,
    sphere_to_vec,
    vec_to_sphere,
)

__all__ = [
    "fibonacci_sphere",
    "circle_grid",
    "orientation_grid",
    "random_rotation",
    "random_reflection",
    "rotation_2d",
    "axis_angle_rotation",
    "safe_norm",
    "pair_distance",
    "r3s2_invariants",
    "r2s1_invariants",
    "spatial_invariants",
    "fibre_invariants",
    "vec_to_sphere",
    "sphere_to_vec",
    "sh_basis",
    "sphere_to_sh",
    "sh_to_sphere",
]
