"""Lottery tickets switched on from a recipe (``train.pruning``) in two job families."""

from __future__ import annotations

import json

import pytest
import torch

import sciml
from sciml.cli import main
from tests.api.conftest import tiny_recipe

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("family, metric", [("forecasting", "test/mae"),
                                            ("operator", "test/rel_l2")])
def test_a_recipe_trains_tickets_and_reports_each_round(tmp_path, family, metric):
    recipe = tiny_recipe(family).with_overrides(
        ["train.pruning={rounds: 2, fraction: 0.5, control: true}"])
    report = sciml.fit(recipe, run_dir=tmp_path / "run", progress=False)
    rounds = report["pruning"]
    assert [(e["round"], e["kind"]) for e in rounds] == [
        (0, "dense"), (1, "reinit"), (1, "ticket"), (2, "reinit"), (2, "ticket")]
    assert [e["sparsity"] for e in rounds] == pytest.approx([0, 0.5, 0.5, 0.75, 0.75], abs=0.01)
    assert all(metric in e["test"] for e in rounds)
    # the run's own result is the last ticket: its test metric and its weights
    assert rounds[-1]["test"][metric] == pytest.approx(report["test"][metric], rel=1e-6)
    run = sciml.load_run(tmp_path / "run")
    weights = [p for p in run.model.parameters() if p.ndim >= 2]
    zeros = sum(int((p == 0).sum()) for p in weights) / sum(p.numel() for p in weights)
    assert zeros == pytest.approx(0.75, abs=0.01)
    assert json.loads((tmp_path / "run" / "report.json").read_text())["pruning"][-1]["test"]


def test_the_command_line_prints_the_rounds(tmp_path, capsys):
    torch.set_num_threads(1)
    name, overrides = "gpvar-tts", [
        "data.options={n_steps: 400, n_nodes: 12}", "model.hidden_size=8", "train.max_epochs=1",
        "train.tensorboard=false", "train.pruning={rounds: 1, fraction: 0.3}"]
    args = ["fit", name, "--run-dir", str(tmp_path / "r"), "--quiet"]
    for o in overrides:
        args += ["--set", o]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "pruning rounds (test/mae on the test data)" in out
    assert "round 1 ticket  sparsity 0.300" in out
    assert main(["fit", name, "--run-dir", str(tmp_path / "bad"), "--set",
                 "train.pruning={rounds: 0}"]) == 2
    assert "trainer.pruning.rounds must be an integer >= 1" in capsys.readouterr().err


@pytest.mark.parametrize("family", ["forecasting", "operator"])
def test_granet_from_a_recipe(tmp_path, family):
    recipe = tiny_recipe(family).with_overrides(
        ["train.pruning={method: granet, sparsity: 0.6, every: 1, end: 0.5}"])
    report = sciml.fit(recipe, run_dir=tmp_path / "run", progress=False)
    (entry,) = report["pruning"]
    assert entry["kind"] == "granet" and entry["updates"] >= 1
    assert entry["sparsity"] == pytest.approx(0.6, abs=0.01)
    assert entry["test"] == report["test"]  # the run's result is the sparse network
    run = sciml.load_run(tmp_path / "run")
    weights = [p for p in run.model.parameters() if p.ndim >= 2]
    zeros = sum(int((p == 0).sum()) for p in weights) / sum(p.numel() for p in weights)
    assert zeros == pytest.approx(0.6, abs=0.01)
