import csv

import pytest
import torch
import yaml
from train_fixtures import MLP, MLPConfig, Regression, RegressionTask, make_task

from sciml.errors import ConfigError
from sciml.models import load_model
from sciml.train import AbstractTask, FitResult, Trainer
from sciml.train._batches import epoch_order
from sciml.train._checkpoint import CHECKPOINT_KEYS

QUIET = {"progress": False, "tensorboard": False}


def _params(task):
    return [p.detach().clone() for p in task.parameters()]


def _mse(task, data):
    with torch.no_grad():
        return ((task.model(data.x) - data.y) ** 2).mean().item()


def test_fit_reduces_loss_and_writes_the_run_folder(tmp_path):
    train, val = Regression(64), Regression(32, seed=1)
    task = make_task()
    before = _mse(task, val)
    trainer = Trainer(run_dir=tmp_path, max_epochs=12, batch_size=16, progress=False,
                      optimizer={"name": "adam", "lr": 2e-2})
    result = trainer.fit(task, train, val)
    assert isinstance(result, FitResult)
    assert result.metrics["val/loss"] < before / 3, (before, result.metrics)
    assert result.metrics["val/loss"] == pytest.approx(_mse(task, val), rel=1e-12)
    assert (result.epochs_run, result.steps, result.stopped_early) == (12, 48, False)
    assert result.last_checkpoint == tmp_path / "checkpoints" / "last.pt"
    assert result.best_checkpoint == tmp_path / "checkpoints" / "best.pt"
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert len(rows) == 12
    assert list(rows[0]) == ["epoch", "step", "train/loss", "val/loss", "val/mae", "lr", "seconds"]
    assert [int(r["epoch"]) for r in rows] == list(range(1, 13))
    assert float(rows[-1]["val/loss"]) == pytest.approx(result.metrics["val/loss"])
    assert yaml.safe_load(open(tmp_path / "config.yaml"))["max_epochs"] == 12
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "tb").iterdir())
    ckpt = torch.load(result.last_checkpoint, weights_only=True)
    assert set(CHECKPOINT_KEYS) <= set(ckpt)
    assert (ckpt["epoch"], ckpt["step"], ckpt["batch_in_epoch"]) == (12, 48, 0)
    assert ckpt["model"]["name"] == "_tests_train_mlp"
    model = load_model(result.last_checkpoint).double()  # builds float32: cast back
    for a, b in zip(model.parameters(), task.model.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=1e-6, atol=1e-7)
    saved = ckpt["model"]["state_dict"]
    for a, b in zip(saved.values(), task.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    best_epoch = min(result.history, key=lambda r: r["val/loss"])["epoch"]
    assert torch.load(result.best_checkpoint, weights_only=True)["epoch"] == best_epoch


def test_without_run_dir_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = Trainer(max_epochs=2, batch_size=8, progress=False).fit(make_task(), Regression(20))
    assert list(tmp_path.iterdir()) == []
    assert result.last_checkpoint is None and result.best_checkpoint is None


class _Recording(Regression):
    def __init__(self, n):
        super().__init__(n)
        self.seen = []

    def __getitem__(self, i):
        self.seen.append(int(i))
        return super().__getitem__(i)


def test_data_order_is_the_documented_permutation():
    data = _Recording(21)
    Trainer(max_epochs=2, batch_size=8, seed=5, **QUIET).fit(make_task(), data)
    expected = [int(i) for e in range(2) for i in
                torch.randperm(21, generator=torch.Generator().manual_seed(5 * 1000003 + e))]
    assert data.seen == expected
    assert torch.equal(epoch_order(21, 5, 1), torch.tensor(expected[21:]))


def test_resume_from_an_epoch_boundary_equals_one_run(tmp_path):
    cfg = dict(batch_size=8, optimizer={"name": "adam", "lr": 1e-2}, **QUIET,
               scheduler={"name": "exponential", "gamma": 0.8})
    train, val = Regression(37), Regression(10, seed=1)
    full = make_task(dropout=0.2)
    ref = Trainer(run_dir=tmp_path / "a", max_epochs=4, **cfg).fit(full, train, val)
    Trainer(run_dir=tmp_path / "b", max_epochs=2, **cfg).fit(make_task(dropout=0.2), train, val)
    fresh = make_task(dropout=0.2, seed=123)  # other initial weights: resume must replace them
    res = Trainer(run_dir=tmp_path / "b", max_epochs=4, **cfg).fit(fresh, train, val)
    for a, b in zip(full.parameters(), fresh.parameters(), strict=True):
        assert torch.equal(a, b)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in ref.history]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in res.history] == strip
    assert (res.epochs_run, res.steps) == (4, 20)
    assert len(list(csv.DictReader(open(tmp_path / "b" / "metrics.csv")))) == 4


