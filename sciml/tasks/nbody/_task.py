"""The N-body task: predict particle positions ``frame_out`` from positions, velocities and
charges at ``frame_in``, as an equivariant displacement (EGNN / PONITA protocol)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from sciml.datasets import NBodySplit
from sciml.geometry import random_rotation
from sciml.train import AbstractTask

__all__ = ["NBodyTask", "NBodySamples"]


class NBodySamples(Dataset):
    """One sample per simulation: ``{pos, vel, charges, target}`` of shape ``(N, 3)`` / ``(N, 1)``;
    the default collate stacks them to ``(B, N, ...)``."""

    def __init__(self, split: NBodySplit) -> None:
        self.split = split

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        s = self.split
        return {"pos": s.pos[i], "vel": s.vel[i], "charges": s.charges[i], "target": s.target[i]}


class NBodyTask(AbstractTask):
    """Position forecast ``pos_out = pos_in + v(pos_in, vel_in, charges)`` with ``v`` the first
    vector output of an equivariant node-level model; loss and metric are the MSE over all
    coordinates of all particles (the papers' "MSE").

    Args:
        model: A model with ``forward(pos, x, batch, vec)`` returning ``(scalars, vectors)``
            (e.g. :class:`sciml.models.Ponita` with ``in_channels=1``, ``in_vector_channels=1``,
            ``out_vector_channels=1``).
        augment: Rotate each training batch by a random rotation (as the PONITA reference; it
            matters for the S2-grid model, which is equivariant only up to its grid).
    """

    def __init__(self, model: torch.nn.Module, augment: bool = True) -> None:
        super().__init__(model)
        self.augment = augment

    @staticmethod
    def flatten(batch: dict[str, Tensor]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        b, n, d = batch["pos"].shape
        graph = torch.arange(b, device=batch["pos"].device).repeat_interleave(n)
        return (batch["pos"].reshape(b * n, d), batch["charges"].reshape(b * n, -1),
                batch["vel"].reshape(b * n, 1, d), graph)

    def predict(self, batch: dict[str, Any]) -> Tensor:
        """Predicted positions ``(B, N, d)``."""
        pos, q, vel, graph = self.flatten(batch)
        _, vectors = self.model(pos, q, graph, vel)
        return (pos + vectors[:, 0]).reshape(batch["pos"].shape)

    def forward(self, batch: dict[str, Any]) -> Tensor:
        if self.training and self.augment:
            d = batch["pos"].size(-1)
            rot = random_rotation(d, dtype=batch["pos"].dtype).to(batch["pos"].device)
            batch = {**batch, "pos": batch["pos"] @ rot.T, "vel": batch["vel"] @ rot.T,
                     "target": batch["target"] @ rot.T}
        return ((self.predict(batch) - batch["target"]) ** 2).mean()

    def metrics(self, batch: dict[str, Any]) -> dict[str, tuple[Tensor, Tensor]]:
        err = ((self.predict(batch) - batch["target"]) ** 2).sum().detach()
        count = torch.tensor(float(batch["target"].numel()), device=err.device)
        return {"loss": (err, count), "position_mse": (err, count)}
