"""A run SIGKILLed mid-epoch and resumed ends with the same parameters as an uninterrupted run."""

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import torch

SCRIPT = Path(__file__).with_name("resume_script.py")


def _launch(run_dir, out, kill_at=None):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("SCIML_TEST_KILL_AT", None)
    if kill_at is not None:
        env["SCIML_TEST_KILL_AT"] = str(kill_at)
    return subprocess.Popen([sys.executable, str(SCRIPT), str(run_dir), str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc):
    out, err = proc.communicate(timeout=120)
    return proc.returncode, err


def test_sigkill_mid_epoch_then_resume_matches_uninterrupted(tmp_path):
    # 37 samples, batch 8: 5 steps per epoch; checkpoints every 3 steps. The 9th forward is
    # step 8 (epoch 1, batch 3); the last checkpoint before it is step 6 (epoch 1, batch 1).
    ref = _launch(tmp_path / "ref", tmp_path / "ref.pt")
    killed = _launch(tmp_path / "run", tmp_path / "never.pt", kill_at=9)
    code, err = _finish(killed)
    assert code == -signal.SIGKILL, err
    assert not (tmp_path / "never.pt").exists()
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert (ckpt["epoch"], ckpt["step"], ckpt["batch_in_epoch"]) == (1, 6, 1)
    resumed = _launch(tmp_path / "run", tmp_path / "resumed.pt")
    for proc in (ref, resumed):
        code, err = _finish(proc)
        assert code == 0, err
    a = torch.load(tmp_path / "ref.pt", weights_only=True)
    b = torch.load(tmp_path / "resumed.pt", weights_only=True)
    assert a["steps"] == b["steps"] == 15
    for key in a["params"]:
        assert torch.equal(a["params"][key], b["params"][key]), key
    assert a["history"] == b["history"]  # train/loss of the interrupted epoch included
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]


class _Crash(Exception):
    pass


def _crashing_fit(run_dir, crash_at=None, tensorboard=False):
    """In-process variant: the task raises in its ``crash_at``-th training forward."""
    sys.path.insert(0, str(SCRIPT.parent))
    from train_fixtures import Regression, RegressionTask, make_task

    from sciml.train import Trainer

    class Crashing(RegressionTask):
        calls = 0

        def forward(self, batch):
            type(self).calls += 1
            if type(self).calls == crash_at:
                raise _Crash
            return super().forward(batch)

    task = Crashing(make_task(dropout=0.3).model)
    trainer = Trainer(run_dir=run_dir, max_epochs=2, batch_size=8, checkpoint_every_steps=2,
                      optimizer={"name": "adam", "lr": 1e-2}, progress=False,
                      tensorboard=tensorboard)
    trainer.fit(task, Regression(37), Regression(12, seed=1))
    return task


def test_crash_then_resume_in_process_and_rng_control(tmp_path, monkeypatch):
    ref = _crashing_fit(tmp_path / "ref")
    for name in ("a", "b"):
        try:
            _crashing_fit(tmp_path / name, crash_at=8)  # checkpoint at step 6: epoch 1, batch 1
        except _Crash:
            pass
        else:
            raise AssertionError("the crash did not happen")
    resumed = _crashing_fit(tmp_path / "a")
    pairs = zip(ref.parameters(), resumed.parameters(), strict=True)
    assert all(torch.equal(p, q) for p, q in pairs)
    # control: without restoring the RNG the dropout masks differ, and so do the parameters
    monkeypatch.setattr("sciml.train._checkpoint.restore_rng", lambda state: None)
    unrestored = _crashing_fit(tmp_path / "b")
    pairs = zip(ref.parameters(), unrestored.parameters(), strict=True)
    assert not all(torch.equal(p, q) for p, q in pairs)


def test_tensorboard_and_metrics_show_each_step_once_after_a_resume(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    try:
        _crashing_fit(tmp_path, crash_at=8, tensorboard=True)  # steps 1-7 logged, ckpt at 6
    except _Crash:
        pass
    _crashing_fit(tmp_path, tensorboard=True)
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("train/loss_step")] == list(range(1, 11))
    assert [e.step for e in acc.Scalars("val/loss")] == [5, 10]
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert [int(r["step"]) for r in rows] == [5, 10]
