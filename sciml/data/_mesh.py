"""Unstructured meshes (points + cells) and their graph view."""

from __future__ import annotations

import numpy as np
import torch
from jaxtyping import Float, Int
from torch import Tensor

from sciml.data._graph import Graph
from sciml.errors import DataError

__all__ = ["Mesh", "MeshGraph"]


class MeshGraph(Graph):
    """The graph view of a :class:`Mesh`: points of any dimension ``d``, optional features."""

    schema = {**Graph.schema, "pos": "n d"}


class Mesh:
    """Points and cells of a simplicial (or any fixed-arity) mesh.

    Every pair of vertices of a cell is an edge (for triangles and tetrahedra, the cell edges).

    Args:
        points: Vertex positions ``(n, d)``; numpy arrays are converted.
        cells: Vertex ids of each cell ``(m, k)``, integer, in ``[0, n)``, distinct per cell.
    """

    def __init__(self, points: Float[Tensor, "n d"], cells: Int[Tensor, "m k"]) -> None:
        points = torch.as_tensor(np.asarray(points)) if not isinstance(points, Tensor) else points
        cells = torch.as_tensor(np.asarray(cells)) if not isinstance(cells, Tensor) else cells
        if points.dim() != 2 or not points.is_floating_point():
            raise DataError(
                f"points must be a float tensor (n, d), got shape {tuple(points.shape)} "
                f"dtype {points.dtype}"
            )
        if cells.dim() != 2 or cells.is_floating_point() or cells.dtype == torch.bool:
            raise DataError(
                f"cells must be an integer tensor (m, k), got shape {tuple(cells.shape)} "
                f"dtype {cells.dtype}"
            )
        if cells.shape[1] < 2:
            raise DataError(f"cells need at least 2 vertices each, got k = {cells.shape[1]}")
        cells = cells.to(torch.long)
        n = points.shape[0]
        if cells.numel() and (int(cells.min()) < 0 or int(cells.max()) >= n):
            bad = int(((cells < 0) | (cells >= n)).any(dim=1).nonzero()[0])
            raise DataError(
                f"cell {bad} = {cells[bad].tolist()} refers to a vertex outside [0, {n}) "
                f"(the mesh has {n} points)"
            )
        if cells.numel():
            s = cells.sort(dim=1).values
            dup = (s[:, 1:] == s[:, :-1]).any(dim=1)
            if bool(dup.any()):
                bad = int(dup.nonzero()[0])
                raise DataError(f"cell {bad} = {cells[bad].tolist()} repeats a vertex")
        self.points = points
        self.cells = cells

    def __repr__(self) -> str:
        return (
            f"Mesh(points={tuple(self.points.shape)}, cells={tuple(self.cells.shape)})"
        )

    @property
    def n_points(self) -> int:
        return int(self.points.shape[0])

    @property
    def n_cells(self) -> int:
        return int(self.cells.shape[0])

    def edges(self) -> Int[Tensor, "2 e"]:
        """Unique undirected edges ``(2, E)`` with ``src < dst``, sorted by ``(src, dst)``."""
        k = self.cells.shape[1]
        a, b = torch.triu_indices(k, k, offset=1, device=self.cells.device)
        pairs = torch.stack([self.cells[:, a], self.cells[:, b]], dim=0).reshape(2, -1)
        lo, hi = pairs.min(dim=0).values, pairs.max(dim=0).values
        key = torch.unique(lo * self.n_points + hi)  # sorted, so edges come out sorted
        return torch.stack([key // self.n_points, key % self.n_points], dim=0)

    def graph(self) -> MeshGraph:
        """The :class:`MeshGraph` of the mesh: ``pos`` = points, each mesh edge in both directions.

        ``edge_index`` rows are ``[src; dst]``, sorted by ``(src, dst)``.
        """
        und = self.edges()
        both = torch.cat([und, und.flip(0)], dim=1)
        order = torch.argsort(both[0] * self.n_points + both[1])
        return MeshGraph(pos=self.points, edge_index=both[:, order])

    def edge_lengths(self) -> Float[Tensor, " e"]:
        """Length of each undirected edge of :meth:`edges`, ``(E,)``."""
        e = self.edges()
        return torch.linalg.vector_norm(self.points[e[1]] - self.points[e[0]], dim=-1)
