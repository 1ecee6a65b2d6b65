"""Readers of the published forecasting file formats, and graph construction from them.

Formats: numeric CSV tables (T-GCN's LOS files, ETDataset, the LSTNet ``.txt.gz`` benchmarks),
DCRNN's sensor-distance CSV, and pandas' HDF5 "fixed" layout (DCRNN's ``metr-la.h5`` /
``pems-bay.h5``), read with h5py because ``pandas.read_hdf`` needs PyTables.
Every error names the file and, where there is one, the row and column.
"""

from __future__ import annotations

import csv
import gzip
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from jaxtyping import Float
from torch import Tensor

from sciml.data import open_hdf5
from sciml.errors import DataError

__all__ = [
    "read_numeric_csv",
    "read_adjacency_csv",
    "read_distances_csv",
    "read_pandas_hdf",
    "gaussian_kernel_adjacency",
    "adjacency_to_edges",
    "check_observed_nodes",
    "regular_time_grid",
    "dataset_folder",
    "observed_mask",
]


def dataset_folder(root: str | os.PathLike | None, name: str) -> Path:
    """``root`` if given, else the data set's folder in the cache (``cache_dir()/name``)."""
    from sciml.data import cache_dir

    return Path(root) if root is not None else cache_dir() / name


def observed_mask(values: np.ndarray, zeros_as_missing: bool) -> np.ndarray:
    """True where ``values`` is finite (and nonzero when ``zeros_as_missing``)."""
    mask = np.isfinite(values)
    if zeros_as_missing:
        mask &= values != 0
    return mask


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", newline="")
    return open(path, newline="")


def _diagnose(path: Path, header: bool, n_fields: int | None, text_columns: Sequence[int]) -> None:
    """Scan the file line by line and raise DataError at the first ragged row or non-number."""
    with _open_text(path) as f:
        for line_no, row in enumerate(csv.reader(f), start=1):
            if header and line_no == 1:
                n_fields = len(row)
                continue
            if not row:
                continue
            if n_fields is None:
                n_fields = len(row)
            if len(row) != n_fields:
                raise DataError(
                    f"{path}: line {line_no} has {len(row)} fields, expected {n_fields} "
                    "(ragged row)"
                )
            for col, cell in enumerate(row):
                if col in text_columns or cell.strip() == "":
                    continue
                try:
                    float(cell)
                except ValueError:
                    raise DataError(
                        f"{path}: line {line_no}, column {col + 1}: {cell!r} is not a number"
                    ) from None


