"""Registration of the PDE data sets in ``sciml.registry.DATASETS``.

``DATASETS.build("darcy", {"n_train": 100, "resolution": 33})`` builds :class:`Darcy2D`; unknown
keys are errors listing the valid ones (the config is derived from the constructor's signature).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from sciml.datasets._pde_data import PDEData
from sciml.datasets._pde_download import load_neuraloperator
from sciml.datasets._pde_generated import Burgers1D, Darcy2D, Helmholtz2D, NavierStokes2D

from sciml.registry import DATASETS, config_class_from_signature, config_to_dict

__all__: list[str] = []


def _register(name: str, factory: Callable[..., PDEData]) -> None:
    target = factory.__init__ if inspect.isclass(factory) else factory

    def signature_holder(**kwargs: Any) -> PDEData:  # carries the factory's signature
        return factory(**kwargs)

    signature_holder.__signature__ = inspect.signature(factory)  # type: ignore[attr-defined]
    hints = typing.get_type_hints(target)
    hints.pop("return", None)
    signature_holder.__annotations__ = hints
    config = config_class_from_signature(
        signature_holder, name="".join(w.title() for w in name.split("_")) + "DataConfig")

    def build(cfg: Any) -> PDEData:
        return factory(**config_to_dict(cfg))

    build.__doc__ = factory.__doc__
    build.__name__ = f"build_{name}"
    DATASETS.register(name, config)(build)


for _name, _factory in [("darcy", Darcy2D), ("navier_stokes", NavierStokes2D),
                        ("burgers", Burgers1D), ("helmholtz", Helmholtz2D),
                        ("neuraloperator", load_neuraloperator)]:
    if _name not in DATASETS:
        _register(_name, _factory)
