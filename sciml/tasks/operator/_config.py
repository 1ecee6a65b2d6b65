"""Configuration of operator recipes: the ``data``, ``objective`` and ``eval`` sections."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["OperatorDataConfig", "ObjectiveConfig", "OperatorEvalConfig"]


@dataclass(frozen=True)
class OperatorDataConfig:
    """Which PDE data set.

    Args:
        name: Registered data set (``sciml list``).
        options: Its options (checked against the data set's own config).
        coordinates: Append resolution-independent coordinates as input channels.
        val_fraction: FNO's protocol has train and test only and reports the last epoch; a
            fraction > 0 holds out the last training samples for validation (best checkpoint,
            early stopping).
    """

    name: str = "darcy"
    options: dict = field(default_factory=dict)
    coordinates: bool = True
    val_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction!r}")


@dataclass(frozen=True)
class ObjectiveConfig:
    """What is minimised.

    Args:
        loss: ``rel_l2`` or ``h1`` (steady problems).
        rollout_steps: Frames rolled out (time-dependent problems; None: the whole trajectory of
            the data set).
        teacher_forcing: Feed the true frame at each step while training.
    """

    loss: str = "rel_l2"
    rollout_steps: int | None = None
    teacher_forcing: bool = False

    def __post_init__(self) -> None:
        if self.loss not in ("rel_l2", "h1"):
            raise ValueError(f"loss must be 'rel_l2' or 'h1', got {self.loss!r}")


@dataclass(frozen=True)
class OperatorEvalConfig:
    """Args: plot_sample: which test sample ``prediction.png`` shows."""

    plot_sample: int = 0
