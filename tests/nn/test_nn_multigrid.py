"""MultigridConv: shapes on even and odd grids, boundary padding, shift equivariance, errors."""

from __future__ import annotations

import pytest
import torch

from sciml.nn import BOUNDARY_PADDING, MultigridConv, auto_levels, grid_hierarchy, padding_mode
from sciml.nn._multigrid import circular_pad

BOUNDARIES = list(BOUNDARY_PADDING)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny convolutions run fastest (and steadiest on a shared machine) on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_hierarchy_and_auto_levels():
    assert grid_hierarchy(64, 5) == [(64,), (32,), (16,), (8,), (4,)]
    assert grid_hierarchy((33, 17), 3) == [(33, 17), (17, 9), (9, 5)]
    assert grid_hierarchy(63, 3) == [(63,), (32,), (16,)]
    assert auto_levels(64) == 5
    assert auto_levels(33) == 4  # 33, 17, 9, 5
    assert auto_levels((64, 16)) == 3
    assert auto_levels(3) == 1
    assert auto_levels(64, min_coarse=2) == 6
    assert padding_mode("periodic") == "circular"
    with pytest.raises(ValueError, match="unknown boundary 'robin'"):
        padding_mode("robin")
    with pytest.raises(ValueError, match="levels"):
        grid_hierarchy(8, 0)


@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("n", [16, 17, 33, 63, 64])
def test_shapes_1d(n, boundary):
    for levels in sorted({1, 2, auto_levels(n, min_coarse=2)}):
        layer = MultigridConv(2, 3, 1, levels, num_smooth=2, num_post_smooth=1, boundary=boundary)
        out = layer(torch.randn(4, 2, n))
        assert out.shape == (4, 3, n)
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("size", [(16, 16), (17, 17), (33, 20), (63, 64)])
def test_shapes_2d(size, boundary):
    levels = auto_levels(size)
    layer = MultigridConv(3, 2, 2, levels, num_smooth=[1] * (levels - 1) + [2],
                          boundary=boundary)
    assert layer(torch.randn(2, 3, *size)).shape == (2, 2, *size)


def test_shapes_3d_and_wide_kernel():
    layer = MultigridConv(1, 2, 3, 2, boundary="neumann")
    assert layer(torch.randn(1, 1, 9, 8, 7)).shape == (1, 2, 9, 8, 7)
    layer = MultigridConv(1, 1, 2, 3, kernel_size=5, boundary="periodic")
    assert layer(torch.randn(1, 1, 12, 13)).shape == (1, 1, 12, 13)


def test_layer_is_linear():
    layer = MultigridConv(2, 2, 2, 3, num_smooth=2, num_post_smooth=1).double()
    x, y = torch.randn(2, 2, 2, 17, 17, dtype=torch.float64)
    torch.testing.assert_close(layer(2.0 * x - 3.0 * y), 2.0 * layer(x) - 3.0 * layer(y))


@pytest.mark.parametrize("ndim,size", [(1, (48,)), (2, (32, 24))])
def test_circular_padding_is_shift_equivariant(ndim, size):
    levels = 4  # shifts by multiples of 2**(levels - 1) = 8 commute with the V-cycle
    layer = MultigridConv(2, 3, ndim, levels, num_smooth=2, num_post_smooth=1,
                          boundary="periodic").double()
    x = torch.randn(2, 2, *size, dtype=torch.float64)
    dims = tuple(range(2, 2 + ndim))
    for shift in (8, 16, -24):
        shifts = (shift,) * ndim
        torch.testing.assert_close(layer(torch.roll(x, shifts, dims)),
                                   torch.roll(layer(x), shifts, dims), rtol=0, atol=1e-12)
    # a shift by 4 moves the coarsest grid by half a point: not an exact symmetry
    shifted = layer(torch.roll(x, (4,) * ndim, dims))
    assert (shifted - torch.roll(layer(x), (4,) * ndim, dims)).abs().max() > 1e-6


@pytest.mark.parametrize("boundary", ["dirichlet", "neumann"])
def test_other_paddings_are_not_shift_equivariant(boundary):
    layer = MultigridConv(1, 1, 1, 3, boundary=boundary).double()
    x = torch.randn(1, 1, 32, dtype=torch.float64)
    diff = layer(torch.roll(x, 8, 2)) - torch.roll(layer(x), 8, 2)
    assert diff.abs().max() > 1e-6


