"""The graph-classification job: recipe → a set of graphs (generated, a TU data set or your own
file), a GNN with a read-out → run folder with the test accuracy and the confusion matrix.

Mini-batch training over graphs: each batch is the disjoint union of ``train.batch_size``
graphs (node ids shifted, a graph id per node), the cross entropy of their classes; validated on
the validation graphs (the best epoch by ``train.monitor``, ``val/loss`` by default, is the
result). ``sciml predict RUN --input graphs.npz`` classifies the graphs of a file (``x``,
``edge_index``, ``graph_index``; or a ``.pt`` list of per-graph dicts) into ``predictions.csv``.

Node-level sets (``level="node"``: a class per node, ``-1`` for none; e.g. ``sudoku``) train a
node-level model (``rrn``, or ``graph_gnn`` with ``readout: none``) on the labelled nodes of the
graphs; metrics ``accuracy`` over labelled nodes and ``exact``, the fraction of graphs whose every
labelled node is right (a Sudoku solved). A model with a loss per step (RRN) trains on it.
``sciml predict`` writes a row per node; a Sudoku run also reads a file of puzzles (one
81-character line each) and writes ``solutions.csv``.
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
from sciml.errors import ConfigError, DataError
from sciml.kernels import scatter
from sciml.registry import JOBS, MODELS
from sciml.tasks._job import AbstractJob, build_data, input_file
from sciml.tasks.graph._job import NodeEvalConfig
from sciml.train import AbstractTask, TrainerConfig

__all__ = ["GraphClassificationJob", "GraphClassificationTask", "GraphSet", "collate_graphs",
           "GraphDataConfig", "mean_node_features", "VECTOR_MODELS"]


class GraphSet(torch.utils.data.Dataset):
    """The graphs ``ids`` of a concatenated set, one item per graph: ``x`` ``(n_i, F)``,
    ``edge_index`` ``(2, e_i)`` (local node ids) and ``y`` (a 0-d class, or ``(n_i,)`` node
    classes with ``node_level``)."""

    def __init__(self, x: Tensor, edge_index: Tensor, node_ptr: Tensor, edge_ptr: Tensor,
                 y: Tensor | None, ids: Tensor, node_level: bool = False,
                 edge_type: Tensor | None = None) -> None:
        self.x, self.edge_index, self.node_ptr, self.edge_ptr = x, edge_index, node_ptr, edge_ptr
        self.y, self.ids, self.node_level = y, ids.long(), node_level
        self.edge_type = edge_type

    @classmethod
    def of(cls, d: dict[str, Any], ids: Tensor) -> GraphSet:
        return cls(d["x"], d["edge_index"], d["node_ptr"], d["edge_ptr"], d.get("y"), ids,
                   d.get("level") == "node", d.get("edge_type"))

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        g = int(self.ids[i])
        a, b = int(self.node_ptr[g]), int(self.node_ptr[g + 1])
        ea, eb = int(self.edge_ptr[g]), int(self.edge_ptr[g + 1])
        item = {"x": self.x[a:b], "edge_index": self.edge_index[:, ea:eb] - a}
        if self.edge_type is not None:
            item["edge_type"] = self.edge_type[ea:eb]
        if self.y is not None:
            item["y"] = self.y[a:b] if self.node_level else self.y[g]
        return item


def collate_graphs(items: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """A batch of graphs as one disjoint graph: node features and edges concatenated (node ids
    shifted), ``graph_index`` (the batch position of each node) and ``y`` ``(B,)`` (node
    classes: ``(N,)``)."""
    sizes = torch.tensor([it["x"].shape[0] for it in items])
    offsets = torch.cumsum(sizes, 0) - sizes
    batch = {"x": torch.cat([it["x"] for it in items]),
             "edge_index": torch.cat([it["edge_index"] + int(o)
                                      for it, o in zip(items, offsets, strict=True)], 1),
             "graph_index": torch.repeat_interleave(torch.arange(len(items)), sizes)}
    if all("edge_type" in it for it in items):
        batch["edge_type"] = torch.cat([it["edge_type"] for it in items])
    if all("y" in it for it in items):
        ys = [it["y"] for it in items]
        batch["y"] = torch.stack(ys) if ys[0].dim() == 0 else torch.cat(ys)
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
    trains on nodes (block-wise ``local_losses``, or its own ``backprop_loss``).

    ``node_level``: the model gives logits per node, labels ``-1`` are skipped; a model with
    ``step_loss`` (RRN: a loss at every message-passing step) trains on that; metrics add
    ``exact`` (graphs whose every labelled node is right)."""

    def __init__(self, model: nn.Module, vectors: bool = False, node_level: bool = False
                 ) -> None:
        super().__init__(model)
        self.vectors, self.node_level = vectors, node_level

    def logits(self, batch: dict[str, Tensor]) -> Tensor:
        if self.vectors:
            return self.model(mean_node_features(batch))
        if getattr(self.model, "uses_edge_types", False):
            if "edge_type" not in batch:
                raise DataError("the model reads edge types: the graphs need edge_type (one "
                                "type per edge)")
            return self.model(batch["x"], batch["edge_index"], batch["graph_index"],
                              batch["edge_type"])
        return self.model(batch["x"], batch["edge_index"], batch["graph_index"])

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        backprop = getattr(self.model, "backprop_loss", None)
        if self.vectors and callable(backprop):
            return backprop(mean_node_features(batch), batch["y"])
        if self.node_level:
            step_loss = getattr(self.model, "step_loss", None)
            if callable(step_loss):
                return step_loss(batch["x"], batch["edge_index"], batch["y"])
            return F.cross_entropy(self.logits(batch), batch["y"], ignore_index=-1)
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
        if self.node_level:
            return node_metrics(logits, y, batch["graph_index"])
        n = torch.tensor(float(len(y)), device=logits.device)
        return {"loss": (F.cross_entropy(logits, y, reduction="sum"), n),
                "accuracy": ((logits.argmax(-1) == y).sum().to(logits.dtype), n)}

    def predict(self, batch: dict[str, Any]) -> Tensor:
        """Class probabilities of every graph ``(B, classes)`` (node-level: of every node
        ``(N, classes)``)."""
        return self.logits(batch).softmax(-1)


