"""A job turns a recipe into a trained, evaluated run folder; the command line drives jobs.

Each kind of task (forecasting, PDE surrogates, molecules, ...) registers one job class in
``sciml.registry.TASKS``. A recipe is a YAML mapping ``{task, data, model, train, eval}``; the job
validates every section against typed configs so that an unknown key is an error that lists the
valid ones: a job class names its sections' config classes in :attr:`AbstractJob.configs`, and
:func:`build_data` builds a registered data set and checks its kind.
"""

from __future__ import annotations

import abc
import csv
import dataclasses
import json
from pathlib import Path
from typing import Any, ClassVar

import torch
import yaml

from sciml.data import atomic_write
from sciml.errors import ConfigError, DataError

__all__ = ["AbstractJob", "build_data", "write_yaml", "write_json", "write_csv", "read_yaml"]


def build_data(name: str, options: dict[str, Any], kind: type, what: str) -> Any:
    """Build the registered data set ``name`` with its (key-checked) ``options``.

    Raises:
        ConfigError: an unknown option, or the data set is not a ``kind`` (the message reads
            ``data set 'name' is not <what>``).
    """
    from sciml.registry import DATASETS

    data = DATASETS.build(name, options, where="data.options")
    if not isinstance(data, kind):
        raise ConfigError(f"data set {name!r} is not {what}")
    return data


class AbstractJob(abc.ABC):
    """Fit, evaluate and predict for one kind of task, from a resolved recipe."""

    #: Sections a recipe of this task may have (besides ``task``).
    sections: tuple[str, ...] = ("data", "model", "train", "eval")
    #: ``{section: (attribute, config class)}``: each section is read, in this order, with
    #: ``config_from_dict`` into that attribute; then ``model`` into ``model_name`` /
    #: ``model_values`` (where ``sections`` has it).
    configs: ClassVar[dict[str, tuple[str, type]]] = {}
    #: Whether ``self.data_cfg`` (``name`` + ``options``) names a registered data set whose
    #: options are checked when the job is made.
    registered_data: ClassVar[bool] = False

    def __init__(self, recipe: dict[str, Any]) -> None:
        from sciml.registry import DATASETS, config_from_dict

        self.recipe = recipe
        unknown = sorted(set(recipe) - {"task", *self.sections})
        if unknown:
            raise ConfigError(
                f"unknown recipe key {unknown[0]}; valid keys: task, " + ", ".join(self.sections)
            )
        for section, (attribute, cls) in self.configs.items():
            setattr(self, attribute, config_from_dict(cls, recipe.get(section), section))
        if "model" in self.sections:
            self.model_name, self.model_values = self.model_config()
        if self.registered_data:
            DATASETS.config(self.data_cfg.name, self.data_cfg.options, where="data.options")

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

    def _trainer(self, run_dir: Path | None = None, progress: bool = True) -> Any:
        """A :class:`~sciml.train.Trainer` of ``self.train_cfg``: fitting into ``run_dir`` (a
        progress bar if both ``progress`` and the config ask for one), or, without ``run_dir``,
        evaluating only (no progress bar, no TensorBoard)."""
        from sciml.train import Trainer

        if run_dir is None:
            return Trainer(dataclasses.replace(self.train_cfg, progress=False, tensorboard=False))
        cfg = dataclasses.replace(self.train_cfg, progress=progress and self.train_cfg.progress)
        return Trainer(cfg, run_dir=run_dir)

    def _load_best(self, run_dir: Path, task: torch.nn.Module) -> None:
        """Load ``checkpoints/best.pt`` (else ``last.pt``) of ``run_dir`` into ``task`` (the task
        state holds the model and whatever was fitted with it, e.g. a scaler)."""
        for which in ("best", "last"):
            path = run_dir / "checkpoints" / f"{which}.pt"
            if path.is_file():
                ckpt = torch.load(path, map_location="cpu", weights_only=True)
                task.load_state_dict(ckpt["task_state"])
                return
        raise DataError(f"{run_dir}: no checkpoint in {run_dir / 'checkpoints'}")

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


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` as CSV; the columns are every key of every row, in order of appearance."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    with atomic_write(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from e
