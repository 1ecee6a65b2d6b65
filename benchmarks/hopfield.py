"""Hopfield pooling against mean, max and attention pooling: multiple-instance learning on
generated bags and graph-level read-out on generated graphs.

Issue 22 asks for the modern Hopfield layers of Ramsauer et al. (ICLR 2021; ``sciml.nn.Hopfield``,
``HopfieldPooling``, ``HopfieldLayer``) benchmarked on multiple-instance learning and as graph-level
pooling against mean / attention pooling. Every arm has the same encoder, classifier, data,
optimiser and budget; only the pooling of a set of vectors into one differs:

- ``mean``, ``max``: the set's mean / elementwise maximum;
- ``attention``: Ilse, Tomczak and Welling's gated attention pooling (ICML 2018), the MIL
  baseline the Hopfield paper compares with;
- ``hopfield``: ``HopfieldPooling`` (one learned state pattern, β = 1/√d, one update step).

Parts:

- ``mil``: bags of 10 to 40 instances in R^16 drawn from N(0, I); a positive bag holds 1 to 3
  "witness" instances from N(μ, I) with |μ| = ``--mil-shift`` (the label is whether any witness is
  present, so the mean is diluted by the bag's size). ``--mil-train`` / 1000 test bags.
- ``graphs``: Erdős–Rényi graphs of 20 to 40 nodes (p = 0.15) with node features [1, degree/10];
  a positive graph has a planted 5-clique. Encoder: two ``sciml.nn.GCNConv`` layers (32).

Rows of the page: per part, Hopfield pooling's median test accuracy over ``--seeds`` against mean
pooling and against attention pooling (the paper's claim: at least as good).

Run (one thread, nothing else running): ``.venv/bin/python benchmarks/hopfield.py`` (about 2
minutes); ``--quick``: tiny budgets, not recorded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _record  # noqa: E402

POOLINGS = ("mean", "max", "attention", "hopfield")


class GatedAttentionPool(nn.Module):
    """Ilse et al.'s gated attention: a_i ∝ exp(wᵀ(tanh(V h_i) ⊙ σ(U h_i))), pooled Σ a_i h_i."""

    def __init__(self, d: int, hidden: int = 32) -> None:
        super().__init__()
        self.v, self.u, self.w = nn.Linear(d, hidden), nn.Linear(d, hidden), nn.Linear(hidden, 1)

    def forward(self, h: Tensor, mask: Tensor) -> Tensor:
        logits = self.w(torch.tanh(self.v(h)) * torch.sigmoid(self.u(h)))[..., 0]
        a = logits.masked_fill(mask, float("-inf")).softmax(-1)
        return (a[..., None] * h).sum(1)


class Pool(nn.Module):
    def __init__(self, kind: str, d: int) -> None:
        super().__init__()
        from sciml.nn import HopfieldPooling

        self.kind = kind
        if kind == "attention":
            self.att = GatedAttentionPool(d)
        elif kind == "hopfield":
            self.hop = HopfieldPooling(d, queries=1, hidden_size=d, output_size=d)

    def forward(self, h: Tensor, mask: Tensor) -> Tensor:  # h (b, n, d), mask True = padding
        if self.kind == "mean":
            keep = (~mask)[..., None].to(h)
            return (h * keep).sum(1) / keep.sum(1)
        if self.kind == "max":
            return h.masked_fill(mask[..., None], float("-inf")).amax(1)
        if self.kind == "attention":
            return self.att(h, mask)
        return self.hop(h, mask)


# --------------------------------------------------------------------------- MIL
def make_bags(n: int, shift: float, g: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    d = 16
    mu = torch.zeros(d)
    mu[0] = shift
    sizes = torch.randint(10, 41, (n,), generator=g)
    labels = torch.randint(0, 2, (n,), generator=g)
    x = torch.zeros(n, 40, d)
    mask = torch.ones(n, 40, dtype=torch.bool)
    for i in range(n):
        s = int(sizes[i])
        x[i, :s] = torch.randn(s, d, generator=g)
        mask[i, :s] = False
        if labels[i]:
            k = int(torch.randint(1, 4, (1,), generator=g))
            where = torch.randperm(s, generator=g)[:k]
            x[i, where] = mu + torch.randn(k, d, generator=g)
    return x, mask, labels


class MILNet(nn.Module):
    def __init__(self, pooling: str, d: int = 16, hidden: int = 32) -> None:
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                 nn.ReLU())
        self.pool = Pool(pooling, hidden)
        self.cls = nn.Linear(hidden, 2)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        return self.cls(self.pool(self.enc(x), mask))


# --------------------------------------------------------------------------- graphs
def make_graphs(n: int, g: torch.Generator) -> list[tuple[Tensor, Tensor, int]]:
    out = []
    for _ in range(n):
        nodes = int(torch.randint(20, 41, (1,), generator=g))
        a = (torch.rand(nodes, nodes, generator=g) < 0.15).triu(1)
        label = int(torch.randint(0, 2, (1,), generator=g))
        if label:
            c = torch.randperm(nodes, generator=g)[:5]
            a[c[:, None], c[None, :]] = True
            a = a.triu(1)
        a = a | a.T
        ei = a.nonzero().T.contiguous()
        deg = a.sum(1, keepdim=True).float()
        out.append((torch.cat([torch.ones(nodes, 1), deg / 10], 1), ei, label))
    return out


