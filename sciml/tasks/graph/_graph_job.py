"""The graph-classification job: recipe → a set of graphs (generated, a TU data set or your own
file), a GNN with a read-out → run folder with the test accuracy and the confusion matrix.

Mini-batch training over graphs: each batch is the disjoint union of ``train.batch_size``
graphs (node ids shifted, a graph id per node), the cross entropy of their classes; validated on
the validation graphs (the best epoch by ``train.monitor``, ``val/loss`` by default, is the
result). ``sciml predict RUN --input graphs.npz`` classifies the graphs of a file (``x``,
``edge_index``, ``graph_index``; or a ``.pt`` list of per-graph dicts) into ``predictions.csv``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sciml.data import atomic_write
from sciml.datasets import GraphClassificationData, check_graph_set, read_graph_set
from sciml.errors import DataError
from sciml.kernels import scatter
from sciml.registry import JOBS, MODELS
from sciml.tasks._job import AbstractJob, build_data, input_file
from sciml.tasks.graph._job import NodeEvalConfig
from sciml.train import AbstractTask, TrainerConfig

__all__ = ["GraphClassificationJob", "GraphClassificationTask", "GraphSet", "collate_graphs",
           "GraphDataConfig", "mean_node_features", "VECTOR_MODELS"]


class GraphSet(torch.utils.data.Dataset):
    """The graphs ``ids`` of a concatenated set, one item per graph: ``x`` ``(n_i, F)``,
    ``edge_index`` ``(2, e_i)`` (local node ids) and ``y`` (a 0-d class)."""

    def __init__(self, x: Tensor, edge_index: Tensor, node_ptr: Tensor, edge_ptr: Tensor,
                 y: Tensor | None, ids: Tensor) -> None:
        self.x, self.edge_index, self.node_ptr, self.edge_ptr = x, edge_index, node_ptr, edge_ptr
        self.y, self.ids = y, ids.long()

    @classmethod
    def of(cls, d: dict[str, Any], ids: Tensor) -> GraphSet:
        return cls(d["x"], d["edge_index"], d["node_ptr"], d["edge_ptr"], d.get("y"), ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        g = int(self.ids[i])
        a, b = int(self.node_ptr[g]), int(self.node_ptr[g + 1])
        ea, eb = int(self.edge_ptr[g]), int(self.edge_ptr[g + 1])
        item = {"x": self.x[a:b], "edge_index": self.edge_index[:, ea:eb] - a}
        if self.y is not None:
            item["y"] = self.y[g]
        return item


def collate_graphs(items: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """A batch of graphs as one disjoint graph: node features and edges concatenated (node ids
    shifted), ``graph_index`` (the batch position of each node) and ``y`` ``(B,)``."""
    sizes = torch.tensor([it["x"].shape[0] for it in items])
    offsets = torch.cumsum(sizes, 0) - sizes
    batch = {"x": torch.cat([it["x"] for it in items]),
             "edge_index": torch.cat([it["edge_index"] + int(o)
                                      for it, o in zip(items, offsets, strict=True)], 1),
             "graph_index": torch.repeat_interleave(torch.arange(len(items)), sizes)}
    if all("y" in it for it in items):
        batch["y"] = torch.stack([it["y"] for it in items])
    return batch


#: models of feature vectors that the job feeds each graph's mean node features (no message
#: passing): NoProp-DT, trained block by block
VECTOR_MODELS = ("noprop",)


def mean_node_features(batch: dict[str, Tensor]) -> Tensor:
    """Each graph's mean node feature vector ``(B, F)``."""
    return scatter(batch["x"], batch["graph_index"], reduce="mean")


class GraphClassificationTask(AbstractTask):
    """Cross entropy of the graphs' logits; metrics ``loss`` and ``accuracy`` over graphs.

    A graph model (``graph_gnn``) sees the nodes and edges; a model of feature vectors
    (``vectors=True``: NoProp-DT) sees each graph's mean node features, and trains as it
    trains on nodes (block-wise ``local_losses``, or its own ``backprop_loss``)."""

    def __init__(self, model: nn.Module, vectors: bool = False) -> None:
        super().__init__(model)
        self.vectors = vectors

    def logits(self, batch: dict[str, Tensor]) -> Tensor:
        if self.vectors:
            return self.model(mean_node_features(batch))
        return self.model(batch["x"], batch["edge_index"], batch["graph_index"])

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        backprop = getattr(self.model, "backprop_loss", None)
        if self.vectors and callable(backprop):
            return backprop(mean_node_features(batch), batch["y"])
        return F.cross_entropy(self.logits(batch), batch["y"])

    @property
    def trains_locally(self) -> bool:
        """Whether the model trains block by block (NoProp's ``local_losses``)."""
        return self.vectors and bool(getattr(self.model, "trains_locally", False))

    def local_losses(self, batch: dict[str, Tensor]) -> Any:
        """The model's local training terms on the batch's graphs, one at a time."""
        yield from self.model.local_losses(mean_node_features(batch), batch["y"])

    def metrics(self, batch: dict[str, Tensor]) -> dict[str, tuple[Tensor, Tensor]]:
        logits, y = self.logits(batch), batch["y"]
        n = torch.tensor(float(len(y)), device=logits.device)
        return {"loss": (F.cross_entropy(logits, y, reduction="sum"), n),
                "accuracy": ((logits.argmax(-1) == y).sum().to(logits.dtype), n)}

    def predict(self, batch: dict[str, Any]) -> Tensor:
        """Class probabilities of every graph ``(B, classes)``."""
        return self.logits(batch).softmax(-1)


