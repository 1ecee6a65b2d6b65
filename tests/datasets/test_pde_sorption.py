"""Generated diffusion–sorption data: shapes, cell averages of the solver, cache, registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sciml.datasets import DiffusionSorption1D
from sciml.solvers import solve_diffusion_sorption

from sciml.registry import DATASETS


def test_shapes_values_cache_and_registry(tmp_path):
    kw = dict(n_train=2, n_test=1, resolution=8, test_resolution=16, n_times=6, t_final=50.0,
              root=str(tmp_path), progress=False)
    d = DiffusionSorption1D(**kw)
    assert d.x_train.shape == (2, 1, 8) and d.y_train.shape == (2, 6, 1, 8)
    assert d.x_test.shape == (1, 1, 16) and d.y_test.shape == (1, 6, 1, 16)
    # The first frame is the initial state; the values are cell averages of the solver's field.
    torch.testing.assert_close(d.y_train[:, 0], d.x_train)
    assert bool((d.y_train[:, -1, 0, 0] > d.x_train[:, 0, 0]).all())   # inflow from the left
    files = sorted(p.name for p in tmp_path.rglob("*.h5"))
    assert files
    again = DiffusionSorption1D(**kw)
    torch.testing.assert_close(again.y_test, d.y_test)
    assert sorted(p.name for p in tmp_path.rglob("*.h5")) == files    # read from the cache
    built = DATASETS.build("diffusion_sorption", {k: v for k, v in kw.items()})
    torch.testing.assert_close(built.y_train, d.y_train)


def test_matches_a_direct_solve(tmp_path):
    d = DiffusionSorption1D(n_train=1, n_test=1, resolution=8, n_times=3, t_final=20.0,
                            solve_resolution=32, root=str(tmp_path), progress=False)
    u0 = d.x_train[0, 0].double().numpy().repeat(4)
    ref = solve_diffusion_sorption(u0, t_final=20.0, n_times=3, method="BDF")
    np.testing.assert_allclose(d.y_train[0, :, 0].numpy(), ref.reshape(3, 8, 4).mean(-1),
                               atol=1e-4)


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="multiple"):
        DiffusionSorption1D(resolution=8, solve_resolution=12, root=str(tmp_path))
    with pytest.raises(ValueError, match="method"):
        DiffusionSorption1D(method="euler", root=str(tmp_path))
