"""Lottery tickets: test error against sparsity, winning tickets against random re-initialisation.

Issue 23 asks for the lottery-ticket experiment of Frankle and Carbin (ICLR 2019, Figures 3-4) on
two of the toolkit's jobs: accuracy against sparsity for a forecaster on LOS and for MgNO on
Darcy, the winning tickets (the surviving weights reset to their initial values) against the
same masks trained from a new random initialisation. Both come from one recipe key,
``train.pruning={rounds, fraction, control: true}`` (sciml.train's iterative magnitude pruning,
global scope), run through the public API:

- ``los``: the ``los-tts`` recipe (time-then-space, LOS from ../shared/data/timeseries, window and
  horizon 12, masked MAE) with ``--los-epochs`` epochs per training; metric: test MAE (mph).
- ``darcy``: the ``darcy-mgno`` recipe at ``--darcy-res``² (``--darcy-n`` training samples,
  generated and cached) with ``--darcy-epochs`` epochs per training; metric: test rel L2.

Each training of a round has the dense training's budget. Reported per job: the metric of the
dense network, and per round the sparsity, the ticket's and the control's metric (the weights
of the epoch with the best validation loss, evaluated on the test split). The rows of the page:
at the highest sparsity, ticket / control (the paper's claim: < 1, the ticket trains better) and
ticket / dense (the paper's claim: about 1 or below at moderate sparsity). One seed, as the
run's budget allows; the paper averages five.

GraNet (``train.pruning.method: granet``, Liu et al., NeurIPS 2021) beside them: one training to
the last ticket's sparsity with the epochs of the ticket chain (the dense training and every
ticket round), the row GraNet / ticket (GraNet's claim: better than iterative pruning at the
same sparsity and budget).

Run (one thread, nothing else running): ``.venv/bin/python benchmarks/lottery.py`` (about
an hour at the defaults: 9 trainings and a GraNet run of 5 trainings' epochs per job);
``--quick``: tiny budgets, not recorded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TIMESERIES = REPO.parent / "shared" / "data" / "timeseries"


def _recipe(job: str, args: argparse.Namespace) -> tuple[str, list[str], str]:
    """Recipe name, overrides and the test metric of one job."""
    pruning = (f"train.pruning={{rounds: {args.rounds}, fraction: {args.fraction}, "
               f"control: true, scope: global}}")
    if job == "los":
        over = [f"data.options={{root: '{args.los_root}', zeros_as_missing: true}}",
                f"train.max_epochs={args.los_epochs}", "train.tensorboard=false", pruning]
        if args.quick:
            over += ["model.hidden_size=8"]
        return "los-tts", over, "test/mae"
    n_test = 10 if args.quick else 100
    over = [f"data.options={{n_train: {args.darcy_n}, n_test: {n_test}, "
            f"resolution: {args.darcy_res}}}",
            f"train.max_epochs={args.darcy_epochs}", "train.tensorboard=false", pruning]
    if args.quick:
        over += ["model.width=8", "model.n_layers=2", "model.num_smooth=[1, 1]"]
    return "darcy-mgno", over, "test/rel_l2"


def run_job(job: str, args: argparse.Namespace, folder: Path) -> dict:
    import sciml

    name, over, metric = _recipe(job, args)
    t0 = time.perf_counter()
    report = sciml.fit(sciml.load_recipe(name, over), run_dir=folder / job, progress=False)
    rounds = report["pruning"]
    dense = rounds[0]["test"][metric]
    table = {}
    for e in rounds[1:]:
        table.setdefault(e["round"], {"sparsity": e["sparsity"]})[e["kind"]] = e["test"][metric]
    out = {"recipe": name, "overrides": over, "metric": metric, "dense": dense,
           "rounds": [table[r] for r in sorted(table)], "seconds": time.perf_counter() - t0}
    if args.granet:
        # GraNet at the last ticket's sparsity, with the ticket chain's budget (dense training
        # plus every ticket round) in one training
        epochs = args.los_epochs if job == "los" else args.darcy_epochs
        sparsity = out["rounds"][-1]["sparsity"]
        g_over = [o for o in over if not o.startswith(("train.pruning", "train.max_epochs"))]
        g_over += [f"train.max_epochs={epochs * (args.rounds + 1)}",
                   f"train.pruning={{method: granet, sparsity: {sparsity}}}"]
        t1 = time.perf_counter()
        g = sciml.fit(sciml.load_recipe(name, g_over), run_dir=folder / f"{job}-granet",
                      progress=False)
        out["granet"] = {"test": g["test"][metric], "sparsity": g["pruning"][0]["sparsity"],
                         "epochs": epochs * (args.rounds + 1),
                         "seconds": time.perf_counter() - t1}
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", default="los,darcy")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--fraction", type=float, default=0.4,
                    help="of the remaining weights pruned per round (0.4: 13 %% left after 4)")
    ap.add_argument("--los-epochs", type=int, default=10)
    ap.add_argument("--los-root", type=Path, default=TIMESERIES)
    ap.add_argument("--darcy-epochs", type=int, default=15)
    ap.add_argument("--darcy-n", type=int, default=400)
    ap.add_argument("--darcy-res", type=int, default=32)
    ap.add_argument("--no-granet", dest="granet", action="store_false",
                    help="leave out the GraNet arm")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="tiny budgets (not recorded)")
    _record.add_record_args(ap)
    args = ap.parse_args(argv)
    if args.quick:
        args.rounds, args.los_epochs, args.darcy_epochs, args.darcy_n = 2, 1, 1, 16
        args.darcy_res = 17
    if not (args.los_root / "los_speed.csv").is_file() and "los" in args.jobs:
        raise SystemExit(f"no los_speed.csv in {args.los_root} (--los-root)")
    torch.set_num_threads(args.threads)
    run = _record.start("lottery", args, quick=args.quick, argv=argv)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for job in args.jobs.split(","):
            results[job] = run_job(job, args, Path(tmp))
            print(f"[{job}] done in {results[job]['seconds'] / 60:.1f} min", flush=True)
    lines = [f"- {args.rounds} rounds pruning {args.fraction:.0%} of the remaining weight "
             "matrices each (global magnitude), rewound to initialisation; control: the same "
             f"masks from a new random initialisation; {args.threads} thread(s), seed 0", ""]
    comps, series = [], {}
    for job, r in results.items():
        label = {"los": "LOS time-then-space", "darcy": f"Darcy {args.darcy_res}² MgNO"}[job]
        budget = (f"{args.los_epochs} epochs per training" if job == "los" else
                  f"{args.darcy_n} train, {args.darcy_epochs} epochs per training")
        lines += [f"**{label}** (`{r['recipe']}`, {budget}; {r['metric']}; "
                  f"{r['seconds'] / 60:.1f} min)", "",
                  "| weights left | ticket | random re-init | ticket / re-init |",
                  "|---|---|---|---|",
                  f"| 100 % (dense) | {r['dense']:.4f} | – | – |"]
        for row in r["rounds"]:
            lines.append(f"| {100 * (1 - row['sparsity']):.1f} % | {row['ticket']:.4f} | "
                         f"{row['reinit']:.4f} | {row['ticket'] / row['reinit']:.3f} |")
        if "granet" in r:
            gr = r["granet"]
            lines.append(f"| GraNet, {100 * (1 - gr['sparsity']):.1f} % ({gr['epochs']} epochs "
                         f"in one training, {gr['seconds'] / 60:.1f} min) | {gr['test']:.4f} "
                         "| – | – |")
        lines.append("")
        last = r["rounds"][-1]
        left = f"{100 * (1 - last['sparsity']):.0f} % of the weights left"
        setting = f"{label}, {budget}, {args.rounds} rounds of {args.fraction:.0%}"
        comps += [
            _record.comparison(f"lottery.{job}.ticket_vs_reinit",
                               f"{label}: {r['metric']} of the winning ticket / the same mask "
                               f"randomly re-initialised, {left}", last["ticket"],
                               last["reinit"], anchor_name="random re-init",
                               target=("ratio", "<", 1.0), setting=setting),
            _record.comparison(f"lottery.{job}.ticket_vs_dense",
                               f"{label}: {r['metric']} of the winning ticket / the dense "
                               f"network, {left}", last["ticket"], r["dense"],
                               anchor_name="dense", setting=setting),
        ]
        if "granet" in r:
            comps.append(_record.comparison(
                f"lottery.{job}.granet_vs_ticket",
                f"{label}: {r['metric']} of GraNet / the winning ticket, {left}, the ticket "
                "chain's epochs in one training", r["granet"]["test"], last["ticket"],
                anchor_name="lottery ticket", setting=setting))
        xs = [100.0] + [100 * (1 - row["sparsity"]) for row in r["rounds"]]
        series[f"{job}: ticket"] = (xs, [r["dense"]] + [row["ticket"] for row in r["rounds"]])
        series[f"{job}: random re-init"] = (xs, [r["dense"]] + [row["reinit"]
                                                                for row in r["rounds"]])
    figures = [_record.figure("lottery", "Lottery tickets: test error against weights left",
                              "weights left (%)", "test error (MAE mph / rel L2)", series)]
    run.record("Lottery tickets: winning tickets against random re-initialisation",
               "\n".join(lines), comps, figures)


if __name__ == "__main__":
    main()
