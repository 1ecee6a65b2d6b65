"""Configuration of forecasting recipes: the ``data`` and ``eval`` sections."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ForecastingDataConfig", "ForecastingEvalConfig", "ForecastingObjectiveConfig"]


@dataclass(frozen=True)
class ForecastingDataConfig:
    """Which series, how it is windowed, split and scaled.

    Args:
        name: Registered data set (``sciml list``).
        options: Keyword arguments of the data set's loader (checked against its config).
        window: Input steps of each window.
        horizon: Steps forecast from each window.
        delay: Steps between the window's end and the first forecast step.
        stride: Steps between consecutive windows.
        val: Fraction of the windows (after the training ones) for validation; 0: no
            validation split (no early stopping; the last checkpoint is the result).
        test: Fraction of the windows (the last ones) for testing.
        scaler: ``standard``, ``minmax``, ``robust`` or ``none``; fitted on the training steps.
        scaler_axis: Statistics per ``node`` or over the whole series (``global``).
        covariates: Calendar encodings fed to the model: ``time_of_day``, ``day_of_week``, ...
    """

    name: str = "gpvar"
    options: dict = field(default_factory=dict)
    window: int = 12
    horizon: int = 12
    delay: int = 0
    stride: int = 1
    val: float = 0.1
    test: float = 0.2
    scaler: str = "standard"
    scaler_axis: str = "node"
    covariates: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForecastingEvalConfig:
    """What is reported after training.

    Args:
        steps: Forecast steps (1-based) with their own metrics (3, 6, 12: 15, 30, 60 minutes
            for 5-minute data).
        plot_nodes: Nodes drawn in ``forecast.png``.
        baselines: Parameter-free baselines evaluated alongside (``persistence``,
            ``seasonal_naive``).
    """

    steps: tuple[int, ...] = (3, 6, 12)
    plot_nodes: tuple[int, ...] = (0, 1, 2)
    baselines: tuple[str, ...] = ("persistence",)


@dataclass(frozen=True)
class ForecastingObjectiveConfig:
    """The training loss, on observed entries in the data's units.

    Args:
        loss: ``mae`` (tsl's and DCRNN's default), ``mse`` or ``huber``.
        huber_delta: Where the Huber loss turns from quadratic to linear, in the data's units.
    """

    loss: str = "mae"
    huber_delta: float = 1.0

    def __post_init__(self) -> None:
        if self.loss not in ("mae", "mse", "huber"):
            raise ValueError(f"loss must be one of ['mae', 'mse', 'huber'], got {self.loss!r}")
        if not self.huber_delta > 0:
            raise ValueError(f"huber_delta must be > 0, got {self.huber_delta!r}")
