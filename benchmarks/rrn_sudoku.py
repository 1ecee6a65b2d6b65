"""Recurrent relational network on Sudoku: puzzles solved by number of givens and by steps.

Issue 22's RRN (Palm, Paquet, Winther, NeurIPS 2018) on our own puzzles: generated with unique
solutions (certified by the exact solver), givens spread evenly over ``--min-givens …
--max-givens``, a random 80 / 10 / 10 split; trained through the graph job (``sudoku-rrn`` with
the options below), the epoch with the best validation cell accuracy kept. Arms:

- ``RRN``: the recipe's network at ``--hidden`` and ``--steps`` (training steps T), a loss at
  every step; evaluated after 1, 2, 4, … up to 4 T steps (the paper runs more steps at test than
  in training and solves more);
- ``GNN``: the baseline of a fixed depth: GraphSAGE with ``--gnn-layers`` layers of the same
  width and no read-out, one loss on its output, same data, epochs and optimizer;
- ``propagation``: no learning: the solver's constraint propagation alone (a digit leaves its
  peers; a digit with one place left in a unit goes there), without search: which puzzles need no
  guessing, the easy part of what the RRN must learn.

A puzzle counts as solved when every empty cell gets its digit. Rows of the page: RRN cell
accuracy (empty cells) / GNN's (the claim: many recurrent steps with a loss per step beat a
fixed-depth GNN; target ≥ 1), puzzles solved RRN against GNN, RRN against propagation, and RRN
solved at 4 T steps / at T steps. The paper's 96.6 % of 17-given puzzles came from 180,000
training puzzles and hidden 96 with 32 steps on a GPU; the log says what this CPU budget reaches.

Run (one thread, nothing else running): ``.venv/bin/python benchmarks/rrn_sudoku.py`` (about
40 minutes); ``--quick``: a few minutes, not recorded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402


def propagation_solves(puzzle: np.ndarray) -> bool:
    """Whether constraint propagation alone, no search, fills every cell."""
    from sciml.solvers.sudoku import propagate

    filled = propagate([int(v) for v in puzzle])
    return filled is not None and 0 not in filled


def evaluate(run_dir: Path, data, steps: list[int] | None) -> dict:
    """Cell accuracy on the empty cells and solved puzzles of the test split, per number of
    givens; with ``steps`` (RRN) after each number of steps."""
    from sciml.datasets import puzzle_givens

    import sciml
    from sciml.tasks.graph import GraphSet, collate_graphs

    model = sciml.load_run(run_dir).model.eval()
    test = GraphSet(data.x, data.edge_index, data.node_ptr, data.edge_ptr, data.y, data.test_idx,
                    node_level=True)
    batch = collate_graphs([test[i] for i in range(len(test))])
    x, ei, y = batch["x"], batch["edge_index"], batch["y"]
    givens = puzzle_givens(x)
    lab = y >= 0

    def score(logits: torch.Tensor) -> dict:
        wrong = ((logits.argmax(-1) != y) & lab).reshape(-1, 81)
        solved = ~wrong.any(1)
        out = {"accuracy": float(1 - wrong.sum() / lab.sum()), "solved": float(solved.float()
                                                                                 .mean())}
        out["by_givens"] = {int(g): float(solved[givens == g].float().mean())
                            for g in torch.unique(givens)}
        return out

    with torch.no_grad():
        if steps is None:
            return score(model(x, ei, batch["graph_index"]))
        outs = model.step_logits(x, ei, steps=max(steps))
        return {t: score(outs[t - 1]) for t in steps}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--puzzles", type=int, default=5500)
    ap.add_argument("--min-givens", type=int, default=24)
    ap.add_argument("--max-givens", type=int, default=34)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--gnn-layers", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=0.003)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="600 puzzles, 3 epochs (not recorded)")
    _record.add_record_args(ap)
    args = ap.parse_args(argv)
    if args.quick:
        args.puzzles, args.epochs = 600, 3
    torch.set_num_threads(args.threads)
    import sciml

    run = _record.start("rrn_sudoku", args, quick=args.quick, argv=argv)
    opts = {"n_puzzles": args.puzzles, "min_givens": args.min_givens,
            "max_givens": args.max_givens, "seed": 0}
    data = sciml.datasets.sudoku(**opts)
    common = [f"train.max_epochs={args.epochs}", "train.tensorboard=false",
              f"train.optimizer={{name: adam, lr: {args.lr}, weight_decay: 0.0001}}",
              "data.options={" + ", ".join(f"{k}: {v}" for k, v in opts.items()) + "}"]
    steps = sorted({1, 2, 4, *[args.steps * k for k in (1, 2, 4)]} | {
        s for s in (8, 16, 32) if s < 4 * args.steps})
    with tempfile.TemporaryDirectory() as tmp:
        rrn_dir, gnn_dir = Path(tmp) / "rrn", Path(tmp) / "gnn"
        rep = sciml.fit(sciml.load_recipe("sudoku-rrn", [
            *common, f"model.hidden={args.hidden}", f"model.steps={args.steps}"]),
            run_dir=rrn_dir, data=data, progress=False)
        print("RRN", rep["test"], flush=True)
        rrn = evaluate(rrn_dir, data, steps)
        rep = sciml.fit(sciml.load_recipe("sudoku-rrn", [
            *common, f"model={{name: graph_gnn, conv: sage, hidden: {args.hidden}, n_layers: "
                     f"{args.gnn_layers}, readout: none}}"]), run_dir=gnn_dir, data=data,
            progress=False)
        print("GNN", rep["test"], flush=True)
        gnn = evaluate(gnn_dir, data, None)
    test_puzzles = (data.x[:, 0] == 0).reshape(-1, 81)[data.test_idx].numpy()
    grids = data.x[:, :10].argmax(1).reshape(-1, 81)[data.test_idx].numpy()
    prop = np.array([propagation_solves(g) for g in grids])
    givens = test_puzzles.sum(1)
    prop_by = {int(g): float(prop[givens == g].mean()) for g in np.unique(givens)}
    T = args.steps
    lines = [f"- {args.puzzles} generated puzzles ({args.min_givens}-{args.max_givens} givens, "
             f"unique solutions), random 80/10/10 split: {len(data.test_idx)} test puzzles; "
             f"RRN hidden {args.hidden}, {T} training steps, MLPs of 2 hidden layers; GNN: "
             f"GraphSAGE, {args.gnn_layers} layers of {args.hidden}; Adam {args.lr}, weight "
             f"decay 1e-4, batch 16, {args.epochs} epochs, best validation cell accuracy kept; "
             f"{args.threads} thread(s)", "",
             "| arm | cell accuracy (empty cells) | puzzles solved |", "|---|---|---|"]
    for t in steps:
        lines.append(f"| RRN, {t} steps{' (training)' if t == T else ''} | "
                     f"{rrn[t]['accuracy']:.4f} | {rrn[t]['solved']:.4f} |")
    lines.append(f"| GNN ({args.gnn_layers} layers) | {gnn['accuracy']:.4f} | "
                 f"{gnn['solved']:.4f} |")
    lines.append(f"| constraint propagation, no search | – | {float(prop.mean()):.4f} |")
    lines += ["", "Puzzles solved by number of givens:", "",
              "| givens | RRN, " + f"{T} steps | RRN, {4 * T} steps | GNN | propagation |",
              "|---|---|---|---|---|"]
    for g in sorted(prop_by):
        lines.append(f"| {g} | {rrn[T]['by_givens'].get(g, 0):.3f} | "
                     f"{rrn[4 * T]['by_givens'].get(g, 0):.3f} | "
                     f"{gnn['by_givens'].get(g, 0):.3f} | {prop_by[g]:.3f} |")
    for line in lines:
        print(line)
    setting = (f"{args.puzzles} puzzles, {args.min_givens}-{args.max_givens} givens, hidden "
               f"{args.hidden}, {T} steps, {args.epochs} epochs")
    best = max(steps, key=lambda t: rrn[t]["solved"])
    comps = [
        _record.comparison("rrn_sudoku.accuracy_vs_gnn", "Sudoku: cell accuracy on the empty "
                           f"cells of test puzzles, RRN ({T} steps) / GraphSAGE "
                           f"({args.gnn_layers} layers)", rrn[T]["accuracy"], gnn["accuracy"],
                           anchor_name="GNN", target=("ratio", ">=", 1.0), setting=setting),
        _record.comparison("rrn_sudoku.solved_vs_gnn", "Sudoku: test puzzles solved, RRN "
                           f"({T} steps) and GraphSAGE ({args.gnn_layers} layers)",
                           rrn[T]["solved"], gnn["solved"], anchor_name="GNN",
                           setting=setting),
        _record.comparison("rrn_sudoku.solved_vs_propagation", "Sudoku: test puzzles solved, "
                           f"RRN (best of 1-{4 * T} steps: {best}) and constraint propagation "
                           "without search", rrn[best]["solved"], float(prop.mean()),
                           anchor_name="propagation",
                           setting=setting),
        _record.comparison("rrn_sudoku.more_steps", f"Sudoku: RRN cell accuracy at {4 * T} "
                           f"test steps / at the {T} training steps", rrn[4 * T]["accuracy"],
                           rrn[T]["accuracy"], anchor_name=f"{T} steps", setting=setting),
    ]
    run.record("Recurrent relational network on Sudoku", "\n".join(lines), comps)


if __name__ == "__main__":
    main()
