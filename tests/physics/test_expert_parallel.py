"""Expert parallelism of the hard-constraint MoE: two gloo ranks, each solving two of the four
experts, give the field, solver info, gradients and trained parameters of one process (bitwise
here, float64); the split of the experts over the ranks; the same through ``sciml fit`` under
torchrun."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sciml.physics._expert_parallel import ExpertRanks

SCRIPT = Path(__file__).with_name("expert_parallel_script.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    return env


def _torchrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
            "--master_addr=127.0.0.1", f"--master_port={_free_port()}", *args]


def test_split_of_experts_over_ranks():
    parts = [ExpertRanks(r, 3, 4) for r in range(3)]
    assert [(p.start, p.stop) for p in parts] == [(0, 1), (1, 2), (2, 4)]
    assert parts[2].counts == [1, 1, 2]
    # problems are sample-major: sample i, expert e is problem i * K + e
    assert parts[2].problems(2).tolist() == [2, 3, 6, 7]
    with pytest.raises(ValueError, match="at least as many experts"):
        ExpertRanks(0, 5, 4)


@pytest.mark.parametrize("warm_start", ["rows", "global"])
def test_two_ranks_give_the_result_of_one_process(tmp_path, warm_start):
    one = subprocess.Popen([sys.executable, str(SCRIPT), str(tmp_path / "one.pt"), warm_start],
                           env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    two = subprocess.Popen(_torchrun(str(SCRIPT), str(tmp_path / "two.pt"), warm_start),
                           env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for proc in (one, two):
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-3000:]
    a = torch.load(tmp_path / "one.pt", weights_only=True)
    b = torch.load(tmp_path / "two.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "two.pt.rank1", weights_only=True)
    assert (a["world"], b["world"]) == (1, 2)
    for key in ("u", "weights", "rms"):
        torch.testing.assert_close(b[key], a[key], rtol=0, atol=1e-12)
    assert torch.equal(b["iterations"], a["iterations"])
    assert torch.equal(b["converged"], a["converged"])
    assert a["iterations"].shape == (2, 4)
    for key in a["grads"]:              # the solver's gradients of every expert arrive
        torch.testing.assert_close(b["grads"][key], a["grads"][key], rtol=0, atol=1e-10)
    for key in a["params"]:             # and the replicas stay equal
        torch.testing.assert_close(b["params"][key], a["params"][key], rtol=0, atol=1e-10)
        assert torch.equal(rank1[key], b["params"][key])


def test_sciml_fit_under_torchrun_with_expert_parallel(tmp_path):
    """`torchrun -m sciml fit` of the MoE recipe with model.expert_parallel: every rank sees
    every batch, and the report equals that of one process."""
    quick = ["--set", "problem.n_x=16", "--set", "problem.n_t=9", "--set", "problem.n_train=4",
             "--set", "problem.n_test=2", "--set", "model.n_points=48",
             "--set", "model.n_basis=6", "--set", "model.backbone.width=4",
             "--set", "model.backbone.levels=2", "--set", "train.steps=4",
             "--set", "model.expert_parallel=true", "--quiet"]
    runs = {}
    for name in ("one", "two"):
        prefix = [sys.executable] if name == "one" else _torchrun()
        cmd = [*prefix, "-m", "sciml", "fit", "diffusion-sorption-hcmoe", "--run-dir",
               str(tmp_path / name), "--threads", "1", *quick]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                              env=_env())
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs[name] = json.loads((tmp_path / name / "report.json").read_text())
    test_one = {k: v for k, v in runs["one"]["test"].items()}
    test_two = {k: v for k, v in runs["two"]["test"].items()}
    assert test_one.keys() == test_two.keys() and test_one
    for key, value in test_one.items():
        assert test_two[key] == pytest.approx(value, rel=1e-6), key
