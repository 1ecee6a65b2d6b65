"""Masked forecasting metrics and relative L2 against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from sciml.metrics import (
    horizon_metrics,
    horizon_sum_count,
    mae,
    mae_sum_count,
    mape,
    mape_sum_count,
    rel_l2,
    rmse,
    rmse_sum_count,
)


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def _small():
    pred = torch.tensor([1.0, 2.0, 4.0, 10.0], dtype=torch.float64)
    target = torch.tensor([2.0, 2.0, 1.0, float("nan")], dtype=torch.float64)
    mask = torch.tensor([True, True, True, False])
    return pred, target, mask


def test_mae_rmse_mape_hand_computed():
    pred, target, mask = _small()
    # errors over observed entries: 1, 0, 3 (the NaN target is masked out)
    assert mae(pred, target, mask).item() == pytest.approx(4.0 / 3.0)
    assert rmse(pred, target, mask).item() == pytest.approx(math.sqrt(10.0 / 3.0))
    # |e|/|y|: 1/2, 0/2, 3/1
    assert mape(pred, target, mask).item() == pytest.approx((0.5 + 0.0 + 3.0) / 3.0)


def test_no_mask_means_all_observed():
    pred = torch.tensor([[1.0, 3.0]], dtype=torch.float64)
    target = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    assert mae(pred, target).item() == pytest.approx(1.5)
    assert rmse(pred, target).item() == pytest.approx(math.sqrt((1 + 4) / 2))


def test_mape_ignores_near_zero_targets():
    pred = torch.tensor([1.0, 5.0], dtype=torch.float64)
    target = torch.tensor([0.0, 4.0], dtype=torch.float64)
    total, count = mape_sum_count(pred, target)
    assert count.item() == 1
    assert total.item() == pytest.approx(0.25)
    assert mape(pred, target, eps=0.0).item() == math.inf


def test_all_masked_is_nan():
    pred, target, _ = _small()
    assert math.isnan(mae(pred, target, torch.zeros(4, dtype=torch.bool)).item())


def test_sum_count_aggregates_exactly(gen):
    pred = torch.randn(10, 5, dtype=torch.float64, generator=gen)
    target = torch.randn(10, 5, dtype=torch.float64, generator=gen)
    mask = torch.rand(10, 5, generator=gen) > 0.3
    for fn_sc, fn, post in [(mae_sum_count, mae, lambda v: v), (rmse_sum_count, rmse, math.sqrt),
                            (mape_sum_count, mape, lambda v: v)]:
        s, c = 0.0, 0
        for sl in (slice(0, 3), slice(3, 7), slice(7, 10)):
            bs, bc = fn_sc(pred[sl], target[sl], mask[sl])
            s, c = s + bs.item(), c + bc.item()
        assert post(s / c) == pytest.approx(fn(pred, target, mask).item(), rel=1e-12)


def test_mask_broadcasts_and_gradient_flows(gen):
    pred = torch.randn(4, 3, 2, dtype=torch.float64, generator=gen, requires_grad=True)
    target = torch.randn(4, 3, 2, dtype=torch.float64, generator=gen)
    node_mask = torch.tensor([True, False, True]).view(1, 3, 1)
    value = mae(pred, target, node_mask)
    expected = (pred - target)[:, [0, 2]].abs().mean()
    assert value.item() == pytest.approx(expected.item())
    value.backward()
    assert torch.all(pred.grad[:, 1] == 0)
    assert torch.all(pred.grad[:, 0] != 0)


def test_horizon_metrics_selects_steps():
    b, h, n, f = 2, 12, 3, 1
    target = torch.ones(b, h, n, f, dtype=torch.float64)
    # the error at step k (1-based) is k, so mae@k = k, rmse@k = k, mape@k = k
    err = torch.arange(1, h + 1, dtype=torch.float64).view(1, h, 1, 1)
    pred = target + err
    out = horizon_metrics(pred, target, steps=(3, 6, 12))
    for k in (3, 6, 12):
        assert out[f"mae@{k}"] == pytest.approx(k)
        assert out[f"rmse@{k}"] == pytest.approx(k)
        assert out[f"mape@{k}"] == pytest.approx(k)
    assert out["mae"] == pytest.approx(6.5)
    assert out["rmse"] == pytest.approx(math.sqrt(sum(k * k for k in range(1, 13)) / 12))
    assert set(out) == {f"{m}@{k}" for m in ("mae", "rmse", "mape") for k in (3, 6, 12)} | {
        "mae", "rmse", "mape"}


def test_horizon_mask_and_sum_count():
    target = torch.zeros(1, 3, 2, 1, dtype=torch.float64)
    pred = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], dtype=torch.float64).view(1, 3, 2, 1)
    mask = torch.ones(1, 3, 2, 1, dtype=torch.bool)
    mask[0, 1, 0, 0] = False
    sc = horizon_sum_count(pred, target, mask, steps=(2,))
    assert sc["mae@2"][0].item() == pytest.approx(4.0)
    assert sc["mae@2"][1].item() == 1
    assert sc["mape@2"][1].item() == 0  # all targets zero
    out = horizon_metrics(pred, target, mask, steps=(1, 2))
    assert out["mae@1"] == pytest.approx(1.5)
    assert out["mae"] == pytest.approx((1 + 2 + 4 + 5 + 6) / 5)


def test_rel_l2_hand_computed():
    target = torch.tensor([[3.0, 4.0], [1.0, 0.0]], dtype=torch.float64)
    pred = torch.tensor([[3.0, 4.0 + 5.0], [0.0, 0.0]], dtype=torch.float64)
    per = rel_l2(pred, target, reduction="none")
    assert per.shape == (2,)
    assert per.tolist() == pytest.approx([1.0, 1.0])
    assert rel_l2(pred, target).item() == pytest.approx(1.0)
    assert rel_l2(pred * 0 + target, target, reduction="sum").item() == 0.0
    grid = torch.ones(2, 1, 4, 4, dtype=torch.float64)
    assert rel_l2(2 * grid, grid, reduction="none").tolist() == pytest.approx([1.0, 1.0])


def test_bad_inputs_name_the_problem():
    a = torch.zeros(2, 3)
    with pytest.raises(ValueError, match=r"same shape.*\(2, 3\).*\(3, 2\)"):
        mae(a, torch.zeros(3, 2))
    with pytest.raises(TypeError, match="mask must be a bool"):
        mae(a, a, torch.ones(2, 3))
    with pytest.raises(ValueError, match="does not broadcast"):
        rmse(a, a, torch.ones(4, dtype=torch.bool))
    x = torch.zeros(1, 4, 2, 1)
    with pytest.raises(ValueError, match=r"steps must be integers in 1\.\.4.*12"):
        horizon_metrics(x, x, steps=(3, 12))
    with pytest.raises(ValueError, match=r"\(batch, horizon, nodes, channels\)"):
        horizon_metrics(a, a)
    with pytest.raises(ValueError, match="reduction must be one of"):
        rel_l2(a, a, reduction="max")
    with pytest.raises(TypeError, match="torch tensors"):
        mae([1.0], a)
