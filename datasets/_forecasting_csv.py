"""A user's own graph time series from CSV files (data set ``csv``).

The values table is either *wide* (a time column and one column per node, as pandas'
``DataFrame.to_csv`` writes a frame indexed by time) or *long* (one row per observation: time,
node, value and optionally a feature column, as a database export or ``DataFrame.melt`` gives).
The graph comes from a dense adjacency matrix, an edge list, node coordinates or pairwise
distances (both through the thresholded Gaussian kernel of DCRNN), or is absent. Node ids are
matched by name, in any order. Empty cells and NaN are missing values (masked, never trained on);
zeros are data unless ``zeros_as_missing``. The frequency comes from the time column (or
``freq``); rows absent from the regular grid become missing steps. Every error names the file
and, where there is one, the line and column or the entry.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sciml.datasets._forecasting_io import (
    adjacency_to_edges,
    check_observed_nodes,
    gaussian_kernel_adjacency,
)

from sciml.data import SpatioTemporal, infer_frequency
from sciml.errors import DataError

__all__ = ["load_csv", "TIME_COLUMNS", "read_header"]

TIME_COLUMNS = ("date", "time", "datetime", "timestamp", "ds", "period", "week", "day")
LAYOUTS = ("auto", "wide", "long")


def _path(p: str | os.PathLike, role: str) -> Path:
    path = Path(p).expanduser()
    if path.is_dir():
        raise IsADirectoryError(f"{role} file {path} is a folder")
    if not path.is_file():
        raise FileNotFoundError(f"no {role} file at {path}")
    return path


def read_header(path: Path, delimiter: str = ",") -> list[str]:
    """The first row of a CSV as written (pandas renames duplicate names; this does not)."""
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", newline="", encoding="utf-8-sig") as f:
            row = next(csv.reader(f, delimiter=delimiter), None)
    except (UnicodeDecodeError, OSError) as e:
        raise DataError(f"{path}: cannot read as CSV ({e})") from e
    if not row:
        raise DataError(f"{path}: empty file (no header row)")
    return [c.strip() for c in row]


def _read_frame(path: Path, delimiter: str, header: bool = True) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, sep=delimiter, header=0 if header else None, dtype=str,
                            keep_default_na=False, skip_blank_lines=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, OSError) as e:
        raise DataError(f"{path}: malformed CSV ({str(e).splitlines()[0]})") from e
    if header:
        names = read_header(path, delimiter)
        dup = sorted({c for c in names if names.count(c) > 1})
        if dup:
            raise DataError(f"{path}: column {dup[0]!r} appears {names.count(dup[0])} times in "
                            "the header (each node needs one column)")
        frame.columns = names
    if frame.shape[0] == 0:
        raise DataError(f"{path}: no data rows")
    return frame


_MISSING = {"", "nan", "NaN", "NAN", "NA", "N/A", "null", "NULL", "None"}


def _numbers(frame: pd.DataFrame, path: Path, first_line: int = 2) -> np.ndarray:
    """Cells as float64 (NaN for empty / NaN cells); DataError naming the line and column of the
    first cell that is not a number, or of an infinite value."""
    raw = frame.to_numpy(dtype=object)
    out = np.full(raw.shape, np.nan)
    for j in range(raw.shape[1]):
        col = pd.Series(raw[:, j]).astype(str).str.strip()
        missing = col.isin(_MISSING)
        parsed = pd.to_numeric(col.where(~missing, None), errors="coerce")
        bad = parsed.isna() & ~missing
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{path}: line {i + first_line}, column {frame.columns[j]!r}: "
                            f"{raw[i, j]!r} is not a number")
        out[:, j] = parsed.to_numpy(dtype=np.float64)
    inf = np.isinf(out)
    if inf.any():
        i, j = np.argwhere(inf)[0]
        raise DataError(f"{path}: line {i + first_line}, column {frame.columns[j]!r}: "
                        f"{raw[i, j]!r} is infinite")
    return out


def _times(values: pd.Series, path: Path, column: str) -> pd.DatetimeIndex:
    try:
        index = pd.DatetimeIndex(pd.to_datetime(values.str.strip(), format="mixed"))
    except (ValueError, TypeError) as e:
        raise DataError(f"{path}: column {column!r} is not a date/time "
                        f"({str(e).splitlines()[0]})") from e
    if index.isna().any():
        i = int(np.flatnonzero(index.isna())[0])
        raise DataError(f"{path}: line {i + 2}, column {column!r} is empty (every row needs a "
                        "time stamp)")
    return index


def _infer_freq(index: pd.DatetimeIndex, path: Path) -> str:
    """The frequency of sorted unique stamps: pandas' inference where the stamps are regular,
    else the most common step (gaps become missing steps)."""
    if len(index) < 2:
        raise DataError(f"{path}: one time stamp only; give freq: (e.g. '1h')")
    index = pd.DatetimeIndex(index).as_unit("ns")  # asi8 below in nanoseconds
    freq = infer_frequency(index)
    if freq is not None:
        return freq
    steps = np.diff(index.asi8)
    values, counts = np.unique(steps, return_counts=True)
    step = pd.Timedelta(int(values[np.argmax(counts)]), unit="ns")
    grid = pd.date_range(index[0], index[-1], freq=step)  # named as pandas would ("W-SUN")
    return infer_frequency(grid) or pd.tseries.frequencies.to_offset(step).freqstr


def _on_grid(path: Path, index: pd.DatetimeIndex, values: np.ndarray, freq: str
             ) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Rows placed on the regular grid of ``freq`` from the first stamp; absent steps NaN."""
    if index.has_duplicates:
        raise DataError(f"{path}: duplicate time stamp {index[index.duplicated()][0]}")
    index = pd.DatetimeIndex(index).as_unit("ns")
    order = np.argsort(index.asi8, kind="stable")
    index, values = index[order], values[order]
    try:
        full = pd.date_range(index[0], index[-1], freq=freq)
    except ValueError as e:
        raise DataError(f"{path}: freq {freq!r} is not a pandas frequency ({e})") from e
    position = full.get_indexer(index)
    if (position < 0).any():
        bad = index[int(np.flatnonzero(position < 0)[0])]
        raise DataError(f"{path}: time stamp {bad} is not on the {freq} grid starting at "
                        f"{index[0]} (give freq: or fix the stamp)")
    out = np.full((len(full),) + values.shape[1:], np.nan)
    out[position] = values
    return full, out


