"""PONITA layers' custom autograd: the edge convolution and GELU match the plain PyTorch maths
in value, first and second derivatives (the double backward that force training uses)."""

from __future__ import annotations

import pytest
import torch

from sciml.nn._ponita_conv import Gelu, edge_conv, shared_basis_kernels

F64 = torch.float64


def _graph(n=6, e=17, seed=0):
    gen = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=gen)
    x = torch.randn(n, 3, 2, generator=gen, dtype=F64, requires_grad=True)
    w = torch.randn(e, 3, 2, generator=gen, dtype=F64, requires_grad=True)
    return ei, x, w


def _dense(x, ei, w, n):
    msg = x[ei[0]] * w
    return torch.zeros(n, *x.shape[1:], dtype=x.dtype).index_add(0, ei[1], msg)


def test_edge_conv_matches_dense_sum():
    ei, x, w = _graph()
    torch.testing.assert_close(edge_conv(x, ei, w, 6), _dense(x, ei, w, 6))
    torch.testing.assert_close(edge_conv(x, ei, w, 9), _dense(x, ei, w, 9))  # isolated targets


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_edge_conv_second_derivatives_match_dense(dtype):
    ei, x, w = _graph(seed=1)
    x, w = x.detach().to(dtype).requires_grad_(), w.detach().to(dtype).requires_grad_()
    out = []
    for fn in (edge_conv, _dense):
        y = fn(x, ei, w, 6)
        gx, gw = torch.autograd.grad((y.sin()).sum(), (x, w), create_graph=True)
        hx, hw = torch.autograd.grad((gx ** 2).sum() + (gw ** 3).sum(), (x, w))
        out.append((y, gx, gw, hx, hw))
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == F64 else dict(rtol=1e-5, atol=1e-5)
    for a, b in zip(*out, strict=True):
        torch.testing.assert_close(a, b, **tol)


def test_edge_conv_gradgradcheck():
    ei, x, w = _graph(n=4, e=9, seed=2)
    fn = lambda a, b: edge_conv(a, ei, b, 4)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, w))
    assert torch.autograd.gradgradcheck(fn, (x, w))


def test_edge_conv_rejects_bad_weight():
    ei, x, w = _graph()
    with pytest.raises(ValueError, match="weight must have shape"):
        edge_conv(x, ei, w[:, :2], 6)
    with pytest.raises(ValueError, match="weight must have shape"):
        edge_conv(x, ei, w[:-1], 6)


def test_gelu_matches_torch_to_third_order():
    x = torch.linspace(-6, 6, 101, dtype=F64).requires_grad_()
    out = []
    for fn in (torch.nn.functional.gelu, Gelu()):
        y = fn(x)
        g, = torch.autograd.grad((y ** 2).sum(), x, create_graph=True)
        h, = torch.autograd.grad((g ** 2).sum(), x, create_graph=True)
        k, = torch.autograd.grad((h ** 2).sum(), x)
        out.append((y, g, h, k))
    for a, b in zip(*out, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
    assert torch.autograd.gradgradcheck(Gelu(), (x[::10].detach().requires_grad_(),))


def test_gelu_fast_double_backward_matches_torch():
    """The in-place path (second derivative without create_graph, as in loss.backward())."""
    x = torch.randn(40, dtype=F64, generator=torch.Generator().manual_seed(3))
    grads = []
    for fn in (torch.nn.functional.gelu, Gelu()):
        xx = x.clone().requires_grad_()
        g, = torch.autograd.grad((fn(xx) ** 3).sum(), xx, create_graph=True)
        (g ** 2).sum().backward()
        grads.append(xx.grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-12, atol=1e-12)


def test_shared_basis_kernels_match_separate_linears_to_second_order():
    gen = torch.Generator().manual_seed(4)
    basis = torch.randn(5, 3, 4, generator=gen, dtype=F64, requires_grad=True)
    lins = [torch.nn.Linear(4, c, bias=False).double() for c in (2, 3)]
    out = []
    for fn in (lambda: shared_basis_kernels(basis, lins), lambda: [lin(basis) for lin in lins]):
        ks = fn()
        params = [basis, *(lin.weight for lin in lins)]
        g = torch.autograd.grad(sum((k.sin() * k).sum() for k in ks), params, create_graph=True)
        h = torch.autograd.grad(sum((t ** 2).sum() for t in g), params)
        out.append((*ks, *g, *h))
    for a, b in zip(*out, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="bias-free"):
        shared_basis_kernels(basis, [torch.nn.Linear(4, 2).double()])