def node_metrics(logits: Tensor, y: Tensor, graph_index: Tensor
                 ) -> dict[str, tuple[Tensor, Tensor]]:
    """``loss`` and ``accuracy`` over the labelled nodes (``y`` ≥ 0), and ``exact``: the
    fraction of graphs with a labelled node whose labelled nodes are all right."""
    lab = y >= 0
    wrong = (logits.argmax(-1) != y) & lab
    n_graphs = int(graph_index[-1]) + 1 if graph_index.numel() else 0
    has = torch.zeros(n_graphs, dtype=torch.bool, device=y.device).index_fill_(
        0, graph_index[lab], True)
    bad = torch.zeros(n_graphs, dtype=torch.bool, device=y.device).index_fill_(
        0, graph_index[wrong], True)
    n = lab.sum().to(logits.dtype)
    return {"loss": (F.cross_entropy(logits[lab], y[lab], reduction="sum"), n),
            "accuracy": ((~wrong & lab).sum().to(logits.dtype), n),
            "exact": ((has & ~bad).sum().to(logits.dtype), has.sum().to(logits.dtype))}


@dataclass(frozen=True)
class GraphDataConfig:
    """Which set of graphs (``name``: planted_clique, tu, graph_file) and its ``options``."""

    name: str = "planted_clique"
    options: dict = field(default_factory=dict)


def _arrays(data: GraphClassificationData) -> dict[str, Any]:
    out = {"x": data.x, "edge_index": data.edge_index, "node_ptr": data.node_ptr,
           "edge_ptr": data.edge_ptr, "y": data.y, "level": data.level}
    if data.edge_type is not None:
        out["edge_type"] = data.edge_type
    return out


@JOBS.register("graph_classification", help="graphs: classify whole graphs (GNN + read-out: "
               "mean, sum, max, attention, Hopfield; generated, TU or your own graphs)")
