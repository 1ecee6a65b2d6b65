"""A run folder and its rules: what a fit writes, when it may resume, how a run is read back.

A run folder holds ``recipe.yaml`` (the recipe it was trained with: its claim on the folder),
``data_spec.pt`` (the data description: what building the task and predicting need),
``eval_data.pt`` (only when the data came from memory: what evaluation needs),
``checkpoints/{last,best}.pt``, ``metrics.csv``, ``tb/``, ``report.json`` (the training report),
``eval.json`` (the last ``sciml eval``), ``init.json`` (a run started from another run's weights:
what was reused) and plots. Paths inside are relative, so a moved or copied
folder still works.

The rules (:meth:`RunFolder.plan`): a folder that holds a run of the same recipe resumes it; one
that holds another recipe is refused unless ``fresh`` (start again) or ``extend`` (train the same
recipe further); a fit that fails before its first checkpoint leaves the folder unclaimed.

This module imports torch only where a checkpoint is read or written, so that the command line
can apply the rules before loading the numerical stack.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sciml.errors import ConfigError, DataError

if TYPE_CHECKING:
    import torch

__all__ = ["RunFolder", "load_task_state", "init_model_from_run"]

RECIPE = "recipe.yaml"
SPEC = "data_spec.pt"
EVAL_DATA = "eval_data.pt"
INIT = "init.json"
# what a fresh start removes (the folder's other files are the user's)
_OUTPUTS = ("checkpoints", "metrics.csv", "config.yaml", "tb", "report.json", "eval.json",
            SPEC, EVAL_DATA, RECIPE, INIT, "predictions")


def _torch_load(path: Path, what: str) -> Any:
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, foreign or pickled-object file
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise DataError(f"{path}: cannot read {what} ({e.__class__.__name__}: {first})") from e


def load_task_state(path: Path, task: torch.nn.Module) -> None:
    """Load a checkpoint into ``task``: a Trainer checkpoint (``task_state``), or a model
    checkpoint (``state_dict``, as runs of earlier versions saved) into ``task.model``.

    Raises:
        DataError: the file is truncated, foreign, or does not fit the task (one line naming it).
    """
    ckpt = _torch_load(path, "checkpoint")
    if not isinstance(ckpt, dict):
        raise DataError(f"{path}: not a sciml checkpoint (a {type(ckpt).__name__})")
    try:
        if "task_state" in ckpt:
            task.load_state_dict(ckpt["task_state"])
        elif isinstance(ckpt.get("model"), dict) and "state_dict" in ckpt["model"]:
            task.model.load_state_dict(ckpt["model"]["state_dict"])
        elif "state_dict" in ckpt:
            task.model.load_state_dict(ckpt["state_dict"])
        else:
            raise DataError(f"{path}: not a sciml checkpoint (keys {sorted(ckpt)[:6]})")
    except (RuntimeError, KeyError, ValueError) as e:
        if isinstance(e, DataError):
            raise
        first = str(e).strip().splitlines()[0]
        raise DataError(f"{path}: does not fit this run's model ({first})") from e


def _model_state(ckpt: Any, path: Path) -> dict[str, Any]:
    """The model's weights in a checkpoint of any version (see :func:`load_task_state`)."""
    if isinstance(ckpt, dict):
        if isinstance(ckpt.get("task_state"), dict):
            return {k[len("model."):]: v for k, v in ckpt["task_state"].items()
                    if k.startswith("model.")}
        if isinstance(ckpt.get("model"), dict) and isinstance(ckpt["model"].get("state_dict"),
                                                              dict):
            return dict(ckpt["model"]["state_dict"])
        if isinstance(ckpt.get("state_dict"), dict):
            return dict(ckpt["state_dict"])
    raise DataError(f"{path}: not a sciml checkpoint")