def read_numeric_csv(
    path: str | os.PathLike, header: bool, text_columns: Sequence[int] = ()
) -> tuple[list[str] | None, dict[int, list[str]], np.ndarray]:
    """Read a comma-separated table of numbers (optionally gzip-compressed).

    Empty cells are read as NaN (missing); anything else that is not a number is an error.

    Args:
        path: The file (``.gz`` is decompressed).
        header: The first line holds column names.
        text_columns: 0-based columns kept as strings (e.g. a date column).

    Returns:
        ``(column names or None, {text column: its strings}, values (rows, numeric columns))``
        with values float64.

    Raises:
        DataError: A ragged row or a non-numeric cell, naming the file, line and column.
        FileNotFoundError: No file at ``path``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    text_columns = tuple(text_columns)
    try:
        df = pd.read_csv(path, header=0 if header else None, compression="infer",
                         skip_blank_lines=True)
    except pd.errors.ParserError as e:
        raise DataError(f"{path}: malformed CSV ({e})") from e
    except (UnicodeDecodeError, EOFError, OSError, ValueError) as e:
        raise DataError(f"{path}: cannot read as CSV ({e})") from e
    if df.shape[0] == 0:
        raise DataError(f"{path}: no data rows")
    numeric_cols = [c for i, c in enumerate(df.columns) if i not in text_columns]
    numeric = df[numeric_cols]
    if not all(pd.api.types.is_numeric_dtype(t) for t in numeric.dtypes) or (
        numeric.isna().to_numpy().any()
    ):
        # Slow path, only for suspicious files: pandas pads short rows with NaN and turns a
        # column holding text into strings without saying where; find the exact cell.
        _diagnose(path, header, None if header else df.shape[1], text_columns)
        numeric = numeric.apply(pd.to_numeric, errors="raise")
    names = [str(c) for c in df.columns] if header else None
    texts = {i: df.iloc[:, i].astype(str).tolist() for i in text_columns}
    return names, texts, numeric.to_numpy(dtype=np.float64)


def read_adjacency_csv(path: str | os.PathLike, n_nodes: int) -> np.ndarray:
    """Read a dense N × N weighted adjacency matrix (CSV without header), e.g. T-GCN's ``los_adj``.

    Raises:
        DataError: Not square, or not ``n_nodes × n_nodes`` (names the file and both sizes).
    """
    path = Path(path)
    _, _, adj = read_numeric_csv(path, header=False)
    if adj.shape != (n_nodes, n_nodes):
        raise DataError(
            f"{path}: adjacency is {adj.shape[0]}x{adj.shape[1]}, but the series has "
            f"{n_nodes} sensors (expected {n_nodes}x{n_nodes})"
        )
    if not np.all(np.isfinite(adj)):
        r, c = np.argwhere(~np.isfinite(adj))[0]
        raise DataError(f"{path}: adjacency entry ({r}, {c}) is missing or not finite")
    return adj


def _id_str(x: object) -> str:
    """Sensor ids as strings: 773869, 773869.0 and '773869' are the same id."""
    if isinstance(x, (float, np.floating)) and float(x).is_integer():
        return str(int(x))
    return str(x).strip()


def read_distances_csv(path: str | os.PathLike, sensor_ids: Sequence[str]) -> np.ndarray:
    """Read DCRNN's road-distance list ``from,to,cost`` into an N × N matrix (``inf`` = no entry).

    Rows naming sensors outside ``sensor_ids`` are skipped (the published files list more
    sensors than the series has), as in DCRNN's ``gen_adj_mx.py``.

    Args:
        path: CSV with header ``from,to,cost``.
        sensor_ids: Node order of the matrix.

    Returns:
        (N, N) float64 distances; entry (i, j) is the distance from sensor i to sensor j.
    """
    path = Path(path)
    names, _, table = read_numeric_csv(path, header=True)
    if table.shape[1] != 3:
        raise DataError(
            f"{path}: expected 3 columns (from, to, cost), got {table.shape[1]}: {names}"
        )
    index = {_id_str(s): i for i, s in enumerate(sensor_ids)}
    dist = np.full((len(index), len(index)), np.inf)
    for row_no, (src, dst, cost) in enumerate(table, start=2):
        if not np.isfinite(cost) or cost < 0:
            raise DataError(f"{path}: line {row_no}: distance {cost} is not a finite number >= 0")
        i, j = index.get(_id_str(src)), index.get(_id_str(dst))
        if i is not None and j is not None:
            dist[i, j] = cost
    return dist


def _decode(labels: np.ndarray) -> list[str]:
    return [x.decode() if isinstance(x, bytes) else _id_str(x) for x in labels.tolist()]


def read_pandas_hdf(
    path: str | os.PathLike, key: str = "df"
) -> tuple[list[str], pd.DatetimeIndex, np.ndarray]:
    """Read a DataFrame saved by ``DataFrame.to_hdf(format="fixed")`` without PyTables.

    Layout of that format (pandas ``io/pytables.py``): group ``/key`` with ``axis0`` (column
    labels), ``axis1`` (row index: int64 since the epoch for a DatetimeIndex, with attribute
    ``kind`` = ``datetime64`` for nanoseconds or ``datetime64[unit]``) and one or more blocks
    ``block{k}_items`` (the columns of block k) / ``block{k}_values`` stored transposed, as
    (rows, columns of the block). Time zones are ignored (stamps read as naive).

    Returns:
        ``(column labels, DatetimeIndex, values (rows, columns) float64)``.

    Raises:
        DataError: Not HDF5, no group ``key``, or an inconsistent layout (names the file).
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    f = open_hdf5(path)
    with f:
        if key not in f or not isinstance(f[key], h5py.Group):
            raise DataError(f"{path}: no pandas table {key!r}; top-level keys: {sorted(f.keys())}")
        g = f[key]
        needed = ["axis0", "axis1", "block0_items", "block0_values"]
        missing = [k for k in needed if k not in g]
        if missing:
            raise DataError(
                f"{path}: /{key} is not a pandas 'fixed' DataFrame (missing {missing}; "
                f"present {sorted(g.keys())})"
            )
        columns = _decode(g["axis0"][()])
        raw_index = g["axis1"][()]
        kind = g["axis1"].attrs.get("kind", b"")
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        if raw_index.dtype.kind not in "iu" or (kind and not kind.startswith("datetime64")):
            raise DataError(
                f"{path}: /{key}/axis1 is not a datetime index (kind {kind!r}, dtype "
                f"{raw_index.dtype})"
            )
        # older pandas wrote kind "datetime64" (nanoseconds); newer ones name the unit
        unit = kind if kind.startswith("datetime64[") else "datetime64[ns]"
        time_index = pd.DatetimeIndex(raw_index.astype(np.int64).astype(unit))
        position = {c: i for i, c in enumerate(columns)}
        values = np.full((len(time_index), len(columns)), np.nan)
        filled = np.zeros(len(columns), dtype=bool)
        n_blocks = int(g.attrs.get("nblocks", 1))
        for b in range(n_blocks):
            items = _decode(g[f"block{b}_items"][()])
            block = np.asarray(g[f"block{b}_values"][()], dtype=np.float64)
            if block.shape != (len(time_index), len(items)):
                raise DataError(
                    f"{path}: /{key}/block{b}_values has shape {block.shape}, expected "
                    f"({len(time_index)}, {len(items)}) from axis1 and block{b}_items"
                )
            for j, item in enumerate(items):
                if item not in position:
                    raise DataError(f"{path}: block{b} column {item!r} is not in axis0")
                values[:, position[item]] = block[:, j]
                filled[position[item]] = True
    if not filled.all():
        empty = [c for c, ok in zip(columns, filled, strict=True) if not ok]
        raise DataError(f"{path}: columns {empty[:5]} have no values block")
    return columns, time_index, values


