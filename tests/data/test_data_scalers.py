"""Scalers: masked statistics against numpy, axes, round trips, state dicts, errors."""

import numpy as np
import pytest
import torch

from sciml.data import (
    IdentityScaler,
    MinMaxScaler,
    RobustScaler,
    StandardScaler,
    atomic_torch_save,
    make_scaler,
)
from sciml.errors import ConfigError, DataError


@pytest.fixture
def data():
    x = torch.randn(200, 4, 3, dtype=torch.float64) * torch.tensor([1.0, 5.0, 0.1]) + 7.0
    mask = torch.rand(200, 4, 3) > 0.3
    x[~mask] = 1e6  # must be ignored
    return x, mask


def _masked_numpy(x, mask):
    a = x.numpy().copy()
    a[~mask.numpy()] = np.nan
    return a


@pytest.mark.parametrize("axis", ["node", "global"])
def test_standard_matches_numpy(data, axis):
    x, mask = data
    sc = StandardScaler().fit(x, mask, axis=axis)
    a = _masked_numpy(x, mask)
    if axis == "global":
        a = a.reshape(-1, 1, 3)
    np.testing.assert_allclose(sc.center[0].numpy(), np.nanmean(a, 0), rtol=1e-10)
    np.testing.assert_allclose(sc.scale[0].numpy(), np.nanstd(a, 0), rtol=1e-10)
    assert sc.center.shape == ((1, 4, 3) if axis == "node" else (1, 1, 3))
    z = sc.transform(x)[mask]
    if axis == "global":
        assert abs(float(z.mean())) < 1e-8
    y = torch.randn(5, 7, 4, 3, dtype=torch.float64)  # extra leading dims broadcast
    torch.testing.assert_close(sc.inverse_transform(sc.transform(y)), y)


def test_minmax_and_robust_match_numpy(data):
    x, mask = data
    a = _masked_numpy(x, mask)
    mm = MinMaxScaler().fit(x, mask)
    z = mm.transform(x)[mask]
    assert float(z.min()) == pytest.approx(0.0, abs=1e-12)
    assert float(z.max()) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(mm.center[0].numpy(), np.nanmin(a, 0))
    mm2 = MinMaxScaler(feature_range=(-1.0, 1.0)).fit(x, mask, axis="global")
    z2 = mm2.transform(x)[mask]
    assert float(z2.min()) == pytest.approx(-1.0) and float(z2.max()) == pytest.approx(1.0)
    rb = RobustScaler().fit(x, mask)
    q25, q50, q75 = np.nanpercentile(a, [25, 50, 75], axis=0)
    np.testing.assert_allclose(rb.center[0].numpy(), q50, rtol=1e-10)
    np.testing.assert_allclose(rb.scale[0].numpy(), q75 - q25, rtol=1e-10)


def test_constant_and_unobserved_series_get_unit_scale():
    x = torch.ones(10, 2, 1)
    x[:, 1] = 3.0
    mask = torch.ones(10, 2, 1, dtype=torch.bool)
    mask[:, 1] = False  # node 1 unobserved in this (training) slice
    for name in ("standard", "minmax", "robust"):
        sc = make_scaler(name).fit(x, mask)
        assert torch.equal(sc.scale, torch.ones(1, 2, 1)), name
        assert torch.isfinite(sc.transform(x)).all()
        assert float(sc.center[0, 1, 0]) == 0.0


def test_state_dict_round_trip_weights_only(data, tmp_path):
    x, mask = data
    sc = RobustScaler().fit(x, mask)
    atomic_torch_save(sc.state_dict(), tmp_path / "s.pt")
    state = torch.load(tmp_path / "s.pt", weights_only=True)
    sc2 = RobustScaler().load_state_dict(state)
    assert sc2.fitted and sc2.axis == "node"
    torch.testing.assert_close(sc2.transform(x), sc.transform(x))
    with pytest.raises(DataError, match="cannot load the state of scaler 'robust'"):
        StandardScaler().load_state_dict(state)


def test_unfitted_and_bad_input_errors(data):
    x, mask = data
    sc = StandardScaler()
    assert not sc.fitted
    with pytest.raises(RuntimeError, match="not fitted"):
        sc.transform(x)
    with pytest.raises(ValueError, match=r"axis must be one of \['node', 'global'\], got 'time'"):
        sc.fit(x, mask, axis="time")
    with pytest.raises(DataError, match=r"mask shape \(200, 4, 1\)"):
        sc.fit(x, mask[..., :1])
    sc.fit(x, mask)
    with pytest.raises(DataError, match=r"\(\.\.\., N, F\)"):
        sc.transform(torch.zeros(3, 5, 3))
    with pytest.raises(ConfigError, match="valid scalers: standard, minmax, robust, none"):
        make_scaler("zscore")


def test_identity():
    sc = make_scaler("none")
    assert isinstance(sc, IdentityScaler) and sc.fitted
    x = torch.randn(3, 2, 5)
    assert sc.fit(x).transform(x) is x and sc.inverse_transform(x) is x
