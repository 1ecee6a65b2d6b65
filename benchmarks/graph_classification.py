"""Graph classification: sciml's job against PyG's GCN and mean read-out, and the read-outs.

Issue 22's graph-level job checked against the library its users know: the ``clique-hopfield``
recipe's data (1000 generated graphs of 20-40 nodes, half with a planted 5-clique; stratified
80 / 10 / 10 split), two GCN layers of 32 units, a read-out and a two-layer classifier, Adam
(lr 3e-3), batches of 32 graphs, 30 epochs, the weights of the epoch with the lowest validation
loss scored on the test graphs. Arms, seeds 0 … n − 1 each:

- ``sciml mean``: the recipe with ``model.readout=mean``, through ``sciml.fit``;
- ``PyG mean``: PyG's ``GCNConv`` and ``global_mean_pool`` in the same network, batched by PyG's
  ``DataLoader``, trained by a plain loop with the same protocol (the anchor);
- ``sciml hopfield``: the recipe as it is (Hopfield pooling, Ramsauer et al.), whose claim is
  that attending to a few nodes beats averaging them.

Rows of the page: sciml's mean test accuracy / PyG's with the same read-out (target ≥ 0.97: the
same model within noise), seconds per epoch sciml / PyG (sciml's include its validation pass
and checkpoints), and Hopfield / mean read-out accuracy (the claim: ≥ 1).

Run (one thread, nothing else running): ``.venv/bin/python benchmarks/graph_classification.py``
(about 5 minutes); ``--quick``: 1 seed, 3 epochs, not recorded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402


def pyg_mean(data, seed: int, epochs: int, batch_size: int, lr: float) -> tuple[float, float]:
    """PyG's GCN + global mean pool in the recipe's network and protocol: (test accuracy,
    seconds per epoch of training batches)."""
    from torch_geometric.data import Data
    from torch_geometric.loader import DataLoader
    from torch_geometric.nn import GCNConv, global_mean_pool

    def graphs(ids: torch.Tensor) -> list:
        out = []
        for i in ids.tolist():
            x, ei = data.graph(i)
            out.append(Data(x=x, edge_index=ei, y=data.y[i:i + 1]))
        return out

    torch.manual_seed(seed)
    hidden = 32
    convs = torch.nn.ModuleList([GCNConv(data.n_features, hidden), GCNConv(hidden, hidden)])
    head = torch.nn.Sequential(torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
                               torch.nn.Linear(hidden, data.n_classes))
    params = [*convs.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=lr)
    g = torch.Generator().manual_seed(seed)
    train = DataLoader(graphs(data.train_idx), batch_size=batch_size, shuffle=True, generator=g)
    val = DataLoader(graphs(data.val_idx), batch_size=256)
    test = DataLoader(graphs(data.test_idx), batch_size=256)

    def logits(b) -> torch.Tensor:
        h = b.x
        for conv in convs:
            h = F.relu(conv(h, b.edge_index))
        return head(global_mean_pool(h, b.batch))

    def score(loader) -> tuple[float, float]:
        loss = correct = n = 0.0
        with torch.no_grad():
            for b in loader:
                out = logits(b)
                loss += float(F.cross_entropy(out, b.y, reduction="sum"))
                correct += float((out.argmax(-1) == b.y).sum())
                n += len(b.y)
        return loss / n, correct / n

    best, acc, seconds = float("inf"), 0.0, []
    for _ in range(epochs):
        t0 = time.perf_counter()
        for b in train:
            opt.zero_grad()
            F.cross_entropy(logits(b), b.y).backward()
            opt.step()
        seconds.append(time.perf_counter() - t0)
        v, _ = score(val)
        if v < best:
            best, acc = v, score(test)[1]
    return acc, statistics.median(seconds)


def _epoch_seconds(run_dir: Path) -> float:
    import csv

    rows = [r for r in csv.DictReader(open(run_dir / "metrics.csv")) if r.get("seconds")]
    return statistics.median(float(r["seconds"]) for r in rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="1 seed, 3 epochs (not recorded)")
    _record.add_record_args(ap)
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.epochs = 1, 3
    torch.set_num_threads(args.threads)
    import sciml

    run = _record.start("graph_classification", args, quick=args.quick, argv=argv)
    base = sciml.load_recipe("clique-hopfield", [f"train.max_epochs={args.epochs}",
                                                 "train.tensorboard=false"])
    data = sciml.datasets.planted_clique(**base["data"]["options"])
    batch_size, lr = base["train"]["batch_size"], base["train"]["optimizer"]["lr"]
    acc: dict[str, list[float]] = {"sciml mean": [], "PyG mean": [], "sciml hopfield": []}
    sec: dict[str, list[float]] = {k: [] for k in acc}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            for arm, over in (("sciml mean", ["model.readout=mean"]), ("sciml hopfield", [])):
                folder = Path(tmp) / f"{arm.split()[1]}-{seed}"
                rep = sciml.fit(base.with_overrides([*over, f"train.seed={seed}"]),
                                run_dir=folder, progress=False)
                acc[arm].append(rep["test"]["test/accuracy"])
                sec[arm].append(_epoch_seconds(folder))
            a, s = pyg_mean(data, seed, args.epochs, batch_size, lr)
            acc["PyG mean"].append(a)
            sec["PyG mean"].append(s)
            print(f"seed {seed}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in acc.items()),
                  flush=True)
    mean = {k: statistics.mean(v) for k, v in acc.items()}
    secs = {k: statistics.median(v) for k, v in sec.items()}
    lines = [f"- planted cliques (1000 graphs, 20-40 nodes, 5-clique in half), stratified "
             f"80/10/10; 2 GCN layers of 32, Adam {lr}, batch {batch_size}, {args.epochs} epochs, "
             f"lowest validation loss kept; seeds 0 … {args.seeds - 1}; {args.threads} "
             "thread(s)", "",
             "| arm | mean test accuracy | seeds | s / epoch (median) |", "|---|---|---|---|"]
    for k in acc:
        lines.append(f"| {k} | {mean[k]:.4f} | {', '.join(f'{v:.3f}' for v in acc[k])} | "
                     f"{secs[k]:.2f} |")
    lines += ["", "sciml's seconds are its training epoch as metrics.csv logs it; PyG's the "
              "training batches of its plain loop."]
    setting = f"planted cliques, {args.seeds} seeds, {args.epochs} epochs"
    comps = [
        _record.comparison("graph_classification.mean_vs_pyg", "planted cliques: mean test "
                           "accuracy, GCN + mean read-out, sciml / PyG", mean["sciml mean"],
                           mean["PyG mean"], anchor_name="PyG", target=("ratio", ">=", 0.97),
                           setting=setting),
        _record.comparison("graph_classification.seconds_vs_pyg", "planted cliques: seconds per "
                           "training epoch, GCN + mean read-out, sciml / PyG",
                           secs["sciml mean"], secs["PyG mean"], unit="s", anchor_name="PyG",
                           setting=setting),
        _record.comparison("graph_classification.hopfield_vs_mean", "planted cliques: mean test "
                           "accuracy, Hopfield / mean read-out (sciml)", mean["sciml hopfield"],
                           mean["sciml mean"], anchor_name="mean read-out",
                           target=("ratio", ">=", 1.0), setting=setting),
    ]
    run.record("Graph classification: sciml against PyG, and the read-outs", "\n".join(lines),
               comps)


if __name__ == "__main__":
    main()