def regular_time_grid(
    path: Path, index: pd.DatetimeIndex, values: np.ndarray, freq: str
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Place rows on a regular time grid from the first to the last stamp; absent steps are NaN.

    Args:
        path: The source file (for messages).
        index: Time stamps of the rows (any order, no duplicates).
        values: (rows, columns).
        freq: pandas offset alias of the grid.

    Returns:
        ``(regular DatetimeIndex, values on it)`` with NaN rows where a stamp was absent.

    Raises:
        DataError: Duplicate stamps, or a stamp off the grid.
    """
    if index.has_duplicates:
        raise DataError(f"{path}: duplicate time stamps, first {index[index.duplicated()][0]}")
    index = pd.DatetimeIndex(index).as_unit("ns")  # asi8 below must be in nanoseconds
    order = np.argsort(index.asi8, kind="stable")
    index, values = index[order], values[order]
    step = pd.Timedelta(freq).value
    offsets = (index.asi8 - index.asi8[0])
    if np.any(offsets % step):
        bad = index[np.flatnonzero(offsets % step)[0]]
        raise DataError(f"{path}: time stamp {bad} is not on the {freq} grid from {index[0]}")
    full = pd.date_range(index[0], index[-1], freq=freq)
    out = np.full((len(full), values.shape[1]), np.nan)
    out[offsets // step] = values
    return full, out


def gaussian_kernel_adjacency(
    dist_matrix: Float[np.ndarray, "n n"] | Float[Tensor, "n n"],
    threshold: float = 0.1,
    sigma: float | None = None,
) -> np.ndarray:
    """Thresholded Gaussian kernel of road distances, as in DCRNN's ``gen_adj_mx``.

    Li, Yu, Shahabi, Liu, "Diffusion Convolutional Recurrent Neural Network: Data-Driven Traffic
    Forecasting", ICLR 2018:

        w_ij = exp(-d_ij² / σ²)  if that is >= κ, else 0

    with σ the standard deviation of the finite distances (``inf`` marks pairs without a distance
    and gets weight 0).

    Args:
        dist_matrix: (N, N) distances, ``inf`` where unknown.
        threshold: κ; weights below it are set to 0.
        sigma: Kernel width; default the std of the finite entries.

    Returns:
        (N, N) float64 weights in [0, 1].
    """
    d = dist_matrix.detach().cpu().numpy() if isinstance(dist_matrix, Tensor) else dist_matrix
    d = np.asarray(d, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"dist_matrix must be square (N, N), got shape {d.shape}")
    if np.isnan(d).any() or (d < 0).any():
        raise ValueError("dist_matrix must hold distances >= 0 or inf, found NaN or negatives")
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    finite = d[np.isfinite(d)]
    if sigma is None:
        sigma = float(finite.std()) if finite.size else 0.0
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(
            f"sigma must be > 0, got {sigma} (with sigma=None it is the std of the finite "
            "distances, which is 0 when they are all equal or absent)"
        )
    with np.errstate(over="ignore"):
        w = np.exp(-np.square(d / sigma))
    w[w < threshold] = 0.0
    return w


def adjacency_to_edges(
    adjacency: Float[np.ndarray, "n n"], self_loops: bool = False
) -> tuple[Tensor, Tensor]:
    """Nonzero entries of a dense adjacency as ``(edge_index, edge_weight)``.

    Entry (i, j) becomes the edge i → j, i.e. ``edge_index[:, e] = [i; j]`` (``[src; dst]``).

    Args:
        adjacency: (N, N) weights; zero = no edge.
        self_loops: Keep diagonal entries (default: drop them).

    Returns:
        ``edge_index`` (2, E) long and ``edge_weight`` (E,) float32, in row-major order.
    """
    a = np.array(adjacency, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"adjacency must be square (N, N), got shape {a.shape}")
    if not self_loops:
        np.fill_diagonal(a, 0.0)
    src, dst = np.nonzero(a)
    edge_index = torch.as_tensor(np.stack([src, dst]), dtype=torch.long)
    return edge_index, torch.as_tensor(a[src, dst], dtype=torch.float32)


def check_observed_nodes(mask: np.ndarray, node_ids: Sequence[str], source: str) -> None:
    """Raise DataError naming the file and the sensors whose every reading is missing.

    Args:
        mask: (T, N) or (T, N, F) observed entries.
        node_ids: Sensor names.
        source: File name(s) for the message.
    """
    observed = mask.reshape(mask.shape[0], mask.shape[1], -1).any(axis=(0, 2))
    if not observed.all():
        bad = [node_ids[i] for i in np.flatnonzero(~observed)]
        raise DataError(
            f"{source}: sensor(s) {bad[:10]} have no observed value (every reading is missing); "
            f"{len(bad)} of {len(node_ids)} sensors are empty: drop them from the file"
        )