def test_boundary_override_uses_that_padding():
    torch.manual_seed(1)
    layer = MultigridConv(1, 2, 2, 3, boundary="dirichlet").double()
    other = MultigridConv(1, 2, 2, 3, boundary="periodic").double()
    other.load_state_dict(layer.state_dict())
    x = torch.randn(2, 1, 16, 16, dtype=torch.float64)
    torch.testing.assert_close(layer(x, "periodic"), other(x))
    assert (layer(x) - other(x)).abs().max() > 1e-6
    # far from the boundary (more than the V-cycle's reach) the padding does not matter
    small = MultigridConv(1, 1, 1, 1, num_smooth=1).double()
    x1 = torch.randn(1, 1, 20, dtype=torch.float64)
    torch.testing.assert_close(small(x1, "periodic")[..., 2:-2], small(x1, "neumann")[..., 2:-2])


def test_reflect_padding_keeps_mirror_symmetry():
    # Neumann (reflect) padding commutes with mirroring when every kernel is symmetric.
    torch.manual_seed(2)
    layer = MultigridConv(1, 1, 1, 3, boundary="neumann").double()
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(0.5 * (p + p.flip(-1)))
    x = torch.randn(1, 1, 17, dtype=torch.float64)  # odd: coarse points at 0, 2, ..., 16
    torch.testing.assert_close(layer(x.flip(-1)), layer(x).flip(-1))


def _pad_beyond(c: torch.Tensor, mode: str) -> torch.Tensor:
    """The coarse point after the last one in each boundary mode (1-D, last axis)."""
    return {"zeros": torch.zeros_like(c[..., :1]), "circular": c[..., :1],
            "reflect": c[..., -2:-1]}[mode]


