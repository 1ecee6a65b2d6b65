"""The ``sciml`` command: fit, eval, predict, data generate, list, demo."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from sciml.errors import ConfigError, SciMLError

__all__ = ["main", "build_parser"]


def _jobs():
    import sciml.tasks  # noqa: F401  (registers tasks, models and data sets)
    from sciml.registry import TASKS

    return TASKS


def _make_job(recipe: dict[str, Any]):
    tasks = _jobs()
    cls, _ = tasks.get(str(recipe.get("task")))
    return cls(recipe)


def _print_metrics(title: str, metrics: dict[str, Any]) -> None:
    print(title)
    flat = {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
    for key in sorted(flat):
        print(f"  {key:<22} {flat[key]:.4f}")


def cmd_fit(args: argparse.Namespace) -> int:
    from sciml.cli._recipes import apply_overrides, load_recipe
    from sciml.tasks._job import read_yaml

    name, recipe = load_recipe(args.recipe)
    recipe = apply_overrides(recipe, args.set or [])
    job = _make_job(recipe)
    run_dir = Path(args.run_dir) if args.run_dir else Path("runs") / name
    stored = run_dir / "recipe.yaml"
    if stored.is_file() and not args.fresh:
        if read_yaml(stored) != recipe:
            raise ConfigError(
                f"{run_dir} holds a run of a different recipe; pass --run-dir for a new folder "
                "or --fresh to start this one again"
            )
        print(f"resuming the run in {run_dir}")
    if args.fresh and run_dir.exists():
        import shutil

        for sub in ("checkpoints", "metrics.csv", "tb", "report.json"):
            p = run_dir / sub
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
    report = job.fit(run_dir, resume=not args.fresh, progress=not args.quiet)
    from sciml.train._distributed import dist_env

    if dist_env().is_main:
        _print_report(report)
        print(f"run folder: {run_dir}")
    return 0


def _print_report(report: dict[str, Any]) -> None:
    for key, value in report.items():
        if isinstance(value, dict):
            _print_metrics(key, value)


def _job_of_run(run: str):
    from sciml.tasks._job import read_yaml

    run_dir = Path(run)
    stored = run_dir / "recipe.yaml"
    if not stored.is_file():
        raise FileNotFoundError(f"{run_dir} is not a run folder (no recipe.yaml)")
    return run_dir, _make_job(read_yaml(stored))


def cmd_eval(args: argparse.Namespace) -> int:
    run_dir, job = _job_of_run(args.run)
    _print_report(job.evaluate(run_dir))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    run_dir, job = _job_of_run(args.run)
    for path in job.predict(run_dir, Path(args.input), Path(args.output) if args.output else None):
        print(f"wrote {path}")
    return 0


def cmd_data_generate(args: argparse.Namespace, extra: list[str]) -> int:
    from sciml.cli._recipes import parse_override
    from sciml.registry import DATASETS

    _jobs()
    options: dict[str, Any] = {}
    for text in args.set or []:
        parts, value = parse_override(text)
        options[".".join(parts)] = value
    it = iter(extra)
    for flag in it:  # free-form --key value pairs, checked against the data set's config
        if not flag.startswith("--"):
            raise ConfigError(f"unexpected argument {flag!r}")
        key = flag[2:].replace("-", "_")
        if "=" in key:
            key, raw = key.split("=", 1)
        else:
            raw = next(it, None)
            if raw is None:
                raise ConfigError(f"{flag} needs a value")
        options[key] = parse_override(f"x={raw}")[1]
    _, cfg_cls = DATASETS.get(args.name)
    fields = {f.name for f in dataclasses.fields(cfg_cls)} if cfg_cls is not None else set()
    if "n" in options and "n" not in fields and "n_train" in fields:
        options["n_train"] = options.pop("n")  # `--n 1000`: the number of training samples
    result = DATASETS.build(args.name, options, where=args.name)
    print(f"{args.name}: {result}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from sciml.cli._recipes import recipe_names
    from sciml.registry import DATASETS, MODELS

    tasks = _jobs()
    print("recipes:  " + ", ".join(recipe_names()))
    print("tasks:    " + ", ".join(tasks.names()))
    print("models:")
    for name, doc in MODELS.describe().items():
        print(f"  {name:<18} {doc}")
    print("datasets:")
    for name, doc in DATASETS.describe().items():
        print(f"  {name:<18} {doc}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sciml.cli._demo import run_demo

    return run_demo(Path(args.out), quick=args.quick)


def configure_threads(requested: int | None) -> None:
    """Torch intra-op threads: ``--threads``, else ``$SCIML_THREADS``, else the idle cores.

    On a machine whose cores are busy with other processes, an OpenMP pool with one thread per core
    waits on the busy ones at every parallel region; measured here, an MgNO training step at 33²
    took 10.5 s with 2 threads against 0.08 s with 1 while one of 2 cores was busy. So unless the
    user chose (``--threads``, ``SCIML_THREADS``, or ``OMP_NUM_THREADS``, which torchrun sets), the
    command uses no more threads than there are idle cores by the 1-minute load average.
    """
    import torch

    if requested is None and os.environ.get("SCIML_THREADS"):
        try:
            requested = int(os.environ["SCIML_THREADS"])
        except ValueError:
            raise ConfigError(
                f"SCIML_THREADS={os.environ['SCIML_THREADS']!r} is not an integer"
            ) from None
    if requested is not None:
        if requested < 1:
            raise ConfigError(f"--threads must be >= 1, got {requested}")
        torch.set_num_threads(requested)
        return
    if os.environ.get("OMP_NUM_THREADS"):
        return
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    idle = max(1, int(round((cpus or 1) - os.getloadavg()[0])))
    if idle < torch.get_num_threads():
        # Silent on purpose: an error must stay one line, and the choice is in --help.
        torch.set_num_threads(idle)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sciml", description=__doc__)
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: the idle cores; also $SCIML_THREADS)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    f = sub.add_parser("fit", help="train and evaluate from a recipe")
    f.add_argument("recipe", help="a recipe name (see `sciml list`) or a YAML file")
    f.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a recipe key, e.g. --set model.hidden_size=32 (repeatable)",
    )
    f.add_argument("--run-dir", help="run folder (default runs/RECIPE; resumed if present)")
    f.add_argument("--fresh", action="store_true", help="start again instead of resuming")
    f.add_argument("--quiet", action="store_true", help="no progress bar")
    f.set_defaults(func=cmd_fit)

    e = sub.add_parser("eval", help="evaluate the best checkpoint of a run on its test split")
    e.add_argument("run", help="run folder")
    e.set_defaults(func=cmd_eval)

    pr = sub.add_parser("predict", help="predict from an input file with a trained run")
    pr.add_argument("run", help="run folder")
    pr.add_argument(
        "--input", required=True, help="input file (forecasting: CSV, sensors as columns)"
    )
    pr.add_argument("--output", help="output folder (default RUN/predictions)")
    pr.set_defaults(func=cmd_predict)

    d = sub.add_parser("data", help="data sets")
    dsub = d.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    g = dsub.add_parser(
        "generate",
        help="generate (or load) a data set into the cache; options as --key value (e.g. "
        "--n 1000 --resolution 64 --workers 2; --n is the number of training samples) or "
        "--set key=value",
    )
    g.add_argument("name", help="data set name (see `sciml list`)")
    g.add_argument("--set", action="append", metavar="KEY=VALUE")
    g.set_defaults(func=cmd_data_generate, takes_extra=True)

    li = sub.add_parser("list", help="recipes, tasks, models and data sets")
    li.set_defaults(func=cmd_list)

    de = sub.add_parser("demo", help="one short run per capability, with metrics and plots")
    de.add_argument("--out", default="runs/demo", help="folder for the demo runs")
    de.add_argument("--quick", action="store_true", help="even shorter (used by the tests)")
    de.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    debug = bool(os.environ.get("SCIML_DEBUG"))
    try:
        if getattr(args, "takes_extra", False):
            configure_threads(args.threads)
            return args.func(args, extra)
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        configure_threads(args.threads)
        return args.func(args)
    except KeyboardInterrupt:
        print("sciml: interrupted", file=sys.stderr)
        return 130
    except (SciMLError, ValueError, TypeError, KeyError, OSError, ImportError) as e:
        if debug:
            traceback.print_exc()
        msg = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
        if isinstance(e, KeyError):
            msg = f"missing key {e}"
        print(f"sciml: error: {msg}", file=sys.stderr)
        return 2
