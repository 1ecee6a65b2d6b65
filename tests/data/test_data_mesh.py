"""Mesh: validation, unique edges of a triangulated square and a tetrahedron, graph view."""

import math

import pytest
import torch

from sciml.data import Batch, Graph, Mesh
from sciml.errors import DataError


def _square(n: int) -> Mesh:
    """n x n vertices on the unit square, two triangles per square cell."""
    xs = torch.linspace(0, 1, n, dtype=torch.float64)
    pts = torch.stack(torch.meshgrid(xs, xs, indexing="ij"), -1).reshape(-1, 2)
    cells = []
    for i in range(n - 1):
        for j in range(n - 1):
            a, b, c, d = i * n + j, (i + 1) * n + j, i * n + j + 1, (i + 1) * n + j + 1
            cells += [[a, b, c], [b, d, c]]
    return Mesh(pts, torch.tensor(cells))


def test_triangulated_square_edges():
    n = 5
    m = _square(n)
    e = m.edges()
    assert e.shape[1] == 2 * n * (n - 1) + (n - 1) ** 2
    assert m.n_points - e.shape[1] + m.n_cells == 1  # Euler characteristic of a disk
    assert bool((e[0] < e[1]).all())
    key = e[0] * m.n_points + e[1]
    assert bool((key[1:] > key[:-1]).all())  # sorted and unique
    lengths = m.edge_lengths()
    h = 1 / (n - 1)
    assert sorted(set(round(v, 9) for v in lengths.tolist())) == [round(h, 9),
                                                                  round(h * math.sqrt(2), 9)]


def test_graph_view_both_directions():
    m = _square(3)
    g = m.graph()
    assert isinstance(g, Graph) and torch.equal(g.pos, m.points) and g.num_nodes == 9
    ei = g.edge_index
    assert ei.shape[1] == 2 * m.edges().shape[1]
    pairs = set(map(tuple, ei.t().tolist()))
    assert all((d, s) in pairs for s, d in pairs)
    key = ei[0] * 9 + ei[1]
    assert bool((key[1:] > key[:-1]).all())
    b = Batch.from_graphs([g, _square(2).graph()])
    assert b.num_nodes == 13 and int(b.edge_index[:, ei.shape[1]:].min()) == 9


def test_tetrahedron():
    pts = torch.tensor([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=torch.float64)
    m = Mesh(pts, torch.tensor([[0, 1, 2, 3]]))
    assert m.edges().shape == (2, 6)
    assert m.graph().edge_index.shape == (2, 12)


@pytest.mark.parametrize(
    "points, cells, words",
    [
        (torch.zeros(3, 2), torch.tensor([[0, 1, 3]]), ["cell 0", "[0, 1, 3]", "outside [0, 3)"]),
        (torch.zeros(3, 2), torch.tensor([[0, 1, -1]]), ["outside"]),
        (torch.zeros(3, 2), torch.tensor([[0, 1, 1]]), ["repeats a vertex"]),
        (torch.zeros(3, 2), torch.tensor([[0.0, 1.0, 2.0]]), ["integer"]),
        (torch.zeros(3), torch.tensor([[0, 1, 2]]), ["points", "(n, d)"]),
    ],
)
def test_validation(points, cells, words):
    with pytest.raises(DataError) as info:
        Mesh(points, cells)
    for w in words:
        assert w in str(info.value)