def test_finished_run_resumes_as_a_no_op_and_resume_false_restarts(tmp_path):
    train = Regression(20)
    trainer = Trainer(run_dir=tmp_path, max_epochs=2, batch_size=8, monitor="train/loss", **QUIET)
    task = make_task()
    first = trainer.fit(task, train)
    params = _params(task)
    again = trainer.fit(task, train)
    assert again.steps == first.steps == 6 and again.history == first.history
    assert all(torch.equal(a, b) for a, b in zip(params, task.parameters(), strict=True))
    restarted = trainer.fit(make_task(), train, resume=False)
    assert restarted.steps == 6 and len(restarted.history) == 2
    # afresh without the monitored metric: the earlier run's best.pt must not be reported
    other = Trainer(run_dir=tmp_path, max_epochs=1, batch_size=8, **QUIET)
    assert other.fit(make_task(), train, resume=False).best_checkpoint is None
    assert len(list(csv.DictReader(open(tmp_path / "metrics.csv")))) == 1


def test_early_stopping_with_patience(tmp_path):
    # lr 0: the validation loss never improves after the first epoch
    trainer = Trainer(run_dir=tmp_path, max_epochs=20, batch_size=8, early_stopping_patience=2,
                      optimizer={"name": "sgd", "lr": 0.0}, **QUIET)
    result = trainer.fit(make_task(), Regression(16), Regression(8, seed=1))
    assert result.stopped_early and result.epochs_run == 3
    assert torch.load(result.best_checkpoint, weights_only=True)["epoch"] == 1


def test_mode_max_stops_when_the_metric_falls():
    trainer = Trainer(max_epochs=20, batch_size=8, early_stopping_patience=2, monitor="val/mae",
                      mode="max", optimizer={"name": "adam", "lr": 1e-2}, **QUIET)
    result = trainer.fit(make_task(), Regression(32), Regression(16, seed=1))
    assert result.stopped_early and result.epochs_run < 20


def test_max_steps_stops_mid_epoch():
    result = Trainer(max_epochs=10, max_steps=7, batch_size=8, **QUIET).fit(
        make_task(), Regression(37), Regression(8, seed=1))
    assert (result.steps, result.epochs_run) == (7, 2)
    assert result.history[-1]["step"] == 7 and "val/loss" in result.metrics


def test_step_and_epoch_schedules_in_the_history():
    epoch = Trainer(max_epochs=3, batch_size=8, optimizer={"name": "sgd", "lr": 0.1},
                    scheduler={"name": "step", "step_size": 1, "gamma": 0.5}, **QUIET)
    lrs = [r["lr"] for r in epoch.fit(make_task(), Regression(24)).history]
    assert lrs == pytest.approx([0.1, 0.05, 0.025])
    step = Trainer(max_epochs=2, batch_size=8, optimizer={"name": "sgd", "lr": 0.1},
                   scheduler={"name": "exponential", "gamma": 0.5, "interval": "step"}, **QUIET)
    lrs = [r["lr"] for r in step.fit(make_task(), Regression(24)).history]
    assert lrs == pytest.approx([0.1 * 0.5 ** 3, 0.1 * 0.5 ** 6])


def test_plateau_reduces_the_learning_rate():
    # the recorded lr is the one the epoch ran with: the first plateau reduction shows at epoch 3
    trainer = Trainer(max_epochs=4, batch_size=8, optimizer={"name": "sgd", "lr": 1e-6},
                      scheduler={"name": "plateau", "patience": 0, "factor": 0.1,
                                 "threshold": 0.5}, **QUIET)
    lrs = [r["lr"] for r in trainer.fit(make_task(), Regression(16), Regression(8)).history]
    assert lrs == pytest.approx([1e-6, 1e-6, 1e-7, 1e-8])


