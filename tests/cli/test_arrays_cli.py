"""Operators from the user's own arrays, from the command line: files written by h5py and numpy →
``sciml fit`` (a recipe with ``data: {name: arrays}``) → report.json → ``sciml eval`` →
``sciml predict``; bad files are one-line errors naming the file and the key."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from sciml.cli import main
from sciml.data import read_hdf5

RECIPE = """\
task: operator
data:
  name: arrays
  options: {{train: {train}, test: {test}, x_key: fields/a, y_key: fields/u,
             extent: [2.0, [-1, 1]], boundary: neumann}}
model: {{name: mgno, width: 8, n_layers: 2, num_smooth: 1}}
objective: {{loss: h1}}
train: {{max_epochs: 2, batch_size: 8, scheduler: null}}
"""


def _fields(rng: np.random.Generator, n: int, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Permeability-like inputs ``(n, s, s)`` and two output fields stored channel-last."""
    a = rng.choice([3.0, 12.0], size=(n, s, s)).astype(np.float32)
    g = np.sin(np.pi * np.linspace(0, 1, s))
    bump = g[:, None] * g[None, :]
    return a, np.stack([bump / a, bump * a / 10], axis=-1).astype(np.float32)


def _recipe(tmp_path: Path, rng: np.random.Generator) -> Path:
    a, u = _fields(rng, 32, 17)
    with h5py.File(tmp_path / "train.h5", "w") as f:
        f.create_dataset("fields/a", data=a)
        f.create_dataset("fields/u", data=u)
    at, ut = _fields(rng, 6, 25)  # the test set at a finer grid
    np.savez(tmp_path / "test.npz", **{"fields/a": at, "fields/u": ut})
    path = tmp_path / "recipe.yaml"
    path.write_text(RECIPE.format(train=tmp_path / "train.h5", test=tmp_path / "test.npz"))
    return path


def test_fit_eval_predict_from_the_users_files(tmp_path, capsys):
    rng = np.random.default_rng(0)
    recipe, run = _recipe(tmp_path, rng), tmp_path / "run"
    assert main(["fit", str(recipe), "--run-dir", str(run), "--quiet"]) == 0
    report = json.loads((run / "report.json").read_text())
    assert report["data"] == "arrays" and report["boundary"] == "neumann"
    assert report["extent"] == [[0.0, 2.0], [-1.0, 1.0]]
    assert report["train_resolution"] == [17, 17] and report["test_resolution"] == [25, 25]
    assert 0 < report["test"]["test/rel_l2"] < 2 and "test/rel_h1" in report["test"]
    assert (run / "prediction.png").is_file()
    capsys.readouterr()

    assert main(["eval", str(run)]) == 0
    evaluated = json.loads((run / "eval.json").read_text())
    assert evaluated["test"]["test/rel_l2"] == pytest.approx(report["test"]["test/rel_l2"])
    assert "test/rel_l2" in capsys.readouterr().out

    # inputs laid out as the training inputs were ((n, s, s), key fields/a), at a third grid
    a, _ = _fields(rng, 3, 21)
    np.savez(tmp_path / "new.npz", **{"fields/a": a})
    assert main(["predict", str(run), "--input", str(tmp_path / "new.npz"),
                 "--output", str(tmp_path / "out")]) == 0
    arrays, _ = read_hdf5(tmp_path / "out" / "prediction.h5")
    assert arrays["y"].shape == (3, 2, 21, 21) and np.isfinite(arrays["y"]).all()
    np.save(tmp_path / "new.npy", a[:, None])  # channel-first (n, 1, s, s) is read too
    assert main(["predict", str(run), "--input", str(tmp_path / "new.npy"),
                 "--output", str(tmp_path / "out2")]) == 0
    again, _ = read_hdf5(tmp_path / "out2" / "prediction.h5")
    np.testing.assert_allclose(again["y"], arrays["y"], rtol=1e-5, atol=1e-6)

    a[1, 4, 4] = np.nan
    np.savez(tmp_path / "bad.npz", **{"fields/a": a})
    capsys.readouterr()
    assert main(["predict", str(run), "--input", str(tmp_path / "bad.npz"),
                 "--output", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip()
    assert "bad.npz" in err and "'fields/a'" in err and "NaN" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "bad" / "prediction.h5").exists()


@pytest.mark.parametrize("override, expected", [
    ("data.options.y_key=sol",
     "train.h5 (data.options.train): no array 'sol'; arrays found: ['fields/a', 'fields/u']"),
    ("data.options.test={folder}", "folder.npz (data.options.test) is a folder, not a file"),
    ("data.options.layout=rows", "data.options.layout: 'rows' is not one of"),
])
def test_bad_data_is_one_line_and_leaves_no_run(override, expected, tmp_path, capsys):
    recipe = _recipe(tmp_path, np.random.default_rng(0))
    (tmp_path / "folder.npz").mkdir()
    override = override.format(folder=tmp_path / "folder.npz")
    run = tmp_path / "run"
    assert main(["fit", str(recipe), "--run-dir", str(run), "--quiet", "--set", override]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err, err
    assert not (run / "report.json").exists()


COMMON = ["--set", "model.width=8", "--set", "model.n_layers=1", "--set", "train.max_epochs=1",
          "--set", "train.scheduler=null", "--quiet"]


def test_neuraloperator_darcy_files_through_arrays(shared_data, tmp_path):
    """The real Darcy files: ``x`` bool (n, 16, 16), ``y`` (n, 16, 16)."""
    pde, run = shared_data / "pde", tmp_path / "darcy"
    assert main(["fit", "darcy-mgno", "--run-dir", str(run), "--set", "data.name=arrays",
                 "--set", f"data.options={{train: {pde / 'darcy_train_16.pt'}, test: "
                 f"{pde / 'darcy_test_16.pt'}, n_train: 64, n_test: 10}}",
                 "--set", "model.num_smooth=1", *COMMON]) == 0
    report = json.loads((run / "report.json").read_text())
    assert report["train_resolution"] == [16, 16] and 0 < report["test"]["test/rel_l2"] < 2
    assert report["extent"] == [[0.0, 1.0], [0.0, 1.0]]


def test_neuraloperator_burgers_trajectories_through_arrays(shared_data, tmp_path):
    """The real Burgers files: ``x`` (n, 16) first state, ``y`` (n, 17, 16) trajectories,
    rolled out in time; predict from a file of first states."""
    pde, run = shared_data / "pde", tmp_path / "burgers"
    assert main(["fit", "burgers-mgno", "--run-dir", str(run), "--set", "data.name=arrays",
                 "--set", f"data.options={{train: {pde / 'burgers_train_16.pt'}, test: "
                 f"{pde / 'burgers_test_16.pt'}, n_train: 16, n_test: 4, time_dependent: true, "
                 "boundary: periodic}", "--set", "objective.rollout_steps=4", *COMMON]) == 0
    report = json.loads((run / "report.json").read_text())
    assert "test/rel_l2_last" in report["test"] and report["boundary"] == "periodic"
    x = torch.load(pde / "burgers_test_16.pt", weights_only=True)["x"][:2]  # (2, 16)
    np.save(tmp_path / "u0.npy", x.numpy())
    assert main(["predict", str(run), "--input", str(tmp_path / "u0.npy"),
                 "--output", str(tmp_path / "out")]) == 0
    arrays, _ = read_hdf5(tmp_path / "out" / "prediction.h5")
    assert arrays["y"].shape == (2, 4, 1, 16)