class GraphClassificationJob(AbstractJob):
    """Graph-classification recipes: ``data`` (GraphDataConfig), ``model`` (``graph_gnn``),
    ``train`` (TrainerConfig; ``batch_size`` graphs per step), ``eval`` (NodeEvalConfig)."""

    sections = ("data", "model", "train", "eval")
    configs = {"data": ("data_cfg", GraphDataConfig), "eval": ("eval_cfg", NodeEvalConfig),
               "train": ("train_cfg", TrainerConfig)}
    models = ("graph_gnn", "rrn", "epignn", "rgcn", *VECTOR_MODELS)
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
        return {"name": data.name, "level": data.level, "n_graphs": data.n_graphs,
                "n_features": data.n_features, "n_edge_types": int(data.n_edge_types),
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
        cls, _ = MODELS.get(self.model_name)
        typed = {}
        if getattr(cls, "uses_edge_types", False):
            if not spec.get("n_edge_types"):
                raise ConfigError(f"model {self.model_name} reads edge types; the data "
                                  f"{spec['name']!r} has none (edge_type)")
            typed = {"n_edge_types": int(spec["n_edge_types"])}
        model = MODELS.build(self.model_name, self.model_values, where="model",
                             in_channels=spec["n_features"], out_channels=spec["n_classes"],
                             **typed)
        node_level = spec.get("level", "graph") == "node"
        per_node = bool(getattr(model, "node_level", False))
        if per_node != node_level:
            raise ConfigError(
                f"model {self.model_name}: the data {spec['name']!r} has a class per "
                f"{'node' if node_level else 'graph'}, the model gives one per "
                f"{'node' if per_node else 'graph'}" + (
                    " (use rrn, or graph_gnn with readout: none)" if node_level else
                    " (use graph_gnn with a pooling read-out: mean, sum, max, attention, "
                    "hopfield)"))
        return GraphClassificationTask(model, vectors=self.model_name in VECTOR_MODELS,
                                       node_level=node_level)

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
        out = {"test": metrics, "test_graphs": int(len(eval_data["test_idx"]))}
        if eval_data.get("level") == "node":
            ids = eval_data["test_idx"]
            ptr = eval_data["node_ptr"]
            out["test_labelled_nodes"] = int(sum(
                int((eval_data["y"][int(ptr[g]):int(ptr[g + 1])] >= 0).sum()) for g in ids))
        return out

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
        y = batch["y"]
        what = "test graphs"
        if eval_data.get("level") == "node":
            lab = y >= 0
            y, pred, what = y[lab], pred[lab], "labelled nodes of the test graphs"
        plot_confusion(y.numpy(), pred.numpy(), spec["n_classes"], run_dir / "confusion.png",
                       f"{self.model_name} on {spec['name']}: {what}")

    # ---------------------------------------------------------------- predict
    def read_input(self, path: Path, spec: dict[str, Any]) -> dict[str, Tensor]:
        if _is_sudoku(spec) and Path(path).suffix.lower() in (".csv", ".txt"):
            from sciml.datasets import read_sudoku_file, sudoku_graphs

            puzzles, _ = read_sudoku_file(Path(path), need_solutions=False)
            a = sudoku_graphs(puzzles)
            return {**_checked_input(a, spec["n_features"], str(path)), "puzzles": puzzles}
        path = input_file(path, "a graph-set file (x, edge_index, graph_index)")
        return _checked_input(read_graph_set(path, need_y=False), spec["n_features"], str(path))

    def read_eval_file(self, path: Path, spec: dict[str, Any]) -> dict[str, Any]:
        """Labelled graphs of a file (``x``, ``edge_index``, ``graph_index``, ``y``; or a ``.pt``
        list of graphs with ``y``), every one a test graph (``sciml eval RUN --data FILE``). Labels
        are read as the training file wrote them (TU's -1 / 1) where the run's classes have such
        names, else as class indices."""
        if _is_sudoku(spec) and Path(path).suffix.lower() in (".csv", ".txt"):
            from sciml.datasets import sudoku

            data = sudoku(path=str(path), split=(1.0, 0.0, 0.0))
            everything = torch.arange(data.n_graphs)
            data.train_idx, data.test_idx = everything[:0], everything
            return self.eval_data(data)
        path = input_file(path, "a graph-set file (x, edge_index, graph_index, y)")
        a = read_graph_set(path, need_y=True)
        arrays = _checked_input(a, spec["n_features"], str(path))
        names = spec.get("class_names") or []
        raw = a["y"].long()
        n_graphs = int(arrays["graph_index"][-1]) + 1
        if spec.get("level", "graph") == "node":
            y = raw.reshape(-1)
            if y.shape != (arrays["x"].shape[0],):
                raise DataError(f"{path}: y must have one class per node "
                                f"({arrays['x'].shape[0]}; -1: no label), got shape "
                                f"{tuple(y.shape)}")
            if int(y.min()) < -1 or int(y.max()) >= spec["n_classes"]:
                raise DataError(f"{path}: node classes must lie in 0..{spec['n_classes'] - 1} "
                                "or be -1 (no label)")
            everything = torch.arange(n_graphs)
            data = GraphClassificationData(
                path.stem, arrays["x"], arrays["edge_index"], arrays["graph_index"], y,
                everything, everything[:0], everything, max(2, spec["n_classes"]), list(names),
                level="node", **_typed(arrays, spec))
            return self.eval_data(data)
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
        if y.shape != (n_graphs,):
            raise DataError(f"{path}: y must have one class per graph ({n_graphs}), got shape "
                            f"{tuple(y.shape)}")
        everything = torch.arange(n_graphs)
        data = GraphClassificationData(
            path.stem, arrays["x"], arrays["edge_index"], arrays["graph_index"], y, everything,
            everything[:0], everything, max(2, spec["n_classes"]), list(names),
            **_typed(arrays, spec))
        return self.eval_data(data)

    def predict(self, task: GraphClassificationTask, spec: dict[str, Any], inputs: Any
                ) -> Tensor:
        """``{"x", "edge_index", "graph_index"}`` (graphs concatenated) → class probabilities
        ``(graphs, classes)`` (node-level runs: ``(nodes, classes)``)."""
        inputs = _checked_input({k: torch.as_tensor(inputs[k]) for k in
                                 ("x", "edge_index", "graph_index", "edge_type")
                                 if k in inputs}, spec["n_features"], "input")
        n_types = int(spec.get("n_edge_types") or 0)
        if "edge_type" in inputs and n_types and inputs["edge_type"].numel() and (
                int(inputs["edge_type"].min()) < 0 or int(inputs["edge_type"].max()) >= n_types):
            raise DataError(f"input: edge types must lie in 0..{n_types - 1} as in training")
        task.eval()
        with torch.no_grad():
            return task.predict(inputs)

    def write_prediction(self, out_dir: Path, inputs: Any, outputs: Tensor,
                         spec: dict[str, Any], source: str) -> list[Path]:
        out = Path(out_dir) / "predictions.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        names = spec.get("class_names") or [str(c) for c in range(outputs.shape[1])]
        probs = outputs.numpy()
        node = spec.get("level", "graph") == "node"
        gi = torch.as_tensor(inputs["graph_index"]).long() if node else None
        if node:
            start = torch.searchsorted(gi, gi, right=False)
            local = (torch.arange(len(gi)) - start).tolist()
        with atomic_write(out) as tmp, open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow((["graph", "node"] if node else ["graph"]) + ["class", "label"]
                       + [f"p_{c}" for c in range(probs.shape[1])])
            for i, row in enumerate(probs):
                c = int(row.argmax())
                where = [int(gi[i]), local[i]] if node else [i]
                w.writerow(where + [c, names[c]] + [f"{v:.6g}" for v in row])
        written = [out]
        if node and "puzzles" in inputs:
            # Sudoku: the givens kept, every empty cell filled with its most likely digit
            grids = inputs["puzzles"].astype("int64").reshape(-1)
            filled = [str(int(q)) if q else names[int(c)]
                      for q, c in zip(grids, probs.argmax(1), strict=True)]
            sol = Path(out_dir) / "solutions.csv"
            with atomic_write(sol) as tmp, open(tmp, "w", newline="") as f:
                f.write("puzzle,solution\n")
                for k in range(len(grids) // 81):
                    q = "".join(str(int(v)) for v in grids[81 * k:81 * k + 81])
                    f.write(f"{q},{''.join(filled[81 * k:81 * k + 81])}\n")
            written.append(sol)
        return written


def _typed(arrays: dict[str, Tensor], spec: dict[str, Any]) -> dict[str, Any]:
    """The edge types of a file's graphs as the data class takes them (none: {})."""
    if "edge_type" not in arrays:
        return {}
    return {"edge_type": arrays["edge_type"],
            "n_edge_types": max(int(spec.get("n_edge_types") or 0),
                                int(arrays["edge_type"].max()) + 1 if arrays["edge_type"].numel()
                                else 0)}


def _is_sudoku(spec: dict[str, Any]) -> bool:
    """Whether the run was trained on Sudoku grids (``sciml.datasets.sudoku``)."""
    return spec.get("level") == "node" and "sudoku" in str(spec.get("meta", {}).get("format", ""))


def _checked_input(a: dict[str, Tensor], n_features: int, where: str) -> dict[str, Tensor]:
    """Graphs to classify: the run's feature width, then the checks of every graph set."""
    x = a["x"].float()
    x = x[:, None] if x.dim() == 1 else x
    ei, gi = a["edge_index"].long(), a["graph_index"].long().reshape(-1)
    if x.dim() != 2 or x.shape[1] != n_features:
        raise DataError(f"{where}: x must be (nodes, {n_features}) as the run was trained on, "
                        f"got {tuple(x.shape)}")
    check_graph_set(x, ei, gi, where)
    out = {"x": x, "edge_index": ei, "graph_index": gi}
    if "edge_type" in a:
        et = torch.as_tensor(a["edge_type"]).long().reshape(-1)
        if et.shape != (ei.shape[1],):
            raise DataError(f"{where}: edge_type must have one type per edge ({ei.shape[1]}), "
                            f"got {tuple(et.shape)}")
        out["edge_type"] = et
    return out
