"""The hard_constraint job: a tiny fit writes the run folder and a finite test error; a killed
fit resumes to the same model; bad recipes fail early with the key named."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
import yaml

import sciml
from sciml.errors import ConfigError
from sciml.tasks import HardConstraintJob

RECIPES = __import__("pathlib").Path(__file__).resolve().parents[2] / "sciml" / "recipes"


def _tiny(name: str) -> dict:
    recipe = yaml.safe_load((RECIPES / f"{name}.yaml").read_text())
    recipe["train"]["steps"] = 2
    recipe["problem"].update(n_x=16, n_t=11 if "diffusion" in name else 5, n_train=2, n_test=1)
    recipe["model"]["n_points"] = 64
    recipe["model"]["backbone"] = {"width": 8, "n_layers": 1, "levels": 2}
    return recipe


@pytest.mark.parametrize("name", ["diffusion-sorption-hcmoe", "navier-stokes-hcmoe"])
def test_tiny_fit_writes_a_run_folder(tmp_path, name):
    report = sciml.fit(_tiny(name), tmp_path, progress=False)
    assert {"recipe.yaml", "report.json", "metrics.csv"} <= {p.name for p in tmp_path.iterdir()}
    assert (tmp_path / "checkpoints" / "last.pt").is_file()
    rel = report["test"]["test/rel_l2"]
    assert np.isfinite(rel) and rel > 0
    assert json.loads((tmp_path / "report.json").read_text())["model"] == "hc_moe"
    assert sciml.evaluate(tmp_path)["test"]["test/rel_l2"] == pytest.approx(rel)
    history = (tmp_path / "metrics.csv").read_text().splitlines()
    assert history[0].split(",")[:3] == ["epoch", "step", "train/loss"]
    assert "train/pde" in history[0] and "train/unconverged_expert_solves" in history[0]


def test_bad_recipes():
    recipe = _tiny("diffusion-sorption-hcmoe")
    with pytest.raises(ConfigError, match="problem.n_cells"):
        HardConstraintJob({**recipe, "problem": {**recipe["problem"], "n_cells": 3}})
    with pytest.raises(ConfigError, match="model.name"):
        HardConstraintJob({**recipe, "model": {"name": "mgno"}})
    with pytest.raises(ConfigError, match="differs"):
        HardConstraintJob({**recipe, "model": {**recipe["model"], "problem": "navier_stokes"}})
    with pytest.raises(ConfigError, match="unknown recipe key"):
        HardConstraintJob({**recipe, "data": {}})


def test_killed_fit_resumes_from_its_last_checkpoint_to_the_same_model(tmp_path, monkeypatch):
    recipe = _tiny("diffusion-sorption-hcmoe")
    recipe["train"].update(steps=6, checkpoint_every=2, clip_grad_norm=1.0)
    recipe["problem"]["n_train"] = 3  # batches of 2: epochs of 2 steps, the last one short
    full = sciml.fit(recipe, tmp_path / "full", progress=False)

    from sciml.models import HardConstrainedOperator

    original = HardConstrainedOperator.physics_loss
    calls = []

    def dies_at_step_five(self, u, initial):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt("killed")
        return original(self, u, initial)

    monkeypatch.setattr(HardConstrainedOperator, "physics_loss", dies_at_step_five)
    with pytest.raises(KeyboardInterrupt):
        sciml.fit(recipe, tmp_path / "killed", progress=False)
    saved = torch.load(tmp_path / "killed" / "checkpoints" / "last.pt", weights_only=True)
    assert saved["step"] == 4 and len(saved["history"]) == 2
    monkeypatch.setattr(HardConstrainedOperator, "physics_loss", original)
    resumed = sciml.fit(recipe, tmp_path / "killed", progress=False)
    want = torch.load(tmp_path / "full" / "checkpoints" / "last.pt", weights_only=True)
    got = torch.load(tmp_path / "killed" / "checkpoints" / "last.pt", weights_only=True)
    for key, value in want["model"]["state_dict"].items():
        assert torch.equal(got["model"]["state_dict"][key], value), key
    assert resumed["final_loss"] == full["final_loss"]
    assert resumed["test"]["test/rel_l2"] == full["test"]["test/rel_l2"]
    with pytest.raises(ConfigError, match="clip_grad_norm"):
        HardConstraintJob({**recipe, "train": {**recipe["train"], "clip_grad_norm": 0}})
    with pytest.raises(ConfigError, match="checkpoint_every"):
        HardConstraintJob({**recipe, "train": {**recipe["train"], "checkpoint_every": -1}})


@pytest.mark.parametrize("name", ["diffusion-sorption-hcmoe", "navier-stokes-hcmoe",
                                  "burgers-hcmoe"])
def test_shipped_recipes_validate(name):
    job = HardConstraintJob(yaml.safe_load((RECIPES / f"{name}.yaml").read_text()))
    assert job.model_name == "hc_moe" and job.problem.grid_shape[-1] == job.problem.n_t


def test_burgers_recipe_trains_and_reports_its_error_against_the_spectral_reference(
        tmp_path, one_thread):
    # The shipped recipe, shortened: 24 points × 11 times on t ∈ [0, 0.25] (the reference is an
    # ETDRK4 solve on 4096 points), 60 steps.
    recipe = yaml.safe_load((RECIPES / "burgers-hcmoe.yaml").read_text())
    assert recipe["problem"]["pde"] == "burgers" and "problem" not in recipe["problem"]
    recipe["problem"].update(n_x=24, n_t=11, t_final=0.25)
    recipe["model"].update(n_points=200, backbone={"width": 8, "n_layers": 1, "levels": 2})
    recipe["train"].update(steps=60)
    report = sciml.fit(recipe, tmp_path, progress=False)
    losses = [float(r["train/loss"]) for r in csv.DictReader(open(tmp_path / "metrics.csv"))]
    assert np.mean(losses[-10:]) < 0.15 * np.mean(losses[:5]), losses[::10]   # 0.04-0.06
    rel = report["test"]["test/rel_l2"]
    assert np.isfinite(rel) and 0 < rel < 0.5, rel                  # 0.17-0.20, seeds 0-2
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["test"]["test/rel_l2"] == rel and saved["problem"]["pde"] == "burgers"
    from sciml.models import load_model

    model = load_model(tmp_path / "checkpoints" / "last.pt")
    assert model.pde.name == "burgers" and model.grid.periodic == (False,)
    assert model.config.boundary == [[{"kind": "dirichlet", "value": 0.0}] * 2]
    assert model.config.params["initial"] == "-sin_pi"


def test_problem_data_of_registered_pdes_start_at_their_initial_condition():
    from sciml.tasks import HardConstraintProblem, problem_data

    for pde, params in (("burgers", {"initial": "sin", "nu": 0.05}), ("convection", {}),
                        ("reaction", {}), ("reaction_diffusion", {"nu": 1.0})):
        p = HardConstraintProblem(pde=pde, params=params, n_x=16, n_t=6, t_final=0.2,
                                  n_train=2, n_test=1)
        assert p.grid_shape == (16, 6)
        train, none = problem_data(p, "train")
        test, ref = problem_data(p, "test")
        assert none is None and train.shape == (2, 16) and ref.shape == (1, 16, 6)
        x = torch.arange(16, dtype=torch.float64) * 2 * np.pi / 16          # periodic [0, 2π)
        torch.testing.assert_close(train[1], p.grid_problem().pde.initial_condition(x[:, None]))
        torch.testing.assert_close(ref[0, :, 0], test[0], atol=1e-6, rtol=0)
        assert torch.isfinite(ref).all() and float((ref[0, :, -1] - test[0]).abs().max()) > 1e-3


def test_bad_problem_descriptions_fail_when_the_recipe_is_read():
    recipe = yaml.safe_load((RECIPES / "burgers-hcmoe.yaml").read_text())

    def job(problem=None, model=None):
        return HardConstraintJob({**recipe, "problem": {**recipe["problem"], **(problem or {})},
                                  "model": {**recipe["model"], **(model or {})}})

    with pytest.raises(ConfigError, match="not both"):
        job({"problem": "diffusion_sorption"})
    with pytest.raises(ConfigError, match="nu is the viscosity of problem: navier_stokes"):
        job({"nu": 0.01})
    with pytest.raises(ConfigError, match="no initial states and reference solver for PDE "
                                          "'allen_cahn'"):
        job({"pde": "allen_cahn", "params": {}})
    with pytest.raises(ConfigError, match="odd periodic extension"):
        job({"domain": [[0.0, 1.0]]})
    with pytest.raises(ConfigError, match="periodic or zero Dirichlet"):
        job({"boundary": [{"kind": "dirichlet", "value": 1.0}]})
    with pytest.raises(ConfigError, match="model.pde 'convection' differs from problem.pde"):
        job(model={"pde": "convection"})
    ds = {"pde": "diffusion_sorption", "params": {}, "domain": None, "boundary": None}
    with pytest.raises(ConfigError, match="finite-volume reference needs points: cell"):
        job({**ds, "points": "vertex"})
    with pytest.raises(ConfigError, match=r"reference solves diffusion_sorption on its domain "
                                          r"\[\(0.0, 1.0\)\]"):
        job({**ds, "points": "cell", "domain": [[0.0, 2.0]]})
    ds_job = job({**ds, "points": "cell", "scale_time": True, "t_final": 500.0})
    assert ds_job.model_values["pde"] == "diffusion_sorption"
