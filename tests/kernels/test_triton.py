"""The Triton gather-scatter kernel: on the CPU interpreter (subprocess) and on a real GPU."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("triton")

SCRIPT = """
import torch
from sciml.kernels._triton import triton_available, triton_gather_scatter
from sciml.kernels._reference import gather_scatter_ref
torch.manual_seed(0)
x = torch.randn(13, 5, dtype=torch.float64)
ei = torch.randint(0, 13, (2, 40))
assert triton_available(x)
for w in (None, torch.randn(40, dtype=torch.float64), torch.randn(40, 5, dtype=torch.float64)):
    out = triton_gather_scatter(x, w, ei[0], ei[1], 13)
    torch.testing.assert_close(out, gather_scatter_ref(x, ei, w, 13, "sum"))
empty = triton_gather_scatter(x, None, ei[0, :0], ei[1, :0], 4)
assert empty.shape == (4, 5) and not empty.any()
print("TRITON-OK")
"""


def test_triton_kernel_matches_reference_in_interpreter():
    env = dict(os.environ, TRITON_INTERPRET="1")
    root = Path(__file__).resolve().parents[2]
    res = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=root, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "TRITON-OK" in res.stdout


@pytest.mark.gpu
def test_gather_scatter_on_gpu_matches_cpu():
    from sciml.kernels import gather_scatter

    x = torch.randn(1000, 32, dtype=torch.float64, requires_grad=True)
    w = torch.randn(5000, dtype=torch.float64, requires_grad=True)
    ei = torch.randint(0, 1000, (2, 5000))
    out = gather_scatter(x, ei, w)
    xg, wg = x.detach().cuda().requires_grad_(), w.detach().cuda().requires_grad_()
    outg = gather_scatter(xg, ei.cuda(), wg)
    torch.testing.assert_close(outg.cpu(), out)
    out.pow(2).sum().backward()
    outg.pow(2).sum().backward()
    torch.testing.assert_close(xg.grad.cpu(), x.grad)
    torch.testing.assert_close(wg.grad.cpu(), w.grad)


@pytest.mark.gpu
def test_neighbor_lists_on_gpu_match_cpu():
    from sciml.kernels import knn_graph, radius_graph

    pos = torch.rand(500, 3, dtype=torch.float64)
    cell = torch.eye(3, dtype=torch.float64)
    assert torch.equal(radius_graph(pos.cuda(), 0.2).cpu(), radius_graph(pos, 0.2))
    ei_g, sh_g = radius_graph(pos.cuda(), 0.2, cell=cell.cuda())
    ei, sh = radius_graph(pos, 0.2, cell=cell)
    assert torch.equal(ei_g.cpu(), ei)
    torch.testing.assert_close(sh_g.cpu(), sh)
    assert knn_graph(pos.cuda(), 6).shape == knn_graph(pos, 6).shape