def _wide(frame: pd.DataFrame, path: Path, time_column: str | None
          ) -> tuple[pd.DatetimeIndex | None, list[str], np.ndarray]:
    columns = list(frame.columns)
    if time_column is None:
        found = [c for c in columns if c.strip().lower() in TIME_COLUMNS]
        time_column = found[0] if found else None
    elif time_column not in columns:
        raise DataError(f"{path}: no column {time_column!r} (time_column); columns: "
                        f"{columns[:8]}{'...' if len(columns) > 8 else ''}")
    nodes = [c for c in columns if c != time_column]
    if not nodes:
        raise DataError(f"{path}: no node columns besides the time column {time_column!r}")
    values = _numbers(frame[nodes], path)[:, :, None]
    index = _times(frame[time_column], path, time_column) if time_column else None
    return index, nodes, values


def _long(frame: pd.DataFrame, path: Path, time_column: str | None, node_column: str,
          value_column: str, feature_column: str | None
          ) -> tuple[pd.DatetimeIndex | None, list[str], np.ndarray, list[str] | None]:
    columns = list(frame.columns)
    if time_column is None:
        found = [c for c in columns if c.strip().lower() in TIME_COLUMNS]
        if not found:
            raise DataError(f"{path}: a long table needs a time column (date, time, ...; or "
                            f"time_column:), columns: {columns}")
        time_column = found[0]
    for role, name in (("time_column", time_column), ("node_column", node_column),
                       ("value_column", value_column), ("feature_column", feature_column)):
        if name is not None and name not in columns:
            raise DataError(f"{path}: no column {name!r} ({role}); columns: {columns}")
    stamps = _times(frame[time_column], path, time_column)
    node_of = frame[node_column].str.strip()
    nodes = _sorted_ids(set(node_of))
    feats = list(dict.fromkeys(frame[feature_column].str.strip())) if feature_column else None
    vals = _numbers(frame[[value_column]], path)[:, 0]
    uniq = pd.DatetimeIndex(sorted(set(stamps)))
    t = uniq.get_indexer(stamps)
    n = pd.Index(nodes).get_indexer(node_of)
    f = pd.Index(feats).get_indexer(frame[feature_column].str.strip()) if feats else \
        np.zeros(len(frame), dtype=int)
    key = (t * len(nodes) + n) * max(1, len(feats or [0])) + f
    if len(np.unique(key)) != len(key):
        i = int(np.flatnonzero(pd.Index(key).duplicated())[0])
        raise DataError(f"{path}: line {i + 2}: a second value for node {node_of.iloc[i]!r} at "
                        f"{stamps[i]}" + (f", feature {frame[feature_column].iloc[i]!r}"
                                          if feats else ""))
    values = np.full((len(uniq), len(nodes), len(feats or [0])), np.nan)
    values[t, n, f] = vals
    return uniq, nodes, values, feats


