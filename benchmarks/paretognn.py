"""ParetoGNN: multi-task self-supervised pretraining with MGDA against each single pretext task
and the plain sum, downstream node classification and link prediction on Cora and CiteSeer.

Issue 22's ParetoGNN (Ju et al., ICLR 2023) through the node job (``cora-paretognn``). For each
data set and seed the undirected edges are split once (10 % validation, 20 % test, as the
reference's link evaluation) and every configuration pretrains on the training edges only, for
the same steps, learning rate and encoder:

- ``mgda``: the three pretext tasks (edge prediction, DGI, masked reconstruction) combined by
  multiple-gradient descent (the paper's method);
- ``sum``: the same tasks, losses summed (the plain multi-task baseline);
- ``link``, ``dgi``, ``recon``: one task alone.

Downstream, from the same pretrained encoder: node classification, the linear probe trained on
the public split's training nodes beside the encoder (gradient stopped), the epoch with the best
validation accuracy kept, its test accuracy; link prediction, the test edges against as many
non-edges scored by the cosine of their embeddings (no trained scorer), AUC. The claim (the
paper's "task generalization"): the MGDA model is good at both downstream tasks, where each
single task is good at one; the page gives the mean over the two data sets and the two tasks of
each configuration's score divided by the best configuration's on that data set and task
(target: MGDA's ≥ each single task's; ≥ the sum's). The paper evaluates no Cora / CiteSeer:
there is no published number to match here.

Run (one thread, nothing else running): ``.venv/bin/python benchmarks/paretognn.py`` (about 45
minutes); ``--quick``: a few minutes, not recorded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402

CONFIGS = {"mgda": ["model.weighting=mgda"], "sum": ["model.weighting=sum"],
           "link": ["model.tasks=[link]"], "dgi": ["model.tasks=[dgi]"],
           "recon": ["model.tasks=[recon]"]}


def link_auc(run_dir: Path, data, split) -> float:
    """Cosine of the embeddings of the test edges against as many non-edges: AUC."""
    import torch.nn.functional as F

    import sciml
    from sciml.tasks.graph import roc_auc

    model = sciml.load_run(run_dir).model.eval()
    with torch.no_grad():
        h = F.normalize(model.embed(data.x, split["graph"]), dim=-1)
    pos, neg = split["test_pos"], split["test_neg"]
    scores = torch.cat([(h[pos[0]] * h[pos[1]]).sum(1), (h[neg[0]] * h[neg[1]]).sum(1)])
    labels = torch.cat([torch.ones(pos.shape[1]), torch.zeros(neg.shape[1])])
    return float(roc_auc(scores, labels))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2] / "shared"
                    / "data" / "graphs" / "planetoid", help="folder of the Planetoid files")
    ap.add_argument("--datasets", default="cora,citeseer")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="1 seed, Cora, 10 epochs (not recorded)")
    _record.add_record_args(ap)
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.epochs, args.datasets = 1, 10, "cora"
    torch.set_num_threads(args.threads)
    import dataclasses

    from sciml.datasets import load_planetoid

    import sciml
    from sciml.tasks.graph import split_edges

    run = _record.start("paretognn", args, quick=args.quick, argv=argv)
    names = [d for d in args.datasets.split(",") if d]
    acc: dict[tuple[str, str], list[float]] = {}
    auc: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            full = load_planetoid(name, args.root)
            for seed in range(args.seeds):
                split = split_edges(full.edge_index, full.x.shape[0], val=0.1, test=0.2,
                                    seed=seed)
                data = dataclasses.replace(full, edge_index=split["graph"])
                for cfg, over in CONFIGS.items():
                    folder = Path(tmp) / f"{name}-{seed}-{cfg}"
                    recipe = sciml.load_recipe("cora-paretognn", [
                        *over, f"train.max_epochs={args.epochs}", f"train.seed={seed}",
                        "train.tensorboard=false", f"data.options={{name: {name}}}"])
                    rep = sciml.fit(recipe, run_dir=folder, data=data, progress=False)
                    acc.setdefault((name, cfg), []).append(rep["test"]["test/accuracy"])
                    auc.setdefault((name, cfg), []).append(link_auc(folder, data, split))
                    print(f"{name} seed {seed} {cfg}: accuracy {acc[name, cfg][-1]:.3f}, link "
                          f"AUC {auc[name, cfg][-1]:.3f}", flush=True)
    mean_acc = {k: statistics.mean(v) for k, v in acc.items()}
    mean_auc = {k: statistics.mean(v) for k, v in auc.items()}
    rel: dict[str, list[float]] = {c: [] for c in CONFIGS}
    for name in names:
        for table in (mean_acc, mean_auc):
            best = max(table[name, c] for c in CONFIGS)
            for c in CONFIGS:
                rel[c].append(table[name, c] / best)
    score = {c: statistics.mean(v) for c, v in rel.items()}
    lines = [f"- {', '.join(names)}: public split for classes; undirected edges split 70/10/20 "
             f"per seed, every configuration pretrained on the 70 % (same split across "
             f"configurations); encoder GCN 256-128 with batch norm and PReLU; AdamW 1e-3, "
             f"{args.epochs} full-graph steps; seeds 0 … {args.seeds - 1}; {args.threads} "
             "thread(s)", "",
             "| configuration | " + " | ".join(f"{n} accuracy | {n} link AUC" for n in names)
             + " | mean relative score |", "|---" * (2 * len(names) + 2) + "|"]
    for c in CONFIGS:
        cells = " | ".join(f"{mean_acc[n, c]:.3f} | {mean_auc[n, c]:.3f}" for n in names)
        lines.append(f"| {c} | {cells} | {score[c]:.4f} |")
    for line in lines:
        print(line)
    setting = f"{', '.join(names)}, {args.seeds} seeds, {args.epochs} steps"
    best_single = max(("link", "dgi", "recon"), key=lambda c: score[c])
    comps = [
        _record.comparison("paretognn.vs_best_single", "Cora and CiteSeer: mean relative score "
                           "over node classification and link prediction, MGDA / the best "
                           f"single pretext task ({best_single})", score["mgda"],
                           score[best_single], anchor_name=f"single task ({best_single})",
                           target=("ratio", ">=", 1.0), setting=setting),
        _record.comparison("paretognn.vs_sum", "Cora and CiteSeer: mean relative score over node "
                           "classification and link prediction, MGDA / the plain sum of the "
                           "task losses", score["mgda"], score["sum"], anchor_name="sum",
                           target=("ratio", ">=", 1.0), setting=setting),
    ]
    run.record("ParetoGNN: multi-task self-supervision against single tasks and the sum",
               "\n".join(lines), comps)


if __name__ == "__main__":
    main()
