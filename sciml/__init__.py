"""sciml: graph- and operator-focused scientific machine learning.

The front door (see the README's "From Python")::

    import sciml

    recipe = sciml.load_recipe("darcy-mgno", overrides=["train.max_epochs=5"])
    report = sciml.fit(recipe, run_dir="runs/d")     # or data=<in-memory data>
    run = sciml.load_run("runs/d")
    y = run.predict(x)
    sciml.evaluate("runs/d")
    sciml.compare("runs/d", "runs/d2", out="runs/d-vs-d2")  # CKA layer by layer

Building blocks stay importable for those who compose their own: ``sciml.models``,
``sciml.data``, ``sciml.datasets``, ``sciml.nn``, ``sciml.kernels``, ``sciml.physics``,
``sciml.analysis``, ``sciml.solvers``, ``sciml.tasks`` and ``sciml.Trainer``
(:class:`sciml.train.Trainer`).
Names load on first use, so ``import sciml`` is quick.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "Trainer": "sciml.train",
    "TrainerConfig": "sciml.train",
    "Recipe": "sciml.recipes",
    "load_recipe": "sciml.recipes",
    "fit": "sciml._api",
    "evaluate": "sciml._api",
    "compare": "sciml._api",
    "load_run": "sciml._api",
    "Run": "sciml._api",
    "list_models": "sciml._api",
    "list_datasets": "sciml._api",
    "list_recipes": "sciml._api",
    "list_jobs": "sciml._api",
}

# subpackages reachable as attributes after a bare `import sciml` (sciml.models.MgNO, ...)
_SUBPACKAGES = ("analysis", "data", "datasets", "errors", "geometry", "kernels", "metrics",
                "models", "nn", "physics", "progress", "recipes", "registry", "runs", "solvers",
                "tasks", "testing", "train")

__all__ = ["__version__", "Trainer", "TrainerConfig", "Recipe", "load_recipe", "fit", "evaluate",
           "compare", "load_run", "Run", "list_models", "list_datasets", "list_recipes",
           "list_jobs"]

if TYPE_CHECKING:
    from sciml._api import (
        Run,
        compare,
        evaluate,
        fit,
        list_datasets,
        list_jobs,
        list_models,
        list_recipes,
        load_run,
    )
    from sciml.recipes import Recipe, load_recipe
    from sciml.train import Trainer, TrainerConfig


def __getattr__(name: str) -> Any:
    # Lazy, so that `import sciml` stays cheap for the command line's --help.
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f"sciml.{name}")
    raise AttributeError(f"module 'sciml' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
