"""Traffic-speed benchmarks on sensor graphs: LOS (T-GCN), METR-LA and PEMS-BAY (DCRNN)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sciml.datasets._forecasting_io import (
    adjacency_to_edges,
    check_observed_nodes,
    dataset_folder,
    gaussian_kernel_adjacency,
    observed_mask,
    read_adjacency_csv,
    read_distances_csv,
    read_numeric_csv,
    read_pandas_hdf,
    regular_time_grid,
)

from sciml.data import DownloadError, SpatioTemporal, download, ensure_file
from sciml.errors import DataError

__all__ = ["load_los", "load_metr_la", "load_pems_bay", "LOS_START"]

_TGCN = "https://raw.githubusercontent.com/lehaifeng/T-GCN/master/data"
_DCRNN = "https://raw.githubusercontent.com/liyaguang/DCRNN/master/data/sensor_graph"
_DCRNN_README = "https://github.com/liyaguang/DCRNN#data-preparation"

#: file name -> (url, sha256); checksums of the files as published (commit 219a2346).
LOS_FILES = {
    "los_speed.csv": (
        f"{_TGCN}/los_speed.csv",
        "7b732d86ae32b2930595becba28aff39dacbfb2197e250fc0332e1744ce2cbf4",
    ),
    "los_adj.csv": (
        f"{_TGCN}/los_adj.csv",
        "7a6eb41e10677992b5af50f5ab187c6c05c5c3a92cb973950cfddbf857361e76",
    ),
}

#: Synthetic start of the LOS series, an arbitrary Monday 00:00 (the files carry no time stamps;
#: they are one week of METR-LA, whose recording began in March 2012).
LOS_START = pd.Timestamp("2012-03-05 00:00")


def load_los(
    root: str | os.PathLike | None = None,
    zeros_as_missing: bool = True,
    self_loops: bool = False,
) -> SpatioTemporal:
    """Los Angeles loop-detector speeds (LOS), the METR-LA subset of T-GCN.

    Zhao et al., "T-GCN: A Temporal Graph Convolutional Network for Traffic Prediction", IEEE
    T-ITS 2020 (files ``data/los_speed.csv`` and ``data/los_adj.csv`` of lehaifeng/T-GCN): 207
    sensors, 2016 five-minute steps (one week) of speed in mph, and a 207 × 207 symmetric weighted
    adjacency (thresholded Gaussian kernel of road distance, with self loops).

    The files have no time stamps: ``time_index`` is **synthetic**, starting at :data:`LOS_START`
    (Monday 2012-03-05 00:00) with 5-minute steps, so calendar covariates are only meaningful
    relative to that choice.

    Args:
        root: Folder holding the two CSV files; default ``cache_dir()/"los"``. Missing files are
            downloaded there and checked against their SHA-256; files already present are parsed
            and validated, not checksummed (so a corrected local copy is accepted).
        zeros_as_missing: A speed of 0 is a missing reading (mask False).
        self_loops: Keep the adjacency's diagonal as edges i → i (default: drop).

    Returns:
        ``SpatioTemporal`` with values (2016, 207, 1), edges from the nonzero adjacency entries
        (``edge_weight`` = the entries), node ids = sensor ids, freq ``"5min"``, name ``"los"``.

    Raises:
        DownloadError: A file is absent and cannot be downloaded (says where to put it).
        DataError: A malformed file, an adjacency whose size does not match the sensors, or a
            sensor without any reading.
    """
    folder = dataset_folder(root, "los")
    paths = {n: ensure_file(folder / n, url, sha256=sha, verify=False)
             for n, (url, sha) in LOS_FILES.items()}
    speed_path, adj_path = paths["los_speed.csv"], paths["los_adj.csv"]
    header, _, speed = read_numeric_csv(speed_path, header=True)
    ids = list(header or [])
    adj = read_adjacency_csv(adj_path, len(ids))
    mask = observed_mask(speed, zeros_as_missing)
    check_observed_nodes(mask, ids, str(speed_path))
    edge_index, edge_weight = adjacency_to_edges(adj, self_loops=self_loops)
    time_index = pd.date_range(LOS_START, periods=speed.shape[0], freq="5min")
    return SpatioTemporal(
        speed[..., None], mask=mask[..., None], edge_index=edge_index, edge_weight=edge_weight,
        time_index=time_index, node_ids=ids, name="los", freq="5min",
    )


@dataclass(frozen=True)
class _DCRNNSpec:
    name: str
    h5_names: tuple[str, ...]
    dist_names: tuple[str, ...]
    ids_names: tuple[str, ...]
    archive_url: str
    dist_url: str


_METR_LA = _DCRNNSpec(
    name="metr_la",
    h5_names=("metr-la.h5", "metr_la.h5"),
    dist_names=("distances_la_2012.csv", "distances_la.csv"),
    ids_names=("graph_sensor_ids.txt", "sensor_ids_la.txt"),
    # tsl's archive of the DCRNN files (metr_la.h5, distances_la.csv, sensor_ids_la.txt, ...)
    archive_url="https://drive.switch.ch/index.php/s/Z8cKHAVyiDqkzaG/download",
    dist_url=f"{_DCRNN}/distances_la_2012.csv",
)
_PEMS_BAY = _DCRNNSpec(
    name="pems_bay",
    h5_names=("pems-bay.h5", "pems_bay.h5"),
    dist_names=("distances_bay_2017.csv", "distances_bay.csv"),
    ids_names=(),
    archive_url="https://drive.switch.ch/index.php/s/5NPcgGFAIJ4oFcT/download",
    dist_url=f"{_DCRNN}/distances_bay_2017.csv",
)


def _find(folder: Path, names: Sequence[str]) -> Path | None:
    for n in names:
        if (folder / n).is_file():
            return folder / n
    if folder.is_dir():  # archives may unpack into a subfolder
        for n in names:
            hit = next(iter(sorted(folder.rglob(n))), None)
            if hit is not None:
                return hit
    return None


def _fetch_h5(spec: _DCRNNSpec, folder: Path) -> Path:
    path = _find(folder, spec.h5_names)
    if path is not None:
        return path
    archive = folder / f"{spec.name}.zip"
    try:
        download(spec.archive_url, archive, extract=True)
    except DownloadError as e:
        raise DownloadError(
            f"{spec.name}: {spec.h5_names[0]} is not in {folder} and the download failed ({e}). "
            f"Get {spec.h5_names[0]} from the links in {_DCRNN_README} (Google Drive / Baidu) "
            f"and put it at {(folder / spec.h5_names[0]).resolve()}"
        ) from e
    finally:
        with contextlib.suppress(FileNotFoundError):
            archive.unlink()
    path = _find(folder, spec.h5_names)
    if path is None:
        raise DataError(
            f"{spec.name}: the archive from {spec.archive_url} holds none of {spec.h5_names}; "
            f"put {spec.h5_names[0]} into {folder.resolve()} by hand"
        )
    return path


def _load_dcrnn(
    spec: _DCRNNSpec, root: str | os.PathLike | None, zeros_as_missing: bool, threshold: float,
    self_loops: bool,
) -> SpatioTemporal:
    folder = dataset_folder(root, spec.name)
    h5_path = _fetch_h5(spec, folder)
    dist_path = _find(folder, spec.dist_names) or ensure_file(
        folder / spec.dist_names[0], spec.dist_url)
    columns, index, speed = read_pandas_hdf(h5_path)
    ids_path = _find(folder, spec.ids_names)
    if ids_path is not None:
        listed = [s for s in ids_path.read_text().replace("\n", ",").split(",") if s.strip()]
        if sorted(s.strip() for s in listed) != sorted(columns):
            raise DataError(
                f"{ids_path} lists {len(listed)} sensor ids that differ from the "
                f"{len(columns)} columns of {h5_path}"
            )
    time_index, speed = regular_time_grid(h5_path, index, speed, "5min")
    mask = observed_mask(speed, zeros_as_missing)
    check_observed_nodes(mask, columns, str(h5_path))
    try:
        adj = gaussian_kernel_adjacency(read_distances_csv(dist_path, columns),
                                        threshold=threshold)
    except DataError:
        raise
    except ValueError as e:
        raise DataError(f"{dist_path}: cannot build the sensor graph: {e}") from e
    edge_index, edge_weight = adjacency_to_edges(adj, self_loops=self_loops)
    return SpatioTemporal(
        speed[..., None], mask=mask[..., None], edge_index=edge_index, edge_weight=edge_weight,
        time_index=time_index, node_ids=columns, name=spec.name, freq="5min",
    )


def load_metr_la(
    root: str | os.PathLike | None = None,
    zeros_as_missing: bool = True,
    threshold: float = 0.1,
    self_loops: bool = False,
) -> SpatioTemporal:
    """METR-LA traffic speeds: 207 Los Angeles sensors, March–June 2012, 5-minute steps.

    Li, Yu, Shahabi, Liu, "Diffusion Convolutional Recurrent Neural Network", ICLR 2018. Files:
    ``metr-la.h5`` (pandas HDF ``df``: DatetimeIndex × sensor columns, read without PyTables),
    ``distances_la_2012.csv`` (``from,to,cost`` road distances, DCRNN repository) and optionally
    ``graph_sensor_ids.txt`` (checked against the h5 columns). tsl's names (``metr_la.h5``,
    ``distances_la.csv``, ``sensor_ids_la.txt``) are accepted too. Missing files are downloaded:
    the h5 from tsl's public archive (no published checksum), the distances from DCRNN's GitHub
    (no published checksum). If that fails, download ``metr-la.h5`` from the links in DCRNN's
    README and put it in ``root``. Connectivity: DCRNN's thresholded Gaussian kernel.

    Args:
        root: Folder with the files; default ``cache_dir()/"metr_la"``.
        zeros_as_missing: A speed of 0 is a missing reading (mask False), as in DCRNN.
        threshold: κ of :func:`gaussian_kernel_adjacency`.
        self_loops: Keep the kernel's diagonal (weight 1 where a zero self-distance is listed).

    Returns:
        ``SpatioTemporal`` (T, N, 1) speeds on a regular 5-minute grid (absent time stamps are
        missing rows), edges = nonzero kernel weights, node ids = sensor ids, name ``"metr_la"``.

    Raises:
        DownloadError: The data cannot be downloaded; the message says where to put the files.
        DataError: Malformed files or a sensor without any reading (names the file).
    """
    return _load_dcrnn(_METR_LA, root, zeros_as_missing, threshold, self_loops)


def load_pems_bay(
    root: str | os.PathLike | None = None,
    zeros_as_missing: bool = True,
    threshold: float = 0.1,
    self_loops: bool = False,
) -> SpatioTemporal:
    """PEMS-BAY traffic speeds: 325 Bay Area sensors, January–May 2017, 5-minute steps.

    Li et al., ICLR 2018 (DCRNN). Files: ``pems-bay.h5`` (pandas HDF ``df``; sensor ids are its
    columns) and ``distances_bay_2017.csv`` (DCRNN repository); tsl's names ``pems_bay.h5`` /
    ``distances_bay.csv`` are accepted too. Downloads as for :func:`load_metr_la` (no published
    checksums); if that fails, get ``pems-bay.h5`` from the links in DCRNN's README and put it in
    ``root``. PEMS-BAY skips some time stamps: they become missing rows of the regular grid.

    Args:
        root: Folder with the files; default ``cache_dir()/"pems_bay"``.
        zeros_as_missing: A speed of 0 is a missing reading (mask False), as in DCRNN.
        threshold: κ of :func:`gaussian_kernel_adjacency`.
        self_loops: Keep the kernel's diagonal (weight 1 where a zero self-distance is listed).

    Returns:
        ``SpatioTemporal`` (T, N, 1) speeds on a regular 5-minute grid (absent time stamps are
        missing rows), edges = nonzero kernel weights, node ids = sensor ids, name ``"pems_bay"``.

    Raises:
        DownloadError: The data cannot be downloaded; the message says where to put the files.
        DataError: Malformed files or a sensor without any reading (names the file).
    """
    return _load_dcrnn(_PEMS_BAY, root, zeros_as_missing, threshold, self_loops)
