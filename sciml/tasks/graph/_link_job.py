"""The link-prediction job: recipe → a graph (Cora, CiteSeer or your own), a GNN encoder scored
by the inner product of node embeddings (GAE) → run folder with the test AUC and average
precision and the ROC curve.

The undirected edges are split at random (``data.split_seed``) into training, validation (5 %)
and test (10 %) edges, as in Kipf and Welling's GAE; the encoder sees only the training edges.
Full-batch training: each epoch is one optimizer step on the training edges against as many
non-edges drawn anew; validation and test edges are scored against fixed non-edges.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml.data import atomic_write
from sciml.datasets import NodeClassificationData
from sciml.errors import DataError
from sciml.registry import JOBS, MODELS
from sciml.tasks._job import AbstractJob, build_data
from sciml.tasks.graph._job import fresh_graph_cache, read_graph, training_features
from sciml.tasks.graph._links import LinkPredictionTask, LinkSplit, split_edges
from sciml.tasks.graph._task import single
from sciml.train import TrainerConfig

__all__ = ["LinkPredictionJob", "LinkDataConfig", "LinkObjectiveConfig", "read_pairs"]


@dataclass(frozen=True)
class LinkDataConfig:
    """Which graph (``name``, default ``planetoid``; its ``options``) and how its edges are
    split: ``val`` and ``test`` fractions of the undirected edges, drawn with ``split_seed``."""

    name: str = "planetoid"
    options: dict = field(default_factory=dict)
    val: float = 0.05
    test: float = 0.1
    split_seed: int = 0

    def __post_init__(self) -> None:
        for name in ("val", "test"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1:
                raise ValueError(f"{name} must be a fraction in [0, 1), got {v!r}")
        if not self.test > 0 or self.val + self.test >= 1:
            raise ValueError(f"test must be > 0 and val + test < 1, got val={self.val}, "
                             f"test={self.test}")
        if isinstance(self.split_seed, bool) or not isinstance(self.split_seed, int) \
                or self.split_seed < 0:
            raise ValueError(f"split_seed must be an integer >= 0, got {self.split_seed!r}")


@dataclass(frozen=True)
class LinkObjectiveConfig:
    """``embedding``: size of the node embeddings the encoder outputs (GAE: 16); an edge's
    probability is ``σ(z_i · z_j)``."""

    embedding: int = 16

    def __post_init__(self) -> None:
        if isinstance(self.embedding, bool) or not isinstance(self.embedding, int) \
                or self.embedding < 1:
            raise ValueError(f"embedding must be a positive integer, got {self.embedding!r}")


@dataclass(frozen=True)
class LinkEvalConfig:
    """Args: plot: write ``roc.png`` (the ROC curve of the test pairs)."""

    plot: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.plot, bool):
            raise ValueError(f"plot must be true or false, got {self.plot!r}")


_EVAL = ("x", "graph", "test_pos", "test_neg")


@JOBS.register("link_prediction", help="graphs: predict the missing edges of a graph (GAE: a "
               "GCN / GAT / GraphSAGE encoder, inner-product decoder; Cora, CiteSeer)")
class LinkPredictionJob(AbstractJob):
    """Link-prediction recipes: ``data`` (LinkDataConfig), ``model`` (the encoder: name +
    config), ``objective`` (LinkObjectiveConfig), ``train`` (TrainerConfig; ``batch_size`` is 1:
    the graph), ``eval`` (LinkEvalConfig)."""

    sections = ("data", "model", "objective", "train", "eval")
    configs = {"data": ("data_cfg", LinkDataConfig),
               "objective": ("objective", LinkObjectiveConfig),
               "eval": ("eval_cfg", LinkEvalConfig), "train": ("train_cfg", TrainerConfig)}
    data_kind = "a NodeClassificationData (sciml.datasets.NodeClassificationData)"
    collate_fn = staticmethod(single)
    data_cfg: LinkDataConfig
    objective: LinkObjectiveConfig
    eval_cfg: LinkEvalConfig
    train_cfg: TrainerConfig
    #: the metric a continual run's matrix holds (trainer.continual)
    continual_metric = "test/auc"

    # ---------------------------------------------------------------- data
    def load_data(self) -> NodeClassificationData:
        return build_data(self.data_cfg.name, self.data_cfg.options, NodeClassificationData,
                          "a graph")

    def check_data(self, data: Any) -> NodeClassificationData:
        if not isinstance(data, NodeClassificationData):
            raise TypeError(f"a link_prediction recipe takes {self.data_kind} as data, got "
                            f"{type(data).__name__}")
        return data

    def _split(self, data: NodeClassificationData) -> dict[str, torch.Tensor]:
        cached = getattr(data, "_sciml_edge_split", None)
        key = (self.data_cfg.val, self.data_cfg.test, self.data_cfg.split_seed)
        if cached is None or cached[0] != key:
            split = split_edges(data.edge_index, data.n_nodes, self.data_cfg.val,
                                self.data_cfg.test, self.data_cfg.split_seed)
            object.__setattr__(data, "_sciml_edge_split", (key, split))
            cached = (key, split)
        return cached[1]

    def describe(self, data: NodeClassificationData) -> dict[str, Any]:
        s = self._split(data)
        return {"name": data.name, "n_nodes": data.n_nodes, "n_features": int(data.x.shape[1]),
                "embedding": self.objective.embedding, "feature_transform": data.feature_transform,
                "edges": {k: int(s[k].shape[1]) for k in ("train_pos", "val_pos", "test_pos")}}

    def splits(self, data: NodeClassificationData) -> tuple[LinkSplit, LinkSplit | None]:
        s = self._split(data)
        train = LinkSplit(data.x, s["graph"], s["train_pos"], None, s["graph"])
        val = (LinkSplit(data.x, s["graph"], s["val_pos"], s["val_neg"], s["graph"])
               if s["val_pos"].shape[1] else None)
        return train, val

    def eval_data(self, data: NodeClassificationData) -> dict[str, Any]:
        s = self._split(data)
        return {"x": data.x, "graph": s["graph"], "test_pos": s["test_pos"],
                "test_neg": s["test_neg"]}

    # ---------------------------------------------------------------- task
    def build_task(self, spec: dict[str, Any]) -> LinkPredictionTask:
        model = MODELS.build(self.model_name, self.model_values, where="model",
                             in_channels=spec["n_features"], out_channels=spec["embedding"])
        return LinkPredictionTask(model, spec["n_nodes"], seed=self.seed)

    # ---------------------------------------------------------------- reports
    def head(self, spec: dict[str, Any]) -> dict[str, Any]:
        return {"model": self.model_name, "data": spec["name"], "edges": spec["edges"]}

    def test_samples(self, eval_data: dict[str, Any], spec: dict[str, Any]
                     ) -> tuple[LinkSplit, Any]:
        e = eval_data
        return LinkSplit(e["x"], e["graph"], e["test_pos"], e["test_neg"], e["graph"]), single

    def test_report(self, task: LinkPredictionTask, eval_data: dict[str, Any],
                    spec: dict[str, Any], trainer: Any) -> dict[str, Any]:
        test, collate = self.test_samples(eval_data, spec)
        metrics = trainer.evaluate(task, test, collate_fn=collate, prefix="test")
        return {"test": metrics, "test_pairs": {"edges": int(eval_data["test_pos"].shape[1]),
                                                "non_edges": int(eval_data["test_neg"].shape[1])}}

    def plots(self, run_dir: Path, task: LinkPredictionTask, eval_data: dict[str, Any],
              spec: dict[str, Any]) -> None:
        if not self.eval_cfg.plot:
            return
        from sciml.tasks.graph._plots import plot_roc

        pos, neg = eval_data["test_pos"], eval_data["test_neg"]
        task.eval()
        with torch.no_grad():
            p = task.predict({"x": eval_data["x"], "edge_index": eval_data["graph"],
                              "pairs": torch.cat([pos, neg], dim=1)})
        labels = np.r_[np.ones(pos.shape[1]), np.zeros(neg.shape[1])]
        plot_roc(p.numpy(), labels, run_dir / "roc.png",
                 f"{self.model_name} on {spec['name']}: test edges")

    # ---------------------------------------------------------------- predict
    def read_input(self, path: Path, spec: dict[str, Any]) -> dict[str, torch.Tensor]:
        return read_pairs(Path(path), spec["n_features"])

    def predict(self, task: LinkPredictionTask, spec: dict[str, Any], inputs: Any
                ) -> torch.Tensor:
        """``{"x", "edge_index", "pairs"}`` → the probability of an edge for each pair (the
        features transformed as the training features were, see the node job's predict)."""
        inputs = {**inputs, "x": training_features(inputs["x"].float(), spec)}
        task.eval()
        with fresh_graph_cache(task.model), torch.no_grad():
            return task.predict(inputs)

    def write_prediction(self, out_dir: Path, inputs: Any, outputs: torch.Tensor,
                         spec: dict[str, Any], source: str) -> list[Path]:
        out = Path(out_dir) / "predictions.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        pairs = inputs["pairs"].numpy()
        with atomic_write(out) as tmp, open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["src", "dst", "probability"])
            for (i, j), p in zip(pairs.T, outputs.numpy(), strict=True):
                w.writerow([int(i), int(j), f"{p:.6g}"])
        return [out]


def read_pairs(path: Path, n_features: int) -> dict[str, torch.Tensor]:
    """``x`` (N, F), ``edge_index`` (2, E) and the ``pairs`` (2, P) to score, from ``.npz`` or
    ``.pt`` (a dict of tensors)."""
    arrays = read_graph(path, n_features, extra=("pairs",))
    pairs, n = arrays["pairs"], arrays["x"].shape[0]
    if pairs.dim() != 2 or pairs.shape[0] != 2:
        raise DataError(f"{path}: pairs must be (2, pairs), got {tuple(pairs.shape)}")
    if pairs.numel() and (int(pairs.min()) < 0 or int(pairs.max()) >= n):
        raise DataError(f"{path}: pairs refer to nodes outside 0..{n - 1}")
    return arrays
