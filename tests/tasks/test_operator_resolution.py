"""Operator runs across resolutions: ``predict`` at a finer grid gives a field of the right size
(it came out about twice too large), ``sciml.evaluate`` / ``sciml eval --data FILE`` evaluate at
any grid and report both resolutions with the restrict-predict-interpolate baseline."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from _poisson_pairs import poisson_pairs as _poisson_pairs
from _poisson_pairs import rel_l2
from sciml.datasets import PDEData

import sciml
from sciml.cli import main
from sciml.data import read_hdf5
from sciml.errors import ConfigError
from sciml.registry import MODELS
from sciml.tasks.operator import RolloutTask, restrict_predict_interpolate

K = 5  # sine modes per axis


def poisson_pairs(n_samples: int, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The inverse Laplacian's pairs with this file's number of sine modes."""
    return _poisson_pairs(n_samples, n, seed, modes=K)


RECIPE = {
    "task": "operator",
    "data": {"coordinates": True},
    "model": {"name": "mgno", "width": 8, "n_layers": 2},
    "objective": {"loss": "rel_l2"},
    "train": {"max_epochs": 20, "batch_size": 16, "optimizer": {"name": "adam", "lr": 0.003},
              "scheduler": {"name": "onecycle", "max_lr": 0.003}, "tensorboard": False},
}


