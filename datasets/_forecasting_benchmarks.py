"""Multivariate forecasting benchmarks without a graph: ETT (Informer) and the LSTNet collection."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sciml.datasets._forecasting_io import (
    check_observed_nodes,
    dataset_folder,
    observed_mask,
    read_numeric_csv,
    regular_time_grid,
)

from sciml.data import SpatioTemporal, ensure_file
from sciml.errors import DataError

__all__ = ["load_ett", "load_lstnet", "ETT_NAMES", "LSTNET_NAMES"]

_ETT_URL = "https://raw.githubusercontent.com/zhouhaoyi/ETDataset/main/ETT-small/{name}.csv"
_ETT_COLUMNS = ["date", "HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]
#: name -> (freq, sha256 or None). Only ETTh1's checksum is known to us (from the file of
#: zhouhaoyi/ETDataset commit 1d16c8f4); the others are downloaded without a check.
_ETT = {
    "ETTh1": ("1h", "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066"),
    "ETTh2": ("1h", None),
    "ETTm1": ("15min", None),
    "ETTm2": ("15min", None),
}
ETT_NAMES = tuple(_ETT)

# Pinned to the commit whose exchange_rate file the checksum below was computed from.
_LSTNET_URL = ("https://raw.githubusercontent.com/laiguokun/multivariate-time-series-data/"
               "7f402f185cc2435b5e66aed13a3b560ed142e023/{path}")
#: name -> (path in the repository, freq, synthetic start, sha256 or None).
_LSTNET = {
    "exchange_rate": ("exchange_rate/exchange_rate.txt.gz", "1D", "1990-01-01",
                      "6a4fbb561dcdee43f071a83badbeec9223a335552278348656738b556f1c2e9d"),
    "electricity": ("electricity/electricity.txt.gz", "1h", "2012-01-01", None),
    "traffic": ("traffic/traffic.txt.gz", "1h", "2015-01-01", None),
    "solar": ("solar-energy/solar_AL.txt.gz", "10min", "2006-01-01", None),
}
LSTNET_NAMES = tuple(_LSTNET)


def load_ett(name: str = "ETTh1", root: str | os.PathLike | None = None) -> SpatioTemporal:
    """Electricity Transformer Temperature data (ETTh1, ETTh2 hourly; ETTm1, ETTm2 15-minute).

    Zhou et al., "Informer: Beyond Efficient Transformer for Long Sequence Time-Series
    Forecasting", AAAI 2021 (zhouhaoyi/ETDataset, CC BY-ND 4.0). CSV columns
    ``date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT`` (six power loads and the oil temperature ``OT``,
    the usual target). Layout: the 7 variables are 7 nodes with one channel each, so graph models
    can learn a graph among them; there is no given graph (``edge_index`` None).

    Args:
        name: One of ``ETTh1``, ``ETTh2``, ``ETTm1``, ``ETTm2``.
        root: Folder holding ``{name}.csv``; default ``cache_dir()/"ett"``. A missing file is
            downloaded from ETDataset's GitHub (SHA-256 checked for ETTh1 only: no checksum is
            recorded for the others). The checksum is checked on download, not on a file that
            is already there.

    Returns:
        ``SpatioTemporal`` (T, 7, 1) with the file's time stamps, node ids = column names.

    Raises:
        ValueError: Unknown name. DataError: malformed file (names file, line and column).
    """
    if name not in _ETT:
        raise ValueError(f"unknown ETT data set {name!r}; valid names: {', '.join(ETT_NAMES)}")
    freq, sha = _ETT[name]
    path = ensure_file(dataset_folder(root, "ett") / f"{name}.csv", _ETT_URL.format(name=name),
                       sha256=sha, verify=False)
    columns, texts, values = read_numeric_csv(path, header=True, text_columns=(0,))
    if columns != _ETT_COLUMNS:
        raise DataError(f"{path}: expected columns {_ETT_COLUMNS}, got {columns}")
    dates = texts[0]
    stamps = pd.to_datetime(pd.Series(dates), format="%Y-%m-%d %H:%M:%S", errors="coerce")
    if stamps.isna().any():
        row = int(np.flatnonzero(stamps.isna().to_numpy())[0])
        raise DataError(
            f"{path}: line {row + 2}, column 1: {dates[row]!r} is not a date "
            "'YYYY-MM-DD hh:mm:ss'"
        )
    time_index, values = regular_time_grid(path, pd.DatetimeIndex(stamps), values, freq)
    mask = observed_mask(values, zeros_as_missing=False)
    nodes = _ETT_COLUMNS[1:]
    check_observed_nodes(mask, nodes, str(path))
    return SpatioTemporal(values[..., None], mask=mask[..., None], time_index=time_index,
                          node_ids=nodes, name=name, freq=freq)


def load_lstnet(
    name: str, root: str | os.PathLike | None = None, zeros_as_missing: bool = False
) -> SpatioTemporal:
    """A benchmark of the LSTNet collection (laiguokun/multivariate-time-series-data).

    Lai, Chang, Yang, Liu, "Modeling Long- and Short-Term Temporal Patterns with Deep Neural
    Networks", SIGIR 2018. Gzipped comma-separated numbers, no header, one column per series:

    - ``exchange_rate``: daily exchange rates of 8 currencies, 7588 rows, freq ``1D``, from
      1990-01-01;
    - ``electricity``: hourly consumption (kWh) of 321 clients, 26304 rows, ``1h``, from 2012-01-01;
    - ``traffic``: hourly road occupancy of 862 sensors, 17544 rows, ``1h``, from 2015-01-01;
    - ``solar``: 10-minute power of 137 PV plants, 52560 rows, ``10min``, from 2006-01-01.

    The files carry no time stamps: ``time_index`` is **synthetic**, from the start dates above
    (the dates used by tsl's loaders). No graph.

    Args:
        name: ``exchange_rate``, ``electricity``, ``traffic`` or ``solar``.
        root: Folder holding the ``.txt.gz`` file; default ``cache_dir()/"lstnet"``. A missing
            file is downloaded (SHA-256 checked for exchange_rate only: no checksum is recorded
            for the others; checked on download only).
        zeros_as_missing: Treat exact zeros as missing (e.g. electricity before a client's
            contract started). Off by default: solar power is truly 0 at night.

    Returns:
        ``SpatioTemporal`` (T, N, 1), node ids ``"0" .. "N-1"``.

    Raises:
        ValueError: Unknown name. DataError: malformed file (names file, line and column).
    """
    if name not in _LSTNET:
        raise ValueError(f"unknown LSTNet data set {name!r}; valid names: "
                         f"{', '.join(LSTNET_NAMES)}")
    rel, freq, start, sha = _LSTNET[name]
    path = ensure_file(dataset_folder(root, "lstnet") / rel.rsplit("/", 1)[1],
                       _LSTNET_URL.format(path=rel), sha256=sha, verify=False)
    _, _, values = read_numeric_csv(path, header=False)
    mask = observed_mask(values, zeros_as_missing)
    nodes = [str(i) for i in range(values.shape[1])]
    check_observed_nodes(mask, nodes, str(path))
    time_index = pd.date_range(start, periods=values.shape[0], freq=freq)
    return SpatioTemporal(values[..., None], mask=mask[..., None], time_index=time_index,
                          node_ids=nodes, name=name, freq=freq)