def batch_graphs(graphs: list) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Block-diagonal batch: features, edges, graph of each node, padded index, labels."""
    xs, eis, owner, offset = [], [], [], 0
    for k, (x, ei, _) in enumerate(graphs):
        xs.append(x)
        eis.append(ei + offset)
        owner.append(torch.full((x.shape[0],), k))
        offset += x.shape[0]
    return (torch.cat(xs), torch.cat(eis, 1), torch.cat(owner),
            torch.tensor([x.shape[0] for x, _, _ in graphs]),
            torch.tensor([y for _, _, y in graphs]))


class GraphNet(nn.Module):
    def __init__(self, pooling: str, hidden: int = 32) -> None:
        super().__init__()
        from sciml.nn import GCNConv

        self.c1, self.c2 = GCNConv(2, hidden), GCNConv(hidden, hidden)
        self.pool = Pool(pooling, hidden)
        self.cls = nn.Linear(hidden, 2)

    def forward(self, x: Tensor, ei: Tensor, owner: Tensor, sizes: Tensor) -> Tensor:
        h = self.c2(self.c1(x, ei).relu(), ei).relu()
        b, nmax = len(sizes), int(sizes.max())
        pos = torch.arange(len(owner)) - torch.repeat_interleave(torch.cumsum(sizes, 0) - sizes,
                                                                 sizes)
        padded = h.new_zeros(b, nmax, h.shape[1])
        padded[owner, pos] = h
        mask = torch.arange(nmax)[None] >= sizes[:, None]
        return self.cls(self.pool(padded, mask))


# --------------------------------------------------------------------------- training
def train_eval(part: str, pooling: str, seed: int, args: argparse.Namespace) -> float:
    g = torch.Generator().manual_seed(1000 + seed)
    torch.manual_seed(seed)
    if part == "mil":
        xtr, mtr, ytr = make_bags(args.mil_train, args.mil_shift, g)
        xte, mte, yte = make_bags(1000 if not args.quick else 100, args.mil_shift, g)
        net = MILNet(pooling)

        def run(idx: Tensor | None, train: bool) -> Tensor:
            x, m = (xtr[idx], mtr[idx]) if train else (xte, mte)
            return net(x, m)

        n, labels_tr, labels_te = len(ytr), ytr, yte
    else:
        tr = make_graphs(args.graph_train, g)
        te = make_graphs(500 if not args.quick else 60, g)
        net = GraphNet(pooling)
        test_batch = batch_graphs(te)

        def run(idx: Tensor | None, train: bool) -> Tensor:
            bt = batch_graphs([tr[i] for i in idx.tolist()]) if train else test_batch
            return net(*bt[:4])

        n, labels_tr, labels_te = len(tr), torch.tensor([y for *_, y in tr]), test_batch[4]
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(args.epochs):
        net.train()
        for idx in torch.randperm(n, generator=g).split(32):
            opt.zero_grad()
            F.cross_entropy(run(idx, True), labels_tr[idx]).backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        return float((run(None, False).argmax(-1) == labels_te).float().mean())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="mil,graphs")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--mil-train", type=int, default=1000)
    ap.add_argument("--mil-shift", type=float, default=3.0)
    ap.add_argument("--graph-train", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="tiny budgets (not recorded)")
    _record.add_record_args(ap)
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.epochs, args.mil_train, args.graph_train = [0], 2, 100, 60
    torch.set_num_threads(args.threads)
    run = _record.start("hopfield", args, quick=args.quick, argv=argv)
    lines = [f"- seeds {', '.join(map(str, args.seeds))}; {args.epochs} epochs, Adam 1e-3, "
             f"batches of 32; {args.threads} thread(s). MIL: {args.mil_train} training bags, "
             f"witness shift {args.mil_shift}; graphs: {args.graph_train} training graphs "
             "(planted 5-clique or not).", "",
             "| part | " + " | ".join(POOLINGS) + " |", "|---|" + "---|" * len(POOLINGS)]
    comps = []
    for part in args.parts.split(","):
        acc = {p: [] for p in POOLINGS}
        t0 = time.perf_counter()
        for seed in args.seeds:
            for p in POOLINGS:
                acc[p].append(train_eval(part, p, seed, args))
                print(f"[{part}] seed {seed} {p}: accuracy {acc[p][-1]:.3f}", flush=True)
        med = {p: statistics.median(v) for p, v in acc.items()}
        lines.append(f"| {part} | " + " | ".join(
            f"{med[p]:.3f} ({', '.join(f'{a:.3f}' for a in acc[p])})" for p in POOLINGS) + " |")
        setting = f"{part}, {len(args.seeds)} seeds, {args.epochs} epochs"
        label = {"mil": "MIL bags", "graphs": "graph read-out (planted clique)"}[part]
        for other in ("mean", "attention"):
            comps.append(_record.comparison(
                f"hopfield.{part}.vs_{other}", f"{label}: median test accuracy, Hopfield "
                f"pooling / {other} pooling", med["hopfield"], med[other],
                anchor_name=f"{other} pooling", target=("ratio", ">=", 1.0), setting=setting))
        print(f"[{part}] {time.perf_counter() - t0:.0f} s", flush=True)
    lines += ["", "Cells: median test accuracy (each seed's in brackets)."]
    run.record("Hopfield pooling against mean, max and attention pooling", "\n".join(lines),
               comps)


if __name__ == "__main__":
    main()
