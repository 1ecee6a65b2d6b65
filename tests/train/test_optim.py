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
