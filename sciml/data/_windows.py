"""Sliding input/target windows over a :class:`SpatioTemporal` series, and temporal splits."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

if TYPE_CHECKING:
    from sciml.data._spatiotemporal import SpatioTemporal

__all__ = ["Windows", "TemporalSplit", "temporal_split"]


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


class Windows(Dataset):
    """Forecasting samples of a series: ``window`` input steps, then ``horizon`` target steps.

    Sample ``i`` starts at ``s = i * stride``::

        x = values[s : s + window]
        y = values[s + window + delay : s + window + delay + horizon]

    and there are ``(T - window - delay - horizon) // stride + 1`` samples. Each sample is a dict
    of tensors that are views of the series (no copy): ``x (W, N, F)``, ``y (H, N, F)``,
    ``mask_x``, ``mask_y`` (bool, same shapes), ``t`` (scalar long, index of the first target
    step) and, when the series has covariates, ``u_x (W, N, C)`` and ``u_y (H, N, C)``: the
    covariates concatenated along the last dimension in sorted-name order. The concatenation is
    done once here; a ``(T, c)``-only set is kept as ``(T, C)`` and broadcast to the nodes with
    ``expand`` (a view). The default ``torch.utils.data`` collate stacks the dicts.

    Args:
        series: The series.
        window: Number of input steps ``W`` (>= 1).
        horizon: Number of target steps ``H`` (>= 1).
        delay: Steps skipped between the last input and the first target (>= 0).
        stride: Steps between consecutive sample starts (>= 1).
        indices: Sample indices to keep (used by :meth:`subset`); default all.

    Raises:
        ValueError: No sample fits ("horizon longer than the series").
    """

    def __init__(
        self,
        series: SpatioTemporal,
        window: int,
        horizon: int,
        delay: int = 0,
        stride: int = 1,
        indices: Sequence[int] | None = None,
    ) -> None:
        self.series = series
        self.window = _check_int("window", window, 1)
        self.horizon = _check_int("horizon", horizon, 1)
        self.delay = _check_int("delay", delay, 0)
        self.stride = _check_int("stride", stride, 1)
        n_total = (series.n_steps - self.window - self.delay - self.horizon) // self.stride + 1
        if n_total < 1:
            raise ValueError(
                f"window={self.window} + delay={self.delay} + horizon={self.horizon} = "
                f"{self.span} steps, but the series {series.name!r} has only T = "
                f"{series.n_steps} steps (horizon longer than the series)"
            )
        self.n_total = n_total
        if indices is None:
            self._indices: Tensor | None = None
        else:
            idx = torch.as_tensor(np.asarray(indices, dtype=np.int64)).reshape(-1)
            if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= n_total):
                raise IndexError(
                    f"window indices must lie in [0, {n_total}), got range "
                    f"[{int(idx.min())}, {int(idx.max())}]"
                )
            self._indices = idx
        self._u = self._concat_covariates()

    def _concat_covariates(self) -> Tensor | None:
        covs = self.series.covariates
        if not covs:
            return None
        parts = [covs[k] for k in sorted(covs)]
        if all(p.ndim == 2 for p in parts):
            return torch.cat(parts, dim=-1)  # (T, C): expanded to the nodes per sample
        n = self.series.n_nodes
        parts = [p.unsqueeze(1).expand(-1, n, -1) if p.ndim == 2 else p for p in parts]
        return torch.cat(parts, dim=-1)  # (T, N, C)

    @property
    def span(self) -> int:
        """Time steps covered by one sample, ``window + delay + horizon``."""
        return self.window + self.delay + self.horizon

    @property
    def indices(self) -> Tensor:
        """The window indices of this dataset (into the full set of windows of the series)."""
        if self._indices is None:
            return torch.arange(self.n_total)
        return self._indices

    def start(self, i: int) -> int:
        """First input time step of sample ``i``."""
        return self._window_index(i) * self.stride

    def _window_index(self, i: int) -> int:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            if isinstance(i, Tensor) and i.numel() == 1 and not i.is_floating_point():
                i = int(i)
            else:
                raise TypeError(f"sample index must be an int, got {i!r}")
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"sample index {i} out of range for {n} windows")
        i = int(i) % n
        return i if self._indices is None else int(self._indices[i])

    def __len__(self) -> int:
        return self.n_total if self._indices is None else int(self._indices.numel())

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        s = self._window_index(i) * self.stride
        w, h = self.window, self.horizon
        t0 = s + w + self.delay
        v, m = self.series.values, self.series.mask
        out = {
            "x": v[s : s + w],
            "y": v[t0 : t0 + h],
            "mask_x": m[s : s + w],
            "mask_y": m[t0 : t0 + h],
        }
        if self._u is not None:
            u_x, u_y = self._u[s : s + w], self._u[t0 : t0 + h]
            if self._u.ndim == 2:
                n = self.series.n_nodes
                u_x = u_x.unsqueeze(1).expand(-1, n, -1)
                u_y = u_y.unsqueeze(1).expand(-1, n, -1)
            out["u_x"], out["u_y"] = u_x, u_y
        out["t"] = torch.tensor(t0, dtype=torch.long)
        return out

    def __repr__(self) -> str:
        return (
            f"Windows(series={self.series.name!r}, window={self.window}, "
            f"horizon={self.horizon}, delay={self.delay}, stride={self.stride}, len={len(self)})"
        )

    def subset(self, indices: Sequence[int] | Tensor | range) -> Windows:
        """The samples at positions ``indices`` of this dataset, as a new :class:`Windows`."""
        pos = torch.as_tensor(np.asarray(list(indices) if isinstance(indices, range) else indices,
                                         dtype=np.int64)).reshape(-1)
        n = len(self)
        if pos.numel() and (int(pos.min()) < -n or int(pos.max()) >= n):
            raise IndexError(f"subset indices out of range for {n} windows")
        pos = pos % max(n, 1)
        return Windows(self.series, self.window, self.horizon, self.delay, self.stride,
                       indices=self.indices[pos].tolist())

    def split(self, val: float = 0.1, test: float = 0.2) -> tuple[Windows, Windows, Windows]:
        """Train/validation/test :class:`Windows` in temporal order; see :func:`temporal_split`."""
        sp = temporal_split(self, val=val, test=test)
        return self.subset(sp.train), self.subset(sp.val), self.subset(sp.test)


@dataclass(frozen=True)
class TemporalSplit:
    """Window index ranges of a temporal split, and where the training data ends.

    Attributes:
        train, val, test: Positions of the windows of each split (in temporal order).
        train_end: Time step (exclusive) after the last step any training window touches: fit
            scalers on ``values[:train_end]``.
    """

    train: range
    val: range
    test: range
    train_end: int


def _count(frac: float, n: int, name: str) -> int:
    if isinstance(frac, bool) or not isinstance(frac, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a fraction in [0, 1) or a count, got {frac!r}")
    if isinstance(frac, (float, np.floating)) and 0.0 <= frac < 1.0:
        return int(round(frac * n))
    if float(frac).is_integer() and frac >= 0:
        return int(frac)
    raise ValueError(f"{name} must be a fraction in [0, 1) or a count >= 0, got {frac!r}")


def temporal_split(
    windows: Windows | int,
    val: float = 0.1,
    test: float = 0.2,
    *,
    window: int | None = None,
    horizon: int | None = None,
    delay: int = 0,
    stride: int = 1,
) -> TemporalSplit:
    """Split window indices into train / val / test, in temporal order, with no shared time step.

    The convention of tsl (Cini and Marisca, Torch Spatiotemporal, 2022): the last ``test``
    windows are the test set, the ``val`` windows before them the validation set, the rest the
    training set; between consecutive splits ``ceil(span / stride) - 1`` windows are dropped
    (``span = window + delay + horizon``; with stride 1 that is ``window + horizon + delay - 1``),
    so no time step, input or target, belongs to two splits. The gap is taken out of the earlier
    split. Fractions are of the total number of windows; integers >= 1 are counts.

    Args:
        windows: A :class:`Windows` (of a whole series), or the number of windows; then
            ``window`` and ``horizon`` (and ``delay``, ``stride`` if not default) are required.
        val: Fraction (or count) of windows for validation.
        test: Fraction (or count) of windows for testing.

    Returns:
        A :class:`TemporalSplit` with ranges of window positions and ``train_end``, the time step
        (exclusive) where the training data ends.
    """
    if isinstance(windows, Windows):
        n = len(windows)
        window, horizon = windows.window, windows.horizon
        delay, stride = windows.delay, windows.stride
        first = int(windows.indices[0]) if n else 0
        if windows._indices is not None and not torch.equal(
            windows.indices, torch.arange(first, first + n)
        ):
            raise ValueError(
                "temporal_split needs consecutive windows, got a non-contiguous subset"
            )
    else:
        n = _check_int("number of windows", windows, 1)
        if window is None or horizon is None:
            raise ValueError(
                "temporal_split with a number of windows needs window= and horizon= (to size the "
                f"gap between splits), got window={window}, horizon={horizon}"
            )
        window = _check_int("window", window, 1)
        horizon = _check_int("horizon", horizon, 1)
        delay = _check_int("delay", delay, 0)
        stride = _check_int("stride", stride, 1)
        first = 0
    span = window + delay + horizon
    gap = math.ceil(span / stride) - 1
    n_test = _count(test, n, "test")
    n_val = _count(val, n, "val")
    test_start = n - n_test
    val_start = test_start - n_val
    val_stop = test_start - gap if n_test else test_start
    train_stop = val_start - gap if n_val else (val_start - gap if n_test else val_start)
    if n_val and val_stop <= val_start:
        raise ValueError(
            f"validation split is empty: {n} windows, val={val}, test={test}, gap of {gap} "
            "windows between splits; use a longer series or larger val"
        )
    if train_stop < 1:
        raise ValueError(
            f"training split is empty: {n} windows with val={val}, test={test} and a gap of "
            f"{gap} windows between splits (window={window}, horizon={horizon}, delay={delay})"
        )
    train_end = (first + train_stop - 1) * stride + span
    return TemporalSplit(
        train=range(0, train_stop),
        val=range(val_start, max(val_start, val_stop)),
        test=range(test_start, n),
        train_end=train_end,
    )
