"""Link prediction on one graph: the edge split, the negative samples and the task (a node
encoder scored by the inner product of its embeddings, trained by binary cross entropy).

Kipf and Welling, "Variational Graph Auto-Encoders", NeurIPS Bayesian Deep Learning workshop
2016 (GAE): node embeddings ``Z = GCN(X, A_train)``, the probability of an edge ``σ(z_i·z_j)``;
the loss is the binary cross entropy of the training edges against as many pairs drawn at random
from the non-edges, new ones every step; validation and test edges (5 % and 10 % of the
undirected edges) are removed from the graph the encoder sees and scored against as many fixed
non-edges, by the area under the ROC curve and the average precision.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sciml.errors import DataError
from sciml.train import AbstractTask

__all__ = ["EdgeSplit", "split_edges", "sample_non_edges", "LinkPredictionTask", "LinkSplit",
           "roc_auc", "average_precision"]


class EdgeSplit(dict):
    """``train_pos, val_pos, test_pos`` (2, e) undirected edges ``i < j``; ``val_neg,
    test_neg`` (2, e) fixed non-edges; ``graph`` (2, 2·e_train): the training edges in both
    directions, the graph the encoder sees."""


def _pair_ids(edges: Tensor, n: int) -> Tensor:
    lo, hi = torch.minimum(edges[0], edges[1]), torch.maximum(edges[0], edges[1])
    return lo * n + hi


def sample_non_edges(n_nodes: int, count: int, forbidden: Tensor, generator: torch.Generator
                     ) -> Tensor:
    """``count`` distinct pairs ``i < j`` drawn uniformly from the pairs whose id
    (``i·n + j``) is not in ``forbidden`` (sorted ids of the edges and of pairs already used)."""
    total = n_nodes * (n_nodes - 1) // 2
    if count > total - forbidden.numel():
        raise DataError(f"cannot draw {count} non-edges from a graph of {n_nodes} nodes with "
                        f"{forbidden.numel()} pairs taken")
    chosen = torch.empty(0, dtype=torch.long)
    while chosen.numel() < count:
        k = 2 * (count - chosen.numel()) + 16
        i = torch.randint(0, n_nodes, (k,), generator=generator)
        j = torch.randint(0, n_nodes, (k,), generator=generator)
        keep = i != j
        ids = torch.minimum(i, j)[keep] * n_nodes + torch.maximum(i, j)[keep]
        merged = torch.cat([chosen, ids[~torch.isin(ids, forbidden)]])
        _, first = np.unique(merged.numpy(), return_index=True)  # first draw of each pair
        chosen = merged[torch.from_numpy(np.sort(first))][:count]
    return torch.stack([chosen // n_nodes, chosen % n_nodes])


def split_edges(edge_index: Tensor, n_nodes: int, val: float = 0.05, test: float = 0.1,
                seed: int = 0) -> EdgeSplit:
    """Split the undirected edges of ``edge_index`` at random (``seed``) into training,
    validation and test edges, and draw as many fixed non-edges for validation and test."""
    if not (0 <= val < 1 and 0 < test < 1 and val + test < 1):
        raise ValueError(f"val and test must be fractions with val + test < 1, got val={val}, "
                         f"test={test}")
    ei = edge_index[:, edge_index[0] != edge_index[1]]
    ids = torch.unique(_pair_ids(ei, n_nodes))
    if ids.numel() < 3:
        raise DataError(f"the graph has {ids.numel()} undirected edges; link prediction needs "
                        "at least 3")
    g = torch.Generator().manual_seed(seed)
    ids = ids[torch.randperm(ids.numel(), generator=g)]
    n_val, n_test = int(round(val * ids.numel())), max(1, int(round(test * ids.numel())))
    parts = {"val_pos": ids[:n_val], "test_pos": ids[n_val:n_val + n_test],
             "train_pos": ids[n_val + n_test:]}
    out = EdgeSplit({k: torch.stack([v // n_nodes, v % n_nodes]) for k, v in parts.items()})
    taken = ids.sort().values
    for name, count in (("val_neg", n_val), ("test_neg", n_test)):
        neg = sample_non_edges(n_nodes, count, taken, g)
        out[name] = neg
        taken = torch.cat([taken, neg[0] * n_nodes + neg[1]]).sort().values
    tp = out["train_pos"]
    out["graph"] = torch.cat([tp, tp.flip(0)], dim=1)
    return out


class LinkSplit(torch.utils.data.Dataset):
    """The graph as one sample with one split's positive pairs (and its fixed negatives, or
    none for training: drawn per step)."""

    def __init__(self, x: Tensor, graph: Tensor, pos: Tensor, neg: Tensor | None,
                 all_edges: Tensor) -> None:
        self.item = {"x": x, "edge_index": graph, "pos": pos, "all_edges": all_edges}
        if neg is not None:
            self.item["neg"] = neg

    def __len__(self) -> int:
        return 1

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        if i != 0:
            raise IndexError(i)
        return self.item


def roc_auc(scores: Tensor, labels: Tensor) -> Tensor:
    """Area under the ROC curve: the probability that a positive scores above a negative
    (ties count one half), by ranks."""
    s, y = scores.double(), labels.bool()
    order = torch.argsort(s)
    ranks = torch.empty_like(s)
    ranks[order] = torch.arange(1, s.numel() + 1, dtype=s.dtype)
    uniq, inverse = torch.unique(s, return_inverse=True)
    mean_rank = torch.zeros_like(uniq).scatter_add_(0, inverse, ranks) / torch.bincount(
        inverse, minlength=uniq.numel()).to(s.dtype)
    r = mean_rank[inverse]
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    return (r[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def average_precision(scores: Tensor, labels: Tensor) -> Tensor:
    """Average precision: the mean over the positives of the precision at their rank (scores in
    decreasing order; as scikit-learn's ``average_precision_score`` without ties)."""
    order = torch.argsort(scores.double(), descending=True, stable=True)
    y = labels.bool()[order].double()
    precision = torch.cumsum(y, 0) / torch.arange(1, y.numel() + 1, dtype=y.dtype)
    return (precision * y).sum() / y.sum()


class LinkPredictionTask(AbstractTask):
    """A node encoder ``model(x, edge_index) -> Z (N, d)`` scored by ``z_i · z_j``.

    Training: the binary cross entropy of the split's positive pairs against as many non-edges
    drawn anew each step (from a generator seeded by ``seed`` and the step, so a resumed run
    draws the same ones). Metrics: ``loss`` (the same cross entropy on the split's fixed
    negatives), ``auc`` and ``ap``.
    """

    def __init__(self, model: nn.Module, n_nodes: int, seed: int = 0) -> None:
        super().__init__(model)
        self.n_nodes, self.seed = n_nodes, seed
        self.register_buffer("draws", torch.zeros((), dtype=torch.long))
        # the sorted pair ids of the last edge set seen (the split's, the same tensor each step)
        self._forbidden: tuple[Tensor, Tensor] | None = None

    def embed(self, batch: dict[str, Tensor]) -> Tensor:
        return self.model(batch["x"], batch["edge_index"])

    @staticmethod
    def score(z: Tensor, pairs: Tensor) -> Tensor:
        """Logits ``z_i · z_j`` of the pairs ``(2, P)``."""
        return (z[pairs[0]] * z[pairs[1]]).sum(-1)

    def _negatives(self, batch: dict[str, Tensor]) -> Tensor:
        if "neg" in batch:
            return batch["neg"]
        g = torch.Generator().manual_seed(self.seed * 1000003 + int(self.draws))
        self.draws += 1
        edges = batch["all_edges"]
        if self._forbidden is None or self._forbidden[0] is not edges:
            self._forbidden = (edges, torch.unique(_pair_ids(edges.cpu(), self.n_nodes)))
        forbidden = self._forbidden[1]
        return sample_non_edges(self.n_nodes, batch["pos"].shape[1], forbidden, g).to(
            batch["pos"].device)

    def _logits(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        z = self.embed(batch)
        neg = self._negatives(batch)
        logits = torch.cat([self.score(z, batch["pos"]), self.score(z, neg)])
        labels = torch.cat([torch.ones(batch["pos"].shape[1]), torch.zeros(neg.shape[1])]).to(
            logits)
        return logits, labels

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        logits, labels = self._logits(batch)
        return F.binary_cross_entropy_with_logits(logits, labels)

    def metrics(self, batch: dict[str, Tensor]) -> dict[str, tuple[Tensor, Tensor]]:
        logits, labels = self._logits(batch)
        one = torch.ones((), dtype=logits.dtype, device=logits.device)
        n = torch.tensor(float(labels.numel()), dtype=logits.dtype, device=logits.device)
        return {"loss": (F.binary_cross_entropy_with_logits(logits, labels, reduction="sum"), n),
                "auc": (roc_auc(logits, labels).to(logits), one),
                "ap": (average_precision(logits, labels).to(logits), one)}

    def predict(self, batch: dict[str, Any]) -> Tensor:
        """Edge probabilities ``σ(z_i · z_j)`` of ``batch["pairs"]`` (2, P)."""
        return torch.sigmoid(self.score(self.embed(batch), batch["pairs"]))
