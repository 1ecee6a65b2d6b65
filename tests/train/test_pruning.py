"""Lottery tickets in the Trainer (``trainer.pruning``): masks, rewinding, the control, resume."""

from __future__ import annotations

import csv

import pytest
import torch
from train_fixtures import Regression, RegressionTask, make_task

from sciml.errors import ConfigError
from sciml.runs import load_task_state
from sciml.train import Trainer, TrainerConfig
from sciml.train import _pruning as pr

QUIET = {"progress": False, "tensorboard": False}


def _weights(task):
    return {n: p.detach().clone() for n, p in task.model.named_parameters()}


def test_masks_drop_the_smallest_weights_of_those_kept():
    g = torch.Generator().manual_seed(0)
    params = {"a": torch.randn(10, 10, generator=g), "b": 3 * torch.randn(5, 4, generator=g)}
    m1 = pr.magnitude_masks(params, None, 0.2, "global")
    assert sum(int(m.sum()) for m in m1.values()) == 120 - 24
    kept = torch.cat([params[n].abs()[m1[n]] for n in params])
    dropped = torch.cat([params[n].abs()[~m1[n]] for n in params])
    assert dropped.max() <= kept.min()
    m2 = pr.magnitude_masks(params, m1, 0.2, "global")  # 20 % of the 96 left
    assert sum(int(m.sum()) for m in m2.values()) == 96 - 19
    assert all(bool((m2[n] <= m1[n]).all()) for n in params)  # nested: pruned stays pruned
    layer = pr.magnitude_masks(params, None, 0.5, "layer")
    assert int(layer["a"].sum()) == 50 and int(layer["b"].sum()) == 10
    assert pr.sparsity(m2) == pytest.approx(1 - 77 / 120)


def test_the_config_is_checked():
    cfg = TrainerConfig(pruning={"method": "lottery", "rounds": 2})
    assert cfg.pruning["fraction"] == 0.2 and cfg.pruning["scope"] == "global"
    for bad, match in (({"rounds": 0}, "rounds must be an integer >= 1"),
                       ({"fraction": 1.0}, "fraction must be a number in"),
                       ({"scope": "net"}, "scope must be one of"),
                       ({"method": "snip"}, "method must be one of"),
                       ({"round": 2}, "unknown key trainer.pruning.round for method lottery; "
                                      "valid keys")):
        with pytest.raises(ConfigError, match=match):
            TrainerConfig(pruning=bad)
    assert pr.lottery_phases({"rounds": 2, "control": True}) == [
        (0, "dense"), (1, "reinit"), (1, "ticket"), (2, "reinit"), (2, "ticket")]


def _fit(tmp_path, task, lr=1e-2, **pruning):
    trainer = Trainer(run_dir=tmp_path, max_epochs=2, batch_size=8, **QUIET,
                      optimizer={"name": "sgd", "lr": lr},
                      pruning={"rounds": 2, "fraction": 0.5, **pruning})
    return trainer.fit(task, Regression(32), Regression(8, seed=1))


def test_a_ticket_rewinds_to_its_initial_weights_and_the_control_does_not(tmp_path):
    """With a learning rate of 0 nothing moves: each ticket must end at init ⊙ mask, and the
    control at other random weights under the same mask."""
    task = make_task()
    init = _weights(task)
    res = _fit(tmp_path, task, lr=0.0, control=True, scope="layer")
    assert [(e["round"], e["kind"]) for e in res.pruning] == [
        (0, "dense"), (1, "reinit"), (1, "ticket"), (2, "reinit"), (2, "ticket")]
    assert [e["sparsity"] for e in res.pruning] == pytest.approx([0, 0.5, 0.5, 0.75, 0.75],
                                                                 abs=0.01)
    for e in res.pruning:
        t = make_task(seed=99)
        load_task_state(tmp_path / e["checkpoint"], t)
        w = _weights(t)
        for name in ("net.0.weight", "net.3.weight"):  # layer scope: each at the sparsity
            zero = w[name] == 0
            assert zero.float().mean().item() == pytest.approx(e["sparsity"], abs=1e-6)
            if e["kind"] == "ticket":
                assert torch.equal(w[name], torch.where(zero, 0.0, init[name]))
            elif e["kind"] == "reinit":
                assert not torch.equal(w[name][~zero], init[name][~zero])
        assert torch.equal(w["net.0.bias"], init["net.0.bias"]) or e["kind"] == "reinit"
    # the final ticket is the run's result; metrics.csv holds every round
    final = _weights(task)
    assert int((final["net.0.weight"] == 0).sum()) == 36  # 48 → 24 → 12 kept
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert len(rows) == 10 and {r["prune/round"] for r in rows} == {"0", "1", "2"}


