"""Continual learning with hypernetworks against fine-tuning and EWC on a sequence of forecasts.

Issue 23 asks for the dependency-preserving hypernetworks of Chandra, Varshney, Srijith and
Gupta (WACV 2023; ``trainer.continual`` with ``method: hypernetwork, hypernetwork.kind: rnn``)
on a sequence of forecasting tasks, against fine-tuning and a regularised baseline: average
accuracy and forgetting. The sequence: ``--tasks`` GPVAR series (Zambon and Alippi), each on its
own random geometric graph (seed ``k``) with its own filter Θ_k (:data:`THETAS`: the default
GPVAR filter, its negation, and three others), so that what one task teaches contradicts the
next. One recipe (``gpvar-tts``: time-then-space, the recipe's budget and early stopping per
task) runs under four methods, seed for seed, through the public API:

- ``finetune``: the plain model trained on each task in turn;
- ``ewc``: online EWC (λ = ``--ewc-lambda``);
- ``hnet-mlp``: von Oswald et al.'s chunked MLP hypernetwork with its output regulariser;
- ``hnet-rnn``: the dependency-preserving LSTM hypernetwork (same regulariser, β = ``--beta``).

Reported per method (median over ``--seeds``): the test MAE on every task after the last one
(``final``), right after each was learned (``just_learned``), and the forgetting (mean over all
but the last task of final − just learned; 0 = nothing forgotten). GPVAR's optimal one-step MAE is
``noise_std·√(2/π)`` ≈ 0.16 (σ = 0.2), a floor for all. Rows of the page: the RNN hypernetwork's
final MAE and forgetting against fine-tuning, EWC and the MLP hypernetwork.

Run (one thread, nothing else running): ``.venv/bin/python benchmarks/continual.py`` (about
6 minutes at the defaults); ``--quick``: tiny budgets, not recorded.
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

#: GPVAR filters Θ (3 × 2: powers of the adjacency × lags) of the task sequence
THETAS = [
    [[1.0, -0.9], [-1.6, 0.9], [-0.7, -0.9]],
    [[-1.0, 0.9], [1.6, -0.9], [0.7, 0.9]],
    [[0.5, 0.3], [0.8, -0.4], [-0.9, 0.2]],
    [[-0.6, 0.7], [1.2, 0.0], [0.4, -0.8]],
    [[0.0, -1.0], [0.9, 0.9], [-1.2, 0.3]],
]
METHODS = {
    "finetune": {"method": "finetune"},
    "ewc": {"method": "ewc"},
    "hnet-mlp": {"method": "hypernetwork", "hypernetwork": {"kind": "mlp"}},
    "hnet-rnn": {"method": "hypernetwork", "hypernetwork": {"kind": "rnn"}},
}


def recipe(args: argparse.Namespace, method: str, seed: int) -> dict:
    import sciml

    r = dict(sciml.load_recipe("gpvar-tts"))
    r["data"] = {**r["data"], "options": {"n_nodes": args.nodes, "n_steps": args.steps}}
    if args.quick:
        r["model"] = {"name": "time_then_space", "hidden_size": 8}
    cc = {**METHODS[method], "beta": args.beta, "ewc_lambda": args.ewc_lambda,
          "tasks": [{"options": {"seed": k, "theta": THETAS[k % len(THETAS)]}}
                    for k in range(args.tasks)]}
    if "hypernetwork" in cc:
        cc["hypernetwork"] = {**cc["hypernetwork"], "chunk_size": args.chunk_size,
                              "hidden": args.hnet_hidden}
    r["train"] = {**r["train"], "max_epochs": args.epochs, "seed": seed, "progress": False,
                  "tensorboard": False, "continual": cc}
    return r


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--tasks", type=int, default=5)
    ap.add_argument("--nodes", type=int, default=30)
    ap.add_argument("--steps", type=int, default=1500, help="time steps of each task's series")
    ap.add_argument("--epochs", type=int, default=10, help="epochs per task (early stopping on)")
    ap.add_argument("--beta", type=float, default=0.01)
    ap.add_argument("--ewc-lambda", type=float, default=1.0e6,
                    help="EWC strength (the Fisher of batch-mean losses: see ContinualConfig)")
    ap.add_argument("--chunk-size", type=int, default=500)
    ap.add_argument("--hnet-hidden", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="tiny budgets (not recorded)")
    _record.add_record_args(ap)
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.tasks, args.nodes, args.steps, args.epochs = [0], 3, 10, 300, 1
        args.chunk_size, args.hnet_hidden = 128, 16
    methods = args.methods.split(",")
    bad = sorted(set(methods) - set(METHODS))
    if bad:
        ap.error(f"unknown method {bad[0]!r}; choose from {', '.join(METHODS)}")
    torch.set_num_threads(args.threads)
    run = _record.start("continual", args, quick=args.quick, argv=argv)
    import sciml

    res: dict[str, dict[str, list[float]]] = {m: {"final": [], "just_learned": [],
                                                  "forgetting": [], "seconds": []}
                                              for m in methods}
    extra: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for m in methods:
                t0 = time.perf_counter()
                report = sciml.fit(recipe(args, m, seed), Path(tmp) / f"{m}-{seed}",
                                   progress=False)
                c = report["continual"]
                for k in ("final", "just_learned", "forgetting"):
                    res[m][k].append(c[k])
                res[m]["seconds"].append(time.perf_counter() - t0)
                if "hypernetwork" in c:
                    extra[m] = (f"{c['hypernetwork']['parameters']:,} hypernetwork parameters "
                                f"for {c['hypernetwork']['generated']:,} generated")
                else:
                    extra[m] = f"{report['parameters']:,} parameters"
                print(f"seed {seed} {m}: final {c['final']:.4f} just learned "
                      f"{c['just_learned']:.4f} forgetting {c['forgetting']:.4f} "
                      f"({res[m]['seconds'][-1]:.0f} s)", flush=True)
    med = {m: {k: statistics.median(v) for k, v in r.items()} for m, r in res.items()}
    lines = [f"- {args.tasks} GPVAR tasks ({args.nodes} nodes, {args.steps} steps each; task k: "
             f"graph seed k, filter THETAS[k]), `gpvar-tts` (time-then-space), up to "
             f"{args.epochs} epochs per task with the recipe's early stopping; β = {args.beta}, "
             f"EWC λ = {args.ewc_lambda}; hypernetwork chunks of {args.chunk_size}, hidden "
             f"{args.hnet_hidden}; seeds {', '.join(map(str, args.seeds))}; {args.threads} "
             f"thread(s). Test MAE in the data's units (optimal one-step ≈ 0.16).", "",
             "| method | final MAE | just learned | forgetting | seconds | size |",
             "|---|---|---|---|---|---|"]
    for m in methods:
        lines.append(f"| {m} | {med[m]['final']:.4f} | {med[m]['just_learned']:.4f} | "
                     f"{med[m]['forgetting']:.4f} | {med[m]['seconds']:.0f} | {extra[m]} |")
    lines.append("")
    setting = f"{args.tasks} GPVAR tasks, {args.epochs} epochs each, {len(args.seeds)} seeds"
    comps = []
    if "hnet-rnn" in med:
        for other in [m for m in ("finetune", "ewc", "hnet-mlp") if m in med]:
            comps.append(_record.comparison(
                f"continual.final.{other}", f"final test MAE over the tasks, RNN hypernetwork "
                f"/ {other} (median over seeds)", med["hnet-rnn"]["final"],
                med[other]["final"], anchor_name=other, setting=setting))
            comps.append(_record.comparison(
                f"continual.forgetting.{other}", f"forgetting (MAE after the last task − just "
                f"after learning), RNN hypernetwork and {other}", med["hnet-rnn"]["forgetting"],
                med[other]["forgetting"], anchor_name=other, setting=setting))
    run.record("Continual learning with hypernetworks (GPVAR task sequence)", "\n".join(lines),
               comps)


if __name__ == "__main__":
    main()
