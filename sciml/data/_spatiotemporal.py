"""Multivariate time series on a graph of sensors: values (T, N, F), mask, connectivity, covariates.

The layout follows the spatiotemporal forecasting setting of Cini, Marisca, Zambon and Alippi,
"Graph Deep Learning for Time Series Forecasting" (2023): a tensor of ``T`` time steps, ``N``
nodes and ``F`` channels, a boolean mask of observed entries, and a (static) weighted graph.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor

from sciml.errors import DataError

if TYPE_CHECKING:
    from sciml.data._windows import Windows

__all__ = ["SpatioTemporal", "DATETIME_KINDS"]

#: Calendar encodings of :meth:`SpatioTemporal.datetime_covariates` and their periods.
DATETIME_KINDS = ("time_of_day", "day_of_week", "day_of_year", "month_of_year")


def _as_tensor(x: Any, field: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, tuple)) or np.isscalar(x):
        return torch.as_tensor(np.asarray(x))
    raise TypeError(f"{field}: expected a torch.Tensor or numpy array, got {type(x).__name__}")


def _float32(x: Any, field: str) -> Tensor:
    t = _as_tensor(x, field)
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{field}: expected real numbers, got dtype {t.dtype}")
    return t if t.dtype == torch.float32 else t.to(torch.float32)


def infer_frequency(index: pd.DatetimeIndex) -> str | None:
    """The pandas frequency string of regular time stamps (``"5min"``, ``"W-SUN"``), or None
    where they are too few (< 3) or irregular (``pandas.infer_freq``, as a string in every
    pandas version)."""
    import warnings

    if len(index) < 3:
        return None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*infer_freq.*")
        freq = pd.infer_freq(index)
    return None if freq is None else getattr(freq, "freqstr", freq)


class SpatioTemporal:
    """A graph-structured multivariate time series with missing values.

    ``values[t, n, f]`` is channel ``f`` of node ``n`` at step ``t``; ``mask`` is True where the
    entry was observed. Missing entries hold 0 in ``values`` (NaNs there are replaced), so that
    arithmetic on ``values`` stays finite; always weigh losses and metrics with ``mask``.

    Args:
        values: Series, ``(T, N, F)``; numpy arrays are converted; stored as float32.
        mask: Observed entries, ``(T, N, F)`` bool; default ``~isnan(values)``.
        edge_index: Graph edges ``[src; dst]``, ``(2, E)`` integer.
        edge_weight: Weight of each edge, ``(E,)``.
        time_index: Time stamp of each step (a ``pandas.DatetimeIndex`` of length ``T``).
        covariates: Exogenous inputs by name, each ``(T, c)`` or ``(T, N, c)``.
        node_ids: Name of each node (length ``N``).
        name: Name of the series (for messages and reports).
        freq: Sampling frequency as a pandas offset alias (``"5min"``); inferred from
            ``time_index`` when omitted and possible.

    Raises:
        DataError: A shape mismatch between fields, a node id outside ``[0, N)``, NaN at an
            observed entry, or a node with no observed entry at all.
    """

    def __init__(
        self,
        values: Float[Tensor, "t n f"] | np.ndarray,
        mask: Bool[Tensor, "t n f"] | np.ndarray | None = None,
        edge_index: Int[Tensor, "2 e"] | np.ndarray | None = None,
        edge_weight: Float[Tensor, " e"] | np.ndarray | None = None,
        time_index: pd.DatetimeIndex | None = None,
        covariates: Mapping[str, Tensor | np.ndarray] | None = None,
        node_ids: Sequence[str] | None = None,
        name: str = "",
        freq: str | None = None,
    ) -> None:
        where = f"SpatioTemporal {name!r}" if name else "SpatioTemporal"
        values = _float32(values, "values")
        if values.ndim != 3:
            raise DataError(
                f"{where}: values must be 3-D (T, N, F), got shape {tuple(values.shape)}"
            )
        t_len, n_nodes, _ = values.shape
        nan = torch.isnan(values)
        if mask is None:
            mask = ~nan
        else:
            mask = _as_tensor(mask, "mask")
            if tuple(mask.shape) != tuple(values.shape):
                raise DataError(
                    f"{where}: mask shape {tuple(mask.shape)} != values shape "
                    f"{tuple(values.shape)}"
                )
            mask = mask.to(torch.bool)
            bad = nan & mask
            if bool(bad.any()):
                t, n, f = (int(i) for i in bad.nonzero()[0])
                raise DataError(
                    f"{where}: values are NaN at {int(bad.sum())} entries marked observed by "
                    f"mask, first at (t={t}, n={n}, f={f})"
                )
        if bool(nan.any()):
            values = torch.where(nan, torch.zeros((), dtype=values.dtype), values)
        if bool(torch.isinf(values).any()):
            t, n, f = (int(i) for i in torch.isinf(values).nonzero()[0])
            raise DataError(f"{where}: values are infinite at (t={t}, n={n}, f={f})")
        observed_per_node = mask.any(dim=2).any(dim=0)
        if not bool(observed_per_node.all()):
            idx = [int(i) for i in (~observed_per_node).nonzero().flatten()]
            named = node_ids is not None and len(node_ids) == n_nodes
            names = [str(node_ids[i]) for i in idx] if named else idx
            raise DataError(
                f"{where}: node(s) {names[:10]} have no observed entry (mask all False); "
                "drop them or fill them before building the series"
            )

        if edge_index is not None:
            edge_index = _as_tensor(edge_index, "edge_index")
            if edge_index.dtype.is_floating_point or edge_index.dtype == torch.bool or (
                edge_index.ndim != 2 or edge_index.shape[0] != 2
            ):
                raise DataError(
                    f"{where}: edge_index must be an integer tensor of shape (2, E), got shape "
                    f"{tuple(edge_index.shape)} dtype {edge_index.dtype}"
                )
            edge_index = edge_index.to(torch.long)
            if edge_index.numel() and (
                int(edge_index.min()) < 0 or int(edge_index.max()) >= n_nodes
            ):
                raise DataError(
                    f"{where}: edge_index holds node ids in [{int(edge_index.min())}, "
                    f"{int(edge_index.max())}], outside [0, {n_nodes}) (N = {n_nodes})"
                )
        if edge_weight is not None:
            if edge_index is None:
                raise DataError(f"{where}: edge_weight given without edge_index")
            edge_weight = _float32(edge_weight, "edge_weight")
            if edge_weight.ndim != 1 or edge_weight.shape[0] != edge_index.shape[1]:
                raise DataError(
                    f"{where}: edge_weight shape {tuple(edge_weight.shape)} != (E,) with "
                    f"E = {edge_index.shape[1]} edges"
                )
        if time_index is not None:
            if not isinstance(time_index, pd.DatetimeIndex):
                time_index = pd.DatetimeIndex(time_index)
            if len(time_index) != t_len:
                raise DataError(
                    f"{where}: time_index has length {len(time_index)}, values have T = {t_len}"
                )
            if freq is None and t_len >= 3:
                freq = time_index.freqstr or infer_frequency(time_index)
        if node_ids is not None:
            node_ids = [str(i) for i in node_ids]
            if len(node_ids) != n_nodes:
                raise DataError(f"{where}: {len(node_ids)} node_ids for N = {n_nodes} nodes")
        self.values: Tensor = values
        self.mask: Tensor = mask
        self.edge_index: Tensor | None = edge_index
        self.edge_weight: Tensor | None = edge_weight
        self.time_index: pd.DatetimeIndex | None = time_index
        self.node_ids: list[str] | None = node_ids
        self.name = name
        self.freq = freq
        self.covariates: dict[str, Tensor] = {}
        for key, cov in (covariates or {}).items():
            self.covariates[key] = self._check_covariate(key, cov, where)

    def _check_covariate(self, key: str, cov: Any, where: str) -> Tensor:
        cov = _float32(cov, f"covariate {key!r}")
        if cov.ndim not in (2, 3) or cov.shape[0] != self.n_steps or (
            cov.ndim == 3 and cov.shape[1] != self.n_nodes
        ):
            raise DataError(
                f"{where}: covariate {key!r} has shape {tuple(cov.shape)}; expected "
                f"(T, c) or (T, N, c) with T = {self.n_steps}, N = {self.n_nodes}"
            )
        if not bool(torch.isfinite(cov).all()):
            raise DataError(f"{where}: covariate {key!r} holds NaN or infinite values")
        return cov

    @property
    def n_steps(self) -> int:
        """Number of time steps ``T``."""
        return int(self.values.shape[0])

    @property
    def n_nodes(self) -> int:
        """Number of nodes ``N``."""
        return int(self.values.shape[1])

    @property
    def n_channels(self) -> int:
        """Number of channels ``F``."""
        return int(self.values.shape[2])

    def __len__(self) -> int:
        return self.n_steps

    def __repr__(self) -> str:
        edges = 0 if self.edge_index is None else self.edge_index.shape[1]
        missing = 1.0 - float(self.mask.float().mean())
        return (
            f"SpatioTemporal(name={self.name!r}, T={self.n_steps}, N={self.n_nodes}, "
            f"F={self.n_channels}, edges={edges}, missing={missing:.1%}, freq={self.freq!r}, "
            f"covariates={sorted(self.covariates)})"
        )

    def _replace(self, **fields: Any) -> SpatioTemporal:
        """A shallow copy with some fields replaced, skipping validation (fields are valid)."""
        out = object.__new__(SpatioTemporal)
        out.__dict__.update(self.__dict__)
        out.covariates = dict(self.covariates)
        out.__dict__.update(fields)
        return out

    def windows(self, window: int, horizon: int, delay: int = 0, stride: int = 1) -> Windows:
        """Input/target windows over the series (views, not copies); see :class:`Windows`."""
        from sciml.data._windows import Windows

        return Windows(self, window=window, horizon=horizon, delay=delay, stride=stride)

    def time_slice(self, start: int, stop: int) -> SpatioTemporal:
        """Steps ``start .. stop-1`` as a new series whose tensors are views of this one.

        A node may have no observed entry inside the slice; that is not an error here (the
        all-missing check applies to whole series).
        """
        for label, v in (("start", start), ("stop", stop)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"time_slice: {label} must be an int, got {v!r}")
        if not 0 <= start < stop <= self.n_steps:
            raise ValueError(
                f"time_slice: need 0 <= start < stop <= T = {self.n_steps}, got start={start}, "
                f"stop={stop}"
            )
        return self._replace(
            values=self.values[start:stop],
            mask=self.mask[start:stop],
            time_index=None if self.time_index is None else self.time_index[start:stop],
            covariates={k: v[start:stop] for k, v in self.covariates.items()},
        )

    def datetime_covariates(
        self, kinds: Sequence[str] = ("time_of_day", "day_of_week")
    ) -> dict[str, Float[Tensor, "t 2"]]:
        """Cyclic calendar encodings ``(sin 2πφ, cos 2πφ)`` of each time stamp, ``(T, 2)`` each.

        The phase ``φ`` in ``[0, 1)`` is the fraction of the day elapsed (``time_of_day``), of the
        week from Monday 00:00 (``day_of_week``), of the year from 1 January (``day_of_year``),
        or ``(month - 1) / 12`` (``month_of_year``).

        Raises:
            DataError: The series has no ``time_index``.
            ValueError: An unknown kind (the valid ones are listed).
        """
        if isinstance(kinds, str):
            kinds = (kinds,)
        unknown = [k for k in kinds if k not in DATETIME_KINDS]
        if unknown:
            raise ValueError(
                f"unknown datetime covariate {unknown[0]!r}; valid kinds: "
                + ", ".join(DATETIME_KINDS)
            )
        if self.time_index is None:
            raise DataError(
                f"SpatioTemporal {self.name!r} has no time_index, so calendar covariates "
                f"{list(kinds)} cannot be computed; pass time_index= when building it"
            )
        ti = self.time_index
        seconds = (ti.hour * 3600 + ti.minute * 60 + ti.second).to_numpy(np.float64)
        day_frac = seconds / 86400.0
        phases = {
            "time_of_day": lambda: day_frac,
            "day_of_week": lambda: (ti.day_of_week.to_numpy(np.float64) + day_frac) / 7.0,
            "day_of_year": lambda: (ti.day_of_year.to_numpy(np.float64) - 1.0 + day_frac)
            / np.where(ti.is_leap_year, 366.0, 365.0),
            "month_of_year": lambda: (ti.month.to_numpy(np.float64) - 1.0) / 12.0,
        }
        out = {}
        for kind in kinds:
            angle = 2.0 * math.pi * phases[kind]()
            enc = np.stack([np.sin(angle), np.cos(angle)], axis=-1)
            out[kind] = torch.as_tensor(enc, dtype=torch.float32)
        return out

    def with_covariates(self, **covariates: Tensor | np.ndarray) -> SpatioTemporal:
        """A new series with ``covariates`` added (same names replace the old ones)."""
        where = f"SpatioTemporal {self.name!r}"
        merged = dict(self.covariates)
        for key, cov in covariates.items():
            merged[key] = self._check_covariate(key, cov, where)
        return self._replace(covariates=merged)
