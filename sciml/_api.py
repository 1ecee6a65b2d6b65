"""The front door: train, evaluate, reload and predict from recipes (``import sciml``).

::

    recipe = sciml.load_recipe("darcy-mgno", overrides=["train.max_epochs=5"])
    report = sciml.fit(recipe, run_dir="runs/d")          # or data=<in-memory data>
    run = sciml.load_run("runs/d")
    y = run.predict(x)
    sciml.evaluate("runs/d", data=other_data)

The command line (``sciml fit / eval / predict``) is a thin layer over these functions; the rules
of a run folder (resume the same recipe, refuse another, fresh, extend) live in
:class:`sciml.train.RunFolder`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sciml.errors import ConfigError
from sciml.recipes import Recipe, load_recipe, recipe_names

__all__ = ["fit", "evaluate", "compare", "load_run", "Run", "list_models", "list_datasets",
           "list_recipes", "list_jobs", "make_job"]


def _as_recipe(recipe: Recipe | Mapping[str, Any] | str | os.PathLike,
               overrides: Iterable[str] | Mapping[str, Any] | None = None) -> Recipe:
    if isinstance(recipe, (str, os.PathLike)):
        return load_recipe(recipe, overrides)
    if isinstance(recipe, Recipe):
        return recipe.with_overrides(overrides) if overrides else recipe
    if isinstance(recipe, Mapping):
        if "task" not in recipe:
            raise ConfigError("a recipe is a mapping with a 'task' key (see sciml.load_recipe)")
        r = Recipe(recipe, name=str(recipe["task"]))
        return r.with_overrides(overrides) if overrides else r
    raise TypeError(f"recipe must be a Recipe, a mapping or a recipe name / path, got "
                    f"{type(recipe).__name__}")


def make_job(recipe: Mapping[str, Any]) -> Any:
    """The job of ``recipe`` (its class from :data:`sciml.registry.JOBS`), with every key
    checked."""
    from sciml.registry import JOBS

    cls, _ = JOBS.get(str(recipe.get("task")))
    return cls(dict(recipe))


def fit(recipe: Recipe | Mapping[str, Any] | str, run_dir: str | os.PathLike | None = None, *,
        fresh: bool = False, data: Any = None, extend: int | None = None,
        overrides: Iterable[str] | Mapping[str, Any] | None = None,
        progress: bool = True, init: str | os.PathLike | None = None) -> dict[str, Any]:
    """Train and evaluate ``recipe``; write the run folder; return the report.

    Args:
        recipe: A :class:`~sciml.Recipe` (:func:`sciml.load_recipe`), a mapping, or a shipped
            recipe's name / a YAML path.
        run_dir: The run folder (default ``runs/<recipe name>``). A folder holding a run of the
            same recipe resumes it from its last checkpoint; one holding another recipe is
            refused.
        fresh: Start again in ``run_dir``: its earlier outputs are removed first.
        data: An in-memory data object of the recipe's job (a
            :class:`~sciml.data.SpatioTemporal`, :class:`~sciml.datasets.PDEData`,
            :class:`~sciml.datasets.MolecularData`, :class:`~sciml.datasets.ChargedNBody`)
            used instead of the recipe's data set. Its description (and its evaluation part) is
            saved in the run folder, so ``sciml eval`` and ``sciml predict`` work on the folder.
        extend: Train the finished (or stopped) run in ``run_dir`` further by this many epochs
            (steps for hard-constraint jobs, L-BFGS iterations for physics-informed ones);
            ``recipe.yaml`` is updated. The learning-rate schedule keeps its horizon.
        overrides: Applied to ``recipe`` first (as :func:`sciml.load_recipe`'s).
        progress: Progress bars (on a terminal); ``False`` silences every bar.
        init: A trained run folder to start from (fine-tuning, e.g. at a new resolution): the
            model's weights are copied where name and shape fit, the rest start fresh; the
            report's ``init`` (and ``run_dir/init.json``) says what was reused. A run that
            resumes from its own checkpoint keeps that instead. Not with ``extend``.

    Returns:
        The report (also ``run_dir/report.json``): test metrics, anchors, sizes.
    """
    from sciml.progress import quiet
    from sciml.train import RunFolder

    recipe = _as_recipe(recipe, overrides)
    if init is not None:
        if extend:
            raise ConfigError("init and extend exclude each other: extend trains the run in the "
                              "folder further, init starts a new run from another run's weights")
        RunFolder(init).require()
    # every key is checked here by the job's typed configs (the command line checks the
    # static catalog first, which knows only the built-in entries, not models or data sets a
    # script registers itself)
    job = make_job(recipe)
    run = RunFolder(run_dir if run_dir is not None else Path("runs") / recipe.name)
    resolved, resume = run.plan(recipe, fresh=fresh, extend=extend, job=job)
    if resolved != dict(recipe):
        job = make_job(resolved)
    with quiet(not progress):
        return job.fit(run, data=data, resume=resume, extend=bool(extend), init=init)


class Run:
    """A trained run folder, read back: its recipe, data description, task and model.

    Attributes:
        run_dir: The folder.
        recipe: The recipe it was trained with.
        job: The job of that recipe.
        spec: The data description (what building the model and predicting need).
        task: The task (model + loss + normalisers) with the best checkpoint loaded.
        model: ``task.model``.
        report: The training report (``report.json``), or None if it was not written.
        checkpoint: The checkpoint file loaded.
    """

    def __init__(self, run_dir: str | os.PathLike) -> None:
        import torch

        from sciml.train import RunFolder

        self.folder = RunFolder(run_dir)
        self.run_dir = self.folder.path
        self.recipe = Recipe(self.folder.require(), name=self.run_dir.name)
        self.job = make_job(self.recipe)
        spec = self.folder.load_spec()
        if spec is None:  # a run folder of an earlier version: describe the recipe's data
            spec = self.job.describe(self.job.load_data())
        self.spec = spec
        with torch.random.fork_rng(devices=[]):  # the caller's generator stays where it was
            torch.manual_seed(self.job.seed)
            self.task = self.job.trained_task(spec)
        self.checkpoint = self.folder.load_task(self.task)
        self.task.eval()
        report = self.run_dir / "report.json"
        self.report = _read_json(report) if report.is_file() else None

    @property
    def model(self) -> Any:
        return self.task.model

    def __repr__(self) -> str:
        return (f"Run({str(self.run_dir)!r}, task={self.recipe.get('task')!r}, "
                f"model={getattr(self.job, 'model_name', None)!r})")

    def predict(self, inputs: Any) -> Any:
        """What ``sciml predict`` computes, in memory (the inputs' form depends on the job:
        see its ``predict``; e.g. fields ``(n, c, *s)`` for operators, a table of sensors for
        forecasters). A path is read as ``sciml predict --input`` reads it; nothing is written
        (:meth:`predict_file` writes the prediction files)."""
        if isinstance(inputs, (str, os.PathLike)):
            inputs = self.job.read_input(Path(inputs), self.spec)
        return self.job.predict(self.task, self.spec, inputs)

    def predict_file(self, path: str | os.PathLike, output: str | os.PathLike | None = None
                     ) -> list[Path]:
        """Read ``path``, predict, write the prediction into ``output`` (default
        ``RUN/predictions``); return the files written."""
        from sciml.errors import DataError

        path = Path(path)
        inputs = self.job.read_input(path, self.spec)
        try:
            outputs = self.predict(inputs)
        except ValueError as e:  # DataError / ConfigError included: name the file
            if str(path) in str(e):
                raise
            raise (e if type(e) not in (DataError, ValueError) else type(e)(f"{path}: {e}")) \
                from e
        out = Path(output) if output is not None else self.run_dir / "predictions"
        return self.job.write_prediction(out, inputs, outputs, self.spec, str(path))

    def eval_data(self, data: Any = None) -> tuple[Any, str]:
        """The evaluation data (as the job's ``eval_data`` gives) of :meth:`evaluate` and where
        it came from: this run's test split (saved in the folder, or the recipe's), a file, or an
        in-memory data object."""
        job = self.job
        if data is None:
            eval_data = self.folder.load_eval_data()
            if eval_data is None:
                eval_data = job.eval_data(job.load_data())
            return eval_data, "the recipe's test split"
        if isinstance(data, (str, os.PathLike)):
            return job.read_eval_file(Path(data), self.spec), f"the file {data}"
        return job.eval_data(job.check_data(data)), f"an in-memory {type(data).__name__}"

    def evaluate(self, data: Any = None, write: bool = True) -> dict[str, Any]:
        """The test report of this run on its own test data, on an in-memory data object or on a
        file of inputs and targets (see :func:`sciml.evaluate`)."""
        from sciml.data import write_json

        job = self.job
        eval_data, source = self.eval_data(data)
        report = {**job.head(self.spec), **job.test_report(self.task, eval_data, self.spec,
                                                           job.eval_trainer()),
                  "evaluated_on": source, "checkpoint": self.checkpoint.name}
        if write:
            path = self.run_dir / "eval.json"
            if self.folder.writable():
                write_json(path, report)
            else:
                warnings.warn(f"{self.run_dir} is read-only: {path.name} not written",
                              stacklevel=2)
        return report


def _read_json(path: Path) -> Any:
    import json

    from sciml.errors import DataError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: cannot read the report ({e})") from e


def load_run(run_dir: str | os.PathLike) -> Run:
    """Read a trained run folder back (see :class:`Run`); nothing is retrained or reloaded from
    the training data (runs of earlier versions, which saved no data description, excepted)."""
    return Run(run_dir)


def evaluate(run_dir: str | os.PathLike, data: Any = None) -> dict[str, Any]:
    """Evaluate a trained run on its test data (the recipe's test split, or the saved one of a
    run trained on in-memory data) or on ``data``; write ``eval.json`` (``report.json``, the
    training report, is left as it is); return the report. Works on a read-only folder (then
    nothing is written).

    ``data`` is an in-memory data object of the run's job (e.g. a
    :class:`~sciml.datasets.PDEData`) or, for operator runs, the path of a file of inputs and
    targets (``.npz`` / ``.h5`` / ``.pt`` / ``.mat`` with arrays ``x`` and ``y``; a run trained
    on the ``arrays`` data set reads its training keys and layouts). Operator data may be on any
    grid: the report gives ``train_resolution`` and ``test_resolution``, and on another grid also
    ``test_restrict_predict_interpolate``, the baseline's metrics."""
    return load_run(run_dir).evaluate(data)


