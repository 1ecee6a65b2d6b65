"""Continual learning (trainer.continual): the hypernetworks, the penalties and the task loop."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import sciml
from sciml.cli import main
from sciml.errors import ConfigError
from sciml.nn import ChunkedHypernetwork, HyperModel
from sciml.train import TrainerConfig
from sciml.train._continual import (
    EWCPenalty,
    OutputRegulariser,
    PenalisedTask,
    check_continual_config,
    forgetting_summary,
)


def _target() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.LayerNorm(8), nn.Linear(8, 2))


# --------------------------------------------------------------------------- hypernetworks
@pytest.mark.parametrize("kind", ["rnn", "mlp"])
def test_hypermodel_runs_the_target_on_the_generated_weights(kind):
    target = _target()
    model = HyperModel(target, n_tasks=3, kind=kind, chunk_size=16, hidden=12, seed=0)
    x = torch.randn(5, 3)
    for t in range(3):
        model.set_task(t)
        reference = _target()  # same shapes, its parameters replaced by the generated ones
        with torch.no_grad():
            for p, v in zip(reference.parameters(),
                            model.parameters_for(model.weights()).values(), strict=True):
                p.copy_(v)
        torch.testing.assert_close(model(x), reference(x))
    model.set_task(0)
    a = model(x)
    model.set_task(1)
    assert not torch.allclose(a, model(x))  # another task, other weights
    # gradients reach the hypernetwork and the current task's embedding, never the template
    model(x).pow(2).sum().backward()
    assert all(p.grad is None for p in target.parameters())
    assert all(not p.requires_grad for p in target.parameters())
    emb = model.hnet.task_embeddings.grad
    assert emb[1].abs().sum() > 0 and emb[0].abs().sum() == 0 and emb[2].abs().sum() == 0
    assert model.hnet.head.weight.grad.abs().sum() > 0


def test_generated_weights_start_at_the_targets_initial_scale():
    target = nn.Linear(200, 100)
    std, mean = float(target.weight.detach().std()), float(target.weight.detach().mean())
    model = HyperModel(target, n_tasks=2, chunk_size=500, seed=0)
    w = model.parameters_for(model.weights(0))["weight"]
    w = w.detach()
    assert abs(float(w.std()) / std - 1) < 0.3 and abs(float(w.mean()) - mean) < 0.2 * std
    # a constant-initialised gain (LayerNorm) stays near its value, not at zero
    ln = HyperModel(nn.LayerNorm(64), n_tasks=1, chunk_size=32, seed=0)
    gain = ln.parameters_for(ln.weights(0))["weight"].detach()
    assert abs(float(gain.mean()) - 1) < 0.3


def test_rnn_chunks_depend_on_earlier_chunks_and_mlp_chunks_do_not():
    """The defining property of the dependency-preserving hypernetwork: chunk i is a function of
    the chunks before it (the LSTM's state), not of later ones; the MLP's chunks are each on
    their own."""
    for kind in ("rnn", "mlp"):
        torch.manual_seed(0)
        h = ChunkedHypernetwork(n_outputs=40, n_tasks=1, kind=kind, chunk_size=8, hidden=6)
        before = h(0).detach().reshape(5, 8)
        with torch.no_grad():
            h.chunk_embeddings[2] += 1.0
        after = h(0).detach().reshape(5, 8)
        changed = [(after[i] - before[i]).abs().max().item() > 1e-7 for i in range(5)]
        expected = [False, False, True, True, True] if kind == "rnn" else \
            [False, False, True, False, False]
        assert changed == expected, (kind, changed)


def test_hypermodel_refuses_methods_of_the_target():
    class WithHelper(nn.Linear):
        def helper(self):
            return self.weight

    model = HyperModel(WithHelper(2, 2), n_tasks=1, chunk_size=4)
    assert model.in_features == 2  # plain attributes are lent
    with pytest.raises(AttributeError, match="'helper' is a method"):
        model.helper()
    with pytest.raises(ValueError, match=r"task must be in \[0, 1\)"):
        model.set_task(1)
    with pytest.raises(ValueError, match="kind must be 'rnn' or 'mlp'"):
        ChunkedHypernetwork(10, 1, kind="gru")


# --------------------------------------------------------------------------- penalties
def test_output_regulariser_holds_earlier_tasks_outputs():
    model = HyperModel(_target(), n_tasks=3, chunk_size=16, hidden=12, seed=0)
    with torch.no_grad():
        targets = torch.stack([model.weights(t) for t in range(2)])
    reg = OutputRegulariser(model, beta=0.5, targets=targets)
    assert float(reg().detach()) == pytest.approx(0.0, abs=1e-10)
    with torch.no_grad():
        model.hnet.head.bias += 0.1
    value = reg()
    # β / (number of earlier tasks) Σ_j ‖Δw_j‖², with the scale each tensor is generated at
    with torch.no_grad():
        expected = 0.5 / 2 * sum(float((model.weights(t) - targets[t]).pow(2).sum())
                                 for t in range(2))
    assert float(value.detach()) == pytest.approx(expected, rel=1e-5)
    value.backward()
    assert model.hnet.task_embeddings.grad is None or \
        float(model.hnet.task_embeddings.grad.abs().sum()) == 0.0  # earlier embeddings fixed
    assert float(model.hnet.head.bias.grad.abs().sum()) > 0


def test_ewc_penalty_is_the_fisher_weighted_distance_to_the_anchor():
    model = nn.Linear(3, 2)
    params = dict(model.named_parameters())
    fisher = {n: torch.rand_like(p) for n, p in params.items()}
    anchor = {n: p.detach().clone() for n, p in params.items()}
    pen = EWCPenalty(model, lam=4.0, fisher=fisher, anchor=anchor)
    assert float(pen().detach()) == 0.0
    with torch.no_grad():
        model.weight += 0.3
    value = pen()
    value.backward()
    expected = 0.5 * 4.0 * float((fisher["weight"] * 0.09).sum())
    assert float(value.detach()) == pytest.approx(expected, rel=1e-5)
    torch.testing.assert_close(model.weight.grad, 4.0 * fisher["weight"] * 0.3)


def test_forgetting_summary():
    m = [[1.0], [2.0, 0.5], [3.0, 1.5, 0.25]]
    s = forgetting_summary(m)
    assert s["final"] == pytest.approx((3.0 + 1.5 + 0.25) / 3)
    assert s["just_learned"] == pytest.approx((1.0 + 0.5 + 0.25) / 3)
    assert s["forgetting"] == pytest.approx(((3.0 - 1.0) + (1.5 - 0.5)) / 2)
    acc = forgetting_summary([[0.9], [0.7, 0.8]], lower_is_better=False)
    assert acc["forgetting"] == pytest.approx(0.2)


@pytest.mark.parametrize("value, message", [
    ({"method": "replay", "tasks": [{}, {}]}, "method must be one of"),
    ({"tasks": [{}]}, "at least two mappings"),
    ({"tasks": [{}, {}], "bogus": 1}, "unknown key trainer.continual.bogus"),
    ({"tasks": [{}, {}], "beta": -1}, "beta must be a number >= 0"),
    ({"tasks": [{}, {}], "hypernetwork": {"kind": "gru"}}, "kind must be 'rnn' or 'mlp'"),
    ({"tasks": [{}, {}], "hypernetwork": {"chunks": 3}}, "hypernetwork.chunks"),
    ({"tasks": [{}, {}], "hypernetwork": {"hidden": 0}}, "hidden must be a positive"),
])
def test_continual_config_errors(value, message):
    with pytest.raises(ConfigError, match=message):
        check_continual_config(value)


def test_continual_excludes_pruning():
    with pytest.raises(ConfigError, match="cannot be combined"):
        TrainerConfig(continual={"tasks": [{}, {}]}, pruning={"method": "lottery"})


# --------------------------------------------------------------------------- the task loop
_THETA_B = [[-1.0, 0.9], [1.6, -0.9], [0.7, 0.9]]


def _gpvar_recipe(method: str, epochs: int = 2) -> dict:
    recipe = dict(sciml.load_recipe("gpvar-tts"))
    recipe["data"] = {**recipe["data"], "options": {"n_nodes": 10, "n_steps": 300}}
    recipe["model"] = {"name": "time_then_space", "hidden_size": 8}
    recipe["train"] = {**recipe["train"], "max_epochs": epochs, "batch_size": 32,
                       "progress": False, "tensorboard": False, "early_stopping_patience": None,
                       "continual": {"method": method, "tasks": [
                           {"options": {"seed": 0}},
                           {"options": {"seed": 1, "theta": _THETA_B}}],
                           "hypernetwork": {"chunk_size": 128, "hidden": 16}}}
    return recipe


@pytest.mark.parametrize("method", ["hypernetwork", "ewc"])
def test_continual_forecasting_run_reports_the_matrix_and_loads_back(tmp_path, method,
                                                                      one_thread):
    report = sciml.fit(_gpvar_recipe(method), tmp_path / "run", progress=False)
    c = report["continual"]
    assert c["method"] == method and c["metric"] == "test/mae"
    assert [len(row) for row in c["matrix"]] == [1, 2]
    assert c["forgetting"] == pytest.approx(c["matrix"][1][0] - c["matrix"][0][0])
    # the run's own test metrics are the last task's, from the saved checkpoint
    run = sciml.load_run(tmp_path / "run")
    assert report["test"]["test/mae"] == pytest.approx(c["matrix"][1][1], rel=1e-6)
    assert (type(run.model).__name__ == "HyperModel") == (method == "hypernetwork")
    assert (tmp_path / "run" / "continual" / "task-1" / "checkpoints").is_dir()
    assert json.loads((tmp_path / "run" / "report.json").read_text())["continual"]["matrix"] \
        == c["matrix"]


@pytest.mark.parametrize("where", [0.25, 0.75])  # in task 0's first epoch, in task 1's
def test_continual_run_killed_mid_task_resumes_to_the_same_result(tmp_path, one_thread,
                                                                    monkeypatch, where):
    calls = {"n": 0, "at": -1}
    forward = PenalisedTask.forward

    def counted(self, batch):
        calls["n"] += 1
        if calls["n"] == calls["at"]:
            raise KeyboardInterrupt
        return forward(self, batch)

    monkeypatch.setattr(PenalisedTask, "forward", counted)
    straight = sciml.fit(_gpvar_recipe("hypernetwork"), tmp_path / "a", progress=False)
    calls["at"], calls["n"] = int(where * calls["n"]) + 1, 0
    with pytest.raises(KeyboardInterrupt):
        sciml.fit(_gpvar_recipe("hypernetwork"), tmp_path / "b", progress=False)
    assert (tmp_path / "b" / "continual" / "task-1").is_dir() == (where > 0.5)
    calls["at"] = -1
    resumed = sciml.fit(_gpvar_recipe("hypernetwork"), tmp_path / "b", progress=False)
    assert resumed["continual"]["matrix"] == straight["continual"]["matrix"]


def test_continual_operator_run_and_cli(tmp_path, capsys, one_thread):
    (tmp_path / "cl.yaml").write_text(
        "task: operator\n"
        "data: {name: darcy, options: {n_train: 8, n_test: 4, resolution: 17}}\n"
        "model: {name: mgno, width: 8, n_layers: 1}\n"
        "objective: {loss: rel_l2}\n"
        "train:\n"
        "  max_epochs: 1\n  batch_size: 4\n  tensorboard: false\n"
        "  continual:\n    method: hypernetwork\n"
        "    hypernetwork: {kind: mlp, chunk_size: 256, hidden: [16]}\n"
        "    tasks: [{options: {coefficient: piecewise}}, {options: {coefficient: lognormal}}]\n")
    assert main(["fit", str(tmp_path / "cl.yaml"), "--run-dir", str(tmp_path / "run"),
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "continual learning (hypernetwork; test/rel_l2" in out and "after task 1:" in out
    assert main(["eval", str(tmp_path / "run"), "--quiet"]) == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["continual"]["hypernetwork"]["kind"] == "mlp"


def test_continual_refuses_in_memory_data(tmp_path):
    with pytest.raises(ConfigError, match="no in-memory data"):
        sciml.fit(_gpvar_recipe("finetune"), tmp_path / "r", data=object(), progress=False)
