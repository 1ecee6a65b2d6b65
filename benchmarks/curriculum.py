"""Cyclical curriculum against plain training on two jobs, same budget in examples.

Issue 23 asks for the cyclical curriculum (Kesgin and Amasyali, TNNLS 2023; sciml.train's
``trainer.curriculum``) benchmarked against plain training on two jobs. Both arms of a job run
the same recipe, seed for seed, through the public API; the curriculum arm adds
``train.curriculum={method: cyclical}`` (shares 0.25 → 0.5 → 1 → 0.5 → ... of the training set,
drawn by the model's own per-example loss), which passes over as many examples as the plain
arm's ``max_epochs`` epochs. The test metric is that of the weights with the best validation
loss, as ``sciml fit`` reports it.

- ``los``: the ``los-tts`` recipe (time-then-space on LOS from ../shared/data/timeseries),
  ``--los-epochs`` epochs; test MAE (mph).
- ``darcy``: the ``darcy-mgno`` recipe at ``--darcy-res``² with ``--darcy-n`` training samples,
  ``--darcy-epochs`` epochs; test rel L2.

Rows of the page: per job, the median over ``--seeds`` of curriculum / plain (the paper's claim:
below 1) and the median training time ratio (the curriculum scores every training example once
per pass).

Run (one thread, nothing else running): ``.venv/bin/python benchmarks/curriculum.py`` (about
20 minutes at the defaults); ``--quick``: tiny budgets, not recorded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TIMESERIES = REPO.parent / "shared" / "data" / "timeseries"


def _recipe(job: str, args: argparse.Namespace, seed: int) -> tuple[str, list[str], str]:
    if job == "los":
        over = [f"data.options={{root: '{args.los_root}', zeros_as_missing: true}}",
                f"train.max_epochs={args.los_epochs}", f"train.seed={seed}",
                "train.tensorboard=false"]
        return "los-tts", over + (["model.hidden_size=8"] if args.quick else []), "test/mae"
    over = [f"data.options={{n_train: {args.darcy_n}, n_test: {10 if args.quick else 100}, "
            f"resolution: {args.darcy_res}}}", f"train.max_epochs={args.darcy_epochs}",
            f"train.seed={seed}", "train.tensorboard=false"]
    if args.quick:
        over += ["model.width=8", "model.n_layers=2", "model.num_smooth=[1, 1]"]
    return "darcy-mgno", over, "test/rel_l2"


def run_job(job: str, args: argparse.Namespace, folder: Path) -> dict:
    import sciml

    out: dict = {"plain": [], "curriculum": [], "plain_s": [], "curriculum_s": []}
    for seed in args.seeds:
        name, over, metric = _recipe(job, args, seed)
        for arm in ("plain", "curriculum"):
            extra = [] if arm == "plain" else [f"train.curriculum={{method: cyclical, start: "
                                               f"{args.start}, multiplier: {args.multiplier}}}"]
            t0 = time.perf_counter()
            report = sciml.fit(sciml.load_recipe(name, over + extra),
                               run_dir=folder / f"{job}-{arm}-{seed}", progress=False)
            out[f"{arm}_s"].append(time.perf_counter() - t0)
            out[arm].append(report["test"][metric])
            print(f"[{job}] seed {seed} {arm}: {metric} {out[arm][-1]:.4f} "
                  f"({out[f'{arm}_s'][-1]:.0f} s)", flush=True)
    out["recipe"], out["metric"] = name, metric
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", default="los,darcy")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--start", type=float, default=0.25)
    ap.add_argument("--multiplier", type=float, default=0.5)
    ap.add_argument("--los-epochs", type=int, default=10)
    ap.add_argument("--los-root", type=Path, default=TIMESERIES)
    ap.add_argument("--darcy-epochs", type=int, default=20)
    ap.add_argument("--darcy-n", type=int, default=400)
    ap.add_argument("--darcy-res", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="tiny budgets (not recorded)")
    _record.add_record_args(ap)
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.los_epochs, args.darcy_epochs, args.darcy_n = [0], 2, 2, 16
        args.darcy_res = 17
    if "los" in args.jobs and not (args.los_root / "los_speed.csv").is_file():
        raise SystemExit(f"no los_speed.csv in {args.los_root} (--los-root)")
    torch.set_num_threads(args.threads)
    run = _record.start("curriculum", args, quick=args.quick, argv=argv)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for job in args.jobs.split(","):
            results[job] = run_job(job, args, Path(tmp))
    lines = [f"- cyclical curriculum: shares from {args.start} to 1 by factors of "
             f"{args.multiplier}, drawn ∝ 1 / the current model's per-example loss; the same "
             f"examples in total as plain training; seeds {', '.join(map(str, args.seeds))}; "
             f"{args.threads} thread(s)", ""]
    comps = []
    for job, r in results.items():
        label = {"los": "LOS time-then-space", "darcy": f"Darcy {args.darcy_res}² MgNO"}[job]
        budget = (f"{args.los_epochs} epochs" if job == "los" else
                  f"{args.darcy_n} train, {args.darcy_epochs} epochs")
        lines += [f"**{label}** (`{r['recipe']}`, {budget}; {r['metric']})", "",
                  "| seed | plain | curriculum | ratio | seconds plain / curriculum |",
                  "|---|---|---|---|---|"]
        for i, seed in enumerate(args.seeds):
            lines.append(f"| {seed} | {r['plain'][i]:.4f} | {r['curriculum'][i]:.4f} | "
                         f"{r['curriculum'][i] / r['plain'][i]:.3f} | {r['plain_s'][i]:.0f} / "
                         f"{r['curriculum_s'][i]:.0f} |")
        lines.append("")
        setting = f"{label}, {budget}, {len(args.seeds)} seeds"
        comps += [
            _record.comparison(f"curriculum.{job}.error",
                               f"{label}: median {r['metric']}, cyclical curriculum / plain "
                               "training (same examples)", statistics.median(r["curriculum"]),
                               statistics.median(r["plain"]), anchor_name="plain",
                               setting=setting),
            _record.comparison(f"curriculum.{job}.time",
                               f"{label}: median training seconds, cyclical curriculum / plain",
                               statistics.median(r["curriculum_s"]),
                               statistics.median(r["plain_s"]), unit="s", anchor_name="plain",
                               setting=setting),
        ]
    run.record("Cyclical curriculum against plain training", "\n".join(lines), comps)


if __name__ == "__main__":
    main()
