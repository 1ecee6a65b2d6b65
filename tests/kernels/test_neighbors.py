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
    with pytest.raises(ValueError, match="r=5000.0 is too large for the periodic cell"):
        radius_graph(pos.double(), 5000.0, cell=torch.eye(3, dtype=F64))
    with pytest.raises(ValueError, match="k must"):
        knn_graph(pos, 0)


def _ckdtree_edges(pos, r, box=None):
    """Both directions of cKDTree's pairs within r, sorted by (dst, src)."""
    pairs = cKDTree(pos, boxsize=box).query_pairs(r, output_type="ndarray")
    src = np.concatenate([pairs[:, 0], pairs[:, 1]])
    dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.lexsort((src, dst))
    return np.stack([src[order], dst[order]])


@pytest.mark.parametrize("periodic", [False, True])
def test_radius_on_clustered_points_overflows_chunks_and_stays_exact(periodic):
    from sciml.kernels._cells import bin_points, grid_params
    from sciml.kernels._numba_cells import _half_pairs

    rng = np.random.default_rng(1)
    box = 20.0
    ball = rng.normal(size=(1200, 3))
    ball = 5.0 + ball / np.linalg.norm(ball, axis=1, keepdims=True) * rng.random((1200, 1))
    pos = np.concatenate([rng.random((4800, 3)) * box, ball])
    r = 0.3
    cell = np.eye(3)[None] * box if periodic else None
    g = np.zeros(len(pos), dtype=np.int64)
    nb, w, lo, inv, ortho, off = grid_params(pos, g, 1, r, cell)
    cz = cell if periodic else np.zeros((1, 3, 3))
    order, start, ps, su, sb, _ = bin_points(pos, g, periodic, lo, w, inv, cz, nb, off)
    *_, n_over = _half_pairs(g[order], ps, su, sb, start, off, nb, w, ortho, cz, periodic, r,
                             2, 3, False)
    assert n_over > 0  # the dense ball overflows its chunk's share of the buffer
    t = torch.from_numpy(pos)
    ei = radius_graph(t, r, cell=torch.eye(3, dtype=F64) * box) if periodic else \
        radius_graph(t, r)
    ei = ei[0] if periodic else ei
    assert np.array_equal(ei.numpy(), _ckdtree_edges(pos, r, box if periodic else None))


@pytest.mark.parametrize("periodic", [False, True])
def test_radius_parallel_path_matches_ckdtree(periodic, monkeypatch):
    from sciml.kernels import _numba_cells

    monkeypatch.setattr(_numba_cells, "_SERIAL_BELOW", 0)  # the chunks run on all threads
    rng = np.random.default_rng(2)
    n = 25_000
    box = n ** (1 / 3)
    pos = rng.random((n, 3)) * box
    r = 1.2
    t = torch.from_numpy(pos)
    if periodic:
        ei, shift = radius_graph(t, r, cell=torch.eye(3, dtype=F64) * box)
        dist = (t[ei[0]] - t[ei[1]] + shift).norm(dim=-1)
        assert bool((dist <= r).all())
    else:
        ei = radius_graph(t, r)
    assert np.array_equal(ei.numpy(), _ckdtree_edges(pos, r, box if periodic else None))


def _lattice_brute_force(pos, r, box=None):
    """``(src, dst, n0, n1, n2)`` with ``|pos[src] - pos[dst] + n * box|^2 <= r^2`` (vectorised)."""
    images = [(0, 0, 0)] if box is None else [
        (a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)]
    out = set()
    for img in images:
        d = pos[:, None, :] - pos[None, :, :] + np.asarray(img, dtype=float) * (box or 0.0)
        dd = d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1] + d[..., 2] * d[..., 2]
        hit = dd <= r * r
        if not any(img):
            np.fill_diagonal(hit, False)
        out |= {(int(s), int(t), *img) for s, t in zip(*np.nonzero(hit), strict=True)}
    return out


@pytest.mark.parametrize("r", [1.0, 2.0 ** 0.5, 2.0])  # squares exact: |d|^2 <= r^2 ties
def test_radius_keeps_pairs_at_exactly_r_on_bin_boundaries(r):
    grid = torch.stack(torch.meshgrid(*[torch.arange(5, dtype=F64)] * 3, indexing="ij"), -1)
    pos = grid.reshape(-1, 3)
    assert _edge_set(radius_graph(pos, r)) == _lattice_brute_force(pos.numpy(), r)
    cell = torch.eye(3, dtype=F64) * 5
    ei, shift = radius_graph(pos, r, cell=cell)
    got = _edge_set(ei, shift, cell, torch.zeros(125, dtype=torch.long))
    assert got == _lattice_brute_force(pos.numpy(), r, 5.0)
    assert len(got) == ei.size(1)


@pytest.mark.parametrize("cell", [
    # rotated box: orthogonal lattice rows that are not axis-aligned
    [[1.2 * np.cos(0.5), 1.2 * np.sin(0.5), 0.0], [-np.sin(0.5), np.cos(0.5), 0.0],
     [0.0, 0.0, 0.8]],
    [[2.0, 0.0, 0.0], [0.0, 0.7, 0.0], [0.0, 1e-3, 0.9]],  # nearly, but not, orthogonal
    [[3.0, 0.0, 0.0], [0.0, 0.6, 0.0], [0.0, 0.0, 0.5]],  # long and thin
])
def test_periodic_rotated_and_skewed_cells_match_brute_force(cell):
    cell = torch.tensor(cell, dtype=F64)
    pos = (torch.rand(14, 3, dtype=F64) * 1.2 - 0.1) @ cell
    for r in (0.3, 0.7):
        ei, shift = radius_graph(pos, r, cell=cell)
        _assert_sorted(ei)
        got = _edge_set(ei, shift, cell, torch.zeros(14, dtype=torch.long))
        assert got == radius_ref(pos.numpy(), r, cell=cell.numpy())
        assert len(got) == ei.size(1)


def test_periodic_max_num_neighbors_matches_torch_path():
    cell = torch.tensor([[1.0, 0.0, 0.0], [0.3, 1.1, 0.0], [0.0, 0.2, 0.9]], dtype=F64)
    pos = torch.rand(40, 3, dtype=F64) @ cell
    for k in (2, 5):
        ei, shift = radius_graph(pos, 0.6, cell=cell, max_num_neighbors=k)
        src, dst, img = radius_torch(pos, 0.6, torch.zeros(40, dtype=torch.long), cell[None],
                                     k, False)
        assert torch.equal(torch.stack([src, dst]), ei)
        assert torch.allclose(shift, img.double() @ cell)


def test_radius_float32_equals_float64_on_the_same_values():
    pos = torch.rand(300, 3) * 4
    ei = radius_graph(pos, 0.5)
    assert torch.equal(ei, radius_graph(pos.double(), 0.5))
    ei, shift = radius_graph(pos, 0.5, cell=torch.eye(3) * 4)
    assert shift.dtype == torch.float32
    ei64, _ = radius_graph(pos.double(), 0.5, cell=torch.eye(3, dtype=F64) * 4)
    assert torch.equal(ei, ei64)
