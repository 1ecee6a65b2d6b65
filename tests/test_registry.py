"""Typed configs and registries: unknown keys and names are errors that list the valid ones."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from sciml.errors import ConfigError
from sciml.registry import Registry, config_class_from_signature, config_from_dict, config_to_dict


@dataclass(frozen=True)
class _Cfg:
    hidden: int = 16
    rate: float = 0.1
    name: str = "x"
    flag: bool = False
    sizes: tuple[int, ...] = (1, 2)
    extra: dict = field(default_factory=dict)
    maybe: int | None = None


def test_config_from_dict_coerces_cli_strings():
    cfg = config_from_dict(_Cfg, {"hidden": "32", "rate": "1e-3", "flag": "true", "sizes": [3],
                                  "maybe": None})
    assert cfg == _Cfg(hidden=32, rate=1e-3, flag=True, sizes=(3,), maybe=None)
    assert config_to_dict(cfg)["sizes"] == [3]


def test_unknown_key_lists_valid_keys():
    with pytest.raises(ConfigError, match=r"unknown key model\.hiden .*valid keys: .*hidden"):
        config_from_dict(_Cfg, {"hiden": 3}, "model")


@pytest.mark.parametrize("key, value", [("hidden", "abc"), ("hidden", 1.5), ("flag", "maybe"),
                                        ("rate", True), ("name", 3)])
def test_wrong_type_names_the_key(key, value):
    with pytest.raises(ConfigError, match=key):
        config_from_dict(_Cfg, {key: value})


def test_registry_unknown_name_lists_valid():
    reg: Registry = Registry("model")

    @reg.register("alpha", _Cfg)
    class Alpha:
        def __init__(self, config, n=0):
            self.config, self.n = config, n

    obj = reg.build("alpha", {"hidden": 4}, n=3)
    assert obj.config.hidden == 4 and obj.n == 3
    with pytest.raises(ConfigError, match="unknown model 'beta'; valid models: alpha"):
        reg.build("beta")
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("alpha")(Alpha)


def test_config_class_from_signature():
    def load(root: str | None = None, n_steps: int = 100, zeros: bool = True):
        return root, n_steps, zeros

    cls = config_class_from_signature(load)
    cfg = config_from_dict(cls, {"n_steps": "7"})
    assert (cfg.root, cfg.n_steps, cfg.zeros) == (None, 7, True)
    with pytest.raises(ConfigError, match="valid keys: n_steps, root, zeros"):
        config_from_dict(cls, {"steps": 3})
