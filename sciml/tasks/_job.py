"""A job turns a recipe into a trained, evaluated run folder; every job family shares its skeleton.

Each family (forecasting, operator, physics_informed, hard_constraint, molecular, nbody) registers
one job class in :data:`sciml.registry.JOBS`. A recipe is a YAML mapping ``{task, data, model,
train, eval}`` (some families name other sections); the job validates every section against
typed configs so that an unknown key is an error that lists the valid ones.

:meth:`AbstractJob.fit` is the one training skeleton of every family: load (or take) the data,
describe it, build the task, claim the run folder, train through the one engine
(:class:`sciml.train.Trainer`), reload the best checkpoint, evaluate, plot and report. A family
supplies only what differs: its data (:meth:`~AbstractJob.load_data`,
:meth:`~AbstractJob.describe`, :meth:`~AbstractJob.splits`), its task
(:meth:`~AbstractJob.build_task`), its evaluation (:meth:`~AbstractJob.test_report`) and its
files (:meth:`~AbstractJob.plots`, :meth:`~AbstractJob.read_input`,
:meth:`~AbstractJob.write_prediction`).

The *data description* (what building the task and predicting need: sizes, the graph, node ids,
frequency, normalisers) is saved in the run folder, so that evaluation and prediction never load,
regenerate or download the training data.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, ClassVar

from sciml.data import write_json
from sciml.errors import ConfigError

__all__ = ["AbstractJob", "build_data", "n_parameters", "input_file"]


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


def input_file(path: str | Path, what: str) -> Path:
    """``path`` as the existing input file of ``sciml predict``; one-line errors naming it."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"input {path} is a folder, not {what}")
    if not path.is_file():
        raise FileNotFoundError(f"no input file at {path}")
    return path


def n_parameters(module: Any) -> int:
    """Number of parameters of a model (or of a task's model)."""
    model = getattr(module, "model", module)
    return sum(p.numel() for p in model.parameters())


