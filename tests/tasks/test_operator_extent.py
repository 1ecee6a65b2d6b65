"""The operator job with a physical extent and a boundary condition from the data: the H1 loss's
spacing follows the extent, the model's padding follows the data unless the recipe says."""

from __future__ import annotations

import pytest
import torch
from sciml.datasets import PDEData
from torch import nn

from sciml.physics import h1_loss
from sciml.tasks.operator import OperatorJob, OperatorTask


class _Half(nn.Module):
    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return 0.5 * u[:, :1] + u[:, :1] ** 2


def test_h1_spacing_follows_the_extent():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(3, 1, 9, 13, generator=g), torch.rand(3, 1, 9, 13, generator=g)
    zero, one = torch.zeros(1, 1, 1, 1), torch.ones(1, 1, 1, 1)
    batch = {"x": x, "y": y}

    def rel_h1(extent):
        task = OperatorTask(_Half(), zero, one, zero, one, coordinates=False, loss="h1",
                            extent=extent)
        total, count = task.metrics(batch)["rel_h1"]
        return float(total / count)

    pred = 0.5 * x + x ** 2
    physical = h1_loss(pred, y, method="fd", spacing=(4.0 / 8, 1.0 / 12))
    assert rel_h1([[-2.0, 2.0], [0.0, 1.0]]) == pytest.approx(float(physical), rel=1e-6)
    assert rel_h1(None) == pytest.approx(float(h1_loss(pred, y, method="fd")), rel=1e-6)
    assert abs(rel_h1([[-2.0, 2.0], [0.0, 1.0]]) - rel_h1(None)) > 1e-3


@pytest.mark.parametrize("model_boundary, expected", [(None, "periodic"),
                                                      ("dirichlet", "dirichlet")])
def test_the_model_pads_as_the_data_unless_the_recipe_says(model_boundary, expected):
    data = PDEData(torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8), torch.rand(2, 1, 8, 8),
                   torch.rand(2, 1, 8, 8), boundary="periodic", name="tiny",
                   extent=((0.0, 2.0), (0.0, 1.0)))
    model = {"name": "mgno", "width": 4, "n_layers": 1, "num_smooth": 1}
    if model_boundary is not None:
        model["boundary"] = model_boundary
    job = OperatorJob({"task": "operator", "model": model})
    spec = job.describe(data)
    assert spec["extent"] == [[0.0, 2.0], [0.0, 1.0]]
    task = job.build_task(spec)
    assert task.model.config.boundary == expected
    assert task.lengths == (2.0, 1.0)
