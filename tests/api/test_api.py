"""The public API: a script using only ``import sciml`` trains, evaluates, reloads and predicts
for each job family; in-memory data; the registries fill themselves."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

import sciml
from tests.api.conftest import tiny_recipe

pytestmark = pytest.mark.usefixtures("one_thread")


def _fit_eval_reload(family, tmp_path):
    run_dir = tmp_path / family
    report = sciml.fit(tiny_recipe(family), run_dir, progress=False)
    assert json.loads((run_dir / "report.json").read_text())["test"] == report["test"]
    again = sciml.evaluate(run_dir)
    assert again["test"] == pytest.approx(report["test"], rel=1e-6)
    assert json.loads((run_dir / "eval.json").read_text())["test"] == again["test"]
    assert json.loads((run_dir / "report.json").read_text())["test"] == report["test"]
    run = sciml.load_run(run_dir)
    assert run.recipe["task"] == family and run.report["test"] == report["test"]
    assert isinstance(run.model, torch.nn.Module)
    return run


def test_forecasting(tmp_path):
    run = _fit_eval_reload("forecasting", tmp_path)
    nodes = run.spec["node_ids"]
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(12, len(nodes))), columns=nodes)
    table = run.predict(frame)
    assert list(table.columns) == ["step", *nodes] and len(table) == 6
    tensor = run.predict(frame.to_numpy())
    np.testing.assert_allclose(tensor[..., 0].numpy(), table[nodes].to_numpy(), rtol=1e-6)


def test_operator_mgno(tmp_path):
    run = _fit_eval_reload("operator", tmp_path)
    x = torch.rand(2, 1, 25, 25)  # another resolution than the training one (17)
    assert run.predict(x).shape == (2, 1, 25, 25)


def test_physics_informed_lpinn(tmp_path):
    run = _fit_eval_reload("physics_informed", tmp_path)
    u = run.predict(np.array([[0.5, 0.0], [1.0, 0.5]]))
    assert u.shape == (2,) and np.isfinite(u).all()


def test_hard_constraint_hc_moe(tmp_path):
    run = _fit_eval_reload("hard_constraint", tmp_path)
    u = run.predict(np.random.default_rng(0).random((1, 16)))
    assert u.shape == (1, 16, 6) and torch.isfinite(u).all()


def test_molecular_ponita(tmp_path, shared_data):
    run = _fit_eval_reload("molecular", tmp_path)
    mols = sciml.datasets.read_xyz(shared_data / "molecular" / "aspirin.xyz")
    out = run.predict(mols)
    assert out["energy"].shape == (15,) and out["forces"].shape == (15 * 21, 3)


def test_nbody_ponita(tmp_path):
    run = _fit_eval_reload("nbody", tmp_path)
    states = {"pos": torch.rand(2, 5, 3), "vel": torch.rand(2, 5, 3), "charges": torch.ones(2, 5)}
    assert run.predict(states).shape == (2, 5, 3)


def test_in_memory_series_and_the_run_folder_it_leaves(tmp_path, capsys):
    """``sciml.fit(recipe, data=series)`` on a user's own series; then ``sciml eval`` and
    ``sciml predict`` on the folder alone (the series is not needed again)."""
    from sciml.cli import main

    rng = np.random.default_rng(0)
    t, n = 300, 5
    values = np.cumsum(rng.normal(size=(t, n, 1)), axis=0).astype(np.float32)
    index = pd.date_range("2024-01-01", periods=t, freq="h")
    series = sciml.data.SpatioTemporal(values, edge_index=np.array([[0, 1, 2, 3], [1, 2, 3, 4]]),
                                       time_index=index, node_ids=list("abcde"), name="mine")
    recipe = sciml.load_recipe("gpvar-tts", ["model.hidden_size=8", "train.max_epochs=1",
                                             "train.tensorboard=false"])
    report = sciml.fit(recipe, tmp_path / "run", data=series, progress=False)
    assert (tmp_path / "run" / "eval_data.pt").is_file()
    assert main(["eval", str(tmp_path / "run")]) == 0
    assert json.loads((tmp_path / "run" / "eval.json").read_text())["test"] == \
        pytest.approx(report["test"], rel=1e-6)
    frame = pd.DataFrame(values[-12:, :, 0], columns=list("abcde"))
    frame.insert(0, "time", index[-12:])
    frame.to_csv(tmp_path / "last.csv", index=False)
    assert main(["predict", str(tmp_path / "run"), "--input", str(tmp_path / "last.csv")]) == 0
    out = pd.read_csv(tmp_path / "run" / "predictions" / "forecast.csv")
    assert list(out.columns) == ["time", "step", *"abcde"]
    assert out["time"].iloc[0] == str(index[-1] + pd.Timedelta(hours=1))
    with pytest.raises(TypeError, match="SpatioTemporal"):
        sciml.fit(recipe, tmp_path / "other", data=np.zeros(3), progress=False)


def test_evaluate_on_other_in_memory_data(tmp_path):
    recipe = tiny_recipe("operator")
    sciml.fit(recipe, tmp_path / "run", progress=False)
    x = torch.rand(3, 1, 33, 33)
    other = sciml.datasets.PDEData(x, x, x, 2 * x, boundary="dirichlet", name="doubling")
    report = sciml.evaluate(tmp_path / "run", data=other)
    assert report["test_resolution"] == [33, 33] and np.isfinite(report["test"]["test/rel_l2"])
    assert "in-memory PDEData" in report["evaluated_on"]


def test_registries_fill_themselves():
    code = ("from sciml.registry import MODELS, DATASETS, JOBS; "
            "print(len(MODELS.names()), len(DATASETS.names()), ','.join(JOBS.names()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True).stdout.split()
    assert int(out[0]) >= 10 and int(out[1]) >= 10
    assert out[2].split(",") == ["forecasting", "graph_classification", "hard_constraint",
                                 "link_prediction", "molecular", "nbody", "node_classification",
                                 "operator", "physics_informed", "pointer"]
    assert "mgno" in sciml.list_models() and "darcy" in sciml.list_datasets()
    assert "darcy-mgno" in sciml.list_recipes() and "operator" in sciml.list_jobs()


def test_recipe_objects_and_overrides(tmp_path):
    recipe = sciml.load_recipe("darcy-mgno", {"model.width": 16, "train.max_epochs": 3})
    assert recipe.name == "darcy-mgno" and recipe["model"]["width"] == 16
    assert recipe == sciml.load_recipe("darcy-mgno", ["model.width=16", "train.max_epochs=3"])
    path = tmp_path / "mine.yaml"
    path.write_text("task: operator\ndata:\n  name: darcy\n   options: {}\n")
    with pytest.raises(sciml.errors.ConfigError, match=r"mine.yaml.*line 4, column"):
        sciml.load_recipe(path)


def test_a_model_registered_by_a_script_trains_from_a_recipe(tmp_path):
    """Entries a script registers itself are not in the static catalog of the command line;
    ``sciml.fit`` checks recipes with the live registries. Reading the run back leaves the
    caller's random generator alone."""
    from dataclasses import dataclass

    from sciml.models import Persistence
    from sciml.registry import MODELS

    @dataclass(frozen=True)
    class ScaledConfig:
        factor: float = 1.0

    class Scaled(Persistence):
        """Persistence times a learned scalar."""

        def __init__(self, config, **sizes):
            super().__init__(config, **sizes)
            self.scale = torch.nn.Parameter(torch.tensor(config.factor))

        def forward(self, x, edge_index=None, edge_weight=None, u=None):
            return self.scale * super().forward(x, edge_index, edge_weight, u)

    if "_test_scaled" not in MODELS:
        MODELS.register("_test_scaled", ScaledConfig)(Scaled)
    recipe = tiny_recipe("forecasting").with_overrides(
        {"model": {"name": "_test_scaled", "factor": 0.5}})
    with pytest.raises(sciml.errors.ConfigError, match="unknown key model.fator"):
        sciml.fit(recipe.with_overrides(["model.fator=2"]), tmp_path / "bad", progress=False)
    report = sciml.fit(recipe, tmp_path / "run", progress=False)
    assert report["model"] == "_test_scaled" and np.isfinite(report["test"]["test/mae"])
    torch.manual_seed(123)
    state = torch.get_rng_state()
    run = sciml.load_run(tmp_path / "run")
    assert torch.equal(torch.get_rng_state(), state)
    assert float(run.model.scale.detach()) != 0.5  # trained