@pytest.mark.parametrize("mode", ["zeros", "circular", "reflect"])
@pytest.mark.parametrize("fine", [8, 9, 16, 17])
def test_prolongation_is_the_two_tap_formula_1d(mode, fine):
    """fine[2n] = w1 c[n], fine[2n+1] = w2 c[n] + w0 c[n+1], c beyond the grid in the BC's mode."""
    torch.manual_seed(fine)
    layer = MultigridConv(2, 3, 1, 2).double()
    conv = layer.prolong[0]
    coarse = torch.randn(2, 3, (fine + 1) // 2, dtype=torch.float64)
    got = layer._prolong(conv, coarse, (fine,), mode)
    w = conv.weight  # (in, out, 3)
    ext = torch.cat([coarse, _pad_beyond(coarse, mode)], dim=-1)
    even = torch.einsum("bin,io->bon", coarse, w[..., 1])
    odd = (torch.einsum("bin,io->bon", ext[..., :-1], w[..., 2])
           + torch.einsum("bin,io->bon", ext[..., 1:], w[..., 0]))
    want = torch.stack([even, odd], dim=-1).flatten(-2)[..., :fine]
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("ndim", [2, 3])
@pytest.mark.parametrize("mode", ["zeros", "circular", "reflect"])
def test_prolongation_matches_padded_transposed_conv(ndim, mode):
    """Against the plain form: pad one coarse point on every side, transposed conv, crop."""
    torch.manual_seed(ndim)
    layer = MultigridConv(2, 2, ndim, 2).double()
    conv = layer.prolong[0]
    fine = (9, 8, 7)[:ndim]
    coarse = torch.randn(1, 2, *[(n + 1) // 2 for n in fine], dtype=torch.float64)
    padded = torch.nn.functional.pad(coarse, (1, 1) * ndim, mode="constant" if mode == "zeros"
                                     else mode)
    want = conv(padded)[(Ellipsis,) + tuple(slice(3, 3 + n) for n in fine)]
    got = layer._prolong(conv, coarse, fine, mode)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


def test_gradients_reach_all_parameters():
    layer = MultigridConv(2, 2, 2, 4, num_smooth=[1, 2, 1, 2], num_post_smooth=1).double()
    layer(torch.randn(2, 2, 33, 33, dtype=torch.float64)).square().sum().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("kw", [
    {"num_smooth": 1, "restrict_residual": False},
    {"num_smooth": 1, "restrict_residual": True},
    {"num_smooth": [2, 1, 1], "restrict_residual": False},
    {"num_smooth": 1, "num_post_smooth": [1, 0, 0], "restrict_residual": False},
])
def test_every_parameter_is_used(kw):
    # the finest level starts from u = 0: its A exists only where a later step or the
    # restricted residual uses it
    layer = MultigridConv(2, 3, 2, 3, **kw).double()
    layer(torch.randn(2, 2, 16, 16, dtype=torch.float64)).square().sum().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    has_a0 = any(name.startswith("A.0.") for name, _ in layer.named_parameters())
    assert has_a0 == (kw != {"num_smooth": 1, "restrict_residual": False})


def test_checkpoint_with_unused_finest_a_still_loads():
    layer = MultigridConv(2, 2, 1, 3, restrict_residual=False)
    state = {**layer.state_dict(), "A.0.weight": torch.zeros(2, 2, 3)}  # written by older code
    layer.load_state_dict(state)  # strict: no unexpected key


@pytest.mark.parametrize("shape, pads", [
    ((2, 3, 5), ((1, 2),)),
    ((2, 2, 4, 5), ((1, 1), (0, 1))),
    ((1, 2, 3, 4, 5), ((2, 1), (1, 0), (3, 3))),
    ((1, 1, 3, 3), ((3, 3), (0, 0))),
])
def test_circular_pad_matches_torch_and_has_exact_gradients(shape, pads):
    torch.manual_seed(0)
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    flat = tuple(p for pair in reversed(pads) for p in pair)
    want = torch.nn.functional.pad(x, flat, mode="circular")
    got = circular_pad(x, pads)
    assert torch.equal(got, want)
    g = torch.randn_like(want)
    torch.testing.assert_close(torch.autograd.grad(got, x, g)[0],
                               torch.autograd.grad(want, x, g)[0], rtol=0, atol=1e-12)
    assert torch.autograd.gradcheck(lambda t: circular_pad(t, pads), (x,))
    assert torch.autograd.gradgradcheck(lambda t: circular_pad(t, pads), (x,))


def test_circular_pad_bad_pads():
    x = torch.randn(1, 1, 4, 4)
    with pytest.raises(ValueError, match="one \\(left, right\\) pair per spatial dimension"):
        circular_pad(x, ((1, 1),))
    with pytest.raises(ValueError, match=r"\(1, 5\) needs 0 <= pad <= size \(4\)"):
        circular_pad(x, ((1, 1), (1, 5)))


def test_gradcheck_small():
    layer = MultigridConv(1, 1, 1, 2, num_post_smooth=1, boundary="periodic").double()
    x = torch.randn(1, 1, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x,))


def test_restrict_rhs_variant_differs():
    torch.manual_seed(3)
    a = MultigridConv(1, 1, 1, 3, restrict_residual=True).double()
    b = MultigridConv(1, 1, 1, 3, restrict_residual=False).double()
    b.load_state_dict(a.state_dict())
    x = torch.randn(1, 1, 32, dtype=torch.float64)
    assert (a(x) - b(x)).abs().max() > 1e-8
    assert "restrict_residual=False" in repr(b)


def test_bad_input_errors():
    layer = MultigridConv(2, 3, 2, 4)
    with pytest.raises(ValueError, match=r"shape \(batch, 2, n, n\).*\(2, 2, 16\)"):
        layer(torch.randn(2, 2, 16))
    with pytest.raises(ValueError, match=r"got \(2, 3, 16, 16\)"):
        layer(torch.randn(2, 3, 16, 16))
    assert layer(torch.randn(1, 2, 12, 12)).shape == (1, 3, 12, 12)  # 12 -> 6 -> 3 -> 2
    too_small = r"size \(7, 7\) is too small for levels=4.*\(1, 1\).*at most 3"
    with pytest.raises(ValueError, match=too_small):
        layer(torch.randn(1, 2, 7, 7))
    with pytest.raises(ValueError, match="boundary 'open'"):
        layer(torch.randn(1, 2, 16, 16), "open")
    with pytest.raises(ValueError, match="num_smooth must be an integer or a list of 3"):
        MultigridConv(1, 1, 1, 3, num_smooth=[1, 2])
    with pytest.raises(ValueError, match="num_smooth entries must be integers >= 1"):
        MultigridConv(1, 1, 1, 2, num_smooth=[1, 0])
    with pytest.raises(ValueError, match="kernel_size must be an odd"):
        MultigridConv(1, 1, 1, 2, kernel_size=4)
    with pytest.raises(ValueError, match="ndim must be 1, 2 or 3, got 4"):
        MultigridConv(1, 1, 4, 2)
    with pytest.raises(ValueError, match="levels must be an integer >= 1, got 0"):
        MultigridConv(1, 1, 1, 0)
