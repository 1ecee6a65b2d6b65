"""Configuration of N-body recipes: the ``data``, ``objective`` and ``eval`` sections."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["NBodyDataConfig", "NBodyObjectiveConfig", "NBodyEvalConfig"]


@dataclass(frozen=True)
class NBodyDataConfig:
    """Which particle data set (``name``) and its ``options`` (checked against its config)."""

    name: str = "nbody"
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class NBodyObjectiveConfig:
    """Args: augment: a random rotation of each training batch."""

    augment: bool = True


@dataclass(frozen=True)
class NBodyEvalConfig:
    """Args: plot_samples: test simulations drawn in ``trajectories.png``."""

    plot_samples: int = 3

    def __post_init__(self) -> None:
        if isinstance(self.plot_samples, bool) or not isinstance(self.plot_samples, int) or (
                self.plot_samples < 0):
            raise ValueError(f"plot_samples must be an integer >= 0, got {self.plot_samples!r}")
