"""Graphs, grids, meshes, spatiotemporal series, and their storage."""

from sciml.data._atomic import atomic_torch_save, atomic_write

__all__ = ["atomic_write", "atomic_torch_save"]
