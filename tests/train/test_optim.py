import io
import math

import pytest
import torch

from sciml.errors import ConfigError
from sciml.train import SCHEDULERS, WarmupCosine, build_optimizer, build_schedule


def _opt(lr=0.1):
    return build_optimizer([torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))],
                           {"name": "sgd", "lr": lr, "momentum": 0.9})


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
def test_build_optimizer(name):
    p = torch.nn.Parameter(torch.ones(2))
    opt = build_optimizer([p], {"name": name, "lr": 0.5, "weight_decay": 0.0})
    assert opt.param_groups[0]["lr"] == 0.5
    p.grad = torch.ones(2)
    opt.step()
    assert (p < 1).all()


def test_adam_betas_from_yaml_list():
    opt = build_optimizer([torch.nn.Parameter(torch.ones(2))],
                          {"name": "adam", "lr": 1e-3, "betas": [0.8, 0.9]})
    assert opt.param_groups[0]["betas"] == (0.8, 0.9)


def test_bad_optimizer_value_is_config_error():
    with pytest.raises(ConfigError, match="lr"):
        build_optimizer([torch.nn.Parameter(torch.ones(2))], {"name": "adam", "lr": -1.0})


_CONFIGS = {
    "step": {"name": "step", "step_size": 2, "gamma": 0.5},
    "multistep": {"name": "multistep", "milestones": [1, 3]},
    "cosine": {"name": "cosine"},
    "exponential": {"name": "exponential", "gamma": 0.9},
    "plateau": {"name": "plateau", "patience": 0, "factor": 0.5},
    "onecycle": {"name": "onecycle"},
    "warmup_cosine": {"name": "warmup_cosine", "warmup": 2},
}


def test_every_scheduler_is_covered():
    assert set(_CONFIGS) == set(SCHEDULERS)


@pytest.mark.parametrize("name", sorted(_CONFIGS))
def test_schedule_steps_and_state_loads_weights_only(name):
    opt = _opt()
    sched = build_schedule(opt, _CONFIGS[name], "min", total_epochs=4, total_steps=8)
    lrs = []
    for _ in range(4):
        for _ in range(2):
            opt.step()
            sched.after_step()
        sched.after_epoch(1.0)  # a constant monitored metric: plateau must reduce
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[-1] < 0.1 or name == "onecycle"
    buf = io.BytesIO()
    torch.save(sched.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    opt2 = _opt()
    sched2 = build_schedule(opt2, _CONFIGS[name], "min", total_epochs=4, total_steps=8)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(state)
    assert sched2.state_dict()["last_epoch"] == sched.state_dict()["last_epoch"]


def test_epoch_interval_steps_once_per_epoch():
    opt = _opt()
    sched = build_schedule(opt, {"name": "step", "step_size": 1, "gamma": 0.5}, "min", 3, 30)
    for _ in range(10):
        opt.step()
        sched.after_step()  # epoch interval: ignored
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)
    sched.after_epoch(None)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05)


def test_cosine_default_horizon_reaches_zero():
    opt = _opt()
    sched = build_schedule(opt, {"name": "cosine", "interval": "step"}, "min", 2, 6)
    for _ in range(6):
        opt.step()
        sched.after_step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_warmup_cosine_formula():
    f = WarmupCosine(warmup=4, total=12, min_factor=0.1)
    assert [f(i) for i in range(4)] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert f(4) == pytest.approx(1.0)
    assert f(8) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert f(12) == pytest.approx(0.1) and f(100) == pytest.approx(0.1)
    opt = _opt()
    sched = build_schedule(opt, {"name": "warmup_cosine", "warmup": 4, "min_factor": 0.1},
                           "min", 3, 12)
    seen = []
    for _ in range(12):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.after_step()
    assert seen == pytest.approx([0.1 * f(i) for i in range(12)])


def test_warmup_cosine_bad_arguments():
    with pytest.raises(ConfigError, match="warmup"):
        WarmupCosine(warmup=-1, total=10)
    with pytest.raises(ConfigError, match="min_factor"):
        WarmupCosine(warmup=1, total=10, min_factor=2.0)


def test_plateau_follows_mode_and_ignores_nan():
    opt = _opt()
    sched = build_schedule(opt, {"name": "plateau", "patience": 0, "factor": 0.5}, "max", 5, 5)
    opt.step()
    sched.after_epoch(1.0)
    sched.after_epoch(2.0)  # improving in "max" mode
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)
    sched.after_epoch(float("nan"))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)
    sched.after_epoch(1.5)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05)


def test_onecycle_defaults_to_optimizer_lr():
    opt = _opt(lr=0.2)
    sched = build_schedule(opt, {"name": "onecycle"}, "min", 2, 10)
    peak = 0.0
    for _ in range(10):
        peak = max(peak, opt.param_groups[0]["lr"])
        opt.step()
        sched.after_step()
    assert peak == pytest.approx(0.2, rel=0.05)


