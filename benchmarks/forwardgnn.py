"""ForwardGNN against backpropagation on Cora and CiteSeer: test accuracy and activation memory.

Issue 22 asks for ForwardGNN (Park et al., ICLR 2024; model ``forwardgnn``): accuracy on Cora and
CiteSeer and peak memory against backpropagation, same GNN. Three arms on the public Planetoid
splits, all through ``sciml.fit`` with the same budget (``--epochs`` full-batch epochs, Adam
``--lr`` with weight decay 5e-4, the epoch with the lowest validation loss kept), seeds
0 … n − 1:

- ``sf``: ForwardGNN's single-forward training, each GCN layer on its own loss (similarity of the
  training nodes to virtual class nodes), nothing back-propagated between layers;
- ``sf-topdown``: the same with top-down signals (each layer also sees the layer above; the
  paper's SF-Top-To-Input, without the training nodes' own labels as the top layer's context);
- ``bp``: the same GCN layers (``--hidden`` units, no dropout) with a last GCN layer to the
  classes, trained end to end by backpropagation (the ``gcn`` model).

Memory: the peak of the bytes autograd keeps for the backward pass during one training step
(saved tensors, as in ``benchmarks/noprop.py``), for 2 and 4 layers: backpropagation keeps every
layer's activations at once, ForwardGNN one layer's (the paper: memory flat in depth).

Rows of the page: per data set, SF's and SF-top-down's mean test accuracy / backprop's, and SF's
peak activation memory / backprop's at 4 layers.

Run (one thread, nothing else running): ``.venv/bin/python benchmarks/forwardgnn.py`` (about 25
minutes); ``--quick``: 1 seed, 20 epochs, not recorded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402
from noprop import saved_tensor_peak  # noqa: E402  (the NoProp benchmark's counter)

REPO = Path(__file__).resolve().parents[1]
PLANETOID = REPO.parent / "shared" / "data" / "graphs" / "planetoid"
ARMS = ("sf", "sf-topdown", "bp")


def _model(arm: str, hidden: int, layers: int) -> str:
    if arm == "bp":
        return f"{{name: gcn, hidden: {hidden}, n_layers: {layers + 1}, dropout: 0.0}}"
    return (f"{{name: forwardgnn, hidden: {hidden}, n_layers: {layers}, "
            f"top_down: {'true' if arm == 'sf-topdown' else 'false'}}}")


def activation_peak(model: torch.nn.Module, data, local: bool) -> int:
    """Peak bytes of tensors saved for backward during one training step of ``model``."""
    def step() -> None:
        if local:
            for _, part in model.graph_local_losses(data.x, data.edge_index, data.y,
                                                    data.train_mask):
                part.backward()
        else:
            m = data.train_mask
            F.cross_entropy(model(data.x, data.edge_index)[m], data.y[m]).backward()

    model.train()
    return saved_tensor_peak(step)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="cora,citeseer")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2, help="ForwardGNN layers (bp: one more, "
                    "to the classes)")
    ap.add_argument("--lr", type=float, default=0.003)
    ap.add_argument("--root", type=Path, default=PLANETOID)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="1 seed, 20 epochs (not recorded)")
    _record.add_record_args(ap)
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.epochs = 1, 20
    torch.set_num_threads(args.threads)
    from sciml.datasets import load_planetoid

    import sciml
    from sciml.registry import MODELS

    run = _record.start("forwardgnn", args, quick=args.quick, argv=argv)
    lines = [f"- public Planetoid splits; {args.seeds} seeds, {args.epochs} epochs, Adam "
             f"{args.lr} (weight decay 5e-4), {args.hidden} hidden units, {args.layers} "
             f"ForwardGNN layers (bp: {args.layers} + 1 to the classes); {args.threads} "
             "thread(s)", "", "| data | " + " | ".join(ARMS) + " |",
             "|---|" + "---|" * len(ARMS)]
    comps = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets.split(","):
            acc: dict[str, list[float]] = {a: [] for a in ARMS}
            for arm in ARMS:
                for seed in range(args.seeds):
                    recipe = sciml.load_recipe("cora-gcn", [
                        f"data.options={{name: {name}, root: '{args.root}'}}",
                        f"model={_model(arm, args.hidden, args.layers)}",
                        f"train.max_epochs={args.epochs}", f"train.seed={seed}",
                        "train.tensorboard=false",
                        f"train.optimizer={{name: adam, lr: {args.lr}, weight_decay: 0.0005}}"])
                    rep = sciml.fit(recipe, run_dir=Path(tmp) / f"{name}-{arm}-{seed}",
                                    progress=False)
                    acc[arm].append(rep["test"]["test/accuracy"])
                    print(f"[{name}] {arm} seed {seed}: {acc[arm][-1]:.3f}", flush=True)
            mean = {a: statistics.mean(v) for a, v in acc.items()}
            lines.append(f"| {name} | " + " | ".join(
                f"{mean[a]:.4f} ({', '.join(f'{v:.3f}' for v in acc[a])})" for a in ARMS) + " |")
            setting = f"{name} public split, {args.seeds} seeds, {args.epochs} epochs"
            for arm in ("sf", "sf-topdown"):
                comps.append(_record.comparison(
                    f"forwardgnn.{name}.{arm}_vs_bp", f"{name}: mean test accuracy, ForwardGNN "
                    f"{arm} / backprop (same GCN layers)", mean[arm], mean["bp"],
                    anchor_name="backprop", setting=setting))
    cora = load_planetoid("cora", args.root)
    lines += ["", "| layers | SF peak activation MB | backprop peak activation MB |",
              "|---|---|---|"]
    peaks = {}
    for layers in (2, 4):
        torch.manual_seed(0)
        sf = MODELS.build("forwardgnn", {"hidden": args.hidden, "n_layers": layers,
                                         "top_down": False}, in_channels=cora.x.shape[1],
                          out_channels=cora.n_classes)
        bp = MODELS.build("gcn", {"hidden": args.hidden, "n_layers": layers + 1,
                                  "dropout": 0.0, "cached": False},
                          in_channels=cora.x.shape[1], out_channels=cora.n_classes)
        peaks[layers] = (activation_peak(sf, cora, True), activation_peak(bp, cora, False))
        lines.append(f"| {layers} | {peaks[layers][0] / 2**20:.2f} | "
                     f"{peaks[layers][1] / 2**20:.2f} |")
    comps.append(_record.comparison(
        "forwardgnn.memory_vs_bp", "Cora: peak activation memory of a training step, ForwardGNN "
        "SF / backprop, 4 layers", peaks[4][0] / 2**20, peaks[4][1] / 2**20, unit="MB",
        anchor_name="backprop", target=("ratio", "<", 1.0), setting="Cora, one step, all nodes"))
    lines += ["", "Cells: mean test accuracy (each seed's in brackets)."]
    run.record("ForwardGNN against backpropagation on Cora and CiteSeer", "\n".join(lines), comps)


if __name__ == "__main__":
    main()
