"""The node-classification job: recipe → a citation graph (or your own), a GNN → run folder with
the test accuracy on the split's test nodes and the confusion matrix.

Full-batch training as in the papers: each epoch is one optimizer step on the cross entropy of
the training nodes, validated on the validation nodes (the best epoch by ``train.monitor``,
``val/loss`` by default, is the result).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml.data import atomic_write
from sciml.datasets import FEATURE_TRANSFORMS, NodeClassificationData
from sciml.errors import DataError
from sciml.registry import JOBS, MODELS
from sciml.tasks._job import AbstractJob, build_data, input_file
from sciml.tasks.graph._task import GraphSplit, NodeClassificationTask, single
from sciml.train import TrainerConfig

__all__ = ["NodeClassificationJob", "NodeDataConfig", "NodeEvalConfig", "read_graph",
           "training_features"]


@dataclass(frozen=True)
class NodeDataConfig:
    """Which graph data set (``name``, default ``planetoid``) and its ``options``."""

    name: str = "planetoid"
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class NodeEvalConfig:
    """Args: plot: write ``confusion.png`` (the confusion matrix of the test nodes, or of the
    test graphs in graph classification)."""

    plot: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.plot, bool):
            raise ValueError(f"plot must be true or false, got {self.plot!r}")


_EVAL = ("x", "y", "edge_index", "train_mask", "test_mask")


@JOBS.register("node_classification", help="graphs: classify the nodes of a graph (GCN, GAT, "
               "GraphSAGE; Cora, CiteSeer)")
class NodeClassificationJob(AbstractJob):
    """Node-classification recipes: ``data`` (NodeDataConfig), ``model`` (name + config),
    ``train`` (TrainerConfig; ``batch_size`` is 1: the graph), ``eval`` (NodeEvalConfig)."""

    sections = ("data", "model", "train", "eval")
    configs = {"data": ("data_cfg", NodeDataConfig), "eval": ("eval_cfg", NodeEvalConfig),
               "train": ("train_cfg", TrainerConfig)}
    data_kind = "a NodeClassificationData (sciml.datasets.NodeClassificationData)"
    collate_fn = staticmethod(single)
    data_cfg: NodeDataConfig
    eval_cfg: NodeEvalConfig
    train_cfg: TrainerConfig
    #: the metric a continual run's accuracy matrix holds (trainer.continual)
    continual_metric = "test/accuracy"

    # ---------------------------------------------------------------- data
    def load_data(self) -> NodeClassificationData:
        return build_data(self.data_cfg.name, self.data_cfg.options, NodeClassificationData,
                          "a node-classification graph")

    def check_data(self, data: Any) -> NodeClassificationData:
        if not isinstance(data, NodeClassificationData):
            raise TypeError(f"a node_classification recipe takes {self.data_kind} as data, got "
                            f"{type(data).__name__}")
        return data

    def describe(self, data: NodeClassificationData) -> dict[str, Any]:
        return {"name": data.name, "n_nodes": data.n_nodes, "n_features": int(data.x.shape[1]),
                "n_classes": int(data.n_classes), "feature_transform": data.feature_transform}

    def splits(self, data: NodeClassificationData) -> tuple[GraphSplit, GraphSplit]:
        g = (data.x, data.y, data.edge_index)
        return GraphSplit(*g, data.train_mask), GraphSplit(*g, data.val_mask)

    def eval_data(self, data: NodeClassificationData) -> dict[str, Any]:
        return {k: getattr(data, k) for k in _EVAL}

    # ---------------------------------------------------------------- task
    def build_task(self, spec: dict[str, Any]) -> NodeClassificationTask:
        model = MODELS.build(self.model_name, self.model_values, where="model",
                             in_channels=spec["n_features"], out_channels=spec["n_classes"])
        return NodeClassificationTask(model)

    # ---------------------------------------------------------------- reports
    def head(self, spec: dict[str, Any]) -> dict[str, Any]:
        return {"model": self.model_name, "data": spec["name"]}

    def test_samples(self, eval_data: dict[str, Any], spec: dict[str, Any]
                     ) -> tuple[GraphSplit, Any]:
        e = eval_data
        return GraphSplit(e["x"], e["y"], e["edge_index"], e["test_mask"]), single

    def test_report(self, task: NodeClassificationTask, eval_data: dict[str, Any],
                    spec: dict[str, Any], trainer: Any) -> dict[str, Any]:
        test, collate = self.test_samples(eval_data, spec)
        metrics = trainer.evaluate(task, test, collate_fn=collate, prefix="test")
        return {"test": metrics, "test_nodes": int(eval_data["test_mask"].sum())}

    def plots(self, run_dir: Path, task: NodeClassificationTask, eval_data: dict[str, Any],
              spec: dict[str, Any]) -> None:
        if not self.eval_cfg.plot:
            return
        from sciml.tasks.graph._plots import plot_confusion

        batch = {k: eval_data[k] for k in ("x", "edge_index")}
        task.eval()
        with torch.no_grad():
            pred = task.predict(batch).argmax(-1)
        m = eval_data["test_mask"]
        plot_confusion(eval_data["y"][m].numpy(), pred[m].numpy(), spec["n_classes"],
                       run_dir / "confusion.png",
                       f"{self.model_name} on {spec['name']}: test nodes")

    # ---------------------------------------------------------------- predict
    def read_input(self, path: Path, spec: dict[str, Any]) -> dict[str, torch.Tensor]:
        return read_graph(Path(path), spec["n_features"])

    def predict(self, task: NodeClassificationTask, spec: dict[str, Any], inputs: Any
                ) -> torch.Tensor:
        """``{"x": (N, F), "edge_index": (2, E)}`` → class probabilities ``(N, classes)``. The
        features get the transform the training features had (``feature_transform`` of the
        data: Planetoid's row sums of one), so raw bag-of-words rows are read as in training."""
        x = training_features(torch.as_tensor(inputs["x"], dtype=torch.float32), spec)
        ei = torch.as_tensor(inputs["edge_index"], dtype=torch.long)
        _check_graph(x, ei, spec["n_features"], "input")
        task.eval()
        with fresh_graph_cache(task.model), torch.no_grad():
            return task.predict({"x": x, "edge_index": ei})

    def write_prediction(self, out_dir: Path, inputs: Any, outputs: torch.Tensor,
                         spec: dict[str, Any], source: str) -> list[Path]:
        out = Path(out_dir) / "predictions.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        probs = outputs.numpy()
        with atomic_write(out) as tmp, open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["node", "class"] + [f"p_{c}" for c in range(probs.shape[1])])
            for i, row in enumerate(probs):
                w.writerow([i, int(row.argmax())] + [f"{v:.6g}" for v in row])
        return [out]


