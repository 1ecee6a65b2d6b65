"""Scalers for (T, N, F) series that ignore missing entries: standard, min-max, robust, identity.

Each scaler stores a ``center`` and a ``scale`` and maps ``x -> (x - center) / scale + offset``
(``offset`` is the lower end of the target range for :class:`MinMaxScaler`, else 0). Statistics
are per node and channel over time (``axis="node"``, shape ``(1, N, F)``) or per channel over
time and nodes (``axis="global"``, shape ``(1, 1, F)``), so they broadcast over any leading
dimensions of ``x (..., N, F)``. Fit on the training split only (see ``temporal_split``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from jaxtyping import Bool, Float
from torch import Tensor

from sciml.errors import ConfigError, DataError

__all__ = [
    "AbstractScaler",
    "StandardScaler",
    "MinMaxScaler",
    "RobustScaler",
    "IdentityScaler",
    "make_scaler",
    "SCALERS",
]

AXES = ("node", "global")


class AbstractScaler:
    """Base of the scalers: fit statistics on masked data, then transform / inverse transform."""

    name: str = ""

    def __init__(self) -> None:
        self.center: Tensor | None = None
        self.scale: Tensor | None = None
        self.offset: float = 0.0
        self.axis: str | None = None

    @property
    def fitted(self) -> bool:
        """Whether :meth:`fit` (or :meth:`load_state_dict`) has been called."""
        return self.center is not None

    def __repr__(self) -> str:
        state = f"axis={self.axis!r}" if self.fitted else "unfitted"
        return f"{type(self).__name__}({state})"

    def _statistics(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(center, scale)`` of ``x (S, N, F)`` with NaN at missing entries, over dim 0."""
        raise NotImplementedError

    def fit(
        self,
        values: Float[Tensor, "t n f"],
        mask: Bool[Tensor, "t n f"] | None = None,
        axis: str = "node",
    ) -> AbstractScaler:
        """Compute the statistics of the observed entries of ``values``.

        Args:
            values: Series ``(T, N, F)``.
            mask: True where observed (default: every finite entry).
            axis: ``"node"``: per node and channel, shape ``(1, N, F)``; ``"global"``: per
                channel, shape ``(1, 1, F)``.

        Returns:
            ``self``. A zero or undefined scale (constant or unobserved series) becomes 1 and an
            undefined center 0.
        """
        if axis not in AXES:
            raise ValueError(f"axis must be one of {list(AXES)}, got {axis!r}")
        if not isinstance(values, Tensor):
            values = torch.as_tensor(np.asarray(values))
        if values.ndim != 3:
            raise DataError(
                f"scaler fit: values must be (T, N, F), got shape {tuple(values.shape)}"
            )
        x = values.to(torch.float64)
        observed = torch.isfinite(x)
        if mask is not None:
            mask = torch.as_tensor(mask)
            if tuple(mask.shape) != tuple(values.shape):
                raise DataError(
                    f"scaler fit: mask shape {tuple(mask.shape)} != values shape "
                    f"{tuple(values.shape)}"
                )
            observed = observed & mask.to(torch.bool)
        x = torch.where(observed, x, torch.full((), float("nan"), dtype=x.dtype))
        if axis == "global":
            x = x.reshape(1, -1, x.shape[-1]).transpose(0, 1)  # (T*N, 1, F)
        center, scale = self._statistics(x)
        center = torch.where(torch.isfinite(center), center, torch.zeros_like(center))
        bad = ~torch.isfinite(scale) | (scale.abs() < 1e-12)
        scale = torch.where(bad, torch.ones_like(scale), scale)
        dtype = values.dtype if values.is_floating_point() else torch.float32
        self.center = center.unsqueeze(0).to(dtype)
        self.scale = scale.unsqueeze(0).to(dtype)
        self.axis = axis
        return self

    def _check(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit(values, mask) first")
        if x.shape[-1] != self.center.shape[-1] or (
            self.axis == "node" and (x.ndim < 2 or x.shape[-2] != self.center.shape[-2])
        ):
            raise DataError(
                f"{type(self).__name__}: x of shape {tuple(x.shape)} does not match the fitted "
                f"statistics of shape {tuple(self.center.shape)} (expected (..., N, F))"
            )
        dtype = x.dtype if x.is_floating_point() else self.center.dtype
        return self.center.to(x.device, dtype), self.scale.to(x.device, dtype)

    def transform(self, x: Float[Tensor, "... n f"]) -> Float[Tensor, "... n f"]:
        """Scaled ``x``: ``(x - center) / scale + offset``."""
        center, scale = self._check(x)
        return (x - center) / scale + self.offset

    def inverse_transform(self, x: Float[Tensor, "... n f"]) -> Float[Tensor, "... n f"]:
        """Original units: ``(x - offset) * scale + center``."""
        center, scale = self._check(x)
        return (x - self.offset) * scale + center

    def state_dict(self) -> dict[str, Any]:
        """Plain tensors and strings (loadable with ``torch.load(weights_only=True)``)."""
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted: nothing to save")
        return {
            "name": self.name,
            "center": self.center.clone(),
            "scale": self.scale.clone(),
            "offset": float(self.offset),
            "axis": self.axis,
        }

    def load_state_dict(self, state: dict[str, Any]) -> AbstractScaler:
        """Restore what :meth:`state_dict` returned."""
        missing = [k for k in ("name", "center", "scale", "offset", "axis") if k not in state]
        if missing:
            raise DataError(f"{type(self).__name__} state is missing key(s) {missing}")
        if state["name"] != self.name:
            raise DataError(
                f"{type(self).__name__} cannot load the state of scaler {state['name']!r}"
            )
        if tuple(state["center"].shape) != tuple(state["scale"].shape):
            raise DataError("scaler state: center and scale shapes differ")
        self.center = state["center"].clone()
        self.scale = state["scale"].clone()
        self.offset = float(state["offset"])
        self.axis = str(state["axis"])
        return self


class StandardScaler(AbstractScaler):
    """Zero mean and unit (population) standard deviation of the observed entries."""

    name = "standard"

    def _statistics(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mean = torch.nanmean(x, dim=0)
        var = torch.nanmean((x - mean) ** 2, dim=0)
        return mean, var.sqrt()


class MinMaxScaler(AbstractScaler):
    """Observed minimum and maximum mapped to ``feature_range`` (default ``[0, 1]``).

    Args:
        feature_range: Target interval ``(low, high)`` with ``low < high``.
    """

    name = "minmax"

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)) -> None:
        super().__init__()
        low, high = (float(v) for v in feature_range)
        if not low < high:
            raise ValueError(f"feature_range must have low < high, got {feature_range}")
        self.feature_range = (low, high)

    def _statistics(self, x: Tensor) -> tuple[Tensor, Tensor]:
        nan = torch.isnan(x)
        inf = torch.full((), float("inf"), dtype=x.dtype)
        lo = torch.where(nan, inf, x).amin(dim=0)
        hi = torch.where(nan, -inf, x).amax(dim=0)
        low, high = self.feature_range
        self.offset = low
        return lo, (hi - lo) / (high - low)


