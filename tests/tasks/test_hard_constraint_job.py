"""The hard_constraint job: a tiny fit writes the run folder and a finite test error; a killed
fit resumes to the same model; bad recipes fail early with the key named."""

from __future__ import annotations

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
