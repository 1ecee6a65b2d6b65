"""PDE surrogates from the command line: Darcy (steady) and Navier–Stokes (rollout), tiny sizes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sciml.cli import main
from sciml.data import read_hdf5

DARCY = ["--set", "data.options={n_train: 24, n_test: 6, resolution: 17, test_resolution: 33}",
         "--set", "model.width=8", "--set", "model.n_layers=2", "--set", "model.num_smooth=1",
         "--set", "train.max_epochs=2", "--set", "train.batch_size=8",
         "--set", "train.scheduler=null", "--quiet"]


def test_darcy_fit_zero_shot_eval_predict(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["fit", "darcy-mgno", "--run-dir", str(run), *DARCY]) == 0
    report = json.loads((run / "report.json").read_text())
    assert report["train_resolution"] == [17, 17] and report["test_resolution"] == [33, 33]
    assert 0 < report["test"]["test/rel_l2"] < 2
    assert (run / "prediction.png").is_file()
    assert main(["eval", str(run)]) == 0
    assert "test/rel_l2" in capsys.readouterr().out

    x = np.random.default_rng(0).choice([4.0, 12.0], size=(3, 1, 25, 25)).astype(np.float32)
    np.save(tmp_path / "a.npy", x)
    assert main(["predict", str(run), "--input", str(tmp_path / "a.npy"),
                 "--output", str(tmp_path / "out")]) == 0
    arrays, _ = read_hdf5(tmp_path / "out" / "prediction.h5")
    assert arrays["y"].shape == (3, 1, 25, 25) and np.isfinite(arrays["y"]).all()

    np.save(tmp_path / "bad.npy", x[:, :, :, :, None])  # wrong rank
    assert main(["predict", str(run), "--input", str(tmp_path / "bad.npy"),
                 "--output", str(tmp_path / "bad")]) == 2
    assert "bad.npy" in capsys.readouterr().err
    assert not (tmp_path / "bad" / "prediction.h5").exists()


def test_navier_stokes_rollout_fit(tmp_path):
    run = tmp_path / "ns"
    args = ["--set", "data.options={n_train: 8, n_test: 2, resolution: 16, t_final: 0.5, "
            "n_records: 3, dt: 0.01}", "--set", "model.width=8", "--set", "model.n_layers=1",
            "--set", "objective.rollout_steps=3", "--set", "train.max_epochs=1", "--quiet"]
    assert main(["fit", "navier-stokes-mgno", "--run-dir", str(run), *args]) == 0
    report = json.loads((run / "report.json").read_text())
    assert "test/rel_l2" in report["test"] and "test/rel_l2_last" in report["test"]


@pytest.mark.parametrize("override, expected", [
    ("objective.loss=l3", "loss must be 'rel_l2' or 'h1'"),
    ("data.options.n_trian=3", "unknown key data.options.n_trian"),
    ("model.levels=9", "levels"),
])
def test_operator_recipe_errors(override, expected, tmp_path, capsys):
    code = main(["fit", "darcy-mgno", "--run-dir", str(tmp_path / "r"), *DARCY, "--set", override])
    assert code == 2
    assert expected in capsys.readouterr().err


def test_helmholtz_fit(tmp_path):
    run = tmp_path / "helmholtz"
    args = ["--set", "data.options={n_train: 8, n_test: 2, resolution: 21}",
            "--set", "model.width=8", "--set", "model.n_layers=2", "--set", "model.num_smooth=1",
            "--set", "train.max_epochs=1", "--set", "train.scheduler=null", "--quiet"]
    assert main(["fit", "helmholtz-mgno", "--run-dir", str(run), *args]) == 0
    report = json.loads((run / "report.json").read_text())
    assert report["train_resolution"] == [21, 21] and 0 < report["test"]["test/rel_l2"] < 10
