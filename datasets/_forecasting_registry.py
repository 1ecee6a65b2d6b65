"""Registration of the forecasting data sets in ``sciml.registry.DATASETS``.

Each entry is built from a config dataclass derived from the loader's keyword parameters, so
recipes and ``--set`` reject unknown keys: ``DATASETS.build("gpvar", {"n_nodes": 30})``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sciml.datasets._forecasting_benchmarks import load_ett, load_lstnet
from sciml.datasets._forecasting_csv import load_csv
from sciml.datasets._forecasting_gpvar import load_gpvar
from sciml.datasets._forecasting_traffic import load_los, load_metr_la, load_pems_bay

from sciml.data import SpatioTemporal
from sciml.registry import DATASETS, config_class_from_signature, config_to_dict

__all__: list[str] = []


def _register(name: str, loader: Callable[..., SpatioTemporal]) -> None:
    config = config_class_from_signature(loader)

    def build(cfg: Any) -> SpatioTemporal:
        return loader(**config_to_dict(cfg))

    build.__doc__ = loader.__doc__
    build.__name__ = f"build_{name}"
    DATASETS.register(name, config)(build)


for _name, _loader in [("gpvar", load_gpvar), ("los", load_los), ("metr_la", load_metr_la),
                       ("pems_bay", load_pems_bay), ("ett", load_ett), ("lstnet", load_lstnet),
                       ("csv", load_csv)]:
    if _name not in DATASETS:
        _register(_name, _loader)
