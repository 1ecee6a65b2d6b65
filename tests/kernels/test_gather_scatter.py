"""gather_scatter and spmm against the loop references; first and second derivatives; errors."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sciml.kernels import _gather_scatter, gather_scatter, spmm
from sciml.kernels._reference import gather_scatter_ref, spmm_ref

F64 = torch.float64
pytestmark = pytest.mark.filterwarnings("ignore:Sparse:UserWarning")


@st.composite
def graphs(draw):
    n = draw(st.integers(0, 10))
    e = draw(st.integers(0, 30)) if n else 0
    m = draw(st.integers(max(n, 1) if e else 0, 12))
    feat = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    mode = draw(st.sampled_from(["none", "scalar", "channel"]))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    x = torch.randn((n, *feat), generator=g, dtype=F64)
    ei = torch.stack([torch.randint(0, max(n, 1), (e,), generator=g),
                      torch.randint(0, max(m, 1), (e,), generator=g)])
    w = {"none": None, "scalar": torch.randn(e, generator=g, dtype=F64),
         "channel": torch.randn((e, *feat), generator=g, dtype=F64)}[mode]
    return x, ei, w, m


@settings(max_examples=25, deadline=None)
@given(graphs(), st.sampled_from(["sum", "mean", "max", "min"]))
def test_gather_scatter_matches_reference(graph, reduce):
    x, ei, w, m = graph
    out = gather_scatter(x, ei, w, dim_size=m, reduce=reduce)
    torch.testing.assert_close(out, gather_scatter_ref(x, ei, w, m, reduce))


@pytest.mark.parametrize("mode", ["none", "scalar", "channel"])
def test_torch_fallback_path_matches_numba_path(monkeypatch, mode):
    x = torch.randn(30, 5, dtype=F64)
    ei = torch.randint(0, 30, (2, 120))
    w = {"none": None, "scalar": torch.randn(120, dtype=F64),
         "channel": torch.randn(120, 5, dtype=F64)}[mode]
    fast = gather_scatter(x, ei, w)
    leaves = [x.requires_grad_()] + ([] if w is None else [w.requires_grad_()])
    g = torch.randn(30, 5, dtype=F64)
    fast_grads = torch.autograd.grad(gather_scatter(x, ei, w), leaves, g)
    monkeypatch.setattr(_gather_scatter, "_use_numba", lambda t: False)
    torch.testing.assert_close(gather_scatter(x, ei, w), fast)
    # the gradients (for a per-channel weight: the fused edge product) agree too
    for a, b in zip(torch.autograd.grad(gather_scatter(x, ei, w), leaves, g), fast_grads,
                    strict=True):
        torch.testing.assert_close(a, b)


def test_float32_and_default_dim_size():
    x = torch.randn(20, 8)
    ei = torch.randint(0, 20, (2, 100))
    w = torch.rand(100)
    out = gather_scatter(x, ei, w)
    assert out.shape == (20, 8) and out.dtype == torch.float32
    want = gather_scatter_ref(x.double(), ei, w.double(), 20, "sum")
    torch.testing.assert_close(out, want.float(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["none", "scalar", "channel"])
def test_gradcheck_and_gradgradcheck_sum(mode):
    x = torch.randn(5, 2, dtype=F64, requires_grad=True)
    ei = torch.randint(0, 5, (2, 12))
    if mode == "none":
        def fn(x):
            return gather_scatter(x, ei)
        args = (x,)
    else:
        shape = (12,) if mode == "scalar" else (12, 2)
        w = torch.randn(shape, dtype=F64, requires_grad=True)

        def fn(x, w):
            return gather_scatter(x, ei, w)
        args = (x, w)
    assert torch.autograd.gradcheck(fn, args)
    assert torch.autograd.gradgradcheck(fn, args)


@pytest.mark.parametrize("reduce", ["mean", "max"])
def test_gradcheck_mean_and_max(reduce):
    x = torch.randn(5, 2, dtype=F64, requires_grad=True)
    w = torch.randn(12, dtype=F64, requires_grad=True)
    ei = torch.randint(0, 5, (2, 12))
    assert torch.autograd.gradcheck(lambda x, w: gather_scatter(x, ei, w, reduce=reduce), (x, w))
    if reduce == "mean":
        assert torch.autograd.gradgradcheck(
            lambda x, w: gather_scatter(x, ei, w, reduce=reduce), (x, w))


def test_forces_from_energy_match_autograd_of_plain_torch():
    # A toy energy whose edge weights depend on positions: forces need double backward.
    pos = torch.randn(9, 3, dtype=F64, requires_grad=True)
    h = torch.randn(9, 4, dtype=F64, requires_grad=True)
    ei = torch.randint(0, 9, (2, 40))

    def energy(agg):
        w = torch.exp(-(pos[ei[0]] - pos[ei[1]]).pow(2).sum(-1))
        return agg(h, ei, w).tanh().sum()

    def plain(x, ei, w):
        return torch.zeros_like(x).index_add(0, ei[1], x[ei[0]] * w[:, None])

    grads = []
    for agg in (gather_scatter, plain):
        f = torch.autograd.grad(energy(agg), pos, create_graph=True)[0]
        grads.append(torch.autograd.grad(f.pow(2).sum(), (pos, h)))
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b)


def test_feature_dims_and_empty_graphs():
    x = torch.randn(5, 2, 3, dtype=F64)
    ei = torch.randint(0, 5, (2, 9))
    w = torch.randn(9, 2, 3, dtype=F64)
    torch.testing.assert_close(gather_scatter(x, ei, w), gather_scatter_ref(x, ei, w, 5, "sum"))
    empty_ei = torch.zeros(2, 0, dtype=torch.long)
    assert torch.equal(gather_scatter(x, empty_ei), torch.zeros_like(x))
    assert gather_scatter(torch.zeros(0, 4), empty_ei).shape == (0, 4)
    assert gather_scatter(torch.zeros(0, 4), empty_ei, dim_size=3).abs().sum() == 0
    one = torch.tensor([[2.0]], dtype=F64)
    assert gather_scatter(one, torch.tensor([[0], [0]]), torch.tensor([3.0], dtype=F64)) == 6.0


def test_gather_scatter_rejects_bad_input():
    x = torch.randn(4, 3)
    ei = torch.tensor([[0, 1, 2], [1, 2, 3]])
    with pytest.raises(TypeError, match="edge_index"):
        gather_scatter(x, ei.float())
    with pytest.raises(ValueError, match="edge_index"):
        gather_scatter(x, torch.tensor([[0, 1, 9], [1, 2, 3]]))
    with pytest.raises(ValueError, match="dim_size"):
        gather_scatter(x, ei, dim_size=2)
    with pytest.raises(ValueError, match="edge_index"):
        gather_scatter(x, ei[:1])
    with pytest.raises(ValueError, match="weight"):
        gather_scatter(x, ei, torch.ones(4))
    with pytest.raises(ValueError, match="weight"):
        gather_scatter(x, ei, torch.ones(3, 2))
    with pytest.raises(TypeError, match="weight"):
        gather_scatter(x, ei, torch.ones(3, dtype=F64))
    with pytest.raises(TypeError, match="x"):
        gather_scatter(x.long(), ei)
    with pytest.raises(ValueError, match="reduce"):
        gather_scatter(x, ei, reduce="prod")


def _random_csr(m, n, nnz, requires_grad=False):
    flat = torch.randperm(m * n)[:nnz].sort().values
    row, col = flat // n, flat % n
    crow = torch.zeros(m + 1, dtype=torch.long)
    crow[1:] = torch.bincount(row, minlength=m).cumsum(0)
    values = torch.randn(nnz, dtype=F64, requires_grad=requires_grad)
    return torch.sparse_csr_tensor(crow, col, values, (m, n)), values, crow, col


@pytest.mark.parametrize("shape", [(6, 5, 12), (3, 7, 0), (1, 1, 1)])
def test_spmm_matches_dense_and_gradcheck(shape):
    m, n, nnz = shape
    csr, values, crow, col = _random_csr(m, n, nnz, requires_grad=True)
    x = torch.randn(n, 4, dtype=F64, requires_grad=True)
    torch.testing.assert_close(spmm(csr, x), spmm_ref(csr, x))

    def fn(v, x):
        return spmm(torch.sparse_csr_tensor(crow, col, v, (m, n)), x)
    assert torch.autograd.gradcheck(fn, (values, x))


def test_spmm_rejects_bad_input():
    csr, *_ = _random_csr(4, 3, 5)
    with pytest.raises(TypeError, match="csr"):
        spmm(csr.to_dense(), torch.randn(3, 2, dtype=F64))
    with pytest.raises(ValueError, match="x"):
        spmm(csr, torch.randn(4, 2, dtype=F64))
    with pytest.raises(TypeError, match="dtype"):
        spmm(csr, torch.randn(3, 2))


def test_numba_kernels_keep_torch_thread_count():
    # numba's first parallel region used to reset torch's OpenMP thread count to the core count
    import subprocess
    import sys

    code = ("import torch; torch.set_num_threads(1); from sciml.kernels import gather_scatter, "
            "radius_graph; x = torch.randn(50, 3); "
            "gather_scatter(x, torch.tensor([[0, 1], [1, 2]])); "
            "radius_graph(x, 0.5); print(torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


def test_numba_kernels_use_no_more_threads_than_torch():
    import numba

    from sciml.kernels._numba_runtime import numba_threads

    prev_torch, prev_numba = torch.get_num_threads(), numba.get_num_threads()
    try:
        torch.set_num_threads(1)
        with numba_threads():
            assert numba.get_num_threads() == 1
        with numba_threads(serial=True):
            assert numba.get_num_threads() == 1
        assert numba.get_num_threads() == prev_numba
        torch.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        with numba_threads():
            assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    finally:
        torch.set_num_threads(prev_torch)
