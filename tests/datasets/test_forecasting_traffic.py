"""LOS (real sample files), METR-LA / PEMS-BAY (synthetic files in the published layout)."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sciml.datasets import (
    LOS_START,
    gaussian_kernel_adjacency,
    load_los,
    load_metr_la,
    load_pems_bay,
)

from sciml.data import DownloadError, SpatioTemporal
from sciml.errors import DataError

TIMESERIES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "timeseries"


@pytest.fixture
def los_dir(tmp_path, shared_data) -> Path:
    for name in ("los_speed.csv", "los_adj.csv"):
        shutil.copy(TIMESERIES / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


def test_load_los_real_files(shared_data):
    s = load_los(root=TIMESERIES)
    assert isinstance(s, SpatioTemporal)
    assert s.values.shape == (2016, 207, 1) and s.name == "los" and s.freq == "5min"
    assert s.node_ids[:3] == ["773869", "767541", "767542"]
    assert s.time_index[0] == LOS_START and LOS_START.day_of_week == 0
    assert s.time_index[-1] - s.time_index[0] == pd.Timedelta(minutes=5 * 2015)
    first = np.loadtxt(TIMESERIES / "los_speed.csv", delimiter=",", skiprows=1, max_rows=1)
    np.testing.assert_allclose(s.values[0, :, 0].numpy(), first, rtol=1e-6)
    adj = np.loadtxt(TIMESERIES / "los_adj.csv", delimiter=",")
    off_diag = adj.copy()
    np.fill_diagonal(off_diag, 0)
    assert s.edge_index.shape[1] == np.count_nonzero(off_diag)
    assert not bool((s.edge_index[0] == s.edge_index[1]).any())
    src, dst = s.edge_index.numpy()
    np.testing.assert_allclose(s.edge_weight.numpy(), adj[src, dst], rtol=1e-6)
    with_loops = load_los(root=TIMESERIES, self_loops=True)
    assert with_loops.edge_index.shape[1] == np.count_nonzero(adj)


def test_los_zeros_are_missing(los_dir):
    text = (los_dir / "los_speed.csv").read_text().splitlines()
    row = text[1].split(",")
    row[4] = "0"
    text[1] = ",".join(row)
    (los_dir / "los_speed.csv").write_text("\n".join(text) + "\n")
    s = load_los(root=los_dir)
    assert not bool(s.mask[0, 4, 0]) and bool(s.mask[1, 4, 0])
    assert int((~s.mask).sum()) == 1
    kept = load_los(root=los_dir, zeros_as_missing=False)
    assert bool(kept.mask.all()) and float(kept.values[0, 4, 0]) == 0.0


def test_los_adjacency_of_wrong_size(los_dir):
    lines = (los_dir / "los_adj.csv").read_text().splitlines()
    (los_dir / "los_adj.csv").write_text("\n".join(lines[:206]) + "\n")
    with pytest.raises(DataError, match=r"los_adj\.csv: adjacency is 206x207.*207 sensors"):
        load_los(root=los_dir)


def test_los_malformed_speed_names_file_line_column(los_dir):
    text = (los_dir / "los_speed.csv").read_text().splitlines()
    row = text[5].split(",")
    row[2] = "fast"
    text[5] = ",".join(row)
    (los_dir / "los_speed.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(DataError, match=r"los_speed\.csv: line 6, column 3: 'fast'"):
        load_los(root=los_dir)


def test_los_all_missing_sensor_names_it_and_the_file(tmp_path):
    (tmp_path / "los_speed.csv").write_text("11,22,33\n1,0,3\n4,0,6\n")
    np.savetxt(tmp_path / "los_adj.csv", np.eye(3), delimiter=",")
    with pytest.raises(DataError, match=r"los_speed\.csv: sensor\(s\) \['22'\]"):
        load_los(root=tmp_path)


def test_los_offline_says_where_to_put_the_files(tmp_path, offline):
    with pytest.raises(DownloadError, match="no network") as info:
        load_los(root=tmp_path)
    msg = str(info.value)
    assert "los_speed.csv" in msg and str((tmp_path / "los_speed.csv").resolve()) in msg
    assert list(tmp_path.iterdir()) == []  # no partial file


def _write_dcrnn(folder: Path, pandas_h5, h5_name: str, dist_name: str, ids_name: str | None):
    ids = ["400001", "400017", "400030"]
    index = pd.date_range("2017-01-01", periods=6, freq="5min").delete(3)  # one stamp absent
    values = np.array([[60.0, 50.0, 0.0], [61.0, 51.0, 40.0], [62.0, 0.0, 41.0],
                       [63.0, 53.0, 42.0], [64.0, 54.0, 43.0]])
    pandas_h5(folder / h5_name, ids, index, values)
    (folder / dist_name).write_text(
        "from,to,cost\n400001,400017,100.0\n400017,400001,150.0\n400017,400030,400.0\n"
        "400001,400001,0.0\n400099,400001,5.0\n")
    if ids_name:
        (folder / ids_name).write_text(",".join(ids))
    return ids, values


@pytest.mark.parametrize("names", [("metr-la.h5", "distances_la_2012.csv", "graph_sensor_ids.txt"),
                                   ("metr_la.h5", "distances_la.csv", None)])
def test_load_metr_la_from_published_layout(tmp_path, pandas_h5, names):
    ids, values = _write_dcrnn(tmp_path, pandas_h5, *names)
    s = load_metr_la(root=tmp_path)
    assert s.values.shape == (6, 3, 1) and s.node_ids == ids and s.name == "metr_la"
    assert s.freq == "5min" and len(s.time_index) == 6
    # the absent stamp (step 3) is a missing row; zeros are missing
    assert not bool(s.mask[3].any())
    assert not bool(s.mask[0, 2, 0]) and not bool(s.mask[2, 1, 0])
    np.testing.assert_allclose(s.values[[0, 1, 2, 4, 5], 0, 0].numpy(), values[:, 0])
    # graph: the Gaussian kernel of the listed distances (sensor 400099 is not in the data)
    dist = np.full((3, 3), np.inf)
    dist[0, 1], dist[1, 0], dist[1, 2], dist[0, 0] = 100.0, 150.0, 400.0, 0.0
    w = gaussian_kernel_adjacency(dist)
    np.fill_diagonal(w, 0)
    src, dst = s.edge_index.numpy()
    assert sorted(zip(src.tolist(), dst.tolist(), strict=True)) == sorted(
        zip(*np.nonzero(w), strict=True))
    np.testing.assert_allclose(s.edge_weight.numpy(), w[src, dst], rtol=1e-6)
    sigma = np.std([100.0, 150.0, 400.0, 0.0])
    assert float(s.edge_weight[0]) == pytest.approx(np.exp(-(100.0 / sigma) ** 2), rel=1e-6)


def test_load_pems_bay_and_sensor_list_mismatch(tmp_path, pandas_h5):
    _write_dcrnn(tmp_path, pandas_h5, "pems-bay.h5", "distances_bay_2017.csv", None)
    s = load_pems_bay(root=tmp_path, zeros_as_missing=False)
    assert s.name == "pems_bay" and bool(s.mask[0, 2, 0])
    la = tmp_path / "la"
    la.mkdir()
    _write_dcrnn(la, pandas_h5, "metr-la.h5", "distances_la_2012.csv", None)
    (la / "graph_sensor_ids.txt").write_text("400001,400017")
    with pytest.raises(DataError, match=r"graph_sensor_ids\.txt lists 2 sensor ids.*3 columns"):
        load_metr_la(root=la)


def test_metr_la_offline_says_where_to_put_the_h5(tmp_path, offline):
    with pytest.raises(DownloadError) as info:
        load_metr_la(root=tmp_path)
    msg = str(info.value)
    assert "metr-la.h5" in msg and str(tmp_path.resolve()) in msg and "DCRNN" in msg
    assert list(tmp_path.iterdir()) == []


def test_metr_la_all_missing_sensor(tmp_path, pandas_h5):
    index = pd.date_range("2012-03-01", periods=3, freq="5min")
    pandas_h5(tmp_path / "metr-la.h5", ["1", "2"], index, np.array([[1.0, 0], [2, 0], [3, 0]]))
    (tmp_path / "distances_la_2012.csv").write_text("from,to,cost\n1,2,1.0\n2,1,3.0\n")
    with pytest.raises(DataError, match=r"metr-la\.h5: sensor\(s\) \['2'\]"):
        load_metr_la(root=tmp_path)
    assert torch.is_tensor(load_metr_la(root=tmp_path, zeros_as_missing=False).values)
    (tmp_path / "distances_la_2012.csv").write_text("from,to,cost\n1,2,1.0\n")
    with pytest.raises(DataError, match=r"distances_la_2012\.csv: cannot build the sensor graph"):
        load_metr_la(root=tmp_path, zeros_as_missing=False)
