"""GAE link prediction on Cora and CiteSeer: sciml's recipes against PyG's GAE, over splits.

Issue 22's link-prediction job checked against its published baseline: the graph auto-encoder
(Kipf and Welling, 2016: AUC 91.0 / AP 92.0 on Cora, 89.5 / 89.9 on CiteSeer, means over random
splits). sciml runs the ``cora-gae`` / ``citeseer-gae`` recipes through the public API
(``sciml.fit``) with ``data.split_seed`` = ``train.seed`` = seed; the anchor is PyG's ``GAE``
with two ``GCNConv`` layers (32, 16), trained in this process by a plain loop on **the same
split** (the run's training graph, validation and test pairs): Adam 0.01, 200 full-batch
epochs, ``GAE.recon_loss`` (its negatives drawn by PyG's ``negative_sampling`` each epoch), the
test AUC / AP of the epoch with the best validation AUC.

Rows of the page: per data set, sciml's mean test AUC against the paper's (target: within two
points) and its ratio to PyG's mean on the same splits (target ≥ 0.99).

Run (one thread, nothing else running): ``.venv/bin/python benchmarks/link_prediction.py``
(about 7 minutes); ``--quick``: 2 seeds, 20 epochs, not recorded.
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
PLANETOID = REPO.parent / "shared" / "data" / "graphs" / "planetoid"
PAPER = {"cora": (0.910, 0.920), "citeseer": (0.895, 0.899)}


def pyg_gae(x: torch.Tensor, split: dict, seed: int, epochs: int) -> tuple[float, float]:
    """PyG's GAE (GCNConv 32 → 16, inner-product decoder) on sciml's split of the edges."""
    from torch_geometric.nn import GAE, GCNConv

    from sciml.tasks.graph import average_precision, roc_auc

    torch.manual_seed(seed)

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1, self.c2 = GCNConv(x.shape[1], 32), GCNConv(32, 16)

        def forward(self, x: torch.Tensor, ei: torch.Tensor) -> torch.Tensor:
            return self.c2(self.c1(x, ei).relu(), ei)

    model = GAE(Encoder())
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    graph = split["graph"]

    def scores(pos: torch.Tensor, neg: torch.Tensor) -> tuple[float, float]:
        model.eval()
        with torch.no_grad():
            z = model.encode(x, graph)
            s = torch.cat([model.decode(z, pos), model.decode(z, neg)])
        y = torch.cat([torch.ones(pos.shape[1]), torch.zeros(neg.shape[1])])
        return float(roc_auc(s, y)), float(average_precision(s, y))

    best, result = -1.0, (0.0, 0.0)
    for _ in range(epochs):
        model.train()
        opt.zero_grad()
        z = model.encode(x, graph)
        model.recon_loss(z, split["train_pos"]).backward()
        opt.step()
        val_auc, _ = scores(split["val_pos"], split["val_neg"])
        if val_auc > best:
            best, result = val_auc, scores(split["test_pos"], split["test_neg"])
    return result


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
    from sciml.tasks.graph import split_edges

    run = _record.start("link_prediction", args, quick=args.quick, argv=argv)
    lines = [f"- {args.seeds} random edge splits (85 / 5 / 10 %; split seed = model seed), "
             f"{args.epochs} epochs, {args.threads} thread(s); files from {args.root.name}/; "
             "PyG's GAE on sciml's split of each seed", "",
             "| data | sciml AUC | sciml AP | PyG AUC | PyG AP | paper AUC / AP | sciml s / fit "
             "| PyG s / fit |", "|---|---|---|---|---|---|---|---|"]
    comps = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets.split(","):
            data = load_planetoid(name, args.root)
            auc, ap_, r_auc, r_ap, t_ours, t_ref = [], [], [], [], [], []
            for seed in range(args.seeds):
                recipe = sciml.load_recipe(f"{name}-gae", [
                    f"data.options.root={args.root}", f"train.max_epochs={args.epochs}",
                    f"train.seed={seed}", f"data.split_seed={seed}", "train.tensorboard=false"])
                t0 = time.perf_counter()
                rep = sciml.fit(recipe, run_dir=Path(tmp) / f"{name}-{seed}", progress=False)
                t_ours.append(time.perf_counter() - t0)
                auc.append(rep["test"]["test/auc"])
                ap_.append(rep["test"]["test/ap"])
                split = split_edges(data.edge_index, data.n_nodes, 0.05, 0.1, seed)
                t0 = time.perf_counter()
                a, p = pyg_gae(data.x, split, seed, args.epochs)
                t_ref.append(time.perf_counter() - t0)
                r_auc.append(a)
                r_ap.append(p)
                print(f"[{name}] seed {seed}: sciml AUC {auc[-1]:.3f} AP {ap_[-1]:.3f}, PyG AUC "
                      f"{a:.3f} AP {p:.3f}", flush=True)

            def ms(v: list[float]) -> str:
                sd = statistics.stdev(v) if len(v) > 1 else 0.0
                return f"{statistics.mean(v):.4f} ± {sd:.4f}"

            lines.append(f"| {data.name} | {ms(auc)} | {ms(ap_)} | {ms(r_auc)} | {ms(r_ap)} | "
                         f"{PAPER[name][0]:.3f} / {PAPER[name][1]:.3f} | "
                         f"{statistics.median(t_ours):.1f} | {statistics.median(t_ref):.1f} |")
            setting = f"{data.name}, {args.seeds} random splits, {args.epochs} epochs"
            m, r = statistics.mean(auc), statistics.mean(r_auc)
            comps += [
                _record.comparison(f"link_prediction.{name}.gae_auc",
                                   f"{data.name}: GAE mean test AUC, sciml against the paper's "
                                   f"{PAPER[name][0]:.3f}", m, PAPER[name][0],
                                   anchor_name="Kipf & Welling",
                                   target=("sciml", ">=", round(PAPER[name][0] - 0.02, 3)),
                                   setting=setting),
                _record.comparison(f"link_prediction.{name}.gae_vs_pyg",
                                   f"{data.name}: GAE mean test AUC, sciml / PyG's GAE (same "
                                   "splits and protocol)", m, r, anchor_name="PyG",
                                   target=("ratio", ">=", 0.99), setting=setting),
            ]
    lines += ["", "The seconds of a sciml fit include what `sciml.fit` does besides training "
              "(reading the files, checkpoints every epoch, the test report and the ROC plot); "
              "PyG's are its bare loop."]
    run.record("Link prediction: GAE on Cora and CiteSeer", "\n".join(lines), comps)


if __name__ == "__main__":
    main()
