"""The unit the Trainer fits: a model together with its training loss and evaluation metrics."""

from __future__ import annotations

import abc
from typing import Any

import torch
from torch import Tensor

__all__ = ["AbstractTask", "AbstractFullBatchTask"]


class AbstractTask(torch.nn.Module, abc.ABC):
    """A model together with its training loss and evaluation metrics.

    Subclasses implement:

    - ``forward(batch)``: the scalar training loss, the **mean** over the batch's samples
      (DistributedDataParallel calls ``forward``; the Trainer rescales it so that ranks with
      unequal slices of a global batch give the gradient of one process).
    - ``metrics(batch)``: per metric name a pair ``(sum, count)`` over the batch; the Trainer sums
      both over batches and ranks and divides, so means are exact for any batch sizes.
      ``"loss"`` should be one of them (it becomes ``val/loss``).
    - ``predict(batch)``: the model's output for a batch (used by the command line, not by the
      training loop).

    Args:
        model: The model; stored as ``self.model``. Its ``checkpoint()`` dict (for a registered
            :class:`sciml.models.AbstractModel`) or ``state_dict`` goes into Trainer checkpoints.
            A subclass may instead assign ``self.model`` itself.
    """

    model: torch.nn.Module

    def __init__(self, model: torch.nn.Module | None = None) -> None:
        super().__init__()
        if model is not None:
            if not isinstance(model, torch.nn.Module):
                raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
            self.model = model

    @abc.abstractmethod
    def forward(self, batch: Any) -> Tensor:
        """The scalar training loss of ``batch`` (mean over its samples)."""

    @abc.abstractmethod
    def metrics(self, batch: Any) -> dict[str, tuple[Tensor, Tensor]]:
        """Per metric name, ``(sum over the batch, number of terms summed)``."""

    @abc.abstractmethod
    def predict(self, batch: Any) -> Any:
        """The model's prediction for ``batch``."""


class AbstractFullBatchTask(AbstractTask):
    """A task whose loss covers all of its points at once: physics-informed fits, trained by
    :meth:`sciml.train.Trainer.fit_full_batch` (Adam, then L-BFGS) rather than over mini-batches.

    Subclasses implement :meth:`loss_terms` (each weighted term of the loss; the loss is their
    sum) and may implement :meth:`resample` (new collocation points). Whatever the loss needs
    between steps (the points) should be a buffer, so that checkpoints carry it.
    """

    #: Appended to the message of a non-finite loss (e.g. which PDE, what to try).
    nonfinite_hint: str = ""

    @abc.abstractmethod
    def loss_terms(self) -> dict[str, Tensor]:
        """Each term of the loss (already weighted); the loss is their sum."""

    def resample(self, step: int) -> None:
        """Draw new points before step ``step`` (called every ``resample_every`` Adam steps and
        every ``lbfgs_resample_every`` L-BFGS iterations); seed any draw by ``step``, so a
        resumed run draws the same points."""

    def monitored(self) -> dict[str, float]:
        """Values logged beside the loss terms (e.g. identified coefficients), as ``name``
        columns of ``metrics.csv``; none here."""
        return {}

    def forward(self, batch: Any = None) -> Tensor:
        return sum(self.loss_terms().values())

    def metrics(self, batch: Any = None) -> dict[str, tuple[Tensor, Tensor]]:
        one = torch.ones(())
        terms = {k: (v.detach(), one) for k, v in self.loss_terms().items()}
        terms["loss"] = (sum(v for v, _ in terms.values()), one)
        return terms
