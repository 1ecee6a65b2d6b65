"""Base class of registered models: a typed config, and checkpoints that load with weights_only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from sciml.data import atomic_torch_save
from sciml.errors import ConfigError, DataError
from sciml.registry import MODELS, config_to_dict

__all__ = ["AbstractModel", "load_model", "CHECKPOINT_VERSION"]

CHECKPOINT_VERSION = 1


class AbstractModel(nn.Module):
    """A model registered by name, built from a frozen config dataclass plus run-time sizes.

    Subclasses are registered with ``@MODELS.register(name, ConfigClass)`` and take
    ``(config, **sizes)`` where ``sizes`` are facts of the data (number of nodes, channels, ...),
    plain ints/floats/strings so that a checkpoint can rebuild the model without pickling it.
    """

    registry_name: ClassVar[str] = ""

    def __init__(self, config: Any, **sizes: Any) -> None:
        super().__init__()
        self.config = config
        self.sizes = dict(sizes)

    def checkpoint(self) -> dict[str, Any]:
        """The checkpoint dictionary ``{name, config, sizes, version, state_dict}``."""
        name = _registered_name(type(self))
        return {
            "name": name,
            "config": config_to_dict(self.config) if self.config is not None else {},
            "sizes": dict(self.sizes),
            "version": CHECKPOINT_VERSION,
            "state_dict": self.state_dict(),
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write the model checkpoint atomically."""
        atomic_torch_save(self.checkpoint(), path)

    def adapt_state(self, state: dict[str, torch.Tensor]
                    ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """A trained state of this kind of model mapped onto this model's layout, for
        :func:`sciml.runs.init_model_from_run` (which then copies what fits by name and shape).

        Returns:
            The mapped state, and what the mapping did: ``{}`` when nothing, else ``note`` (one
            line) and ``constructed`` (names whose values the mapping made rather than took from
            ``state``). Here: the state as it is; a model whose layout depends on the data
            (MgNO's levels on the grid size) overrides this.
        """
        return dict(state), {}


def _registered_name(cls: type) -> str:
    for name in MODELS.names():
        obj, _ = MODELS.get(name)
        if obj is cls:
            return name
    raise ConfigError(f"{cls.__name__} is not registered in sciml.registry.MODELS")


def model_from_checkpoint(ckpt: dict[str, Any], where: str = "checkpoint") -> AbstractModel:
    """Rebuild a model from a checkpoint dictionary (see :meth:`AbstractModel.checkpoint`)."""
    for key in ("name", "config", "sizes", "version", "state_dict"):
        if key not in ckpt:
            raise DataError(f"{where}: not a sciml model checkpoint (missing key {key!r})")
    if ckpt["version"] > CHECKPOINT_VERSION:
        raise DataError(
            f"{where}: checkpoint version {ckpt['version']} is newer than this sciml "
            f"({CHECKPOINT_VERSION}); upgrade sciml"
        )
    model = MODELS.build(ckpt["name"], ckpt["config"], **ckpt["sizes"])
    model.load_state_dict(ckpt["state_dict"])
    return model


def load_model(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> AbstractModel:
    """Load a model saved with :meth:`AbstractModel.save` (or a Trainer checkpoint)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # truncated or foreign file
        raise DataError(f"{path}: cannot read checkpoint ({e.__class__.__name__}: {e})") from e
    if isinstance(ckpt, dict) and "model" in ckpt and "state_dict" not in ckpt:
        ckpt = ckpt["model"]  # a Trainer checkpoint holds the model checkpoint under "model"
    return model_from_checkpoint(ckpt, where=str(path))