def test_grad_clip_bounds_the_update():
    def update(clip):
        task = make_task()
        before = torch.cat([p.flatten() for p in _params(task)])
        Trainer(max_steps=1, batch_size=16, grad_clip=clip, optimizer={"name": "sgd", "lr": 1.0},
                **QUIET).fit(task, Regression(16))
        return (torch.cat([p.detach().flatten() for p in task.parameters()]) - before).norm()

    assert update(1e-3) == pytest.approx(1e-3, rel=1e-6)
    assert update(None) > 1e-2


def test_evaluate_gives_exact_means_over_uneven_batches():
    data, task = Regression(30), make_task()
    out = Trainer(eval_batch_size=7, **QUIET).evaluate(task, data, prefix="test")
    assert set(out) == {"test/loss", "test/mae"}
    with torch.no_grad():
        err = task.model(data.x) - data.y
    assert out["test/loss"] == pytest.approx((err ** 2).mean().item(), rel=1e-13)
    assert out["test/mae"] == pytest.approx(err.abs().mean().item(), rel=1e-13)
    assert task.training  # restored


def test_progress_bar_shows_the_live_loss(capfd, monkeypatch):
    import sys

    import sciml.progress

    # not a terminal (a log file, CI): no bar at all
    Trainer(max_epochs=1, batch_size=8, tensorboard=False).fit(make_task(), Regression(16))
    assert capfd.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    Trainer(max_epochs=1, batch_size=8, tensorboard=False).fit(make_task(), Regression(16))
    assert "loss=" in capfd.readouterr().err
    Trainer(max_epochs=1, batch_size=8, **QUIET).fit(make_task(), Regression(16))
    assert capfd.readouterr().err == ""
    with sciml.progress.quiet():  # --quiet: every bar off, whatever the config asks
        Trainer(max_epochs=1, batch_size=8, tensorboard=False).fit(make_task(), Regression(16))
    assert capfd.readouterr().err == ""


def test_plain_module_model_checkpoint(tmp_path):
    task = RegressionTask(torch.nn.Linear(3, 1).double())
    result = Trainer(run_dir=tmp_path, max_epochs=1, batch_size=8, **QUIET).fit(task,
                                                                                 Regression(8))
    ckpt = torch.load(result.last_checkpoint, weights_only=True)
    assert set(ckpt["model"]) == {"state_dict"}
    assert torch.equal(ckpt["model"]["state_dict"]["weight"], task.model.weight)


def test_task_and_data_errors():
    trainer = Trainer(max_epochs=1, batch_size=8, **QUIET)
    with pytest.raises(TypeError, match="AbstractTask"):
        trainer.fit(torch.nn.Linear(3, 1), Regression(8))

    class Incomplete(AbstractTask):
        def forward(self, batch):
            return torch.zeros(())

    with pytest.raises(TypeError, match="abstract"):
        Incomplete(torch.nn.Linear(1, 1))

    class VectorLoss(RegressionTask):
        def forward(self, batch):
            return (self.model(batch[0]) - batch[1]) ** 2

    with pytest.raises(TypeError, match="scalar loss"):
        trainer.fit(VectorLoss(MLP(MLPConfig()).double()), Regression(8))

    class BadMetrics(RegressionTask):
        def metrics(self, batch):
            return {"loss": 1.0}

    with pytest.raises(TypeError, match="sum, count"):
        trainer.fit(BadMetrics(MLP(MLPConfig()).double()), Regression(8), Regression(4))
    with pytest.raises(TypeError, match="map-style"):
        trainer.fit(make_task(), [1, 2, 3].__iter__())
    with pytest.raises(ValueError, match="empty"):
        trainer.fit(make_task(), Regression(0))


def test_monitor_errors():
    with pytest.raises(ConfigError, match="validation set"):
        Trainer(max_epochs=2, early_stopping_patience=1, **QUIET).fit(make_task(), Regression(8))
    with pytest.raises(ConfigError, match="val/acc") as e:
        Trainer(max_epochs=2, early_stopping_patience=1, monitor="val/acc", **QUIET).fit(
            make_task(), Regression(8), Regression(4))
    assert "val/loss" in str(e.value)
