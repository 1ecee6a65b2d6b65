"""Tiny models, data and tasks shared by the trainer tests and their subprocess scripts."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from sciml.models import AbstractModel
from sciml.registry import MODELS
from sciml.train import AbstractTask

MODEL_NAME = "_tests_train_mlp"


@dataclass(frozen=True)
class MLPConfig:
    hidden: int = 16
    dropout: float = 0.0


class MLP(AbstractModel):
    """Two-layer perceptron with optional dropout (so that resuming must restore the RNG)."""

    def __init__(self, config: MLPConfig, in_features: int = 3, out_features: int = 1) -> None:
        super().__init__(config, in_features=in_features, out_features=out_features)
        self.net = nn.Sequential(nn.Linear(in_features, config.hidden), nn.Tanh(),
                                 nn.Dropout(config.dropout), nn.Linear(config.hidden, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


if MODEL_NAME not in MODELS:
    MODELS.register(MODEL_NAME, MLPConfig)(MLP)


class Regression(torch.utils.data.Dataset):
    """``y = sin(x) @ w + noise`` with a fixed seed; samples are ``(x, y)``, float64."""

    def __init__(self, n: int, seed: int = 0, in_features: int = 3) -> None:
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, in_features, generator=g, dtype=torch.float64)
        w = torch.linspace(-1.0, 1.0, in_features, dtype=torch.float64)
        self.y = (torch.sin(self.x) @ w + 0.05 * torch.randn(n, generator=g,
                                                                  dtype=torch.float64))[:, None]

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]


class RegressionTask(AbstractTask):
    """Mean squared error; metrics ``loss`` (MSE) and ``mae``."""

    def forward(self, batch):
        x, y = batch
        return ((self.model(x) - y) ** 2).mean()

    def metrics(self, batch):
        x, y = batch
        err = self.model(x) - y
        n = torch.tensor(err.numel())
        return {"loss": ((err ** 2).sum(), n), "mae": (err.abs().sum(), n)}

    def predict(self, batch):
        return self.model(batch[0])


def make_task(hidden: int = 16, dropout: float = 0.0, seed: int = 0) -> RegressionTask:
    torch.manual_seed(seed)
    return RegressionTask(MLP(MLPConfig(hidden=hidden, dropout=dropout)).double())