def _sorted_ids(ids: set[str]) -> list[str]:
    """Node ids of a long table in a fixed order: numerically if they are all numbers."""
    try:
        return sorted(ids, key=float)
    except ValueError:
        return sorted(ids)


def _square(path: Path, delimiter: str, nodes: list[str]) -> np.ndarray:
    """A dense adjacency matrix, with or without a header row (and column) of node ids."""
    frame = _read_frame(path, delimiter, header=False)
    cells = frame.to_numpy(dtype=object)
    first = [str(c).strip() for c in cells[0]]

    def numeric(c: str) -> bool:
        try:
            float(c)
            return True
        except ValueError:
            return c in _MISSING

    # a header names the nodes (numeric ids such as sensor numbers included), or is text
    known = set(nodes)
    header = set(first) == known or set(first[1:]) == known or \
        not all(numeric(c) for c in first)
    names = row_names = None
    body, first_line = frame, 1
    if header:  # node ids as column names; with a corner cell, also as row names (to_csv)
        body, first_line = frame.iloc[1:].reset_index(drop=True), 2
        if len(first) == len(nodes) + 1:
            names = first[1:]
            row_names = [str(c).strip() for c in body.iloc[:, 0]]
            body = body.iloc[:, 1:]
        else:
            names = row_names = first
    body.columns = names if names is not None else [str(i) for i in range(body.shape[1])]
    adj = _numbers(body, path, first_line=first_line)
    if adj.shape[0] != adj.shape[1]:
        raise DataError(f"{path}: adjacency is {adj.shape[0]}x{adj.shape[1]}, not square")
    if adj.shape[0] != len(nodes):
        raise DataError(f"{path}: adjacency is {adj.shape[0]}x{adj.shape[1]}, but the series has "
                        f"{len(nodes)} nodes (expected {len(nodes)}x{len(nodes)})")
    if np.isnan(adj).any():
        r, c = np.argwhere(np.isnan(adj))[0]
        raise DataError(f"{path}: adjacency entry ({r}, {c}) is empty")
    if names is not None:
        missing = [v for v in nodes if v not in names]
        if missing:
            raise DataError(f"{path}: the header has no column for node(s) {missing[:5]} of the "
                            "values table")
        cols = [names.index(v) for v in nodes]
        rows = [row_names.index(v) for v in nodes] if row_names is not None else cols
        adj = adj[np.ix_(rows, cols)]
    _check_weights(adj, path, nodes)
    return adj


def _check_weights(adj: np.ndarray, path: Path, nodes: list[str]) -> None:
    if (adj < 0).any():
        r, c = np.argwhere(adj < 0)[0]
        raise DataError(f"{path}: negative edge weight {adj[r, c]:g} from node {nodes[r]!r} to "
                        f"{nodes[c]!r} (weights must be >= 0)")


