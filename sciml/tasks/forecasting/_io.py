"""Reading forecast inputs from CSV and writing forecasts as CSV and NetCDF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

from sciml.data import atomic_write, write_netcdf
from sciml.errors import DataError
from sciml.tasks._job import input_file

__all__ = ["read_csv_frame", "frame_to_input", "forecast_frame", "write_forecast_frame"]

_TIME_COLUMNS = ("date", "time", "datetime", "timestamp")


def read_csv_frame(path: Path) -> pd.DataFrame:
    """Read a CSV of sensors (columns) over time (rows); errors name the file."""
    input_file(path, "a CSV file")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise DataError(f"{path}: malformed CSV ({e})") from e
    frame.attrs["source"] = str(path)
    return frame


def frame_to_input(
    frame: pd.DataFrame, node_ids: list[str] | None, window: int, where: str
) -> tuple[torch.Tensor, pd.DatetimeIndex | None]:
    """The last ``window`` rows of a table of sensors (columns) over time (rows).

    The header names the sensors (the training series' node ids, in any order; extra columns are
    an error). An optional first column ``date``/``time`` holds timestamps. Errors name
    ``where`` (the file), the line and the column.

    Returns:
        The input ``(window, n)`` in the training node order, and the timestamps (or None).
    """
    where = frame.attrs.get("source", where)
    frame = frame.reset_index(drop=True)
    index = None
    first = str(frame.columns[0]).strip().lower() if len(frame.columns) else ""
    if first in _TIME_COLUMNS:
        try:
            index = pd.DatetimeIndex(pd.to_datetime(frame.iloc[:, 0]))
        except (ValueError, TypeError) as e:
            raise DataError(f"{where}: column {frame.columns[0]!r} is not a date/time ({e})") from e
        frame = frame.iloc[:, 1:]
    columns = [str(c).strip() for c in frame.columns]
    expected = list(node_ids) if node_ids is not None else columns
    if node_ids is not None:
        missing = [c for c in expected if c not in columns]
        extra = [c for c in columns if c not in expected]
        if missing or extra:
            raise DataError(
                f"{where}: sensor columns do not match the trained model "
                f"(missing: {missing[:5]}{'...' if len(missing) > 5 else ''}, "
                f"unknown: {extra[:5]}{'...' if len(extra) > 5 else ''})"
            )
        frame.columns = columns
        frame = frame[expected]
    if len(frame) < window:
        raise DataError(f"{where}: {len(frame)} rows, but the model needs a window of {window}")
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
    if index is not None:
        index = index[-window:]
    return torch.tensor(values.to_numpy(np.float32)), index


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
    """Write a :func:`forecast_frame` as ``forecast.csv`` and ``forecast.nc`` in ``out_dir``."""
    nodes = [c for c in frame.columns if c not in ("time", "step")]
    pred = frame[nodes].to_numpy(np.float32)
    steps = frame["step"].to_numpy()
    csv = out_dir / "forecast.csv"
    with atomic_write(csv) as tmp:
        frame.to_csv(tmp, index=False)
    ds = xr.Dataset({"forecast": (("step", "node"), pred)},
                    coords={"step": steps, "node": nodes})
    if "time" in frame:
        ds = ds.assign_coords(time=("step", frame["time"].to_numpy()))
    nc = out_dir / "forecast.nc"
    write_netcdf(nc, ds, params={"horizon": len(frame), "freq": freq, "input": source})
    return [csv, nc]