def init_model_from_run(model: torch.nn.Module, run_dir: str | os.PathLike) -> dict[str, Any]:
    """Start ``model`` from the trained weights of the run in ``run_dir``, where they fit.

    Every tensor of ``model``'s state whose name is in the run's best checkpoint (its last where
    there is no best) with the same shape is copied; the others keep their fresh values. A
    registered model first maps the trained state onto its own layout
    (:meth:`sciml.models.AbstractModel.adapt_state`): an MgNO fine-tuned on a finer grid with
    ``levels`` chosen from the grid size has more levels, and the trained ones are matched by
    grid.

    Args:
        model: The new model (its weights are overwritten in place where they fit).
        run_dir: A trained run folder.

    Returns:
        What was reused: ``run``, ``checkpoint``, ``reused`` (tensors), ``reused_values`` and
        ``total_values`` (numbers), and the names left fresh: ``shape_mismatch`` (in the run
        with another shape), ``new`` (not in the run); ``unused``: the run's tensors not used;
        where the model mapped the trained state, ``note`` and ``constructed`` (names the
        mapping set, such as MgNO's new finest levels).

    Raises:
        FileNotFoundError: ``run_dir`` is not a run folder or holds no checkpoint.
        ConfigError: Nothing in the run fits ``model`` (another model, say).
    """
    folder = RunFolder(run_dir)
    folder.require()
    for which in ("best", "last"):
        path = folder.checkpoint(which)
        if path.is_file():
            break
    else:
        raise FileNotFoundError(f"run folder {folder.path} holds no checkpoint to start from")
    source = _model_state(_torch_load(path, "checkpoint"), path)
    mapping: dict[str, Any] = {}
    if callable(getattr(model, "adapt_state", None)):  # registered models (AbstractModel)
        source, mapping = model.adapt_state(source)
    made = set(mapping.get("constructed", ()))
    target = model.state_dict()
    fits = [k for k, v in target.items() if k in source and source[k].shape == v.shape]
    reused = [k for k in fits if k not in made]
    mismatch = [k for k, v in target.items() if k in source and source[k].shape != v.shape]
    if not reused:
        raise ConfigError(f"nothing in {path} fits this model (no weight of the same name and "
                          f"shape): start from a run of the same model")
    model.load_state_dict({**target, **{k: source[k] for k in fits}})
    report = {
        "run": str(folder.path), "checkpoint": path.name, "reused": len(reused),
        "reused_values": int(sum(target[k].numel() for k in reused)),
        "total_values": int(sum(v.numel() for v in target.values())),
        "shape_mismatch": mismatch, "new": [k for k in target if k not in source],
        "unused": [k for k in source if k not in target],
    }
    if mapping:
        report.update(note=mapping["note"], constructed=sorted(made))
    return report


def _same(a: Any, b: Any) -> bool:
    """Equality of data descriptions (nested dicts / lists of tensors and plain values)."""
    import torch

    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                and a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


