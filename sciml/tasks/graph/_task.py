"""Node classification on one graph: the task (cross entropy on a split's nodes) and the
one-item data set that hands the whole graph and a split's mask to the engine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sciml.train import AbstractTask

__all__ = ["NodeClassificationTask", "GraphSplit", "single"]

SPLITS = ("train", "val", "test")


class GraphSplit(torch.utils.data.Dataset):
    """The whole graph as one sample, with the mask of one split's nodes (full-batch training:
    one optimizer step per epoch, as in the papers)."""

    def __init__(self, x: Tensor, y: Tensor, edge_index: Tensor, mask: Tensor) -> None:
        self.item = {"x": x, "y": y, "edge_index": edge_index, "mask": mask}

    def __len__(self) -> int:
        return 1

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        if i != 0:
            raise IndexError(i)
        return self.item


def single(items: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """Collate for :class:`GraphSplit`: the one graph as it is (no batch axis)."""
    if len(items) != 1:
        raise ValueError(f"a graph split is one sample, got a batch of {len(items)}")
    return items[0]


class NodeClassificationTask(AbstractTask):
    """Cross entropy of the model's logits on the split's nodes; metrics ``loss`` and
    ``accuracy`` over those nodes."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__(model)

    def logits(self, batch: dict[str, Tensor]) -> Tensor:
        return self.model(batch["x"], batch["edge_index"])

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        m = batch["mask"]
        backprop = getattr(self.model, "backprop_loss", None)
        if callable(backprop):  # a model with its own end-to-end loss (NoProp's baseline)
            return backprop(batch["x"][m], batch["y"][m])
        return F.cross_entropy(self.logits(batch)[m], batch["y"][m])

    @property
    def trains_locally(self) -> bool:
        """Whether the model trains block by block (:meth:`local_losses`, e.g. NoProp)."""
        return bool(getattr(self.model, "trains_locally", False))

    def local_losses(self, batch: dict[str, Tensor]) -> Iterator[tuple[str, Tensor]]:
        """The model's local training terms on the split's nodes, one at a time: the model's
        ``graph_local_losses(x, edge_index, y, mask)`` where it has one (it needs the graph),
        else ``local_losses(x[mask], y[mask])``."""
        m = batch["mask"]
        graph_terms = getattr(self.model, "graph_local_losses", None)
        if callable(graph_terms):  # a model that trains on the whole graph (ForwardGNN)
            yield from graph_terms(batch["x"], batch["edge_index"], batch["y"], m)
        else:
            yield from self.model.local_losses(batch["x"][m], batch["y"][m])

    def metrics(self, batch: dict[str, Tensor]) -> dict[str, tuple[Tensor, Tensor]]:
        m = batch["mask"]
        logits, y = self.logits(batch)[m], batch["y"][m]
        n = torch.tensor(float(m.sum()), device=logits.device)
        return {"loss": (F.cross_entropy(logits, y, reduction="sum"), n),
                "accuracy": ((logits.argmax(-1) == y).sum().to(logits.dtype), n)}

    def predict(self, batch: dict[str, Any]) -> Tensor:
        """Class probabilities of every node ``(N, classes)``."""
        return self.logits(batch).softmax(-1)