def _edges(path: Path, delimiter: str, nodes: list[str]) -> np.ndarray:
    """An edge list ``src, dst[, weight]`` by node id (header optional) as a dense matrix."""
    frame = _read_frame(path, delimiter, header=False)
    first = [str(c).strip() for c in frame.iloc[0]]
    known = set(nodes)
    header = not (first[0] in known and first[1] in known)
    body = frame.iloc[1:] if header else frame
    first_line = 2 if header else 1
    if body.shape[1] not in (2, 3):
        raise DataError(f"{path}: an edge list has 2 or 3 columns (src, dst[, weight]), got "
                        f"{body.shape[1]}")
    index = {v: i for i, v in enumerate(nodes)}
    adj = np.zeros((len(nodes), len(nodes)))
    weights = _numbers(body.iloc[:, 2:3].set_axis(["weight"], axis=1), path, first_line) \
        if body.shape[1] == 3 else np.ones((len(body), 1))
    for k, (src, dst) in enumerate(zip(body.iloc[:, 0], body.iloc[:, 1], strict=True)):
        src, dst = str(src).strip(), str(dst).strip()
        for end in (src, dst):
            if end not in index:
                raise DataError(f"{path}: line {k + first_line}: node {end!r} is not a column "
                                "of the values table")
        w = weights[k, 0]
        if np.isnan(w):
            raise DataError(f"{path}: line {k + first_line}: the weight is empty")
        if w < 0:
            raise DataError(f"{path}: line {k + first_line}: negative edge weight {w:g} from "
                            f"{src!r} to {dst!r} (weights must be >= 0)")
        adj[index[src], index[dst]] = w
    return adj


def _coordinates(path: Path, delimiter: str, nodes: list[str]) -> np.ndarray:
    """Pairwise Euclidean distances from ``node, x, y[, z]`` rows."""
    frame = _read_frame(path, delimiter)
    ids = [str(v).strip() for v in frame.iloc[:, 0]]
    xyz = _numbers(frame.iloc[:, 1:], path)
    missing = [v for v in nodes if v not in ids]
    if missing:
        raise DataError(f"{path}: no coordinates for node(s) {missing[:5]}")
    if np.isnan(xyz).any():
        r, c = np.argwhere(np.isnan(xyz))[0]
        raise DataError(f"{path}: line {r + 2}: coordinate {frame.columns[c + 1]!r} is empty")
    pos = xyz[[ids.index(v) for v in nodes]]
    return np.sqrt(((pos[:, None] - pos[None]) ** 2).sum(-1))


def _distances(path: Path, delimiter: str, nodes: list[str]) -> np.ndarray:
    """Pairwise distances from ``from, to, distance`` rows (DCRNN's format); absent pairs are
    unknown (infinite), a node's distance to itself 0."""
    frame = _read_frame(path, delimiter)
    if frame.shape[1] != 3:
        raise DataError(f"{path}: a distance list has 3 columns (from, to, distance), got "
                        f"{frame.shape[1]}")
    index = {v: i for i, v in enumerate(nodes)}
    d = np.full((len(nodes), len(nodes)), np.inf)
    np.fill_diagonal(d, 0.0)
    dist = _numbers(frame.iloc[:, 2:3], path)[:, 0]
    for k, (a, b) in enumerate(zip(frame.iloc[:, 0], frame.iloc[:, 1], strict=True)):
        a, b = str(a).strip(), str(b).strip()
        if a not in index or b not in index:
            continue  # distances to sensors the series does not hold (as DCRNN's files)
        if not dist[k] >= 0:
            raise DataError(f"{path}: line {k + 2}: distance {frame.iloc[k, 2]!r} from {a!r} to "
                            f"{b!r} is not a number >= 0")
        d[index[a], index[b]] = dist[k]
    return d


