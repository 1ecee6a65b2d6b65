"""GCN on Cora and CiteSeer's public splits: sciml's recipes against PyG's GCN, over seeds.

Issue 22's baseline check: GCN on Cora's public split reaches the published ~81 % test accuracy
(mean over seeds; Kipf and Welling, ICLR 2017: 81.5 % on Cora, 70.3 % on CiteSeer). sciml runs the
``cora-gcn`` / ``citeseer-gcn`` recipes through the public API (``sciml.fit``); the anchor is
PyG's ``GCNConv`` in the same two-layer network, trained in this process by a plain loop with the
same protocol: the same files and row-normalised features (sciml's reader), 16 hidden units,
dropout 0.5, Adam (lr 0.01, weight decay 5e-4 on every layer), 200 full-batch epochs, the test
accuracy of the epoch with the lowest validation loss. Seeds 0 … n − 1 for both.

Rows of the page: per data set, sciml's mean test accuracy (target: within one point of the
paper's, ≥ 80.5 % on Cora and ≥ 69.3 % on CiteSeer) and its ratio to PyG's mean.

Run (one thread, nothing else running): ``.venv/bin/python benchmarks/node_classification.py``
(about 10 minutes); ``--quick``: 2 seeds, 20 epochs, not recorded.
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

REPO = Path(__file__).resolve().parents[1]
PLANETOID = REPO.parent / "shared" / "data" / "graphs" / "planetoid"
PAPER = {"cora": 0.815, "citeseer": 0.703}


def pyg_gcn(data, seed: int, epochs: int) -> float:
    """PyG's GCNConv in Kipf and Welling's network, the same protocol as the recipe."""
    from torch_geometric.nn import GCNConv

    torch.manual_seed(seed)
    convs = torch.nn.ModuleList([GCNConv(data.x.shape[1], 16, cached=True),
                                 GCNConv(16, data.n_classes, cached=True)])
    opt = torch.optim.Adam(convs.parameters(), lr=0.01, weight_decay=5e-4)

    def logits(train: bool) -> torch.Tensor:
        h = F.dropout(data.x, 0.5, train)
        h = F.relu(convs[0](h, data.edge_index))
        return convs[1](F.dropout(h, 0.5, train), data.edge_index)

    best, acc = float("inf"), 0.0
    for _ in range(epochs):
        convs.train()
        opt.zero_grad()
        F.cross_entropy(logits(True)[data.train_mask], data.y[data.train_mask]).backward()
        opt.step()
        convs.eval()
        with torch.no_grad():
            out = logits(False)
            val = float(F.cross_entropy(out[data.val_mask], data.y[data.val_mask]))
            if val < best:
                best = val
                acc = float((out[data.test_mask].argmax(-1) == data.y[data.test_mask])
                            .float().mean())
    return acc


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="cora,citeseer")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--root", type=Path, default=PLANETOID, help="folder of the ind.* files")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="2 seeds, 20 epochs (not recorded)")
    _record.add_record_args(ap)
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.epochs = 2, 20
    torch.set_num_threads(args.threads)
    from sciml.datasets import load_planetoid

    import sciml

    run = _record.start("node_classification", args, quick=args.quick, argv=argv)
    lines = [f"- {args.seeds} seeds, {args.epochs} epochs, {args.threads} thread(s); files from "
             f"{args.root.name}/ (SHA-256 checked)", "",
             "| data | sciml mean ± sd | PyG mean ± sd | paper | sciml s / fit | PyG s / fit |",
             "|---|---|---|---|---|---|"]
    comps = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets.split(","):
            data = load_planetoid(name, args.root)
            ours, ref, t_ours, t_ref = [], [], [], []
            for seed in range(args.seeds):
                recipe = sciml.load_recipe(f"{name}-gcn", [
                    f"data.options.root={args.root}", f"train.max_epochs={args.epochs}",
                    f"train.seed={seed}", "train.tensorboard=false"])
                t0 = time.perf_counter()
                rep = sciml.fit(recipe, run_dir=Path(tmp) / f"{name}-{seed}", progress=False)
                t_ours.append(time.perf_counter() - t0)
                ours.append(rep["test"]["test/accuracy"])
                t0 = time.perf_counter()
                ref.append(pyg_gcn(data, seed, args.epochs))
                t_ref.append(time.perf_counter() - t0)
                print(f"[{name}] seed {seed}: sciml {ours[-1]:.3f}, PyG {ref[-1]:.3f}", flush=True)
            m, r = statistics.mean(ours), statistics.mean(ref)
            sd = statistics.stdev(ours) if len(ours) > 1 else 0.0
            sd_r = statistics.stdev(ref) if len(ref) > 1 else 0.0
            lines.append(f"| {data.name} | {m:.4f} ± {sd:.4f} | {r:.4f} ± {sd_r:.4f} | "
                         f"{PAPER[name]:.3f} | {statistics.median(t_ours):.1f} | "
                         f"{statistics.median(t_ref):.1f} |")
            setting = f"{data.name} public split, {args.seeds} seeds, {args.epochs} epochs"
            comps += [
                _record.comparison(f"node_classification.{name}.gcn_accuracy",
                                   f"{data.name}: GCN mean test accuracy, sciml against the "
                                   f"paper's {PAPER[name]:.1%}", m, PAPER[name],
                                   anchor_name="Kipf & Welling",
                                   target=("sciml", ">=", round(PAPER[name] - 0.01, 3)),
                                   setting=setting),
                _record.comparison(f"node_classification.{name}.gcn_vs_pyg",
                                   f"{data.name}: GCN mean test accuracy, sciml / PyG's GCNConv "
                                   "(same network and protocol)", m, r, anchor_name="PyG",
                                   target=("ratio", ">=", 0.99), setting=setting),
            ]
    lines += ["", "The seconds of a sciml fit include what `sciml.fit` does besides training "
              "(reading the files, checkpoints every epoch, the test report and the confusion "
              "plot); PyG's are its bare loop."]
    run.record("Node classification: GCN on the public Planetoid splits", "\n".join(lines),
               comps)


if __name__ == "__main__":
    main()
