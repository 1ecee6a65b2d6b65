"""SpatioTemporal: construction, validation, slicing, calendar covariates, real METR-LA subset."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from sciml.data import SpatioTemporal
from sciml.errors import DataError


def _series(t=50, n=4, f=2, **kw):
    return SpatioTemporal(torch.randn(t, n, f, dtype=torch.float64), **kw)


def test_defaults_and_conversion():
    v = np.random.randn(30, 3, 2)
    v[4, 1, 0] = np.nan
    st = SpatioTemporal(v, edge_index=np.array([[0, 1], [1, 2]], dtype=np.int32),
                        edge_weight=[0.5, 2.0], name="toy")
    assert st.values.dtype == torch.float32
    assert st.edge_index.dtype == torch.long
    assert st.edge_weight.dtype == torch.float32
    assert (st.n_steps, st.n_nodes, st.n_channels) == (30, 3, 2)
    assert not bool(st.mask[4, 1, 0]) and int((~st.mask).sum()) == 1
    assert float(st.values[4, 1, 0]) == 0.0  # NaN at a missing entry replaced by 0
    np.testing.assert_allclose(st.values[0].numpy(), v[0].astype(np.float32))


def test_explicit_mask_zeroes_nan_and_keeps_observed():
    v = torch.ones(10, 2, 1)
    v[3, 0, 0] = float("nan")
    mask = torch.ones(10, 2, 1, dtype=torch.bool)
    mask[3, 0, 0] = False
    mask[5, 1, 0] = False  # missing but finite: value kept, mask says missing
    st = SpatioTemporal(v, mask=mask)
    assert float(st.values[3, 0, 0]) == 0.0 and float(st.values[5, 1, 0]) == 1.0
    assert torch.equal(st.mask, mask)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"values": torch.zeros(5, 3)}, ["values", "3-D", "(5, 3)"]),
        ({"mask": torch.ones(5, 3, 1, dtype=torch.bool)}, ["mask shape", "(5, 3, 1)"]),
        ({"edge_index": torch.tensor([[0, 1, 2]])}, ["edge_index", "(2, E)", "(1, 3)"]),
        ({"edge_index": torch.tensor([[0.0], [1.0]])}, ["edge_index", "integer"]),
        ({"edge_index": torch.tensor([[0, 4], [1, 2]])}, ["edge_index", "outside [0, 4)"]),
        ({"edge_index": torch.tensor([[-1], [1]])}, ["edge_index", "outside"]),
        ({"edge_index": torch.tensor([[0, 1], [1, 2]]), "edge_weight": torch.ones(3)},
         ["edge_weight", "E = 2"]),
        ({"time_index": pd.date_range("2020", periods=4, freq="h")}, ["time_index", "length 4"]),
        ({"covariates": {"temp": torch.zeros(4, 1)}}, ["covariate 'temp'", "(4, 1)"]),
        ({"covariates": {"temp": torch.zeros(5, 3, 1)}}, ["covariate 'temp'", "N = 4"]),
        ({"node_ids": ["a", "b"]}, ["node_ids", "N = 4"]),
    ],
)
def test_validation_errors_name_the_field(kwargs, words):
    values = kwargs.pop("values", torch.zeros(5, 4, 2))
    if "mask" in kwargs and kwargs["mask"].shape[-1] == 1:
        values = torch.zeros(5, 3, 2)
    with pytest.raises(DataError) as info:
        SpatioTemporal(values, **kwargs)
    for word in words:
        assert word in str(info.value)


def test_all_missing_node_is_named():
    v = torch.randn(6, 3, 1)
    v[:, 2] = float("nan")
    with pytest.raises(DataError, match=r"node\(s\) \['s2'\] have no observed entry"):
        SpatioTemporal(v, node_ids=["s0", "s1", "s2"])
    with pytest.raises(DataError, match=r"\[2\]"):
        SpatioTemporal(v)


def test_nan_at_observed_entry_is_an_error():
    v = torch.zeros(4, 2, 1)
    v[1, 1, 0] = float("nan")
    with pytest.raises(DataError, match="NaN at 1 entries marked observed"):
        SpatioTemporal(v, mask=torch.ones(4, 2, 1, dtype=torch.bool))


def test_time_slice_is_a_view():
    st = _series(covariates={"c": torch.randn(50, 3)},
                 time_index=pd.date_range("2021-01-01", periods=50, freq="5min"))
    sub = st.time_slice(10, 20)
    assert sub.n_steps == 10 and sub.freq == "5min"
    assert sub.values.data_ptr() == st.values[10].data_ptr()
    assert sub.covariates["c"].data_ptr() == st.covariates["c"][10].data_ptr()
    assert sub.time_index[0] == st.time_index[10]
    sub.values[0, 0, 0] = 123.0
    assert float(st.values[10, 0, 0]) == 123.0
    with pytest.raises(ValueError, match="start=5, stop=60"):
        st.time_slice(5, 60)


def test_datetime_covariates_are_cyclic():
    idx = pd.date_range("2024-01-01 00:00", periods=2 * 288, freq="5min")  # 2024-01-01 is Monday
    st = _series(t=len(idx), time_index=idx)
    cov = st.datetime_covariates(("time_of_day", "day_of_week", "day_of_year", "month_of_year"))
    tod = cov["time_of_day"].double()
    assert tod.shape == (576, 2)
    np.testing.assert_allclose(tod[0].numpy(), [0.0, 1.0], atol=1e-7)
    noon = 144  # 12:00: half a day
    np.testing.assert_allclose(tod[noon].numpy(), [0.0, -1.0], atol=1e-6)
    np.testing.assert_allclose(tod[:288].numpy(), tod[288:].numpy(), atol=1e-6)  # daily period
    np.testing.assert_allclose(torch.linalg.vector_norm(tod, dim=1).numpy(), 1.0, atol=1e-6)
    dow = cov["day_of_week"].double()
    angle = math.atan2(float(dow[288, 0]), float(dow[288, 1]))  # Tuesday 00:00: 1/7 of a week
    assert angle == pytest.approx(2 * math.pi / 7, abs=1e-6)
    with pytest.raises(ValueError, match="valid kinds: time_of_day"):
        st.datetime_covariates(("hour",))
    with pytest.raises(DataError, match="no time_index"):
        _series().datetime_covariates()


def test_with_covariates_validates_and_keeps_original():
    st = _series(time_index=pd.date_range("2021", periods=50, freq="h"))
    st2 = st.with_covariates(**st.datetime_covariates())
    assert sorted(st2.covariates) == ["day_of_week", "time_of_day"] and st.covariates == {}
    with pytest.raises(DataError, match="covariate 'bad'"):
        st.with_covariates(bad=torch.zeros(49, 1))


def test_metr_la_subset(shared_data):
    ts = shared_data / "timeseries"
    speed = pd.read_csv(ts / "los_speed.csv")
    adj = np.loadtxt(ts / "los_adj.csv", delimiter=",")
    values = speed.to_numpy(np.float32)[:, :, None]
    mask = values > 0  # METR-LA marks missing readings with 0 mph
    src, dst = np.nonzero(adj)
    st = SpatioTemporal(values, mask=mask, edge_index=np.stack([src, dst]),
                        edge_weight=adj[src, dst], node_ids=list(speed.columns),
                        time_index=pd.date_range("2012-03-01", periods=len(values), freq="5min"),
                        name="los")
    assert (st.n_steps, st.n_nodes, st.n_channels) == (2016, 207, 1)
    assert st.freq == "5min" and st.edge_index.shape[1] == int((adj != 0).sum())
    w = st.windows(12, 12)
    assert len(w) == 2016 - 24 + 1
