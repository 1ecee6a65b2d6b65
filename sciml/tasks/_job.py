"""A job turns a recipe into a trained, evaluated run folder; the command line drives jobs.

Each kind of task (forecasting, PDE surrogates, molecules, ...) registers one job class in
``sciml.registry.TASKS``. A recipe is a YAML mapping ``{task, data, model, train, eval}``; the job
validates every section against typed configs so that an unknown key is an error that lists the
valid ones.
"""

from __future__ import annotations

import abc
import json
from pathlib import Path
from typing import Any

import yaml

from sciml.data import atomic_write
from sciml.errors import ConfigError

__all__ = ["AbstractJob", "write_yaml", "write_json", "read_yaml"]


class AbstractJob(abc.ABC):
    """Fit, evaluate and predict for one kind of task, from a resolved recipe."""

    #: Sections a recipe of this task may have (besides ``task``).
    sections: tuple[str, ...] = ("data", "model", "train", "eval")

    def __init__(self, recipe: dict[str, Any]) -> None:
        self.recipe = recipe
        unknown = sorted(set(recipe) - {"task", *self.sections})
        if unknown:
            raise ConfigError(
                f"unknown recipe key {unknown[0]}; valid keys: task, " + ", ".join(self.sections)
            )

    def model_config(self) -> tuple[str, dict[str, Any]]:
        """``(name, config values)`` of the recipe's ``model`` section, keys checked early."""
        from sciml.registry import MODELS

        model = dict(self.recipe.get("model") or {})
        if "name" not in model:
            raise ConfigError(
                "recipe key model.name is missing; valid models: " + ", ".join(MODELS.names())
            )
        name = model.pop("name")
        MODELS.config(name, model, where="model")
        return name, model

    @abc.abstractmethod
    def fit(self, run_dir: Path, resume: bool = True, progress: bool = True) -> dict[str, float]:
        """Train and evaluate; write checkpoints, metrics, plots and a report into ``run_dir``."""

    @abc.abstractmethod
    def evaluate(self, run_dir: Path) -> dict[str, float]:
        """Evaluate the best checkpoint of ``run_dir`` on the test split."""

    @abc.abstractmethod
    def predict(self, run_dir: Path, input_path: Path, output: Path | None) -> list[Path]:
        """Predict from an input file with the best checkpoint; return the files written."""


def write_yaml(path: Path, data: Any) -> None:
    with atomic_write(path) as tmp:
        tmp.write_text(yaml.safe_dump(data, sort_keys=False))


def write_json(path: Path, data: Any) -> None:
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from e
