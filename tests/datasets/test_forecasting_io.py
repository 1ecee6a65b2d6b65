"""Readers and graph helpers of the forecasting data sets."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pandas as pd
import pytest
import torch
from sciml.datasets import adjacency_to_edges, gaussian_kernel_adjacency, read_pandas_hdf
from sciml.datasets._forecasting_io import (
    read_adjacency_csv,
    read_distances_csv,
    read_numeric_csv,
    regular_time_grid,
)

from sciml.errors import DataError


def test_gaussian_kernel_hand_computed():
    inf = math.inf
    d = np.array([[0.0, 1.0, inf], [1.0, 0.0, 3.0], [inf, 2.0, 0.0]])
    finite = np.array([0.0, 1.0, 1.0, 0.0, 3.0, 2.0, 0.0])
    sigma = finite.std()  # population std, as numpy / DCRNN
    w = gaussian_kernel_adjacency(d, threshold=0.1)
    expected = np.exp(-(np.where(np.isinf(d), inf, d) / sigma) ** 2)
    expected[expected < 0.1] = 0.0
    np.testing.assert_allclose(w, expected)
    # by hand: sigma = sqrt(mean(x^2) - mean(x)^2) with mean 1, mean of squares 15/7
    assert sigma == pytest.approx(math.sqrt(15 / 7 - 1))
    assert w[0, 1] == pytest.approx(math.exp(-1 / (8 / 7)))
    assert w[0, 2] == 0.0 and w[0, 0] == 1.0
    assert w[1, 2] == 0.0  # exp(-9 / (8/7)) ≈ 3.8e-4 < 0.1
    # explicit sigma and threshold 0 keep every finite pair
    w2 = gaussian_kernel_adjacency(torch.tensor(d), threshold=0.0, sigma=2.0)
    assert w2[1, 2] == pytest.approx(math.exp(-9 / 4))


def test_gaussian_kernel_bad_input():
    with pytest.raises(ValueError, match=r"square \(N, N\).*\(2, 3\)"):
        gaussian_kernel_adjacency(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN or negatives"):
        gaussian_kernel_adjacency(np.array([[0.0, -1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="sigma must be > 0"):
        gaussian_kernel_adjacency(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"threshold must be in \[0, 1\]"):
        gaussian_kernel_adjacency(np.ones((2, 2)), threshold=2.0)


def test_adjacency_to_edges_src_dst_and_self_loops():
    a = np.array([[1.0, 0.5, 0.0], [0.0, 0.0, 0.25], [2.0, 0.0, 3.0]])
    ei, ew = adjacency_to_edges(a)
    assert ei.dtype == torch.long and ew.dtype == torch.float32
    assert ei.tolist() == [[0, 1, 2], [1, 2, 0]]
    assert ew.tolist() == [0.5, 0.25, 2.0]
    ei, ew = adjacency_to_edges(a, self_loops=True)
    assert ei.tolist() == [[0, 0, 1, 2, 2], [0, 1, 2, 0, 2]]
    assert ew.tolist() == [1.0, 0.5, 0.25, 2.0, 3.0]


def test_read_numeric_csv_plain_and_gzip(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b\n1,2\n3,\n")
    names, _, v = read_numeric_csv(p, header=True)
    assert names == ["a", "b"]
    assert v[0].tolist() == [1.0, 2.0] and v[1, 0] == 3.0 and np.isnan(v[1, 1])
    g = tmp_path / "t.txt.gz"
    with gzip.open(g, "wt") as f:
        f.write("0.5,1\n2,3\n")
    _, _, v = read_numeric_csv(g, header=False)
    assert v.tolist() == [[0.5, 1.0], [2.0, 3.0]]


@pytest.mark.parametrize(
    "text,header,pattern",
    [
        ("a,b\n1,2\n3,4,5\n", True, r"line 3"),  # too many fields (pandas' parser)
        ("1,2,3\n4,5\n6,7,8\n", False, r"line 2 has 2 fields, expected 3"),  # too few
        ("a,b\n1,2\n3,x7\n", True, r"line 3, column 2: 'x7' is not a number"),
        ("1,2\nabc,4\n", False, r"line 2, column 1: 'abc' is not a number"),
    ],
)
def test_read_numeric_csv_malformed_names_file_and_cell(tmp_path, text, header, pattern):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(DataError, match=pattern) as info:
        read_numeric_csv(p, header=header)
    assert "bad.csv" in str(info.value)


def test_adjacency_size_mismatch(tmp_path):
    p = tmp_path / "adj.csv"
    np.savetxt(p, np.eye(3)[:2], delimiter=",")
    with pytest.raises(DataError, match=r"adj\.csv.*2x3.*3 sensors.*3x3"):
        read_adjacency_csv(p, 3)


def test_read_distances(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("from,to,cost\n10,20,5.0\n20,10,6.0\n10,99,1.0\n10,10,0.0\n")
    d = read_distances_csv(p, ["10", "20"])
    assert d.tolist() == [[0.0, 5.0], [6.0, math.inf]]
    p.write_text("from,to\n10,20\n")
    with pytest.raises(DataError, match=r"d\.csv: expected 3 columns"):
        read_distances_csv(p, ["10"])


def test_pandas_hdf_layout_round_trip(tmp_path, pandas_h5):
    rng = np.random.default_rng(0)
    index = pd.date_range("2012-03-01", periods=6, freq="5min")
    cols = ["773869", "767541", "767542"]
    values = rng.random((6, 3))
    path = tmp_path / "x.h5"
    pandas_h5(path, cols, index, values, blocks=[[2, 0], [1]])
    c, t, v = read_pandas_hdf(path)
    assert c == cols
    assert (t == index).all()
    np.testing.assert_array_equal(v, values)


def test_pandas_hdf_errors(tmp_path, pandas_h5):
    bad = tmp_path / "trunc.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 10)
    with pytest.raises(DataError, match=r"trunc\.h5: cannot open as HDF5"):
        read_pandas_hdf(bad)
    path = tmp_path / "x.h5"
    pandas_h5(path, ["a"], pd.date_range("2020", periods=2, freq="1h"), np.ones((2, 1)),
                       key="other")
    with pytest.raises(DataError, match=r"x\.h5: no pandas table 'df'.*other"):
        read_pandas_hdf(path)


def test_regular_time_grid_fills_gaps(tmp_path):
    idx = pd.DatetimeIndex(["2020-01-01 00:10", "2020-01-01 00:00", "2020-01-01 00:15"])
    full, v = regular_time_grid(tmp_path / "f", idx, np.array([[3.0], [1.0], [4.0]]), "5min")
    assert len(full) == 4 and full.freqstr == "5min"
    assert v[:, 0].tolist()[0] == 1.0 and np.isnan(v[1, 0]) and v[2:, 0].tolist() == [3.0, 4.0]
    with pytest.raises(DataError, match="duplicate time stamps"):
        regular_time_grid(tmp_path / "f", idx.append(idx[:1]), np.zeros((4, 1)), "5min")
    off = pd.DatetimeIndex(["2020-01-01 00:00", "2020-01-01 00:07"])
    with pytest.raises(DataError, match=r"00:07:00 is not on the 5min grid"):
        regular_time_grid(tmp_path / "f", off, np.zeros((2, 1)), "5min")
