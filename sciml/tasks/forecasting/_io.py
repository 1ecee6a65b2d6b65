"""Reading forecast inputs from CSV and writing forecasts as CSV and NetCDF."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

from sciml.data import atomic_write, infer_frequency, write_netcdf
from sciml.errors import DataError
from sciml.tasks._job import input_file

__all__ = ["read_csv_frame", "frame_to_input", "forecast_frame", "write_forecast_frame"]

_TIME_COLUMNS = ("date", "time", "datetime", "timestamp")


def read_csv_frame(path: Path) -> pd.DataFrame:
    """Read a CSV of sensors (columns) over time (rows); errors name the file. Duplicate column
    names are an error (pandas would silently rename the second ``s0`` to ``s0.1``)."""
    input_file(path, "a CSV file")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise DataError(f"{path}: malformed CSV ({str(e).splitlines()[0]})") from e
    with open(path, newline="", encoding="utf-8-sig") as f:
        header = [c.strip() for c in next(csv.reader(f), [])]
    dup = sorted({c for c in header if header.count(c) > 1})
    if dup:
        raise DataError(f"{path}: column {dup[0]!r} appears {header.count(dup[0])} times in the "
                        "header")
    frame.columns = header
    frame.attrs["source"] = str(path)
    return frame


def expected_input(node_ids: list[str], window: int) -> str:
    """What a forecasting input must look like, for messages and --help."""
    shown = (f"{node_ids[0]!r}..{node_ids[-1]!r}" if len(node_ids) > 3
             else ", ".join(repr(v) for v in node_ids))
    return (f"{len(node_ids)} columns named {shown} (any order; an optional first column "
            f"date/time), at least {window} rows (the last {window} are used)")


def frame_to_input(
    frame: pd.DataFrame, node_ids: list[str], window: int, where: str,
    offset: np.ndarray | None = None, scale: np.ndarray | None = None,
) -> tuple[torch.Tensor, pd.DatetimeIndex | None]:
    """The last ``window`` rows of a table of sensors (columns) over time (rows).

    The header names the sensors (the training series' node ids, in any order; extra columns are
    an error). An optional first column ``date``/``time`` holds timestamps. Errors name
    ``where`` (the file), the line and the column. With the training scaler's ``offset`` and
    ``scale`` (n,), a value more than 1e4 scales from the training data (1e30, a unit mistake) is
    an error.

    Returns:
        The input ``(window, n)`` in the training node order, and the timestamps (or None).
    """
    where = frame.attrs.get("source", where)
    frame = frame.reset_index(drop=True)
    index = None
    first = str(frame.columns[0]).strip().lower() if len(frame.columns) else ""
    if first in _TIME_COLUMNS:
        try:
            index = pd.DatetimeIndex(pd.to_datetime(frame.iloc[:, 0], format="mixed"))
        except (ValueError, TypeError) as e:
            raise DataError(f"{where}: column {frame.columns[0]!r} is not a date/time "
                            f"({str(e).splitlines()[0]})") from e
        frame = frame.iloc[:, 1:]
    columns = [str(c).strip() for c in frame.columns]
    dup = sorted({c for c in columns if columns.count(c) > 1})
    if dup:
        raise DataError(f"{where}: column {dup[0]!r} appears {columns.count(dup[0])} times")
    missing = [c for c in node_ids if c not in columns]
    extra = [c for c in columns if c not in node_ids]
    if missing or extra:
        raise DataError(
            f"{where}: columns do not match the trained model (missing: "
            f"{missing[:5]}{'...' if len(missing) > 5 else ''}, unknown: "
            f"{extra[:5]}{'...' if len(extra) > 5 else ''}); expected "
            f"{expected_input(node_ids, window)}")
    frame.columns = columns
    frame = frame[list(node_ids)]
    if len(frame) < window:
        raise DataError(f"{where}: {len(frame)} rows, but the model needs {window}; expected "
                        f"{expected_input(node_ids, window)}")
    frame = frame.iloc[-window:]
    values = frame.apply(pd.to_numeric, errors="coerce")
    bad = values.isna().to_numpy() & ~frame.isna().to_numpy()
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(
            f"{where}: line {frame.index[r] + 2}, column {frame.columns[c]!r}: "
            f"{frame.iloc[r, c]!r} is not a number"
        )
    if values.isna().any().any():
        r, c = np.argwhere(values.isna().to_numpy())[0]
        raise DataError(f"{where}: line {frame.index[r] + 2}, column {frame.columns[c]!r} is "
                        "empty")
    array = values.to_numpy(np.float64)
    if not np.isfinite(array).all():
        r, c = np.argwhere(~np.isfinite(array))[0]
        raise DataError(f"{where}: line {frame.index[r] + 2}, column {frame.columns[c]!r}: "
                        f"{array[r, c]:g} is not finite")
    if offset is not None and scale is not None:
        z = np.abs((array - offset[None]) / np.where(scale == 0, 1.0, scale)[None])
        if (z > 1e4).any():
            r, c = np.argwhere(z > 1e4)[0]
            raise DataError(f"{where}: line {frame.index[r] + 2}, column {frame.columns[c]!r}: "
                            f"{array[r, c]:g} is {z[r, c]:.3g} scales from the training data "
                            "(wrong units?)")
    if index is not None:
        index = index[-window:]
    return torch.tensor(array, dtype=torch.float32), index


def input_freq(index: pd.DatetimeIndex | None, trained: str | None, where: str) -> str | None:
    """The frequency of the forecast's time stamps: the input's, inferred from its stamps, which
    must be the training series' where both are known; the training series' where the input's
    stamps are too few or irregular to tell."""
    if index is None:
        return None
    freq = infer_frequency(index)
    if freq is None:
        return trained
    if trained is not None and _offset(freq) != _offset(trained):
        raise DataError(f"{where}: the input's time stamps are {freq} apart, but the model was "
                        f"trained on {trained} steps")
    return freq


def _fixed(freq: str) -> bool:
    try:
        pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
        return True
    except (ValueError, TypeError):
        return False


def _offset(freq: str) -> object:
    """Comparable form of a frequency ("60min" and "1h" are the same)."""
    if _fixed(freq):
        return pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    return pd.tseries.frequencies.to_offset(freq)


def forecast_frame(pred: np.ndarray, node_ids: list[str] | None,
                   input_index: pd.DatetimeIndex | None, freq: str | None) -> pd.DataFrame:
    """A forecast ``(horizon, n)`` as a table: ``time`` (stamped at ``freq`` after the input's
    last time, where both are known), ``step`` (1-based), one column per node."""
    horizon = pred.shape[0]
    nodes = list(node_ids) if node_ids is not None else [str(i) for i in range(pred.shape[1])]
    frame = pd.DataFrame(pred, columns=nodes)
    frame.insert(0, "step", np.arange(1, horizon + 1))
    if input_index is not None and freq is not None:
        times = pd.date_range(input_index[-1], periods=horizon + 1, freq=freq)[1:]
        frame.insert(0, "time", times)
    return frame


def write_forecast_frame(out_dir: Path, frame: pd.DataFrame, freq: str | None,
                         source: str) -> list[Path]:
    """Write a :func:`forecast_frame` as ``forecast.csv`` and ``forecast.nc`` in ``out_dir``:
    both or neither (each is written to a temporary file first; the two are renamed in place
    only once both are complete)."""
    nodes = [c for c in frame.columns if c not in ("time", "step")]
    pred = frame[nodes].to_numpy(np.float32)
    steps = frame["step"].to_numpy()
    ds = xr.Dataset({"forecast": (("step", "node"), pred)},
                    coords={"step": steps, "node": nodes})
    if "time" in frame:
        ds = ds.assign_coords(time=("step", frame["time"].to_numpy()))
    csv_path, nc_path = out_dir / "forecast.csv", out_dir / "forecast.nc"
    with atomic_write(csv_path) as tmp_csv, atomic_write(nc_path) as tmp_nc:
        frame.to_csv(tmp_csv, index=False)
        write_netcdf(tmp_nc, ds, params={"horizon": len(frame), "freq": freq, "input": source})
    return [csv_path, nc_path]
