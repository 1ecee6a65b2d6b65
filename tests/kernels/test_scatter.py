"""scatter / scatter_softmax / segment against the loop references, gradients, bad input."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sciml.kernels import scatter, scatter_softmax, segment
from sciml.kernels._reference import scatter_ref, scatter_softmax_ref, segment_ref

REDUCES = ["sum", "mean", "max", "min"]
F64 = torch.float64


@st.composite
def scatter_inputs(draw):
    n_rows = draw(st.integers(0, 20))
    size = draw(st.integers(1 if n_rows else 0, 6))
    extra = draw(st.lists(st.integers(1, 3), min_size=0, max_size=2))
    dim = draw(st.integers(0, len(extra)))
    shape = list(extra)
    shape.insert(dim, n_rows)
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    src = torch.randn(shape, generator=g, dtype=F64)
    index = torch.randint(0, max(size, 1), (n_rows,), generator=g)
    return src, index, dim, size


@settings(max_examples=25, deadline=None)
@given(scatter_inputs(), st.sampled_from(REDUCES), st.booleans())
def test_scatter_matches_reference(inputs, reduce, negative_dim):
    src, index, dim, size = inputs
    d = dim - src.dim() if negative_dim else dim
    out = scatter(src, index, d, size, reduce)
    torch.testing.assert_close(out, scatter_ref(src, index, dim, size, reduce))


@settings(max_examples=25, deadline=None)
@given(scatter_inputs())
def test_scatter_softmax_matches_reference(inputs):
    src, index, dim, size = inputs
    out = scatter_softmax(src, index, dim, size)
    torch.testing.assert_close(out, scatter_softmax_ref(src, index, dim, size))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=0, max_size=8), st.sampled_from(REDUCES),
       st.integers(1, 3))
def test_segment_matches_reference(counts, reduce, channels):
    ptr = torch.tensor([0, *counts]).cumsum(0)
    src = torch.randn(int(ptr[-1]), channels, dtype=F64)
    torch.testing.assert_close(segment(src, ptr, reduce), segment_ref(src, ptr, reduce))


def test_dim_size_inferred_and_empty_slots_are_zero():
    src = torch.tensor([1.0, -2.0, 3.0], dtype=F64)
    index = torch.tensor([0, 0, 3])
    for reduce in REDUCES:
        out = scatter(src, index, reduce=reduce)
        assert out.shape == (4,)
        assert out[1] == 0 and out[2] == 0
    assert scatter(src, index, reduce="max")[0] == 1.0
    assert scatter(src, index, reduce="min")[0] == -2.0
    assert scatter(src, index, reduce="mean")[0] == -0.5


def test_empty_and_single_inputs():
    empty = torch.zeros(0, 3, dtype=F64)
    idx = torch.zeros(0, dtype=torch.long)
    for reduce in REDUCES:
        assert scatter(empty, idx, reduce=reduce).shape == (0, 3)
        assert torch.equal(scatter(empty, idx, 0, 2, reduce), torch.zeros(2, 3, dtype=F64))
    assert scatter_softmax(empty, idx).shape == (0, 3)
    one = torch.tensor([[5.0]], dtype=F64)
    assert scatter_softmax(one, torch.tensor([0])).item() == 1.0
    assert segment(empty, torch.tensor([0]), "max").shape == (0, 3)


def test_full_shape_index_matches_torch_scatter_reduce():
    src = torch.randn(6, 4, dtype=F64)
    index = torch.randint(0, 3, (6, 4))
    for reduce, red in [("sum", "sum"), ("max", "amax"), ("min", "amin"), ("mean", "mean")]:
        want = torch.zeros(3, 4, dtype=F64).scatter_reduce(0, index, src, red, include_self=False)
        torch.testing.assert_close(scatter(src, index, 0, 3, reduce), want)


@pytest.mark.parametrize("reduce", REDUCES)
def test_scatter_gradcheck(reduce):
    src = torch.randn(12, 3, dtype=F64, requires_grad=True)
    index = torch.randint(0, 5, (12,))
    assert torch.autograd.gradcheck(lambda s: scatter(s, index, 0, 6, reduce), (src,))


def test_scatter_sum_gradgradcheck_and_softmax_gradcheck():
    src = torch.randn(10, 2, dtype=F64, requires_grad=True)
    index = torch.randint(0, 4, (10,))
    assert torch.autograd.gradgradcheck(lambda s: scatter(s, index, 0, 4, "sum"), (src,))
    assert torch.autograd.gradgradcheck(lambda s: scatter(s, index, 0, 4, "mean"), (src,))
    assert torch.autograd.gradcheck(lambda s: scatter_softmax(s, index, 0, 4), (src,))
    assert torch.autograd.gradgradcheck(lambda s: scatter_softmax(s, index, 0, 4), (src,))


def test_max_gradient_goes_to_arg_max():
    src = torch.tensor([1.0, 4.0, 2.0, -1.0], dtype=F64, requires_grad=True)
    scatter(src, torch.tensor([0, 0, 1, 1]), reduce="max").sum().backward()
    assert src.grad.tolist() == [0.0, 1.0, 1.0, 0.0]


def test_softmax_is_stable_for_large_scores():
    src = torch.tensor([1000.0, 1001.0, -1000.0], dtype=F64)
    out = scatter_softmax(src, torch.tensor([0, 0, 1]))
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[:2].sum(), torch.tensor(1.0, dtype=F64))


def test_bad_input_is_rejected_with_named_argument():
    src = torch.randn(4, 2)
    with pytest.raises(TypeError, match="index"):
        scatter(src, torch.tensor([0.0, 1.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="out of range"):
        scatter(src, torch.tensor([0, 1, 5, 1]), dim_size=3)
    with pytest.raises(ValueError, match="negative"):
        scatter(src, torch.tensor([0, -1, 0, 1]))
    with pytest.raises(ValueError, match="index"):
        scatter(src, torch.tensor([0, 1, 0]))
    with pytest.raises(ValueError, match="reduce"):
        scatter(src, torch.tensor([0, 1, 0, 1]), reduce="prod")
    with pytest.raises(ValueError, match="dim"):
        scatter(src, torch.tensor([0, 1, 0, 1]), dim=2)
    with pytest.raises(TypeError, match="src"):
        scatter([1.0, 2.0], torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="mean"):
        scatter(torch.tensor([1, 2]), torch.tensor([0, 0]), reduce="mean")
    with pytest.raises(ValueError, match="ptr"):
        segment(src, torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="non-decreasing"):
        segment(src, torch.tensor([0, 3, 1, 4]))
    with pytest.raises(TypeError, match="ptr"):
        segment(src, torch.tensor([0.0, 4.0]))
