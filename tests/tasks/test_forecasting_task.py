"""ForecastingTask: scaling round trip, masked loss and metrics in original units."""

from __future__ import annotations

import torch

from sciml.data import StandardScaler
from sciml.registry import MODELS
from sciml.tasks import ForecastingTask


def _task(values: torch.Tensor) -> ForecastingTask:
    scaler = StandardScaler().fit(values)
    model = MODELS.build("persistence", {}, n_nodes=values.shape[1], input_size=1, output_size=1,
                         window=4, horizon=2)
    return ForecastingTask(model, scaler, values.shape[1], 1, steps=(1, 2))


def test_persistence_forecast_is_in_original_units_and_metrics_are_masked():
    g = torch.Generator().manual_seed(0)
    values = 50 + 10 * torch.randn(40, 3, 1, generator=g, dtype=torch.float32)
    task = _task(values)
    x = values[None, :4]
    y = values[None, 4:6]
    mask = torch.ones_like(y, dtype=torch.bool)
    mask[0, 1, 2, 0] = False  # one missing target
    y_with_garbage = y.clone()
    y_with_garbage[0, 1, 2, 0] = 1e6  # must not count
    batch = {"x": x, "y": y_with_garbage, "mask_y": mask}
    pred = task.predict(batch)
    torch.testing.assert_close(pred, x[:, -1:].expand(1, 2, 3, 1), rtol=1e-5, atol=1e-4)
    err = (pred - y).abs()[mask]
    m = task.metrics(batch)
    assert m["mae"][1] == 5 and abs(float(m["mae"][0]) - float(err.sum())) < 1e-3
    assert abs(float(task(batch)) - float(err.mean())) < 1e-4
    ape = (100 * err / y.abs()[mask]).sum()
    assert abs(float(m["mape"][0]) - float(ape)) < 1e-2
    assert m["mae@2"][1] == 2 and m["mae@1"][1] == 3