class AbstractJob(abc.ABC):
    """Fit, evaluate and predict for one family of tasks, from a resolved recipe."""

    #: Sections a recipe of this job may have (besides ``task``).
    sections: ClassVar[tuple[str, ...]] = ("data", "model", "train", "eval")
    #: ``{section: (attribute, config class)}``: each section is read, in this order, with
    #: ``config_from_dict`` into that attribute; then ``model`` into ``model_name`` /
    #: ``model_values`` (where ``sections`` has it).
    configs: ClassVar[dict[str, tuple[str, type]]] = {}
    #: The section that names a registered data set (``name`` + ``options``), or None.
    data_section: ClassVar[str | None] = "data"
    #: The models this job can train (None: any registered model).
    models: ClassVar[tuple[str, ...] | None] = None
    #: ``(section, key)`` of the training budget that ``--extend N`` adds ``N`` to.
    budget: ClassVar[tuple[str, str]] = ("train", "max_epochs")
    #: What an in-memory data object of this job is (for messages), and its type(s).
    data_kind: ClassVar[str] = "a data object"

    def __init__(self, recipe: dict[str, Any]) -> None:
        from sciml.registry import DATASETS, config_from_dict

        self.recipe = dict(recipe)
        unknown = sorted(set(recipe) - {"task", *self.sections})
        if unknown:
            raise ConfigError(
                f"unknown recipe key {unknown[0]}; valid keys: task, " + ", ".join(self.sections)
            )
        for section, (attribute, cls) in self.configs.items():
            setattr(self, attribute, config_from_dict(cls, recipe.get(section), section))
        if "model" in self.sections:
            self.model_name, self.model_values = self.model_config()
        if self.data_section is not None:
            data_cfg = recipe.get(self.data_section) or {}
            name = data_cfg.get("name", getattr(self.data_config, "name", None))
            DATASETS.config(name, data_cfg.get("options"), where=f"{self.data_section}.options")

    @property
    def data_config(self) -> Any:
        """The config of the data section (``self.data_cfg`` where the family has one)."""
        return getattr(self, "data_cfg", None)

    def model_config(self) -> tuple[str, dict[str, Any]]:
        """``(name, config values)`` of the recipe's ``model`` section, keys checked early."""
        from sciml.registry import MODELS

        model = dict(self.recipe.get("model") or {})
        if "name" not in model:
            raise ConfigError(
                "recipe key model.name is missing; valid models: "
                + ", ".join(self.models or MODELS.names())
            )
        name = model.pop("name")
        if self.models is not None and name not in self.models:
            if name not in MODELS:
                MODELS.get(name)  # the unknown-model error, listing every model
            raise ConfigError(f"model.name must be one of {list(self.models)} for a "
                              f"{self.recipe.get('task')} recipe, got {name!r}")
        MODELS.config(name, model, where="model")
        return name, model

    # ------------------------------------------------------------------ what a family supplies
    @property
    def seed(self) -> int:
        """Seed of the model's initialisation and of training."""
        return self.train_cfg.seed

    def trainer_config(self) -> Any:
        """The :class:`~sciml.train.TrainerConfig` of training (``self.train_cfg`` here)."""
        return self.train_cfg

    @abc.abstractmethod
    def load_data(self) -> Any:
        """The data the recipe names (loaded, generated or downloaded)."""

    def check_data(self, data: Any) -> Any:
        """An in-memory data object given to ``sciml.fit(recipe, data=...)``, checked."""
        raise ConfigError(f"a {self.recipe.get('task')} recipe takes no data object; its "
                          "problem is defined in the recipe")

    @abc.abstractmethod
    def describe(self, data: Any) -> dict[str, Any]:
        """What building the task and predicting need, as tensors and plain values (saved in the
        run folder with ``torch.save`` and read back with ``weights_only=True``)."""

    @abc.abstractmethod
    def build_task(self, spec: dict[str, Any]) -> Any:
        """The task (model, loss, metrics) from a data description."""

    def trained_task(self, spec: dict[str, Any]) -> Any:
        """The task a trained run's checkpoint loads into: :meth:`build_task`, its model wrapped
        as the run trained it (a continual run's hypernetwork, set to the last task)."""
        task = self.build_task(spec)
        cc = getattr(self.trainer_config(), "continual", None)
        if cc is not None:
            from sciml.tasks._continual import wrap_model

            task.model = wrap_model(task.model, cc, self.seed)
            if cc["method"] == "hypernetwork":
                task.model.set_task(len(cc["tasks"]) - 1)
        return task

    def splits(self, data: Any) -> tuple[Any, Any]:
        """Training and validation sets (validation ``None`` where there is none)."""
        raise NotImplementedError

    collate_fn: Any = None

    def train(self, trainer: Any, task: Any, data: Any, resume: bool, extend: bool) -> Any:
        """Train ``task`` through the engine; mini-batch epochs over :meth:`splits` here."""
        train, val = self.splits(data)
        return trainer.fit(task, train, val, collate_fn=self.collate_fn, resume=resume,
                           extend=extend)

    @abc.abstractmethod
    def eval_data(self, data: Any) -> Any:
        """The part of ``data`` that evaluation uses, as tensors and plain values (saved in the
        run folder when the data came from memory, so that ``sciml eval`` still works)."""

    @abc.abstractmethod
    def test_report(self, task: Any, eval_data: Any, spec: dict[str, Any], trainer: Any
                    ) -> dict[str, Any]:
        """``{"test": metrics, ...}``: the evaluation of ``task`` (anchors included)."""

    #: where the channels of this family's activations lie (``sciml compare``'s units): 1 for
    #: fields ``(n, c, *spatial)``, -1 for features last ``(..., c)``
    channel_axis: int = -1

    def test_samples(self, eval_data: Any, spec: dict[str, Any]) -> tuple[Any, Any]:
        """The test data set that :meth:`test_report` evaluates the model on and its collate
        function (None: the default), in data set order: what ``sciml compare`` feeds two
        trained models. Families without test samples (a PINN's grid) refuse."""
        raise ConfigError(f"{self.recipe.get('task')} runs have no test samples to compare "
                          f"representations on")

    def head(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The first fields of every report: model and data."""
        return {"model": getattr(self, "model_name", None), "data": spec.get("name")}

    def fit_report(self, result: Any, task: Any, data: Any) -> dict[str, Any]:
        """Fields of the training report beyond the evaluation."""
        return {"epochs": result.epochs_run, "steps": result.steps,
                "parameters": n_parameters(task)}

    def plots(self, run_dir: Path, task: Any, eval_data: Any, spec: dict[str, Any]) -> None:
        """Write the family's plots into ``run_dir`` (rank 0, after training); none here."""
        return None

    def read_input(self, path: Path, spec: dict[str, Any]) -> Any:
        """The inputs of ``sciml predict --input PATH``."""
        raise ConfigError(f"{self.recipe.get('task')} runs do not predict from files")

    def read_eval_file(self, path: Path, spec: dict[str, Any]) -> Any:
        """The evaluation data (as :meth:`eval_data` gives) of ``sciml eval RUN --data PATH``."""
        raise ConfigError(f"{self.recipe.get('task')} runs evaluate on their own test data or an "
                          f"in-memory data object, not on a file")

    @abc.abstractmethod
    def predict(self, task: Any, spec: dict[str, Any], inputs: Any) -> Any:
        """The prediction of the trained ``task`` for ``inputs`` (in memory)."""

    def write_prediction(self, out_dir: Path, inputs: Any, outputs: Any, spec: dict[str, Any],
                         source: str) -> list[Path]:
        """Write a prediction into ``out_dir``; return the files."""
        raise NotImplementedError

    def extended(self, stored: dict[str, Any], n: int) -> dict[str, Any]:
        """The stored recipe with its training budget raised by ``n`` (``--extend N``)."""
        import copy

        section, key = self.budget
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"extend must be a positive integer, got {n!r}")
        out = copy.deepcopy(dict(stored))
        values = out.setdefault(section, {}) or {}
        out[section] = values
        cfg = getattr(self, self.configs[section][0])
        old = values.get(key, getattr(cfg, key))
        values[key] = old + n
        if (section, key) == ("train", "max_epochs") and values.get("schedule_epochs") is None:
            values["schedule_epochs"] = old  # the learning-rate schedule keeps its horizon
        return out

    def same_but_budget(self, a: dict[str, Any], b: dict[str, Any]) -> bool:
        """Whether recipes ``a`` and ``b`` differ at most in the training budget."""
        import copy

        section, key = self.budget
        a, b = copy.deepcopy(dict(a)), copy.deepcopy(dict(b))
        for r in (a, b):
            values = r.get(section) or {}
            values.pop(key, None)
            if key == "max_epochs":
                values.pop("schedule_epochs", None)
            r[section] = values
        return a == b

    # ------------------------------------------------------------------ the skeleton
    def fit(self, run: Any, data: Any = None, resume: bool = True, extend: bool = False,
            init: Any = None) -> dict[str, Any]:
        """Train and evaluate into the run folder ``run`` (a :class:`sciml.train.RunFolder`).

        Args:
            run: The run folder (its rules, resume or refuse, are checked by the caller,
                :func:`sciml.fit`).
            data: An in-memory data object of this family, or None to load the recipe's.
            resume: Continue from the folder's last checkpoint if there is one.
            extend: The run is being trained beyond its planned budget.
            init: A trained run folder whose model weights start this run where their names
                and shapes fit (:func:`sciml.runs.init_model_from_run`); not applied when the
                run resumes from its own checkpoint. What was reused is kept in ``init.json``
                and given in the report under ``init``.
        """
        import torch

        from sciml.train import Trainer, barrier, dist_env

        in_memory = data is not None
        if getattr(self.trainer_config(), "continual", None) is not None:
            if in_memory or init is not None:
                raise ConfigError("a continual run (trainer.continual) reads each task's data "
                                  "from the recipe and starts from its own initialisation: "
                                  "no in-memory data or --init")
            from sciml.tasks._continual import fit_continual

            return fit_continual(self, run, resume=resume, extend=extend)
        data = self.check_data(data) if in_memory else self.load_data()
        spec = self.describe(data)
        if resume:
            run.check_spec(spec)
        torch.manual_seed(self.seed)
        task = self.build_task(spec)
        init_report = None
        if init is not None and not (resume and run.checkpoint("last").is_file()):
            from sciml.runs import init_model_from_run

            init_report = init_model_from_run(task.model, init)
        trainer = Trainer(self.trainer_config(), run_dir=run.path)
        env = dist_env()
        eval_data = self.eval_data(data)
        if env.is_main:
            run.claim(self.recipe, spec, eval_data if in_memory else None)
            if init_report is not None:
                write_json(run.path / "init.json", init_report)
        try:
            result = self.train(trainer, task, data, resume=resume, extend=extend)
        except BaseException:
            if env.is_main:
                run.release()
            raise
        barrier(env)  # every rank reads the checkpoint rank 0 has finished writing
        run.load_task(task)
        report = {**self.head(spec),
                  **self.test_report(task, eval_data, spec, self.eval_trainer()),
                  **self.fit_report(result, task, data)}
        if getattr(result, "pruning", None):
            report["pruning"] = self.pruning_report(result.pruning, run.path, spec, eval_data)
        stored_init = run.load_init()
        if stored_init is not None:
            report["init"] = stored_init
        if env.is_main:
            self.plots(run.path, task, eval_data, spec)
            write_json(run.path / "report.json", report)
        return report

    def pruning_report(self, rounds: list[dict[str, Any]], run_dir: Path, spec: dict[str, Any],
                       eval_data: Any) -> list[dict[str, Any]]:
        """Each training of a pruned run (``trainer.pruning``) evaluated on the test data from
        its saved weights: round, kind, sparsity and the test metrics."""
        import torch

        from sciml.runs import load_task_state

        out = []
        for entry in rounds:
            torch.manual_seed(self.seed)
            task = self.build_task(spec)
            load_task_state(run_dir / entry["checkpoint"], task)
            task.eval()
            test = self.test_report(task, eval_data, spec, self.eval_trainer())["test"]
            out.append({**entry, "test": test})
        return out

    def eval_trainer(self) -> Any:
        """A Trainer for evaluation only (no run folder, no bar, no TensorBoard)."""
        import dataclasses

        from sciml.train import Trainer, TrainerConfig

        cfg = self.trainer_config()
        if not isinstance(cfg, TrainerConfig):
            cfg = TrainerConfig()
        return Trainer(dataclasses.replace(cfg, progress=False, tensorboard=False))
