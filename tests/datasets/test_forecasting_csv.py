"""The ``csv`` data set: a user's graph time series from files written by pandas (wide and long
tables, dates, missing values) and graph files in four layouts; every bad input is one line
naming the file and the entry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sciml.datasets import load_csv

from sciml.errors import DataError

REGIONS = [f"R{i:02d}" for i in range(6)]


@pytest.fixture
def weekly(tmp_path):
    """Weekly counts of 6 regions written by pandas, with a missing cell and a missing week."""
    rng = np.random.default_rng(0)
    index = pd.date_range("2021-01-03", periods=40, freq="W-SUN", name="date")
    frame = pd.DataFrame(rng.poisson(20, (40, 6)).astype(float), index=index, columns=REGIONS)
    frame.iloc[3, 2] = np.nan
    frame.iloc[5, 1] = 0.0
    frame.drop(index[10]).to_csv(tmp_path / "cases.csv")
    return frame


def test_wide_table_with_dates_gaps_and_missing_cells(tmp_path, weekly):
    s = load_csv(str(tmp_path / "cases.csv"))
    assert s.name == "cases" and s.node_ids == REGIONS and s.freq == "W-SUN"
    assert s.values.shape == (40, 6, 1) and s.edge_index is None
    assert not s.mask[3, 2, 0] and not s.mask[10].any()  # the empty cell, the absent week
    assert s.mask[5, 1, 0] and s.values[5, 1, 0] == 0  # zeros are data
    np.testing.assert_allclose(s.values[0, :, 0].numpy(), weekly.iloc[0].to_numpy())
    zeros = load_csv(str(tmp_path / "cases.csv"), zeros_as_missing=True)
    assert not zeros.mask[5, 1, 0]


def test_long_table_in_any_order_equals_the_wide_one(tmp_path, weekly):
    long = weekly.reset_index().melt(id_vars="date", var_name="node", value_name="value")
    long.sample(frac=1, random_state=0).to_csv(tmp_path / "long.csv", index=False)
    a = load_csv(str(tmp_path / "long.csv"))
    b = load_csv(str(tmp_path / "cases.csv"))
    assert a.node_ids == b.node_ids and a.freq == "W-SUN"
    assert bool((a.mask[:10] == b.mask[:10]).all())
    np.testing.assert_allclose(a.values[:10].numpy(), b.values[:10].numpy())
    # two channels per node from a feature column
    long["feature"] = "cases"
    other = long.assign(feature="deaths", value=long["value"] / 10)
    pd.concat([long, other]).to_csv(tmp_path / "two.csv", index=False)
    two = load_csv(str(tmp_path / "two.csv"), feature_column="feature")
    assert two.values.shape == (40, 6, 2)
    np.testing.assert_allclose(two.values[0, :, 1].numpy(), two.values[0, :, 0].numpy() / 10)


def test_graph_files_in_every_layout_give_one_graph(tmp_path, weekly):
    rng = np.random.default_rng(1)
    adj = np.triu((rng.random((6, 6)) < 0.5) * rng.random((6, 6)), 1)
    order = [3, 0, 5, 1, 4, 2]  # node ids in another order than the values table
    named = pd.DataFrame(adj[np.ix_(order, order)], index=[REGIONS[i] for i in order],
                         columns=[REGIONS[i] for i in order])
    named.to_csv(tmp_path / "adj_index.csv")  # header and row names (DataFrame.to_csv)
    named.to_csv(tmp_path / "adj_header.csv", index=False)  # header only
    pd.DataFrame(adj).to_csv(tmp_path / "adj_plain.csv", index=False, header=False)
    src, dst = np.nonzero(adj)
    pd.DataFrame({"src": [REGIONS[i] for i in src], "dst": [REGIONS[j] for j in dst],
                  "weight": adj[src, dst]}).to_csv(tmp_path / "edges.csv", index=False)
    graphs = [load_csv(str(tmp_path / "cases.csv"), **{key: str(tmp_path / f)})
              for key, f in (("adjacency", "adj_index.csv"), ("adjacency", "adj_header.csv"),
                             ("adjacency", "adj_plain.csv"), ("edges", "edges.csv"))]
    for g in graphs:
        assert g.edge_index.tolist() == [list(src), list(dst)]
        np.testing.assert_allclose(g.edge_weight.numpy(), adj[src, dst], rtol=1e-6)
    sym = load_csv(str(tmp_path / "cases.csv"), edges=str(tmp_path / "edges.csv"),
                   symmetric=True)
    assert sym.edge_index.shape[1] == 2 * len(src)


def test_coordinates_and_distances_use_the_gaussian_kernel(tmp_path, weekly):
    xy = np.random.default_rng(2).random((6, 2))
    pd.DataFrame({"node": REGIONS[::-1], "x": xy[::-1, 0], "y": xy[::-1, 1]}).to_csv(
        tmp_path / "xy.csv", index=False)
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    rows = [(a, b, d[i, j]) for i, a in enumerate(REGIONS) for j, b in enumerate(REGIONS)]
    rows.append(("elsewhere", "R00", 1.0))  # a sensor the series lacks: ignored (DCRNN files)
    pd.DataFrame(rows, columns=["from", "to", "cost"]).to_csv(tmp_path / "d.csv", index=False)
    a = load_csv(str(tmp_path / "cases.csv"), coordinates=str(tmp_path / "xy.csv"))
    b = load_csv(str(tmp_path / "cases.csv"), distances=str(tmp_path / "d.csv"))
    sigma = d[np.isfinite(d)].std()
    w = np.exp(-((d / sigma) ** 2))
    w[w < 0.1] = 0
    np.fill_diagonal(w, 0)
    src, dst = np.nonzero(w)
    for g in (a, b):
        assert g.edge_index.tolist() == [list(src), list(dst)]
        np.testing.assert_allclose(g.edge_weight.numpy(), w[src, dst], rtol=1e-5)


@pytest.mark.parametrize("case, expected", [
    ("text", r"cases.csv: line 5, column 'R03': 'abc' is not a number"),
    ("inf", r"cases.csv: line 4, column 'R01': 'inf' is infinite"),
    ("duplicate", r"cases.csv: column 'R02' appears 2 times in the header"),
    ("negative", r"adj.csv: negative edge weight -0.5 from node 'R01' to 'R04'"),
    ("unknown edge node", r"edges.csv: line 3: node 'R99' is not a column of the values table"),
    ("adjacency size", r"adj.csv: adjacency is 5x5, but the series has 6 nodes"),
    ("off grid", r"time stamp 2021-01-06 00:00:00 is not on the W-SUN grid"),
    ("empty node", r"sensor\(s\) \['R05'\] have no observed value"),
    ("two graphs", r"give one graph source"),
])
def test_bad_inputs_are_one_line_errors_naming_file_and_entry(tmp_path, weekly, case, expected):
    frame = weekly.copy()
    kwargs = {}
    if case == "text":
        frame = frame.astype(object)
        frame.iloc[3, 3] = "abc"
    elif case == "inf":
        frame.iloc[2, 1] = np.inf
    elif case == "duplicate":
        frame.columns = ["R00", "R01", "R02", "R02", "R04", "R05"]
    elif case in ("negative", "adjacency size", "two graphs"):
        adj = np.zeros((5, 5) if case == "adjacency size" else (6, 6))
        adj[1, 4] = -0.5
        pd.DataFrame(adj).to_csv(tmp_path / "adj.csv", index=False, header=False)
        kwargs["adjacency"] = str(tmp_path / "adj.csv")
        if case == "two graphs":
            kwargs["edges"] = str(tmp_path / "adj.csv")
    elif case == "unknown edge node":
        pd.DataFrame({"src": ["R00", "R99"], "dst": ["R01", "R00"]}).to_csv(
            tmp_path / "edges.csv", index=False)
        kwargs["edges"] = str(tmp_path / "edges.csv")
    elif case == "off grid":
        frame.index = frame.index.where(frame.index != frame.index[2], pd.Timestamp("2021-01-06"))
    elif case == "empty node":
        frame["R05"] = np.nan
    frame.to_csv(tmp_path / "cases.csv")
    with pytest.raises((DataError, ValueError), match=expected) as info:
        load_csv(str(tmp_path / "cases.csv"), **kwargs)
    assert len(str(info.value).splitlines()) == 1


def test_numeric_sensor_ids_in_an_adjacency_header(tmp_path):
    """Sensor numbers as ids (METR-LA style): the header row is numbers too, but names nodes."""
    ids = ["773869", "767541", "767542"]
    index = pd.date_range("2012-03-01", periods=12, freq="5min", name="date")
    pd.DataFrame(np.arange(36.0).reshape(12, 3) + 1, index=index, columns=ids).to_csv(
        tmp_path / "speeds.csv")
    adj = np.array([[0, 1, 0], [0, 0, 2], [3, 0, 0]], float)
    order = [2, 0, 1]
    pd.DataFrame(adj[np.ix_(order, order)], index=[ids[i] for i in order],
                 columns=[ids[i] for i in order]).to_csv(tmp_path / "graph.csv")
    s = load_csv(str(tmp_path / "speeds.csv"), adjacency=str(tmp_path / "graph.csv"))
    assert s.node_ids == ids and s.freq == "5min"
    assert s.edge_index.tolist() == [[0, 1, 2], [1, 2, 0]]
    assert s.edge_weight.tolist() == [1.0, 2.0, 3.0]