def test_pruned_weights_stay_zero_while_training(tmp_path):
    task = make_task()
    res = _fit(tmp_path, task, scope="layer")
    assert res.pruning[-1]["sparsity"] == pytest.approx(0.75, abs=0.02)
    for e in res.pruning[1:]:
        t = make_task()
        load_task_state(tmp_path / e["checkpoint"], t)
        for p in t.model.parameters():
            if p.ndim == 2:  # layer scope: every matrix at the round's sparsity
                assert (p == 0).float().mean().item() == pytest.approx(e["sparsity"], abs=0.05)


def test_a_layer_pruned_away_is_named(tmp_path):
    """Global magnitude pruning can empty a layer whose initial weights are small (here the
    16 → 1 output layer against the 3 → 16 one): the warning names it."""
    with pytest.warns(UserWarning, match="every weight of net.3.weight is pruned"):
        _fit(tmp_path, make_task(), lr=0.0)


def test_late_rewinding_beyond_the_dense_training_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="rewind_step=1000 is beyond the dense training's 8"):
        _fit(tmp_path, make_task(), rewind_step=1000)


class _Stop(RegressionTask):
    """Raises once after ``at`` training forwards (a run killed mid-round)."""

    calls = 0
    at = -1

    def forward(self, batch):
        type(self).calls += 1
        if type(self).calls == type(self).at:
            raise KeyboardInterrupt
        return super().forward(batch)


@pytest.mark.parametrize("at", [3, 9, 14, 21])
def test_a_run_killed_in_any_round_resumes_to_the_same_weights(tmp_path, at):
    def fit(folder, task):
        t = Trainer(run_dir=folder, max_epochs=2, batch_size=8, checkpoint_every_steps=1,
                    optimizer={"name": "adam", "lr": 1e-2}, **QUIET,
                    pruning={"rounds": 2, "fraction": 0.3, "rewind_step": 2, "control": True})
        return t.fit(task, Regression(30), Regression(8, seed=1))

    torch.manual_seed(0)
    straight = make_task(dropout=0.2)
    ref = fit(tmp_path / "a", straight)
    torch.manual_seed(0)
    stopped = _Stop(make_task(dropout=0.2).model)
    _Stop.calls, _Stop.at = 0, at
    with pytest.raises(KeyboardInterrupt):
        fit(tmp_path / "b", stopped)
    _Stop.at = -1
    resumed = make_task(dropout=0.2, seed=5)
    res = fit(tmp_path / "b", resumed)
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)
    assert [(e["round"], e["kind"], e["sparsity"]) for e in res.pruning] == \
        [(e["round"], e["kind"], e["sparsity"]) for e in ref.pruning]
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in ref.history]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in res.history] == strip


# ---------------------------------------------------------------------------- GraNet
def _granet(tmp_path, task, epochs=4, lr=1e-2, **pruning):
    trainer = Trainer(run_dir=tmp_path, max_epochs=epochs, batch_size=8, **QUIET,
                      checkpoint_every_steps=1, optimizer={"name": "adam", "lr": lr},
                      pruning={"method": "granet", "sparsity": 0.8, "every": 2, **pruning})
    return trainer.fit(task, Regression(32), Regression(8, seed=1))


def test_granet_schedule_and_its_config():
    cfg = TrainerConfig(pruning={"method": "granet"}).pruning
    assert (cfg["sparsity"], cfg["init_sparsity"], cfg["end"], cfg["regrow"]) == (0.8, 0, 0.7, 0.5)
    assert pr.gradual_sparsity(0, 100, cfg) == 0.0
    assert pr.gradual_sparsity(70, 100, cfg) == pytest.approx(0.8)
    assert pr.gradual_sparsity(35, 100, cfg) == pytest.approx(0.8 * (1 - 0.5 ** 3))
    assert pr.gradual_sparsity(99, 100, cfg) == pytest.approx(0.8)
    assert pr.regrow_rate(0, 100, 0.5) == 0.5 and pr.regrow_rate(100, 100, 0.5) == 0
    with pytest.raises(ConfigError, match="unknown key trainer.pruning.rounds for method granet"):
        TrainerConfig(pruning={"method": "granet", "rounds": 2})
    with pytest.raises(ConfigError, match="init_sparsity .0.9. exceeds the final sparsity"):
        TrainerConfig(pruning={"method": "granet", "init_sparsity": 0.9})


