"""Two gloo processes under torchrun give the parameters of one process with the same global
batch; plus the arithmetic of the per-rank loss scale."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from train_fixtures import Regression, make_task

from sciml.train._batches import global_batches, rank_slice

SCRIPT = Path(__file__).with_name("ddp_script.py")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    return env


def test_two_gloo_ranks_equal_one_process(tmp_path):
    single = subprocess.Popen([sys.executable, str(SCRIPT), str(tmp_path / "one"),
                               str(tmp_path / "one.pt")], env=_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    ddp = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nnodes=1",
                            "--nproc_per_node=2", "--master_addr=127.0.0.1",
                            f"--master_port={_free_port()}", str(SCRIPT), str(tmp_path / "two"),
                            str(tmp_path / "two.pt")], env=_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    for proc in (single, ddp):
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-3000:]
    a = torch.load(tmp_path / "one.pt", weights_only=True)
    b = torch.load(tmp_path / "two.pt", weights_only=True)
    assert (a["world"], b["world"]) == (1, 2)
    for key in a["params"]:
        torch.testing.assert_close(b["params"][key], a["params"][key], rtol=0, atol=1e-9)
    assert len(a["history"]) == len(b["history"]) == 2
    for ra, rb in zip(a["history"], b["history"], strict=True):
        assert ra.keys() == rb.keys()
        for k in ra:
            assert rb[k] == pytest.approx(ra[k], rel=1e-9, abs=1e-12), k
    assert b["test"].keys() == {"test/loss", "test/mae"}
    for k in a["test"]:
        assert b["test"][k] == pytest.approx(a["test"][k], rel=1e-9)
    assert (tmp_path / "two" / "checkpoints" / "last.pt").is_file()
    assert (tmp_path / "two" / "metrics.csv").is_file()


def test_a_failing_rank_ends_the_run_with_its_error(tmp_path):
    """A rank that raises ends the whole run with its error, and our exit handler (leave the group,
    then wait briefly) does not hang the failing rank or its peer."""
    ddp = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nnodes=1",
                            "--nproc_per_node=2", "--master_addr=127.0.0.1",
                            f"--master_port={_free_port()}", str(SCRIPT), str(tmp_path / "run"),
                            str(tmp_path / "out.pt"), "--fail-on-rank-1"], env=_env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    try:
        _, err = ddp.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(ddp.pid, signal.SIGKILL)  # torchrun and its workers
        ddp.communicate()
        pytest.fail("the run hung after rank 1 failed")
    assert ddp.returncode != 0
    assert "deliberate failure on rank 1" in err


def test_loss_scale_reproduces_the_global_gradient():
    """Averaging rank gradients of ``loss_r * n_r * W / B`` gives the full-batch gradient, also
    when the slices are unequal or one is empty (the empty rank's weight is 0)."""
    data = Regression(11)
    for batch in global_batches(range(11), 5):  # sizes 5, 5, 1
        task = make_task(hidden=4)
        full = torch.autograd.grad(task(data[batch]), list(task.parameters()))
        world = 3
        summed = [torch.zeros_like(g) for g in full]
        for rank in range(world):
            local = rank_slice(batch, rank, world)
            idx = local or batch[:1]
            scale = len(local) * world / len(batch)
            grads = torch.autograd.grad(task(data[idx]) * scale, list(task.parameters()))
            summed = [s + g for s, g in zip(summed, grads, strict=True)]
        for s, g in zip(summed, full, strict=True):
            torch.testing.assert_close(s / world, g, rtol=1e-12, atol=1e-14)
