"""The physics_informed job: `sciml fit` on the LPINN recipes, resume, eval, predict, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import sciml
from sciml.cli import main
from sciml.data import read_hdf5
from sciml.errors import ConfigError
from sciml.recipes import apply_overrides, load_recipe
from sciml.tasks import PhysicsInformedJob

TINY = ["train.n_x=16", "train.n_t=8", "train.adam_steps=20", "train.lbfgs_steps=20",
        "train.lbfgs_chunk=10", "train.checkpoint_every=10", "eval.n_x=32", "eval.n_t=11",
        "model.width=8"]


pytestmark = pytest.mark.usefixtures("one_thread")


def test_fit_writes_the_run_folder_and_resumes(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    args = ["fit", "convection-lpinn", "--run-dir", str(run), "--quiet"]
    for o in TINY:
        args += ["--set", o]
    assert main(args) == 0
    for name in ("recipe.yaml", "report.json", "metrics.csv", "solution.png",
                 "checkpoints/last.pt"):
        assert (run / name).is_file(), name
    report = json.loads((run / "report.json").read_text())
    assert 0 < report["test"]["test/rel_l2"] < 10
    assert "test/rel_l2" in capsys.readouterr().out
    # Resuming a finished run trains no further: same history, same metrics.
    history = (run / "metrics.csv").read_text()
    assert main(args) == 0
    assert (run / "metrics.csv").read_text() == history
    assert json.loads((run / "report.json").read_text())["test"] == report["test"]
    assert main(["eval", str(run)]) == 0
    assert json.loads((run / "eval.json").read_text())["test"] == report["test"]
    pts = np.array([[0.5, 0.0], [1.0, 0.5], [2.0, 0.5]])
    np.save(tmp_path / "pts.npy", pts)
    assert main(["predict", str(run), "--input", str(tmp_path / "pts.npy")]) == 0
    arrays, _ = read_hdf5(run / "predictions" / "prediction.h5")
    assert arrays["u"].shape == (3,) and np.isfinite(arrays["u"]).all()
    with pytest.warns(UserWarning, match=r"1 of 2 points lie outside the trained domain"):
        sciml.load_run(run).predict(np.array([[0.5, 0.0], [7.0, 0.5]]))


def test_extend_continues_a_finished_run(tmp_path) -> None:
    recipe = load_recipe("convection-pinn", TINY)
    short = recipe.with_overrides(["train.lbfgs_steps=0"])
    sciml.fit(short, tmp_path, progress=False)
    state = torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)
    assert state["full_batch"]["phase"] == "lbfgs" and state["full_batch"]["done"] == 0
    report = sciml.fit(short, tmp_path, extend=20, progress=False)
    state = torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)
    assert state["full_batch"]["done"] == 20 and state["step"] == 40
    adam_rows = [h for h in state["history"] if h["phase"] == "adam"]
    assert adam_rows[-1]["phase_step"] == 20 and len(adam_rows) == 10  # not trained twice
    assert np.isfinite(report["test"]["test/rel_l2"])
    assert sciml.load_recipe(tmp_path / "recipe.yaml")["train"]["lbfgs_steps"] == 20


def test_burgers_recipe_builds_and_bad_recipes_are_named() -> None:
    recipe = load_recipe("burgers-lpinn")
    job = PhysicsInformedJob(recipe)
    assert job.problem.pde == "burgers"
    with pytest.raises(ConfigError, match="unknown pde 'burger'"):
        PhysicsInformedJob(apply_overrides(recipe, ["problem.pde=burger"]))
    with pytest.raises(ConfigError, match="viscosity"):
        PhysicsInformedJob(apply_overrides(recipe, ["problem.params.viscosity=0.1"]))
    with pytest.raises(ConfigError, match="n_x must be a positive number"):
        PhysicsInformedJob(apply_overrides(recipe, ["train.n_x=0"]))
    with pytest.raises(ConfigError, match="inverted or empty t_range"):
        PhysicsInformedJob(apply_overrides(recipe, ["problem.t_range=[1.0, 0.0]"]))
    with pytest.raises(ConfigError, match="unknown recipe key"):
        PhysicsInformedJob({**recipe, "objective": {}})
    bad = PhysicsInformedJob(apply_overrides(recipe, ["model.period=1.0"]))
    with pytest.raises(ConfigError, match="period"):
        bad.build_task(bad.describe(None))


@pytest.mark.slow
def test_burgers_reference_matches_deepxde_data(shared_data) -> None:
    """Our spectral Burgers reference (the odd, 2-periodic solution) against DeepXDE's data."""
    import math

    from sciml.tasks import PhysicsProblem, reference_solution

    path = shared_data / "pde" / "Burgers.npz"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    d = np.load(path)
    x, t, usol = d["x"][:, 0], d["t"][:, 0], d["usol"].T
    problem = PhysicsProblem("burgers", {"nu": 0.01 / math.pi, "initial": "-sin_pi"},
                             x_range=(-1.0, 1.0), t_range=(0.0, 0.99), boundary="dirichlet")
    ref = reference_solution(problem, x, t[::11])
    err = np.linalg.norm(ref - usol[::11]) / np.linalg.norm(usol[::11])
    assert err < 1e-3, err


def test_resampling_during_lbfgs_resumes_to_the_same_weights(tmp_path) -> None:
    """``lbfgs_resample_every``: new points during L-BFGS with its memory cleared; a run stopped
    at a resampling and extended ends bit for bit where the uninterrupted run ends."""
    over = TINY + ["train.collocation=uniform", "train.lbfgs_steps=40",
                   "train.lbfgs_resample_every=20"]
    recipe = load_recipe("convection-pinn", over)
    sciml.fit(recipe, tmp_path / "straight", progress=False)
    short = recipe.with_overrides(["train.lbfgs_steps=20"])
    sciml.fit(short, tmp_path / "split", progress=False)
    before = torch.load(tmp_path / "split" / "checkpoints" / "last.pt", weights_only=True)
    sciml.fit(short, tmp_path / "split", extend=20, progress=False)
    straight = torch.load(tmp_path / "straight" / "checkpoints" / "last.pt", weights_only=True)
    split = torch.load(tmp_path / "split" / "checkpoints" / "last.pt", weights_only=True)
    for key, value in straight["model"]["state_dict"].items():
        assert torch.equal(value, split["model"]["state_dict"][key]), key
    # the points were redrawn at L-BFGS iteration 20, the iterations counted across the reset
    assert not torch.equal(before["task_state"]["points"], split["task_state"]["points"])
    assert torch.equal(straight["task_state"]["points"], split["task_state"]["points"])
    counts = [h["lbfgs_iterations"] for h in straight["history"] if h["phase"] == "lbfgs"]
    assert counts == sorted(counts) and counts[-1] > 20
    assert straight["full_batch"]["lbfgs_carried"]["n_iter"] >= 20
    with pytest.raises(ConfigError, match="lbfgs_resample_every"):
        PhysicsInformedJob(apply_overrides(recipe, ["train.lbfgs_resample_every=-1"]))