@dataclass(frozen=True)
class GraphDataConfig:
    """Which set of graphs (``name``: planted_clique, tu, graph_file) and its ``options``."""

    name: str = "planted_clique"
    options: dict = field(default_factory=dict)


def _arrays(data: GraphClassificationData) -> dict[str, Any]:
    return {"x": data.x, "edge_index": data.edge_index, "node_ptr": data.node_ptr,
            "edge_ptr": data.edge_ptr, "y": data.y}


@JOBS.register("graph_classification", help="graphs: classify whole graphs (GNN + read-out: "
               "mean, sum, max, attention, Hopfield; generated, TU or your own graphs)")
class GraphClassificationJob(AbstractJob):
    """Graph-classification recipes: ``data`` (GraphDataConfig), ``model`` (``graph_gnn``),
    ``train`` (TrainerConfig; ``batch_size`` graphs per step), ``eval`` (NodeEvalConfig)."""

    sections = ("data", "model", "train", "eval")
    configs = {"data": ("data_cfg", GraphDataConfig), "eval": ("eval_cfg", NodeEvalConfig),
               "train": ("train_cfg", TrainerConfig)}
    models = ("graph_gnn", *VECTOR_MODELS)
    data_kind = "a GraphClassificationData (sciml.datasets.GraphClassificationData)"
    collate_fn = staticmethod(collate_graphs)
    data_cfg: GraphDataConfig
    eval_cfg: NodeEvalConfig
    train_cfg: TrainerConfig
    continual_metric = "test/accuracy"

    # ---------------------------------------------------------------- data
    def load_data(self) -> GraphClassificationData:
        return build_data(self.data_cfg.name, self.data_cfg.options, GraphClassificationData,
                          "a set of graphs")

    def check_data(self, data: Any) -> GraphClassificationData:
        if not isinstance(data, GraphClassificationData):
            raise TypeError(f"a graph_classification recipe takes {self.data_kind} as data, "
                            f"got {type(data).__name__}")
        return data

    def describe(self, data: GraphClassificationData) -> dict[str, Any]:
        return {"name": data.name, "n_graphs": data.n_graphs, "n_features": data.n_features,
                "n_classes": int(data.n_classes), "class_names": list(data.class_names),
                "meta": {k: str(v) for k, v in data.meta.items()},
                "splits": {"train": int(len(data.train_idx)), "val": int(len(data.val_idx)),
                           "test": int(len(data.test_idx))}}

    def splits(self, data: GraphClassificationData) -> tuple[GraphSet, GraphSet | None]:
        a = _arrays(data)
        return GraphSet.of(a, data.train_idx), (GraphSet.of(a, data.val_idx)
                                                if len(data.val_idx) else None)

    def eval_data(self, data: GraphClassificationData) -> dict[str, Any]:
        return {**_arrays(data), "test_idx": data.test_idx}

    # ---------------------------------------------------------------- task
    def build_task(self, spec: dict[str, Any]) -> GraphClassificationTask:
        model = MODELS.build(self.model_name, self.model_values, where="model",
                             in_channels=spec["n_features"], out_channels=spec["n_classes"])
        return GraphClassificationTask(model, vectors=self.model_name in VECTOR_MODELS)

    # ---------------------------------------------------------------- reports
    def head(self, spec: dict[str, Any]) -> dict[str, Any]:
        return {"model": self.model_name, "data": spec["name"], "graphs": spec.get("splits"),
                **({"data_meta": spec["meta"]} if spec.get("meta") else {})}

    def test_samples(self, eval_data: dict[str, Any], spec: dict[str, Any]
                     ) -> tuple[GraphSet, Any]:
        return GraphSet.of(eval_data, eval_data["test_idx"]), collate_graphs

    def test_report(self, task: GraphClassificationTask, eval_data: dict[str, Any],
                    spec: dict[str, Any], trainer: Any) -> dict[str, Any]:
        if not len(eval_data["test_idx"]):
            raise DataError(f"{spec['name']}: no test graph (split's test fraction is 0)")
        test, collate = self.test_samples(eval_data, spec)
        metrics = trainer.evaluate(task, test, collate_fn=collate, prefix="test")
        return {"test": metrics, "test_graphs": int(len(eval_data["test_idx"]))}

    def plots(self, run_dir: Path, task: GraphClassificationTask, eval_data: dict[str, Any],
              spec: dict[str, Any]) -> None:
        if not self.eval_cfg.plot or not len(eval_data["test_idx"]):
            return
        from sciml.tasks.graph._plots import plot_confusion

        test = GraphSet.of(eval_data, eval_data["test_idx"])
        batch = collate_graphs([test[i] for i in range(len(test))])
        task.eval()
        with torch.no_grad():
            pred = task.predict(batch).argmax(-1)
        plot_confusion(batch["y"].numpy(), pred.numpy(), spec["n_classes"],
                       run_dir / "confusion.png",
                       f"{self.model_name} on {spec['name']}: test graphs")

    # ---------------------------------------------------------------- predict
    def read_input(self, path: Path, spec: dict[str, Any]) -> dict[str, Tensor]:
        path = input_file(path, "a graph-set file (x, edge_index, graph_index)")
        return _checked_input(read_graph_set(path, need_y=False), spec["n_features"], str(path))

    def read_eval_file(self, path: Path, spec: dict[str, Any]) -> dict[str, Any]:
        """Labelled graphs of a file (``x``, ``edge_index``, ``graph_index``, ``y``; or a ``.pt``
        list of graphs with ``y``), every one a test graph (``sciml eval RUN --data FILE``). Labels
        are read as the training file wrote them (TU's -1 / 1) where the run's classes have such
        names, else as class indices."""
        path = input_file(path, "a graph-set file (x, edge_index, graph_index, y)")
        a = read_graph_set(path, need_y=True)
        arrays = _checked_input(a, spec["n_features"], str(path))
        names = spec.get("class_names") or []
        raw = a["y"].long()
        if names and all(n.lstrip("-").isdigit() for n in names):
            lookup = {int(n): c for c, n in enumerate(names)}
            bad = [int(v) for v in raw.tolist() if int(v) not in lookup]
            if bad:
                raise DataError(f"{path}: label {bad[0]} is not one of the run's classes "
                                f"{[int(n) for n in names]}")
            y = torch.tensor([lookup[int(v)] for v in raw.tolist()], dtype=torch.long)
        else:
            y = raw
            if int(y.min()) < 0 or int(y.max()) >= spec["n_classes"]:
                raise DataError(f"{path}: classes must lie in 0..{spec['n_classes'] - 1} (the "
                                f"run's {names or spec['n_classes']})")
        n_graphs = int(arrays["graph_index"][-1]) + 1
        if y.shape != (n_graphs,):
            raise DataError(f"{path}: y must have one class per graph ({n_graphs}), got shape "
                            f"{tuple(y.shape)}")
        everything = torch.arange(n_graphs)
        data = GraphClassificationData(
            path.stem, arrays["x"], arrays["edge_index"], arrays["graph_index"], y, everything,
            everything[:0], everything, max(2, spec["n_classes"]), list(names))
        return self.eval_data(data)

    def predict(self, task: GraphClassificationTask, spec: dict[str, Any], inputs: Any
                ) -> Tensor:
        """``{"x", "edge_index", "graph_index"}`` (graphs concatenated) → class probabilities
        ``(graphs, classes)``."""
        inputs = _checked_input({k: torch.as_tensor(inputs[k]) for k in
                                 ("x", "edge_index", "graph_index")}, spec["n_features"],
                                "input")
        task.eval()
        with torch.no_grad():
            return task.predict(inputs)

    def write_prediction(self, out_dir: Path, inputs: Any, outputs: Tensor,
                         spec: dict[str, Any], source: str) -> list[Path]:
        out = Path(out_dir) / "predictions.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        names = spec.get("class_names") or [str(c) for c in range(outputs.shape[1])]
        probs = outputs.numpy()
        with atomic_write(out) as tmp, open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["graph", "class", "label"] + [f"p_{c}" for c in range(probs.shape[1])])
            for i, row in enumerate(probs):
                c = int(row.argmax())
                w.writerow([i, c, names[c]] + [f"{v:.6g}" for v in row])
        return [out]


def _checked_input(a: dict[str, Tensor], n_features: int, where: str) -> dict[str, Tensor]:
    """Graphs to classify: the run's feature width, then the checks of every graph set."""
    x = a["x"].float()
    x = x[:, None] if x.dim() == 1 else x
    ei, gi = a["edge_index"].long(), a["graph_index"].long().reshape(-1)
    if x.dim() != 2 or x.shape[1] != n_features:
        raise DataError(f"{where}: x must be (nodes, {n_features}) as the run was trained on, "
                        f"got {tuple(x.shape)}")
    check_graph_set(x, ei, gi, where)
    return {"x": x, "edge_index": ei, "graph_index": gi}