class RunFolder:
    """One run folder (see the module docstring)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise NotADirectoryError(f"run folder {self.path} is a file, not a folder")

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    # ------------------------------------------------------------------ reading
    @property
    def recipe_path(self) -> Path:
        return self.path / RECIPE

    def checkpoint(self, which: str) -> Path:
        return self.path / "checkpoints" / f"{which}.pt"

    def stored_recipe(self) -> dict[str, Any] | None:
        """The recipe this folder holds a run of, or None (no run)."""
        if not self.recipe_path.is_file():
            return None
        from sciml.recipes import read_yaml

        recipe = read_yaml(self.recipe_path)
        if not isinstance(recipe, dict) or "task" not in recipe:
            raise DataError(f"{self.recipe_path}: not a recipe (a mapping with a 'task' key)")
        return recipe

    def require(self) -> dict[str, Any]:
        """The stored recipe of a run folder that must exist (eval, predict, load_run)."""
        if not self.path.is_dir():
            raise FileNotFoundError(f"run folder {self.path} does not exist")
        recipe = self.stored_recipe()
        if recipe is None:
            raise FileNotFoundError(f"{self.path} is not a run folder (no {RECIPE})")
        return recipe

    def load_spec(self) -> dict[str, Any] | None:
        """The saved data description, or None (a run of an earlier version)."""
        path = self.path / SPEC
        return _torch_load(path, "data description") if path.is_file() else None

    def load_eval_data(self) -> Any | None:
        """The saved evaluation data (runs trained on in-memory data), or None."""
        path = self.path / EVAL_DATA
        return _torch_load(path, "evaluation data") if path.is_file() else None

    def load_init(self) -> dict[str, Any] | None:
        """What this run took from another run's weights (``init.json``), or None."""
        path = self.path / INIT
        if not path.is_file():
            return None
        import json

        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise DataError(f"{path}: cannot read ({e})") from e

    def load_task(self, task: torch.nn.Module) -> Path:
        """Load the best checkpoint into ``task``: ``best.pt``, or ``last.pt`` where there is no
        best one or it is damaged (with a warning naming the damage). Returns the file used."""
        best, last = self.checkpoint("best"), self.checkpoint("last")
        if best.is_file():
            try:
                load_task_state(best, task)
                return best
            except DataError as e:
                if not last.is_file():
                    raise
                warnings.warn(f"{e}; using {last} instead", stacklevel=2)
        if last.is_file():
            load_task_state(last, task)
            return last
        raise DataError(f"{self.path}: no checkpoint in {self.path / 'checkpoints'} (run "
                        "`sciml fit` first)")

    def writable(self) -> bool:
        return os.access(self.path, os.W_OK)

    # ------------------------------------------------------------------ the rules
    def plan(self, recipe: dict[str, Any], fresh: bool = False, extend: int | None = None,
             job: Any = None) -> tuple[dict[str, Any], bool]:
        """Apply the folder's rules to a fit of ``recipe``: ``(recipe to train, resume?)``.

        - ``fresh``: the folder's earlier outputs are removed; a new run starts.
        - ``extend=N``: the folder must hold a run of ``recipe`` (up to its training budget);
          it is trained further by ``N`` (epochs or steps: the job's budget key).
        - otherwise: a run of the same recipe resumes; another recipe is refused.
        """
        if fresh and extend:
            raise ConfigError("fresh and extend exclude each other: extend trains the run in "
                              "the folder further, fresh starts it again")
        recipe = as_stored(recipe)
        stored = self.stored_recipe()
        if fresh:
            self.clear()
            return dict(recipe), False
        if extend:
            if stored is None:
                raise ConfigError(f"nothing to extend: {self.path} holds no run (train it first, "
                                  "without extend)")
            if job is None or not job.same_but_budget(stored, recipe):
                raise ConfigError(f"{self.path} holds a run of a different recipe; extend trains "
                                  "the same recipe further (only its training budget may differ)")
            return job.extended(stored, extend), True
        self.refuse_other(recipe, stored)
        return dict(recipe), stored is not None

    def refuse_other(self, recipe: dict[str, Any], stored: Any = False) -> None:
        """ConfigError (naming the first difference) if the folder holds a run of another
        recipe."""
        recipe = as_stored(recipe)
        if stored is False:
            stored = self.stored_recipe()
        if stored is not None and stored != dict(recipe):
            diff = _first_difference(stored, dict(recipe))
            raise ConfigError(f"{self.path} holds a run of a different recipe ({diff}); pass "
                              "another run folder, fresh (--fresh) to start this one again, or "
                              "extend (--extend N) to train it further")

    def check_spec(self, spec: dict[str, Any]) -> None:
        """A resumed run must see the same data as before."""
        stored = self.load_spec()
        if stored is not None and not _same(stored, spec):
            raise ConfigError(f"{self.path} holds a run trained on other data than this fit's; "
                              "pass another run folder or fresh to start again")

    def claim(self, recipe: dict[str, Any], spec: dict[str, Any], eval_data: Any = None) -> None:
        """Write the data description (and evaluation data), then ``recipe.yaml``."""
        from sciml.data import atomic_torch_save, write_yaml

        atomic_torch_save(spec, self.path / SPEC)
        if eval_data is not None:
            atomic_torch_save(eval_data, self.path / EVAL_DATA)
        write_yaml(self.recipe_path, recipe)

    def release(self) -> None:
        """Undo :meth:`claim` of a fit that failed before its first checkpoint."""
        if self.checkpoint("last").is_file():
            return
        for name in (RECIPE, SPEC, EVAL_DATA, INIT, "config.yaml", "metrics.csv"):
            (self.path / name).unlink(missing_ok=True)
        shutil.rmtree(self.path / "tb", ignore_errors=True)
        for sub in (self.path / "checkpoints", self.path):
            try:
                sub.rmdir()  # only if empty
            except OSError:
                pass

    def clear(self) -> None:
        """Remove the outputs of an earlier run (``fresh``); other files stay."""
        for name in _OUTPUTS:
            p = self.path / name
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        for png in self.path.glob("*.png"):
            png.unlink()


def as_stored(recipe: Any) -> dict[str, Any]:
    """``recipe`` as ``recipe.yaml`` will hold it (tuples as lists, plain YAML values only), so
    that a recipe given from Python compares equal to the one a run stored."""
    import yaml

    def plain(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v

    try:
        return yaml.safe_load(yaml.safe_dump(plain(dict(recipe)), sort_keys=False))
    except yaml.YAMLError as e:
        raise ConfigError(f"the recipe holds a value that is not plain YAML (numbers, strings, "
                          f"lists, mappings): {str(e).splitlines()[0]}") from e


def _first_difference(a: Any, b: Any, where: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            name = f"{where}.{key}" if where else str(key)
            if key not in b:
                return f"{name} is not in the new recipe"
            if key not in a:
                return f"{name} is new"
            if a[key] != b[key]:
                return _first_difference(a[key], b[key], name)
    return f"{where or 'the recipe'}: {a!r} there, {b!r} now"
