"""Representation similarity: which measure finds the same layer in another seed's network?

Issue 23's representation-similarity item (``sciml.analysis``, ``sciml compare``) against the
sanity check of Kornblith, Norouzi, Lee, Hinton (*Similarity of Neural Network Representations
Revisited*, ICML 2019, Sec. 6.1, Table 2): networks of one architecture trained from different
seeds; for each layer of network A, the layer of network B most similar to it should be the
layer at the same depth. The paper: linear and RBF CKA identify nearly every layer, CCA-based
measures (SVCCA among them) far fewer. Here, through the public API:

- ``--seeds`` trainings of the ``darcy-mgno`` recipe at ``--res``² (``--n-train`` generated
  samples, ``--epochs`` epochs, width ``--width``): MgNO's lifting, its ``n_layers`` V-cycle
  layers and the projection are the layers compared (the model's output repeats the projection
  and is left out);
- ``sciml.compare(A, B, kernel=True, all_svcca=True)`` for every ordered pair of seeds: linear
  CKA and RBF CKA on the inputs view (one row per test sample), SVCCA on the units view
  (channels as units, every sample and grid point a row), each a layers × layers matrix;
- identification accuracy of a measure: the fraction of A's layers whose most similar layer of
  B (the maximum of its row; ties count as misses) is the one at the same depth, over all
  ordered pairs.

Rows of the page: linear CKA and RBF CKA accuracy against SVCCA's (the paper's claim: CKA higher).

Run: ``.venv/bin/python benchmarks/similarity.py`` (about 10 minutes at one thread: three
trainings of about two minutes, six comparisons); ``--quick``: tiny budgets, not recorded.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402

MEASURES = {"linear_cka": "linear CKA", "kernel_cka": "RBF CKA", "svcca": "SVCCA"}


def identification(matrix: list[list[float | None]]) -> tuple[int, int]:
    """(layers identified, layers scored): row i's unique maximum in column i."""
    hits = scored = 0
    for i, row in enumerate(matrix):
        vals = [v for v in row if v is not None]
        if i >= len(row) or row[i] is None or not vals:
            continue
        scored += 1
        best = max(vals)
        hits += int(row[i] == best and sum(v == best for v in vals) == 1)
    return hits, scored


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--res", type=int, default=32)
    ap.add_argument("--n-train", type=int, default=400)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--samples", type=int, default=100, help="test samples fed to both runs")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="tiny budgets (not recorded)")
    _record.add_record_args(ap)
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.res, args.n_train, args.epochs, args.width = 2, 17, 16, 2, 8
        args.samples = 10
    torch.set_num_threads(args.threads)
    import sciml

    run = _record.start("similarity", args, quick=args.quick, argv=argv)
    layers = ["lifting", "layers.?", "projection"]  # the model's blocks, not their parts
    acc: dict[str, list[tuple[int, int]]] = {m: [] for m in MEASURES}
    diag: dict[str, list[float]] = {m: [] for m in MEASURES}
    errors, seconds = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folders = []
        for seed in range(args.seeds):
            over = [f"data.options={{n_train: {args.n_train}, n_test: {args.samples}, "
                    f"resolution: {args.res}}}", f"train.max_epochs={args.epochs}",
                    f"train.seed={seed}", "train.tensorboard=false",
                    f"model.width={args.width}"]
            if args.quick:
                over += ["model.n_layers=2", "model.num_smooth=[1, 1]"]
            t0 = time.perf_counter()
            folder = Path(tmp) / f"seed{seed}"
            report = sciml.fit(sciml.load_recipe("darcy-mgno", over), run_dir=folder,
                               progress=False)
            seconds.append(time.perf_counter() - t0)
            errors.append(report["test"]["test/rel_l2"])
            folders.append(folder)
            print(f"seed {seed}: test rel L2 {errors[-1]:.4f} ({seconds[-1]:.0f} s)", flush=True)
        names: list[str] = []
        for a, b in itertools.permutations(range(args.seeds), 2):
            rep = sciml.compare(folders[a], folders[b], samples=args.samples, layers=layers,
                                kernel=True, all_svcca=True)
            names = [x["name"] for x in rep["layers_a"]]
            line = [f"seeds {a} → {b}:"]
            for m in MEASURES:
                hit = identification(rep[m])
                acc[m].append(hit)
                diag[m] += [rep[m][i][i] for i in range(len(rep[m])) if rep[m][i][i] is not None]
                line.append(f"{MEASURES[m]} {hit[0]}/{hit[1]}")
            print(" ".join(line), flush=True)
    rate = {m: sum(h for h, _ in v) / max(1, sum(n for _, n in v)) for m, v in acc.items()}
    lines = [f"- darcy-mgno at {args.res}², {args.n_train} training samples, {args.epochs} "
             f"epochs, width {args.width}; seeds 0 … {args.seeds - 1} (test rel L2 "
             + ", ".join(f"{e:.4f}" for e in errors) + f"; {statistics.median(seconds):.0f} s "
             f"per training); {args.threads} thread(s)",
             f"- layers compared: {', '.join(names)}; {args.samples} test samples fed to both "
             f"runs of each of the {args.seeds * (args.seeds - 1)} ordered pairs", "",
             "| measure | layers identified | accuracy | mean same-layer similarity |",
             "|---|---|---|---|"]
    for m, label in MEASURES.items():
        lines.append(f"| {label} | {sum(h for h, _ in acc[m])} / {sum(n for _, n in acc[m])} | "
                     f"{rate[m]:.3f} | {statistics.mean(diag[m]):.3f} |")
    setting = (f"MgNO Darcy {args.res}², {args.seeds} seeds, {args.epochs} epochs, "
               f"{len(names)} layers")
    comps = [
        _record.comparison(f"similarity.{m}_identification", "layer identification across "
                           f"seeds: accuracy, {MEASURES[m]} / SVCCA", rate[m], rate["svcca"],
                           anchor_name="SVCCA", target=("ratio", ">=", 1.0), setting=setting)
        for m in ("linear_cka", "kernel_cka")]
    run.record("Representation similarity: layer identification across seeds",
               "\n".join(lines), comps)


if __name__ == "__main__":
    main()
