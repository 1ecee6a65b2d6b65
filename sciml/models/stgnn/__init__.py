"""Spatiotemporal forecasters on a graph of sensors (Cini, Marisca, Zambon, Alippi, *Graph Deep
Learning for Time Series Forecasting*, 2023) and their baselines; each registered by name."""

from sciml.models.stgnn._agcrn import AGCRN, AGCRNConfig
from sciml.models.stgnn._base import AbstractForecaster, models_without_graph
from sciml.models.stgnn._baselines import (
    NodeGRU,
    NodeGRUConfig,
    Persistence,
    PersistenceConfig,
    SeasonalNaive,
    SeasonalNaiveConfig,
)
from sciml.models.stgnn._dcrnn import DCRNN, DCRNNConfig
from sciml.models.stgnn._graph_wavenet import GraphWaveNet, GraphWaveNetConfig
from sciml.models.stgnn._stcn import STCN, STCNConfig
from sciml.models.stgnn._tts import TimeThenSpace, TimeThenSpaceConfig

__all__ = [
    "AbstractForecaster",
    "models_without_graph",
    "TimeThenSpace",
    "TimeThenSpaceConfig",
    "DCRNN",
    "DCRNNConfig",
    "GraphWaveNet",
    "GraphWaveNetConfig",
    "AGCRN",
    "AGCRNConfig",
    "STCN",
    "STCNConfig",
    "Persistence",
    "PersistenceConfig",
    "SeasonalNaive",
    "SeasonalNaiveConfig",
    "NodeGRU",
    "NodeGRUConfig",
]
