"""ETT and LSTNet loaders on the real sample files."""

from __future__ import annotations

import gzip
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sciml.datasets import load_ett, load_lstnet

from sciml.data import DownloadError
from sciml.errors import DataError

TIMESERIES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "timeseries"


def test_load_ett_real_file(shared_data):
    s = load_ett("ETTh1", root=TIMESERIES)
    assert s.values.shape == (17420, 7, 1)
    assert s.node_ids == ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]
    assert s.edge_index is None and s.freq == "1h" and s.name == "ETTh1"
    assert s.time_index[0] == pd.Timestamp("2016-07-01 00:00")
    assert s.time_index[-1] == pd.Timestamp("2018-06-26 19:00")
    assert float(s.values[0, 6, 0]) == pytest.approx(30.5310001373291)
    assert float(s.values[1, 0, 0]) == pytest.approx(5.692999839782715)
    assert bool(s.mask.all())


def test_ett_bad_name_and_bad_date(tmp_path):
    with pytest.raises(ValueError, match=r"unknown ETT data set 'ETTx'.*ETTh1, ETTh2, ETTm1"):
        load_ett("ETTx", root=tmp_path)
    (tmp_path / "ETTm1.csv").write_text(
        "date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT\n2016-07-01 00:00:00,1,2,3,4,5,6,7\n"
        "yesterday,1,2,3,4,5,6,7\n")
    with pytest.raises(DataError, match=r"ETTm1\.csv: line 3, column 1: 'yesterday'"):
        load_ett("ETTm1", root=tmp_path)
    (tmp_path / "ETTm2.csv").write_text("date,a,b\n2016-07-01 00:00:00,1,2\n")
    with pytest.raises(DataError, match=r"ETTm2\.csv: expected columns"):
        load_ett("ETTm2", root=tmp_path)


def test_ett_missing_stamp_becomes_missing_row(tmp_path):
    rows = ["date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT"]
    for t in ("00:00", "00:15", "00:45"):
        rows.append(f"2016-07-01 {t}:00,1,2,3,4,5,6,7")
    (tmp_path / "ETTm1.csv").write_text("\n".join(rows) + "\n")
    s = load_ett("ETTm1", root=tmp_path)
    assert s.values.shape == (4, 7, 1) and s.freq == "15min"
    assert not bool(s.mask[2].any()) and bool(s.mask[[0, 1, 3]].all())


def test_load_lstnet_exchange_rate(tmp_path, shared_data):
    shutil.copy(TIMESERIES / "exchange_rate.txt.gz", tmp_path)
    s = load_lstnet("exchange_rate", root=tmp_path)
    assert s.values.shape == (7588, 8, 1) and s.freq == "1D" and s.name == "exchange_rate"
    assert s.node_ids == [str(i) for i in range(8)]
    assert s.time_index[0] == pd.Timestamp("1990-01-01")
    np.testing.assert_allclose(s.values[0, :, 0].numpy(),
                               [0.7855, 1.611, 0.861698, 0.634196, 0.211242, 0.006838, 0.593,
                                0.525486], rtol=1e-6)


def test_lstnet_malformed_and_unknown(tmp_path):
    with pytest.raises(ValueError, match=r"unknown LSTNet data set 'weather'.*exchange_rate"):
        load_lstnet("weather", root=tmp_path)
    with gzip.open(tmp_path / "solar_AL.txt.gz", "wt") as f:
        f.write("1,2,3\n4,5,6\n7,8\n")
    with pytest.raises(DataError, match=r"solar_AL\.txt\.gz: line 3 has 2 fields, expected 3"):
        load_lstnet("solar", root=tmp_path)
    with gzip.open(tmp_path / "traffic.txt.gz", "wt") as f:
        f.write("1,0\n4,0\n")
    assert load_lstnet("traffic", root=tmp_path).values.shape == (2, 2, 1)
    with pytest.raises(DataError, match=r"traffic\.txt\.gz: sensor\(s\) \['1'\]"):
        load_lstnet("traffic", root=tmp_path, zeros_as_missing=True)


def test_lstnet_offline(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    with pytest.raises(DownloadError, match=r"electricity\.txt\.gz") as info:
        load_lstnet("electricity", root=tmp_path)
    assert str((tmp_path / "electricity.txt.gz").resolve()) in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_registered_loaders_build_from_config(shared_data):
    from sciml.registry import DATASETS

    assert {"ett", "lstnet", "los", "metr_la", "pems_bay", "gpvar"} <= set(DATASETS.names())
    s = DATASETS.build("ett", {"name": "ETTh1", "root": str(TIMESERIES)})
    assert s.values.shape == (17420, 7, 1)