def load_csv(
    values: str,
    layout: str = "auto",
    time_column: str | None = None,
    node_column: str = "node",
    value_column: str = "value",
    feature_column: str | None = None,
    freq: str | None = None,
    adjacency: str | None = None,
    edges: str | None = None,
    coordinates: str | None = None,
    distances: str | None = None,
    threshold: float = 0.1,
    sigma: float | None = None,
    symmetric: bool = False,
    zeros_as_missing: bool = False,
    delimiter: str = ",",
    name: str | None = None,
) -> SpatioTemporal:
    """A graph time series from a values CSV and (optionally) a graph file.

    Args:
        values: The values table. *Wide*: a time column (found by name: date, time, datetime,
            timestamp, ds, period, week, day; or ``time_column``) and one column per node,
            headed by the node id. *Long*: one row per observation with ``time_column``,
            ``node_column``, ``value_column`` and optionally ``feature_column`` (several
            channels per node). Without a time column the rows are consecutive steps.
        layout: ``wide``, ``long``, or ``auto`` (long if the header has ``node_column`` and
            ``value_column``).
        freq: pandas frequency of the steps (``"1h"``, ``"W-SUN"``, ``"D"``); default inferred
            from the time column (the most common step where some rows are absent). Absent
            steps become missing values.
        adjacency: A dense N × N weight matrix, with or without a header row of node ids (a
            first column of row ids is read too); without one, rows and columns follow the
            values table's node order. Weights must be >= 0; zero means no edge.
        edges: An edge list ``src, dst[, weight]`` by node id (header optional; weight 1 when
            absent); a row ``a, b`` is the edge a → b.
        coordinates: ``node, x, y[, z]`` per node: edges weighted by the thresholded Gaussian
            kernel of the Euclidean distances (DCRNN's construction, ``threshold``, ``sigma``).
        distances: ``from, to, distance`` rows (DCRNN's ``distances.csv``): the same kernel.
        threshold: κ of the kernel: weights below it are dropped.
        sigma: σ of the kernel (default: the standard deviation of the known distances).
        symmetric: Make the graph undirected (an edge both ways, the larger weight).
        zeros_as_missing: Treat zeros as missing readings (dead sensors); otherwise zeros are
            data.
        delimiter: The CSV field separator.
        name: The series' name (default: the file's stem).

    Returns:
        The :class:`~sciml.data.SpatioTemporal` (T, N, F) with its mask, graph (or none), time
        index and frequency, node ids from the file.

    Raises:
        DataError: A malformed file, naming it and the line / column / entry: a cell that is not
            a number, an infinite value, a duplicate node column, a negative weight, a node of
            a graph file that the values table lacks, a node never observed, stamps off the
            grid.
    """
    path = _path(values, "values")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {list(LAYOUTS)}, got {layout!r}")
    graphs = {k: v for k, v in (("adjacency", adjacency), ("edges", edges),
                                ("coordinates", coordinates), ("distances", distances))
              if v is not None}
    if len(graphs) > 1:
        raise ValueError(f"give one graph source, got {sorted(graphs)}")
    frame = _read_frame(path, delimiter)
    long = layout == "long" or (layout == "auto" and node_column in frame.columns
                                and value_column in frame.columns)
    feats = None
    if long:
        index, nodes, vals, feats = _long(frame, path, time_column, node_column, value_column,
                                          feature_column)
    else:
        index, nodes, vals = _wide(frame, path, time_column)
    if index is not None:
        freq = freq or _infer_freq(index.sort_values().unique(), path)
        index, vals = _on_grid(path, index, vals, freq)
    mask = np.isfinite(vals)
    if zeros_as_missing:
        mask &= vals != 0
    check_observed_nodes(mask, nodes, str(path))
    edge_index = edge_weight = None
    if graphs:
        (kind, file), = graphs.items()
        gpath = _path(file, kind)
        if kind == "adjacency":
            adj = _square(gpath, delimiter, nodes)
        elif kind == "edges":
            adj = _edges(gpath, delimiter, nodes)
        else:
            d = (_coordinates if kind == "coordinates" else _distances)(gpath, delimiter, nodes)
            adj = gaussian_kernel_adjacency(d, threshold=threshold, sigma=sigma)
        if symmetric:
            adj = np.maximum(adj, adj.T)
        edge_index, edge_weight = adjacency_to_edges(adj)
    return SpatioTemporal(np.where(mask, vals, np.nan).astype(np.float32), mask, edge_index,
                          edge_weight, time_index=index, node_ids=nodes,
                          name=name or path.name.split(".")[0], freq=freq if index is not None
                          else None)