class RobustScaler(AbstractScaler):
    """Median and interquartile range (25th to 75th percentile) of the observed entries."""

    name = "robust"

    def _statistics(self, x: Tensor) -> tuple[Tensor, Tensor]:
        q = torch.nanquantile(x, torch.tensor([0.25, 0.5, 0.75], dtype=x.dtype), dim=0)
        return q[1], q[2] - q[0]


class IdentityScaler(AbstractScaler):
    """No scaling (``make_scaler("none")``); always fitted."""

    name = "none"

    def __init__(self) -> None:
        super().__init__()
        self.center = torch.zeros(1, 1, 1)
        self.scale = torch.ones(1, 1, 1)
        self.axis = "global"

    def fit(self, values: Tensor, mask: Tensor | None = None, axis: str = "node") -> IdentityScaler:
        if axis not in AXES:
            raise ValueError(f"axis must be one of {list(AXES)}, got {axis!r}")
        return self

    def transform(self, x: Tensor) -> Tensor:
        return x

    def inverse_transform(self, x: Tensor) -> Tensor:
        return x


SCALERS: dict[str, type[AbstractScaler]] = {
    "standard": StandardScaler,
    "minmax": MinMaxScaler,
    "robust": RobustScaler,
    "none": IdentityScaler,
}


def make_scaler(name: str) -> AbstractScaler:
    """A new unfitted scaler by name: ``"standard"``, ``"minmax"``, ``"robust"`` or ``"none"``."""
    if name not in SCALERS:
        raise ConfigError(f"unknown scaler {name!r}; valid scalers: {', '.join(SCALERS)}")
    return SCALERS[name]()