def training_features(x: torch.Tensor, spec: dict[str, Any]) -> torch.Tensor:
    """``x`` with the transform the run's training features had (none for runs made before
    the data declared one)."""
    return FEATURE_TRANSFORMS[spec.get("feature_transform")](x)


def _check_graph(x: torch.Tensor, ei: torch.Tensor, n_features: int, where: str) -> None:
    if x.dim() != 2 or x.shape[1] != n_features:
        raise DataError(f"{where}: x must be (nodes, {n_features}) as the run was trained on, "
                        f"got {tuple(x.shape)}")
    if ei.dim() != 2 or ei.shape[0] != 2:
        raise DataError(f"{where}: edge_index must be (2, edges), got {tuple(ei.shape)}")
    if ei.numel() and (int(ei.min()) < 0 or int(ei.max()) >= x.shape[0]):
        raise DataError(f"{where}: edge_index refers to nodes outside 0..{x.shape[0] - 1}")
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).any(1).nonzero()[0])
        raise DataError(f"{where}: node {bad} has non-finite features")


def read_graph(path: Path, n_features: int, extra: tuple[str, ...] = ()
               ) -> dict[str, torch.Tensor]:
    """``x`` (N, F) and ``edge_index`` (2, E), and the ``extra`` integer arrays (such as link
    prediction's ``pairs``), from ``.npz`` or ``.pt`` (a dict of tensors)."""
    keys = ("x", "edge_index", *extra)
    names = ", ".join(keys[:-1]) + " and " + keys[-1]
    input_file(path, f"a graph file ({', '.join(keys)})")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: torch.from_numpy(np.asarray(f[k])) for k in keys if k in f}
        elif path.suffix == ".pt":
            obj = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(obj, dict):
                raise DataError(f"{path}: expected a dict with {names}, got "
                                f"{type(obj).__name__}")
            arrays = {k: torch.as_tensor(obj[k]) for k in keys if k in obj}
        else:
            raise DataError(f"{path}: unsupported graph format {path.suffix!r} (use .npz or .pt "
                            f"with {names})")
    except (ValueError, OSError, RuntimeError) as e:
        if isinstance(e, DataError):
            raise
        raise DataError(f"{path}: cannot read ({e})") from e
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise DataError(f"{path}: missing key {missing[0]} (a graph file has {names})")
    out = {"x": arrays["x"].float(), **{k: arrays[k].long() for k in keys[1:]}}
    _check_graph(out["x"], out["edge_index"], n_features, str(path))
    return out


class fresh_graph_cache:
    """Within the block, the model's cached graph normalisations (``reset_cache``) are dropped
    before and after: they belong to the run's own graph, not to a graph given to predict."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model

    def _reset(self) -> None:
        for module in self.model.modules():
            if hasattr(module, "reset_cache"):
                module.reset_cache()

    def __enter__(self) -> None:
        self._reset()

    def __exit__(self, *exc: object) -> None:
        self._reset()
