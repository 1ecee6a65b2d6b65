"""N-body task and job: equivariant forecasts, a short fit that beats the static anchor, the
run folder (report, plot, checkpoints), predict from a file, bad recipes and inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sciml.datasets import ChargedNBody

import sciml
from sciml.data import read_hdf5
from sciml.errors import ConfigError, DataError
from sciml.geometry import random_rotation
from sciml.models import Ponita, PonitaConfig
from sciml.tasks import NBodyJob, NBodySamples, NBodyTask

SMALL = {"n_train": 64, "n_val": 16, "n_test": 16, "n_steps": 1000, "sample_every": 100,
         "frame_in": 3, "frame_out": 6}


def _task(num_ori=0, **kw) -> NBodyTask:
    cfg = PonitaConfig(hidden_size=16, n_layers=2, num_ori=num_ori, basis_dim=16, degree=2,
                       layer_scale=None, task_level="node", **kw)
    model = Ponita(cfg, in_channels=1, out_channels=0, in_vector_channels=1,
                   out_vector_channels=1)
    return NBodyTask(model)


def test_forecast_is_rotation_equivariant(tmp_path):
    split = ChargedNBody(**SMALL, root=str(tmp_path), dtype="float64").split("test")
    task = _task().double().eval()
    batch = {"pos": split.pos, "vel": split.vel, "charges": split.charges}
    rot = random_rotation(3, generator=torch.Generator().manual_seed(0))
    moved = {**batch, "pos": batch["pos"] @ rot.T + 1.0, "vel": batch["vel"] @ rot.T}
    torch.testing.assert_close(task.predict(moved), task.predict(batch) @ rot.T + 1.0,
                               atol=1e-10, rtol=0)
    sums, counts = task.metrics({**batch, "target": split.target})["position_mse"]
    assert counts == split.target.numel() and sums > 0


def test_short_training_beats_the_static_anchor(tmp_path, one_thread):
    data = ChargedNBody(**{**SMALL, "n_train": 200}, root=str(tmp_path))
    train, test = data.split("train"), data.split("test")
    torch.manual_seed(0)
    task = _task()
    opt = torch.optim.Adam(task.parameters(), lr=3e-3)
    idx = torch.arange(len(train))
    for _epoch in range(6):
        for chunk in idx[torch.randperm(len(train))].split(25):
            batch = NBodySamples(train)[chunk]
            opt.zero_grad()
            task(batch).backward()
            opt.step()
    task.eval()
    with torch.no_grad():
        mse = float(((task.predict(NBodySamples(test)[torch.arange(16)]) - test.target) ** 2)
                    .mean())
    static = float(((test.pos - test.target) ** 2).mean())
    assert mse < 0.5 * static, (mse, static)


def _recipe(tmp_path, **model):
    return {
        "task": "nbody",
        "data": {"name": "nbody", "options": {**SMALL, "root": str(tmp_path / "data")}},
        "model": {"name": "ponita", "hidden_size": 8, "n_layers": 1, "num_ori": 4,
                  "basis_dim": 8, "degree": 2, **model},
        "train": {"max_epochs": 2, "batch_size": 32, "tensorboard": False, "progress": False,
                  "monitor": "val/position_mse"},
        "eval": {"plot_samples": 2},
    }


def test_job_fit_evaluate_predict(tmp_path, one_thread):
    run = tmp_path / "run"
    report = sciml.fit(_recipe(tmp_path), run, progress=False)
    assert np.isfinite(report["test"]["test/position_mse"])
    assert report["anchor_constant_velocity"]["test/position_mse"] < \
        report["anchor_static"]["test/position_mse"]
    assert (run / "trajectories.png").stat().st_size > 1000
    assert json.loads((run / "report.json").read_text())["epochs"] == 2
    again = sciml.evaluate(run)
    assert again["test"]["test/position_mse"] == pytest.approx(report["test"]["test/position_mse"],
                                                               rel=1e-5)
    split = ChargedNBody(**SMALL, root=str(tmp_path / "data")).split("test")
    inp = tmp_path / "states.npz"
    np.savez(inp, pos=split.pos[:3].numpy(), vel=split.vel[:3].numpy(),
             charges=split.charges[:3, :, 0].numpy())
    trained = sciml.load_run(run)
    (out,) = trained.predict_file(inp, tmp_path / "pred")
    assert read_hdf5(out)[0]["pred"].shape == (3, 5, 3)
    bad = tmp_path / "bad.npz"
    np.savez(bad, pos=split.pos[:3].numpy(), vel=split.vel[:3, :4].numpy(),
             charges=split.charges[:3].numpy())
    with pytest.raises(DataError, match="bad.npz: pos and vel must have shape"):
        trained.predict_file(bad, tmp_path / "pred2")
    nan = tmp_path / "nan.npz"
    np.savez(nan, pos=split.pos[:3].numpy() * np.nan, vel=split.vel[:3].numpy(),
             charges=split.charges[:3].numpy())
    with pytest.raises(DataError, match="nan.npz: pos contains NaN"):
        trained.predict_file(nan, tmp_path / "pred3")
    assert not (tmp_path / "pred3").exists()
    in_memory = trained.predict({"pos": split.pos[:3], "vel": split.vel[:3],
                                 "charges": split.charges[:3]})
    torch.testing.assert_close(in_memory, torch.as_tensor(read_hdf5(out)[0]["pred"]))


def test_bad_recipes(tmp_path):
    with pytest.raises(ConfigError, match="unknown key data.options.n_trains"):
        NBodyJob({**_recipe(tmp_path), "data": {"name": "nbody", "options": {"n_trains": 3}}})
    with pytest.raises(ConfigError, match="task_level must be 'node'"):
        NBodyJob(_recipe(tmp_path, task_level="graph"))
    with pytest.raises(ConfigError, match="unknown recipe key"):
        NBodyJob({**_recipe(tmp_path), "evaluation": {}})