def _warmup_cosine_of(sched):
    return sched.scheduler.lr_lambdas[0]


def test_lengths_as_fractions_of_training_scale_with_the_run():
    """warmup: 0.02 is 2 % of the planned steps for a 15-frame file and for the full set alike
    (an absolute 19,000-step warm-up kept a short run's rate near zero)."""
    cfg = {"name": "warmup_cosine", "warmup": 0.02, "min_factor": 0.0}
    for steps in (40, 190_000):
        f = _warmup_cosine_of(build_schedule(_opt(), cfg, "min", 20, steps))
        assert (f.warmup, f.total) == (max(1, round(0.02 * steps)), steps)
    short = _opt()
    sched = build_schedule(short, cfg, "min", total_epochs=20, total_steps=40)
    seen = []
    for _ in range(40):
        seen.append(short.param_groups[0]["lr"])
        short.step()
        sched.after_step()
    assert seen[0] == pytest.approx(0.1)  # 2 % of 40 steps rounds to one warm-up step
    assert max(seen) == pytest.approx(0.1) and seen[20] == pytest.approx(0.05, rel=0.1)
    half = _warmup_cosine_of(build_schedule(_opt(), {"name": "warmup_cosine", "warmup": 0.5,
                                                     "total": 1.0}, "min", 4, 12))
    assert (half.warmup, half.total) == (6, 12)
    # integers keep their meaning: scheduler steps (epochs with interval: epoch)
    assert _warmup_cosine_of(build_schedule(_opt(), {"name": "warmup_cosine", "warmup": 1},
                                            "min", 4, 12)).warmup == 1


def test_fractions_for_epoch_schedules_and_warmup_epochs():
    opt = _opt()
    sched = build_schedule(opt, {"name": "multistep", "milestones": [0.5, 0.75]}, "min", 8, 80)
    assert sorted(sched.scheduler.milestones) == [4, 6]
    sched = build_schedule(_opt(), {"name": "step", "step_size": 0.25}, "min", 8, 80)
    assert sched.scheduler.step_size == 2
    by_epochs = {"name": "warmup_cosine", "warmup_epochs": 2}
    assert _warmup_cosine_of(build_schedule(_opt(), by_epochs, "min", 10, 70,
                                            steps_per_epoch=7)).warmup == 14
    assert _warmup_cosine_of(build_schedule(_opt(), {**by_epochs, "interval": "epoch"}, "min",
                                            10, 70, steps_per_epoch=7)).warmup == 2
    assert _warmup_cosine_of(build_schedule(_opt(), {**by_epochs, "warmup_epochs": 0.5},
                                            "min", 10, 70)).warmup == 4  # 70 / 10 per epoch


@pytest.mark.parametrize("cfg, match", [
    ({"warmup": 19000.5}, r"scheduler\.warmup=19000\.5: give a whole number of steps"),
    ({"warmup": 1.5}, r"fraction of training in \[0, 1\]"),
    ({"total": "10%"}, r"scheduler\.total='10%'"),
    ({"warmup": 0.1, "warmup_epochs": 2}, "not both"),
    ({"warmup_epochs": -1}, r"warmup_epochs must be a number >= 0"),
])
def test_bad_schedule_lengths_are_config_errors(cfg, match):
    from sciml.train import TrainerConfig

    with pytest.raises(ConfigError, match=match):
        TrainerConfig(scheduler={"name": "warmup_cosine", **cfg})
    with pytest.raises(ConfigError, match=r"milestones=-0\.5"):
        TrainerConfig(scheduler={"name": "multistep", "milestones": [1, -0.5]})


def test_trainer_converts_warmup_epochs_and_fractions_with_its_steps_per_epoch():
    from train_fixtures import Regression, make_task

    from sciml.train import Trainer

    def lrs(scheduler):
        trainer = Trainer(max_epochs=4, batch_size=8, optimizer={"name": "sgd", "lr": 0.1},
                          scheduler=scheduler, progress=False, tensorboard=False)
        return [r["lr"] for r in trainer.fit(make_task(), Regression(24)).history]

    # 3 steps per epoch, 12 in all; the history records the rate after each epoch's steps
    f = WarmupCosine(warmup=3, total=12)
    assert lrs({"name": "warmup_cosine", "warmup_epochs": 1}) == pytest.approx(
        [0.1 * f(i) for i in (3, 6, 9, 12)])
    g = WarmupCosine(warmup=6, total=12)
    assert lrs({"name": "warmup_cosine", "warmup": 0.5}) == pytest.approx(
        [0.1 * g(i) for i in (3, 6, 9, 12)])
