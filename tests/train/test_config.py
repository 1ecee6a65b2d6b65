import pytest

from sciml.errors import ConfigError
from sciml.registry import config_from_dict
from sciml.train import Trainer, TrainerConfig


def test_defaults_match_the_contract():
    c = TrainerConfig()
    assert (c.max_epochs, c.max_steps, c.batch_size, c.eval_batch_size) == (10, None, 32, None)
    assert c.optimizer == {"name": "adam", "lr": 1e-3}
    assert c.scheduler is None and c.grad_clip is None and c.early_stopping_patience is None
    assert (c.monitor, c.mode, c.seed, c.device, c.num_workers) == ("val/loss", "min", 0, "auto", 0)
    assert c.deterministic and c.progress and c.tensorboard and c.detect_nonfinite


def test_default_optimizer_dict_is_not_shared():
    a, b = TrainerConfig(), TrainerConfig()
    a.optimizer["lr"] = 5.0
    assert b.optimizer["lr"] == 1e-3


def test_overrides_build_the_config():
    t = Trainer(max_epochs=5, batch_size=4, run_dir="runs/x")
    assert t.config.max_epochs == 5 and t.config.batch_size == 4
    assert str(t.run_dir) == "runs/x"
    t2 = Trainer(TrainerConfig(seed=3), max_epochs=2)
    assert (t2.config.seed, t2.config.max_epochs) == (3, 2)


def test_unknown_override_lists_valid_keys():
    with pytest.raises(ConfigError, match="max_epoch") as e:
        Trainer(max_epoch=5)
    assert "max_epochs" in str(e.value) and "batch_size" in str(e.value)


def test_from_yaml_strings():
    c = config_from_dict(TrainerConfig, {"max_epochs": "3", "grad_clip": "1.5", "progress": "false",
                                         "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}})
    assert c.max_epochs == 3 and c.grad_clip == 1.5 and c.progress is False
    assert c.optimizer["momentum"] == 0.9


@pytest.mark.parametrize("key,value,words", [
    ("batch_size", 0, ["batch_size", ">= 1"]),
    ("max_epochs", True, ["max_epochs"]),
    ("mode", "avg", ["mode", "'min'", "'max'"]),
    ("grad_clip", -1.0, ["grad_clip", "positive"]),
    ("device", "gpu7", ["device", "'cpu'"]),
    ("early_stopping_patience", 0, ["early_stopping_patience"]),
    ("seed", -1, ["seed"]),
])
def test_bad_values_name_the_field(key, value, words):
    with pytest.raises(ConfigError) as e:
        TrainerConfig(**{key: value})
    for w in words:
        assert w in str(e.value)


def test_unknown_optimizer_lists_valid_ones():
    with pytest.raises(ConfigError, match="lamb") as e:
        TrainerConfig(optimizer={"name": "lamb", "lr": 1e-3})
    assert "adam, adamw, sgd" in str(e.value)


def test_unknown_optimizer_kwarg_lists_valid_ones():
    with pytest.raises(ConfigError, match="momentum") as e:
        TrainerConfig(optimizer={"name": "adam", "momentum": 0.9})
    assert "betas" in str(e.value) and "weight_decay" in str(e.value)


def test_optimizer_needs_a_name():
    with pytest.raises(ConfigError, match="name"):
        TrainerConfig(optimizer={"lr": 1e-3})


def test_scheduler_errors():
    with pytest.raises(ConfigError, match="warmup_linear") as e:
        TrainerConfig(scheduler={"name": "warmup_linear"})
    assert "warmup_cosine" in str(e.value) and "plateau" in str(e.value)
    with pytest.raises(ConfigError, match="step_size"):
        TrainerConfig(scheduler={"name": "step"})
    with pytest.raises(ConfigError, match="gama") as e:
        TrainerConfig(scheduler={"name": "exponential", "gama": 0.9})
    assert "gamma" in str(e.value)
    with pytest.raises(ConfigError, match="interval"):
        TrainerConfig(scheduler={"name": "cosine", "interval": "batch"})
    with pytest.raises(ConfigError, match="plateau"):
        TrainerConfig(scheduler={"name": "plateau", "interval": "step"})


def test_scheduler_default_interval():
    assert TrainerConfig(scheduler={"name": "cosine"}).scheduler["interval"] == "epoch"
    assert TrainerConfig(scheduler={"name": "onecycle"}).scheduler["interval"] == "step"
    assert TrainerConfig(scheduler={"name": "warmup_cosine"}).scheduler["interval"] == "step"
