"""The ``sciml`` command: fit, eval, predict, data generate, list, demo.

Every command is a thin layer over the public API (:func:`sciml.fit`, :func:`sciml.evaluate`,
:func:`sciml.load_run`). Argument, recipe and run-folder mistakes are found before torch is
imported (recipes are checked against the static catalog of the registries,
:mod:`sciml._catalog`), so they are reported at once, in one line.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from sciml.errors import ConfigError, SciMLError

__all__ = ["main", "build_parser"]


def _print_metrics(title: str, metrics: dict[str, Any]) -> None:
    print(title)
    flat = {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
    for key in sorted(flat):
        print(f"  {key:<22} {flat[key]:.4f}")


def _print_report(report: dict[str, Any]) -> None:
    for key, value in report.items():
        if isinstance(value, dict):
            _print_metrics(key, value)
    if report.get("pruning"):  # a lottery-ticket run: one line per training
        first = report["pruning"][0]["test"]
        key = next((k for k in ("test/rel_l2", "test/mae", "test/energy_mae", "test/accuracy",
                                "test/loss")
                    if k in first), next(iter(first)))
        print(f"pruning rounds ({key} on the test data)")
        for e in report["pruning"]:
            print(f"  round {e['round']} {e['kind']:<7} sparsity {e['sparsity']:.3f}  "
                  f"{e['test'][key]:.4f}")
    if report.get("continual"):  # a continual run: the metric on each task after each task
        c = report["continual"]
        print(f"continual learning ({c['method']}; {c['metric']} on each task's test data, "
              f"rows: after learning task t)")
        for t, row in enumerate(c["matrix"]):
            print(f"  after task {t}: " + "  ".join(f"{v:.4f}" for v in row))
        print(f"  final {c['final']:.4f}  just learned {c['just_learned']:.4f}  "
              f"forgetting {c['forgetting']:.4f}")


def cmd_fit(args: argparse.Namespace) -> int:
    from sciml._catalog import check_recipe
    from sciml.recipes import load_recipe
    from sciml.runs import RunFolder

    recipe = load_recipe(args.recipe, args.set or [])
    check_recipe(recipe)
    run_dir = Path(args.run_dir) if args.run_dir else Path("runs") / recipe.name
    run = RunFolder(run_dir)
    if args.extend is not None and args.extend < 1:
        raise ConfigError(f"--extend must be a positive number of epochs / steps, got "
                          f"{args.extend}")
    if args.init is not None:
        if args.extend is not None:
            raise ConfigError("--init and --extend exclude each other: --extend trains the run "
                              "in the folder further, --init starts a new run from another "
                              "run's weights")
        _checked_run(args.init)
    if not args.fresh and args.extend is None:
        run.refuse_other(recipe)
        if run.stored_recipe() is not None:
            print(f"resuming the run in {run_dir}")
    configure_threads(args.threads)
    import sciml

    report = sciml.fit(recipe, run_dir, fresh=args.fresh, extend=args.extend,
                       progress=not args.quiet, init=args.init)
    from sciml.train import dist_env

    if dist_env().is_main:
        if "init" in report:
            init = report["init"]
            print(f"started from {init['run']} ({init['checkpoint']}): {init['reused']} weight "
                  f"tensors reused, {init['reused_values']} of {init['total_values']} values")
        _print_report(report)
        print(f"run folder: {run_dir}")
    return 0


def _checked_run(path: str) -> Path:
    from sciml.runs import RunFolder

    run = RunFolder(path)
    run.require()
    return run.path


def cmd_eval(args: argparse.Namespace) -> int:
    from sciml._catalog import _check_section, load_catalog

    run_dir = _checked_run(args.run)
    data: Any = None
    dataset_options: dict[str, Any] | None = None
    if args.data is not None:
        source = Path(args.data)
        datasets = load_catalog()["datasets"]
        if source.is_dir():
            raise IsADirectoryError(f"--data {source} is a folder, not a file")
        if source.is_file():
            data = source
        elif args.data in datasets:  # a registered data set, options from --set
            dataset_options = _generate_options(args, [])
            _check_section(dataset_options, datasets[args.data]["config"], args.data,
                           f"dataset {args.data!r}")
        else:
            raise FileNotFoundError(f"no data file at {source} (nor a data set of that name; "
                                    f"`sciml list` names them)")
    if args.set and dataset_options is None:
        raise ConfigError("--set gives the options of a data set: use it with --data NAME")
    configure_threads(args.threads)
    import sciml

    if dataset_options is not None:
        from sciml.progress import quiet
        from sciml.registry import DATASETS

        with quiet(args.quiet):
            data = DATASETS.build(args.data, dataset_options, where=args.data)
    report = sciml.evaluate(run_dir, data=data)
    for key in ("train_resolution", "test_resolution"):
        if key in report:
            print(f"{key.replace('_', ' ')}: {' x '.join(str(n) for n in report[key])}")
    _print_report(report)
    print(f"wrote {run_dir / 'eval.json'}" if os.access(run_dir, os.W_OK) else
          f"{run_dir} is read-only: eval.json not written")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    run_dir = _checked_run(args.run)
    source = Path(args.input)
    if source.is_dir():
        raise IsADirectoryError(f"input {source} is a folder, not a file")
    if not source.is_file():
        raise FileNotFoundError(f"no input file at {source}")
    configure_threads(args.threads)
    import sciml

    run = sciml.load_run(run_dir)
    for path in run.predict_file(source, Path(args.output) if args.output else None):
        print(f"wrote {path}")
    return 0


MAX_COMPARE_ROWS = 2000  # sciml.analysis's MAX_ROWS (not imported: torch loads late)


def cmd_compare(args: argparse.Namespace) -> int:
    run_a, run_b = _checked_run(args.run_a), _checked_run(args.run_b)
    if args.data is not None:
        source = Path(args.data)
        if not source.is_file():
            raise FileNotFoundError(f"no data file at {source}" if not source.is_dir() else
                                    f"--data {source} is a folder, not a file")
    out = Path(args.out) if args.out else Path(f"compare-{run_a.name}-{run_b.name}")
    configure_threads(args.threads)
    import sciml

    layers = [p.strip() for p in args.layers.split(",") if p.strip()] if args.layers else None
    report = sciml.compare(run_a, run_b, data=args.data, samples=args.samples, layers=layers,
                           kernel=args.kernel, all_svcca=args.all_svcca, out=out)
    rows = sorted({x["rows"] for x in report["layers_a"] + report["layers_b"] if x["rows"]})
    span = (f"{rows[0]}" if len(rows) == 1 else f"{rows[0]} to {rows[-1]}") if rows else "no"
    print(f"A: {report['run_a']} ({report['model_a']}), B: {report['run_b']} "
          f"({report['model_b']}); {report['samples']} test sample(s) of "
          f"{report['evaluated_on']}, {span} rows per layer output (compared up to "
          f"{MAX_COMPARE_ROWS})")
    print(f"paired layers ({report['paired_by']}):")
    for p in report["pairs"]:
        cka = "–" if p["linear_cka"] is None else f"{p['linear_cka']:.3f}"
        extra = (f"  SVCCA {p['svcca']:.3f}  matched units {p['matched_correlation']:.3f}"
                 if "svcca" in p else f"  ({p['skipped']})" if "skipped" in p else "")
        print(f"  {p['a']:>20} ~ {p['b']:<20} linear CKA {cka}{extra}")
    print(f"wrote {out / 'compare.json'} and {out / 'cka.png'}")
    return 0


def _generate_options(args: argparse.Namespace, extra: list[str]) -> dict[str, Any]:
    from sciml.recipes import parse_override

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
    return options


def cmd_data_generate(args: argparse.Namespace, extra: list[str]) -> int:
    from sciml._catalog import _check_section, dataset_help, load_catalog

    if args.name in (None, "-h", "--help"):
        build_parser()._subparsers_generate.print_help()  # type: ignore[attr-defined]
        return 0
    if "-h" in extra or "--help" in extra:
        print(dataset_help(args.name))
        return 0
    datasets = load_catalog()["datasets"]
    if args.name not in datasets:
        raise ConfigError(f"unknown dataset {args.name!r}; valid datasets: "
                          + ", ".join(sorted(datasets)))
    options = _generate_options(args, extra)
    fields = (datasets[args.name]["config"] or {"fields": {}})["fields"]
    if "n" in options and "n" not in fields and "n_train" in fields:
        options["n_train"] = options.pop("n")  # `--n 1000`: the number of training samples
    _check_section(options, datasets[args.name]["config"], args.name, f"dataset {args.name!r}")
    configure_threads(args.threads)
    from sciml.progress import quiet
    from sciml.registry import DATASETS

    with quiet(args.quiet):
        result = DATASETS.build(args.name, options, where=args.name)
    print(f"{args.name}: {result}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from sciml._catalog import load_catalog
    from sciml.recipes import recipe_names

    catalog = load_catalog()
    print("recipes:  " + ", ".join(recipe_names()))
    print("jobs:     " + ", ".join(sorted(catalog["jobs"])))
    print("models:")
    for name, entry in sorted(catalog["models"].items()):
        print(f"  {name:<18} {entry['help']}")
    print("datasets:")
    for name, entry in sorted(catalog["datasets"].items()):
        print(f"  {name:<18} {entry['help']}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    configure_threads(args.threads)
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
    if requested is None and os.environ.get("SCIML_THREADS"):
        try:
            requested = int(os.environ["SCIML_THREADS"])
        except ValueError:
            raise ConfigError(
                f"SCIML_THREADS={os.environ['SCIML_THREADS']!r} is not an integer"
            ) from None
    if requested is not None and requested < 1:
        raise ConfigError(f"--threads must be >= 1, got {requested}")
    import torch

    if requested is not None:
        torch.set_num_threads(requested)
        return
    if os.environ.get("OMP_NUM_THREADS"):
        return
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    idle = max(1, int(round((cpus or 1) - os.getloadavg()[0])))
    if idle < torch.get_num_threads():
        # Silent on purpose: an error must stay one line, and the choice is in --help.
        torch.set_num_threads(idle)


_THREADS_HELP = "torch threads (default: the idle cores; also $SCIML_THREADS)"

PREDICT_INPUTS = """\
Predict with a trained run folder from an input file; the outputs go to RUN/predictions (or
--output), all files of one prediction or none. The input, by the run's job:

  forecasting       CSV, one column per node named by the training series' node id (any order;
                    the run's report lists them), an optional first column date/time; at least
                    `window` rows, the last `window` are used. Output forecast.csv (time, step,
                    nodes) and forecast.nc; times follow the input's last stamp at its frequency,
                    which must be the training series'.
  operator          .npy, .pt or .h5 (key x) fields (n, c, *spatial) at any resolution, channel
                    first (c as in training). Output prediction.h5 (x, y).
  physics_informed  .npy points (n, 2) with columns (x, t); points outside the trained domain
                    get a warning. Output prediction.h5 (points, u).
  hard_constraint   .npy initial states (n, *space) on the run's grid. Output prediction.h5
                    (initial, u (n, *space, n_t)).
  molecular         structures: rMD17 / sGDML .npz, (extended) .xyz, ASE .db / .json. Output
                    prediction.h5 (energy, forces, or the property y; z, pos, counts).
  nbody             .npz or .h5 with pos, vel (S, N, 3) and charges (S, N). Output
                    prediction.h5 (pred: positions at the target frame).
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sciml", description="Train, evaluate and predict from "
                                "recipes; generate data sets; list what is registered.")
    p.add_argument("--threads", type=int, default=None, help=_THREADS_HELP)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, **kwargs)
        # accepted after the command too; SUPPRESS keeps a value given before it
        parser.add_argument("--threads", type=int, default=argparse.SUPPRESS, help=_THREADS_HELP)
        return parser

    f = command("fit", help="train and evaluate from a recipe")
    f.add_argument("recipe", help="a recipe name (see `sciml list`) or a YAML file")
    f.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a recipe key, e.g. --set model.hidden_size=32 (repeatable)")
    f.add_argument("--run-dir", help="run folder (default runs/RECIPE; resumed if it holds a run "
                   "of the same recipe)")
    f.add_argument("--fresh", action="store_true", help="start again instead of resuming")
    f.add_argument("--extend", type=int, metavar="N", help="train the run in the folder further: "
                   "N more epochs (steps for hard_constraint, L-BFGS iterations for "
                   "physics_informed)")
    f.add_argument("--init", metavar="RUN", help="start from the model weights of this trained "
                   "run where names and shapes fit (fine-tuning, e.g. at another resolution); "
                   "the report's init says what was reused")
    f.add_argument("--quiet", action="store_true", help="no progress bars")
    f.set_defaults(func=cmd_fit)

    e = command("eval", help="evaluate a trained run on its test data or a file "
                "(writes RUN/eval.json)")
    e.add_argument("run", help="run folder")
    e.add_argument("--data", metavar="FILE|NAME", help="evaluate on this file instead (operator "
                   "runs: .npz / .h5 / .pt / .mat with arrays x and y, at any resolution; the "
                   "report gives both resolutions and the restrict-predict-interpolate "
                   "baseline), or on the test split of the registered data set NAME")
    e.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="an option of the data set NAME, e.g. --set test_resolution=127 "
                   "(repeatable)")
    e.add_argument("--quiet", action="store_true", help="no progress bar while a data set is "
                   "generated")
    e.set_defaults(func=cmd_eval)

    pr = command("predict", help="predict from an input file with a trained run",
                 description=PREDICT_INPUTS, formatter_class=argparse.RawDescriptionHelpFormatter)
    pr.add_argument("run", help="run folder")
    pr.add_argument("--input", required=True, help="input file (see above for each job)")
    pr.add_argument("--output", help="output folder (default RUN/predictions)")
    pr.set_defaults(func=cmd_predict)

    c = command("compare", help="how alike two trained runs' layers are (CKA heat map, SVCCA, "
                "unit matching) on run A's test samples")
    c.add_argument("run_a", help="run folder A (its test samples are the inputs)")
    c.add_argument("run_b", help="run folder B, a run of the same job")
    c.add_argument("--data", metavar="FILE", help="use the inputs of this file instead (as "
                   "`sciml eval --data FILE` reads it)")
    c.add_argument("--samples", type=int, default=200, help="the first N test samples "
                   "(default 200)")
    c.add_argument("--layers", metavar="PATTERNS", help="comma-separated module-name patterns, "
                   "e.g. 'layers.*,output' (default: the model's children and its output)")
    c.add_argument("--kernel", action="store_true", help="also kernel (RBF) CKA")
    c.add_argument("--all-svcca", action="store_true", help="also SVCCA between every pair of "
                   "layers (default: the paired layers only)")
    c.add_argument("--out", help="folder for compare.json and cka.png (default "
                   "compare-A-B; replaced as a whole)")
    c.set_defaults(func=cmd_compare)

    d = sub.add_parser("data", help="data sets")
    dsub = d.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    g = dsub.add_parser(
        "generate", add_help=False,
        help="generate (or load) a data set into the cache; options as --key value (e.g. "
        "--n 1000 --resolution 64 --workers 2; --n is the number of training samples) or "
        "--set key=value; `sciml data generate NAME --help` lists NAME's options",
        description="Generate (or load) a data set into the cache. `sciml data generate NAME "
        "--help` lists NAME's options.")
    g.add_argument("name", nargs="?", help="data set name (see `sciml list`)")
    g.add_argument("--set", action="append", metavar="KEY=VALUE")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.add_argument("--threads", type=int, default=argparse.SUPPRESS, help=_THREADS_HELP)
    g.set_defaults(func=cmd_data_generate, takes_extra=True)
    p._subparsers_generate = g  # type: ignore[attr-defined]

    li = command("list", help="recipes, jobs, models and data sets")
    li.set_defaults(func=cmd_list)

    de = command("demo", help="one short run per capability, with metrics and plots")
    de.add_argument("--out", default="runs/demo", help="folder for the demo runs")
    de.add_argument("--quick", action="store_true", help="even shorter (used by the tests)")
    de.set_defaults(func=cmd_demo)
    return p


def _one_line(e: BaseException) -> str:
    if isinstance(e, KeyError):
        return f"missing key {e}"
    if isinstance(e, OSError) and e.filename is not None and e.strerror:
        return f"{e.strerror}: {e.filename}"
    text = str(e).strip()
    return text.splitlines()[0] if text else e.__class__.__name__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if not hasattr(args, "threads"):
        args.threads = None
    debug = bool(os.environ.get("SCIML_DEBUG"))
    try:
        if getattr(args, "takes_extra", False):
            return args.func(args, extra)
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        return args.func(args)
    except KeyboardInterrupt:
        print("sciml: interrupted", file=sys.stderr)
        return 130
    except (SciMLError, ValueError, TypeError, KeyError, OSError, ImportError) as e:
        if debug:
            traceback.print_exc()
        print(f"sciml: error: {_one_line(e)}", file=sys.stderr)
        return 2