def test_regeneration_moves_weights_but_keeps_their_count():
    g = torch.Generator().manual_seed(1)
    w = torch.nn.Parameter(torch.randn(20, 10, generator=g))
    w.grad = torch.randn(20, 10, generator=g)
    mask = pr.prune_to({"w": w}, {"w": torch.ones(20, 10, dtype=torch.bool)}, 0.5)
    assert int(mask["w"].sum()) == 100
    assert w.detach().abs()[mask["w"]].min() >= w.detach().abs()[~mask["w"]].max()
    new = pr.regenerate({"w": w}, mask, 0.2)
    assert int(new["w"].sum()) == 100
    grown = new["w"] & ~mask["w"]
    dropped = mask["w"] & ~new["w"]
    assert int(grown.sum()) == int(dropped.sum()) > 0
    # regrown where the gradient is largest among the positions left pruned
    left = ~new["w"]
    assert w.grad.abs()[grown].min() >= w.grad.abs()[left].max()


def test_erk_masks_reach_the_overall_sparsity():
    params = {"a": torch.zeros(64, 3), "b": torch.zeros(64, 64), "c": torch.zeros(1, 64)}
    masks = pr.erk_masks(params, 0.9, seed=0)
    assert pr.sparsity(masks) == pytest.approx(0.9, abs=0.02)
    # the small, thin tensors keep more of their weights than the square one
    assert masks["a"].float().mean() > masks["b"].float().mean()


@pytest.mark.parametrize("init_sparsity", [0.0, 0.5])
def test_granet_trains_to_its_sparsity_and_keeps_it(tmp_path, init_sparsity):
    task = make_task(hidden=32)
    res = _granet(tmp_path, task, init_sparsity=init_sparsity)
    entry = res.pruning[0]
    assert entry["kind"] == "granet" and entry["updates"] == 7  # steps 2, 4, ..., 14 of 16
    assert entry["sparsity"] == pytest.approx(0.8, abs=0.01)
    w = [p for p in task.model.parameters() if p.ndim == 2]
    zeros = sum(int((p == 0).sum()) for p in w) / sum(p.numel() for p in w)
    assert zeros == pytest.approx(0.8, abs=0.01)
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert float(rows[0]["prune/sparsity"]) < float(rows[-1]["prune/sparsity"])


@pytest.mark.parametrize("at", [5, 12])
def test_a_granet_run_killed_resumes_to_the_same_weights(tmp_path, at):
    torch.manual_seed(0)
    straight = make_task(dropout=0.2)
    _granet(tmp_path / "a", straight)
    stopped = _Stop(make_task(dropout=0.2).model)
    _Stop.calls, _Stop.at = 0, at
    with pytest.raises(KeyboardInterrupt):
        _granet(tmp_path / "b", stopped)
    _Stop.at = -1
    resumed = make_task(dropout=0.2, seed=5)
    _granet(tmp_path / "b", resumed)
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)


def test_granet_keeps_no_best_checkpoint_denser_than_asked(tmp_path):
    """An early, denser epoch may have the lowest validation loss (here the first, before 90 %
    of the weights go); the result must still be the sparse network."""
    task = make_task(hidden=32)
    res = _granet(tmp_path, task, epochs=6, end=0.6, lr=0.1, sparsity=0.9)
    losses = [r["val/loss"] for r in res.history]
    assert min(losses) < losses[-1]  # the situation the test is about
    t = make_task(hidden=32)
    load_task_state(res.best_checkpoint, t)
    w = [p for p in t.model.parameters() if p.ndim == 2]
    # at least as sparse as asked (weights just regrown are kept but still exactly zero)
    assert sum(int((p == 0).sum()) for p in w) / sum(p.numel() for p in w) >= 0.89
