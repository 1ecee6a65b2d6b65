"""radius_graph / knn_graph against brute force, cKDTree (orthorhombic) and images (triclinic)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from sciml.kernels import knn_graph, radius_graph
from sciml.kernels._neighbors_torch import radius_torch
from sciml.kernels._reference import knn_ref, radius_ref

F64 = torch.float64


def _edge_set(edge_index, shift=None, cell=None, batch=None, pos=None):
    """Edges as (src, dst, n0, n1, n2), recovering the lattice vector from the shift."""
    out = set()
    for e in range(edge_index.size(1)):
        s, d = int(edge_index[0, e]), int(edge_index[1, e])
        if shift is None:
            out.add((s, d, 0, 0, 0))
        else:
            c = cell if cell.dim() == 2 else cell[int(batch[d])]
            n = torch.linalg.solve(c.T.double(), shift[e].double()).round().long().tolist()
            out.add((s, d, *n))
    return out


def _assert_sorted(edge_index):
    key = edge_index[1] * (edge_index.max() + 1 if edge_index.numel() else 1) + edge_index[0]
    assert bool((key[1:] >= key[:-1]).all())


@st.composite
def clouds(draw):
    n = draw(st.integers(0, 40))
    dim = draw(st.integers(1, 3))
    n_graphs = draw(st.integers(1, 3))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    pos = torch.rand(n, dim, generator=g, dtype=F64) * draw(st.sampled_from([1.0, 5.0]))
    batch = torch.randint(0, n_graphs, (n,), generator=g).sort().values
    return pos, batch


@settings(max_examples=25, deadline=None)
@given(clouds(), st.floats(0.05, 2.0), st.booleans(), st.booleans())
def test_radius_matches_brute_force(cloud, r, use_batch, loop):
    pos, batch = cloud
    b = batch if use_batch else None
    ei = radius_graph(pos, r, batch=b, loop=loop)
    assert ei.dtype == torch.long and ei.shape[0] == 2
    _assert_sorted(ei)
    want = radius_ref(pos.numpy(), r, None if b is None else b.numpy(), loop=loop)
    assert _edge_set(ei) == want
    src, dst, _ = radius_torch(pos, r, batch if use_batch else torch.zeros_like(batch), None,
                               None, loop)
    assert torch.equal(torch.stack([src, dst]), ei)


def test_radius_on_a_sparse_wide_cloud_caps_the_grid():
    pos = torch.cat([torch.rand(50, 3, dtype=F64), 1e6 + torch.rand(50, 3, dtype=F64)])
    ei = radius_graph(pos, 0.3)
    assert _edge_set(ei) == radius_ref(pos.numpy(), 0.3)


@pytest.mark.parametrize("k", [1, 3])
def test_max_num_neighbors_keeps_the_nearest(k):
    pos = torch.rand(60, 3, dtype=F64)
    full = radius_graph(pos, 0.4)
    ei = radius_graph(pos, 0.4, max_num_neighbors=k)
    _assert_sorted(ei)
    dist = (pos[full[0]] - pos[full[1]]).norm(dim=-1)
    kept = _edge_set(ei)
    for i in range(60):
        mine = full[1] == i
        d_sorted = dist[mine].sort().values
        kept_i = [e for e in kept if e[1] == i]
        assert len(kept_i) == min(k, int(mine.sum()))
        kept_d = sorted(float((pos[s] - pos[i]).norm()) for s, *_ in kept_i)
        assert np.allclose(kept_d, d_sorted[: len(kept_d)].tolist())
    src, dst, _ = radius_torch(pos, 0.4, torch.zeros(60, dtype=torch.long), None, k, False)
    assert torch.equal(torch.stack([src, dst]), ei)


@pytest.mark.parametrize("box", [[1.0, 1.0, 1.0], [2.0, 1.5, 3.0]])
def test_periodic_orthorhombic_matches_ckdtree(box):
    pos = torch.rand(200, 3, dtype=F64) * torch.tensor(box, dtype=F64)
    r = 0.3
    ei, shift = radius_graph(pos, r, cell=torch.diag(torch.tensor(box, dtype=F64)))
    _assert_sorted(ei)
    disp = pos[ei[0]] - pos[ei[1]] + shift
    dist = disp.norm(dim=-1)
    assert bool((dist <= r + 1e-12).all())
    tree = cKDTree(pos.numpy(), boxsize=box)
    sdm = tree.sparse_distance_matrix(tree, r, output_type="dok_matrix")
    want = {(j, i) for (i, j) in sdm.keys() if i != j}
    assert {(int(s), int(d)) for s, d in ei.T} == want
    assert ei.size(1) == len(want)  # r < half the box: one image per pair
    for (i, j), v in list(sdm.items())[:50]:
        if i != j:
            e = ((ei[1] == i) & (ei[0] == j)).nonzero().item()
            assert abs(dist[e].item() - v) < 1e-10


def test_periodic_triclinic_with_images_beyond_the_cell():
    cell = torch.tensor([[1.0, 0.0, 0.0], [0.4, 0.9, 0.0], [0.3, -0.2, 1.1]], dtype=F64)
    frac = torch.rand(12, 3, dtype=F64) * 1.6 - 0.3  # some points outside the cell
    pos = frac @ cell
    for r in (0.45, 1.3):  # 1.3 exceeds every cell height: many images of each pair
        ei, shift = radius_graph(pos, r, cell=cell)
        _assert_sorted(ei)
        got = _edge_set(ei, shift, cell, torch.zeros(12, dtype=torch.long))
        assert got == radius_ref(pos.numpy(), r, cell=cell.numpy())
        assert len(got) == ei.size(1)
        disp = pos[ei[0]] - pos[ei[1]] + shift
        assert bool((disp.norm(dim=-1) <= r + 1e-12).all())
        src, dst, _ = radius_torch(pos, r, torch.zeros(12, dtype=torch.long), cell[None], None,
                                   False)
        assert torch.equal(torch.stack([src, dst]), ei)


def test_periodic_batch_with_per_graph_cells_and_loop():
    cells = torch.stack([torch.eye(3, dtype=F64) * 1.2,
                         torch.tensor([[1.0, 0, 0], [0.5, 0.8, 0], [0, 0.3, 0.9]], dtype=F64)])
    batch = torch.tensor([0] * 7 + [1] * 9)
    pos = torch.rand(16, 3, dtype=F64)
    ei, shift = radius_graph(pos, 0.9, batch=batch, cell=cells, loop=True)
    got = _edge_set(ei, shift, cells, batch)
    want = set()
    for g in range(2):
        idx = (batch == g).nonzero().flatten()
        for s, d, *n in radius_ref(pos[idx].numpy(), 0.9, cell=cells[g].numpy(), loop=True):
            want.add((int(idx[s]), int(idx[d]), *n))
    assert got == want
    assert all((s, s, 0, 0, 0) in got for s in range(16))


def test_shift_is_differentiable_in_the_cell():
    pos = torch.rand(10, 3, dtype=F64)
    cell = (torch.eye(3, dtype=F64) + 0.1 * torch.rand(3, 3, dtype=F64)).requires_grad_()
    ei, shift = radius_graph(pos, 0.6, cell=cell)
    (shift ** 2).sum().backward()
    assert cell.grad is not None and torch.isfinite(cell.grad).all()


def test_edge_cases_and_higher_dimensions():
    assert radius_graph(torch.zeros(0, 3), 1.0).shape == (2, 0)
    assert radius_graph(torch.zeros(1, 3), 1.0).shape == (2, 0)
    assert radius_graph(torch.zeros(1, 3), 1.0, loop=True).tolist() == [[0], [0]]
    ei, shift = radius_graph(torch.zeros(0, 3), 1.0, cell=torch.eye(3))
    assert ei.shape == (2, 0) and shift.shape == (0, 3)
    pos = torch.rand(30, 4, dtype=F64)  # 4-D: brute-force path
    assert _edge_set(radius_graph(pos, 0.6)) == radius_ref(pos.numpy(), 0.6)
    assert knn_graph(torch.zeros(0, 2), 3).shape == (2, 0)


@settings(max_examples=25, deadline=None)
@given(clouds(), st.integers(1, 6), st.booleans(), st.booleans())
def test_knn_matches_brute_force(cloud, k, use_batch, loop):
    pos, batch = cloud
    b = batch if use_batch else None
    ei = knn_graph(pos, k, batch=b, loop=loop)
    _assert_sorted(ei)
    want = knn_ref(pos.numpy(), k, None if b is None else b.numpy(), loop=loop)
    assert ei.size(1) == len(want)
    if b is not None and ei.numel():
        assert torch.equal(batch[ei[0]], batch[ei[1]])
    for i in range(pos.size(0)):  # compare distances (ties may pick different points)
        got = sorted((pos[ei[0, ei[1] == i]] - pos[i]).norm(dim=-1).tolist())
        ref = sorted(d for _, c, d in want if c == i)
        assert np.allclose(got, ref)
    if not loop:
        assert not bool((ei[0] == ei[1]).any()) or pos.unique(dim=0).size(0) < pos.size(0)


def test_neighbors_reject_bad_input():
    pos = torch.rand(5, 3)
    with pytest.raises(ValueError, match="r must"):
        radius_graph(pos, 0.0)
    with pytest.raises(TypeError, match="pos"):
        radius_graph(pos.long(), 1.0)
    with pytest.raises(ValueError, match="pos"):
        radius_graph(torch.rand(5), 1.0)
    with pytest.raises(ValueError, match="pos"):
        radius_graph(torch.tensor([[0.0, float("nan"), 0.0]]), 1.0)
    with pytest.raises(TypeError, match="batch"):
        radius_graph(pos, 1.0, batch=torch.zeros(5))
    with pytest.raises(ValueError, match="batch"):
        radius_graph(pos, 1.0, batch=torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="cell"):
        radius_graph(pos, 1.0, cell=torch.eye(2))
    with pytest.raises(ValueError, match="non-singular"):
        radius_graph(pos, 1.0, cell=torch.zeros(3, 3))
    with pytest.raises(ValueError, match="3-D"):
        radius_graph(torch.rand(5, 2), 1.0, cell=torch.eye(3))
    with pytest.raises(ValueError, match="max_num_neighbors"):
        radius_graph(pos, 1.0, max_num_neighbors=-1)
    with pytest.raises(ValueError, match="k must"):
        knn_graph(pos, 0)