def compare(run_a: str | os.PathLike, run_b: str | os.PathLike, *, data: Any = None,
            samples: int = 200, layers: Iterable[str] | None = None, kernel: bool = False,
            all_svcca: bool = False, out: str | os.PathLike | None = None) -> dict[str, Any]:
    """How alike the representations of two trained runs of one job are, layer by layer, on
    run A's test samples (or ``data``): linear CKA between every layer of A and every layer of B
    (kernel CKA too with ``kernel``; SVCCA too with ``all_svcca``), SVCCA and one-to-one unit
    matching for the paired layers; with ``out``, ``compare.json`` and the heat map ``cka.png``
    are written there together. ``sciml compare RUN_A RUN_B`` on the command line; see
    :func:`sciml.analysis.compare_runs` for the details."""
    from sciml.analysis import compare_runs

    return compare_runs(run_a, run_b, data=data, samples=samples,
                        layers=list(layers) if layers is not None else None, kernel=kernel,
                        all_svcca=all_svcca, out=out)


def list_recipes() -> list[str]:
    """Names of the shipped recipes."""
    return recipe_names()


def list_models() -> list[str]:
    """Names of the registered models."""
    from sciml.registry import MODELS

    return MODELS.names()


def list_datasets() -> list[str]:
    """Names of the registered data sets."""
    from sciml.registry import DATASETS

    return DATASETS.names()


def list_jobs() -> list[str]:
    """Names of the registered jobs (what a recipe's ``task:`` key names)."""
    from sciml.registry import JOBS

    return JOBS.names()