@pytest.fixture(scope="module")
def poisson_run(tmp_path_factory) -> tuple:
    """An MgNO operator run trained on (-Δ)^{-1} at 32² (about 10 s on one thread)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    run_dir = tmp_path_factory.mktemp("poisson") / "run"
    f, u = poisson_pairs(192, 32, seed=0)
    f_test, u_test = poisson_pairs(16, 32, seed=1)
    data = PDEData(f, u, f_test, u_test, boundary="dirichlet", name="inverse-laplacian")
    report = sciml.fit(RECIPE, run_dir, data=data, progress=False)
    torch.set_num_threads(threads)
    return run_dir, report


def test_predict_at_a_finer_grid_has_the_right_size(poisson_run, one_thread):
    run_dir, report = poisson_run
    assert report["test"]["test/rel_l2"] < 0.15, report["test"]
    run = sciml.load_run(run_dir)
    assert run.model.grid == (32, 32)
    f, u = poisson_pairs(8, 64, seed=2)
    fine = run.predict(f)
    ratio = float(fine.norm() / u.norm())
    # before: the V-cycle's stencils in grid points gave a field about twice too large
    assert 0.9 < ratio < 1.1, ratio
    assert rel_l2(fine, u) < 1.5 * report["test"]["test/rel_l2"] + 0.01
    off = MODELS.build("mgno", {"width": 8, "n_layers": 2, "resolution_transfer": False},
                       in_channels=3, out_channels=1, ndim=2, resolution=[32, 32])
    off.load_state_dict(run.model.state_dict())
    run.task.model = off.eval()
    assert float(run.predict(f).norm() / u.norm()) > 1.5  # what the transfer fixes


def test_predict_cli_at_finer_and_coarser_grids(poisson_run, tmp_path, one_thread):
    run_dir, report = poisson_run
    for n in (17, 63):
        f, u = poisson_pairs(4, n, seed=3)
        np.save(tmp_path / f"f{n}.npy", f.numpy())
        out = tmp_path / f"out{n}"
        assert main(["predict", str(run_dir), "--input", str(tmp_path / f"f{n}.npy"),
                     "--output", str(out)]) == 0
        arrays, _ = read_hdf5(out / "prediction.h5")
        assert arrays["y"].shape == (4, 1, n, n)
        assert rel_l2(arrays["y"], u) < 2 * report["test"]["test/rel_l2"] + 0.02, n


def test_evaluate_a_file_at_another_resolution(poisson_run, tmp_path, one_thread):
    run_dir, report = poisson_run
    f, u = poisson_pairs(8, 64, seed=4)
    np.savez(tmp_path / "fine.npz", x=f.numpy(), y=u.numpy())
    ev = sciml.evaluate(run_dir, data=tmp_path / "fine.npz")
    assert ev["train_resolution"] == [32, 32] and ev["test_resolution"] == [64, 64]
    assert "fine.npz" in ev["evaluated_on"]
    model_err = ev["test"]["test/rel_l2"]
    baseline = ev["test_restrict_predict_interpolate"]["test/rel_l2"]
    assert model_err < 1.5 * report["test"]["test/rel_l2"] + 0.01
    # MgNO's transfer runs the trained network on the training grid: the baseline's numbers
    assert model_err == pytest.approx(baseline, rel=1e-5)
    assert json.loads((run_dir / "eval.json").read_text())["test_resolution"] == [64, 64]
    # at the training resolution there is no baseline to report
    f32, u32 = poisson_pairs(4, 32, seed=5)
    np.savez(tmp_path / "same.npz", x=f32.numpy(), y=u32.numpy())
    assert "test_restrict_predict_interpolate" not in sciml.evaluate(run_dir,
                                                                     tmp_path / "same.npz")


def test_eval_cli_data_file(poisson_run, tmp_path, capsys, one_thread):
    run_dir, _ = poisson_run
    f, u = poisson_pairs(4, 48, seed=6)
    np.savez(tmp_path / "fine.npz", x=f.numpy(), y=u.numpy())
    assert main(["eval", str(run_dir), "--data", str(tmp_path / "fine.npz")]) == 0
    out = capsys.readouterr().out
    assert "train resolution: 32 x 32" in out and "test resolution: 48 x 48" in out
    assert "test_restrict_predict_interpolate" in out and "test/rel_l2" in out

    bad = {"missing.npz": dict(x=f.numpy()),
           "channels.npz": dict(x=np.repeat(f.numpy(), 2, axis=1), y=u.numpy()),
           "grid.npz": dict(x=f.numpy(), y=u.numpy()[..., :40])}
    for name, arrays in bad.items():
        np.savez(tmp_path / name, **arrays)
        assert main(["eval", str(run_dir), "--data", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and name in err, err
    assert main(["eval", str(run_dir), "--data", str(tmp_path / "none.npz")]) == 2
    assert "no data file" in capsys.readouterr().err


def test_restrict_predict_interpolate_rollout_shapes():
    model = MODELS.build("mgno", {"width": 4, "n_layers": 1}, in_channels=1, out_channels=1,
                         ndim=2, resolution=16)
    zero, one = torch.zeros(1, 1, 1, 1), torch.ones(1, 1, 1, 1)
    task = RolloutTask(model, zero, one, boundary="periodic")
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        out = restrict_predict_interpolate(task, x, (16, 16), steps=3)
    assert out.shape == (2, 3, 1, 32, 32) and torch.isfinite(out).all()
    with pytest.raises(ValueError, match="number of steps"):
        restrict_predict_interpolate(task, x, (16, 16))
    with pytest.raises(ValueError, match="one size per spatial axis"):
        restrict_predict_interpolate(task, x, (16,), steps=1)


def test_fine_tune_at_a_new_resolution_from_a_run(poisson_run, tmp_path, one_thread):
    run_dir, _ = poisson_run
    f, u = poisson_pairs(48, 64, seed=7)
    f_test, u_test = poisson_pairs(8, 64, seed=8)
    data = PDEData(f, u, f_test, u_test, boundary="dirichlet", name="inverse-laplacian-64")
    recipe = {**RECIPE, "train": {**RECIPE["train"], "max_epochs": 1, "scheduler": None,
                                  "optimizer": {"name": "adam", "lr": 1e-4}}}
    tuned = sciml.fit(recipe, tmp_path / "tuned", data=data, init=run_dir, progress=False)
    fresh = sciml.fit(recipe, tmp_path / "fresh", data=data, progress=False)
    init = tuned["init"]
    assert init["run"] == str(run_dir) and init["checkpoint"] == "last.pt"  # no validation
    # 32² -> 64²: levels chosen from the resolution, 4 -> 5; the trained levels become levels
    # 1-4, the new finest level starts as a transfer (its A is fresh: unused while S = 0)
    assert init["shape_mismatch"] == [] and init["unused"] == []
    assert init["new"] == ["layers.0.mg.A.0.weight", "layers.1.mg.A.0.weight"], init["new"]
    assert "levels 4 -> 5" in init["note"]
    assert {k.split(".", 4)[3] for k in init["constructed"]} == {"S", "restrict_u",
                                                                 "restrict_f", "prolong"}
    assert all(k.split(".")[4] == "0" for k in init["constructed"]), init["constructed"]
    assert 0 < init["reused_values"] < init["total_values"]
    assert json.loads((tmp_path / "tuned" / "init.json").read_text()) == init
    assert "init" not in fresh
    assert tuned["test"]["test/rel_l2"] < 0.5 * fresh["test"]["test/rel_l2"], (tuned, fresh)


def test_init_errors(poisson_run, tmp_path, capsys):
    from sciml.runs import init_model_from_run

    run_dir, _ = poisson_run
    other = MODELS.build("mgno", {"width": 4, "n_layers": 2}, in_channels=3, out_channels=2,
                         ndim=2, resolution=32)  # no weight of the same shape
    with pytest.raises(ConfigError, match="nothing in .* fits this model"):
        init_model_from_run(other, run_dir)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        init_model_from_run(other, tmp_path / "nowhere")
    assert main(["fit", "darcy-mgno", "--init", str(tmp_path / "nowhere"),
                 "--run-dir", str(tmp_path / "r")]) == 2
    assert "nowhere does not exist" in capsys.readouterr().err
    assert main(["fit", "darcy-mgno", "--init", str(run_dir), "--extend", "2",
                 "--run-dir", str(tmp_path / "r")]) == 2
    assert "--init and --extend exclude each other" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_fit_cli_init_on_own_arrays(poisson_run, tmp_path, capsys, one_thread):
    run_dir, _ = poisson_run
    f, u = poisson_pairs(20, 48, seed=9)
    np.savez(tmp_path / "pairs.npz", f=f[:, 0].numpy(), u=u[:, 0].numpy())  # (n, s, s)
    (tmp_path / "fine.yaml").write_text(
        "task: operator\n"
        f"data: {{name: arrays, options: {{path: {tmp_path / 'pairs.npz'}, x_key: f, y_key: u,"
        " test_fraction: 0.2}}\n"
        "model: {name: mgno, width: 8, n_layers: 2}\n"
        "objective: {loss: rel_l2}\n"
        "train: {max_epochs: 1, batch_size: 8, tensorboard: false}\n")
    assert main(["fit", str(tmp_path / "fine.yaml"), "--init", str(run_dir), "--run-dir",
                 str(tmp_path / "run"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"started from {run_dir} (last.pt)" in out and "weight tensors reused" in out
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["train_resolution"] == [48, 48] and report["init"]["reused"] > 0


def test_eval_cli_on_a_registered_data_set(poisson_run, capsys, one_thread):
    run_dir, _ = poisson_run
    options = ["--set", "n_train=2", "--set", "n_test=2", "--set", "resolution=17",
               "--set", "test_resolution=33"]
    assert main(["eval", str(run_dir), "--data", "darcy", *options, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "train resolution: 32 x 32" in out and "test resolution: 33 x 33" in out
    assert "test_restrict_predict_interpolate" in out
    for argv, message in [
            (["--data", "nosuch"], "no data file at nosuch (nor a data set of that name"),
            (["--set", "n_test=2"], "--set gives the options of a data set"),
            (["--data", "darcy", "--set", "bogus=1"], "bogus")]:
        assert main(["eval", str(run_dir), *argv]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
