"""Windows: indexing formula, views, covariates, collate, subsets; temporal_split."""

import pytest
import torch
from torch.utils.data import DataLoader

from sciml.data import SpatioTemporal, Windows, temporal_split


def _series(t=40, n=3, f=2, covariates=None):
    # values[t, n, f] = 100 t + 10 n + f: every entry says where it came from
    tt, nn, ff = torch.meshgrid(torch.arange(t), torch.arange(n), torch.arange(f), indexing="ij")
    return SpatioTemporal((100 * tt + 10 * nn + ff).float(), covariates=covariates)


@pytest.mark.parametrize("window,horizon,delay,stride", [(5, 3, 0, 1), (4, 2, 3, 3), (1, 1, 0, 7)])
def test_formula(window, horizon, delay, stride):
    st = _series()
    w = st.windows(window, horizon, delay, stride)
    assert len(w) == (40 - window - delay - horizon) // stride + 1
    for i in (0, 1, len(w) - 1):
        s = i * stride
        item = w[i]
        assert torch.equal(item["x"], st.values[s : s + window])
        t0 = s + window + delay
        assert torch.equal(item["y"], st.values[t0 : t0 + horizon])
        assert int(item["t"]) == t0 and item["t"].dtype == torch.long and item["t"].ndim == 0
        assert float(item["y"][0, 0, 0]) == 100 * t0
    last = w[len(w) - 1]
    assert int(last["t"]) + horizon <= 40  # the last target step exists


def test_items_are_views():
    st = _series(covariates={"a": torch.randn(40, 2), "b": torch.randn(40, 3, 1)})
    item = st.windows(6, 2)[3]
    assert item["x"].data_ptr() == st.values[3].data_ptr()
    assert item["y"].data_ptr() == st.values[9].data_ptr()
    assert item["x"].untyped_storage().data_ptr() == st.values.untyped_storage().data_ptr()
    assert item["mask_y"].untyped_storage().data_ptr() == st.mask.untyped_storage().data_ptr()
    assert item["mask_x"].dtype == torch.bool


def test_covariates_sorted_and_broadcast():
    a = torch.randn(40, 2)
    b = torch.randn(40, 3, 1)
    st = _series(covariates={"b": b, "a": a})
    item = st.windows(5, 2)[4]
    assert item["u_x"].shape == (5, 3, 3) and item["u_y"].shape == (2, 3, 3)
    assert torch.equal(item["u_x"][:, 1, :2], a[4:9])  # "a" first (sorted names)
    assert torch.equal(item["u_x"][:, :, 2], b[4:9, :, 0])
    assert torch.equal(item["u_y"][:, 2, :2], a[9:11])
    only_global = _series(covariates={"a": a}).windows(5, 2)
    u = only_global[0]["u_x"]
    assert u.shape == (5, 3, 2) and u.stride(1) == 0  # expand: a view, no copy per node


def test_index_errors_and_negative_indices():
    w = _series().windows(5, 3)
    assert torch.equal(w[-1]["x"], w[len(w) - 1]["x"])
    with pytest.raises(IndexError, match="out of range"):
        w[len(w)]
    with pytest.raises(IndexError, match="out of range"):
        w[-len(w) - 1]
    with pytest.raises(TypeError, match="int"):
        w[1.5]


def test_horizon_longer_than_series():
    with pytest.raises(ValueError, match=r"horizon=30.*T = 40.*horizon longer than the series"):
        _series().windows(12, 30)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        _series().windows(2, 2, stride=0)


def test_default_collate_batches():
    st = _series(covariates={"a": torch.randn(40, 2)})
    w = st.windows(6, 2, stride=2)
    batch = next(iter(DataLoader(w, batch_size=4, shuffle=False)))
    assert batch["x"].shape == (4, 6, 3, 2) and batch["u_x"].shape == (4, 6, 3, 2)
    assert batch["t"].tolist() == [6, 8, 10, 12]
    assert torch.equal(batch["y"][2], w[2]["y"])


def test_subset():
    w = _series().windows(4, 2)
    sub = w.subset([3, 5, 7])
    assert len(sub) == 3 and torch.equal(sub[1]["x"], w[5]["x"])
    subsub = sub.subset(range(1, 3))
    assert subsub.indices.tolist() == [5, 7]
    with pytest.raises(IndexError):
        w.subset([len(w)])


@pytest.mark.parametrize(
    "window,horizon,delay,stride", [(12, 12, 0, 1), (5, 3, 2, 2), (3, 1, 0, 4)]
)
def test_temporal_split_has_no_shared_time_step(window, horizon, delay, stride):
    st = _series(t=400)
    w = st.windows(window, horizon, delay, stride)
    sp = temporal_split(w, val=0.1, test=0.2)
    assert sp.train.start == 0 and sp.test.stop == len(w)
    assert len(sp.test) == round(0.2 * len(w)) and len(sp.val) > 0 and len(sp.train) > 0

    def steps(split):
        out = set()
        for i in split:
            s = w.start(i)
            out |= set(range(s, s + w.span))
        return out

    train, val, test = steps(sp.train), steps(sp.val), steps(sp.test)
    assert not train & val and not val & test and not train & test
    assert max(train) + 1 == sp.train_end
    if stride == 1:
        assert sp.val.start - sp.train.stop == window + horizon + delay - 1
    tr, va, te = w.split(0.1, 0.2)
    assert [len(tr), len(va), len(te)] == [len(sp.train), len(sp.val), len(sp.test)]
    assert int(tr[-1]["t"]) + horizon <= sp.train_end


def test_temporal_split_from_count_and_errors():
    sp = temporal_split(100, val=0.1, test=0.2, window=3, horizon=2)
    assert sp.test == range(80, 100) and sp.val == range(70, 76) and sp.train == range(0, 66)
    assert sp.train_end == 65 + 5
    with pytest.raises(ValueError, match="needs window= and horizon="):
        temporal_split(100)
    with pytest.raises(ValueError, match="training split is empty"):
        temporal_split(20, val=0.0, test=0.7, window=6, horizon=2)
    with pytest.raises(ValueError, match="validation split is empty"):
        temporal_split(20, val=0.3, test=0.5, window=6, horizon=2)
    assert isinstance(_series().windows(3, 1), Windows)
