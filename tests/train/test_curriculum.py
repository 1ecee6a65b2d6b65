"""Cyclical curriculum in the Trainer (``trainer.curriculum``): the cycle, the draw, resume."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from train_fixtures import Regression, RegressionTask, make_task

from sciml.errors import ConfigError, DataError
from sciml.train import Trainer, TrainerConfig
from sciml.train import _curriculum as cur

QUIET = {"progress": False, "tensorboard": False}


class _Scored(RegressionTask):
    """The regression task with per-example losses, recording which examples each training
    batch holds."""

    seen: list[list[float]] = []

    def forward(self, batch):
        type(self).seen.append(batch[0][:, 0].tolist())
        return super().forward(batch)

    def example_losses(self, batch):
        x, y = batch
        return ((self.model(x) - y) ** 2).mean(1)


def test_the_cycle_goes_up_and_down_and_keeps_the_budget():
    cfg = TrainerConfig(curriculum={"method": "cyclical"}).curriculum
    f = cur.cycle_fractions(cfg, 10)
    assert f[:8] == [0.25, 0.5, 1.0, 0.5, 0.25, 0.5, 1.0, 0.5]
    assert 10 <= sum(f) < 10 + 1.0  # as many examples as 10 epochs (the last pass may round up)
    assert cur.cycle_fractions({**cfg, "start": 1.0}, 3) == [1.0, 1.0, 1.0]
    for bad, match in (({"start": 0}, "start must be a number in"),
                       ({"start": 0.8, "end": 0.5}, "start .0.8. exceeds end"),
                       ({"score": "loss"}, "score must be one of"),
                       ({"pace": 2}, "unknown key trainer.curriculum.pace")):
        with pytest.raises(ConfigError, match=match):
            TrainerConfig(curriculum=bad)


def test_easy_examples_are_drawn_more_often():
    losses = np.concatenate([np.full(50, 0.01), np.full(50, 1.0)])  # 50 easy, 50 hard
    picks = np.zeros(100)
    for e in range(40):
        picks[cur.draw(losses, 0.25, "inverse_loss", seed=0, epoch=e)] += 1
    assert picks[:50].sum() > 10 * picks[50:].sum()
    assert cur.draw(losses, 0.25, "inverse_loss", 0, 3) == cur.draw(losses, 0.25,
                                                                    "inverse_loss", 0, 3)
    assert len(set(cur.draw(losses, 1.0, "uniform", 0, 0))) == 100
    with pytest.raises(DataError, match="training example 7 has a non-finite loss"):
        cur.draw(np.where(np.arange(100) == 7, np.nan, 1.0), 0.5, "inverse_loss", 0, 2)


def _fit(tmp_path, task, epochs=4, **cfg):
    trainer = Trainer(run_dir=tmp_path, max_epochs=epochs, batch_size=8, **QUIET,
                      checkpoint_every_steps=1, optimizer={"name": "adam", "lr": 1e-2},
                      curriculum={"method": "cyclical", **cfg})
    return trainer.fit(task, Regression(40), Regression(8, seed=1))


def test_passes_use_their_share_of_the_data(tmp_path):
    torch.manual_seed(0)
    task = _Scored(make_task().model)
    _Scored.seen = []
    res = _fit(tmp_path, task)
    fractions = [r["curriculum/fraction"] for r in res.history]
    assert fractions == [0.25, 0.5, 1.0, 0.5, 0.25, 0.5, 1.0]  # 4 epochs' worth of examples
    # steps per pass follow the shares: 10, 20, 40, 20, 10, 20, 40 examples in batches of 8
    assert [r["step"] for r in res.history] == [2, 5, 10, 13, 15, 18, 23]
    assert res.steps == 23 == len(_Scored.seen)
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert [float(r["curriculum/fraction"]) for r in rows] == fractions
    # the first pass trained on ten different examples
    first = [v for b in _Scored.seen[:2] for v in b]
    assert len(first) == 10 and len(set(first)) == 10


def test_a_task_without_example_losses_needs_the_uniform_score(tmp_path):
    with pytest.raises(ConfigError, match="has no example_losses.*score: uniform"):
        _fit(tmp_path / "a", make_task())
    res = _fit(tmp_path / "b", make_task(), score="uniform")
    assert res.history[0]["curriculum/fraction"] == 0.25


class _Stop(_Scored):
    calls = 0
    at = -1

    def forward(self, batch):
        type(self).calls += 1
        if type(self).calls == type(self).at:
            raise KeyboardInterrupt
        return super().forward(batch)


@pytest.mark.parametrize("at", [4, 12])
def test_a_curriculum_run_killed_mid_pass_resumes_to_the_same_weights(tmp_path, at):
    torch.manual_seed(0)
    straight = _Scored(make_task(dropout=0.2).model)
    ref = _fit(tmp_path / "a", straight)
    torch.manual_seed(0)
    stopped = _Stop(make_task(dropout=0.2).model)
    _Stop.calls, _Stop.at = 0, at
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path / "b", stopped)
    _Stop.at = -1
    resumed = _Scored(make_task(dropout=0.2, seed=5).model)
    res = _fit(tmp_path / "b", resumed)
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in ref.history]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in res.history] == strip


def test_curriculum_and_pruning_do_not_combine(tmp_path):
    trainer = Trainer(run_dir=tmp_path, max_epochs=1, **QUIET, curriculum={},
                      pruning={"rounds": 1})
    with pytest.raises(ConfigError, match="cannot be combined"):
        trainer.fit(make_task(), Regression(8))


def test_a_training_set_of_one_example_is_refused(tmp_path):
    trainer = Trainer(run_dir=tmp_path, max_epochs=1, **QUIET, curriculum={})
    with pytest.raises(ConfigError, match="holds 1 .a whole graph trains as one example"):
        trainer.fit(make_task(), Regression(1))
